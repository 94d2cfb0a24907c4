//! Feedback while the agent works: the ack reaction's scope
//! (`messages.ackReactionScope`; which accepted message gets it is decided
//! by `crate::access::ack_reaction`) and how often a typing indicator is
//! renewed.
//!
//! Driving contract (the gateway): add `messages.ackReaction` to a message
//! before submitting its turn when `access::ack_reaction` says so, and
//! remove it after the reply was sent when `removeAckAfterReply` is set.
//! Start the typing indicator when submitting, renew it every
//! [`TYPING_RENEW_INTERVAL`] until the turn's outcome arrives (best effort:
//! a failed typing call is only logged).

use std::time::Duration;

use serde::Deserialize;

/// Discord shows "typing…" for about 10 s after one `POST
/// /channels/{id}/typing`; renewing a little earlier keeps it steady.
pub const TYPING_RENEW_INTERVAL: Duration = Duration::from_secs(8);

/// `messages.ackReactionScope`: which accepted messages get the ack
/// reaction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum AckReactionScope {
    /// Channel messages that had to mention the bot, and did (the default).
    #[default]
    GroupMentions,
    /// Every accepted channel message.
    GroupAll,
    /// Every accepted DM.
    Direct,
    /// Every accepted message.
    All,
    /// Never.
    Off,
}
