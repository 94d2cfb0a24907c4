//! The `krill` command line: argument parsing (clap) and dispatch to one
//! module per subcommand. Exit codes: 0 ok, 1 runtime failure, 2 bad usage or
//! bad config.
//!
//! Commands print through `outln!` and `errln!` (`console.rs`), which
//! drop a line whose pipe has no reader where `println!` would panic.

use std::path::PathBuf;

use clap::{Parser, Subcommand};

pub mod channels;
pub mod chat;
pub mod doctor;
pub mod gateway;
pub mod mcp;
pub mod message;
pub mod pairing;

/// Exit code: success.
pub const EXIT_OK: i32 = 0;
/// Exit code: a runtime failure (every channel died, an I/O error, ...).
pub const EXIT_FAILURE: i32 = 1;
/// Exit code: bad usage or a bad config file.
pub const EXIT_USAGE: i32 = 2;

/// krill: an AI agent on Discord and KOOK.
#[derive(Debug, Parser)]
#[command(name = "krill", version, about, propagate_version = true)]
pub struct Cli {
    /// Config file (else $KRILL_CONFIG, else ~/.krill/krill.json5).
    #[arg(long, global = true, value_name = "PATH")]
    pub config: Option<PathBuf>,

    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the bot gateway: connect every channel that has a token.
    Gateway(gateway::GatewayArgs),
    /// Talk to the configured agent in the terminal (no bot token needed).
    Chat(chat::ChatArgs),
    /// Approve or list pairing requests from unknown DM senders.
    #[command(subcommand)]
    Pairing(pairing::PairingCommand),
    /// Check the config and the environment, with actionable warnings.
    Doctor(doctor::DoctorArgs),
    /// Channel status.
    #[command(subcommand)]
    Channels(channels::ChannelsCommand),
    /// A Model Context Protocol server on stdio, for a command agent's turn.
    Mcp(mcp::McpArgs),
    /// Send messages through the running gateway.
    #[command(subcommand)]
    Message(message::MessageCommand),
}

/// Parses `std::env::args` and runs the subcommand; returns the exit code.
pub fn run() -> i32 {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(err) => {
            let code = if err.use_stderr() {
                EXIT_USAGE
            } else {
                EXIT_OK
            };
            let _ = err.print();
            return code;
        }
    };
    crate::logging::init();
    let config = cli.config.as_deref();
    match cli.command {
        Command::Gateway(args) => gateway::run(config, args),
        Command::Chat(args) => chat::run(config, args),
        Command::Pairing(cmd) => pairing::run(config, cmd),
        Command::Doctor(args) => doctor::run(config, args),
        Command::Channels(cmd) => channels::run(config, cmd),
        Command::Message(cmd) => message::run(config, cmd),
        Command::Mcp(args) => mcp::run(config, args),
    }
}
