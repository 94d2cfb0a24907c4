//! The `discord` tool's server-level actions: message search, members,
//! roles, emoji, channel info and lists, voice states, scheduled events and
//! moderation. Each works within the turn's guild only ([`Planner::guild`]).

use serde_json::{json, Value};

use super::{done, first, get_channel, query, seg, Args, Finish, Planner};
use crate::rest::Method;
use crate::tools::payload::{self, each, timestamp_ms, utc_string};
use crate::tools::Action;

/// Plans one server-level action (any other is a bug: refused).
#[allow(clippy::too_many_lines)] // one arm per action
pub(super) fn plan(
    action: Action,
    p: &mut Planner<'_>,
    args: &Args<'_>,
    now_unix_ms: u64,
) -> Result<Finish, String> {
    Ok(match action {
        Action::SearchMessages => {
            let guild = p.guild(args)?;
            let channel = match args.id("channelId")? {
                Some(c) => {
                    p.in_scope(&c)?;
                    Some(c)
                }
                None => None,
            };
            let text = args.text("content")?;
            let author = args.id("authorId")?;
            if text.is_none() && channel.is_none() && author.is_none() {
                return Err("give at least one of `content`, `channelId`, `authorId`".to_owned());
            }
            let limit = args.int("limit", 1, 25)?.unwrap_or(25);
            let q = query(&[
                ("content", text),
                ("channel_id", channel),
                ("author_id", author),
                ("limit", Some(limit.to_string())),
            ]);
            p.api(
                Method::Get,
                "GET /guilds/{guild_id}/messages/search",
                format!("/guilds/{}/messages/search{q}", seg(&guild)),
                &guild,
                None,
            );
            done(|r| {
                let v = first(r);
                // `messages` is a list of lists: each hit with context.
                let messages: Vec<Value> = v
                    .get("messages")
                    .and_then(Value::as_array)
                    .map(|groups| {
                        groups
                            .iter()
                            .filter_map(|g| match g {
                                Value::Array(inner) => inner.first(),
                                other => Some(other),
                            })
                            .map(payload::message)
                            .collect()
                    })
                    .unwrap_or_default();
                if v.get("messages").is_none() {
                    return json!({"messages": [], "note": "the search index is not ready yet; try again in a few seconds"});
                }
                json!({"totalResults": v.get("total_results"), "messages": messages})
            })
        }
        Action::MemberInfo => {
            let guild = p.guild(args)?;
            let user = args.required_id("userId")?;
            p.api(
                Method::Get,
                "GET /guilds/{guild_id}/members/{user_id}",
                format!("/guilds/{}/members/{}", seg(&guild), seg(&user)),
                &guild,
                None,
            );
            done(|r| json!({"member": payload::member(first(r))}))
        }
        Action::RoleInfo => {
            let guild = p.guild(args)?;
            p.api(
                Method::Get,
                "GET /guilds/{guild_id}/roles",
                format!("/guilds/{}/roles", seg(&guild)),
                &guild,
                None,
            );
            done(|r| {
                let roles: Vec<Value> = first(r)
                    .as_array()
                    .map(|list| {
                        list.iter()
                            .map(|role| {
                                json!({
                                    "id": role.get("id"), "name": role.get("name"),
                                    "color": role.get("color"), "position": role.get("position"),
                                    "managed": role.get("managed"), "mentionable": role.get("mentionable"),
                                })
                            })
                            .collect()
                    })
                    .unwrap_or_default();
                json!({"roles": roles})
            })
        }
        Action::RoleAdd | Action::RoleRemove => {
            let add = action == Action::RoleAdd;
            let guild = p.guild(args)?;
            let user = args.required_id("userId")?;
            let role = args.required_id("roleId")?;
            let (method, route) = if add {
                (
                    Method::Put,
                    "PUT /guilds/{guild_id}/members/{user_id}/roles/{role_id}",
                )
            } else {
                (
                    Method::Delete,
                    "DELETE /guilds/{guild_id}/members/{user_id}/roles/{role_id}",
                )
            };
            p.api_with_reason(
                method,
                route,
                format!(
                    "/guilds/{}/members/{}/roles/{}",
                    seg(&guild),
                    seg(&user),
                    seg(&role)
                ),
                &guild,
                None,
                args.text("reason")?,
            );
            done(move |_| json!({"userId": user, "roleId": role, "added": add}))
        }
        Action::EmojiList => {
            let guild = p.guild(args)?;
            p.api(
                Method::Get,
                "GET /guilds/{guild_id}/emojis",
                format!("/guilds/{}/emojis", seg(&guild)),
                &guild,
                None,
            );
            done(|r| {
                let emojis: Vec<Value> = first(r)
                    .as_array()
                    .map(|list| {
                        list.iter()
                            .map(|e| json!({"id": e.get("id"), "name": e.get("name"), "animated": e.get("animated").and_then(Value::as_bool).unwrap_or(false), "use": payload::emoji_text(e)}))
                            .collect()
                    })
                    .unwrap_or_default();
                json!({"emojis": emojis})
            })
        }
        Action::ChannelInfo => {
            let channel = p.channel(args, "channelId")?;
            get_channel(p, &channel);
            done(|r| json!({"channel": payload::channel(first(r))}))
        }
        Action::ChannelList => {
            let guild = p.guild(args)?;
            p.api(
                Method::Get,
                "GET /guilds/{guild_id}/channels",
                format!("/guilds/{}/channels", seg(&guild)),
                &guild,
                None,
            );
            done(|r| json!({"channels": each(first(r), payload::channel)}))
        }
        Action::VoiceStatus => {
            let guild = p.guild(args)?;
            let user = args.required_id("userId")?;
            p.api(
                Method::Get,
                "GET /guilds/{guild_id}/voice-states/{user_id}",
                format!("/guilds/{}/voice-states/{}", seg(&guild), seg(&user)),
                &guild,
                None,
            );
            done(move |r| {
                let v = first(r);
                json!({
                    "userId": user, "channelId": v.get("channel_id"),
                    "mute": v.get("mute"), "deaf": v.get("deaf"),
                    "selfMute": v.get("self_mute"), "selfDeaf": v.get("self_deaf"),
                    "suppress": v.get("suppress"),
                })
            })
        }
        Action::EventList => {
            let guild = p.guild(args)?;
            p.api(
                Method::Get,
                "GET /guilds/{guild_id}/scheduled-events",
                format!("/guilds/{}/scheduled-events", seg(&guild)),
                &guild,
                None,
            );
            done(|r| json!({"events": each(first(r), event)}))
        }
        Action::EventCreate => {
            let guild = p.guild(args)?;
            let name = args.required_text("name")?;
            let start = iso_arg(args, "startTime")?
                .ok_or_else(|| "missing required argument `startTime`".to_owned())?;
            let end = iso_arg(args, "endTime")?;
            let mut body = json!({"name": name, "privacy_level": 2, "scheduled_start_time": start});
            if let Some(description) = args.text("description")? {
                body["description"] = json!(description);
            }
            if let Some(end) = &end {
                body["scheduled_end_time"] = json!(end);
            }
            match (args.id("channelId")?, args.text("location")?) {
                (Some(channel), _) => {
                    p.in_scope(&channel)?;
                    body["channel_id"] = json!(channel);
                    body["entity_type"] = json!(2);
                }
                (None, Some(location)) => {
                    if end.is_none() {
                        return Err("an event with a `location` needs an `endTime`".to_owned());
                    }
                    body["entity_type"] = json!(3);
                    body["entity_metadata"] = json!({"location": location});
                }
                (None, None) => {
                    return Err(
                        "give `channelId` (a voice channel) or `location` (with `endTime`)"
                            .to_owned(),
                    )
                }
            }
            p.api(
                Method::Post,
                "POST /guilds/{guild_id}/scheduled-events",
                format!("/guilds/{}/scheduled-events", seg(&guild)),
                &guild,
                Some(body),
            );
            done(|r| json!({"event": event(first(r))}))
        }
        Action::Timeout => {
            let guild = p.guild(args)?;
            let user = args.required_id("userId")?;
            let minutes = args
                .int("durationMinutes", 0, 40_320)?
                .ok_or_else(|| "missing required argument `durationMinutes`".to_owned())?;
            let until = if minutes == 0 {
                None
            } else {
                let ms = i64::try_from(now_unix_ms).unwrap_or(i64::MAX / 2) + minutes * 60_000;
                Some(utc_string(ms).ok_or_else(|| "the clock is out of range".to_owned())?)
            };
            p.api_with_reason(
                Method::Patch,
                "PATCH /guilds/{guild_id}/members/{user_id}",
                format!("/guilds/{}/members/{}", seg(&guild), seg(&user)),
                &guild,
                Some(json!({"communication_disabled_until": until})),
                args.text("reason")?,
            );
            done(move |_| json!({"userId": user, "until": until}))
        }
        Action::Kick => {
            let guild = p.guild(args)?;
            let user = args.required_id("userId")?;
            p.api_with_reason(
                Method::Delete,
                "DELETE /guilds/{guild_id}/members/{user_id}",
                format!("/guilds/{}/members/{}", seg(&guild), seg(&user)),
                &guild,
                None,
                args.text("reason")?,
            );
            done(move |_| json!({"userId": user, "kicked": true}))
        }
        Action::Ban => {
            let guild = p.guild(args)?;
            let user = args.required_id("userId")?;
            let days = args.int("deleteMessageDays", 0, 7)?.unwrap_or(0);
            p.api_with_reason(
                Method::Put,
                "PUT /guilds/{guild_id}/bans/{user_id}",
                format!("/guilds/{}/bans/{}", seg(&guild), seg(&user)),
                &guild,
                Some(json!({"delete_message_seconds": days * 86_400})),
                args.text("reason")?,
            );
            done(move |_| json!({"userId": user, "banned": true}))
        }
        other => return Err(format!("{other} is not a server action")),
    })
}

/// An ISO 8601 argument, normalized to `…Z` (an unreadable one is an error).
fn iso_arg(args: &Args<'_>, key: &str) -> Result<Option<String>, String> {
    let Some(raw) = args.text(key)? else {
        return Ok(None);
    };
    timestamp_ms(&raw)
        .and_then(utc_string)
        .map(Some)
        .ok_or_else(|| {
            format!("`{key}` must be an ISO 8601 time like 2025-03-14T18:00:00Z, got {raw:?}")
        })
}

/// A scheduled event, trimmed.
fn event(v: &Value) -> Value {
    json!({
        "id": v.get("id"), "name": v.get("name"), "description": v.get("description"),
        "scheduledStartTime": v.get("scheduled_start_time"),
        "scheduledEndTime": v.get("scheduled_end_time"),
        "channelId": v.get("channel_id"),
        "location": v.get("entity_metadata").and_then(|m| m.get("location")),
        "status": v.get("status"),
    })
}
