//! Carrying out chat commands for both channel loops: the core decides
//! what a command does ([`krill_core::commands::decide`]); this module
//! gathers the facts it needs (status board, transcripts, the config file),
//! performs the effect (cancel, archive, file write) and hands the loop the
//! text to answer and, for `/new <text>` and `/ask`, the turn to run.

use krill_core::access::{AccessPolicy, Allowed, InboundMessage};
use krill_core::commands::{
    decide, status_text, stop_text, whoami_text, Action, Caller, ConfigOp, Invocation, StatusFacts,
    WhoamiFacts, NEW_SESSION_TEXT,
};
use krill_core::config::edit::redacted_view;
use krill_core::config::{KeyPath, Platform};
use tracing::{info, warn};

use super::Shared;

/// What the loop does after a command ran.
#[derive(Debug, Default)]
pub(crate) struct Executed {
    /// The answer to send (Discord slash: ephemeral when no turn follows).
    pub(crate) reply: Option<String>,
    /// Run an agent turn with this text, routed by this (the chat's
    /// session for `/new`, the slash session for `/ask`).
    pub(crate) turn: Option<(String, Allowed)>,
}

/// Where and by whom a command was run.
pub(crate) struct CommandSite<'a> {
    /// The message (or interaction) as the access policy saw it.
    pub(crate) inbound: &'a InboundMessage,
    /// The access decision (its route: the chat session for text
    /// commands, the slash session for native ones).
    pub(crate) allowed: &'a Allowed,
    /// The account's policy.
    pub(crate) policy: &'a AccessPolicy,
    /// Ids approved through pairing.
    pub(crate) paired: &'a [String],
    /// A Discord slash command.
    pub(crate) native: bool,
    /// The channel's `configWrites` (KOOK: true).
    pub(crate) config_writes: bool,
}

/// Runs `invocation` (see the module docs).
pub(crate) fn execute(
    shared: &Shared,
    site: &CommandSite<'_>,
    invocation: &Invocation,
) -> Executed {
    let inbound = site.inbound;
    let caller = Caller {
        platform: inbound.platform,
        native: site.native,
        owner: site.policy.is_owner(&inbound.author, site.paired),
        config_commands: shared.config.commands.config,
        config_writes: site.config_writes,
    };
    let agent_id = site.allowed.route.agent_id.clone();
    let chat_session = site.policy.chat_session(inbound).as_str().to_owned();
    let reply = |text: String| Executed {
        reply: Some(text),
        turn: None,
    };
    info!(
        platform = %inbound.platform,
        authorId = %inbound.author.id,
        chat = %inbound.channel.id,
        "command {:?}",
        invocation.command
    );
    match decide(invocation, &caller) {
        Action::Reply(text) => reply(text),
        Action::Whoami => reply(whoami_text(&WhoamiFacts {
            platform: inbound.platform,
            user_id: &inbound.author.id,
            user_name: &site.allowed.sender.name,
            chat_id: &inbound.channel.id,
            guild_id: inbound.guild.as_ref().map(|g| g.id.as_str()),
            direct: site.allowed.route.reply_to.direct
                || inbound.chat == krill_core::access::ChatKind::Direct,
        })),
        Action::Status => reply(status_text(&StatusFacts {
            backend: shared.config.backend_for(&agent_id),
            turns: shared.agents.user_turns(&agent_id, &chat_session),
            agent_id,
            session_key: chat_session,
            uptime_secs: shared.board.uptime_secs(),
            channels: shared.board.states(),
        })),
        Action::Stop => {
            let (running, dropped) = shared.agents.stop(&agent_id, &chat_session);
            reply(stop_text(running, dropped))
        }
        Action::NewSession { text } => {
            if let Err(e) = shared.agents.reset(&agent_id, &chat_session) {
                warn!("cannot archive {chat_session}: {e}");
                return reply(format!("Could not start a new session: {e}"));
            }
            info!("session {chat_session} archived (/new)");
            match text {
                None => reply(NEW_SESSION_TEXT.to_owned()),
                Some(text) => {
                    let mut allowed = site.allowed.clone();
                    allowed.route.session_key = site.policy.chat_session(inbound);
                    allowed.text.clone_from(&text);
                    Executed {
                        reply: None,
                        turn: Some((text, allowed)),
                    }
                }
            }
        }
        Action::Ask(text) => {
            let mut allowed = site.allowed.clone();
            allowed.text.clone_from(&text);
            Executed {
                reply: None,
                turn: Some((text, allowed)),
            }
        }
        Action::Config(op) => reply(config_command(shared, inbound.platform, &op)),
        _ => reply(krill_core::commands::NOT_AUTHORIZED.to_owned()),
    }
}

/// Carries out an allowed `/config` operation.
fn config_command(shared: &Shared, platform: Platform, op: &ConfigOp) -> String {
    let file = &shared.config_path;
    let read = || {
        std::fs::read_to_string(file).or_else(|e| {
            if e.kind() == std::io::ErrorKind::NotFound {
                Ok(String::new())
            } else {
                Err(format!("cannot read {}: {e}", file.display()))
            }
        })
    };
    let view = |path: &KeyPath| -> String {
        let text = match read() {
            Ok(text) => text,
            Err(e) => return e,
        };
        match redacted_view(&text, path) {
            Ok(Some(value)) => serde_json::to_string_pretty(&value).unwrap_or_default(),
            Ok(None) => format!("{path}: not set"),
            Err(e) => e.to_string(),
        }
    };
    match op {
        ConfigOp::Show => view(&KeyPath::root()),
        ConfigOp::Get(path) => view(path),
        ConfigOp::Set(path, value) => {
            match crate::config_write::write_value(file, path, Some(value)) {
                Ok(()) => {
                    info!("{platform}: /config set {path} (config file updated)");
                    format!("Set {path}. The running gateway applies it within a few seconds.")
                }
                Err(e) => e,
            }
        }
        ConfigOp::Unset(path) => match crate::config_write::write_value(file, path, None) {
            Ok(()) => {
                info!("{platform}: /config unset {path} (config file updated)");
                format!("Unset {path}. The running gateway applies it within a few seconds.")
            }
            Err(e) => e,
        },
    }
}
