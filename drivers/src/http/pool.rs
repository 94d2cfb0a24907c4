//! [`Pool`]: kept-alive connections waiting for their next request, per
//! [`Origin`].
//!
//! - at most [`MAX_IDLE_PER_ORIGIN`] wait per origin (a burst may open more;
//!   the extra ones are closed when they come back);
//! - one idle longer than [`IDLE_TIMEOUT`], or one the peer has closed
//!   ([`Connection::looks_open`]), is closed instead of reused;
//! - the most recently returned connection is reused first (the one least
//!   likely to have been closed by the server meanwhile).

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use super::connection::{Connection, Origin};

/// Idle connections kept per origin.
pub(super) const MAX_IDLE_PER_ORIGIN: usize = 16;

/// How long an idle connection is kept.
pub(super) const IDLE_TIMEOUT: Duration = Duration::from_secs(50);

/// The idle connections of one client.
#[derive(Debug, Default)]
pub(super) struct Pool {
    idle: Mutex<HashMap<Origin, Vec<(Instant, Connection)>>>,
}

impl Pool {
    /// An idle connection to `origin` that still looks open, if any.
    pub fn take(&self, origin: &Origin, now: Instant) -> Option<Connection> {
        let mut idle = self.idle.lock().unwrap_or_else(PoisonError::into_inner);
        let waiting = idle.get_mut(origin)?;
        while let Some((since, conn)) = waiting.pop() {
            if now.saturating_duration_since(since) < IDLE_TIMEOUT && conn.looks_open() {
                return Some(conn);
            }
        }
        None
    }

    /// Keeps `conn` for the next request to `origin`.
    pub fn put(&self, origin: &Origin, conn: Connection, now: Instant) {
        let mut idle = self.idle.lock().unwrap_or_else(PoisonError::into_inner);
        for waiting in idle.values_mut() {
            waiting.retain(|(since, _)| now.saturating_duration_since(*since) < IDLE_TIMEOUT);
        }
        idle.retain(|_, waiting| !waiting.is_empty());
        let waiting = idle.entry(origin.clone()).or_default();
        if waiting.len() >= MAX_IDLE_PER_ORIGIN {
            waiting.remove(0);
        }
        waiting.push((now, conn));
    }

    /// Idle connections kept for `origin`.
    #[cfg(test)]
    pub fn idle_count(&self, origin: &Origin) -> usize {
        let idle = self.idle.lock().unwrap_or_else(PoisonError::into_inner);
        idle.get(origin).map_or(0, Vec::len)
    }
}
