//! What access control decides for one message: a [`Decision`] to allow it
//! (with the route and session it takes), drop it (and why, in words an
//! operator can act on), or answer a stranger with a pairing [`Challenge`].

use super::*;

/// The outcome for one message.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum Decision {
    /// Hand the message to the agent.
    Allow(Box<Allowed>),
    /// Ignore it (log the reason at debug; unknown senders at info).
    Drop(Dropped),
    /// A DM from an unknown sender under `dm.policy: "pairing"`: issue or
    /// repeat a pairing code ([`crate::pairing`]).
    PairingChallenge(Challenge),
}

impl Decision {
    /// The sender to log at info with their id, when the message was dropped
    /// because the sender is not on an allowlist (or needs pairing).
    pub fn unknown_sender(&self) -> Option<&Sender> {
        match self {
            Decision::Drop(d) if d.unknown_sender => Some(&d.sender),
            Decision::PairingChallenge(c) => Some(&c.sender),
            _ => None,
        }
    }
}

/// An accepted message.
#[derive(Debug, Clone)]
pub struct Allowed {
    /// Agent, session and reply target.
    pub route: Route,
    /// The text the agent sees (see the module docs).
    pub text: String,
    /// The message mentioned the bot (by any rule).
    pub mentioned: bool,
    /// Who sent it.
    pub sender: Sender,
    /// The Discord channel rule that applied (skills, systemPrompt, tools).
    pub channel_rule: Option<ChannelRule>,
    /// The guild's and the channel's `tools` / `toolsBySender` (empty in
    /// DMs and on KOOK): which `discord` tool actions the turn is offered.
    pub tool_rules: ToolRules,
}

/// A dropped message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dropped {
    /// Why.
    pub reason: DropReason,
    /// Who sent it.
    pub sender: Sender,
    /// True when the sender is not allowed to talk to the bot (log at info
    /// with the id, so the operator can add them).
    pub unknown_sender: bool,
}

/// A pairing challenge to answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Challenge {
    /// Who asked.
    pub sender: Sender,
    /// Where to send the code.
    pub reply_to: ReplyTarget,
}

impl Challenge {
    /// The pairing request to file for this challenge
    /// ([`crate::pairing::PairingBook::challenge`]).
    pub fn requester(&self) -> crate::pairing::Requester {
        crate::pairing::Requester {
            id: self.sender.id.clone(),
            name: Some(self.sender.name.clone()),
            account_id: self.reply_to.account_id.clone(),
            chat_id: Some(self.reply_to.chat_id.clone()),
        }
    }
}

/// Why a message was dropped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum DropReason {
    /// The bot's own message.
    OwnMessage,
    /// A bot or webhook, and `allowBots` is off.
    BotAuthor,
    /// `dm.enabled: false`.
    DmDisabled,
    /// `dm.policy: "disabled"`.
    DmPolicyDisabled,
    /// Not in `dm.allowFrom` (policy `allowlist`).
    DmSenderNotAllowed,
    /// Group DMs are off (`dm.groupEnabled`).
    GroupDmDisabled,
    /// The group DM is not in `dm.groupChannels`.
    GroupDmChannelNotAllowed,
    /// `groupPolicy: "disabled"`.
    GroupPolicyDisabled,
    /// No guild entry matches and `groupPolicy` is `allowlist`.
    GuildNotAllowed,
    /// The guild lists `channels` and this one is not among them.
    ChannelNotListed,
    /// The channel entry says `enabled: false`.
    ChannelDisabled,
    /// The channel entry says `allow: false`.
    ChannelNotAllowed,
    /// The sender is not in the guild's or channel's `users`.
    UserNotAllowed,
    /// A mention is required and there was none.
    MentionRequired,
    /// A native command from someone not allowed.
    NotAuthorized,
    /// Not in KOOK's `allowedUserId`.
    KookUserNotAllowed,
}

impl DropReason {
    /// A short explanation for the log.
    pub fn describe(self) -> &'static str {
        match self {
            Self::OwnMessage => "own message",
            Self::BotAuthor => "bot author (allowBots is off)",
            Self::DmDisabled => "DMs disabled (dm.enabled=false)",
            Self::DmPolicyDisabled => "DMs disabled (dm.policy=disabled)",
            Self::DmSenderNotAllowed => "sender not in dm.allowFrom",
            Self::GroupDmDisabled => "group DMs disabled (dm.groupEnabled=false)",
            Self::GroupDmChannelNotAllowed => "group DM not in dm.groupChannels",
            Self::GroupPolicyDisabled => "guild channels disabled (groupPolicy=disabled)",
            Self::GuildNotAllowed => "guild not in channels.discord.guilds (groupPolicy=allowlist)",
            Self::ChannelNotListed => "channel not listed in guilds.<id>.channels",
            Self::ChannelDisabled => "channel disabled (enabled=false)",
            Self::ChannelNotAllowed => "channel not allowed (allow=false)",
            Self::UserNotAllowed => "sender not in users allowlist",
            Self::MentionRequired => "mention required",
            Self::NotAuthorized => "not authorized for commands",
            Self::KookUserNotAllowed => "sender not in channels.kook.allowedUserId",
        }
    }
}

impl std::fmt::Display for DropReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.describe())
    }
}
