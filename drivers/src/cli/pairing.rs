//! `krill pairing list [channel] [--json]` and
//! `krill pairing approve <channel> <code> [--notify]`: the operator's side
//! of DM pairing. Finds the config and the state dir the same way
//! `krill gateway` does (`--config`, `$KRILL_CONFIG`, the default path;
//! `$KRILL_STATE_DIR`).
//!
//! Exit codes: 0 ok; 1 unknown or expired code, or a file error; 2 bad usage
//! (unknown channel) or a bad config file.
//!
//! `--notify` sends the approved user a DM through an [`ApprovalNotifier`].
//! The REST client is wired in by the gateway integration
//! ([`run_with_notifier`]); [`run`] uses one that only warns that no sender
//! is wired. Without a token for the channel, `--notify` warns and the
//! approval still stands.

use std::path::Path;

use krill_core::config::{resolve_accounts, Platform, ResolvedAccount};
use krill_core::pairing::{approved_text, PendingRequest};

use super::{EXIT_FAILURE, EXIT_OK, EXIT_USAGE};
use crate::config_file::load_or_exit;
use crate::pairing_store::{now_unix_ms, ApproveFailure, PairingStore};

/// `krill pairing ...`
#[derive(Debug, clap::Subcommand)]
pub enum PairingCommand {
    /// List pending pairing requests.
    List {
        /// Only this channel (`discord` or `kook`).
        channel: Option<String>,
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Approve a pairing code: the sender may DM the agent from now on.
    Approve {
        /// `discord` or `kook`.
        channel: String,
        /// The 8-character code the sender was given.
        code: String,
        /// Send the approved user a DM saying so.
        #[arg(long)]
        notify: bool,
    },
}

/// Sends the "you're approved" DM for `--notify`.
pub trait ApprovalNotifier {
    /// DMs `request.sender_id` through `account`. `Err` is a message for a
    /// warning (the approval itself stands).
    fn notify(
        &self,
        account: &ResolvedAccount,
        request: &PendingRequest,
        text: &str,
    ) -> Result<(), String>;
}

/// Sends the DM through the platform's REST API with the account's token
/// (Discord: the DM channel the request came from, else a newly opened one;
/// KOOK: a direct message to the user).
#[derive(Debug, Clone, Copy, Default)]
pub struct RestNotifier;

impl ApprovalNotifier for RestNotifier {
    fn notify(
        &self,
        account: &ResolvedAccount,
        request: &PendingRequest,
        text: &str,
    ) -> Result<(), String> {
        use krill_core::rest::{discord, kook, Api, Response};

        use crate::rest_call::{call_blocking, quick_policy};

        let api = |base: &str| Api::new(account.platform, base, account.token.clone());
        if let Some(d) = account.discord() {
            let api = api(&d.api_base_url);
            let channel_id = match &request.chat_id {
                Some(id) => id.clone(),
                None => match call_blocking(
                    api.clone(),
                    quick_policy(),
                    discord::Request::OpenDm {
                        recipient_id: request.sender_id.clone(),
                    }
                    .into(),
                ) {
                    Ok(Response::DiscordDmChannel(dm)) => dm.id,
                    Ok(_) => return Err("unexpected answer to opening the DM".to_owned()),
                    Err(e) => return Err(e.to_string()),
                },
            };
            let create = discord::Request::CreateMessage(discord::CreateMessage {
                channel_id,
                content: text.to_owned(),
                reply_to: None,
                nonce: None,
                ..Default::default()
            });
            return call_blocking(api, quick_policy(), create.into())
                .map(drop)
                .map_err(|e| e.to_string());
        }
        if let Some(k) = account.kook() {
            let create = kook::Request::DirectMessageCreate(kook::DirectMessageCreate {
                target: kook::DmTarget::User(request.sender_id.clone()),
                content: text.to_owned(),
                quote: None,
                nonce: None,
            });
            return call_blocking(api(&k.api_base_url), quick_policy(), create.into())
                .map(drop)
                .map_err(|e| e.to_string());
        }
        Err("unsupported platform".to_owned())
    }
}

/// Runs a pairing subcommand.
pub fn run(config: Option<&Path>, cmd: PairingCommand) -> i32 {
    run_with_notifier(config, cmd, &RestNotifier)
}

/// Runs a pairing subcommand with a real `--notify` sender.
pub fn run_with_notifier(
    config: Option<&Path>,
    cmd: PairingCommand,
    notifier: &dyn ApprovalNotifier,
) -> i32 {
    match cmd {
        PairingCommand::List { channel, json } => {
            let platforms = match channel.as_deref().map(str::parse::<Platform>) {
                None => Platform::ALL.to_vec(),
                Some(Ok(p)) => vec![p],
                Some(Err(e)) => {
                    errln!("error: {e}");
                    return EXIT_USAGE;
                }
            };
            if let Err(code) = load_or_exit(config) {
                return code;
            }
            list(&platforms, json)
        }
        PairingCommand::Approve {
            channel,
            code,
            notify,
        } => {
            let platform = match channel.parse::<Platform>() {
                Ok(p) => p,
                Err(e) => {
                    errln!("error: {e}");
                    return EXIT_USAGE;
                }
            };
            let loaded = match load_or_exit(config) {
                Ok(l) => l,
                Err(code) => return code,
            };
            let store = PairingStore::in_state_dir(platform);
            let request = match store.approve(now_unix_ms(), &code) {
                Ok(r) => r,
                Err(ApproveFailure::Code(e)) => {
                    errln!("error: {e}");
                    errln!("(pending codes: krill pairing list {platform})");
                    return EXIT_FAILURE;
                }
                Err(ApproveFailure::Store(e)) => {
                    errln!("error: {e}");
                    return EXIT_FAILURE;
                }
            };
            let who = match &request.sender_name {
                Some(name) => format!("{name} ({})", request.sender_id),
                None => request.sender_id.clone(),
            };
            outln!("Approved {who} on {platform}: they can DM the bot now.");
            if notify {
                let accounts = resolve_accounts(&loaded.config, &|k| std::env::var(k).ok());
                let account = accounts
                    .iter()
                    .filter(|a| a.platform == platform)
                    .find(|a| a.account_id == request.account_id)
                    .or_else(|| accounts.iter().find(|a| a.platform == platform));
                match account {
                    None => errln!(
                        "warning: --notify: no {platform} token (channels.{platform}.token or {}); {who} was not notified",
                        platform.token_env()
                    ),
                    Some(account) => match notifier.notify(account, &request, approved_text()) {
                        Ok(()) => outln!("Notified {who}."),
                        Err(e) => errln!("warning: --notify: {e}; {who} was not notified"),
                    },
                }
            }
            EXIT_OK
        }
    }
}

fn list(platforms: &[Platform], json: bool) -> i32 {
    let now = now_unix_ms();
    let mut rows = Vec::new();
    for &p in platforms {
        match PairingStore::in_state_dir(p).pending(now) {
            Ok(reqs) => rows.extend(reqs.into_iter().map(|r| (p, r))),
            Err(e) => {
                errln!("error: {e}");
                return EXIT_FAILURE;
            }
        }
    }
    if json {
        let items: Vec<serde_json::Value> = rows
            .iter()
            .map(|(p, r)| {
                serde_json::json!({
                    "channel": p.as_str(),
                    "code": r.code,
                    "senderId": r.sender_id,
                    "senderName": r.sender_name,
                    "accountId": r.account_id,
                    "createdAtMs": r.created_at_ms,
                    "expiresAtMs": r.expires_at_ms,
                })
            })
            .collect();
        outln!("{}", serde_json::Value::Array(items));
        return EXIT_OK;
    }
    if rows.is_empty() {
        outln!("No pending pairing requests.");
        return EXIT_OK;
    }
    outln!(
        "{:<8} {:<9} {:<20} {:<24} EXPIRES",
        "CHANNEL",
        "CODE",
        "SENDER ID",
        "NAME"
    );
    for (p, r) in &rows {
        let minutes = r.expires_at_ms.saturating_sub(now).div_ceil(60_000);
        outln!(
            "{:<8} {:<9} {:<20} {:<24} in {minutes} min",
            p.as_str(),
            r.code,
            r.sender_id,
            r.sender_name.as_deref().unwrap_or("-"),
        );
    }
    outln!("Approve with: krill pairing approve <channel> <code>");
    EXIT_OK
}
