//! What goes into and comes out of a [`Shard`]: its [`ShardConfig`], its
//! lifecycle [`ShardState`], the errors its inputs can return, the [`Output`]s
//! a driver carries out and the [`Event`]s it hands to the application.

use super::*;

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
