//! REST planning: what request to send, and what a response means (rate-limit
//! buckets, 429 `retry_after`, 5xx backoff, fatal 401/403). The driver executes
//! the request and reports the response back. (To be built: issue 5.)
//!
//! [`RetryPolicy`] is shared with [`crate::config`]
//! (`channels.<ch>.retry`).

pub mod http;

use serde::Deserialize;

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
