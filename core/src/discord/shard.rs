//! [`Shard`]: the sans-IO state machine of one Discord gateway shard.
//!
//! It decides when to heartbeat, whether to resume or identify, how long to
//! back off, which URL to dial and when a failure is fatal; the driver only
//! carries out its [`Output`]s. See the [module docs](super) for the driving
//! contract. The whole lifecycle is in [`ShardState`]; the transitions live
//! in the `handle_*` methods below and in the private `Shard::reconnect`, the one place
//! every lost connection goes through.

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

/// Configuration of one shard.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct ShardConfig {
    /// The bot token (without `Bot `).
    pub token: Secret,
    /// Gateway intents; default [`DEFAULT_INTENTS`].
    pub intents: u64,
    /// This shard's id.
    pub shard_id: u32,
    /// Total shards (1 = unsharded).
    pub shard_count: u32,
    /// Use `compress=zlib-stream` (binary frames).
    pub compress: bool,
    /// A cached gateway URL (as `GET /gateway/bot` returns it): when set,
    /// `start` dials it without fetching first.
    pub gateway_url: Option<String>,
    /// Presence sent in Identify.
    pub presence: Option<PresenceUpdate>,
    /// Identify `large_threshold`.
    pub large_threshold: Option<u32>,
    /// Identify `properties.os`.
    pub os: String,
}

impl ShardConfig {
    /// Shard 0 of 1 with default intents, no compression.
    pub fn new(token: impl Into<Secret>) -> Self {
        Self {
            token: token.into(),
            intents: DEFAULT_INTENTS,
            shard_id: 0,
            shard_count: 1,
            compress: false,
            gateway_url: None,
            presence: None,
            large_threshold: None,
            os: std::env::consts::OS.to_owned(),
        }
    }
}

/// Where the shard is in its lifecycle.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ShardState {
    /// Built, `start` not called.
    Idle,
    /// Waiting for the driver's `GET /gateway/bot` result.
    FetchingGateway,
    /// Waiting for the driver to open the socket.
    Connecting,
    /// Socket open, waiting for Hello.
    AwaitingHello,
    /// Hello received; Identify sent or waiting for its slot; waiting for READY.
    Identifying,
    /// Resume sent; replaying until RESUMED.
    Resuming,
    /// The session is live.
    Ready,
    /// Waiting before the next connect (or gateway fetch).
    BackingOff {
        /// When the next attempt starts.
        until: Instant,
    },
    /// Stopped for good: by `shutdown` (`fatal: false`) or a fatal error.
    Stopped {
        /// True when stopped by a fatal error.
        fatal: bool,
    },
}

impl ShardState {
    /// True while a socket is open (from `handle_connected` until it is lost).
    pub fn is_connected(&self) -> bool {
        matches!(
            self,
            Self::AwaitingHello | Self::Identifying | Self::Resuming | Self::Ready
        )
    }
}

/// The driver's `GET /gateway/bot` failure.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum GatewayFetchError {
    /// 401: the token is rejected. Fatal.
    #[error("the token was rejected (401)")]
    Unauthorized,
    /// Network error, 5xx, 429...: retried with backoff (at least `retry_after`).
    #[error("transient failure")]
    Transient {
        /// A server-given wait (429 `retry_after`).
        retry_after: Option<Duration>,
    },
}

/// Why `send_command` refused a command.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SendError {
    /// The payload is over 4096 bytes; Discord would close with 4002.
    #[error("gateway payload of {size} bytes is over the {limit}-byte limit")]
    TooLarge {
        /// The payload size.
        size: usize,
        /// The limit.
        limit: usize,
    },
    /// The session is not Ready (connecting, resuming, backing off, stopped).
    #[error("the shard is not ready")]
    NotReady,
    /// Too many commands already wait for the rate limit.
    #[error("{queued} commands already wait for the gateway rate limit")]
    QueueFull {
        /// Commands waiting.
        queued: usize,
    },
}

