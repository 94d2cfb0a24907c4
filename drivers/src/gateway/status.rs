//! [`StatusBoard`]: what each channel loop says about its health, and the
//! task that writes it to `<state>/status.json` every few seconds for
//! `krill channels status` and `krill doctor` (see [`crate::status_file`]).

use std::path::PathBuf;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use tracing::debug;

use crate::status_file::{self, ChannelStatus, GatewayStatus};

/// How often the file is rewritten.
const WRITE_EVERY: Duration = Duration::from_secs(5);

/// One channel's health as its loop last saw it.
#[derive(Debug, Clone)]
pub(crate) struct Health {
    pub(crate) state: String,
    pub(crate) connected: bool,
    /// The session was live at the last report (see [`Health::set_link`]).
    pub(crate) up: bool,
    pub(crate) session: bool,
    pub(crate) last_event_at: Option<Instant>,
    pub(crate) last_ack_at: Option<Instant>,
    pub(crate) reconnects: u64,
    pub(crate) last_error: Option<String>,
    pub(crate) messages_in: u64,
    pub(crate) replies_out: u64,
    pub(crate) content_seen: u64,
    pub(crate) notices: Vec<String>,
}

impl Health {
    /// A channel that has not reported yet.
    fn starting() -> Self {
        Self {
            state: "starting".to_owned(),
            connected: false,
            up: false,
            session: false,
            last_event_at: None,
            last_ack_at: None,
            reconnects: 0,
            last_error: None,
            messages_in: 0,
            replies_out: 0,
            content_seen: 0,
            notices: Vec::new(),
        }
    }

    /// Records the connection now: `connected` (a socket is open) for
    /// display, `up` (the session is live: Discord READY/RESUMED, KOOK
    /// HELLO) for outages. A channel that was up and is not any more starts
    /// an outage, counted once however many connect attempts the way back
    /// takes (`reconnects`).
    pub(crate) fn set_link(&mut self, connected: bool, up: bool) {
        if self.up && !up {
            self.reconnects += 1;
        }
        self.up = up;
        self.connected = connected;
    }
}

/// Every channel's [`Health`], shared by the loops and the writer.
#[derive(Debug)]
pub(crate) struct StatusBoard {
    state_dir: PathBuf,
    started_at_ms: u64,
    channels: Mutex<Vec<(String, String, Health)>>,
}

impl StatusBoard {
    /// A board for `channels` (platform, account id), in loop index order.
    pub(crate) fn new(state_dir: PathBuf, channels: Vec<(String, String)>) -> Arc<Self> {
        let health = Health::starting();
        Arc::new(Self {
            state_dir,
            started_at_ms: super::unix_ms(),
            channels: Mutex::new(
                channels
                    .into_iter()
                    .map(|(p, a)| (p, a, health.clone()))
                    .collect(),
            ),
        })
    }

    /// Adds a channel started after start-up (config reload); returns its
    /// index.
    pub(crate) fn add(&self, platform: String, account: String) -> usize {
        let mut channels = self.channels.lock().unwrap_or_else(PoisonError::into_inner);
        channels.push((platform, account, Health::starting()));
        channels.len() - 1
    }

    /// Updates channel `index`'s health.
    pub(crate) fn update(&self, index: usize, change: impl FnOnce(&mut Health)) {
        let mut channels = self.channels.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some((_, _, health)) = channels.get_mut(index) {
            change(health);
        }
    }

    /// `(platform:account, state)` of every channel, for `/status`.
    pub(crate) fn states(&self) -> Vec<(String, String)> {
        let channels = self.channels.lock().unwrap_or_else(PoisonError::into_inner);
        channels
            .iter()
            .map(|(platform, account, h)| (format!("{platform}:{account}"), h.state.clone()))
            .collect()
    }

    /// Seconds since the gateway started.
    pub(crate) fn uptime_secs(&self) -> u64 {
        super::unix_ms().saturating_sub(self.started_at_ms) / 1000
    }

    fn snapshot(&self, now: Instant) -> GatewayStatus {
        let channels = self.channels.lock().unwrap_or_else(PoisonError::into_inner);
        let ago = |at: Option<Instant>| {
            at.map(|at| {
                u64::try_from(now.saturating_duration_since(at).as_millis()).unwrap_or(u64::MAX)
            })
        };
        GatewayStatus {
            pid: std::process::id(),
            started_at_ms: self.started_at_ms,
            updated_at_ms: super::unix_ms(),
            channels: channels
                .iter()
                .map(|(platform, account, h)| {
                    let mut c = ChannelStatus::new(platform, account);
                    c.state.clone_from(&h.state);
                    c.connected = h.connected;
                    c.session_id_present = h.session;
                    c.since_last_event_ms = ago(h.last_event_at);
                    c.since_last_ack_or_pong_ms = ago(h.last_ack_at);
                    c.reconnects = h.reconnects;
                    c.last_error.clone_from(&h.last_error);
                    c.messages_in = h.messages_in;
                    c.replies_out = h.replies_out;
                    c.content_seen = h.content_seen;
                    c.notices.clone_from(&h.notices);
                    c
                })
                .collect(),
        }
    }

    /// Writes the file now (off the executor).
    pub(crate) async fn write(self: &Arc<Self>) {
        let status = self.snapshot(Instant::now());
        let dir = self.state_dir.clone();
        match crate::workers::run(move || status_file::write_atomic(&dir, &status)).await {
            Ok(Ok(())) => {}
            Ok(Err(error)) => debug!("cannot write the status file: {error}"),
            Err(gone) => debug!("cannot write the status file: {gone}"),
        }
    }

    /// Rewrites the file every few seconds, forever.
    pub(crate) async fn run_writer(self: Arc<Self>) {
        loop {
            self.write().await;
            smol::Timer::after(WRITE_EVERY).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_outage_counts_once_however_many_attempts_it_takes() {
        let board = StatusBoard::new(
            PathBuf::from("/nonexistent"),
            vec![("d".into(), "a".into())],
        );
        let mut h = board.channels.lock().unwrap().remove(0).2;
        // Connecting, then up.
        h.set_link(true, false);
        h.set_link(true, true);
        assert_eq!(h.reconnects, 0);
        // Lost; three attempts (socket open, session not live) fail.
        for _ in 0..3 {
            h.set_link(false, false);
            h.set_link(true, false);
        }
        h.set_link(true, true);
        assert_eq!(h.reconnects, 1);
        // A second outage.
        h.set_link(false, false);
        h.set_link(true, true);
        assert_eq!(h.reconnects, 2);
        assert!(h.connected && h.up);
    }
}
