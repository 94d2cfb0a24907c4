//! The HTTP transport: performs a [`krill_core::rest::http::HttpRequest`]
//! with ureq on one of krill's few long-lived worker threads
//! ([`crate::workers`]) and hands back an
//! [`HttpResponse`]. It makes no decisions: every status (429, 5xx, 401
//! included) comes back as a response for the core's REST planner to judge;
//! only a request that got no status at all is a [`TransportError`].
//!
//! - one [`HttpClient`] per process ([`HttpClient::shared`]): one ureq
//!   agent, so connections are pooled and reused;
//! - timeouts: connect 10 s, whole call 30 s (see [`HttpClientConfig`]);
//! - response bodies are bounded (8 MiB by default), response heads to
//!   16 KiB (a connection's read and write buffers are that size);
//! - `Authorization` comes from the request's [`krill_core::secret::Secret`]
//!   and appears in no error or log line; URLs in errors and in the debug
//!   line of each call are redacted (query secrets, userinfo), their route
//!   paths kept;
//! - host names are resolved through [`CachingResolver`]: ureq 3 resolves
//!   before it looks in its pool, and with a timeout set it runs each lookup
//!   on a new thread, so without the cache every request (pooled connection
//!   or not) paid a thread spawn and a DNS lookup.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Mutex, OnceLock, PoisonError};
use std::time::{Duration, Instant};

use krill_core::rest::http::{HttpRequest, HttpResponse};
use ureq::http;
use ureq::unversioned::resolver::{DefaultResolver, ResolvedSocketAddrs, Resolver};
use ureq::unversioned::transport::{DefaultConnector, NextTimeout};

use crate::ws::redact_url;

/// The size of a connection's read and write buffers, and the longest
/// response head (status line and headers) accepted.
const IO_BUFFER_BYTES: usize = 16 * 1024;

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

/// Runs HTTP requests. Cheap to clone (the agent and its pool are shared).
#[derive(Debug, Clone)]
pub struct HttpClient {
    agent: ureq::Agent,
    max_body_bytes: u64,
}

impl HttpClient {
    /// A client with its own connection pool.
    pub fn new(config: &HttpClientConfig) -> Self {
        let tls = ureq::tls::TlsConfig::builder()
            .provider(ureq::tls::TlsProvider::NativeTls)
            .root_certs(ureq::tls::RootCerts::PlatformVerifier)
            .build();
        let agent_config = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_connect(Some(config.connect_timeout))
            .timeout_global(Some(config.overall_timeout))
            .max_redirects(0)
            // Each new connection allocates (and zeroes) these buffers:
            // ureq's 128 KiB each came from fresh pages every time, a tenth
            // of the CPU at 200 messages in flight (8 workers share 3 kept
            // connections per host, so connections are made and dropped).
            // Response heads of the chat APIs are a few KiB.
            .input_buffer_size(IO_BUFFER_BYTES)
            .output_buffer_size(IO_BUFFER_BYTES)
            .max_response_header_size(IO_BUFFER_BYTES)
            .tls_config(tls)
            .build();
        let agent = ureq::Agent::with_parts(
            agent_config,
            DefaultConnector::default(),
            CachingResolver::default(),
        );
        Self {
            agent,
            max_body_bytes: config.max_body_bytes,
        }
    }

