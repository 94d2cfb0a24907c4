//! Guild context history: the recent messages of a channel that did not
//! trigger the bot, shown to the agent when it is next triggered there
//! (`channels.discord.historyLimit`, default 20, `0` disables).
//!
//! Driving contract: the gateway calls [`ChannelHistories::record`] for
//! every allowed guild message that does *not* trigger a turn (no mention
//! where one is required), and [`ChannelHistories::take_context`] when a
//! message does trigger one; `take_context` empties the channel's buffer,
//! so each message is shown once ("since your last reply") and lives on in
//! the transcript as part of that turn's prompt.

use std::collections::{HashMap, VecDeque};

use super::prompt::ContextMessage;

/// The default `historyLimit`.
pub const DEFAULT_HISTORY_LIMIT: usize = 20;

/// One channel's ring buffer of untriggered messages, oldest first, at most
/// `capacity` long (the oldest falls out).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChannelHistory {
    capacity: usize,
    messages: VecDeque<ContextMessage>,
}

impl ChannelHistory {
    /// An empty buffer keeping at most `capacity` messages (`0`: keeps
    /// nothing).
    pub fn new(capacity: usize) -> Self {
        Self {
            capacity,
            messages: VecDeque::with_capacity(capacity.min(64)),
        }
    }

    /// Adds a message; drops the oldest when full.
    pub fn record(&mut self, message: ContextMessage) {
        if self.capacity == 0 {
            return;
        }
        while self.messages.len() >= self.capacity {
            self.messages.pop_front();
        }
        self.messages.push_back(message);
    }

    /// The last `limit` messages, oldest first; empties the buffer.
    pub fn take_context(&mut self, limit: usize) -> Vec<ContextMessage> {
        let skip = self.messages.len().saturating_sub(limit);
        self.messages.drain(..).skip(skip).collect()
    }

    /// Messages held.
    pub fn len(&self) -> usize {
        self.messages.len()
    }

    /// True when no message is held.
    pub fn is_empty(&self) -> bool {
        self.messages.is_empty()
    }

    /// The most messages held.
    pub fn capacity(&self) -> usize {
        self.capacity
    }
}

/// A [`ChannelHistory`] per chat id, for at most `max_channels` channels:
/// a new channel beyond that evicts the one written to least recently.
#[derive(Debug, Clone)]
pub struct ChannelHistories {
    capacity: usize,
    max_channels: usize,
    /// Chat id → (write stamp, buffer).
    channels: HashMap<String, (u64, ChannelHistory)>,
    stamp: u64,
}

impl ChannelHistories {
    /// Buffers of `capacity` messages each, for up to `max_channels`
    /// channels (at least one).
    pub fn new(capacity: usize, max_channels: usize) -> Self {
        Self {
            capacity,
            max_channels: max_channels.max(1),
            channels: HashMap::new(),
            stamp: 0,
        }
    }

    /// Records an untriggered message of `chat_id`.
    pub fn record(&mut self, chat_id: &str, message: ContextMessage) {
        if self.capacity == 0 {
            return;
        }
        self.stamp += 1;
        let stamp = self.stamp;
        if let Some((last, history)) = self.channels.get_mut(chat_id) {
            *last = stamp;
            history.record(message);
            return;
        }
        if self.channels.len() >= self.max_channels {
            let oldest = self
                .channels
                .iter()
                .min_by_key(|(_, (last, _))| *last)
                .map(|(id, _)| id.clone());
            if let Some(oldest) = oldest {
                self.channels.remove(&oldest);
            }
        }
        let mut history = ChannelHistory::new(self.capacity);
        history.record(message);
        self.channels.insert(chat_id.to_owned(), (stamp, history));
    }

    /// The last `limit` untriggered messages of `chat_id`, oldest first;
    /// forgets the channel's buffer.
    pub fn take_context(&mut self, chat_id: &str, limit: usize) -> Vec<ContextMessage> {
        self.channels
            .remove(chat_id)
            .map(|(_, mut history)| history.take_context(limit))
            .unwrap_or_default()
    }

    /// Channels with a buffer.
    pub fn channel_count(&self) -> usize {
        self.channels.len()
    }
}
