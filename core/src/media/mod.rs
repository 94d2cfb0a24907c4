//! Media: files that come with inbound messages and files an agent sends.
//!
//! | module | owns |
//! |---|---|
//! | [`inbound`] | attachments of inbound messages (Discord `attachments`, KOOK types 2/3/4, card images): download or skip, file names under `media/inbound/`, what the agent is told |
//! | [`directive`] | `MEDIA: <path or https URL>` lines in a reply |
//! | [`path_policy`] | which local files may be sent (under `media/` and `media.localRoots`, after resolving symlinks) |
//! | [`address_policy`] | which addresses `MEDIA: https://…` links may be fetched from (public ones only) |
//! | [`outbound`] | sending files: size checks, which message carries them, the notes the user sees for files that cannot be sent |
//!
//! Sizes: `mediaMaxMb` is in MiB ([`max_bytes`]: × 1,048,576 bytes).
//! Everything here is pure; the drivers read, write and download files and
//! call these functions for every decision.

pub mod address_policy;
pub mod directive;
pub mod inbound;
pub mod outbound;
pub mod path_policy;

pub use directive::{extract_media, MediaRef, MediaReply};
pub use inbound::{
    attach_media, discord_media, kook_media, plan_download, text_or_placeholder, DownloadPlan,
    InboundMedia, MediaItem, SkipReason,
};
pub use outbound::{
    check_size, delivery_notes, plan_discord_delivery, plan_kook_delivery, DiscordSend, KookSend,
    MediaFailure, OutboundFile, SendPlan,
};

use crate::platform::Platform;

/// Bytes in a MiB: `mediaMaxMb` counts these.
pub const MIB: u64 = 1_048_576;

/// `media.retentionHours` default: inbound files older than this are
/// removed.
pub const DEFAULT_RETENTION_HOURS: u64 = 24;

/// Discord's own limit for one uploaded file (bots, unboosted guilds: 10 MiB).
pub const DISCORD_FILE_LIMIT: u64 = 10 * MIB;

/// Discord takes at most this many files in one message.
pub const DISCORD_MAX_FILES_PER_MESSAGE: usize = 10;

/// The largest file krill uploads to KOOK's asset service (KOOK documents
/// no figure; this is a conservative bound).
pub const KOOK_FILE_LIMIT: u64 = 30 * MIB;

/// The MIME type used when none is known.
pub const OCTET_STREAM: &str = "application/octet-stream";

/// `mediaMaxMb` in bytes (× 1,048,576, rounded down; at least 1 byte for a
/// positive value).
pub fn max_bytes(media_max_mb: f64) -> u64 {
    if !media_max_mb.is_finite() || media_max_mb <= 0.0 {
        return 0;
    }
    // Validated configs keep this within 500 MiB, far inside u64.
    ((media_max_mb * MIB as f64) as u64).max(1)
}

/// The platform's own limit for one uploaded file.
pub fn platform_file_limit(platform: Platform) -> u64 {
    match platform {
        Platform::Discord => DISCORD_FILE_LIMIT,
        _ => KOOK_FILE_LIMIT,
    }
}

/// The MIME type for a file name's extension (a small table of the types
/// chats carry), else [`OCTET_STREAM`].
pub fn content_type_for(name: &str) -> &'static str {
    let ext = name
        .rsplit_once('.')
        .map(|(_, e)| e.to_ascii_lowercase())
        .unwrap_or_default();
    match ext.as_str() {
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "gif" => "image/gif",
        "webp" => "image/webp",
        "bmp" => "image/bmp",
        "svg" => "image/svg+xml",
        "mp4" => "video/mp4",
        "webm" => "video/webm",
        "mov" => "video/quicktime",
        "mp3" => "audio/mpeg",
        "ogg" => "audio/ogg",
        "wav" => "audio/wav",
        "m4a" => "audio/mp4",
        "pdf" => "application/pdf",
        "zip" => "application/zip",
        "json" => "application/json",
        "txt" | "log" => "text/plain",
        "md" => "text/markdown",
        "csv" => "text/csv",
        "html" | "htm" => "text/html",
        _ => OCTET_STREAM,
    }
}

