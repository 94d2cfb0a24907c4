//! Scenario: where `krill gateway` finds its tokens (the Discord channel doc,
//! "Quick setup" and "Troubleshooting"; README exit codes):
//! - no token anywhere: exit 1 telling the user to set `DISCORD_BOT_TOKEN` /
//!   `KOOK_BOT_TOKEN`;
//! - `DISCORD_BOT_TOKEN` only, no `channels.discord` section: Discord starts
//!   from the environment with `groupPolicy` defaulting to `open` (warned
//!   about at start-up);
//! - `DISCORD_BOT_TOKEN` with a section that has no token: the env token is
//!   used and the bot answers, but with a section `groupPolicy` is the
//!   documented default `allowlist`;
//! - both set: the config's token wins.

#[path = "support/krill.rs"]
mod krill;

use std::net::TcpListener;

use krill::{Krill, WAIT};
use krill_testkit::discord::{
    message_create_dm, message_create_guild, Author, CHANNEL_ID, DM_CHANNEL_ID, GUILD_ID,
};
use krill_testkit::{FakeDiscord, FakeDiscordOptions};

#[test]
fn no_token_anywhere_exits_1_and_says_which_variables_to_set() {
    let mut krill = Krill::start("{}", &["gateway"]);
    let status = krill.wait_exit(WAIT).expect("krill exits");
    let log = krill.log();
    assert_eq!(status.code(), Some(1), "{log}");
    assert!(log.contains("DISCORD_BOT_TOKEN"), "{log}");
    assert!(log.contains("KOOK_BOT_TOKEN"), "{log}");
}

#[test]
fn an_empty_env_token_counts_as_none() {
    let mut krill = Krill::start_with_env(
        "{}",
        &["gateway"],
        &[("DISCORD_BOT_TOKEN", "  "), ("KOOK_BOT_TOKEN", "")],
    );
    let status = krill.wait_exit(WAIT).expect("krill exits");
    assert_eq!(status.code(), Some(1), "{}", krill.log());
}

/// A 127.0.0.1 address nothing listens on (bound, then released).
fn refused_address() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1");
    let addr = listener.local_addr().expect("local addr");
    drop(listener);
    format!("http://{addr}")
}

#[test]
fn env_token_only_starts_discord_with_group_policy_open() {
    // With no `channels.discord` section there is nowhere to point
    // `apiBaseUrl`, so krill talks to discord.com: a proxy nothing listens
    // on keeps the test off the network. What is checked is the start-up.
    let token = "env-only-token-1234567890";
    let proxy = refused_address();
    let mut krill = Krill::start_with_env(
        "{}",
        &["gateway"],
        &[
            ("DISCORD_BOT_TOKEN", token),
            ("HTTPS_PROXY", &proxy),
            ("https_proxy", &proxy),
            ("ALL_PROXY", &proxy),
        ],
    );
    krill
        .wait_for_log("channel=discord:default token_from=Env", WAIT)
        .expect("Discord starts from the environment token");
    krill
        .wait_for_log(r#"groupPolicy defaults to "open""#, WAIT)
        .expect("the open group policy is announced");
    assert!(krill.is_running(), "krill keeps running: {}", krill.log());
    let log = krill.log();
    assert!(
        !log.contains("kook:default token_from"),
        "KOOK does not start: {log}"
    );
    assert!(!log.contains(token), "the token never reaches the log");
}

#[test]
fn env_token_with_a_section_answers_and_keeps_the_allowlist_default() {
    let fake = FakeDiscord::start(FakeDiscordOptions::default());
    let config = format!(
        r#"{{
  channels: {{
    discord: {{
      apiBaseUrl: "{base}",
      dm: {{ policy: "open", allowFrom: ["*"] }},
    }},
  }},
}}"#,
        base = fake.api_base_url()
    );
    let token = fake.options().token.clone();
    let krill = Krill::start_with_env(&config, &["gateway"], &[("DISCORD_BOT_TOKEN", &token)]);
    let identify = fake.wait_for_identify(WAIT).expect("krill identifies");
    assert_eq!(identify["token"], token.as_str(), "with the env token");
    fake.wait_for_ready_client(WAIT).expect("krill is ready");

    let alice = Author::user("111111111111111111", "alice");
    let mention = format!("{} anyone?", fake.bot_mention());
    fake.dispatch(
        "MESSAGE_CREATE",
        message_create_guild(
            CHANNEL_ID,
            GUILD_ID,
            &alice,
            &mention,
            &[&fake.options().bot_user_id],
        ),
    );
    krill
        .wait_for_log("reason=guild not in channels.discord.guilds", WAIT)
        .expect("a section means groupPolicy allowlist: no guild entry, no reply");
    fake.dispatch(
        "MESSAGE_CREATE",
        message_create_dm(DM_CHANNEL_ID, &alice, "hello"),
    );
    let posts = fake.wait_for_posts(1, WAIT).expect("a DM reply");
    assert_eq!(posts[0].content, "hello");
    assert_eq!(
        posts[0].header("authorization"),
        Some(format!("Bot {token}").as_str())
    );
    assert_eq!(
        fake.posted_messages().len(),
        1,
        "the guild message got none"
    );
    assert!(
        !krill.log().contains(&token),
        "the token never reaches the log"
    );
}

#[test]
fn the_config_token_wins_over_the_environment() {
    let fake = FakeDiscord::start(FakeDiscordOptions::default());
    let config = format!(
        r#"{{ channels: {{ discord: {{ token: "{token}", apiBaseUrl: "{base}" }} }} }}"#,
        token = fake.options().token,
        base = fake.api_base_url()
    );
    let env_token = "the-env-token-that-loses";
    let krill = Krill::start_with_env(&config, &["gateway"], &[("DISCORD_BOT_TOKEN", env_token)]);
    let identify = fake.wait_for_identify(WAIT).expect("krill identifies");
    assert_eq!(identify["token"], fake.options().token.as_str());
    krill
        .wait_for_log("token_from=Config", WAIT)
        .expect("the log says where the token came from");
    let log = krill.log();
    assert!(!log.contains(env_token) && !log.contains(&fake.options().token));
}
