//! The pairing files of one channel, in `$KRILL_STATE_DIR/credentials/`:
//! `<channel>-pairing.json` (pending codes, [`PairingBook`]) and
//! `<channel>-allowFrom.json` (approved ids, [`AllowFromFile`]). The rules
//! are `krill_core::pairing`'s; this module only keeps the files.
//!
//! - Writes are atomic: a temp file in the same dir, fsync, rename. Files are
//!   mode 0600, the dir 0700.
//! - Every read-modify-write (a gateway issuing a code, `krill pairing
//!   approve`) holds `<channel>-pairing.lock`, created exclusively (a lock
//!   older than [`STALE_LOCK`] is from a crashed process and is taken over),
//!   so a gateway and the CLI never lose each other's updates.
//! - Readers need no lock (rename is atomic). The gateway keeps an
//!   [`AllowFromWatcher`], which re-reads `allowFrom.json` when its mtime or
//!   size changes: an approval takes effect without a restart.
//!
//! Calls block (briefly, file I/O and lock waits); async callers wrap them in
//! `smol::unblock`.

use std::fs::{self, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use krill_core::config::Platform;
use krill_core::pairing::{
    AllowFromFile, ApproveError, PairingBook, PairingOutcome, PendingRequest, Requester,
};

/// A lock file older than this is considered left over by a dead process.
pub const STALE_LOCK: Duration = Duration::from_secs(30);
/// How long to wait for the lock before giving up.
const LOCK_WAIT: Duration = Duration::from_secs(10);

/// A failure of the store itself.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// Reading or writing a file failed.
    #[error("{}: {source}", .path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: io::Error,
    },
    /// A file is not valid JSON of the expected shape.
    #[error("{}: not a valid pairing file: {source}", .path.display())]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: serde_json::Error,
    },
    /// Another process held the lock for too long.
    #[error("{}: still locked by another krill process after {LOCK_WAIT:?}", .path.display())]
    Locked {
        /// The lock file.
        path: PathBuf,
    },
}

/// Why `approve` failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ApproveFailure {
    /// Unknown or expired code.
    #[error(transparent)]
    Code(#[from] ApproveError),
    /// The files.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The pairing files of one channel.
#[derive(Debug, Clone)]
pub struct PairingStore {
    dir: PathBuf,
    platform: Platform,
}

/// Unix milliseconds now (what `krill_core::pairing` takes as time).
pub fn now_unix_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

/// A fresh random seed for pairing codes, nonces and retry jitter: std's
/// randomly keyed hasher (keys drawn from the OS once per thread, then a
/// new key per call) over the time. No process id: the keys already differ
/// per process, and reading it is a system call per outbox message.
pub fn random_seed() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u64(now_unix_ms());
    h.finish()
}

impl PairingStore {
    /// The store of `platform` in `credentials_dir`.
    pub fn new(credentials_dir: impl Into<PathBuf>, platform: Platform) -> Self {
        Self {
            dir: credentials_dir.into(),
            platform,
        }
    }

    /// The store in `$KRILL_STATE_DIR/credentials` (see [`crate::paths`]).
    pub fn in_state_dir(platform: Platform) -> Self {
        Self::new(
            crate::paths::credentials_dir(&crate::paths::state_dir()),
            platform,
        )
    }

    /// `<channel>-pairing.json`
    pub fn pairing_path(&self) -> PathBuf {
        self.dir.join(format!("{}-pairing.json", self.platform))
    }

    /// `<channel>-allowFrom.json`
    pub fn allow_from_path(&self) -> PathBuf {
        self.dir.join(format!("{}-allowFrom.json", self.platform))
    }

    fn lock_path(&self) -> PathBuf {
        self.dir.join(format!("{}-pairing.lock", self.platform))
    }

    /// An unknown sender DMs the bot (see `PairingBook::challenge`).
    pub fn challenge(
        &self,
        now_ms: u64,
        who: &Requester,
        seed: u64,
    ) -> Result<PairingOutcome, StoreError> {
        let _lock = self.lock()?;
        let mut book: PairingBook = read_json(&self.pairing_path())?;
        let outcome = book.challenge(now_ms, who, seed);
        if matches!(outcome, PairingOutcome::Created { .. }) {
            write_json(&self.pairing_path(), &book)?;
        }
        Ok(outcome)
    }

