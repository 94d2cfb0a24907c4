//! The log subscriber: human-readable lines on stderr, filtered by
//! `$KRILL_LOG` (tracing `EnvFilter` syntax, default `info`). Secrets never
//! reach it: tokens are `krill_core::secret::Secret`, which prints redacted.
//!
//! A long-running gateway outlives its stderr at times (the reader of its
//! pipe, a `tee` or a log shipper, goes away): log lines that cannot be
//! written are dropped. The subscriber would otherwise report each failed
//! write with `eprintln!`, which panics there.

use std::io::IsTerminal;

use tracing_subscriber::EnvFilter;

/// Installs the global subscriber once; later calls are no-ops.
///
/// ureq's own debug lines mask every path (`GET http://host/******`); krill
/// logs each call itself with its route (see [`crate::http`]), so ureq is
/// held to `info` unless `$KRILL_LOG` names it.
pub fn init() {
    let spec = std::env::var("KRILL_LOG").unwrap_or_default();
    let mut filter = EnvFilter::try_new(&spec).unwrap_or_else(|_| EnvFilter::new("info"));
    if spec.trim().is_empty() {
        filter = EnvFilter::new("info");
    }
    if !spec.contains("ureq") {
        if let Ok(directive) = "ureq=info".parse() {
            filter = filter.add_directive(directive);
        }
    }
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .with_target(false)
        .log_internal_errors(false)
        .try_init();
}