/// True for `image/*`.
pub fn is_image(content_type: &str) -> bool {
    content_type
        .trim()
        .get(..6)
        .is_some_and(|p| p.eq_ignore_ascii_case("image/"))
}

/// A size as people read it: `512 B`, `120 KB`, `9.5 MB` (1 KB = 1024 B).
pub fn format_size(bytes: u64) -> String {
    if bytes < 1024 {
        format!("{bytes} B")
    } else if bytes < MIB {
        format!("{} KB", (bytes + 512) / 1024)
    } else {
        format!("{:.1} MB", bytes as f64 / MIB as f64)
    }
}

/// A limit in MB without a useless fraction: `8 MB`, `0.5 MB`.
pub fn format_limit(bytes: u64) -> String {
    let mb = bytes as f64 / MIB as f64;
    if (mb - mb.round()).abs() < 0.005 {
        format!("{} MB", mb.round() as u64)
    } else {
        format!("{mb:.1} MB")
    }
}

/// A file name reduced to `A-Z a-z 0-9 . _ -` (other characters become
/// `_`, runs collapsed), without leading dots, at most 100 characters, the
/// extension kept (`数据.csv` → `file.csv`), never empty. Used for every
/// name krill writes and every name it uploads, so no input can make a
/// separator, `..` or a hidden file.
pub fn safe_file_name(name: &str) -> String {
    let base = name.rsplit(['/', '\\']).next().unwrap_or("");
    let (stem, ext) = match base.rsplit_once('.') {
        Some((stem, ext)) if !ext.is_empty() && ext.len() <= 10 => (stem, ext),
        _ => (base, ""),
    };
    let ext: String = ext.chars().filter(char::is_ascii_alphanumeric).collect();
    let mut clean = String::with_capacity(stem.len());
    for c in stem.chars() {
        let c = if c.is_ascii_alphanumeric() || matches!(c, '-' | '_') {
            c
        } else {
            '_'
        };
        if c == '_' && clean.ends_with('_') {
            continue;
        }
        clean.push(c);
    }
    let mut stem = clean.trim_matches('_').to_owned();
    if stem.is_empty() {
        stem = "file".to_owned();
    }
    stem.truncate(100 - ext.len().min(10) - 1);
    if ext.is_empty() {
        stem
    } else {
        format!("{stem}.{ext}")
    }
}

/// True when an inbound file `age_secs` old is past `retention_hours` (0
/// keeps files forever).
pub fn is_expired(age_secs: u64, retention_hours: u64) -> bool {
    retention_hours > 0 && age_secs > retention_hours.saturating_mul(3600)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn megabytes_are_mebibytes() {
        assert_eq!(max_bytes(8.0), 8 * 1_048_576);
        assert_eq!(max_bytes(0.5), 524_288);
        assert_eq!(max_bytes(0.0), 0);
    }

    #[test]
    fn names_never_escape() {
        assert_eq!(safe_file_name("../../etc/passwd"), "passwd");
        assert_eq!(safe_file_name(".."), "file");
        assert_eq!(safe_file_name(".hidden"), "file.hidden");
        assert_eq!(safe_file_name("a b/c d.png"), "c_d.png");
        assert_eq!(safe_file_name("数据.csv"), "file.csv");
        assert_eq!(safe_file_name("x..y"), "x.y");
        assert_eq!(safe_file_name("photo.tar.gz"), "photo_tar.gz");
        let long = format!("{}.png", "a".repeat(300));
        let s = safe_file_name(&long);
        assert_eq!(s.len(), 100);
        assert!(s.ends_with(".png"));
    }

    #[test]
    fn sizes_read_well() {
        assert_eq!(format_size(10), "10 B");
        assert_eq!(format_size(120 * 1024), "120 KB");
        assert_eq!(format_size(9 * MIB + MIB / 2), "9.5 MB");
        assert_eq!(format_limit(8 * MIB), "8 MB");
        assert_eq!(format_limit(MIB / 2), "0.5 MB");
    }

    #[test]
    fn retention() {
        assert!(!is_expired(3600, 1));
        assert!(is_expired(3601, 1));
        assert!(!is_expired(u64::MAX, 0));
    }
}