/// Why a connection ended.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum CloseCause {
    /// Discord sent a close frame.
    Remote {
        /// The close code.
        code: u16,
        /// The close reason.
        reason: String,
    },
    /// The socket died without a close frame (TCP reset, transport error).
    TransportError,
    /// Dial, TLS or handshake failure, or the connect timeout.
    ConnectFailed,
    /// No ACK between two heartbeats.
    Zombie,
    /// op 7.
    ReconnectRequested,
    /// op 9.
    InvalidSession {
        /// `d`.
        resumable: bool,
    },
    /// No Hello in time after the socket opened.
    HelloTimeout,
    /// The zlib stream could not be inflated.
    CorruptStream {
        /// What went wrong.
        error: InflateError,
    },
}

/// Something the application should know.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Event {
    /// READY: a new session (the bot user, session id, guild list).
    Ready(Box<Ready>),
    /// RESUMED: the resume finished; `replayed` dispatches came before it.
    Resumed {
        /// Dispatches replayed on this connection before RESUMED.
        replayed: u64,
    },
    /// Any other dispatch, in order.
    Dispatch(Dispatch),
    /// A connection ended; the shard reconnects after `reconnect_in`.
    Closed {
        /// Why.
        cause: CloseCause,
        /// True when the next connection resumes (false: identify).
        resume: bool,
        /// The wait before the next attempt.
        reconnect_in: Duration,
    },
    /// The shard stopped for good; `message` says what to fix.
    Fatal {
        /// The close code, or `None` for a 401 on `GET /gateway/bot` or an
        /// Identify that cannot be sent.
        code: Option<u16>,
        /// An actionable message.
        message: String,
    },
    /// A frame did not parse; the session goes on.
    MalformedFrame {
        /// The parse error.
        error: FrameError,
    },
    /// An opcode krill does not know (ignored).
    UnknownOpcode {
        /// The opcode.
        op: u64,
    },
    /// `GET /gateway/bot` failed; retried after `retry_in`.
    GatewayFetchFailed {
        /// The wait before the retry.
        retry_in: Duration,
    },
    /// `session_start_limit.remaining` is 0: no Identify until it resets.
    SessionStartLimited {
        /// The wait.
        retry_in: Duration,
    },
    /// Commands queued behind the rate limit were dropped with the connection.
    CommandsDropped {
        /// How many.
        count: usize,
    },
}

