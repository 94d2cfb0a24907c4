//! The gateway side both fakes share, as [`crate::http::RestBook`] is their
//! REST side: a [`GatewayBook`] owns the live connections and their out
//! channels, the record of every accepted connection
//! ([`GatewayConnection`]), the client frames that parsed as JSON, the
//! sessions (which connection holds each, whether it is still valid), the
//! current session and the count of successful resumes.
//!
//! On a fake's [`Shared`] state holding a book ([`HasGatewayBook`]) it also
//! gives the controls and reads both fakes expose to tests as they are:
//! pushes to the newest live connection (raw text, a close, a TCP drop),
//! the records, and the waits on them.
//!
//! What a session logs (Discord's dispatches by `seq`, KOOK's events by
//! `sn`), how a connection identifies or resumes, and every frame's meaning
//! stay in the fakes.

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use serde_json::Value;

use crate::http;
use crate::server::Shared;
use crate::ws::{Handshake, Out, OutTx};
use crate::Timeout;

/// One gateway connection's upgrade request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GatewayConnection {
    /// Request path (Discord `/`, KOOK `/gateway`).
    pub path: String,
    /// Query parameters (Discord `v=10`, `encoding=json`,
    /// `compress=zlib-stream`; KOOK `compress`, `token`, `resume`, `sn`,
    /// `session_id`).
    pub query: Vec<(String, String)>,
    /// Request headers (`User-Agent`...).
    pub headers: Vec<(String, String)>,
}

impl GatewayConnection {
    /// The first query parameter named `name`.
    pub fn query_param(&self, name: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// The first header named `name` (ASCII case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        http::header(&self.headers, name)
    }
}

impl From<Handshake> for GatewayConnection {
    fn from(hs: Handshake) -> Self {
        Self {
            path: hs.path,
            query: hs.query,
            headers: hs.headers,
        }
    }
}

/// A connection open now.
pub(crate) struct Live {
    out: OutTx,
    /// The session it identified, resumed or was given.
    session: Option<String>,
    /// A close frame or a TCP drop is queued: it gets nothing more.
    closing: bool,
}

/// A session: its log `L` (the fake's), whether it may still be resumed, and
/// the connection holding it.
pub(crate) struct Session<L> {
    pub(crate) log: L,
    pub(crate) valid: bool,
    pub(crate) conn: Option<u64>,
}

/// What a fake's gateway keeps, whatever its protocol; `L` is what a session
/// logs.
pub(crate) struct GatewayBook<L> {
    /// Open connections by id, oldest first.
    live: BTreeMap<u64, Live>,
    /// Every accepted connection's upgrade request, in order.
    accepted: Vec<GatewayConnection>,
    /// Every client frame that parsed as JSON.
    frames: Vec<Value>,
    pub(crate) sessions: HashMap<String, Session<L>>,
    /// The session of the last READY / HELLO or successful resume.
    pub(crate) current: Option<String>,
    sessions_created: u64,
    /// Successful resumes.
    pub(crate) resumed: usize,
}

impl<L> Default for GatewayBook<L> {
    fn default() -> Self {
        Self {
            live: BTreeMap::new(),
            accepted: Vec::new(),
            frames: Vec::new(),
            sessions: HashMap::new(),
            current: None,
            sessions_created: 0,
            resumed: 0,
        }
    }
}

impl<L> GatewayBook<L> {
    /// Connection `id` finished its upgrade: recorded, and live until
    /// [`GatewayBook::closed`].
    pub(crate) fn open(&mut self, id: u64, hs: Handshake, out: OutTx) {
        self.accepted.push(hs.into());
        self.live.insert(
            id,
            Live {
                out,
                session: None,
                closing: false,
            },
        );
    }

    /// Connection `id` is gone: it no longer holds its session.
    pub(crate) fn closed(&mut self, id: u64) {
        if let Some(c) = self.live.remove(&id) {
            if let Some(sess) = c.session.and_then(|sid| self.sessions.get_mut(&sid)) {
                if sess.conn == Some(id) {
                    sess.conn = None;
                }
            }
        }
    }

    /// Records `text` if it parses as JSON; returns the value.
    pub(crate) fn record_frame(&mut self, text: &str) -> Option<Value> {
        let v: Value = serde_json::from_str(text).ok()?;
        self.frames.push(v.clone());
        Some(v)
    }

    /// True when connection `id` is open and not being closed by the fake.
    pub(crate) fn is_open(&self, id: u64) -> bool {
        self.live.get(&id).is_some_and(|c| !c.closing)
    }

    /// The newest connection not being closed by the fake.
    pub(crate) fn newest_open(&self) -> Option<u64> {
        self.live
            .iter()
            .rev()
            .find(|(_, c)| !c.closing)
            .map(|(id, _)| *id)
    }

    /// The session connection `id` holds.
    pub(crate) fn session_of(&self, id: u64) -> Option<String> {
        self.live.get(&id).and_then(|c| c.session.clone())
    }

