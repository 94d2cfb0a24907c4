//! [`exchange`]: one HTTP/1.1 request and its response over a
//! [`Connection`], with ureq's sans-IO protocol ([`ureq_proto::client`])
//! deciding the bytes (request line, headers, body framing, response
//! parsing, chunked decoding, whether the connection may be kept) and this
//! module only moving them.
//!
//! A request whose head and body fit the connection's write buffer goes out
//! in one write. The response body is read up to a limit: a declared
//! `Content-Length` over it fails before reading, a longer chunked body as
//! soon as it passes it.

use std::io;

use krill_core::rest::http::HttpResponse;
use ureq_proto::client::{
    state::{RecvResponse, SendBody},
    Await100Result, Call, RecvBodyResult, RecvResponseResult, SendRequestResult,
};
use ureq_proto::http;
use ureq_proto::BodyMode;

use super::connection::Connection;

/// A response read whole, and whether its connection can be reused.
#[derive(Debug)]
pub(super) struct Exchanged {
    pub response: HttpResponse,
    pub reusable: bool,
}

/// Why an exchange failed.
#[derive(Debug)]
pub(super) enum Failure {
    /// Reading or writing the socket failed.
    Io(io::Error),
    /// The bytes broke HTTP/1.1 (or the request could not be framed).
    Protocol(ureq_proto::Error),
    /// The peer closed the connection before the response was complete.
    Closed,
    /// The body is longer than the limit.
    BodyTooLarge,
}

/// A failed exchange: what went wrong, and whether any byte of the response
/// had arrived (if none had, the request may never have been seen).
#[derive(Debug)]
pub(super) struct Failed {
    pub failure: Failure,
    pub response_started: bool,
}

impl Failed {
    fn before_response(failure: Failure) -> Failed {
        Failed {
            failure,
            response_started: false,
        }
    }

    fn in_response(failure: Failure) -> Failed {
        Failed {
            failure,
            response_started: true,
        }
    }
}

impl From<ureq_proto::Error> for Failure {
    fn from(e: ureq_proto::Error) -> Self {
        Failure::Protocol(e)
    }
}

/// Sends `head` with `body` over `conn` and reads the whole response
/// (bodies longer than `max_body` fail).
pub(super) async fn exchange(
    conn: &mut Connection,
    head: http::Request<()>,
    body: &[u8],
    max_body: u64,
) -> Result<Exchanged, Failed> {
    let recv = send_request(conn, head, body)
        .await
        .map_err(Failed::before_response)?;
    read_response(conn, recv, max_body).await
}

/// Writes the request line, headers and body; returns the call waiting for
/// the response.
async fn send_request(
    conn: &mut Connection,
    head: http::Request<()>,
    body: &[u8],
) -> Result<Call<RecvResponse>, Failure> {
    let mut call = Call::new(head)?.proceed();
    let mut used = 0;
    loop {
        used += call.write(&mut conn.output[used..])?;
        if call.can_proceed() {
            break;
        }
        if used == 0 {
            return Err(Failure::Protocol(ureq_proto::Error::OutputOverflow));
        }
        conn.send_output(used).await.map_err(Failure::Io)?;
        used = 0;
    }
    let recv = match call.proceed()? {
        Some(SendRequestResult::RecvResponse(recv)) => {
            conn.send_output(used).await.map_err(Failure::Io)?;
            recv
        }
        Some(SendRequestResult::SendBody(send)) => send_body(conn, send, body, used).await?,
        // krill sends no `Expect: 100-continue`; should a caller's header
        // ask for it, the body follows at once.
        Some(SendRequestResult::Await100(wait)) => match wait.proceed()? {
            Await100Result::SendBody(send) => send_body(conn, send, body, used).await?,
            Await100Result::RecvResponse(recv) => {
                conn.send_output(used).await.map_err(Failure::Io)?;
                recv
            }
        },
        None => return Err(Failure::Protocol(ureq_proto::Error::OutputOverflow)),
    };
    Ok(recv)
}

