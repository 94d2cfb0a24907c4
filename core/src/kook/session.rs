//! [`Session`]: the sans-IO KOOK gateway machine. It decides when to fetch
//! the gateway, which URL to dial, when to PING, when a connection is dead,
//! whether to resume or start over, and in which order events are
//! delivered. The driver only obeys.
//!
//! # Driving contract
//! ```text
//! let mut session = Session::new(SessionConfig::default(), seed);
//! session.start(now);
//! loop {
//!     // 1. feed what happened (time never goes backwards)
//!     session.handle_gateway_fetched(now, result)  // after Output::FetchGateway
//!     session.handle_connected(now) | session.handle_connect_failed(now)
//!     session.handle_text_frame(now, &text) | session.handle_binary_frame(now, &bytes)
//!     session.handle_closed(now, close)            // None = the TCP stream dropped
//!     session.handle_timeout(now)                  // at or after poll_timeout()
//!     // 2. drain every output
//!     while let Some(out) = session.poll_output() { match out {
//!         Output::FetchGateway { compress } => GET {api}/gateway/index?compress=0|1, then report
//!         Output::Connect { url }  => open a WebSocket to url.expose() (the driver bounds the dial time)
//!         Output::Send(text)       => send a text frame (client frames are never compressed)
//!         Output::Close            => drop the socket now; do not report its closure
//!         Output::Event(event)     => route / log it
//!     }}
//!     // 3. sleep until session.poll_timeout() or the next socket message
//! }
//! ```
//! Inputs that do not fit the current state (a frame from a socket the
//! machine already dropped, a second `handle_connected`, a spurious
//! `handle_timeout`) are ignored. Nothing panics on any input.
//!
//! # Lifecycle (KOOK `websocket.md` § 连接流程, revised 2024-03)
//! Every transition is in one `match`, `Session::step`.
//!
//! | state | on | does | next |
//! |---|---|---|---|
//! | Idle | `start` | FetchGateway | FetchingGateway |
//! | FetchingGateway | fetched `Ok(url)` | Connect(url) | Connecting |
//! | FetchingGateway | `Transient` | wait 1, 2, 4 … 60 s (±10 %) | BackingOff → FetchingGateway |
//! | FetchingGateway | `Unauthorized` | Event::Fatal | Stopped |
//! | Connecting | connected | arm HELLO timer (6 s) | AwaitingHello |
//! | Connecting | failed (fresh dial) | retry after 2 s, then 4 s; then the gateway backoff | BackingOff |
//! | AwaitingHello | HELLO code 0 | first PING in 30 ± 5 s | Connected (or Resuming on a resume dial) |
//! | AwaitingHello | HELLO code ≠ 0 | Event::HelloRejected, Close, new gateway URL | BackingOff → FetchingGateway |
//! | AwaitingHello | 6 s / closed | Close; fresh dial: new gateway; resume dial: next attempt | BackingOff |
//! | Connected | PING timer | PING `{"s":2,"sn":N}`, PONG due in 6 s | Connected |
//! | Connected | PONG 6 s late | PING again, wait 2 s; PING again, wait 4 s | AwaitingPong |
//! | AwaitingPong | PONG | recovered | Connected |
//! | AwaitingPong | still nothing | Close; resume | BackingOff (8 s) |
//! | Connected | socket closed | resume | BackingOff (8 s) |
//! | BackingOff | 8 s, then 16 s | Connect(url + `resume=1&sn=..&session_id=..&sessionId=..`) | Connecting |
//! | Resuming | s=6 RESUME ACK | Event::ResumeAck | Connected |
//! | any resume step | fails twice | release held events, Event::ResumeFailed, new gateway, fresh session | BackingOff → FetchingGateway |
//! | AwaitingHello, Connected, … | s=5 RECONNECT | Event::Reconnect, Close, clear sn, session and buffer | FetchingGateway at once on a connection up 2 s since HELLO, else BackingOff → FetchingGateway |
//!
//! Decisions where the docs are loose (each has a test):
//! - Waits come *before* each retry: connect retries after 2 s and 4 s,
//!   resume dials after 8 s and 16 s, PONG probes wait 2 s then 4 s (so a
//!   dead link is declared 12 s after the unanswered PING).
//! - Going back to step 1 waits the gateway backoff (1 s first), so a
//!   server that sends RECONNECT or a bad HELLO right away cannot make the
//!   machine spin. The backoff resets on the first PONG (or RESUME ACK) of a
//!   connection, i.e. after a healthy session. A RECONNECT on a connection
//!   that has been up 2 s since its HELLO is an instruction, not a failure:
//!   the gateway is fetched at once and the backoff starts over.
//! - HELLO 40101/40102 (invalid token, verification failed) are reported
//!   with actionable text and a count of consecutive rejections, but are
//!   *not* fatal: the machine fetches a new gateway URL with backoff, as the
//!   official bots do. The authoritative token check is the gateway fetch,
//!   which needs the same token: if the token is really wrong that fetch
//!   answers 401 and the driver reports `GatewayFetchError::Unauthorized`,
//!   which *is* fatal (Event::Fatal, state Stopped). So a bad token ends in a
//!   clear fatal error, and a stale URL heals itself.
//! - On a resume connection the machine dials with the resume query and,
//!   after HELLO, also sends `{"s":4,"sn":N}` (s=4 RESUME). A HELLO with a
//!   different session id means the server started a new session: the old
//!   one is given up (Event::ResumeFailed) and `sn` restarts at 1.
//! - s=0 events before HELLO are ignored (the server resends what the next
//!   PING says is missing).
//! - Giving up a session after failed resumes first releases the events it
//!   holds (they are real events); RECONNECT drops them, as KOOK asks.

