//! The one JSON object a command agent reads on stdin: field names, what is
//! left out, and the history window cut from the transcript.

use krill_core::agent::{
    dm_history_limit, history_window, reply_from_output, ChannelKind, ChatType, Role, Sender,
    TranscriptEntry, TurnInput, TurnRequest,
};

fn input() -> TurnInput {
    TurnInput {
        agent_id: "main".into(),
        session_key: "agent:main:discord:channel:222".into(),
        channel: ChannelKind::Discord,
        account_id: "default".into(),
        chat_type: ChatType::Channel,
        chat_id: "222".into(),
        sender: Sender {
            id: "111".into(),
            name: "alice".into(),
        },
        message_id: "9003".into(),
        text: "what do you think?".into(),
        prompt: "[from: alice (111)] what do you think?\n[message_id: 9003]".into(),
        system_prompt: Some("Keep answers short.".into()),
        skills: Some(vec!["search".into(), "docs".into()]),
        tools: Default::default(),
        history_limit: None,
        media: Vec::new(),
    }
}

fn transcript() -> Vec<TranscriptEntry> {
    let mut entries = Vec::new();
    for turn in 1..=3u64 {
        entries.push(TranscriptEntry {
            ts_ms: 1_700_000_000_000 + turn * 10,
            role: Role::User,
            text: format!("question {turn}"),
            message_id: Some(format!("m{turn}")),
            sender: Some(Sender {
                id: "111".into(),
                name: "alice".into(),
            }),
            tool_calls: Vec::new(),
            tool_call_id: None,
        });
        entries.push(TranscriptEntry::assistant(
            1_700_000_000_001 + turn * 10,
            format!("answer {turn}"),
        ));
    }
    entries
}

#[test]
fn turn_request_json_names_every_field_in_camel_case() {
    let request = input().request(&transcript()[4..]);
    insta::assert_json_snapshot!("agent_turn_request", request);
}

#[test]
fn unset_system_prompt_and_skills_are_left_out_and_empty_skills_kept() {
    let mut turn = input();
    turn.system_prompt = None;
    turn.skills = None;
    let json = serde_json::to_value(turn.request(&[])).unwrap();
    let object = json.as_object().unwrap();
    assert!(!object.contains_key("systemPrompt"));
    assert!(!object.contains_key("skills"));
    assert_eq!(object["history"], serde_json::json!([]));

    turn.skills = Some(vec![]);
    let json = serde_json::to_value(turn.request(&[])).unwrap();
    assert_eq!(json["skills"], serde_json::json!([]), "[] means no skills");
}

#[test]
fn request_round_trips_through_json() {
    let request = input().request(&transcript());
    let text = serde_json::to_string(&request).unwrap();
    let back: TurnRequest = serde_json::from_str(&text).unwrap();
    assert_eq!(back, request);
}

#[test]
fn channel_and_chat_type_spellings() {
    let cases = [
        (ChannelKind::Discord, "\"discord\""),
        (ChannelKind::Kook, "\"kook\""),
        (ChannelKind::Cli, "\"cli\""),
    ];
    for (kind, json) in cases {
        assert_eq!(serde_json::to_string(&kind).unwrap(), json);
    }
    assert_eq!(
        serde_json::to_string(&ChatType::Direct).unwrap(),
        "\"direct\""
    );
    assert_eq!(
        serde_json::to_string(&ChatType::Channel).unwrap(),
        "\"channel\""
    );
}

#[test]
fn history_limit_counts_user_turns_with_their_replies() {
    let entries = transcript();
    let texts = |limit| -> Vec<String> {
        history_window(&entries, limit)
            .into_iter()
            .map(|h| h.text)
            .collect()
    };
    assert_eq!(texts(None).len(), 6);
    assert!(texts(Some(0)).is_empty());
    assert_eq!(texts(Some(1)), ["question 3", "answer 3"]);
    assert_eq!(
        texts(Some(2)),
        ["question 2", "answer 2", "question 3", "answer 3"]
    );
    assert_eq!(texts(Some(99)).len(), 6);

    let mut turn = input();
    turn.history_limit = Some(1);
    let request = turn.request(&entries);
    assert_eq!(request.history.len(), 2);
    assert_eq!(request.history[0].role, Role::User);
    assert_eq!(request.history[1].role, Role::Assistant);
}

#[test]
fn per_user_dm_history_limit_wins() {
    assert_eq!(dm_history_limit(Some(10), Some(3)), Some(3));
    assert_eq!(dm_history_limit(Some(10), None), Some(10));
    assert_eq!(dm_history_limit(None, Some(0)), Some(0));
    assert_eq!(dm_history_limit(None, None), None);
}

#[test]
fn user_entry_records_the_prompt_with_id_and_sender() {
    let entry = input().user_entry(42);
    assert_eq!(entry.role, Role::User);
    assert_eq!(entry.text, input().prompt);
    assert_eq!(entry.message_id.as_deref(), Some("9003"));
    assert_eq!(entry.sender.unwrap().id, "111");
}

#[test]
fn reply_is_output_without_trailing_newlines_and_blank_is_none() {
    assert_eq!(reply_from_output(b"hi\n").as_deref(), Some("hi"));
    assert_eq!(reply_from_output(b"hi\r\n\n\n").as_deref(), Some("hi"));
    assert_eq!(
        reply_from_output(b"  two\nlines  \n").as_deref(),
        Some("  two\nlines  ")
    );
    assert_eq!(reply_from_output(b""), None);
    assert_eq!(reply_from_output(b"\n \n"), None);
    assert_eq!(
        reply_from_output(b"\xff ok\n").as_deref(),
        Some("\u{fffd} ok")
    );
}
