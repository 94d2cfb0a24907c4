//! [`ReorderBuffer`]: in-order delivery of KOOK events by `sn`, with
//! duplicate drop and a memory bound.
//!
//! KOOK `websocket.md` § 信令\[0\] EVENT: process events in `sn` order; hold
//! out-of-order events in a buffer until the gap fills; drop an event whose
//! `sn` was already processed. `sn` starts at 1 per session.
//!
//! Rules (each is a test in `core/tests/kook_reorder.rs`):
//! - `sn <= last delivered`, or an `sn` already held: a duplicate, dropped.
//! - `sn == last delivered + 1`: released, then every held event that now
//!   follows in order.
//! - a later `sn`: held, while the buffer stays within its [`ReorderLimits`]
//!   (event count and summed frame bytes).
//! - a later `sn` that does not fit: the buffer *skips ahead* to it. Every
//!   held event below it is released in order, each missing range is
//!   reported as a [`Release::Gap`], then the new event is released. No event
//!   the buffer received is lost to the bound, and memory never exceeds it.
//! - [`ReorderBuffer::release_all`] (the session calls it when a gap has not
//!   filled for 6 s) releases everything held the same way.
//!
//! The buffer knows nothing of time; the session owns the gap timer.

use std::collections::{BTreeMap, VecDeque};

/// The buffer's memory bound.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReorderLimits {
    /// At most this many events held.
    pub max_events: usize,
    /// At most this many frame bytes held (summed frame text lengths).
    pub max_bytes: usize,
}

impl Default for ReorderLimits {
    /// 1024 events, 4 MiB.
    fn default() -> Self {
        Self {
            max_events: 1024,
            max_bytes: 4 * 1024 * 1024,
        }
    }
}

/// What the buffer hands out, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Release<T> {
    /// The next event in order.
    Deliver {
        /// Its sequence number.
        sn: u64,
        /// The event.
        item: T,
    },
    /// Sequence numbers `from..=to` never arrived and were skipped.
    Gap {
        /// The first missing `sn`.
        from: u64,
        /// The last missing `sn`.
        to: u64,
    },
}

/// What [`ReorderBuffer::offer`] did with an event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Offer {
    /// Released in order (with any held events that follow it).
    InOrder,
    /// Held until the gap before it fills.
    Held,
    /// Already delivered or already held: dropped.
    Duplicate,
    /// Did not fit the bound: the buffer skipped ahead to it.
    SkippedAhead,
}

/// In-order release of events by sequence number, bounded in memory.
#[derive(Debug, Clone)]
pub struct ReorderBuffer<T> {
    limits: ReorderLimits,
    last_delivered: u64,
    held: BTreeMap<u64, (usize, T)>,
    held_bytes: usize,
    released: VecDeque<Release<T>>,
}

impl<T> ReorderBuffer<T> {
    /// An empty buffer expecting `sn` 1.
    pub fn new(limits: ReorderLimits) -> Self {
        Self {
            limits,
            last_delivered: 0,
            held: BTreeMap::new(),
            held_bytes: 0,
            released: VecDeque::new(),
        }
    }

    /// True when `sn` would be dropped as a duplicate.
    pub fn is_duplicate(&self, sn: u64) -> bool {
        sn <= self.last_delivered || self.held.contains_key(&sn)
    }

    /// Offers event `sn` whose frame was `size` bytes. Drain what it
    /// releases with [`ReorderBuffer::pop`].
    pub fn offer(&mut self, sn: u64, size: usize, item: T) -> Offer {
        if self.is_duplicate(sn) {
            return Offer::Duplicate;
        }
        if sn == self.last_delivered.saturating_add(1) {
            self.deliver(sn, item);
            self.deliver_consecutive();
            return Offer::InOrder;
        }
        let fits = self.held.len() < self.limits.max_events
            && self.held_bytes.saturating_add(size) <= self.limits.max_bytes;
        if fits {
            self.held.insert(sn, (size, item));
            self.held_bytes += size;
            return Offer::Held;
        }
        self.release_below(sn);
        self.report_gap_before(sn);
        self.deliver(sn, item);
        self.deliver_consecutive();
        Offer::SkippedAhead
    }

    /// Releases everything held, in order, reporting each missing range.
    pub fn release_all(&mut self) {
        self.release_below(u64::MAX);
        if let Some((size, item)) = self.held.remove(&u64::MAX) {
            self.held_bytes -= size;
            self.report_gap_before(u64::MAX);
            self.deliver(u64::MAX, item);
        }
    }

    /// The next released event or gap report.
    pub fn pop(&mut self) -> Option<Release<T>> {
        self.released.pop_front()
    }

    /// The last `sn` delivered in order (0 before the first event).
    pub fn last_delivered(&self) -> u64 {
        self.last_delivered
    }

    /// How many events are held.
    pub fn held_events(&self) -> usize {
        self.held.len()
    }

    /// How many frame bytes are held.
    pub fn held_bytes(&self) -> usize {
        self.held_bytes
    }

    /// True when something waits for a gap to fill.
    pub fn is_holding(&self) -> bool {
        !self.held.is_empty()
    }

    /// The bound.
    pub fn limits(&self) -> ReorderLimits {
        self.limits
    }

    /// Forgets everything (a new session): expects `sn` 1 again, drops what
    /// is held and what was released but not popped.
    /// Forgets everything and continues after `sn` (a restored session).
    pub fn continue_after(&mut self, sn: u64) {
        self.reset();
        self.last_delivered = sn;
    }

    pub fn reset(&mut self) {
        self.last_delivered = 0;
        self.held.clear();
        self.held_bytes = 0;
        self.released.clear();
    }

    fn deliver(&mut self, sn: u64, item: T) {
        self.last_delivered = sn;
        self.released.push_back(Release::Deliver { sn, item });
    }

    fn deliver_consecutive(&mut self) {
        while let Some(entry) = self.held.first_entry() {
            if *entry.key() != self.last_delivered.saturating_add(1) {
                break;
            }
            let (sn, (size, item)) = entry.remove_entry();
            self.held_bytes -= size;
            self.deliver(sn, item);
        }
    }

    /// Releases every held event with `sn < bound`, reporting gaps.
    fn release_below(&mut self, bound: u64) {
        while let Some(entry) = self.held.first_entry() {
            if *entry.key() >= bound {
                break;
            }
            let (sn, (size, item)) = entry.remove_entry();
            self.held_bytes -= size;
            self.report_gap_before(sn);
            self.deliver(sn, item);
        }
    }

    fn report_gap_before(&mut self, sn: u64) {
        let from = self.last_delivered.saturating_add(1);
        if sn > from {
            self.released.push_back(Release::Gap { from, to: sn - 1 });
        }
    }
}
