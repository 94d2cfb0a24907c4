//! The WebSocket side both fakes share: one thread running a smol executor
//! that accepts connections on 127.0.0.1, does the upgrade (recording path,
//! query and headers), and runs a reader and a writer per connection.
//!
//! A fake sees a connection through [`WsHandler`]: it gets an [`OutTx`] on
//! open and pushes [`Out`] items into it from any thread (the test thread
//! included); the writer sends them in order, encoding text frames as the
//! handler chose ([`Encoding`]). Inbound frames reach the handler
//! synchronously from the reader.

use std::io::Write;
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use async_tungstenite::tungstenite::handshake::server::{ErrorResponse, Request, Response};
use async_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use async_tungstenite::tungstenite::protocol::CloseFrame;
use async_tungstenite::tungstenite::Message;
use flate2::{Compress, Compression, FlushCompress};
use futures_lite::{future, FutureExt, StreamExt};
use smol::Timer;

/// Longest a close handshake or a WebSocket upgrade may take.
const HANDSHAKE_BOUND: Duration = Duration::from_secs(1);

/// What the writer of one connection does next.
#[derive(Debug)]
pub(crate) enum Out {
    /// A text frame (encoded per the connection's [`Encoding`]).
    Text(String),
    /// A close frame with this code and reason; then the socket is dropped
    /// (after the peer's reply or [`HANDSHAKE_BOUND`]).
    Close(u16, String),
    /// Shut the TCP connection down with no close frame.
    Drop,
    /// Hold every later item back this long.
    Delay(Duration),
}

pub(crate) type OutTx = smol::channel::Sender<Out>;

/// How text frames are put on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Encoding {
    /// Text frames.
    Plain,
    /// Discord `compress=zlib-stream`: one compressor per connection, every
    /// message a binary frame ending in a sync flush (`00 00 ff ff`).
    ZlibStream,
    /// KOOK `compress=1`: every message a binary frame holding one complete
    /// zlib stream.
    ZlibPerFrame,
}

/// The upgrade request of a connection.
#[derive(Debug, Clone, Default)]
pub(crate) struct Handshake {
    pub(crate) path: String,
    pub(crate) query: Vec<(String, String)>,
    pub(crate) headers: Vec<(String, String)>,
}

/// A fake's view of its WebSocket connections.
pub(crate) trait WsHandler: Send + Sync + 'static {
    /// A connection `id` finished its upgrade; `out` feeds its writer.
    fn on_open(&self, id: u64, handshake: Handshake, out: OutTx) -> Encoding;
    /// A text (or binary, lossily decoded) frame arrived.
    fn on_text(&self, id: u64, text: &str);
    /// The client sent a close frame.
    fn on_close_frame(&self, id: u64, code: Option<u16>);
    /// The connection is gone (either side).
    fn on_closed(&self, id: u64);
}

/// Binds 127.0.0.1:0 and serves WebSocket connections on a thread until
/// `stop` closes or `deadline`. Returns the port.
pub(crate) fn spawn(
    name: &str,
    handler: Arc<dyn WsHandler>,
    stop: smol::channel::Receiver<()>,
    deadline: Instant,
) -> std::io::Result<(u16, JoinHandle<()>)> {
    let std_listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    let port = std_listener.local_addr()?.port();
    let listener = smol::net::TcpListener::try_from(std_listener)?;
    let thread = std::thread::Builder::new()
        .name(format!("{name}-ws"))
        .spawn(move || {
            let ex = smol::LocalExecutor::new();
            let accept = async {
                let mut next_id = 0u64;
                loop {
                    let stream = match listener.accept().await {
                        Ok((s, _)) => s,
                        Err(_) => {
                            Timer::after(Duration::from_millis(10)).await;
                            continue;
                        }
                    };
                    next_id += 1;
                    ex.spawn(connection(stream, next_id, handler.clone()))
                        .detach();
                }
            };
            let stop = async {
                // Closed (the handle was dropped) or a message: stop either way.
                let _ = stop.recv().await;
            };
            let lifetime = async {
                Timer::at(deadline).await;
            };
            // When this returns, dropping `ex` cancels every connection task
            // and closes their sockets.
            smol::block_on(ex.run(accept.or(stop).or(lifetime)));
        })?;
    Ok((port, thread))
}

