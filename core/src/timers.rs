//! [`TimerTable`]: one table of named deadlines per machine.
//!
//! Every deadline a machine keeps is a variant of its own timer enum `T`;
//! the table holds at most one deadline per variant, `earliest()` is what a
//! machine's `poll_timeout()` returns, and `expired(now)` tells which timers a
//! `handle_timeout(now)` must act on. A spurious `handle_timeout` finds nothing
//! expired and does nothing.

use std::time::Instant;

/// At most one deadline per timer kind `T`.
#[derive(Debug, Clone)]
pub struct TimerTable<T> {
    entries: Vec<(T, Instant)>,
}

impl<T> Default for TimerTable<T> {
    fn default() -> Self {
        Self {
            entries: Vec::new(),
        }
    }
}

impl<T: Copy + Eq> TimerTable<T> {
    /// An empty table.
    pub fn new() -> Self {
        Self::default()
    }

    /// Arms (or re-arms) `timer` for `at`.
    pub fn set(&mut self, timer: T, at: Instant) {
        match self.entries.iter_mut().find(|(t, _)| *t == timer) {
            Some(entry) => entry.1 = at,
            None => self.entries.push((timer, at)),
        }
    }

    /// Disarms `timer` (no-op when it is not armed).
    pub fn clear(&mut self, timer: T) {
        self.entries.retain(|(t, _)| *t != timer);
    }

    /// Disarms every timer.
    pub fn clear_all(&mut self) {
        self.entries.clear();
    }

    /// When `timer` fires, if armed.
    pub fn deadline(&self, timer: T) -> Option<Instant> {
        self.entries
            .iter()
            .find(|(t, _)| *t == timer)
            .map(|(_, at)| *at)
    }

    /// True when `timer` is armed.
    pub fn is_set(&self, timer: T) -> bool {
        self.deadline(timer).is_some()
    }

    /// The earliest armed deadline.
    pub fn earliest(&self) -> Option<Instant> {
        self.entries.iter().map(|(_, at)| *at).min()
    }

    /// True when nothing is armed.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Removes and returns the earliest timer due at or before `now`.
    /// Call in a loop until `None` to handle every expired timer in order.
    pub fn pop_expired(&mut self, now: Instant) -> Option<T> {
        let (index, _) = self
            .entries
            .iter()
            .enumerate()
            .filter(|(_, (_, at))| *at <= now)
            .min_by_key(|(_, (_, at))| *at)?;
        Some(self.entries.swap_remove(index).0)
    }
}
