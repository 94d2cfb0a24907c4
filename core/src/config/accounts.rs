//! Which bot accounts start, with which token and which effective settings.
//!
//! Token resolution (seed docs, "Quick setup"): the config's token first; the
//! environment (`DISCORD_BOT_TOKEN`, `KOOK_BOT_TOKEN`) only for the default
//! account. An account starts when a token resolves and neither the account
//! nor its channel section says `enabled: false`.
//!
//! Accounts of a platform:
//! - no `accounts` map: one account, `"default"`;
//! - with `accounts.<name>`: one account per name, plus `"default"` when the
//!   section itself has a `token` (an `accounts.default` entry is the default
//!   account). The environment token is never used for named accounts, and a
//!   named account never inherits the section's token or name.
//!
//! Every other key of an account overrides the section's key of the same name
//! (a shallow merge: an account's `dm` replaces the whole section `dm`).

use std::collections::BTreeMap;

use super::schema::{
    Config, DiscordActions, DiscordConfig, DmPolicy, DmUserConfig, GroupPolicy, GuildConfig,
    KookConfig, ListEntry, NativeCommands, ShardRange, DISCORD_API_BASE_URL,
    DISCORD_MAX_LINES_PER_MESSAGE, DISCORD_MEDIA_MAX_MB, DISCORD_TEXT_CHUNK_LIMIT, HISTORY_LIMIT,
    KOOK_API_BASE_URL, KOOK_TEXT_CHUNK_LIMIT,
};
use crate::reply::{ChunkMode, MentionScope, ReplyToMode, DEFAULT_MAX_REPLY_CHARS};
use crate::rest::RetryPolicy;
use crate::secret::Secret;

/// The id of the account that may use the environment token.
pub const DEFAULT_ACCOUNT_ID: &str = "default";

pub use crate::platform::{Platform, UnknownPlatform};

/// Where a token came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenSource {
    /// The config file.
    Config,
    /// `DISCORD_BOT_TOKEN` / `KOOK_BOT_TOKEN`.
    Env,
}

/// One bot account that starts.
#[derive(Debug, Clone)]
pub struct ResolvedAccount {
    /// Which platform.
    pub platform: Platform,
    /// `"default"` or the key under `accounts`.
    pub account_id: String,
    /// The account's `name`, if any.
    pub name: Option<String>,
    /// The bot token.
    pub token: Secret,
    /// Where the token came from.
    pub token_source: TokenSource,
    /// The effective settings (defaults applied).
    pub settings: AccountSettings,
}

impl ResolvedAccount {
    /// Discord settings, for a Discord account.
    pub fn discord(&self) -> Option<&DiscordSettings> {
        match &self.settings {
            AccountSettings::Discord(d) => Some(d),
            AccountSettings::Kook(_) => None,
        }
    }

    /// KOOK settings, for a KOOK account.
    pub fn kook(&self) -> Option<&KookSettings> {
        match &self.settings {
            AccountSettings::Kook(k) => Some(k),
            AccountSettings::Discord(_) => None,
        }
    }
}

/// Per-platform effective settings.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum AccountSettings {
    /// A Discord bot.
    Discord(Box<DiscordSettings>),
    /// A KOOK bot.
    Kook(KookSettings),
}

