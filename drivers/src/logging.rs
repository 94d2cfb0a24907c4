//! The log subscriber: human-readable lines on stderr, filtered by
//! `$KRILL_LOG` (tracing `EnvFilter` syntax, default `info`). Secrets never
//! reach it: tokens are `krill_core::secret::Secret`, which prints redacted.

use std::io::IsTerminal;

use tracing_subscriber::EnvFilter;

/// Installs the global subscriber once; later calls are no-ops.
pub fn init() {
    let filter = EnvFilter::try_from_env("KRILL_LOG").unwrap_or_else(|_| EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .with_target(false)
        .try_init();
}
