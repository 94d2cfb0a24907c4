//! [`Store`]: krill's embedded database, `<state>/krill.db` (SQLite, WAL
//! mode), which makes restarts lose nothing. It holds the gateway sessions
//! to resume ([`resume`]), the turn journal ([`journal`]) and the outbox of
//! reply messages ([`outbox`]). What to journal, replay or resend is decided
//! in `krill_core::durable`; this module only reads and writes rows.
//!
//! One connection, prepared statements cached, `synchronous = NORMAL`: in
//! WAL mode every committed transaction survives a crash of the process
//! (`kill -9`); only a power loss can take back the last few. Every
//! [`WRITE_BACK_AFTER_COMMITS`] commits the store asks for the WAL to be
//! written back into the main file ([`Store::write_back_wanted`]); the
//! gateway does that on a worker thread, between the loops' transactions,
//! so no message waits for its syncs and the WAL stays small (about half a
//! MiB, rewritten in place and hot in the page cache, instead of growing
//! into fresh file pages). The
//! connection holds the file exclusively (`locking_mode = EXCLUSIVE`: no
//! shared-memory index, no file lock per transaction); only the gateway,
//! which holds `gateway.lock`, opens it (one started with `--force` beside
//! another shares the file instead, and says so). The schema version is SQLite's
//! `user_version`; [`Store::open`] migrates older files forward and
//! refuses newer ones.
//!
//! The methods block (a few microseconds each); the channel loops call
//! them inline, inside a [`Batch`]: every write of one loop iteration goes
//! into one transaction, committed when the batch ends, before the loop
//! waits again (so before any request the iteration queued goes out).
//! Writes that only save a repeat after a crash ([`Commit::Lazy`]: sent
//! marks, a newer resume `seq`) wait in memory and are written together,
//! one second after the first of them at most, or once
//! [`LAZY_MAX_WRITES`] wait: riding along with every urgent commit, they
//! added two page writes to each message's commits. A read, or a write
//! that could touch the same rows, writes them first, so their order holds.

pub mod journal;
pub mod outbox;
pub mod resume;

use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use tracing::warn;

use rusqlite::Connection;
use smol::channel::{Receiver, Sender};
use thiserror::Error;

/// The file name under the state dir.
pub const DB_FILE: &str = "krill.db";

/// The schema version this build writes.
pub const SCHEMA_VERSION: i64 = 1;

/// Each migration takes the schema from version `index` to `index + 1`.
const MIGRATIONS: &[&str] = &[
    // 0 → 1: resume state, turn journal, outbox.
    "CREATE TABLE resume (
        platform TEXT NOT NULL,
        account TEXT NOT NULL,
        shard INTEGER NOT NULL,
        session_id TEXT NOT NULL,
        resume_url TEXT,
        seq INTEGER,
        updated_ms INTEGER NOT NULL,
        PRIMARY KEY (platform, account, shard)
    );
    CREATE TABLE turns (
        id INTEGER PRIMARY KEY,
        platform TEXT NOT NULL,
        account TEXT NOT NULL,
        message_id TEXT NOT NULL,
        session_key TEXT NOT NULL,
        turn TEXT,
        state TEXT NOT NULL DEFAULT 'accepted',
        accepted_ms INTEGER NOT NULL,
        answered_ms INTEGER,
        UNIQUE (platform, account, message_id)
    );
    CREATE TABLE outbox (
        id INTEGER PRIMARY KEY,
        platform TEXT NOT NULL,
        account TEXT NOT NULL,
        turn_id INTEGER,
        chat_id TEXT NOT NULL,
        direct INTEGER NOT NULL,
        kind TEXT NOT NULL,
        body TEXT,
        reply_to TEXT,
        nonce TEXT NOT NULL,
        participants TEXT,
        state TEXT NOT NULL DEFAULT 'pending',
        platform_message_id TEXT,
        created_ms INTEGER NOT NULL,
        done_ms INTEGER
    );",
];

/// Indexes older files have and this build drops: each cost two more page
/// writes per message; the open rows are read only at start, by a scan of
/// the (pruned) tables.
const DROPPED_INDEXES: &str = "DROP INDEX IF EXISTS turns_open;
     DROP INDEX IF EXISTS outbox_open;";

/// How long answered turns and finished outbox rows are kept, at most.
pub const KEEP_MS: u64 = 24 * 3600 * 1000;
/// The most answered turns (and finished outbox rows) kept.
pub const KEEP_ROWS: i64 = 10_000;

