//! The config file (`krill.json5`): its schema, defaults and validation, and
//! which bot accounts start with which settings. Pure: text in, typed config
//! (or every problem found, each with its key path, line and column) out; the
//! driver (`krill_drivers::config_file`) finds and reads the file.
//!
//! ```text
//! let (config, warnings) = krill_core::config::parse(text)?;   // ConfigError lists problems
//! let accounts = krill_core::config::resolve_accounts(&config, &|k| std::env::var(k).ok());
//! ```
//!
//! - Keys are exactly the seed docs' (`channels.discord.*`, `channels.kook.*`,
//!   `channels.defaults.groupPolicy`, `messages.*`, `commands.*`,
//!   `agents.*`, `session.dmScope`), camelCase. Unknown keys are errors, with
//!   a "did you mean" suggestion.
//! - Error paths are dotted with list indices in brackets, non-identifier
//!   keys quoted: `channels.discord.guilds."123".channels.help.allow`,
//!   `agents.list[0].backend.type`.
//! - Warnings (not errors): `requireMention` directly under
//!   `channels.discord` (ignored there, per the docs); a key written twice in
//!   one object (objects are merged, otherwise the later value wins); a
//!   `dm.policy: "allowlist"` with nobody in `allowFrom`.
//! - Keys accepted but not carried out yet are listed once, in
//!   [`NO_EFFECT_YET`]; [`keys_without_effect`] names each one a file sets.
//! - A file with only whitespace and comments is the default config.
//! - `mentionPatterns` are compiled once here (case-insensitive); an invalid
//!   regex is an error naming its index.

mod accounts;
mod de;
pub mod edit;
mod no_effect;
pub mod path;
mod schema;
pub mod tree;
mod validate;

use std::fmt;

use regex::Regex;

pub use accounts::{
    resolve_accounts, resolve_accounts_report, AccountSettings, AccountsReport, DiscordSettings,
    DmSettings, KookSettings, Platform, ResolvedAccount, SkipReason, SkippedAccount, TokenSource,
    UnknownPlatform, DEFAULT_ACCOUNT_ID,
};
pub use no_effect::{keys_without_effect, Inert, InertKey, NO_EFFECT_YET};
pub use path::KeyPath;
pub use schema::*;
pub use validate::HISTORY_LIMIT_MAX;

/// One problem (or warning) in the config text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    /// The key path (empty for syntax errors and the root).
    pub path: KeyPath,
    /// 1-based line.
    pub line: usize,
    /// 1-based column (characters).
    pub column: usize,
    /// What is wrong.
    pub message: String,
}

/// A config warning: the file loads, but something in it is ignored or odd.
pub type Warning = Diagnostic;

impl fmt::Display for Diagnostic {
    /// `line 3, column 7: channels.discord.dm.policy: invalid value ...`
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}, column {}: ", self.line, self.column)?;
        if self.path.is_root() {
            f.write_str(&self.message)
        } else {
            write!(f, "{}: {}", self.path, self.message)
        }
    }
}

/// A config that cannot be used. Lists every problem found (at least one),
/// in file order.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct ConfigError {
    /// The problems: the first [`MAX_LISTED_PROBLEMS`] in file order.
    pub problems: Vec<Diagnostic>,
    /// How many more problems were found but not listed.
    pub more: usize,
}

/// A config error lists at most this many problems, then counts the rest
/// (20,000 unknown keys give 20 lines and "… and 19980 more").
pub const MAX_LISTED_PROBLEMS: usize = 20;

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, p) in self.problems.iter().enumerate() {
            if i > 0 {
                f.write_str("\n")?;
            }
            write!(f, "{p}")?;
        }
        if self.more > 0 {
            write!(f, "\n{}", self.more_line())?;
        }
        Ok(())
    }
}

impl ConfigError {
    /// The closing line when problems were left out.
    pub fn more_line(&self) -> String {
        format!(
            "... and {} more problem{} (fix the ones above first)",
            self.more,
            if self.more == 1 { "" } else { "s" }
        )
    }
}

