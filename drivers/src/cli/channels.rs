//! `krill channels status [--probe] [--json]`: which bot accounts the config
//! starts (token source, or why not), what the running gateway says about
//! each (`$KRILL_STATE_DIR/status.json`, see [`crate::status_file`]), and,
//! with `--probe`, what the platforms say about each token.
//!
//! Probes (10 s timeouts, through each account's `apiBaseUrl`):
//! - Discord: `GET /users/@me` (the bot; 401 = token rejected, and nothing
//!   more is sent with that token), `GET /gateway/bot` (identify budget),
//!   `GET /oauth2/applications/@me` (`flags` bits 18/19: Message Content
//!   intent), and a permission audit of every numeric channel id under
//!   `guilds.*.channels` (`GET /channels/{id}`, the guild's roles and the
//!   bot's member entry; View Channel, Send Messages and Read Message History
//!   are required). Slug or name keys cannot be audited and are listed as
//!   such (seed `discord.md`, Troubleshooting).
//! - KOOK: `GET /user/me`, `GET /gateway/index` (the URL it hands out carries
//!   a token and is never printed).
//!
//! Exit codes: 0 ok (without `--probe` always, whatever the gateway's
//! state), 1 a probe failed (token rejected, unreachable, identify budget
//! used up, a channel the bot cannot use), 2 bad config. No token is ever
//! printed.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::time::Duration;

use krill_core::access::{ChatKind, Place};
use krill_core::config::{
    resolve_accounts_report, Config, DiscordSettings, GuildConfig, KookSettings, Platform,
    ResolvedAccount, SkipReason, SkippedAccount, TokenSource,
};
use krill_core::rest::{self, discord, kook, Api, HttpRequest, Method, Response, RestError};
use krill_core::routing;
use krill_core::secret::Secret;
use serde_json::{json, Value};

use super::{EXIT_FAILURE, EXIT_OK};
use crate::config_file::load_or_exit;
use crate::http::{HttpClient, HttpClientConfig};
use crate::pairing_store::now_unix_ms;
use crate::paths::state_dir;
use crate::status_file::{self, human_duration, ChannelStatus, GatewayStatus, Liveness};

/// Timeout of each probe request (connect and whole call).
pub const PROBE_TIMEOUT: Duration = Duration::from_secs(10);

/// At most this many channels are audited per account (each costs a request).
pub const MAX_AUDITED_CHANNELS: usize = 25;

/// `flags` of the application: Message Content intent on (verified bots) /
/// on (unverified bots, under 100 guilds).
const APP_FLAG_MESSAGE_CONTENT: u64 = 1 << 18;
const APP_FLAG_MESSAGE_CONTENT_LIMITED: u64 = 1 << 19;
/// `flags`: Server Members intent (verified / limited).
const APP_FLAG_GUILD_MEMBERS: u64 = 1 << 14;
const APP_FLAG_GUILD_MEMBERS_LIMITED: u64 = 1 << 15;

/// Discord permission bits the audit checks.
const ADMINISTRATOR: u64 = 1 << 3;
const PERMISSIONS_REQUIRED: [(u64, &str); 3] = [
    (1 << 10, "View Channel"),
    (1 << 11, "Send Messages"),
    (1 << 16, "Read Message History"),
];
const PERMISSIONS_RECOMMENDED: [(u64, &str); 3] = [
    (1 << 14, "Embed Links"),
    (1 << 15, "Attach Files"),
    (1 << 6, "Add Reactions"),
];

/// `krill channels ...`
#[derive(Debug, clap::Subcommand)]
pub enum ChannelsCommand {
    /// Show each channel's state.
    Status {
        /// Also call the platforms' APIs to check the tokens and permissions.
        #[arg(long)]
        probe: bool,
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
}

/// How a probe went.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Level {
    Ok,
    Note,
    Warn,
    Fail,
}

impl Level {
    fn as_str(self) -> &'static str {
        match self {
            Level::Ok => "ok",
            Level::Note => "note",
            Level::Warn => "warn",
            Level::Fail => "FAIL",
        }
    }
}

/// One probe's result.
#[derive(Debug, Clone)]
struct Probe {
    level: Level,
    message: String,
}

