//! REST planning: which HTTP request to send for each typed request, and what
//! a response means (success, rate-limit bucket state, 429 `retry_after`, 5xx
//! backoff, fatal 401/403, KOOK `code != 0`). No I/O: the driver executes the
//! [`HttpRequest`]s the [`Planner`] hands out and reports each response back.
//!
//! | item | owns |
//! |---|---|
//! | [`Api`] | base URL (`apiBaseUrl`), token, `User-Agent` of one account |
//! | [`discord`] | Discord requests, their encoding and routes, allowed mentions, emoji, typed responses, rate-limit headers |
//! | [`kook`] | KOOK requests, their encoding, the `{code, message, data}` envelope, typed responses, rate-limit headers |
//! | [`Planner`] | per-account queues, rate-limit buckets, the global limit, retries; the sans-IO machine the HTTP driver drives |
//! | [`RestError`] | why a request finally failed |
//! | [`http`] | the plain request/response values exchanged with the driver |
//!
//! [`RetryPolicy`] is shared with [`crate::config`] (`channels.<ch>.retry`).
//!
//! # Retry rules (both platforms)
//! - 2xx (and KOOK `code == 0`): [`RestEvent::Completed`] with a typed
//!   [`Response`].
//! - 429: wait the server's `retry_after` (Discord body, float seconds), else
//!   `Retry-After` (whole seconds), else KOOK `X-Rate-Limit-Reset`; never the
//!   Discord bucket headers (fixtures README, pitfall 3). The wait is clamped
//!   to `maxDelayMs`. A 429 does **not** use up one of `attempts` (the request
//!   was not processed), but a request answered 429 more than
//!   [`MAX_RATE_LIMITED_RETRIES`] times fails with [`RestError::RateLimited`].
//! - 5xx, transport errors and transient KOOK codes (`50000..=59999`):
//!   exponential backoff with jitter, `minDelayMs * 2^n` within
//!   `[minDelayMs, maxDelayMs]`, at most `attempts` sends in total. A
//!   `Retry-After` header on a 5xx wins over the computed delay (clamped).
//! - 401 (or KOOK `code 401xx`): [`RestError::Unauthorized`], not retried, and
//!   the planner **halts**: queued and later requests fail fast with
//!   [`RestError::Halted`] and nothing more is sent (Discord bans an IP after
//!   10,000 invalid requests in 10 minutes).
//! - 403 (or KOOK `code 403xx`): [`RestError::Forbidden`] naming the channel.
//! - other 4xx / KOOK codes: [`RestError::Rejected`] / [`RestError::Kook`],
//!   not retried. A 2xx whose body cannot be read: [`RestError::Decode`], not
//!   retried (the request was processed).
//!
//! # Idempotency
//! Every retry resends the exact bytes of the first attempt. A Discord
//! message carries a `nonce` (generated at submission unless given) with
//! `enforce_nonce: true`, so a retry after a lost response cannot post twice.
//! KOOK has no such key: a message retried after a transport error that in
//! fact reached KOOK can appear twice (krill prefers that to losing it).

pub mod discord;
mod error;
pub mod http;
pub mod kook;
mod multipart;
mod planner;

use serde::Deserialize;

use crate::secret::Secret;

pub use error::{NotInFlight, RestError, SubmitError};
pub use http::{HttpRequest, HttpResponse, Method};
pub use planner::{
    Planner, RequestId, RestEvent, RetryReason, DEFAULT_QUEUE_CAPACITY, DISCORD_GLOBAL_PER_SECOND,
    MAX_BUCKET_HOLD, MAX_RATE_LIMITED_RETRIES,
};

/// `channels.<channel>.retry`: how outbound API calls are retried.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase", default, deny_unknown_fields)]
pub struct RetryPolicy {
    /// Total attempts including the first (default 3).
    pub attempts: u32,
    /// First retry delay in milliseconds (default 500).
    pub min_delay_ms: u64,
    /// Longest delay in milliseconds, also the clamp for `retry_after`
    /// (default 30000).
    pub max_delay_ms: u64,
    /// Jitter fraction in `[0, 1]` (default 0.1).
    pub jitter: f64,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            attempts: 3,
            min_delay_ms: 500,
            max_delay_ms: 30_000,
            jitter: 0.1,
        }
    }
}

pub use crate::platform::Platform;

/// One account's REST endpoint: platform, base URL and bot token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Api {
    platform: Platform,
    base_url: String,
    token: Secret,
}

