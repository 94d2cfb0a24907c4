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
//!
//! | module | owns |
//! |---|---|
//! | `discord` itself | [`FakeDiscordOptions`], [`FakeDiscord`]'s start and URLs, the state both servers share |
//! | `gateway` | the gateway server: each connection's frames, Identify/READY, Resume and its replay |
//! | `gateway_controls` | what a test does to the gateway and reads back (dispatches, op 7/9/1, closes, Identify/Resume/heartbeat records) |
//! | `rest` | the REST server: authorization, scripted answers, routing, the message routes |
//! | `rest_controls` | what a test scripts on the REST side and reads back ([`PostedMessage`], [`RecordedReaction`]) |
//! | `resources` | channels, threads, stored messages, pins, members and roles, and their routes |
//! | `interactions` | application commands, INTERACTION_CREATE and its callbacks |
//! | `payloads` | dispatch payloads, [`Author`], [`GuildMember`], ids and frames |

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::gateway_book::{GatewayBook, HasGatewayBook};
use crate::http::{self, Incoming, ScriptedResponse};
use crate::server::{start_servers, Guard, Shared};
use crate::ws::{Encoding, Handshake, Out, OutTx, WsHandler};

mod gateway;
mod gateway_controls;
mod interactions;
mod payloads;
mod resources;
mod rest;
mod rest_controls;
pub use crate::gateway_book::GatewayConnection;
use gateway::dispatch_frame;
pub use interactions::{InteractionRecord, SlashCaller, CALLBACK_DEADLINE};
use payloads::{frame, snowflake};
pub use payloads::{
    message_create_dm, message_create_guild, message_reaction_add, next_event_id, Author,
    GuildMember,
};
pub use resources::RoleChange;
pub use rest_controls::{PostedMessage, RecordedReaction};

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
}

// ---- internals ----

struct Core {
    shared: Shared<State>,
    opts: FakeDiscordOptions,
    ws_port: OnceLock<u16>,
}

#[derive(Default)]
struct State {
    /// Connections, sessions (logging their dispatches), client frames.
    gw: GatewayBook<Vec<Entry>>,
    /// Each open connection's frame times in the rate-limit window.
    frame_times: HashMap<u64, VecDeque<Instant>>,
    pending: Vec<(String, Value)>,
    identifies: Vec<Value>,
    resumes: Vec<Value>,
    heartbeats: Vec<Option<u64>>,
    client_closes: Vec<Option<u16>>,
    heartbeat_ack: bool,
    reject_resumes: usize,
    fail_identify: Option<(u16, String)>,
    // REST
    rest: http::RestBook,
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

/// One dispatch of a session's log.
struct Entry {
    seq: u64,
    t: String,
    d: Value,
    delivered: bool,
    /// READY and RESUMED are not replayed.
    replay: bool,
}

/// A session's last sequence number (0 before READY).
fn last_seq(log: &[Entry]) -> u64 {
    log.last().map_or(0, |e| e.seq)
}

impl State {
    /// Appends a dispatch to session `sid` with the next seq; sends it when
    /// a connection holds the session.
    fn deliver(&mut self, sid: &str, t: &str, d: Value, replay: bool) {
        let conn = self.gw.holder(sid);
        let Some(sess) = self.gw.sessions.get_mut(sid) else {
            return;
        };
        let seq = last_seq(&sess.log) + 1;
        sess.log.push(Entry {
            seq,
            t: t.to_owned(),
            d: d.clone(),
            delivered: conn.is_some(),
            replay,
        });
        if let Some(c) = conn {
            self.gw.send(c, dispatch_frame(seq, t, &d));
        }
    }
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

impl http::HasRestBook for State {
    fn rest_book(&mut self) -> &mut http::RestBook {
        &mut self.rest
    }
}

impl HasGatewayBook for State {
    type Log = Vec<Entry>;
    fn gateway(&self) -> &GatewayBook<Vec<Entry>> {
        &self.gw
    }
    fn gateway_mut(&mut self) -> &mut GatewayBook<Vec<Entry>> {
        &mut self.gw
    }
}
