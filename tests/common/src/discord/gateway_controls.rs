//! What a test does to [`FakeDiscord`]'s gateway and reads back from it:
//! dispatches, op 7/9/1, closes and TCP drops on the newest connection,
//! heartbeat ACKs on or off, refused resumes and identifies; the
//! connections ([`GatewayConnection`]), Identify/Resume/heartbeat frames,
//! the session and its sequence, and the waits on them. What means the same
//! on KOOK's gateway is done by `crate::gateway_book`; these methods say it
//! in Discord's terms.

use std::time::Duration;

use serde_json::{json, Value};

use super::{frame, last_seq, FakeDiscord, GatewayConnection};
use crate::ws::Out;
use crate::Timeout;

impl FakeDiscord {
    // ---- gateway controls ----

    /// Sends dispatch `t` with data `d` now if a client holds the current
    /// session; otherwise keeps it for a resume (or the next session).
    pub fn dispatch(&self, t: &str, d: Value) {
        let t = t.to_owned();
        self.core
            .shared
            .update(|s| s.resources.observe_dispatch(&t, &d));
        self.core.shared.update(|s| match s.gw.current_valid() {
            Some(sid) => {
                s.deliver(&sid, &t, d, true);
            }
            None => s.pending.push((t, d)),
        });
    }

    /// Sends `text` as is (a frame the client must survive, e.g. broken
    /// JSON). False when no client is connected.
    pub fn send_raw_text(&self, text: &str) -> bool {
        self.core.shared.send_raw_text(text)
    }

    /// Sends op 7 Reconnect.
    pub fn send_op7_reconnect(&self) -> bool {
        self.core
            .shared
            .push_newest(Out::Text(frame(7, Value::Null)))
    }

    /// Sends op 9 Invalid Session; `false` also invalidates the session.
    pub fn send_op9(&self, resumable: bool) -> bool {
        self.core.shared.update(|s| {
            let Some(id) = s.gw.newest_open() else {
                return false;
            };
            if !resumable {
                s.gw.invalidate_session_of(id);
            }
            s.gw.send(id, frame(9, json!(resumable)));
            true
        })
    }

    /// Sends op 1, asking the client to heartbeat now.
    pub fn send_heartbeat_request(&self) -> bool {
        self.core
            .shared
            .push_newest(Out::Text(frame(1, Value::Null)))
    }

    /// Closes the newest connection with `code` and `reason` (the session
    /// stays resumable).
    pub fn close(&self, code: u16, reason: &str) -> bool {
        self.core.shared.close_newest(code, reason)
    }

    /// Drops the newest connection's TCP stream with no close frame.
    pub fn drop_tcp(&self) -> bool {
        self.core.shared.drop_tcp()
    }

    /// Turns op 11 Heartbeat ACKs on or off (off: zombie connection).
    pub fn set_heartbeat_ack(&self, on: bool) {
        self.core.shared.update(|s| s.heartbeat_ack = on);
    }

    /// The next `n` resumes get op 9 `d: false` (and lose their session).
    pub fn reject_resume_next(&self, n: usize) {
        self.core.shared.update(|s| s.reject_resumes = n);
    }

    /// The next Identify is answered by closing with `code` (e.g. 4004,
    /// 4014) instead of READY.
    pub fn close_on_next_identify(&self, code: u16, reason: &str) {
        let r = reason.to_owned();
        self.core
            .shared
            .update(|s| s.fail_identify = Some((code, r)));
    }

    // ---- gateway records ----

    /// Connections accepted so far (upgrades completed).
    pub fn connection_count(&self) -> usize {
        self.core.shared.connection_count()
    }

    /// Connections open now.
    pub fn live_connection_count(&self) -> usize {
        self.core.shared.live_connection_count()
    }

    /// Every connection's upgrade request, in order.
    pub fn connections(&self) -> Vec<GatewayConnection> {
        self.core.shared.connections()
    }

    /// op 2 frames received.
    pub fn identify_count(&self) -> usize {
        self.core.shared.lock().identifies.len()
    }

