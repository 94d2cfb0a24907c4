//! Scenario: Discord sends op 7 Reconnect. krill closes with a code that
//! keeps the session (not 1000/1001), dials again and resumes with its last
//! sequence number; the messages dispatched while it was away are replayed
//! and each answered exactly once. The token never reaches the log.

#[path = "support/krill.rs"]
mod krill;
#[path = "support/scenario.rs"]
mod scenario;

use krill::WAIT;
use krill_testkit::{FakeDiscord, FakeDiscordOptions};
use scenario::{assert_no_secrets, discord_answered_once, discord_dm, start_discord};

#[test]
fn op7_resumes_and_replayed_messages_are_answered_once() {
    let fake = FakeDiscord::start(FakeDiscordOptions::default());
    let krill = start_discord(&fake, "");
    discord_dm(&fake, "before");
    fake.wait_for_posts(1, WAIT).expect("the first reply");
    let session = fake.session_id().expect("a session");
    let seq_before = fake.last_seq().expect("a sequence");

    assert!(fake.send_op7_reconnect());
    let code = fake.wait_for_client_close(WAIT).expect("krill closes");
    assert!(
        !matches!(code, Some(1000 | 1001)),
        "a close that keeps the session, got {code:?}"
    );
    // Whether these reach the old socket, nobody, or the resumed
    // connection, the resume must deliver each exactly once.
    discord_dm(&fake, "missed one");
    discord_dm(&fake, "missed two");

    fake.wait_for_resumed(1, WAIT).expect("krill resumes");
    let resume = fake.resumes().last().cloned().expect("a Resume");
    assert_eq!(resume["session_id"], session.as_str());
    assert_eq!(resume["seq"], seq_before);
    assert_eq!(fake.identify_count(), 1, "no second Identify");
    assert_eq!(fake.session_id().as_deref(), Some(session.as_str()));

    discord_answered_once(
        &fake,
        &["before", "missed one", "missed two"],
        "after the resume",
    );
    krill
        .wait_for_log("resumed", WAIT)
        .expect("the resume is logged");
    assert_no_secrets(&krill, &[&fake.options().token]);
}
