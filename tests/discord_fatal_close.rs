//! Scenario: Discord answers Identify with a fatal close code (4004
//! authentication failed, 4014 disallowed intents). krill does not retry:
//! the Discord channel stops with an error that names the fix, and since it
//! was the only channel the process exits 1. The token never reaches the
//! log.

#[path = "support/krill.rs"]
mod krill;
#[path = "support/scenario.rs"]
mod scenario;

use krill::{Krill, WAIT};
use krill_testkit::{FakeDiscord, FakeDiscordOptions};
use scenario::{assert_no_secrets, discord_config};

fn fatal_close_stops_the_process(code: u16, reason: &str, fix: &str) {
    let fake = FakeDiscord::start(FakeDiscordOptions::default());
    fake.close_on_next_identify(code, reason);
    let mut krill = Krill::start(&discord_config(&fake, ""), &["gateway"]);
    let status = krill
        .wait_exit(WAIT)
        .unwrap_or_else(|| panic!("krill keeps running after {code}:\n{}", krill.log()));
    let log = krill.log();
    assert_eq!(status.code(), Some(1), "exit 1 after {code}; log:\n{log}");
    assert!(
        log.contains(&format!(
            "discord:default stopped: gateway closed with {code}"
        )),
        "the stop names the close code; log:\n{log}"
    );
    assert!(
        log.contains(fix),
        "the error names the fix ({fix:?}); log:\n{log}"
    );
    assert_eq!(fake.identify_count(), 1, "a fatal close is not retried");
    assert_eq!(fake.connection_count(), 1, "no second connection");
    assert_eq!(fake.resume_count(), 0);
    assert_no_secrets(&krill, &[&fake.options().token]);
}

#[test]
fn close_4004_stops_with_a_token_hint_and_exit_1() {
    fatal_close_stops_the_process(
        4004,
        "Authentication failed.",
        "check DISCORD_BOT_TOKEN / channels.discord.token",
    );
}

#[test]
fn close_4014_stops_with_an_intents_hint_and_exit_1() {
    fatal_close_stops_the_process(
        4014,
        "Disallowed intent(s).",
        "enable Message Content Intent",
    );
}
