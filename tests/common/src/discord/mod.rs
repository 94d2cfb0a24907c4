//! [`FakeDiscord`]: a fake Discord REST API (`/api/v10`) and gateway on
//! 127.0.0.1, speaking the protocol as `docs/protocol-discord.md`
//! describes, scriptable from the test thread.
//!
//! Gateway model:
//! - every connection gets Hello (op 10) at once; op 2 Identify creates a
//!   session and answers READY (`s` = 1); op 6 Resume with a known, valid
//!   session and a `seq` it has seen replays every dispatch after `seq`, in
//!   order, then RESUMED; an unknown or invalidated session gets op 9
//!   `d: false`; a `seq` beyond the session's gets close 4007;
//! - sequence numbers count per session, across connections; the session
//!   keeps a log of its dispatches, so a resume replays what the client
//!   missed, including what the test dispatched while it was disconnected;
//! - [`FakeDiscord::dispatch`] sends at once to the connection holding the
//!   current session; with no live connection it is kept for a resume, and
//!   what no connection ever got is carried into the next session (after
//!   READY) when the client identifies afresh;
//! - like Discord: a client close with 1000/1001 invalidates its session;
//!   frames over 4096 bytes get close 4002, invalid JSON 4002, an unknown op
//!   4001, anything but op 1/2/6 before identifying 4003, a second identify
//!   4005, a wrong token 4004, more than 120 frames in 60 s 4008;
//! - controls act on the newest live connection.
//!
//! REST model: `Authorization: Bot <token>` on every route but
//! `GET /gateway` (else 401 `{"message":"401: Unauthorized","code":0}`);
//! queued [`ScriptedResponse`]s are served first; messages honour `nonce` +
//! `enforce_nonce` (a repeated nonce returns the original message and is
//! recorded as a duplicate attempt, not as a second post);
//! [`FakeDiscord::delay_http_answer`] answers a request late after handling
//! it (the client may die in between).

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::http::{self, Incoming, RecordedRequest, Route, ScriptedResponse};
use crate::server::{start_servers, Guard, Shared};
use crate::ws::{Encoding, Handshake, Out, OutTx, WsHandler};
use crate::Timeout;

mod gateway;
mod interactions;
mod payloads;
mod resources;
mod rest;
use gateway::dispatch_frame;
pub use interactions::{InteractionRecord, SlashCaller, CALLBACK_DEADLINE};
use payloads::{contents, frame, snowflake};
pub use payloads::{message_create_dm, message_create_guild, message_reaction_add, next_event_id};
pub use resources::RoleChange;

/// The fixtures' bot id (`krill`).
pub const BOT_USER_ID: &str = "1297484454297731072";
/// The fixtures' guild.
pub const GUILD_ID: &str = "849255963033731072";
/// The fixtures' guild text channel.
pub const CHANNEL_ID: &str = "849255967228035073";
/// The fixtures' DM channel.
pub const DM_CHANNEL_ID: &str = "1302291126681731072";
/// The fixtures' user `nelly`.
pub const USER_ID: &str = "80351110224678912";

const MAX_PAYLOAD: usize = 4096;
const RATE_LIMIT_FRAMES: usize = 120;
const RATE_LIMIT_WINDOW: Duration = Duration::from_secs(60);
/// Ids the REST side hands out: snowflakes from 2025-03-14 on.
const REST_ID_BASE_MS: u64 = 321_880_843_500;
/// Ids the payload helpers hand out (an hour earlier, never colliding).
const EVENT_ID_BASE_MS: u64 = 321_877_243_500;
static EVENT_IDS: AtomicU64 = AtomicU64::new(0);