    /// Approves a code: removes the request and adds the sender's id to
    /// `allowFrom.json`.
    pub fn approve(&self, now_ms: u64, code: &str) -> Result<PendingRequest, ApproveFailure> {
        let _lock = self.lock()?;
        let mut book: PairingBook = read_json(&self.pairing_path())?;
        let before = book.clone();
        let result = book.approve(now_ms, code);
        book.expire(now_ms);
        if let Ok(r) = &result {
            let mut allow: AllowFromFile = read_json(&self.allow_from_path())?;
            if allow.add(&r.sender_id) {
                write_json(&self.allow_from_path(), &allow)?;
            }
        }
        if book != before {
            write_json(&self.pairing_path(), &book)?;
        }
        Ok(result?)
    }

    /// The requests still pending at `now_ms`.
    pub fn pending(&self, now_ms: u64) -> Result<Vec<PendingRequest>, StoreError> {
        let book: PairingBook = read_json(&self.pairing_path())?;
        Ok(book.pending(now_ms).cloned().collect())
    }

    /// The approved ids.
    pub fn approved_ids(&self) -> Result<Vec<String>, StoreError> {
        let allow: AllowFromFile = read_json(&self.allow_from_path())?;
        Ok(allow.allow_from)
    }

    fn lock(&self) -> Result<LockGuard, StoreError> {
        ensure_dir(&self.dir)?;
        let path = self.lock_path();
        let start = std::time::Instant::now();
        loop {
            match OpenOptions::new().write(true).create_new(true).open(&path) {
                Ok(mut f) => {
                    let _ = writeln!(f, "{}", std::process::id());
                    return Ok(LockGuard { path });
                }
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
                    let stale = fs::metadata(&path)
                        .and_then(|m| m.modified())
                        .ok()
                        .and_then(|t| t.elapsed().ok())
                        .is_some_and(|age| age > STALE_LOCK);
                    if stale {
                        let _ = fs::remove_file(&path);
                        continue;
                    }
                    if start.elapsed() > LOCK_WAIT {
                        return Err(StoreError::Locked { path });
                    }
                    std::thread::sleep(Duration::from_millis(5));
                }
                Err(source) => return Err(StoreError::Io { path, source }),
            }
        }
    }
}

/// Removes the lock file when dropped.
struct LockGuard {
    path: PathBuf,
}

impl Drop for LockGuard {
    fn drop(&mut self) {
        let _ = fs::remove_file(&self.path);
    }
}

/// Keeps the approved ids of one channel current: re-reads
/// `allowFrom.json` when its modification time or size changes.
#[derive(Debug)]
pub struct AllowFromWatcher {
    path: PathBuf,
    seen: Option<(Option<SystemTime>, u64)>,
    ids: Vec<String>,
}

impl AllowFromWatcher {
    /// A watcher of `store`'s `allowFrom.json` (read on first use).
    pub fn new(store: &PairingStore) -> Self {
        Self {
            path: store.allow_from_path(),
            seen: None,
            ids: Vec::new(),
        }
    }

    /// The approved ids, re-read if the file changed. On a read error the
    /// last good list is kept and the error returned for the log.
    pub fn ids(&mut self) -> (&[String], Option<StoreError>) {
        let stamp = match fs::metadata(&self.path) {
            Ok(m) => Some((m.modified().ok(), m.len())),
            Err(e) if e.kind() == io::ErrorKind::NotFound => None,
            Err(source) => {
                let err = StoreError::Io {
                    path: self.path.clone(),
                    source,
                };
                return (&self.ids, Some(err));
            }
        };
        let mut error = None;
        // `seen` starts as "missing": a file that stays missing is never
        // read (its list is empty), one that appears or changes is.
        if stamp != self.seen {
            match read_json::<AllowFromFile>(&self.path) {
                Ok(f) => {
                    self.ids = f.allow_from;
                    self.seen = stamp;
                }
                Err(e) => error = Some(e),
            }
        }
        (&self.ids, error)
    }

    /// [`AllowFromWatcher::ids`] for a channel loop: a read error is
    /// logged (as `channel`) and the last good list used.
    pub fn ids_logged(&mut self, channel: &str) -> &[String] {
        let (ids, error) = self.ids();
        if let Some(error) = error {
            tracing::warn!("{channel}: cannot read the approved pairings: {error}");
        }
        ids
    }
}

fn ensure_dir(dir: &Path) -> Result<(), StoreError> {
    let io_err = |source| StoreError::Io {
        path: dir.to_path_buf(),
        source,
    };
    if !dir.is_dir() {
        fs::create_dir_all(dir).map_err(io_err)?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            fs::set_permissions(dir, fs::Permissions::from_mode(0o700)).map_err(io_err)?;
        }
    }
    Ok(())
}

