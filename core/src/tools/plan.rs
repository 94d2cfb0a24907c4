//! What each action of the `discord` tool asks Discord (API v10 routes), how
//! its arguments are read and checked, and how its result is made from the
//! responses. Scope checks (channels and users within the turn's guild)
//! become steps of the plan; see [`super::run`]. Message, reaction, thread
//! and pin actions are here; server-level ones in `plan_guild.rs`.

use serde_json::{json, Map, Value};

use super::payload::{self, each};
use super::run::{ChannelFact, ChannelFacts, Step, TurnScope};
use super::Action;
use crate::rest::discord::{allowed_mentions_for, reaction_emoji, ApiCall, CreateMessage, Request};
use crate::rest::{path_segment, Method};

#[path = "plan_guild.rs"]
mod guild;

/// Makes the result's fields from the responses of the plan's calls.
pub(crate) type Finish = Box<dyn Fn(&[Value]) -> Value + Send + Sync>;

/// The steps of one call and how its result is made.
pub(crate) struct Planned {
    pub(crate) steps: Vec<Step>,
    pub(crate) finish: Finish,
}

/// Discord's longest message.
const MAX_CONTENT: usize = 2000;

/// The arguments a model sent.
struct Args<'a>(&'a Map<String, Value>);

impl Args<'_> {
    fn text(&self, key: &str) -> Result<Option<String>, String> {
        match self.0.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) if s.trim().is_empty() => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(Value::Number(n)) => Ok(Some(n.to_string())),
            Some(_) => Err(format!("`{key}` must be a string")),
        }
    }

    fn required_text(&self, key: &str) -> Result<String, String> {
        self.text(key)?
            .ok_or_else(|| format!("missing required argument `{key}`"))
    }

    /// A snowflake id; mention forms (`<#id>`, `<@id>`, `<@!id>`, `<@&id>`)
    /// and `channel:` / `user:` / `role:` prefixes are accepted.
    fn id(&self, key: &str) -> Result<Option<String>, String> {
        let Some(raw) = self.text(key)? else {
            return Ok(None);
        };
        snowflake(&raw)
            .map(Some)
            .ok_or_else(|| format!("`{key}` must be a Discord id (digits), got {raw:?}"))
    }

    fn required_id(&self, key: &str) -> Result<String, String> {
        self.id(key)?
            .ok_or_else(|| format!("missing required argument `{key}` (a Discord id)"))
    }

    fn int(&self, key: &str, min: i64, max: i64) -> Result<Option<i64>, String> {
        let value = match self.0.get(key) {
            None | Some(Value::Null) => return Ok(None),
            Some(Value::Number(n)) => n.as_f64().map(|f| f as i64),
            Some(Value::String(s)) => s.trim().parse::<i64>().ok(),
            Some(_) => None,
        };
        match value {
            Some(v) if (min..=max).contains(&v) => Ok(Some(v)),
            _ => Err(format!(
                "`{key}` must be a whole number from {min} to {max}"
            )),
        }
    }

    fn flag(&self, key: &str) -> Result<bool, String> {
        match self.0.get(key) {
            None | Some(Value::Null) => Ok(false),
            Some(Value::Bool(b)) => Ok(*b),
            Some(Value::String(s)) if s == "true" => Ok(true),
            Some(Value::String(s)) if s == "false" => Ok(false),
            Some(_) => Err(format!("`{key}` must be true or false")),
        }
    }

    fn list(&self, key: &str) -> Result<Vec<String>, String> {
        match self.0.get(key) {
            None | Some(Value::Null) => Ok(Vec::new()),
            Some(Value::Array(items)) => items
                .iter()
                .map(|v| match v {
                    Value::String(s) => Ok(s.clone()),
                    Value::Number(n) => Ok(n.to_string()),
                    _ => Err(format!("`{key}` must be a list of strings")),
                })
                .collect(),
            Some(Value::String(s)) => Ok(vec![s.clone()]),
            Some(_) => Err(format!("`{key}` must be a list of strings")),
        }
    }
}

