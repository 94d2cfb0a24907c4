//! `krill doctor`: checks the config and the local environment and prints
//! one actionable line per finding, `ok` / `warn` / `error`. Offline: it
//! reads files and the environment, never the network (that is
//! `krill channels status --probe`).
//!
//! Checks, in order: the config file (found, valid, its warnings, its mode
//! when it holds a token); the state dir (writable) and the credentials dir
//! (mode 0700, files 0600); a running gateway (`status.json`); each channel
//! account (token and its source, or why it does not start); Discord
//! `groupPolicy`, `dm.policy`, `intents`; KOOK `allowedUserId`; each agent's
//! backend (command program on `PATH`, `apiKeyEnv` set); pending pairing
//! requests.
//!
//! Exit codes: 0 no errors (warnings allowed), 1 at least one error, 2 the
//! config cannot be loaded. No token is ever printed.

use std::fmt;
use std::path::{Path, PathBuf};

use krill_core::access::{AccessPolicy, ResolvedAllowlists};
use krill_core::agent::BackendSpec;
use krill_core::config::{
    resolve_accounts_report, Config, DiscordSettings, DmPolicy, GroupPolicy, KookSettings,
    Platform, ResolvedAccount, SkipReason, TokenSource,
};

use super::channels::{account_label, skip_text, token_source_text};
use super::{EXIT_FAILURE, EXIT_OK, EXIT_USAGE};
use crate::config_file::{load, LoadedConfig};
use crate::pairing_store::{now_unix_ms, PairingStore};
use crate::paths::{credentials_dir, state_dir};
use crate::status_file::{self, human_duration, Liveness};

/// Discord intent bits doctor knows about (`docs/protocol-discord.md` § Intents).
const GUILD_MESSAGES: u64 = 1 << 9;
const DIRECT_MESSAGES: u64 = 1 << 12;
const MESSAGE_CONTENT: u64 = 1 << 15;

/// Flags of `krill doctor`.
#[derive(Debug, clap::Args)]
pub struct DoctorArgs {}

/// How bad a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Level {
    Ok,
    Warn,
    Error,
}

impl fmt::Display for Level {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(match self {
            Level::Ok => "ok",
            Level::Warn => "warn",
            Level::Error => "error",
        })
    }
}

/// The findings so far, printed as they come.
#[derive(Debug, Default)]
struct Findings {
    warnings: usize,
    errors: usize,
}

impl Findings {
    fn push(&mut self, level: Level, topic: &str, message: impl fmt::Display) {
        match level {
            Level::Ok => {}
            Level::Warn => self.warnings += 1,
            Level::Error => self.errors += 1,
        }
        outln!("{level:<5}  {topic}: {message}");
    }
    fn ok(&mut self, topic: &str, message: impl fmt::Display) {
        self.push(Level::Ok, topic, message);
    }
    fn warn(&mut self, topic: &str, message: impl fmt::Display) {
        self.push(Level::Warn, topic, message);
    }
    fn error(&mut self, topic: &str, message: impl fmt::Display) {
        self.push(Level::Error, topic, message);
    }
}

/// Runs the checks.
pub fn run(config: Option<&Path>, _args: DoctorArgs) -> i32 {
    let mut f = Findings::default();
    let loaded = match load(config) {
        Ok(loaded) => loaded,
        Err(e) => {
            for line in e.to_string().lines() {
                f.error("config", line);
            }
            outln!("\nThe config file must load before anything else can be checked.");
            return EXIT_USAGE;
        }
    };
    let env = |k: &str| std::env::var(k).ok();
    check_config_file(&mut f, &loaded);
    let state = state_dir();
    check_state_dir(&mut f, &state);
    check_gateway(&mut f, &state);
    check_channels(&mut f, &loaded.config, &env);
    check_agents(&mut f, &loaded.config, &env);
    check_pairing(&mut f, &state);

    outln!();
    match (f.errors, f.warnings) {
        (0, 0) => outln!("All checks passed."),
        (e, w) => outln!("{e} error(s), {w} warning(s)."),
    }
    if f.errors > 0 {
        EXIT_FAILURE
    } else {
        EXIT_OK
    }
}

