//! The fake Discord's application commands and interactions, from the
//! official docs (interactions/application-commands.mdx,
//! interactions/receiving-and-responding.mdx):
//!
//! - `GET /applications/{app}/commands` lists the global commands;
//!   `PUT /applications/{app}/commands` replaces them (bot token needed),
//!   each stored with an `id`, `application_id` and `version` added, and
//!   `required: false` / empty `options` omitted, as Discord returns them;
//! - [`FakeDiscord::dispatch_interaction`] sends INTERACTION_CREATE (type 2)
//!   with a fresh id and token;
//! - `POST /interactions/{id}/{token}/callback` (no bot token needed) must
//!   come within **3 seconds** of the dispatch: later, Discord answers 404
//!   `Unknown interaction` (10062), and so does the fake; a second callback
//!   gets 400 (40060, already acknowledged); answered 204;
//! - `PATCH /webhooks/{app}/{token}/messages/@original` edits the response
//!   (404 Unknown Webhook, 10015, before a callback); `POST
//!   /webhooks/{app}/{token}` adds a follow-up message.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use super::{next_event_id, ok_json, snowflake, Core, FakeDiscord, State, REST_ID_BASE_MS};
use crate::http::{Incoming, ScriptedResponse};
use crate::Timeout;

/// Discord's deadline for the first response to an interaction.
pub const CALLBACK_DEADLINE: Duration = Duration::from_secs(3);

/// What the bot did with one interaction.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct InteractionRecord {
    /// The interaction id.
    pub id: String,
    /// Its token.
    pub token: String,
    /// The callback body the fake accepted (within the deadline).
    pub callback: Option<Value>,
    /// How long after the dispatch the accepted callback came.
    pub callback_after: Option<Duration>,
    /// Callbacks refused for coming after the deadline.
    pub late_callbacks: usize,
    /// The content of each `PATCH .../messages/@original`, in order.
    pub original_edits: Vec<String>,
    /// Each follow-up message's body, in order.
    pub followups: Vec<Value>,
}

impl InteractionRecord {
    /// The callback's `type` (4 message, 5 deferred).
    pub fn callback_type(&self) -> Option<u64> {
        self.callback.as_ref()?.get("type")?.as_u64()
    }

    /// The callback's `data.content`.
    pub fn callback_content(&self) -> Option<&str> {
        self.callback
            .as_ref()?
            .get("data")?
            .get("content")?
            .as_str()
    }

    /// The callback's `data.flags` (64: ephemeral).
    pub fn callback_flags(&self) -> Option<u64> {
        self.callback.as_ref()?.get("data")?.get("flags")?.as_u64()
    }
}

/// The interaction side of the fake's state.
#[derive(Debug, Default)]
pub(crate) struct Interactions {
    commands: Vec<Value>,
    command_puts: Vec<Value>,
    command_gets: usize,
    records: Vec<InteractionRecord>,
    dispatched_at: HashMap<String, Instant>,
    next_token: u64,
}

/// Who runs a slash command in [`FakeDiscord::dispatch_interaction`].
#[derive(Debug, Clone)]
pub struct SlashCaller<'a> {
    /// The user.
    pub user: &'a super::Author,
    /// The channel.
    pub channel_id: &'a str,
    /// The guild, `None` in a DM.
    pub guild_id: Option<&'a str>,
}

