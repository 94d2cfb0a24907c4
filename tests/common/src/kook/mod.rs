//! [`FakeKook`]: a fake KOOK REST API (`/api/v3`) and gateway on 127.0.0.1,
//! speaking the protocol as `docs/protocol-kook.md` describes,
//! scriptable from the test thread.
//!
//! Gateway model:
//! - `GET /gateway/index` issues a fresh gateway token per call and answers
//!   `ws://127.0.0.1:<port>/gateway?compress=<asked, default 1>&token=<gw>`;
//!   a connection with a missing token gets HELLO 40100, an unknown one
//!   40101, an expired one ([`FakeKook::expire_gateway_tokens`]) 40103;
//! - a fresh connection gets HELLO `{"code":0,"session_id":..}` (per
//!   [`KookHello`]: now, late, an error code, or never) and starts a new
//!   session whose `sn` counts from 1;
//! - `resume=1&sn=N&session_id=X` (or `sessionId`) resumes: missing params
//!   get s=5 40106, an unknown or invalidated session 40107, an `sn` beyond
//!   the session's 40108; otherwise HELLO (same session id, unless
//!   `hello_on_resume` is off), every event after `sn` in order, then s=6;
//! - s=2 PING is recorded with its `sn` and answered with s=3 PONG (unless
//!   switched off); s=4 RESUME replays after its `sn`, then s=6;
//! - [`FakeKook::event`] sends at once to the connection holding the current
//!   session; without one it is kept for a resume, and what no connection
//!   ever got is carried into the next session;
//! - [`FakeKook::send_reconnect`] sends s=5 and invalidates the session.
//! - Frames are text, or with compression (the option, or `compress=1` on
//!   the connection) binary frames each holding one complete zlib stream.
//!
//! REST model: `Authorization: Bot <token>` on every route (else HTTP 401
//! `{"code":401,..}`); queued [`ScriptedResponse`]s first (e.g. 429 with
//! `X-Rate-Limit-*`, or HTTP 200 with `code != 0`); answers use the
//! `{"code":0,"message":"操作成功","data":..}` envelope; `GET /message/list`
//! and `/direct-message/list` (`target_id`, `page_size`) list the newest
//! messages the bot posted to that chat; [`FakeKook::delay_http_answer`]
//! answers a request late after handling it (the client may die in
//! between).
//!
//! | module | owns |
//! |---|---|
//! | `kook` itself | [`KookHello`], [`FakeKookOptions`], [`FakeKook`]'s start and URLs, the state both servers share |
//! | `gateway` | the gateway server: HELLO and new sessions, resumes and their replay, PING/PONG |
//! | `gateway_controls` | what a test does to the gateway and reads back (events, s=5, closes, PINGs, [`KookConnection::is_resume`]) |
//! | `rest` | the REST server: authorization, scripted answers, the routes, the `{code, message, data}` envelope |
//! | `rest_controls` | what a test scripts on the REST side and reads back ([`KookPost`], [`KookReaction`]) |
//! | `payloads` | event payloads ([`person_text`], [`group_kmarkdown`], [`added_reaction`]), message ids, event frames |

mod gateway;
mod gateway_controls;
mod payloads;
mod rest;
mod rest_controls;

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use serde_json::{json, Value};

use crate::gateway_book::{GatewayBook, HasGatewayBook};
use crate::http::{self, Incoming, ScriptedResponse};
use crate::server::{start_servers, Guard, Shared};
use crate::ws::{Encoding, Handshake, Out, OutTx, WsHandler};

/// One KOOK gateway connection's upgrade request (see also
/// [`KookConnection::is_resume`]).
pub type KookConnection = crate::gateway_book::GatewayConnection;
use payloads::event_frame;
pub use payloads::{added_reaction, group_kmarkdown, next_msg_id, person_text};
pub use rest_controls::{KookPost, KookReaction};

/// The fixtures' KOOK bot id.
pub const BOT_USER_ID: &str = "2862900000";
/// The fixtures' KOOK user `tz-un`.
pub const USER_ID: &str = "2418200000";
/// A guild id shaped like the fixtures'.
pub const GUILD_ID: &str = "6016389914000000";
/// A channel id shaped like the fixtures'.
pub const CHANNEL_ID: &str = "48818200000000000";

const OK: &str = "操作成功";

/// What a new connection gets instead of (or before) a good HELLO.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum KookHello {
    /// HELLO code 0 at once.
    #[default]
    Now,
    /// HELLO code 0 after this long.
    After(Duration),
    /// HELLO with this error code (e.g. 40103) and no session.
    Error(u32),
    /// Nothing at all (the connection just sits there).
    Never,
}

/// How a [`FakeKook`] behaves. `Default` gives the fixtures' ids.
#[derive(Debug, Clone)]
pub struct FakeKookOptions {
    /// The bot token (`Authorization: Bot <token>`).
    pub token: String,
    /// The bot's user id (`/user/me`, `target_id` of PERSON events).
    pub bot_user_id: String,
    /// The bot's username.
    pub bot_username: String,
    /// Compress every server frame (one zlib stream per binary frame) even
    /// if the connection asked `compress=0`; `compress=1` turns it on alone.
    pub compress: bool,
    /// HELLO behaviour for new sessions (changeable with
    /// [`FakeKook::set_hello`]).
    pub hello: KookHello,
    /// Send HELLO (same session id) before replaying on a resume.
    pub hello_on_resume: bool,
    /// On a PING whose `sn` lags what was sent, resend the events after it
    /// (the docs' "server retransmits"; off by default to keep tests exact).
    pub retransmit_on_ping: bool,
    /// How long the servers run at most before stopping by themselves
    /// ([`crate::HARD_LIFETIME`]; soak benchmarks that run longer raise it).
    pub lifetime: Duration,
}

