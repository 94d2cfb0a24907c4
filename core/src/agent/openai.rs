//! The OpenAI-compatible chat completions wire shapes: the request body a
//! turn becomes ([`chat_completion_request`]) and the reply read out of the
//! response body ([`parse_chat_completion`]). The driver only POSTs the body
//! to [`chat_completions_url`] and hands the response bytes back here.
//!
//! `messages` is: a `system` message (the backend's `systemPrompt`, then
//! the turn's `systemPrompt`, separated by a blank line) when either is set;
//! the turn's history as `user` / `assistant` messages; the turn's `prompt`
//! as the last `user` message.

use serde::{Deserialize, Serialize};
use thiserror::Error;

use super::turn::TurnRequest;

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
}

/// One message of the chat.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChatMessage {
    /// `system`, `user` or `assistant`.
    pub role: String,
    /// The text.
    pub content: String,
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
        messages.push(ChatMessage {
            role: "system".into(),
            content: system.join("\n\n"),
        });
    }
    messages.extend(request.history.iter().map(|entry| ChatMessage {
        role: entry.role.as_str().into(),
        content: entry.text.clone(),
    }));
    messages.push(ChatMessage {
        role: "user".into(),
        content: request.prompt.clone(),
    });
    ChatCompletionRequest {
        model: model.to_owned(),
        messages,
        max_tokens,
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
    let parsed: CompletionBody =
        serde_json::from_slice(body).map_err(|e| OpenAiResponseError::Malformed(e.to_string()))?;
    let choice = parsed
        .choices
        .into_iter()
        .next()
        .ok_or(OpenAiResponseError::NoChoices)?;
    Ok(choice
        .message
        .content
        .and_then(|content| super::turn::reply_from_output(content.as_bytes())))
}