/// A Discord account's settings with every default applied.
#[derive(Debug, Clone)]
pub struct DiscordSettings {
    /// `dm.*`
    pub dm: DmSettings,
    /// `groupPolicy` in force (see [`GroupPolicy`] for the default).
    pub group_policy: GroupPolicy,
    /// True when the config file has a `channels.discord` section.
    pub section_present: bool,
    /// `guilds` (empty when absent).
    pub guilds: BTreeMap<String, GuildConfig>,
    /// `historyLimit` in force.
    pub history_limit: u32,
    /// `dmHistoryLimit`
    pub dm_history_limit: Option<u32>,
    /// `dms.<userId>`
    pub dms: BTreeMap<String, DmUserConfig>,
    /// `textChunkLimit` (≤ 2000).
    pub text_chunk_limit: u32,
    /// `chunkMode`
    pub chunk_mode: ChunkMode,
    /// `maxLinesPerMessage`
    pub max_lines_per_message: u32,
    /// `mediaMaxMb`
    pub media_max_mb: f64,
    /// `replyToMode`
    pub reply_to_mode: ReplyToMode,
    /// `allowedMentions`: whom a reply may ping.
    pub allowed_mentions: MentionScope,
    /// `maxReplyChars`: a longer reply is cut, with a note.
    pub max_reply_chars: u32,
    /// `retry`
    pub retry: RetryPolicy,
    /// `actions`
    pub actions: DiscordActions,
    /// `allowBots`
    pub allow_bots: bool,
    /// `configWrites`
    pub config_writes: bool,
    /// Native commands (`channels.discord.commands.native`, else `commands.native`).
    pub native_commands: NativeCommands,
    /// `intents` override.
    pub intents: Option<u64>,
    /// `shards` range.
    pub shards: Option<ShardRange>,
    /// `apiBaseUrl`
    pub api_base_url: String,
    /// `globalRateLimit`: requests per second (default
    /// [`crate::rest::DISCORD_GLOBAL_PER_SECOND`]).
    pub global_rate_limit: u32,
}

impl DiscordSettings {
    /// The DM history limit for one user (`dms.<id>.historyLimit`, else
    /// `dmHistoryLimit`).
    pub fn dm_history_limit_for(&self, user_id: &str) -> Option<u32> {
        self.dms
            .get(user_id)
            .and_then(|d| d.history_limit)
            .or(self.dm_history_limit)
    }
}

/// `dm.*` with defaults applied.
#[derive(Debug, Clone, PartialEq)]
pub struct DmSettings {
    /// `dm.enabled` (default true).
    pub enabled: bool,
    /// `dm.policy` (default pairing).
    pub policy: DmPolicy,
    /// `dm.allowFrom` as typed.
    pub allow_from: Vec<ListEntry>,
    /// `dm.groupEnabled` (default false).
    pub group_enabled: bool,
    /// `dm.groupChannels` as typed.
    pub group_channels: Vec<ListEntry>,
}

impl Default for DmSettings {
    fn default() -> Self {
        Self {
            enabled: true,
            policy: DmPolicy::Pairing,
            allow_from: Vec::new(),
            group_enabled: false,
            group_channels: Vec::new(),
        }
    }
}

/// A KOOK account's settings with every default applied.
#[derive(Debug, Clone)]
pub struct KookSettings {
    /// `allowedUserId` (empty: anyone may talk to the bot).
    pub allowed_user_ids: Vec<String>,
    /// `requireMention` (krill extension, default false).
    pub require_mention: bool,
    /// `compress`
    pub compress: bool,
    /// `textChunkLimit` (≤ 8000).
    pub text_chunk_limit: u32,
    /// `chunkMode`
    pub chunk_mode: ChunkMode,
    /// `maxLinesPerMessage` (none by default).
    pub max_lines_per_message: Option<u32>,
    /// `replyToMode`
    pub reply_to_mode: ReplyToMode,
    /// `allowedMentions`: whom a reply may ping.
    pub allowed_mentions: MentionScope,
    /// `maxReplyChars`: a longer reply is cut, with a note.
    pub max_reply_chars: u32,
    /// `retry`
    pub retry: RetryPolicy,
    /// `historyLimit` in force.
    pub history_limit: u32,
    /// `apiBaseUrl`
    pub api_base_url: String,
    /// `mediaMaxMb` (default 8): the largest file krill downloads or
    /// uploads, in MiB.
    pub media_max_mb: f64,
}

/// Why an account does not start.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum SkipReason {
    /// `enabled: false` on the account or its section.
    Disabled,
    /// No token in the config (nor, for the default account, the env).
    NoToken,
}

/// An account that does not start, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SkippedAccount {
    /// Which platform.
    pub platform: Platform,
    /// The account id.
    pub account_id: String,
    /// Why.
    pub reason: SkipReason,
}

