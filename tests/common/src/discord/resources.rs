//! The guild resources of [`FakeDiscord`]: channels, threads, stored
//! messages, pins, members and roles, and the REST routes the `discord`
//! tool's actions use, shaped as Discord's API v10 documents them
//! (`resources/channel`, `resources/message`, `resources/guild`):
//!
//! | route | answer |
//! |---|---|
//! | `GET /channels/{id}` | the channel, else 404 `Unknown Channel` (10003) |
//! | `GET /channels/{id}/messages?limit&before&after&around` | stored messages, newest first |
//! | `GET/PATCH/DELETE /channels/{id}/messages/{mid}` | the message / edited / 204 |
//! | `POST /channels/{id}/threads`, `POST /channels/{id}/messages/{mid}/threads` | a new thread channel (type 11) |
//! | `PUT/DELETE /channels/{id}/messages/pins/{mid}`, `GET /channels/{id}/messages/pins` | 204 / `{items: [{pinned_at, message}], has_more}` |
//! | `GET /guilds/{id}/threads/active` | `{threads, members: []}` |
//! | `GET /guilds/{id}/members/{uid}` | the member, else 404 `Unknown Member` (10007) |
//! | `GET /guilds/{id}/roles`, `PUT/DELETE /guilds/{id}/members/{uid}/roles/{rid}` | roles / 204 (recorded) |
//! | `GET /guilds/{id}/channels`, `GET /guilds/{id}/emojis` | lists |
//!
//! Channels are learned from GUILD_CREATE / CHANNEL_CREATE / THREAD_CREATE
//! dispatches and [`FakeDiscord::add_channel`]; messages from MESSAGE_CREATE
//! dispatches and the bot's own posts.

use std::collections::BTreeMap;

use serde_json::{json, Value};

use super::{ok_json, snowflake, value_str, Author, FakeDiscord, REST_ID_BASE_MS};
use crate::http::ScriptedResponse;

/// Ids this module hands out (threads), far from the other ranges.
const RESOURCE_ID_OFFSET: u64 = 1_000_000;

/// A role added or removed by the bot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoleChange {
    /// Guild.
    pub guild_id: String,
    /// Member.
    pub user_id: String,
    /// Role.
    pub role_id: String,
    /// True for `PUT` (add), false for `DELETE`.
    pub added: bool,
}

/// What the fake keeps of a guild's resources.
#[derive(Debug, Default)]
pub(super) struct Resources {
    channels: BTreeMap<String, Value>,
    messages: BTreeMap<String, Vec<Value>>,
    pins: BTreeMap<String, Vec<(String, String)>>,
    members: BTreeMap<(String, String), Value>,
    roles: BTreeMap<String, Vec<Value>>,
    role_changes: Vec<RoleChange>,
    next_id: u64,
}

impl Resources {
    /// Learns from a dispatch the test sends.
    pub(super) fn observe_dispatch(&mut self, t: &str, d: &Value) {
        match t {
            "MESSAGE_CREATE" => self.store_message(d.clone()),
            "CHANNEL_CREATE" | "THREAD_CREATE" => self.store_channel(d.clone(), None),
            "GUILD_CREATE" => {
                let guild = d.get("id").and_then(value_str);
                for key in ["channels", "threads"] {
                    for c in d.get(key).and_then(Value::as_array).into_iter().flatten() {
                        self.store_channel(c.clone(), guild.clone());
                    }
                }
            }
            _ => {}
        }
    }

    /// Keeps a message (a post, a MESSAGE_CREATE).
    pub(super) fn store_message(&mut self, message: Value) {
        if let Some(cid) = message.get("channel_id").and_then(value_str) {
            self.messages.entry(cid).or_default().push(message);
        }
    }

    fn store_channel(&mut self, mut channel: Value, guild: Option<String>) {
        if let (Some(g), None) = (guild, channel.get("guild_id")) {
            channel["guild_id"] = json!(g);
        }
        if let Some(id) = channel.get("id").and_then(value_str) {
            self.channels.insert(id, channel);
        }
    }

    fn new_id(&mut self) -> String {
        self.next_id += 1;
        snowflake(REST_ID_BASE_MS, RESOURCE_ID_OFFSET + self.next_id)
    }

    fn find_message(&self, cid: &str, mid: &str) -> Option<&Value> {
        self.messages
            .get(cid)?
            .iter()
            .find(|m| m.get("id").and_then(value_str).as_deref() == Some(mid))
    }

