//! The `discord` tool: the actions an agent may call in a Discord turn,
//! which of them a turn is offered, and what each one does.
//!
//! | item | owns |
//! |---|---|
//! | [`Action`] | the 29 actions, their function names (`discord_<action>`) and their `actions.*` group |
//! | [`schema`] | each action's description and JSON Schema of its (flat, camelCase) arguments; [`ToolSpec`] |
//! | [`policy`] | which actions a turn is offered: `channels.discord.actions.*` and the guild/channel `tools`/`toolsBySender` policies |
//! | [`run`] | [`ToolRun`]: one call, from its arguments to the REST requests it plans and its JSON result, within the turn's guild |
//! | `plan` | per action: its arguments, the routes it calls, its result (private) |
//! | [`payload`] | the JSON a result carries (messages with `timestampMs`/`timestampUtc`, channels, members) |
//!
//! Everything here is sans-IO: the channel loop submits the requests a
//! [`ToolRun`] plans to its [`crate::rest::Planner`] (buckets, retries, the
//! 401 halt) and feeds each outcome back.

pub mod payload;
mod plan;
pub mod policy;
pub mod run;
pub mod schema;

use std::fmt;

pub use policy::{offered_actions, ToolRules};
pub use run::{ChannelFact, ChannelFacts, ToolRun, ToolStep, TurnScope};
pub use schema::{specs_for, SpecCache, ToolSpec, ToolSpecs};

use crate::config::DiscordActions;

/// The name tool policies use for the whole `discord` tool.
pub const DISCORD_TOOL: &str = "discord";

/// Every function name starts with this (`discord_react`).
pub const FUNCTION_PREFIX: &str = "discord_";

/// One action of the `discord` tool (seed "Tool actions").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
#[allow(missing_docs)] // each variant is its action name; see `schema` for what it does
pub enum Action {
    React,
    Reactions,
    Sticker,
    Poll,
    Permissions,
    ReadMessages,
    SendMessage,
    EditMessage,
    DeleteMessage,
    ThreadCreate,
    ThreadList,
    ThreadReply,
    PinMessage,
    UnpinMessage,
    ListPins,
    SearchMessages,
    MemberInfo,
    RoleInfo,
    RoleAdd,
    RoleRemove,
    EmojiList,
    ChannelInfo,
    ChannelList,
    VoiceStatus,
    EventList,
    EventCreate,
    Timeout,
    Kick,
    Ban,
}

/// A `channels.discord.actions.*` switch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
#[allow(missing_docs)] // each variant is its config key
pub enum ActionGroup {
    Reactions,
    Stickers,
    Polls,
    Permissions,
    Messages,
    Threads,
    Pins,
    Search,
    MemberInfo,
    RoleInfo,
    Roles,
    ChannelInfo,
    VoiceStatus,
    Events,
    Moderation,
}

impl Action {
    /// Every action, in the seed's order.
    pub const ALL: [Action; 29] = [
        Action::React,
        Action::Reactions,
        Action::Sticker,
        Action::Poll,
        Action::Permissions,
        Action::ReadMessages,
        Action::SendMessage,
        Action::EditMessage,
        Action::DeleteMessage,
        Action::ThreadCreate,
        Action::ThreadList,
        Action::ThreadReply,
        Action::PinMessage,
        Action::UnpinMessage,
        Action::ListPins,
        Action::SearchMessages,
        Action::MemberInfo,
        Action::RoleInfo,
        Action::RoleAdd,
        Action::RoleRemove,
        Action::EmojiList,
        Action::ChannelInfo,
        Action::ChannelList,
        Action::VoiceStatus,
        Action::EventList,
        Action::EventCreate,
        Action::Timeout,
        Action::Kick,
        Action::Ban,
    ];

