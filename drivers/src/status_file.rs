//! The gateway's status file, `$KRILL_STATE_DIR/status.json`: what a running
//! `krill gateway` says about each of its channels, for
//! `krill channels status` and `krill doctor` (other processes) to read.
//!
//! - The gateway calls [`write_atomic`] every few seconds (and once more with
//!   the final states when it stops, or [`remove`]s the file). Writes go to a
//!   temp file in the state dir, mode 0600, then `rename` over `status.json`,
//!   so a reader never sees half a file. There is no fsync: the file is
//!   rewritten every few seconds and a torn one after a power cut reads as
//!   [`StatusFileError::Parse`], which readers treat as "no live gateway".
//! - The file holds no secret: no token, no gateway URL (KOOK's carries the
//!   token), only states, counters and error texts the drivers already
//!   redact.
//! - A reader decides whether the writer is alive with
//!   [`GatewayStatus::liveness`]: updated within [`STALE_AFTER_MS`] and its
//!   pid still running (`/proc/<pid>` on Linux).
//! - Durations (`since_*_ms`) are measured at `updated_at_ms`; a reader adds
//!   the file's age ([`GatewayStatus::age_ms`]) to show them as of now.
//! - [`ChannelStatus::health_warnings`] turns one channel's numbers into the
//!   "looks wedged" warnings `channels status` prints.
//!
//! Unknown fields are ignored and missing ones default, so an older or newer
//! gateway's file still reads.

use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// The file name inside the state dir.
pub const FILE_NAME: &str = "status.json";

/// A status not rewritten for this long is from a gateway that is gone (or
/// stuck): the gateway rewrites it every few seconds.
pub const STALE_AFTER_MS: u64 = 30_000;

/// A connected channel with no heartbeat ACK / PONG for this long is
/// half-dead (Discord ACKs every ~41 s, KOOK PONGs every ~30 s).
pub const ACK_SILENCE_WARN_MS: u64 = 90_000;

/// A connected channel with no event at all for this long, while its
/// heartbeats are answered, may be the "PONGs arrive, events don't" wedge
/// (`docs/protocol-kook.md` § Connection lifecycle, step 8).
pub const EVENT_SILENCE_WARN_MS: u64 = 10 * 60_000;

/// What a running gateway writes.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct GatewayStatus {
    /// The gateway's process id.
    pub pid: u32,
    /// When the gateway started (Unix ms).
    pub started_at_ms: u64,
    /// When this status was written (Unix ms).
    pub updated_at_ms: u64,
    /// One entry per account (and per shard, if the gateway splits them).
    pub channels: Vec<ChannelStatus>,
}

/// One channel (account) of a running gateway.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ChannelStatus {
    /// `discord` or `kook` ([`krill_core::config::Platform::as_str`]).
    pub platform: String,
    /// `default` or the key under `accounts`.
    pub account_id: String,
    /// A short word or phrase: `connecting`, `ready`, `resuming`,
    /// `backing-off`, `stopped: token rejected`, ...
    pub state: String,
    /// A WebSocket is open and the session is up (HELLO / READY seen).
    pub connected: bool,
    /// The machine holds a session it could resume.
    pub session_id_present: bool,
    /// Since the last dispatch / event frame (not heartbeats), if any.
    pub since_last_event_ms: Option<u64>,
    /// Since the last heartbeat ACK (Discord op 11) / PONG (KOOK s=3).
    pub since_last_ack_or_pong_ms: Option<u64>,
    /// Outages since the gateway started: times a connected channel lost
    /// its connection (however many attempts the reconnect took).
    pub reconnects: u64,
    /// The last error (close code, connect failure ...), token-free.
    pub last_error: Option<String>,
    /// Inbound messages accepted for the agent.
    pub messages_in: u64,
    /// Replies (chunks) posted.
    pub replies_out: u64,
    /// Discord: guild messages from others that arrived with text although
    /// they did not mention the bot: live evidence that the Message Content
    /// Intent is in effect.
    pub content_seen: u64,
    /// Things the gateway found out that the operator should fix (e.g.
    /// member search refused: the Server Members Intent is off), each said
    /// once in the log; `krill doctor` and `channels status` repeat them.
    pub notices: Vec<String>,
}

/// Whether the gateway that wrote a status is running.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Liveness {
    /// Written recently by a running process.
    Live,
    /// Its process is gone.
    Dead,
    /// Its process exists but has not rewritten the file for `age_ms`
    /// (stuck, or the pid was reused).
    Stale {
        /// How old the file is.
        age_ms: u64,
    },
}

/// Reading or writing the status file failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StatusFileError {
    /// An I/O error on `path`.
    #[error("{}: {source}", .path.display())]
    Io {
        /// The file or dir.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// The file is not a status (torn, or not krill's).
    #[error("{}: not a gateway status file: {source}", .path.display())]
    Parse {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: serde_json::Error,
    },
}

