//! The store's side of one channel loop: saves the gateway sessions as the
//! machines advance, journals accepted turns, records reply messages (text
//! chunks and uploads) before sending them and carries out the core's
//! [`Outbox`] decisions. The rules are `krill_core::durable`'s; this module
//! maps them onto `Store` calls and keeps the loops' hooks small.
//!
//! An upload row names its files by path ([`UploadRecord`]); the files
//! read for a fresh reply ride along in memory, a recovered row's files are
//! read again at start (the loop's `load`). An upload the platform refuses
//! for good is replaced by its text alone and a note naming the files.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

use krill_core::config::Platform;
use krill_core::durable::{
    find_posted, recovery_order, Admission, Failure, JournaledTurn, ListedMessage, Outbox,
    OutboxEffect, OutboxItem, RecordedFile, SendKind, UploadRecord, CUT_REPLY_NOTE, UPLOAD,
};
use krill_core::media::outbound::FailureReason;
use krill_core::media::{delivery_notes, MediaFailure, OutboundFile};
use krill_core::reply::OutboundChunk;
use krill_core::rest::{RequestId, RestError};
use tracing::{debug, info, warn};

use super::unix_ms;
use crate::media::outbound::recorded;
use crate::pairing_store::random_seed;
use crate::store::journal::OpenTurn;
use crate::store::outbox::{NewOutboxEntry, PendingEntry};
use crate::store::resume::SavedSession;
use crate::store::{Commit, Store};

/// The `kind` of a text message in the outbox.
pub(crate) const TEXT: &str = "text";

/// A message handed to the loop to send (or verify).
#[derive(Debug, Clone)]
pub(crate) struct Outgoing {
    /// The outbox row.
    pub(crate) id: i64,
    /// When it was first recorded (Unix ms).
    pub(crate) recorded_ms: u64,
    /// What to send.
    pub(crate) entry: NewOutboxEntry,
    /// An upload's files, read (`None` for text).
    pub(crate) files: Option<Arc<Vec<OutboundFile>>>,
}

impl Outgoing {
    /// The record of an upload row (`None`: a text row, or unreadable).
    pub(crate) fn upload(&self) -> Option<UploadRecord> {
        (self.entry.kind == UPLOAD)
            .then(|| UploadRecord::from_json(&self.entry.body))
            .flatten()
    }

    /// What the posted message shows, for the KOOK check: the text, or an
    /// upload's asset URL.
    fn posted_content(&self) -> Option<String> {
        if self.entry.kind == UPLOAD {
            self.upload()
                .and_then(|r| r.posted_content().map(str::to_owned))
        } else {
            Some(self.entry.body.clone())
        }
    }
}

/// One message of a reply, before it is recorded.
#[derive(Debug)]
pub(crate) enum ReplyMessage {
    /// A text chunk.
    Text(OutboundChunk),
    /// Files (Discord: with the chunk's text; KOOK: one file, a message of
    /// `message_type`, the chunk's text empty).
    Upload {
        /// The text and reply reference.
        chunk: OutboundChunk,
        /// The files, read.
        files: Vec<OutboundFile>,
        /// KOOK: 2 image, 4 file.
        message_type: Option<u8>,
    },
    /// A note to the user (pings nobody).
    Note(String),
}

/// The durable state of one bot account (see the module docs).
pub(crate) struct Durable {
    name: String,
    platform: Platform,
    account: String,
    store: Arc<Store>,
    saved: HashMap<u32, Option<SavedSession>>,
    outbox: Outbox<Outgoing>,
    /// Outbox row per REST request in flight.
    requests: HashMap<RequestId, (i64, SendKind)>,
    /// The message each verification or upload request carries.
    payloads: HashMap<RequestId, Outgoing>,
    /// Asset URLs learned for upload rows still pending (KOOK).
    asset_urls: HashMap<i64, String>,
    /// How a note is written for this platform.
    note_format: fn(&str) -> String,
    /// Replies fully delivered (or given up) since the last
    /// [`Durable::take_finished`].
    finished: Vec<i64>,
    /// Turns submitted to the agents whose outcome has not come back.
    running: usize,
    /// Whether each chat written to is a DM (for cut-reply notes).
    direct_chats: HashMap<String, bool>,
}

