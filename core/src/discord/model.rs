//! Typed payloads of the dispatch events krill uses (`READY`, `MESSAGE_CREATE`,
//! reactions, channel/thread/guild creates) and of `GET /gateway/bot`.
//!
//! Only the fields krill needs are typed; unknown keys are ignored everywhere,
//! so new fields Discord adds never break parsing. Ids are snowflake strings
//! kept as `String` (never parsed to integers). Optional or nullable fields are
//! `Option`, and lists or flags Discord may leave out default to empty/false.
//! Sources: discord-api-docs `developers/events/gateway-events.mdx` and
//! `developers/resources/{message,user,guild,channel,emoji}.mdx`.

use serde::Deserialize;

/// A snowflake id as Discord sends it (a decimal string).
pub type Snowflake = String;

/// A user object (`developers/resources/user.mdx`), as much of it as krill uses.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct User {
    /// The user's id.
    pub id: Snowflake,
    /// The unique username (may be absent in partial users).
    #[serde(default)]
    pub username: String,
    /// The display name, if set.
    #[serde(default)]
    pub global_name: Option<String>,
    /// The legacy discriminator (`"0"` for migrated users).
    #[serde(default)]
    pub discriminator: Option<String>,
    /// True for bot accounts; absent means false.
    #[serde(default, deserialize_with = "null_as_false")]
    pub bot: bool,
    /// The partial guild member, present on users in `mentions[]`.
    #[serde(default)]
    pub member: Option<Member>,
}

/// A guild member (`developers/resources/guild.mdx`); `user` is absent in
/// `MESSAGE_CREATE.member` and in `mentions[].member`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Default)]
pub struct Member {
    /// The member's user, when Discord includes it.
    #[serde(default)]
    pub user: Option<Box<User>>,
    /// The guild nickname, if set.
    #[serde(default)]
    pub nick: Option<String>,
    /// Role ids.
    #[serde(default)]
    pub roles: Vec<Snowflake>,
}

/// A message reference (`message_reference`) of a reply, forward or crosspost.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct MessageReference {
    /// 0 = default (reply), 1 = forward.
    #[serde(rename = "type", default)]
    pub kind: u16,
    /// The referenced message's id.
    #[serde(default)]
    pub message_id: Option<Snowflake>,
    /// The referenced message's channel.
    #[serde(default)]
    pub channel_id: Option<Snowflake>,
    /// The referenced message's guild.
    #[serde(default)]
    pub guild_id: Option<Snowflake>,
}

/// A message, as carried by `MESSAGE_CREATE` (`developers/resources/message.mdx`
/// plus the Message Create extra fields).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Message {
    /// The message id.
    pub id: Snowflake,
    /// The channel (the DM channel for DMs).
    pub channel_id: Snowflake,
    /// The guild; `None` in DMs.
    #[serde(default)]
    pub guild_id: Option<Snowflake>,
    /// The channel type (0 guild text, 1 DM, 3 group DM, 11 public thread...),
    /// when Discord includes it.
    #[serde(default)]
    pub channel_type: Option<u16>,
    /// The author (for webhooks: the webhook's fake user).
    pub author: User,
    /// Set when a webhook sent the message.
    #[serde(default)]
    pub webhook_id: Option<Snowflake>,
    /// The text; empty without the Message Content intent unless the bot is
    /// mentioned.
    #[serde(default)]
    pub content: String,
    /// Users mentioned (each with a partial `member` in guilds).
    #[serde(default)]
    pub mentions: Vec<User>,
    /// Role ids mentioned.
    #[serde(default)]
    pub mention_roles: Vec<Snowflake>,
    /// True for `@everyone` / `@here`.
    #[serde(default, deserialize_with = "null_as_false")]
    pub mention_everyone: bool,
    /// What this message replies to (or forwards).
    #[serde(default)]
    pub message_reference: Option<MessageReference>,
    /// The message replied to. `None` with a `message_reference` present means
    /// Discord sent `null`: the referenced message was deleted or unavailable.
    #[serde(default)]
    pub referenced_message: Option<Box<Message>>,
    /// The author's guild member (guild messages only; no `user` inside).
    #[serde(default)]
    pub member: Option<Member>,
    /// ISO 8601 timestamp.
    #[serde(default)]
    pub timestamp: String,
    /// The message type (0 default, 19 reply, ...).
    #[serde(rename = "type", default)]
    pub kind: u16,
    /// Files attached to the message.
    #[serde(default, deserialize_with = "null_as_empty")]
    pub attachments: Vec<Attachment>,
}

/// An attachment (`developers/resources/message.mdx`, Attachment Object):
/// `url` is on the CDN and needs no token.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Default)]
pub struct Attachment {
    /// The attachment id.
    #[serde(default)]
    pub id: Snowflake,
    /// The file name.
    #[serde(default)]
    pub filename: String,
    /// The size in bytes.
    #[serde(default)]
    pub size: u64,
    /// The CDN URL.
    #[serde(default)]
    pub url: String,
    /// The media type, when Discord knows it.
    #[serde(default)]
    pub content_type: Option<String>,
}

impl Message {
    /// True when the message came from a DM (no guild).
    pub fn is_dm(&self) -> bool {
        self.guild_id.is_none()
    }
}

