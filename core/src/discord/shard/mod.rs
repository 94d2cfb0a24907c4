//! [`Shard`]: the sans-IO state machine of one Discord gateway shard.
//!
//! It decides when to heartbeat, whether to resume or identify, how long to
//! back off, which URL to dial and when a failure is fatal; the driver only
//! carries out its [`Output`]s. See the [module docs](super) for the driving
//! contract. The whole lifecycle is in [`ShardState`]; the transitions live
//! in the `handle_*` methods below and in [`connection`] (frames, handshake,
//! heartbeats, and `Shard::reconnect`, the one place every lost connection
//! goes through). [`api`] holds the types a driver sees.

mod api;
mod connection;

pub use api::*;

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use super::close::{close_action, CloseAction};
use super::frame::{
    ConnectionProperties, Dispatch, FrameError, GatewayCommand, GatewayFrame, Identify,
    OutgoingFrame, PresenceUpdate, Resume, MAX_PAYLOAD_BYTES,
};
use super::heartbeat::{Beat, Heartbeater};
use super::inflate::{InflateError, ZlibStream};
use super::limit::{heartbeat_reserve, SendLimiter, IDENTIFY_INTERVAL};
use super::model::{GatewayBot, Ready};
use crate::backoff::{Backoff, Jitter};
use crate::secret::Secret;
use crate::timers::TimerTable;

/// GUILDS | GUILD_MESSAGES | GUILD_MESSAGE_REACTIONS | DIRECT_MESSAGES |
/// DIRECT_MESSAGE_REACTIONS | MESSAGE_CONTENT.
pub const DEFAULT_INTENTS: u64 = 1 | 512 | 1024 | 4096 | 8192 | 32768;
/// The gateway API version krill speaks.
pub const API_VERSION: u8 = 10;
/// The close code krill uses to drop a connection but keep the session.
pub const RESUMABLE_CLOSE: u16 = 4000;

/// No Hello this long after the socket opened: drop and reconnect.
const HELLO_TIMEOUT: Duration = Duration::from_secs(20);
/// A connection that stayed up this long after Hello ends the run of
/// failures: the backoff starts again from its base (an outage's backoff
/// never outlives the outage).
const STABLE_AFTER: Duration = Duration::from_secs(2);
/// Resumes sent without a RESUMED before the shard identifies afresh.
const MAX_FAILED_RESUMES: u32 = 3;
/// Consecutive connect failures to the main URL before re-fetching it.
const CONNECT_FAILURES_BEFORE_REFETCH: u32 = 3;
/// Reconnect backoff: first delay (±50 %), and cap.
const BACKOFF_BASE: Duration = Duration::from_secs(1);
const BACKOFF_CAP: Duration = Duration::from_secs(60);
const BACKOFF_JITTER: f64 = 0.5;
/// Discord: after op 9, wait 1-5 s before identifying.
const INVALID_SESSION_WAIT_MIN: Duration = Duration::from_secs(1);
const INVALID_SESSION_WAIT_SPREAD: Duration = Duration::from_secs(4);
/// Bounds on the wait for `session_start_limit` to reset.
const START_LIMIT_WAIT_MIN: Duration = Duration::from_secs(5);
const START_LIMIT_WAIT_MAX: Duration = Duration::from_secs(24 * 3600);
/// Commands queued behind the rate limit, at most.
const MAX_QUEUED_COMMANDS: usize = 64;

/// The shard's timers; `poll_timeout` is the earliest.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Timer {
    /// Next connect / gateway fetch.
    Backoff,
    /// Hello must arrive before this.
    HelloDeadline,
    /// Next heartbeat (or zombie check).
    Heartbeat,
    /// Identify slot (5 s per bucket, or the driver's hold).
    IdentifyWait,
    /// Queued commands may go.
    SendQueue,
}

/// The session to resume.
#[derive(Debug, Clone)]
struct Session {
    id: String,
    /// READY's `resume_gateway_url` (without query string).
    resume_url: Option<String>,
}