/// Chats remembered in `direct_chats` at most (forgotten all at once).
const MAX_DIRECT_CHATS: usize = 10_000;

impl Durable {
    pub(crate) fn new(
        name: &str,
        platform: Platform,
        account: &str,
        store: Arc<Store>,
        note_format: fn(&str) -> String,
    ) -> Self {
        Self {
            name: name.to_owned(),
            platform,
            account: account.to_owned(),
            store,
            saved: HashMap::new(),
            outbox: Outbox::new(),
            requests: HashMap::new(),
            payloads: HashMap::new(),
            asset_urls: HashMap::new(),
            note_format,
            direct_chats: HashMap::new(),
            finished: Vec::new(),
            running: 0,
        }
    }

    // ----- resume state -----

    /// The saved session of shard `shard` (KOOK: 0).
    pub(crate) fn saved_session(&mut self, shard: u32) -> Option<SavedSession> {
        match self.store.load_session(self.platform, &self.account, shard) {
            Ok(saved) => {
                self.saved.insert(shard, saved.clone());
                saved
            }
            Err(error) => {
                warn!("{}: cannot read the saved session: {error}", self.name);
                None
            }
        }
    }

    /// Saves shard `shard`'s session when it changed since the last save
    /// (lazily when only its `seq` moved: see [`Commit::Lazy`]).
    pub(crate) fn save_session(&mut self, shard: u32, session: Option<SavedSession>) {
        let before = self.saved.get(&shard);
        if before == Some(&session) {
            return;
        }
        let same_session = match (before, &session) {
            (Some(Some(old)), Some(new)) => {
                old.session_id == new.session_id && old.resume_url == new.resume_url
            }
            _ => false,
        };
        let commit = if same_session {
            Commit::Lazy
        } else {
            Commit::Urgent
        };
        match self.store.save_session(
            self.platform,
            &self.account,
            shard,
            session.as_ref(),
            commit,
            unix_ms(),
        ) {
            Ok(()) => {
                self.saved.insert(shard, session);
            }
            Err(error) => warn!("{}: cannot save the session: {error}", self.name),
        }
    }

    // ----- turn journal -----

    /// Journals an accepted message before its turn runs.
    pub(crate) fn admit(&self, message_id: &str, turn: &JournaledTurn) -> Admission {
        let inserted = self.store.accept_turn(
            self.platform,
            &self.account,
            message_id,
            &turn.turn.session_key,
            &turn.to_json(),
            unix_ms(),
        );
        if let Err(error) = &inserted {
            warn!(
                "{}: cannot journal message {message_id}: {error}",
                self.name
            );
        }
        Admission::from_insert(inserted)
    }

    /// The accepted turns that were never answered, in the order to run
    /// them again.
    pub(crate) fn recovered_turns(&self) -> Vec<(i64, JournaledTurn)> {
        let open = match self.store.open_turns(self.platform, &self.account) {
            Ok(open) => open,
            Err(error) => {
                warn!("{}: cannot read the turn journal: {error}", self.name);
                return Vec::new();
            }
        };
        let (runs, unreadable) = recovery_order(
            open.into_iter()
                .map(|OpenTurn { id, turn, .. }| (id, turn))
                .collect(),
        );
        for id in unreadable {
            warn!("{}: journal row {id} is unreadable; closing it", self.name);
            let _ = self
                .store
                .answer_turn(self.platform, &self.account, id, &[], unix_ms());
        }
        runs
    }

    // ----- outbox -----

    /// A turn was handed to the agents.
    pub(crate) fn turn_started(&mut self) {
        self.running += 1;
    }

    /// A turn's outcome came back and is answered outside the outbox.
    pub(crate) fn turn_ended(&mut self) {
        self.running = self.running.saturating_sub(1);
    }