/// Parses and checks a config file's text.
pub fn parse(text: &str) -> Result<(Config, Vec<Warning>), ConfigError> {
    if tree::is_blank(text) {
        return Ok((Config::default(), Vec::new()));
    }
    let doc = tree::parse(text).map_err(|e| {
        let (line, column) = tree::line_col(text, e.offset);
        ConfigError {
            problems: vec![Diagnostic {
                path: KeyPath::root(),
                line,
                column,
                message: format!("syntax error: {}", e.message),
            }],
            more: 0,
        }
    })?;
    let mut config: Config =
        de::from_node(&doc.root, KeyPath::root()).map_err(|issues| error(text, issues))?;
    let checked = validate::check(&config, &doc, text);
    if !checked.errors.is_empty() {
        return Err(error(text, checked.errors));
    }
    config.compiled = checked.compiled;
    Ok((config, diagnostics(text, checked.warnings)))
}

fn diagnostics(text: &str, mut issues: Vec<de::Issue>) -> Vec<Diagnostic> {
    issues.sort_by_key(|i| i.span.start);
    let offsets: Vec<usize> = issues.iter().map(|i| i.span.start).collect();
    issues
        .into_iter()
        .zip(tree::line_cols(text, &offsets))
        .map(|(i, (line, column))| Diagnostic {
            path: i.path,
            line,
            column,
            message: i.message,
        })
        .collect()
}

fn error(text: &str, mut issues: Vec<de::Issue>) -> ConfigError {
    issues.sort_by_key(|i| i.span.start);
    let more = issues.len().saturating_sub(MAX_LISTED_PROBLEMS);
    issues.truncate(MAX_LISTED_PROBLEMS);
    ConfigError {
        problems: diagnostics(text, issues),
        more,
    }
}

impl Config {
    /// True when the file has a `channels.discord` section (which makes
    /// `groupPolicy` default to `allowlist`).
    pub fn discord_section_present(&self) -> bool {
        self.channels.discord.is_some()
    }

    /// The default agent's id: the `default: true` entry of `agents.list`,
    /// else the first entry, else `"main"`.
    pub fn default_agent_id(&self) -> &str {
        let list = &self.agents.list;
        list.iter()
            .find(|a| a.default)
            .or_else(|| list.first())
            .map_or(DEFAULT_AGENT_ID, |a| a.id.as_str())
    }

    /// The agent entry with this id, if listed.
    pub fn agent(&self, id: &str) -> Option<&AgentEntry> {
        self.agents.list.iter().find(|a| a.id == id)
    }

    /// The backend an agent runs: its own `backend`, else
    /// `agents.defaults.backend`, else echo.
    pub fn backend_for(&self, agent_id: &str) -> crate::agent::BackendSpec {
        self.agent(agent_id)
            .and_then(|a| a.backend.clone())
            .or_else(|| self.agents.defaults.backend.clone())
            .unwrap_or_default()
    }

    /// How many past user turns of a session `agent_id` sees: its
    /// `sessionHistoryLimit`, else `agents.defaults.sessionHistoryLimit`,
    /// else [`SESSION_HISTORY_LIMIT`]. DMs narrow it further with
    /// `dmHistoryLimit` / `dms.<id>.historyLimit` ([`Config::turn_history_limit`]).
    pub fn session_history_limit(&self, agent_id: &str) -> u32 {
        self.agent(agent_id)
            .and_then(|a| a.session_history_limit)
            .or(self.agents.defaults.session_history_limit)
            .unwrap_or(SESSION_HISTORY_LIMIT)
    }

    /// The history bound of one turn: the DM limit when one is set for a DM
    /// (`dm_limit`), else the agent's session bound.
    pub fn turn_history_limit(&self, agent_id: &str, dm_limit: Option<u32>) -> usize {
        dm_limit.unwrap_or_else(|| self.session_history_limit(agent_id)) as usize
    }

    /// The mention patterns for an agent: its own
    /// `agents.list[].groupChat.mentionPatterns`, else
    /// `agents.defaults.groupChat.mentionPatterns`, else
    /// `messages.groupChat.mentionPatterns`. Compiled case-insensitive.
    pub fn mention_patterns(&self, agent_id: &str) -> &[Regex] {
        self.compiled
            .per_agent
            .get(agent_id)
            .or(self.compiled.agent_defaults.as_ref())
            .unwrap_or(&self.compiled.messages)
    }
}
