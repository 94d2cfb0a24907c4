//! Scenario: the KOOK gateway's TCP stream drops with no close frame. krill
//! waits the resume delay (8 s), dials the gateway URL with
//! `resume=1&sn=<last sn>&session_id=<id>`, and the events sent while it
//! was away are replayed (then s=6) and answered exactly once. Neither
//! token reaches the log.

#[path = "support/krill.rs"]
mod krill;
#[path = "support/scenario.rs"]
mod scenario;

use krill::WAIT;
use krill_testkit::{FakeKook, FakeKookOptions};
use scenario::{assert_no_secrets, kook_answered_once, kook_dm, start_kook};

#[test]
fn a_dropped_tcp_stream_resumes_and_missed_events_are_answered_once() {
    let fake = FakeKook::start(FakeKookOptions::default());
    let krill = start_kook(&fake, "");
    kook_dm(&fake, "before");
    fake.wait_for_posts(1, WAIT).expect("the first reply");
    let session = fake.session_id().expect("a session");
    let sn = fake.last_sn().expect("an sn");

    assert!(fake.drop_tcp());
    // The dropped connection gets nothing more: these wait for the resume.
    kook_dm(&fake, "missed one");
    kook_dm(&fake, "missed two");

    fake.wait_for_resumed(1, WAIT).expect("krill resumes");
    let connections = fake.connections();
    assert_eq!(connections.len(), 2);
    let resume = &connections[1];
    assert!(resume.is_resume(), "resume=1: {resume:?}");
    assert_eq!(resume.query_param("sn"), Some(sn.to_string().as_str()));
    assert_eq!(resume.query_param("session_id"), Some(session.as_str()));
    assert_eq!(fake.gateway_fetch_count(), 1, "the same gateway URL");
    assert_eq!(fake.session_id().as_deref(), Some(session.as_str()));

    kook_answered_once(
        &fake,
        &["before", "missed one", "missed two"],
        "after the resume",
    );
    let gateway_token = fake.last_gateway_token().expect("a gateway token");
    assert_no_secrets(&krill, &[&fake.options().token, &gateway_token]);
}