    /// Records the reply to journal row `turn` (`None`: an unjournaled
    /// turn) and queues its messages in sending order (uploads recorded by
    /// path, see [`UploadRecord`]). Marks the turn answered in the same
    /// transaction. Returns the reply's id (see [`Durable::take_finished`]),
    /// `None` when there is nothing to send.
    pub(crate) fn reply_messages(
        &mut self,
        turn: Option<i64>,
        chat_id: &str,
        direct: bool,
        messages: Vec<ReplyMessage>,
        participants: &[String],
    ) -> Option<i64> {
        self.running = self.running.saturating_sub(1);
        let entry = |kind: &str, body: String, reply_to: Option<String>, people: &[String]| {
            NewOutboxEntry {
                chat_id: chat_id.to_owned(),
                direct,
                kind: kind.to_owned(),
                body,
                reply_to,
                nonce: new_nonce(),
                participants: people.to_vec(),
            }
        };
        let items = messages
            .into_iter()
            .map(|message| match message {
                ReplyMessage::Text(chunk) => {
                    (entry(TEXT, chunk.text, chunk.reply_to, participants), None)
                }
                ReplyMessage::Note(text) => {
                    (entry(TEXT, (self.note_format)(&text), None, &[]), None)
                }
                ReplyMessage::Upload {
                    chunk,
                    files,
                    message_type,
                } => {
                    let record = UploadRecord {
                        text: chunk.text,
                        files: files.iter().filter_map(recorded).collect(),
                        message_type,
                        url: None,
                    };
                    (
                        entry(UPLOAD, record.to_json(), chunk.reply_to, participants),
                        Some(Arc::new(files)),
                    )
                }
            })
            .collect();
        self.record_items(turn, items, false)
    }

    /// Records messages of any kind (uploads...) answering `turn` and
    /// queues them; they go out in order after the chat's earlier messages.
    pub(crate) fn record(
        &mut self,
        turn: Option<i64>,
        entries: Vec<NewOutboxEntry>,
        note: bool,
    ) -> Option<i64> {
        let items = entries.into_iter().map(|e| (e, None)).collect();
        self.record_items(turn, items, note)
    }

    /// [`Durable::record`] with each message's files (uploads).
    fn record_items(
        &mut self,
        turn: Option<i64>,
        items: Vec<(NewOutboxEntry, Option<Arc<Vec<OutboundFile>>>)>,
        note: bool,
    ) -> Option<i64> {
        let (entries, files): (Vec<NewOutboxEntry>, Vec<_>) = items.into_iter().unzip();
        let now_ms = unix_ms();
        let ids = match turn {
            Some(turn_id) => match self.store.answer_turn(
                self.platform,
                &self.account,
                turn_id,
                &entries,
                now_ms,
            ) {
                Ok(Some(ids)) => Ok(ids),
                Ok(None) => {
                    debug!("{}: turn {turn_id} was already answered", self.name);
                    return None;
                }
                Err(error) => Err(error),
            },
            None if entries.is_empty() => Ok(Vec::new()),
            None => self
                .store
                .enqueue(self.platform, &self.account, &entries, now_ms),
        };
        let ids = match ids {
            Ok(ids) => ids.into_iter().map(Some).collect::<Vec<_>>(),
            Err(error) => {
                // Still send it: a reply not recorded beats no reply.
                warn!("{}: cannot record the reply: {error}", self.name);
                vec![None; entries.len()]
            }
        };
        if entries.is_empty() {
            return None;
        }
        let reply = ids.first().copied().flatten().unwrap_or_else(unrecorded_id);
        for ((id, entry), files) in ids.into_iter().zip(entries).zip(files) {
            self.remember_chat(&entry);
            let id = id.unwrap_or_else(unrecorded_id);
            self.outbox.push(OutboxItem {
                id,
                chat: entry.chat_id.clone(),
                reply,
                verify: false,
                note,
                payload: Outgoing {
                    id,
                    recorded_ms: now_ms,
                    entry,
                    files,
                },
            });
        }
        Some(reply)
    }

    /// Replies whose messages were all delivered or given up since the last
    /// call (acks waiting for the reply are removed then).
    pub(crate) fn take_finished(&mut self) -> Vec<i64> {
        std::mem::take(&mut self.finished)
    }

    /// No turn running and nothing left to send.
    pub(crate) fn idle(&self) -> bool {
        self.running == 0 && self.outbox.pending() == 0
    }