impl GatewayStatus {
    /// How old the status is at `now_ms` (0 if written "in the future").
    pub fn age_ms(&self, now_ms: u64) -> u64 {
        now_ms.saturating_sub(self.updated_at_ms)
    }

    /// Whether its writer is running, at `now_ms`.
    pub fn liveness(&self, now_ms: u64) -> Liveness {
        if !pid_alive(self.pid) {
            return Liveness::Dead;
        }
        let age_ms = self.age_ms(now_ms);
        if age_ms > STALE_AFTER_MS {
            Liveness::Stale { age_ms }
        } else {
            Liveness::Live
        }
    }

    /// The entry of one account, if the gateway runs it.
    pub fn channel(&self, platform: &str, account_id: &str) -> Option<&ChannelStatus> {
        self.channels
            .iter()
            .find(|c| c.platform == platform && c.account_id == account_id)
    }
}

impl ChannelStatus {
    /// An entry for `platform` / `account_id` with every other field zero.
    pub fn new(platform: impl Into<String>, account_id: impl Into<String>) -> Self {
        Self {
            platform: platform.into(),
            account_id: account_id.into(),
            ..Self::default()
        }
    }

    /// Warnings about a connection that looks wedged, `extra_ms` after the
    /// status was written (pass [`GatewayStatus::age_ms`]). Empty when the
    /// channel is not connected (its `state` and `last_error` say why).
    pub fn health_warnings(&self, extra_ms: u64) -> Vec<String> {
        let mut out = Vec::new();
        if !self.connected {
            return out;
        }
        let beat = match self.platform.as_str() {
            "kook" => "PONG",
            _ => "heartbeat ACK",
        };
        let ack = self
            .since_last_ack_or_pong_ms
            .map(|ms| ms.saturating_add(extra_ms));
        let event = self
            .since_last_event_ms
            .map(|ms| ms.saturating_add(extra_ms));
        if let Some(ack) = ack.filter(|&ms| ms > ACK_SILENCE_WARN_MS) {
            out.push(format!(
                "connected but no {beat} for {}: the connection looks half-dead; if it does not reconnect by itself, restart with `krill gateway --force`",
                human_duration(ack)
            ));
        } else if let Some(event) = event.filter(|&ms| ms > EVENT_SILENCE_WARN_MS) {
            out.push(format!(
                "connected but no event for {} ({beat}s still arrive): either nobody wrote, or the connection is half-dead; if messages to the bot go unanswered, restart with `krill gateway --force`",
                human_duration(event)
            ));
        }
        out
    }
}

/// `<state_dir>/status.json`.
pub fn path(state_dir: &Path) -> PathBuf {
    state_dir.join(FILE_NAME)
}

/// Writes `status` to `<state_dir>/status.json` atomically (temp file, mode
/// 0600, then rename). Creates the state dir (mode 0700) if missing.
pub fn write_atomic(state_dir: &Path, status: &GatewayStatus) -> Result<(), StatusFileError> {
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| StatusFileError::Io { path, source }
    };
    create_private_dir(state_dir).map_err(io(state_dir))?;
    let target = path(state_dir);
    let temp = state_dir.join(format!(".{FILE_NAME}.{}.tmp", std::process::id()));
    let mut bytes = serde_json::to_vec_pretty(status).map_err(|source| StatusFileError::Parse {
        path: target.clone(),
        source,
    })?;
    bytes.push(b'\n');
    let written = open_private(&temp)
        .and_then(|mut f| f.write_all(&bytes))
        .and_then(|()| std::fs::rename(&temp, &target));
    if let Err(source) = written {
        let _ = std::fs::remove_file(&temp);
        return Err(StatusFileError::Io {
            path: target,
            source,
        });
    }
    Ok(())
}

/// Reads `<state_dir>/status.json`; `Ok(None)` when there is none.
pub fn read(state_dir: &Path) -> Result<Option<GatewayStatus>, StatusFileError> {
    let path = path(state_dir);
    let bytes = match std::fs::read(&path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(source) => return Err(StatusFileError::Io { path, source }),
    };
    serde_json::from_slice(&bytes)
        .map(Some)
        .map_err(|source| StatusFileError::Parse { path, source })
}

/// Removes `<state_dir>/status.json` (a gateway stopping cleanly); no error
/// when it is already gone.
pub fn remove(state_dir: &Path) -> Result<(), StatusFileError> {
    let path = path(state_dir);
    match std::fs::remove_file(&path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(source) => Err(StatusFileError::Io { path, source }),
    }
}

/// Whether process `pid` exists. Linux: `/proc/<pid>`; where there is no
/// `/proc`, every pid but 0 counts as alive (freshness still applies).
pub fn pid_alive(pid: u32) -> bool {
    if pid == 0 {
        return false;
    }
    let proc = Path::new("/proc");
    if proc.join("self").exists() {
        proc.join(pid.to_string()).exists()
    } else {
        true
    }
}

