//! Shared setup of the `discord` tool scenarios: a guild with two text
//! channels the bot learned from GUILD_CREATE, an `openai` agent on the fake
//! OpenAI server, and helpers to send a message and read tool results.
//! Included with `#[path = "support/discord_tool.rs"] mod discord_tool;`
//! next to `support/krill.rs`.
#![allow(dead_code)]

use krill_testkit::discord::{message_create_guild, Author, CHANNEL_ID, GUILD_ID};
use krill_testkit::openai::FakeOpenAi;
use krill_testkit::FakeDiscord;
use serde_json::{json, Value};

/// A second text channel of the same guild.
pub const OTHER_CHANNEL_ID: &str = "849255967228035099";
/// Another guild the bot is in, and its channel.
pub const OTHER_GUILD_ID: &str = "900000000000000001";
pub const OTHER_GUILD_CHANNEL_ID: &str = "900000000000000002";

/// The config: the guild open without mentions, `guild_extra` spliced into
/// the guild entry, `backend_extra` into the openai backend.
pub fn config(
    fake: &FakeDiscord,
    openai: &FakeOpenAi,
    guild_extra: &str,
    backend_extra: &str,
) -> String {
    format!(
        r#"{{
  channels: {{ discord: {{
    token: "{token}", apiBaseUrl: "{base}",
    guilds: {{ "{GUILD_ID}": {{ requireMention: false, {guild_extra} }} }},
  }} }},
  agents: {{ list: [{{ id: "main", backend: {{
    type: "openai", baseUrl: "{openai}", model: "tool-model", timeoutMs: 20000, {backend_extra}
  }} }}] }},
}}"#,
        token = fake.options().token,
        base = fake.api_base_url(),
        openai = openai.base_url(),
    )
}

/// GUILD_CREATE for the test guild (`general`, `random`) and another guild.
pub fn learn_guilds(fake: &FakeDiscord) {
    fake.dispatch(
        "GUILD_CREATE",
        json!({
            "id": GUILD_ID, "name": "Friends",
            "channels": [
                { "id": CHANNEL_ID, "type": 0, "name": "general" },
                { "id": OTHER_CHANNEL_ID, "type": 0, "name": "random" }
            ],
            "threads": [], "members": []
        }),
    );
    fake.dispatch(
        "GUILD_CREATE",
        json!({
            "id": OTHER_GUILD_ID, "name": "Elsewhere",
            "channels": [{ "id": OTHER_GUILD_CHANNEL_ID, "type": 0, "name": "lobby" }],
            "threads": [], "members": []
        }),
    );
}

/// alice.
pub fn alice() -> Author {
    Author::user("111111111111111111", "alice")
}

/// A message by alice in `general` (MESSAGE_CREATE `d`) and its id, so a
/// test can script the model with the id before dispatching it.
pub fn message(text: &str) -> (Value, String) {
    let message = message_create_guild(CHANNEL_ID, GUILD_ID, &alice(), text, &[]);
    let id = message["id"].as_str().expect("id").to_owned();
    (message, id)
}

/// The tool result for call `id` in `request`'s messages.
pub fn result_of(request: &krill_testkit::openai::RecordedRequest, id: &str) -> Value {
    request
        .tool_results()
        .into_iter()
        .find(|(call, _)| call == id)
        .map(|(_, result)| result)
        .unwrap_or_else(|| panic!("no tool result for {id} in {:?}", request.body))
}