    /// Queues the messages left pending by the last process (KOOK ones are
    /// verified first when `verify`; an upload only once its message could
    /// have been sent). `load` reads an upload's files again; a file that
    /// cannot be read any more is left out and named in a note (an upload
    /// left with no file goes as its text alone). Returns how many.
    pub(crate) fn recover_outbox(
        &mut self,
        verify: bool,
        load: impl Fn(&RecordedFile) -> Result<OutboundFile, MediaFailure>,
    ) -> usize {
        let pending = match self.store.pending_outbox(self.platform, &self.account) {
            Ok(pending) => pending,
            Err(error) => {
                warn!("{}: cannot read the outbox: {error}", self.name);
                return 0;
            }
        };
        let count = pending.len();
        let mut notes: Vec<NewOutboxEntry> = Vec::new();
        for PendingEntry {
            id,
            turn_id,
            created_ms,
            mut entry,
        } in pending
        {
            let (mut check, mut files) = (verify, None);
            if entry.kind == UPLOAD {
                let Some(record) = UploadRecord::from_json(&entry.body) else {
                    warn!(
                        "{}: outbox row {id} is an unreadable upload; given up",
                        self.name
                    );
                    let _ = self.store.mark_abandoned(&[id], unix_ms());
                    continue;
                };
                if record.url.is_some() {
                    // KOOK: the file is uploaded already; its message needs
                    // only the URL (and the check first).
                    self.remember_chat(&entry);
                    self.outbox.push(OutboxItem {
                        id,
                        chat: entry.chat_id.clone(),
                        reply: turn_id.unwrap_or(id),
                        verify: verify && record.needs_check(),
                        note: false,
                        payload: Outgoing {
                            id,
                            recorded_ms: created_ms,
                            entry,
                            files: Some(Arc::new(Vec::new())),
                        },
                    });
                    continue;
                }
                let (read, failures): (Vec<_>, Vec<_>) =
                    record.files.iter().map(&load).partition(Result::is_ok);
                let read: Vec<OutboundFile> = read.into_iter().filter_map(Result::ok).collect();
                let failures: Vec<MediaFailure> =
                    failures.into_iter().filter_map(Result::err).collect();
                if let Some(note) = delivery_notes(&failures) {
                    notes.push(self.note_entry(&entry.chat_id, entry.direct, &note));
                }
                if read.is_empty() {
                    // Nothing left to upload: the text goes alone.
                    if record.text.trim().is_empty() || record.message_type.is_some() {
                        let _ = self.store.mark_abandoned(&[id], unix_ms());
                        continue;
                    }
                    entry.kind = TEXT.to_owned();
                    entry.body = record.text;
                } else {
                    // Not posted yet (no URL recorded): no check needed.
                    check = false;
                    files = Some(Arc::new(read));
                }
            }
            self.remember_chat(&entry);
            self.outbox.push(OutboxItem {
                id,
                chat: entry.chat_id.clone(),
                reply: turn_id.unwrap_or(id),
                verify: check,
                note: entry.body == CUT_REPLY_NOTE,
                payload: Outgoing {
                    id,
                    recorded_ms: created_ms,
                    entry,
                    files,
                },
            });
        }
        if !notes.is_empty() {
            self.record(None, notes, false);
        }
        if count > 0 {
            info!(
                "{}: {count} reply message(s) left pending are sent again",
                self.name
            );
        }
        count
    }

    /// Hands every message that may go now to `send`, which returns the
    /// request carrying it (`None`: it could not be submitted, it fails).
    pub(crate) fn pump(
        &mut self,
        now: Instant,
        mut send: impl FnMut(SendKind, &Outgoing) -> Option<RequestId>,
    ) {
        while let Some((kind, item)) = self.outbox.poll_send(now) {
            let id = item.id;
            // Verifications and uploads keep what they carry (an upload may
            // have learned its asset URL since it was queued).
            let kept = (kind == SendKind::Verify || item.payload.entry.kind == UPLOAD).then(|| {
                let mut payload = item.payload.clone();
                if let Some(url) = self.asset_urls.get(&id) {
                    set_asset_url(&mut payload, url);
                }
                payload
            });
            match send(kind, kept.as_ref().unwrap_or(&item.payload)) {
                Some(request) => {
                    if let Some(payload) = kept {
                        self.payloads.insert(request, payload);
                    }
                    self.requests.insert(request, (id, kind));
                }
                None => self.outbox.handle_failed(now, id, Failure::Permanent),
            }
        }
        self.apply_effects();
    }

