//! The typed config: one struct per object in `krill.json5`, keys in
//! camelCase exactly as the seed docs write them. Optional keys are `Option`
//! here; their defaults are applied where the value is used (see
//! [`super::accounts`] for the per-account effective settings and the
//! `DEFAULT_*` constants below).

use std::collections::BTreeMap;
use std::fmt;

use serde::de::{self, Deserializer, SeqAccess, Visitor};
use serde::Deserialize;

use crate::agent::BackendSpec;
use crate::reply::{ChunkMode, MentionScope, ReplyToMode};
use crate::rest::RetryPolicy;
use crate::secret::Secret;

/// `channels.discord.apiBaseUrl` default.
pub const DISCORD_API_BASE_URL: &str = "https://discord.com/api/v10";
/// `channels.kook.apiBaseUrl` default.
pub const KOOK_API_BASE_URL: &str = "https://www.kookapp.cn/api/v3";
/// `channels.discord.textChunkLimit` default and maximum (Discord's limit).
pub const DISCORD_TEXT_CHUNK_LIMIT: u32 = 2000;
/// `channels.kook.textChunkLimit` default.
pub const KOOK_TEXT_CHUNK_LIMIT: u32 = 4000;
/// `channels.kook.textChunkLimit` maximum.
pub const KOOK_TEXT_CHUNK_LIMIT_MAX: u32 = 8000;
/// `channels.discord.maxLinesPerMessage` default.
pub const DISCORD_MAX_LINES_PER_MESSAGE: u32 = 17;
/// `channels.discord.mediaMaxMb` default.
pub const DISCORD_MEDIA_MAX_MB: f64 = 8.0;
/// `historyLimit` default (after `messages.groupChat.historyLimit`).
pub const HISTORY_LIMIT: u32 = 20;
/// `messages.ackReaction` default.
pub const ACK_REACTION: &str = "👀";
/// `reactionTrigger.windowSeconds` default.
pub const REACTION_WINDOW_SECONDS: u32 = 60;
/// Built-in `reactionTrigger.positiveEmojis`.
pub const POSITIVE_EMOJIS: &[&str] = &["👍", "✅", "👌"];
/// Built-in `reactionTrigger.negativeEmojis`.
pub const NEGATIVE_EMOJIS: &[&str] = &["👎", "❌"];
/// The agent id used when `agents.list` is empty.
pub const DEFAULT_AGENT_ID: &str = "main";

/// The whole file, parsed and checked by [`super::parse`].
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default, deny_unknown_fields)]
pub struct Config {
    /// `channels.*`
    pub channels: ChannelsConfig,
    /// `messages.*`
    pub messages: MessagesConfig,
    /// `commands.*`
    pub commands: CommandsConfig,
    /// `agents.*`
    pub agents: AgentsConfig,
    /// `session.*`
    pub session: SessionConfig,
    /// `gateway.*`
    pub gateway: GatewayConfig,
    /// `media.*`
    pub media: MediaConfig,
    /// Mention patterns, compiled once by [`super::parse`].
    #[serde(skip)]
    pub(crate) compiled: super::validate::Compiled,
}

/// `channels`
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default, deny_unknown_fields)]
pub struct ChannelsConfig {
    /// `channels.defaults`
    pub defaults: ChannelDefaults,
    /// `channels.discord`; `None` when the file has no such section (which
    /// changes the `groupPolicy` default, see [`GroupPolicy`]).
    pub discord: Option<DiscordConfig>,
    /// `channels.kook`
    pub kook: Option<KookConfig>,
}

/// `channels.defaults`
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default, deny_unknown_fields)]
pub struct ChannelDefaults {
    /// `channels.defaults.groupPolicy`: used when a channel sets none.
    pub group_policy: Option<GroupPolicy>,
}

