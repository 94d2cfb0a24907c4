//! Scenario: with Discord and KOOK both configured and the KOOK token wrong,
//! the KOOK channel stops at once with "token rejected" (reported while
//! Discord still runs, not when the process ends), the process keeps
//! running, and Discord still answers, exactly once. No token reaches the
//! log.

#[path = "support/krill.rs"]
mod krill;
#[path = "support/scenario.rs"]
mod scenario;

use krill::{Krill, WAIT};
use krill_testkit::{FakeDiscord, FakeDiscordOptions, FakeKook, FakeKookOptions};
use scenario::{
    assert_no_secrets, config, discord_answered_once, discord_dm, discord_section, kook_section,
};

#[test]
fn a_kook_token_rejection_is_reported_and_leaves_discord_answering() {
    let discord = FakeDiscord::start(FakeDiscordOptions::default());
    let kook = FakeKook::start(FakeKookOptions {
        token: "the-right-kook-token".into(),
        ..FakeKookOptions::default()
    });
    let wrong = FakeKookOptions::default().token;
    let kook_config = kook_section(&kook, "").replace("the-right-kook-token", &wrong);
    let mut krill = Krill::start(
        &config(&[
            discord_section(&discord, &discord.options().token, ""),
            kook_config,
        ]),
        &["gateway"],
    );
    discord
        .wait_for_ready_client(WAIT)
        .expect("Discord connects");
    krill
        .wait_for_log("kook:default stopped: ", WAIT)
        .expect("the KOOK stop is reported while Discord runs");
    let log = krill.log();
    assert!(
        log.contains("token rejected (HTTP 401): check KOOK_BOT_TOKEN / channels.kook.token"),
        "log:\n{log}"
    );
    assert!(krill.is_running(), "Discord keeps the process up");
    assert_eq!(kook.connection_count(), 0);

    discord_dm(&discord, "still here?");
    discord_answered_once(&discord, &["still here?"], "and again");
    assert!(krill.is_running());
    assert_no_secrets(&krill, &[&discord.options().token, &wrong]);
}
