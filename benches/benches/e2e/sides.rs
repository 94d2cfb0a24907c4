//! The platforms of the end-to-end benchmark: each fake server, what the
//! bots are told to reach it and how inbound messages and reply posts look.

use std::net::SocketAddr;

use krill_benches::stamp_proxy::Stamped;
use krill_testkit::discord::{message_create_guild, Author, CHANNEL_ID, GUILD_ID};
use krill_testkit::kook::person_text;
use krill_testkit::{FakeDiscord, FakeDiscordOptions, FakeKook, FakeKookOptions};
use serde_json::{json, Value};

use super::REPLY_TIMEOUT;

/// Guild channels the Discord load is spread over.
pub(crate) const DISCORD_CHANNELS: usize = 20;
/// KOOK users (DM chats) the KOOK load is spread over.
pub(crate) const KOOK_CHATS: usize = 50;

/// One platform's fake, the stamping proxy in front of its REST side and
/// what the bots need to talk to them.
pub(crate) trait Side {
    fn name(&self) -> &'static str;
    /// krill's config file text, with `api_base` (the proxy) as `apiBaseUrl`.
    fn config(&self, api_base: &str) -> String;
    /// The bot token.
    fn token(&self) -> String;
    /// The fake's REST address (the proxy's upstream).
    fn rest_addr(&self) -> SocketAddr;
    /// The path prefix of the API (`/api/v10`).
    fn api_prefix(&self) -> &'static str;
    fn wait_ready(&self) -> Result<(), String>;
    /// What the platform sends once a bot is ready (Discord: the guild).
    fn after_ready(&self) {}
    /// How many chats the load is spread over.
    fn chats(&self) -> usize;
    /// Sends inbound message number `i` in chat `chat` with text `e2e<i>`.
    fn send(&self, i: usize, chat: usize);
    /// The message number a request answers, if it is a reply post.
    fn reply_index(&self, request: &Stamped) -> Option<usize>;
}

fn port_of(url: &str) -> u16 {
    url.trim_start_matches("http://127.0.0.1:")
        .split('/')
        .next()
        .and_then(|p| p.parse().ok())
        .unwrap_or(0)
}

fn text_index(body: &[u8]) -> Option<usize> {
    let v: Value = serde_json::from_slice(body).ok()?;
    v.get("content")?
        .as_str()?
        .strip_prefix("e2e")?
        .parse()
        .ok()
}

/// Discord: guild text channels of the fixtures' guild, one author each.
pub(crate) struct DiscordSide {
    fake: FakeDiscord,
    /// krill's `globalRateLimit` (0: key left out).
    global_limit: usize,
    /// (channel id, author) per chat; chat 0 is the fixtures' channel.
    chats: Vec<(String, Author)>,
}

impl DiscordSide {
    pub(crate) fn start(global_limit: usize) -> Self {
        let chats = (0..DISCORD_CHANNELS)
            .map(|c| {
                let channel = match c {
                    0 => CHANNEL_ID.to_owned(),
                    c => format!("84925596722803{c:04}"),
                };
                let author = Author::user(&format!("9035111022467890{c:02}"), &format!("user{c}"));
                (channel, author)
            })
            .collect();
        Self {
            fake: FakeDiscord::start(FakeDiscordOptions::default()),
            global_limit,
            chats,
        }
    }

    /// GUILD_CREATE for the fixtures' guild with every bench channel
    /// (fields per Discord's Guild and Channel objects).
    fn guild_create(&self) -> Value {
        let channels: Vec<Value> = self
            .chats
            .iter()
            .enumerate()
            .map(|(i, (id, _))| {
                json!({
                    "id": id, "type": 0, "guild_id": GUILD_ID, "name": format!("bench-{i}"),
                    "position": i, "permission_overwrites": [], "nsfw": false,
                    "topic": null, "last_message_id": null, "parent_id": null,
                    "rate_limit_per_user": 0, "flags": 0
                })
            })
            .collect();
        json!({
            "id": GUILD_ID, "name": "Bench", "icon": null, "splash": null,
            "discovery_splash": null, "owner_id": "80351110224678912",
            "afk_channel_id": null, "afk_timeout": 300, "verification_level": 0,
            "default_message_notifications": 0, "explicit_content_filter": 0,
            "roles": [{"id": GUILD_ID, "name": "@everyone", "permissions": "1024",
                       "position": 0, "color": 0, "hoist": false, "managed": false,
                       "mentionable": false, "flags": 0}],
            "emojis": [], "stickers": [], "features": [], "mfa_level": 0,
            "system_channel_id": null, "system_channel_flags": 0,
            "rules_channel_id": null, "vanity_url_code": null, "description": null,
            "banner": null, "premium_tier": 0, "premium_subscription_count": 0,
            "preferred_locale": "en-US", "public_updates_channel_id": null,
            "nsfw_level": 0, "premium_progress_bar_enabled": false,
            "joined_at": "2021-06-03T18:44:12.512000+00:00", "large": false,
            "unavailable": false, "member_count": DISCORD_CHANNELS + 1,
            "voice_states": [], "members": [], "channels": channels, "threads": [],
            "presences": [], "stage_instances": [], "guild_scheduled_events": [],
            "soundboard_sounds": []
        })
    }
}

