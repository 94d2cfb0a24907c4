//! [`StampProxy`]: a transparent HTTP/1.1 proxy on 127.0.0.1 that stamps
//! every request with the [`Instant`] its last byte arrived, for the
//! end-to-end benchmark (`benches/benches/e2e.rs`).
//!
//! The fake servers of `krill-testkit` record what was posted but not when;
//! the benchmark points krill's `apiBaseUrl` at this proxy, which forwards
//! every byte to the fake unchanged (so the fake still answers everything,
//! gateway tokens and message ids included) and sends a [`Stamped`] record
//! per request down a channel, in the benchmark's own process.
//!
//! Framing: requests are split by `Content-Length` or `Transfer-Encoding:
//! chunked` (what ureq 3 sends for a body handed over as a `Vec<u8>`). A
//! request that cannot be framed makes the connection fall back to passing
//! bytes through without stamps (reported on stderr). Responses are never
//! parsed, only copied.
//!
//! Threads: one accept thread, two per proxied connection; connection
//! threads end when either side closes, the accept thread when the proxy is
//! dropped.

use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::Sender;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Instant;

/// Longest request head the proxy buffers before giving up on framing.
const MAX_HEAD: usize = 64 * 1024;

/// One request that went through the proxy.
#[derive(Debug, Clone)]
pub struct Stamped {
    /// When its last byte arrived at the proxy.
    pub at: Instant,
    /// `GET`, `POST`...
    pub method: String,
    /// The request target (path and query) as sent.
    pub path: String,
    /// How the body was sent.
    pub framing: BodyFraming,
    /// The body bytes (de-chunked).
    pub body: Vec<u8>,
}

/// The head of one request at the front of a buffer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestHead {
    /// Method.
    pub method: String,
    /// Request target.
    pub path: String,
    /// Bytes up to and including the blank line.
    pub head_len: usize,
    /// How the body is delimited.
    pub framing: BodyFraming,
}

/// How a request's body is delimited.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyFraming {
    /// `Content-Length` bytes (0 when absent).
    Length(usize),
    /// `Transfer-Encoding: chunked`.
    Chunked,
}

/// Why a request cannot be framed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FramingError {
    /// A `Transfer-Encoding` other than `chunked`.
    UnsupportedEncoding,
    /// The head is not HTTP/1.x, or a length or chunk size is bad.
    Malformed,
    /// No blank line within [`MAX_HEAD`] bytes.
    HeadTooLong,
}

/// One complete request at the front of a buffer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FramedRequest {
    /// Method.
    pub method: String,
    /// Request target.
    pub path: String,
    /// How the body was sent.
    pub framing: BodyFraming,
    /// The body (de-chunked).
    pub body: Vec<u8>,
    /// Bytes the request takes in the buffer.
    pub wire_len: usize,
}

/// Parses the request head at the front of `buf`: `Ok(None)` while the head
/// is incomplete.
pub fn request_head(buf: &[u8]) -> Result<Option<RequestHead>, FramingError> {
    let Some(end) = find(buf, b"\r\n\r\n") else {
        return if buf.len() > MAX_HEAD {
            Err(FramingError::HeadTooLong)
        } else {
            Ok(None)
        };
    };
    let head = std::str::from_utf8(&buf[..end]).map_err(|_| FramingError::Malformed)?;
    let mut lines = head.split("\r\n");
    let mut first = lines.next().unwrap_or_default().split(' ');
    let (Some(method), Some(path), Some(version)) = (first.next(), first.next(), first.next())
    else {
        return Err(FramingError::Malformed);
    };
    if !version.starts_with("HTTP/1.") {
        return Err(FramingError::Malformed);
    }
    let mut framing = BodyFraming::Length(0);
    for line in lines {
        let Some((name, value)) = line.split_once(':') else {
            return Err(FramingError::Malformed);
        };
        let (name, value) = (name.trim(), value.trim());
        if name.eq_ignore_ascii_case("transfer-encoding") {
            if !value.eq_ignore_ascii_case("chunked") {
                return Err(FramingError::UnsupportedEncoding);
            }
            framing = BodyFraming::Chunked;
        } else if name.eq_ignore_ascii_case("content-length") && framing != BodyFraming::Chunked {
            framing = BodyFraming::Length(value.parse().map_err(|_| FramingError::Malformed)?);
        }
    }
    Ok(Some(RequestHead {
        method: method.to_owned(),
        path: path.to_owned(),
        head_len: end + 4,
        framing,
    }))
}

/// Splits the first complete request off the front of `buf`: `Ok(None)`
/// while it is incomplete.
pub fn frame_request(buf: &[u8]) -> Result<Option<FramedRequest>, FramingError> {
    let Some(head) = request_head(buf)? else {
        return Ok(None);
    };
    let rest = &buf[head.head_len..];
    let (body, body_wire) = match head.framing {
        BodyFraming::Length(n) => match rest.get(..n) {
            Some(body) => (body.to_vec(), n),
            None => return Ok(None),
        },
        BodyFraming::Chunked => match dechunk(rest)? {
            Some(done) => done,
            None => return Ok(None),
        },
    };
    Ok(Some(FramedRequest {
        method: head.method,
        path: head.path,
        framing: head.framing,
        body,
        wire_len: head.head_len + body_wire,
    }))
}