/// What the driver must do.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Output {
    /// Run `GET /gateway/bot` and call `handle_gateway_fetched`.
    FetchGateway,
    /// Open a websocket to `url` (10 s timeout, then `handle_connect_failed`).
    Connect {
        /// The full URL, query string included.
        url: String,
    },
    /// Send this text frame.
    Send(OutgoingFrame),
    /// Send a close frame with `code` and drop the socket at once; report
    /// nothing more about that socket.
    Close {
        /// The close code.
        code: u16,
    },
    /// Hand to the application.
    Event(Event),
}

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

    // ----- private: frames -----

    fn handle_frame(&mut self, now: Instant, frame: GatewayFrame) {
        match frame {
            GatewayFrame::Hello { heartbeat_interval } => {
                self.handle_hello(now, heartbeat_interval)
            }
            GatewayFrame::HeartbeatAck => {
                if let Some(hb) = self.conn.as_mut().and_then(|c| c.heartbeat.as_mut()) {
                    hb.acked(now);
                    self.last_ack = Some(now);
                }
            }
            GatewayFrame::Heartbeat { .. } => {
                // Discord asks for a heartbeat now; the cadence restarts from here.
                self.send_heartbeat(now);
                if let Some(interval) = self.heartbeat_interval() {
                    self.timers.set(Timer::Heartbeat, after(now, interval));
                }
            }
            GatewayFrame::Reconnect => {
                let resume = self.session.is_some();
                self.reconnect(
                    now,
                    CloseCause::ReconnectRequested,
                    resume,
                    Some(RESUMABLE_CLOSE),
                    Delay::Instructed,
                );
            }
            GatewayFrame::InvalidSession { resumable } => {
                let (resume, delay) = if resumable && self.session.is_some() {
                    (true, Delay::Instructed)
                } else {
                    (false, Delay::InvalidSession)
                };
                self.reconnect(
                    now,
                    CloseCause::InvalidSession { resumable },
                    resume,
                    Some(RESUMABLE_CLOSE),
                    delay,
                );
            }
            GatewayFrame::Dispatch { seq, event } => self.handle_dispatch(now, seq, event),
            GatewayFrame::Unknown { op, .. } => self.emit(Event::UnknownOpcode { op }),
            // Client opcodes echoed by a confused peer: nothing to do.
            _ => {}
        }
    }

    fn handle_hello(&mut self, now: Instant, interval: Duration) {
        if self.state != ShardState::AwaitingHello {
            return;
        }
        self.timers.clear(Timer::HelloDeadline);
        self.connect_failures = 0;
        self.hello_at = Some(now);
        let heartbeat = Heartbeater::new(interval);
        let first = self.jitter.fraction_of(heartbeat.interval());
        if let Some(conn) = self.conn.as_mut() {
            conn.heartbeat = Some(heartbeat);
        }
        self.timers.set(Timer::Heartbeat, after(now, first));
        match self.session.clone() {
            Some(session) => self.send_resume(now, session.id),
            None => {
                self.state = ShardState::Identifying;
                self.try_identify(now);
            }
        }
    }

    fn handle_dispatch(&mut self, now: Instant, seq: Option<u64>, event: Dispatch) {
        if seq.is_some() {
            self.sequence = seq;
        }
        self.last_dispatch = Some(now);
        match event {
            // Before Hello nothing was sent: a READY/RESUMED now is a peer's
            // protocol violation and must not skip the handshake (or its timers).
            Dispatch::Ready(_) | Dispatch::Resumed if self.state == ShardState::AwaitingHello => {}
            Dispatch::Ready(ready) => {
                self.session = Some(Session {
                    id: ready.session_id.clone(),
                    resume_url: ready.resume_gateway_url.clone(),
                });
                self.bot_user_id = Some(ready.user.id.clone());
                self.use_resume_url = true;
                self.failed_resumes = 0;
                self.state = ShardState::Ready;
                self.emit(Event::Ready(ready));
            }
            Dispatch::Resumed => {
                let replayed = self.conn.as_ref().map_or(0, |c| c.replayed);
                self.failed_resumes = 0;
                self.state = ShardState::Ready;
                self.emit(Event::Resumed { replayed });
            }
            other => {
                if self.state == ShardState::Resuming {
                    if let Some(conn) = self.conn.as_mut() {
                        conn.replayed += 1;
                    }
                }
                self.emit(Event::Dispatch(other));
            }
        }
    }

    // ----- private: sending -----

    fn try_identify(&mut self, now: Instant) {
        match self.identify_not_before().filter(|at| *at > now) {
            Some(at) => self.timers.set(Timer::IdentifyWait, at),
            None => self.send_identify(now),
        }
    }

    /// The earliest an Identify may go: 5 s after this shard's last one, and
    /// not before the driver's hold.
    fn identify_not_before(&self) -> Option<Instant> {
        let own = self
            .last_identify
            .and_then(|at| at.checked_add(IDENTIFY_INTERVAL));
        match (own, self.identify_hold) {
            (Some(a), Some(b)) => Some(a.max(b)),
            (a, b) => a.or(b),
        }
    }

    fn send_identify(&mut self, now: Instant) {
        if self.conn.as_ref().is_none_or(|c| c.handshake_sent) {
            return;
        }
        let identify = Identify {
            token: self.config.token.clone(),
            intents: self.config.intents,
            properties: ConnectionProperties {
                os: self.config.os.clone(),
                browser: "krill".to_owned(),
                device: "krill".to_owned(),
            },
            shard: Some([self.config.shard_id, self.config.shard_count]),
            presence: self.config.presence.clone(),
            large_threshold: self.config.large_threshold,
            compress: None,
        };
        let frame = OutgoingFrame::identify(&identify);
        if frame.len() > MAX_PAYLOAD_BYTES {
            self.outputs.push_back(Output::Close {
                code: RESUMABLE_CLOSE,
            });
            self.drop_connection();
            self.stop_fatal(
                None,
                format!(
                    "the Identify payload is {} bytes, over Discord's {MAX_PAYLOAD_BYTES}: \
                     shorten the configured presence",
                    frame.len()
                ),
            );
            return;
        }
        self.timers.clear(Timer::IdentifyWait);
        self.last_identify = Some(now);
        self.identify_hold = None;
        if let Some(limit) = self.start_limit.as_mut() {
            limit.remaining = limit.remaining.saturating_sub(1);
        }
        self.send_handshake(now, frame);
    }

    fn send_resume(&mut self, now: Instant, session_id: String) {
        let resume = Resume {
            token: self.config.token.clone(),
            session_id,
            seq: self.sequence.unwrap_or(0),
        };
        self.failed_resumes += 1;
        self.state = ShardState::Resuming;
        self.send_handshake(now, OutgoingFrame::resume(&resume));
    }

    fn send_handshake(&mut self, now: Instant, frame: OutgoingFrame) {
        let Some(conn) = self.conn.as_mut() else {
            return;
        };
        // A fresh connection has used at most a few heartbeats of its budget.
        if conn.handshake_sent || !conn.limiter.allows(now, 0) {
            return;
        }
        conn.handshake_sent = true;
        conn.limiter.record(now);
        self.outputs.push_back(Output::Send(frame));
    }

    fn heartbeat_interval(&self) -> Option<Duration> {
        self.conn
            .as_ref()
            .and_then(|c| c.heartbeat.as_ref())
            .map(Heartbeater::interval)
    }

    fn heartbeat_due(&mut self, now: Instant) {
        let Some(hb) = self.conn.as_ref().and_then(|c| c.heartbeat.as_ref()) else {
            return;
        };
        let interval = hb.interval();
        match hb.on_timer() {
            Beat::Zombie => {
                let resume = self.session.is_some();
                self.reconnect(
                    now,
                    CloseCause::Zombie,
                    resume,
                    Some(RESUMABLE_CLOSE),
                    Delay::Backoff,
                );
            }
            Beat::Send => {
                self.send_heartbeat(now);
                self.timers.set(Timer::Heartbeat, after(now, interval));
            }
        }
    }

    /// Sends a heartbeat if the connection's budget allows (it always does
    /// unless the peer floods op 1).
    fn send_heartbeat(&mut self, now: Instant) {
        let seq = self.sequence;
        let Some(conn) = self.conn.as_mut() else {
            return;
        };
        if !conn.limiter.allows(now, 0) {
            return;
        }
        conn.limiter.record(now);
        if let Some(hb) = conn.heartbeat.as_mut() {
            hb.sent(now);
        }
        self.outputs
            .push_back(Output::Send(OutgoingFrame::heartbeat(seq)));
    }

    fn flush_queue(&mut self, now: Instant) {
        if self.state != ShardState::Ready {
            return;
        }
        let Some(conn) = self.conn.as_mut() else {
            return;
        };
        let reserve = conn
            .heartbeat
            .as_ref()
            .map_or(0, |hb| heartbeat_reserve(hb.interval()));
        while !conn.queue.is_empty() && conn.limiter.allows(now, reserve) {
            if let Some(frame) = conn.queue.pop_front() {
                conn.limiter.record(now);
                self.outputs.push_back(Output::Send(frame));
            }
        }
        if conn.queue.is_empty() {
            self.timers.clear(Timer::SendQueue);
        } else if let Some(at) = conn.limiter.next_free(now, reserve) {
            self.timers.set(Timer::SendQueue, at);
        }
    }

    // ----- private: lifecycle -----

    /// Fetches the gateway, waits for the identify budget, or dials.
    fn begin_connect(&mut self, now: Instant) {
        if self.session.is_none() {
            if let Some(limit) = self.start_limit.filter(|l| l.remaining == 0) {
                if now < limit.reset_at {
                    let wait = limit.reset_at - now;
                    self.refetch = true;
                    self.back_off(now, wait);
                    self.emit(Event::SessionStartLimited { retry_in: wait });
                    return;
                }
                self.refetch = true;
            }
        }
        let main_url = match self.gateway_url.clone() {
            Some(url) if !self.refetch => url,
            _ => {
                self.refetch = false;
                self.state = ShardState::FetchingGateway;
                self.outputs.push_back(Output::FetchGateway);
                return;
            }
        };
        let resume_url = self
            .session
            .as_ref()
            .filter(|_| self.use_resume_url)
            .and_then(|s| s.resume_url.clone());
        self.dialing_resume_url = resume_url.is_some();
        let base = resume_url.unwrap_or(main_url);
        let url = gateway_url(&base, self.config.compress);
        self.state = ShardState::Connecting;
        self.outputs.push_back(Output::Connect { url });
    }

    /// Every lost connection goes through here: emit our close (if we
    /// initiate it), forget the connection, decide resume or identify, pick
    /// the delay, report, and dial again or back off.
    fn reconnect(
        &mut self,
        now: Instant,
        cause: CloseCause,
        resume: bool,
        local_close: Option<u16>,
        delay: Delay,
    ) {
        if let Some(code) = local_close {
            self.outputs.push_back(Output::Close { code });
        }
        self.drop_connection();
        // Never loop on a resume that keeps failing (discordeno PR #3907).
        let resume = resume && self.failed_resumes < MAX_FAILED_RESUMES;
        if !resume {
            self.session = None;
            self.sequence = None;
            self.failed_resumes = 0;
        }
        // A connection that was stable ended the failures before it: only
        // the failures since count (issue 16: op 7 after op 7 waited 60 s).
        if let Some(hello) = self.hello_at.take() {
            if now.saturating_duration_since(hello) >= STABLE_AFTER {
                self.backoff.reset();
            }
        }
        let wait = match delay {
            Delay::Backoff => self.backoff.next_delay(),
            Delay::Instructed => {
                let first = self.backoff.attempts() == 0;
                let wait = self.backoff.next_delay();
                if first {
                    Duration::ZERO
                } else {
                    wait
                }
            }
            Delay::InvalidSession => {
                INVALID_SESSION_WAIT_MIN + self.jitter.fraction_of(INVALID_SESSION_WAIT_SPREAD)
            }
        };
        self.emit(Event::Closed {
            cause,
            resume,
            reconnect_in: wait,
        });
        if wait.is_zero() {
            self.begin_connect(now);
        } else {
            self.back_off(now, wait);
        }
    }

    /// Forgets the current socket and its timers.
    fn drop_connection(&mut self) {
        for timer in [
            Timer::HelloDeadline,
            Timer::Heartbeat,
            Timer::IdentifyWait,
            Timer::SendQueue,
        ] {
            self.timers.clear(timer);
        }
        if let Some(conn) = self.conn.take() {
            if !conn.queue.is_empty() {
                self.emit(Event::CommandsDropped {
                    count: conn.queue.len(),
                });
            }
        }
    }

    fn back_off(&mut self, now: Instant, wait: Duration) {
        let until = after(now, wait);
        self.state = ShardState::BackingOff { until };
        self.timers.set(Timer::Backoff, until);
    }

    fn stop_fatal(&mut self, code: Option<u16>, message: String) {
        self.timers.clear_all();
        self.state = ShardState::Stopped { fatal: true };
        self.emit(Event::Fatal { code, message });
    }

    fn emit(&mut self, event: Event) {
        self.outputs.push_back(Output::Event(event));
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
