//! What goes into and comes out of a [`Session`]: its [`SessionConfig`], its
//! [`State`], the [`Output`]s a driver carries out, the [`Event`]s it hands to
//! the application, and the HELLO and fatal reasons they carry.

use super::*;

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
    /// ([`crate::kook::gateway::gateway_index_path`]), then
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