/// `channels.discord` and each `channels.discord.accounts.<name>` (an
/// account overrides any key it sets; `accounts` itself may not nest).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default, deny_unknown_fields)]
pub struct DiscordConfig {
    /// `enabled` (default true): `false` keeps the channel (or account) off.
    pub enabled: Option<bool>,
    /// `token`: the bot token (else `DISCORD_BOT_TOKEN`, default account only).
    pub token: Option<Secret>,
    /// `name`: a display name for the account.
    pub name: Option<String>,
    /// `accounts.<name>`: more bots, each with its own token and shard set.
    pub accounts: BTreeMap<String, DiscordConfig>,
    /// `dm`
    pub dm: Option<DmConfig>,
    /// `groupPolicy`
    pub group_policy: Option<GroupPolicy>,
    /// `guilds.<id|slug|"*">`
    pub guilds: Option<BTreeMap<String, GuildConfig>>,
    /// `historyLimit` (default 20, else `messages.groupChat.historyLimit`).
    pub history_limit: Option<u32>,
    /// `dmHistoryLimit`: DM history in user turns.
    pub dm_history_limit: Option<u32>,
    /// `dms.<userId>`: per-user DM overrides.
    pub dms: BTreeMap<String, DmUserConfig>,
    /// `textChunkLimit` (default and max 2000).
    pub text_chunk_limit: Option<u32>,
    /// `chunkMode`
    pub chunk_mode: Option<ChunkMode>,
    /// `maxLinesPerMessage` (default 17).
    pub max_lines_per_message: Option<u32>,
    /// `mediaMaxMb` (default 8).
    pub media_max_mb: Option<f64>,
    /// `replyToMode`
    pub reply_to_mode: Option<ReplyToMode>,
    /// `allowedMentions` (default `participants`): whom a reply may ping.
    pub allowed_mentions: Option<MentionScope>,
    /// `maxReplyChars` (default 20000): a longer reply is cut, with a note.
    pub max_reply_chars: Option<u32>,
    /// `retry`
    pub retry: Option<RetryPolicy>,
    /// `actions`
    pub actions: Option<DiscordActions>,
    /// `allowBots` (default false).
    pub allow_bots: Option<bool>,
    /// `configWrites` (default true).
    pub config_writes: Option<bool>,
    /// `commands`
    pub commands: Option<ChannelCommands>,
    /// `intents`: gateway intents bitmask override.
    pub intents: Option<u64>,
    /// `shards`: which shards this process runs.
    pub shards: Option<ShardRange>,
    /// `apiBaseUrl` (default `https://discord.com/api/v10`).
    pub api_base_url: Option<String>,
    /// `globalRateLimit`: requests per second krill allows itself across the
    /// account (default 50, Discord's global limit; raised for large bots).
    pub global_rate_limit: Option<u32>,
    /// `requireMention` here is ignored (a warning): it belongs under
    /// `guilds.<id>` or a channel.
    pub require_mention: Option<bool>,
}

/// `channels.discord.dm`
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default, deny_unknown_fields)]
pub struct DmConfig {
    /// `dm.enabled` (default true).
    pub enabled: Option<bool>,
    /// `dm.policy` (default pairing).
    pub policy: Option<DmPolicy>,
    /// `dm.allowFrom`: ids, names, tags, `<@id>`, `discord:`/`user:` prefixes, `*`.
    pub allow_from: Vec<ListEntry>,
    /// `dm.groupEnabled` (default false).
    pub group_enabled: Option<bool>,
    /// `dm.groupChannels`: group DM channel ids or slugs (`channel:` prefix ok).
    pub group_channels: Vec<ListEntry>,
}

/// `channels.discord.dms.<userId>`
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default, deny_unknown_fields)]
pub struct DmUserConfig {
    /// `historyLimit` for this user's DMs.
    pub history_limit: Option<u32>,
}

/// `channels.discord.guilds.<id|slug|"*">`
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default, deny_unknown_fields)]
pub struct GuildConfig {
    /// `slug`: friendly name for display names.
    pub slug: Option<String>,
    /// `users`: who may talk in this guild (absent or empty: everyone).
    pub users: Option<Vec<ListEntry>>,
    /// `requireMention` (default true).
    pub require_mention: Option<bool>,
    /// `channels.<id|slug|"*">`: when present, unlisted channels are denied.
    pub channels: Option<BTreeMap<String, ChannelRule>>,
    /// `tools`
    pub tools: Option<ToolPolicy>,
    /// `toolsBySender.<id|"*">`
    pub tools_by_sender: Option<BTreeMap<String, ToolPolicy>>,
    /// `reactionNotifications` (default own).
    pub reaction_notifications: Option<ReactionNotifications>,
    /// `reactionTrigger`
    pub reaction_trigger: Option<ReactionTrigger>,
}

