//! Who owns the bot (may change its config with `/config set|unset`), and
//! the session a command acts on.
//!
//! Owners (issue "Config writes"): on Discord, a sender named by an explicit
//! `dm.allowFrom` entry (an id, or a name resolved to or matching them;
//! `"*"` never counts) or approved through pairing; on KOOK, a sender listed
//! in `allowedUserId`. With no such list nobody is an owner.

use super::{AccessPolicy, Author, ChatKind, InboundMessage, PlatformPolicy, UserEntry};
use crate::routing::{session_key, Conversation, SessionKey};

impl AccessPolicy {
    /// True when `author` is an owner (see the module docs); `paired` holds
    /// the ids approved through pairing.
    pub fn is_owner(&self, author: &Author, paired: &[String]) -> bool {
        match &self.platform {
            PlatformPolicy::Discord(d) => {
                let explicit: Vec<UserEntry> = d
                    .allow_from
                    .iter()
                    .filter(|e| **e != UserEntry::Any)
                    .cloned()
                    .collect();
                self.user_allowed(&explicit, author) || paired.contains(&author.id)
            }
            PlatformPolicy::Kook(k) => k.allowed.iter().any(|id| id != "*" && *id == author.id),
        }
    }

    /// The session of the chat `msg` was sent in (a DM's session, or the
    /// channel's), as if it were a message: what `/new`, `/stop` and
    /// `/status` act on, for slash and text commands alike.
    pub fn chat_session(&self, msg: &InboundMessage) -> SessionKey {
        let conversation = match msg.chat {
            ChatKind::Direct => Conversation::Direct {
                user_id: msg.author.id.clone(),
            },
            _ => Conversation::Channel {
                channel_id: msg.channel.id.clone(),
            },
        };
        session_key(
            &self.agent_id,
            self.dm_scope,
            msg.platform,
            &self.account_id,
            &conversation,
        )
    }
}
