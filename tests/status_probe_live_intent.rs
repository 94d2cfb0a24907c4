//! Scenario: `krill channels status --probe` weighs live evidence before
//! declaring the Message Content Intent missing (found against a
//! Discord-compatible server whose application flags lack the intent bits):
//! the application's flags say "off", but the running gateway is ready and
//! has received guild messages with text that did not mention the bot. The
//! probe says plainly that the two disagree, does not claim Discord refuses
//! the connection, and exits 0.

#[path = "support/krill.rs"]
mod krill;
#[path = "support/scenario.rs"]
mod scenario;

use std::time::{Duration, Instant};

use krill::WAIT;
use krill_testkit::discord::{message_create_guild, Author, CHANNEL_ID, GUILD_ID};
use krill_testkit::{FakeDiscord, FakeDiscordOptions};
use scenario::start_discord;

#[test]
fn a_ready_gateway_seeing_message_content_outweighs_the_flags() {
    let fake = FakeDiscord::start(FakeDiscordOptions {
        application_flags: 0,
        ..Default::default()
    });
    let krill = start_discord(&fake, "");
    fake.dispatch(
        "MESSAGE_CREATE",
        message_create_guild(
            CHANNEL_ID,
            GUILD_ID,
            &Author::nelly(),
            "just chatting, no mention",
            &[],
        ),
    );
    // status.json (rewritten every 5 s) carries the evidence.
    let deadline = Instant::now() + WAIT;
    loop {
        let file =
            std::fs::read_to_string(krill.state_dir().join("status.json")).unwrap_or_default();
        if file.contains("\"contentSeen\": 1") || Instant::now() > deadline {
            break;
        }
        std::thread::sleep(Duration::from_millis(250));
    }
    let (code, out) = krill.run_cli(&["channels", "status", "--probe"]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("disagree"), "{out}");
    assert!(out.contains("the intent is in effect"), "{out}");
    assert!(!out.contains("refuses the connection"), "{out}");
    assert!(!out.contains("FAIL"), "{out}");
    assert!(!out.contains(&fake.options().token));
}
