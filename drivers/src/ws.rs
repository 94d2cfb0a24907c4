//! The WebSocket transport: a thin wrapper over async-tungstenite on smol
//! (`ws://` over plain TCP, `wss://` over native-tls). It moves frames and
//! makes no protocol decisions: the gateway machines in `krill-core` decide
//! what to send, when to close and with which code.
//!
//! - [`connect`] dials with a hard deadline (TCP + TLS + upgrade) and a
//!   `User-Agent` on the upgrade request;
//! - [`WsConnection::recv`] yields text, binary and close frames; ping/pong
//!   is answered by tungstenite and never surfaces;
//! - [`WsConnection::close`] sends a close frame with the given code and
//!   drops the socket without waiting for the peer's handshake for more
//!   than [`CLOSE_BOUND`]; dropping a connection drops TCP with no frame;
//! - [`WsConnection::split`] gives a [`WsSender`] and a [`WsReceiver`] for a
//!   driver that races a timer, an outbound queue and inbound frames.
//!   `recv` is cancel-safe: a `recv` future dropped by the race loses
//!   nothing.
//!
//! Errors never carry a token: every URL and reason in a [`WsError`] went
//! through [`redact_url`] (KOOK's gateway URL has `token=` in its query).

use std::time::Duration;

use async_tungstenite::smol::ConnectStream;
use async_tungstenite::tungstenite::client::IntoClientRequest;
use async_tungstenite::tungstenite::http::header::{HeaderValue, USER_AGENT};
use async_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use async_tungstenite::tungstenite::protocol::{CloseFrame, WebSocketConfig};
use async_tungstenite::tungstenite::{self, Message};
use async_tungstenite::{WebSocketReceiver, WebSocketSender, WebSocketStream};
use futures_lite::{FutureExt, StreamExt};
use smol::Timer;

/// The connect deadline drivers use unless they have a reason not to.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// Longest [`WsConnection::close`] waits to get its close frame out.
pub const CLOSE_BOUND: Duration = Duration::from_secs(1);

/// One frame from the peer.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum WsMessage {
    /// A text frame.
    Text(String),
    /// A binary frame (zlib data on Discord `zlib-stream` and KOOK
    /// `compress=1`).
    Binary(Vec<u8>),
    /// The peer's close frame: code and reason, if it sent any.
    Close(Option<(u16, String)>),
}

/// What can go wrong on a WebSocket. Messages never include a token.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum WsError {
    /// The URL does not parse as a `ws://` or `wss://` URL.
    #[error("invalid WebSocket URL {url}")]
    InvalidUrl {
        /// The URL, redacted.
        url: String,
    },
    /// TCP + TLS + upgrade took longer than the deadline.
    #[error("connecting to {url} timed out after {after:?}")]
    ConnectTimeout {
        /// The URL, redacted.
        url: String,
        /// The deadline.
        after: Duration,
    },
    /// TCP connect failed (refused, unreachable, DNS...).
    #[error("connecting to {url} failed: {reason}")]
    Connect {
        /// The URL, redacted.
        url: String,
        /// The cause, redacted.
        reason: String,
    },
    /// The TLS handshake failed.
    #[error("TLS with {url} failed: {reason}")]
    Tls {
        /// The URL, redacted.
        url: String,
        /// The cause, redacted.
        reason: String,
    },
    /// The server answered the upgrade with a non-101 status (e.g. 401).
    #[error("{url} refused the WebSocket upgrade with HTTP {status}")]
    UpgradeRejected {
        /// The URL, redacted.
        url: String,
        /// The HTTP status.
        status: u16,
    },
    /// The TCP connection ended without a close frame.
    #[error("connection reset without a close frame")]
    Reset,
    /// Another I/O error on an open connection.
    #[error("WebSocket I/O error: {0}")]
    Io(String),
    /// The peer broke the WebSocket protocol (or sent a frame over the size
    /// limit).
    #[error("WebSocket protocol error: {0}")]
    Protocol(String),
    /// The connection is already closed.
    #[error("WebSocket connection closed")]
    Closed,
}

impl WsError {
    /// True for [`WsError::ConnectTimeout`].
    pub fn is_timeout(&self) -> bool {
        matches!(self, WsError::ConnectTimeout { .. })
    }
}

type Stream = WebSocketStream<ConnectStream>;

/// An open WebSocket connection.
#[derive(Debug)]
pub struct WsConnection {
    inner: Stream,
}

/// The sending half of a split [`WsConnection`].
#[derive(Debug)]
pub struct WsSender {
    inner: WebSocketSender<ConnectStream>,
}

