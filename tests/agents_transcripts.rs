//! Transcripts on disk: one JSONL file per session under
//! `agents/<agentId>/sessions/`, reloaded after a restart, bounded by the
//! DM history limit, tolerant of a torn last line, private (0600).

#[path = "agents/support.rs"]
mod support;

use krill_core::agent::transcript::parse_transcript;
use krill_core::agent::{Role, TranscriptEntry};
use krill_drivers::agent::TranscriptStore;
use support::{ask, command, dm_turn, runner};

#[test]
fn a_restart_keeps_the_transcript() {
    let state = tempfile::tempdir().unwrap();
    let dump = state.path().join("dump");
    let backend = command("record.py", &[dump.to_str().unwrap()], 30_000);
    {
        let first = runner(backend.clone(), state.path(), 4);
        assert_eq!(
            ask(&first, dm_turn("agent:main:main", "1", "one"))
                .reply
                .as_deref(),
            Some("session=agent:main:main text=one history=0")
        );
        assert_eq!(
            ask(&first, dm_turn("agent:main:main", "2", "two"))
                .reply
                .as_deref(),
            Some("session=agent:main:main text=two history=2")
        );
    }
    // A new store and runner on the same state dir: krill restarted.
    let second = runner(backend, state.path(), 4);
    assert_eq!(
        ask(&second, dm_turn("agent:main:main", "3", "three"))
            .reply
            .as_deref(),
        Some("session=agent:main:main text=three history=4")
    );

    let file = state
        .path()
        .join("agents/main/sessions/agent:main:main.jsonl");
    let parsed = parse_transcript(&std::fs::read_to_string(&file).unwrap());
    assert_eq!(parsed.skipped_lines, 0);
    let summary: Vec<(Role, &str)> = parsed
        .entries
        .iter()
        .map(|e| (e.role, e.text.as_str()))
        .collect();
    assert_eq!(
        summary,
        [
            (Role::User, "one\n[message_id: 1]"),
            (
                Role::Assistant,
                "session=agent:main:main text=one history=0"
            ),
            (Role::User, "two\n[message_id: 2]"),
            (
                Role::Assistant,
                "session=agent:main:main text=two history=2"
            ),
            (Role::User, "three\n[message_id: 3]"),
            (
                Role::Assistant,
                "session=agent:main:main text=three history=4"
            ),
        ]
    );
    let first = &parsed.entries[0];
    assert_eq!(first.message_id.as_deref(), Some("1"));
    assert_eq!(first.sender.as_ref().map(|s| s.id.as_str()), Some("111"));
    assert!(
        first.ts_ms > 1_600_000_000_000,
        "wall-clock epoch milliseconds"
    );
}

#[test]
fn the_dm_history_limit_bounds_user_turns() {
    let state = tempfile::tempdir().unwrap();
    let dump = state.path().join("dump");
    let runner = runner(
        command("record.py", &[dump.to_str().unwrap()], 30_000),
        state.path(),
        4,
    );
    for n in 1..=3 {
        ask(&runner, dm_turn("agent:main:main", &n.to_string(), "x"));
    }
    let mut limited = dm_turn("agent:main:main", "4", "limited");
    limited.history_limit = Some(1);
    assert_eq!(
        ask(&runner, limited).reply.as_deref(),
        Some("session=agent:main:main text=limited history=2")
    );
    let mut none = dm_turn("agent:main:main", "5", "none");
    none.history_limit = Some(0);
    assert_eq!(
        ask(&runner, none).reply.as_deref(),
        Some("session=agent:main:main text=none history=0")
    );
}

#[test]
fn sessions_have_separate_files_and_histories() {
    let state = tempfile::tempdir().unwrap();
    let dump = state.path().join("dump");
    let runner = runner(
        command("record.py", &[dump.to_str().unwrap()], 30_000),
        state.path(),
        4,
    );
    ask(&runner, dm_turn("agent:main:main", "1", "dm"));
    let outcome = ask(&runner, dm_turn("agent:main:kook:channel:77", "2", "chan"));
    assert_eq!(
        outcome.reply.as_deref(),
        Some("session=agent:main:kook:channel:77 text=chan history=0")
    );
    let dir = state.path().join("agents/main/sessions");
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    assert_eq!(
        names,
        ["agent:main:kook:channel:77.jsonl", "agent:main:main.jsonl"]
    );
}

#[test]
fn a_torn_last_line_is_skipped_and_appends_start_on_a_new_line() {
    let state = tempfile::tempdir().unwrap();
    let store = TranscriptStore::new(state.path());
    let file = store.file_path("main", "agent:main:main").unwrap();
    std::fs::create_dir_all(file.parent().unwrap()).unwrap();
    let mut contents = TranscriptEntry::assistant(1, "before the crash").to_jsonl_line();
    contents.push_str("{\"ts_ms\":2,\"role\":\"user\",\"te");
    std::fs::write(&file, contents).unwrap();

    let dump = state.path().join("dump");
    let runner = runner(
        command("record.py", &[dump.to_str().unwrap()], 30_000),
        state.path(),
        4,
    );
    assert_eq!(
        ask(&runner, dm_turn("agent:main:main", "3", "after"))
            .reply
            .as_deref(),
        Some("session=agent:main:main text=after history=1")
    );

    let parsed = parse_transcript(&std::fs::read_to_string(&file).unwrap());
    assert_eq!(parsed.skipped_lines, 1, "only the torn fragment");
    assert!(parsed.ends_with_newline);
    let texts: Vec<&str> = parsed.entries.iter().map(|e| e.text.as_str()).collect();
    assert_eq!(
        texts,
        [
            "before the crash",
            "after\n[message_id: 3]",
            "session=agent:main:main text=after history=1"
        ]
    );
}

#[test]
fn store_reads_lazily_and_rejects_unsafe_agent_ids() {
    let state = tempfile::tempdir().unwrap();
    let store = TranscriptStore::new(state.path());
    assert!(store.entries("main", "agent:main:main").unwrap().is_empty());
    store
        .append(
            "main",
            "agent:main:main",
            &[TranscriptEntry::assistant(1, "a")],
        )
        .unwrap();
    assert_eq!(store.entries("main", "agent:main:main").unwrap().len(), 1);
    assert!(store.file_path("../etc", "x").is_err());
    assert!(store
        .append("", "x", &[TranscriptEntry::assistant(1, "a")])
        .is_err());

    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let file = store.file_path("main", "agent:main:main").unwrap();
        let mode = std::fs::metadata(file).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "transcripts are private");
    }
}
