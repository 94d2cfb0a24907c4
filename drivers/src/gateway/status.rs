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
    pub(crate) session: bool,
    pub(crate) last_event_at: Option<Instant>,
    pub(crate) last_ack_at: Option<Instant>,
    pub(crate) reconnects: u64,
    pub(crate) last_error: Option<String>,
    pub(crate) messages_in: u64,
    pub(crate) replies_out: u64,
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
        let health = Health {
            state: "starting".to_owned(),
            connected: false,
            session: false,
            last_event_at: None,
            last_ack_at: None,
            reconnects: 0,
            last_error: None,
            messages_in: 0,
            replies_out: 0,
        };
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
                    c
                })
                .collect(),
        }
    }

    /// Writes the file now (off the executor).
    pub(crate) async fn write(self: &Arc<Self>) {
        let status = self.snapshot(Instant::now());
        let dir = self.state_dir.clone();
        if let Err(error) = smol::unblock(move || status_file::write_atomic(&dir, &status)).await {
            debug!("cannot write the status file: {error}");
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