/// The store failed.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum StoreError {
    /// SQLite failed.
    #[error("{path}: {source}")]
    Sqlite {
        /// The database file.
        path: String,
        /// What went wrong.
        source: rusqlite::Error,
    },
    /// The file was written by a newer krill.
    #[error("{path}: schema version {found} is newer than this krill knows ({SCHEMA_VERSION}); upgrade krill or move the file away")]
    TooNew {
        /// The database file.
        path: String,
        /// The version in the file.
        found: i64,
    },
    /// A row could not be read back.
    #[error("{path}: unreadable row in {table}: {detail}")]
    BadRow {
        /// The database file.
        path: String,
        /// The table.
        table: &'static str,
        /// What was wrong.
        detail: String,
    },
}

/// The database (see the module docs). Shared by every channel loop.
#[derive(Debug)]
pub struct Store {
    path: PathBuf,
    conn: Mutex<Held>,
    /// Requests for a write-back of the WAL (at most one waits).
    write_back: (Sender<()>, Receiver<()>),
}

/// When a write must be on disk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Commit {
    /// When its [`Batch`] ends (at once outside a batch): the journal and
    /// the outbox rows a request or turn depends on.
    Urgent,
    /// Kept in memory and committed together, at most [`LAZY_COMMIT`]
    /// later or once [`LAZY_MAX_WRITES`] wait (at once outside a batch):
    /// writes whose loss in a crash costs only a repeat
    /// that the platforms deduplicate (a sent mark: the resend carries
    /// the same nonce; a newer resume `seq`: the replayed events are in
    /// the journal already).
    Lazy,
}

/// The longest a [`Commit::Lazy`] write waits for a commit.
pub const LAZY_COMMIT: Duration = Duration::from_secs(1);

/// The most [`Commit::Lazy`] writes that wait: bounds how many sent
/// messages a crash leaves unmarked (KOOK, which does not deduplicate,
/// checks a chat's 50 newest messages for them at start).
pub const LAZY_MAX_WRITES: usize = 32;

/// Commits after which the store asks for a write-back of the WAL
/// ([`Store::write_back_wanted`]): ~2 commits and ~4 WAL pages of 2 KiB
/// per message one at a time, so ~64 messages and ~0.5 MiB of WAL.
pub const WRITE_BACK_AFTER_COMMITS: u32 = 128;

/// A [`Commit::Lazy`] write waiting in memory.
type LazyWrite = Box<dyn FnOnce(&Connection) -> rusqlite::Result<()> + Send>;

/// The connection and the transaction open on it.
struct Held {
    conn: Connection,
    /// [`Batch`]es alive; while above 0, writes go into one open
    /// transaction.
    batches: usize,
    /// The open transaction holds an urgent write.
    urgent: bool,
    /// The lazy writes waiting, in order.
    lazy: Vec<LazyWrite>,
    /// When the first of them was made.
    lazy_since: Option<Instant>,
    /// Transactions committed since the WAL was last written back.
    commits: u32,
}

impl std::fmt::Debug for Held {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Held")
            .field("batches", &self.batches)
            .field("urgent", &self.urgent)
            .field("lazy", &self.lazy.len())
            .field("lazy_since", &self.lazy_since)
            .finish_non_exhaustive()
    }
}

impl Held {
    /// The waiting lazy writes are due: the oldest has waited
    /// [`LAZY_COMMIT`], or [`LAZY_MAX_WRITES`] wait.
    fn lazy_due(&self) -> bool {
        self.lazy.len() >= LAZY_MAX_WRITES
            || self
                .lazy_since
                .is_some_and(|since| since.elapsed() >= LAZY_COMMIT)
    }

    /// Writes the waiting lazy writes, in order, into the open transaction
    /// (or each on its own outside a batch). A failed one is logged and
    /// dropped: it only saves a repeat.
    fn write_lazy(&mut self, path: &Path) {
        self.lazy_since = None;
        if self.lazy.is_empty() {
            return;
        }
        if self.batches > 0 && self.conn.is_autocommit() {
            if let Err(error) = run(&self.conn, "BEGIN") {
                warn!("{}: cannot write the sent marks: {error}", path.display());
                self.lazy.clear();
                return;
            }
        }
        for write in self.lazy.drain(..) {
            if let Err(error) = write(&self.conn) {
                warn!(
                    "{}: cannot write a sent mark or seq: {error}",
                    path.display()
                );
            }
        }
        // The writes are in the open transaction now: it must commit.
        self.urgent = true;
    }

