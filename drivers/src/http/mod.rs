//! The HTTP transport: performs a [`krill_core::rest::http::HttpRequest`]
//! on the async runtime of its caller (no thread hop: the gateway's REST
//! calls run on its one runtime thread) and hands back an
//! [`HttpResponse`]. It makes no decisions: every status (429, 5xx, 401
//! included) comes back as a response for the core's REST planner to judge;
//! only a request that got no status at all is a [`TransportError`].
//!
//! The protocol is ureq's sans-IO HTTP/1.1 ([`ureq_proto`], the core of
//! ureq itself); sockets are smol's, TLS is async-native-tls.
//!
//! | module | owns |
//! |---|---|
//! | [`connection`] | one TCP/TLS connection and its buffers |
//! | [`deadline`] | the overall time limit of the calls in flight, one ticker for all |
//! | [`exchange`] | one request and its response over a connection |
//! | [`pool`] | kept-alive connections per origin |
//! | [`resolve`] | host names to addresses, cached |
//!
//! - one [`HttpClient`] per process ([`HttpClient::shared`]): one pool, so
//!   connections are kept alive and reused; a request that finds its
//!   kept-alive connection closed by the server before any byte of the
//!   response came back is sent once more on a new connection;
//! - timeouts: connect (TCP and TLS) 10 s, whole call 30 s (see
//!   [`HttpClientConfig`]; the whole-call limit is enforced within a
//!   quarter second after it passes, [`deadline`]);
//! - response bodies are bounded (8 MiB by default), response heads to
//!   16 KiB;
//! - `Authorization` comes from the request's [`krill_core::secret::Secret`]
//!   and appears in no error or log line; URLs in errors and in the debug
//!   line of each call are redacted (query secrets, userinfo), their route
//!   paths kept.

mod connection;
mod deadline;
mod exchange;
mod pool;
mod resolve;

use std::future::Future;
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use krill_core::rest::http::{HttpRequest, HttpResponse, Method};
use ureq_proto::http;

use crate::ws::redact_url;
use connection::{Connection, OpenError, Origin};
use exchange::{exchange, Failure};

/// Limits of an [`HttpClient`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpClientConfig {
    /// TCP (and TLS) connect timeout.
    pub connect_timeout: Duration,
    /// Deadline for the whole call, body included.
    pub overall_timeout: Duration,
    /// Responses with longer bodies fail with [`TransportError::BodyTooLarge`].
    pub max_body_bytes: u64,
}

impl Default for HttpClientConfig {
    fn default() -> Self {
        Self {
            connect_timeout: Duration::from_secs(10),
            overall_timeout: Duration::from_secs(30),
            max_body_bytes: 8 * 1024 * 1024,
        }
    }
}

/// A request that got no HTTP status back. Messages never include a token.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TransportError {
    /// The request could not be built (bad URL, bad header value).
    #[error("invalid request to {url}: {reason}")]
    InvalidRequest {
        /// The URL, redacted.
        url: String,
        /// What was wrong.
        reason: String,
    },
    /// A timeout expired (connect or overall).
    #[error("request to {url} timed out")]
    Timeout {
        /// The URL, redacted.
        url: String,
    },
    /// Could not connect (refused, unreachable, DNS).
    #[error("could not connect to {url}: {reason}")]
    Connect {
        /// The URL, redacted.
        url: String,
        /// The cause.
        reason: String,
    },
    /// TLS failed.
    #[error("TLS with {url} failed: {reason}")]
    Tls {
        /// The URL, redacted.
        url: String,
        /// The cause.
        reason: String,
    },
    /// The response body was over the limit.
    #[error("response from {url} is larger than {limit} bytes")]
    BodyTooLarge {
        /// The URL, redacted.
        url: String,
        /// The limit.
        limit: u64,
    },
    /// Any other failure on the wire (reset, broken HTTP).
    #[error("HTTP exchange with {url} failed: {reason}")]
    Io {
        /// The URL, redacted.
        url: String,
        /// The cause.
        reason: String,
    },
}

