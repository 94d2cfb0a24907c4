//! The OpenAI-compatible request body a turn becomes and the reply read out
//! of a response.

use krill_core::agent::openai::{
    chat_completion_request, chat_completions_url, parse_chat_completion, OpenAiResponseError,
};
use krill_core::agent::{ChannelKind, ChatType, HistoryEntry, Role, Sender, TurnRequest};

fn request(system_prompt: Option<&str>) -> TurnRequest {
    TurnRequest {
        agent_id: "main".into(),
        session_key: "agent:main:main".into(),
        channel: ChannelKind::Discord,
        account_id: "default".into(),
        chat_type: ChatType::Direct,
        chat_id: "555".into(),
        sender: Sender {
            id: "111".into(),
            name: "alice".into(),
        },
        message_id: "7003".into(),
        text: "and now?".into(),
        prompt: "and now?\n[message_id: 7003]".into(),
        history: vec![
            HistoryEntry::new(Role::User, "hi\n[message_id: 7001]"),
            HistoryEntry::new(Role::Assistant, "hello!"),
        ],
        system_prompt: system_prompt.map(str::to_owned),
        skills: None,
        media: Vec::new(),
        tools: Default::default(),
    }
}

#[test]
fn body_has_system_history_and_prompt() {
    let body = chat_completion_request(
        "llama3",
        Some("You are krill."),
        Some(256),
        &request(Some("Keep answers short.")),
    );
    insta::assert_json_snapshot!("agent_openai_request", body);
}

#[test]
fn no_system_message_and_no_max_tokens_when_unset() {
    let body = chat_completion_request("m", None, None, &request(None));
    let json = serde_json::to_value(&body).unwrap();
    assert!(json.get("max_tokens").is_none());
    let roles: Vec<&str> = body.messages.iter().map(|m| m.role.as_str()).collect();
    assert_eq!(roles, ["user", "assistant", "user"]);
    let only_turn = chat_completion_request("m", Some("  "), None, &request(Some("short")));
    assert_eq!(only_turn.messages[0].role, "system");
    assert_eq!(only_turn.messages[0].content, "short");
}

#[test]
fn url_joins_without_double_slash() {
    assert_eq!(
        chat_completions_url("http://127.0.0.1:11434/v1/"),
        "http://127.0.0.1:11434/v1/chat/completions"
    );
    assert_eq!(
        chat_completions_url("https://api.openai.com/v1"),
        "https://api.openai.com/v1/chat/completions"
    );
}

#[test]
fn reply_is_the_first_choice_content() {
    let body = br#"{"id":"x","choices":[{"index":0,"message":{"role":"assistant","content":"Hi!\n"},"finish_reason":"stop"},{"message":{"content":"no"}}]}"#;
    assert_eq!(parse_chat_completion(body).unwrap().as_deref(), Some("Hi!"));
    let null = br#"{"choices":[{"message":{"role":"assistant","content":null}}]}"#;
    assert_eq!(parse_chat_completion(null).unwrap(), None);
    let blank = br#"{"choices":[{"message":{"content":"  "}}]}"#;
    assert_eq!(parse_chat_completion(blank).unwrap(), None);
}

#[test]
fn malformed_bodies_are_errors_not_panics() {
    assert_eq!(
        parse_chat_completion(br#"{"choices":[]}"#),
        Err(OpenAiResponseError::NoChoices)
    );
    for body in [&b"not json"[..], b"{}", b"{\"choices\":[{}]}", b"\xff\xfe"] {
        assert!(matches!(
            parse_chat_completion(body),
            Err(OpenAiResponseError::Malformed(_))
        ));
    }
}
