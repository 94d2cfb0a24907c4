//! The `resume` table: per Discord shard (`session_id`,
//! `resume_gateway_url`, last `seq`) and per KOOK session (`session_id`,
//! last in-order `sn`, kept in `seq`), so the next process resumes instead
//! of starting afresh.

use krill_core::config::Platform;
use rusqlite::{params, OptionalExtension};

use super::{Commit, Store, StoreError};

/// One saved gateway session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SavedSession {
    /// The session id.
    pub session_id: String,
    /// Discord's `resume_gateway_url` (KOOK: none).
    pub resume_url: Option<String>,
    /// Discord's last `seq`, KOOK's last in-order `sn`.
    pub seq: Option<u64>,
}

impl Store {
    /// Saves (or, with `None`, forgets) the session of `platform`/`account`
    /// shard `shard` (KOOK: 0), committed as `commit` says.
    pub fn save_session(
        &self,
        platform: Platform,
        account: &str,
        shard: u32,
        session: Option<&SavedSession>,
        commit: Commit,
        now_ms: u64,
    ) -> Result<(), StoreError> {
        let platform = platform.as_str();
        let account = account.to_owned();
        let session = session.cloned();
        let write = move |conn: &rusqlite::Connection| {
            match &session {
                Some(s) => conn
                    .prepare_cached(
                        "INSERT INTO resume (platform, account, shard, session_id, resume_url, seq, updated_ms)
                         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
                         ON CONFLICT (platform, account, shard) DO UPDATE SET
                           session_id = excluded.session_id, resume_url = excluded.resume_url,
                           seq = excluded.seq, updated_ms = excluded.updated_ms",
                    )?
                    .execute(params![
                        platform,
                        account,
                        shard,
                        s.session_id,
                        s.resume_url,
                        s.seq.map(|v| v as i64),
                        now_ms as i64
                    ])?,
                None => conn
                    .prepare_cached(
                        "DELETE FROM resume WHERE platform = ?1 AND account = ?2 AND shard = ?3",
                    )?
                    .execute(params![platform, account, shard])?,
            };
            Ok(())
        };
        match commit {
            Commit::Lazy => self.write_lazily(write),
            Commit::Urgent => self.write(|conn| write(conn).map(Some)).map(drop),
        }
    }

    /// The saved session of `platform`/`account` shard `shard`, if any.
    pub fn load_session(
        &self,
        platform: Platform,
        account: &str,
        shard: u32,
    ) -> Result<Option<SavedSession>, StoreError> {
        self.with(|conn| {
            conn.prepare_cached(
                "SELECT session_id, resume_url, seq FROM resume
                 WHERE platform = ?1 AND account = ?2 AND shard = ?3",
            )?
            .query_row(params![platform.to_string(), account, shard], |row| {
                Ok(SavedSession {
                    session_id: row.get(0)?,
                    resume_url: row.get(1)?,
                    seq: row.get::<_, Option<i64>>(2)?.map(|v| v.max(0) as u64),
                })
            })
            .optional()
        })
    }
}
