//! System events: short lines about things that happened in a session
//! between turns (reaction notifications, [`crate::access::reactions`]),
//! queued per session and shown to the agent at the start of the session's
//! next turn, then forgotten.
//!
//! Driving: `push(session_key, line)` when something happens; when a turn of
//! `session_key` is built, `take(session_key)` and
//! [`prepend_system_events`] to its prompt. Bounded twice: at most
//! `per_session` lines per session (the oldest dropped first) and at most
//! `max_sessions` sessions with pending lines (the session that was pushed
//! to least recently dropped first). A line already pending in the session
//! is not queued again (the same reaction added, removed and added back).
//!
//! The prompt with events (the events are separated from the message by a
//! blank line; the prompt itself is [`crate::agent::render_prompt`]'s):
//!
//! ```text
//! [system] alice (111) reacted 👍 to your message 9001
//! [system] bob (222) reacted 🔥 to your message 9001
//!
//! [from: alice (111)] what now?
//! [message_id: 9002]
//! ```

use std::collections::{HashMap, VecDeque};

/// Lines kept per session by default.
pub const SYSTEM_EVENTS_PER_SESSION: usize = 20;
/// Sessions with pending lines kept by default.
pub const SYSTEM_EVENT_SESSIONS: usize = 256;

/// Pending system events, per session.
#[derive(Debug, Clone)]
pub struct SystemEvents {
    per_session: usize,
    max_sessions: usize,
    queues: HashMap<String, VecDeque<String>>,
    /// Sessions with pending lines, least recently pushed first.
    order: VecDeque<String>,
}

impl Default for SystemEvents {
    fn default() -> Self {
        Self::new(SYSTEM_EVENTS_PER_SESSION, SYSTEM_EVENT_SESSIONS)
    }
}

impl SystemEvents {
    /// A queue keeping `per_session` lines for `max_sessions` sessions (each
    /// at least one).
    pub fn new(per_session: usize, max_sessions: usize) -> Self {
        Self {
            per_session: per_session.max(1),
            max_sessions: max_sessions.max(1),
            queues: HashMap::new(),
            order: VecDeque::new(),
        }
    }

    /// Queues `line` (made one line) for `session_key`'s next turn; false
    /// when the same line was already pending.
    pub fn push(&mut self, session_key: &str, line: &str) -> bool {
        let line = line.replace(['\r', '\n'], " ");
        if let Some(queue) = self.queues.get(session_key) {
            if queue.contains(&line) {
                return false;
            }
        } else {
            while self.queues.len() >= self.max_sessions {
                let Some(oldest) = self.order.pop_front() else {
                    break;
                };
                self.queues.remove(&oldest);
            }
        }
        self.order.retain(|s| s != session_key);
        self.order.push_back(session_key.to_owned());
        let queue = self.queues.entry(session_key.to_owned()).or_default();
        if queue.len() >= self.per_session {
            queue.pop_front();
        }
        queue.push_back(line);
        true
    }

    /// The lines pending for `session_key`, oldest first; the session has
    /// none afterwards.
    pub fn take(&mut self, session_key: &str) -> Vec<String> {
        match self.queues.remove(session_key) {
            Some(queue) => {
                self.order.retain(|s| s != session_key);
                queue.into()
            }
            None => Vec::new(),
        }
    }

    /// How many lines are pending for `session_key`.
    pub fn pending(&self, session_key: &str) -> usize {
        self.queues.get(session_key).map_or(0, VecDeque::len)
    }

    /// How many sessions have pending lines.
    pub fn sessions(&self) -> usize {
        self.queues.len()
    }
}

/// `prompt` with `events` before it (format in the module docs); `prompt`
/// unchanged when there are none.
pub fn prepend_system_events(events: &[String], prompt: &str) -> String {
    if events.is_empty() {
        return prompt.to_owned();
    }
    let mut out = events.join("\n");
    if !prompt.is_empty() {
        out.push_str("\n\n");
        out.push_str(prompt);
    }
    out
}