    /// Commits the open transaction, if any.
    fn commit(&mut self) -> rusqlite::Result<()> {
        self.urgent = false;
        if self.conn.is_autocommit() {
            return Ok(());
        }
        let committed = run(&self.conn, "COMMIT");
        match committed {
            Ok(()) => self.commits = self.commits.saturating_add(1),
            Err(_) => {
                let _ = run(&self.conn, "ROLLBACK");
            }
        }
        committed
    }
}

/// Runs one cached statement that returns no rows.
fn run(conn: &Connection, sql: &str) -> rusqlite::Result<()> {
    conn.prepare_cached(sql)?.execute([]).map(drop)
}

/// Writes made while this lives go into one transaction, committed when
/// the last batch alive ends if it holds an urgent write or a lazy one
/// older than [`LAZY_COMMIT`] (see the module docs). Never hold one across
/// an `.await`: the writes would stay uncommitted while the loop waits.
#[derive(Debug)]
#[must_use = "the batch commits when dropped"]
pub struct Batch<'a> {
    store: &'a Store,
}

impl Drop for Batch<'_> {
    fn drop(&mut self) {
        let mut held = self.store.lock();
        if held.batches == 1 && held.lazy_due() {
            held.write_lazy(&self.store.path);
        }
        held.batches = held.batches.saturating_sub(1);
        if held.batches == 0 && held.urgent {
            if let Err(error) = held.commit() {
                warn!(
                    "{}: cannot commit the journal and outbox writes: {error}",
                    self.store.path.display()
                );
            }
            if held.commits >= WRITE_BACK_AFTER_COMMITS {
                // Full: a request is waiting already.
                let _ = self.store.write_back.0.try_send(());
            }
        }
    }
}

impl Store {
    /// Opens (creating and migrating) `<state_dir>/krill.db`.
    pub fn open(state_dir: &Path) -> Result<Self, StoreError> {
        Self::open_file(&state_dir.join(DB_FILE))
    }

    /// Opens (creating and migrating) the database at `path`.
    pub fn open_file(path: &Path) -> Result<Self, StoreError> {
        let shown = path.display().to_string();
        let fail = |source| StoreError::Sqlite {
            path: shown.clone(),
            source,
        };
        let mut conn = match connect(path, "EXCLUSIVE") {
            Ok(conn) => conn,
            // Another process has the file open (a second gateway started
            // with `--force`): share it.
            Err(rusqlite::Error::SqliteFailure(e, _))
                if e.code == rusqlite::ErrorCode::DatabaseBusy =>
            {
                warn!("{shown} is open in another process; sharing it (slower writes)");
                connect(path, "NORMAL").map_err(fail)?
            }
            Err(source) => return Err(fail(source)),
        };
        restrict_permissions(path);
        let found: i64 = conn
            .query_row("PRAGMA user_version", [], |row| row.get(0))
            .map_err(fail)?;
        if found > SCHEMA_VERSION {
            return Err(StoreError::TooNew { path: shown, found });
        }
        for (from, sql) in MIGRATIONS.iter().enumerate().skip(found.max(0) as usize) {
            let tx = conn.transaction().map_err(fail)?;
            tx.execute_batch(sql).map_err(fail)?;
            tx.pragma_update(None, "user_version", from as i64 + 1)
                .map_err(fail)?;
            tx.commit().map_err(fail)?;
        }
        conn.execute_batch(DROPPED_INDEXES).map_err(fail)?;
        conn.set_prepared_statement_cache_capacity(64);
        Ok(Self {
            path: path.to_path_buf(),
            conn: Mutex::new(Held {
                conn,
                batches: 0,
                urgent: false,
                lazy: Vec::new(),
                lazy_since: None,
                commits: 0,
            }),
            write_back: smol::channel::bounded(1),
        })
    }

    /// Starts a [`Batch`]: writes until it ends share one transaction.
    pub fn batch(&self) -> Batch<'_> {
        self.lock().batches += 1;
        Batch { store: self }
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The schema version of the open file.
    pub fn schema_version(&self) -> Result<i64, StoreError> {
        self.with(|conn| conn.query_row("PRAGMA user_version", [], |row| row.get(0)))
    }

