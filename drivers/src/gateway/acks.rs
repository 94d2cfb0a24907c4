//! [`AckTracker`]: when an ack reaction may be removed. With
//! `messages.removeAckAfterReply`, the reaction goes once the reply's last
//! message went out *and* the reaction itself was added: the add may be
//! slow or retried (429), and a removal sent before it would leave the
//! reaction on the message for good.

use std::collections::HashMap;

use krill_core::config::Platform;
use krill_core::rest::discord::Request as DiscordRequest;
use krill_core::rest::kook::Request as KookRequest;
use krill_core::rest::{Request, RequestId};

use super::TurnCtx;

/// An ack reaction on one inbound message.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct AckTarget {
    /// The chat: Discord channel id; KOOK channel or user id.
    pub(crate) chat_id: String,
    /// A DM (KOOK: reactions go through `/direct-message/`; Discord: the
    /// same routes either way).
    pub(crate) direct: bool,
    /// The reacted-to message.
    pub(crate) message_id: String,
    /// The emoji.
    pub(crate) emoji: String,
}

impl AckTarget {
    /// The request that removes the reaction on `platform`.
    pub(crate) fn removal(self, platform: Platform) -> Request {
        match platform {
            Platform::Discord => DiscordRequest::DeleteOwnReaction {
                channel_id: self.chat_id,
                message_id: self.message_id,
                emoji: self.emoji,
            }
            .into(),
            _ => KookRequest::DeleteReaction {
                direct: self.direct,
                msg_id: self.message_id,
                emoji: self.emoji,
                user_id: None,
            }
            .into(),
        }
    }
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
    /// Removals due once an outbox reply (by reply id) is delivered.
    replies: HashMap<i64, AckTarget>,
}

impl AckTracker {
    /// The reaction's add request went out as `add`.
    pub(crate) fn adding(&mut self, add: RequestId, target: AckTarget) {
        self.add_of.insert(target.clone(), add);
        self.adding.insert(add, target);
    }

    /// The turn's reply went into the outbox as `reply` (`None`: nothing to
    /// send). Returns the target to remove now: none while the reply is
    /// undelivered or the add still in flight.
    fn after_reply(&mut self, reply: Option<i64>, target: AckTarget) -> Option<AckTarget> {
        match reply {
            Some(reply) => {
                self.replies.insert(reply, target);
                None
            }
            None => self.remove_once_added(target),
        }
    }

    /// `ctx`'s turn ended with its reply in the outbox as `reply` (`None`:
    /// nothing to send). With `messages.removeAckAfterReply`
    /// (`remove_after_reply`) and an ack on the turn's message, returns
    /// the target to remove now, as [`after_reply`](Self::after_reply).
    pub(crate) fn after_turn(
        &mut self,
        remove_after_reply: bool,
        ctx: TurnCtx,
        reply: Option<i64>,
    ) -> Option<AckTarget> {
        let emoji = ctx.ack.filter(|_| remove_after_reply)?;
        let target = AckTarget {
            chat_id: ctx.reply_to.chat_id,
            direct: ctx.reply_to.direct,
            message_id: ctx.message_id,
            emoji,
        };
        self.after_reply(reply, target)
    }

    /// Outbox reply `reply` is delivered. Returns the target whose removal
    /// is due now.
    pub(crate) fn reply_delivered(&mut self, reply: i64) -> Option<AckTarget> {
        let target = self.replies.remove(&reply)?;
        self.remove_once_added(target)
    }

    /// Request `id` finished (either way). Returns the target whose removal
    /// is due now.
    pub(crate) fn finished(&mut self, id: RequestId) -> Option<AckTarget> {
        if let Some(target) = self.adding.remove(&id) {
            self.add_of.remove(&target);
        }
        let target = self.remove_after.remove(&id)?;
        self.remove_once_added(target)
    }

