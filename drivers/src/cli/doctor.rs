//! `krill doctor`: checks the config and environment and prints actionable
//! warnings. (To be built.)

use std::path::Path;

/// Flags of `krill doctor`.
#[derive(Debug, clap::Args)]
pub struct DoctorArgs {}

/// Runs the checks.
pub fn run(_config: Option<&Path>, _args: DoctorArgs) -> i32 {
    eprintln!("krill doctor: not built yet");
    super::EXIT_FAILURE
}
