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
//!   such (the Discord channel doc, Troubleshooting).
//! - KOOK: `GET /user/me`, `GET /gateway/index` (the URL it hands out carries
//!   a token and is never printed).
//!
//! Exit codes: 0 ok (without `--probe` always, whatever the gateway's
//! state), 1 a probe failed (token rejected, unreachable, identify budget
//! used up, a channel the bot cannot use), 2 bad config. No token is ever
//! printed.

mod discord_probe;
mod kook_probe;

use std::path::Path;
use std::time::Duration;

use krill_core::config::{
    resolve_accounts_report, Config, Platform, ResolvedAccount, SkipReason, SkippedAccount,
    TokenSource,
};
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
                discord_probe::probe_discord(&client, account, d, live.as_ref(), &mut row.probes);
            } else if let Some(k) = account.kook() {
                kook_probe::probe_kook(&client, account, k, &mut row.probes);
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

/// A probe's line at each level.
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
        outln!("Config:  {}", config_path.display());
    } else {
        outln!(
            "Config:  no file at {} (defaults; tokens from DISCORD_BOT_TOKEN / KOOK_BOT_TOKEN)",
            config_path.display()
        );
    }
    outln!("Gateway: {}", gateway_line(gateway, &state_dir(), now));
    outln!();
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
        outln!("{}", s.trim_end());
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
        outln!();
        for (who, w) in warnings {
            outln!("warning: {who}: {w}");
        }
    }
    if !probed {
        if rows.iter().any(|r| r.token.is_some() && r.in_config) {
            outln!();
            outln!("Check the tokens and permissions with: krill channels status --probe");
        }
        return;
    }
    outln!();
    let probed_rows: Vec<&Row> = rows.iter().filter(|r| !r.probes.is_empty()).collect();
    if probed_rows.is_empty() {
        outln!("Probes: nothing to probe (no account has a token).");
        return;
    }
    outln!("Probes:");
    let who_width = probed_rows
        .iter()
        .map(|r| r.platform.len() + 1 + r.account_id.len())
        .max()
        .unwrap_or(0);
    for r in probed_rows {
        let who = format!("{}/{}", r.platform, r.account_id);
        for p in &r.probes {
            outln!(
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
    outln!("{doc:#}");
}