/// Frames `body` after the `used` bytes of head already in the buffer,
/// writing whenever the buffer is full and once at the end.
async fn send_body(
    conn: &mut Connection,
    mut send: Call<SendBody>,
    body: &[u8],
    mut used: usize,
) -> Result<Call<RecvResponse>, Failure> {
    let mut rest = body;
    while !send.can_proceed() {
        // An empty input ends a chunked body; a sized one is done when its
        // length has been written.
        let (taken, written) = send.write(rest, &mut conn.output[used..])?;
        rest = &rest[taken..];
        used += written;
        if taken == 0 && written == 0 {
            if used == 0 {
                return Err(Failure::Protocol(ureq_proto::Error::OutputOverflow));
            }
            conn.send_output(used).await.map_err(Failure::Io)?;
            used = 0;
        }
    }
    conn.send_output(used).await.map_err(Failure::Io)?;
    send.proceed()
        .ok_or(Failure::Protocol(ureq_proto::Error::OutputOverflow))
}

/// Reads the response head and body.
async fn read_response(
    conn: &mut Connection,
    mut recv: Call<RecvResponse>,
    max_body: u64,
) -> Result<Exchanged, Failed> {
    let mut started = false;
    let failed = |started: bool, failure: Failure| Failed {
        failure,
        response_started: started,
    };
    let head = loop {
        let (consumed, head) = recv
            .try_response(conn.unread(), false)
            .map_err(|e| failed(true, e.into()))?;
        conn.consume(consumed);
        if let Some(head) = head {
            break head;
        }
        match conn.fill().await {
            Ok(0) => return Err(failed(started, Failure::Closed)),
            Ok(_) => started = true,
            Err(e) => return Err(failed(started, Failure::Io(e))),
        }
    };
    let status = head.status().as_u16();
    let headers = head
        .headers()
        .iter()
        .map(|(k, v)| {
            (
                k.as_str().to_owned(),
                String::from_utf8_lossy(v.as_bytes()).into_owned(),
            )
        })
        .collect();
    let mut body = Vec::new();
    let mut close_delimited = false;
    let cleanup = match recv.proceed() {
        Some(RecvResponseResult::RecvBody(mut reading)) => {
            let mode = reading.body_mode();
            close_delimited = matches!(mode, BodyMode::CloseDelimited);
            if let BodyMode::LengthDelimited(n) = mode {
                if n > max_body {
                    return Err(Failed::in_response(Failure::BodyTooLarge));
                }
                body.reserve(usize::try_from(n).unwrap_or(0));
            }
            let mut need_input = conn.unread().is_empty();
            while close_delimited || !reading.can_proceed() {
                if need_input {
                    match conn.fill().await {
                        Ok(0) if close_delimited => break,
                        Ok(0) => return Err(Failed::in_response(Failure::Closed)),
                        Ok(_) => {}
                        Err(e) => return Err(Failed::in_response(Failure::Io(e))),
                    }
                }
                let input = conn.unread();
                let old = body.len();
                body.resize(old + input.len(), 0);
                let (consumed, produced) = reading
                    .read(input, &mut body[old..])
                    .map_err(|e| Failed::in_response(e.into()))?;
                body.truncate(old + produced);
                conn.consume(consumed);
                if body.len() as u64 > max_body {
                    return Err(Failed::in_response(Failure::BodyTooLarge));
                }
                // No progress: the decoder needs more bytes than are here
                // (a chunk header cut by the read), or all were consumed.
                need_input = (consumed == 0 && produced == 0) || conn.unread().is_empty();
            }
            match reading.proceed() {
                Some(RecvBodyResult::Cleanup(cleanup)) => cleanup,
                Some(RecvBodyResult::Redirect(redirect)) => redirect.proceed(),
                None => return Err(Failed::in_response(Failure::Closed)),
            }
        }
        Some(RecvResponseResult::Redirect(redirect)) => redirect.proceed(),
        Some(RecvResponseResult::Cleanup(cleanup)) => cleanup,
        None => return Err(Failed::in_response(Failure::Closed)),
    };
    let reusable = !close_delimited && !cleanup.must_close_connection() && conn.unread().is_empty();
    Ok(Exchanged {
        response: HttpResponse {
            status,
            headers,
            body,
        },
        reusable,
    })
}