/// One account, configured or seen in the gateway's status.
#[derive(Debug)]
struct Row {
    platform: String,
    account_id: String,
    name: Option<String>,
    token: Option<String>,
    skip: Option<SkipReason>,
    in_config: bool,
    live: Option<ChannelStatus>,
    state: String,
    details: String,
    warnings: Vec<String>,
    probes: Vec<Probe>,
}

/// What is known about the gateway process.
#[derive(Debug)]
enum GatewayView {
    Absent,
    Unreadable(String),
    Live(GatewayStatus),
    Dead(GatewayStatus),
    Stale(GatewayStatus, u64),
}

/// Runs a channels subcommand.
pub fn run(config: Option<&Path>, cmd: ChannelsCommand) -> i32 {
    let ChannelsCommand::Status { probe, json } = cmd;
    let loaded = match load_or_exit(config) {
        Ok(l) => l,
        Err(code) => return code,
    };
    let report = resolve_accounts_report(&loaded.config, &|k| std::env::var(k).ok());
    let state = state_dir();
    let now = now_unix_ms();
    let gateway = match status_file::read(&state) {
        Ok(None) => GatewayView::Absent,
        Err(e) => GatewayView::Unreadable(e.to_string()),
        Ok(Some(s)) => match s.liveness(now) {
            Liveness::Live => GatewayView::Live(s),
            Liveness::Dead => GatewayView::Dead(s),
            Liveness::Stale { age_ms } => GatewayView::Stale(s, age_ms),
        },
    };
    let live = match &gateway {
        GatewayView::Live(s) => Some(s),
        _ => None,
    };

    let mut rows: Vec<(Row, Option<&ResolvedAccount>)> = Vec::new();
    for a in &report.ready {
        rows.push((row_ready(a, live, now), Some(a)));
    }
    for s in &report.skipped {
        let mut row = row_skipped(s, live);
        row.name = configured_name(&loaded.config, s.platform, &s.account_id);
        rows.push((row, None));
    }
    if let Some(status) = live {
        for c in &status.channels {
            let known = rows
                .iter()
                .any(|(r, _)| r.platform == c.platform && r.account_id == c.account_id);
            if !known {
                rows.push((row_unconfigured(c, status.age_ms(now)), None));
            }
        }
    }
    rows.sort_by(|(a, _), (b, _)| {
        (platform_rank(&a.platform), &a.account_id)
            .cmp(&(platform_rank(&b.platform), &b.account_id))
    });

    if probe {
        let client = HttpClient::new(&HttpClientConfig {
            connect_timeout: PROBE_TIMEOUT,
            overall_timeout: PROBE_TIMEOUT,
            max_body_bytes: 4 * 1024 * 1024,
        });
        for (row, account) in &mut rows {
            let Some(account) = account else { continue };
            if let Some(d) = account.discord() {
                let live = row.live.clone();
                probe_discord(&client, account, d, live.as_ref(), &mut row.probes);
            } else if let Some(k) = account.kook() {
                probe_kook(&client, account, k, &mut row.probes);
            }
        }
    }
    let failed = rows
        .iter()
        .any(|(r, _)| r.probes.iter().any(|p| p.level == Level::Fail));
    let rows: Vec<Row> = rows.into_iter().map(|(r, _)| r).collect();

    if json {
        print_json(
            &loaded.location.path,
            loaded.from_file,
            &gateway,
            &rows,
            now,
            probe,
        );
    } else {
        print_table(
            &loaded.location.path,
            loaded.from_file,
            &gateway,
            &rows,
            now,
            probe,
        );
    }
    if failed {
        EXIT_FAILURE
    } else {
        EXIT_OK
    }
}

/// `discord/default`
pub(crate) fn account_label(platform: Platform, account_id: &str) -> String {
    format!("{}/{account_id}", platform.as_str())
}

