//! Where krill's files are: the config file (`--config`, else
//! `$KRILL_CONFIG`, else `~/.krill/krill.json5`) and the state dir
//! (`$KRILL_STATE_DIR`, else `~/.krill`). Every subcommand finds them the same
//! way, so `krill pairing approve` sees what `krill gateway` sees.

use std::path::{Path, PathBuf};

/// Where the config comes from, and whether the user named it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigLocation {
    /// The file to read.
    pub path: PathBuf,
    /// True when the path is the built-in default (a missing default file
    /// means defaults, not an error).
    pub is_default: bool,
}

/// The user's home directory (`$HOME`), or `.` when unset.
fn home_dir() -> PathBuf {
    std::env::var_os("HOME")
        .filter(|h| !h.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("."))
}

/// Resolves the config path: the `--config` flag, else `$KRILL_CONFIG`, else
/// `~/.krill/krill.json5`.
pub fn config_location(flag: Option<&Path>) -> ConfigLocation {
    if let Some(path) = flag {
        return ConfigLocation {
            path: path.to_path_buf(),
            is_default: false,
        };
    }
    if let Some(env) = std::env::var_os("KRILL_CONFIG").filter(|v| !v.is_empty()) {
        return ConfigLocation {
            path: PathBuf::from(env),
            is_default: false,
        };
    }
    ConfigLocation {
        path: home_dir().join(".krill").join("krill.json5"),
        is_default: true,
    }
}

/// The state dir: `$KRILL_STATE_DIR`, else `~/.krill`.
pub fn state_dir() -> PathBuf {
    std::env::var_os("KRILL_STATE_DIR")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| home_dir().join(".krill"))
}

/// `<state>/credentials`: pairing stores and approved allowlists.
pub fn credentials_dir(state: &Path) -> PathBuf {
    state.join("credentials")
}

/// `<state>/media`: files agents may send (and the inbound folder).
pub fn media_dir(state: &Path) -> PathBuf {
    state.join("media")
}

/// `<state>/media/inbound`: files downloaded from inbound messages.
pub fn inbound_media_dir(state: &Path) -> PathBuf {
    media_dir(state).join("inbound")
}

/// `<state>/agents/<agentId>/sessions`: transcripts.
pub fn sessions_dir(state: &Path, agent_id: &str) -> PathBuf {
    state.join("agents").join(agent_id).join("sessions")
}

/// `<state>/gateway.sock`: the running gateway's control socket (0600).
pub fn control_socket(state: &Path) -> PathBuf {
    state.join("gateway.sock")
}
