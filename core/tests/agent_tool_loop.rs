//! The OpenAI backend's function-calling loop: tool calls parsed from an
//! answer (string or object arguments, missing ids), results appended as
//! `tool` messages, the step bound, and the trace kept for the transcript.

use krill_core::agent::openai::parse_chat_reply;
use krill_core::agent::tool_loop::{Next, ToolConversation, STEP_BOUND_REPLY};
use krill_core::agent::{ChannelKind, ChatType, Role, Sender, TurnRequest};
use krill_core::tools::{specs_for, Action};
use serde_json::{json, Value};

fn turn() -> TurnRequest {
    TurnRequest {
        agent_id: "main".into(),
        session_key: "agent:main:discord:channel:200".into(),
        channel: ChannelKind::Discord,
        account_id: "default".into(),
        chat_type: ChatType::Channel,
        chat_id: "200".into(),
        sender: Sender {
            id: "7".into(),
            name: "alice".into(),
        },
        message_id: "300".into(),
        text: "react please".into(),
        prompt: "[from: alice (7)] react please\n[message_id: 300]".into(),
        history: Vec::new(),
        system_prompt: None,
        skills: None,
        tools: specs_for(&[Action::React, Action::SendMessage]),
        media: Vec::new(),
    }
}

fn answer(message: Value) -> Vec<u8> {
    json!({"choices": [{"index": 0, "message": message}]})
        .to_string()
        .into_bytes()
}

#[test]
fn tools_are_offered_in_the_function_calling_format() {
    let conversation = ToolConversation::new("m", None, None, &turn(), 8);
    let body = serde_json::to_value(conversation.request()).unwrap();
    assert_eq!(body["stream"], json!(false));
    assert_eq!(body["tools"][0]["type"], json!("function"));
    assert_eq!(body["tools"][0]["function"]["name"], json!("discord_react"));
    assert_eq!(
        body["tools"][0]["function"]["parameters"]["type"],
        json!("object")
    );
    assert_eq!(
        body["tools"][1]["function"]["name"],
        json!("discord_sendMessage")
    );
}

#[test]
fn calls_are_carried_out_then_the_text_answers() {
    let mut conversation = ToolConversation::new("m", None, None, &turn(), 8);
    let reply = parse_chat_reply(&answer(json!({
        "role": "assistant", "content": null,
        "tool_calls": [
            {"id": "a", "type": "function", "function": {"name": "discord_react", "arguments": "{\"emoji\":\"✅\"}"}},
            {"type": "function", "function": {"name": "discord_sendMessage", "arguments": {"content": "hi"}}}
        ]
    })))
    .unwrap();
    let Next::CallTools(calls) = conversation.handle_reply(reply) else {
        panic!("expected calls");
    };
    assert_eq!(calls[0].id, "a");
    assert_eq!(calls[0].arguments, "{\"emoji\":\"✅\"}");
    assert_eq!(calls[1].id, "call_2", "a missing id is made up");
    assert_eq!(calls[1].arguments, "{\"content\":\"hi\"}");
    conversation.tool_result("a", r#"{"ok":true}"#.into());
    conversation.tool_result("call_2", r#"{"ok":false,"error":"x"}"#.into());
    let body = serde_json::to_value(conversation.request()).unwrap();
    let messages = body["messages"].as_array().unwrap();
    assert_eq!(messages[1]["role"], json!("assistant"));
    assert_eq!(
        messages[1]["tool_calls"][1]["function"]["name"],
        json!("discord_sendMessage")
    );
    assert_eq!(
        messages[2],
        json!({"role": "tool", "content": "{\"ok\":true}", "tool_call_id": "a"})
    );
    assert_eq!(messages[3]["tool_call_id"], json!("call_2"));

    let done = conversation
        .handle_reply(parse_chat_reply(&answer(json!({"content": "Done.\n"}))).unwrap());
    assert_eq!(done, Next::Answer(Some("Done.".into())));
    let roles: Vec<Role> = conversation.trace().iter().map(|e| e.role).collect();
    assert_eq!(
        roles,
        [Role::Assistant, Role::Tool, Role::Tool, Role::Assistant]
    );
}

#[test]
fn the_step_bound_stops_a_looping_model() {
    let looping = || {
        parse_chat_reply(&answer(json!({
            "content": null,
            "tool_calls": [{"id": "x", "function": {"name": "discord_react", "arguments": "{}"}}]
        })))
        .unwrap()
    };
    let mut conversation = ToolConversation::new("m", None, None, &turn(), 2);
    for _ in 0..2 {
        assert!(matches!(
            conversation.handle_reply(looping()),
            Next::CallTools(_)
        ));
        conversation.tool_result("x", "{}".into());
    }
    assert_eq!(
        conversation.handle_reply(looping()),
        Next::Stopped(STEP_BOUND_REPLY.into())
    );
    assert_eq!(conversation.steps(), 2);
    let last = conversation.trace().last().unwrap();
    assert_eq!(
        (last.role, last.tool_calls.len()),
        (Role::Assistant, 0),
        "no dangling calls"
    );
}
