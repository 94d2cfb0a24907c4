//! The `turns` table, the turn journal: every message accepted for an agent
//! turn (platform, account, message id, session key and the turn itself as
//! JSON), `accepted` until its reply is in the outbox, then `answered` (the
//! turn's JSON is dropped then; the row stays for deduplication until
//! pruned).

use krill_core::config::Platform;
use rusqlite::params;

use super::outbox::{insert_entries, NewOutboxEntry};
use super::{Store, StoreError};

/// A journaled turn that was never answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenTurn {
    /// The row id (journal order).
    pub id: i64,
    /// The inbound message id.
    pub message_id: String,
    /// The turn as journaled (JSON).
    pub turn: String,
}

impl Store {
    /// Journals an accepted message; `None` when it already is (a replayed
    /// event), else the new row's id.
    pub fn accept_turn(
        &self,
        platform: Platform,
        account: &str,
        message_id: &str,
        session_key: &str,
        turn: &str,
        now_ms: u64,
    ) -> Result<Option<i64>, StoreError> {
        self.insert(|conn| {
            let inserted = conn
                .prepare_cached(
                    "INSERT OR IGNORE INTO turns (platform, account, message_id, session_key, turn, accepted_ms)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                )?
                .execute(params![
                    platform.as_str(),
                    account,
                    message_id,
                    session_key,
                    turn,
                    now_ms as i64
                ])?;
            Ok((inserted == 1).then(|| conn.last_insert_rowid()))
        })
    }

    /// Marks turn `turn_id` answered and puts its reply messages in the
    /// outbox, in one transaction; returns the outbox ids in order, or
    /// `None` (nothing written) when the turn was already answered.
    pub fn answer_turn(
        &self,
        platform: Platform,
        account: &str,
        turn_id: i64,
        reply: &[NewOutboxEntry],
        now_ms: u64,
    ) -> Result<Option<Vec<i64>>, StoreError> {
        self.write_all(|conn| {
            let changed = conn
                .prepare_cached(
                    "UPDATE turns SET state = 'answered', turn = NULL, answered_ms = ?2
                     WHERE id = ?1 AND state = 'accepted'",
                )?
                .execute(params![turn_id, now_ms as i64])?;
            if changed == 0 {
                return Ok(None);
            }
            let ids = insert_entries(conn, platform, account, Some(turn_id), reply, now_ms)?;
            Ok(Some(ids))
        })
    }

    /// Every accepted, unanswered turn of `platform`/`account`, in journal
    /// order.
    pub fn open_turns(
        &self,
        platform: Platform,
        account: &str,
    ) -> Result<Vec<OpenTurn>, StoreError> {
        self.with(|conn| {
            let mut stmt = conn.prepare_cached(
                "SELECT id, message_id, turn FROM turns
                 WHERE platform = ?1 AND account = ?2 AND state = 'accepted' ORDER BY id",
            )?;
            let rows = stmt.query_map(params![platform.to_string(), account], |row| {
                Ok(OpenTurn {
                    id: row.get(0)?,
                    message_id: row.get(1)?,
                    turn: row.get::<_, Option<String>>(2)?.unwrap_or_default(),
                })
            })?;
            rows.collect()
        })
    }

    /// Turns journaled in total (all states), for tests and benchmarks.
    pub fn turn_count(&self) -> Result<i64, StoreError> {
        self.with(|conn| conn.query_row("SELECT count(*) FROM turns", [], |row| row.get(0)))
    }
}