impl FakeDiscord {
    /// Dispatches INTERACTION_CREATE for `/name` with string `options`
    /// (`(name, value)`); returns the interaction id.
    pub fn dispatch_interaction(
        &self,
        caller: &SlashCaller<'_>,
        name: &str,
        options: &[(&str, &str)],
    ) -> String {
        let id = next_event_id();
        let token = self.core.shared.update(|s| {
            s.interactions.next_token += 1;
            let token = format!("aW50ZXJhY3Rpb24.token-{}", s.interactions.next_token);
            s.interactions.records.push(InteractionRecord {
                id: id.clone(),
                token: token.clone(),
                ..InteractionRecord::default()
            });
            s.interactions
                .dispatched_at
                .insert(id.clone(), Instant::now());
            token
        });
        let options: Vec<Value> = options
            .iter()
            .map(|(n, v)| json!({"name": n, "type": 3, "value": v}))
            .collect();
        let mut d = json!({
            "id": id,
            "application_id": self.core.opts.bot_user_id,
            "type": 2,
            "token": token,
            "version": 1,
            "channel_id": caller.channel_id,
            "locale": "en-US",
            "app_permissions": "2248473465835073",
            "entitlements": [],
            "authorizing_integration_owners": {},
            "context": if caller.guild_id.is_some() { 0 } else { 1 },
            "data": {"id": next_event_id(), "name": name, "type": 1, "options": options},
        });
        match caller.guild_id {
            Some(guild) => {
                d["guild_id"] = json!(guild);
                d["channel"] = json!({"id": caller.channel_id, "type": 0, "guild_id": guild});
                d["member"] = json!({
                    "user": caller.user.to_json(), "roles": [], "nick": null,
                    "joined_at": "2021-06-03T18:44:12.512000+00:00", "deaf": false,
                    "mute": false, "flags": 0, "pending": false, "permissions": "2248473465835073"
                });
            }
            None => {
                d["channel"] = json!({"id": caller.channel_id, "type": 1});
                d["user"] = caller.user.to_json();
            }
        }
        self.dispatch("INTERACTION_CREATE", d);
        id
    }

    /// What happened to interaction `id`.
    pub fn interaction(&self, id: &str) -> Option<InteractionRecord> {
        let s = self.core.shared.lock();
        s.interactions.records.iter().find(|r| r.id == id).cloned()
    }

    /// Waits until interaction `id` got its callback.
    pub fn wait_for_callback(
        &self,
        id: &str,
        timeout: Duration,
    ) -> Result<InteractionRecord, Timeout> {
        self.wait_for_interaction(id, timeout, "a callback", |r| r.callback.is_some())
    }

    /// Waits until interaction `id`'s response was edited `n` times.
    pub fn wait_for_original_edits(
        &self,
        id: &str,
        n: usize,
        timeout: Duration,
    ) -> Result<InteractionRecord, Timeout> {
        self.wait_for_interaction(id, timeout, "edits of @original", |r| {
            r.original_edits.len() >= n
        })
    }

    fn wait_for_interaction(
        &self,
        id: &str,
        timeout: Duration,
        what: &str,
        done: impl Fn(&InteractionRecord) -> bool,
    ) -> Result<InteractionRecord, Timeout> {
        self.core.shared.wait_until(
            timeout,
            |s| {
                format!(
                    "{what} for interaction {id} (now {:?})",
                    s.interactions.records.iter().find(|r| r.id == id)
                )
            },
            |s| {
                s.interactions
                    .records
                    .iter()
                    .find(|r| r.id == id && done(r))
                    .cloned()
            },
        )
    }

    /// The global commands registered now.
    pub fn registered_commands(&self) -> Vec<Value> {
        self.core.shared.lock().interactions.commands.clone()
    }

    /// Every `PUT /applications/{app}/commands` body, in order.
    pub fn command_puts(&self) -> Vec<Value> {
        self.core.shared.lock().interactions.command_puts.clone()
    }

    /// How many `GET /applications/{app}/commands` were answered.
    pub fn command_gets(&self) -> usize {
        self.core.shared.lock().interactions.command_gets
    }

    /// Registers `commands` as if an earlier run had (test set-up).
    pub fn set_registered_commands(&self, commands: Vec<Value>) {
        self.core
            .shared
            .update(|s| s.interactions.commands = commands);
    }

    /// Waits until `GET /applications/{app}/commands` was answered `n` times.
    pub fn wait_for_command_gets(&self, n: usize, timeout: Duration) -> Result<(), Timeout> {
        self.core.shared.wait_until(
            timeout,
            |s| {
                format!(
                    "{n} command list fetches (got {})",
                    s.interactions.command_gets
                )
            },
            |s| (s.interactions.command_gets >= n).then_some(()),
        )
    }
}

