//! Feedback while the agent works: whether an accepted message gets the ack
//! reaction (`messages.ackReaction`, `messages.ackReactionScope`,
//! `messages.removeAckAfterReply`) and how often a typing indicator is
//! renewed.
//!
//! Driving contract (the gateway): for each message that becomes a turn,
//! call [`ack_applies`]; when it is true, add `messages.ackReaction` to the
//! message before submitting the turn, and remove it after the reply was
//! sent when `removeAckAfterReply` is set. Start the typing indicator when
//! submitting, renew it every [`TYPING_RENEW_INTERVAL`] until the turn's
//! outcome arrives (best effort: a failed typing call is only logged).

use std::time::Duration;

use serde::Deserialize;

use super::turn::ChatType;

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

/// True when an accepted message (one that becomes a turn) gets the ack
/// reaction. `mention_required`: the channel's `requireMention`;
/// `mentioned`: the message mentioned the bot (or matched a mention
/// pattern).
pub fn ack_applies(
    scope: AckReactionScope,
    chat_type: ChatType,
    mention_required: bool,
    mentioned: bool,
) -> bool {
    let channel = chat_type == ChatType::Channel;
    match scope {
        AckReactionScope::All => true,
        AckReactionScope::Off => false,
        AckReactionScope::Direct => !channel,
        AckReactionScope::GroupAll => channel,
        AckReactionScope::GroupMentions => channel && mention_required && mentioned,
    }
}