fn check_config_file(f: &mut Findings, loaded: &LoadedConfig) {
    let path = loaded.location.path.display();
    if !loaded.from_file {
        f.ok(
            "config",
            format_args!(
                "no file at {path}: using defaults (echo agent; channels start from DISCORD_BOT_TOKEN / KOOK_BOT_TOKEN)"
            ),
        );
        return;
    }
    f.ok("config", format_args!("{path} is valid"));
    for w in loaded.warnings.iter().chain(&loaded.no_effect) {
        f.warn(
            "config",
            format_args!("{path}:{}:{}: {}: {}", w.line, w.column, w.path, w.message),
        );
    }
    if !config_holds_token(&loaded.config) {
        return;
    }
    match group_or_world_bits(&loaded.location.path) {
        Some(0) | None => f.ok("config", "holds a bot token and only its owner can read it"),
        Some(mode) => f.warn(
            "config",
            format_args!(
                "{path} holds a bot token and is readable by other users (mode {mode:04o}): run `chmod 600 {path}` (or move the token to DISCORD_BOT_TOKEN / KOOK_BOT_TOKEN)"
            ),
        ),
    }
}

/// True when any `token` is written in the file.
fn config_holds_token(config: &Config) -> bool {
    let discord = config
        .channels
        .discord
        .as_ref()
        .is_some_and(|d| d.token.is_some() || d.accounts.values().any(|a| a.token.is_some()));
    let kook = config
        .channels
        .kook
        .as_ref()
        .is_some_and(|k| k.token.is_some() || k.accounts.values().any(|a| a.token.is_some()));
    discord || kook
}

/// The full mode of `path` when group or others have any access bit, `Some(0)`
/// when they have none, `None` when unknown (not Unix, unreadable metadata).
fn group_or_world_bits(path: &Path) -> Option<u32> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(path).ok()?.permissions().mode() & 0o7777;
        Some(if mode & 0o077 == 0 { 0 } else { mode })
    }
    #[cfg(not(unix))]
    {
        let _ = path;
        None
    }
}

fn check_state_dir(f: &mut Findings, state: &Path) {
    let shown = state.display();
    if !state.exists() {
        f.ok(
            "state dir",
            format_args!("{shown} does not exist yet (created on first use)"),
        );
        return;
    }
    if !state.is_dir() {
        f.error(
            "state dir",
            format_args!("{shown} is not a directory: set KRILL_STATE_DIR to a directory"),
        );
        return;
    }
    let probe = state.join(format!(".krill-doctor-{}", std::process::id()));
    match std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&probe)
    {
        Ok(_) => {
            let _ = std::fs::remove_file(&probe);
            f.ok("state dir", format_args!("{shown} is writable"));
        }
        Err(e) => f.error(
            "state dir",
            format_args!(
                "{shown} is not writable ({e}): fix its owner/permissions or set KRILL_STATE_DIR"
            ),
        ),
    }
    let creds = credentials_dir(state);
    if !creds.is_dir() {
        return;
    }
    let cshown = creds.display();
    match group_or_world_bits(&creds) {
        Some(0) => f.ok("credentials", format_args!("{cshown} is private (0700)")),
        Some(mode) => f.warn(
            "credentials",
            format_args!(
                "{cshown} is mode {mode:04o}: other users can see pairing approvals; run `chmod 700 {cshown}`"
            ),
        ),
        None => {}
    }
    let open_files: Vec<PathBuf> = std::fs::read_dir(&creds)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.is_file() && group_or_world_bits(p).is_some_and(|m| m != 0))
        .collect();
    for p in open_files {
        f.warn(
            "credentials",
            format_args!(
                "{} is readable by other users: run `chmod 600 {}`",
                p.display(),
                p.display()
            ),
        );
    }
}

fn check_gateway(f: &mut Findings, state: &Path) {
    let now = now_unix_ms();
    match status_file::read(state) {
        Ok(None) => f.ok("gateway", "not running (no status file)"),
        Err(e) => f.warn("gateway", format_args!("unreadable status file: {e}")),
        Ok(Some(status)) => match status.liveness(now) {
            Liveness::Live => {
                f.ok(
                    "gateway",
                    format_args!(
                        "running (pid {}, up {})",
                        status.pid,
                        human_duration(now.saturating_sub(status.started_at_ms))
                    ),
                );
                for c in &status.channels {
                    let warnings = c.health_warnings(status.age_ms(now));
                    for w in warnings.iter().chain(&c.notices) {
                        f.warn(&format!("{}/{}", c.platform, c.account_id), w);
                    }
                }
            }
            Liveness::Dead => f.ok(
                "gateway",
                format_args!("not running (pid {} of the last status is gone)", status.pid),
            ),
            Liveness::Stale { age_ms } => f.warn(
                "gateway",
                format_args!(
                    "pid {} exists but its status is {} old: the gateway may be stuck; restart it with `krill gateway --force`",
                    status.pid,
                    human_duration(age_ms)
                ),
            ),
        },
    }
}