/// Decodes a chunked body at the front of `buf`: the body and the bytes it
/// took (trailers included), or `None` while incomplete.
pub fn dechunk(buf: &[u8]) -> Result<Option<(Vec<u8>, usize)>, FramingError> {
    let mut body = Vec::new();
    let mut at = 0;
    loop {
        let Some(eol) = find(&buf[at..], b"\r\n") else {
            return Ok(None);
        };
        let line = std::str::from_utf8(&buf[at..at + eol]).map_err(|_| FramingError::Malformed)?;
        let size = line.split(';').next().unwrap_or_default().trim();
        let size = usize::from_str_radix(size, 16).map_err(|_| FramingError::Malformed)?;
        at += eol + 2;
        if size == 0 {
            // Trailers end with an empty line.
            loop {
                let Some(eol) = find(&buf[at..], b"\r\n") else {
                    return Ok(None);
                };
                at += eol + 2;
                if eol == 0 {
                    return Ok(Some((body, at)));
                }
            }
        }
        let Some(data) = buf.get(at..at + size) else {
            return Ok(None);
        };
        match buf.get(at + size..at + size + 2) {
            None => return Ok(None),
            Some(b"\r\n") => {}
            Some(_) => return Err(FramingError::Malformed),
        }
        body.extend_from_slice(data);
        at += size + 2;
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// A running proxy. Dropping it stops accepting (open connections end with
/// their sockets).
pub struct StampProxy {
    port: u16,
    stop: Arc<AtomicBool>,
    accept: Option<JoinHandle<()>>,
}

impl StampProxy {
    /// Listens on 127.0.0.1:0 and forwards to `upstream`, sending a
    /// [`Stamped`] per request to `stamps`.
    pub fn start(upstream: SocketAddr, stamps: Sender<Stamped>) -> io::Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let port = listener.local_addr()?.port();
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let accept = std::thread::Builder::new()
            .name("stamp-proxy-accept".into())
            .spawn(move || {
                for client in listener.incoming() {
                    if flag.load(Ordering::SeqCst) {
                        break;
                    }
                    let Ok(client) = client else { continue };
                    let stamps = stamps.clone();
                    let _ = std::thread::Builder::new()
                        .name("stamp-proxy-conn".into())
                        .spawn(move || {
                            if let Err(e) = proxy(client, upstream, &stamps) {
                                if e.kind() != io::ErrorKind::ConnectionReset {
                                    eprintln!("stamp proxy: connection ended: {e}");
                                }
                            }
                        });
                }
            })?;
        Ok(Self {
            port,
            stop,
            accept: Some(accept),
        })
    }

    /// The port it listens on.
    pub fn port(&self) -> u16 {
        self.port
    }
}

impl Drop for StampProxy {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake the blocking accept so it sees the flag.
        let _ = TcpStream::connect(("127.0.0.1", self.port));
        if let Some(t) = self.accept.take() {
            let _ = t.join();
        }
    }
}

/// Proxies one client connection until either side closes.
fn proxy(mut client: TcpStream, upstream: SocketAddr, stamps: &Sender<Stamped>) -> io::Result<()> {
    let mut server = TcpStream::connect(upstream)?;
    client.set_nodelay(true)?;
    server.set_nodelay(true)?;
    let (mut server_r, mut client_w) = (server.try_clone()?, client.try_clone()?);
    let down = std::thread::Builder::new()
        .name("stamp-proxy-down".into())
        .spawn(move || {
            let _ = io::copy(&mut server_r, &mut client_w);
            let _ = client_w.shutdown(Shutdown::Both);
        })?;
    let mut buf: Vec<u8> = Vec::with_capacity(16 * 1024);
    let mut chunk = vec![0u8; 16 * 1024];
    let mut passthrough = false;
    let result = loop {
        let n = match client.read(&mut chunk) {
            Ok(0) => break Ok(()),
            Ok(n) => n,
            Err(e) => break Err(e),
        };
        let at = Instant::now();
        if passthrough {
            if let Err(e) = server.write_all(&chunk[..n]) {
                break Err(e);
            }
            continue;
        }
        buf.extend_from_slice(&chunk[..n]);
        // Forward every complete request in the buffer.
        loop {
            match frame_request(&buf) {
                Ok(Some(request)) => {
                    let total = request.wire_len;
                    if let Err(e) = server.write_all(&buf[..total]) {
                        return finish(server, down, Err(e));
                    }
                    let _ = stamps.send(Stamped {
                        at,
                        method: request.method,
                        path: request.path,
                        framing: request.framing,
                        body: request.body,
                    });
                    buf.drain(..total);
                }
                Ok(None) => break,
                Err(e) => {
                    eprintln!("stamp proxy: cannot frame a request ({e:?}); passing bytes through without stamps");
                    passthrough = true;
                    if let Err(e) = server.write_all(&buf) {
                        return finish(server, down, Err(e));
                    }
                    buf.clear();
                    break;
                }
            }
        }
    };
    finish(server, down, result)
}