impl Side for DiscordSide {
    fn name(&self) -> &'static str {
        "discord"
    }

    fn config(&self, api_base: &str) -> String {
        let limit = match self.global_limit {
            0 => String::new(),
            n => format!("globalRateLimit: {n},"),
        };
        format!(
            r#"{{ channels: {{ discord: {{ token: "{}", apiBaseUrl: "{api_base}", {limit}
                 groupPolicy: "open", guilds: {{ "*": {{ requireMention: false }} }} }} }} }}"#,
            self.fake.options().token
        )
    }

    fn token(&self) -> String {
        self.fake.options().token.clone()
    }

    fn rest_addr(&self) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], port_of(&self.fake.api_base_url())))
    }

    fn api_prefix(&self) -> &'static str {
        "/api/v10"
    }

    fn wait_ready(&self) -> Result<(), String> {
        self.fake
            .wait_for_ready_client(REPLY_TIMEOUT)
            .map_err(|e| e.to_string())
    }

    fn after_ready(&self) {
        self.fake.dispatch("GUILD_CREATE", self.guild_create());
    }

    fn chats(&self) -> usize {
        self.chats.len()
    }

    fn send(&self, i: usize, chat: usize) {
        let (channel, author) = &self.chats[chat % self.chats.len()];
        self.fake.dispatch(
            "MESSAGE_CREATE",
            message_create_guild(channel, GUILD_ID, author, &format!("e2e{i}"), &[]),
        );
    }

    fn reply_index(&self, r: &Stamped) -> Option<usize> {
        let rest = r.path.strip_prefix("/api/v10/channels/")?;
        (r.method == "POST" && rest.ends_with("/messages"))
            .then(|| text_index(&r.body))
            .flatten()
    }
}

/// KOOK: DMs from [`KOOK_CHATS`] users.
pub(crate) struct KookSide {
    fake: FakeKook,
    users: Vec<String>,
}

impl KookSide {
    pub(crate) fn start() -> Self {
        let users = (0..KOOK_CHATS)
            .map(|c| match c {
                0 => krill_testkit::kook::USER_ID.to_owned(),
                c => format!("24183000{c:02}"),
            })
            .collect();
        Self {
            fake: FakeKook::start(FakeKookOptions::default()),
            users,
        }
    }
}

impl Side for KookSide {
    fn name(&self) -> &'static str {
        "kook"
    }

    fn config(&self, api_base: &str) -> String {
        format!(
            r#"{{ channels: {{ kook: {{ token: "{}", apiBaseUrl: "{api_base}" }} }} }}"#,
            self.fake.options().token
        )
    }

    fn token(&self) -> String {
        self.fake.options().token.clone()
    }

    fn rest_addr(&self) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], port_of(&self.fake.api_base_url())))
    }

    fn api_prefix(&self) -> &'static str {
        "/api/v3"
    }

    fn wait_ready(&self) -> Result<(), String> {
        self.fake
            .wait_for_ready_client(REPLY_TIMEOUT)
            .map_err(|e| e.to_string())
    }

    fn chats(&self) -> usize {
        self.users.len()
    }

    fn send(&self, i: usize, chat: usize) {
        let user = &self.users[chat % self.users.len()];
        let bot = &self.fake.options().bot_user_id;
        self.fake.event(person_text(bot, user, &format!("e2e{i}")));
    }

    fn reply_index(&self, r: &Stamped) -> Option<usize> {
        let path = r.path.strip_prefix("/api/v3")?;
        (r.method == "POST" && (path == "/direct-message/create" || path == "/message/create"))
            .then(|| text_index(&r.body))
            .flatten()
    }
}
