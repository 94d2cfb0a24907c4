//! KOOK signalling frames `{"s": int, "d": {...}, "sn": int?}`: parsing what
//! the server sends (text, or zlib binary with `compress=1`) into a typed
//! [`Signal`], and writing the two frames a client sends (PING, RESUME).
//!
//! Source: kaiheila/api-docs `docs/zh-cn/websocket.md` § 信令格式.
//!
//! | s | dir | [`Signal`] |
//! |---|---|---|
//! | 0 | recv | [`Signal::Event`] (carries `sn`) |
//! | 1 | recv | [`Signal::Hello`] |
//! | 2 | send | [`Signal::Ping`], written by [`ping_frame`] |
//! | 3 | recv | [`Signal::Pong`] |
//! | 4 | send | [`Signal::Resume`], written by [`resume_frame`] |
//! | 5 | recv | [`Signal::Reconnect`] |
//! | 6 | recv | [`Signal::ResumeAck`] |
//! | other | | [`Signal::Unknown`], not an error |
//!
//! Parsing is lenient where KOOK is loose (numbers may come as numeric
//! strings, `d` may be absent) and strict only where the machine cannot go
//! on: a frame that is not a JSON object with an integer `s`, or an event
//! without a usable `sn`, is a [`FrameError`]. Nothing here panics, whatever
//! the bytes.

use serde_json::Value;

use super::inflate::{inflate_frame, InflateError};
use super::lenient;

/// One parsed server (or client) frame.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Signal {
    /// s=0: an event; `data` is the raw `d` object (typed by
    /// [`super::payload::EventBody::parse`]).
    Event {
        /// The per-session sequence number (starts at 1).
        sn: u64,
        /// The frame's `d`, `Null` when absent.
        data: Value,
    },
    /// s=1: the handshake result; `code` 0 is success.
    Hello {
        /// 0, or 40100 (missing parameter), 40101 (invalid token), 40102
        /// (token verification failed), 40103 (token expired).
        code: i64,
        /// The session id (present when `code` is 0).
        session_id: Option<String>,
    },
    /// s=2: a client PING carrying the last processed `sn`.
    Ping {
        /// The client's last in-order sequence number.
        sn: u64,
    },
    /// s=3: the server's PONG.
    Pong,
    /// s=4: a client RESUME carrying the last processed `sn`.
    Resume {
        /// The client's last in-order sequence number.
        sn: u64,
    },
    /// s=5: the server asks for a brand-new connection and session.
    Reconnect {
        /// 40106 (resume: missing parameters), 40107 (session expired),
        /// 40108 (invalid or unknown sn); `None` when absent.
        code: Option<i64>,
        /// The server's free-text reason; not to be branched on (the
        /// docs' example pairs 40108 with "Missing params").
        err: Option<String>,
    },
    /// s=6: the resume finished; every offline event was sent.
    ResumeAck {
        /// The resumed session's id, when the server sends it.
        session_id: Option<String>,
    },
    /// Any other `s`: kept whole for the log, not an error.
    Unknown {
        /// The signal number.
        s: i64,
        /// The whole frame.
        frame: Value,
    },
}

/// Why a frame could not be read. The session reports it as
/// `Event::MalformedFrame` and goes on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum FrameError {
    /// The text is not JSON.
    #[error("frame is not valid JSON: {reason}")]
    Json {
        /// The JSON parser's message.
        reason: String,
    },
    /// The JSON is not an object.
    #[error("frame is not a JSON object")]
    NotAnObject,
    /// The object has no integer `s`.
    #[error("frame has no integer signal `s`")]
    MissingSignal,
    /// An event (s=0) without a non-negative integer `sn`: it cannot be
    /// put in order, so it is not delivered.
    #[error("event frame (s=0) has no usable sequence number `sn`")]
    MissingSn,
    /// A PING or RESUME without a non-negative integer `sn`.
    #[error("s={s} frame has no usable `sn`")]
    BadClientSn {
        /// The signal.
        s: i64,
    },
    /// A binary frame that does not inflate.
    #[error(transparent)]
    Inflate(#[from] InflateError),
}

/// Parses one text frame.
pub fn parse_text(text: &str) -> Result<Signal, FrameError> {
    // A lone surrogate escape decodes to U+FFFD instead of making the frame
    // (and its message) unreadable (issue 16).
    let text = &*crate::json_text::repair_lone_surrogates(text);
    let frame: Value = serde_json::from_str(text).map_err(|e| FrameError::Json {
        reason: e.to_string(),
    })?;
    parse_value(frame)
}

