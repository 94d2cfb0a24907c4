//! What a test does to [`FakeKook`]'s gateway and reads back from it:
//! events (in order, or with a chosen `sn`), s=5 RECONNECT, closes and TCP
//! drops on the newest connection, PONGs on or off and the HELLO new
//! sessions get; the connections ([`KookConnection`]), PINGs, the session
//! and its `sn`, and the waits on them. What means the same on Discord's
//! gateway is done by `crate::gateway_book`; these methods say it in KOOK's
//! terms.

use std::time::Duration;

use serde_json::{json, Value};

use super::{event_frame, last_sn, Entry, FakeKook, KookConnection, KookHello};
use crate::Timeout;

/// KOOK's reading of the shared connection record.
impl KookConnection {
    /// True when it asked to resume (`resume=1`).
    pub fn is_resume(&self) -> bool {
        self.query_param("resume") == Some("1")
    }
}

impl FakeKook {
    // ---- gateway controls ----

    /// Sends event `d` with the next `sn` now if a client holds the current
    /// session; otherwise keeps it for a resume (or the next session).
    /// Returns the `sn` given (`None`: no session yet, queued).
    pub fn event(&self, d: Value) -> Option<u64> {
        self.core.shared.update(|s| match s.gw.current_valid() {
            Some(sid) => s.deliver(&sid, d),
            None => {
                s.pending.push(d);
                None
            }
        })
    }

    /// Sends event `d` with this `sn` as is (out of order, or a duplicate).
    /// It joins the session's log unless that `sn` is taken.
    pub fn event_with_sn(&self, sn: u64, d: Value) {
        self.core.shared.update(|s| {
            let Some(sid) = s.gw.current_valid() else {
                return;
            };
            let conn = s.gw.holder(&sid);
            let Some(sess) = s.gw.sessions.get_mut(&sid) else {
                return;
            };
            sess.log.entry(sn).or_insert(Entry {
                d: d.clone(),
                delivered: conn.is_some(),
            });
            if let Some(c) = conn {
                s.send(c, &event_frame(sn, &d));
            }
        });
    }

    /// Sends s=5 RECONNECT with `code` (40106/40107/40108) and invalidates
    /// the session.
    pub fn send_reconnect(&self, code: u32) -> bool {
        self.core.shared.update(|s| {
            let Some(id) = s.gw.newest_open() else {
                return false;
            };
            s.gw.invalidate_session_of(id);
            let f = json!({"s": 5, "d": {"code": code, "err": "reconnect"}});
            s.send(id, &f);
            true
        })
    }

    /// Sends `text` as is. False when no client is connected.
    pub fn send_raw_text(&self, text: &str) -> bool {
        self.core.shared.send_raw_text(text)
    }

    /// Closes the newest connection with `code`.
    pub fn close(&self, code: u16) -> bool {
        self.core.shared.close_newest(code, "")
    }

    /// Drops the newest connection's TCP stream with no close frame.
    pub fn drop_tcp(&self) -> bool {
        self.core.shared.drop_tcp()
    }

    /// Turns PONGs on or off.
    pub fn set_pong(&self, on: bool) {
        self.core.shared.update(|s| s.pong = on);
    }

    /// What new sessions' connections get from now on.
    pub fn set_hello(&self, hello: KookHello) {
        self.core.shared.update(|s| s.hello = hello);
    }

    // ---- gateway records ----

    /// Connections accepted so far.
    pub fn connection_count(&self) -> usize {
        self.core.shared.connection_count()
    }

    /// Connections open now.
    pub fn live_connection_count(&self) -> usize {
        self.core.shared.live_connection_count()
    }

    /// Every connection's upgrade request, in order.
    pub fn connections(&self) -> Vec<KookConnection> {
        self.core.shared.connections()
    }

    /// Successful resumes (s=6 sent).
    pub fn resume_count(&self) -> usize {
        self.core.shared.resumed_count()
    }

    /// Every PING's `sn`, in order.
    pub fn pings(&self) -> Vec<u64> {
        self.core.shared.lock().pings.clone()
    }

    /// Every frame the client sent that parsed as JSON.
    pub fn client_frames(&self) -> Vec<Value> {
        self.core.shared.client_frames()
    }

    /// The current session's id.
    pub fn session_id(&self) -> Option<String> {
        self.core.shared.session_id()
    }

    /// The current session's highest `sn`.
    pub fn last_sn(&self) -> Option<u64> {
        let s = self.core.shared.lock();
        s.gw.current_session().map(|x| last_sn(&x.log))
    }

    /// Waits until a live connection holds a session (HELLO or s=6 sent).
    pub fn wait_for_ready_client(&self, timeout: Duration) -> Result<(), Timeout> {
        self.core.shared.wait_for_ready_client(timeout)
    }

    /// Waits until `n` connections were accepted in total.
    pub fn wait_for_connections(&self, n: usize, timeout: Duration) -> Result<(), Timeout> {
        self.core.shared.wait_for_connections(n, timeout)
    }

    /// Waits until `n` PINGs arrived; returns their `sn`s.
    pub fn wait_for_pings(&self, n: usize, timeout: Duration) -> Result<Vec<u64>, Timeout> {
        self.core.shared.wait_until(
            timeout,
            |s| format!("{n} pings (got {})", s.pings.len()),
            |s| (s.pings.len() >= n).then(|| s.pings.clone()),
        )
    }

    /// Waits until `n` resumes succeeded.
    pub fn wait_for_resumed(&self, n: usize, timeout: Duration) -> Result<(), Timeout> {
        self.core.shared.wait_for_resumed(n, timeout)
    }

    /// Waits until `n` gateway fetches happened.
    pub fn wait_for_gateway_fetches(&self, n: usize, timeout: Duration) -> Result<(), Timeout> {
        self.core.shared.wait_until(
            timeout,
            |s| format!("{n} gateway fetches (got {})", s.gateway_tokens.len()),
            |s| (s.gateway_tokens.len() >= n).then_some(()),
        )
    }

    /// Waits until no connection is open.
    pub fn wait_for_disconnect(&self, timeout: Duration) -> Result<(), Timeout> {
        self.core.shared.wait_for_disconnect(timeout)
    }
}
