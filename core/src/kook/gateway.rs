//! The `GET /gateway/index` contract: which path to request, how to read the
//! answer, and how a failure is classified ([`GatewayFetchError`]).
//!
//! KOOK `http/gateway.md`: `GET /api/v3/gateway/index?compress=0|1` with
//! `Authorization: Bot <token>` answers `{"code":0,"data":{"url":"wss://..."}}`.
//! Every response carries `code`; `code != 0` is an error even with HTTP
//! 200. The URL carries the token, so it is returned as a [`Secret`].

use serde_json::Value;

use super::lenient::{field, int, non_empty};
use crate::secret::Secret;

/// Why fetching the gateway URL failed, as the driver reports it to
/// `Session::handle_gateway_fetched`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum GatewayFetchError {
    /// The token was rejected (HTTP 401/403, or a KOOK `code` 401xx). Fatal:
    /// retrying cannot help until the token is fixed.
    #[error("KOOK rejected the bot token: {detail}")]
    Unauthorized {
        /// What KOOK said (never the token).
        detail: String,
    },
    /// Anything else (network, timeout, 5xx, 429, a bad body): retried with
    /// backoff forever.
    #[error("fetching the KOOK gateway failed: {detail}")]
    Transient {
        /// What went wrong.
        detail: String,
    },
}

/// The request path and query, relative to the API base
/// (`https://www.kookapp.cn/api/v3`).
pub fn gateway_index_path(compress: bool) -> &'static str {
    if compress {
        "/gateway/index?compress=1"
    } else {
        "/gateway/index?compress=0"
    }
}

/// Reads a `/gateway/index` response (HTTP status and body) into the
/// gateway URL, or a classified error.
pub fn parse_gateway_index(status: u16, body: &[u8]) -> Result<Secret, GatewayFetchError> {
    let json: Option<Value> = serde_json::from_slice(body).ok();
    let code = json.as_ref().and_then(|j| int(field(j, "code")));
    let message = json
        .as_ref()
        .and_then(|j| non_empty(field(j, "message")))
        .unwrap_or_default();
    let detail = |what: &str| {
        let mut detail = format!("HTTP {status}");
        if let Some(code) = code {
            detail.push_str(&format!(", code {code}"));
        }
        if !message.is_empty() {
            detail.push_str(&format!(", {message}"));
        }
        if !what.is_empty() {
            detail.push_str(&format!(" ({what})"));
        }
        detail
    };
    let token_rejected =
        matches!(status, 401 | 403) || code.is_some_and(|c| (40100..40200).contains(&c));
    if token_rejected {
        return Err(GatewayFetchError::Unauthorized {
            detail: detail("check channels.kook.token"),
        });
    }
    if !(200..300).contains(&status) {
        return Err(GatewayFetchError::Transient { detail: detail("") });
    }
    let Some(json) = json else {
        return Err(GatewayFetchError::Transient {
            detail: detail("the body is not JSON"),
        });
    };
    if code != Some(0) {
        return Err(GatewayFetchError::Transient { detail: detail("") });
    }
    match non_empty(field(field(&json, "data"), "url")) {
        Some(url) => Ok(Secret::new(url)),
        None => Err(GatewayFetchError::Transient {
            detail: detail("no data.url in the answer"),
        }),
    }
}