/// What a shard needs to resume its session after a restart of the
/// process: saved by the driver as the shard advances
/// ([`Shard::resume_state`]) and handed back before start
/// ([`Shard::restore`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResumeState {
    /// READY's `session_id`.
    pub session_id: String,
    /// READY's `resume_gateway_url` (without query string), if it gave one.
    pub resume_gateway_url: Option<String>,
    /// The last sequence number received.
    pub seq: Option<u64>,
}

/// `session_start_limit` as last fetched, counted down per Identify.
#[derive(Debug, Clone, Copy)]
struct StartLimit {
    remaining: u32,
    reset_at: Instant,
}

/// Per-connection state: a new one for every socket.
#[derive(Debug)]
struct Connection {
    heartbeat: Option<Heartbeater>,
    limiter: SendLimiter,
    inflater: Option<ZlibStream>,
    /// Identify or Resume sent on this connection.
    handshake_sent: bool,
    queue: VecDeque<OutgoingFrame>,
    replayed: u64,
}

/// How long to wait before reconnecting.
#[derive(Debug, Clone, Copy)]
enum Delay {
    /// A failure (transport error, zombie, remote close, connect failure):
    /// the backoff for the failures in a row so far.
    Backoff,
    /// Discord's instruction (op 7, op 9 `d: true`): at once, unless the
    /// instructions themselves storm (they arrive before the connection was
    /// stable), then like a failure.
    Instructed,
    /// op 9 `d: false`: Discord's documented 1-5 s before a fresh Identify,
    /// whatever the backoff.
    InvalidSession,
}

/// One Discord gateway shard. See the [module docs](super) for how to drive it.
#[derive(Debug)]
pub struct Shard {
    config: ShardConfig,
    state: ShardState,
    timers: TimerTable<Timer>,
    outputs: VecDeque<Output>,
    jitter: Jitter,
    backoff: Backoff,
    // Gateway.
    gateway_url: Option<String>,
    refetch: bool,
    max_concurrency: u32,
    start_limit: Option<StartLimit>,
    // Session.
    session: Option<Session>,
    sequence: Option<u64>,
    bot_user_id: Option<String>,
    use_resume_url: bool,
    failed_resumes: u32,
    // Connections.
    conn: Option<Connection>,
    dialing_resume_url: bool,
    connect_failures: u32,
    connections: u64,
    /// When the current connection got Hello.
    hello_at: Option<Instant>,
    last_identify: Option<Instant>,
    identify_hold: Option<Instant>,
    last_ack: Option<Instant>,
    last_dispatch: Option<Instant>,
}

impl Shard {
    // ----- construction and getters -----

    /// A shard in [`ShardState::Idle`]; the same `seed` and inputs replay
    /// the same jitter and backoff.
    pub fn new(config: ShardConfig, seed: u64) -> Self {
        let mut jitter = Jitter::new(seed);
        let backoff = Backoff::new(BACKOFF_BASE, BACKOFF_CAP, BACKOFF_JITTER, jitter.next_u64());
        let gateway_url = config.gateway_url.clone();
        Self {
            config,
            state: ShardState::Idle,
            timers: TimerTable::new(),
            outputs: VecDeque::new(),
            jitter,
            backoff,
            gateway_url,
            refetch: false,
            max_concurrency: 1,
            start_limit: None,
            session: None,
            sequence: None,
            bot_user_id: None,
            use_resume_url: false,
            failed_resumes: 0,
            conn: None,
            dialing_resume_url: false,
            connect_failures: 0,
            connections: 0,
            hello_at: None,
            last_identify: None,
            identify_hold: None,
            last_ack: None,
            last_dispatch: None,
        }
    }

    /// The lifecycle state.
    pub fn state(&self) -> ShardState {
        self.state
    }

    /// The configuration.
    pub fn config(&self) -> &ShardConfig {
        &self.config
    }

    /// The session id, once READY and until the session is invalidated.
    pub fn session_id(&self) -> Option<&str> {
        self.session.as_ref().map(|s| s.id.as_str())
    }

    /// The last sequence number received (what a heartbeat / Resume carries).
    pub fn sequence(&self) -> Option<u64> {
        self.sequence
    }

    /// The bot's user id, from READY.
    pub fn bot_user_id(&self) -> Option<&str> {
        self.bot_user_id.as_deref()
    }

