//! The Discord gateway: typed frames and the sans-IO [`Shard`] machine.
//!
//! | module | owns |
//! |---|---|
//! | [`frame`] | parsing every opcode into [`GatewayFrame`] / [`Dispatch`]; building [`OutgoingFrame`]s (token redacted in `Debug`) |
//! | [`model`] | typed dispatch payloads ([`Message`], [`Reaction`], [`Guild`], ...) and [`GatewayBot`] |
//! | [`inflate`] | [`ZlibStream`], the per-connection `zlib-stream` inflater |
//! | [`heartbeat`] | [`Heartbeater`], heartbeat/ACK bookkeeping of one connection |
//! | [`limit`] | [`SendLimiter`] (120 events / 60 s) and [`IdentifyLimiter`] (identify buckets) |
//! | [`close`] | what each close code means (resume, identify, fatal) |
//! | [`permissions`] | a member's permissions in a channel (roles and overwrites) |
//! | [`shard`] | [`Shard`], its [`ShardState`], [`Output`]s and [`Event`]s |
//!
//! The facts it honours are in `docs/protocol-discord.md`.
//!
//! # Driving a shard
//! ```text
//! let mut shard = Shard::new(ShardConfig::new(token), seed);   // Idle
//! shard.start(now);
//! loop {
//!     // 1. feed what happened (time never goes backwards):
//!     shard.handle_gateway_fetched(now, result)   // after Output::FetchGateway
//!     shard.handle_connected(now)                 // after Output::Connect, socket open
//!     shard.handle_connect_failed(now)            // dial/TLS/handshake error or 10 s timeout
//!     shard.handle_text_frame(now, &text) / shard.handle_binary_frame(now, &bytes)
//!     shard.handle_closed(now, Some((code, reason)) | None)
//!     shard.handle_timeout(now)                   // when poll_timeout() is due
//!     shard.send_command(now, command)            // presence, request guild members
//!     // 2. drain:
//!     while let Some(out) = shard.poll_output() { match out {
//!         Output::FetchGateway     => GET /gateway/bot, then handle_gateway_fetched
//!         Output::Connect { url }  => open the websocket (10 s timeout)
//!         Output::Send(frame)      => send frame.as_str() as a text frame
//!         Output::Close { code }   => send a close frame, drop the socket at once,
//!                                     and report nothing more about that socket
//!         Output::Event(event)     => hand to the application
//!     }}
//!     // 3. sleep until shard.poll_timeout() or the next socket event.
//! }
//! ```
//! Inputs that do not fit the state (a frame while backing off, a second
//! `handle_connected`) are ignored, so a late report about an old socket is
//! harmless. Only one `Connect` is outstanding at a time.
//!
//! # Decisions the shard takes
//! - **Handshake**: Identify or Resume only after Hello; Resume when a
//!   session exists, Identify otherwise. Three Resumes in a row without
//!   RESUMED, op 9 `d:false`, or a close code that ends the session
//!   (4001/4003/4005/4007/4009) drop the session and the next handshake
//!   identifies.
//! - **Heartbeats**: first after `interval * jitter` (seeded), then every
//!   interval; op 1 is answered at once; no ACK between two heartbeats is a
//!   zombie: `Close { 4000 }` and resume. Hello's interval is clamped to
//!   1 s..=1 h.
//! - **Closing**: the shard closes with 4000 to keep the session (op 7, op 9,
//!   zombie, Hello timeout, corrupt zlib stream); only [`Shard::shutdown`]
//!   closes with 1000.
//! - **Reconnect delay**: only failures back off (transport error, zombie,
//!   remote close, connect failure, Hello timeout): exponential 1 s → 60 s
//!   with ±50 % seeded jitter, counting the failures since the last
//!   connection that stayed up 2 s after Hello (so an outage's backoff ends
//!   with the outage). op 7 and op 9 `d:true` are instructions: the shard
//!   reconnects at once (only when they storm, arriving on connections younger
//!   than 2 s, do they back off like failures); after op 9 `d:false` it
//!   identifies after Discord's documented 1-5 s (jittered), never the
//!   backoff.
//! - **URLs**: the main URL comes from `GET /gateway/bot` (or
//!   [`ShardConfig::gateway_url`]); resumes dial READY's
//!   `resume_gateway_url`, both with `?v=10&encoding=json` (and
//!   `&compress=zlib-stream`) appended. A connect failure to the resume URL
//!   falls back to the main URL; three connect failures in a row to the main
//!   URL re-fetch it.
//! - **Identify pacing**: a shard identifies at most once per 5 s, and never
//!   while the fetched `session_start_limit.remaining` is 0 (it backs off
//!   until `reset_after`, with [`Event::SessionStartLimited`], then
//!   re-fetches). Several shards of one bot share an [`IdentifyLimiter`] in
//!   the driver: when a shard emits `Connect` and [`Shard::will_identify`],
//!   the driver takes `at = limiter.next_allowed(shard_id, now)`,
//!   `limiter.record(shard_id, at)` and calls [`Shard::hold_identify_until`]`(at)`;
//!   the shard then sends Identify no earlier than `at` (after Hello).
//! - **Outgoing limits**: every payload ≤ 4096 bytes; ≤ 120 sends per 60 s
//!   per connection, with `ceil(60 / interval) + 1` slots reserved for
//!   heartbeats. See [`Shard::send_command`] for queueing.
//! - **Fatal**: close 4004 and 4010-4014 and a 401 on `GET /gateway/bot`
//!   stop the shard with [`Event::Fatal`] and an actionable message.

pub mod close;
pub mod frame;
pub mod heartbeat;
pub mod inflate;
pub mod limit;
pub mod model;
pub mod permissions;
pub mod shard;

pub use close::{close_action, CloseAction};
pub use frame::{
    Activity, ConnectionProperties, Dispatch, FrameError, GatewayCommand, GatewayFrame, Identify,
    OutgoingFrame, OutgoingKind, PresenceUpdate, RequestGuildMembers, Resume, MAX_PAYLOAD_BYTES,
};
pub use heartbeat::{Beat, Heartbeater};
pub use inflate::{InflateError, ZlibStream, ZLIB_SUFFIX};
pub use limit::{heartbeat_reserve, IdentifyLimiter, SendLimiter, SEND_LIMIT, SEND_WINDOW};
pub use model::{
    Attachment, Channel, Emoji, GatewayBot, Guild, Member, Message, MessageReference,
    PartialApplication, Reaction, Ready, SessionStartLimit, Snowflake, UnavailableGuild, User,
};
pub use shard::{
    gateway_url, CloseCause, Event, GatewayFetchError, Output, ResumeState, SendError, Shard,
    ShardConfig, ShardState, API_VERSION, DEFAULT_INTENTS, RESUMABLE_CLOSE,
};
