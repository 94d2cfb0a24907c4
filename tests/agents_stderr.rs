//! A command agent's stderr goes to krill's log at debug level (target
//! `krill::agent`), never into the reply.

#[path = "agents/support.rs"]
mod support;

use std::io::Write;
use std::sync::{Arc, Mutex};

use support::{ask, command, dm_turn, runner};

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[test]
fn stderr_is_logged_at_debug_and_never_replied() {
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::DEBUG)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    tracing::subscriber::set_global_default(subscriber).unwrap();

    let state = tempfile::tempdir().unwrap();
    let runner = runner(command("stderr.py", &[], 30_000), state.path(), 4);
    let outcome = ask(&runner, dm_turn("agent:main:main", "1", "probe"));
    assert_eq!(outcome.reply.as_deref(), Some("clean reply"));

    let log = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    let line = log
        .lines()
        .find(|l| l.contains("agent-stderr-line-1 for probe"))
        .unwrap_or_else(|| panic!("stderr line in the log:\n{log}"));
    assert!(line.contains("DEBUG"), "{line}");
    assert!(line.contains("krill::agent"), "{line}");
    assert!(line.contains("agent=main"), "{line}");
    assert!(log.contains("agent-stderr-line-2"));
}
