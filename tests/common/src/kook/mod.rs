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

mod gateway;
mod rest;

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use serde_json::{json, Value};

use crate::http::{self, Incoming, RecordedRequest, Route, ScriptedResponse};
use crate::server::{start_servers, Guard, Shared};
use crate::ws::{Encoding, Handshake, Out, OutTx, WsHandler};
use crate::Timeout;

/// The fixtures' KOOK bot id.
pub const BOT_USER_ID: &str = "2862900000";
/// The fixtures' KOOK user `tz-un`.
pub const USER_ID: &str = "2418200000";
/// A guild id shaped like the fixtures'.
pub const GUILD_ID: &str = "6016389914000000";
/// A channel id shaped like the fixtures'.
pub const CHANNEL_ID: &str = "48818200000000000";

const OK: &str = "操作成功";
static MSG_IDS: AtomicU64 = AtomicU64::new(0);

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

/// A message the bot sent (`/message/create` or `/direct-message/create`,
/// answered `code: 0`).
#[derive(Debug, Clone, PartialEq)]
pub struct KookPost {
    /// True for `/direct-message/create`.
    pub direct: bool,
    /// `target_id` (channel id, or user id for DMs); empty when absent.
    pub target_id: String,
    /// `chat_code` (DMs), if given.
    pub chat_code: Option<String>,
    /// `type` (9 KMarkdown, 1 text...); 0 when absent.
    pub msg_type: u64,
    /// `content`.
    pub content: String,
    /// `quote`, if given.
    pub quote: Option<String>,
    /// The `msg_id` the fake gave it.
    pub msg_id: String,
    /// When the fake created it (Unix ms), as `create_at` in the lists.
    pub created_ms: u64,
    /// The whole JSON body.
    pub body: Value,
    /// Request headers.
    pub headers: Vec<(String, String)>,
}

/// A reaction the bot added or removed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KookReaction {
    /// True for the `/direct-message/...` routes.
    pub direct: bool,
    /// `msg_id`.
    pub msg_id: String,
    /// `emoji`.
    pub emoji: String,
    /// True for add, false for delete.
    pub added: bool,
}

/// One gateway connection's upgrade request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KookConnection {
    /// Request path (`/gateway`).
    pub path: String,
    /// Query parameters (`compress`, `token`, `resume`, `sn`, `session_id`).
    pub query: Vec<(String, String)>,
    /// Request headers.
    pub headers: Vec<(String, String)>,
}

