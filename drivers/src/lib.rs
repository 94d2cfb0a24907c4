//! krill-drivers: the part of krill that touches the world.
//!
//! Drivers feed bytes and time into the sans-IO machines of `krill-core` and
//! carry out what they decide; they make no protocol decisions of their own.
//!
//! | module | owns |
//! |---|---|
//! | [`agent`] | agent backends (echo, command, OpenAI-compatible), transcripts, the turn runner |
//! | [`cli`] | the `krill` command line and its subcommands |
//! | [`config_file`] | finding, reading and parsing the config file |
//! | [`config_write`] | `/config set|unset`: editing the config file in place, atomically |
//! | [`control_client`] | the client of the running gateway's control socket (`message send`, `mcp`) |
//! | [`pairing_store`] | the pairing files in the credentials dir |
//! | [`paths`] | where the config file and the state dir are |
//! | [`rest_call`] | one blocking REST call through the core planner, for CLI commands |
//! | [`store`] | the embedded database `<state>/krill.db`: sessions to resume, the turn journal, the outbox |
//! | [`status_file`] | the running gateway's `status.json` (channel states for `krill channels status`) |
//! | [`media`] | downloading inbound attachments, reading `MEDIA:` files, removing old inbound files |
//! | [`logging`] | the log subscriber (stderr, `KRILL_LOG`) |
//! | [`ws`] | the WebSocket transport (async-tungstenite on smol, native-tls) |
//! | [`http`] | the HTTP transport (ureq's HTTP/1.1 protocol on the runtime, pooled connections) |
//! | [`runtime`] | the gateway's one-thread async runtime (`block_on`, `spawn`) |
//! | [`workers`] | the few long-lived threads doing blocking work (HTTP, files) |
#![forbid(unsafe_code)]
#![cfg_attr(not(test), deny(clippy::unwrap_used))]

// First: its macros (`outln!`, `errln!`) serve every module after it.
#[macro_use]
mod console;
pub mod agent;
pub mod cli;
pub mod config_file;
pub mod config_write;
pub mod control_client;
pub mod gateway;
pub mod http;
pub mod logging;
pub mod media;
pub mod pairing_store;
pub mod paths;
pub mod rest_call;
pub mod runtime;
pub mod status_file;
pub mod store;
pub mod workers;
pub mod ws;