/// `123`, `<#123>`, `<@123>`, `<@!123>`, `<@&123>`, `channel:123`,
/// `user:123`, `role:123` → `123` (1 to 20 digits).
pub(crate) fn snowflake(raw: &str) -> Option<String> {
    let s = raw.trim();
    let s = s
        .strip_prefix('<')
        .and_then(|s| s.strip_suffix('>'))
        .map(|inner| inner.trim_start_matches(['#', '@', '!', '&']))
        .unwrap_or(s);
    let s = ["channel:", "user:", "role:", "discord:"]
        .iter()
        .find_map(|p| s.strip_prefix(p))
        .unwrap_or(s);
    (!s.is_empty() && s.len() <= 20 && s.bytes().all(|b| b.is_ascii_digit())).then(|| s.to_owned())
}

/// Builds the plan of one call.
struct Planner<'a> {
    scope: &'a TurnScope,
    facts: &'a dyn ChannelFacts,
    steps: Vec<Step>,
}

impl Planner<'_> {
    /// The turn's guild, or the error for a DM.
    fn guild(&self, args: &Args<'_>) -> Result<String, String> {
        let guild =
            self.scope.guild_id.clone().ok_or_else(|| {
                "this action needs a server; this conversation is a DM".to_owned()
            })?;
        if let Some(named) = args.id("guildId")? {
            if named != guild {
                return Err(format!(
                    "guild {named} is another server; this conversation can only act in server {guild}"
                ));
            }
        }
        Ok(guild)
    }

    /// `key`'s channel (default: the turn's), checked to be in scope.
    fn channel(&mut self, args: &Args<'_>, key: &str) -> Result<String, String> {
        let id = args
            .id(key)?
            .unwrap_or_else(|| self.scope.channel_id.clone());
        self.in_scope(&id)?;
        Ok(id)
    }

    /// Refuses a channel outside the turn's guild or DM (or plans a lookup).
    fn in_scope(&mut self, id: &str) -> Result<(), String> {
        if id == self.scope.channel_id {
            return Ok(());
        }
        let Some(turn) = self.scope.guild_id.as_deref() else {
            return Err(format!(
                "this conversation is a DM: it can only act in its own channel ({}), not in {id}",
                self.scope.channel_id
            ));
        };
        match self.facts.channel(id) {
            ChannelFact::InGuild(g) if g == turn => Ok(()),
            ChannelFact::InGuild(_) => Err(format!(
                "channel {id} belongs to another server; this conversation can only act in server {turn}"
            )),
            ChannelFact::Direct => Err(format!(
                "channel {id} is a DM, not a channel of server {turn}"
            )),
            ChannelFact::Unknown => {
                self.steps.push(Step::CheckChannel(id.to_owned()));
                Ok(())
            }
        }
    }

    fn message(&self, args: &Args<'_>, default_current: bool) -> Result<String, String> {
        match args.id("messageId")? {
            Some(id) => Ok(id),
            None if default_current && !self.scope.message_id.is_empty() => {
                Ok(self.scope.message_id.clone())
            }
            None => Err("missing required argument `messageId` (ids appear as [discord message id: <id> channel: <channelId>])".to_owned()),
        }
    }

    fn call(&mut self, call: Request) {
        self.steps.push(Step::Call(call));
    }

    fn api(
        &mut self,
        method: Method,
        route: &'static str,
        path: String,
        major: &str,
        body: Option<Value>,
    ) {
        self.api_with_reason(method, route, path, major, body, None);
    }

    fn api_with_reason(
        &mut self,
        method: Method,
        route: &'static str,
        path: String,
        major: &str,
        body: Option<Value>,
        audit_reason: Option<String>,
    ) {
        self.call(Request::Api(ApiCall {
            method,
            route,
            path,
            major: major.to_owned(),
            body,
            audit_reason,
        }));
    }
}

fn seg(s: &str) -> String {
    path_segment(s)
}