/// An emoji in a reaction: standard emoji have only `name`, custom ones `id`
/// and `name` (name may be null for deleted emoji).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Default)]
pub struct Emoji {
    /// The custom emoji id.
    #[serde(default)]
    pub id: Option<Snowflake>,
    /// The unicode emoji or the custom emoji's name.
    #[serde(default)]
    pub name: Option<String>,
    /// True for animated custom emoji.
    #[serde(default, deserialize_with = "null_as_false")]
    pub animated: bool,
}

/// `MESSAGE_REACTION_ADD` / `MESSAGE_REACTION_REMOVE` payload.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Reaction {
    /// Who reacted.
    pub user_id: Snowflake,
    /// The channel of the message.
    pub channel_id: Snowflake,
    /// The message reacted to.
    pub message_id: Snowflake,
    /// The guild; `None` in DMs.
    #[serde(default)]
    pub guild_id: Option<Snowflake>,
    /// The emoji.
    #[serde(default)]
    pub emoji: Emoji,
    /// The author of the message reacted to (add only).
    #[serde(default)]
    pub message_author_id: Option<Snowflake>,
    /// The reacting member (guild adds only).
    #[serde(default)]
    pub member: Option<Member>,
    /// True for super reactions.
    #[serde(default, deserialize_with = "null_as_false")]
    pub burst: bool,
}

/// A channel or thread (`CHANNEL_CREATE`, `THREAD_CREATE`, and the entries of
/// `GUILD_CREATE.channels` / `.threads`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Channel {
    /// The channel id.
    pub id: Snowflake,
    /// The channel type (0 text, 1 DM, 2 voice, 4 category, 11/12 threads...).
    #[serde(rename = "type", default)]
    pub kind: u16,
    /// The guild (absent inside `GUILD_CREATE.channels`).
    #[serde(default)]
    pub guild_id: Option<Snowflake>,
    /// The name (absent for DMs).
    #[serde(default)]
    pub name: Option<String>,
    /// The category, or for threads the parent channel.
    #[serde(default)]
    pub parent_id: Option<Snowflake>,
    /// The channel topic (combined with a channel's `systemPrompt`).
    #[serde(default)]
    pub topic: Option<String>,
}

/// `GUILD_CREATE` payload: enough for slug and name lookups.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Guild {
    /// The guild id.
    pub id: Snowflake,
    /// The guild name (empty for an unavailable guild).
    #[serde(default)]
    pub name: String,
    /// True during an outage.
    #[serde(default, deserialize_with = "null_as_false")]
    pub unavailable: bool,
    /// The guild's channels.
    #[serde(default)]
    pub channels: Vec<Channel>,
    /// Active threads the bot can see.
    #[serde(default)]
    pub threads: Vec<Channel>,
    /// Members sent with the guild (the bot itself, plus more with the
    /// Server Members intent in small guilds).
    #[serde(default)]
    pub members: Vec<Member>,
}

/// An entry of `READY.guilds`: an unavailable guild.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct UnavailableGuild {
    /// The guild id.
    pub id: Snowflake,
    /// Always true in READY.
    #[serde(default, deserialize_with = "null_as_false")]
    pub unavailable: bool,
}

/// The `READY` payload.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Ready {
    /// The gateway API version.
    #[serde(default)]
    pub v: u16,
    /// The bot's own user.
    pub user: User,
    /// The session id to resume with.
    pub session_id: String,
    /// Where to reconnect to resume (without query string).
    #[serde(default)]
    pub resume_gateway_url: Option<String>,
    /// `[shard_id, shard_count]` when sharded.
    #[serde(default)]
    pub shard: Option<[u32; 2]>,
    /// The guilds the bot is in; each arrives later in `GUILD_CREATE`.
    #[serde(default)]
    pub guilds: Vec<UnavailableGuild>,
    /// The bot's application (`id` and `flags`); its id names the
    /// application's slash commands and interaction webhooks.
    #[serde(default)]
    pub application: Option<PartialApplication>,
}

/// READY's partial application object.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct PartialApplication {
    /// The application id.
    pub id: Snowflake,
}

/// `session_start_limit` of `GET /gateway/bot`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub struct SessionStartLimit {
    /// Identifies allowed per reset period.
    pub total: u32,
    /// Identifies left in this period.
    pub remaining: u32,
    /// Milliseconds until `remaining` resets.
    pub reset_after: u64,
    /// Identifies allowed per 5 s (identify buckets).
    pub max_concurrency: u32,
}

/// The body of `GET /gateway/bot`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct GatewayBot {
    /// The gateway URL, without query string (`wss://gateway.discord.gg`).
    pub url: String,
    /// Recommended shard count.
    #[serde(default)]
    pub shards: u32,
    /// Identify budget; absent in minimal fake servers.
    #[serde(default)]
    pub session_start_limit: Option<SessionStartLimit>,
}

/// Deserialises a bool where Discord may also send `null` (read as false).
fn null_as_false<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<bool, D::Error> {
    Ok(Option::<bool>::deserialize(deserializer)?.unwrap_or(false))
}

/// A list Discord may send as `null`: read as empty.
fn null_as_empty<'de, D: serde::Deserializer<'de>, T: Deserialize<'de>>(
    deserializer: D,
) -> Result<Vec<T>, D::Error> {
    Ok(Option::<Vec<T>>::deserialize(deserializer)?.unwrap_or_default())
}