/// Every account considered: those that start and those that do not.
#[derive(Debug, Clone, Default)]
pub struct AccountsReport {
    /// Accounts that start, Discord first, then by account id.
    pub ready: Vec<ResolvedAccount>,
    /// Accounts that do not start.
    pub skipped: Vec<SkippedAccount>,
}

/// The accounts that start (see the module docs for the rules).
pub fn resolve_accounts(
    config: &Config,
    env: &dyn Fn(&str) -> Option<String>,
) -> Vec<ResolvedAccount> {
    resolve_accounts_report(config, env).ready
}

/// Like [`resolve_accounts`], also listing the accounts that do not start.
pub fn resolve_accounts_report(
    config: &Config,
    env: &dyn Fn(&str) -> Option<String>,
) -> AccountsReport {
    let mut report = AccountsReport::default();
    let empty_discord = DiscordConfig::default();
    let discord = config.channels.discord.as_ref();
    for (id, merged, own_token) in accounts_of(
        discord.unwrap_or(&empty_discord),
        |a| &a.accounts,
        merge_discord,
    ) {
        let enabled =
            merged.enabled != Some(false) && discord.is_none_or(|d| d.enabled != Some(false));
        let settings = AccountSettings::Discord(Box::new(discord_settings(
            config,
            &merged,
            discord.is_some(),
        )));
        push(
            &mut report,
            Platform::Discord,
            id,
            merged.name.clone(),
            own_token,
            enabled,
            settings,
            env,
        );
    }
    let empty_kook = KookConfig::default();
    let kook = config.channels.kook.as_ref();
    for (id, merged, own_token) in
        accounts_of(kook.unwrap_or(&empty_kook), |a| &a.accounts, merge_kook)
    {
        let enabled =
            merged.enabled != Some(false) && kook.is_none_or(|k| k.enabled != Some(false));
        let settings = AccountSettings::Kook(kook_settings(config, &merged));
        push(
            &mut report,
            Platform::Kook,
            id,
            merged.name.clone(),
            own_token,
            enabled,
            settings,
            env,
        );
    }
    report
}

#[allow(clippy::too_many_arguments)] // one call per platform, all fields of one account
fn push(
    report: &mut AccountsReport,
    platform: Platform,
    account_id: String,
    name: Option<String>,
    own_token: Option<Secret>,
    enabled: bool,
    settings: AccountSettings,
    env: &dyn Fn(&str) -> Option<String>,
) {
    if !enabled {
        report.skipped.push(SkippedAccount {
            platform,
            account_id,
            reason: SkipReason::Disabled,
        });
        return;
    }
    let from_config = own_token
        .filter(|t| !t.is_blank())
        .map(|t| (t, TokenSource::Config));
    let from_env = || {
        (account_id == DEFAULT_ACCOUNT_ID)
            .then(|| env(platform.token_env()))
            .flatten()
            .map(Secret::new)
            .filter(|t| !t.is_blank())
            .map(|t| (t, TokenSource::Env))
    };
    match from_config.or_else(from_env) {
        Some((token, token_source)) => report.ready.push(ResolvedAccount {
            platform,
            account_id,
            name,
            token,
            token_source,
            settings,
        }),
        None => report.skipped.push(SkippedAccount {
            platform,
            account_id,
            reason: SkipReason::NoToken,
        }),
    }
}

/// The accounts of one section: `(id, merged config, the account's own token)`.
fn accounts_of<C: Clone + Tokened>(
    section: &C,
    accounts: impl Fn(&C) -> &BTreeMap<String, C>,
    merge: impl Fn(&C, &C) -> C,
) -> Vec<(String, C, Option<Secret>)> {
    let listed = accounts(section);
    let mut out = Vec::new();
    let default_listed = listed.contains_key(DEFAULT_ACCOUNT_ID);
    if !default_listed && (listed.is_empty() || section.token().is_some()) {
        out.push((
            DEFAULT_ACCOUNT_ID.to_owned(),
            section.clone(),
            section.token().cloned(),
        ));
    }
    for (id, account) in listed {
        let mut merged = merge(account, section);
        let own = if id == DEFAULT_ACCOUNT_ID {
            account.token().or(section.token()).cloned()
        } else {
            merged.set_name(account.name().cloned());
            account.token().cloned()
        };
        merged.set_token(own.clone());
        out.push((id.clone(), merged, own));
    }
    out
}

