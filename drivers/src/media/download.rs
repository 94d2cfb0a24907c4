//! Downloading media over HTTP(S) with bounds: connect timeout 10 s, whole
//! download 120 s, at most [`MAX_REDIRECTS`] redirects, no `Authorization`
//! header ever (CDN and asset URLs need none, and a redirect must never
//! carry a token), and a byte limit checked twice: against
//! `Content-Length` before reading and while reading (a server that lies or
//! sends no length is cut off at the limit).
//!
//! Kept apart from [`crate::http`] (the REST transport): downloads stream
//! into a sink instead of buffering a response for the planner.
//!
//! Two agents: [`Reach::Any`] for the platforms' own attachment URLs
//! (inbound media), and [`Reach::PublicOnly`] for links an agent names in
//! `MEDIA:` lines, whose every resolved address (redirects included) must
//! pass [`krill_core::media::address_policy`].

use std::io::{Read, Write};
use std::sync::OnceLock;
use std::time::Duration;

use krill_core::media::address_policy::is_public;
use ureq::http;
use ureq::unversioned::resolver::{DefaultResolver, ResolvedSocketAddrs, Resolver};
use ureq::unversioned::transport::{DefaultConnector, NextTimeout};

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
    /// The host (or a redirect's) resolves only to internal addresses
    /// ([`Reach::PublicOnly`]).
    #[error("{INTERNAL_ADDRESS}")]
    InternalAddress,
    /// Network, TLS, timeout, too many redirects, bad URL.
    #[error("{0}")]
    Transport(String),
    /// Writing the sink failed.
    #[error("write failed: {0}")]
    Write(String),
}

/// Which addresses a download may connect to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Reach {
    /// Any (the platforms' attachment URLs).
    Any,
    /// Public addresses only ([`krill_core::media::address_policy`]).
    PublicOnly,
}

/// The download agents (one pool each), built on first use.
fn agent(reach: Reach) -> &'static ureq::Agent {
    static ANY: OnceLock<ureq::Agent> = OnceLock::new();
    static PUBLIC: OnceLock<ureq::Agent> = OnceLock::new();
    let config = || {
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
    };
    match reach {
        Reach::Any => ANY.get_or_init(|| config().into()),
        Reach::PublicOnly => PUBLIC.get_or_init(|| {
            ureq::Agent::with_parts(config(), DefaultConnector::default(), PublicOnly::default())
        }),
    }
}

/// Resolves like ureq does, then keeps only public addresses; a host with
/// none left is refused before any connection is made.
#[derive(Debug, Default)]
struct PublicOnly {
    inner: DefaultResolver,
}

impl Resolver for PublicOnly {
    fn resolve(
        &self,
        uri: &http::Uri,
        config: &ureq::config::Config,
        timeout: NextTimeout,
    ) -> Result<ResolvedSocketAddrs, ureq::Error> {
        let resolved = self.inner.resolve(uri, config, timeout)?;
        let mut public = self.empty();
        for addr in resolved.iter().filter(|a| is_public(a.ip())) {
            public.push(*addr);
        }
        if public.is_empty() {
            return Err(ureq::Error::Io(std::io::Error::new(
                std::io::ErrorKind::PermissionDenied,
                INTERNAL_ADDRESS,
            )));
        }
        Ok(public)
    }
}

/// Why a link to an internal address is not fetched (its error text).
pub(crate) const INTERNAL_ADDRESS: &str =
    "the link points to an internal address (only public hosts are fetched)";

/// Downloads `url` into `sink`, at most `limit` bytes (blocking; run it on
/// the blocking pool), connecting only where `reach` allows.
pub(crate) fn download(
    url: &str,
    reach: Reach,
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
    let mut response = agent(reach).run(request).map_err(|e| match e {
        // Only [`PublicOnly`] refuses with this kind.
        ureq::Error::Io(io) if io.kind() == std::io::ErrorKind::PermissionDenied => {
            DownloadError::InternalAddress
        }
        other => transport(other),
    })?;
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn public_only_downloads_refuse_internal_hosts_before_connecting() {
        for url in [
            "https://127.0.0.1:9/secret.png",
            "https://169.254.169.254/latest/meta-data/",
            "https://[::1]:9/x",
            "https://localhost:9/x",
        ] {
            let mut sink = Vec::new();
            let got = download(url, Reach::PublicOnly, 1024, &mut sink);
            assert!(
                matches!(got, Err(DownloadError::InternalAddress)),
                "{url}: {got:?}"
            );
        }
    }
}
