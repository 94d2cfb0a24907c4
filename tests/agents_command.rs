//! The command backend through the runner: the agent reads exactly the
//! documented JSON object on stdin, its stdout (trailing newlines trimmed)
//! is the reply, empty stdout is no reply, and it inherits krill's
//! environment. The echo backend replies with the inbound text.

#[path = "agents/support.rs"]
mod support;

use krill_core::agent::{BackendSpec, ChatType};
use serde_json::json;
use support::{ask, command, dm_turn, runner};

#[test]
fn command_agent_reads_exactly_the_documented_json_object() {
    let state = tempfile::tempdir().unwrap();
    let dump = state.path().join("dump");
    let runner = runner(
        command("record.py", &[dump.to_str().unwrap()], 30_000),
        state.path(),
        4,
    );

    let mut first = dm_turn(
        "agent:main:discord:channel:222",
        "9003",
        "what do you think?",
    );
    first.chat_type = ChatType::Channel;
    first.chat_id = "222".into();
    first.prompt = "[from: alice (111)] what do you think?\n[message_id: 9003]".into();
    first.system_prompt = Some("Keep answers short.\n\nChannel topic: help".into());
    first.skills = Some(vec!["search".into()]);
    let outcome = ask(&runner, first);
    assert!(!outcome.failed);
    assert_eq!(
        outcome.reply.as_deref(),
        Some("session=agent:main:discord:channel:222 text=what do you think? history=0")
    );

    let raw = std::fs::read_to_string(dump.join("request-1.json")).unwrap();
    assert!(raw.ends_with('\n'), "one JSON object, then a newline");
    assert_eq!(raw.trim_end().lines().count(), 1, "on one line");
    let request: serde_json::Value = serde_json::from_str(&raw).unwrap();
    assert_eq!(
        request,
        json!({
            "agentId": "main",
            "sessionKey": "agent:main:discord:channel:222",
            "channel": "discord",
            "accountId": "default",
            "chatType": "channel",
            "chatId": "222",
            "sender": {"id": "111", "name": "alice"},
            "messageId": "9003",
            "text": "what do you think?",
            "prompt": "[from: alice (111)] what do you think?\n[message_id: 9003]",
            "history": [],
            "systemPrompt": "Keep answers short.\n\nChannel topic: help",
            "skills": ["search"]
        })
    );

    let mut second = dm_turn("agent:main:discord:channel:222", "9004", "and now?");
    second.chat_type = ChatType::Channel;
    second.chat_id = "222".into();
    second.prompt = "[from: alice (111)] and now?\n[message_id: 9004]".into();
    let outcome = ask(&runner, second);
    assert_eq!(
        outcome.reply.as_deref(),
        Some("session=agent:main:discord:channel:222 text=and now? history=2")
    );
    let request: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dump.join("request-2.json")).unwrap())
            .unwrap();
    assert_eq!(
        request["history"],
        json!([
            {"role": "user", "text": "[from: alice (111)] what do you think?\n[message_id: 9003]"},
            {"role": "assistant", "text": "session=agent:main:discord:channel:222 text=what do you think? history=0"}
        ])
    );
    let object = request.as_object().unwrap();
    assert!(!object.contains_key("systemPrompt"), "unset: left out");
    assert!(
        !object.contains_key("skills"),
        "unset: left out (all skills)"
    );
}

#[test]
fn stdout_is_the_reply_with_trailing_newlines_trimmed() {
    let state = tempfile::tempdir().unwrap();
    let backend = BackendSpec::Command {
        command: vec![
            "sh".into(),
            "-c".into(),
            "cat >/dev/null; printf '  line one\\nline two\\n\\n\\n'".into(),
        ],
        timeout_ms: 30_000,
    };
    let runner = runner(backend, state.path(), 4);
    let outcome = ask(&runner, dm_turn("agent:main:main", "1", "hi"));
    assert_eq!(outcome.reply.as_deref(), Some("  line one\nline two"));
    assert!(!outcome.failed);
}

#[test]
fn empty_stdout_is_no_reply_and_the_turn_is_still_recorded() {
    let state = tempfile::tempdir().unwrap();
    let backend = BackendSpec::Command {
        command: vec![
            "sh".into(),
            "-c".into(),
            "cat >/dev/null; printf '\\n'".into(),
        ],
        timeout_ms: 30_000,
    };
    let runner = runner(backend, state.path(), 4);
    let outcome = ask(&runner, dm_turn("agent:main:main", "1", "hi"));
    assert_eq!(outcome.reply, None);
    assert!(!outcome.failed);
    assert!(outcome.error.is_none());
    let file = state
        .path()
        .join("agents/main/sessions/agent:main:main.jsonl");
    let lines = std::fs::read_to_string(file).unwrap();
    assert_eq!(
        lines.lines().count(),
        1,
        "the user entry, no assistant entry"
    );
    assert!(lines.contains("\"role\":\"user\""));
}

#[test]
fn a_program_that_never_reads_stdin_still_answers() {
    let state = tempfile::tempdir().unwrap();
    let backend = BackendSpec::Command {
        command: vec!["sh".into(), "-c".into(), "echo hi".into()],
        timeout_ms: 30_000,
    };
    let runner = runner(backend, state.path(), 4);
    let mut turn = dm_turn("agent:main:main", "1", "x");
    turn.prompt = "y".repeat(256 * 1024); // more than a pipe buffer
    let outcome = ask(&runner, turn);
    assert!(!outcome.failed, "{:?}", outcome.error);
    assert_eq!(outcome.reply.as_deref(), Some("hi"));
}

#[test]
fn the_agent_inherits_krills_environment() {
    // Edition 2021: set_var is safe; this test file's other tests do not
    // read this variable.
    std::env::set_var("KRILL_AGENT_TEST_MARKER", "inherited-value");
    let state = tempfile::tempdir().unwrap();
    let backend = BackendSpec::Command {
        command: vec![
            "sh".into(),
            "-c".into(),
            "cat >/dev/null; printf '%s' \"$KRILL_AGENT_TEST_MARKER\"".into(),
        ],
        timeout_ms: 30_000,
    };
    let runner = runner(backend, state.path(), 4);
    let outcome = ask(&runner, dm_turn("agent:main:main", "1", "env?"));
    assert_eq!(outcome.reply.as_deref(), Some("inherited-value"));
}

#[test]
fn echo_replies_with_the_inbound_text_not_the_prompt() {
    let state = tempfile::tempdir().unwrap();
    let runner = runner(BackendSpec::Echo, state.path(), 4);
    let outcome = ask(&runner, dm_turn("agent:main:main", "42", "hello there"));
    assert_eq!(outcome.reply.as_deref(), Some("hello there"));
    assert_eq!(outcome.session_key, "agent:main:main");
    assert_eq!(outcome.message_id, "42");
    assert_eq!(outcome.agent_id, "main");
    let outcome = ask(&runner, dm_turn("agent:main:main", "43", ""));
    assert_eq!(outcome.reply, None, "nothing to echo: no reply");
}