async fn connection(stream: smol::net::TcpStream, id: u64, handler: Arc<dyn WsHandler>) {
    let tcp = stream.clone();
    let captured = Arc::new(Mutex::new(Handshake::default()));
    let cap = captured.clone();
    // The signature is tungstenite's `Callback`; the error type is theirs.
    #[allow(clippy::result_large_err)]
    let callback = move |req: &Request, resp: Response| -> Result<Response, ErrorResponse> {
        let mut h = cap.lock().unwrap_or_else(|e| e.into_inner());
        h.path = req.uri().path().to_owned();
        h.query = crate::http::parse_query(req.uri().query().unwrap_or(""));
        h.headers = req
            .headers()
            .iter()
            .map(|(k, v)| {
                (
                    k.as_str().to_owned(),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )
            })
            .collect();
        Ok(resp)
    };
    let upgrade = async {
        async_tungstenite::accept_hdr_async(stream, callback)
            .await
            .ok()
    };
    let timeout = async {
        Timer::after(HANDSHAKE_BOUND * 5).await;
        None
    };
    let Some(ws) = upgrade.or(timeout).await else {
        return;
    };
    let handshake = captured.lock().unwrap_or_else(|e| e.into_inner()).clone();
    let (mut sender, mut receiver) = ws.split();
    let (out_tx, out_rx) = smol::channel::unbounded();
    let encoding = handler.on_open(id, handshake, out_tx.clone());

    let writer = async {
        let mut zlib = Compress::new(Compression::default(), true);
        while let Ok(out) = out_rx.recv().await {
            match out {
                Out::Text(text) => {
                    let msg = match encoding {
                        Encoding::Plain => Message::Text(text.into()),
                        Encoding::ZlibStream => {
                            Message::Binary(deflate_sync(&mut zlib, text.as_bytes()).into())
                        }
                        Encoding::ZlibPerFrame => {
                            Message::Binary(zlib_frame(text.as_bytes()).into())
                        }
                    };
                    if sender.send(msg).await.is_err() {
                        break;
                    }
                }
                Out::Close(code, reason) => {
                    let frame = CloseFrame {
                        code: CloseCode::from(code),
                        reason: reason.into(),
                    };
                    let _ = sender.send(Message::Close(Some(frame))).await;
                    Timer::after(HANDSHAKE_BOUND).await;
                    let _ = tcp.shutdown(std::net::Shutdown::Both);
                    break;
                }
                Out::Drop => {
                    let _ = tcp.shutdown(std::net::Shutdown::Both);
                    break;
                }
                Out::Delay(d) => {
                    Timer::after(d).await;
                }
            }
        }
    };
    let reader = async {
        while let Some(msg) = receiver.next().await {
            match msg {
                Ok(Message::Text(t)) => handler.on_text(id, t.as_str()),
                Ok(Message::Binary(b)) => handler.on_text(id, &String::from_utf8_lossy(&b)),
                Ok(Message::Close(frame)) => {
                    handler.on_close_frame(id, frame.map(|f| u16::from(f.code)));
                }
                Ok(_) => {}
                Err(_) => break,
            }
        }
        handler.on_closed(id);
        out_tx.close();
    };
    future::zip(writer, reader).await;
}

/// Compresses `input` on the connection's shared zlib stream, ending with a
/// sync flush so the frame ends in `00 00 ff ff`.
pub(crate) fn deflate_sync(c: &mut Compress, input: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(input.len() / 2 + 64);
    let mut rest = input;
    loop {
        if out.capacity() - out.len() < 64 {
            out.reserve(out.capacity().max(1024));
        }
        let before = c.total_in();
        if c.compress_vec(rest, &mut out, FlushCompress::Sync).is_err() {
            // Cannot happen for an in-memory stream with a correct buffer; an
            // empty frame makes the client's inflate fail visibly.
            return Vec::new();
        }
        let used = usize::try_from(c.total_in() - before).unwrap_or(rest.len());
        rest = &rest[used.min(rest.len())..];
        if rest.is_empty() && out.len() < out.capacity() {
            return out;
        }
    }
}

/// One complete zlib stream holding `input`.
pub(crate) fn zlib_frame(input: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::ZlibEncoder::new(Vec::new(), Compression::default());
    // Writing into a Vec cannot fail.
    let _ = enc.write_all(input);
    enc.finish().unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use flate2::{Decompress, FlushDecompress};

    #[test]
    fn zlib_stream_frames_end_in_sync_flush_and_share_one_context() {
        let mut c = Compress::new(Compression::default(), true);
        let a = deflate_sync(&mut c, br#"{"op":10}"#);
        let big = "x".repeat(100_000);
        let b = deflate_sync(&mut c, big.as_bytes());
        assert!(a.ends_with(&[0, 0, 0xff, 0xff]));
        assert!(b.ends_with(&[0, 0, 0xff, 0xff]));
        let mut d = Decompress::new(true);
        let mut out = Vec::with_capacity(200_000);
        d.decompress_vec(&a, &mut out, FlushDecompress::Sync)
            .expect("first frame inflates");
        assert_eq!(out, br#"{"op":10}"#);
        out.clear();
        d.decompress_vec(&b, &mut out, FlushDecompress::Sync)
            .expect("second frame inflates on the same context");
        assert_eq!(out.len(), 100_000);
    }

    #[test]
    fn zlib_frames_are_complete_streams() {
        let f = zlib_frame(b"hello");
        let mut d = flate2::read::ZlibDecoder::new(&f[..]);
        let mut s = String::new();
        std::io::Read::read_to_string(&mut d, &mut s).expect("inflates alone");
        assert_eq!(s, "hello");
    }
}
