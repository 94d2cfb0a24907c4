//! Reads the files an agent names with `MEDIA:` lines, for upload. Local
//! paths are resolved with the filesystem (symlinks and `..`) and judged by
//! `krill_core::media::path_policy`; sizes by
//! `krill_core::media::check_size`; `https://` URLs are downloaded with the
//! same bounds as inbound media and kept in `<state>/media/outbound/`, so
//! every file of a reply is on disk and its outbox row can name it by path
//! ([`read_recorded`] reads it again after a restart, with the same checks).
//! Every file that cannot be sent becomes a [`MediaFailure`] (the user gets
//! a note), never a silent drop.

use std::fs::{self, File};
use std::io::{ErrorKind, Read};
use std::path::{Path, PathBuf};

use krill_core::durable::RecordedFile;
use krill_core::media::inbound::url_file_name;
use krill_core::media::outbound::FailureReason;
use krill_core::media::path_policy::{candidate_path, is_allowed};
use krill_core::media::{check_size, MediaFailure, MediaRef, OutboundFile};
use tracing::{debug, info, warn};

use super::download::{download, DownloadError, Reach};
use super::MediaSettings;

/// The files of a reply, read and checked.
#[derive(Debug, Default)]
pub struct Prepared {
    /// Ready to upload, in the order of the `MEDIA:` lines.
    pub files: Vec<OutboundFile>,
    /// Files that will not be sent.
    pub failures: Vec<MediaFailure>,
}

/// Reads (or downloads) every file of `refs` on the blocking pool.
pub async fn prepare(settings: MediaSettings, refs: Vec<MediaRef>) -> Prepared {
    smol::unblock(move || {
        let roots = allowed_roots(&settings);
        let mut prepared = Prepared::default();
        for target in &refs {
            match read_one(&settings, &roots, target) {
                Ok(file) => prepared.files.push(file),
                Err(reason) => {
                    let failure = MediaFailure::new(target.as_str(), reason);
                    info!("MEDIA file not sent: {}", failure.describe());
                    prepared.failures.push(failure);
                }
            }
        }
        prepared
    })
    .await
}

/// `<state>/media/` (created if missing) and `media.localRoots`, resolved;
/// roots that do not exist are left out.
fn allowed_roots(settings: &MediaSettings) -> Vec<PathBuf> {
    let _ = fs::create_dir_all(&settings.media_dir);
    std::iter::once(&settings.media_dir)
        .chain(settings.local_roots.iter())
        .filter_map(|root| fs::canonicalize(root).ok())
        .collect()
}

fn read_one(
    settings: &MediaSettings,
    roots: &[PathBuf],
    target: &MediaRef,
) -> Result<OutboundFile, FailureReason> {
    let limit = settings.max_bytes.min(settings.platform_limit);
    match target {
        MediaRef::Local(raw) => {
            let candidate = candidate_path(raw, &settings.media_dir, settings.home.as_deref());
            let resolved = fs::canonicalize(&candidate).map_err(|e| match e.kind() {
                ErrorKind::NotFound => FailureReason::NotFound,
                _ => FailureReason::Unreadable(e.kind().to_string()),
            })?;
            if !is_allowed(&resolved, roots) {
                debug!(
                    "MEDIA path {} resolves outside the allowed roots",
                    candidate.display()
                );
                return Err(FailureReason::NotAllowed);
            }
            let data = read_bounded(&resolved, settings.max_bytes, settings.platform_limit)?;
            let name = resolved
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            Ok(OutboundFile::new(&name, None, data).with_source(&resolved.to_string_lossy()))
        }
        MediaRef::Url(url) => {
            let mut data = Vec::new();
            let got = download(url, Reach::PublicOnly, limit, &mut data).map_err(|e| match e {
                DownloadError::TooLarge { limit, announced } => FailureReason::TooLarge {
                    size: announced,
                    limit,
                },
                DownloadError::InternalAddress => FailureReason::InternalAddress,
                other => FailureReason::Unreadable(other.to_string()),
            })?;
            let file = OutboundFile::new(&url_file_name(url), got.content_type.as_deref(), data);
            Ok(keep_download(settings, file))
        }
        _ => Err(FailureReason::UnsupportedUrl),
    }
}

/// Keeps a downloaded file in `<state>/media/outbound/` (a unique name), so
/// its upload can be recorded by path; when it cannot be written the file
/// is still sent, but a restart cannot send it again.
fn keep_download(settings: &MediaSettings, file: OutboundFile) -> OutboundFile {
    let dir = settings.media_dir.join(OUTBOUND_DIR);
    let path = dir.join(format!(
        "{:016x}-{}",
        crate::pairing_store::random_seed(),
        file.filename
    ));
    match fs::create_dir_all(&dir).and_then(|()| fs::write(&path, &file.data)) {
        Ok(()) => {
            let source = path.to_string_lossy().into_owned();
            file.with_source(&source)
        }
        Err(e) => {
            warn!("cannot keep downloaded file {}: {e}", path.display());
            file
        }
    }
}

/// The folder under `<state>/media/` downloaded reply files are kept in.
pub const OUTBOUND_DIR: &str = "outbound";

/// Reads a file a recorded upload names, again (after a restart): it must
/// still resolve inside the allowed roots and fit the size limits.
pub fn read_recorded(
    settings: &MediaSettings,
    recorded: &RecordedFile,
) -> Result<OutboundFile, MediaFailure> {
    let roots = allowed_roots(settings);
    let fail = |reason| MediaFailure::new(&recorded.name, reason);
    let resolved = fs::canonicalize(&recorded.path).map_err(|e| {
        fail(match e.kind() {
            ErrorKind::NotFound => FailureReason::NotFound,
            _ => FailureReason::Unreadable(e.kind().to_string()),
        })
    })?;
    if !is_allowed(&resolved, &roots) {
        return Err(fail(FailureReason::NotAllowed));
    }
    let data =
        read_bounded(&resolved, settings.max_bytes, settings.platform_limit).map_err(fail)?;
    Ok(
        OutboundFile::new(&recorded.name, Some(&recorded.content_type), data)
            .with_source(&resolved.to_string_lossy()),
    )
}

/// The bytes of the regular file at `path`, held to `max_bytes`
/// (`mediaMaxMb`) and `platform_limit` by its size before reading and by
/// what is read (a file that grows is cut off at the limit and refused).
pub(crate) fn read_bounded(
    path: &Path,
    max_bytes: u64,
    platform_limit: u64,
) -> Result<Vec<u8>, FailureReason> {
    let unreadable = |e: std::io::Error| FailureReason::Unreadable(e.kind().to_string());
    let meta = fs::metadata(path).map_err(unreadable)?;
    if !meta.is_file() {
        return Err(FailureReason::NotFound);
    }
    check_size(meta.len(), max_bytes, platform_limit)?;
    let limit = max_bytes.min(platform_limit);
    let mut data = Vec::with_capacity(meta.len() as usize);
    File::open(path)
        .and_then(|f| f.take(limit.saturating_add(1)).read_to_end(&mut data))
        .map_err(unreadable)?;
    check_size(data.len() as u64, max_bytes, platform_limit)?;
    Ok(data)
}

/// How `file` is named in an upload row (`None`: it is not on disk).
pub fn recorded(file: &OutboundFile) -> Option<RecordedFile> {
    Some(RecordedFile {
        path: file.source.clone()?,
        name: file.filename.clone(),
        content_type: file.content_type.clone(),
    })
}
