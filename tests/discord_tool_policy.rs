//! Scenario: tool policies. A channel with `tools: { deny: ["discord"] }`
//! offers the model no tools at all (no `tools` in the request); a channel
//! with `tools: { allow: ["discord_react"] }` offers exactly that function;
//! `toolsBySender` with `"*"` applies to any sender when the channel sets
//! nothing; `actions.roles: true` adds the role actions.

#[path = "support/discord_tool.rs"]
mod discord_tool;
#[path = "support/krill.rs"]
mod krill;

use discord_tool::{alice, config, learn_guilds, OTHER_CHANNEL_ID};
use krill::{Krill, WAIT};
use krill_testkit::discord::{message_create_guild, CHANNEL_ID, GUILD_ID};
use krill_testkit::openai::{FakeOpenAi, FakeReply};
use krill_testkit::{FakeDiscord, FakeDiscordOptions};

#[test]
fn channel_and_sender_policies_decide_which_tools_are_offered() {
    let fake = FakeDiscord::start(FakeDiscordOptions::default());
    let openai = FakeOpenAi::start();
    let guild = r#"channels: {
      general: { allow: true, tools: { deny: ["discord"] } },
      random: { allow: true, tools: { allow: ["discord_react"] } },
      "*": { allow: true },
    },
    toolsBySender: { "*": { deny: ["discord_sendMessage"] } },"#;
    let mut text = config(&fake, &openai, guild, "");
    text = text.replace("apiBaseUrl:", "actions: { roles: true }, apiBaseUrl:");
    let krill = Krill::start(&text, &["gateway"]);
    fake.wait_for_ready_client(WAIT).expect("krill identifies");
    learn_guilds(&fake);
    fake.dispatch(
        "CHANNEL_CREATE",
        serde_json::json!({"id": "849255967228035100", "type": 0, "name": "third", "guild_id": GUILD_ID}),
    );

    for (n, channel) in [CHANNEL_ID, OTHER_CHANNEL_ID, "849255967228035100"]
        .iter()
        .enumerate()
    {
        openai.push_reply(FakeReply::content("ok"));
        fake.dispatch(
            "MESSAGE_CREATE",
            message_create_guild(channel, GUILD_ID, &alice(), "hello", &[]),
        );
        fake.wait_for_posts(n + 1, WAIT).expect("a reply");
    }
    let requests = openai.requests();
    assert_eq!(requests.len(), 3);
    assert!(
        requests[0].tool_names().is_empty(),
        "deny discord: no tools"
    );
    assert!(
        requests[0].body.get("tools").is_none(),
        "no tools key at all"
    );
    assert_eq!(requests[1].tool_names(), vec!["discord_react".to_owned()]);
    let third = requests[2].tool_names();
    assert!(third.iter().any(|n| n == "discord_react"), "{third:?}");
    assert!(
        third.iter().any(|n| n == "discord_roleAdd"),
        "actions.roles on: {third:?}"
    );
    assert!(
        !third.iter().any(|n| n == "discord_sendMessage"),
        "toolsBySender * denies it: {third:?}"
    );
    assert!(
        !third.iter().any(|n| n == "discord_kick"),
        "moderation stays off: {third:?}"
    );
    drop(krill);
}