/// `850 ms`, `42 s`, `14 min`, `3 h 05 min`, `2 d 4 h`.
pub fn human_duration(ms: u64) -> String {
    let s = ms / 1000;
    match s {
        0 => format!("{ms} ms"),
        1..=119 => format!("{s} s"),
        120..=5_399 => format!("{} min", s / 60),
        5_400..=172_799 => format!("{} h {:02} min", s / 3600, (s % 3600) / 60),
        _ => format!("{} d {} h", s / 86_400, (s % 86_400) / 3600),
    }
}

fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    if dir.is_dir() {
        return Ok(());
    }
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder.create(dir)
}

fn open_private(path: &Path) -> std::io::Result<std::fs::File> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options.open(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> GatewayStatus {
        GatewayStatus {
            pid: std::process::id(),
            started_at_ms: 1_000,
            updated_at_ms: 61_000,
            channels: vec![ChannelStatus {
                state: "ready".into(),
                connected: true,
                session_id_present: true,
                since_last_event_ms: Some(1_200),
                since_last_ack_or_pong_ms: Some(3_000),
                messages_in: 4,
                replies_out: 3,
                ..ChannelStatus::new("kook", "default")
            }],
        }
    }

    #[test]
    fn write_then_read_round_trips_with_mode_0600() {
        let dir = tempfile::tempdir().unwrap();
        let state = dir.path().join("state");
        assert_eq!(read(&state).unwrap(), None);
        write_atomic(&state, &sample()).unwrap();
        assert_eq!(read(&state).unwrap(), Some(sample()));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(path(&state))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
            let mode = std::fs::metadata(&state).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o700);
        }
        let names: Vec<_> = std::fs::read_dir(&state)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, vec![std::ffi::OsString::from(FILE_NAME)]);
        remove(&state).unwrap();
        remove(&state).unwrap();
        assert_eq!(read(&state).unwrap(), None);
    }

    #[test]
    fn file_uses_camel_case_and_tolerates_unknown_and_missing_fields() {
        let text = serde_json::to_string(&sample()).unwrap();
        assert!(text.contains("\"sinceLastAckOrPongMs\":3000"), "{text}");
        assert!(text.contains("\"accountId\":\"default\""), "{text}");
        let old: GatewayStatus =
            serde_json::from_str(r#"{"pid":7,"channels":[{"platform":"discord","future":1}]}"#)
                .unwrap();
        assert_eq!(old.pid, 7);
        assert_eq!(old.channels[0], ChannelStatus::new("discord", ""));
    }

    #[test]
    fn garbage_is_a_parse_error() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(path(dir.path()), b"{\"pid\": ").unwrap();
        assert!(matches!(
            read(dir.path()),
            Err(StatusFileError::Parse { .. })
        ));
    }

    #[test]
    fn liveness_needs_a_running_pid_and_a_fresh_file() {
        let s = sample();
        assert_eq!(s.liveness(61_000 + STALE_AFTER_MS), Liveness::Live);
        assert_eq!(
            s.liveness(61_001 + STALE_AFTER_MS),
            Liveness::Stale {
                age_ms: STALE_AFTER_MS + 1
            }
        );
        let dead = GatewayStatus { pid: 0, ..sample() };
        assert_eq!(dead.liveness(61_000), Liveness::Dead);
        if Path::new("/proc/self").exists() {
            let gone = GatewayStatus {
                pid: u32::MAX - 1,
                ..sample()
            };
            assert_eq!(gone.liveness(61_000), Liveness::Dead);
        }
    }

    #[test]
    fn health_warnings_flag_a_silent_heartbeat_then_a_silent_event_stream() {
        let mut c = sample().channels.remove(0);
        assert!(c.health_warnings(0).is_empty());
        c.since_last_event_ms = Some(EVENT_SILENCE_WARN_MS);
        assert!(c.health_warnings(0).is_empty());
        let w = c.health_warnings(1);
        assert_eq!(w.len(), 1);
        assert!(w[0].contains("no event for 10 min"), "{w:?}");
        assert!(w[0].contains("PONGs still arrive"), "{w:?}");
        c.since_last_ack_or_pong_ms = Some(ACK_SILENCE_WARN_MS + 1);
        let w = c.health_warnings(0);
        assert_eq!(w.len(), 1, "the stronger warning alone: {w:?}");
        assert!(w[0].contains("no PONG for 90 s"), "{w:?}");
        c.connected = false;
        assert!(c.health_warnings(0).is_empty());
    }

    #[test]
    fn durations_read_naturally() {
        assert_eq!(human_duration(850), "850 ms");
        assert_eq!(human_duration(42_000), "42 s");
        assert_eq!(human_duration(14 * 60_000 + 5_000), "14 min");
        assert_eq!(human_duration(3 * 3_600_000 + 5 * 60_000), "3 h 05 min");
        assert_eq!(human_duration(52 * 3_600_000), "2 d 4 h");
    }
}