/// Where an account's token comes from, for humans: `config
/// (channels.discord.token)` or `env (DISCORD_BOT_TOKEN)`. Never the token.
pub(crate) fn token_source_text(account: &ResolvedAccount) -> String {
    let p = account.platform.as_str();
    match account.token_source {
        TokenSource::Env => format!("env ({})", account.platform.token_env()),
        TokenSource::Config if account.account_id == krill_core::config::DEFAULT_ACCOUNT_ID => {
            format!("config (channels.{p}.token)")
        }
        TokenSource::Config => format!(
            "config (channels.{p}.accounts.{}.token)",
            account.account_id
        ),
    }
}

/// Why an account does not start, and what to do about it.
pub(crate) fn skip_text(s: &SkippedAccount) -> String {
    let p = s.platform.as_str();
    let default = s.account_id == krill_core::config::DEFAULT_ACCOUNT_ID;
    match s.reason {
        SkipReason::Disabled => "not started: disabled (enabled: false)".to_owned(),
        SkipReason::NoToken if default => format!(
            "not started: no token (set {} or channels.{p}.token)",
            s.platform.token_env()
        ),
        SkipReason::NoToken => format!(
            "not started: no token (set channels.{p}.accounts.{}.token; {} is only for the default account)",
            s.account_id,
            s.platform.token_env()
        ),
        _ => "not started".to_owned(),
    }
}

/// The `name` an account has in the config (for accounts that do not start,
/// which the resolver reports without settings).
fn configured_name(config: &Config, platform: Platform, account_id: &str) -> Option<String> {
    let default = account_id == krill_core::config::DEFAULT_ACCOUNT_ID;
    match platform {
        Platform::Kook => config.channels.kook.as_ref().and_then(|k| {
            k.accounts
                .get(account_id)
                .and_then(|a| a.name.clone())
                .or_else(|| default.then(|| k.name.clone()).flatten())
        }),
        _ => config.channels.discord.as_ref().and_then(|d| {
            d.accounts
                .get(account_id)
                .and_then(|a| a.name.clone())
                .or_else(|| default.then(|| d.name.clone()).flatten())
        }),
    }
}

fn platform_rank(p: &str) -> (u8, &str) {
    match p {
        "discord" => (0, p),
        "kook" => (1, p),
        _ => (2, p),
    }
}

fn row_ready(a: &ResolvedAccount, live: Option<&GatewayStatus>, now: u64) -> Row {
    let mut row = Row {
        platform: a.platform.as_str().to_owned(),
        account_id: a.account_id.clone(),
        name: a.name.clone(),
        token: Some(token_source_text(a)),
        skip: None,
        in_config: true,
        live: None,
        state: String::new(),
        details: String::new(),
        warnings: Vec::new(),
        probes: Vec::new(),
    };
    match live {
        None => {
            row.state = "not running".into();
            row.details = "starts with `krill gateway`".into();
        }
        Some(status) => match status.channel(a.platform.as_str(), &a.account_id) {
            Some(c) => fill_live(&mut row, c, status.age_ms(now)),
            None => {
                row.state = "not in gateway".into();
                row.details =
                    "the running gateway does not run this account (configured after it started?): restart it".into();
            }
        },
    }
    row
}

fn row_skipped(s: &SkippedAccount, live: Option<&GatewayStatus>) -> Row {
    let mut row = Row {
        platform: s.platform.as_str().to_owned(),
        account_id: s.account_id.clone(),
        name: None,
        token: None,
        skip: Some(s.reason),
        in_config: true,
        live: None,
        state: match s.reason {
            SkipReason::Disabled => "disabled".into(),
            _ => "no token".into(),
        },
        details: skip_text(s),
        warnings: Vec::new(),
        probes: Vec::new(),
    };
    if let Some(c) = live.and_then(|st| st.channel(s.platform.as_str(), &s.account_id)) {
        row.live = Some(c.clone());
        row.warnings.push(format!(
            "the running gateway still runs this account ({}); restart it to apply the config",
            c.state
        ));
    }
    row
}

fn row_unconfigured(c: &ChannelStatus, age_ms: u64) -> Row {
    let mut row = Row {
        platform: c.platform.clone(),
        account_id: c.account_id.clone(),
        name: None,
        token: None,
        skip: None,
        in_config: false,
        live: None,
        state: String::new(),
        details: String::new(),
        warnings: vec![
            "run by the gateway but no longer in the config: restart the gateway to drop it"
                .to_owned(),
        ],
        probes: Vec::new(),
    };
    fill_live(&mut row, c, age_ms);
    row
}

