//! `krill pairing list|approve`: the operator's side of DM pairing.
//! (To be built: issue 6.)

use std::path::Path;

/// `krill pairing ...`
#[derive(Debug, clap::Subcommand)]
pub enum PairingCommand {
    /// List pending pairing requests.
    List {
        /// Only this channel (`discord` or `kook`).
        channel: Option<String>,
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Approve a pairing code: the sender may DM the agent from now on.
    Approve {
        /// `discord` or `kook`.
        channel: String,
        /// The 8-character code the sender was given.
        code: String,
        /// Send the approved user a DM saying so.
        #[arg(long)]
        notify: bool,
    },
}

/// Runs a pairing subcommand.
pub fn run(_config: Option<&Path>, _cmd: PairingCommand) -> i32 {
    eprintln!("krill pairing: not built yet");
    super::EXIT_FAILURE
}
