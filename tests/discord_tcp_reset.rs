//! Scenario: the gateway's TCP stream drops with no close frame. krill
//! notices, backs off, dials again and resumes; the messages dispatched
//! while it was away (the fake holds them for the session) are replayed and
//! answered exactly once. The token never reaches the log.

#[path = "support/krill.rs"]
mod krill;
#[path = "support/scenario.rs"]
mod scenario;

use krill::WAIT;
use krill_testkit::{FakeDiscord, FakeDiscordOptions};
use scenario::{assert_no_secrets, discord_answered_once, discord_dm, start_discord};

#[test]
fn a_dropped_tcp_stream_resumes_and_missed_messages_are_answered_once() {
    let fake = FakeDiscord::start(FakeDiscordOptions::default());
    let krill = start_discord(&fake, "");
    discord_dm(&fake, "before");
    fake.wait_for_posts(1, WAIT).expect("the first reply");
    let session = fake.session_id().expect("a session");
    let seq = fake.last_seq().expect("a sequence");

    assert!(fake.drop_tcp());
    // The dropped connection gets nothing more: these wait for the resume.
    discord_dm(&fake, "missed one");
    discord_dm(&fake, "missed two");

    fake.wait_for_resumed(1, WAIT).expect("krill resumes");
    let resume = fake.resumes().last().cloned().expect("a Resume");
    assert_eq!(resume["session_id"], session.as_str());
    assert_eq!(resume["seq"], seq);
    assert_eq!(fake.identify_count(), 1, "no second Identify");
    assert_eq!(fake.connection_count(), 2);
    krill
        .wait_for_log("resumed, 2 event(s) replayed", WAIT)
        .expect("both missed messages were replayed");

    discord_answered_once(
        &fake,
        &["before", "missed one", "missed two"],
        "after the resume",
    );
    assert_no_secrets(&krill, &[&fake.options().token]);
}