/// `guilds.<id>.channels.<id|slug|"*">`
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase", default, deny_unknown_fields)]
pub struct ChannelRule {
    /// `allow` (default true for a listed channel).
    pub allow: Option<bool>,
    /// `enabled` (default true).
    pub enabled: Option<bool>,
    /// `requireMention` (default: the guild's, else true).
    pub require_mention: Option<bool>,
    /// `users`: who may talk here (overrides the guild's list).
    pub users: Option<Vec<ListEntry>>,
    /// `skills`: skill filter (absent: all; empty: none).
    pub skills: Option<Vec<String>>,
    /// `systemPrompt`: extra system prompt for this channel.
    pub system_prompt: Option<String>,
    /// `tools`
    pub tools: Option<ToolPolicy>,
    /// `toolsBySender.<id|"*">`
    pub tools_by_sender: Option<BTreeMap<String, ToolPolicy>>,
}

/// `tools` / `toolsBySender.*`: tool policy overrides.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase", default, deny_unknown_fields)]
pub struct ToolPolicy {
    /// `allow`: only these tools.
    pub allow: Option<Vec<String>>,
    /// `deny`: never these tools.
    pub deny: Option<Vec<String>>,
    /// `alsoAllow`: these on top of the defaults.
    pub also_allow: Option<Vec<String>>,
}

/// `guilds.<id>.reactionTrigger`
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase", default, deny_unknown_fields)]
pub struct ReactionTrigger {
    /// `enabled` (default false).
    pub enabled: bool,
    /// `windowSeconds` (default 60).
    pub window_seconds: u32,
    /// `positiveEmojis` (default 👍 ✅ 👌).
    pub positive_emojis: Option<Vec<String>>,
    /// `negativeEmojis` (default 👎 ❌).
    pub negative_emojis: Option<Vec<String>>,
}

impl Default for ReactionTrigger {
    fn default() -> Self {
        Self {
            enabled: false,
            window_seconds: REACTION_WINDOW_SECONDS,
            positive_emojis: None,
            negative_emojis: None,
        }
    }
}

impl ReactionTrigger {
    /// The positive emoji list in force (configured or built-in).
    pub fn positive(&self) -> Vec<String> {
        or_builtin(self.positive_emojis.as_ref(), POSITIVE_EMOJIS)
    }

    /// The negative emoji list in force (configured or built-in).
    pub fn negative(&self) -> Vec<String> {
        or_builtin(self.negative_emojis.as_ref(), NEGATIVE_EMOJIS)
    }
}

fn or_builtin(list: Option<&Vec<String>>, builtin: &[&str]) -> Vec<String> {
    list.cloned()
        .unwrap_or_else(|| builtin.iter().map(|s| (*s).to_owned()).collect())
}

/// `channels.discord.actions`: which tool action groups the agent may use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", default, deny_unknown_fields)]
#[allow(clippy::struct_excessive_bools)] // one switch per action group, as documented
pub struct DiscordActions {
    /// React + list reactions + emoji list (default on).
    pub reactions: bool,
    /// Send stickers (default on).
    pub stickers: bool,
    /// Upload emojis (default on).
    pub emoji_uploads: bool,
    /// Upload stickers (default on).
    pub sticker_uploads: bool,
    /// Create polls (default on).
    pub polls: bool,
    /// Channel permission snapshot (default on).
    pub permissions: bool,
    /// Read/send/edit/delete messages (default on).
    pub messages: bool,
    /// Create/list/reply in threads (default on).
    pub threads: bool,
    /// Pin/unpin/list (default on).
    pub pins: bool,
    /// Message search (default on).
    pub search: bool,
    /// Member info (default on).
    pub member_info: bool,
    /// Role list (default on).
    pub role_info: bool,
    /// Role add/remove (default OFF).
    pub roles: bool,
    /// Channel info + list (default on).
    pub channel_info: bool,
    /// Channel/category management (default on).
    pub channels: bool,
    /// Voice state lookup (default on).
    pub voice_status: bool,
    /// Scheduled events (default on).
    pub events: bool,
    /// Timeout/kick/ban (default OFF).
    pub moderation: bool,
}

