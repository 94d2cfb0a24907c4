//! What a Discord answer says about rate limits and errors: the
//! `X-RateLimit-*` headers, the 429 body (`retry_after`, `global`), and the
//! JSON error body (`{message, code}`). See `docs/protocol-discord.md`
//! § REST rate limits.

use std::time::Duration;

use super::super::HttpResponse;

/// `X-RateLimit-Scope`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Scope {
    /// Per bot.
    User,
    /// Per bot, across every route.
    Global,
    /// Per resource, shared by every bot: does not count against the bot's
    /// invalid-request limit.
    Shared,
}

/// The rate-limit headers of one response. Every field is optional: a global
/// 429 has none of the bucket headers (fixtures pitfall 5), and values that
/// do not parse (negative, not a number) read as absent.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct RateLimitHeaders {
    /// `X-RateLimit-Limit`.
    pub limit: Option<u32>,
    /// `X-RateLimit-Remaining`.
    pub remaining: Option<u32>,
    /// `X-RateLimit-Reset`: epoch seconds, fractional (pitfall 4). Recorded,
    /// not used (the core has no wall clock).
    pub reset: Option<f64>,
    /// `X-RateLimit-Reset-After`: seconds until the bucket resets.
    pub reset_after: Option<Duration>,
    /// `X-RateLimit-Bucket`: the bucket hash shared by routes.
    pub bucket: Option<String>,
    /// `X-RateLimit-Global` present (and not `false`).
    pub global: bool,
    /// `X-RateLimit-Scope`.
    pub scope: Option<Scope>,
    /// `Retry-After` (whole seconds; fractional accepted).
    pub retry_after: Option<Duration>,
}

/// The body of a 429: `{message, retry_after (float seconds), global}`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct RateLimitBody {
    /// `message`.
    pub message: Option<String>,
    /// `retry_after`.
    pub retry_after: Option<Duration>,
    /// `global`.
    pub global: bool,
}

/// A Discord JSON error body: `{message, code}`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ErrorBody {
    /// `message`, else a short excerpt of the body.
    pub message: String,
    /// `code` (e.g. 50013 Missing Permissions).
    pub code: Option<i64>,
}

impl RateLimitHeaders {
    /// Reads the rate-limit headers of `response`.
    pub fn parse(response: &HttpResponse) -> Self {
        let global = response
            .header("X-RateLimit-Global")
            .is_some_and(|v| !v.trim().eq_ignore_ascii_case("false"));
        let scope = response.header("X-RateLimit-Scope").and_then(|v| {
            match v.trim().to_ascii_lowercase().as_str() {
                "user" => Some(Scope::User),
                "global" => Some(Scope::Global),
                "shared" => Some(Scope::Shared),
                _ => None,
            }
        });
        Self {
            limit: response.header("X-RateLimit-Limit").and_then(parse_count),
            remaining: response
                .header("X-RateLimit-Remaining")
                .and_then(parse_count),
            reset: response
                .header("X-RateLimit-Reset")
                .and_then(|v| v.trim().parse::<f64>().ok())
                .filter(|v| v.is_finite() && *v >= 0.0),
            reset_after: response
                .header("X-RateLimit-Reset-After")
                .and_then(parse_seconds),
            bucket: response
                .header("X-RateLimit-Bucket")
                .map(str::trim)
                .filter(|v| !v.is_empty() && v.len() <= 128)
                .map(str::to_owned),
            global,
            scope,
            retry_after: response.header("Retry-After").and_then(parse_seconds),
        }
    }
}

impl RateLimitBody {
    /// Reads a 429 body; anything unreadable reads as empty.
    pub fn parse(body: &[u8]) -> Self {
        let Ok(value) = serde_json::from_slice::<serde_json::Value>(body) else {
            return Self::default();
        };
        Self {
            message: value
                .get("message")
                .and_then(|m| m.as_str())
                .map(str::to_owned),
            retry_after: value
                .get("retry_after")
                .and_then(|v| v.as_f64())
                .and_then(seconds),
            global: value
                .get("global")
                .and_then(|v| v.as_bool())
                .unwrap_or(false),
        }
    }
}

impl ErrorBody {
    /// Reads a JSON error body `{message, code}`; a body that is not one
    /// gives its first 200 characters as the message.
    pub fn parse(body: &[u8]) -> Self {
        if let Ok(value) = serde_json::from_slice::<serde_json::Value>(body) {
            if let Some(message) = value.get("message").and_then(|m| m.as_str()) {
                return Self {
                    message: message.to_owned(),
                    code: value.get("code").and_then(|c| c.as_i64()),
                };
            }
        }
        Self {
            message: excerpt(body),
            code: None,
        }
    }
}

/// A non-negative integer header value (`"5"`, `" 5 "`).
pub(crate) fn parse_count(v: &str) -> Option<u32> {
    v.trim().parse::<u32>().ok()
}

/// Seconds as a header value (`"65"`, `"64.57"`); negative, non-finite or
/// absurd (more than a day) values read as absent.
pub(crate) fn parse_seconds(v: &str) -> Option<Duration> {
    v.trim().parse::<f64>().ok().and_then(seconds)
}

/// Seconds as a float, if sane: finite, non-negative, at most a day.
pub(crate) fn seconds(v: f64) -> Option<Duration> {
    if v.is_finite() && (0.0..=86_400.0).contains(&v) {
        Some(Duration::from_secs_f64(v))
    } else {
        None
    }
}

/// The first 200 characters of a body, lossily decoded.
pub(crate) fn excerpt(body: &[u8]) -> String {
    String::from_utf8_lossy(body).chars().take(200).collect()
}
