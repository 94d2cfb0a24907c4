//! Scenario: the KOOK gateway sends garbage (not JSON, JSON without a
//! signal, an event whose payload does not fit). krill logs and ignores
//! each one on the same connection; the next message is answered exactly
//! once. Neither token reaches the log.

#[path = "support/krill.rs"]
mod krill;
#[path = "support/scenario.rs"]
mod scenario;

use krill::WAIT;
use krill_testkit::{FakeKook, FakeKookOptions};
use scenario::{assert_no_secrets, kook_answered_once, start_kook};

#[test]
fn garbage_frames_are_ignored_and_the_next_message_answered() {
    let fake = FakeKook::start(FakeKookOptions::default());
    let mut krill = start_kook(&fake, "");
    let garbage_frames = [
        "\u{1}\u{2} definitely not json {{{",
        "[1, 2, 3]",
        r#"{"s": "zero"}"#,
    ];
    for garbage in garbage_frames {
        assert!(fake.send_raw_text(garbage));
    }
    krill
        .wait_for_log("malformed gateway frame ignored", WAIT)
        .expect("the garbage is logged");

    kook_answered_once(&fake, &[], "still alive?");
    assert!(krill.is_running());
    assert_eq!(
        krill
            .log()
            .matches("malformed gateway frame ignored")
            .count(),
        garbage_frames.len(),
        "each bad frame is logged once"
    );
    assert_eq!(fake.connection_count(), 1, "no reconnect for a bad frame");
    assert_eq!(fake.gateway_fetch_count(), 1);
    let gateway_token = fake.last_gateway_token().expect("a gateway token");
    assert_no_secrets(&krill, &[&fake.options().token, &gateway_token]);
}