use std::collections::VecDeque;
use std::fmt;
use std::time::{Duration, Instant};

use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use serde_json::Value;

use super::frame::{self, FrameError, Signal};
use super::gateway::GatewayFetchError;
use super::inflate::DEFAULT_MAX_INFLATED_BYTES;
use super::payload::{EventBody, Message, SystemEvent, UnknownEvent};
use super::reorder::{Release, ReorderBuffer, ReorderLimits};
use crate::backoff::{Backoff, Jitter};
use crate::secret::Secret;
use crate::timers::TimerTable;

/// HELLO must arrive this long after the socket opens.
pub const HELLO_TIMEOUT: Duration = Duration::from_secs(6);
/// The PING period, before jitter.
pub const PING_INTERVAL: Duration = Duration::from_secs(30);
/// The PING period varies by up to this much either way (seeded).
pub const PING_JITTER: Duration = Duration::from_secs(5);
/// A PONG is overdue this long after a regular PING.
pub const PONG_TIMEOUT: Duration = Duration::from_secs(6);
/// After an overdue PONG: PING again and wait 2 s, then PING again and wait
/// 4 s; then the connection is dead.
pub const PONG_PROBE_WAITS: [Duration; 2] = [Duration::from_secs(2), Duration::from_secs(4)];
/// A failed fresh dial is retried after these waits, then the gateway is
/// fetched again.
pub const CONNECT_RETRY_DELAYS: [Duration; 2] = [Duration::from_secs(2), Duration::from_secs(4)];
/// A lost session is resumed after these waits (one dial each), then given
/// up.
pub const RESUME_DELAYS: [Duration; 2] = [Duration::from_secs(8), Duration::from_secs(16)];
/// The first gateway-fetch backoff delay.
pub const GATEWAY_BACKOFF_BASE: Duration = Duration::from_secs(1);
/// The gateway-fetch backoff never waits longer than this.
pub const GATEWAY_BACKOFF_CAP: Duration = Duration::from_secs(60);
/// The gateway-fetch backoff is spread by this fraction either way.
pub const GATEWAY_BACKOFF_JITTER: f64 = 0.1;
/// A connection up this long after its HELLO was sound: a RECONNECT (s=5)
/// on it is followed at once, with the backoff back at its base.
pub const STABLE_AFTER: Duration = Duration::from_secs(2);
/// Held events are released when the in-order `sn` has not moved for this
/// long (the official JS SDK's bound).
pub const GAP_TIMEOUT: Duration = Duration::from_secs(6);

/// How the session is set up.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct SessionConfig {
    /// Ask for `compress=1` (zlib binary frames). Default `false`
    /// (`channels.kook.compress`). Both kinds of frame are accepted either
    /// way.
    pub compress: bool,
    /// The reorder buffer's memory bound.
    pub reorder_limits: ReorderLimits,
    /// The most one binary frame may inflate to.
    pub max_inflated_bytes: usize,
}

impl SessionConfig {
    /// The defaults, with `compress` as given.
    pub fn new(compress: bool) -> Self {
        Self {
            compress,
            ..Self::default()
        }
    }
}

impl Default for SessionConfig {
    fn default() -> Self {
        Self {
            compress: false,
            reorder_limits: ReorderLimits::default(),
            max_inflated_bytes: DEFAULT_MAX_INFLATED_BYTES,
        }
    }
}

/// Where the session is, for `channels status` and logs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum State {
    /// Not started.
    Idle,
    /// Waiting for the driver's `/gateway/index` answer.
    FetchingGateway,
    /// Waiting before the next fetch or dial.
    BackingOff,
    /// Waiting for the driver's dial to succeed or fail.
    Connecting,
    /// The socket is open; HELLO has not arrived (at most 6 s).
    AwaitingHello,
    /// HELLO received; events flow; PONGs arrive.
    Connected,
    /// A PONG is overdue; the machine is re-PINGing before giving up.
    AwaitingPong,
    /// Resumed: replaying offline events until s=6 RESUME ACK.
    Resuming,
    /// Stopped by `stop` or a fatal error; `start` begins again.
    Stopped,
}

