//! `--probe` for a Discord account: the bot (`GET /users/@me`), its identify
//! budget (`GET /gateway/bot`), the privileged intents the application's
//! `flags` grant, weighed against the running gateway, and a permission
//! audit of every numeric channel id under `guilds.*.channels` (the
//! computation is [`krill_core::discord::permissions`]).

use std::collections::BTreeMap;

use krill_core::access::{ChatKind, Place};
use krill_core::config::{DiscordSettings, GuildConfig, KeyPath, Platform, ResolvedAccount};
use krill_core::discord::permissions::{self, GuildPermissions};
use krill_core::rest::{self, discord, Api, HttpRequest, Method, Response, RestError};
use krill_core::routing;
use krill_core::secret::Secret;
use serde_json::Value;

use super::{fail, note, ok, warn, Level, Probe, MAX_AUDITED_CHANNELS};
use crate::http::HttpClient;
use crate::status_file::{human_duration, ChannelStatus};

/// `flags` of the application: Message Content intent on (verified bots) /
/// on (unverified bots, under 100 guilds).
const APP_FLAG_MESSAGE_CONTENT: u64 = 1 << 18;
const APP_FLAG_MESSAGE_CONTENT_LIMITED: u64 = 1 << 19;
/// `flags`: Server Members intent (verified / limited).
const APP_FLAG_GUILD_MEMBERS: u64 = 1 << 14;
const APP_FLAG_GUILD_MEMBERS_LIMITED: u64 = 1 << 15;

/// A request that got no usable answer.
enum CallError {
    /// No HTTP status at all.
    Unreachable(String),
    /// A non-2xx status.
    Status { status: u16, body: Vec<u8> },
}

fn call(client: &HttpClient, request: &HttpRequest) -> Result<Vec<u8>, CallError> {
    match client.execute_blocking(request) {
        Err(e) => Err(CallError::Unreachable(e.to_string())),
        Ok(r) if (200..300).contains(&r.status) => Ok(r.body),
        Ok(r) => Err(CallError::Status {
            status: r.status,
            body: r.body,
        }),
    }
}

/// A Discord failure, worded for the operator. `true` when the token was
/// rejected (stop probing with it).
fn discord_failure(what: &str, e: CallError) -> (Probe, bool) {
    let hint = rest::Platform::Discord.token_hint();
    match e {
        CallError::Unreachable(why) => (fail(format!("{what}: unreachable: {why}")), false),
        CallError::Status { status: 401, .. } => (
            fail(
                RestError::Unauthorized {
                    status: 401,
                    code: None,
                    hint,
                }
                .to_string(),
            ),
            true,
        ),
        CallError::Status { status, body } => {
            let err = discord::ErrorBody::parse(&body);
            let code = err.code.map(|c| format!(", code {c}")).unwrap_or_default();
            (
                fail(format!("{what}: HTTP {status}{code}: {}", err.message)),
                false,
            )
        }
    }
}

fn discord_api(d: &DiscordSettings, account: &ResolvedAccount) -> Api {
    Api::new(
        rest::Platform::Discord,
        d.api_base_url.as_str(),
        account.token.clone(),
    )
}

/// A GET on a Discord path the typed requests do not cover.
fn discord_get(api: &Api, token: &Secret, path: &str) -> HttpRequest {
    HttpRequest {
        method: Method::Get,
        url: format!("{}{path}", api.base_url()),
        authorization: Some(Secret::new(format!("Bot {}", token.expose()))),
        headers: vec![(
            "User-Agent".to_owned(),
            rest::Platform::Discord.user_agent(),
        )],
        body: None,
    }
}

fn typed(request: &discord::Request, api: &Api) -> Result<HttpRequest, Probe> {
    request
        .encode(api)
        .map_err(|e| fail(format!("cannot build the request: {e}")))
}

