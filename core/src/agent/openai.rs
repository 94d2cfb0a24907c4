//! The OpenAI-compatible chat completions wire shapes: the request body a
//! turn becomes ([`chat_completion_request`]) and the reply read out of the
//! response body ([`parse_chat_completion`]). The driver only POSTs the body
//! to [`chat_completions_url`] and hands the response bytes back here.
//!
//! `messages` is: a `system` message (the backend's `systemPrompt`, then
//! the turn's `systemPrompt`, separated by a blank line) when either is set;
//! the turn's history as `user` / `assistant` / `tool` messages (an
//! assistant step that called tools carries its `tool_calls`, each result
//! its `tool_call_id`); the turn's `prompt` as the last `user` message.
//! `tools` lists the turn's functions in the function-calling format;
//! `stream` is always `false`.

use serde::{Deserialize, Serialize};
use thiserror::Error;

use super::turn::{HistoryEntry, Role, ToolCallRecord, TurnRequest};
use crate::tools::ToolSpec;

/// `POST` body of `/chat/completions`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ChatCompletionRequest {
    /// The backend's `model`.
    pub model: String,
    /// System, history, current prompt.
    pub messages: Vec<ChatMessage>,
    /// The backend's `maxTokens`, left out when unset.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_tokens: Option<u32>,
    /// The functions the model may call; left out when none.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub tools: Vec<FunctionTool>,
    /// Always `false`: krill reads one JSON answer.
    pub stream: bool,
}

/// `{"type":"function","function":{name, description, parameters}}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FunctionTool {
    /// Always `function`.
    #[serde(rename = "type")]
    pub kind: &'static str,
    /// The function.
    pub function: ToolSpec,
}

/// One message of the chat.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChatMessage {
    /// `system`, `user`, `assistant` or `tool`.
    pub role: String,
    /// The text (a tool's JSON result for `tool`).
    pub content: String,
    /// The calls an assistant message asked for.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tool_calls: Vec<WireToolCall>,
    /// The call a `tool` message answers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool_call_id: Option<String>,
}

impl ChatMessage {
    /// A plain message.
    pub fn text(role: &str, content: impl Into<String>) -> Self {
        Self {
            role: role.to_owned(),
            content: content.into(),
            tool_calls: Vec::new(),
            tool_call_id: None,
        }
    }

    /// The message for one history entry.
    pub fn from_history(entry: &HistoryEntry) -> Self {
        Self {
            role: entry.role.as_str().to_owned(),
            content: entry.text.clone(),
            tool_calls: entry.tool_calls.iter().map(WireToolCall::from).collect(),
            tool_call_id: entry
                .tool_call_id
                .clone()
                .filter(|_| entry.role == Role::Tool),
        }
    }
}

/// `{"id","type":"function","function":{"name","arguments"}}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WireToolCall {
    /// The call id.
    #[serde(default)]
    pub id: String,
    /// `function`.
    #[serde(rename = "type", default = "function_kind")]
    pub kind: String,
    /// Name and arguments.
    pub function: WireFunctionCall,
}

/// The function part of a tool call.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WireFunctionCall {
    /// The function name.
    pub name: String,
    /// The arguments: a JSON object as text (OpenAI); an object some
    /// servers send is accepted and written back as text.
    #[serde(default, deserialize_with = "arguments_text")]
    pub arguments: String,
}

fn function_kind() -> String {
    "function".to_owned()
}

fn arguments_text<'de, D: serde::Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    Ok(match serde_json::Value::deserialize(d)? {
        serde_json::Value::String(s) => s,
        serde_json::Value::Null => String::new(),
        other => other.to_string(),
    })
}

impl From<&ToolCallRecord> for WireToolCall {
    fn from(call: &ToolCallRecord) -> Self {
        Self {
            id: call.id.clone(),
            kind: function_kind(),
            function: WireFunctionCall {
                name: call.name.clone(),
                arguments: call.arguments.clone(),
            },
        }
    }
}

/// What the model answered: text, tool calls, or both.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ChatReply {
    /// `choices[0].message.content` as sent (may be empty).
    pub content: Option<String>,
    /// `choices[0].message.tool_calls`.
    pub tool_calls: Vec<WireToolCall>,
}

/// Why a response body holds no usable reply.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum OpenAiResponseError {
    /// Not JSON, or not the chat completion shape.
    #[error("the response is not a chat completion: {0}")]
    Malformed(String),
    /// `choices` is empty.
    #[error("the response has no choices")]
    NoChoices,
}