/// What the driver must do, or what happened.
///
/// Deliberately exhaustive (not `#[non_exhaustive]`): a new kind of action
/// must break the driver's `match` at compile time rather than fall into a
/// wildcard arm and be silently skipped.
#[derive(Debug, Clone, PartialEq)]
pub enum Output {
    /// `GET {apiBase}/gateway/index?compress=0|1`
    /// ([`super::gateway_index_path`]), then
    /// [`Session::handle_gateway_fetched`].
    FetchGateway {
        /// The `compress` query value.
        compress: bool,
    },
    /// Open a WebSocket to `url` (it carries the token: never log it),
    /// then [`Session::handle_connected`] or
    /// [`Session::handle_connect_failed`].
    Connect {
        /// The URL to dial.
        url: Secret,
    },
    /// Send this text frame.
    Send(String),
    /// Drop the socket now (and do not report its closure).
    Close,
    /// Something happened.
    Event(Event),
}

/// What the session reports.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Event {
    /// HELLO code 0: the connection is live.
    Hello {
        /// The session id (KOOK always sends one; `None` if it did not).
        session_id: Option<String>,
        /// True when an earlier session was resumed.
        resumed: bool,
    },
    /// A chat message, in `sn` order.
    Message {
        /// Its sequence number.
        sn: u64,
        /// The message.
        message: Box<Message>,
    },
    /// A system event (type 255), in `sn` order.
    System {
        /// Its sequence number.
        sn: u64,
        /// The event.
        event: Box<SystemEvent>,
    },
    /// An s=0 event of a type this build cannot read, in `sn` order.
    UnknownEvent {
        /// Its sequence number.
        sn: u64,
        /// The raw event.
        event: UnknownEvent,
    },
    /// A signal this build does not know (not an error).
    UnknownSignal {
        /// The signal number.
        s: i64,
        /// The whole frame.
        frame: Value,
    },
    /// s=6: the resume finished; the replay is over.
    ResumeAck {
        /// The session id, when the server sent it.
        session_id: Option<String>,
    },
    /// Events `from..=to` never arrived within 6 s (or did not fit the
    /// buffer) and were skipped; later events were delivered.
    GapSkipped {
        /// The first missing `sn`.
        from: u64,
        /// The last missing `sn`.
        to: u64,
    },
    /// s=5: the server dropped the session; a fresh one follows.
    Reconnect {
        /// 40106, 40107 or 40108.
        code: Option<i64>,
        /// The server's text.
        err: Option<String>,
    },
    /// Two resume attempts failed; a fresh session follows. Events after
    /// `last_sn` may be lost.
    ResumeFailed {
        /// The session given up.
        session_id: String,
        /// Its last in-order `sn`.
        last_sn: u64,
    },
    /// HELLO came with an error code; a new gateway URL is fetched.
    HelloRejected {
        /// What KOOK said, with [`HelloError::hint`] for the log.
        error: HelloError,
        /// How many HELLOs in a row rejected the token (40101/40102).
        consecutive_token_rejections: u32,
    },
    /// The session stopped and will not retry on its own.
    Fatal {
        /// Why.
        reason: FatalReason,
    },
    /// A frame that could not be read; the session goes on.
    MalformedFrame {
        /// Why.
        error: FrameError,
    },
}

impl Event {
    /// The sequence number of a delivered s=0 event.
    pub fn sn(&self) -> Option<u64> {
        match self {
            Self::Message { sn, .. } | Self::System { sn, .. } | Self::UnknownEvent { sn, .. } => {
                Some(*sn)
            }
            _ => None,
        }
    }
}

/// A HELLO error code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum HelloError {
    /// 40100: a parameter was missing.
    MissingParameter,
    /// 40101: invalid token.
    InvalidToken,
    /// 40102: token verification failed.
    TokenVerificationFailed,
    /// 40103: the token (in the gateway URL) expired.
    TokenExpired,
    /// Any other non-zero code.
    Other(i64),
}

impl HelloError {
    /// The error for a non-zero HELLO code.
    pub fn from_code(code: i64) -> Self {
        match code {
            40100 => Self::MissingParameter,
            40101 => Self::InvalidToken,
            40102 => Self::TokenVerificationFailed,
            40103 => Self::TokenExpired,
            other => Self::Other(other),
        }
    }

    /// The wire code.
    pub fn code(self) -> i64 {
        match self {
            Self::MissingParameter => 40100,
            Self::InvalidToken => 40101,
            Self::TokenVerificationFailed => 40102,
            Self::TokenExpired => 40103,
            Self::Other(code) => code,
        }
    }

    /// True for 40101 and 40102: KOOK says the token itself is bad.
    pub fn is_token_rejection(self) -> bool {
        matches!(self, Self::InvalidToken | Self::TokenVerificationFailed)
    }