    /// Deletes answered turns and finished outbox rows older than
    /// [`KEEP_MS`] before `now_ms`, and beyond the newest [`KEEP_ROWS`].
    /// Open rows are never pruned. Returns the rows deleted.
    pub fn prune(&self, now_ms: u64) -> Result<usize, StoreError> {
        let before = now_ms.saturating_sub(KEEP_MS) as i64;
        self.with(|conn| {
            let mut deleted = conn
                .prepare_cached(
                    "DELETE FROM turns WHERE state != 'accepted' AND (answered_ms < ?1 OR id <= \
                     (SELECT id FROM turns WHERE state != 'accepted' ORDER BY id DESC LIMIT 1 OFFSET ?2))",
                )?
                .execute(rusqlite::params![before, KEEP_ROWS])?;
            deleted += conn
                .prepare_cached(
                    "DELETE FROM outbox WHERE state != 'pending' AND (done_ms < ?1 OR id <= \
                     (SELECT id FROM outbox WHERE state != 'pending' ORDER BY id DESC LIMIT 1 OFFSET ?2))",
                )?
                .execute(rusqlite::params![before, KEEP_ROWS])?;
            Ok(deleted)
        })
    }

    /// When the lazy writes waiting must be committed (a batch ending after
    /// it commits them); `None`: none wait.
    pub fn commit_due(&self) -> Option<Instant> {
        let held = self.lock();
        if held.lazy.len() >= LAZY_MAX_WRITES {
            return held.lazy_since.map(|_| Instant::now());
        }
        held.lazy_since.map(|since| since + LAZY_COMMIT)
    }

    /// Receives a message whenever [`WRITE_BACK_AFTER_COMMITS`] commits
    /// gathered in the WAL: the owner should then call
    /// [`write_back`](Self::write_back), off the loops' thread. Without
    /// one, SQLite writes the WAL back itself every 4000 pages, inside
    /// the commit that reaches them.
    pub fn write_back_wanted(&self) -> Receiver<()> {
        self.write_back.1.clone()
    }

    /// Writes the committed WAL back into the main file (a passive
    /// checkpoint: two syncs, the loops' writes wait for the connection
    /// meanwhile). Returns `false` when a transaction is open: nothing is
    /// done, and the next commit asks again. With nothing committed since
    /// the last write-back (a request that waited while it ran) there is
    /// nothing to do.
    pub fn write_back(&self) -> Result<bool, StoreError> {
        let mut held = self.lock();
        if !held.conn.is_autocommit() {
            return Ok(false);
        }
        if held.commits == 0 {
            return Ok(true);
        }
        held.conn
            .execute_batch("PRAGMA wal_checkpoint(PASSIVE);")
            .map_err(|source| self.error(source))?;
        held.commits = 0;
        Ok(true)
    }

    /// Commits every write still waiting, then writes the WAL back into
    /// the main file (at a graceful stop).
    pub fn checkpoint(&self) -> Result<(), StoreError> {
        let mut held = self.lock();
        held.write_lazy(&self.path);
        held.commit().map_err(|source| self.error(source))?;
        held.conn
            .execute_batch("PRAGMA wal_checkpoint(TRUNCATE);")
            .map_err(|source| self.error(source))
    }

    /// Runs `f` on the connection (after the waiting lazy writes), naming
    /// the file in errors.
    fn with<T>(&self, f: impl FnOnce(&Connection) -> rusqlite::Result<T>) -> Result<T, StoreError> {
        let mut held = self.lock();
        held.write_lazy(&self.path);
        f(&held.conn).map_err(|source| self.error(source))
    }

    /// Runs the one write statement of `f`, in the open transaction when
    /// there is a [`Batch`], else on its own; the waiting lazy writes go
    /// first (the statement may touch their rows).
    fn write<T>(
        &self,
        f: impl FnOnce(&Connection) -> rusqlite::Result<Option<T>>,
    ) -> Result<Option<T>, StoreError> {
        let mut held = self.lock();
        held.write_lazy(&self.path);
        self.begin(&mut held)?;
        f(&held.conn).map_err(|source| self.error(source))
    }

    /// Runs the one write statement of `f`, which touches only rows it
    /// inserts (the waiting lazy writes stay waiting), in the open
    /// transaction when there is a [`Batch`], else on its own.
    fn insert<T>(
        &self,
        f: impl FnOnce(&Connection) -> rusqlite::Result<Option<T>>,
    ) -> Result<Option<T>, StoreError> {
        let mut held = self.lock();
        self.begin(&mut held)?;
        f(&held.conn).map_err(|source| self.error(source))
    }

