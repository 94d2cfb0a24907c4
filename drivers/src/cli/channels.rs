//! `krill channels status [--probe]`. (To be built.)

use std::path::Path;

/// `krill channels ...`
#[derive(Debug, clap::Subcommand)]
pub enum ChannelsCommand {
    /// Show each channel's state.
    Status {
        /// Also call the platforms' APIs to check the tokens and permissions.
        #[arg(long)]
        probe: bool,
    },
}

/// Runs a channels subcommand.
pub fn run(_config: Option<&Path>, _cmd: ChannelsCommand) -> i32 {
    eprintln!("krill channels: not built yet");
    super::EXIT_FAILURE
}
