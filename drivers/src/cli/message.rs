//! `krill message send --to <target> [--channel discord|kook] [--account ID]
//! [--media <path>]... [text]`: delivers a message through the running
//! gateway (its control socket), with the same planner and chunker as
//! replies, and files as replies send them. Targets: `user:<id>` or `<@id>`
//! (a DM), `channel:<id>`; a bare id is refused as ambiguous (exit 2), and so
//! is a `--media` path that is not a readable file. A failed delivery exits 1
//! with the platform's error (a file over `mediaMaxMb` is one, named).

use std::path::Path;

use krill_core::control::{parse_target, ControlRequest, SendRequest};

use super::{EXIT_FAILURE, EXIT_OK, EXIT_USAGE};
use crate::control_client::ControlClient;

/// `krill message ...`.
#[derive(Debug, clap::Subcommand)]
pub enum MessageCommand {
    /// Send a message through the running gateway.
    Send(SendArgs),
}

/// Flags of `krill message send`.
#[derive(Debug, clap::Args)]
pub struct SendArgs {
    /// `user:<id>` or `<@id>` (a DM), or `channel:<id>`.
    #[arg(long, value_name = "TARGET")]
    pub to: String,
    /// `discord` (default) or `kook`.
    #[arg(long, default_value = "discord", value_name = "CHANNEL")]
    pub channel: String,
    /// The bot account (default: the only one running, else `default`).
    #[arg(long, value_name = "ID")]
    pub account: Option<String>,
    /// A file to send with the message (repeat for several; up to 10 ride
    /// on one Discord message).
    #[arg(long, value_name = "PATH")]
    pub media: Vec<std::path::PathBuf>,
    /// The text (several words are joined with spaces); may be left out
    /// when `--media` is given.
    #[arg(value_name = "TEXT", required_unless_present = "media")]
    pub text: Vec<String>,
}

/// Runs `krill message`.
pub fn run(_config: Option<&Path>, command: MessageCommand) -> i32 {
    match command {
        MessageCommand::Send(args) => send(args),
    }
}

fn send(args: SendArgs) -> i32 {
    if let Err(error) = args.channel.parse::<krill_core::platform::Platform>() {
        errln!("krill message send: {error}");
        return EXIT_USAGE;
    }
    if let Err(error) = parse_target(&args.to) {
        errln!("krill message send: {error}");
        return EXIT_USAGE;
    }
    let text = args.text.join(" ");
    if text.trim().is_empty() && args.media.is_empty() {
        errln!("krill message send: the message is empty");
        return EXIT_USAGE;
    }
    let mut media = Vec::with_capacity(args.media.len());
    for path in &args.media {
        match std::fs::canonicalize(path) {
            Ok(resolved) if resolved.is_file() => {
                media.push(resolved.to_string_lossy().into_owned())
            }
            Ok(_) => {
                errln!(
                    "krill message send: --media {}: not a regular file",
                    path.display()
                );
                return EXIT_USAGE;
            }
            Err(error) => {
                errln!("krill message send: --media {}: {error}", path.display());
                return EXIT_USAGE;
            }
        }
    }
    let path = crate::paths::control_socket(&crate::paths::state_dir());
    let request = ControlRequest::Send(SendRequest {
        channel: args.channel.trim().to_ascii_lowercase(),
        account: args.account,
        to: args.to,
        text,
        media,
    });
    let reply = ControlClient::connect(&path).and_then(|mut client| client.call(&request));
    match reply {
        Ok(reply) if reply.ok => {
            for id in &reply.message_ids {
                outln!("sent {id}");
            }
            EXIT_OK
        }
        Ok(reply) => {
            errln!(
                "krill message send: {}",
                reply
                    .error
                    .as_deref()
                    .unwrap_or("the gateway refused the message")
            );
            EXIT_FAILURE
        }
        Err(error) => {
            errln!("krill message send: {error}");
            EXIT_FAILURE
        }
    }
}
