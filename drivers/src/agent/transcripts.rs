//! [`TranscriptStore`]: the append-only JSONL transcript of every session,
//! `<state>/agents/<agentId>/sessions/<sessionKey>.jsonl` (bytes that could
//! leave the folder are percent-encoded, see
//! `krill_core::agent::transcript`).
//!
//! A session's file is read once, the first time the session is used after
//! start-up, and kept in memory (its last [`MAX_CACHED_ENTRIES`] entries);
//! each finished turn appends its user and assistant lines in one write,
//! to the file kept open since the session's first append (at most
//! [`MAX_OPEN_FILES`] sessions keep theirs open; the others open and close
//! it per append). A torn last line (krill killed mid-write) is skipped when loading, and the
//! next append starts on a fresh line. Files are created with mode 0600:
//! they hold private conversations.
//!
//! `/new` archives a session ([`TranscriptStore::archive`]): its file is
//! renamed to `<sessionKey>.jsonl.<unixMs>.archived` in the same folder
//! (kept on disk, never read again as history) and the session starts empty.
//!
//! The methods block (file I/O); async callers run them on
//! krill's worker threads ([`crate::workers`]), as the runner does.

use std::collections::{HashMap, VecDeque};
use std::fs::{self, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use krill_core::agent::transcript::{is_path_safe_agent_id, parse_transcript, session_file_name};
use krill_core::agent::{history_window, HistoryEntry, TranscriptEntry};
use thiserror::Error;

use crate::paths::sessions_dir;

/// The most entries of one session kept in memory, and so the most history
/// a turn can see.
pub const MAX_CACHED_ENTRIES: usize = 1000;

/// The most transcript files kept open between appends (per process).
pub const MAX_OPEN_FILES: usize = 64;

/// Transcript files kept open now.
static OPEN_FILES: AtomicUsize = AtomicUsize::new(0);

/// A transcript could not be read or written.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum TranscriptError {
    /// The agent id cannot name a folder (empty, leading dot, or a byte
    /// other than letters, digits, `-`, `_`, `.`).
    #[error("agent id `{0}` cannot be used as a folder name")]
    UnsafeAgentId(String),
    /// The worker thread doing the file work failed (a bug).
    #[error("transcript: {0}")]
    Worker(#[from] crate::workers::WorkerGone),
    /// Reading or writing the file failed.
    #[error("transcript {}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        source: io::Error,
    },
}

/// Every session's transcript (see the module docs).
#[derive(Debug)]
pub struct TranscriptStore {
    state_dir: PathBuf,
    /// (agent id, session key) → that session's cache.
    sessions: Mutex<HashMap<(String, String), SharedSession>>,
}

/// One session's cache, locked while its file is read or appended to.
type SharedSession = Arc<Mutex<Session>>;

#[derive(Debug, Default)]
struct Session {
    loaded: bool,
    entries: VecDeque<TranscriptEntry>,
    /// The file ends in a torn line: start the next append with `\n`.
    needs_newline: bool,
    /// The file, open for appending since the last append.
    file: Option<KeptFile>,
}

/// A transcript file kept open (counted in [`OPEN_FILES`]).
#[derive(Debug)]
struct KeptFile(fs::File);

impl KeptFile {
    /// Keeps `file` open when fewer than [`MAX_OPEN_FILES`] are.
    fn keep(file: fs::File) -> Option<Self> {
        OPEN_FILES
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| {
                (n < MAX_OPEN_FILES).then_some(n + 1)
            })
            .ok()
            .map(|_| Self(file))
    }
}

impl Drop for KeptFile {
    fn drop(&mut self) {
        OPEN_FILES.fetch_sub(1, Ordering::Relaxed);
    }
}

impl TranscriptStore {
    /// A store under the state dir `state_dir`.
    pub fn new(state_dir: impl Into<PathBuf>) -> Self {
        Self {
            state_dir: state_dir.into(),
            sessions: Mutex::new(HashMap::new()),
        }
    }

    /// The transcript file of a session.
    pub fn file_path(&self, agent_id: &str, session_key: &str) -> Result<PathBuf, TranscriptError> {
        if !is_path_safe_agent_id(agent_id) {
            return Err(TranscriptError::UnsafeAgentId(agent_id.to_owned()));
        }
        Ok(sessions_dir(&self.state_dir, agent_id).join(session_file_name(session_key)))
    }

    /// True once the session's file has been read (appends then only
    /// write, never read).
    pub fn is_loaded(&self, agent_id: &str, session_key: &str) -> bool {
        let session = self.session(agent_id, session_key);
        let loaded = session
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .loaded;
        loaded
    }

    /// The session's entries, oldest first (at most [`MAX_CACHED_ENTRIES`]);
    /// reads the file the first time. A missing file is an empty
    /// transcript.
    pub fn entries(
        &self,
        agent_id: &str,
        session_key: &str,
    ) -> Result<Vec<TranscriptEntry>, TranscriptError> {
        let path = self.file_path(agent_id, session_key)?;
        let session = self.session(agent_id, session_key);
        let mut session = session.lock().unwrap_or_else(PoisonError::into_inner);
        session.load(&path)?;
        Ok(session.entries.iter().cloned().collect())
    }

    /// The history a turn sees: the session's last `user_turns` user turns
    /// and the answers between them (all when `None`), copied once, under
    /// the session's lock.
    pub fn history(
        &self,
        agent_id: &str,
        session_key: &str,
        user_turns: Option<usize>,
    ) -> Result<Vec<HistoryEntry>, TranscriptError> {
        let path = self.file_path(agent_id, session_key)?;
        let session = self.session(agent_id, session_key);
        let mut session = session.lock().unwrap_or_else(PoisonError::into_inner);
        session.load(&path)?;
        Ok(history_window(
            session.entries.make_contiguous(),
            user_turns,
        ))
    }

