//! A failing agent (non-zero exit, timeout, a program that cannot start, an
//! unknown agent) gets the short "agent failed" reply, nothing of its
//! output reaches the chat or the transcript, and the next turn of the
//! same session works.

#[path = "agents/support.rs"]
mod support;

use krill_core::agent::transcript::parse_transcript;
use krill_core::agent::{BackendSpec, AGENT_FAILED_REPLY};
use krill_drivers::agent::AgentError;
use support::{ask, command, dm_turn, runner};

/// The sleepy agent's timeout: long enough for a python agent to start,
/// write its pid and answer on a heavily loaded machine (the timeout is
/// what the test waits for, never a claim about speed), far below its
/// 60 s sleep.
const SLEEPY_TIMEOUT_MS: u64 = 10_000;

#[test]
fn a_crashing_agent_gets_the_error_reply_and_the_next_turn_works() {
    let state = tempfile::tempdir().unwrap();
    let runner = runner(command("crash.py", &[], 30_000), state.path(), 4);

    let outcome = ask(&runner, dm_turn("agent:main:main", "1", "crash"));
    assert!(outcome.failed);
    assert_eq!(outcome.reply.as_deref(), Some(AGENT_FAILED_REPLY));
    match outcome.error {
        Some(AgentError::Exit(status)) => assert_eq!(status.code(), Some(3)),
        other => panic!("expected an exit error, got {other:?}"),
    }

    let outcome = ask(&runner, dm_turn("agent:main:main", "2", "hello"));
    assert!(!outcome.failed);
    assert_eq!(outcome.reply.as_deref(), Some("ok: hello"));

    let file = state
        .path()
        .join("agents/main/sessions/agent:main:main.jsonl");
    let parsed = parse_transcript(&std::fs::read_to_string(file).unwrap());
    let texts: Vec<&str> = parsed.entries.iter().map(|e| e.text.as_str()).collect();
    assert_eq!(
        texts,
        ["hello\n[message_id: 2]", "ok: hello"],
        "the failed turn is not recorded"
    );
}

#[test]
fn an_agent_past_its_timeout_is_killed_and_the_next_turn_works() {
    let state = tempfile::tempdir().unwrap();
    let pid_file = state.path().join("sleepy.pid");
    let runner = runner(
        command(
            "sleepy.py",
            &[pid_file.to_str().unwrap()],
            SLEEPY_TIMEOUT_MS,
        ),
        state.path(),
        4,
    );

    let outcome = ask(&runner, dm_turn("agent:main:main", "1", "sleep"));
    assert!(outcome.failed);
    assert_eq!(outcome.reply.as_deref(), Some(AGENT_FAILED_REPLY));
    assert!(
        matches!(
            outcome.error,
            Some(AgentError::Timeout {
                timeout_ms: SLEEPY_TIMEOUT_MS
            })
        ),
        "{:?}",
        outcome.error
    );
    // The process wrote its pid before sleeping; it was killed and reaped
    // before the outcome came back.
    let pid = std::fs::read_to_string(&pid_file).unwrap();
    assert!(
        !std::path::Path::new(&format!("/proc/{}", pid.trim())).exists(),
        "agent process {pid} still exists"
    );

    let outcome = ask(&runner, dm_turn("agent:main:main", "2", "there?"));
    assert!(!outcome.failed);
    assert_eq!(outcome.reply.as_deref(), Some("awake: there?"));
}

#[test]
fn a_program_that_cannot_start_fails_the_turn() {
    let state = tempfile::tempdir().unwrap();
    let missing = BackendSpec::Command {
        command: vec!["/nonexistent/krill-agent".into()],
        timeout_ms: 1_000,
    };
    let outcome = ask(
        &runner(missing, state.path(), 4),
        dm_turn("agent:main:main", "1", "hi"),
    );
    assert!(outcome.failed);
    assert_eq!(outcome.reply.as_deref(), Some(AGENT_FAILED_REPLY));
    assert!(
        matches!(outcome.error, Some(AgentError::Spawn { .. })),
        "{:?}",
        outcome.error
    );

    let empty = BackendSpec::Command {
        command: vec![],
        timeout_ms: 1_000,
    };
    let outcome = ask(
        &runner(empty, state.path(), 4),
        dm_turn("agent:main:main", "2", "hi"),
    );
    assert!(matches!(outcome.error, Some(AgentError::EmptyCommand)));
    assert_eq!(outcome.reply.as_deref(), Some(AGENT_FAILED_REPLY));
}

#[test]
fn an_unknown_agent_fails_the_turn() {
    let state = tempfile::tempdir().unwrap();
    let runner = runner(BackendSpec::Echo, state.path(), 4);
    let mut turn = dm_turn("agent:ghost:main", "1", "hi");
    turn.agent_id = "ghost".into();
    let outcome = ask(&runner, turn);
    assert!(outcome.failed);
    assert!(matches!(outcome.error, Some(AgentError::UnknownAgent(ref id)) if id == "ghost"));
    assert_eq!(outcome.reply.as_deref(), Some(AGENT_FAILED_REPLY));
}
