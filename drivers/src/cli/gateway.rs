//! `krill gateway [--force]`: loads the config and runs every channel that
//! has a token (see [`crate::gateway`]).

use std::path::Path;

/// Flags of `krill gateway`.
#[derive(Debug, clap::Args)]
pub struct GatewayArgs {
    /// Start even if another gateway seems to own the state dir.
    #[arg(long)]
    pub force: bool,
}

/// Runs the gateway until every channel has stopped.
pub fn run(config: Option<&Path>, args: GatewayArgs) -> i32 {
    let loaded = match crate::config_file::load_or_exit(config) {
        Ok(loaded) => loaded,
        Err(code) => return code,
    };
    loaded.log_keys_without_effect();
    crate::gateway::run(loaded, crate::paths::state_dir(), args.force)
}