    /// Keeps `write` in memory until the lazy writes are due (see the
    /// module docs); outside a [`Batch`] it is written at once.
    fn write_lazily(
        &self,
        write: impl FnOnce(&Connection) -> rusqlite::Result<()> + Send + 'static,
    ) -> Result<(), StoreError> {
        let mut held = self.lock();
        if held.batches == 0 {
            held.write_lazy(&self.path);
            write(&held.conn).map_err(|source| self.error(source))?;
            return held.commit().map_err(|source| self.error(source));
        }
        held.lazy.push(Box::new(write));
        held.lazy_since.get_or_insert_with(Instant::now);
        Ok(())
    }

    /// Runs the writes of `f` all or nothing (a savepoint; nothing is kept
    /// when it returns `None`), in the open transaction when there is a
    /// [`Batch`]. `f` inserts rows or changes `turns` rows only: the
    /// waiting lazy writes (outbox marks, resume rows) stay waiting.
    fn write_all<T>(
        &self,
        f: impl FnOnce(&Connection) -> rusqlite::Result<Option<T>>,
    ) -> Result<Option<T>, StoreError> {
        let mut held = self.lock();
        self.begin(&mut held)?;
        let conn = &held.conn;
        let written = run(conn, "SAVEPOINT krill_write").and_then(|()| match f(conn) {
            Ok(Some(value)) => run(conn, "RELEASE krill_write").map(|()| Some(value)),
            other => {
                let _ = run(conn, "ROLLBACK TO krill_write");
                let _ = run(conn, "RELEASE krill_write");
                other
            }
        });
        written.map_err(|source| self.error(source))
    }

    /// Inside a batch: opens its transaction if needed; it must commit
    /// when the batch ends.
    fn begin(&self, held: &mut Held) -> Result<(), StoreError> {
        if held.batches == 0 {
            return Ok(());
        }
        if held.conn.is_autocommit() {
            run(&held.conn, "BEGIN").map_err(|source| self.error(source))?;
        }
        held.urgent = true;
        Ok(())
    }

    fn error(&self, source: rusqlite::Error) -> StoreError {
        StoreError::Sqlite {
            path: self.path.display().to_string(),
            source,
        }
    }

    fn lock(&self) -> MutexGuard<'_, Held> {
        self.conn.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn bad_row(&self, table: &'static str, detail: impl ToString) -> StoreError {
        StoreError::BadRow {
            path: self.path.display().to_string(),
            table,
            detail: detail.to_string(),
        }
    }
}

/// The page size of a new database file (SQLite's default is 4096): each
/// commit writes every page it changed whole into the WAL, and a message's
/// rows change two or three pages; 2048 writes half the bytes per commit
/// (-10 to -20 % CPU per message one at a time in the e2e bench) while a
/// reply of up to 2000 characters still fits a page or two (1024 did
/// worse: more overflow pages). A file made with another size keeps it.
const PAGE_SIZE: u32 = 2048;

/// Opens `path` in WAL mode with locking mode `locking` (set before the
/// first access: with `EXCLUSIVE` the WAL index lives in this process's
/// memory, and the file lock is taken here, once). SQLite writes the WAL
/// back itself only past 4000 pages (16 MiB; its default is 1000), inside
/// the commit that reaches them: the gateway writes it back much earlier,
/// off the loops ([`Store::write_back_wanted`]); this is the backstop.
fn connect(path: &Path, locking: &str) -> rusqlite::Result<Connection> {
    let conn = Connection::open(path)?;
    conn.execute_batch(&format!(
        "PRAGMA busy_timeout = 5000;
         PRAGMA page_size = {PAGE_SIZE};
         PRAGMA locking_mode = {locking};
         PRAGMA journal_mode = WAL;
         PRAGMA synchronous = NORMAL;
         PRAGMA wal_autocheckpoint = 4000;
         PRAGMA journal_size_limit = 16777216;"
    ))?;
    Ok(conn)
}

/// The database holds private conversations: owner-only, like the
/// transcripts (best effort; the WAL files inherit the directory's umask).
fn restrict_permissions(path: &Path) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let _ = std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600));
    }
    #[cfg(not(unix))]
    let _ = path;
}

#[cfg(test)]
mod tests;