    /// `max_concurrency` from the last gateway fetch (1 before any).
    pub fn max_concurrency(&self) -> u32 {
        self.max_concurrency
    }

    /// True when the next handshake will be an Identify (no session to resume).
    pub fn will_identify(&self) -> bool {
        self.session.is_none()
    }

    /// Sockets opened so far.
    pub fn connections(&self) -> u64 {
        self.connections
    }

    /// When the last heartbeat ACK arrived (any connection).
    pub fn last_ack_at(&self) -> Option<Instant> {
        self.last_ack
    }

    /// Time since the last heartbeat ACK.
    pub fn since_last_ack(&self, now: Instant) -> Option<Duration> {
        self.last_ack.map(|at| now.saturating_duration_since(at))
    }

    /// Time since the last dispatch.
    pub fn since_last_dispatch(&self, now: Instant) -> Option<Duration> {
        self.last_dispatch
            .map(|at| now.saturating_duration_since(at))
    }

    /// Round trip of the last acknowledged heartbeat on this connection.
    pub fn latency(&self) -> Option<Duration> {
        self.conn
            .as_ref()
            .and_then(|c| c.heartbeat.as_ref())
            .and_then(Heartbeater::latency)
    }

    // ----- inputs -----

    /// Begins: emits `FetchGateway`, or `Connect` when a URL is configured.
    /// Only acts in [`ShardState::Idle`].
    pub fn start(&mut self, now: Instant) {
        if self.state == ShardState::Idle {
            self.begin_connect(now);
        }
    }

    /// The session to resume, while there is one: what a driver saves so
    /// that the next process resumes instead of identifying.
    pub fn resume_state(&self) -> Option<ResumeState> {
        let session = self.session.as_ref()?;
        Some(ResumeState {
            session_id: session.id.clone(),
            resume_gateway_url: session.resume_url.clone(),
            seq: self.sequence,
        })
    }

    /// Takes a saved session back before [`Shard::start`]: the first
    /// connection dials its resume URL and sends Resume (a refused resume
    /// falls back to Identify as usual). Ignored once started.
    pub fn restore(&mut self, state: ResumeState) {
        if self.state != ShardState::Idle || state.session_id.is_empty() {
            return;
        }
        self.session = Some(Session {
            id: state.session_id,
            resume_url: state.resume_gateway_url,
        });
        self.sequence = state.seq;
        self.use_resume_url = true;
    }

    /// Stops for good but keeps the session resumable: closes with
    /// [`RESUMABLE_CLOSE`] (never 1000/1001, which end the session), so the
    /// next process can resume it from [`Shard::resume_state`].
    pub fn suspend(&mut self, _now: Instant) {
        if matches!(self.state, ShardState::Stopped { .. }) {
            return;
        }
        if self.conn.is_some() {
            self.outputs.push_back(Output::Close {
                code: RESUMABLE_CLOSE,
            });
        }
        self.drop_connection();
        self.timers.clear_all();
        self.state = ShardState::Stopped { fatal: false };
    }

    /// Closes with 1000 (ending the session) and stops for good.
    pub fn shutdown(&mut self, _now: Instant) {
        if matches!(self.state, ShardState::Stopped { .. }) {
            return;
        }
        if self.state.is_connected() {
            self.outputs.push_back(Output::Close { code: 1000 });
        }
        self.drop_connection();
        self.timers.clear_all();
        self.state = ShardState::Stopped { fatal: false };
    }

    /// Do not send Identify before `at` (a driver running several shards
    /// passes [`IdentifyLimiter::next_allowed`](super::IdentifyLimiter::next_allowed)).
    pub fn hold_identify_until(&mut self, at: Instant) {
        self.identify_hold = Some(self.identify_hold.map_or(at, |h| h.max(at)));
        if self.timers.is_set(Timer::IdentifyWait) {
            let wait = self.identify_not_before().unwrap_or(at);
            self.timers.set(Timer::IdentifyWait, wait);
        }
    }

