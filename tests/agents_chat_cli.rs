//! `krill chat`: a terminal conversation through the same runner,
//! transcript and backend path as the gateway. Works with no config at all
//! (the echo agent).

#[path = "agents/support.rs"]
mod support;

use std::io::Write;
use std::process::{Command, Stdio};

use krill_drivers::cli::chat::run_with;
use support::command;

fn krill_chat(state: &std::path::Path, args: &[&str], input: &str) -> std::process::Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_krill"))
        .arg("chat")
        .args(args)
        .env("KRILL_STATE_DIR", state)
        .env("HOME", state)
        .env_remove("KRILL_CONFIG")
        .env_remove("KRILL_LOG")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

#[test]
fn krill_chat_answers_with_the_echo_text_without_a_config() {
    let state = tempfile::tempdir().unwrap();
    let output = krill_chat(
        state.path(),
        &[],
        "hello krill\n\n  second line  \n/exit\nnever read\n",
    );
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(
        String::from_utf8(output.stdout).unwrap(),
        "hello krill\nsecond line\n",
        "no `you> ` prompt when stdin is not a terminal"
    );
    let file = state
        .path()
        .join("agents/main/sessions/agent:main:main.jsonl");
    assert_eq!(std::fs::read_to_string(file).unwrap().lines().count(), 4);
}

#[test]
fn end_of_input_ends_with_exit_zero_and_agent_picks_the_session() {
    let state = tempfile::tempdir().unwrap();
    let config = state.path().join("krill.json5");
    std::fs::write(
        &config,
        "{ agents: { list: [{ id: 'main' }, { id: 'ops' }] } }",
    )
    .unwrap();
    let config = config.to_str().unwrap();
    let output = krill_chat(
        state.path(),
        &["--agent", "ops", "--config", config],
        "ping\n",
    );
    assert_eq!(output.status.code(), Some(0));
    assert_eq!(String::from_utf8(output.stdout).unwrap(), "ping\n");
    assert!(state
        .path()
        .join("agents/ops/sessions/agent:ops:main.jsonl")
        .exists());

    let empty = krill_chat(state.path(), &[], "");
    assert_eq!(empty.status.code(), Some(0));
    assert!(empty.stdout.is_empty());
}

#[test]
fn run_with_sends_a_cli_direct_turn_through_a_command_backend() {
    let state = tempfile::tempdir().unwrap();
    let dump = state.path().join("dump");
    let backend = command("record.py", &[dump.to_str().unwrap()], 30_000);
    let mut output = Vec::new();
    let code = run_with(
        "main",
        backend,
        state.path(),
        &b"first\nsecond\n"[..],
        &mut output,
    );
    assert_eq!(code, 0);
    assert_eq!(
        String::from_utf8(output).unwrap(),
        "session=agent:main:main text=first history=0\nsession=agent:main:main text=second history=2\n"
    );
    let request: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dump.join("request-2.json")).unwrap())
            .unwrap();
    assert_eq!(request["channel"], "cli");
    assert_eq!(request["chatType"], "direct");
    assert_eq!(request["sessionKey"], "agent:main:main");
    assert_eq!(request["prompt"], "second", "no message id in the terminal");
    assert_eq!(request["history"][0]["text"], "first");
}

#[test]
fn run_with_prints_the_failure_reply_and_goes_on() {
    let state = tempfile::tempdir().unwrap();
    let backend = command("crash.py", &[], 30_000);
    let mut output = Vec::new();
    let code = run_with(
        "main",
        backend,
        state.path(),
        &b"crash\nfine\n"[..],
        &mut output,
    );
    assert_eq!(code, 0);
    assert_eq!(
        String::from_utf8(output).unwrap(),
        format!("{}\nok: fine\n", krill_core::agent::AGENT_FAILED_REPLY)
    );
}

#[test]
fn chat_uses_the_configured_backend_and_rejects_unknown_agents() {
    let state = tempfile::tempdir().unwrap();
    let dump = state.path().join("dump");
    let config = state.path().join("krill.json5");
    let script = support::script("record.py");
    std::fs::write(
        &config,
        format!(
            "{{ agents: {{ list: [{{ id: 'writer', default: true, backend: {{ type: 'command', command: ['{script}', '{}'] }} }}] }} }}",
            dump.display()
        ),
    )
    .unwrap();
    let config = config.to_str().unwrap();
    let output = krill_chat(state.path(), &["--config", config], "hi there\n");
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let stdout = String::from_utf8(output.stdout).unwrap();
    assert!(stdout.contains("session=agent:writer:main"), "{stdout}");

    let unknown = krill_chat(
        state.path(),
        &["--config", config, "--agent", "nobody"],
        "x\n",
    );
    assert_eq!(unknown.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&unknown.stderr).contains("nobody"));
}