trait Tokened {
    fn token(&self) -> Option<&Secret>;
    fn set_token(&mut self, t: Option<Secret>);
    fn name(&self) -> Option<&String>;
    fn set_name(&mut self, n: Option<String>);
}

macro_rules! tokened {
    ($t:ty) => {
        impl Tokened for $t {
            fn token(&self) -> Option<&Secret> {
                self.token.as_ref()
            }
            fn set_token(&mut self, t: Option<Secret>) {
                self.token = t;
            }
            fn name(&self) -> Option<&String> {
                self.name.as_ref()
            }
            fn set_name(&mut self, n: Option<String>) {
                self.name = n;
            }
        }
    };
}
tokened!(DiscordConfig);
tokened!(KookConfig);

/// `account` over `base`, key by key.
fn merge_discord(a: &DiscordConfig, b: &DiscordConfig) -> DiscordConfig {
    DiscordConfig {
        enabled: a.enabled.or(b.enabled),
        token: a.token.clone().or_else(|| b.token.clone()),
        name: a.name.clone().or_else(|| b.name.clone()),
        accounts: BTreeMap::new(),
        dm: a.dm.clone().or_else(|| b.dm.clone()),
        group_policy: a.group_policy.or(b.group_policy),
        guilds: a.guilds.clone().or_else(|| b.guilds.clone()),
        history_limit: a.history_limit.or(b.history_limit),
        dm_history_limit: a.dm_history_limit.or(b.dm_history_limit),
        dms: if a.dms.is_empty() {
            b.dms.clone()
        } else {
            a.dms.clone()
        },
        text_chunk_limit: a.text_chunk_limit.or(b.text_chunk_limit),
        chunk_mode: a.chunk_mode.or(b.chunk_mode),
        max_lines_per_message: a.max_lines_per_message.or(b.max_lines_per_message),
        media_max_mb: a.media_max_mb.or(b.media_max_mb),
        reply_to_mode: a.reply_to_mode.or(b.reply_to_mode),
        allowed_mentions: a.allowed_mentions.or(b.allowed_mentions),
        max_reply_chars: a.max_reply_chars.or(b.max_reply_chars),
        retry: a.retry.or(b.retry),
        actions: a.actions.or(b.actions),
        allow_bots: a.allow_bots.or(b.allow_bots),
        config_writes: a.config_writes.or(b.config_writes),
        commands: a.commands.clone().or_else(|| b.commands.clone()),
        intents: a.intents.or(b.intents),
        shards: a.shards.or(b.shards),
        api_base_url: a.api_base_url.clone().or_else(|| b.api_base_url.clone()),
        global_rate_limit: a.global_rate_limit.or(b.global_rate_limit),
        require_mention: a.require_mention.or(b.require_mention),
    }
}

fn merge_kook(a: &KookConfig, b: &KookConfig) -> KookConfig {
    KookConfig {
        enabled: a.enabled.or(b.enabled),
        token: a.token.clone().or_else(|| b.token.clone()),
        name: a.name.clone().or_else(|| b.name.clone()),
        accounts: BTreeMap::new(),
        allowed_user_id: a
            .allowed_user_id
            .clone()
            .or_else(|| b.allowed_user_id.clone()),
        require_mention: a.require_mention.or(b.require_mention),
        compress: a.compress.or(b.compress),
        text_chunk_limit: a.text_chunk_limit.or(b.text_chunk_limit),
        chunk_mode: a.chunk_mode.or(b.chunk_mode),
        max_lines_per_message: a.max_lines_per_message.or(b.max_lines_per_message),
        reply_to_mode: a.reply_to_mode.or(b.reply_to_mode),
        allowed_mentions: a.allowed_mentions.or(b.allowed_mentions),
        max_reply_chars: a.max_reply_chars.or(b.max_reply_chars),
        retry: a.retry.or(b.retry),
        history_limit: a.history_limit.or(b.history_limit),
        api_base_url: a.api_base_url.clone().or_else(|| b.api_base_url.clone()),
        media_max_mb: a.media_max_mb.or(b.media_max_mb),
    }
}