/// How a [`FakeDiscord`] behaves. `Default` gives the fixtures' ids.
#[derive(Debug, Clone)]
pub struct FakeDiscordOptions {
    /// The bot token (`Authorization: Bot <token>`, Identify/Resume `token`).
    pub token: String,
    /// Hello's `heartbeat_interval`.
    pub heartbeat_interval_ms: u64,
    /// Send zlib-stream binary frames even if the client did not ask with
    /// `compress=zlib-stream` (which turns them on by itself).
    pub compress_zlib_stream: bool,
    /// The bot's user id (READY `user.id`, `/users/@me`, message authors).
    pub bot_user_id: String,
    /// The bot's username.
    pub bot_username: String,
    /// Guilds listed (unavailable) in READY.
    pub guild_ids: Vec<String>,
    /// `shards` in `GET /gateway/bot`.
    pub shards: u32,
    /// READY's `resume_gateway_url`; `None` = this same server.
    pub resume_gateway_url: Option<String>,
    /// Close with 4008 after 120 client frames in 60 s.
    pub enforce_gateway_rate_limit: bool,
    /// `flags` of `GET /oauth2/applications/@me` (bit 18/19: message
    /// content intent enabled).
    pub application_flags: u64,
    /// Members of every guild in `guild_ids`, for
    /// `GET /guilds/{id}/members/search` (see [`GuildMember`]).
    pub guild_members: Vec<GuildMember>,
    /// The Server Members Intent is on in the "portal": without it member
    /// search is refused with 403 `Missing Access` (code 50001).
    pub members_intent: bool,
    /// How long the servers run at most before stopping by themselves
    /// ([`crate::HARD_LIFETIME`]; soak benchmarks that run longer raise it).
    pub lifetime: Duration,
}

/// A guild member the fake's member search can find.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GuildMember {
    /// The user.
    pub user: Author,
    /// The guild nickname, if any.
    pub nick: Option<String>,
}

impl GuildMember {
    /// A member without a nickname.
    pub fn new(user: Author) -> Self {
        Self { user, nick: None }
    }

    /// The guild member object (`developers/resources/guild.mdx`).
    pub fn to_json(&self) -> Value {
        json!({
            "user": self.user.to_json(),
            "nick": self.nick,
            "avatar": null,
            "roles": [],
            "joined_at": "2024-06-01T12:00:00.000000+00:00",
            "premium_since": null,
            "deaf": false,
            "mute": false,
            "flags": 0,
            "pending": false,
            "communication_disabled_until": null
        })
    }
}

impl Default for FakeDiscordOptions {
    fn default() -> Self {
        Self {
            token: "fake-discord-token".into(),
            heartbeat_interval_ms: 41_250,
            compress_zlib_stream: false,
            bot_user_id: BOT_USER_ID.into(),
            bot_username: "krill".into(),
            guild_ids: vec![GUILD_ID.into()],
            shards: 1,
            resume_gateway_url: None,
            enforce_gateway_rate_limit: true,
            application_flags: 557_056,
            guild_members: Vec::new(),
            members_intent: true,
            lifetime: crate::HARD_LIFETIME,
        }
    }
}

/// A message the bot posted (`POST /channels/{id}/messages`, answered 200).
#[derive(Debug, Clone, PartialEq)]
pub struct PostedMessage {
    /// Channel id from the path.
    pub channel_id: String,
    /// The id the fake gave the message.
    pub message_id: String,
    /// `content` (empty when absent).
    pub content: String,
    /// The whole JSON body.
    pub body: Value,
    /// Request headers.
    pub headers: Vec<(String, String)>,
}

impl PostedMessage {
    /// The first header named `name` (ASCII case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        http::header(&self.headers, name)
    }
}

/// A reaction the bot added (`PUT`) or removed (`DELETE`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordedReaction {
    /// Channel id.
    pub channel_id: String,
    /// Message id.
    pub message_id: String,
    /// The emoji, percent-decoded (`🔥`, `name:id`).
    pub emoji: String,
    /// True for `PUT` (add), false for `DELETE`.
    pub added: bool,
}

/// One gateway connection's upgrade request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GatewayConnection {
    /// Request path (`/`).
    pub path: String,
    /// Query parameters (`v=10`, `encoding=json`, `compress=zlib-stream`).
    pub query: Vec<(String, String)>,
    /// Request headers (`User-Agent`...).
    pub headers: Vec<(String, String)>,
}

impl GatewayConnection {
    /// The first query parameter named `name`.
    pub fn query_param(&self, name: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// The first header named `name` (ASCII case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        http::header(&self.headers, name)
    }
}

/// A message author for the payload helpers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Author {
    /// User id.
    pub id: String,
    /// Username.
    pub username: String,
    /// `author.bot` (absent when false, as in the fixtures).
    pub bot: bool,
}

