//! `krill gateway [--force]`: runs every channel that has a token.
//! (To be built: issue 5.)

use std::path::Path;

/// Flags of `krill gateway`.
#[derive(Debug, clap::Args)]
pub struct GatewayArgs {
    /// Start even if another gateway seems to own the state dir.
    #[arg(long)]
    pub force: bool,
}

/// Runs the gateway until every channel has stopped.
pub fn run(_config: Option<&Path>, _args: GatewayArgs) -> i32 {
    eprintln!("krill gateway: not built yet");
    super::EXIT_FAILURE
}
