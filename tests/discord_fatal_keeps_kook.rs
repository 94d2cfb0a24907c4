//! Scenario: with Discord and KOOK both configured, Discord's fatal close
//! (4014 disallowed intents) stops only the Discord channel: the process
//! keeps running and KOOK still answers, exactly once. No token reaches the
//! log.

#[path = "support/krill.rs"]
mod krill;
#[path = "support/scenario.rs"]
mod scenario;

use krill::{Krill, WAIT};
use krill_testkit::{FakeDiscord, FakeDiscordOptions, FakeKook, FakeKookOptions};
use scenario::{
    assert_no_secrets, config, discord_section, kook_answered_once, kook_dm, kook_section,
};

#[test]
fn a_discord_fatal_close_leaves_kook_answering() {
    let discord = FakeDiscord::start(FakeDiscordOptions::default());
    discord.close_on_next_identify(4014, "Disallowed intent(s).");
    let kook = FakeKook::start(FakeKookOptions::default());
    let mut krill = Krill::start(
        &config(&[
            discord_section(&discord, &discord.options().token, ""),
            kook_section(&kook, ""),
        ]),
        &["gateway"],
    );
    kook.wait_for_ready_client(WAIT).expect("KOOK connects");
    krill
        .wait_for_log("discord:default stopped: gateway closed with 4014", WAIT)
        .expect("Discord stops");
    assert!(krill.log().contains("enable Message Content Intent"));
    assert!(krill.is_running(), "KOOK keeps the process up");

    kook_dm(&kook, "still here?");
    kook_answered_once(&kook, &["still here?"], "and again");
    assert!(krill.is_running());
    assert_eq!(discord.identify_count(), 1, "Discord is not retried");
    assert_eq!(discord.connection_count(), 1);
    assert!(!krill.log().contains("all 2 channel(s) stopped"));
    assert_no_secrets(&krill, &[&discord.options().token, &kook.options().token]);
}
