//! Scenario: Discord sends op 9 Invalid Session `d: false`: krill drops the
//! session and identifies afresh on a new connection (no Resume), and a
//! message after that is answered once. Then op 9 `d: true` on the new
//! session: krill resumes it (no third Identify) and the next message is
//! answered once. The token never reaches the log.

#[path = "support/krill.rs"]
mod krill;
#[path = "support/scenario.rs"]
mod scenario;

use krill::WAIT;
use krill_testkit::{FakeDiscord, FakeDiscordOptions};
use scenario::{assert_no_secrets, discord_answered_once, discord_dm, start_discord};

#[test]
fn op9_false_identifies_afresh_and_op9_true_resumes() {
    let fake = FakeDiscord::start(FakeDiscordOptions::default());
    let krill = start_discord(&fake, "");
    discord_dm(&fake, "first");
    fake.wait_for_posts(1, WAIT).expect("the first reply");
    let first_session = fake.session_id().expect("a session");

    // d: false -> a fresh Identify (the shard waits 1-5 s and keeps 5 s
    // between Identifies).
    assert!(fake.send_op9(false));
    let identify = fake
        .wait_for_identify_count(2, WAIT)
        .expect("a second Identify");
    assert_eq!(identify["intents"], 46593);
    fake.wait_for_ready_client(WAIT).expect("READY again");
    let second_session = fake.session_id().expect("a new session");
    assert_ne!(second_session, first_session);
    assert_eq!(fake.resume_count(), 0, "an invalid session is not resumed");
    assert_eq!(fake.connection_count(), 2);
    discord_dm(&fake, "after op 9 false");
    fake.wait_for_posts(2, WAIT)
        .expect("a reply on the new session");

    // d: true -> resume the (still valid) session.
    let seq = fake.last_seq().expect("a sequence");
    assert!(fake.send_op9(true));
    fake.wait_for_resumed(1, WAIT).expect("krill resumes");
    let resume = fake.resumes().last().cloned().expect("a Resume");
    assert_eq!(resume["session_id"], second_session.as_str());
    assert_eq!(resume["seq"], seq);
    assert_eq!(fake.identify_count(), 2, "no third Identify");

    discord_answered_once(&fake, &["first", "after op 9 false"], "after op 9 true");
    assert_no_secrets(&krill, &[&fake.options().token]);
}
