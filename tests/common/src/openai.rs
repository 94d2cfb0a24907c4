//! A fake OpenAI-compatible chat completions server on 127.0.0.1.
//!
//! [`FakeOpenAi::start`] binds a free port; point a backend's `baseUrl` at
//! [`FakeOpenAi::base_url`] (`http://127.0.0.1:<port>/v1`). Every request is
//! recorded ([`FakeOpenAi::requests`]: path, `Authorization` header, model,
//! messages, `max_tokens`, the whole body). Replies are scripted in order
//! with [`FakeOpenAi::push_reply`] (text, or [`FakeReply::tool_calls`] for
//! function calling); with no script left, the server answers `200` with
//! the content `echo: <last user message>`.
//!
//! Bounded: the accept loop stops when the value is dropped, after
//! [`MAX_LIFETIME`] or after [`MAX_REQUESTS`] requests; scripted delays
//! are cut short when the server stops.

use std::collections::VecDeque;
use std::io::Read;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

/// The server stops accepting after this long, whatever the test does.
pub const MAX_LIFETIME: Duration = Duration::from_secs(120);
/// The server stops accepting after this many requests.
pub const MAX_REQUESTS: usize = 10_000;

/// One scripted answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FakeReply {
    /// HTTP status.
    pub status: u16,
    /// Response body (JSON or not).
    pub body: String,
    /// Wait this long before answering.
    pub delay: Duration,
}

impl FakeReply {
    /// `200` with a chat completion whose `choices[0].message.content` is
    /// `content`.
    pub fn content(content: &str) -> Self {
        Self::raw(200, completion_body(Value::String(content.to_owned())))
    }

    /// `200` with `"content": null` and `tool_calls`: one call per
    /// `(id, function name, arguments)`, arguments a JSON object (sent as a
    /// string, as OpenAI does), `finish_reason: "tool_calls"`.
    pub fn tool_calls(calls: &[(&str, &str, Value)]) -> Self {
        let calls: Vec<Value> = calls
            .iter()
            .map(|(id, name, args)| {
                json!({"id": id, "type": "function",
                       "function": {"name": name, "arguments": args.to_string()}})
            })
            .collect();
        Self::raw(
            200,
            json!({
                "id": "chatcmpl-fake",
                "object": "chat.completion",
                "created": 0,
                "model": "fake",
                "choices": [{
                    "index": 0,
                    "message": {"role": "assistant", "content": null, "tool_calls": calls},
                    "finish_reason": "tool_calls"
                }]
            })
            .to_string(),
        )
    }

    /// `200` with `"content": null`.
    pub fn null_content() -> Self {
        Self::raw(200, completion_body(Value::Null))
    }

    /// Any status and body.
    pub fn raw(status: u16, body: impl Into<String>) -> Self {
        Self {
            status,
            body: body.into(),
            delay: Duration::ZERO,
        }
    }

    /// An error status with an OpenAI-style error body.
    pub fn error(status: u16, message: &str) -> Self {
        Self::raw(
            status,
            json!({"error": {"message": message, "type": "server_error"}}).to_string(),
        )
    }

    /// The same reply, sent after `delay`.
    pub fn delayed(mut self, delay: Duration) -> Self {
        self.delay = delay;
        self
    }
}

/// One request the server received.
#[derive(Debug, Clone, PartialEq)]
pub struct RecordedRequest {
    /// HTTP method.
    pub method: String,
    /// Path and query, e.g. `/v1/chat/completions`.
    pub path: String,
    /// The `Authorization` header, if any.
    pub authorization: Option<String>,
    /// The `Content-Type` header, if any.
    pub content_type: Option<String>,
    /// The body as JSON (`Null` when it is not JSON).
    pub body: Value,
}

impl RecordedRequest {
    /// `model` of the body.
    pub fn model(&self) -> Option<&str> {
        self.body.get("model").and_then(Value::as_str)
    }

    /// `messages` of the body as (role, content) pairs.
    pub fn messages(&self) -> Vec<(String, String)> {
        self.body
            .get("messages")
            .and_then(Value::as_array)
            .map(|messages| {
                messages
                    .iter()
                    .map(|m| {
                        let field = |name| {
                            m.get(name)
                                .and_then(Value::as_str)
                                .unwrap_or_default()
                                .to_owned()
                        };
                        (field("role"), field("content"))
                    })
                    .collect()
            })
            .unwrap_or_default()
    }

