//! Media I/O: downloading the attachments of inbound messages into
//! `<state>/media/inbound/` ([`inbound`]), reading the files an agent names
//! with `MEDIA:` lines ([`outbound`]), removing inbound files past their
//! retention ([`retention`]), over bounded HTTP downloads ([`download`]).
//!
//! Every decision (which files, which names, which paths are allowed, size
//! limits, what the agent and the user are told) is
//! `krill_core::media`'s; this module does the file and network work.

pub(crate) mod download;
pub mod inbound;
pub mod outbound;
pub mod retention;

use std::path::{Path, PathBuf};

use krill_core::config::Config;

/// What the media code needs to know about one account.
#[derive(Debug, Clone)]
pub struct MediaSettings {
    /// `<state>/media`.
    pub media_dir: PathBuf,
    /// `<state>/media/inbound`.
    pub inbound_dir: PathBuf,
    /// `mediaMaxMb` in bytes.
    pub max_bytes: u64,
    /// The platform's own upload limit in bytes.
    pub platform_limit: u64,
    /// `media.localRoots`, `~/` expanded.
    pub local_roots: Vec<PathBuf>,
    /// The home folder, for `MEDIA: ~/…`.
    pub home: Option<PathBuf>,
}

impl MediaSettings {
    /// The limits a file sent is held to (`mediaMaxMb`, the platform's).
    pub fn file_limits(&self) -> krill_core::control::FileLimits {
        krill_core::control::FileLimits {
            max_bytes: self.max_bytes,
            platform_limit: self.platform_limit,
        }
    }

    /// The settings for an account of `platform` with `media_max_mb`.
    pub fn new(
        config: &Config,
        state_dir: &Path,
        platform: krill_core::config::Platform,
        media_max_mb: f64,
    ) -> Self {
        let home = std::env::var_os("HOME")
            .filter(|h| !h.is_empty())
            .map(PathBuf::from);
        let local_roots = config
            .media
            .local_roots
            .iter()
            .filter_map(|root| match (root.strip_prefix("~/"), &home) {
                (Some(rest), Some(home)) => Some(home.join(rest)),
                (Some(_), None) => None,
                (None, _) => Some(PathBuf::from(root)),
            })
            .collect();
        Self {
            media_dir: crate::paths::media_dir(state_dir),
            inbound_dir: crate::paths::inbound_media_dir(state_dir),
            max_bytes: krill_core::media::max_bytes(media_max_mb),
            platform_limit: krill_core::media::platform_file_limit(platform),
            local_roots,
            home,
        }
    }
}