/// Runs HTTP requests. Cheap to clone (the pool is shared).
#[derive(Debug, Clone)]
pub struct HttpClient {
    inner: Arc<ClientInner>,
}

#[derive(Debug)]
struct ClientInner {
    config: HttpClientConfig,
    pool: pool::Pool,
    resolver: resolve::Resolver,
    deadlines: Arc<deadline::Deadlines>,
    tls: TlsConnectorDebug,
}

/// async-native-tls's connector, which has no `Debug`.
struct TlsConnectorDebug(async_native_tls::TlsConnector);

impl std::fmt::Debug for TlsConnectorDebug {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TlsConnector")
    }
}

impl HttpClient {
    /// A client with its own connection pool.
    pub fn new(config: &HttpClientConfig) -> Self {
        Self {
            inner: Arc::new(ClientInner {
                config: config.clone(),
                pool: pool::Pool::default(),
                resolver: resolve::Resolver::default(),
                deadlines: Arc::default(),
                tls: TlsConnectorDebug(async_native_tls::TlsConnector::new()),
            }),
        }
    }

    /// The process-wide client (default limits), created on first use.
    pub fn shared() -> &'static HttpClient {
        static SHARED: OnceLock<HttpClient> = OnceLock::new();
        SHARED.get_or_init(|| HttpClient::new(&HttpClientConfig::default()))
    }

    /// Performs `request` on the caller's runtime, reusing a kept-alive
    /// connection when there is one, logging the call at debug: method, URL
    /// with its route path (only secrets masked), status and time.
    pub async fn execute(&self, request: HttpRequest) -> Result<HttpResponse, TransportError> {
        self.execute_ref(&request).await
    }

    /// Performs `request` on this thread, blocking until it is done (up to
    /// the overall timeout): for commands that run outside the gateway.
    pub fn execute_blocking(&self, request: &HttpRequest) -> Result<HttpResponse, TransportError> {
        smol::block_on(self.execute_ref(request))
    }

    async fn execute_ref(&self, request: &HttpRequest) -> Result<HttpResponse, TransportError> {
        let started = Instant::now();
        let url = redact_url(&request.url);
        let result = self
            .inner
            .deadlines
            .within(
                self.inner.config.overall_timeout,
                self.perform(request, &url),
            )
            .await
            .unwrap_or_else(|| Err(TransportError::Timeout { url: url.clone() }));
        let ms = started.elapsed().as_millis();
        match &result {
            Ok(response) => tracing::debug!(
                "HTTP {} {url} -> {} ({ms} ms)",
                request.method,
                response.status
            ),
            Err(error) => {
                tracing::debug!("HTTP {} {url} failed ({ms} ms): {error}", request.method)
            }
        }
        result
    }

    async fn perform(
        &self,
        request: &HttpRequest,
        url: &str,
    ) -> Result<HttpResponse, TransportError> {
        let mut head = request_head(request, url)?;
        let origin = Origin::of(head.uri()).ok_or_else(|| TransportError::InvalidRequest {
            url: url.to_owned(),
            reason: "only http and https URLs with a host are supported".to_owned(),
        })?;
        let body = request.body.as_deref().unwrap_or_default();
        let limit = self.inner.config.max_body_bytes;
        let mut pooled = self.inner.pool.take(&origin, Instant::now());
        loop {
            let reused = pooled.is_some();
            let mut conn = match pooled.take() {
                Some(conn) => conn,
                None => self.connect(&origin, url).await?,
            };
            match exchange(&mut conn, head, body, limit).await {
                Ok(done) => {
                    if done.reusable {
                        self.inner.pool.put(&origin, conn, Instant::now());
                    }
                    return Ok(done.response);
                }
                // A kept-alive connection the server closed while it was
                // idle: nothing of the request was answered; once more on a
                // new connection.
                Err(failed) if reused && !failed.response_started => {
                    head = request_head(request, url)?;
                }
                Err(failed) => return Err(exchange_error(failed.failure, url, limit)),
            }
        }
    }

    /// A new connection to `origin`, within the connect timeout.
    async fn connect(&self, origin: &Origin, url: &str) -> Result<Connection, TransportError> {
        let open = async {
            let addrs = self
                .inner
                .resolver
                .resolve(&origin.host, origin.port)
                .await
                .map_err(|e| TransportError::Connect {
                    url: url.to_owned(),
                    reason: format!("cannot resolve {}: {e}", origin.host),
                })?;
            Connection::open(origin, &addrs, &self.inner.tls.0)
                .await
                .map_err(|e| open_error(e, url))
        };
        within(self.inner.config.connect_timeout, open)
            .await
            .unwrap_or_else(|| {
                Err(TransportError::Timeout {
                    url: url.to_owned(),
                })
            })
    }
}

