//! Outgoing pacing: [`SendLimiter`] (gateway events per connection) and
//! [`IdentifyLimiter`] (identifies per `max_concurrency` bucket).
//!
//! Discord allows 120 gateway events per 60 s per connection
//! (`developers/events/gateway.mdx` § Rate Limiting). [`SendLimiter`] keeps a
//! sliding log of send instants, so *no* 60 s window ever holds more than 120
//! sends; application commands leave [`heartbeat_reserve`] slots free so that
//! heartbeats are never starved (twilight reserves `ceil(60 / interval) + 1`).
//!
//! Identifies are limited to `max_concurrency` per 5 s, bucketed by
//! `shard_id % max_concurrency`. [`IdentifyLimiter`] is a pure value a driver
//! running several shards shares between them: before a shard that will
//! identify connects, ask [`next_allowed`](IdentifyLimiter::next_allowed),
//! [`record`](IdentifyLimiter::record) that instant, and pass it to
//! [`Shard::hold_identify_until`](super::Shard::hold_identify_until).

use std::collections::{BTreeMap, VecDeque};
use std::time::{Duration, Instant};

/// Gateway events allowed per window per connection.
pub const SEND_LIMIT: usize = 120;
/// The rate-limit window.
pub const SEND_WINDOW: Duration = Duration::from_secs(60);
/// One identify per bucket per this long.
pub const IDENTIFY_INTERVAL: Duration = Duration::from_secs(5);

/// Slots kept free for heartbeats: `ceil(60 s / interval) + 1`, at most
/// [`SEND_LIMIT`].
pub fn heartbeat_reserve(interval: Duration) -> usize {
    let interval_ms = interval.as_millis().max(1);
    let window_ms = SEND_WINDOW.as_millis();
    let beats = window_ms.div_ceil(interval_ms);
    usize::try_from(beats)
        .unwrap_or(SEND_LIMIT)
        .saturating_add(1)
        .min(SEND_LIMIT)
}

/// A sliding-window log of one connection's sends.
#[derive(Debug, Clone, Default)]
pub struct SendLimiter {
    sent: VecDeque<Instant>,
}

impl SendLimiter {
    /// An empty log (a new connection).
    pub fn new() -> Self {
        Self::default()
    }

    /// Sends within the window ending at `now`.
    pub fn used(&mut self, now: Instant) -> usize {
        while let Some(&first) = self.sent.front() {
            match first.checked_add(SEND_WINDOW) {
                Some(expiry) if expiry <= now => {
                    self.sent.pop_front();
                }
                _ => break,
            }
        }
        self.sent.len()
    }

    /// True when one more send at `now` keeps `reserve` slots free.
    pub fn allows(&mut self, now: Instant, reserve: usize) -> bool {
        self.used(now) < SEND_LIMIT.saturating_sub(reserve)
    }

    /// Records a send at `now`.
    pub fn record(&mut self, now: Instant) {
        self.sent.push_back(now);
    }

    /// The earliest instant at which [`allows`](Self::allows) holds with
    /// `reserve`, if `reserve` leaves any room at all.
    pub fn next_free(&mut self, now: Instant, reserve: usize) -> Option<Instant> {
        let budget = SEND_LIMIT.saturating_sub(reserve);
        if budget == 0 {
            return None;
        }
        let used = self.used(now);
        if used < budget {
            return Some(now);
        }
        // `used - budget + 1` oldest sends must leave the window; they leave in order.
        self.sent
            .get(used - budget)
            .and_then(|at| at.checked_add(SEND_WINDOW))
    }
}

/// Identify pacing for shards sharing one bot token (pure; the driver holds it).
#[derive(Debug, Clone)]
pub struct IdentifyLimiter {
    max_concurrency: u32,
    last: BTreeMap<u32, Instant>,
}

impl IdentifyLimiter {
    /// A limiter for `max_concurrency` (from `session_start_limit`; 0 reads as 1).
    pub fn new(max_concurrency: u32) -> Self {
        Self {
            max_concurrency: max_concurrency.max(1),
            last: BTreeMap::new(),
        }
    }

    /// The `max_concurrency` the limiter paces for.
    pub fn max_concurrency(&self) -> u32 {
        self.max_concurrency
    }

    /// The identify bucket of `shard_id`: `shard_id % max_concurrency`.
    pub fn bucket(&self, shard_id: u32) -> u32 {
        shard_id % self.max_concurrency
    }

    /// The earliest instant `shard_id` may identify (never before `now`).
    pub fn next_allowed(&self, shard_id: u32, now: Instant) -> Instant {
        self.last
            .get(&self.bucket(shard_id))
            .and_then(|at| at.checked_add(IDENTIFY_INTERVAL))
            .map_or(now, |at| at.max(now))
    }

    /// Records that `shard_id` identifies (or is scheduled to) at `at`.
    pub fn record(&mut self, shard_id: u32, at: Instant) {
        let bucket = self.bucket(shard_id);
        let slot = self.last.entry(bucket).or_insert(at);
        *slot = (*slot).max(at);
    }
}