impl Api {
    /// An endpoint at `base_url` (config `apiBaseUrl`; a trailing `/` is
    /// dropped, paths are appended as they are).
    pub fn new(platform: Platform, base_url: impl Into<String>, token: Secret) -> Self {
        let mut base_url = base_url.into();
        while base_url.ends_with('/') {
            base_url.pop();
        }
        Self {
            platform,
            base_url,
            token,
        }
    }

    /// An endpoint at the platform's default base URL.
    pub fn with_default_base(platform: Platform, token: Secret) -> Self {
        Self::new(platform, platform.default_api_base_url(), token)
    }

    /// The platform.
    pub fn platform(&self) -> Platform {
        self.platform
    }

    /// The base URL, without a trailing slash.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// The request for `path_and_query` (starting with `/`) with krill's
    /// headers: `Authorization: Bot <token>`, `User-Agent`, and
    /// `Content-Type: application/json` when there is a body.
    pub(crate) fn request(
        &self,
        method: Method,
        path_and_query: &str,
        body: Option<Vec<u8>>,
    ) -> HttpRequest {
        match body {
            Some(body) => self.request_with_type(method, path_and_query, body, "application/json"),
            None => self.request_headers(method, path_and_query, None, None),
        }
    }

    /// The request for `path_and_query` with a body of `content_type`
    /// (multipart uploads).
    pub(crate) fn request_with_type(
        &self,
        method: Method,
        path_and_query: &str,
        body: Vec<u8>,
        content_type: &str,
    ) -> HttpRequest {
        self.request_headers(method, path_and_query, Some(body), Some(content_type))
    }

    fn request_headers(
        &self,
        method: Method,
        path_and_query: &str,
        body: Option<Vec<u8>>,
        content_type: Option<&str>,
    ) -> HttpRequest {
        let mut headers = vec![("User-Agent".to_owned(), self.platform.user_agent())];
        if let Some(content_type) = content_type {
            headers.push(("Content-Type".to_owned(), content_type.to_owned()));
        }
        HttpRequest {
            method,
            url: format!("{}{}", self.base_url, path_and_query),
            authorization: Some(Secret::new(format!("Bot {}", self.token.expose()))),
            headers,
            body,
        }
    }
}

/// A typed request for either platform.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Request {
    /// A Discord request.
    Discord(discord::Request),
    /// A KOOK request.
    Kook(kook::Request),
}

impl Request {
    /// The platform this request is for.
    pub fn platform(&self) -> Platform {
        match self {
            Request::Discord(_) => Platform::Discord,
            Request::Kook(_) => Platform::Kook,
        }
    }
}

impl From<discord::Request> for Request {
    fn from(r: discord::Request) -> Self {
        Request::Discord(r)
    }
}

impl From<kook::Request> for Request {
    fn from(r: kook::Request) -> Self {
        Request::Kook(r)
    }
}

/// The typed result of a completed request.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Response {
    /// Discord `GET /gateway/bot`.
    DiscordGatewayBot(discord::GatewayBot),
    /// Discord `GET /users/@me`.
    DiscordUser(discord::User),
    /// Discord `POST /channels/{id}/messages`.
    DiscordMessage(discord::Message),
    /// Discord `POST /users/@me/channels`.
    DiscordDmChannel(discord::DmChannel),
    /// A Discord [`discord::Request::Api`] call: the JSON body (`null` for
    /// an empty 204).
    DiscordJson(serde_json::Value),
    /// Discord `GET /applications/{id}/commands` (the list as sent).
    DiscordCommands(serde_json::Value),
    /// Discord `GET /guilds/{id}/members/search`: guild members.
    DiscordMembers(Vec<crate::discord::Member>),
    /// KOOK `GET /gateway/index`.
    KookGateway(kook::Gateway),
    /// KOOK `GET /user/me`.
    KookUser(kook::User),
    /// KOOK `POST /message/create` and `/direct-message/create`.
    KookMessage(kook::MessageCreated),
    /// KOOK `GET /message/list` and `/direct-message/list`.
    KookMessageList(kook::MessageList),
    /// KOOK `POST /asset/create`: where the uploaded file lives.
    KookAsset(kook::Asset),
    /// A request whose success carries nothing krill needs (typing,
    /// reactions).
    Empty,
}

/// Percent-encodes one URL path segment (everything but `A-Z a-z 0-9 - . _ ~`).
pub(crate) fn path_segment(s: &str) -> String {
    const SEGMENT: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
        .remove(b'-')
        .remove(b'.')
        .remove(b'_')
        .remove(b'~');
    percent_encoding::utf8_percent_encode(s, SEGMENT).to_string()
}
