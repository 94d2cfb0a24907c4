//! Removes downloaded files past `media.retentionHours` (default 24; 0
//! keeps them): at gateway start and then every hour. Only regular files
//! directly in `<state>/media/inbound/` (attachments of inbound messages)
//! and `<state>/media/outbound/` (files a reply's `MEDIA:` URLs named) are
//! touched; what counts as expired is `krill_core::media::is_expired`.

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use tracing::{debug, info, warn};

/// How often the sweep runs.
pub const SWEEP_INTERVAL: Duration = Duration::from_secs(3600);

/// Removes the expired files of `dir`; how many were removed.
pub fn sweep(dir: &Path, retention_hours: u64, now: SystemTime) -> usize {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    let mut removed = 0;
    for entry in entries.flatten() {
        let Ok(meta) = entry.metadata() else { continue };
        if !meta.is_file() {
            continue;
        }
        let age = meta
            .modified()
            .ok()
            .and_then(|m| now.duration_since(m).ok())
            .map_or(0, |d| d.as_secs());
        if krill_core::media::is_expired(age, retention_hours) {
            match std::fs::remove_file(entry.path()) {
                Ok(()) => removed += 1,
                Err(e) => warn!("cannot remove {}: {e}", entry.path().display()),
            }
        }
    }
    if removed > 0 {
        info!(
            "removed {removed} downloaded media file(s) older than {retention_hours} h from {}",
            dir.display()
        );
    } else {
        debug!("no expired media in {}", dir.display());
    }
    removed
}

/// Sweeps `dirs` now and every [`SWEEP_INTERVAL`] (a task of the
/// gateway; ends when dropped).
pub async fn run(dirs: Vec<PathBuf>, retention_hours: u64) {
    if retention_hours == 0 {
        return;
    }
    loop {
        let dirs = dirs.clone();
        smol::unblock(move || {
            for dir in &dirs {
                sweep(dir, retention_hours, SystemTime::now());
            }
        })
        .await;
        smol::Timer::after(SWEEP_INTERVAL).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_old_files_go() {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(dir.path().join("a"), b"x").expect("write");
        std::fs::create_dir(dir.path().join("sub")).expect("mkdir");
        let now = SystemTime::now();
        assert_eq!(sweep(dir.path(), 1, now), 0);
        assert_eq!(sweep(dir.path(), 1, now + Duration::from_secs(7200)), 1);
        assert!(!dir.path().join("a").exists());
        assert!(dir.path().join("sub").exists());
    }
}