    /// Queues `out` on connection `id`'s writer; a close or a drop marks it
    /// closing (nothing more goes to a connection on its way out).
    pub(crate) fn push(&mut self, id: u64, out: Out) {
        if let Some(c) = self.live.get_mut(&id) {
            c.closing |= matches!(out, Out::Close(..) | Out::Drop);
            // Unbounded: never full; closed means the connection is ending.
            let _ = c.out.try_send(out);
        }
    }

    /// Sends a text frame to connection `id`.
    pub(crate) fn send(&mut self, id: u64, text: String) {
        self.push(id, Out::Text(text));
    }

    /// Sends a close frame to connection `id`, which gets nothing more.
    pub(crate) fn close(&mut self, id: u64, code: u16, reason: &str) {
        self.push(id, Out::Close(code, reason.to_owned()));
    }

    /// Queues `out` on the newest open connection; false when there is none.
    pub(crate) fn push_newest(&mut self, out: Out) -> bool {
        match self.newest_open() {
            Some(id) => {
                self.push(id, out);
                true
            }
            None => false,
        }
    }

    /// Starts a session held by connection `conn`, with an empty log; `name`
    /// makes its id from how many sessions were created (this one included).
    pub(crate) fn new_session(&mut self, conn: u64, name: impl FnOnce(u64) -> String) -> String
    where
        L: Default,
    {
        self.sessions_created += 1;
        let sid = name(self.sessions_created);
        self.sessions.insert(
            sid.clone(),
            Session {
                log: L::default(),
                valid: true,
                conn: Some(conn),
            },
        );
        if let Some(c) = self.live.get_mut(&conn) {
            c.session = Some(sid.clone());
        }
        sid
    }

    /// Session `sid` if it exists and may be resumed.
    pub(crate) fn resumable(&mut self, sid: &str) -> Option<&mut Session<L>> {
        self.sessions.get_mut(sid).filter(|s| s.valid)
    }

    /// Connection `conn` now holds session `sid` (a resume).
    pub(crate) fn attach(&mut self, sid: &str, conn: u64) {
        if let Some(s) = self.sessions.get_mut(sid) {
            s.conn = Some(conn);
        }
        if let Some(c) = self.live.get_mut(&conn) {
            c.session = Some(sid.to_owned());
        }
    }

    /// A resume of `sid` succeeded: it is the current session.
    pub(crate) fn resume_done(&mut self, sid: String) {
        self.current = Some(sid);
        self.resumed += 1;
    }

    /// The open connection holding session `sid`, if any.
    pub(crate) fn holder(&self, sid: &str) -> Option<u64> {
        self.sessions.get(sid)?.conn.filter(|c| self.is_open(*c))
    }

    /// The current session.
    pub(crate) fn current_session(&self) -> Option<&Session<L>> {
        self.sessions.get(self.current.as_ref()?)
    }

    /// The current session, to change (e.g. to carry what it never
    /// delivered into a new one).
    pub(crate) fn current_session_mut(&mut self) -> Option<&mut Session<L>> {
        self.sessions.get_mut(self.current.as_ref()?)
    }

    /// The current session's id, if it is still valid.
    pub(crate) fn current_valid(&self) -> Option<String> {
        self.current_session()
            .filter(|s| s.valid)
            .and(self.current.clone())
    }

    /// Marks session `sid` as not resumable.
    pub(crate) fn invalidate(&mut self, sid: &str) {
        if let Some(s) = self.sessions.get_mut(sid) {
            s.valid = false;
        }
    }

    /// Session `conn` holds becomes not resumable.
    pub(crate) fn invalidate_session_of(&mut self, conn: u64) {
        if let Some(sid) = self.session_of(conn) {
            self.invalidate(&sid);
        }
    }

    /// True when an open connection holds a session.
    fn has_ready_client(&self) -> bool {
        self.live
            .values()
            .any(|c| c.session.is_some() && !c.closing)
    }
}

/// A fake's state, which holds a [`GatewayBook`].
pub(crate) trait HasGatewayBook {
    /// What a session logs.
    type Log;
    /// The book, to read.
    fn gateway(&self) -> &GatewayBook<Self::Log>;
    /// The book, to change.
    fn gateway_mut(&mut self) -> &mut GatewayBook<Self::Log>;
}

/// The controls and reads both fakes expose with the same meaning (each
/// fake's public method of the same name calls these).
impl<S: HasGatewayBook> Shared<S> {
    /// Queues `out` on the newest open connection; false when there is none.
    pub(crate) fn push_newest(&self, out: Out) -> bool {
        self.update(|s| s.gateway_mut().push_newest(out))
    }

    /// Sends `text` as is to the newest open connection.
    pub(crate) fn send_raw_text(&self, text: &str) -> bool {
        self.push_newest(Out::Text(text.to_owned()))
    }

    /// Closes the newest open connection with `code` and `reason`.
    pub(crate) fn close_newest(&self, code: u16, reason: &str) -> bool {
        self.push_newest(Out::Close(code, reason.to_owned()))
    }