impl Author {
    /// A human user.
    pub fn user(id: &str, username: &str) -> Self {
        Self {
            id: id.into(),
            username: username.into(),
            bot: false,
        }
    }

    /// Another bot.
    pub fn bot(id: &str, username: &str) -> Self {
        Self {
            id: id.into(),
            username: username.into(),
            bot: true,
        }
    }

    /// The fixtures' user `nelly`.
    pub fn nelly() -> Self {
        Self::user(USER_ID, "nelly")
    }

    fn to_json(&self) -> Value {
        let mut v = json!({
            "id": self.id,
            "username": self.username,
            "global_name": null,
            "discriminator": "0",
            "avatar": null,
            "public_flags": 0,
            "avatar_decoration_data": null,
        });
        if self.bot {
            v["bot"] = json!(true);
        }
        v
    }
}

/// A running fake Discord. Dropping it stops both servers.
pub struct FakeDiscord {
    core: Arc<Core>,
    http_port: u16,
    ws_port: u16,
    _guard: Guard,
}

impl FakeDiscord {
    /// Starts the REST and gateway servers on 127.0.0.1.
    ///
    /// # Panics
    /// When 127.0.0.1 cannot be bound (the test cannot run then).
    pub fn start(options: FakeDiscordOptions) -> Self {
        let lifetime = options.lifetime;
        let core = Arc::new(Core {
            shared: Shared::new(State {
                heartbeat_ack: true,
                ..State::default()
            }),
            opts: options,
            ws_port: OnceLock::new(),
        });
        let handler: Arc<dyn WsHandler> = core.clone();
        let c = core.clone();
        let servers = start_servers(
            "fake-discord",
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

    /// `http://127.0.0.1:<port>/api/v10`, for `channels.discord.apiBaseUrl`.
    pub fn api_base_url(&self) -> String {
        format!("http://127.0.0.1:{}/api/v10", self.http_port)
    }

    /// `ws://127.0.0.1:<port>`, what `GET /gateway/bot` answers.
    pub fn gateway_url(&self) -> String {
        format!("ws://127.0.0.1:{}", self.ws_port)
    }

    /// The options it runs with.
    pub fn options(&self) -> &FakeDiscordOptions {
        &self.core.opts
    }

    /// `<@bot_user_id>`.
    pub fn bot_mention(&self) -> String {
        format!("<@{}>", self.core.opts.bot_user_id)
    }

    // ---- REST script and records ----

    /// Queues `response` for the next request `route` matches (path below
    /// `/api/v10`, e.g. `"POST /channels/*/messages"`), ahead of normal
    /// handling and of the token check.
    pub fn push_http_response(&self, route: impl Into<Route>, response: ScriptedResponse) {
        let route = route.into();
        self.core
            .shared
            .update(|s| s.scripted.push_back((route, response)));
    }

    /// The next request `route` matches is handled as usual (a message is
    /// posted, an upload recorded) but answered only after `delay`: the
    /// client can die between the server acting and the answer.
    pub fn delay_http_answer(&self, route: impl Into<Route>, delay: Duration) {
        let route = route.into();
        self.core
            .shared
            .update(|s| s.delayed.push_back((route, delay)));
    }

    /// Every HTTP request so far, in order.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.core.shared.lock().requests.clone()
    }

    /// Files uploaded with messages (multipart `files[n]`), in order.
    pub fn uploaded_files(&self) -> Vec<crate::multipart::UploadedFile> {
        self.core.shared.lock().uploads.clone()
    }

    /// Messages posted (each nonce once), in order.
    pub fn posted_messages(&self) -> Vec<PostedMessage> {
        self.core.shared.lock().posts.clone()
    }

    /// Repeated posts with an already used `nonce` + `enforce_nonce`, which
    /// were answered with the original message and not posted again.
    pub fn duplicate_post_attempts(&self) -> Vec<PostedMessage> {
        self.core.shared.lock().duplicate_posts.clone()
    }

    /// Waits until at least `n` messages were posted; returns all of them.
    pub fn wait_for_posts(
        &self,
        n: usize,
        timeout: Duration,
    ) -> Result<Vec<PostedMessage>, Timeout> {
        self.core.shared.wait_until(
            timeout,
            |s| {
                format!(
                    "{n} posted messages (got {}: {:?})",
                    s.posts.len(),
                    contents(&s.posts)
                )
            },
            |s| (s.posts.len() >= n).then(|| s.posts.clone()),
        )
    }

    /// Waits until at least `n` HTTP requests matching `route` arrived.
    pub fn wait_for_requests(
        &self,
        route: impl Into<Route>,
        n: usize,
        timeout: Duration,
    ) -> Result<Vec<RecordedRequest>, Timeout> {
        let route = route.into();
        self.core.shared.wait_until(
            timeout,
            |s| format!("{n} requests matching {route:?} (got {})", s.requests.len()),
            |s| {
                let m: Vec<_> = s
                    .requests
                    .iter()
                    .filter(|r| route.matches(&r.method, &r.path))
                    .cloned()
                    .collect();
                (m.len() >= n).then_some(m)
            },
        )
    }

    /// Reactions added or removed, in order.
    pub fn reactions(&self) -> Vec<RecordedReaction> {
        self.core.shared.lock().reactions.clone()
    }

    /// How often `GET /gateway/bot` was answered.
    pub fn gateway_bot_fetch_count(&self) -> usize {
        self.core.shared.lock().gateway_bot_fetches
    }

    // ---- gateway controls ----

    /// Sends dispatch `t` with data `d` now if a client holds the current
    /// session; otherwise keeps it for a resume (or the next session).
    pub fn dispatch(&self, t: &str, d: Value) {
        let t = t.to_owned();
        self.core
            .shared
            .update(|s| s.resources.observe_dispatch(&t, &d));
        self.core.shared.update(|s| match s.current_valid() {
            Some(sid) => {
                s.deliver(&sid, &t, d, true);
            }
            None => s.pending.push((t, d)),
        });
    }

    /// Sends `text` as is (a frame the client must survive, e.g. broken
    /// JSON). False when no client is connected.
    pub fn send_raw_text(&self, text: &str) -> bool {
        self.send_now(Out::Text(text.to_owned()))
    }

    /// Sends op 7 Reconnect.
    pub fn send_op7_reconnect(&self) -> bool {
        self.send_now(Out::Text(frame(7, Value::Null)))
    }

    /// Sends op 9 Invalid Session; `false` also invalidates the session.
    pub fn send_op9(&self, resumable: bool) -> bool {
        self.core.shared.update(|s| {
            let Some(id) = s.newest_conn() else {
                return false;
            };
            if !resumable {
                if let Some(sid) = s.conns.get(&id).and_then(|c| c.session.clone()) {
                    s.invalidate(&sid);
                }
            }
            s.send(id, frame(9, json!(resumable)));
            true
        })
    }

    /// Sends op 1, asking the client to heartbeat now.
    pub fn send_heartbeat_request(&self) -> bool {
        self.send_now(Out::Text(frame(1, Value::Null)))
    }

    /// Closes the newest connection with `code` and `reason` (the session
    /// stays resumable).
    pub fn close(&self, code: u16, reason: &str) -> bool {
        self.send_now(Out::Close(code, reason.to_owned()))
    }

    /// Drops the newest connection's TCP stream with no close frame.
    pub fn drop_tcp(&self) -> bool {
        self.send_now(Out::Drop)
    }

    /// Turns op 11 Heartbeat ACKs on or off (off: zombie connection).
    pub fn set_heartbeat_ack(&self, on: bool) {
        self.core.shared.update(|s| s.heartbeat_ack = on);
    }

    /// The next `n` resumes get op 9 `d: false` (and lose their session).
    pub fn reject_resume_next(&self, n: usize) {
        self.core.shared.update(|s| s.reject_resumes = n);
    }

    /// The next Identify is answered by closing with `code` (e.g. 4004,
    /// 4014) instead of READY.
    pub fn close_on_next_identify(&self, code: u16, reason: &str) {
        let r = reason.to_owned();
        self.core
            .shared
            .update(|s| s.fail_identify = Some((code, r)));
    }

    // ---- gateway records ----

    /// Connections accepted so far (upgrades completed).
    pub fn connection_count(&self) -> usize {
        self.core.shared.lock().connections.len()
    }

    /// Connections open now.
    pub fn live_connection_count(&self) -> usize {
        self.core.shared.lock().conns.len()
    }

    /// Every connection's upgrade request, in order.
    pub fn connections(&self) -> Vec<GatewayConnection> {
        self.core.shared.lock().connections.clone()
    }

    /// op 2 frames received.
    pub fn identify_count(&self) -> usize {
        self.core.shared.lock().identifies.len()
    }

    /// op 6 frames received.
    pub fn resume_count(&self) -> usize {
        self.core.shared.lock().resumes.len()
    }

    /// Successful resumes (RESUMED sent).
    pub fn resumed_count(&self) -> usize {
        self.core.shared.lock().resumed
    }

    /// The last Identify's `d`.
    pub fn last_identify(&self) -> Option<Value> {
        self.core.shared.lock().identifies.last().cloned()
    }

    /// Every Identify's `d`.
    pub fn identifies(&self) -> Vec<Value> {
        self.core.shared.lock().identifies.clone()
    }

    /// Every Resume's `d`.
    pub fn resumes(&self) -> Vec<Value> {
        self.core.shared.lock().resumes.clone()
    }

    /// Every heartbeat's `d`, in order (`None` = null).
    pub fn heartbeats(&self) -> Vec<Option<u64>> {
        self.core.shared.lock().heartbeats.clone()
    }

    /// Every frame the client sent that parsed as JSON (op 3, op 8...).
    pub fn client_frames(&self) -> Vec<Value> {
        self.core.shared.lock().frames.clone()
    }

    /// The close codes of the close frames the client sent (`None`: no code).
    pub fn client_close_codes(&self) -> Vec<Option<u16>> {
        self.core.shared.lock().client_closes.clone()
    }

    /// The current session's id (from the last READY).
    pub fn session_id(&self) -> Option<String> {
        self.core.shared.lock().current.clone()
    }

    /// The current session's last sequence number.
    pub fn last_seq(&self) -> Option<u64> {
        let s = self.core.shared.lock();
        s.current
            .as_ref()
            .and_then(|id| s.sessions.get(id))
            .map(|x| x.seq)
    }

    /// Waits for the first Identify; returns the last one's `d`.
    pub fn wait_for_identify(&self, timeout: Duration) -> Result<Value, Timeout> {
        self.wait_for_identify_count(1, timeout)
    }

    /// Waits until `n` Identifies arrived; returns the last one's `d`.
    pub fn wait_for_identify_count(&self, n: usize, timeout: Duration) -> Result<Value, Timeout> {
        self.core.shared.wait_until(
            timeout,
            |s| format!("{n} identifies (got {})", s.identifies.len()),
            |s| (s.identifies.len() >= n).then(|| s.identifies.last().cloned().unwrap_or_default()),
        )
    }

    /// Waits until `n` resumes succeeded.
    pub fn wait_for_resumed(&self, n: usize, timeout: Duration) -> Result<(), Timeout> {
        self.core.shared.wait_until(
            timeout,
            |s| {
                format!(
                    "{n} successful resumes (got {}, {} attempts)",
                    s.resumed,
                    s.resumes.len()
                )
            },
            |s| (s.resumed >= n).then_some(()),
        )
    }

    /// Waits until a live connection has identified or resumed (READY or
    /// RESUMED sent on it).
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

    /// Waits until no connection is open.
    pub fn wait_for_disconnect(&self, timeout: Duration) -> Result<(), Timeout> {
        self.core.shared.wait_until(
            timeout,
            |s| format!("no live connection ({} live)", s.conns.len()),
            |s| s.conns.is_empty().then_some(()),
        )
    }

    /// Waits until `n` heartbeats arrived; returns them all.
    pub fn wait_for_heartbeats(
        &self,
        n: usize,
        timeout: Duration,
    ) -> Result<Vec<Option<u64>>, Timeout> {
        self.core.shared.wait_until(
            timeout,
            |s| format!("{n} heartbeats (got {})", s.heartbeats.len()),
            |s| (s.heartbeats.len() >= n).then(|| s.heartbeats.clone()),
        )
    }

    /// Waits until the client sent a close frame; returns its code.
    pub fn wait_for_client_close(&self, timeout: Duration) -> Result<Option<u16>, Timeout> {
        self.core.shared.wait_until(
            timeout,
            |_| "a close frame from the client".into(),
            |s| s.client_closes.last().copied(),
        )
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

// ---- internals ----

struct Core {
    shared: Shared<State>,
    opts: FakeDiscordOptions,
    ws_port: OnceLock<u16>,
}

#[derive(Default)]
struct State {
    conns: BTreeMap<u64, Conn>,
    connections: Vec<GatewayConnection>,
    sessions: HashMap<String, Session>,
    current: Option<String>,
    pending: Vec<(String, Value)>,
    sessions_created: u64,
    identifies: Vec<Value>,
    resumes: Vec<Value>,
    resumed: usize,
    heartbeats: Vec<Option<u64>>,
    frames: Vec<Value>,
    client_closes: Vec<Option<u16>>,
    heartbeat_ack: bool,
    reject_resumes: usize,
    fail_identify: Option<(u16, String)>,
    // REST
    requests: Vec<RecordedRequest>,
    scripted: VecDeque<(Route, ScriptedResponse)>,
    /// Requests handled as usual but answered late.
    delayed: VecDeque<(Route, Duration)>,
    posts: Vec<PostedMessage>,
    duplicate_posts: Vec<PostedMessage>,
    nonces: HashMap<(String, String), Value>,
    dm_channels: HashMap<String, String>,
    rest_ids: u64,
    reactions: Vec<RecordedReaction>,
    gateway_bot_fetches: usize,
    uploads: Vec<crate::multipart::UploadedFile>,
    /// Channels, messages, pins, members, roles (the `discord` tool's routes).
    resources: resources::Resources,
    interactions: interactions::Interactions,
}

struct Conn {
    out: OutTx,
    session: Option<String>,
    frame_times: VecDeque<Instant>,
    /// A close frame or a TCP drop is queued: it gets no more dispatches.
    closing: bool,
}

struct Session {
    seq: u64,
    log: Vec<Entry>,
    valid: bool,
    conn: Option<u64>,
}

struct Entry {
    seq: u64,
    t: String,
    d: Value,
    delivered: bool,
    /// READY and RESUMED are not replayed.
    replay: bool,
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

    fn send(&self, conn: u64, text: String) {
        if let Some(c) = self.conns.get(&conn) {
            // Unbounded: never full; closed means the connection is ending.
            let _ = c.out.try_send(Out::Text(text));
        }
    }

    fn close(&mut self, conn: u64, code: u16, reason: &str) {
        if let Some(c) = self.conns.get_mut(&conn) {
            c.closing = true;
            let _ = c.out.try_send(Out::Close(code, reason.to_owned()));
        }
    }

    /// Appends a dispatch to session `sid` with the next seq; sends it when
    /// a connection holds the session.
    fn deliver(&mut self, sid: &str, t: &str, d: Value, replay: bool) {
        let Some(sess) = self.sessions.get_mut(sid) else {
            return;
        };
        sess.seq += 1;
        let seq = sess.seq;
        let conn = sess
            .conn
            .filter(|c| self.conns.get(c).is_some_and(|x| !x.closing));
        sess.log.push(Entry {
            seq,
            t: t.to_owned(),
            d: d.clone(),
            delivered: conn.is_some(),
            replay,
        });
        if let Some(c) = conn {
            self.send(c, dispatch_frame(seq, t, &d));
        }
    }

    fn invalidate(&mut self, sid: &str) {
        if let Some(s) = self.sessions.get_mut(sid) {
            s.valid = false;
        }
    }
}

impl Core {
    // ---- REST ----
}

/// A string, or a number as its decimal string (snowflakes and nonces may
/// come as either).
fn value_str(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn ok_json(v: &Value) -> ScriptedResponse {
    ScriptedResponse::json(200, &[], v)
}

fn not_found() -> ScriptedResponse {
    ScriptedResponse::json(404, &[], &json!({"message": "404: Not Found", "code": 0}))
}

fn bad_request(code: u32, message: &str) -> ScriptedResponse {
    ScriptedResponse::json(400, &[], &json!({"message": message, "code": code}))
}