    /// The function names offered in `tools`.
    pub fn tool_names(&self) -> Vec<String> {
        self.body
            .get("tools")
            .and_then(Value::as_array)
            .map(|tools| {
                tools
                    .iter()
                    .filter_map(|t| t.pointer("/function/name").and_then(Value::as_str))
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default()
    }

    /// The `role: "tool"` messages as (`tool_call_id`, content parsed as
    /// JSON).
    pub fn tool_results(&self) -> Vec<(String, Value)> {
        self.body
            .get("messages")
            .and_then(Value::as_array)
            .map(|messages| {
                messages
                    .iter()
                    .filter(|m| m.get("role").and_then(Value::as_str) == Some("tool"))
                    .map(|m| {
                        let id = m
                            .get("tool_call_id")
                            .and_then(Value::as_str)
                            .unwrap_or_default();
                        let content = m.get("content").and_then(Value::as_str).unwrap_or_default();
                        (
                            id.to_owned(),
                            serde_json::from_str(content).unwrap_or(Value::Null),
                        )
                    })
                    .collect()
            })
            .unwrap_or_default()
    }

    /// `max_tokens` of the body.
    pub fn max_tokens(&self) -> Option<u64> {
        self.body.get("max_tokens").and_then(Value::as_u64)
    }
}

#[derive(Debug, Default)]
struct State {
    script: VecDeque<FakeReply>,
    requests: Vec<RecordedRequest>,
}

/// The running server (see the module docs).
#[derive(Debug)]
pub struct FakeOpenAi {
    base_url: String,
    state: Arc<Mutex<State>>,
    stop: Arc<AtomicBool>,
    accept: Option<JoinHandle<()>>,
}

impl FakeOpenAi {
    /// Starts the server on a free port of 127.0.0.1.
    ///
    /// # Panics
    /// When no port can be bound (a broken test machine).
    pub fn start() -> Self {
        let server = tiny_http::Server::http("127.0.0.1:0")
            .expect("bind 127.0.0.1:0 for the fake OpenAI server");
        let port = server
            .server_addr()
            .to_ip()
            .map(|addr| addr.port())
            .expect("the fake OpenAI server listens on an IP address");
        let state = Arc::new(Mutex::new(State::default()));
        let stop = Arc::new(AtomicBool::new(false));
        let accept = {
            let state = state.clone();
            let stop = stop.clone();
            std::thread::spawn(move || accept_loop(&server, &state, &stop))
        };
        Self {
            base_url: format!("http://127.0.0.1:{port}/v1"),
            state,
            stop,
            accept: Some(accept),
        }
    }

    /// `http://127.0.0.1:<port>/v1`, for a backend's `baseUrl`.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// Queues the answer to a coming request (answers go out in order).
    pub fn push_reply(&self, reply: FakeReply) {
        self.lock().script.push_back(reply);
    }

    /// Every request received so far, in arrival order.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.lock().requests.clone()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Drop for FakeOpenAi {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(accept) = self.accept.take() {
            let _ = accept.join();
        }
    }
}

fn accept_loop(server: &tiny_http::Server, state: &Arc<Mutex<State>>, stop: &Arc<AtomicBool>) {
    let started = Instant::now();
    let mut handlers = Vec::new();
    let mut served = 0;
    while !stop.load(Ordering::SeqCst) && started.elapsed() < MAX_LIFETIME && served < MAX_REQUESTS
    {
        let request = match server.recv_timeout(Duration::from_millis(20)) {
            Ok(Some(request)) => request,
            Ok(None) => continue,
            Err(_) => break,
        };
        served += 1;
        let state = state.clone();
        let stop = stop.clone();
        handlers.push(std::thread::spawn(move || handle(request, &state, &stop)));
    }
    stop.store(true, Ordering::SeqCst);
    for handler in handlers {
        let _ = handler.join();
    }
}

fn handle(mut request: tiny_http::Request, state: &Mutex<State>, stop: &AtomicBool) {
    let header = |name: &str| {
        request
            .headers()
            .iter()
            .find(|h| h.field.as_str().as_str().eq_ignore_ascii_case(name))
            .map(|h| h.value.as_str().to_owned())
    };
    let authorization = header("Authorization");
    let content_type = header("Content-Type");
    let mut body = String::new();
    let _ = request
        .as_reader()
        .take(16 * 1024 * 1024)
        .read_to_string(&mut body);
    let recorded = RecordedRequest {
        method: request.method().as_str().to_owned(),
        path: request.url().to_owned(),
        authorization,
        content_type,
        body: serde_json::from_str(&body).unwrap_or(Value::Null),
    };
    let reply = {
        let mut state = state.lock().unwrap_or_else(PoisonError::into_inner);
        let reply = if recorded.method == "POST" && recorded.path == "/v1/chat/completions" {
            state
                .script
                .pop_front()
                .unwrap_or_else(|| echo_reply(&recorded))
        } else {
            FakeReply::error(404, "unknown path")
        };
        state.requests.push(recorded);
        reply
    };
    let deadline = Instant::now() + reply.delay;
    while Instant::now() < deadline && !stop.load(Ordering::SeqCst) {
        std::thread::sleep(Duration::from_millis(10));
    }
    let content_type =
        tiny_http::Header::from_bytes(&b"Content-Type"[..], &b"application/json"[..])
            .expect("a constant, valid header");
    let response = tiny_http::Response::from_string(reply.body)
        .with_status_code(reply.status)
        .with_header(content_type);
    // The client may be gone (it timed out): nothing to do about it.
    let _ = request.respond(response);
}

/// `echo: <last user message>`.
fn echo_reply(request: &RecordedRequest) -> FakeReply {
    let last_user = request
        .messages()
        .into_iter()
        .rev()
        .find(|(role, _)| role == "user")
        .map(|(_, content)| content)
        .unwrap_or_default();
    FakeReply::content(&format!("echo: {last_user}"))
}

fn completion_body(content: Value) -> String {
    json!({
        "id": "chatcmpl-fake",
        "object": "chat.completion",
        "created": 0,
        "model": "fake",
        "choices": [{
            "index": 0,
            "message": {"role": "assistant", "content": content},
            "finish_reason": "stop"
        }]
    })
    .to_string()
}