    /// `target` now, or nothing while its add is in flight (the removal
    /// then waits for the add).
    fn remove_once_added(&mut self, target: AckTarget) -> Option<AckTarget> {
        match self.add_of.get(&target) {
            Some(add) => {
                self.remove_after.insert(*add, target);
                None
            }
            None => Some(target),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use krill_core::config::Platform;
    use krill_core::rest::discord::Request as DiscordRequest;
    use krill_core::rest::{Api, Planner, RetryPolicy};
    use krill_core::secret::Secret;
    use std::time::Instant;

    /// `n` distinct request ids, as a planner hands them out.
    fn request_ids(n: usize) -> Vec<RequestId> {
        let api = Api::with_default_base(Platform::Discord, Secret::new("t"));
        let mut planner = Planner::new(api, RetryPolicy::default(), 1);
        let now = Instant::now();
        (0..n)
            .map(|i| {
                let request = DiscordRequest::TriggerTyping {
                    channel_id: i.to_string(),
                };
                planner.submit(now, request).expect("queued")
            })
            .collect()
    }

    fn target(message_id: &str) -> AckTarget {
        AckTarget {
            chat_id: "c".to_owned(),
            direct: false,
            message_id: message_id.to_owned(),
            emoji: "👀".to_owned(),
        }
    }

    fn turn(ack: Option<&str>) -> TurnCtx {
        TurnCtx {
            channel: 0,
            reply_to: krill_core::routing::ReplyTarget {
                platform: Platform::Kook,
                account_id: "a".to_owned(),
                chat_id: "c".to_owned(),
                direct: true,
            },
            message_id: "m".to_owned(),
            ack: ack.map(str::to_owned),
            journal: None,
            participants: Vec::new(),
            interaction: None,
        }
    }

    #[test]
    fn a_turn_removes_its_ack_only_when_configured_and_added() {
        let mut acks = AckTracker::default();
        assert_eq!(acks.after_turn(false, turn(Some("👀")), None), None);
        assert_eq!(acks.after_turn(true, turn(None), None), None);
        let dm = AckTarget {
            direct: true,
            ..target("m")
        };
        assert_eq!(
            acks.after_turn(true, turn(Some("👀")), None),
            Some(dm.clone())
        );
        assert_eq!(acks.after_turn(true, turn(Some("👀")), Some(3)), None);
        assert_eq!(acks.reply_delivered(3), Some(dm));
    }

    #[test]
    fn nothing_to_send_and_add_done_removes_at_once() {
        let mut acks = AckTracker::default();
        assert_eq!(acks.after_reply(None, target("m")), Some(target("m")));
    }

    #[test]
    fn removal_waits_for_the_reply_to_be_delivered() {
        let mut acks = AckTracker::default();
        assert_eq!(acks.after_reply(Some(7), target("m")), None);
        assert_eq!(acks.reply_delivered(8), None, "another reply");
        assert_eq!(acks.reply_delivered(7), Some(target("m")));
        assert_eq!(acks.reply_delivered(7), None, "removed once");
    }

    #[test]
    fn removal_waits_for_an_add_still_in_flight() {
        let ids = request_ids(2);
        let mut acks = AckTracker::default();
        acks.adding(ids[0], target("m"));
        assert_eq!(acks.after_reply(Some(1), target("m")), None);
        assert_eq!(acks.reply_delivered(1), None, "the add is still in flight");
        assert_eq!(acks.finished(ids[1]), None, "another request");
        assert_eq!(acks.finished(ids[0]), Some(target("m")));
        assert_eq!(acks.finished(ids[0]), None, "removed once");
    }

    #[test]
    fn an_add_that_finished_first_does_not_hold_the_removal() {
        let ids = request_ids(1);
        let mut acks = AckTracker::default();
        acks.adding(ids[0], target("m"));
        assert_eq!(acks.finished(ids[0]), None, "no removal asked yet");
        assert_eq!(acks.after_reply(None, target("m")), Some(target("m")));
    }
}
