//! Scenario: text commands on Discord (DM and guild, where the mention rule
//! applies: `@bot /status`) and on KOOK, answered by krill itself, not the
//! agent; unknown `/words` still go to the (echo) agent.

#[path = "support/krill.rs"]
mod krill;
#[path = "support/scenario.rs"]
mod scenario;

use krill::{Krill, WAIT};
use krill_testkit::discord::{message_create_guild, CHANNEL_ID, DM_CHANNEL_ID, GUILD_ID};
use krill_testkit::{FakeDiscord, FakeDiscordOptions, FakeKook, FakeKookOptions};
use scenario::{alice, config, discord_dm, discord_section, kook_dm, kook_section, KOOK_USER};

#[test]
fn text_commands_answer_on_discord_and_kook() {
    let discord = FakeDiscord::start(FakeDiscordOptions::default());
    let kook = FakeKook::start(FakeKookOptions::default());
    let token = discord.options().token.clone();
    let krill = Krill::start(
        &config(&[
            discord_section(&discord, &token, ""),
            kook_section(&kook, ""),
        ]),
        &["gateway"],
    );
    discord.wait_for_ready_client(WAIT).expect("Discord ready");
    kook.wait_for_ready_client(WAIT).expect("KOOK ready");

    // Discord DM: /help, /whoami, /id, /status, an unknown /word.
    discord_dm(&discord, "/help");
    let posts = discord.wait_for_posts(1, WAIT).expect("/help answered");
    assert_eq!(posts[0].channel_id, DM_CHANNEL_ID);
    let help = &posts[0].content;
    for line in [
        "/help",
        "/status",
        "/whoami",
        "/new [text]",
        "/reset",
        "/stop",
    ] {
        assert!(help.contains(line), "{line} in /help: {help}");
    }
    assert!(!help.contains("/ask"), "/ask is native only: {help}");
    assert!(
        !help.contains("/config"),
        "/config is off by default: {help}"
    );

    discord_dm(&discord, "/whoami");
    let posts = discord.wait_for_posts(2, WAIT).expect("/whoami answered");
    let whoami = &posts[1].content;
    assert!(
        whoami.contains(&format!("user id: {}", alice().id)),
        "{whoami}"
    );
    assert!(whoami.contains(DM_CHANNEL_ID), "{whoami}");

    discord_dm(&discord, "/ID");
    let posts = discord.wait_for_posts(3, WAIT).expect("/id answered");
    assert_eq!(posts[2].content, *whoami, "/id is /whoami");

    discord_dm(&discord, "hello agent");
    discord.wait_for_posts(4, WAIT).expect("echo");
    discord_dm(&discord, "/status");
    let posts = discord.wait_for_posts(5, WAIT).expect("/status answered");
    let status = &posts[4].content;
    assert!(status.contains("agent: main (echo)"), "{status}");
    assert!(status.contains("session: agent:main:main"), "{status}");
    assert!(status.contains("uptime: "), "{status}");
    assert!(status.contains("discord:default ready"), "{status}");
    assert!(status.contains("kook:default"), "{status}");

    discord_dm(&discord, "/frobnicate now");
    let posts = discord
        .wait_for_posts(6, WAIT)
        .expect("unknown /word echoed");
    assert_eq!(
        posts[5].content, "/frobnicate now",
        "unknown /words go to the agent"
    );

    // Guild: a command needs the mention like any message.
    let bot = discord.options().bot_user_id.clone();
    discord.dispatch(
        "MESSAGE_CREATE",
        message_create_guild(CHANNEL_ID, GUILD_ID, &alice(), "/whoami", &[]),
    );
    discord.dispatch(
        "MESSAGE_CREATE",
        message_create_guild(
            CHANNEL_ID,
            GUILD_ID,
            &alice(),
            &format!("{} /whoami", discord.bot_mention()),
            &[&bot],
        ),
    );
    let posts = discord.wait_for_posts(7, WAIT).expect("guild /whoami");
    assert_eq!(posts[6].channel_id, CHANNEL_ID);
    assert!(
        posts[6].content.contains(&format!("guild id: {GUILD_ID}")),
        "{}",
        posts[6].content
    );
    assert!(posts[6]
        .content
        .contains(&format!("channel id: {CHANNEL_ID}")));

    // KOOK DM.
    kook_dm(&kook, "/whoami");
    let posts = kook.wait_for_posts(1, WAIT).expect("KOOK /whoami");
    assert!(
        posts[0].content.contains(&format!("user id: {KOOK_USER}")),
        "{}",
        posts[0].content
    );
    kook_dm(&kook, "/help");
    let posts = kook.wait_for_posts(2, WAIT).expect("KOOK /help");
    assert!(
        posts[1].content.starts_with("Commands:"),
        "{}",
        posts[1].content
    );

    std::thread::sleep(std::time::Duration::from_millis(300));
    assert_eq!(
        discord.posted_messages().len(),
        7,
        "the unmentioned /whoami was dropped"
    );
    assert!(!krill.log().contains(&token), "no token in the log");
}
