//! Chat commands: one registry served three ways (Discord slash commands,
//! Discord text commands, KOOK text commands).
//!
//! | module | owns |
//! |---|---|
//! | [`registry`] | names, aliases, options, `/help` lines, the native command list and when it needs syncing |
//! | [`parse`] | a text command out of a message, `/config`'s sub-command, a slash command out of INTERACTION_CREATE |
//! | [`answer`] | what a command does for a caller ([`decide`]) and the texts it answers with |
//!
//! The inbound path ([`classify`]): an allowed message whose agent text
//! (the bot's own mention removed) starts with `/` and names a text
//! command is a command; anything else, unknown `/words` included, is an
//! agent turn. `commands.text: false` makes every message a turn. Text
//! commands follow the same access and mention rules as any message (the
//! access policy ran first).
//!
//! Driving contract:
//! ```text
//! match classify(&allowed.text, config.commands.text) {
//!     Inbound::Turn => submit the turn,
//!     Inbound::Command(inv) => match decide(&inv, &caller) { Action::Reply(t) => send t, ... }
//! }
//! ```

pub mod answer;
pub mod parse;
pub mod registry;

pub use answer::{
    decide, help_text, status_text, stop_text, whoami_text, Action, Caller, StatusFacts,
    WhoamiFacts, NEW_SESSION_TEXT, NOT_AUTHORIZED,
};
pub use parse::{
    parse_config_args, parse_interaction, parse_text_command, ConfigOp, InteractionError,
    Invocation, SlashCommand,
};
pub use registry::{
    commands_differ, lookup, native_definitions, sync_plan, CommandName, CommandSpec, REGISTRY,
};

/// What an allowed message is.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Inbound {
    /// An agent turn.
    Turn,
    /// A text command.
    Command(Invocation),
}

/// Sorts an allowed message's agent text (see the module docs).
pub fn classify(agent_text: &str, text_commands: bool) -> Inbound {
    match parse_text_command(agent_text) {
        Some(invocation) if text_commands => Inbound::Command(invocation),
        _ => Inbound::Turn,
    }
}
