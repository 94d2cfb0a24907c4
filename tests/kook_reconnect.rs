//! Scenario: KOOK sends s=5 RECONNECT. krill drops the session: it fetches
//! a new gateway URL, connects without `resume`, gets a new session whose
//! `sn` restarts at 1, answers the next message once, and never sends the
//! old `sn` again (no s=4 RESUME; its first PING on the new session carries
//! the new session's `sn`: nonebot-adapter-kaiheila #68). Neither token
//! reaches the log.
//!
//! The first PING comes 30 ± 5 s after HELLO (KOOK's cadence; the core does
//! not make it configurable), so this scenario waits up to [`PING_WAIT`]
//! for it: the one wait above 30 s, bounded by the protocol's own timing.

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
fn reconnect_starts_a_new_session_and_never_pings_the_old_sn() {
    let fake = FakeKook::start(FakeKookOptions::default());
    let krill = start_kook(&fake, "");
    for text in ["one", "two", "three"] {
        kook_dm(&fake, text);
    }
    fake.wait_for_posts(3, WAIT).expect("three replies");
    let old_session = fake.session_id().expect("a session");
    let old_sn = fake.last_sn().expect("an sn");
    assert_eq!(old_sn, 3);
    let first_gateway_token = fake.last_gateway_token().expect("a gateway token");

    assert!(fake.send_reconnect(40107));
    fake.wait_for_gateway_fetches(2, WAIT)
        .expect("a new gateway fetch");
    fake.wait_for_connections(2, WAIT)
        .expect("a new connection");
    fake.wait_for_ready_client(WAIT).expect("HELLO again");
    let new_session = fake.session_id().expect("a new session");
    assert_ne!(new_session, old_session);
    let connections = fake.connections();
    assert!(
        !connections[1].is_resume(),
        "a RECONNECT is not resumed: {:?}",
        connections[1]
    );
    assert_eq!(
        connections[1].query_param("token"),
        fake.last_gateway_token().as_deref(),
        "the new connection uses the new gateway URL"
    );
    krill
        .wait_for_log("the server asked to reconnect", WAIT)
        .expect("the RECONNECT is logged");

    let sn = kook_dm(&fake, "after the reconnect");
    assert_eq!(sn, Some(1), "sn restarts at 1 in the new session");
    kook_answered_once(
        &fake,
        &["one", "two", "three", "after the reconnect"],
        "sentinel",
    );

    let pings = fake.wait_for_pings(1, PING_WAIT).expect("a PING");
    assert_eq!(
        pings[0], 2,
        "the first PING on the new session carries its sn, never the old {old_sn}"
    );
    assert!(
        fake.client_frames().iter().all(|f| f["s"] != 4),
        "no s=4 RESUME after a RECONNECT: {:?}",
        fake.client_frames()
    );
    assert_eq!(fake.posted_messages().len(), 5, "nothing answered twice");
    assert_no_secrets(
        &krill,
        &[
            &fake.options().token,
            &first_gateway_token,
            &fake.last_gateway_token().unwrap_or_default(),
        ],
    );
}