/// The receiving half of a split [`WsConnection`].
#[derive(Debug)]
pub struct WsReceiver {
    inner: WebSocketReceiver<ConnectStream>,
}

/// Opens a WebSocket to `url` (`ws://` or `wss://`), sending `user_agent`
/// as `User-Agent`. Fails with [`WsError::ConnectTimeout`] when TCP, TLS and
/// the upgrade together take longer than `timeout`.
pub async fn connect(
    url: &str,
    user_agent: &str,
    timeout: Duration,
) -> Result<WsConnection, WsError> {
    let shown = redact_url(url);
    let mut request = url
        .into_client_request()
        .map_err(|_| WsError::InvalidUrl { url: shown.clone() })?;
    let ua = HeaderValue::from_str(user_agent)
        .map_err(|_| WsError::InvalidUrl { url: shown.clone() })?;
    request.headers_mut().insert(USER_AGENT, ua);
    let dial = async {
        async_tungstenite::smol::connect_async_with_config(request, Some(socket_config()))
            .await
            .map(|(ws, _response)| WsConnection { inner: ws })
            .map_err(|e| connect_error(e, &shown))
    };
    let deadline = async {
        Timer::after(timeout).await;
        Err(WsError::ConnectTimeout {
            url: shown.clone(),
            after: timeout,
        })
    };
    dial.or(deadline).await
}

/// Bytes read from the socket per call at most. tungstenite zeroes this
/// much of its read buffer before every read: its default, 128 KiB, cost a
/// 128 KiB `memset` per frame (~2 % of krill's CPU per message). Gateway
/// events are mostly a few KiB; a larger one just takes more reads.
const READ_CHUNK: usize = 16 * 1024;

/// The WebSocket settings: tungstenite's defaults but for [`READ_CHUNK`].
fn socket_config() -> WebSocketConfig {
    WebSocketConfig::default().read_buffer_size(READ_CHUNK)
}

impl WsConnection {
    /// The next text, binary or close frame; `None` once the stream ended.
    /// Cancel-safe.
    pub async fn recv(&mut self) -> Option<Result<WsMessage, WsError>> {
        next_message(&mut self.inner).await
    }

    /// Sends a text frame.
    pub async fn send_text(&mut self, text: String) -> Result<(), WsError> {
        self.inner
            .send(Message::Text(text.into()))
            .await
            .map_err(session_error)
    }

    /// Sends a close frame with `code` (at most [`CLOSE_BOUND`]), then drops
    /// the socket without waiting for the peer's answer.
    pub async fn close(mut self, code: u16) {
        let frame = close_frame(code);
        let send = async {
            let _ = self.inner.send(Message::Close(Some(frame))).await;
        };
        send.or(bound(CLOSE_BOUND)).await;
    }

    /// Splits into halves that can be used from two places at once.
    pub fn split(self) -> (WsSender, WsReceiver) {
        let (tx, rx) = self.inner.split();
        (WsSender { inner: tx }, WsReceiver { inner: rx })
    }
}

impl WsSender {
    /// Sends a text frame.
    pub async fn send_text(&mut self, text: String) -> Result<(), WsError> {
        self.inner
            .send(Message::Text(text.into()))
            .await
            .map_err(session_error)
    }

    /// Sends a close frame with `code` (at most [`CLOSE_BOUND`]). The socket
    /// closes when both halves are dropped.
    pub async fn close(&mut self, code: u16) {
        let frame = close_frame(code);
        let send = async {
            let _ = self.inner.close(Some(frame)).await;
        };
        send.or(bound(CLOSE_BOUND)).await;
    }
}

impl WsReceiver {
    /// The next text, binary or close frame; `None` once the stream ended.
    /// Cancel-safe.
    pub async fn recv(&mut self) -> Option<Result<WsMessage, WsError>> {
        next_message(&mut self.inner).await
    }
}

/// `url` with the values of secret-looking query parameters (`token`,
/// `access_token`, `key`, `secret`, `password`...) and any userinfo
/// password replaced by `<redacted>`. Works on free text too (an error
/// message that quotes a URL).
pub fn redact_url(url: &str) -> String {
    let mut out = String::with_capacity(url.len());
    let mut rest = url;
    while let Some(eq) = rest.find('=') {
        let (before, after) = rest.split_at(eq);
        let key_start = before
            .rfind(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '-'))
            .map_or(0, |i| i + 1);
        let key = before[key_start..].to_ascii_lowercase();
        out.push_str(before);
        out.push('=');
        let value = &after[1..];
        let end = value
            .find(['&', '#', ' ', '"', '\'', '<', '>', '\n'])
            .unwrap_or(value.len());
        if is_secret_key(&key) && end > 0 {
            out.push_str("<redacted>");
            rest = &value[end..];
        } else {
            rest = value;
        }
    }
    out.push_str(rest);
    redact_userinfo(&out)
}