    /// Drops the newest open connection's TCP stream with no close frame.
    pub(crate) fn drop_tcp(&self) -> bool {
        self.push_newest(Out::Drop)
    }

    /// Connections accepted so far.
    pub(crate) fn connection_count(&self) -> usize {
        self.lock().gateway().accepted.len()
    }

    /// Connections open now.
    pub(crate) fn live_connection_count(&self) -> usize {
        self.lock().gateway().live.len()
    }

    /// Every accepted connection's upgrade request, in order.
    pub(crate) fn connections(&self) -> Vec<GatewayConnection> {
        self.lock().gateway().accepted.clone()
    }

    /// Every client frame that parsed as JSON.
    pub(crate) fn client_frames(&self) -> Vec<Value> {
        self.lock().gateway().frames.clone()
    }

    /// The current session's id.
    pub(crate) fn session_id(&self) -> Option<String> {
        self.lock().gateway().current.clone()
    }

    /// Successful resumes.
    pub(crate) fn resumed_count(&self) -> usize {
        self.lock().gateway().resumed
    }

    /// Waits until an open connection holds a session.
    pub(crate) fn wait_for_ready_client(&self, timeout: Duration) -> Result<(), Timeout> {
        self.wait_until(
            timeout,
            |s| {
                let live = s.gateway().live.len();
                format!("a ready client ({live} live connections)")
            },
            |s| s.gateway().has_ready_client().then_some(()),
        )
    }

    /// Waits until `n` connections were accepted in total.
    pub(crate) fn wait_for_connections(&self, n: usize, timeout: Duration) -> Result<(), Timeout> {
        self.wait_until(
            timeout,
            |s| format!("{n} connections (got {})", s.gateway().accepted.len()),
            |s| (s.gateway().accepted.len() >= n).then_some(()),
        )
    }

    /// Waits until no connection is open.
    pub(crate) fn wait_for_disconnect(&self, timeout: Duration) -> Result<(), Timeout> {
        self.wait_until(
            timeout,
            |s| format!("no live connection ({} live)", s.gateway().live.len()),
            |s| s.gateway().live.is_empty().then_some(()),
        )
    }

    /// Waits until `n` resumes succeeded.
    pub(crate) fn wait_for_resumed(&self, n: usize, timeout: Duration) -> Result<(), Timeout> {
        self.wait_until(
            timeout,
            |s| {
                let g = s.gateway();
                format!(
                    "{n} successful resumes (got {}, {} connections accepted)",
                    g.resumed,
                    g.accepted.len()
                )
            },
            |s| (s.gateway().resumed >= n).then_some(()),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn book_with(ids: &[u64]) -> (GatewayBook<Vec<u64>>, Vec<smol::channel::Receiver<Out>>) {
        let mut book = GatewayBook::default();
        let mut rxs = Vec::new();
        for &id in ids {
            let (tx, rx) = smol::channel::unbounded();
            book.open(id, Handshake::default(), tx);
            rxs.push(rx);
        }
        (book, rxs)
    }

    #[test]
    fn pushes_go_to_the_newest_open_connection_and_closing_ones_are_skipped() {
        let (mut book, rxs) = book_with(&[1, 2]);
        assert!(book.push_newest(Out::Drop));
        assert!(matches!(rxs[1].try_recv(), Ok(Out::Drop)));
        assert!(!book.is_open(2));
        assert_eq!(book.newest_open(), Some(1));
        assert!(book.push_newest(Out::Close(4000, String::new())));
        assert!(matches!(rxs[0].try_recv(), Ok(Out::Close(4000, _))));
        assert!(!book.push_newest(Out::Drop), "no open connection left");
        assert_eq!(book.accepted.len(), 2);
    }

    #[test]
    fn a_closed_connection_releases_its_session_only_if_it_still_holds_it() {
        let (mut book, _rxs) = book_with(&[1, 2]);
        let sid = book.new_session(1, |n| format!("s{n}"));
        assert_eq!(sid, "s1");
        assert_eq!(book.holder(&sid), Some(1));
        // Resumed on 2 before 1 is gone: 1 closing leaves it with 2.
        book.attach(&sid, 2);
        book.closed(1);
        assert_eq!(book.holder(&sid), Some(2));
        book.closed(2);
        assert_eq!(book.holder(&sid), None);
        assert!(book.live.is_empty());
    }

    #[test]
    fn an_invalidated_current_session_is_not_resumable() {
        let (mut book, _rxs) = book_with(&[7]);
        let sid = book.new_session(7, |n| format!("s{n}"));
        book.resume_done(sid.clone());
        assert_eq!(book.resumed, 1);
        assert_eq!(book.current_valid(), Some(sid.clone()));
        book.invalidate_session_of(7);
        assert_eq!(book.current_valid(), None);
        assert!(book.resumable(&sid).is_none());
        assert!(book.current_session().is_some_and(|s| !s.valid));
    }
}
