//! `krill chat [--agent ID]`: a terminal conversation with the configured
//! agent. (To be built: issue 7.)

use std::path::Path;

/// Flags of `krill chat`.
#[derive(Debug, clap::Args)]
pub struct ChatArgs {
    /// Which agent of `agents.list` to talk to (default: the default agent).
    #[arg(long, value_name = "ID")]
    pub agent: Option<String>,
}

/// Runs the conversation until end of input.
pub fn run(_config: Option<&Path>, _args: ChatArgs) -> i32 {
    eprintln!("krill chat: not built yet");
    super::EXIT_FAILURE
}