    /// The process-wide client (default limits), created on first use.
    pub fn shared() -> &'static HttpClient {
        static SHARED: OnceLock<HttpClient> = OnceLock::new();
        SHARED.get_or_init(|| HttpClient::new(&HttpClientConfig::default()))
    }

    /// Performs `request` on a worker thread ([`crate::workers`]), which
    /// reuses a kept-alive pooled connection when there is one.
    pub async fn execute(&self, request: HttpRequest) -> Result<HttpResponse, TransportError> {
        let client = self.clone();
        crate::workers::run(move || client.execute_blocking(&request))
            .await
            .unwrap_or_else(|gone| {
                // Only a bug (a panic in ureq) gets here; the request went
                // down with the worker's stack.
                Err(TransportError::Io {
                    url: "(a request whose worker failed)".to_owned(),
                    reason: gone.to_string(),
                })
            })
    }

    /// Performs `request` on this thread (blocks up to the overall timeout),
    /// logging the call at debug: method, URL with its route path (only
    /// secrets masked), status and time.
    pub fn execute_blocking(&self, request: &HttpRequest) -> Result<HttpResponse, TransportError> {
        let started = Instant::now();
        let result = self.perform(request);
        let url = redact_url(&request.url);
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

    fn perform(&self, request: &HttpRequest) -> Result<HttpResponse, TransportError> {
        let url = redact_url(&request.url);
        let invalid = |reason: String| TransportError::InvalidRequest {
            url: url.clone(),
            reason,
        };
        let mut builder = http::Request::builder()
            .method(request.method.as_str())
            .uri(request.url.as_str());
        for (name, value) in &request.headers {
            builder = builder.header(name.as_str(), value.as_str());
        }
        if let Some(auth) = &request.authorization {
            let mut value = http::HeaderValue::from_str(auth.expose()).map_err(|_| {
                invalid("the Authorization value is not a valid header value".into())
            })?;
            value.set_sensitive(true);
            builder = builder.header(http::header::AUTHORIZATION, value);
        }
        let result = match &request.body {
            Some(body) => {
                let req = builder
                    .body(body.clone())
                    .map_err(|e| invalid(redact_url(&e.to_string())))?;
                self.agent.run(req)
            }
            None => {
                let req = builder
                    .body(())
                    .map_err(|e| invalid(redact_url(&e.to_string())))?;
                self.agent.run(req)
            }
        };
        let mut response = result.map_err(|e| transport_error(e, &url, self.max_body_bytes))?;
        let status = response.status().as_u16();
        let headers = response
            .headers()
            .iter()
            .map(|(k, v)| {
                (
                    k.as_str().to_owned(),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )
            })
            .collect();
        let body = response
            .body_mut()
            .with_config()
            .limit(self.max_body_bytes)
            .read_to_vec()
            .map_err(|e| transport_error(e, &url, self.max_body_bytes))?;
        Ok(HttpResponse {
            status,
            headers,
            body,
        })
    }
}

/// How long a resolved host name is reused.
const DNS_TTL: Duration = Duration::from_secs(60);

/// Host names resolved at most once per [`DNS_TTL`]; IP-literal hosts never
/// go to the resolver. Misses (and failures) go to ureq's
/// [`DefaultResolver`], which keeps the request's timeout.
#[derive(Debug, Default)]
struct CachingResolver {
    inner: DefaultResolver,
    cache: Mutex<HashMap<String, (Instant, ResolvedSocketAddrs)>>,
}

impl CachingResolver {
    /// `(host, port)` of `uri`, the host without IPv6 brackets.
    fn host_port(uri: &http::Uri) -> Option<(&str, u16)> {
        let authority = uri.authority()?;
        let port = match (authority.port_u16(), uri.scheme_str()) {
            (Some(port), _) => port,
            (None, Some("https")) => 443,
            (None, Some("http")) => 80,
            (None, _) => return None,
        };
        let host = authority.host();
        let host = host
            .strip_prefix('[')
            .and_then(|h| h.strip_suffix(']'))
            .unwrap_or(host);
        Some((host, port))
    }
}

impl Resolver for CachingResolver {
    fn resolve(
        &self,
        uri: &http::Uri,
        config: &ureq::config::Config,
        timeout: NextTimeout,
    ) -> Result<ResolvedSocketAddrs, ureq::Error> {
        let Some((host, port)) = Self::host_port(uri) else {
            return self.inner.resolve(uri, config, timeout);
        };
        if let Ok(ip) = host.parse::<IpAddr>() {
            let mut addrs = self.empty();
            addrs.push(SocketAddr::new(ip, port));
            return Ok(addrs);
        }
        let key = format!("{host}:{port}");
        let now = Instant::now();
        {
            let cache = self.cache.lock().unwrap_or_else(PoisonError::into_inner);
            if let Some((until, addrs)) = cache.get(&key) {
                if *until > now {
                    return Ok(addrs.clone());
                }
            }
        }
        let addrs = self.inner.resolve(uri, config, timeout)?;
        let mut cache = self.cache.lock().unwrap_or_else(PoisonError::into_inner);
        cache.retain(|_, (until, _)| *until > now);
        cache.insert(key, (now + DNS_TTL, addrs.clone()));
        Ok(addrs)
    }
}

