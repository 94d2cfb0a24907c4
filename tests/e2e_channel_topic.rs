//! Scenario: a guild channel's `systemPrompt` reaches the agent combined
//! with the channel topic the bot learned from GUILD_CREATE (seed:
//! "extra system prompt for the channel (combined with channel topic)").

#[path = "support/krill.rs"]
mod krill;

use krill::{tests_path, Krill, WAIT};
use krill_testkit::discord::{message_create_guild, Author, CHANNEL_ID, GUILD_ID};
use krill_testkit::{FakeDiscord, FakeDiscordOptions};
use serde_json::{json, Value};

#[test]
fn system_prompt_is_combined_with_the_channel_topic() {
    let fake = FakeDiscord::start(FakeDiscordOptions::default());
    let work = tempfile::tempdir().expect("temp dir");
    let dump = work.path().join("dump");
    let command = json!([tests_path("agents/record.py"), dump]);
    let config = format!(
        r#"{{
  channels: {{ discord: {{
    token: "{token}", apiBaseUrl: "{base}",
    guilds: {{ "{GUILD_ID}": {{ channels: {{ help: {{ allow: true, systemPrompt: "Keep answers short." }} }} }} }},
  }} }},
  agents: {{ defaults: {{ backend: {{ type: "command", command: {command}, timeoutMs: 20000 }} }} }},
}}"#,
        token = fake.options().token,
        base = fake.api_base_url(),
    );
    let krill = Krill::start(&config, &["gateway"]);
    fake.wait_for_ready_client(WAIT).expect("krill identifies");
    fake.dispatch(
        "GUILD_CREATE",
        json!({
            "id": GUILD_ID,
            "name": "Friends",
            "channels": [{ "id": CHANNEL_ID, "type": 0, "name": "help", "topic": "Questions about krill" }],
            "threads": [],
            "members": [],
        }),
    );
    let bot = fake.options().bot_user_id.clone();
    fake.dispatch(
        "MESSAGE_CREATE",
        message_create_guild(
            CHANNEL_ID,
            GUILD_ID,
            &Author::user("111111111111111111", "alice"),
            &format!("{} hi", fake.bot_mention()),
            &[&bot],
        ),
    );
    fake.wait_for_posts(1, WAIT).expect("the reply");
    let raw = std::fs::read_to_string(dump.join("request-1.json")).expect("the agent's request");
    let request: Value = serde_json::from_str(&raw).expect("JSON");
    let system = request["systemPrompt"].as_str().unwrap_or_default();
    assert!(system.contains("Keep answers short."), "{system:?}");
    assert!(system.contains("Questions about krill"), "{system:?}");
    assert!(!krill.log().contains(&fake.options().token));
}