    /// op 6 frames received.
    pub fn resume_count(&self) -> usize {
        self.core.shared.lock().resumes.len()
    }

    /// Successful resumes (RESUMED sent).
    pub fn resumed_count(&self) -> usize {
        self.core.shared.resumed_count()
    }

    /// The last Identify's `d`.
    pub fn last_identify(&self) -> Option<Value> {
        self.core.shared.lock().identifies.last().cloned()
    }

    /// Every Identify's `d`.
    pub fn identifies(&self) -> Vec<Value> {
        self.core.shared.lock().identifies.clone()
    }

    /// Every Resume's `d`.
    pub fn resumes(&self) -> Vec<Value> {
        self.core.shared.lock().resumes.clone()
    }

    /// Every heartbeat's `d`, in order (`None` = null).
    pub fn heartbeats(&self) -> Vec<Option<u64>> {
        self.core.shared.lock().heartbeats.clone()
    }

    /// Every frame the client sent that parsed as JSON (op 3, op 8...).
    pub fn client_frames(&self) -> Vec<Value> {
        self.core.shared.client_frames()
    }

    /// The close codes of the close frames the client sent (`None`: no code).
    pub fn client_close_codes(&self) -> Vec<Option<u16>> {
        self.core.shared.lock().client_closes.clone()
    }

    /// The current session's id (from the last READY).
    pub fn session_id(&self) -> Option<String> {
        self.core.shared.session_id()
    }

    /// The current session's last sequence number.
    pub fn last_seq(&self) -> Option<u64> {
        let s = self.core.shared.lock();
        s.gw.current_session().map(|x| last_seq(&x.log))
    }

    /// Waits for the first Identify; returns the last one's `d`.
    pub fn wait_for_identify(&self, timeout: Duration) -> Result<Value, Timeout> {
        self.wait_for_identify_count(1, timeout)
    }

    /// Waits until `n` Identifies arrived; returns the last one's `d`.
    pub fn wait_for_identify_count(&self, n: usize, timeout: Duration) -> Result<Value, Timeout> {
        self.core.shared.wait_until(
            timeout,
            |s| format!("{n} identifies (got {})", s.identifies.len()),
            |s| (s.identifies.len() >= n).then(|| s.identifies.last().cloned().unwrap_or_default()),
        )
    }

    /// Waits until `n` resumes succeeded.
    pub fn wait_for_resumed(&self, n: usize, timeout: Duration) -> Result<(), Timeout> {
        self.core.shared.wait_for_resumed(n, timeout)
    }

    /// Waits until a live connection has identified or resumed (READY or
    /// RESUMED sent on it).
    pub fn wait_for_ready_client(&self, timeout: Duration) -> Result<(), Timeout> {
        self.core.shared.wait_for_ready_client(timeout)
    }

    /// Waits until `n` connections were accepted in total.
    pub fn wait_for_connections(&self, n: usize, timeout: Duration) -> Result<(), Timeout> {
        self.core.shared.wait_for_connections(n, timeout)
    }

    /// Waits until no connection is open.
    pub fn wait_for_disconnect(&self, timeout: Duration) -> Result<(), Timeout> {
        self.core.shared.wait_for_disconnect(timeout)
    }

    /// Waits until `n` heartbeats arrived; returns them all.
    pub fn wait_for_heartbeats(
        &self,
        n: usize,
        timeout: Duration,
    ) -> Result<Vec<Option<u64>>, Timeout> {
        self.core.shared.wait_until(
            timeout,
            |s| format!("{n} heartbeats (got {})", s.heartbeats.len()),
            |s| (s.heartbeats.len() >= n).then(|| s.heartbeats.clone()),
        )
    }

    /// Waits until the client sent a close frame; returns its code.
    pub fn wait_for_client_close(&self, timeout: Duration) -> Result<Option<u16>, Timeout> {
        self.core.shared.wait_until(
            timeout,
            |_| "a close frame from the client".into(),
            |s| s.client_closes.last().copied(),
        )
    }
}