fn check_channels(f: &mut Findings, config: &Config, env: &dyn Fn(&str) -> Option<String>) {
    let report = resolve_accounts_report(config, env);
    for s in &report.skipped {
        let topic = account_label(s.platform, &s.account_id);
        let configured = match s.platform {
            Platform::Kook => config.channels.kook.is_some(),
            _ => config.channels.discord.is_some(),
        };
        match s.reason {
            SkipReason::NoToken if configured => f.warn(&topic, skip_text(s)),
            _ => f.ok(&topic, skip_text(s)),
        }
    }
    if report.ready.is_empty() {
        f.warn(
            "channels",
            "no channel has a token: `krill gateway` has nothing to connect (set DISCORD_BOT_TOKEN or KOOK_BOT_TOKEN, or channels.<channel>.token)",
        );
    }
    for account in &report.ready {
        let topic = account_label(account.platform, &account.account_id);
        check_token(f, &topic, account, env);
        let warnings =
            AccessPolicy::new(config, account, ResolvedAllowlists::default()).startup_warnings();
        for w in &warnings {
            f.warn(&topic, w);
        }
        if let Some(d) = account.discord() {
            check_discord(f, &topic, d);
        } else if let Some(k) = account.kook() {
            check_kook(f, &topic, k);
        }
    }
}

fn check_token(
    f: &mut Findings,
    topic: &str,
    account: &ResolvedAccount,
    env: &dyn Fn(&str) -> Option<String>,
) {
    let token = account.token.expose();
    let mut line = format!("token from {}", token_source_text(account));
    let env_var = account.platform.token_env();
    if account.token_source == TokenSource::Config
        && account.account_id == krill_core::config::DEFAULT_ACCOUNT_ID
        && env(env_var).is_some_and(|v| !v.trim().is_empty())
    {
        line.push_str(&format!(
            " ({env_var} is also set and ignored: the config takes precedence)"
        ));
    }
    f.ok(topic, line);
    let trimmed = token.trim();
    if trimmed.len() >= 4 && trimmed[..4].eq_ignore_ascii_case("bot ") {
        f.error(
            topic,
            "the token starts with \"Bot \": krill adds that prefix itself; remove it",
        );
    } else if trimmed != token || token.chars().any(char::is_whitespace) {
        f.warn(
            topic,
            "the token contains spaces or line breaks: paste it again without them",
        );
    } else if account.platform == Platform::Discord && token.split('.').count() != 3 {
        f.warn(
            topic,
            "the token does not look like a Discord bot token (three parts separated by dots): copy it from Developer Portal -> Bot -> Reset Token, not the client secret or public key",
        );
    }
}

fn check_discord(f: &mut Findings, topic: &str, d: &DiscordSettings) {
    // groupPolicy: the two risky cases are startup warnings already.
    match d.group_policy {
        GroupPolicy::Open if d.section_present => f.ok(
            topic,
            "groupPolicy \"open\": every guild channel the bot can read (requireMention still applies, default true)",
        ),
        GroupPolicy::Allowlist if !d.guilds.is_empty() => f.ok(
            topic,
            format_args!(
                "groupPolicy \"allowlist\": only the {} guild entr{} under channels.discord.guilds",
                d.guilds.len(),
                if d.guilds.len() == 1 { "y" } else { "ies" }
            ),
        ),
        GroupPolicy::Disabled => f.ok(topic, "groupPolicy \"disabled\": guild channels are ignored"),
        _ => {}
    }
    if !d.dm.enabled {
        f.ok(topic, "DMs are off (dm.enabled: false)");
    } else {
        match d.dm.policy {
            DmPolicy::Pairing => f.ok(
                topic,
                "dm.policy \"pairing\": unknown senders get a code; approve it with `krill pairing approve discord <code>`",
            ),
            DmPolicy::Allowlist => f.ok(
                topic,
                format_args!(
                    "dm.policy \"allowlist\": only dm.allowFrom ({} entr{}) and approved pairings may DM the bot",
                    d.dm.allow_from.len(),
                    if d.dm.allow_from.len() == 1 { "y" } else { "ies" }
                ),
            ),
            DmPolicy::Disabled => f.ok(topic, "dm.policy \"disabled\": DMs are ignored"),
            _ => {}
        }
    }
    if let Some(intents) = d.intents {
        if intents & MESSAGE_CONTENT == 0 {
            f.warn(
                topic,
                format_args!(
                    "channels.discord.intents ({intents}) lacks MESSAGE_CONTENT (32768): guild messages arrive with empty text unless they mention the bot; add 32768 (and enable Message Content Intent in the Developer Portal)"
                ),
            );
        }
        if intents & GUILD_MESSAGES == 0 {
            f.warn(
                topic,
                format_args!("channels.discord.intents ({intents}) lacks GUILD_MESSAGES (512): no guild messages arrive at all"),
            );
        }
        if intents & DIRECT_MESSAGES == 0 {
            f.warn(
                topic,
                format_args!("channels.discord.intents ({intents}) lacks DIRECT_MESSAGES (4096): no DMs arrive at all"),
            );
        }
    }
    f.ok(
        topic,
        "Message Content Intent must be on in the Developer Portal (Bot -> Privileged Gateway Intents); `krill channels status --probe` checks it",
    );
}