fn discord_settings(config: &Config, d: &DiscordConfig, section_present: bool) -> DiscordSettings {
    let dm = d.dm.clone().unwrap_or_default();
    DiscordSettings {
        dm: DmSettings {
            enabled: dm.enabled.unwrap_or(true),
            policy: dm.policy.unwrap_or_default(),
            allow_from: dm.allow_from,
            group_enabled: dm.group_enabled.unwrap_or(false),
            group_channels: dm.group_channels,
        },
        group_policy: d
            .group_policy
            .or(config.channels.defaults.group_policy)
            .unwrap_or(if section_present {
                GroupPolicy::Allowlist
            } else {
                GroupPolicy::Open
            }),
        section_present,
        guilds: d.guilds.clone().unwrap_or_default(),
        history_limit: d
            .history_limit
            .or(config.messages.group_chat.history_limit)
            .unwrap_or(HISTORY_LIMIT),
        dm_history_limit: d.dm_history_limit,
        dms: d.dms.clone(),
        text_chunk_limit: d.text_chunk_limit.unwrap_or(DISCORD_TEXT_CHUNK_LIMIT),
        chunk_mode: d.chunk_mode.unwrap_or_default(),
        max_lines_per_message: d
            .max_lines_per_message
            .unwrap_or(DISCORD_MAX_LINES_PER_MESSAGE),
        media_max_mb: d.media_max_mb.unwrap_or(DISCORD_MEDIA_MAX_MB),
        reply_to_mode: d.reply_to_mode.unwrap_or_default(),
        allowed_mentions: d.allowed_mentions.unwrap_or_default(),
        max_reply_chars: d.max_reply_chars.unwrap_or(DEFAULT_MAX_REPLY_CHARS as u32),
        retry: d.retry.unwrap_or_default(),
        actions: d.actions.unwrap_or_default(),
        allow_bots: d.allow_bots.unwrap_or(false),
        config_writes: d.config_writes.unwrap_or(true),
        native_commands: d
            .commands
            .as_ref()
            .and_then(|c| c.native)
            .unwrap_or(config.commands.native),
        intents: d.intents,
        shards: d.shards,
        api_base_url: d
            .api_base_url
            .clone()
            .unwrap_or_else(|| DISCORD_API_BASE_URL.to_owned()),
        global_rate_limit: d
            .global_rate_limit
            .unwrap_or(crate::rest::DISCORD_GLOBAL_PER_SECOND as u32),
    }
}

fn kook_settings(config: &Config, k: &KookConfig) -> KookSettings {
    KookSettings {
        allowed_user_ids: k
            .allowed_user_id
            .as_ref()
            .map(|u| {
                u.0.iter()
                    .map(|s| s.trim().to_owned())
                    .filter(|s| !s.is_empty())
                    .collect()
            })
            .unwrap_or_default(),
        require_mention: k.require_mention.unwrap_or(false),
        compress: k.compress.unwrap_or(false),
        text_chunk_limit: k.text_chunk_limit.unwrap_or(KOOK_TEXT_CHUNK_LIMIT),
        chunk_mode: k.chunk_mode.unwrap_or_default(),
        max_lines_per_message: k.max_lines_per_message,
        reply_to_mode: k.reply_to_mode.unwrap_or_default(),
        allowed_mentions: k.allowed_mentions.unwrap_or_default(),
        max_reply_chars: k.max_reply_chars.unwrap_or(DEFAULT_MAX_REPLY_CHARS as u32),
        retry: k.retry.unwrap_or_default(),
        history_limit: k
            .history_limit
            .or(config.messages.group_chat.history_limit)
            .unwrap_or(HISTORY_LIMIT),
        api_base_url: k
            .api_base_url
            .clone()
            .unwrap_or_else(|| KOOK_API_BASE_URL.to_owned()),
        media_max_mb: k.media_max_mb.unwrap_or(DISCORD_MEDIA_MAX_MB),
    }
}