#[derive(Deserialize)]
struct CompletionBody {
    choices: Vec<Choice>,
}

#[derive(Deserialize)]
struct Choice {
    message: ChoiceMessage,
}

#[derive(Deserialize)]
struct ChoiceMessage {
    #[serde(default)]
    content: Option<String>,
    #[serde(default)]
    tool_calls: Option<Vec<WireToolCall>>,
}

/// `{baseUrl}/chat/completions`, with no doubled `/`.
pub fn chat_completions_url(base_url: &str) -> String {
    format!("{}/chat/completions", base_url.trim_end_matches('/'))
}

/// The request body for `request` (see the module docs for `messages`).
pub fn chat_completion_request(
    model: &str,
    backend_system_prompt: Option<&str>,
    max_tokens: Option<u32>,
    request: &TurnRequest,
) -> ChatCompletionRequest {
    let mut messages = Vec::with_capacity(request.history.len() + 2);
    let system: Vec<&str> = [backend_system_prompt, request.system_prompt.as_deref()]
        .into_iter()
        .flatten()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .collect();
    if !system.is_empty() {
        messages.push(ChatMessage::text("system", system.join("\n\n")));
    }
    messages.extend(request.history.iter().map(ChatMessage::from_history));
    messages.push(ChatMessage::text("user", request.prompt.clone()));
    ChatCompletionRequest {
        model: model.to_owned(),
        messages,
        max_tokens,
        tools: request
            .tools
            .iter()
            .map(|spec| FunctionTool {
                kind: "function",
                function: spec.clone(),
            })
            .collect(),
        stream: false,
    }
}

/// One image for a vision model: its MIME type and bytes.
#[derive(Debug, Clone, Copy)]
pub struct ImageInput<'a> {
    /// `image/png`, `image/jpeg`...
    pub content_type: &'a str,
    /// The file's bytes.
    pub data: &'a [u8],
}

/// The request body with `images` added to the last `user` message as
/// image content parts (`[{type: "text", text}, {type: "image_url",
/// image_url: {url: "data:<type>;base64,…"}}]`), for backends with
/// `vision: true`. Without images it is the plain body.
pub fn with_image_parts(
    request: &ChatCompletionRequest,
    images: &[ImageInput<'_>],
) -> serde_json::Value {
    use base64::Engine as _;
    let mut body = serde_json::to_value(request).unwrap_or(serde_json::Value::Null);
    if images.is_empty() {
        return body;
    }
    let last_user = body
        .get_mut("messages")
        .and_then(serde_json::Value::as_array_mut)
        .and_then(|messages| {
            messages
                .iter_mut()
                .rev()
                .find(|m| m.get("role").and_then(|r| r.as_str()) == Some("user"))
        });
    if let Some(message) = last_user {
        let text = message
            .get("content")
            .and_then(|c| c.as_str())
            .unwrap_or_default()
            .to_owned();
        let mut parts = vec![serde_json::json!({"type": "text", "text": text})];
        for image in images {
            let encoded = base64::engine::general_purpose::STANDARD.encode(image.data);
            parts.push(serde_json::json!({
                "type": "image_url",
                "image_url": {"url": format!("data:{};base64,{encoded}", image.content_type)}
            }));
        }
        message["content"] = serde_json::Value::Array(parts);
    }
    body
}

/// The reply in a 2xx response body: `choices[0].message.content`, trimmed
/// of trailing newlines; `Ok(None)` when it is null, missing or blank (no
/// reply).
pub fn parse_chat_completion(body: &[u8]) -> Result<Option<String>, OpenAiResponseError> {
    Ok(parse_chat_reply(body)?
        .content
        .and_then(|content| super::turn::reply_from_output(content.as_bytes())))
}

/// The whole answer of a 2xx response body: text and tool calls.
pub fn parse_chat_reply(body: &[u8]) -> Result<ChatReply, OpenAiResponseError> {
    let parsed: CompletionBody =
        serde_json::from_slice(body).map_err(|e| OpenAiResponseError::Malformed(e.to_string()))?;
    let choice = parsed
        .choices
        .into_iter()
        .next()
        .ok_or(OpenAiResponseError::NoChoices)?;
    Ok(ChatReply {
        content: choice.message.content,
        tool_calls: choice.message.tool_calls.unwrap_or_default(),
    })
}