pub(super) fn probe_discord(
    client: &HttpClient,
    account: &ResolvedAccount,
    d: &DiscordSettings,
    live: Option<&ChannelStatus>,
    out: &mut Vec<Probe>,
) {
    let api = discord_api(d, account);
    // 1. Who am I (and is the token any good)?
    let request = match typed(&discord::Request::CurrentUser, &api) {
        Ok(r) => r,
        Err(p) => return out.push(p),
    };
    let bot = match call(client, &request) {
        Ok(body) => match discord::Request::CurrentUser.decode_success(&body) {
            Ok(Response::DiscordUser(u)) => u,
            Ok(_) | Err(_) => {
                return out.push(fail("GET /users/@me: unexpected answer".to_owned()));
            }
        },
        Err(e) => {
            let (p, _) = discord_failure("GET /users/@me", e);
            return out.push(p);
        }
    };
    out.push(ok(format!("bot {} (id {})", bot.username, bot.id)));

    // 2. Identify budget.
    if let Ok(request) = typed(&discord::Request::GatewayBot, &api) {
        match call(client, &request) {
            Ok(body) => match discord::Request::GatewayBot.decode_success(&body) {
                Ok(Response::DiscordGatewayBot(g)) => out.push(gateway_bot_probe(&g)),
                _ => out.push(warn("GET /gateway/bot: unexpected answer".to_owned())),
            },
            Err(e) => {
                let (p, rejected) = discord_failure("GET /gateway/bot", e);
                out.push(p);
                if rejected {
                    return;
                }
            }
        }
    }

    // 3. Privileged intents, from the application's flags.
    match call(
        client,
        &discord_get(&api, &account.token, "/oauth2/applications/@me"),
    ) {
        Ok(body) => {
            let flags = serde_json::from_slice::<Value>(&body)
                .ok()
                .and_then(|v| v.get("flags").and_then(Value::as_u64));
            match flags {
                Some(flags) => out.extend(intent_probes(
                    flags,
                    d.intents.unwrap_or(krill_core::discord::DEFAULT_INTENTS),
                    LiveIntents::of(live),
                )),
                None => out.push(note(
                    "could not read the application's flags: check Message Content Intent in the Developer Portal yourself"
                        .to_owned(),
                )),
            }
        }
        Err(e) => {
            let (mut p, rejected) = discord_failure("GET /oauth2/applications/@me", e);
            if !rejected {
                // Optional: the bot works without this answer.
                p.level = Level::Note;
                p.message.push_str(" (Message Content Intent not checked)");
            }
            out.push(p);
            if rejected {
                return;
            }
        }
    }

    // 4. Permission audit of the numeric channel ids.
    audit_channels(client, &api, account, d, &bot.id, out);
}

fn gateway_bot_probe(g: &discord::GatewayBot) -> Probe {
    let shards = format!(
        "{} shard{} recommended",
        g.shards,
        if g.shards == 1 { "" } else { "s" }
    );
    match g.session_start_limit {
        None => ok(format!("gateway reachable; {shards}")),
        Some(l) if l.remaining == 0 => fail(format!(
            "identify budget used up (0 of {} left, resets in {}): the gateway cannot connect until then; avoid restart loops",
            l.total,
            human_duration(l.reset_after)
        )),
        Some(l) if u64::from(l.remaining) * 10 < u64::from(l.total) => warn(format!(
            "identify budget low: {} of {} left (resets in {}); something restarts the bot often",
            l.remaining,
            l.total,
            human_duration(l.reset_after)
        )),
        Some(l) => ok(format!(
            "identify budget {} of {} left (resets in {}); {shards}",
            l.remaining,
            l.total,
            human_duration(l.reset_after)
        )),
    }
}

/// What the running gateway shows about the Message Content Intent: a
/// ready, connected channel (Discord accepted its Identify), and how many
/// guild messages from others arrived with text without mentioning the bot
/// (Discord blanks those unless the intent is in effect).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct LiveIntents {
    ready: bool,
    content_seen: u64,
}

impl LiveIntents {
    fn of(live: Option<&ChannelStatus>) -> Self {
        live.map_or_else(Self::default, |c| Self {
            ready: c.connected && c.state == "ready",
            content_seen: c.content_seen,
        })
    }
}