fn transport_error(e: ureq::Error, url: &str, limit: u64) -> TransportError {
    use std::io::ErrorKind;
    let url = url.to_owned();
    match e {
        ureq::Error::Timeout(_) => TransportError::Timeout { url },
        ureq::Error::Io(io) if io.kind() == ErrorKind::TimedOut => TransportError::Timeout { url },
        ureq::Error::Io(io)
            if matches!(
                io.kind(),
                ErrorKind::ConnectionRefused
                    | ErrorKind::AddrNotAvailable
                    | ErrorKind::NotFound
                    | ErrorKind::HostUnreachable
                    | ErrorKind::NetworkUnreachable
            ) =>
        {
            TransportError::Connect {
                url,
                reason: redact_url(&io.to_string()),
            }
        }
        ureq::Error::HostNotFound | ureq::Error::ConnectionFailed => TransportError::Connect {
            url,
            reason: e.to_string(),
        },
        ureq::Error::Tls(reason) => TransportError::Tls {
            url,
            reason: reason.to_owned(),
        },
        ureq::Error::NativeTls(t) => TransportError::Tls {
            url,
            reason: redact_url(&t.to_string()),
        },
        ureq::Error::BodyExceedsLimit(_) => TransportError::BodyTooLarge { url, limit },
        ureq::Error::BadUri(_) | ureq::Error::Http(_) => TransportError::InvalidRequest {
            url,
            reason: redact_url(&e.to_string()),
        },
        other => TransportError::Io {
            url,
            reason: redact_url(&other.to_string()),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn uri(s: &str) -> http::Uri {
        s.parse().expect("a valid URI")
    }

    #[test]
    fn host_and_port_come_from_the_uri_or_the_scheme() {
        let cases = [
            ("http://127.0.0.1:8080/api", Some(("127.0.0.1", 8080))),
            ("https://discord.com/api/v10", Some(("discord.com", 443))),
            ("http://www.kookapp.cn/api/v3", Some(("www.kookapp.cn", 80))),
            ("http://[::1]:9/x", Some(("::1", 9))),
        ];
        for (text, expected) in cases {
            let u = uri(text);
            assert_eq!(CachingResolver::host_port(&u), expected, "{text}");
        }
    }

    #[test]
    fn ip_literals_resolve_to_themselves_without_a_lookup() {
        let resolver = CachingResolver::default();
        let config = ureq::config::Config::builder().build();
        for (text, addr) in [
            ("http://127.0.0.1:8080/api", "127.0.0.1:8080"),
            ("http://[::1]:9/x", "[::1]:9"),
        ] {
            let addrs = resolver
                .resolve(&uri(text), &config, NextTimeout::default())
                .expect("an IP literal resolves");
            let expected: SocketAddr = addr.parse().expect("a socket address");
            assert_eq!(&addrs[..], &[expected][..]);
        }
        let cache = resolver
            .cache
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        assert!(cache.is_empty(), "literals are not cached");
    }

    #[test]
    fn names_are_looked_up_once_then_served_from_the_cache() {
        let resolver = CachingResolver::default();
        let config = ureq::config::Config::builder().build();
        let first = resolver
            .resolve(
                &uri("http://localhost:4000/"),
                &config,
                NextTimeout::default(),
            )
            .expect("localhost resolves");
        {
            let mut cache = resolver
                .cache
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            let (_, cached) = cache.get_mut("localhost:4000").expect("cached");
            assert_eq!(&cached[..], &first[..]);
            // Mark the entry so a second lookup visibly comes from the cache.
            cached.truncate(0);
            cached.push("192.0.2.1:4000".parse().expect("a socket address"));
        }
        let second = resolver
            .resolve(
                &uri("http://localhost:4000/"),
                &config,
                NextTimeout::default(),
            )
            .expect("served from the cache");
        let marked: SocketAddr = "192.0.2.1:4000".parse().expect("a socket address");
        assert_eq!(&second[..], &[marked][..]);
    }
}
