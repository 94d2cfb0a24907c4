//! The HTTP side both fakes share: a small `tiny_http` server thread bound to
//! 127.0.0.1, what it records ([`RecordedRequest`]), and the scripted
//! responses a test can queue ([`Route`] + [`ScriptedResponse`]) to be served
//! before normal handling (a 429, a 500, a 401...).

use std::collections::VecDeque;
use std::io::Read;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use serde_json::Value;

/// Requests larger than this are cut (the fakes only expect small JSON).
const MAX_REQUEST_BODY: u64 = 16 * 1024 * 1024;

/// One HTTP request the fake received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordedRequest {
    /// `GET`, `POST`...
    pub method: String,
    /// Path below the API base, still percent-encoded, without the query,
    /// e.g. `/channels/849255967228035073/messages` (Discord) or
    /// `/message/create` (KOOK). Requests outside the API base keep their
    /// full path.
    pub path: String,
    /// Query parameters, percent-decoded, in order.
    pub query: Vec<(String, String)>,
    /// Headers as received.
    pub headers: Vec<(String, String)>,
    /// Body bytes.
    pub body: Vec<u8>,
    /// The status the fake answered with.
    pub status: u16,
    /// True when a scripted response (see [`Route`]) answered it.
    pub scripted: bool,
}

impl RecordedRequest {
    /// The first header named `name` (ASCII case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        header(&self.headers, name)
    }

    /// The first query parameter named `name`.
    pub fn query_param(&self, name: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// The body parsed as JSON, if it is JSON.
    pub fn json(&self) -> Option<Value> {
        serde_json::from_slice(&self.body).ok()
    }
}

/// Which requests a scripted response applies to: a method (`"*"` = any) and
/// a path glob below the API base where `*` matches within one segment and
/// `**` matches anything (`"/channels/*/messages"`, `"/**"`).
///
/// Parses from `"POST /channels/*/messages"` or just `"/gateway/bot"` (any
/// method).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route {
    /// Method, upper case, or `*`.
    pub method: String,
    /// Path glob.
    pub path: String,
}

impl Route {
    /// A route for `method` (`"*"` = any) and `path` glob.
    pub fn new(method: &str, path: &str) -> Self {
        Self {
            method: method.to_ascii_uppercase(),
            path: path.to_owned(),
        }
    }

    /// Every request.
    pub fn any() -> Self {
        Self::new("*", "/**")
    }

    /// True when this route covers `method` and `path`.
    pub fn matches(&self, method: &str, path: &str) -> bool {
        (self.method == "*" || self.method.eq_ignore_ascii_case(method))
            && glob(self.path.as_bytes(), path.as_bytes())
    }
}

impl From<&str> for Route {
    fn from(s: &str) -> Self {
        match s.trim().split_once(' ') {
            Some((m, p)) => Route::new(m.trim(), p.trim()),
            None => Route::new("*", s.trim()),
        }
    }
}

/// A response a test queues; served once, to the first request its route
/// matches, before the fake's normal handling.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScriptedResponse {
    /// Status code.
    pub status: u16,
    /// Headers.
    pub headers: Vec<(String, String)>,
    /// Body bytes.
    pub body: Vec<u8>,
    /// Wait this long before answering (other requests are served meanwhile).
    pub delay: Option<Duration>,
}

impl ScriptedResponse {
    /// A JSON response with extra `headers` (`Content-Type` is added).
    pub fn json(status: u16, headers: &[(&str, &str)], body: &Value) -> Self {
        let mut h: Vec<(String, String)> = headers
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        if header(&h, "content-type").is_none() {
            h.push(("Content-Type".into(), "application/json".into()));
        }
        Self {
            status,
            headers: h,
            body: body.to_string().into_bytes(),
            delay: None,
        }
    }

    /// An empty response (e.g. 204, or a 502 without body).
    pub fn empty(status: u16) -> Self {
        Self {
            status,
            headers: Vec::new(),
            body: Vec::new(),
            delay: None,
        }
    }

    /// From a fixture of the shape `{"status": int, "headers": {name:
    /// string}, "body": json}` (see `core/tests/fixtures/README.md`). `None` when
    /// the value has no numeric `status`.
    pub fn from_fixture(fixture: &Value) -> Option<Self> {
        let status = u16::try_from(fixture.get("status")?.as_u64()?).ok()?;
        let headers = fixture
            .get("headers")
            .and_then(Value::as_object)
            .map(|m| {
                m.iter()
                    .map(|(k, v)| {
                        let v = v.as_str().map_or_else(|| v.to_string(), str::to_owned);
                        (k.clone(), v)
                    })
                    .collect()
            })
            .unwrap_or_default();
        let body = fixture
            .get("body")
            .map(|b| b.to_string().into_bytes())
            .unwrap_or_default();
        Some(Self {
            status,
            headers,
            body,
            delay: None,
        })
    }

