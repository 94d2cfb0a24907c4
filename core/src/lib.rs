//! krill-core: everything in krill that *decides*, and nothing that does I/O.
//!
//! The crate is sans-IO: synchronous state machines and pure functions, no
//! sockets, no threads, no clocks, no async, no OS randomness. Time comes in as
//! an argument (`now: Instant`) and randomness as a seed. Drivers (crate
//! `krill-drivers`) feed bytes and time in through `handle_*` methods and carry
//! out what comes back out of `poll_*` methods.
//!
//! | module | owns |
//! |---|---|
//! | [`discord`] | the Discord gateway shard machine and its frame types |
//! | [`durable`] | what survives a restart: the turn journal's rules, reply delivery order (the outbox), resend checks |
//! | [`kook`] | the KOOK gateway session machine and its frame types |
//! | [`media`] | inbound attachments and outbound `MEDIA:` files: limits, names, path policy, delivery plans |
//! | [`reply`] | reply shaping: reply tags, `replyToMode`, the chunker |
//! | [`rest`] | REST request planning, rate-limit buckets, retry decisions |
//! | [`config`] | the config schema, defaults and validation |
//! | [`access`] | who may talk to the agent (DM policy, allowlists, mentions) |
//! | [`pairing`] | pairing codes for unknown DM senders |
//! | [`pipeline`] | what becomes of a message after access control: context, commands, the planned turn |
//! | [`platform`] | Discord or KOOK, and the facts kept per platform |
//! | [`routing`] | session keys: which agent session a message belongs to |
//! | [`commands`] | chat commands: the registry, text and slash parsing, what each answers |
//! | [`control`] | the gateway's local socket: request protocol, delivery targets, `message send` delivery |
//! | [`mcp`] | the Model Context Protocol server of `krill mcp` (JSON-RPC over stdio) |
//! | [`agent`] | agent backend specs, turn requests and prompt rendering |
//! | [`json_text`] | lenient JSON text: lone surrogate escapes decoded as U+FFFD |
//! | [`secret`] | a string type whose `Debug`/`Display` never show the value |
//! | [`backoff`] | exponential backoff with seeded jitter |
//! | [`timers`] | the timer table every machine keeps its deadlines in |
//! | [`tools`] | the `discord` tool: actions, their schemas, who is offered them, the requests they plan |
#![forbid(unsafe_code)]
#![cfg_attr(not(test), deny(clippy::unwrap_used))]

pub mod access;
pub mod agent;
pub mod backoff;
pub mod commands;
pub mod config;
pub mod control;
pub mod discord;
pub mod durable;
pub mod json_text;
pub mod kook;
pub mod mcp;
pub mod media;
pub mod pairing;
pub mod pipeline;
pub mod platform;
pub mod reply;
pub mod rest;
pub mod routing;
pub mod secret;
pub mod timers;
pub mod tools;
