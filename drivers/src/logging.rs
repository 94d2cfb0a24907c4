//! The log subscriber: human-readable lines on stderr, filtered by
//! `$KRILL_LOG` (tracing `EnvFilter` syntax, default `info`). Secrets never
//! reach it: tokens are `krill_core::secret::Secret`, which prints redacted.
//!
//! A long-running gateway outlives its stderr at times (the reader of its
//! pipe, a `tee` or a log shipper, goes away): lines that cannot be written
//! are dropped. `eprintln!` would panic there, and so would the subscriber,
//! which reports a failed write with `eprintln!`; [`say`] is the gateway's
//! non-panicking `eprintln!`.

use std::io::{IsTerminal, Write};

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

/// Writes `line` and a newline to stderr, for the person running krill;
/// dropped when stderr is closed.
pub(crate) fn say(line: std::fmt::Arguments<'_>) {
    let _ = writeln!(std::io::stderr().lock(), "{line}");
}