/// What the application's `flags` say about the privileged intents krill
/// asks for (`requested`: the `intents` override, else the default set),
/// weighed against the running gateway (`live`). Asking for an intent the
/// portal has off makes Discord close the gateway with 4014 "disallowed
/// intents" (a failure); not asking for Message Content means empty guild
/// messages unless mentioned (a warning). When the flags say "off" but a
/// ready gateway shows the intent working, the live evidence wins and the
/// disagreement is said plainly.
fn intent_probes(flags: u64, requested: u64, live: LiveIntents) -> Vec<Probe> {
    const INTENT_GUILD_MEMBERS: u64 = 1 << 1;
    const INTENT_MESSAGE_CONTENT: u64 = 1 << 15;
    let mut out = Vec::new();
    let content_on = flags & (APP_FLAG_MESSAGE_CONTENT | APP_FLAG_MESSAGE_CONTENT_LIMITED) != 0;
    let asked = requested & INTENT_MESSAGE_CONTENT != 0;
    if !content_on && asked && live.content_seen > 0 {
        out.push(warn(format!(
            "the application's flags say Message Content Intent is off, but the running gateway is {} and has received {} guild message(s) with text that did not mention the bot: the intent is in effect. The two disagree (the server may not report the flag, or it changed since): trust the live connection, and check the Developer Portal if messages arrive empty",
            if live.ready { "ready" } else { "up" },
            live.content_seen
        )));
    } else if !content_on && asked && live.ready {
        out.push(warn(
            "the application's flags say Message Content Intent is off, but the running gateway identified with it and is ready: Discord accepted the intent (a refused intent closes the connection with 4014). The two disagree; no guild message with text has arrived yet to confirm it: if guild messages arrive empty, enable Message Content Intent in the Developer Portal"
                .to_owned(),
        ));
    } else if !content_on && asked {
        out.push(fail(
            "Message Content Intent is off: enable Message Content Intent in the Developer Portal (Bot -> Privileged Gateway Intents), then restart the gateway; until then Discord refuses the connection (close 4014 \"disallowed intents\")"
                .to_owned(),
        ));
    } else if !content_on {
        out.push(warn(
            "Message Content Intent is off: enable Message Content Intent in the Developer Portal (and add 32768 to channels.discord.intents); until then guild messages arrive empty unless they mention the bot"
                .to_owned(),
        ));
    } else if !asked {
        out.push(warn(
            "Message Content Intent is enabled in the portal but channels.discord.intents does not ask for it (32768): guild messages arrive empty unless they mention the bot"
                .to_owned(),
        ));
    } else {
        out.push(ok("Message Content Intent is enabled".to_owned()));
    }
    let members_on = flags & (APP_FLAG_GUILD_MEMBERS | APP_FLAG_GUILD_MEMBERS_LIMITED) != 0;
    if !members_on && requested & INTENT_GUILD_MEMBERS != 0 {
        out.push(fail(
            "Server Members Intent is off but channels.discord.intents asks for it (2): enable it in the Developer Portal, or Discord refuses the connection (close 4014)"
                .to_owned(),
        ));
    } else if !members_on {
        out.push(note(
            "Server Members Intent is off (recommended: names in allowlists resolve to ids through member search)"
                .to_owned(),
        ));
    }
    out
}