impl Default for DiscordActions {
    fn default() -> Self {
        Self {
            reactions: true,
            stickers: true,
            emoji_uploads: true,
            sticker_uploads: true,
            polls: true,
            permissions: true,
            messages: true,
            threads: true,
            pins: true,
            search: true,
            member_info: true,
            role_info: true,
            roles: false,
            channel_info: true,
            channels: true,
            voice_status: true,
            events: true,
            moderation: false,
        }
    }
}

/// `channels.discord.commands`
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default, deny_unknown_fields)]
pub struct ChannelCommands {
    /// `native`: overrides `commands.native` for Discord.
    pub native: Option<NativeCommands>,
}

/// `channels.discord.shards`: the shard range this process runs (many
/// processes can split one bot). `{ total: 16, from: 0, to: 7 }` runs shards
/// 0..=7 of 16. Without it the process runs every shard of the count Discord
/// recommends (`GET /gateway/bot`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ShardRange {
    /// Total shard count of the bot (the same in every process).
    pub total: u32,
    /// First shard id this process runs (default 0).
    #[serde(default)]
    pub from: u32,
    /// Last shard id this process runs, inclusive (default `total - 1`).
    #[serde(default)]
    pub to: Option<u32>,
}

impl ShardRange {
    /// The shard ids this process runs.
    pub fn ids(&self) -> std::ops::RangeInclusive<u32> {
        self.from..=self.to.unwrap_or(self.total.saturating_sub(1))
    }
}

/// `channels.kook` and each `channels.kook.accounts.<name>`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default, deny_unknown_fields)]
pub struct KookConfig {
    /// `enabled` (default true).
    pub enabled: Option<bool>,
    /// `token` (else `KOOK_BOT_TOKEN`, default account only).
    pub token: Option<Secret>,
    /// `name`: display name of the account.
    pub name: Option<String>,
    /// `accounts.<name>`: more bots.
    pub accounts: BTreeMap<String, KookConfig>,
    /// `allowedUserId`: one id or a list; without it anyone can talk.
    pub allowed_user_id: Option<UserIds>,
    /// `requireMention` (krill extension, default false): channel messages
    /// must mention the bot. DMs never need one.
    pub require_mention: Option<bool>,
    /// `compress` (default false): zlib-compressed gateway frames.
    pub compress: Option<bool>,
    /// `textChunkLimit` (default 4000, max 8000).
    pub text_chunk_limit: Option<u32>,
    /// `chunkMode`
    pub chunk_mode: Option<ChunkMode>,
    /// `maxLinesPerMessage` (default none).
    pub max_lines_per_message: Option<u32>,
    /// `replyToMode`
    pub reply_to_mode: Option<ReplyToMode>,
    /// `allowedMentions` (default `participants`): whom a reply may ping.
    pub allowed_mentions: Option<MentionScope>,
    /// `maxReplyChars` (default 20000): a longer reply is cut, with a note.
    pub max_reply_chars: Option<u32>,
    /// `retry`
    pub retry: Option<RetryPolicy>,
    /// `historyLimit` (default 20, else `messages.groupChat.historyLimit`).
    pub history_limit: Option<u32>,
    /// `apiBaseUrl` (default `https://www.kookapp.cn/api/v3`).
    pub api_base_url: Option<String>,
    /// `mediaMaxMb` (default 8): largest file downloaded or uploaded, MiB.
    pub media_max_mb: Option<f64>,
}

/// `messages`
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default, deny_unknown_fields)]
pub struct MessagesConfig {
    /// `ackReaction` (default 👀; empty string: none).
    pub ack_reaction: Option<String>,
    /// `ackReactionScope` (default group-mentions).
    pub ack_reaction_scope: AckReactionScope,
    /// `removeAckAfterReply` (default false).
    pub remove_ack_after_reply: bool,
    /// `groupChat`
    pub group_chat: GroupChatConfig,
}

impl MessagesConfig {
    /// The ack reaction in force (`None` when set to an empty string).
    pub fn ack_reaction(&self) -> Option<&str> {
        match self.ack_reaction.as_deref() {
            None => Some(ACK_REACTION),
            Some(s) if s.trim().is_empty() => None,
            Some(s) => Some(s),
        }
    }
}

