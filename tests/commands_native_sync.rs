//! Scenario: slash-command registration. The first start registers the
//! commands (`PUT /applications/{id}/commands`); a restart with the same
//! list only reads them (`GET`); `native: false` clears them with one empty
//! `PUT`, and a further start with `native: false` and nothing registered
//! sends none. `commands.useAccessGroups: false` lets a caller the
//! allowlists refuse run commands.

#[path = "support/krill.rs"]
mod krill;
#[path = "support/scenario.rs"]
mod scenario;

use krill::{Krill, WAIT};
use krill_testkit::discord::{Author, SlashCaller};
use krill_testkit::{FakeDiscord, FakeDiscordOptions};
use scenario::discord_section;
use serde_json::json;

fn start(discord: &FakeDiscord, commands: &str) -> Krill {
    let token = discord.options().token.clone();
    let text = format!(
        "{{ channels: {{ {} }}, commands: {commands} }}",
        discord_section(
            discord,
            &token,
            "dm: { policy: \"allowlist\", allowFrom: [\"1\"] },"
        )
        .replace("dm: { policy: \"open\", allowFrom: [\"*\"] },", "")
    );
    let krill = Krill::start(&text, &["gateway"]);
    discord.wait_for_ready_client(WAIT).expect("ready");
    krill
}

fn settle(discord: &FakeDiscord, gets: usize) {
    discord.wait_for_command_gets(gets, WAIT).expect("GET");
    std::thread::sleep(std::time::Duration::from_millis(500));
}

#[test]
fn commands_are_registered_only_when_they_change() {
    let discord = FakeDiscord::start(FakeDiscordOptions::default());
    // Stale registration from an older version.
    discord.set_registered_commands(vec![
        json!({"id": "1", "type": 1, "name": "old", "description": "x"}),
    ]);

    let krill = start(&discord, "{}");
    settle(&discord, 1);
    assert_eq!(
        discord.command_puts().len(),
        1,
        "registered: {}",
        krill.log()
    );
    let names: Vec<String> = discord
        .registered_commands()
        .iter()
        .map(|c| c["name"].as_str().unwrap_or_default().to_owned())
        .collect();
    for name in [
        "help", "status", "whoami", "id", "new", "reset", "stop", "config", "ask",
    ] {
        assert!(names.iter().any(|n| n == name), "{name} in {names:?}");
    }
    drop(krill);

    let krill = start(&discord, "{ native: \"auto\" }");
    settle(&discord, 2);
    assert_eq!(
        discord.command_puts().len(),
        1,
        "unchanged: no PUT\n{}",
        krill.log()
    );
    drop(krill);

    let krill = start(&discord, "{ native: false, useAccessGroups: false }");
    settle(&discord, 3);
    let puts = discord.command_puts();
    assert_eq!(puts.len(), 2, "cleared once");
    assert_eq!(puts[1], json!([]));
    assert!(discord.registered_commands().is_empty());
    // useAccessGroups: false: a DM caller not on the allowlist runs /whoami.
    let bob = Author::user("333333333333333333", "bob");
    let id = discord.dispatch_interaction(
        &SlashCaller {
            user: &bob,
            channel_id: "1302291126681731999",
            guild_id: None,
        },
        "whoami",
        &[],
    );
    let record = discord.wait_for_callback(&id, WAIT).expect("answered");
    assert!(
        record
            .callback_content()
            .unwrap_or_default()
            .contains(&bob.id),
        "{record:?}"
    );
    drop(krill);

    let _krill = start(&discord, "{ native: false }");
    settle(&discord, 4);
    assert_eq!(discord.command_puts().len(), 2, "nothing to clear");
}