fn audit_channels(
    client: &HttpClient,
    api: &Api,
    account: &ResolvedAccount,
    d: &DiscordSettings,
    bot_id: &str,
    out: &mut Vec<Probe>,
) {
    let mut numeric = Vec::new();
    for (guild_key, guild) in &d.guilds {
        for channel_key in guild.channels.iter().flat_map(|c| c.keys()) {
            let key = channel_key.trim();
            if key == "*" {
                continue;
            }
            if !key.is_empty() && key.bytes().all(|b| b.is_ascii_digit()) {
                numeric.push((guild_key.clone(), key.to_owned()));
            } else {
                let path = KeyPath::dotted("channels.discord.guilds")
                    .key(guild_key)
                    .key("channels")
                    .key(channel_key);
                out.push(note(format!(
                    "{path}: not a numeric channel id, so its permissions can't be audited (use the channel id as the key to audit it)"
                )));
            }
        }
    }
    if numeric.len() > MAX_AUDITED_CHANNELS {
        out.push(note(format!(
            "{} channels listed: auditing the first {MAX_AUDITED_CHANNELS}",
            numeric.len()
        )));
        numeric.truncate(MAX_AUDITED_CHANNELS);
    }
    let mut guilds: BTreeMap<String, Result<GuildPermissions, String>> = BTreeMap::new();
    for (guild_key, channel_id) in numeric {
        let what = format!("channel {channel_id}");
        let body = match call(
            client,
            &discord_get(api, &account.token, &format!("/channels/{channel_id}")),
        ) {
            Ok(b) => b,
            Err(CallError::Status { status: 403, .. }) => {
                out.push(fail(format!(
                    "{what}: the bot cannot see it (HTTP 403 Missing Access): grant it View Channel there, or invite it to that server"
                )));
                continue;
            }
            Err(CallError::Status { status: 404, .. }) => {
                out.push(fail(format!(
                    "{what}: not found (HTTP 404): wrong id, or the bot is not in its server"
                )));
                continue;
            }
            Err(e) => {
                let (p, rejected) = discord_failure(&what, e);
                out.push(p);
                if rejected {
                    return;
                }
                continue;
            }
        };
        let Ok(channel) = serde_json::from_slice::<Value>(&body) else {
            out.push(warn(format!("{what}: unreadable answer")));
            continue;
        };
        let name = channel.get("name").and_then(Value::as_str);
        let Some(guild_id) = channel.get("guild_id").and_then(Value::as_str) else {
            let what = format!("channel {channel_id} (#{})", name.unwrap_or("?"));
            out.push(note(format!(
                "{what}: not a server channel, nothing to audit"
            )));
            continue;
        };
        let what = audited_channel_label(&d.guilds, &guild_key, guild_id, &channel_id, name);
        if guild_key.bytes().all(|b| b.is_ascii_digit()) && guild_key != guild_id {
            let path = KeyPath::dotted("channels.discord.guilds").key(&guild_key);
            out.push(warn(format!(
                "{what} belongs to server {guild_id}, but is listed under {path}"
            )));
        }
        if matches!(channel.get("type").and_then(Value::as_u64), Some(10..=12)) {
            out.push(note(format!(
                "{what} is a thread: threads use their parent channel's permissions; audit the parent"
            )));
            continue;
        }
        let perms = guilds
            .entry(guild_id.to_owned())
            .or_insert_with(|| guild_perms(client, api, account, guild_id, bot_id));
        let perms = match perms {
            Ok(p) => p,
            Err(why) => {
                out.push(warn(format!("{what}: cannot audit: {why}")));
                continue;
            }
        };
        let granted = perms.in_channel(guild_id, bot_id, &channel);
        let required = permissions::missing(granted, &permissions::REQUIRED);
        let recommended = permissions::missing(granted, &permissions::RECOMMENDED);
        if !required.is_empty() {
            out.push(fail(format!(
                "{what}: missing {} (the bot cannot read or answer there): grant them to the bot's role in the channel settings",
                required.join(", ")
            )));
        } else if !recommended.is_empty() {
            out.push(warn(format!(
                "{what}: can read and send; missing {} (recommended)",
                recommended.join(", ")
            )));
        } else {
            out.push(ok(format!(
                "{what}: View Channel, Send Messages, Read Message History granted"
            )));
        }
    }
}