    /// Answers a route of the table above; `None` when it is not one.
    pub(super) fn route(
        &mut self,
        method: &str,
        seg: &[&str],
        query: &[(String, String)],
        body: &[u8],
        bot_id: &str,
    ) -> Option<ScriptedResponse> {
        let body: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
        let q = |k: &str| query.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
        Some(match (method, seg) {
            ("GET", ["channels", cid]) => match self.channels.get(*cid) {
                Some(c) => ok_json(c),
                None => unknown("Unknown Channel", 10003),
            },
            ("GET", ["channels", cid, "messages"]) => {
                let limit = q("limit").and_then(|l| l.parse().ok()).unwrap_or(50usize);
                let all = self.messages.get(*cid).cloned().unwrap_or_default();
                let id_of = |m: &Value| m.get("id").and_then(value_str).unwrap_or_default();
                let cmp = |a: &str, b: &str| (a.len(), a).cmp(&(b.len(), b));
                let mut picked: Vec<Value> = all
                    .into_iter()
                    .filter(|m| {
                        let id = id_of(m);
                        q("before").is_none_or(|b| cmp(&id, &b).is_lt())
                            && q("after").is_none_or(|a| cmp(&id, &a).is_gt())
                    })
                    .collect();
                picked.reverse();
                picked.truncate(limit.clamp(1, 100));
                ok_json(&Value::Array(picked))
            }
            ("GET", ["channels", cid, "messages", "pins"]) => {
                let items: Vec<Value> = self
                    .pins
                    .get(*cid)
                    .into_iter()
                    .flatten()
                    .rev()
                    .filter_map(|(mid, at)| {
                        let m = self.find_message(cid, mid)?;
                        Some(json!({"pinned_at": at, "message": m}))
                    })
                    .collect();
                ok_json(&json!({"items": items, "has_more": false}))
            }
            ("PUT", ["channels", cid, "messages", "pins", mid]) => {
                if self.find_message(cid, mid).is_none() {
                    return Some(unknown("Unknown Message", 10008));
                }
                let pins = self.pins.entry((*cid).to_owned()).or_default();
                if !pins.iter().any(|(m, _)| m == mid) {
                    pins.push((
                        (*mid).to_owned(),
                        "2025-03-14T10:00:00.000000+00:00".to_owned(),
                    ));
                }
                ScriptedResponse::empty(204)
            }
            ("DELETE", ["channels", cid, "messages", "pins", mid]) => {
                if let Some(pins) = self.pins.get_mut(*cid) {
                    pins.retain(|(m, _)| m != mid);
                }
                ScriptedResponse::empty(204)
            }
            ("GET", ["channels", cid, "messages", mid]) => match self.find_message(cid, mid) {
                Some(m) => ok_json(m),
                None => unknown("Unknown Message", 10008),
            },
            ("PATCH", ["channels", cid, "messages", mid]) => {
                let Some(list) = self.messages.get_mut(*cid) else {
                    return Some(unknown("Unknown Message", 10008));
                };
                let Some(m) = list
                    .iter_mut()
                    .find(|m| m.get("id").and_then(value_str).as_deref() == Some(*mid))
                else {
                    return Some(unknown("Unknown Message", 10008));
                };
                if let Some(content) = body.get("content") {
                    m["content"] = content.clone();
                    m["edited_timestamp"] = json!("2025-03-14T10:05:00.000000+00:00");
                }
                ok_json(m)
            }
            ("DELETE", ["channels", cid, "messages", mid]) => {
                if let Some(list) = self.messages.get_mut(*cid) {
                    list.retain(|m| m.get("id").and_then(value_str).as_deref() != Some(*mid));
                }
                ScriptedResponse::empty(204)
            }
            ("POST", ["channels", cid, "threads"]) => self.create_thread(cid, None, &body, bot_id),
            ("POST", ["channels", cid, "messages", mid, "threads"]) => {
                if self.find_message(cid, mid).is_none() {
                    return Some(unknown("Unknown Message", 10008));
                }
                self.create_thread(cid, Some(mid), &body, bot_id)
            }
            ("GET", ["guilds", gid, "threads", "active"]) => {
                let threads: Vec<&Value> = self
                    .channels
                    .values()
                    .filter(|c| in_guild(c, gid) && is_thread(c))
                    .collect();
                ok_json(&json!({"threads": threads, "members": []}))
            }
            ("GET", ["guilds", gid, "channels"]) => {
                let channels: Vec<&Value> = self
                    .channels
                    .values()
                    .filter(|c| in_guild(c, gid) && !is_thread(c))
                    .collect();
                ok_json(&json!(channels))
            }
            ("GET", ["guilds", gid, "members", uid]) => {
                match self.members.get(&((*gid).to_owned(), (*uid).to_owned())) {
                    Some(m) => ok_json(m),
                    None => unknown("Unknown Member", 10007),
                }
            }
            ("GET", ["guilds", gid, "roles"]) => {
                ok_json(&json!(self.roles.get(*gid).cloned().unwrap_or_default()))
            }
            ("PUT" | "DELETE", ["guilds", gid, "members", uid, "roles", rid]) => {
                self.role_changes.push(RoleChange {
                    guild_id: (*gid).to_owned(),
                    user_id: (*uid).to_owned(),
                    role_id: (*rid).to_owned(),
                    added: method == "PUT",
                });
                ScriptedResponse::empty(204)
            }
            ("GET", ["guilds", _, "emojis"]) => ok_json(&json!([])),
            _ => return None,
        })
    }

