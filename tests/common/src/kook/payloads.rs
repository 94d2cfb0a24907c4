//! Event payloads a test sends through [`FakeKook::event`] (a PERSON or
//! GROUP KMarkdown message, the `added_reaction` system event), also as
//! [`FakeKook`] methods bound to its bot, and the message ids and event
//! frames the fake builds.

use std::sync::atomic::{AtomicU64, Ordering};

use serde_json::{json, Value};

use super::FakeKook;

static MSG_IDS: AtomicU64 = AtomicU64::new(0);

impl FakeKook {
    /// A PERSON (DM) KMarkdown event to this bot.
    pub fn person_text(&self, author_id: &str, content: &str) -> Value {
        person_text(&self.core.opts.bot_user_id, author_id, content)
    }

    /// A GROUP KMarkdown event; `mentions` are user ids (write
    /// `(met)id(met)` into `content` yourself).
    pub fn group_kmarkdown(
        &self,
        channel_id: &str,
        guild_id: &str,
        author_id: &str,
        content: &str,
        mentions: &[&str],
    ) -> Value {
        group_kmarkdown(channel_id, guild_id, author_id, content, mentions)
    }
}

/// A PERSON (DM) KMarkdown event `d` from `author_id` to `bot_id`, shaped
/// like `fixtures/kook/gateway/event_person_text.json`.
pub fn person_text(bot_id: &str, author_id: &str, content: &str) -> Value {
    json!({
        "channel_type": "PERSON",
        "type": 9,
        "target_id": bot_id,
        "author_id": author_id,
        "content": content,
        "extra": {
            "type": 9,
            "code": format!("{:0>32}", digits(author_id)),
            "author": author(author_id, false),
            "mention": [],
            "mention_all": false,
            "mention_roles": [],
            "mention_here": false,
            "nav_channels": [],
            "kmarkdown": {"raw_content": content, "mention_part": [], "mention_role_part": []}
        },
        "msg_id": next_msg_id(),
        "msg_timestamp": 1_741_944_490_044u64,
        "nonce": "",
        "verify_token": "xxx"
    })
}

/// A GROUP KMarkdown event `d`, shaped like
/// `fixtures/kook/gateway/event_group_kmarkdown_mention.json`.
pub fn group_kmarkdown(
    channel_id: &str,
    guild_id: &str,
    author_id: &str,
    content: &str,
    mentions: &[&str],
) -> Value {
    let parts: Vec<Value> = mentions
        .iter()
        .map(|id| {
            json!({"id": id, "username": format!("user-{id}"),
            "full_name": format!("user-{id}#0001"), "avatar": ""})
        })
        .collect();
    json!({
        "channel_type": "GROUP",
        "type": 9,
        "target_id": channel_id,
        "author_id": author_id,
        "content": content,
        "extra": {
            "type": 9,
            "guild_id": guild_id,
            "channel_name": "文字频道",
            "mention": mentions,
            "mention_all": false,
            "mention_roles": [],
            "mention_here": false,
            "nav_channels": [],
            "code": "",
            "author": author(author_id, false),
            "kmarkdown": {"raw_content": content, "mention_part": parts, "mention_role_part": []},
            "channel_type": 1
        },
        "msg_id": next_msg_id(),
        "msg_timestamp": 1_741_944_413_589u64,
        "nonce": "",
        "verify_token": "xxx"
    })
}

/// An `added_reaction` system event `d` (GROUP), shaped like
/// `fixtures/kook/gateway/event_added_reaction.json`.
pub fn added_reaction(
    guild_id: &str,
    channel_id: &str,
    msg_id: &str,
    user_id: &str,
    emoji: &str,
) -> Value {
    json!({
        "channel_type": "GROUP",
        "type": 255,
        "target_id": guild_id,
        "author_id": "1",
        "content": "[系统消息]",
        "extra": {
            "type": "added_reaction",
            "body": {
                "channel_id": channel_id,
                "channel_type": 1,
                "emoji": {"id": emoji, "name": emoji},
                "user_id": user_id,
                "msg_id": msg_id
            }
        },
        "msg_id": next_msg_id(),
        "msg_timestamp": 1_612_703_779_612u64,
        "nonce": "",
        "verify_token": "xxxx"
    })
}

/// A fresh uuid-shaped message id.
pub fn next_msg_id() -> String {
    let n = MSG_IDS.fetch_add(1, Ordering::Relaxed);
    format!("6a0e2d4c-3f1b-4c8a-9e7d-{n:012x}")
}

fn author(id: &str, bot: bool) -> Value {
    json!({
        "id": id,
        "username": format!("user-{id}"),
        "identify_num": "5618",
        "online": true,
        "os": "Websocket",
        "status": 1,
        "avatar": "https://img.kaiheila.cn/avatars/2020-02/xxxx.jpg/icon",
        "vip_avatar": "https://img.kaiheila.cn/avatars/2020-02/xxxx.jpg/icon",
        "nickname": format!("user-{id}"),
        "roles": [],
        "is_vip": false,
        "bot": bot,
        "mobile_verified": true
    })
}

fn digits(s: &str) -> String {
    s.chars().filter(char::is_ascii_digit).take(18).collect()
}

pub(super) fn event_frame(sn: u64, d: &Value) -> Value {
    json!({"s": 0, "d": d, "sn": sn})
}