/// Reads a JSON file; a missing (or empty) file is the default value.
fn read_json<T: serde::de::DeserializeOwned + Default>(path: &Path) -> Result<T, StoreError> {
    match fs::read(path) {
        Ok(bytes) if bytes.iter().all(u8::is_ascii_whitespace) => Ok(T::default()),
        Ok(bytes) => serde_json::from_slice(&bytes).map_err(|source| StoreError::Corrupt {
            path: path.to_path_buf(),
            source,
        }),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(T::default()),
        Err(source) => Err(StoreError::Io {
            path: path.to_path_buf(),
            source,
        }),
    }
}

/// Writes JSON atomically: temp file (0600) in the same dir, fsync, rename.
fn write_json<T: serde::Serialize>(path: &Path, value: &T) -> Result<(), StoreError> {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let io_err = |source| StoreError::Io {
        path: path.to_path_buf(),
        source,
    };
    let dir = path.parent().unwrap_or(Path::new("."));
    ensure_dir(dir)?;
    let mut bytes = serde_json::to_vec_pretty(value).map_err(|source| StoreError::Corrupt {
        path: path.to_path_buf(),
        source,
    })?;
    bytes.push(b'\n');
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or("pairing");
    let tmp = dir.join(format!(
        ".{name}.{}.{}.tmp",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    ));
    let write = || -> io::Result<()> {
        let mut opts = OpenOptions::new();
        opts.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            opts.mode(0o600);
        }
        let mut f = opts.open(&tmp)?;
        f.write_all(&bytes)?;
        f.sync_all()?;
        fs::rename(&tmp, path)
    };
    write().map_err(|e| {
        let _ = fs::remove_file(&tmp);
        io_err(e)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use krill_core::pairing::{CODE_TTL_MS, MAX_PENDING};

    fn who(id: &str) -> Requester {
        Requester {
            id: id.to_owned(),
            name: Some(format!("user{id}")),
            account_id: "default".to_owned(),
            chat_id: Some(format!("dm{id}")),
        }
    }

    fn code_of(o: &PairingOutcome) -> String {
        match o {
            PairingOutcome::Created { code, .. } | PairingOutcome::Pending { code, .. } => {
                code.clone()
            }
            other => panic!("no code: {other:?}"),
        }
    }

    #[test]
    fn random_seeds_differ_call_to_call() {
        let seeds: std::collections::HashSet<u64> = (0..1000).map(|_| random_seed()).collect();
        assert_eq!(seeds.len(), 1000);
    }

    #[test]
    fn challenge_then_approve_moves_the_id_to_allow_from() {
        let tmp = tempfile::tempdir().unwrap();
        let store = PairingStore::new(tmp.path().join("credentials"), Platform::Discord);
        let now = 1_700_000_000_000;
        let o = store.challenge(now, &who("42"), 7).unwrap();
        assert!(matches!(o, PairingOutcome::Created { .. }));
        let code = code_of(&o);
        // Same sender, same code, nothing rewritten.
        assert_eq!(
            store.challenge(now + 1000, &who("42"), 8).unwrap(),
            PairingOutcome::Pending {
                code: code.clone(),
                expires_at_ms: now + CODE_TTL_MS
            }
        );
        assert_eq!(store.pending(now).unwrap().len(), 1);
        let r = store.approve(now + 2000, &code.to_lowercase()).unwrap();
        assert_eq!(r.sender_id, "42");
        assert_eq!(store.approved_ids().unwrap(), vec!["42".to_owned()]);
        assert!(store.pending(now).unwrap().is_empty());
        // A second approval of the same code is unknown.
        assert!(matches!(
            store.approve(now + 3000, &code),
            Err(ApproveFailure::Code(ApproveError::Unknown(_)))
        ));
        assert!(!store.lock_path().exists(), "lock released");
    }

    #[test]
    fn expired_code_is_an_error_and_is_removed() {
        let tmp = tempfile::tempdir().unwrap();
        let store = PairingStore::new(tmp.path(), Platform::Kook);
        let now = 1_000;
        let code = code_of(&store.challenge(now, &who("1"), 1).unwrap());
        let later = now + CODE_TTL_MS;
        assert!(matches!(
            store.approve(later, &code),
            Err(ApproveFailure::Code(ApproveError::Expired(_)))
        ));
        assert!(store.approved_ids().unwrap().is_empty());
        assert!(
            store.pending(0).unwrap().is_empty(),
            "expired request removed from the file"
        );
    }

    #[test]
    fn at_most_three_pending_per_channel() {
        let tmp = tempfile::tempdir().unwrap();
        let store = PairingStore::new(tmp.path(), Platform::Discord);
        for i in 0..MAX_PENDING {
            let o = store.challenge(10, &who(&i.to_string()), i as u64).unwrap();
            assert!(matches!(o, PairingOutcome::Created { .. }));
        }
        assert_eq!(
            store.challenge(10, &who("99"), 5).unwrap(),
            PairingOutcome::Full
        );
    }

    #[cfg(unix)]
    #[test]
    fn files_are_private() {
        use std::os::unix::fs::PermissionsExt;
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("credentials");
        let store = PairingStore::new(&dir, Platform::Discord);
        let code = code_of(&store.challenge(5, &who("1"), 1).unwrap());
        store.approve(6, &code).unwrap();
        let mode = |p: &Path| fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&dir), 0o700);
        assert_eq!(mode(&store.pairing_path()), 0o600);
        assert_eq!(mode(&store.allow_from_path()), 0o600);
        let leftovers: Vec<_> = fs::read_dir(&dir)
            .unwrap()
            .filter_map(|e| e.ok())
            .filter(|e| e.file_name().to_string_lossy().ends_with(".tmp"))
            .collect();
        assert!(leftovers.is_empty());
    }

    #[test]
    fn stale_lock_is_taken_over() {
        let tmp = tempfile::tempdir().unwrap();
        let store = PairingStore::new(tmp.path(), Platform::Discord);
        let lock = store.lock_path();
        fs::write(&lock, "12345\n").unwrap();
        let old = SystemTime::now() - STALE_LOCK - Duration::from_secs(5);
        fs::File::options()
            .write(true)
            .open(&lock)
            .unwrap()
            .set_modified(old)
            .unwrap();
        assert!(store.challenge(1, &who("1"), 1).is_ok());
    }

    #[test]
    fn corrupt_file_is_reported_not_overwritten() {
        let tmp = tempfile::tempdir().unwrap();
        let store = PairingStore::new(tmp.path(), Platform::Discord);
        fs::write(store.pairing_path(), "{not json").unwrap();
        assert!(matches!(
            store.challenge(1, &who("1"), 1),
            Err(StoreError::Corrupt { .. })
        ));
        assert_eq!(
            fs::read_to_string(store.pairing_path()).unwrap(),
            "{not json"
        );
    }

    /// Approvals from several "CLI" threads while a "gateway" thread keeps
    /// issuing codes and re-reading allowFrom.json: no update is lost, the
    /// reader never sees a torn file, and it ends with every approved id.
    #[test]
    fn concurrent_approvals_while_the_gateway_rereads() {
        let tmp = tempfile::tempdir().unwrap();
        let store = PairingStore::new(tmp.path().join("credentials"), Platform::Discord);
        let now = 5_000_000;
        let rounds = 6;
        std::thread::scope(|s| {
            let gateway = s.spawn(|| {
                let mut watcher = AllowFromWatcher::new(&store);
                let mut seen_max = 0;
                for i in 0..rounds {
                    // Issue a code for a newcomer (the book has room for 3).
                    // Bounded wait for a free slot (approvers drain the book).
                    for _ in 0..5000 {
                        let o = store.challenge(now, &who(&format!("u{i}")), i).unwrap();
                        if o != PairingOutcome::Full {
                            break;
                        }
                        std::thread::sleep(Duration::from_millis(1));
                    }
                    let (ids, err) = watcher.ids();
                    assert!(err.is_none(), "{err:?}");
                    seen_max = seen_max.max(ids.len());
                }
                // Wait (bounded) for the approvers to finish every code.
                for _ in 0..2000 {
                    if watcher.ids().0.len() == rounds as usize {
                        break;
                    }
                    std::thread::sleep(Duration::from_millis(2));
                }
                watcher.ids().0.to_vec()
            });
            for _ in 0..2 {
                s.spawn(|| {
                    for _ in 0..4000 {
                        if store.approved_ids().unwrap().len() == rounds as usize {
                            break;
                        }
                        for r in store.pending(now).unwrap() {
                            // Another approver may win the race: Unknown is fine.
                            match store.approve(now, &r.code) {
                                Ok(_) | Err(ApproveFailure::Code(ApproveError::Unknown(_))) => {}
                                Err(e) => panic!("{e}"),
                            }
                        }
                        std::thread::sleep(Duration::from_millis(1));
                    }
                });
            }
            let mut ids = gateway.join().unwrap();
            ids.sort();
            let mut want: Vec<String> = (0..rounds).map(|i| format!("u{i}")).collect();
            want.sort();
            assert_eq!(ids, want);
        });
    }
}
