//! [`Connection`]: one HTTP/1.1 connection, plain TCP or TLS over TCP,
//! driven by the async runtime (no thread of its own), with the read and
//! write buffers it keeps for its whole life, pooled or not.
//!
//! - [`Connection::open`] tries the resolved addresses in order, sets
//!   `TCP_NODELAY`, and wraps the socket in TLS (async-native-tls, the
//!   platform's roots and host-name check) for `https`;
//! - [`Connection::looks_open`] tells whether an idle connection can carry
//!   another request: nothing unread, and the socket neither readable nor
//!   closed by the peer (a server that dropped a kept-alive connection shows
//!   as end-of-file or an alert before it is reused).

use std::io;
use std::net::{SocketAddr, TcpStream};

use async_native_tls::{TlsConnector, TlsStream};
use futures_lite::{AsyncReadExt, AsyncWriteExt};
use smol::Async;

/// The size of a connection's read and write buffers; also the longest
/// response head (status line and headers) accepted.
pub(super) const IO_BUFFER_BYTES: usize = 16 * 1024;

/// Where a request goes: what idle connections are kept under.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(super) struct Origin {
    /// `https` (TLS) or `http`.
    pub tls: bool,
    /// The host, IPv6 literals without brackets.
    pub host: String,
    /// The port, explicit or the scheme's.
    pub port: u16,
}

impl Origin {
    /// The origin of `uri`; `None` for a scheme other than http(s) or a
    /// URI without a host.
    pub fn of(uri: &ureq_proto::http::Uri) -> Option<Origin> {
        let tls = match uri.scheme_str()? {
            "https" => true,
            "http" => false,
            _ => return None,
        };
        let authority = uri.authority()?;
        let port = authority.port_u16().unwrap_or(if tls { 443 } else { 80 });
        let host = authority.host();
        let host = host
            .strip_prefix('[')
            .and_then(|h| h.strip_suffix(']'))
            .unwrap_or(host);
        Some(Origin {
            tls,
            host: host.to_owned(),
            port,
        })
    }
}

/// Why a connection could not be opened.
#[derive(Debug)]
pub(super) enum OpenError {
    /// No address accepted the TCP connection (the last address's error).
    Tcp(io::Error),
    /// The TLS handshake failed.
    Tls(async_native_tls::Error),
}

enum Stream {
    Plain(Async<TcpStream>),
    Tls(Box<TlsStream<Async<TcpStream>>>),
}

/// An open connection and its buffers.
pub(super) struct Connection {
    stream: Stream,
    /// Bytes read from the stream; `input[start..end]` are not consumed yet.
    input: Box<[u8]>,
    start: usize,
    end: usize,
    /// Where requests are serialized before they are written.
    pub output: Box<[u8]>,
}

impl std::fmt::Debug for Connection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let kind = match self.stream {
            Stream::Plain(_) => "plain",
            Stream::Tls(_) => "tls",
        };
        f.debug_struct("Connection")
            .field("stream", &kind)
            .field("unread", &(self.end - self.start))
            .finish()
    }
}

impl Connection {
    /// Connects to the first of `addrs` that accepts, then does TLS for an
    /// `https` origin.
    pub async fn open(
        origin: &Origin,
        addrs: &[SocketAddr],
        tls: &TlsConnector,
    ) -> Result<Connection, OpenError> {
        let mut last = io::Error::new(io::ErrorKind::NotFound, "the host has no address");
        let mut tcp = None;
        for addr in addrs {
            match Async::<TcpStream>::connect(*addr).await {
                Ok(stream) => {
                    tcp = Some(stream);
                    break;
                }
                Err(e) => last = e,
            }
        }
        let tcp = tcp.ok_or(OpenError::Tcp(last))?;
        // Requests are written whole; waiting to coalesce only adds latency.
        tcp.get_ref().set_nodelay(true).map_err(OpenError::Tcp)?;
        let stream = if origin.tls {
            let tls = tls
                .connect(origin.host.as_str(), tcp)
                .await
                .map_err(OpenError::Tls)?;
            Stream::Tls(Box::new(tls))
        } else {
            Stream::Plain(tcp)
        };
        Ok(Connection {
            stream,
            input: vec![0; IO_BUFFER_BYTES].into_boxed_slice(),
            start: 0,
            end: 0,
            output: vec![0; IO_BUFFER_BYTES].into_boxed_slice(),
        })
    }