fn fill_live(row: &mut Row, c: &ChannelStatus, age_ms: u64) {
    let beat = if c.platform == "kook" {
        "PONG"
    } else {
        "heartbeat ACK"
    };
    let mut parts = vec![if c.connected {
        "connected".to_owned()
    } else {
        "not connected".to_owned()
    }];
    if let Some(ms) = c.since_last_event_ms {
        parts.push(format!("last event {} ago", human_duration(ms + age_ms)));
    }
    if let Some(ms) = c.since_last_ack_or_pong_ms {
        parts.push(format!("last {beat} {} ago", human_duration(ms + age_ms)));
    }
    parts.push(format!("{} reconnect(s)", c.reconnects));
    parts.push(format!("{} in, {} out", c.messages_in, c.replies_out));
    if let Some(e) = &c.last_error {
        parts.push(format!("last error: {e}"));
    }
    row.state = if c.state.is_empty() {
        "unknown".into()
    } else {
        c.state.clone()
    };
    row.details = parts.join("; ");
    row.warnings.extend(c.health_warnings(age_ms));
    row.warnings.extend(c.notices.iter().cloned());
    row.live = Some(c.clone());
}

// ---- probes ----

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

fn probe_discord(
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

/// The bot's roles and the guild's roles, to compute channel permissions.
struct GuildPerms {
    /// role id -> permissions
    roles: BTreeMap<String, u64>,
    /// the bot's role ids
    member_roles: BTreeSet<String>,
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
                out.push(note(format!(
                    "channels.discord.guilds.{}.channels.{}: not a numeric channel id, so its permissions can't be audited (use the channel id as the key to audit it)",
                    quote_key(guild_key),
                    quote_key(channel_key)
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
    let mut guilds: BTreeMap<String, Result<GuildPerms, String>> = BTreeMap::new();
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
            out.push(warn(format!(
                "{what} belongs to server {guild_id}, but is listed under channels.discord.guilds.{}",
                quote_key(&guild_key)
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
        let granted = channel_permissions(perms, guild_id, bot_id, &channel);
        let missing = |list: &[(u64, &'static str)]| -> Vec<&'static str> {
            list.iter()
                .filter(|(bit, _)| granted & bit == 0)
                .map(|(_, n)| *n)
                .collect()
        };
        let required = missing(&PERMISSIONS_REQUIRED);
        let recommended = missing(&PERMISSIONS_RECOMMENDED);
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
) -> Result<GuildPerms, String> {
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
    let roles = roles
        .as_array()
        .ok_or("the roles answer is not a list")?
        .iter()
        .filter_map(|r| {
            Some((
                r.get("id")?.as_str()?.to_owned(),
                permission_bits(r.get("permissions")?),
            ))
        })
        .collect();
    let member_roles = member
        .get("roles")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|r| r.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    Ok(GuildPerms {
        roles,
        member_roles,
    })
}

/// Permissions are strings in API v10 (numbers in older fakes).
fn permission_bits(v: &Value) -> u64 {
    match v {
        Value::String(s) => s.parse().unwrap_or(0),
        Value::Number(n) => n.as_u64().unwrap_or(0),
        _ => 0,
    }
}

/// The bot's permissions in `channel` (Discord docs, "Permissions":
/// base = @everyone | member roles; ADMINISTRATOR = all; then the @everyone
/// overwrite, the role overwrites together, the member overwrite).
fn channel_permissions(g: &GuildPerms, guild_id: &str, bot_id: &str, channel: &Value) -> u64 {
    let mut base = g.roles.get(guild_id).copied().unwrap_or(0);
    for r in &g.member_roles {
        base |= g.roles.get(r).copied().unwrap_or(0);
    }
    if base & ADMINISTRATOR != 0 {
        return u64::MAX;
    }
    let overwrites: Vec<(&str, u64, u64)> = channel
        .get("permission_overwrites")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|o| {
                    Some((
                        o.get("id")?.as_str()?,
                        o.get("allow").map_or(0, permission_bits),
                        o.get("deny").map_or(0, permission_bits),
                    ))
                })
                .collect()
        })
        .unwrap_or_default();
    let mut perms = base;
    if let Some((_, allow, deny)) = overwrites.iter().find(|(id, ..)| *id == guild_id) {
        perms = (perms & !deny) | allow;
    }
    let (mut allow, mut deny) = (0, 0);
    for (id, a, d) in &overwrites {
        if g.member_roles.contains(*id) {
            allow |= a;
            deny |= d;
        }
    }
    perms = (perms & !deny) | allow;
    if let Some((_, allow, deny)) = overwrites.iter().find(|(id, ..)| *id == bot_id) {
        perms = (perms & !deny) | allow;
    }
    perms
}

fn probe_kook(
    client: &HttpClient,
    account: &ResolvedAccount,
    k: &KookSettings,
    out: &mut Vec<Probe>,
) {
    let api = Api::new(
        rest::Platform::Kook,
        k.api_base_url.as_str(),
        account.token.clone(),
    );
    let user = match kook_call(client, &api, &kook::Request::UserMe, "GET /user/me") {
        Ok(Response::KookUser(u)) => u,
        Ok(_) => return out.push(fail("GET /user/me: unexpected answer".to_owned())),
        Err((p, _)) => return out.push(p),
    };
    out.push(ok(format!("bot {} (id {})", user.username, user.id)));
    if !user.bot {
        out.push(warn(
            "this token belongs to a user account, not a bot: create a bot at developer.kookapp.cn"
                .to_owned(),
        ));
    }
    let request = kook::Request::GatewayIndex {
        compress: k.compress,
    };
    match kook_call(client, &api, &request, "GET /gateway/index") {
        // The URL carries a token: say only that it came.
        Ok(Response::KookGateway(_)) => out.push(ok("gateway URL issued".to_owned())),
        Ok(_) => out.push(fail("GET /gateway/index: unexpected answer".to_owned())),
        Err((p, _)) => out.push(p),
    }
}

/// One KOOK request: HTTP status, then the envelope's `code`.
fn kook_call(
    client: &HttpClient,
    api: &Api,
    request: &kook::Request,
    what: &str,
) -> Result<Response, (Probe, bool)> {
    let hint = rest::Platform::Kook.token_hint();
    let rejected = |status: u16, code: Option<i64>| {
        (
            fail(RestError::Unauthorized { status, code, hint }.to_string()),
            true,
        )
    };
    let http = request.encode(api).map_err(|e| {
        (
            fail(format!("{what}: cannot build the request: {e}")),
            false,
        )
    })?;
    let (status, body) = match client.execute_blocking(&http) {
        Err(e) => return Err((fail(format!("{what}: unreachable: {e}")), false)),
        Ok(r) => (r.status, r.body),
    };
    let envelope = kook::Envelope::parse(&body);
    if status == 401 {
        return Err(rejected(401, envelope.ok().map(|e| e.code)));
    }
    let envelope = match envelope {
        Ok(e) => e,
        Err(_) if !(200..300).contains(&status) => {
            return Err((fail(format!("{what}: HTTP {status}")), false))
        }
        Err(why) => return Err((fail(format!("{what}: unreadable answer: {why}")), false)),
    };
    match kook::classify_code(envelope.code) {
        kook::CodeClass::Ok if (200..300).contains(&status) => request
            .decode_data(envelope.data)
            .map_err(|e| (fail(format!("{what}: unexpected answer: {e}")), false)),
        kook::CodeClass::Unauthorized => Err(rejected(status, Some(envelope.code))),
        _ => Err((
            fail(format!(
                "{what}: HTTP {status}, code {}: {}",
                envelope.code, envelope.message
            )),
            false,
        )),
    }
}

fn ok(message: String) -> Probe {
    Probe {
        level: Level::Ok,
        message,
    }
}
fn note(message: String) -> Probe {
    Probe {
        level: Level::Note,
        message,
    }
}
fn warn(message: String) -> Probe {
    Probe {
        level: Level::Warn,
        message,
    }
}
fn fail(message: String) -> Probe {
    Probe {
        level: Level::Fail,
        message,
    }
}

/// A config key as the config errors write it (quoted unless an identifier).
fn quote_key(key: &str) -> String {
    let ident = key
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    if ident {
        key.to_owned()
    } else {
        format!("{key:?}")
    }
}

// ---- output ----

fn gateway_line(gateway: &GatewayView, state: &Path, now: u64) -> String {
    match gateway {
        GatewayView::Absent => format!(
            "not running (no {})",
            status_file::path(state).display()
        ),
        GatewayView::Unreadable(e) => format!("unknown: {e}"),
        GatewayView::Live(s) => format!(
            "running (pid {}, up {}, status {} old)",
            s.pid,
            human_duration(now.saturating_sub(s.started_at_ms)),
            human_duration(s.age_ms(now))
        ),
        GatewayView::Dead(s) => format!(
            "not running (pid {} of the last status, {} ago, is gone)",
            s.pid,
            human_duration(s.age_ms(now))
        ),
        GatewayView::Stale(s, age) => format!(
            "pid {} exists but has not updated its status for {}: stuck? restart with `krill gateway --force`",
            s.pid,
            human_duration(*age)
        ),
    }
}

fn print_table(
    config_path: &Path,
    from_file: bool,
    gateway: &GatewayView,
    rows: &[Row],
    now: u64,
    probed: bool,
) {
    if from_file {
        println!("Config:  {}", config_path.display());
    } else {
        println!(
            "Config:  no file at {} (defaults; tokens from DISCORD_BOT_TOKEN / KOOK_BOT_TOKEN)",
            config_path.display()
        );
    }
    println!("Gateway: {}", gateway_line(gateway, &state_dir(), now));
    println!();
    let header = ["CHANNEL", "ACCOUNT", "TOKEN", "STATE", "DETAILS"];
    let cells: Vec<[String; 5]> = rows
        .iter()
        .map(|r| {
            let account = match &r.name {
                Some(n) => format!("{} ({n})", r.account_id),
                None => r.account_id.clone(),
            };
            [
                r.platform.clone(),
                account,
                r.token.clone().unwrap_or_else(|| "-".into()),
                r.state.clone(),
                r.details.clone(),
            ]
        })
        .collect();
    let mut widths = header.map(str::len);
    for c in &cells {
        for (w, s) in widths.iter_mut().zip(c.iter()) {
            *w = (*w).max(s.chars().count());
        }
    }
    let line = |c: [&str; 5]| {
        let mut s = String::new();
        for (i, cell) in c.iter().enumerate() {
            if i == 4 {
                s.push_str(cell);
            } else {
                s.push_str(&format!("{cell:<w$}  ", w = widths[i]));
            }
        }
        println!("{}", s.trim_end());
    };
    line(header);
    for c in &cells {
        line([&c[0], &c[1], &c[2], &c[3], &c[4]]);
    }
    let warnings: Vec<(String, &String)> = rows
        .iter()
        .flat_map(|r| {
            r.warnings
                .iter()
                .map(move |w| (format!("{}/{}", r.platform, r.account_id), w))
        })
        .collect();
    if !warnings.is_empty() {
        println!();
        for (who, w) in warnings {
            println!("warning: {who}: {w}");
        }
    }
    if !probed {
        if rows.iter().any(|r| r.token.is_some() && r.in_config) {
            println!();
            println!("Check the tokens and permissions with: krill channels status --probe");
        }
        return;
    }
    println!();
    let probed_rows: Vec<&Row> = rows.iter().filter(|r| !r.probes.is_empty()).collect();
    if probed_rows.is_empty() {
        println!("Probes: nothing to probe (no account has a token).");
        return;
    }
    println!("Probes:");
    let who_width = probed_rows
        .iter()
        .map(|r| r.platform.len() + 1 + r.account_id.len())
        .max()
        .unwrap_or(0);
    for r in probed_rows {
        let who = format!("{}/{}", r.platform, r.account_id);
        for p in &r.probes {
            println!(
                "  {who:<who_width$}  {:<4}  {}",
                p.level.as_str(),
                p.message
            );
        }
    }
}

fn print_json(
    config_path: &Path,
    from_file: bool,
    gateway: &GatewayView,
    rows: &[Row],
    now: u64,
    probed: bool,
) {
    let (running, status) = match gateway {
        GatewayView::Absent => ("absent", None),
        GatewayView::Unreadable(_) => ("unreadable", None),
        GatewayView::Live(s) => ("running", Some(s)),
        GatewayView::Dead(s) => ("dead", Some(s)),
        GatewayView::Stale(s, _) => ("stale", Some(s)),
    };
    let accounts: Vec<Value> = rows
        .iter()
        .map(|r| {
            let mut v = json!({
                "channel": r.platform,
                "accountId": r.account_id,
                "name": r.name,
                "inConfig": r.in_config,
                "starts": r.in_config && r.skip.is_none(),
                "tokenSource": r.token,
                "state": r.state,
                "details": r.details,
                "live": r.live,
                "warnings": r.warnings,
            });
            if probed {
                v["probes"] = r
                    .probes
                    .iter()
                    .map(|p| json!({"level": p.level.as_str().to_ascii_lowercase(), "message": p.message}))
                    .collect();
            }
            v
        })
        .collect();
    let doc = json!({
        "config": {"path": config_path, "fromFile": from_file},
        "gateway": {
            "state": running,
            "summary": gateway_line(gateway, &state_dir(), now),
            "pid": status.map(|s| s.pid),
            "startedAtMs": status.map(|s| s.started_at_ms),
            "updatedAtMs": status.map(|s| s.updated_at_ms),
        },
        "accounts": accounts,
    });
    println!("{doc:#}");
}

#[cfg(test)]
mod tests {
    use super::*;

    fn perms(roles: &[(&str, u64)], member_roles: &[&str]) -> GuildPerms {
        GuildPerms {
            roles: roles.iter().map(|(i, p)| ((*i).to_owned(), *p)).collect(),
            member_roles: member_roles.iter().map(|r| (*r).to_owned()).collect(),
        }
    }

    const VIEW: u64 = 1 << 10;
    const SEND: u64 = 1 << 11;
    const HISTORY: u64 = 1 << 16;

    #[test]
    fn overwrites_apply_everyone_then_roles_then_member() {
        let g = perms(&[("G", VIEW | SEND | HISTORY), ("R", 0)], &["R"]);
        let none = json!({});
        assert_eq!(
            channel_permissions(&g, "G", "B", &none),
            VIEW | SEND | HISTORY
        );
        // @everyone denied Send; the bot's role allows it back.
        let ch = json!({"permission_overwrites": [
            {"id": "G", "type": 0, "allow": "0", "deny": SEND.to_string()},
            {"id": "R", "type": 0, "allow": SEND.to_string(), "deny": "0"},
        ]});
        assert_eq!(
            channel_permissions(&g, "G", "B", &ch),
            VIEW | SEND | HISTORY
        );
        // A member overwrite denying View wins over everything.
        let ch = json!({"permission_overwrites": [
            {"id": "R", "type": 0, "allow": SEND.to_string(), "deny": "0"},
            {"id": "B", "type": 1, "allow": "0", "deny": VIEW.to_string()},
        ]});
        assert_eq!(channel_permissions(&g, "G", "B", &ch), SEND | HISTORY);
        // A role the bot does not have changes nothing.
        let ch = json!({"permission_overwrites": [
            {"id": "X", "type": 0, "allow": "0", "deny": VIEW.to_string()},
        ]});
        assert_eq!(
            channel_permissions(&g, "G", "B", &ch),
            VIEW | SEND | HISTORY
        );
    }

    #[test]
    fn administrator_ignores_overwrites() {
        let g = perms(&[("G", 0), ("A", ADMINISTRATOR)], &["A"]);
        let ch = json!({"permission_overwrites": [
            {"id": "G", "type": 0, "allow": "0", "deny": VIEW.to_string()},
        ]});
        assert_eq!(channel_permissions(&g, "G", "B", &ch), u64::MAX);
    }

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

    #[test]
    fn config_keys_are_quoted_like_config_errors() {
        assert_eq!(quote_key("help"), "help");
        assert_eq!(quote_key("123"), "\"123\"");
        assert_eq!(quote_key("my room"), "\"my room\"");
    }
}