    /// The result of `GET /gateway/bot`.
    pub fn handle_gateway_fetched(
        &mut self,
        now: Instant,
        result: Result<GatewayBot, GatewayFetchError>,
    ) {
        if self.state != ShardState::FetchingGateway {
            return;
        }
        match result {
            Ok(bot) => {
                self.gateway_url = Some(bot.url);
                self.connect_failures = 0;
                if let Some(limit) = bot.session_start_limit {
                    self.max_concurrency = limit.max_concurrency.max(1);
                    let wait = Duration::from_millis(limit.reset_after)
                        .clamp(START_LIMIT_WAIT_MIN, START_LIMIT_WAIT_MAX);
                    self.start_limit = Some(StartLimit {
                        remaining: limit.remaining,
                        reset_at: after(now, wait),
                    });
                }
                self.begin_connect(now);
            }
            Err(GatewayFetchError::Unauthorized) => self.stop_fatal(
                None,
                "Discord rejected the bot token (401 on GET /gateway/bot): \
                 check DISCORD_BOT_TOKEN / channels.discord.token"
                    .to_owned(),
            ),
            Err(GatewayFetchError::Transient { retry_after }) => {
                let delay = self
                    .backoff
                    .next_delay()
                    .max(retry_after.unwrap_or_default().min(START_LIMIT_WAIT_MAX));
                self.refetch = true;
                self.back_off(now, delay);
                self.emit(Event::GatewayFetchFailed { retry_in: delay });
            }
        }
    }

    /// The socket is open.
    pub fn handle_connected(&mut self, now: Instant) {
        if self.state != ShardState::Connecting {
            return;
        }
        self.connections += 1;
        self.conn = Some(Connection {
            heartbeat: None,
            limiter: SendLimiter::new(),
            inflater: self.config.compress.then(ZlibStream::new),
            handshake_sent: false,
            queue: VecDeque::new(),
            replayed: 0,
        });
        self.state = ShardState::AwaitingHello;
        self.timers
            .set(Timer::HelloDeadline, after(now, HELLO_TIMEOUT));
    }

    /// Dialing failed (DNS, TCP, TLS, websocket handshake, or the driver's
    /// connect timeout).
    pub fn handle_connect_failed(&mut self, now: Instant) {
        if self.state != ShardState::Connecting {
            return;
        }
        if self.dialing_resume_url {
            // twilight PR #1942: the resume URL may be gone; use the main one.
            self.use_resume_url = false;
        } else {
            self.connect_failures += 1;
            if self.connect_failures >= CONNECT_FAILURES_BEFORE_REFETCH {
                self.connect_failures = 0;
                self.refetch = true;
            }
        }
        let resume = self.session.is_some();
        self.reconnect(now, CloseCause::ConnectFailed, resume, None, Delay::Backoff);
    }

    /// A text frame arrived.
    pub fn handle_text_frame(&mut self, now: Instant, text: &str) {
        if !self.state.is_connected() {
            return;
        }
        match GatewayFrame::parse(text) {
            Ok(frame) => self.handle_frame(now, frame),
            Err(error) => {
                if let Some(seq) = error.seq() {
                    self.sequence = Some(seq);
                }
                self.emit(Event::MalformedFrame { error });
            }
        }
    }

    /// A binary frame arrived: one zlib-stream chunk.
    pub fn handle_binary_frame(&mut self, now: Instant, bytes: &[u8]) {
        if !self.state.is_connected() {
            return;
        }
        let Some(conn) = self.conn.as_mut() else {
            return;
        };
        let Some(inflater) = conn.inflater.as_mut() else {
            self.emit(Event::MalformedFrame {
                error: FrameError::Envelope {
                    message: "binary frame without compress=zlib-stream".to_owned(),
                },
            });
            return;
        };
        match inflater.push(bytes) {
            Ok(None) => {}
            Ok(Some(text)) => self.handle_text_frame(now, &text),
            Err(error) => {
                let resume = self.session.is_some();
                self.reconnect(
                    now,
                    CloseCause::CorruptStream { error },
                    resume,
                    Some(RESUMABLE_CLOSE),
                    Delay::Backoff,
                );
            }
        }
    }

