//! [`Heartbeater`]: one connection's heartbeat and ACK bookkeeping.
//!
//! Discord (`developers/events/gateway.mdx` § Sending Heartbeats): the first
//! heartbeat goes `interval * jitter` after Hello (jitter uniform in [0, 1)),
//! then one every `interval`. If no ACK (op 11) arrived between two heartbeat
//! sends, the connection is a zombie: drop it (non-1000 close) and resume.
//! A `Heartbeater` is made per connection, so no "heartbeat sent" flag can
//! leak from an old socket into a new one (twilight PR #1964). The shard owns
//! the timer; this type only answers "send or zombie?".

use std::time::{Duration, Instant};

/// What to do when the heartbeat timer fires.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Beat {
    /// Send a heartbeat now.
    Send,
    /// The previous heartbeat was never acknowledged: the connection is dead.
    Zombie,
}

/// Heartbeat state of one connection.
#[derive(Debug, Clone)]
pub struct Heartbeater {
    interval: Duration,
    awaiting_ack: bool,
    last_sent: Option<Instant>,
    latency: Option<Duration>,
}

impl Heartbeater {
    /// Bounds applied to Hello's interval (a 0 ms interval would be a busy
    /// loop, an enormous one an overflowing deadline).
    pub const MIN_INTERVAL: Duration = Duration::from_secs(1);
    /// See [`MIN_INTERVAL`](Self::MIN_INTERVAL).
    pub const MAX_INTERVAL: Duration = Duration::from_secs(3600);

    /// State for a connection whose Hello said `interval` (clamped).
    pub fn new(interval: Duration) -> Self {
        Self {
            interval: interval.clamp(Self::MIN_INTERVAL, Self::MAX_INTERVAL),
            awaiting_ack: false,
            last_sent: None,
            latency: None,
        }
    }

    /// The (clamped) interval.
    pub fn interval(&self) -> Duration {
        self.interval
    }

    /// The timer fired: send, or declare a zombie.
    pub fn on_timer(&self) -> Beat {
        if self.awaiting_ack {
            Beat::Zombie
        } else {
            Beat::Send
        }
    }

    /// A heartbeat was sent at `now`.
    pub fn sent(&mut self, now: Instant) {
        self.awaiting_ack = true;
        self.last_sent = Some(now);
    }

    /// An ACK arrived at `now`.
    pub fn acked(&mut self, now: Instant) {
        if self.awaiting_ack {
            self.latency = self
                .last_sent
                .map(|sent| now.saturating_duration_since(sent));
        }
        self.awaiting_ack = false;
    }

    /// True between a send and its ACK.
    pub fn awaiting_ack(&self) -> bool {
        self.awaiting_ack
    }

    /// Round trip of the last acknowledged heartbeat.
    pub fn latency(&self) -> Option<Duration> {
        self.latency
    }
}
