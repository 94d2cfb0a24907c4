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
//! Every transition is in one `match`, `Session::step` (in [`transitions`];
//! the types a driver sees are in [`api`]).
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

mod api;
mod transitions;

pub use api::*;

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
    /// A saved session was handed back before start: resume it.
    restored: bool,
}

/// What a KOOK session needs to resume after a restart of the process:
/// saved by the driver as the session advances ([`Session::resume_state`])
/// and handed back before start ([`Session::restore`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResumeState {
    /// HELLO's `session_id`.
    pub session_id: String,
    /// The last `sn` delivered in order.
    pub sn: u64,
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
            restored: false,
        }
    }

    /// The session to resume, while there is one.
    pub fn resume_state(&self) -> Option<ResumeState> {
        Some(ResumeState {
            session_id: self.session_id.clone()?,
            sn: self.last_sn(),
        })
    }

    /// Takes a saved session back before [`Session::start`]: after the
    /// gateway fetch the first dial resumes it (`resume=1&sn&session_id`);
    /// a refused resume starts a fresh session as usual. Ignored once
    /// started.
    pub fn restore(&mut self, state: ResumeState) {
        if self.phase != Phase::Idle || state.session_id.is_empty() {
            return;
        }
        self.session_id = Some(state.session_id);
        self.buffer.continue_after(state.sn);
        self.restored = true;
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