    /// True when request `request` carries an outbox message.
    pub(crate) fn owns(&self, request: RequestId) -> bool {
        self.requests.contains_key(&request)
    }

    /// Request `request` succeeded (`message_id`: the posted message).
    pub(crate) fn completed(&mut self, request: RequestId, message_id: Option<&str>) {
        self.payloads.remove(&request);
        if let Some((id, _)) = self.requests.remove(&request) {
            self.asset_urls.remove(&id);
            if id >= 0 {
                if let Err(error) = self.store.mark_sent(id, message_id, unix_ms()) {
                    warn!("{}: cannot mark message {id} sent: {error}", self.name);
                }
            }
            self.outbox.handle_delivered(id);
            self.apply_effects();
        }
    }

    /// A verification request answered with the chat's newest messages:
    /// the pending message is already there (written by `bot_id`), or it is
    /// sent now.
    pub(crate) fn verified(&mut self, request: RequestId, listed: &[ListedMessage], bot_id: &str) {
        let Some(out) = self.payloads.remove(&request) else {
            return;
        };
        let content = out.posted_content().unwrap_or_default();
        let found = find_posted(listed, bot_id, &content, out.recorded_ms);
        if let Some((id, _)) = self.requests.remove(&request) {
            match found {
                Some(message_id) => {
                    debug!("{}: pending message {id} was already posted", self.name);
                    let _ = self.store.mark_sent(id, Some(message_id), unix_ms());
                    self.outbox.handle_verified(id, true);
                }
                None => self.outbox.handle_verified(id, false),
            }
            self.apply_effects();
        }
    }

    /// Upload request `request` (KOOK `/asset/create`) answered `url`:
    /// the URL is recorded first, then `send` carries the media message
    /// (`None`: it could not be submitted, it fails).
    pub(crate) fn asset_created(
        &mut self,
        now: Instant,
        request: RequestId,
        url: &str,
        send: impl FnOnce(&Outgoing) -> Option<RequestId>,
    ) {
        let (Some((id, kind)), Some(mut out)) = (
            self.requests.remove(&request),
            self.payloads.remove(&request),
        ) else {
            return;
        };
        set_asset_url(&mut out, url);
        if id >= 0 {
            if let Err(error) = self.store.update_body(id, &out.entry.body) {
                warn!(
                    "{}: cannot record the asset of message {id}: {error}",
                    self.name
                );
            }
        }
        self.asset_urls.insert(id, url.to_owned());
        match send(&out) {
            Some(next) => {
                self.requests.insert(next, (id, kind));
                self.payloads.insert(next, out);
            }
            None => {
                self.outbox.handle_failed(now, id, Failure::Permanent);
                self.apply_effects();
            }
        }
    }

    /// Request `request` failed after the planner's retries.
    pub(crate) fn failed(&mut self, now: Instant, request: RequestId, error: &RestError) {
        let payload = self.payloads.remove(&request);
        if let Some((id, kind)) = self.requests.remove(&request) {
            let refused_upload = payload
                .filter(|_| kind == SendKind::Send && Failure::of(error) == Failure::Permanent)
                .and_then(|out| out.upload().map(|record| (out, record)));
            if let Some((out, record)) = refused_upload {
                warn!("{}: upload {id} refused: {error}", self.name);
                self.upload_refused(id, &out, record);
            } else if kind == SendKind::Verify {
                // The check could not run: send it (a possible duplicate
                // beats a lost message).
                warn!(
                    "{}: cannot check whether message {id} was posted: {error}",
                    self.name
                );
                self.outbox.handle_verified(id, false);
            } else {
                warn!("{}: reply message {id} failed: {error}", self.name);
                self.outbox.handle_failed(now, id, Failure::of(error));
            }
            self.apply_effects();
        }
    }