fn is_secret_key(key: &str) -> bool {
    key.contains("token")
        || key.contains("secret")
        || key.contains("password")
        || key == "key"
        || key == "api_key"
        || key == "apikey"
}

/// `scheme://user:pass@host` -> `scheme://user:<redacted>@host`.
fn redact_userinfo(s: &str) -> String {
    let Some(scheme_end) = s.find("://") else {
        return s.to_owned();
    };
    let auth_start = scheme_end + 3;
    let auth_end = s[auth_start..]
        .find(['/', '?', '#'])
        .map_or(s.len(), |i| auth_start + i);
    let Some(at) = s[auth_start..auth_end].rfind('@') else {
        return s.to_owned();
    };
    let userinfo = &s[auth_start..auth_start + at];
    match userinfo.split_once(':') {
        Some((user, _)) => format!(
            "{}{user}:<redacted>{}",
            &s[..auth_start],
            &s[auth_start + at..]
        ),
        None => s.to_owned(),
    }
}

async fn next_message<S>(stream: &mut S) -> Option<Result<WsMessage, WsError>>
where
    S: futures_lite::Stream<Item = Result<Message, tungstenite::Error>> + Unpin,
{
    loop {
        let msg = match stream.next().await? {
            Ok(m) => m,
            Err(e) => return Some(Err(session_error(e))),
        };
        return Some(Ok(match msg {
            Message::Text(t) => WsMessage::Text(t.as_str().to_owned()),
            Message::Binary(b) => WsMessage::Binary(b.to_vec()),
            Message::Close(f) => {
                WsMessage::Close(f.map(|f| (u16::from(f.code), f.reason.as_str().to_owned())))
            }
            Message::Ping(_) | Message::Pong(_) | Message::Frame(_) => continue,
        }));
    }
}

/// Completes after `d`.
async fn bound(d: Duration) {
    Timer::after(d).await;
}

fn close_frame(code: u16) -> CloseFrame {
    CloseFrame {
        code: CloseCode::from(code),
        reason: "".into(),
    }
}

fn connect_error(e: tungstenite::Error, url: &str) -> WsError {
    let url = url.to_owned();
    match e {
        tungstenite::Error::Http(resp) => WsError::UpgradeRejected {
            url,
            status: resp.status().as_u16(),
        },
        tungstenite::Error::Tls(t) => WsError::Tls {
            url,
            reason: redact_url(&t.to_string()),
        },
        tungstenite::Error::Url(_) => WsError::InvalidUrl { url },
        tungstenite::Error::Io(io) => WsError::Connect {
            url,
            reason: redact_url(&io.to_string()),
        },
        other => WsError::Connect {
            url,
            reason: redact_url(&other.to_string()),
        },
    }
}

fn session_error(e: tungstenite::Error) -> WsError {
    use std::io::ErrorKind;
    use tungstenite::error::ProtocolError;
    match e {
        tungstenite::Error::ConnectionClosed | tungstenite::Error::AlreadyClosed => WsError::Closed,
        tungstenite::Error::Protocol(ProtocolError::ResetWithoutClosingHandshake) => WsError::Reset,
        tungstenite::Error::Io(io)
            if matches!(
                io.kind(),
                ErrorKind::ConnectionReset
                    | ErrorKind::ConnectionAborted
                    | ErrorKind::BrokenPipe
                    | ErrorKind::UnexpectedEof
            ) =>
        {
            WsError::Reset
        }
        tungstenite::Error::Io(io) => WsError::Io(redact_url(&io.to_string())),
        other => WsError::Protocol(redact_url(&other.to_string())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redacts_token_query_values() {
        assert_eq!(
            redact_url("wss://ws.kookapp.cn/gateway?compress=0&token=abc.def&resume=1"),
            "wss://ws.kookapp.cn/gateway?compress=0&token=<redacted>&resume=1"
        );
        assert_eq!(
            redact_url("ws://h/x?access_token=zz"),
            "ws://h/x?access_token=<redacted>"
        );
        assert_eq!(
            redact_url("failed to reach ws://h/?token=SECRET: refused"),
            "failed to reach ws://h/?token=<redacted> refused"
        );
        assert_eq!(
            redact_url("ws://h/?v=10&encoding=json"),
            "ws://h/?v=10&encoding=json"
        );
        assert_eq!(
            redact_url("https://bob:hunter2@example.com/a"),
            "https://bob:<redacted>@example.com/a"
        );
    }
}