/// `messages.groupChat` / `agents.list[].groupChat`
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default, deny_unknown_fields)]
pub struct GroupChatConfig {
    /// `historyLimit`
    pub history_limit: Option<u32>,
    /// `mentionPatterns`: regexes (case-insensitive) that count as a mention.
    pub mention_patterns: Option<Vec<String>>,
}

/// `commands`
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", default, deny_unknown_fields)]
pub struct CommandsConfig {
    /// `native` (default auto: on for Discord).
    pub native: NativeCommands,
    /// `text` (default true): standalone `/...` messages are commands.
    pub text: bool,
    /// `useAccessGroups` (default true): commands honour the allowlists.
    pub use_access_groups: bool,
    /// `config` (default false): allow `/config set|unset`.
    pub config: bool,
}

impl Default for CommandsConfig {
    fn default() -> Self {
        Self {
            native: NativeCommands::Auto,
            text: true,
            use_access_groups: true,
            config: false,
        }
    }
}

/// `agents`
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default, deny_unknown_fields)]
pub struct AgentsConfig {
    /// `agents.defaults`
    pub defaults: AgentDefaults,
    /// `agents.list[]`
    pub list: Vec<AgentEntry>,
}

/// `agents.defaults`: settings every agent inherits.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default, deny_unknown_fields)]
pub struct AgentDefaults {
    /// `backend` (default echo).
    pub backend: Option<BackendSpec>,
    /// `groupChat`
    pub group_chat: Option<GroupChatConfig>,
    /// `sessionHistoryLimit`: past user turns of a session's transcript sent
    /// with each turn (default [`SESSION_HISTORY_LIMIT`]).
    pub session_history_limit: Option<u32>,
}

/// The default `sessionHistoryLimit`: past user turns (with the answers
/// between them) a session's agent sees, when nothing narrower is set.
pub const SESSION_HISTORY_LIMIT: u32 = 50;

/// `agents.list[]`
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AgentEntry {
    /// `id` (required; letters, digits, `-`, `_`).
    pub id: String,
    /// `default`: the agent DMs and channels go to.
    #[serde(default)]
    pub default: bool,
    /// `name`
    #[serde(default)]
    pub name: Option<String>,
    /// `groupChat`
    #[serde(default)]
    pub group_chat: Option<GroupChatConfig>,
    /// `backend` (default: `agents.defaults.backend`, else echo).
    #[serde(default)]
    pub backend: Option<BackendSpec>,
    /// `sessionHistoryLimit` (default: `agents.defaults.sessionHistoryLimit`,
    /// else [`SESSION_HISTORY_LIMIT`]).
    #[serde(default)]
    pub session_history_limit: Option<u32>,
}

/// The default of `gateway.shutdownTimeoutSeconds`.
pub const DEFAULT_SHUTDOWN_TIMEOUT_SECONDS: u64 = 30;

/// `gateway`: the `krill gateway` process itself.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", default, deny_unknown_fields)]
pub struct GatewayConfig {
    /// `shutdownTimeoutSeconds`: on SIGTERM/SIGINT, how long running turns
    /// and unsent reply messages may take before krill exits anyway (what is
    /// left is finished after the next start). Default 30.
    pub shutdown_timeout_seconds: u64,
}

impl Default for GatewayConfig {
    fn default() -> Self {
        Self {
            shutdown_timeout_seconds: DEFAULT_SHUTDOWN_TIMEOUT_SECONDS,
        }
    }
}

/// `media`: files agents receive and send.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default, deny_unknown_fields)]
pub struct MediaConfig {
    /// `retentionHours` (default 24; 0 keeps files): inbound files in
    /// `<state>/media/inbound/` older than this are removed.
    pub retention_hours: Option<u64>,
    /// `localRoots`: absolute folders, besides `<state>/media/`, an agent may
    /// send files from with `MEDIA:` (default none).
    pub local_roots: Vec<String>,
}

/// `session`
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default, deny_unknown_fields)]
pub struct SessionConfig {
    /// `dmScope` (default main).
    pub dm_scope: DmScope,
}