    /// An upload refused for good: its row is given up and its text (if
    /// any) and a note naming the files go in its place.
    fn upload_refused(&mut self, id: i64, out: &Outgoing, record: UploadRecord) {
        self.asset_urls.remove(&id);
        if id >= 0 {
            let _ = self.store.mark_abandoned(&[id], unix_ms());
        }
        self.outbox.handle_delivered(id);
        let mut entries = Vec::new();
        if !record.text.trim().is_empty() {
            entries.push(NewOutboxEntry {
                kind: TEXT.to_owned(),
                body: record.text,
                nonce: new_nonce(),
                ..out.entry.clone()
            });
        }
        let names: Vec<String> = match &out.files {
            Some(files) => files.iter().map(|f| f.filename.clone()).collect(),
            None => record.files.into_iter().map(|f| f.name).collect(),
        };
        let failures: Vec<MediaFailure> = names
            .iter()
            .map(|name| MediaFailure::new(name, FailureReason::UploadFailed))
            .collect();
        if let Some(note) = delivery_notes(&failures) {
            entries.push(self.note_entry(&out.entry.chat_id, out.entry.direct, &note));
        }
        self.apply_effects();
        self.record(None, entries, false);
    }

    /// A note for `chat` (pings nobody).
    fn note_entry(&self, chat: &str, direct: bool, note: &str) -> NewOutboxEntry {
        NewOutboxEntry {
            chat_id: chat.to_owned(),
            direct,
            kind: TEXT.to_owned(),
            body: (self.note_format)(note),
            reply_to: None,
            nonce: new_nonce(),
            participants: Vec::new(),
        }
    }

    /// When a held message may be tried again.
    pub(crate) fn deadline(&self) -> Option<Instant> {
        self.outbox.poll_timeout()
    }

    fn remember_chat(&mut self, entry: &NewOutboxEntry) {
        if self.direct_chats.len() >= MAX_DIRECT_CHATS
            && !self.direct_chats.contains_key(&entry.chat_id)
        {
            self.direct_chats.clear();
        }
        self.direct_chats
            .insert(entry.chat_id.clone(), entry.direct);
    }

    fn apply_effects(&mut self) {
        while let Some(effect) = self.outbox.poll_effect() {
            match effect {
                // Recorded in `completed` / `verified`, with the message id.
                OutboxEffect::Delivered { .. } => {}
                OutboxEffect::ReplyDone { reply } => self.finished.push(reply),
                OutboxEffect::Abandoned { ids } => {
                    for id in &ids {
                        self.asset_urls.remove(id);
                    }
                    warn!(
                        "{}: {} reply message(s) could not be sent and are given up",
                        self.name,
                        ids.len()
                    );
                    if let Err(error) = self.store.mark_abandoned(&ids, unix_ms()) {
                        warn!("{}: cannot record given-up messages: {error}", self.name);
                    }
                }
                OutboxEffect::Note { chat, reply } => {
                    debug!(
                        "{}: reply {reply} in {chat} was cut; telling the user",
                        self.name
                    );
                    let direct = self.direct_chats.get(&chat).copied().unwrap_or(false);
                    let entry = NewOutboxEntry {
                        chat_id: chat,
                        direct,
                        kind: TEXT.to_owned(),
                        body: CUT_REPLY_NOTE.to_owned(),
                        reply_to: None,
                        nonce: new_nonce(),
                        participants: Vec::new(),
                    };
                    self.record(None, vec![entry], true);
                }
            }
        }
    }
}

/// Records `url` in an upload's body.
fn set_asset_url(out: &mut Outgoing, url: &str) {
    if let Some(mut record) = out.upload() {
        record.url = Some(url.to_owned());
        out.entry.body = record.to_json();
    }
}

/// A nonce for one outbox message: decimal digits of 63 random bits (at
/// most 19 characters; Discord accepts 25).
fn new_nonce() -> String {
    (random_seed() >> 1).to_string()
}

/// A stand-in id for a message the store could not record (negative, so it
/// never collides with a row id).
fn unrecorded_id() -> i64 {
    -((random_seed() >> 2) as i64) - 1
}
