//! Live config reload: a task that notices when the config file changes
//! (it reads the file every [`POLL_EVERY`], and at once on SIGHUP), checks
//! the new text exactly as start-up does, and hands a valid config to the
//! gateway. An invalid file is logged with its key paths (the same
//! `file:line:column: key.path: message` lines as the CLI) and the running
//! config stays. SIGHUP re-applies the file even when its bytes did not
//! change.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use futures_lite::{FutureExt, StreamExt};
use krill_core::config::{self, Config};
use smol::channel::{Receiver, Sender};
use tracing::{error, info, warn};

use crate::config_file::ConfigFileError;

/// How often the file is read for changes.
pub(crate) const POLL_EVERY: Duration = Duration::from_secs(1);

/// Starts the watcher of `path`, whose current bytes are `current` (what the
/// gateway started with; `None`: no file). Valid new configs arrive on the
/// returned channel.
pub(crate) fn watch(path: PathBuf, current: Option<Vec<u8>>) -> Receiver<Arc<Config>> {
    let (tx, rx) = smol::channel::unbounded();
    crate::runtime::spawn(run(path, current, tx)).detach();
    rx
}

async fn run(path: PathBuf, mut last: Option<Vec<u8>>, tx: Sender<Arc<Config>>) {
    let mut hangups = match async_signal::Signals::new([async_signal::Signal::Hup]) {
        Ok(signals) => Some(signals),
        Err(e) => {
            warn!("cannot listen for SIGHUP ({e}); the config file is still watched");
            None
        }
    };
    loop {
        let hup = async {
            match hangups.as_mut() {
                Some(signals) => signals.next().await.is_some(),
                None => std::future::pending().await,
            }
        };
        let tick = async {
            smol::Timer::after(POLL_EVERY).await;
            false
        };
        let forced = hup.or(tick).await;
        if forced {
            info!("SIGHUP: reloading {}", path.display());
        }
        let read_path = path.clone();
        let read = crate::workers::run(move || std::fs::read(read_path)).await;
        let bytes = match read.unwrap_or_else(|gone| Err(std::io::Error::other(gone))) {
            Ok(bytes) => Some(bytes),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
            Err(e) => {
                if forced {
                    error!(
                        "cannot read {}: {e}; the running config stays",
                        path.display()
                    );
                }
                continue;
            }
        };
        if bytes == last && !forced {
            continue;
        }
        last.clone_from(&bytes);
        let text = match bytes.map(String::from_utf8).transpose() {
            Ok(text) => text.unwrap_or_default(),
            Err(e) => {
                error!(
                    "{}: not UTF-8 ({e}); the running config stays",
                    path.display()
                );
                continue;
            }
        };
        match config::parse(&text) {
            Ok((config, warnings)) => {
                for w in warnings {
                    warn!(
                        "{}:{}:{}: {}: {}",
                        path.display(),
                        w.line,
                        w.column,
                        w.path,
                        w.message
                    );
                }
                info!("config file {} changed: applying it", path.display());
                if tx.send(Arc::new(config)).await.is_err() {
                    return;
                }
            }
            Err(error) => {
                let invalid = ConfigFileError::Invalid {
                    path: path.clone(),
                    error,
                };
                for line in invalid.to_string().lines() {
                    error!("config reload refused: {line}");
                }
                error!("the running config stays until the file is fixed");
            }
        }
    }
}
