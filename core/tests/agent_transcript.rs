//! Transcript lines and files: JSONL shape, torn last lines, and the
//! reversible session-key file names.

use krill_core::agent::transcript::{
    is_path_safe_agent_id, parse_transcript, session_file_name, session_key_from_file_name,
};
use krill_core::agent::{Role, Sender, TranscriptEntry};
use proptest::prelude::*;

fn user(ts_ms: u64, text: &str) -> TranscriptEntry {
    TranscriptEntry {
        ts_ms,
        role: Role::User,
        text: text.into(),
        message_id: Some("9003".into()),
        sender: Some(Sender {
            id: "111".into(),
            name: "alice".into(),
        }),
        tool_calls: Vec::new(),
        tool_call_id: None,
    }
}

#[test]
fn a_line_is_one_json_object() {
    let user_line = user(1_700_000_000_000, "hi\nthere").to_jsonl_line();
    let assistant_line = TranscriptEntry::assistant(1_700_000_000_500, "hello").to_jsonl_line();
    insta::assert_snapshot!(
        "agent_transcript_lines",
        format!("{user_line}{assistant_line}")
    );
    assert_eq!(user_line.matches('\n').count(), 1, "one line each");
}

#[test]
fn torn_last_line_is_skipped_and_reported() {
    let mut contents = user(1, "a").to_jsonl_line();
    contents.push_str(&TranscriptEntry::assistant(2, "b").to_jsonl_line());
    contents.push('\n');
    contents.push_str("{\"ts_ms\":3,\"role\":\"us");
    let parsed = parse_transcript(&contents);
    assert_eq!(parsed.entries.len(), 2);
    assert_eq!(parsed.entries[1].text, "b");
    assert_eq!(parsed.skipped_lines, 1);
    assert!(!parsed.ends_with_newline);

    let whole = parse_transcript(&user(1, "a").to_jsonl_line());
    assert_eq!(whole.skipped_lines, 0);
    assert!(whole.ends_with_newline);
    assert!(parse_transcript("").ends_with_newline);
}

#[test]
fn unknown_fields_and_missing_optionals_parse() {
    let parsed = parse_transcript(
        "{\"ts_ms\":5,\"role\":\"assistant\",\"text\":\"x\",\"extra\":1}\n{\"ts_ms\":6,\"role\":\"user\",\"text\":\"y\"}\n",
    );
    assert_eq!(parsed.entries.len(), 2);
    assert_eq!(parsed.entries[1].sender, None);
}

#[test]
fn session_keys_map_to_safe_file_names() {
    assert_eq!(
        session_file_name("agent:main:main"),
        "agent:main:main.jsonl"
    );
    assert_eq!(
        session_file_name("agent:ops:discord:channel:123"),
        "agent:ops:discord:channel:123.jsonl"
    );
    assert_eq!(session_file_name("../x"), "%2E.%2Fx.jsonl");
    assert_eq!(session_file_name("a/b\\c"), "a%2Fb%5Cc.jsonl");
    assert_eq!(
        session_key_from_file_name("agent:main:main.jsonl").as_deref(),
        Some("agent:main:main")
    );
    assert_eq!(
        session_key_from_file_name("agent%3Amain%3Amain.jsonl"),
        None
    );
    assert_eq!(session_key_from_file_name("notes.txt"), None);
}

#[test]
fn agent_ids_that_cannot_escape_the_agents_folder() {
    for ok in ["main", "ops-2", "a_b", "v1.2"] {
        assert!(is_path_safe_agent_id(ok), "{ok}");
    }
    for bad in ["", ".", "..", ".hidden", "a/b", "a\\b", "a:b", "ü"] {
        assert!(!is_path_safe_agent_id(bad), "{bad}");
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn file_names_round_trip_and_are_plain(key in ".{0,60}") {
        let name = session_file_name(&key);
        prop_assert!(name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'%' | b'-' | b'_' | b'.' | b':')));
        prop_assert!(!name.starts_with('.') || key.is_empty());
        prop_assert_eq!(session_key_from_file_name(&name), Some(key));
    }

    #[test]
    fn entries_round_trip_through_a_line(ts in any::<u64>(), text in ".{0,40}", assistant in any::<bool>()) {
        let entry = if assistant { TranscriptEntry::assistant(ts, text) } else { user(ts, &text) };
        let parsed = parse_transcript(&entry.to_jsonl_line());
        prop_assert_eq!(parsed.entries, vec![entry]);
    }
}
