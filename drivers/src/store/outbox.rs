//! The `outbox` table: every message krill sends in reply (one row per
//! chunk, or per upload), with its target, body, reply reference and nonce,
//! `pending` until the platform accepted it (`sent`, with the platform's
//! message id) or it was given up (`abandoned`). The body is dropped once
//! the row is finished.
//!
//! `kind` says what `body` holds: `text` (the message text) or `upload`
//! (the JSON of `krill_core::durable::UploadRecord`: the files by path);
//! the row order (`id`) is the sending order.

use krill_core::config::Platform;
use rusqlite::{params, Connection};

use super::{Store, StoreError};

/// A message to record before sending it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewOutboxEntry {
    /// The chat (Discord channel id; KOOK channel id or DM user id).
    pub chat_id: String,
    /// A one-to-one DM (KOOK sends those through the DM API).
    pub direct: bool,
    /// `text`, or another kind of message (see the module docs).
    pub kind: String,
    /// The text, or the kind's description.
    pub body: String,
    /// The message replied to, if any.
    pub reply_to: Option<String>,
    /// The nonce the message is sent with, every time.
    pub nonce: String,
    /// User ids the text may ping (the turn's participants).
    pub participants: Vec<String>,
}

/// A pending outbox row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingEntry {
    /// The row id (sending order).
    pub id: i64,
    /// The journaled turn it answers, if any.
    pub turn_id: Option<i64>,
    /// When it was recorded (Unix ms).
    pub created_ms: u64,
    /// What to send.
    pub entry: NewOutboxEntry,
}

/// Inserts `entries` in order; their ids.
pub(super) fn insert_entries(
    conn: &Connection,
    platform: Platform,
    account: &str,
    turn_id: Option<i64>,
    entries: &[NewOutboxEntry],
    now_ms: u64,
) -> rusqlite::Result<Vec<i64>> {
    let mut stmt = conn.prepare_cached(
        "INSERT INTO outbox (platform, account, turn_id, chat_id, direct, kind, body, reply_to, nonce, created_ms, participants)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
    )?;
    let platform = platform.as_str();
    let mut ids = Vec::with_capacity(entries.len());
    for e in entries {
        stmt.execute(params![
            platform,
            account,
            turn_id,
            e.chat_id,
            e.direct,
            e.kind,
            e.body,
            e.reply_to,
            e.nonce,
            now_ms as i64,
            serde_json::to_string(&e.participants).unwrap_or_default()
        ])?;
        ids.push(conn.last_insert_rowid());
    }
    Ok(ids)
}

impl Store {
    /// Records messages that answer no journaled turn (notes); their ids.
    pub fn enqueue(
        &self,
        platform: Platform,
        account: &str,
        entries: &[NewOutboxEntry],
        now_ms: u64,
    ) -> Result<Vec<i64>, StoreError> {
        self.write_all(|conn| {
            insert_entries(conn, platform, account, None, entries, now_ms).map(Some)
        })
        .map(Option::unwrap_or_default)
    }

    /// Row `id` was accepted by the platform as `platform_message_id`
    /// ([`Commit::Lazy`](super::Commit::Lazy): lost in a crash, the message is sent again with
    /// its nonce and the platform keeps one).
    pub fn mark_sent(
        &self,
        id: i64,
        platform_message_id: Option<&str>,
        now_ms: u64,
    ) -> Result<(), StoreError> {
        let platform_message_id = platform_message_id.map(str::to_owned);
        self.write_lazily(move |conn| {
            conn.prepare_cached(
                "UPDATE outbox SET state = 'sent', body = NULL, platform_message_id = ?2, done_ms = ?3
                 WHERE id = ?1",
            )?
            .execute(params![id, platform_message_id, now_ms as i64])
            .map(drop)
        })
    }

    /// Row `id`, still pending, now has `body` (an upload that got its
    /// asset URL).
    pub fn update_body(&self, id: i64, body: &str) -> Result<(), StoreError> {
        self.write(|conn| {
            conn.prepare_cached("UPDATE outbox SET body = ?2 WHERE id = ?1 AND state = 'pending'")?
                .execute(params![id, body])?;
            Ok(Some(()))
        })?;
        Ok(())
    }

    /// Rows `ids` are given up ([`Commit::Lazy`](super::Commit::Lazy), like a sent mark).
    pub fn mark_abandoned(&self, ids: &[i64], now_ms: u64) -> Result<(), StoreError> {
        let ids = ids.to_vec();
        self.write_lazily(move |conn| {
            let mut stmt = conn.prepare_cached(
                "UPDATE outbox SET state = 'abandoned', body = NULL, done_ms = ?2 WHERE id = ?1",
            )?;
            for id in ids {
                stmt.execute(params![id, now_ms as i64])?;
            }
            Ok(())
        })
    }

    /// Every pending row of `platform`/`account`, in sending order.
    pub fn pending_outbox(
        &self,
        platform: Platform,
        account: &str,
    ) -> Result<Vec<PendingEntry>, StoreError> {
        let rows = self.with(|conn| {
            let mut stmt = conn.prepare_cached(
                "SELECT id, turn_id, created_ms, chat_id, direct, kind, body, reply_to, nonce, participants FROM outbox
                 WHERE platform = ?1 AND account = ?2 AND state = 'pending' ORDER BY id",
            )?;
            let rows = stmt.query_map(params![platform.to_string(), account], |row| {
                Ok(PendingEntry {
                    id: row.get(0)?,
                    turn_id: row.get(1)?,
                    created_ms: row.get::<_, i64>(2)?.max(0) as u64,
                    entry: NewOutboxEntry {
                        chat_id: row.get(3)?,
                        direct: row.get(4)?,
                        kind: row.get(5)?,
                        body: row.get::<_, Option<String>>(6)?.unwrap_or_default(),
                        reply_to: row.get(7)?,
                        nonce: row.get(8)?,
                        participants: row
                            .get::<_, Option<String>>(9)?
                            .and_then(|p| serde_json::from_str(&p).ok())
                            .unwrap_or_default(),
                    },
                })
            })?;
            rows.collect::<rusqlite::Result<Vec<_>>>()
        })?;
        if let Some(bad) = rows.iter().find(|r| r.entry.nonce.is_empty()) {
            return Err(self.bad_row("outbox", format!("row {} has no nonce", bad.id)));
        }
        Ok(rows)
    }

    /// Outbox rows in total (all states), for tests and benchmarks.
    pub fn outbox_count(&self) -> Result<i64, StoreError> {
        self.with(|conn| conn.query_row("SELECT count(*) FROM outbox", [], |row| row.get(0)))
    }
}
