//! The OpenAI-compatible backend: `POST {baseUrl}/chat/completions` with
//! ureq on smol's blocking pool, once per turn, or once per step when the
//! model calls tools. The body, the reply parsing and the tool loop (step
//! bound, messages) are `krill_core::agent`'s (`openai`, `tool_loop`); this
//! file adds the `Authorization: Bearer $<apiKeyEnv>` header, the timeout
//! (`timeoutMs`, per request), carries each tool call out through the
//! turn's [`TurnTools`] and turns transport errors and non-2xx statuses
//! into [`AgentError`]s.
//! TLS is native-tls with the platform's root certificates.

use std::time::Duration;

use krill_core::agent::openai::{
    chat_completions_url, parse_chat_reply, with_image_parts, ImageInput,
};
use krill_core::agent::tool_loop::{Next, ToolConversation};
use krill_core::agent::TurnRequest;
use krill_core::secret::Secret;
use ureq::tls::{RootCerts, TlsConfig, TlsProvider};

use super::backend::{AgentError, Answer};
use super::tools::TurnTools;

/// The result a call gets when the turn has no tools to call.
const NO_TOOLS: &str =
    r#"{"ok":false,"error":"no tools are available in this conversation; answer in text"}"#;

/// The most response body read.
const MAX_BODY_BYTES: u64 = 4 * 1024 * 1024;
/// How much of an error body goes into the log.
const ERROR_BODY_CHARS: usize = 300;

/// One backend's settings, borrowed from its `BackendSpec::OpenAi`.
#[derive(Debug, Clone, Copy)]
pub struct OpenAiCall<'a> {
    /// `baseUrl`.
    pub base_url: &'a str,
    /// `model`.
    pub model: &'a str,
    /// `apiKeyEnv`.
    pub api_key_env: Option<&'a str>,
    /// The backend's `systemPrompt`.
    pub system_prompt: Option<&'a str>,
    /// `maxTokens`.
    pub max_tokens: Option<u32>,
    /// `timeoutMs`.
    pub timeout_ms: u64,
    /// `vision`: downloaded images go to the model as image parts.
    pub vision: bool,
    /// `maxToolSteps`.
    pub max_tool_steps: u32,
}

impl OpenAiCall<'_> {
    /// Asks the API for the reply to `request`, carrying out the tool calls
    /// the model makes with `tools` until it answers in text or the step
    /// bound stops it.
    pub async fn answer(
        &self,
        request: &TurnRequest,
        tools: Option<&TurnTools>,
    ) -> Result<Answer, AgentError> {
        let api_key = match self.api_key_env {
            Some(var) => Some(Secret::new(
                std::env::var(var)
                    .ok()
                    .filter(|key| !key.trim().is_empty())
                    .ok_or_else(|| AgentError::MissingApiKey(var.to_owned()))?,
            )),
            None => None,
        };
        let mut conversation = ToolConversation::new(
            self.model,
            self.system_prompt,
            self.max_tokens,
            request,
            self.max_tool_steps,
        );
        // `vision`: the turn's downloaded images, read once, go with every
        // request of the conversation (as parts of the last user message).
        let images = if self.vision {
            read_images(request).await
        } else {
            Vec::new()
        };
        let inputs: Vec<ImageInput<'_>> = images
            .iter()
            .map(|(content_type, data)| ImageInput { content_type, data })
            .collect();
        let url = chat_completions_url(self.base_url);
        loop {
            let body = if inputs.is_empty() {
                serde_json::to_vec(conversation.request())
            } else {
                serde_json::to_vec(&with_image_parts(conversation.request(), &inputs))
            }
            .map_err(|e| AgentError::Io(e.into()))?;
            let (url_, key, timeout_ms) = (url.clone(), api_key.clone(), self.timeout_ms);
            let text = smol::unblock(move || post(&url_, key.as_ref(), &body, timeout_ms)).await?;
            let reply = parse_chat_reply(&text)?;
            match conversation.handle_reply(reply) {
                Next::CallTools(calls) => {
                    for call in calls {
                        tracing::debug!(
                            target: "krill::agent",
                            session = %request.session_key,
                            tool = %call.name,
                            "tool call"
                        );
                        let result = match tools {
                            Some(tools) => {
                                tools
                                    .handler
                                    .call(call.name.clone(), call.arguments.clone())
                                    .await
                            }
                            None => NO_TOOLS.to_owned(),
                        };
                        conversation.tool_result(&call.id, result);
                    }
                }
                Next::Answer(reply) => {
                    return Ok(Answer {
                        reply,
                        trace: conversation.trace().to_vec(),
                    })
                }
                Next::Stopped(reply) => {
                    tracing::warn!(
                        target: "krill::agent",
                        session = %request.session_key,
                        steps = conversation.steps(),
                        "the model still called tools after maxToolSteps; turn stopped"
                    );
                    return Ok(Answer {
                        reply: Some(reply),
                        trace: conversation.trace().to_vec(),
                    });
                }
            }
        }
    }
}

/// The downloaded images of the turn (`media[]` with a path and an
/// `image/*` type), read from disk; a file that cannot be read is left out
/// (logged): the prompt line still names it.
async fn read_images(request: &TurnRequest) -> Vec<(String, Vec<u8>)> {
    let wanted: Vec<(String, String)> = request
        .media
        .iter()
        .filter(|item| item.is_saved_image())
        .filter_map(|item| Some((item.content_type.clone(), item.path.clone()?)))
        .collect();
    if wanted.is_empty() {
        return Vec::new();
    }
    smol::unblock(move || {
        wanted
            .into_iter()
            .filter_map(|(content_type, path)| match std::fs::read(&path) {
                Ok(data) => Some((content_type, data)),
                Err(e) => {
                    tracing::warn!(target: "krill::agent", "cannot read image {path}: {e}");
                    None
                }
            })
            .collect()
    })
    .await
}

/// The blocking request.
fn post(
    url: &str,
    api_key: Option<&Secret>,
    body: &[u8],
    timeout_ms: u64,
) -> Result<Vec<u8>, AgentError> {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .timeout_global(Some(Duration::from_millis(timeout_ms)))
        .http_status_as_error(false)
        .tls_config(
            TlsConfig::builder()
                .provider(TlsProvider::NativeTls)
                .root_certs(RootCerts::PlatformVerifier)
                .build(),
        )
        .build()
        .into();
    let mut post = agent.post(url).header("content-type", "application/json");
    if let Some(key) = api_key {
        post = post.header("authorization", format!("Bearer {}", key.expose()));
    }
    let transport = |e: ureq::Error| match e {
        ureq::Error::Timeout(_) => AgentError::Timeout { timeout_ms },
        other => AgentError::Transport {
            url: url.to_owned(),
            message: other.to_string(),
        },
    };
    let mut response = post.send(body).map_err(transport)?;
    let status = response.status().as_u16();
    let text = response
        .body_mut()
        .with_config()
        .limit(MAX_BODY_BYTES)
        .read_to_vec()
        .map_err(transport)?;
    if !(200..300).contains(&status) {
        return Err(AgentError::Http {
            url: url.to_owned(),
            status,
            body: String::from_utf8_lossy(&text)
                .chars()
                .take(ERROR_BODY_CHARS)
                .collect(),
        });
    }
    Ok(text)
}