fn content(args: &Args<'_>, key: &str) -> Result<String, String> {
    let text = args.required_text(key)?;
    let count = text.chars().count();
    if count > MAX_CONTENT {
        return Err(format!(
            "`{key}` has {count} characters; Discord allows at most {MAX_CONTENT}: shorten it or send several messages"
        ));
    }
    Ok(text)
}

fn query(pairs: &[(&str, Option<String>)]) -> String {
    let parts: Vec<String> = pairs
        .iter()
        .filter_map(|(k, v)| v.as_ref().map(|v| format!("{k}={}", seg(v))))
        .collect();
    if parts.is_empty() {
        String::new()
    } else {
        format!("?{}", parts.join("&"))
    }
}

fn first(r: &[Value]) -> &Value {
    r.first().unwrap_or(&Value::Null)
}

fn done(f: impl Fn(&[Value]) -> Value + Send + Sync + 'static) -> Finish {
    Box::new(f)
}

/// Plans `action` with `args` (see the module docs).
#[allow(clippy::too_many_lines)] // one arm per action
pub(crate) fn plan(
    action: Action,
    args: &Map<String, Value>,
    scope: &TurnScope,
    facts: &dyn ChannelFacts,
    now_unix_ms: u64,
) -> Result<Planned, String> {
    let args = Args(args);
    let mut p = Planner {
        scope,
        facts,
        steps: Vec::new(),
    };
    let finish: Finish = match action {
        Action::React => {
            let channel = p.channel(&args, "channelId")?;
            let message = p.message(&args, true)?;
            let emoji = args.required_text("emoji")?;
            reaction_emoji(&emoji).map_err(|_| {
                format!("`emoji` must be a Unicode emoji or <:name:id>, got {emoji:?}")
            })?;
            let remove = args.flag("remove")?;
            p.call(if remove {
                Request::DeleteOwnReaction {
                    channel_id: channel.clone(),
                    message_id: message.clone(),
                    emoji: emoji.clone(),
                }
            } else {
                Request::CreateReaction {
                    channel_id: channel.clone(),
                    message_id: message.clone(),
                    emoji: emoji.clone(),
                }
            });
            done(
                move |_| json!({"channelId": channel, "messageId": message, "emoji": emoji, "removed": remove}),
            )
        }
        Action::Reactions => {
            let channel = p.channel(&args, "channelId")?;
            let message = p.message(&args, true)?;
            p.api(
                Method::Get,
                "GET /channels/{channel_id}/messages/{message_id}",
                format!("/channels/{}/messages/{}", seg(&channel), seg(&message)),
                &channel,
                None,
            );
            let emoji = args.text("emoji")?;
            if let Some(emoji) = &emoji {
                let form = reaction_emoji(emoji).map_err(|_| {
                    format!("`emoji` must be a Unicode emoji or <:name:id>, got {emoji:?}")
                })?;
                let limit = args.int("limit", 1, 100)?.unwrap_or(25);
                p.api(
                    Method::Get,
                    "GET /channels/{channel_id}/messages/{message_id}/reactions/{emoji}",
                    format!(
                        "/channels/{}/messages/{}/reactions/{}?limit={limit}",
                        seg(&channel),
                        seg(&message),
                        seg(&form)
                    ),
                    &channel,
                    None,
                );
            }
            done(move |r| {
                let reactions = first(r)
                    .get("reactions")
                    .and_then(Value::as_array)
                    .map_or_else(|| json!([]), |list| payload::reaction_counts(list));
                let mut out =
                    json!({"channelId": channel, "messageId": message, "reactions": reactions});
                if let (Some(emoji), Some(users)) = (&emoji, r.get(1)) {
                    out["emoji"] = json!(emoji);
                    out["users"] = each(users, payload::user);
                }
                out
            })
        }
        Action::Sticker => {
            let channel = p.channel(&args, "channelId")?;
            let ids = args.list("stickerIds")?;
            if ids.is_empty() || ids.len() > 3 {
                return Err("`stickerIds` must list 1 to 3 sticker ids".to_owned());
            }
            let ids = ids
                .iter()
                .map(|s| {
                    snowflake(s).ok_or_else(|| format!("sticker id {s:?} is not a Discord id"))
                })
                .collect::<Result<Vec<_>, _>>()?;
            let text = args.text("content")?.unwrap_or_default();
            let body = json!({
                "content": text,
                "sticker_ids": ids,
                "allowed_mentions": allowed_mentions_for(&text, false, &p.scope.mentions),
            });
            p.api(
                Method::Post,
                "POST /channels/{channel_id}/messages",
                format!("/channels/{}/messages", seg(&channel)),
                &channel,
                Some(body),
            );
            done(move |r| json!({"channelId": channel, "messageId": first(r).get("id")}))
        }
        Action::Poll => {
            let channel = p.channel(&args, "channelId")?;
            let question = args.required_text("question")?;
            let answers = args.list("answers")?;
            if answers.is_empty() || answers.len() > 10 {
                return Err("`answers` must list 1 to 10 answers".to_owned());
            }
            let hours = args.int("durationHours", 1, 768)?.unwrap_or(24);
            let body = json!({
                "poll": {
                    "question": {"text": question},
                    "answers": answers.iter().map(|a| json!({"poll_media": {"text": a}})).collect::<Vec<_>>(),
                    "duration": hours,
                    "allow_multiselect": args.flag("allowMultiselect")?,
                },
                "allowed_mentions": {"parse": []},
            });
            p.api(
                Method::Post,
                "POST /channels/{channel_id}/messages",
                format!("/channels/{}/messages", seg(&channel)),
                &channel,
                Some(body),
            );
            done(move |r| json!({"channelId": channel, "messageId": first(r).get("id")}))
        }
        Action::Permissions => {
            let channel = p.channel(&args, "channelId")?;
            get_channel(&mut p, &channel);
            done(move |r| {
                let overwrites: Vec<Value> = first(r)
                    .get("permission_overwrites")
                    .and_then(Value::as_array)
                    .map(|list| {
                        list.iter()
                            .map(|o| {
                                json!({
                                    "id": o.get("id"),
                                    "type": if o.get("type").and_then(Value::as_i64) == Some(1) { "member" } else { "role" },
                                    "allow": o.get("allow"),
                                    "deny": o.get("deny"),
                                })
                            })
                            .collect()
                    })
                    .unwrap_or_default();
                json!({"channelId": channel, "permissionOverwrites": overwrites})
            })
        }
        Action::ReadMessages => {
            let channel = p.channel(&args, "channelId")?;
            let limit = args.int("limit", 1, 100)?.unwrap_or(20);
            let q = query(&[
                ("limit", Some(limit.to_string())),
                ("before", args.id("before")?),
                ("after", args.id("after")?),
                ("around", args.id("around")?),
            ]);
            p.api(
                Method::Get,
                "GET /channels/{channel_id}/messages",
                format!("/channels/{}/messages{q}", seg(&channel)),
                &channel,
                None,
            );
            done(
                move |r| json!({"channelId": channel, "messages": each(first(r), payload::message)}),
            )
        }
        Action::SendMessage => send_message(&mut p, &args)?,
        Action::EditMessage => {
            let channel = p.channel(&args, "channelId")?;
            let message = p.message(&args, false)?;
            let text = content(&args, "content")?;
            let body = json!({"content": text, "allowed_mentions": allowed_mentions_for(&text, false, &p.scope.mentions)});
            p.api(
                Method::Patch,
                "PATCH /channels/{channel_id}/messages/{message_id}",
                format!("/channels/{}/messages/{}", seg(&channel), seg(&message)),
                &channel,
                Some(body),
            );
            done(|r| json!({"message": payload::message(first(r))}))
        }
        Action::DeleteMessage => {
            let channel = p.channel(&args, "channelId")?;
            let message = p.message(&args, false)?;
            p.api(
                Method::Delete,
                "DELETE /channels/{channel_id}/messages/{message_id}",
                format!("/channels/{}/messages/{}", seg(&channel), seg(&message)),
                &channel,
                None,
            );
            done(move |_| json!({"channelId": channel, "messageId": message, "deleted": true}))
        }
        Action::ThreadCreate => {
            let channel = p.channel(&args, "channelId")?;
            let name = args.required_text("name")?;
            if name.chars().count() > 100 {
                return Err("`name` must be 1 to 100 characters".to_owned());
            }
            let archive = args.int("autoArchiveMinutes", 60, 10_080)?.unwrap_or(1440);
            if ![60, 1440, 4320, 10_080].contains(&archive) {
                return Err("`autoArchiveMinutes` must be 60, 1440, 4320 or 10080".to_owned());
            }
            match args.id("messageId")? {
                Some(message) => p.api(
                    Method::Post,
                    "POST /channels/{channel_id}/messages/{message_id}/threads",
                    format!(
                        "/channels/{}/messages/{}/threads",
                        seg(&channel),
                        seg(&message)
                    ),
                    &channel,
                    Some(json!({"name": name, "auto_archive_duration": archive})),
                ),
                None => p.api(
                    Method::Post,
                    "POST /channels/{channel_id}/threads",
                    format!("/channels/{}/threads", seg(&channel)),
                    &channel,
                    Some(json!({"name": name, "auto_archive_duration": archive, "type": 11})),
                ),
            }
            done(|r| json!({"thread": payload::channel(first(r))}))
        }
        Action::ThreadList => {
            let guild = p.guild(&args)?;
            let only = match args.id("channelId")? {
                Some(c) => {
                    p.in_scope(&c)?;
                    Some(c)
                }
                None => None,
            };
            p.api(
                Method::Get,
                "GET /guilds/{guild_id}/threads/active",
                format!("/guilds/{}/threads/active", seg(&guild)),
                &guild,
                None,
            );
            done(move |r| {
                let threads: Vec<Value> = first(r)
                    .get("threads")
                    .and_then(Value::as_array)
                    .map(|list| {
                        list.iter()
                            .filter(|t| {
                                only.as_deref().is_none_or(|c| {
                                    t.get("parent_id").and_then(Value::as_str) == Some(c)
                                })
                            })
                            .map(payload::channel)
                            .collect()
                    })
                    .unwrap_or_default();
                json!({"threads": threads})
            })
        }
        Action::ThreadReply => {
            let thread = args.required_id("threadId")?;
            p.in_scope(&thread)?;
            let text = content(&args, "content")?;
            p.call(Request::CreateMessage(CreateMessage {
                channel_id: thread.clone(),
                content: text,
                reply_to: None,
                nonce: None,
                mentions: p.scope.mentions.clone(),
            }));
            done(move |r| json!({"threadId": thread, "messageId": first(r).get("id")}))
        }
        Action::PinMessage | Action::UnpinMessage => {
            let pin = action == Action::PinMessage;
            let channel = p.channel(&args, "channelId")?;
            let message = p.message(&args, pin)?;
            let (method, route) = if pin {
                (
                    Method::Put,
                    "PUT /channels/{channel_id}/messages/pins/{message_id}",
                )
            } else {
                (
                    Method::Delete,
                    "DELETE /channels/{channel_id}/messages/pins/{message_id}",
                )
            };
            p.api(
                method,
                route,
                format!(
                    "/channels/{}/messages/pins/{}",
                    seg(&channel),
                    seg(&message)
                ),
                &channel,
                None,
            );
            done(move |_| json!({"channelId": channel, "messageId": message, "pinned": pin}))
        }
        Action::ListPins => {
            let channel = p.channel(&args, "channelId")?;
            let limit = args.int("limit", 1, 50)?.unwrap_or(50);
            p.api(
                Method::Get,
                "GET /channels/{channel_id}/messages/pins",
                format!("/channels/{}/messages/pins?limit={limit}", seg(&channel)),
                &channel,
                None,
            );
            done(move |r| {
                let v = first(r);
                // `{items: [{pinned_at, message}], has_more}`; the deprecated
                // `/pins` route answered a plain array of messages.
                let pins: Vec<Value> =
                    match (v.get("items").and_then(Value::as_array), v.as_array()) {
                        (Some(items), _) => items
                            .iter()
                            .map(|item| {
                                let mut m =
                                    payload::message(item.get("message").unwrap_or(&Value::Null));
                                if let Some(at) = item.get("pinned_at") {
                                    m["pinnedAt"] = at.clone();
                                }
                                m
                            })
                            .collect(),
                        (None, Some(list)) => list.iter().map(payload::message).collect(),
                        (None, None) => Vec::new(),
                    };
                json!({"channelId": channel, "pins": pins, "hasMore": v.get("has_more").and_then(Value::as_bool).unwrap_or(false)})
            })
        }
        _ => guild::plan(action, &mut p, &args, now_unix_ms)?,
    };
    Ok(Planned {
        steps: p.steps,
        finish,
    })
}

