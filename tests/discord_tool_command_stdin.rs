//! Scenario: a command agent learns which `discord` tool functions its turn
//! may use: the stdin object of a Discord guild turn lists them as `tools`
//! (`{name, description, parameters}`), following `actions.*`; a DM turn
//! lists only the actions that work in a DM.

#[path = "support/krill.rs"]
mod krill;

use krill::{tests_path, Krill, WAIT};
use krill_testkit::discord::{
    message_create_dm, message_create_guild, Author, CHANNEL_ID, DM_CHANNEL_ID, GUILD_ID,
};
use krill_testkit::{FakeDiscord, FakeDiscordOptions};
use serde_json::{json, Value};

fn names(request: &Value) -> Vec<String> {
    request["tools"]
        .as_array()
        .map(|tools| {
            tools
                .iter()
                .filter_map(|t| t["name"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn the_stdin_object_lists_the_turns_tools() {
    let fake = FakeDiscord::start(FakeDiscordOptions::default());
    let work = tempfile::tempdir().expect("temp dir");
    let dump = work.path().join("dump");
    let command = json!([tests_path("agents/record.py"), dump]);
    let config = format!(
        r#"{{
  channels: {{ discord: {{
    token: "{token}", apiBaseUrl: "{base}",
    actions: {{ pins: false, moderation: true }},
    dm: {{ policy: "open", allowFrom: ["*"] }},
    guilds: {{ "{GUILD_ID}": {{ requireMention: false }} }},
  }} }},
  agents: {{ defaults: {{ backend: {{ type: "command", command: {command}, timeoutMs: 20000 }} }} }},
}}"#,
        token = fake.options().token,
        base = fake.api_base_url(),
    );
    let krill = Krill::start(&config, &["gateway"]);
    fake.wait_for_ready_client(WAIT).expect("krill identifies");
    let alice = Author::user("111111111111111111", "alice");
    fake.dispatch(
        "MESSAGE_CREATE",
        message_create_guild(CHANNEL_ID, GUILD_ID, &alice, "hi", &[]),
    );
    fake.wait_for_posts(1, WAIT).expect("the guild reply");
    fake.dispatch(
        "MESSAGE_CREATE",
        message_create_dm(DM_CHANNEL_ID, &alice, "hi in a DM"),
    );
    fake.wait_for_posts(2, WAIT).expect("the DM reply");

    let read = |n: usize| -> Value {
        let raw = std::fs::read_to_string(dump.join(format!("request-{n}.json"))).expect("request");
        serde_json::from_str(&raw).expect("JSON")
    };
    let guild = read(1);
    let listed = names(&guild);
    assert!(listed.iter().any(|n| n == "discord_react"), "{listed:?}");
    assert!(
        listed.iter().any(|n| n == "discord_kick"),
        "moderation on: {listed:?}"
    );
    assert!(
        !listed.iter().any(|n| n == "discord_pinMessage"),
        "pins off: {listed:?}"
    );
    assert!(
        !listed.iter().any(|n| n == "discord_roleAdd"),
        "roles off: {listed:?}"
    );
    let react = guild["tools"]
        .as_array()
        .and_then(|t| t.iter().find(|t| t["name"] == "discord_react"))
        .expect("discord_react");
    assert_eq!(react["parameters"]["type"], "object");
    assert!(react["parameters"]["properties"]["emoji"].is_object());
    assert!(react["description"].as_str().is_some_and(|d| !d.is_empty()));

    let dm = names(&read(2));
    assert!(dm.iter().any(|n| n == "discord_react"), "{dm:?}");
    assert!(
        !dm.iter()
            .any(|n| n == "discord_threadCreate" || n == "discord_kick"),
        "{dm:?}"
    );
    assert!(!krill.log().contains(&fake.options().token));
}