/// `future`'s output, or `None` when `limit` passes first.
async fn within<T>(limit: Duration, future: impl Future<Output = T>) -> Option<T> {
    futures_lite::future::or(async { Some(future.await) }, async {
        smol::Timer::after(limit).await;
        None
    })
    .await
}

/// The request line and headers of `request` (`Authorization` marked
/// sensitive; `Content-Length` set for a body, and `0` for a POST, PUT or
/// PATCH without one, which some servers refuse without it).
fn request_head(request: &HttpRequest, url: &str) -> Result<http::Request<()>, TransportError> {
    let invalid = |reason: String| TransportError::InvalidRequest {
        url: url.to_owned(),
        reason,
    };
    let mut builder = http::Request::builder()
        .method(request.method.as_str())
        .uri(request.url.as_str());
    let mut has_length = false;
    for (name, value) in &request.headers {
        has_length |= name.eq_ignore_ascii_case("content-length");
        builder = builder.header(name.as_str(), value.as_str());
    }
    if let Some(auth) = &request.authorization {
        let mut value = http::HeaderValue::from_str(auth.expose())
            .map_err(|_| invalid("the Authorization value is not a valid header value".into()))?;
        value.set_sensitive(true);
        builder = builder.header(http::header::AUTHORIZATION, value);
    }
    let length = match &request.body {
        Some(body) => Some(body.len()),
        None if matches!(request.method, Method::Post | Method::Put | Method::Patch) => Some(0),
        None => None,
    };
    if let (Some(length), false) = (length, has_length) {
        builder = builder.header(http::header::CONTENT_LENGTH, length);
    }
    builder
        .body(())
        .map_err(|e| invalid(redact_url(&e.to_string())))
}

fn open_error(e: OpenError, url: &str) -> TransportError {
    let url = url.to_owned();
    match e {
        OpenError::Tcp(io) if io.kind() == std::io::ErrorKind::TimedOut => {
            TransportError::Timeout { url }
        }
        OpenError::Tcp(io) => TransportError::Connect {
            url,
            reason: redact_url(&io.to_string()),
        },
        OpenError::Tls(tls) => TransportError::Tls {
            url,
            reason: redact_url(&tls.to_string()),
        },
    }
}