    /// The action's name as the seed writes it (`react`, `sendMessage`).
    pub fn name(self) -> &'static str {
        match self {
            Action::React => "react",
            Action::Reactions => "reactions",
            Action::Sticker => "sticker",
            Action::Poll => "poll",
            Action::Permissions => "permissions",
            Action::ReadMessages => "readMessages",
            Action::SendMessage => "sendMessage",
            Action::EditMessage => "editMessage",
            Action::DeleteMessage => "deleteMessage",
            Action::ThreadCreate => "threadCreate",
            Action::ThreadList => "threadList",
            Action::ThreadReply => "threadReply",
            Action::PinMessage => "pinMessage",
            Action::UnpinMessage => "unpinMessage",
            Action::ListPins => "listPins",
            Action::SearchMessages => "searchMessages",
            Action::MemberInfo => "memberInfo",
            Action::RoleInfo => "roleInfo",
            Action::RoleAdd => "roleAdd",
            Action::RoleRemove => "roleRemove",
            Action::EmojiList => "emojiList",
            Action::ChannelInfo => "channelInfo",
            Action::ChannelList => "channelList",
            Action::VoiceStatus => "voiceStatus",
            Action::EventList => "eventList",
            Action::EventCreate => "eventCreate",
            Action::Timeout => "timeout",
            Action::Kick => "kick",
            Action::Ban => "ban",
        }
    }

    /// The function name a model calls: `discord_<action>`.
    pub fn function_name(self) -> String {
        format!("{FUNCTION_PREFIX}{}", self.name())
    }

    /// The action a function name (`discord_react`) or bare action name
    /// (`react`) stands for.
    pub fn from_name(name: &str) -> Option<Action> {
        let bare = name.strip_prefix(FUNCTION_PREFIX).unwrap_or(name);
        Action::ALL.into_iter().find(|a| a.name() == bare)
    }

    /// The `actions.*` switch that gates it (seed "Tool action defaults").
    pub fn group(self) -> ActionGroup {
        match self {
            Action::React | Action::Reactions | Action::EmojiList => ActionGroup::Reactions,
            Action::Sticker => ActionGroup::Stickers,
            Action::Poll => ActionGroup::Polls,
            Action::Permissions => ActionGroup::Permissions,
            Action::ReadMessages
            | Action::SendMessage
            | Action::EditMessage
            | Action::DeleteMessage => ActionGroup::Messages,
            Action::ThreadCreate | Action::ThreadList | Action::ThreadReply => ActionGroup::Threads,
            Action::PinMessage | Action::UnpinMessage | Action::ListPins => ActionGroup::Pins,
            Action::SearchMessages => ActionGroup::Search,
            Action::MemberInfo => ActionGroup::MemberInfo,
            Action::RoleInfo => ActionGroup::RoleInfo,
            Action::RoleAdd | Action::RoleRemove => ActionGroup::Roles,
            Action::ChannelInfo | Action::ChannelList => ActionGroup::ChannelInfo,
            Action::VoiceStatus => ActionGroup::VoiceStatus,
            Action::EventList | Action::EventCreate => ActionGroup::Events,
            Action::Timeout | Action::Kick | Action::Ban => ActionGroup::Moderation,
        }
    }

    /// True for actions that only make sense in a server (refused in DMs).
    pub fn needs_guild(self) -> bool {
        !matches!(
            self,
            Action::React
                | Action::Reactions
                | Action::Sticker
                | Action::Poll
                | Action::ReadMessages
                | Action::SendMessage
                | Action::EditMessage
                | Action::DeleteMessage
                | Action::PinMessage
                | Action::UnpinMessage
                | Action::ListPins
                | Action::ChannelInfo
        )
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl ActionGroup {
    /// The config key (`actions.<key>`).
    pub fn key(self) -> &'static str {
        match self {
            ActionGroup::Reactions => "reactions",
            ActionGroup::Stickers => "stickers",
            ActionGroup::Polls => "polls",
            ActionGroup::Permissions => "permissions",
            ActionGroup::Messages => "messages",
            ActionGroup::Threads => "threads",
            ActionGroup::Pins => "pins",
            ActionGroup::Search => "search",
            ActionGroup::MemberInfo => "memberInfo",
            ActionGroup::RoleInfo => "roleInfo",
            ActionGroup::Roles => "roles",
            ActionGroup::ChannelInfo => "channelInfo",
            ActionGroup::VoiceStatus => "voiceStatus",
            ActionGroup::Events => "events",
            ActionGroup::Moderation => "moderation",
        }
    }

    /// Whether `actions` enables the group.
    pub fn enabled(self, actions: &DiscordActions) -> bool {
        match self {
            ActionGroup::Reactions => actions.reactions,
            ActionGroup::Stickers => actions.stickers,
            ActionGroup::Polls => actions.polls,
            ActionGroup::Permissions => actions.permissions,
            ActionGroup::Messages => actions.messages,
            ActionGroup::Threads => actions.threads,
            ActionGroup::Pins => actions.pins,
            ActionGroup::Search => actions.search,
            ActionGroup::MemberInfo => actions.member_info,
            ActionGroup::RoleInfo => actions.role_info,
            ActionGroup::Roles => actions.roles,
            ActionGroup::ChannelInfo => actions.channel_info,
            ActionGroup::VoiceStatus => actions.voice_status,
            ActionGroup::Events => actions.events,
            ActionGroup::Moderation => actions.moderation,
        }
    }
}
