//! [`Outbox`]: the order and persistence rules of reply delivery, sans-IO.
//!
//! Every reply message (chunk or upload) is recorded by the driver before it
//! is sent and pushed here with its row id. Per chat, messages go out one at
//! a time in row order, so the chunks of one reply arrive in order and are
//! never interleaved with another reply to the same chat. When a message
//! fails after the REST planner's own retries:
//! - a transient failure (5xx, network, rate limit) holds it and everything
//!   after it in that chat; it is tried again after 2 s, 4 s, 8 s … 30 s,
//!   until the chat's first failure is [`DELIVERY_GIVE_UP`] old;
//! - a permanent failure (403, another 4xx), or the give-up time passing,
//!   drops the rest of that reply (the driver marks those rows abandoned)
//!   and asks for [`CUT_REPLY_NOTE`] in the chat, so a reply is never shown
//!   with a silent hole. A reply refused outright (its first message gets a
//!   permanent failure) is only dropped and logged: nothing of it shows, and
//!   a refused request is not a passing outage.
//!
//! A message recovered after a restart on a platform that does not
//! deduplicate by nonce (KOOK) is first *verified* ([`SendKind::Verify`]):
//! the driver checks the chat's recent messages and reports whether it is
//! already there.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::time::{Duration, Instant};

use crate::rest::RestError;

/// How long a chat's messages may fail before the rest of the reply is
/// dropped (counted from the first failure; reset by any delivery).
pub const DELIVERY_GIVE_UP: Duration = Duration::from_secs(10 * 60);
/// What the user reads when the rest of a reply could not be sent.
pub const CUT_REPLY_NOTE: &str =
    "⚠️ This reply could not be sent in full (the chat service kept failing).";
/// The first wait before trying a failed message again; doubles per try.
const RETRY_FIRST: Duration = Duration::from_secs(2);
/// The longest wait between tries.
const RETRY_CAP: Duration = Duration::from_secs(30);

/// One recorded message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxItem<T> {
    /// The store's row id (the sending order).
    pub id: i64,
    /// The chat it goes to (the ordering key).
    pub chat: String,
    /// Which reply it belongs to (messages of one reply share it).
    pub reply: i64,
    /// Check whether it was already posted before sending it.
    pub verify: bool,
    /// A cut-reply note (never followed by another note).
    pub note: bool,
    /// What the driver sends.
    pub payload: T,
}

/// What to do with the message [`Outbox::poll_send`] hands out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SendKind {
    /// Send it (with its recorded nonce).
    Send,
    /// Look for it in the chat first, then report with
    /// [`Outbox::handle_verified`].
    Verify,
}

/// How a send failed, after the planner's retries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failure {
    /// The service is failing (5xx, network, rate limited): try again later.
    Transient,
    /// The request is refused (permissions, a 4xx): trying again is useless.
    Permanent,
}

impl Failure {
    /// Classifies the planner's final error.
    pub fn of(error: &RestError) -> Self {
        match error {
            RestError::Server { .. }
            | RestError::Transport { .. }
            | RestError::RateLimited { .. } => Failure::Transient,
            _ => Failure::Permanent,
        }
    }
}

/// What the driver records as the outbox advances.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OutboxEffect {
    /// Row `id` was delivered (or found already posted).
    Delivered {
        /// The row.
        id: i64,
    },
    /// These rows are given up.
    Abandoned {
        /// The rows, in order.
        ids: Vec<i64>,
    },
    /// Every message of reply `reply` is delivered or given up.
    ReplyDone {
        /// The reply.
        reply: i64,
    },
    /// Record and push a [`CUT_REPLY_NOTE`] for `chat` (with `note: true`).
    Note {
        /// The chat.
        chat: String,
        /// The reply that was cut.
        reply: i64,
    },
}

#[derive(Debug)]
struct ChatQueue<T> {
    items: VecDeque<OutboxItem<T>>,
    in_flight: bool,
    retry_at: Option<Instant>,
    failing_since: Option<Instant>,
    tries: u32,
    /// The reply whose first messages were delivered (a cut would show).
    started: Option<i64>,
}

impl<T> ChatQueue<T> {
    fn new() -> Self {
        Self {
            items: VecDeque::new(),
            in_flight: false,
            retry_at: None,
            failing_since: None,
            tries: 0,
            started: None,
        }
    }
}

/// The reply delivery machine (see the module docs).
#[derive(Debug)]
pub struct Outbox<T> {
    chats: BTreeMap<String, ChatQueue<T>>,
    in_flight: HashMap<i64, String>,
    effects: VecDeque<OutboxEffect>,
}

impl<T> Default for Outbox<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T> Outbox<T> {
    /// An empty outbox.
    pub fn new() -> Self {
        Self {
            chats: BTreeMap::new(),
            in_flight: HashMap::new(),
            effects: VecDeque::new(),
        }
    }