    /// The socket closed: `Some((code, reason))` for a close frame, `None`
    /// for a reset / transport error.
    pub fn handle_closed(&mut self, now: Instant, close: Option<(u16, String)>) {
        if self.state == ShardState::Connecting {
            self.handle_connect_failed(now);
            return;
        }
        if !self.state.is_connected() {
            return;
        }
        let Some((code, reason)) = close else {
            let resume = self.session.is_some();
            self.reconnect(
                now,
                CloseCause::TransportError,
                resume,
                None,
                Delay::Backoff,
            );
            return;
        };
        let cause = CloseCause::Remote { code, reason };
        match close_action(code) {
            CloseAction::Fatal(message) => {
                self.drop_connection();
                self.stop_fatal(Some(code), message.to_owned());
            }
            CloseAction::Identify => self.reconnect(now, cause, false, None, Delay::Backoff),
            CloseAction::Resume => {
                let resume = self.session.is_some();
                self.reconnect(now, cause, resume, None, Delay::Backoff);
            }
        }
    }

    /// Acts on every timer due at `now` (a spurious call does nothing).
    pub fn handle_timeout(&mut self, now: Instant) {
        while let Some(timer) = self.timers.pop_expired(now) {
            match timer {
                Timer::Backoff => {
                    if matches!(self.state, ShardState::BackingOff { .. }) {
                        self.begin_connect(now);
                    }
                }
                Timer::HelloDeadline => {
                    if self.state == ShardState::AwaitingHello {
                        let resume = self.session.is_some();
                        self.reconnect(
                            now,
                            CloseCause::HelloTimeout,
                            resume,
                            Some(RESUMABLE_CLOSE),
                            Delay::Backoff,
                        );
                    }
                }
                Timer::Heartbeat => self.heartbeat_due(now),
                Timer::IdentifyWait => {
                    if self.state == ShardState::Identifying {
                        self.try_identify(now);
                    }
                }
                Timer::SendQueue => self.flush_queue(now),
            }
        }
    }

    /// Sends an application command (presence, request guild members).
    ///
    /// Refuses payloads over 4096 bytes ([`SendError::TooLarge`]) and any
    /// command while the session is not [`ShardState::Ready`]
    /// ([`SendError::NotReady`]; the caller retries after READY/RESUMED).
    /// Within budget it is sent at once; beyond the per-connection budget
    /// (120 per 60 s minus the heartbeat reserve) it is **queued** and sent
    /// when the window frees (`Ok` either way). At most 64 commands wait
    /// ([`SendError::QueueFull`]); queued commands are dropped with the
    /// connection ([`Event::CommandsDropped`]).
    pub fn send_command(&mut self, now: Instant, command: GatewayCommand) -> Result<(), SendError> {
        let frame = OutgoingFrame::command(&command);
        if frame.len() > MAX_PAYLOAD_BYTES {
            return Err(SendError::TooLarge {
                size: frame.len(),
                limit: MAX_PAYLOAD_BYTES,
            });
        }
        if self.state != ShardState::Ready {
            return Err(SendError::NotReady);
        }
        let Some(conn) = self.conn.as_mut() else {
            return Err(SendError::NotReady);
        };
        if conn.queue.len() >= MAX_QUEUED_COMMANDS {
            return Err(SendError::QueueFull {
                queued: conn.queue.len(),
            });
        }
        conn.queue.push_back(frame);
        self.flush_queue(now);
        Ok(())
    }

    // ----- outputs -----

    /// The next thing for the driver to do; drain until `None`.
    pub fn poll_output(&mut self) -> Option<Output> {
        self.outputs.pop_front()
    }

    /// The earliest timer; call `handle_timeout` then.
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.timers.earliest()
    }
}

/// `base` + `/?v=10&encoding=json[&compress=zlib-stream]` (twilight PR #1901:
/// the resume URL needs the query re-appended too).
pub fn gateway_url(base: &str, compress: bool) -> String {
    let compress = if compress {
        "&compress=zlib-stream"
    } else {
        ""
    };
    if base.contains('?') {
        format!("{base}&v={API_VERSION}&encoding=json{compress}")
    } else {
        format!(
            "{}/?v={API_VERSION}&encoding=json{compress}",
            base.trim_end_matches('/')
        )
    }
}

/// `now + d`, saturating at `now` on (practically impossible) overflow.
fn after(now: Instant, d: Duration) -> Instant {
    now.checked_add(d).unwrap_or(now)
}
