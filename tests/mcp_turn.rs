//! Scenario (issue "krill mcp", done when): a command agent drives `krill
//! mcp` with the official MCP Python SDK during a real turn on the fake
//! Discord: `tools/list` is the turn's policy (the same tools as its stdin
//! `tools`), `tools/call` of react and sendMessage land on the fake, an
//! action the turn was not offered is an `isError` result; after the turn
//! ended its token is refused, a forged token is refused, and with no
//! gateway `initialize` fails with a clear error.

#[path = "support/krill.rs"]
mod krill;
#[path = "support/mcp_python.rs"]
mod mcp_python;

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use krill::{binary, tests_path, Krill, WAIT};
use krill_testkit::discord::{message_create_guild, Author, CHANNEL_ID, GUILD_ID};
use krill_testkit::{FakeDiscord, FakeDiscordOptions};
use serde_json::{json, Value};

/// Runs `mcp_client.py call` with `token` and `socket`; its JSON line.
fn call_outside_a_turn(python: &Path, token: &str, socket: &str) -> Value {
    let output = Command::new(python)
        .arg(tests_path("agents/mcp_client.py"))
        .arg("call")
        .env("KRILL_BIN", binary())
        .env("KRILL_TURN_TOKEN", token)
        .env("KRILL_SOCKET", socket)
        .output()
        .expect("run the MCP client");
    let stdout = String::from_utf8_lossy(&output.stdout);
    serde_json::from_str(stdout.trim()).unwrap_or_else(|e| {
        panic!(
            "client output is not JSON ({e}): {stdout}\n{}",
            String::from_utf8_lossy(&output.stderr)
        )
    })
}

#[test]
fn an_mcp_client_in_a_turn_uses_the_turns_tools_and_nothing_else() {
    let python = mcp_python::mcp_python();
    let fake = FakeDiscord::start(FakeDiscordOptions::default());
    let work = tempfile::tempdir().expect("temp dir");
    let report = work.path().join("report.json");
    let command = json!([python, tests_path("agents/mcp_client.py"), "turn", report]);
    let config = format!(
        r#"{{
  channels: {{ discord: {{
    token: "{token}", apiBaseUrl: "{base}",
    actions: {{ pins: false }},
    guilds: {{ "{GUILD_ID}": {{ requireMention: false }} }},
  }} }},
  agents: {{ defaults: {{ backend: {{ type: "command", command: {command}, timeoutMs: 60000 }} }} }},
}}"#,
        token = fake.options().token,
        base = fake.api_base_url(),
    );
    let krill = Krill::start_with_env(&config, &["gateway"], &[("KRILL_BIN", binary())]);
    fake.wait_for_ready_client(WAIT).expect("krill identifies");

    let alice = Author::user("111111111111111111", "alice");
    let inbound = message_create_guild(CHANNEL_ID, GUILD_ID, &alice, "use your tools", &[]);
    let message_id = inbound["id"].as_str().expect("message id").to_owned();
    fake.dispatch("MESSAGE_CREATE", inbound);

    // The tool's message, then the turn's reply.
    let posts = fake
        .wait_for_posts(2, Duration::from_secs(90))
        .unwrap_or_else(|_| panic!("tool message and reply; log:\n{}", krill.log()));
    assert_eq!(posts[0].channel_id, CHANNEL_ID);
    assert_eq!(posts[0].content, "sent over mcp");
    assert_eq!(posts[1].content, "mcp done");
    let reactions = fake.reactions();
    assert!(
        reactions
            .iter()
            .any(|r| r.message_id == message_id && r.emoji == "👍"),
        "{reactions:?}"
    );

    let report: Value =
        serde_json::from_str(&std::fs::read_to_string(&report).expect("report")).expect("JSON");
    assert_eq!(report["protocolVersion"], "2025-06-18");
    let names = |key: &str| -> Vec<String> {
        report[key]
            .as_array()
            .expect("names")
            .iter()
            .map(|n| n.as_str().unwrap_or_default().to_owned())
            .collect()
    };
    let listed = names("mcpTools");
    assert_eq!(
        listed,
        names("requestTools"),
        "tools/list = the turn's tools"
    );
    assert!(listed.iter().any(|n| n == "discord_react"), "{listed:?}");
    assert!(
        listed.iter().any(|n| n == "discord_sendMessage"),
        "{listed:?}"
    );
    assert!(
        !listed.iter().any(|n| n == "discord_pinMessage"),
        "pins off"
    );
    assert!(
        !listed.iter().any(|n| n == "discord_kick"),
        "moderation off"
    );
    assert_eq!(report["schemas"]["discord_react"]["type"], "object");
    assert_eq!(report["react"]["isError"], false, "{report}");
    assert_eq!(report["send"]["isError"], false, "{report}");
    assert_eq!(report["unknown"]["isError"], true, "{report}");

    // The turn has ended: its token no longer works.
    let token = report["token"].as_str().expect("the turn had a token");
    let socket = report["socket"].as_str().expect("the turn had the socket");
    assert_eq!(
        Path::new(socket),
        krill.state_dir().join("gateway.sock"),
        "KRILL_SOCKET"
    );
    let before = fake.reactions().len();
    let ended = call_outside_a_turn(&python, token, socket);
    assert_eq!(ended["isError"], true, "{ended}");
    assert!(
        ended["text"]
            .as_str()
            .unwrap_or_default()
            .contains("not valid"),
        "{ended}"
    );

    // A forged token is refused the same way.
    let forged = call_outside_a_turn(&python, &"0".repeat(64), socket);
    assert_eq!(forged["isError"], true, "{forged}");
    let deadline = Instant::now() + Duration::from_millis(300);
    while Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(fake.reactions().len(), before, "refused calls did nothing");
    assert_eq!(fake.posted_messages().len(), 2);

    // No gateway: initialize fails and says so.
    let missing = work.path().join("none.sock");
    let down = call_outside_a_turn(&python, token, &missing.to_string_lossy());
    let error = down["initializeError"].as_str().unwrap_or_default();
    assert!(error.contains("no krill gateway is running"), "{down}");
    assert!(!krill.log().contains(token), "tokens never logged");
}
