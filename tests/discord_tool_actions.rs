//! Scenario: the `discord` tool end to end. The (fake) model answers a
//! guild message with `tool_calls` over two steps; krill carries them out
//! against the fake Discord through the account's REST planner and feeds
//! the results back: a reaction on the current message, a thread created
//! from it and replied to, the message pinned and the pins listed, the
//! channel read (with `timestampMs` / `timestampUtc`), a message sent to
//! another channel of the same guild; then the model's final text is
//! posted. The prompt carries `[discord message id: … channel: …]`, the
//! request offers the default action groups only (no roles, no
//! moderation), and the transcript keeps the tool calls.

#[path = "support/discord_tool.rs"]
mod discord_tool;
#[path = "support/krill.rs"]
mod krill;

use discord_tool::{config, learn_guilds, message, result_of, OTHER_CHANNEL_ID};
use krill::{Krill, WAIT};
use krill_testkit::discord::CHANNEL_ID;
use krill_testkit::openai::{FakeOpenAi, FakeReply};
use krill_testkit::{FakeDiscord, FakeDiscordOptions};
use serde_json::json;

/// `2025-03-14T09:26:53.589000+00:00`, the payload helpers' timestamp.
const TIMESTAMP_MS: i64 = 1_741_944_413_589;

#[test]
fn a_model_reacts_threads_pins_reads_and_sends_through_the_discord_tool() {
    let fake = FakeDiscord::start(FakeDiscordOptions::default());
    let openai = FakeOpenAi::start();
    let krill = Krill::start(&config(&fake, &openai, "", ""), &["gateway"]);
    fake.wait_for_ready_client(WAIT).expect("krill identifies");
    learn_guilds(&fake);

    let (current, id) = message("please organise this");
    openai.push_reply(FakeReply::tool_calls(&[
        ("c1", "discord_react", json!({"emoji": "✅"})),
        (
            "c2",
            "discord_threadCreate",
            json!({"name": "notes", "messageId": id}),
        ),
    ]));
    openai.push_reply(FakeReply::tool_calls(&[
        (
            "c3",
            "discord_threadReply",
            json!({"threadId": id, "content": "thread started"}),
        ),
        ("c4", "discord_pinMessage", json!({"messageId": id})),
        ("c5", "discord_listPins", json!({})),
        ("c6", "discord_readMessages", json!({"limit": 5})),
        (
            "c7",
            "discord_sendMessage",
            json!({"to": format!("channel:{OTHER_CHANNEL_ID}"), "content": "hello random"}),
        ),
    ]));
    openai.push_reply(FakeReply::content("All done."));
    fake.dispatch("MESSAGE_CREATE", current);

    let posts = fake
        .wait_for_posts(3, WAIT)
        .expect("thread reply, send, final text");
    let in_thread = posts
        .iter()
        .find(|p| p.channel_id == id)
        .expect("a post in the thread");
    assert_eq!(in_thread.content, "thread started");
    let other = posts
        .iter()
        .find(|p| p.channel_id == OTHER_CHANNEL_ID)
        .expect("a post in #random");
    assert_eq!(other.content, "hello random");
    let last = posts.last().expect("posts");
    assert_eq!(
        (last.channel_id.as_str(), last.content.as_str()),
        (CHANNEL_ID, "All done.")
    );

    let reactions = fake.reactions();
    assert!(
        reactions
            .iter()
            .any(|r| r.message_id == id && r.emoji == "✅" && r.added),
        "{reactions:?}"
    );
    let threads = fake.created_threads();
    assert_eq!(threads.len(), 1, "{threads:?}");
    assert_eq!(threads[0]["name"], "notes");
    assert_eq!(threads[0]["parent_id"], CHANNEL_ID);
    assert_eq!(fake.pinned(CHANNEL_ID), vec![id.clone()]);

    let requests = openai.requests();
    assert_eq!(requests.len(), 3, "two tool steps, then the answer");
    let offered = requests[0].tool_names();
    for name in [
        "discord_react",
        "discord_threadCreate",
        "discord_readMessages",
        "discord_sendMessage",
    ] {
        assert!(
            offered.iter().any(|n| n == name),
            "{name} offered: {offered:?}"
        );
    }
    for name in [
        "discord_roleAdd",
        "discord_roleRemove",
        "discord_timeout",
        "discord_kick",
        "discord_ban",
    ] {
        assert!(
            !offered.iter().any(|n| n == name),
            "{name} not offered by default: {offered:?}"
        );
    }
    assert_eq!(requests[0].body["stream"], json!(false));
    let prompt = requests[0].messages().last().expect("prompt").1.clone();
    assert!(
        prompt.contains(&format!("[discord message id: {id} channel: {CHANNEL_ID}]")),
        "{prompt}"
    );

    assert_eq!(result_of(&requests[1], "c1")["ok"], json!(true));
    let thread = result_of(&requests[1], "c2");
    assert_eq!(thread["ok"], json!(true), "{thread}");
    assert_eq!(thread["thread"]["id"], json!(id));
    for call in ["c3", "c4", "c7"] {
        let result = result_of(&requests[2], call);
        assert_eq!(result["ok"], json!(true), "{call}: {result}");
    }
    let pins = result_of(&requests[2], "c5");
    assert_eq!(pins["pins"][0]["id"], json!(id), "{pins}");
    assert_eq!(
        pins["pins"][0]["timestampMs"],
        json!(TIMESTAMP_MS),
        "{pins}"
    );
    let read = result_of(&requests[2], "c6");
    let messages = read["messages"].as_array().expect("messages");
    let current = messages
        .iter()
        .find(|m| m["id"] == json!(id))
        .expect("the current message");
    assert_eq!(current["timestampMs"], json!(TIMESTAMP_MS));
    assert_eq!(current["timestampUtc"], json!("2025-03-14T09:26:53.589Z"));
    assert_eq!(
        current["timestamp"],
        json!("2025-03-14T09:26:53.589000+00:00")
    );

    let transcript = std::fs::read_to_string(
        krill
            .state_dir()
            .join("agents/main/sessions")
            .join(format!("agent:main:discord:channel:{CHANNEL_ID}.jsonl")),
    )
    .expect("the session transcript");
    assert!(transcript.contains("\"toolCalls\""), "{transcript}");
    assert!(transcript.contains("discord_threadCreate"), "{transcript}");
    assert!(transcript.contains("\"role\":\"tool\""), "{transcript}");
    assert!(!krill.log().contains(&fake.options().token));
}