fn exchange_error(failure: Failure, url: &str, limit: u64) -> TransportError {
    let url = url.to_owned();
    match failure {
        Failure::Io(io) if io.kind() == std::io::ErrorKind::TimedOut => {
            TransportError::Timeout { url }
        }
        Failure::Io(io) => TransportError::Io {
            url,
            reason: redact_url(&io.to_string()),
        },
        Failure::Protocol(e) => TransportError::Io {
            url,
            reason: format!("broken HTTP: {}", redact_url(&e.to_string())),
        },
        Failure::Closed => TransportError::Io {
            url,
            reason: "the connection closed before the response was complete".to_owned(),
        },
        Failure::BodyTooLarge => TransportError::BodyTooLarge { url, limit },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{BufRead, BufReader, Read, Write};
    use std::net::TcpListener;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;

    /// What the test server does with each request on a connection.
    #[derive(Clone, Copy)]
    enum Answer {
        /// `200` with a `Content-Length` body, connection kept.
        Sized,
        /// `200` with a chunked body, connection kept.
        Chunked,
        /// `200` with a body, then the connection is closed without
        /// `Connection: close` (as an idle timeout on the server would).
        SizedThenClose,
        /// Answers the first request on a connection; reads the second and
        /// closes without a word (the server dropped the kept-alive
        /// connection just as the request went out).
        OnceThenDropNext,
        /// Reads the request, then says nothing for two seconds.
        Silent,
    }

    /// A server on 127.0.0.1 answering every request with `answer`; counts
    /// connections accepted and records request heads. Stops after
    /// `connections` connections (each bounded by a read timeout).
    fn serve(
        answer: Answer,
        connections: usize,
    ) -> (String, Arc<AtomicUsize>, Arc<std::sync::Mutex<Vec<String>>>) {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let base = format!("http://{}", listener.local_addr().expect("addr"));
        let accepted = Arc::new(AtomicUsize::new(0));
        let heads = Arc::new(std::sync::Mutex::new(Vec::new()));
        let (count, seen) = (accepted.clone(), heads.clone());
        std::thread::spawn(move || {
            for _ in 0..connections {
                let Ok((stream, _)) = listener.accept() else {
                    return;
                };
                count.fetch_add(1, Ordering::SeqCst);
                stream
                    .set_read_timeout(Some(Duration::from_secs(5)))
                    .expect("timeout");
                let mut reader = BufReader::new(stream.try_clone().expect("clone"));
                let mut writer = stream;
                'requests: for n in 0..100 {
                    let mut head = String::new();
                    let mut length = 0usize;
                    loop {
                        let mut line = String::new();
                        match reader.read_line(&mut line) {
                            Ok(0) | Err(_) => break 'requests,
                            Ok(_) => {}
                        }
                        if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                            length = v.trim().parse().unwrap_or(0);
                        }
                        if line == "\r\n" {
                            break;
                        }
                        head.push_str(&line);
                    }
                    let mut body = vec![0; length];
                    if reader.read_exact(&mut body).is_err() {
                        break;
                    }
                    head.push_str(&String::from_utf8_lossy(&body));
                    seen.lock().expect("heads").push(head);
                    if n == 1 && matches!(answer, Answer::OnceThenDropNext) {
                        break;
                    }
                    if matches!(answer, Answer::Silent) {
                        std::thread::sleep(Duration::from_secs(2));
                        break;
                    }
                    let reply: &[u8] = match answer {
                        Answer::Sized | Answer::SizedThenClose | Answer::OnceThenDropNext => {
                            b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nX-Test: yes\r\n\r\nhello"
                        }
                        Answer::Chunked | Answer::Silent => {
                            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nhel\r\n2\r\nlo\r\n0\r\n\r\n"
                        }
                    };
                    if writer.write_all(reply).is_err() {
                        break;
                    }
                    if matches!(answer, Answer::SizedThenClose) {
                        break;
                    }
                }
            }
        });
        (base, accepted, heads)
    }

    fn get(url: String) -> HttpRequest {
        HttpRequest {
            method: Method::Get,
            url,
            authorization: None,
            headers: vec![("User-Agent".to_owned(), "krill-test".to_owned())],
            body: None,
        }
    }

    #[test]
    fn kept_alive_connections_carry_the_next_request() {
        let (base, accepted, _) = serve(Answer::Sized, 2);
        let client = HttpClient::new(&HttpClientConfig::default());
        smol::block_on(async {
            for _ in 0..5 {
                let response = client.execute(get(format!("{base}/a"))).await.expect("200");
                assert_eq!(response.status, 200);
                assert_eq!(response.body, b"hello");
                assert_eq!(response.header("x-test"), Some("yes"));
            }
        });
        assert_eq!(
            accepted.load(Ordering::SeqCst),
            1,
            "one connection for five requests"
        );
        let origin = Origin::of(&base.parse().expect("uri")).expect("origin");
        assert_eq!(client.inner.pool.idle_count(&origin), 1);
    }

    #[test]
    fn chunked_bodies_are_decoded() {
        let (base, _, _) = serve(Answer::Chunked, 1);
        let client = HttpClient::new(&HttpClientConfig::default());
        let response = smol::block_on(client.execute(get(format!("{base}/c")))).expect("200");
        assert_eq!(response.body, b"hello");
    }

    #[test]
    fn a_connection_the_server_closed_while_idle_is_replaced() {
        let (base, accepted, heads) = serve(Answer::SizedThenClose, 3);
        let client = HttpClient::new(&HttpClientConfig::default());
        smol::block_on(async {
            for _ in 0..3 {
                let response = client.execute(get(format!("{base}/s"))).await.expect("200");
                assert_eq!(response.body, b"hello");
                // Let the server's FIN arrive before the next request.
                smol::Timer::after(Duration::from_millis(20)).await;
            }
        });
        assert_eq!(accepted.load(Ordering::SeqCst), 3);
        assert_eq!(
            heads.lock().expect("heads").len(),
            3,
            "each request sent once"
        );
    }

    #[test]
    fn a_request_dropped_unanswered_on_a_kept_alive_connection_goes_again_on_a_new_one() {
        let (base, accepted, heads) = serve(Answer::OnceThenDropNext, 2);
        let client = HttpClient::new(&HttpClientConfig::default());
        smol::block_on(async {
            for path in ["/one", "/two"] {
                let response = client
                    .execute(get(format!("{base}{path}")))
                    .await
                    .expect("200");
                assert_eq!(response.body, b"hello");
            }
        });
        assert_eq!(accepted.load(Ordering::SeqCst), 2);
        let heads = heads.lock().expect("heads");
        let paths: Vec<&str> = heads
            .iter()
            .map(|h| h.split(' ').nth(1).unwrap_or(""))
            .collect();
        assert_eq!(paths, ["/one", "/two", "/two"]);
    }

    #[test]
    fn bodies_get_a_content_length_and_puts_without_one_get_zero() {
        let (base, _, heads) = serve(Answer::Sized, 1);
        let client = HttpClient::new(&HttpClientConfig::default());
        smol::block_on(async {
            let mut post = get(format!("{base}/p"));
            post.method = Method::Post;
            post.body = Some(b"{\"content\":\"hi\"}".to_vec());
            client.execute(post).await.expect("200");
            let mut put = get(format!("{base}/q"));
            put.method = Method::Put;
            client.execute(put).await.expect("200");
        });
        let heads = heads.lock().expect("heads");
        assert!(heads[0].starts_with("POST /p HTTP/1.1\r\n"), "{}", heads[0]);
        assert!(heads[0].contains("content-length: 16\r\n"), "{}", heads[0]);
        assert!(heads[0].ends_with("{\"content\":\"hi\"}"), "{}", heads[0]);
        assert!(!heads[0].contains("transfer-encoding"), "{}", heads[0]);
        assert!(heads[1].starts_with("PUT /q HTTP/1.1\r\n"), "{}", heads[1]);
        assert!(heads[1].contains("content-length: 0\r\n"), "{}", heads[1]);
    }

    #[test]
    fn a_call_past_the_overall_limit_times_out() {
        let (base, _, _) = serve(Answer::Silent, 1);
        let client = HttpClient::new(&HttpClientConfig {
            overall_timeout: Duration::from_millis(300),
            ..HttpClientConfig::default()
        });
        let started = Instant::now();
        let err = smol::block_on(client.execute(get(format!("{base}/slow")))).expect_err("late");
        let took = started.elapsed();
        assert!(matches!(err, TransportError::Timeout { .. }), "{err}");
        assert!(
            took < Duration::from_millis(300) + deadline::TICK * 3,
            "{took:?}"
        );
    }

    #[test]
    fn other_schemes_are_invalid_requests() {
        let err = HttpClient::shared()
            .execute_blocking(&get("ftp://127.0.0.1/x".to_owned()))
            .expect_err("not http");
        assert!(
            matches!(err, TransportError::InvalidRequest { .. }),
            "{err}"
        );
    }
}
