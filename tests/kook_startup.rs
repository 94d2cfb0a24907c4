//! Scenario: `krill gateway` on a fake KOOK starts up to HELLO: it fetches
//! `GET /gateway/index?compress=0` with its token, dials the URL it got
//! (plain text frames), logs the session, and answers a DM. Neither the bot
//! token nor the gateway token in the URL reaches the log. (That PINGs
//! carry the last `sn` is checked in `kook_pong_loss.rs`, which waits for
//! PINGs anyway: the first one comes 30 ± 5 s after HELLO.)

#[path = "support/krill.rs"]
mod krill;
#[path = "support/scenario.rs"]
mod scenario;

use krill::WAIT;
use krill_testkit::{FakeKook, FakeKookOptions};
use scenario::{assert_no_secrets, kook_answered_once, start_kook};

#[test]
fn startup_fetches_the_gateway_and_gets_hello_then_answers() {
    let fake = FakeKook::start(FakeKookOptions::default());
    let krill = start_kook(&fake, "");
    let token = fake.options().token.clone();

    let requests = fake.requests();
    let index: Vec<_> = requests
        .iter()
        .filter(|r| r.method == "GET" && r.path == "/gateway/index")
        .collect();
    assert_eq!(index.len(), 1, "one gateway fetch: {requests:?}");
    assert_eq!(index[0].query_param("compress"), Some("0"));
    assert_eq!(
        index[0].header("authorization"),
        Some(format!("Bot {token}").as_str())
    );

    let connections = fake.connections();
    assert_eq!(connections.len(), 1);
    assert_eq!(connections[0].path, "/gateway");
    assert_eq!(connections[0].query_param("compress"), Some("0"));
    assert!(!connections[0].is_resume());
    assert_eq!(
        connections[0].query_param("token"),
        fake.last_gateway_token().as_deref()
    );

    let session = fake.session_id().expect("a session");
    krill
        .wait_for_log(&format!("connected (session {session}"), WAIT)
        .expect("HELLO is logged");
    kook_answered_once(&fake, &[], "hello after HELLO");
    let gateway_token = fake.last_gateway_token().expect("a gateway token");
    assert_no_secrets(&krill, &[&token, &gateway_token]);
}
