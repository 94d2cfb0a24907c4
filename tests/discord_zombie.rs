//! Scenario: the gateway stops acknowledging heartbeats (a zombie
//! connection). krill notices on the next heartbeat, closes with a code that
//! keeps the session (not 1000/1001) and resumes; the messages dispatched
//! while it was away are answered exactly once. Hello's interval is 1 s (the
//! core's floor) so this takes about two intervals. The token never reaches
//! the log.

#[path = "support/krill.rs"]
mod krill;
#[path = "support/scenario.rs"]
mod scenario;

use krill::WAIT;
use krill_testkit::{FakeDiscord, FakeDiscordOptions};
use scenario::{assert_no_secrets, discord_answered_once, discord_dm, start_discord};

#[test]
fn missing_acks_close_non_1000_and_resume() {
    let fake = FakeDiscord::start(FakeDiscordOptions {
        heartbeat_interval_ms: 1000,
        ..FakeDiscordOptions::default()
    });
    let krill = start_discord(&fake, "");
    discord_dm(&fake, "before");
    fake.wait_for_posts(1, WAIT).expect("the first reply");
    let session = fake.session_id().expect("a session");
    // Heartbeats flow and carry the last sequence number (the next one
    // is sent well after READY, seq 1, was handled).
    let n = fake.heartbeats().len();
    let beats = fake.wait_for_heartbeats(n + 1, WAIT).expect("a heartbeat");
    assert!(
        beats[n].is_some_and(|s| s >= 1),
        "heartbeat d is the last sequence number: {beats:?}"
    );

    fake.set_heartbeat_ack(false);
    let code = fake.wait_for_client_close(WAIT).expect("krill gives up");
    assert!(
        code.is_some_and(|c| c != 1000 && c != 1001),
        "a zombie is closed with a code that keeps the session, got {code:?}"
    );
    let seq = fake.last_seq().expect("a sequence");
    fake.set_heartbeat_ack(true);
    discord_dm(&fake, "missed one");
    discord_dm(&fake, "missed two");

    fake.wait_for_resumed(1, WAIT).expect("krill resumes");
    let resume = fake.resumes().last().cloned().expect("a Resume");
    assert_eq!(resume["session_id"], session.as_str());
    assert_eq!(resume["seq"], seq);
    assert_eq!(fake.identify_count(), 1, "no second Identify");
    krill
        .wait_for_log("Zombie", WAIT)
        .expect("the zombie is logged");

    discord_answered_once(
        &fake,
        &["before", "missed one", "missed two"],
        "after the resume",
    );
    assert_no_secrets(&krill, &[&fake.options().token]);
}
