//! Downloads the attachments of an inbound message into
//! `<state>/media/inbound/` as `krill_core::media::plan_download` decides
//! (names, limits, skips), and reports each file as a
//! [`MediaItem`] for the agent. A file is written to `<name>.part` and
//! renamed when complete, so the agent never sees half a file; a failed or
//! oversized download leaves nothing behind.

use std::fs::{self, File};
use std::io::BufWriter;
use std::path::{Path, PathBuf};

use krill_core::media::{plan_download, DownloadPlan, InboundMedia, MediaItem, SkipReason};
use tracing::{debug, warn};

use super::download::{download, DownloadError, Reach};
use super::MediaSettings;

/// Downloads `media` (the files of message `message_id` on `platform`) on
/// the blocking pool; one [`MediaItem`] per file, in order.
pub async fn download_all(
    settings: MediaSettings,
    platform: &'static str,
    message_id: String,
    media: Vec<InboundMedia>,
) -> Vec<MediaItem> {
    smol::unblock(move || {
        media
            .iter()
            .enumerate()
            .map(|(index, m)| fetch_one(&settings, platform, &message_id, index, m))
            .collect()
    })
    .await
}

fn fetch_one(
    settings: &MediaSettings,
    platform: &str,
    message_id: &str,
    index: usize,
    media: &InboundMedia,
) -> MediaItem {
    let (file_name, max_bytes) = match plan_download(
        platform,
        message_id,
        index,
        media,
        settings.max_bytes,
    ) {
        DownloadPlan::Download {
            file_name,
            max_bytes,
        } => (file_name, max_bytes),
        DownloadPlan::Skip(reason) => {
            debug!(%platform, file = %media.filename, "inbound file skipped: {}", reason.describe());
            return MediaItem::skipped(media, &reason);
        }
    };
    match save(&settings.inbound_dir, &file_name, &media.url, max_bytes) {
        Ok((path, bytes)) => {
            debug!(%platform, file = %media.filename, path = %path.display(), bytes, "inbound file saved");
            MediaItem::saved(media, path.to_string_lossy().into_owned(), bytes)
        }
        Err(SaveError::Download(DownloadError::TooLarge { limit, .. })) => {
            MediaItem::skipped(media, &SkipReason::TooLarge { max_bytes: limit })
        }
        Err(error) => {
            warn!(%platform, file = %media.filename, "inbound file not downloaded: {error}");
            MediaItem::skipped(media, &SkipReason::Failed(error.to_string()))
        }
    }
}

#[derive(Debug, thiserror::Error)]
enum SaveError {
    #[error(transparent)]
    Download(#[from] DownloadError),
    #[error("cannot write {0}: {1}")]
    Disk(String, std::io::Error),
}

/// Downloads `url` into `dir/file_name`; the absolute path and the size.
fn save(dir: &Path, file_name: &str, url: &str, limit: u64) -> Result<(PathBuf, u64), SaveError> {
    let disk = |e: std::io::Error| SaveError::Disk(dir.display().to_string(), e);
    fs::create_dir_all(dir).map_err(disk)?;
    let dir = fs::canonicalize(dir).map_err(disk)?;
    let path = dir.join(file_name);
    let part = dir.join(format!("{file_name}.part"));
    let result = (|| {
        let file = File::create(&part).map_err(disk)?;
        let mut sink = BufWriter::new(file);
        let got = download(url, Reach::Any, limit, &mut sink)?;
        let file = sink
            .into_inner()
            .map_err(|e| SaveError::Disk(part.display().to_string(), e.into_error()))?;
        file.sync_all().map_err(disk)?;
        fs::rename(&part, &path).map_err(disk)?;
        Ok((path.clone(), got.bytes))
    })();
    if result.is_err() {
        let _ = fs::remove_file(&part);
    }
    result
}