fn finish(server: TcpStream, down: JoinHandle<()>, result: io::Result<()>) -> io::Result<()> {
    let _ = server.shutdown(Shutdown::Both);
    let _ = down.join();
    result
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::mpsc;
    use std::time::Duration;

    #[test]
    fn requests_are_split_by_content_length() {
        let req = b"POST /api/v10/channels/1/messages HTTP/1.1\r\nHost: x\r\ncontent-length: 5\r\n\r\nhelloGET / HTTP/1.1\r\n\r\n";
        let first = frame_request(req).expect("frames").expect("complete");
        assert_eq!(first.method, "POST");
        assert_eq!(first.path, "/api/v10/channels/1/messages");
        assert_eq!(first.framing, BodyFraming::Length(5));
        assert_eq!(first.body, b"hello");
        let next = frame_request(&req[first.wire_len..])
            .expect("frames")
            .expect("complete");
        assert_eq!((next.method.as_str(), next.body.len()), ("GET", 0));
        assert_eq!(first.wire_len + next.wire_len, req.len());
    }

    #[test]
    fn chunked_bodies_are_decoded() {
        let req = b"POST /m HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6;x=y\r\n world\r\n0\r\n\r\nGET";
        let r = frame_request(req).expect("frames").expect("complete");
        assert_eq!(r.framing, BodyFraming::Chunked);
        assert_eq!(r.body, b"hello world");
        assert_eq!(&req[r.wire_len..], b"GET");
        // Every shorter prefix is incomplete, never an error.
        for cut in 0..r.wire_len {
            assert_eq!(frame_request(&req[..cut]), Ok(None), "cut at {cut}");
        }
        assert_eq!(
            dechunk(b"3\r\nabcX\r\n"),
            Err(FramingError::Malformed),
            "data not followed by CRLF"
        );
    }

    #[test]
    fn incomplete_and_malformed_heads() {
        assert_eq!(frame_request(b"POST / HTTP/1.1\r\nHost"), Ok(None));
        assert_eq!(
            frame_request(b"POST / HTTP/1.1\r\nContent-Length: 4\r\n\r\nab"),
            Ok(None)
        );
        assert_eq!(
            frame_request(b"POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n"),
            Err(FramingError::UnsupportedEncoding)
        );
        assert_eq!(
            frame_request(b"POST / HTTP/1.1\r\nContent-Length: x\r\n\r\n"),
            Err(FramingError::Malformed)
        );
        assert_eq!(
            frame_request(b"hello\r\n\r\n"),
            Err(FramingError::Malformed)
        );
        assert_eq!(
            frame_request(&vec![b'a'; MAX_HEAD + 1]),
            Err(FramingError::HeadTooLong)
        );
    }

    #[test]
    fn requests_are_forwarded_unchanged_and_stamped() {
        let one: &[u8] = b"POST /a HTTP/1.1\r\nContent-Length: 10\r\n\r\n0123456789";
        let upstream = TcpListener::bind("127.0.0.1:0").expect("bind");
        let addr = upstream.local_addr().expect("addr");
        let echo = std::thread::spawn(move || {
            let (mut s, _) = upstream.accept().expect("accept");
            s.set_read_timeout(Some(Duration::from_secs(5)))
                .expect("timeout");
            let mut got = Vec::new();
            let mut chunk = [0u8; 1024];
            while got.len() < 2 * one.len() {
                match s.read(&mut chunk) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => got.extend_from_slice(&chunk[..n]),
                }
            }
            s.write_all(b"ok").expect("answer");
            got
        });
        let (tx, rx) = mpsc::channel();
        let proxy = StampProxy::start(addr, tx).expect("proxy");
        let mut c = TcpStream::connect(("127.0.0.1", proxy.port())).expect("connect");
        c.set_read_timeout(Some(Duration::from_secs(5)))
            .expect("timeout");
        // The second request arrives in two writes.
        c.write_all(one).expect("write");
        c.write_all(&one[..20]).expect("write");
        std::thread::sleep(Duration::from_millis(20));
        c.write_all(&one[20..]).expect("write");
        let mut answer = [0u8; 2];
        c.read_exact(&mut answer).expect("answer through the proxy");
        assert_eq!(&answer, b"ok");
        let got = echo.join().expect("upstream thread");
        assert_eq!(got, [one, one].concat());
        let a = rx
            .recv_timeout(Duration::from_secs(5))
            .expect("first stamp");
        let b = rx
            .recv_timeout(Duration::from_secs(5))
            .expect("second stamp");
        assert_eq!((a.method.as_str(), a.path.as_str()), ("POST", "/a"));
        assert_eq!(a.body, b"0123456789");
        // Stamped when the last byte arrived, so in arrival order.
        assert!(b.at >= a.at);
        assert_eq!(b.body, b"0123456789");
    }
}