/// Parses one binary frame: inflates it (one complete zlib stream, at most
/// `max_inflated` bytes) and parses the text. Returns the signal and the
/// inflated text's length in bytes.
pub fn parse_binary(compressed: &[u8], max_inflated: usize) -> Result<(Signal, usize), FrameError> {
    let text = inflate_frame(compressed, max_inflated)?;
    Ok((parse_text(&text)?, text.len()))
}

/// Types an already-parsed frame.
pub fn parse_value(mut frame: Value) -> Result<Signal, FrameError> {
    let Some(object) = frame.as_object() else {
        return Err(FrameError::NotAnObject);
    };
    let s = object
        .get("s")
        .and_then(lenient::int)
        .ok_or(FrameError::MissingSignal)?;
    if !(0..=6).contains(&s) {
        return Ok(Signal::Unknown { s, frame });
    }
    let sn = object.get("sn").and_then(lenient::uint);
    let data = frame
        .as_object_mut()
        .and_then(|object| object.remove("d"))
        .unwrap_or(Value::Null);
    let session_id = |data: &Value| {
        lenient::non_empty(lenient::field(data, "session_id"))
            .or_else(|| lenient::non_empty(lenient::field(data, "sessionId")))
    };
    let signal = match s {
        0 => Signal::Event {
            sn: sn.ok_or(FrameError::MissingSn)?,
            data,
        },
        1 => Signal::Hello {
            // A HELLO without a code is treated as "missing parameter", as
            // the official golang-bot does.
            code: lenient::int(lenient::field(&data, "code")).unwrap_or(40100),
            session_id: session_id(&data),
        },
        2 => Signal::Ping {
            sn: sn.ok_or(FrameError::BadClientSn { s })?,
        },
        3 => Signal::Pong,
        4 => Signal::Resume {
            sn: sn.ok_or(FrameError::BadClientSn { s })?,
        },
        5 => Signal::Reconnect {
            code: lenient::int(lenient::field(&data, "code")),
            err: lenient::string(lenient::field(&data, "err")),
        },
        _ => Signal::ResumeAck {
            session_id: session_id(&data),
        },
    };
    Ok(signal)
}

/// The `sn` of an event frame (`s` 0) that does not parse as JSON, when its
/// top-level `"s"` and `"sn"` can still be read: an event whose body cannot
/// be decoded still takes its place in the sequence, so that later events
/// do not wait for it.
pub fn salvage_event_sn(text: &str) -> Option<u64> {
    let (mut s, mut sn) = (None, None);
    let bytes = text.as_bytes();
    let (mut depth, mut i) = (0usize, 0usize);
    while i < bytes.len() {
        match bytes[i] {
            b'{' | b'[' => depth += 1,
            b'}' | b']' => depth = depth.saturating_sub(1),
            b'"' => {
                let end = string_end(bytes, i)?;
                if depth == 1 {
                    let key = &text[i + 1..end];
                    let rest = text[end + 1..].trim_start();
                    if let Some(value) = rest.strip_prefix(':') {
                        let value = value.trim_start();
                        let digits = value.bytes().take_while(u8::is_ascii_digit).count();
                        let number = value[..digits].parse::<u64>().ok();
                        match key {
                            "s" => s = s.or(number),
                            "sn" => sn = sn.or(number),
                            _ => {}
                        }
                    }
                }
                i = end;
            }
            _ => {}
        }
        i += 1;
    }
    (s == Some(0)).then_some(sn).flatten()
}

/// The index of the quote closing the string that opens at `start`.
fn string_end(bytes: &[u8], start: usize) -> Option<usize> {
    let mut i = start + 1;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => i += 2,
            b'"' => return Some(i),
            _ => i += 1,
        }
    }
    None
}

/// The PING frame `{"s":2,"sn":N}`; `sn` is the last in-order sequence
/// number of the current session (0 before any event).
pub fn ping_frame(sn: u64) -> String {
    format!(r#"{{"s":2,"sn":{sn}}}"#)
}

/// The RESUME frame `{"s":4,"sn":N}`.
pub fn resume_frame(sn: u64) -> String {
    format!(r#"{{"s":4,"sn":{sn}}}"#)
}
