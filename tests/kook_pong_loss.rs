//! Scenario: the KOOK gateway stops answering PINGs. krill's PINGs carry
//! the last `sn`; after the PONG deadline (6 s) it PINGs twice more (2 s,
//! 4 s), then closes and, 8 s later, dials the gateway URL with
//! `resume=1&sn=<last sn>&session_id=<id>`; the events sent while it was
//! away are replayed and answered exactly once. Neither token reaches the
//! log.
//!
//! This is the one long scenario (about 45-55 s): KOOK's timings are fixed
//! by its docs (first PING 30 ± 5 s after HELLO, then 6 + 2 + 4 s to declare
//! the link dead, then 8 s before the resume dial) and krill does not make
//! them configurable for tests. The first PING needs a wait above 30 s
//! ([`PING_WAIT`]); every other wait is [`WAIT`].

#[path = "support/krill.rs"]
mod krill;
#[path = "support/scenario.rs"]
mod scenario;

use std::time::Duration;

use krill::WAIT;
use krill_testkit::{FakeKook, FakeKookOptions};
use scenario::{assert_no_secrets, kook_answered_once, kook_dm, start_kook};

/// 35 s (the latest first PING) plus slack for a loaded machine.
const PING_WAIT: Duration = Duration::from_secs(40);

#[test]
fn lost_pongs_lead_to_re_pings_then_a_resume_that_replays_missed_events() {
    let fake = FakeKook::start(FakeKookOptions::default());
    let krill = start_kook(&fake, "");
    kook_dm(&fake, "one");
    kook_dm(&fake, "two");
    fake.wait_for_posts(2, WAIT).expect("two replies");
    let session = fake.session_id().expect("a session");
    assert_eq!(fake.last_sn(), Some(2));

    fake.set_pong(false);
    let pings = fake.wait_for_pings(1, PING_WAIT).expect("a first PING");
    assert_eq!(pings, vec![2], "a PING carries the last processed sn");
    let pings = fake.wait_for_pings(3, WAIT).expect("two more PINGs");
    assert_eq!(pings, vec![2, 2, 2], "re-PINGs before giving up");

    fake.wait_for_disconnect(WAIT)
        .expect("krill drops the silent connection");
    assert_eq!(fake.connection_count(), 1, "the resume waits 8 s");
    // The session has no connection now: these wait for the resume.
    kook_dm(&fake, "missed one");
    kook_dm(&fake, "missed two");
    fake.set_pong(true);

    fake.wait_for_resumed(1, WAIT).expect("krill resumes");
    let connections = fake.connections();
    assert_eq!(connections.len(), 2);
    let resume = &connections[1];
    assert!(resume.is_resume(), "resume=1: {resume:?}");
    assert_eq!(resume.query_param("sn"), Some("2"));
    assert_eq!(resume.query_param("session_id"), Some(session.as_str()));
    assert_eq!(resume.query_param("sessionId"), Some(session.as_str()));
    assert_eq!(fake.gateway_fetch_count(), 1, "a resume reuses the URL");

    kook_answered_once(
        &fake,
        &["one", "two", "missed one", "missed two"],
        "after the resume",
    );
    let gateway_token = fake.last_gateway_token().expect("a gateway token");
    assert_no_secrets(&krill, &[&fake.options().token, &gateway_token]);
}