/// Routes needing no bot token: interaction callbacks and webhooks.
pub(crate) fn route_token(s: &mut State, inc: &Incoming, seg: &[&str]) -> Option<ScriptedResponse> {
    let body: Value = serde_json::from_slice(&inc.body).unwrap_or(Value::Null);
    match (inc.method.as_str(), seg) {
        ("POST", ["interactions", id, token, "callback"]) => {
            let at = s.interactions.dispatched_at.get(*id).copied();
            let record = s
                .interactions
                .records
                .iter_mut()
                .find(|r| r.id == *id && r.token == *token);
            let (Some(record), Some(at)) = (record, at) else {
                return Some(unknown_interaction());
            };
            let after = at.elapsed();
            if after > CALLBACK_DEADLINE {
                record.late_callbacks += 1;
                return Some(unknown_interaction());
            }
            if record.callback.is_some() {
                return Some(error(
                    400,
                    40060,
                    "Interaction has already been acknowledged.",
                ));
            }
            if !matches!(body.get("type").and_then(Value::as_u64), Some(4 | 5)) {
                return Some(error(400, 50035, "Invalid Form Body"));
            }
            record.callback = Some(body);
            record.callback_after = Some(after);
            Some(ScriptedResponse::empty(204))
        }
        ("PATCH", ["webhooks", _, token, "messages", "@original"]) => {
            let record = match s.interactions.acknowledged(token) {
                Ok(record) => record,
                Err(unknown) => return Some(unknown),
            };
            let content = body["content"].as_str().unwrap_or_default().to_owned();
            record.original_edits.push(content.clone());
            Some(ok_json(
                &json!({"id": record.id, "content": content, "channel_id": "0"}),
            ))
        }
        ("POST", ["webhooks", _, token]) => {
            let record = match s.interactions.acknowledged(token) {
                Ok(record) => record,
                Err(unknown) => return Some(unknown),
            };
            record.followups.push(body);
            Some(ScriptedResponse::empty(204))
        }
        _ => None,
    }
}

/// Application command routes (bot token checked by the caller).
pub(crate) fn route_commands(
    core: &Core,
    s: &mut State,
    inc: &Incoming,
    seg: &[&str],
) -> Option<ScriptedResponse> {
    let ["applications", app, "commands"] = seg else {
        return None;
    };
    if *app != core.opts.bot_user_id {
        return Some(error(403, 50001, "Missing Access"));
    }
    match inc.method.as_str() {
        "GET" => {
            s.interactions.command_gets += 1;
            Some(ok_json(&Value::Array(s.interactions.commands.clone())))
        }
        "PUT" => {
            let Ok(Value::Array(list)) = serde_json::from_slice::<Value>(&inc.body) else {
                return Some(error(400, 50035, "Invalid Form Body"));
            };
            s.interactions.command_puts.push(Value::Array(list.clone()));
            let stored: Vec<Value> = list
                .into_iter()
                .map(|mut c| {
                    s.rest_ids += 1;
                    c["id"] = json!(snowflake(REST_ID_BASE_MS, s.rest_ids));
                    c["application_id"] = json!(app);
                    c["version"] = json!(snowflake(REST_ID_BASE_MS, s.rest_ids));
                    c["default_member_permissions"] = Value::Null;
                    if let Some(options) = c["options"].as_array_mut() {
                        for o in options.iter_mut() {
                            if o["required"] == json!(false) {
                                if let Some(map) = o.as_object_mut() {
                                    map.remove("required");
                                }
                            }
                        }
                        if options.is_empty() {
                            if let Some(map) = c.as_object_mut() {
                                map.remove("options");
                            }
                        }
                    }
                    c
                })
                .collect();
            s.interactions.commands = stored.clone();
            Some(ok_json(&Value::Array(stored)))
        }
        _ => Some(error(405, 0, "405: Method Not Allowed")),
    }
}

impl Interactions {
    /// The interaction whose webhook `token` names, once its callback came
    /// (before it the webhook does not exist); else Discord's 404.
    fn acknowledged(&mut self, token: &str) -> Result<&mut InteractionRecord, ScriptedResponse> {
        self.records
            .iter_mut()
            .find(|r| r.token == token && r.callback.is_some())
            .ok_or_else(|| error(404, 10015, "Unknown Webhook"))
    }
}

fn unknown_interaction() -> ScriptedResponse {
    error(404, 10062, "Unknown interaction")
}

fn error(status: u16, code: u32, message: &str) -> ScriptedResponse {
    ScriptedResponse::json(status, &[], &json!({"message": message, "code": code}))
}