impl Default for FakeKookOptions {
    fn default() -> Self {
        Self {
            token: "fake-kook-token".into(),
            bot_user_id: BOT_USER_ID.into(),
            bot_username: "krill".into(),
            compress: false,
            hello: KookHello::Now,
            hello_on_resume: true,
            retransmit_on_ping: false,
            lifetime: crate::HARD_LIFETIME,
        }
    }
}
/// A running fake KOOK. Dropping it stops both servers.
pub struct FakeKook {
    core: Arc<Core>,
    http_port: u16,
    ws_port: u16,
    _guard: Guard,
}

impl FakeKook {
    /// Starts the REST and gateway servers on 127.0.0.1.
    ///
    /// # Panics
    /// When 127.0.0.1 cannot be bound (the test cannot run then).
    pub fn start(options: FakeKookOptions) -> Self {
        let lifetime = options.lifetime;
        let core = Arc::new(Core {
            shared: Shared::new(State {
                pong: true,
                hello: options.hello,
                ..State::default()
            }),
            opts: options,
            ws_port: OnceLock::new(),
        });
        let handler: Arc<dyn WsHandler> = core.clone();
        let c = core.clone();
        let servers = start_servers(
            "fake-kook",
            lifetime,
            handler,
            // Set once, before any client can know the port.
            |port| {
                let _ = core.ws_port.set(port);
            },
            Arc::new(move |inc| c.on_http(inc)),
        );
        Self {
            core,
            http_port: servers.http_port,
            ws_port: servers.ws_port,
            _guard: servers.guard,
        }
    }

    /// `http://127.0.0.1:<port>/api/v3`, for `channels.kook.apiBaseUrl`.
    pub fn api_base_url(&self) -> String {
        format!("http://127.0.0.1:{}/api/v3", self.http_port)
    }

    /// The gateway's port (its URLs come from `GET /gateway/index`).
    pub fn ws_port(&self) -> u16 {
        self.ws_port
    }

    /// The options it runs with.
    pub fn options(&self) -> &FakeKookOptions {
        &self.core.opts
    }

    /// `(met)<bot id>(met)`, the bot's mention in KMarkdown.
    pub fn bot_mention(&self) -> String {
        format!("(met){}(met)", self.core.opts.bot_user_id)
    }
}
// ---- internals ----

struct Core {
    shared: Shared<State>,
    opts: FakeKookOptions,
    ws_port: OnceLock<u16>,
}

#[derive(Default)]
struct State {
    /// Connections, sessions (logging their events by `sn`), client frames.
    gw: GatewayBook<Log>,
    pending: Vec<Value>,
    pings: Vec<u64>,
    pong: bool,
    hello: KookHello,
    /// Issued gateway token -> expired.
    gateway_tokens: HashMap<String, bool>,
    last_token: Option<String>,
    // REST
    rest: http::RestBook,
    posts: Vec<KookPost>,
    reactions: Vec<KookReaction>,
    /// Files received by `/asset/create` (`message_id` = the URL given).
    assets: Vec<crate::multipart::UploadedFile>,
}

/// A session's events by `sn`.
type Log = BTreeMap<u64, Entry>;

/// One event of a session's log.
struct Entry {
    d: Value,
    delivered: bool,
}

/// A session's highest `sn` (0 before any event).
fn last_sn(log: &Log) -> u64 {
    log.keys().next_back().copied().unwrap_or(0)
}

impl State {
    fn send(&mut self, conn: u64, frame: &Value) {
        self.gw.send(conn, frame.to_string());
    }

    fn deliver(&mut self, sid: &str, d: Value) -> Option<u64> {
        let conn = self.gw.holder(sid);
        let sess = self.gw.sessions.get_mut(sid)?;
        let sn = last_sn(&sess.log) + 1;
        sess.log.insert(
            sn,
            Entry {
                d: d.clone(),
                delivered: conn.is_some(),
            },
        );
        if let Some(c) = conn {
            self.send(c, &event_frame(sn, &d));
        }
        Some(sn)
    }

    /// Sends every event after `sn` of session `sid` to `conn`.
    fn replay(&mut self, sid: &str, sn: u64, conn: u64) {
        let Some(sess) = self.gw.sessions.get_mut(sid) else {
            return;
        };
        let mut frames = Vec::new();
        for (k, e) in sess.log.range_mut(sn + 1..) {
            e.delivered = true;
            frames.push(event_frame(*k, &e.d));
        }
        for f in frames {
            self.send(conn, &f);
        }
    }
}

fn unix_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

fn str_field(v: &Value, k: &str) -> Option<String> {
    match v.get(k)? {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn envelope(data: Value) -> ScriptedResponse {
    ScriptedResponse::json(
        200,
        &[("Content-Type", "application/json; charset=utf-8")],
        &json!({"code": 0, "message": OK, "data": data}),
    )
}

fn error(code: u32, message: &str) -> ScriptedResponse {
    ScriptedResponse::json(
        200,
        &[("Content-Type", "application/json; charset=utf-8")],
        &json!({"code": code, "message": message, "data": []}),
    )
}

fn not_found() -> ScriptedResponse {
    ScriptedResponse::json(
        404,
        &[],
        &json!({"code": 404, "message": "Not Found", "data": []}),
    )
}

impl http::HasRestBook for State {
    fn rest_book(&mut self) -> &mut http::RestBook {
        &mut self.rest
    }
}

impl HasGatewayBook for State {
    type Log = Log;
    fn gateway(&self) -> &GatewayBook<Log> {
        &self.gw
    }
    fn gateway_mut(&mut self) -> &mut GatewayBook<Log> {
        &mut self.gw
    }
}