    /// What the code means and what a user can do, for the log.
    pub fn hint(self) -> &'static str {
        match self {
            Self::MissingParameter => {
                "the gateway URL lacked a parameter; fetching a new gateway URL"
            }
            Self::InvalidToken => {
                "KOOK says the bot token is invalid; fetching a new gateway URL and retrying \
                 with backoff. If this repeats, compare channels.kook.token (or KOOK_BOT_TOKEN) \
                 with the token on https://developer.kookapp.cn/bot/ (resetting it there \
                 changes it)"
            }
            Self::TokenVerificationFailed => {
                "KOOK could not verify the bot token; fetching a new gateway URL and retrying \
                 with backoff. If this repeats, compare channels.kook.token (or KOOK_BOT_TOKEN) \
                 with the token on https://developer.kookapp.cn/bot/ and check that the bot \
                 is enabled there"
            }
            Self::TokenExpired => {
                "the token in the gateway URL expired; fetching a new gateway URL"
            }
            Self::Other(_) => "unexpected HELLO code; fetching a new gateway URL",
        }
    }
}

impl fmt::Display for HelloError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "KOOK HELLO error {}: {}", self.code(), self.hint())
    }
}

/// Why the session stopped.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum FatalReason {
    /// `/gateway/index` rejected the token (HTTP 401/403 or code 401xx).
    TokenRejected {
        /// What KOOK said.
        detail: String,
    },
}

impl fmt::Display for FatalReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::TokenRejected { detail } => write!(
                f,
                "KOOK rejected the bot token ({detail}); the KOOK channel stopped. Set a valid \
                 channels.kook.token (or KOOK_BOT_TOKEN) from https://developer.kookapp.cn/bot/ \
                 and restart"
            ),
        }
    }
}

/// Every deadline the session keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Timer {
    /// The wait before the next fetch or dial.
    Backoff,
    /// HELLO must have arrived.
    Hello,
    /// Send the next regular PING.
    Ping,
    /// The outstanding PING's PONG is overdue.
    Pong,
    /// Held events have waited long enough.
    Gap,
}

/// The internal state; [`State`] is its public face.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Idle,
    FetchingGateway,
    BackingOff(Next),
    Connecting(Dial),
    AwaitingHello(Dial),
    /// HELLO received. `resuming` is the resume attempt (1 or 2) until s=6.
    Live {
        resuming: Option<u8>,
    },
    Stopped,
}

/// What follows a backoff.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Next {
    FetchGateway,
    Dial(Dial),
}

/// Which kind of dial.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Dial {
    /// The fetched URL; `retries` connect retries used so far.
    Fresh { retries: u8 },
    /// The fetched URL plus the resume query; attempt 1 or 2.
    Resume { attempt: u8 },
}

/// The PONG we wait for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum PongWait {
    None,
    /// A PING is unanswered; `probes` extra PINGs were sent since it was
    /// overdue.
    Waiting {
        probes: u8,
    },
}

/// Everything that can happen to the session.
#[derive(Debug)]
enum Input {
    Start,
    Stop,
    GatewayFetched(Result<Secret, GatewayFetchError>),
    Connected,
    ConnectFailed,
    Closed,
    /// A frame and its text length in bytes.
    Signal(Signal, usize),
    Malformed(FrameError),
    Timer(Timer),
}

/// The KOOK gateway session machine. See the module docs for the driving
/// contract and the lifecycle.
///
/// Methods: getters ([`Session::state`], [`Session::session_id`],
/// [`Session::last_sn`], [`Session::since_last_event`],
/// [`Session::since_last_pong`], …), inputs (`handle_*`), commands
/// ([`Session::start`], [`Session::stop`]) and outputs
/// ([`Session::poll_output`], [`Session::poll_timeout`]).
#[derive(Debug)]
pub struct Session {
    config: SessionConfig,
    phase: Phase,
    timers: TimerTable<Timer>,
    outputs: VecDeque<Output>,
    jitter: Jitter,
    gateway_backoff: Backoff,
    gateway_url: Option<Secret>,
    session_id: Option<String>,
    buffer: ReorderBuffer<EventBody>,
    pong: PongWait,
    token_rejections: u32,
    /// When the current connection's HELLO (code 0) arrived.
    hello_at: Option<Instant>,
    last_event_at: Option<Instant>,
    last_pong_at: Option<Instant>,
}

impl Session {
    /// A session that has not started. The same seed and inputs give the
    /// same outputs.
    pub fn new(config: SessionConfig, seed: u64) -> Self {
        let mut jitter = Jitter::new(seed);
        let gateway_backoff = Backoff::new(
            GATEWAY_BACKOFF_BASE,
            GATEWAY_BACKOFF_CAP,
            GATEWAY_BACKOFF_JITTER,
            jitter.next_u64(),
        );
        Self {
            buffer: ReorderBuffer::new(config.reorder_limits),
            config,
            phase: Phase::Idle,
            timers: TimerTable::new(),
            outputs: VecDeque::new(),
            jitter,
            gateway_backoff,
            gateway_url: None,
            session_id: None,
            pong: PongWait::None,
            token_rejections: 0,
            hello_at: None,
            last_event_at: None,
            last_pong_at: None,
        }
    }

