//! [`AckTracker`]: when an ack reaction may be removed. With
//! `messages.removeAckAfterReply`, the reaction goes once the reply's last
//! message went out *and* the reaction itself was added: the add may be
//! slow or retried (429), and a removal sent before it would leave the
//! reaction on the message for good.

use std::collections::HashMap;

use krill_core::rest::RequestId;

/// An ack reaction on one inbound message.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct AckTarget {
    /// The chat: Discord channel id; KOOK channel or user id.
    pub(crate) chat_id: String,
    /// KOOK: a DM (reactions go through `/direct-message/`).
    pub(crate) direct: bool,
    /// The reacted-to message.
    pub(crate) message_id: String,
    /// The emoji.
    pub(crate) emoji: String,
}

/// Which removals wait for which requests.
#[derive(Debug, Default)]
pub(crate) struct AckTracker {
    /// Adds in flight.
    adding: HashMap<RequestId, AckTarget>,
    /// The add in flight for a target.
    add_of: HashMap<AckTarget, RequestId>,
    /// Removals due once a request finishes.
    remove_after: HashMap<RequestId, AckTarget>,
}

impl AckTracker {
    /// The reaction's add request went out as `add`.
    pub(crate) fn adding(&mut self, add: RequestId, target: AckTarget) {
        self.add_of.insert(target.clone(), add);
        self.adding.insert(add, target);
    }

    /// The reply is planned; its last message is `last` (`None`: nothing
    /// was sent). Returns the target to remove now, if nothing is pending.
    pub(crate) fn remove_after_reply(
        &mut self,
        last: Option<RequestId>,
        target: AckTarget,
    ) -> Option<AckTarget> {
        match last.or_else(|| self.add_of.get(&target).copied()) {
            Some(wait_for) => {
                self.remove_after.insert(wait_for, target);
                None
            }
            None => Some(target),
        }
    }

    /// Request `id` finished (either way). Returns the target whose removal
    /// is due now.
    pub(crate) fn finished(&mut self, id: RequestId) -> Option<AckTarget> {
        if let Some(target) = self.adding.remove(&id) {
            self.add_of.remove(&target);
        }
        let target = self.remove_after.remove(&id)?;
        match self.add_of.get(&target) {
            Some(add) => {
                self.remove_after.insert(*add, target);
                None
            }
            None => Some(target),
        }
    }
}
