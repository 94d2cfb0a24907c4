//! Scenario: what the `discord` tool refuses. With `actions.roles` off (the
//! default) a `discord_roleAdd` call gets a tool error naming the switch and
//! nothing reaches Discord; a message aimed at a channel of another guild
//! the bot is in, and a read of a channel it never saw that turns out to
//! belong to another guild (looked up with `GET /channels/{id}`), are
//! refused with a tool error; an unknown function gets a tool error. The
//! model reads the errors and its final text is posted.

#[path = "support/discord_tool.rs"]
mod discord_tool;
#[path = "support/krill.rs"]
mod krill;

use discord_tool::{
    config, learn_guilds, message, result_of, OTHER_GUILD_CHANNEL_ID, OTHER_GUILD_ID,
};
use krill::{Krill, WAIT};
use krill_testkit::discord::{CHANNEL_ID, GUILD_ID};
use krill_testkit::openai::{FakeOpenAi, FakeReply};
use krill_testkit::{FakeDiscord, FakeDiscordOptions};
use serde_json::json;

const UNSEEN_CHANNEL_ID: &str = "900000000000000003";

#[test]
fn role_changes_other_guilds_and_unknown_tools_are_refused() {
    let fake = FakeDiscord::start(FakeDiscordOptions::default());
    fake.add_role(GUILD_ID, "700000000000000001", "helpers");
    // A channel krill never saw in a dispatch, in another guild.
    fake.add_channel(Some(OTHER_GUILD_ID), UNSEEN_CHANNEL_ID, "secret", 0);
    let openai = FakeOpenAi::start();
    let krill = Krill::start(&config(&fake, &openai, "", ""), &["gateway"]);
    fake.wait_for_ready_client(WAIT).expect("krill identifies");
    learn_guilds(&fake);

    let (current, _) = message("make me a helper");
    openai.push_reply(FakeReply::tool_calls(&[
        (
            "r1",
            "discord_roleAdd",
            json!({"userId": "111111111111111111", "roleId": "700000000000000001"}),
        ),
        (
            "r2",
            "discord_sendMessage",
            json!({"to": format!("channel:{OTHER_GUILD_CHANNEL_ID}"), "content": "psst"}),
        ),
        (
            "r3",
            "discord_readMessages",
            json!({"channelId": UNSEEN_CHANNEL_ID}),
        ),
        ("r4", "discord_launchRockets", json!({})),
    ]));
    openai.push_reply(FakeReply::content("Sorry, I cannot do that."));
    fake.dispatch("MESSAGE_CREATE", current);

    let posts = fake.wait_for_posts(1, WAIT).expect("the final text");
    assert_eq!(
        posts.len(),
        1,
        "nothing but the reply was posted: {posts:?}"
    );
    assert_eq!(posts[0].channel_id, CHANNEL_ID);
    assert_eq!(posts[0].content, "Sorry, I cannot do that.");

    let requests = openai.requests();
    assert_eq!(requests.len(), 2);
    let roles = result_of(&requests[1], "r1");
    assert_eq!(roles["ok"], json!(false));
    let error = roles["error"].as_str().unwrap_or_default();
    assert!(error.contains("actions.roles"), "{error}");
    let other = result_of(&requests[1], "r2");
    assert_eq!(other["ok"], json!(false));
    assert!(
        other["error"]
            .as_str()
            .unwrap_or_default()
            .contains("another server"),
        "{other}"
    );
    let unseen = result_of(&requests[1], "r3");
    assert_eq!(unseen["ok"], json!(false));
    assert!(
        unseen["error"]
            .as_str()
            .unwrap_or_default()
            .contains("another server"),
        "{unseen}"
    );
    let unknown = result_of(&requests[1], "r4");
    assert_eq!(unknown["ok"], json!(false));
    assert!(
        unknown["error"]
            .as_str()
            .unwrap_or_default()
            .contains("unknown tool"),
        "{unknown}"
    );

    assert!(
        fake.role_changes().is_empty(),
        "no role change reached Discord"
    );
    let requests = fake.requests();
    assert!(
        !requests.iter().any(|r| r.path.contains("/roles/")),
        "no role route was called"
    );
    assert!(
        !requests
            .iter()
            .any(|r| r.path.contains(OTHER_GUILD_CHANNEL_ID)
                || r.path == format!("/channels/{UNSEEN_CHANNEL_ID}/messages")),
        "nothing was sent to or read from another guild: {:?}",
        requests
            .iter()
            .map(|r| format!("{} {}", r.method, r.path))
            .collect::<Vec<_>>()
    );
    assert!(
        requests
            .iter()
            .any(|r| r.method == "GET" && r.path == format!("/channels/{UNSEEN_CHANNEL_ID}")),
        "the unseen channel was looked up"
    );
    drop(krill);
}
