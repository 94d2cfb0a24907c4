//! Errors of the REST layer: [`RestError`] (why a request finally failed, from
//! the platform or the network), [`SubmitError`] (the caller handed the
//! planner something it cannot take) and [`NotInFlight`] (the caller reported
//! a response for a request that is not out).

use super::planner::RequestId;
use super::Platform;

/// Why a request finally failed. Each request ends with at most one of these
/// (in [`super::RestEvent::Failed`]).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RestError {
    /// HTTP 401 (or KOOK `code 401xx`): the token was rejected. The planner
    /// stops sending for this account.
    #[error("token rejected ({}): check {hint}", status_text(*status, *code))]
    Unauthorized {
        /// HTTP status (401; 200 when KOOK put the error in the body).
        status: u16,
        /// KOOK's envelope code, when the error came in the body.
        code: Option<i64>,
        /// Where the token is configured, e.g.
        /// `DISCORD_BOT_TOKEN / channels.discord.token`.
        hint: &'static str,
    },
    /// HTTP 403 (or KOOK `code 403xx`): the bot lacks a permission there.
    #[error("missing permission ({}) for {target}: {message}", status_text(*status, *code))]
    Forbidden {
        /// HTTP status (403; 200 when KOOK put the error in the body).
        status: u16,
        /// Discord's JSON error code or KOOK's envelope code, if any.
        code: Option<i64>,
        /// What the request was about, e.g. `channel 849255967228035073`.
        target: String,
        /// The platform's message, if any.
        message: String,
    },
    /// Another 4xx (or an unexpected status): the request itself is wrong.
    #[error("request rejected (HTTP {status}): {message}")]
    Rejected {
        /// HTTP status.
        status: u16,
        /// Discord's JSON error `code` or KOOK's envelope `code`, if any.
        code: Option<i64>,
        /// The platform's message, or a short excerpt of the body.
        message: String,
    },
    /// KOOK answered `code != 0` (also with HTTP 200).
    #[error("KOOK error {code}: {message}")]
    Kook {
        /// KOOK's error code.
        code: i64,
        /// KOOK's message.
        message: String,
    },
    /// 5xx on every attempt.
    #[error("server error (HTTP {status}) after {attempts} attempt(s)")]
    Server {
        /// The last status.
        status: u16,
        /// How many times the request was sent.
        attempts: u32,
    },
    /// The request never got a response, on every attempt.
    #[error("transport error after {attempts} attempt(s): {error}")]
    Transport {
        /// The driver's last error text.
        error: String,
        /// How many times the request was sent.
        attempts: u32,
    },
    /// Answered 429 more than [`super::MAX_RATE_LIMITED_RETRIES`] times.
    #[error("still rate limited after {retries} retries")]
    RateLimited {
        /// How many 429s were honoured before giving up.
        retries: u32,
    },
    /// A success status with a body krill cannot read.
    #[error("unexpected response body (HTTP {status}): {detail}")]
    Decode {
        /// HTTP status.
        status: u16,
        /// What was wrong.
        detail: String,
    },
    /// Not sent: an earlier request of this account got a 401, so the
    /// planner stopped.
    #[error("not sent: this account stopped after its token was rejected")]
    Halted,
}

/// The planner cannot take a request.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SubmitError {
    /// A request for the other platform.
    #[error("a {request:?} request was submitted to the {planner:?} planner")]
    WrongPlatform {
        /// The planner's platform.
        planner: Platform,
        /// The request's platform.
        request: Platform,
    },
    /// The queue holds [`super::Planner::queue_capacity`] requests already.
    #[error("the REST queue is full ({capacity} requests)")]
    QueueFull {
        /// The capacity.
        capacity: usize,
    },
    /// The request cannot be encoded (empty id or emoji, nonce too long...).
    #[error("invalid request: {0}")]
    Invalid(String),
}

/// [`super::Planner::handle_response`] or
/// [`super::Planner::handle_transport_error`] for a request that is not in
/// flight (never handed out, or already answered).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("request {0:?} is not in flight")]
pub struct NotInFlight(pub RequestId);

/// `HTTP 401` or `HTTP 200, code 40101`.
fn status_text(status: u16, code: Option<i64>) -> String {
    match code {
        Some(code) => format!("HTTP {status}, code {code}"),
        None => format!("HTTP {status}"),
    }
}
