//! Dispatch payloads a test sends through [`FakeDiscord::dispatch`]
//! (MESSAGE_CREATE in a DM or a guild, MESSAGE_REACTION_ADD), the users in
//! them ([`Author`], and [`GuildMember`] for member search), and the ids
//! and frames the fake builds.

use super::*;

/// Ids the payload helpers hand out (an hour before `REST_ID_BASE_MS`,
/// never colliding with the REST side's).
const EVENT_ID_BASE_MS: u64 = 321_877_243_500;
static EVENT_IDS: AtomicU64 = AtomicU64::new(0);

/// A message author for the payload helpers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Author {
    /// User id.
    pub id: String,
    /// Username.
    pub username: String,
    /// `author.bot` (absent when false, as in the fixtures).
    pub bot: bool,
}

impl Author {
    /// A human user.
    pub fn user(id: &str, username: &str) -> Self {
        Self {
            id: id.into(),
            username: username.into(),
            bot: false,
        }
    }

    /// Another bot.
    pub fn bot(id: &str, username: &str) -> Self {
        Self {
            id: id.into(),
            username: username.into(),
            bot: true,
        }
    }

    /// The fixtures' user `nelly`.
    pub fn nelly() -> Self {
        Self::user(USER_ID, "nelly")
    }

    pub(super) fn to_json(&self) -> Value {
        let mut v = json!({
            "id": self.id,
            "username": self.username,
            "global_name": null,
            "discriminator": "0",
            "avatar": null,
            "public_flags": 0,
            "avatar_decoration_data": null,
        });
        if self.bot {
            v["bot"] = json!(true);
        }
        v
    }
}

/// A guild member the fake's member search can find.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GuildMember {
    /// The user.
    pub user: Author,
    /// The guild nickname, if any.
    pub nick: Option<String>,
}

impl GuildMember {
    /// A member without a nickname.
    pub fn new(user: Author) -> Self {
        Self { user, nick: None }
    }

    /// The guild member object (`developers/resources/guild.mdx`).
    pub fn to_json(&self) -> Value {
        json!({
            "user": self.user.to_json(),
            "nick": self.nick,
            "avatar": null,
            "roles": [],
            "joined_at": "2024-06-01T12:00:00.000000+00:00",
            "premium_since": null,
            "deaf": false,
            "mute": false,
            "flags": 0,
            "pending": false,
            "communication_disabled_until": null
        })
    }
}

/// A MESSAGE_CREATE `d` for a DM (no `guild_id`/`member`, `channel_type` 1),
/// shaped like `fixtures/discord/gateway/message_create_dm.json`.
pub fn message_create_dm(channel_id: &str, author: &Author, content: &str) -> Value {
    let mut d = message_base(channel_id, author, content, &[]);
    d["channel_type"] = json!(1);
    d
}

/// A MESSAGE_CREATE `d` in a guild channel, mentioning the user ids in
/// `mentions` (write `<@id>` into `content` yourself), shaped like
/// `fixtures/discord/gateway/message_create_guild.json`.
pub fn message_create_guild(
    channel_id: &str,
    guild_id: &str,
    author: &Author,
    content: &str,
    mentions: &[&str],
) -> Value {
    let mut d = message_base(channel_id, author, content, mentions);
    d["guild_id"] = json!(guild_id);
    d["member"] = json!({
        "roles": [],
        "nick": null,
        "avatar": null,
        "banner": null,
        "joined_at": "2021-06-03T18:44:12.512000+00:00",
        "premium_since": null,
        "deaf": false,
        "mute": false,
        "flags": 0,
        "pending": false,
        "communication_disabled_until": null
    });
    d["channel_type"] = json!(0);
    d
}

/// A MESSAGE_REACTION_ADD `d` (guild when `guild_id` is set, else DM), shaped
/// like `fixtures/discord/gateway/message_reaction_add.json`.
pub fn message_reaction_add(
    user_id: &str,
    channel_id: &str,
    message_id: &str,
    guild_id: Option<&str>,
    emoji_name: &str,
) -> Value {
    let mut d = json!({
        "user_id": user_id,
        "channel_id": channel_id,
        "message_id": message_id,
        "emoji": {"id": null, "name": emoji_name},
        "burst": false,
        "burst_colors": [],
        "type": 0
    });
    if let Some(g) = guild_id {
        d["guild_id"] = json!(g);
        d["member"] = json!({
            "user": Author::user(user_id, &format!("user-{user_id}")).to_json(),
            "roles": [], "nick": null, "joined_at": "2021-06-03T18:44:12.512000+00:00",
            "deaf": false, "mute": false, "flags": 0, "pending": false
        });
    }
    d
}

/// A fresh snowflake for payloads a test builds (never one the REST side
/// hands out).
pub fn next_event_id() -> String {
    snowflake(EVENT_ID_BASE_MS, EVENT_IDS.fetch_add(1, Ordering::Relaxed))
}

pub(super) fn message_base(
    channel_id: &str,
    author: &Author,
    content: &str,
    mentions: &[&str],
) -> Value {
    let mentions: Vec<Value> = mentions
        .iter()
        .map(|id| Author::user(id, &format!("user-{id}")).to_json())
        .collect();
    let id = next_event_id();
    json!({
        "id": id,
        "channel_id": channel_id,
        "author": author.to_json(),
        "content": content,
        "timestamp": "2025-03-14T09:26:53.589000+00:00",
        "edited_timestamp": null,
        "tts": false,
        "mention_everyone": false,
        "mentions": mentions,
        "mention_roles": [],
        "attachments": [],
        "embeds": [],
        "components": [],
        "pinned": false,
        "type": 0,
        "flags": 0,
        "nonce": id,
    })
}

pub(super) fn snowflake(base_ms: u64, n: u64) -> String {
    (((base_ms + n) << 22) | (n & 0xfff)).to_string()
}

pub(super) fn frame(op: u8, d: Value) -> String {
    json!({"op": op, "d": d, "s": null, "t": null}).to_string()
}
