//! The OpenAI-compatible backend: one `POST {baseUrl}/chat/completions` per
//! turn with ureq on smol's blocking pool. The body and the reply parsing
//! are `krill_core::agent::openai`'s; this file adds the `Authorization:
//! Bearer $<apiKeyEnv>` header, the timeout (`timeoutMs`, whole request)
//! and turns transport errors and non-2xx statuses into [`AgentError`]s.
//! TLS is native-tls with the platform's root certificates.

use std::time::Duration;

use krill_core::agent::openai::{
    chat_completion_request, chat_completions_url, parse_chat_completion, with_image_parts,
    ImageInput,
};
use krill_core::agent::TurnRequest;
use krill_core::secret::Secret;
use ureq::tls::{RootCerts, TlsConfig, TlsProvider};

use super::backend::AgentError;

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
}

impl OpenAiCall<'_> {
    /// Asks the API for the reply to `request`.
    pub async fn answer(&self, request: &TurnRequest) -> Result<Option<String>, AgentError> {
        let api_key = match self.api_key_env {
            Some(var) => Some(Secret::new(
                std::env::var(var)
                    .ok()
                    .filter(|key| !key.trim().is_empty())
                    .ok_or_else(|| AgentError::MissingApiKey(var.to_owned()))?,
            )),
            None => None,
        };
        let body =
            chat_completion_request(self.model, self.system_prompt, self.max_tokens, request);
        let body = if self.vision {
            let images = read_images(request).await;
            let inputs: Vec<ImageInput<'_>> = images
                .iter()
                .map(|(content_type, data)| ImageInput { content_type, data })
                .collect();
            serde_json::to_vec(&with_image_parts(&body, &inputs))
        } else {
            serde_json::to_vec(&body)
        };
        let body = body.map_err(|e| AgentError::Io(e.into()))?;
        let url = chat_completions_url(self.base_url);
        let timeout_ms = self.timeout_ms;
        smol::unblock(move || post(&url, api_key.as_ref(), &body, timeout_ms)).await
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
) -> Result<Option<String>, AgentError> {
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
    Ok(parse_chat_completion(&text)?)
}