fn check_kook(f: &mut Findings, topic: &str, k: &KookSettings) {
    if !k.allowed_user_ids.is_empty() {
        f.ok(
            topic,
            format_args!(
                "allowedUserId: only {} may talk to the bot",
                k.allowed_user_ids.join(", ")
            ),
        );
    }
}

fn check_agents(f: &mut Findings, config: &Config, env: &dyn Fn(&str) -> Option<String>) {
    let default_id = config.default_agent_id();
    let mut ids: Vec<&str> = config.agents.list.iter().map(|a| a.id.as_str()).collect();
    if ids.is_empty() {
        ids.push(default_id);
    }
    for id in ids {
        let topic = if id == default_id {
            format!("agent {id} (default)")
        } else {
            format!("agent {id}")
        };
        match config.backend_for(id) {
            BackendSpec::Echo => f.ok(
                &topic,
                "echo backend: replies with the inbound text (set agents.list[].backend for a real agent)",
            ),
            BackendSpec::Command { command, .. } => {
                let Some(program) = command.first() else {
                    f.error(&topic, "command backend with an empty command");
                    continue;
                };
                match find_program(program, env) {
                    Ok(path) => f.ok(
                        &topic,
                        format_args!("command backend: {program} ({})", path.display()),
                    ),
                    Err(why) => f.error(&topic, format_args!("command backend: {why}")),
                }
            }
            BackendSpec::OpenAi {
                base_url,
                model,
                api_key_env,
                ..
            } => {
                f.ok(
                    &topic,
                    format_args!("openai backend: model {model} at {base_url}"),
                );
                if let Some(var) = api_key_env {
                    if env(&var).is_some_and(|v| !v.trim().is_empty()) {
                        f.ok(&topic, format_args!("apiKeyEnv {var} is set"));
                    } else {
                        f.error(
                            &topic,
                            format_args!(
                                "apiKeyEnv {var} is not set in this environment: every turn will fail; export {var} where the gateway runs"
                            ),
                        );
                    }
                }
            }
        }
    }
}

/// Where `program` would be found: a path (with a `/`) as is, relative to
/// the working directory; a bare name on `$PATH`.
fn find_program(program: &str, env: &dyn Fn(&str) -> Option<String>) -> Result<PathBuf, String> {
    if program.contains('/') {
        let path = PathBuf::from(program);
        return if !path.is_file() {
            Err(format!(
                "program {program} does not exist (relative paths are resolved from the directory the gateway starts in)"
            ))
        } else if !is_executable(&path) {
            Err(format!(
                "program {program} is not executable: run `chmod +x {program}`"
            ))
        } else {
            Ok(path)
        };
    }
    let path_var = env("PATH").unwrap_or_default();
    let mut not_executable = None;
    for dir in std::env::split_paths(&path_var) {
        let candidate = dir.join(program);
        if candidate.is_file() {
            if is_executable(&candidate) {
                return Ok(candidate);
            }
            not_executable.get_or_insert(candidate);
        }
    }
    Err(match not_executable {
        Some(p) => format!(
            "program {program} found at {} but it is not executable: run `chmod +x {}`",
            p.display(),
            p.display()
        ),
        None => format!(
            "program {program} not found on PATH: install it, or write its full path in the command"
        ),
    })
}

fn is_executable(path: &Path) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::metadata(path).is_ok_and(|m| m.permissions().mode() & 0o111 != 0)
    }
    #[cfg(not(unix))]
    {
        path.is_file()
    }
}

fn check_pairing(f: &mut Findings, state: &Path) {
    let now = now_unix_ms();
    let creds = credentials_dir(state);
    let mut none = true;
    for p in Platform::ALL {
        match PairingStore::new(&creds, p).pending(now) {
            Ok(pending) if pending.is_empty() => {}
            Ok(pending) => {
                none = false;
                f.warn(
                    "pairing",
                    format_args!(
                        "{} pending {p} request(s): see them with `krill pairing list {p}`, approve with `krill pairing approve {p} <code>`",
                        pending.len()
                    ),
                );
            }
            Err(e) => {
                none = false;
                f.warn(
                    "pairing",
                    format_args!("cannot read the {p} pairing file: {e}"),
                );
            }
        }
    }
    if none {
        f.ok("pairing", "no pending requests");
    }
}