    /// What the transcript recorded for the turn that answered inbound
    /// message `message_id`: `None` when no such turn is recorded, else its
    /// reply (`None` for a turn without one). Recovery uses it so that a
    /// turn whose transcript append happened before a crash is not asked
    /// again (and not appended twice).
    pub fn recorded_reply(
        &self,
        agent_id: &str,
        session_key: &str,
        message_id: &str,
    ) -> Result<Option<Option<String>>, TranscriptError> {
        let path = self.file_path(agent_id, session_key)?;
        let session = self.session(agent_id, session_key);
        let mut session = session.lock().unwrap_or_else(PoisonError::into_inner);
        session.load(&path)?;
        let entries = session.entries.make_contiguous();
        let Some(at) = entries.iter().rposition(|e| {
            e.role == krill_core::agent::Role::User && e.message_id.as_deref() == Some(message_id)
        }) else {
            return Ok(None);
        };
        Ok(Some(
            entries
                .get(at + 1)
                .filter(|e| e.role == krill_core::agent::Role::Assistant)
                .map(|e| e.text.clone()),
        ))
    }

    /// Appends `new` to the session's file (created with its folders when
    /// missing) and to the cache.
    pub fn append(
        &self,
        agent_id: &str,
        session_key: &str,
        new: &[TranscriptEntry],
    ) -> Result<(), TranscriptError> {
        if new.is_empty() {
            return Ok(());
        }
        let path = self.file_path(agent_id, session_key)?;
        let session = self.session(agent_id, session_key);
        let mut session = session.lock().unwrap_or_else(PoisonError::into_inner);
        session.load(&path)?;
        let mut bytes = String::new();
        if session.needs_newline {
            bytes.push('\n');
        }
        for entry in new {
            bytes.push_str(&entry.to_jsonl_line());
        }
        let written = match session.file.as_mut() {
            Some(kept) => kept.0.write_all(bytes.as_bytes()),
            None => open_append(&path).and_then(|mut file| {
                file.write_all(bytes.as_bytes())?;
                session.file = KeptFile::keep(file);
                Ok(())
            }),
        };
        if let Err(source) = written {
            // Opened afresh next time.
            session.file = None;
            return Err(TranscriptError::Io { path, source });
        }
        session.needs_newline = false;
        session.push(new.iter().cloned());
        Ok(())
    }

    /// User turns in the session's transcript (as far as kept in memory).
    pub fn user_turns(&self, agent_id: &str, session_key: &str) -> Result<usize, TranscriptError> {
        Ok(self
            .entries(agent_id, session_key)?
            .iter()
            .filter(|e| e.role == krill_core::agent::Role::User)
            .count())
    }

    /// Archives the session (see the module docs): its file is renamed
    /// aside and the session starts empty. Returns the archive's path, or
    /// `None` when the session had no file yet.
    pub fn archive(
        &self,
        agent_id: &str,
        session_key: &str,
        now_ms: u64,
    ) -> Result<Option<PathBuf>, TranscriptError> {
        let path = self.file_path(agent_id, session_key)?;
        let session = self.session(agent_id, session_key);
        let mut session = session.lock().unwrap_or_else(PoisonError::into_inner);
        let mut archived = path.clone().into_os_string();
        archived.push(format!(".{now_ms}.archived"));
        let archived = PathBuf::from(archived);
        let moved = match fs::rename(&path, &archived) {
            Ok(()) => Some(archived),
            Err(e) if e.kind() == io::ErrorKind::NotFound => None,
            Err(source) => return Err(TranscriptError::Io { path, source }),
        };
        *session = Session {
            loaded: true,
            ..Session::default()
        };
        Ok(moved)
    }

    fn session(&self, agent_id: &str, session_key: &str) -> SharedSession {
        let mut sessions = self.sessions.lock().unwrap_or_else(PoisonError::into_inner);
        sessions
            .entry((agent_id.to_owned(), session_key.to_owned()))
            .or_default()
            .clone()
    }
}

impl Session {
    fn load(&mut self, path: &Path) -> Result<(), TranscriptError> {
        if self.loaded {
            return Ok(());
        }
        let contents = match fs::read(path) {
            Ok(bytes) => String::from_utf8_lossy(&bytes).into_owned(),
            Err(e) if e.kind() == io::ErrorKind::NotFound => String::new(),
            Err(source) => {
                return Err(TranscriptError::Io {
                    path: path.to_path_buf(),
                    source,
                })
            }
        };
        let parsed = parse_transcript(&contents);
        if parsed.skipped_lines > 0 {
            tracing::warn!(
                path = %path.display(),
                skipped = parsed.skipped_lines,
                "transcript has lines that do not parse; skipping them"
            );
        }
        self.needs_newline = !parsed.ends_with_newline;
        self.push(parsed.entries);
        self.loaded = true;
        Ok(())
    }

    fn push(&mut self, entries: impl IntoIterator<Item = TranscriptEntry>) {
        self.entries.extend(entries);
        let excess = self.entries.len().saturating_sub(MAX_CACHED_ENTRIES);
        self.entries.drain(..excess);
    }
}

/// Opens the file for appending, creating it (mode 0600) and its folders
/// when missing.
fn open_append(path: &Path) -> io::Result<fs::File> {
    if let Some(dir) = path.parent() {
        fs::create_dir_all(dir)?;
    }
    let mut options = OpenOptions::new();
    options.create(true).append(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options.open(path)
}