    /// The same response, answered after `delay`.
    pub fn delayed(mut self, delay: Duration) -> Self {
        self.delay = Some(delay);
        self
    }
}

/// A request as the server thread hands it to a fake.
pub(crate) struct Incoming {
    pub(crate) method: String,
    pub(crate) path: String,
    pub(crate) query: Vec<(String, String)>,
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) body: Vec<u8>,
}

impl Incoming {
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        header(&self.headers, name)
    }

    /// The first query parameter named `name`, percent-decoded.
    pub(crate) fn query_param(&self, name: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    pub(crate) fn record(&self, path: String, status: u16, scripted: bool) -> RecordedRequest {
        RecordedRequest {
            method: self.method.clone(),
            path,
            query: self.query.clone(),
            headers: self.headers.clone(),
            body: self.body.clone(),
            status,
            scripted,
        }
    }
}

/// Takes the first queued entry (a scripted response, a delay) whose route
/// matches.
fn take_first<T>(queue: &mut VecDeque<(Route, T)>, method: &str, path: &str) -> Option<T> {
    let i = queue.iter().position(|(r, _)| r.matches(method, path))?;
    queue.remove(i).map(|(_, entry)| entry)
}

/// What a fake's REST side keeps for [`answer`]: the responses and delays
/// a test queued, and every request received.
#[derive(Debug, Default)]
pub(crate) struct RestBook {
    pub(crate) requests: Vec<RecordedRequest>,
    pub(crate) scripted: VecDeque<(Route, ScriptedResponse)>,
    /// Requests handled as usual but answered late.
    pub(crate) delayed: VecDeque<(Route, Duration)>,
}

/// A fake's state, which holds a [`RestBook`].
pub(crate) trait HasRestBook {
    fn rest_book(&mut self) -> &mut RestBook;
}

/// Answers `inc` as both fakes do: outside the API `prefix`, `outside()`;
/// inside it, the first scripted response queued for its route, else
/// `route`'s answer (late if a delay is queued for the route). Every
/// request is recorded, with its path relative to `prefix`.
pub(crate) fn answer<S: HasRestBook>(
    s: &mut S,
    inc: &Incoming,
    prefix: &str,
    outside: impl FnOnce() -> ScriptedResponse,
    route: impl FnOnce(&mut S, &str) -> ScriptedResponse,
) -> ScriptedResponse {
    let (path, resp, scripted) = match inc.path.strip_prefix(prefix) {
        Some(rel) => {
            let rel = rel.to_owned();
            match take_first(&mut s.rest_book().scripted, &inc.method, &rel) {
                Some(r) => (rel, r, true),
                None => {
                    let mut r = route(s, &rel);
                    if let Some(delay) = take_first(&mut s.rest_book().delayed, &inc.method, &rel) {
                        r.delay = Some(delay);
                    }
                    (rel, r, false)
                }
            }
        }
        None => (inc.path.clone(), outside(), false),
    };
    s.rest_book()
        .requests
        .push(inc.record(path, resp.status, scripted));
    resp
}

pub(crate) type Handler = Arc<dyn Fn(Incoming) -> ScriptedResponse + Send + Sync>;

/// Starts the HTTP thread on 127.0.0.1:0; returns its port. The thread stops
/// when `stop` is raised or at `deadline`.
pub(crate) fn spawn(
    name: &str,
    handler: Handler,
    stop: Arc<AtomicBool>,
    deadline: Instant,
) -> std::io::Result<(u16, JoinHandle<()>)> {
    let server = tiny_http::Server::http("127.0.0.1:0").map_err(std::io::Error::other)?;
    let port = server
        .server_addr()
        .to_ip()
        .map(|a| a.port())
        .ok_or_else(|| std::io::Error::other("tiny_http did not bind an IP address"))?;
    let thread = std::thread::Builder::new()
        .name(format!("{name}-http"))
        .spawn(move || {
            while !stop.load(Ordering::SeqCst) && Instant::now() < deadline {
                let req = match server.recv_timeout(Duration::from_millis(50)) {
                    Ok(Some(r)) => r,
                    Ok(None) => continue,
                    Err(_) => break,
                };
                serve(req, &handler);
            }
        })?;
    Ok((port, thread))
}

