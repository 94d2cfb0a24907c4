//! krill-drivers: the part of krill that touches the world.
//!
//! Drivers feed bytes and time into the sans-IO machines of `krill-core` and
//! carry out what they decide; they make no protocol decisions of their own.
//!
//! | module | owns |
//! |---|---|
//! | [`cli`] | the `krill` command line and its subcommands |
//! | [`config_file`] | finding, reading and parsing the config file |
//! | [`pairing_store`] | the pairing files in the credentials dir |
//! | [`paths`] | where the config file and the state dir are |
//! | [`logging`] | the log subscriber (stderr, `KRILL_LOG`) |
#![forbid(unsafe_code)]
#![cfg_attr(not(test), deny(clippy::unwrap_used))]

pub mod cli;
pub mod config_file;
pub mod logging;
pub mod pairing_store;
pub mod paths;