    // ----- getters -----

    /// Where the session is.
    pub fn state(&self) -> State {
        match self.phase {
            Phase::Idle => State::Idle,
            Phase::FetchingGateway => State::FetchingGateway,
            Phase::BackingOff(_) => State::BackingOff,
            Phase::Connecting(_) => State::Connecting,
            Phase::AwaitingHello(_) => State::AwaitingHello,
            Phase::Live { resuming } => match (self.pong, resuming) {
                (PongWait::Waiting { probes }, _) if probes > 0 => State::AwaitingPong,
                (_, Some(_)) => State::Resuming,
                (_, None) => State::Connected,
            },
            Phase::Stopped => State::Stopped,
        }
    }

    /// The current session id, while there is a session to resume.
    pub fn session_id(&self) -> Option<&str> {
        self.session_id.as_deref()
    }

    /// The last `sn` delivered in order in this session (0 before any):
    /// what PING and resume carry.
    pub fn last_sn(&self) -> u64 {
        self.buffer.last_delivered()
    }

    /// How long since the last s=0 event frame arrived (any session), so a
    /// driver or `channels status` can spot a connection where PONGs arrive
    /// but events do not.
    pub fn since_last_event(&self, now: Instant) -> Option<Duration> {
        self.last_event_at
            .map(|at| now.saturating_duration_since(at))
    }

    /// How long since the last PONG (any connection).
    pub fn since_last_pong(&self, now: Instant) -> Option<Duration> {
        self.last_pong_at
            .map(|at| now.saturating_duration_since(at))
    }

    /// Events held for a gap to fill.
    pub fn held_events(&self) -> usize {
        self.buffer.held_events()
    }

    /// Frame bytes held for a gap to fill.
    pub fn held_bytes(&self) -> usize {
        self.buffer.held_bytes()
    }

    /// The configuration.
    pub fn config(&self) -> &SessionConfig {
        &self.config
    }

    // ----- commands -----

    /// Starts (or, after [`Session::stop`] or a fatal error, restarts) with
    /// a gateway fetch. Ignored while running.
    pub fn start(&mut self, now: Instant) {
        self.step(now, Input::Start);
    }

    /// Stops: closes any socket, forgets every timer. [`Session::start`]
    /// begins again with a fresh session.
    pub fn stop(&mut self, now: Instant) {
        self.step(now, Input::Stop);
    }

    // ----- inputs -----

    /// The driver's answer to [`Output::FetchGateway`]: the WebSocket URL
    /// (see [`super::parse_gateway_index`]) or why there is none.
    pub fn handle_gateway_fetched(
        &mut self,
        now: Instant,
        result: Result<Secret, GatewayFetchError>,
    ) {
        self.step(now, Input::GatewayFetched(result));
    }

    /// The dial from [`Output::Connect`] succeeded; the socket is open.
    pub fn handle_connected(&mut self, now: Instant) {
        self.step(now, Input::Connected);
    }

    /// The dial from [`Output::Connect`] failed (or timed out).
    pub fn handle_connect_failed(&mut self, now: Instant) {
        self.step(now, Input::ConnectFailed);
    }

    /// A text frame arrived.
    pub fn handle_text_frame(&mut self, now: Instant, text: &str) {
        if !self.socket_open() {
            return;
        }
        match frame::parse_text(text) {
            Ok(signal) => self.step(now, Input::Signal(signal, text.len())),
            Err(error) => {
                self.step(now, Input::Malformed(error));
                // An event whose body cannot be decoded still advances sn
                // (later events must not wait for it); nothing is delivered.
                if let Some(sn) = frame::salvage_event_sn(text) {
                    let event = Signal::Event {
                        sn,
                        data: Value::Null,
                    };
                    self.step(now, Input::Signal(event, text.len()));
                }
            }
        }
    }

    /// A binary frame arrived: one complete zlib stream (`compress=1`).
    pub fn handle_binary_frame(&mut self, now: Instant, bytes: &[u8]) {
        if !self.socket_open() {
            return;
        }
        let input = match frame::parse_binary(bytes, self.config.max_inflated_bytes) {
            Ok((signal, size)) => Input::Signal(signal, size),
            Err(error) => Input::Malformed(error),
        };
        self.step(now, input);
    }

    /// The socket closed: `Some((code, reason))` for a close frame, `None`
    /// when the TCP stream dropped. KOOK gives close codes no meaning, so
    /// both are handled alike; the argument is for the driver's log.
    pub fn handle_closed(&mut self, now: Instant, close: Option<(u16, String)>) {
        let _ = close;
        self.step(now, Input::Closed);
    }

    /// Time passed; acts on every deadline at or before `now`.
    pub fn handle_timeout(&mut self, now: Instant) {
        while let Some(timer) = self.timers.pop_expired(now) {
            self.step(now, Input::Timer(timer));
        }
    }

