//! Which inbound messages name their sender in the log at info, so an
//! operator can find the id to allow: the KOOK channel doc tells users to send the bot a
//! message and look for `authorId` in the gateway log.
//!
//! - KOOK with no `allowedUserId`: every message (anyone may talk, and the
//!   id is what locks the bot down), except the bot's own.
//! - A DM (Discord or KOOK) from a sender who is not allowed yet: dropped
//!   by the DM allowlist, or answered with a pairing challenge.
//! - Any other message dropped because its sender is not on a list
//!   ([`Dropped::unknown_sender`](super::Dropped)).

use super::{AccessPolicy, Decision, InboundMessage, PlatformPolicy};

/// Why a message's sender is logged at info.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum SenderNotice {
    /// KOOK without `allowedUserId`: anyone may talk; this is who did.
    AllowlistUnset,
    /// The sender is not allowed (yet): add the id to an allowlist or
    /// approve their pairing request.
    NotAllowedYet,
}

impl SenderNotice {
    /// The log message.
    pub fn describe(self) -> &'static str {
        match self {
            SenderNotice::AllowlistUnset => {
                "inbound message (channels.kook.allowedUserId is not set: put this authorId there to keep the bot to yourself)"
            }
            SenderNotice::NotAllowedYet => "message from a sender who is not allowed (yet)",
        }
    }
}

impl AccessPolicy {
    /// Whether (and why) to log `msg`'s sender at info, given the decision
    /// [`AccessPolicy::decide`] made for it.
    pub fn sender_notice(&self, msg: &InboundMessage, decision: &Decision) -> Option<SenderNotice> {
        let own = !msg.bot_user_id.is_empty() && msg.author.id == msg.bot_user_id;
        if own {
            return None;
        }
        if let PlatformPolicy::Kook(k) = &self.platform {
            if k.allowed.is_empty() {
                return Some(SenderNotice::AllowlistUnset);
            }
        }
        match decision {
            Decision::PairingChallenge(_) => Some(SenderNotice::NotAllowedYet),
            Decision::Drop(d) if d.unknown_sender => Some(SenderNotice::NotAllowedYet),
            Decision::Drop(_) | Decision::Allow(_) => None,
        }
    }
}
