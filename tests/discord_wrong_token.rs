//! Scenario: the Discord token is wrong: `GET /gateway/bot` answers 401.
//! krill stops the channel without retrying (no gateway connection, one
//! request), says the token was rejected and where to fix it, exits 1, and
//! never prints the token.

#[path = "support/krill.rs"]
mod krill;
#[path = "support/scenario.rs"]
mod scenario;

use krill::{Krill, WAIT};
use krill_testkit::{FakeDiscord, FakeDiscordOptions};
use scenario::{assert_no_secrets, config, discord_section};

#[test]
fn a_401_on_gateway_bot_exits_1_with_token_rejected() {
    let fake = FakeDiscord::start(FakeDiscordOptions::default());
    let wrong = "MTIz.wrong-token-Xk9.never-print-me";
    let mut krill = Krill::start(&config(&[discord_section(&fake, wrong, "")]), &["gateway"]);
    let status = krill
        .wait_exit(WAIT)
        .unwrap_or_else(|| panic!("krill keeps running:\n{}", krill.log()));
    let log = krill.log();
    assert_eq!(status.code(), Some(1), "log:\n{log}");
    assert!(
        log.contains("token rejected (HTTP 401)"),
        "the token is called rejected; log:\n{log}"
    );
    assert!(
        log.contains("discord:default stopped: Discord rejected the bot token"),
        "the stop says why; log:\n{log}"
    );
    assert!(
        log.contains("DISCORD_BOT_TOKEN / channels.discord.token"),
        "log:\n{log}"
    );
    let fetches = fake
        .requests()
        .iter()
        .filter(|r| r.path == "/gateway/bot")
        .count();
    assert_eq!(fetches, 1, "a 401 is not retried");
    assert_eq!(fake.connection_count(), 0);
    assert_no_secrets(&krill, &[wrong]);
}