    fn create_thread(
        &mut self,
        cid: &str,
        from: Option<&str>,
        body: &Value,
        bot_id: &str,
    ) -> ScriptedResponse {
        let Some(parent) = self.channels.get(cid).cloned() else {
            return unknown("Unknown Channel", 10003);
        };
        let name = body.get("name").and_then(Value::as_str).unwrap_or_default();
        if name.is_empty() || name.chars().count() > 100 {
            return super::bad_request(50035, "Invalid Form Body");
        }
        // A thread started from a message has the message's id.
        let id = from.map_or_else(|| self.new_id(), str::to_owned);
        let thread = json!({
            "id": id,
            "type": body.get("type").cloned().unwrap_or(json!(11)),
            "guild_id": parent.get("guild_id"),
            "parent_id": cid,
            "name": name,
            "owner_id": bot_id,
            "thread_metadata": {
                "archived": false,
                "auto_archive_duration": body.get("auto_archive_duration").cloned().unwrap_or(json!(1440)),
                "archive_timestamp": "2025-03-14T10:00:00.000000+00:00",
                "locked": false
            },
            "message_count": 0,
            "member_count": 1
        });
        self.channels.insert(id, thread.clone());
        ScriptedResponse::json(201, &[], &thread)
    }
}

fn in_guild(channel: &Value, gid: &str) -> bool {
    channel.get("guild_id").and_then(value_str).as_deref() == Some(gid)
}

fn is_thread(channel: &Value) -> bool {
    matches!(channel.get("type").and_then(Value::as_u64), Some(10..=12))
}

fn unknown(message: &str, code: u32) -> ScriptedResponse {
    ScriptedResponse::json(404, &[], &json!({"message": message, "code": code}))
}

impl FakeDiscord {
    /// Adds a channel (`guild_id` `None`: a DM channel) of `kind` (0 text, 2
    /// voice, 11 thread...) as if it had come in GUILD_CREATE.
    pub fn add_channel(&self, guild_id: Option<&str>, channel_id: &str, name: &str, kind: u8) {
        let mut channel = json!({"id": channel_id, "type": kind, "name": name});
        if let Some(g) = guild_id {
            channel["guild_id"] = json!(g);
        }
        self.core
            .shared
            .update(|s| s.resources.store_channel(channel, None));
    }

    /// Makes `author` a member of `guild_id` (for `GET
    /// /guilds/{id}/members/{user}`).
    pub fn add_member(&self, guild_id: &str, author: &Author) {
        let member = json!({
            "user": author.to_json(), "nick": null, "roles": [],
            "joined_at": "2021-06-03T18:44:12.512000+00:00", "deaf": false, "mute": false,
            "flags": 0, "pending": false, "communication_disabled_until": null
        });
        self.core.shared.update(|s| {
            s.resources
                .members
                .insert((guild_id.to_owned(), author.id.clone()), member)
        });
    }

    /// Adds a role to `guild_id`.
    pub fn add_role(&self, guild_id: &str, role_id: &str, name: &str) {
        let role = json!({"id": role_id, "name": name, "color": 0, "position": 1,
                          "managed": false, "mentionable": true, "permissions": "0"});
        self.core.shared.update(|s| {
            s.resources
                .roles
                .entry(guild_id.to_owned())
                .or_default()
                .push(role)
        });
    }

    /// The message ids pinned in `channel_id`, in pin order.
    pub fn pinned(&self, channel_id: &str) -> Vec<String> {
        self.core
            .shared
            .lock()
            .resources
            .pins
            .get(channel_id)
            .map(|p| p.iter().map(|(m, _)| m.clone()).collect())
            .unwrap_or_default()
    }

    /// A channel the fake knows (learned or created), if any.
    pub fn channel(&self, channel_id: &str) -> Option<Value> {
        self.core
            .shared
            .lock()
            .resources
            .channels
            .get(channel_id)
            .cloned()
    }

    /// Threads the bot created (type 10-12 channels with the bot as owner).
    pub fn created_threads(&self) -> Vec<Value> {
        let bot = self.core.opts.bot_user_id.clone();
        self.core
            .shared
            .lock()
            .resources
            .channels
            .values()
            .filter(|c| {
                is_thread(c) && c.get("owner_id").and_then(Value::as_str) == Some(bot.as_str())
            })
            .cloned()
            .collect()
    }

    /// Roles the bot added or removed, in order.
    pub fn role_changes(&self) -> Vec<RoleChange> {
        self.core.shared.lock().resources.role_changes.clone()
    }
}
