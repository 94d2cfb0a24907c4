//! Scenario: a guild channel session's transcript grows over 200 turns, but
//! what the agent gets stays bounded by the default `sessionHistoryLimit`
//! (50 user turns, with the answers between them: 100 entries).

#[path = "support/krill.rs"]
mod krill;
#[path = "support/scenario.rs"]
mod scenario;

use krill::{tests_path, Krill, WAIT};
use krill_testkit::discord::{message_create_guild, CHANNEL_ID, GUILD_ID};
use krill_testkit::{FakeDiscord, FakeDiscordOptions};
use scenario::{alice, discord_config};
use serde_json::json;

const TURNS: usize = 200;

#[test]
fn a_channel_session_sends_a_bounded_transcript() {
    let discord = FakeDiscord::start(FakeDiscordOptions::default());
    let work = tempfile::tempdir().expect("temp dir");
    let command = json!([tests_path("agents/record.py"), work.path().join("dump")]);
    let text = discord_config(&discord, "").trim_end().trim_end_matches('}').to_owned()
        + &format!(
            "  agents: {{ defaults: {{ backend: {{ type: \"command\", command: {command} }} }} }},\n}}\n"
        );
    let krill = Krill::start(&text, &["gateway"]);
    discord.wait_for_ready_client(WAIT).expect("ready");
    let bot = discord.options().bot_user_id.clone();
    for n in 1..=TURNS {
        discord.dispatch(
            "MESSAGE_CREATE",
            message_create_guild(
                CHANNEL_ID,
                GUILD_ID,
                &alice(),
                &format!("{} turn {n}", discord.bot_mention()),
                &[&bot],
            ),
        );
    }
    let posts = discord
        .wait_for_posts(TURNS, WAIT * 4)
        .unwrap_or_else(|e| panic!("{e}\n{}", krill.log()));
    let histories: Vec<usize> = posts
        .iter()
        .map(|p| {
            p.content
                .rsplit("history=")
                .next()
                .and_then(|n| n.parse().ok())
                .unwrap_or_else(|| panic!("unexpected reply {:?}", p.content))
        })
        .collect();
    assert_eq!(histories[0], 0);
    assert_eq!(histories[10], 20, "grows while under the bound");
    assert_eq!(
        *histories.iter().max().unwrap(),
        100,
        "bounded at 50 user turns"
    );
    assert_eq!(histories[TURNS - 1], 100);
    assert!(posts[TURNS - 1]
        .content
        .contains(&format!("text=turn {TURNS}")));
}