fn serve(mut req: tiny_http::Request, handler: &Handler) {
    let method = req.method().as_str().to_ascii_uppercase();
    let (path, query) = match req.url().split_once('?') {
        Some((p, q)) => (p.to_owned(), parse_query(q)),
        None => (req.url().to_owned(), Vec::new()),
    };
    let headers: Vec<(String, String)> = req
        .headers()
        .iter()
        .map(|h| {
            (
                h.field.as_str().as_str().to_owned(),
                h.value.as_str().to_owned(),
            )
        })
        .collect();
    let mut body = Vec::new();
    // Only read a body the request announces: an upgrade request (a
    // WebSocket client dialing the wrong port) has none, and tiny_http hands
    // over the raw stream for it. A broken body is handled with what arrived.
    let chunked = header(&headers, "transfer-encoding").is_some();
    if req.body_length().is_some_and(|n| n > 0) || chunked {
        let _ = req
            .as_reader()
            .take(MAX_REQUEST_BODY)
            .read_to_end(&mut body);
    }
    let resp = handler(Incoming {
        method,
        path,
        query,
        headers,
        body,
    });
    match resp.delay {
        Some(d) => {
            // Answer from another thread so a slow response does not hold up
            // the others; bounded by the delay itself.
            let _ = std::thread::Builder::new()
                .name("fake-http-delayed".into())
                .spawn(move || {
                    std::thread::sleep(d);
                    respond(req, resp);
                });
        }
        None => respond(req, resp),
    }
}

fn respond(req: tiny_http::Request, resp: ScriptedResponse) {
    let mut r = tiny_http::Response::from_data(resp.body).with_status_code(resp.status);
    for (k, v) in &resp.headers {
        if let Ok(h) = tiny_http::Header::from_bytes(k.as_bytes(), v.as_bytes()) {
            r.add_header(h);
        }
    }
    // The client may have gone away; nothing to do about it.
    let _ = req.respond(r);
}

/// Splits and percent-decodes a query string.
pub(crate) fn parse_query(q: &str) -> Vec<(String, String)> {
    q.split('&')
        .filter(|kv| !kv.is_empty())
        .map(|kv| {
            let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
            (decode(k), decode(v))
        })
        .collect()
}

/// Percent-decodes (and `+` as space, as in forms).
pub(crate) fn decode(s: &str) -> String {
    let s = s.replace('+', " ");
    percent_encoding::percent_decode_str(&s)
        .decode_utf8_lossy()
        .into_owned()
}

pub(crate) fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

/// `*` matches within one path segment, `**` matches anything.
fn glob(p: &[u8], s: &[u8]) -> bool {
    match p {
        [] => s.is_empty(),
        [b'*', b'*', rest @ ..] => (0..=s.len()).any(|i| glob(rest, &s[i..])),
        [b'*', rest @ ..] => {
            let seg = s.iter().position(|&c| c == b'/').unwrap_or(s.len());
            (0..=seg).any(|i| glob(rest, &s[i..]))
        }
        [c, rest @ ..] => s.first() == Some(c) && glob(rest, &s[1..]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_match_method_and_glob() {
        let r = Route::from("POST /channels/*/messages");
        assert!(r.matches("POST", "/channels/123/messages"));
        assert!(!r.matches("GET", "/channels/123/messages"));
        assert!(!r.matches("POST", "/channels/1/2/messages"));
        assert!(Route::any().matches("DELETE", "/a/b/c"));
        assert!(Route::from("/gateway/bot").matches("GET", "/gateway/bot"));
        assert!(Route::from("* /message/**").matches("POST", "/message/add-reaction"));
    }

    #[test]
    fn fixture_responses_keep_status_headers_and_body() {
        let fx = serde_json::json!({"status": 429, "headers": {"Retry-After": "65"},
            "body": {"retry_after": 64.57}});
        let r = ScriptedResponse::from_fixture(&fx).expect("fixture shape");
        assert_eq!(r.status, 429);
        assert_eq!(header(&r.headers, "retry-after"), Some("65"));
        let body: Value = serde_json::from_slice(&r.body).expect("json body");
        assert_eq!(body["retry_after"], 64.57);
    }

    #[test]
    fn query_strings_are_decoded() {
        assert_eq!(
            parse_query("v=10&encoding=json&x=a%20b"),
            vec![
                ("v".into(), "10".into()),
                ("encoding".into(), "json".into()),
                ("x".into(), "a b".into())
            ]
        );
    }
}
