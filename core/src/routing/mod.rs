//! Routing: which agent and which session an accepted message belongs to,
//! and where the reply goes. Pure functions of the config.
//!
//! Session keys (seed docs, "Goals" and "Message routing"):
//!
//! | conversation | session key |
//! |---|---|
//! | DM, `session.dmScope: "main"` (default) | `agent:<agentId>:main` |
//! | DM, `"per-peer"` | `agent:<agentId>:dm:<userId>` |
//! | DM, `"per-channel-peer"` | `agent:<agentId>:<platform>:dm:<userId>` |
//! | DM, `"per-account-channel-peer"` | `agent:<agentId>:<platform>:<accountId>:dm:<userId>` |
//! | Discord guild channel, thread or group DM | `agent:<agentId>:discord:channel:<channelId>` |
//! | KOOK channel | `agent:<agentId>:kook:channel:<channelId>` |
//! | Discord native (slash) command | `agent:<agentId>:discord:slash:<userId>` |
//!
//! The agent is the config's default agent (`agents.list[]` entry with
//! `default: true`, else the first, else `main`). Replies always go back to
//! the chat the message came from: the [`Route`] carries that chat as its
//! [`ReplyTarget`]; the agent never picks a channel.
//!
//! Chats are named in logs and status by [`chat_label`]
//! (`discord:<guildSlug>#<channelSlug>`, see [`label`]).

mod label;

use std::fmt;

pub use label::{channel_slug, chat_label, guild_slug};

use crate::config::{Config, DmScope, Platform};

/// A session key such as `agent:main:main`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SessionKey(pub String);

impl SessionKey {
    /// The key as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for SessionKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// What kind of conversation a message is part of, for its session key.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Conversation {
    /// A one-to-one DM with `user_id`.
    Direct {
        /// The other person.
        user_id: String,
    },
    /// A guild channel, thread, group DM (Discord) or server channel (KOOK).
    Channel {
        /// The channel (the thread's own id for threads).
        channel_id: String,
    },
    /// A Discord native (slash) command by `user_id`.
    Slash {
        /// Who ran the command.
        user_id: String,
    },
}

/// Where a reply goes: the chat the message came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReplyTarget {
    /// Which platform.
    pub platform: Platform,
    /// Which bot account answers.
    pub account_id: String,
    /// The chat id: Discord channel id (the DM channel's id for DMs); KOOK
    /// channel id, or for KOOK DMs the sender's user id.
    pub chat_id: String,
    /// True for one-to-one DMs (KOOK sends those through the direct-message
    /// API).
    pub direct: bool,
}

/// Where an accepted message goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route {
    /// The agent that answers.
    pub agent_id: String,
    /// The agent session the turn belongs to.
    pub session_key: SessionKey,
    /// Where the reply goes.
    pub reply_to: ReplyTarget,
}

/// The session key for a conversation (see the module table).
pub fn session_key(
    agent_id: &str,
    dm_scope: DmScope,
    platform: Platform,
    account_id: &str,
    conversation: &Conversation,
) -> SessionKey {
    let p = platform.as_str();
    SessionKey(match conversation {
        Conversation::Direct { user_id } => match dm_scope {
            DmScope::Main => format!("agent:{agent_id}:main"),
            DmScope::PerPeer => format!("agent:{agent_id}:dm:{user_id}"),
            DmScope::PerChannelPeer => format!("agent:{agent_id}:{p}:dm:{user_id}"),
            DmScope::PerAccountChannelPeer => {
                format!("agent:{agent_id}:{p}:{account_id}:dm:{user_id}")
            }
        },
        Conversation::Channel { channel_id } => {
            format!("agent:{agent_id}:{p}:channel:{channel_id}")
        }
        Conversation::Slash { user_id } => format!("agent:{agent_id}:{p}:slash:{user_id}"),
    })
}

/// Routes a message: the default agent, the session key for `conversation`
/// under `session.dmScope`, and a reply to `reply_to`.
pub fn route(config: &Config, conversation: &Conversation, reply_to: ReplyTarget) -> Route {
    let agent_id = config.default_agent_id().to_owned();
    let session_key = session_key(
        &agent_id,
        config.session.dm_scope,
        reply_to.platform,
        &reply_to.account_id,
        conversation,
    );
    Route {
        agent_id,
        session_key,
        reply_to,
    }
}

/// A display name for a chat: `discord:<guildSlug>#<channelSlug>` for guild
/// channels, `discord:@<username>` for DMs, `kook:#<channel>` for KOOK
/// channels.
pub fn display_name(
    platform: Platform,
    guild_slug: Option<&str>,
    channel_slug: Option<&str>,
    dm_user: Option<&str>,
) -> String {
    let p = platform.as_str();
    match (guild_slug, channel_slug, dm_user) {
        (_, _, Some(user)) => format!("{p}:@{user}"),
        (Some(g), Some(c), None) => format!("{p}:{g}#{c}"),
        (None, Some(c), None) => format!("{p}:#{c}"),
        (Some(g), None, None) => format!("{p}:{g}"),
        (None, None, None) => p.to_owned(),
    }
}