/// `GET /channels/{id}`.
fn get_channel(p: &mut Planner<'_>, channel: &str) {
    p.api(
        Method::Get,
        "GET /channels/{channel_id}",
        format!("/channels/{}", seg(channel)),
        channel,
        None,
    );
}

/// `sendMessage`: `to` is `channel:<id>` / `<#id>` or `user:<id>` / `<@id>`
/// (default: the current channel); a bare id is ambiguous.
fn send_message(p: &mut Planner<'_>, args: &Args<'_>) -> Result<Finish, String> {
    let text = content(args, "content")?;
    let reply_to = args.id("replyTo")?;
    let target = match args.text("to")? {
        None => match args.id("channelId")? {
            Some(c) => Target::Channel(c),
            None => Target::Channel(p.scope.channel_id.clone()),
        },
        Some(to) => parse_target(&to)?,
    };
    match target {
        Target::Channel(channel) => {
            p.in_scope(&channel)?;
            p.call(Request::CreateMessage(CreateMessage {
                channel_id: channel.clone(),
                content: text,
                reply_to,
                nonce: None,
                mentions: p.scope.mentions.clone(),
            }));
            Ok(done(
                move |r| json!({"to": format!("channel:{channel}"), "channelId": channel, "messageId": first(r).get("id")}),
            ))
        }
        Target::User(user) => {
            match p.scope.guild_id.clone() {
                Some(guild) => {
                    p.steps.push(Step::CheckMember {
                        guild_id: guild,
                        user_id: user.clone(),
                    });
                    p.steps.push(Step::DirectMessage {
                        user_id: user.clone(),
                        content: text,
                    });
                }
                None if user == p.scope.sender_id => {
                    let channel = p.scope.channel_id.clone();
                    p.call(Request::CreateMessage(CreateMessage {
                        channel_id: channel,
                        content: text,
                        reply_to,
                        nonce: None,
                        mentions: p.scope.mentions.clone(),
                    }));
                }
                None => {
                    return Err(format!(
                    "this conversation is a DM: it can only message its own user ({}), not {user}",
                    p.scope.sender_id
                ))
                }
            }
            Ok(done(move |r| {
                let posted = r.last().unwrap_or(&Value::Null);
                json!({"to": format!("user:{user}"), "channelId": posted.get("channel_id"), "messageId": posted.get("id")})
            }))
        }
    }
}

enum Target {
    Channel(String),
    User(String),
}

fn parse_target(to: &str) -> Result<Target, String> {
    let to = to.trim();
    let bad =
        || format!("`to` must be channel:<id> or user:<id>, got {to:?} (a bare id is ambiguous)");
    let channel = to
        .strip_prefix("channel:")
        .or_else(|| to.strip_prefix("<#").and_then(|s| s.strip_suffix('>')));
    if let Some(id) = channel {
        return snowflake(id).map(Target::Channel).ok_or_else(bad);
    }
    let user = to
        .strip_prefix("user:")
        .or_else(|| to.strip_prefix("discord:"))
        .or_else(|| to.strip_prefix("<@!").and_then(|s| s.strip_suffix('>')))
        .or_else(|| to.strip_prefix("<@").and_then(|s| s.strip_suffix('>')));
    match user {
        Some(id) => snowflake(id).map(Target::User).ok_or_else(bad),
        None => Err(bad()),
    }
}
