//! Downloading media over HTTP(S) with bounds: connect timeout 10 s, whole
//! download 120 s, at most [`MAX_REDIRECTS`] redirects, no `Authorization`
//! header ever (CDN and asset URLs need none, and a redirect must never
//! carry a token), and a byte limit checked twice: against
//! `Content-Length` before reading and while reading (a server that lies or
//! sends no length is cut off at the limit).
//!
//! Kept apart from [`crate::http`] (the REST transport): downloads stream
//! into a sink instead of buffering a response for the planner.

use std::io::{Read, Write};
use std::sync::OnceLock;
use std::time::Duration;

use ureq::http;

use crate::ws::redact_url;

/// Redirects followed at most.
pub(crate) const MAX_REDIRECTS: u32 = 3;
/// Connect timeout.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// Deadline for a whole download.
const DOWNLOAD_TIMEOUT: Duration = Duration::from_secs(120);

/// What a finished download gave.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Downloaded {
    /// Bytes written to the sink.
    pub(crate) bytes: u64,
    /// The response's `Content-Type`, when sent.
    pub(crate) content_type: Option<String>,
}

/// Why a download did not finish.
#[derive(Debug, thiserror::Error)]
pub(crate) enum DownloadError {
    /// Over the byte limit (announced or while reading).
    #[error("larger than {limit} bytes")]
    TooLarge {
        /// The limit.
        limit: u64,
        /// The announced size, when it was the `Content-Length` that told.
        announced: Option<u64>,
    },
    /// A status other than 2xx (after redirects).
    #[error("HTTP {0}")]
    Status(u16),
    /// Network, TLS, timeout, too many redirects, bad URL.
    #[error("{0}")]
    Transport(String),
    /// Writing the sink failed.
    #[error("write failed: {0}")]
    Write(String),
}

/// The download agent (one pool for every download).
fn agent() -> &'static ureq::Agent {
    static AGENT: OnceLock<ureq::Agent> = OnceLock::new();
    AGENT.get_or_init(|| {
        let tls = ureq::tls::TlsConfig::builder()
            .provider(ureq::tls::TlsProvider::NativeTls)
            .root_certs(ureq::tls::RootCerts::PlatformVerifier)
            .build();
        ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_connect(Some(CONNECT_TIMEOUT))
            .timeout_global(Some(DOWNLOAD_TIMEOUT))
            .max_redirects(MAX_REDIRECTS)
            .tls_config(tls)
            .build()
            .into()
    })
}

/// Downloads `url` into `sink`, at most `limit` bytes (blocking; run it on
/// the blocking pool).
pub(crate) fn download(
    url: &str,
    limit: u64,
    sink: &mut dyn Write,
) -> Result<Downloaded, DownloadError> {
    let transport = |e: ureq::Error| DownloadError::Transport(redact_url(&e.to_string()));
    let request = http::Request::builder()
        .method("GET")
        .uri(url)
        .header("User-Agent", crate::gateway::user_agent())
        .body(())
        .map_err(|e| DownloadError::Transport(redact_url(&e.to_string())))?;
    let mut response = agent().run(request).map_err(transport)?;
    let status = response.status().as_u16();
    if !(200..300).contains(&status) {
        return Err(DownloadError::Status(status));
    }
    let header = |name: http::header::HeaderName| {
        response
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    let content_type = header(http::header::CONTENT_TYPE);
    if let Some(length) = header(http::header::CONTENT_LENGTH).and_then(|v| v.trim().parse().ok()) {
        if length > limit {
            return Err(DownloadError::TooLarge {
                limit,
                announced: Some(length),
            });
        }
    }
    let mut reader = response
        .body_mut()
        .with_config()
        .limit(u64::MAX)
        .reader()
        .take(limit.saturating_add(1));
    let mut buf = vec![0u8; 64 * 1024];
    let mut bytes = 0u64;
    loop {
        let n = reader
            .read(&mut buf)
            .map_err(|e| DownloadError::Transport(redact_url(&e.to_string())))?;
        if n == 0 {
            break;
        }
        bytes += n as u64;
        if bytes > limit {
            return Err(DownloadError::TooLarge {
                limit,
                announced: None,
            });
        }
        sink.write_all(&buf[..n])
            .map_err(|e| DownloadError::Write(e.to_string()))?;
    }
    Ok(Downloaded {
        bytes,
        content_type,
    })
}
