//! What to do about a command: [`decide`] turns an [`Invocation`] and the
//! caller's standing into an [`Action`]; the `*_text` functions render the
//! short plain-text answers once the driver has the facts.

use super::parse::{parse_config_args, ConfigOp, Invocation};
use super::registry::{CommandName, REGISTRY};
use crate::agent::BackendSpec;
use crate::config::Platform;

/// The refusal a caller the allowlists refuse gets (ephemeral on Discord).
pub const NOT_AUTHORIZED: &str = "You are not authorized to use this command.";

/// Who runs a command, where, and what they may do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    /// Where the command came from.
    pub platform: Platform,
    /// A Discord slash command (else a text command).
    pub native: bool,
    /// The caller is an owner ([`crate::access::AccessPolicy::is_owner`]).
    pub owner: bool,
    /// `commands.config`.
    pub config_commands: bool,
    /// The channel's `configWrites` (KOOK: always true).
    pub config_writes: bool,
}

/// What the driver does for a command.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Action {
    /// Answer with this text (help, whoami facts aside, refusals, usage).
    Reply(String),
    /// Answer with [`whoami_text`].
    Whoami,
    /// Gather [`StatusFacts`] and answer with [`status_text`].
    Status,
    /// Archive the chat's session; then, with text, run a turn with it.
    NewSession {
        /// The first message of the new session.
        text: Option<String>,
    },
    /// Cancel the chat's running turn and drop its queued ones; answer
    /// with [`stop_text`].
    Stop,
    /// Carry out a `/config` operation (the caller may).
    Config(ConfigOp),
    /// Run an agent turn with this text in the slash session.
    Ask(String),
}

/// Decides what `invocation` does for `caller`.
pub fn decide(invocation: &Invocation, caller: &Caller) -> Action {
    let args = invocation.args.trim();
    match invocation.command {
        CommandName::Help => Action::Reply(help_text(caller)),
        CommandName::Status => Action::Status,
        CommandName::Whoami => Action::Whoami,
        CommandName::New => Action::NewSession {
            text: (!args.is_empty()).then(|| args.to_owned()),
        },
        CommandName::Reset => Action::NewSession { text: None },
        CommandName::Stop => Action::Stop,
        CommandName::Ask if args.is_empty() => Action::Reply("Usage: /ask <text>".to_owned()),
        CommandName::Ask => Action::Ask(args.to_owned()),
        CommandName::Config => {
            if !caller.config_commands {
                return Action::Reply(
                    "/config is off: set commands.config: true in the config file to use it."
                        .to_owned(),
                );
            }
            if !caller.owner {
                return Action::Reply(format!("{NOT_AUTHORIZED} (/config is for owners)"));
            }
            match parse_config_args(args) {
                Err(usage) => Action::Reply(usage),
                Ok(ConfigOp::Set(..) | ConfigOp::Unset(_)) if !caller.config_writes => {
                    Action::Reply(format!(
                        "Config writes from {} are off (configWrites: false).",
                        caller.platform
                    ))
                }
                Ok(op) => Action::Config(op),
            }
        }
    }
}

/// `/help`: the commands `caller` may run here, one line each.
pub fn help_text(caller: &Caller) -> String {
    let mut out = String::from("Commands:");
    for spec in REGISTRY {
        if spec.native_only && !caller.native {
            continue;
        }
        if spec.name == CommandName::Config && !(caller.config_commands && caller.owner) {
            continue;
        }
        out.push_str(&format!("\n{} — {}", spec.usage, spec.description));
        if !spec.aliases.is_empty() && !caller.native {
            let aliases: Vec<String> = spec.aliases.iter().map(|a| format!("/{a}")).collect();
            out.push_str(&format!(" (also {})", aliases.join(", ")));
        }
    }
    out
}

/// The ids `/whoami` shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WhoamiFacts<'a> {
    /// Where.
    pub platform: Platform,
    /// The caller's id and name.
    pub user_id: &'a str,
    /// Their name.
    pub user_name: &'a str,
    /// The chat: channel id (Discord DMs: the DM channel).
    pub chat_id: &'a str,
    /// The guild / KOOK server, if any.
    pub guild_id: Option<&'a str>,
    /// It is a DM.
    pub direct: bool,
}

/// `/whoami`: the ids allowlists want.
pub fn whoami_text(facts: &WhoamiFacts<'_>) -> String {
    let mut out = format!(
        "user id: {}\nname: {}\n{} id: {}",
        facts.user_id,
        facts.user_name,
        if facts.direct {
            "DM channel"
        } else {
            "channel"
        },
        facts.chat_id
    );
    match facts.guild_id {
        Some(guild) => out.push_str(&format!("\nguild id: {guild}")),
        None => out.push_str("\nguild id: none (direct message)"),
    }
    out
}

/// What `/status` reports.
#[derive(Debug, Clone, PartialEq)]
pub struct StatusFacts {
    /// The agent.
    pub agent_id: String,
    /// Its backend.
    pub backend: BackendSpec,
    /// This chat's session.
    pub session_key: String,
    /// User turns in its transcript (`None`: unreadable).
    pub turns: Option<usize>,
    /// Seconds the gateway has run.
    pub uptime_secs: u64,
    /// `(channel, state)` for every channel, e.g. `("discord:default", "ready")`.
    pub channels: Vec<(String, String)>,
}

/// `/status`.
pub fn status_text(facts: &StatusFacts) -> String {
    let backend = match &facts.backend {
        BackendSpec::Echo => "echo".to_owned(),
        BackendSpec::Command { command, .. } => format!(
            "command ({})",
            command.first().map(String::as_str).unwrap_or("?")
        ),
        BackendSpec::OpenAi { model, .. } => format!("openai, model {model}"),
    };
    let turns = facts
        .turns
        .map_or_else(|| "unknown".to_owned(), |n| n.to_string());
    let secs = facts.uptime_secs;
    let channels: Vec<String> = facts
        .channels
        .iter()
        .map(|(name, state)| format!("{name} {state}"))
        .collect();
    format!(
        "agent: {} ({backend})\nsession: {}\nturns in transcript: {turns}\nuptime: {}h {}m {}s\nchannels: {}",
        facts.agent_id,
        facts.session_key,
        secs / 3600,
        secs / 60 % 60,
        secs % 60,
        if channels.is_empty() { "none".to_owned() } else { channels.join(", ") }
    )
}

/// `/stop`'s answer: whether a turn was running, how many queued were dropped.
pub fn stop_text(running: bool, dropped: usize) -> String {
    let plural = |n: usize| if n == 1 { "" } else { "s" };
    match (running, dropped) {
        (false, 0) => "Nothing to stop: no agent turn is running here.".to_owned(),
        (true, 0) => "Stopped the running agent turn.".to_owned(),
        (false, n) => format!("Dropped {n} queued turn{}.", plural(n)),
        (true, n) => format!(
            "Stopped the running agent turn and dropped {n} queued turn{}.",
            plural(n)
        ),
    }
}

/// `/new`'s answer.
pub const NEW_SESSION_TEXT: &str =
    "New session started. The previous conversation is archived and no longer sent to the agent.";