/// `groupPolicy`: how guild channels are handled. Default: `allowlist` when
/// the file has a `channels.discord` section, `open` when the bot runs from
/// the env token alone; `channels.defaults.groupPolicy` in between.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum GroupPolicy {
    /// Any guild channel (still subject to listed rules and mentions).
    Open,
    /// Only guilds listed under `guilds` (and their listed channels).
    Allowlist,
    /// No guild channels at all.
    Disabled,
}

/// `dm.policy`
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum DmPolicy {
    /// Unknown senders get a pairing code (the default).
    #[default]
    Pairing,
    /// Only `allowFrom` (and approved pairings).
    Allowlist,
    /// Anyone (requires `allowFrom: ["*"]`).
    Open,
    /// No DMs.
    Disabled,
}

/// `reactionNotifications`
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum ReactionNotifications {
    /// No reaction events.
    Off,
    /// Reactions on the bot's own messages (the default).
    #[default]
    Own,
    /// All reactions on all messages.
    All,
    /// Reactions from the guild's `users` on all messages.
    Allowlist,
}

/// `messages.ackReactionScope` (the agent module's decision type, shared).
pub use crate::agent::ack::AckReactionScope;

/// `session.dmScope`: which session a DM lands in.
///
/// | value | session key |
/// |---|---|
/// | `main` (default) | `agent:<agentId>:main` (every DM, every platform) |
/// | `per-peer` | `agent:<agentId>:dm:<userId>` |
/// | `per-channel-peer` | `agent:<agentId>:<platform>:dm:<userId>` |
/// | `per-account-channel-peer` | `agent:<agentId>:<platform>:<accountId>:dm:<userId>` |
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum DmScope {
    /// All DMs share the agent's main session.
    #[default]
    Main,
    /// One session per sender (across platforms).
    PerPeer,
    /// One session per sender per platform.
    PerChannelPeer,
    /// One session per sender per platform per bot account.
    PerAccountChannelPeer,
}

/// `commands.native` / `channels.discord.commands.native`: `true`, `false` or
/// `"auto"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum NativeCommands {
    /// On for Discord (the default).
    #[default]
    Auto,
    /// Register native commands.
    On,
    /// Do not register them (and clear registered ones).
    Off,
}

impl NativeCommands {
    /// Whether Discord registers native commands under this setting.
    pub fn enabled_for_discord(self) -> bool {
        !matches!(self, Self::Off)
    }
}

impl<'de> Deserialize<'de> for NativeCommands {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = NativeCommands;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("true, false or \"auto\"")
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<Self::Value, E> {
                Ok(if v {
                    NativeCommands::On
                } else {
                    NativeCommands::Off
                })
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                match v {
                    "auto" => Ok(NativeCommands::Auto),
                    _ => Err(E::invalid_value(de::Unexpected::Str(v), &self)),
                }
            }
        }
        d.deserialize_any(V)
    }
}

/// One allowlist entry as typed: a string, or a bare integer id (kept
/// digit-exact, Discord snowflakes do not fit a float).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ListEntry(pub String);

impl ListEntry {
    /// The text as typed.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl From<&str> for ListEntry {
    fn from(s: &str) -> Self {
        Self(s.to_owned())
    }
}

struct EntryVisitor;

impl Visitor<'_> for EntryVisitor {
    type Value = String;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an id or a name (a string)")
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<String, E> {
        Ok(v.to_owned())
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<String, E> {
        Ok(v.to_string())
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<String, E> {
        Ok(v.to_string())
    }
}

impl<'de> Deserialize<'de> for ListEntry {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(EntryVisitor).map(ListEntry)
    }
}

/// `channels.kook.allowedUserId`: one id or a list of ids.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UserIds(pub Vec<String>);

impl<'de> Deserialize<'de> for UserIds {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = UserIds;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a user id or a list of user ids")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<UserIds, E> {
                Ok(UserIds(vec![v.to_owned()]))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<UserIds, E> {
                Ok(UserIds(vec![v.to_string()]))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<UserIds, A::Error> {
                let mut out = Vec::new();
                while let Some(ListEntry(s)) = seq.next_element::<ListEntry>()? {
                    out.push(s);
                }
                Ok(UserIds(out))
            }
        }
        d.deserialize_any(V)
    }
}
