//! Scenario: transcripts survive a gateway restart. A DM turn, then krill is
//! stopped and started again on the same state dir: the `command` agent's
//! next turn in `agent:main:main` carries the first turn in its `history`,
//! and the transcript file (`agents/main/sessions/<session key>.jsonl`)
//! holds both turns.

#[path = "support/krill.rs"]
mod krill;

use std::path::Path;

use krill::{tests_path, Krill, WAIT};
use krill_testkit::discord::{message_create_dm, Author, DM_CHANNEL_ID};
use krill_testkit::{FakeDiscord, FakeDiscordOptions};
use serde_json::{json, Value};

fn config(fake: &FakeDiscord, dump: &Path) -> String {
    let command = json!([tests_path("agents/record.py"), dump]);
    format!(
        r#"{{
  channels: {{
    discord: {{
      token: "{token}",
      apiBaseUrl: "{base}",
      dm: {{ policy: "open", allowFrom: ["*"] }},
    }},
  }},
  agents: {{ defaults: {{ backend: {{ type: "command", command: {command}, timeoutMs: 20000 }} }} }},
}}"#,
        token = fake.options().token,
        base = fake.api_base_url()
    )
}

#[test]
fn the_agent_sees_its_history_after_a_restart() {
    let fake = FakeDiscord::start(FakeDiscordOptions::default());
    let work = tempfile::tempdir().expect("temp dir");
    let dump = work.path().join("dump");
    let config = config(&fake, &dump);
    let alice = Author::user("111111111111111111", "alice");

    let krill = Krill::start(&config, &["gateway"]);
    fake.wait_for_ready_client(WAIT).expect("krill identifies");
    let first = message_create_dm(DM_CHANNEL_ID, &alice, "remember me");
    let first_id = first["id"].as_str().unwrap().to_owned();
    fake.dispatch("MESSAGE_CREATE", first);
    let posts = fake.wait_for_posts(1, WAIT).expect("the first reply");
    assert_eq!(
        posts[0].content,
        "session=agent:main:main text=remember me history=0"
    );
    let first_log = krill.log();
    let state = krill.stop();

    let krill = Krill::start_in(state, &config, &["gateway"], &[]);
    fake.wait_for_identify_count(2, WAIT)
        .expect("the new process identifies");
    fake.wait_for_ready_client(WAIT)
        .expect("krill is ready again");
    fake.dispatch(
        "MESSAGE_CREATE",
        message_create_dm(DM_CHANNEL_ID, &alice, "do you?"),
    );
    let posts = fake
        .wait_for_posts(2, WAIT)
        .expect("the reply after the restart");
    assert_eq!(
        posts[1].content, "session=agent:main:main text=do you? history=2",
        "the first turn is in the history"
    );
    let raw = std::fs::read_to_string(dump.join("request-2.json")).expect("second request");
    let request: Value = serde_json::from_str(&raw).expect("JSON");
    assert_eq!(
        request["history"],
        json!([
            {"role": "user", "text": format!("remember me\n[message_id: {first_id}]\n[discord message id: {first_id} channel: {DM_CHANNEL_ID}]")},
            {"role": "assistant", "text": "session=agent:main:main text=remember me history=0"},
        ])
    );

    // One file for the session: `agent:main:main.jsonl`, with unsafe bytes
    // percent-encoded (some builds encode `:` too).
    let sessions = krill.state_dir().join("agents/main/sessions");
    let files: Vec<_> = std::fs::read_dir(&sessions)
        .unwrap_or_else(|e| panic!("{}: {e}", sessions.display()))
        .filter_map(Result::ok)
        .map(|e| e.path())
        .collect();
    assert_eq!(files.len(), 1, "one transcript: {files:?}");
    let name = files[0]
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or_default()
        .replace("%3A", ":");
    assert_eq!(name, "agent:main:main.jsonl");
    let lines = std::fs::read_to_string(&files[0]).expect("the transcript");
    assert_eq!(
        lines.lines().count(),
        4,
        "two turns, user + assistant each:\n{lines}"
    );

    let token = &fake.options().token;
    assert!(!first_log.contains(token.as_str()) && !krill.log().contains(token.as_str()));
}
