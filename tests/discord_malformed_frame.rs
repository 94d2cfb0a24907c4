//! Scenario: the Discord gateway sends garbage (not JSON, JSON that is not
//! an envelope, a dispatch whose payload does not fit). krill logs and
//! ignores each one on the same connection; the next message is answered
//! exactly once. The token never reaches the log.

#[path = "support/krill.rs"]
mod krill;
#[path = "support/scenario.rs"]
mod scenario;

use krill::WAIT;
use krill_testkit::{FakeDiscord, FakeDiscordOptions};
use scenario::{assert_no_secrets, discord_answered_once, start_discord};

#[test]
fn garbage_frames_are_ignored_and_the_next_message_answered() {
    let fake = FakeDiscord::start(FakeDiscordOptions::default());
    let mut krill = start_discord(&fake, "");
    let garbage_frames = [
        "\u{1}\u{2} definitely not json {{{",
        "[1, 2, 3]",
        r#"{"op": "zero"}"#,
        r#"{"op":0,"s":2,"t":"MESSAGE_CREATE","d":{"id":42}}"#,
    ];
    for garbage in garbage_frames {
        assert!(fake.send_raw_text(garbage));
    }
    krill
        .wait_for_log("malformed gateway frame ignored", WAIT)
        .expect("the garbage is logged");

    discord_answered_once(&fake, &[], "still alive?");
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
    assert_eq!(fake.identify_count(), 1);
    assert_no_secrets(&krill, &[&fake.options().token]);
}