    /// Queues a recorded message behind the chat's earlier ones (a note goes
    /// first: it ends the reply that was cut).
    pub fn push(&mut self, item: OutboxItem<T>) {
        let queue = self
            .chats
            .entry(item.chat.clone())
            .or_insert_with(ChatQueue::new);
        if item.note {
            let at = usize::from(queue.in_flight);
            queue.items.insert(at.min(queue.items.len()), item);
        } else {
            queue.items.push_back(item);
        }
    }

    /// The next message to send or verify now, if any (marked in flight
    /// until its result is reported).
    pub fn poll_send(&mut self, now: Instant) -> Option<(SendKind, &OutboxItem<T>)> {
        let chat = self.chats.iter().find_map(|(chat, q)| {
            (!q.in_flight && !q.items.is_empty() && q.retry_at.is_none_or(|at| at <= now))
                .then(|| chat.clone())
        })?;
        let queue = self.chats.get_mut(&chat)?;
        queue.in_flight = true;
        queue.retry_at = None;
        let head = queue.items.front()?;
        self.in_flight.insert(head.id, chat);
        let kind = if head.verify {
            SendKind::Verify
        } else {
            SendKind::Send
        };
        Some((kind, head))
    }

    /// Message `id` was accepted by the platform.
    pub fn handle_delivered(&mut self, id: i64) {
        let Some(queue) = self.take_in_flight(id) else {
            return;
        };
        let reply = queue.items.pop_front().map(|item| item.reply);
        queue.failing_since = None;
        queue.tries = 0;
        queue.started = reply;
        let done = reply.filter(|r| queue.items.iter().all(|item| item.reply != *r));
        self.effects.push_back(OutboxEffect::Delivered { id });
        if let Some(reply) = done {
            self.effects.push_back(OutboxEffect::ReplyDone { reply });
        }
        self.forget_idle();
    }

    /// The result of a [`SendKind::Verify`]: already posted, or not (then it
    /// is sent).
    pub fn handle_verified(&mut self, id: i64, posted: bool) {
        if posted {
            self.handle_delivered(id);
            return;
        }
        if let Some(queue) = self.take_in_flight(id) {
            if let Some(head) = queue.items.front_mut() {
                head.verify = false;
            }
        }
    }

    /// Message `id` failed after the planner's retries.
    pub fn handle_failed(&mut self, now: Instant, id: i64, failure: Failure) {
        let Some(chat) = self.in_flight.get(&id).cloned() else {
            return;
        };
        let Some(queue) = self.take_in_flight(id) else {
            return;
        };
        let Some(head) = queue.items.front() else {
            return;
        };
        let (reply, note) = (head.reply, head.note);
        let since = *queue.failing_since.get_or_insert(now);
        let timed_out = now.saturating_duration_since(since) >= DELIVERY_GIVE_UP;
        let give_up = note || failure == Failure::Permanent || timed_out;
        if !give_up {
            let wait = RETRY_FIRST
                .saturating_mul(1u32 << queue.tries.min(8))
                .min(RETRY_CAP);
            queue.tries = queue.tries.saturating_add(1);
            queue.retry_at = Some(now + wait);
            return;
        }
        let mut ids = Vec::new();
        while queue.items.front().is_some_and(|i| i.reply == reply) {
            if let Some(item) = queue.items.pop_front() {
                ids.push(item.id);
            }
        }
        queue.tries = 0;
        let shown = queue.started == Some(reply);
        self.effects.push_back(OutboxEffect::Abandoned { ids });
        self.effects.push_back(OutboxEffect::ReplyDone { reply });
        if !note && (shown || timed_out) {
            self.effects.push_back(OutboxEffect::Note { chat, reply });
        }
        self.forget_idle();
    }

    /// The next thing to record.
    pub fn poll_effect(&mut self) -> Option<OutboxEffect> {
        self.effects.pop_front()
    }

    /// When a held message may be tried again.
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.chats
            .values()
            .filter(|q| !q.in_flight && !q.items.is_empty())
            .filter_map(|q| q.retry_at)
            .min()
    }

    /// Messages not delivered yet (in flight included).
    pub fn pending(&self) -> usize {
        self.chats.values().map(|q| q.items.len()).sum()
    }

    fn take_in_flight(&mut self, id: i64) -> Option<&mut ChatQueue<T>> {
        let chat = self.in_flight.remove(&id)?;
        let queue = self.chats.get_mut(&chat)?;
        if queue.items.front().map(|i| i.id) != Some(id) {
            return None;
        }
        queue.in_flight = false;
        Some(queue)
    }

    fn forget_idle(&mut self) {
        self.chats
            .retain(|_, q| !q.items.is_empty() || q.in_flight || q.failing_since.is_some());
    }
}
