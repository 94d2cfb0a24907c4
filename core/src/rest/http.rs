//! Plain HTTP values passed between the core's REST planner and the HTTP
//! driver: a request the driver must perform, and the response it got back.
//! No I/O here; the driver (ureq) turns these into real requests.

use std::fmt;

use crate::secret::Secret;

/// HTTP method.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Method {
    Get,
    Post,
    Put,
    Patch,
    Delete,
}

impl Method {
    /// The method's name on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Post => "POST",
            Method::Put => "PUT",
            Method::Patch => "PATCH",
            Method::Delete => "DELETE",
        }
    }
}

impl fmt::Display for Method {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One request for the HTTP driver to perform. `Debug` never shows the
/// `Authorization` value.
#[derive(Clone, PartialEq, Eq)]
pub struct HttpRequest {
    /// Method.
    pub method: Method,
    /// Absolute URL (`apiBaseUrl` + path + query).
    pub url: String,
    /// `Authorization` header value (`Bot <token>`), kept secret.
    pub authorization: Option<Secret>,
    /// Other headers (`Content-Type`, `User-Agent`, `X-Audit-Log-Reason`...).
    pub headers: Vec<(String, String)>,
    /// JSON (or other) body.
    pub body: Option<Vec<u8>>,
}

impl fmt::Debug for HttpRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HttpRequest")
            .field("method", &self.method)
            .field("url", &self.url)
            .field("authorization", &self.authorization)
            .field("headers", &self.headers)
            .field("body", &self.body.as_deref().map(String::from_utf8_lossy))
            .finish()
    }
}

/// What the driver got back. A transport failure (no status at all) is
/// reported separately by the driver, not as an `HttpResponse`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpResponse {
    /// Status code.
    pub status: u16,
    /// Headers as received (names compared case-insensitively by
    /// [`HttpResponse::header`]).
    pub headers: Vec<(String, String)>,
    /// Body bytes.
    pub body: Vec<u8>,
}

impl HttpResponse {
    /// The first header named `name`, compared ASCII case-insensitively.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}