impl KookConnection {
    /// The first query parameter named `name`.
    pub fn query_param(&self, name: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// True when it asked to resume (`resume=1`).
    pub fn is_resume(&self) -> bool {
        self.query_param("resume") == Some("1")
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

    // ---- REST script and records ----

    /// The next request `route` matches is handled as usual (a message is
    /// posted, an asset stored) but answered only after `delay`: the client
    /// can die between the server acting and the answer.
    pub fn delay_http_answer(&self, route: impl Into<Route>, delay: Duration) {
        let route = route.into();
        self.core
            .shared
            .update(|s| s.delayed.push_back((route, delay)));
    }

    /// Queues `response` for the next request `route` matches (path below
    /// `/api/v3`, e.g. `"POST /message/create"`), ahead of normal handling
    /// and of the token check.
    pub fn push_http_response(&self, route: impl Into<Route>, response: ScriptedResponse) {
        let route = route.into();
        self.core
            .shared
            .update(|s| s.scripted.push_back((route, response)));
    }

    /// Every HTTP request so far, in order.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.core.shared.lock().requests.clone()
    }

    /// Files uploaded with `POST /asset/create`, in order (`message_id`
    /// holds the asset URL the fake answered).
    pub fn uploaded_assets(&self) -> Vec<crate::multipart::UploadedFile> {
        self.core.shared.lock().assets.clone()
    }

    /// Messages sent (channel and direct), in order.
    pub fn posted_messages(&self) -> Vec<KookPost> {
        self.core.shared.lock().posts.clone()
    }

    /// Waits until at least `n` messages were sent; returns all of them.
    pub fn wait_for_posts(&self, n: usize, timeout: Duration) -> Result<Vec<KookPost>, Timeout> {
        self.core.shared.wait_until(
            timeout,
            |s| {
                let c: Vec<&str> = s.posts.iter().map(|p| p.content.as_str()).collect();
                format!("{n} posted messages (got {}: {c:?})", s.posts.len())
            },
            |s| (s.posts.len() >= n).then(|| s.posts.clone()),
        )
    }

    /// Reactions added or removed, in order.
    pub fn reactions(&self) -> Vec<KookReaction> {
        self.core.shared.lock().reactions.clone()
    }

    /// How often `GET /gateway/index` was answered.
    pub fn gateway_fetch_count(&self) -> usize {
        self.core.shared.lock().gateway_tokens.len()
    }

    /// The gateway token of the last `GET /gateway/index` (to check it never
    /// shows up in a log).
    pub fn last_gateway_token(&self) -> Option<String> {
        self.core.shared.lock().last_token.clone()
    }

    /// Every gateway token issued so far now gets HELLO 40103.
    pub fn expire_gateway_tokens(&self) {
        self.core
            .shared
            .update(|s| s.gateway_tokens.values_mut().for_each(|e| *e = true));
    }

    // ---- gateway controls ----

    /// Sends event `d` with the next `sn` now if a client holds the current
    /// session; otherwise keeps it for a resume (or the next session).
    /// Returns the `sn` given (`None`: no session yet, queued).
    pub fn event(&self, d: Value) -> Option<u64> {
        self.core.shared.update(|s| match s.current_valid() {
            Some(sid) => s.deliver(&sid, d),
            None => {
                s.pending.push(d);
                None
            }
        })
    }

    /// Sends event `d` with this `sn` as is (out of order, or a duplicate).
    /// It joins the session's log unless that `sn` is taken.
    pub fn event_with_sn(&self, sn: u64, d: Value) {
        self.core.shared.update(|s| {
            let Some(sid) = s.current_valid() else {
                return;
            };
            let Some(sess) = s.sessions.get_mut(&sid) else {
                return;
            };
            let conn = sess
                .conn
                .filter(|c| s.conns.get(c).is_some_and(|x| !x.closing));
            sess.log.entry(sn).or_insert(Entry {
                d: d.clone(),
                delivered: conn.is_some(),
            });
            if let Some(c) = conn {
                s.send(c, &event_frame(sn, &d));
            }
        });
    }

    /// Sends s=5 RECONNECT with `code` (40106/40107/40108) and invalidates
    /// the session.
    pub fn send_reconnect(&self, code: u32) -> bool {
        self.core.shared.update(|s| {
            let Some(id) = s.newest_conn() else {
                return false;
            };
            if let Some(sid) = s.conns.get(&id).and_then(|c| c.session.clone()) {
                s.invalidate(&sid);
            }
            let f = json!({"s": 5, "d": {"code": code, "err": "reconnect"}});
            s.send(id, &f);
            true
        })
    }

    /// Sends `text` as is. False when no client is connected.
    pub fn send_raw_text(&self, text: &str) -> bool {
        self.send_now(Out::Text(text.to_owned()))
    }

    /// Closes the newest connection with `code`.
    pub fn close(&self, code: u16) -> bool {
        self.send_now(Out::Close(code, String::new()))
    }

    /// Drops the newest connection's TCP stream with no close frame.
    pub fn drop_tcp(&self) -> bool {
        self.send_now(Out::Drop)
    }

    /// Turns PONGs on or off.
    pub fn set_pong(&self, on: bool) {
        self.core.shared.update(|s| s.pong = on);
    }

    /// What new sessions' connections get from now on.
    pub fn set_hello(&self, hello: KookHello) {
        self.core.shared.update(|s| s.hello = hello);
    }

    // ---- gateway records ----

    /// Connections accepted so far.
    pub fn connection_count(&self) -> usize {
        self.core.shared.lock().connections.len()
    }

    /// Connections open now.
    pub fn live_connection_count(&self) -> usize {
        self.core.shared.lock().conns.len()
    }

    /// Every connection's upgrade request, in order.
    pub fn connections(&self) -> Vec<KookConnection> {
        self.core.shared.lock().connections.clone()
    }

    /// Successful resumes (s=6 sent).
    pub fn resume_count(&self) -> usize {
        self.core.shared.lock().resumed
    }

    /// Every PING's `sn`, in order.
    pub fn pings(&self) -> Vec<u64> {
        self.core.shared.lock().pings.clone()
    }

    /// Every frame the client sent that parsed as JSON.
    pub fn client_frames(&self) -> Vec<Value> {
        self.core.shared.lock().frames.clone()
    }

    /// The current session's id.
    pub fn session_id(&self) -> Option<String> {
        self.core.shared.lock().current.clone()
    }

    /// The current session's highest `sn`.
    pub fn last_sn(&self) -> Option<u64> {
        let s = self.core.shared.lock();
        let id = s.current.as_ref()?;
        s.sessions.get(id).map(|x| x.last_sn())
    }

    /// Waits until a live connection holds a session (HELLO or s=6 sent).
    pub fn wait_for_ready_client(&self, timeout: Duration) -> Result<(), Timeout> {
        self.core.shared.wait_until(
            timeout,
            |s| format!("a ready client ({} live connections)", s.conns.len()),
            |s| {
                s.conns
                    .values()
                    .any(|c| c.session.is_some() && !c.closing)
                    .then_some(())
            },
        )
    }

    /// Waits until `n` connections were accepted in total.
    pub fn wait_for_connections(&self, n: usize, timeout: Duration) -> Result<(), Timeout> {
        self.core.shared.wait_until(
            timeout,
            |s| format!("{n} connections (got {})", s.connections.len()),
            |s| (s.connections.len() >= n).then_some(()),
        )
    }

    /// Waits until `n` PINGs arrived; returns their `sn`s.
    pub fn wait_for_pings(&self, n: usize, timeout: Duration) -> Result<Vec<u64>, Timeout> {
        self.core.shared.wait_until(
            timeout,
            |s| format!("{n} pings (got {})", s.pings.len()),
            |s| (s.pings.len() >= n).then(|| s.pings.clone()),
        )
    }

    /// Waits until `n` resumes succeeded.
    pub fn wait_for_resumed(&self, n: usize, timeout: Duration) -> Result<(), Timeout> {
        self.core.shared.wait_until(
            timeout,
            |s| format!("{n} successful resumes (got {})", s.resumed),
            |s| (s.resumed >= n).then_some(()),
        )
    }

    /// Waits until `n` gateway fetches happened.
    pub fn wait_for_gateway_fetches(&self, n: usize, timeout: Duration) -> Result<(), Timeout> {
        self.core.shared.wait_until(
            timeout,
            |s| format!("{n} gateway fetches (got {})", s.gateway_tokens.len()),
            |s| (s.gateway_tokens.len() >= n).then_some(()),
        )
    }

    /// Waits until no connection is open.
    pub fn wait_for_disconnect(&self, timeout: Duration) -> Result<(), Timeout> {
        self.core.shared.wait_until(
            timeout,
            |s| format!("no live connection ({} live)", s.conns.len()),
            |s| s.conns.is_empty().then_some(()),
        )
    }

    // ---- payload helpers bound to this bot ----

    /// A PERSON (DM) KMarkdown event to this bot.
    pub fn person_text(&self, author_id: &str, content: &str) -> Value {
        person_text(&self.core.opts.bot_user_id, author_id, content)
    }

    /// A GROUP KMarkdown event; `mentions` are user ids (write
    /// `(met)id(met)` into `content` yourself).
    pub fn group_kmarkdown(
        &self,
        channel_id: &str,
        guild_id: &str,
        author_id: &str,
        content: &str,
        mentions: &[&str],
    ) -> Value {
        group_kmarkdown(channel_id, guild_id, author_id, content, mentions)
    }

    fn send_now(&self, out: Out) -> bool {
        self.core.shared.update(|s| match s.newest_conn() {
            Some(id) => {
                if let Some(c) = s.conns.get_mut(&id) {
                    // Nothing more goes to a connection on its way out.
                    c.closing |= matches!(out, Out::Close(..) | Out::Drop);
                    let _ = c.out.try_send(out);
                }
                true
            }
            None => false,
        })
    }
}

// ---- payload helpers ----

/// A PERSON (DM) KMarkdown event `d` from `author_id` to `bot_id`, shaped
/// like `fixtures/kook/gateway/event_person_text.json`.
pub fn person_text(bot_id: &str, author_id: &str, content: &str) -> Value {
    json!({
        "channel_type": "PERSON",
        "type": 9,
        "target_id": bot_id,
        "author_id": author_id,
        "content": content,
        "extra": {
            "type": 9,
            "code": format!("{:0>32}", digits(author_id)),
            "author": author(author_id, false),
            "mention": [],
            "mention_all": false,
            "mention_roles": [],
            "mention_here": false,
            "nav_channels": [],
            "kmarkdown": {"raw_content": content, "mention_part": [], "mention_role_part": []}
        },
        "msg_id": next_msg_id(),
        "msg_timestamp": 1_741_944_490_044u64,
        "nonce": "",
        "verify_token": "xxx"
    })
}

/// A GROUP KMarkdown event `d`, shaped like
/// `fixtures/kook/gateway/event_group_kmarkdown_mention.json`.
pub fn group_kmarkdown(
    channel_id: &str,
    guild_id: &str,
    author_id: &str,
    content: &str,
    mentions: &[&str],
) -> Value {
    let parts: Vec<Value> = mentions
        .iter()
        .map(|id| {
            json!({"id": id, "username": format!("user-{id}"),
            "full_name": format!("user-{id}#0001"), "avatar": ""})
        })
        .collect();
    json!({
        "channel_type": "GROUP",
        "type": 9,
        "target_id": channel_id,
        "author_id": author_id,
        "content": content,
        "extra": {
            "type": 9,
            "guild_id": guild_id,
            "channel_name": "文字频道",
            "mention": mentions,
            "mention_all": false,
            "mention_roles": [],
            "mention_here": false,
            "nav_channels": [],
            "code": "",
            "author": author(author_id, false),
            "kmarkdown": {"raw_content": content, "mention_part": parts, "mention_role_part": []},
            "channel_type": 1
        },
        "msg_id": next_msg_id(),
        "msg_timestamp": 1_741_944_413_589u64,
        "nonce": "",
        "verify_token": "xxx"
    })
}

/// An `added_reaction` system event `d` (GROUP), shaped like
/// `fixtures/kook/gateway/event_added_reaction.json`.
pub fn added_reaction(
    guild_id: &str,
    channel_id: &str,
    msg_id: &str,
    user_id: &str,
    emoji: &str,
) -> Value {
    json!({
        "channel_type": "GROUP",
        "type": 255,
        "target_id": guild_id,
        "author_id": "1",
        "content": "[系统消息]",
        "extra": {
            "type": "added_reaction",
            "body": {
                "channel_id": channel_id,
                "channel_type": 1,
                "emoji": {"id": emoji, "name": emoji},
                "user_id": user_id,
                "msg_id": msg_id
            }
        },
        "msg_id": next_msg_id(),
        "msg_timestamp": 1_612_703_779_612u64,
        "nonce": "",
        "verify_token": "xxxx"
    })
}

/// A fresh uuid-shaped message id.
pub fn next_msg_id() -> String {
    let n = MSG_IDS.fetch_add(1, Ordering::Relaxed);
    format!("6a0e2d4c-3f1b-4c8a-9e7d-{n:012x}")
}

fn author(id: &str, bot: bool) -> Value {
    json!({
        "id": id,
        "username": format!("user-{id}"),
        "identify_num": "5618",
        "online": true,
        "os": "Websocket",
        "status": 1,
        "avatar": "https://img.kaiheila.cn/avatars/2020-02/xxxx.jpg/icon",
        "vip_avatar": "https://img.kaiheila.cn/avatars/2020-02/xxxx.jpg/icon",
        "nickname": format!("user-{id}"),
        "roles": [],
        "is_vip": false,
        "bot": bot,
        "mobile_verified": true
    })
}

fn digits(s: &str) -> String {
    s.chars().filter(char::is_ascii_digit).take(18).collect()
}

fn event_frame(sn: u64, d: &Value) -> Value {
    json!({"s": 0, "d": d, "sn": sn})
}

// ---- internals ----

struct Core {
    shared: Shared<State>,
    opts: FakeKookOptions,
    ws_port: OnceLock<u16>,
}

#[derive(Default)]
struct State {
    conns: BTreeMap<u64, Conn>,
    connections: Vec<KookConnection>,
    sessions: HashMap<String, Session>,
    current: Option<String>,
    pending: Vec<Value>,
    sessions_created: u64,
    resumed: usize,
    pings: Vec<u64>,
    frames: Vec<Value>,
    pong: bool,
    hello: KookHello,
    /// Issued gateway token -> expired.
    gateway_tokens: HashMap<String, bool>,
    last_token: Option<String>,
    // REST
    requests: Vec<RecordedRequest>,
    scripted: VecDeque<(Route, ScriptedResponse)>,
    /// Requests handled as usual but answered late.
    delayed: VecDeque<(Route, Duration)>,
    posts: Vec<KookPost>,
    reactions: Vec<KookReaction>,
    /// Files received by `/asset/create` (`message_id` = the URL given).
    assets: Vec<crate::multipart::UploadedFile>,
}

struct Conn {
    out: OutTx,
    session: Option<String>,
    /// A close frame or a TCP drop is queued: it gets no more events.
    closing: bool,
}

struct Session {
    log: BTreeMap<u64, Entry>,
    valid: bool,
    conn: Option<u64>,
}

impl Session {
    fn last_sn(&self) -> u64 {
        self.log.keys().next_back().copied().unwrap_or(0)
    }
}

struct Entry {
    d: Value,
    delivered: bool,
}

impl State {
    /// The newest connection not being closed by the fake.
    fn newest_conn(&self) -> Option<u64> {
        self.conns
            .iter()
            .rev()
            .find(|(_, c)| !c.closing)
            .map(|(id, _)| *id)
    }

    fn current_valid(&self) -> Option<String> {
        let id = self.current.as_ref()?;
        self.sessions
            .get(id)
            .filter(|s| s.valid)
            .map(|_| id.clone())
    }

    fn send(&self, conn: u64, frame: &Value) {
        if let Some(c) = self.conns.get(&conn) {
            // Unbounded: never full; closed means the connection is ending.
            let _ = c.out.try_send(Out::Text(frame.to_string()));
        }
    }

    fn deliver(&mut self, sid: &str, d: Value) -> Option<u64> {
        let sess = self.sessions.get_mut(sid)?;
        let sn = sess.last_sn() + 1;
        let conn = sess
            .conn
            .filter(|c| self.conns.get(c).is_some_and(|x| !x.closing));
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

    fn invalidate(&mut self, sid: &str) {
        if let Some(s) = self.sessions.get_mut(sid) {
            s.valid = false;
        }
    }

    /// Sends every event after `sn` of session `sid` to `conn`.
    fn replay(&mut self, sid: &str, sn: u64, conn: u64) {
        let Some(sess) = self.sessions.get_mut(sid) else {
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

impl Core {}

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