/// `discord:<guildSlug>#<channelSlug> (channel <id>)`: the display name the
/// logs use ([`routing::chat_label`]), with the id to act on. The guild's
/// name is not fetched: its slug comes from `guilds.<id>.slug`, else a slug
/// key it is listed under, else its id.
fn audited_channel_label(
    guilds: &BTreeMap<String, GuildConfig>,
    guild_key: &str,
    guild_id: &str,
    channel_id: &str,
    channel_name: Option<&str>,
) -> String {
    let listed_as = guild_key.trim();
    let guild = Place {
        id: guild_id.to_owned(),
        name: (!listed_as.is_empty()
            && !listed_as.bytes().all(|b| b.is_ascii_digit())
            && listed_as != "*")
            .then(|| listed_as.to_owned()),
    };
    let channel = Place {
        id: channel_id.to_owned(),
        name: channel_name.map(str::to_owned),
    };
    let label = routing::chat_label(
        Platform::Discord,
        guilds,
        ChatKind::Channel,
        Some(&guild),
        &channel,
        "",
    );
    format!("{label} (channel {channel_id})")
}

fn guild_perms(
    client: &HttpClient,
    api: &Api,
    account: &ResolvedAccount,
    guild_id: &str,
    bot_id: &str,
) -> Result<GuildPermissions, String> {
    let fetch = |path: String| -> Result<Value, String> {
        match call(client, &discord_get(api, &account.token, &path)) {
            Ok(body) => serde_json::from_slice(&body).map_err(|e| format!("GET {path}: {e}")),
            Err(CallError::Unreachable(why)) => Err(format!("GET {path}: unreachable: {why}")),
            Err(CallError::Status { status, body }) => Err(format!(
                "GET {path}: HTTP {status}: {}",
                discord::ErrorBody::parse(&body).message
            )),
        }
    };
    let roles = fetch(format!("/guilds/{guild_id}/roles"))?;
    let member = fetch(format!("/guilds/{guild_id}/members/{bot_id}"))?;
    GuildPermissions::from_api(&roles, &member).map_err(str::to_owned)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn intents_need_bit_18_or_19() {
        let default = krill_core::discord::DEFAULT_INTENTS;
        let levels = |flags, requested| {
            intent_probes(flags, requested, LiveIntents::default())
                .into_iter()
                .map(|p| p.level)
                .collect::<Vec<_>>()
        };
        assert_eq!(levels(1 << 18 | 1 << 14, default), vec![Level::Ok]);
        assert_eq!(levels(1 << 19 | 1 << 15, default), vec![Level::Ok]);
        assert_eq!(levels(1 << 19, default), vec![Level::Ok, Level::Note]);
        assert_eq!(levels(1 << 14, default), vec![Level::Fail]);
        assert_eq!(levels(1 << 14, default & !(1 << 15)), vec![Level::Warn]);
        assert_eq!(
            levels(1 << 18 | 1 << 14, default & !(1 << 15)),
            vec![Level::Warn]
        );
        assert_eq!(levels(1 << 18, default | 2), vec![Level::Ok, Level::Fail]);
        for requested in [default, default & !(1 << 15)] {
            assert!(intent_probes(0, requested, LiveIntents::default())[0]
                .message
                .contains("enable Message Content Intent in the Developer Portal"));
        }
    }

    #[test]
    fn a_ready_gateway_that_sees_message_content_outweighs_the_flags() {
        let default = krill_core::discord::DEFAULT_INTENTS;
        let seen = LiveIntents {
            ready: true,
            content_seen: 3,
        };
        let probes = intent_probes(1 << 14, default, seen);
        assert_eq!(probes[0].level, Level::Warn);
        assert!(probes[0].message.contains("the intent is in effect"));
        assert!(probes[0].message.contains("disagree"));
        assert!(!probes[0].message.contains("refuses the connection"));
        let ready = LiveIntents {
            ready: true,
            content_seen: 0,
        };
        let probes = intent_probes(1 << 14, default, ready);
        assert_eq!(probes[0].level, Level::Warn);
        assert!(probes[0].message.contains("disagree"));
        // Not running: the flags alone decide.
        assert_eq!(
            intent_probes(1 << 14, default, LiveIntents::default())[0].level,
            Level::Fail
        );
        // The flags say on: nothing to weigh.
        assert_eq!(
            intent_probes(1 << 18 | 1 << 14, default, seen)[0].level,
            Level::Ok
        );
    }
}