    // ----- outputs -----

    /// The next thing to do; drain until `None` after every input.
    pub fn poll_output(&mut self) -> Option<Output> {
        self.outputs.pop_front()
    }

    /// When to call [`Session::handle_timeout`] next, if ever.
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.timers.earliest()
    }

    // ----- the state machine -----

    /// Every transition, in one place.
    fn step(&mut self, now: Instant, input: Input) {
        use Phase as P;
        match (self.phase, input) {
            (P::Idle | P::Stopped, Input::Start) => {
                self.discard_session();
                self.token_rejections = 0;
                self.gateway_backoff.reset();
                self.fetch_gateway();
            }
            (P::Idle | P::Stopped, _) | (_, Input::Start) => {}
            (_, Input::Stop) => self.stop_now(),

            // 1. Fetch the gateway; backoff 1, 2, 4 … 60 s, forever.
            (P::FetchingGateway, Input::GatewayFetched(Ok(url))) => {
                self.gateway_url = Some(url);
                self.dial(Dial::Fresh { retries: 0 });
            }
            (
                P::FetchingGateway,
                Input::GatewayFetched(Err(GatewayFetchError::Unauthorized { detail })),
            ) => self.fatal(FatalReason::TokenRejected { detail }),
            (P::FetchingGateway, Input::GatewayFetched(Err(_))) => self.back_to_gateway(now),
            (P::BackingOff(Next::FetchGateway), Input::Timer(Timer::Backoff)) => {
                self.fetch_gateway()
            }

            // 2. Connect; a fresh dial is retried twice, then step 1.
            (P::BackingOff(Next::Dial(dial)), Input::Timer(Timer::Backoff)) => self.dial(dial),
            (P::Connecting(dial), Input::Connected) => {
                self.phase = P::AwaitingHello(dial);
                self.timers.set(Timer::Hello, now + HELLO_TIMEOUT);
            }
            (P::Connecting(dial), Input::ConnectFailed) => self.dial_failed(now, dial),

            // 3. HELLO within 6 s.
            (P::AwaitingHello(dial), Input::Signal(Signal::Hello { code, session_id }, _)) => {
                self.hello(now, dial, code, session_id)
            }
            (P::AwaitingHello(dial), Input::Timer(Timer::Hello)) => {
                self.close();
                self.hello_failed(now, dial);
            }
            (P::AwaitingHello(dial), Input::Closed) => self.hello_failed(now, dial),

            // 4. Live: events in sn order, PING/PONG.
            (P::Live { .. }, Input::Signal(Signal::Event { sn, data }, size)) => {
                self.dispatch(now, sn, data, size)
            }
            (P::Live { .. }, Input::Signal(Signal::Pong, _)) => self.pong(now),
            (P::Live { .. }, Input::Timer(Timer::Ping)) => self.ping(now),
            (P::Live { resuming }, Input::Timer(Timer::Pong)) => self.pong_overdue(now, resuming),
            (P::Live { .. }, Input::Timer(Timer::Gap)) => {
                self.buffer.release_all();
                self.drain_buffer();
            }

            // 5-6. Resume: a lost live connection resumes; s=6 ends the replay.
            (P::Live { resuming }, Input::Closed) => self.resume_or_restart(now, resuming),
            (P::Live { resuming }, Input::Signal(Signal::ResumeAck { session_id }, _)) => {
                if resuming.is_some() {
                    self.phase = P::Live { resuming: None };
                    self.gateway_backoff.reset();
                }
                self.emit(Event::ResumeAck { session_id });
            }

            // 7. RECONNECT at any time: clear everything, step 1.
            (
                P::AwaitingHello(_) | P::Live { .. },
                Input::Signal(Signal::Reconnect { code, err }, _),
            ) => {
                self.emit(Event::Reconnect { code, err });
                self.close();
                self.restart_as_told(now);
            }

            // Unknown signals and unreadable frames are reported; the session
            // goes on.
            (
                P::AwaitingHello(_) | P::Live { .. },
                Input::Signal(Signal::Unknown { s, frame }, _),
            ) => self.emit(Event::UnknownSignal { s, frame }),
            (P::AwaitingHello(_) | P::Live { .. }, Input::Malformed(error)) => {
                self.emit(Event::MalformedFrame { error })
            }

            // Anything else is stale or out of place (a frame from a dropped
            // socket, an event before HELLO, a client-only signal, a second
            // HELLO, an expired timer of an earlier phase): ignored.
            _ => {}
        }
    }

    fn fetch_gateway(&mut self) {
        self.phase = Phase::FetchingGateway;
        self.outputs.push_back(Output::FetchGateway {
            compress: self.config.compress,
        });
    }

    fn dial(&mut self, dial: Dial) {
        let url = match (&self.gateway_url, &self.session_id, dial) {
            (Some(base), _, Dial::Fresh { .. }) => base.clone(),
            (Some(base), Some(id), Dial::Resume { .. }) => resume_url(base, self.last_sn(), id),
            // A resume needs a URL and a session; every path that clears
            // them goes through step 1, so this only guards the invariant.
            _ => {
                self.discard_session();
                self.fetch_gateway();
                return;
            }
        };
        self.phase = Phase::Connecting(dial);
        self.outputs.push_back(Output::Connect { url });
    }

    fn dial_failed(&mut self, now: Instant, dial: Dial) {
        match dial {
            Dial::Fresh { retries } => match CONNECT_RETRY_DELAYS.get(usize::from(retries)) {
                Some(&delay) => self.back_off(
                    now,
                    Next::Dial(Dial::Fresh {
                        retries: retries.saturating_add(1),
                    }),
                    delay,
                ),
                None => self.back_to_gateway(now),
            },
            Dial::Resume { attempt } => self.resume_or_restart(now, Some(attempt)),
        }
    }

    /// HELLO did not come (timeout or closed socket).
    fn hello_failed(&mut self, now: Instant, dial: Dial) {
        match dial {
            Dial::Fresh { .. } => self.back_to_gateway(now),
            Dial::Resume { attempt } => self.resume_or_restart(now, Some(attempt)),
        }
    }

    fn hello(&mut self, now: Instant, dial: Dial, code: i64, session_id: Option<String>) {
        self.timers.clear(Timer::Hello);
        if code != 0 {
            let error = HelloError::from_code(code);
            if error.is_token_rejection() {
                self.token_rejections = self.token_rejections.saturating_add(1);
            }
            self.emit(Event::HelloRejected {
                error,
                consecutive_token_rejections: self.token_rejections,
            });
            self.close();
            if matches!(dial, Dial::Resume { .. }) {
                self.abandon_session();
            }
            self.back_to_gateway(now);
            return;
        }
        self.token_rejections = 0;
        self.hello_at = Some(now);
        let resume_attempt = match dial {
            Dial::Resume { attempt }
                if self.session_id.is_some()
                    && (session_id.is_none() || session_id == self.session_id) =>
            {
                Some(attempt)
            }
            _ => None,
        };
        if let Some(attempt) = resume_attempt {
            self.phase = Phase::Live {
                resuming: Some(attempt),
            };
            self.send(frame::resume_frame(self.last_sn()));
            if self.buffer.is_holding() {
                self.timers.set(Timer::Gap, now + GAP_TIMEOUT);
            }
        } else {
            if matches!(dial, Dial::Resume { .. }) {
                self.abandon_session();
            }
            self.discard_session();
            self.session_id = session_id;
            self.phase = Phase::Live { resuming: None };
        }
        self.emit(Event::Hello {
            session_id: self.session_id.clone(),
            resumed: resume_attempt.is_some(),
        });
        self.pong = PongWait::None;
        self.schedule_ping(now);
    }

    fn dispatch(&mut self, now: Instant, sn: u64, data: Value, size: usize) {
        self.last_event_at = Some(now);
        if self.buffer.is_duplicate(sn) {
            return;
        }
        let before = self.buffer.last_delivered();
        self.buffer.offer(sn, size, EventBody::parse(data));
        self.drain_buffer();
        // The gap timer runs while something is held (`drain_buffer` clears
        // it otherwise) and restarts whenever the in-order sn moves.
        let moved = self.buffer.last_delivered() != before;
        if self.buffer.is_holding() && (moved || !self.timers.is_set(Timer::Gap)) {
            self.timers.set(Timer::Gap, now + GAP_TIMEOUT);
        }
    }

    fn drain_buffer(&mut self) {
        while let Some(release) = self.buffer.pop() {
            let event = match release {
                Release::Deliver { sn, item } => match item {
                    EventBody::Message(message) => Event::Message { sn, message },
                    EventBody::System(event) => Event::System { sn, event },
                    EventBody::Unknown(event) => Event::UnknownEvent { sn, event },
                },
                Release::Gap { from, to } => Event::GapSkipped { from, to },
            };
            self.emit(event);
        }
        if !self.buffer.is_holding() {
            self.timers.clear(Timer::Gap);
        }
    }

    fn schedule_ping(&mut self, now: Instant) {
        let period = self.jitter.around(PING_INTERVAL, PING_JITTER);
        self.timers.set(Timer::Ping, now + period);
    }

    fn ping(&mut self, now: Instant) {
        self.send(frame::ping_frame(self.last_sn()));
        if self.pong == PongWait::None {
            self.pong = PongWait::Waiting { probes: 0 };
            self.timers.set(Timer::Pong, now + PONG_TIMEOUT);
        }
        self.schedule_ping(now);
    }

    fn pong(&mut self, now: Instant) {
        self.last_pong_at = Some(now);
        self.pong = PongWait::None;
        self.timers.clear(Timer::Pong);
        self.gateway_backoff.reset();
    }

    fn pong_overdue(&mut self, now: Instant, resuming: Option<u8>) {
        let PongWait::Waiting { probes } = self.pong else {
            return;
        };
        match PONG_PROBE_WAITS.get(usize::from(probes)) {
            Some(&wait) => {
                self.send(frame::ping_frame(self.last_sn()));
                self.pong = PongWait::Waiting {
                    probes: probes.saturating_add(1),
                };
                self.timers.set(Timer::Pong, now + wait);
            }
            None => {
                self.close();
                self.resume_or_restart(now, resuming);
            }
        }
    }

    /// The live connection (or resume attempt `failed`) is gone: resume
    /// with the next attempt, or give the session up and start over.
    fn resume_or_restart(&mut self, now: Instant, failed: Option<u8>) {
        let next = failed.map_or(1, |attempt| attempt.saturating_add(1));
        let delay = RESUME_DELAYS.get(usize::from(next) - 1);
        match (self.session_id.is_some(), delay) {
            (true, Some(&delay)) => {
                self.back_off(now, Next::Dial(Dial::Resume { attempt: next }), delay)
            }
            _ => {
                self.abandon_session();
                self.back_to_gateway(now);
            }
        }
    }

    /// Gives a session up after a failed resume: releases what it holds
    /// and reports the loss.
    fn abandon_session(&mut self) {
        let Some(session_id) = self.session_id.clone() else {
            return;
        };
        self.buffer.release_all();
        self.drain_buffer();
        self.emit(Event::ResumeFailed {
            session_id,
            last_sn: self.last_sn(),
        });
    }

    /// Forgets the session: id, sn, reorder buffer.
    fn discard_session(&mut self) {
        self.session_id = None;
        self.buffer.reset();
        self.timers.clear(Timer::Gap);
    }

    /// Back to step 1: no session, no URL (never re-dial it), and the
    /// gateway backoff before the fetch.
    fn back_to_gateway(&mut self, now: Instant) {
        self.discard_session();
        self.gateway_url = None;
        let delay = self.gateway_backoff.next_delay();
        self.back_off(now, Next::FetchGateway, delay);
    }

    /// s=5 is the server's instruction, not a failure: on a sound connection
    /// (up [`STABLE_AFTER`] since its HELLO) the gateway is fetched at once
    /// and the backoff starts over; only a storm of RECONNECTs on fresh
    /// connections backs off (issue 16).
    fn restart_as_told(&mut self, now: Instant) {
        let sound = self
            .hello_at
            .take()
            .is_some_and(|at| now.saturating_duration_since(at) >= STABLE_AFTER);
        if !sound {
            self.back_to_gateway(now);
            return;
        }
        self.gateway_backoff.reset();
        self.discard_session();
        self.gateway_url = None;
        self.timers.clear_all();
        self.pong = PongWait::None;
        self.fetch_gateway();
    }

    fn back_off(&mut self, now: Instant, next: Next, delay: Duration) {
        self.hello_at = None;
        self.timers.clear_all();
        self.pong = PongWait::None;
        self.phase = Phase::BackingOff(next);
        self.timers.set(Timer::Backoff, now + delay);
    }

    fn fatal(&mut self, reason: FatalReason) {
        self.emit(Event::Fatal { reason });
        self.stop_now();
    }

    fn stop_now(&mut self) {
        if matches!(
            self.phase,
            Phase::Connecting(_) | Phase::AwaitingHello(_) | Phase::Live { .. }
        ) {
            self.close();
        }
        self.timers.clear_all();
        self.pong = PongWait::None;
        self.phase = Phase::Stopped;
    }

    fn socket_open(&self) -> bool {
        matches!(self.phase, Phase::AwaitingHello(_) | Phase::Live { .. })
    }

    fn send(&mut self, text: String) {
        self.outputs.push_back(Output::Send(text));
    }

    fn close(&mut self) {
        self.outputs.push_back(Output::Close);
    }

    fn emit(&mut self, event: Event) {
        self.outputs.push_back(Output::Event(event));
    }
}

/// The gateway URL with the resume query appended (with `&`, or `?` when
/// the URL has no query): `resume=1&sn=<sn>&session_id=<id>&sessionId=<id>`.
/// KOOK's docs disagree on `session_id` and `sessionId`, so both are sent.
pub fn resume_url(gateway_url: &Secret, sn: u64, session_id: &str) -> Secret {
    let base = gateway_url.expose();
    let separator = if base.contains('?') {
        if base.ends_with('?') || base.ends_with('&') {
            ""
        } else {
            "&"
        }
    } else {
        "?"
    };
    let id = utf8_percent_encode(session_id, QUERY_VALUE);
    Secret::new(format!(
        "{base}{separator}resume=1&sn={sn}&session_id={id}&sessionId={id}"
    ))
}

/// Characters escaped in a query value: all but RFC 3986 unreserved ones.
const QUERY_VALUE: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');