    /// Read bytes not consumed yet.
    pub fn unread(&self) -> &[u8] {
        &self.input[self.start..self.end]
    }

    /// Marks `n` unread bytes consumed.
    pub fn consume(&mut self, n: usize) {
        self.start = (self.start + n).min(self.end);
        if self.start == self.end {
            self.start = 0;
            self.end = 0;
        }
    }

    /// Reads more bytes after the unread ones; `Ok(0)` at end of stream.
    /// Fails with `InvalidData` when the unread bytes fill the buffer (a
    /// response head longer than [`IO_BUFFER_BYTES`]).
    pub async fn fill(&mut self) -> io::Result<usize> {
        if self.end == self.input.len() {
            if self.start == 0 {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!("the response head is longer than {IO_BUFFER_BYTES} bytes"),
                ));
            }
            self.input.copy_within(self.start..self.end, 0);
            self.end -= self.start;
            self.start = 0;
        }
        let free = &mut self.input[self.end..];
        let n = match &mut self.stream {
            Stream::Plain(s) => s.read(free).await?,
            Stream::Tls(s) => s.read(free).await?,
        };
        self.end += n;
        Ok(n)
    }

    /// Writes `output[..len]` and flushes it.
    pub async fn send_output(&mut self, len: usize) -> io::Result<()> {
        let bytes = &self.output[..len];
        match &mut self.stream {
            Stream::Plain(s) => s.write_all(bytes).await,
            Stream::Tls(s) => {
                s.write_all(bytes).await?;
                s.flush().await
            }
        }
    }

    /// True when the connection can carry another request: nothing unread
    /// is left over, and the peer has neither closed it nor sent anything
    /// unasked (a TLS alert, a stray byte).
    pub fn looks_open(&self) -> bool {
        if self.start != self.end {
            return false;
        }
        let tcp = match &self.stream {
            Stream::Plain(s) => s.get_ref(),
            Stream::Tls(s) => {
                if s.buffered_read_size().map_or(true, |n| n > 0) {
                    return false;
                }
                s.get_ref().get_ref()
            }
        };
        let mut byte = [0u8; 1];
        matches!(tcp.peek(&mut byte), Err(e) if e.kind() == io::ErrorKind::WouldBlock)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn origin(text: &str) -> Option<Origin> {
        Origin::of(&text.parse().expect("a URI"))
    }

    #[test]
    fn origins_take_the_port_from_the_uri_or_the_scheme() {
        let cases = [
            (
                "http://127.0.0.1:8080/api",
                Some((false, "127.0.0.1", 8080)),
            ),
            (
                "https://discord.com/api/v10",
                Some((true, "discord.com", 443)),
            ),
            (
                "http://www.kookapp.cn/api/v3",
                Some((false, "www.kookapp.cn", 80)),
            ),
            ("http://[::1]:9/x", Some((false, "::1", 9))),
            ("ftp://example.com/file", None),
        ];
        for (text, expected) in cases {
            let got = origin(text);
            let got = got.as_ref().map(|o| (o.tls, o.host.as_str(), o.port));
            assert_eq!(got, expected, "{text}");
        }
    }

    #[test]
    fn a_connection_closed_by_the_peer_does_not_look_open() {
        smol::block_on(async {
            let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
            let addr = listener.local_addr().expect("addr");
            let origin = origin(&format!("http://{addr}/")).expect("origin");
            let tls = TlsConnector::new();
            let conn = Connection::open(&origin, &[addr], &tls)
                .await
                .expect("connects");
            let (peer, _) = listener.accept().expect("accept");
            assert!(conn.looks_open(), "an idle open connection");
            drop(peer);
            // The FIN travels over loopback; give it a moment.
            for _ in 0..100 {
                if !conn.looks_open() {
                    return;
                }
                smol::Timer::after(std::time::Duration::from_millis(5)).await;
            }
            panic!("a closed connection still looks open");
        });
    }
}
