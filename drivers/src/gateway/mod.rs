//! `krill gateway`: runs every bot account that has a token, each in its own
//! channel loop, sharing one agent runner.
//!
//! ```text
//!   socket tasks ─┐                      ┌─> Discord channel loop (Shard + Planner)
//!   http tasks  ──┤                      │
//!   tool calls  ──┼─> Input (per loop) ──┤
//!   agent runner ─┘                      └─> KOOK channel loop (Session + Planner)
//! ```
//!
//! A channel loop owns its sans-IO machines and is the only thing that
//! touches them: every socket frame, HTTP response and agent outcome comes
//! in through its inbox as an [`Input`]; the loop feeds it to the core,
//! carries out what the core decides and sleeps until the next input or the
//! machines' earliest deadline. Slow work (HTTP, agents) runs on other
//! tasks, so heartbeats are never late because of it.
//!
//! SIGTERM / SIGINT stop the gateway gracefully: every loop gets
//! [`Input::Drain`], closes its gateway sockets without ending the sessions,
//! takes no new events, finishes its running turns and unsent reply
//! messages, and ends; the process exits 0 once every loop has ended or
//! `gateway.shutdownTimeoutSeconds` has passed (the turn journal and the
//! outbox in `<state>/krill.db` carry what was cut short to the next start).
//! A second signal exits at once.
//!
//! One channel failing fatally (a rejected token) stops that channel with a
//! clear error and leaves the others running; when every channel has
//! stopped the process exits 1.

mod account;
mod acks;
mod channel_loop;
mod commands;
mod control;
mod deliveries;
mod discord;
mod durable;
mod inbound;
mod kook;
mod link;
mod media;
mod member_lookup;
mod reload;
mod socket;
mod status;
mod supervisor;
mod tools;

use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use krill_core::agent::BackendSpec;
use krill_core::config::ResolvedAccount;
use krill_core::config::{resolve_accounts_report, Config, Platform, SkipReason};
use krill_core::durable::JournaledTurn;
use krill_core::rest::http::HttpResponse;
use krill_core::rest::RequestId;
use krill_core::routing::ReplyTarget;
use smol::channel::Receiver;
use tracing::{debug, info, warn};

use crate::agent::{AgentRunner, AgentSpec, AgentsTable, TranscriptStore, TurnOutcome};
use crate::config_file::LoadedConfig;
use crate::http::TransportError;
use crate::store::Store;
use socket::SocketEvent;
use status::StatusBoard;

pub(crate) use channel_loop::{run_loop, ChannelLoop};

/// The `User-Agent` krill's WebSocket upgrades carry.
pub(crate) fn user_agent() -> String {
    format!(
        "DiscordBot (https://github.com/krill-bot/krill, {}) krill/{}",
        env!("CARGO_PKG_VERSION"),
        env!("CARGO_PKG_VERSION")
    )
}

/// Everything that can wake a channel loop.
#[derive(Debug)]
pub(crate) enum Input {
    /// Something happened on WebSocket connection `conn`.
    Socket {
        /// The connection number.
        conn: u64,
        /// What happened.
        event: SocketEvent,
    },
    /// An HTTP request of the loop's planner finished.
    Http {
        /// The planner's request id.
        id: RequestId,
        /// The response, or why there is none.
        result: Result<HttpResponse, TransportError>,
    },
    /// Stop gracefully (SIGTERM / SIGINT): close the gateway sessions
    /// resumably, finish running turns and pending replies, then end.
    Drain,
    /// A running turn calls the `discord` tool (Discord loops only).
    Tool(tools::ToolCall),
    /// An agent turn finished.
    Agent {
        /// What the loop attached when it submitted the turn.
        ctx: TurnCtx,
        /// The agent's answer (boxed: the largest input by far).
        outcome: Box<TurnOutcome>,
    },
    /// The files of a reply (its `MEDIA:` lines) were read: send the reply.
    Media {
        /// The turn the reply answers.
        ctx: TurnCtx,
        /// The chunks, the files and the failures.
        delivery: media::MediaDelivery,
    },
    /// The config file changed; the account's connection did not.
    Reload {
        /// The new config.
        config: Arc<Config>,
        /// The account as the new config resolves it.
        account: Box<ResolvedAccount>,
    },
    /// A `send` of the control socket (`krill message send`).
    Deliver(deliveries::DeliverRequest),
    /// A reload disabled the account (or replaces its loop): stop.
    Stop {
        /// Why, for the log.
        reason: String,
    },
}

/// What a channel loop attaches to each agent turn, to send the reply where
/// the message came from.
#[derive(Debug, Clone)]
pub(crate) struct TurnCtx {
    /// Which channel loop submitted the turn.
    pub(crate) channel: usize,
    /// Where the reply goes.
    pub(crate) reply_to: ReplyTarget,
    /// The inbound message the turn answers.
    pub(crate) message_id: String,
    /// The ack reaction added to that message, to remove after the reply.
    pub(crate) ack: Option<String>,
    /// The turn's row in the turn journal (`None`: not journaled).
    pub(crate) journal: Option<i64>,
    /// User ids taking part in the turn: the only ones the reply may ping
    /// by default (`allowedMentions`).
    pub(crate) participants: Vec<String>,
    /// A Discord slash command's deferred answer: the reply goes through
    /// its interaction webhook instead of the channel.
    pub(crate) interaction: Option<InteractionToken>,
}

impl TurnCtx {
    /// The context of a journaled turn recovered after a restart (row `id`
    /// of the journal): no ack to remove, no interaction to answer.
    pub(crate) fn recovered(
        channel: usize,
        platform: Platform,
        account_id: &str,
        id: i64,
        journaled: &JournaledTurn,
    ) -> Self {
        Self {
            channel,
            reply_to: ReplyTarget {
                platform,
                account_id: account_id.to_owned(),
                chat_id: journaled.chat_id.clone(),
                direct: journaled.direct,
            },
            message_id: journaled.turn.message_id.clone(),
            ack: None,
            journal: Some(id),
            participants: journaled.participants.clone(),
            interaction: None,
        }
    }
}

/// What answers a deferred interaction.
#[derive(Debug, Clone)]
pub(crate) struct InteractionToken {
    /// The application id.
    pub(crate) application_id: String,
    /// The interaction token (valid 15 minutes).
    pub(crate) token: String,
}

/// The agent runner every channel loop submits to.
pub(crate) type Agents = Arc<AgentRunner<TurnCtx>>;

/// How a channel loop ended.
#[derive(Debug)]
pub(crate) struct ChannelEnd {
    /// The loop's index (status board, agent routing).
    pub(crate) index: usize,
    /// `discord` / `kook` and the account id.
    pub(crate) name: String,
    /// Why.
    pub(crate) reason: String,
}

/// Shared, read-only state every channel loop gets.
#[derive(Clone)]
pub(crate) struct Shared {
    /// The parsed config.
    pub(crate) config: Arc<Config>,
    /// The state dir (pairing files, transcripts).
    pub(crate) state_dir: PathBuf,
    /// The agent runner.
    pub(crate) agents: Agents,
    /// Every channel's health, for `status.json`.
    pub(crate) board: Arc<StatusBoard>,
    /// `<state>/krill.db`: sessions to resume, turn journal, outbox.
    pub(crate) store: Arc<Store>,
    /// The transcripts (recovery looks up turns recorded before a crash).
    pub(crate) transcripts: Arc<TranscriptStore>,
    /// The config file (`/config` reads and edits it).
    pub(crate) config_path: PathBuf,
}

/// The agents of the config: every `agents.list[]` entry, plus the default
/// agent (with `agents.defaults.backend`, else echo) when it is not listed.
pub(crate) fn agents_table(config: &Config) -> AgentsTable {
    let mut table = AgentsTable::new();
    for entry in &config.agents.list {
        table.insert(
            entry.id.clone(),
            AgentSpec::new(config.backend_for(&entry.id)),
        );
    }
    let default_id = config.default_agent_id().to_owned();
    if table.agent(&default_id).is_none() {
        let backend = config
            .agents
            .defaults
            .backend
            .clone()
            .unwrap_or(BackendSpec::Echo);
        table.insert(default_id, AgentSpec::new(backend));
    }
    table
}

/// Holds `<state>/gateway.lock` for the process's lifetime, so two gateways
/// never own the same bot sessions by accident.
fn lock_state_dir(state_dir: &Path, force: bool) -> Result<Option<File>, String> {
    if let Err(e) = std::fs::create_dir_all(state_dir) {
        return Err(format!(
            "cannot create the state dir {}: {e}",
            state_dir.display()
        ));
    }
    let path = state_dir.join("gateway.lock");
    let file = File::options()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(|e| format!("cannot open {}: {e}", path.display()))?;
    match file.try_lock() {
        Ok(()) => Ok(Some(file)),
        Err(std::fs::TryLockError::WouldBlock) if force => {
            warn!(
                "another krill gateway holds {}; starting anyway (--force)",
                path.display()
            );
            Ok(None)
        }
        Err(std::fs::TryLockError::WouldBlock) => Err(format!(
            "another krill gateway is running with the state dir {} (it holds {}). \
             Stop it first, or run `krill gateway --force` once you are sure no other \
             process owns the bot's sessions",
            state_dir.display(),
            path.display()
        )),
        Err(std::fs::TryLockError::Error(e)) => Err(format!("cannot lock {}: {e}", path.display())),
    }
}

/// Runs the gateway; returns the process exit code.
pub fn run(loaded: LoadedConfig, state_dir: PathBuf, force: bool) -> i32 {
    let config = Arc::new(loaded.config);
    let env = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
    let report = resolve_accounts_report(&config, &env);
    for skipped in &report.skipped {
        match skipped.reason {
            SkipReason::Disabled => info!(
                "{} account {:?} is disabled (enabled: false)",
                skipped.platform, skipped.account_id
            ),
            SkipReason::NoToken => info!(
                "{} account {:?} has no token",
                skipped.platform, skipped.account_id
            ),
            _ => {}
        }
    }
    if report.ready.is_empty() {
        errln!(
            "krill gateway: no channel has a bot token. Set DISCORD_BOT_TOKEN and/or \
             KOOK_BOT_TOKEN, or channels.discord.token / channels.kook.token in {}. \
             To try your agent without a bot, run `krill chat`.",
            loaded.location.path.display()
        );
        return crate::cli::EXIT_FAILURE;
    }
    let _lock = match lock_state_dir(&state_dir, force) {
        Ok(lock) => lock,
        Err(message) => {
            errln!("krill gateway: {message}");
            return crate::cli::EXIT_FAILURE;
        }
    };

    let store = match Store::open(&state_dir) {
        Ok(store) => Arc::new(store),
        Err(error) => {
            errln!("krill gateway: cannot open the store: {error}");
            return crate::cli::EXIT_FAILURE;
        }
    };
    let control_path = crate::paths::control_socket(&state_dir);
    let control = match control::bind(&control_path) {
        Ok(socket) => Some(socket),
        Err(e) => {
            warn!(
                "cannot open the control socket {}: {e} (`krill message send` will not reach this gateway)",
                control_path.display()
            );
            None
        }
    };

    let transcripts = Arc::new(TranscriptStore::new(state_dir.clone()));
    let agents: Agents = Arc::new(AgentRunner::new(
        agents_table(&config),
        transcripts.clone(),
        crate::agent::DEFAULT_MAX_CONCURRENCY,
    ));
    let board = StatusBoard::new(
        state_dir.clone(),
        report
            .ready
            .iter()
            .map(|a| (a.platform.to_string(), a.account_id.clone()))
            .collect(),
    );
    let swept_media = vec![
        crate::paths::inbound_media_dir(&state_dir),
        crate::paths::media_dir(&state_dir).join(crate::media::outbound::OUTBOUND_DIR),
    ];
    let retention_hours = config
        .media
        .retention_hours
        .unwrap_or(krill_core::media::DEFAULT_RETENTION_HOURS);
    let shared = Shared {
        config: config.clone(),
        state_dir,
        agents: agents.clone(),
        board: board.clone(),
        store: store.clone(),
        transcripts,
        config_path: loaded.location.path.clone(),
    };
    let shutdown_timeout = std::time::Duration::from_secs(config.gateway.shutdown_timeout_seconds);
    let signals =
        match async_signal::Signals::new([async_signal::Signal::Term, async_signal::Signal::Int]) {
            Ok(signals) => Some(signals),
            Err(error) => {
                warn!("cannot listen for SIGTERM/SIGINT: {error}; a signal stops krill at once");
                None
            }
        };

    let config_bytes = std::fs::read(&loaded.location.path).ok();
    let config_path = loaded.location.path.clone();
    crate::runtime::block_on(async move {
        // Each channel loop reports its end here the moment it stops, so a
        // channel that fails while another keeps running is reported at once.
        let (ended_tx, ended) = smol::channel::unbounded::<ChannelEnd>();
        let mut supervisor = supervisor::Supervisor::new(shared, ended_tx);
        for (index, account) in report.ready.into_iter().enumerate() {
            supervisor.start(index, account);
        }
        let inboxes = supervisor.inboxes();
        let _control = control.map(|socket| {
            let tokens = crate::agent::turn_token::TurnTokens::default();
            agents.set_token_issuer(crate::agent::turn_token::TokenIssuer::new(
                tokens.clone(),
                control_path.clone(),
            ));
            let router = control::Router {
                inboxes: inboxes.clone(),
                accounts: supervisor.accounts(),
                tokens,
            };
            crate::runtime::spawn(control::serve(socket, router))
        });
        let dispatcher = crate::runtime::spawn(async move {
            while let Some((ctx, outcome)) = agents.next_outcome().await {
                let inbox = inboxes
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
                    .get(&ctx.channel)
                    .cloned();
                if let Some(inbox) = inbox {
                    let _ = inbox
                        .send(Input::Agent {
                            ctx,
                            outcome: Box::new(outcome),
                        })
                        .await;
                }
            }
        });
        let writer = crate::runtime::spawn(board.clone().run_writer());
        let pruner = crate::runtime::spawn(prune_periodically(store.clone()));
        let write_back = crate::runtime::spawn(write_back_when_wanted(store.clone()));
        let sweeper =
            crate::runtime::spawn(crate::media::retention::run(swept_media, retention_hours));
        let reloads = reload::watch(config_path, config_bytes);
        let total = supervisor.running();
        let stopped =
            wait_for_channels(&mut supervisor, &ended, &reloads, signals, shutdown_timeout).await;
        drop(pruner);
        drop(write_back);
        drop(writer);
        drop(sweeper);
        board.write().await;
        drop(dispatcher);
        if let Err(error) = store.checkpoint() {
            warn!("store checkpoint failed: {error}");
        }
        if stopped {
            errln!("krill gateway: stopped");
            crate::cli::EXIT_OK
        } else {
            errln!("krill gateway: all {total} channel(s) stopped");
            crate::cli::EXIT_FAILURE
        }
    })
}

/// Waits until every channel loop has ended, applying reloaded configs on
/// the way. The first SIGTERM/SIGINT drains every loop and gives them
/// `timeout`; a second one exits at once. True when the gateway was stopped
/// by a signal.
async fn wait_for_channels(
    supervisor: &mut supervisor::Supervisor,
    ended: &Receiver<ChannelEnd>,
    reloads: &Receiver<Arc<Config>>,
    mut signals: Option<async_signal::Signals>,
    timeout: std::time::Duration,
) -> bool {
    use futures_lite::{FutureExt, StreamExt};
    enum Wake {
        Ended(Option<ChannelEnd>),
        Reload(Option<Arc<Config>>),
        Signal,
        SignalsClosed,
        Deadline,
    }
    let mut deadline: Option<Instant> = None;
    // A source that has ended (the reload watcher gone, the signal stream
    // closed) is no longer waited on: a closed channel is ready at once,
    // and waiting on it again would turn this loop into a busy one.
    let mut reloads = Some(reloads);
    while supervisor.running() > 0 {
        let wake = async { Wake::Ended(ended.recv().await.ok()) }
            .or(async {
                match reloads {
                    Some(reloads) => Wake::Reload(reloads.recv().await.ok()),
                    None => std::future::pending().await,
                }
            })
            .or(async {
                match signals.as_mut() {
                    Some(stream) => match stream.next().await {
                        Some(_) => Wake::Signal,
                        None => Wake::SignalsClosed,
                    },
                    None => std::future::pending().await,
                }
            })
            .or(async {
                match deadline {
                    Some(at) => {
                        smol::Timer::at(at).await;
                        Wake::Deadline
                    }
                    None => std::future::pending().await,
                }
            })
            .await;
        match wake {
            Wake::Ended(Some(end)) => supervisor.ended(&end),
            Wake::Ended(None) => break,
            // No reload while stopping.
            Wake::Reload(Some(config)) if deadline.is_none() => supervisor.apply(config),
            Wake::Reload(Some(_)) => {}
            Wake::Reload(None) => {
                warn!(
                    "the config file watcher stopped: edits of the config file now need a restart"
                );
                reloads = None;
            }
            Wake::SignalsClosed => {
                warn!("no longer listening for SIGTERM/SIGINT: a signal now stops krill at once");
                signals = None;
            }
            Wake::Signal if deadline.is_none() => {
                info!(
                    "stopping: finishing running turns and replies (at most {}s; a second signal stops at once)",
                    timeout.as_secs()
                );
                errln!("krill gateway: stopping (a second signal stops at once)");
                deadline = Some(Instant::now() + timeout);
                for inbox in supervisor.drain_all() {
                    let _ = inbox.send(Input::Drain).await;
                }
            }
            Wake::Signal => {
                errln!("krill gateway: stopped at once; the next start finishes what was left");
                std::process::exit(crate::cli::EXIT_OK);
            }
            Wake::Deadline => {
                warn!("shutdown timeout reached; the next start finishes what was left");
                return true;
            }
        }
    }
    deadline.is_some()
}

/// Prunes old journal and outbox rows at start and every 10 minutes.
async fn prune_periodically(store: Arc<Store>) {
    loop {
        match store.prune(unix_ms()) {
            Ok(0) => {}
            Ok(rows) => debug!("store: pruned {rows} old row(s)"),
            Err(error) => warn!("store: pruning failed: {error}"),
        }
        smol::Timer::after(std::time::Duration::from_secs(600)).await;
    }
}

/// Writes the store's WAL back on a worker thread whenever the store asks
/// ([`Store::write_back_wanted`]): the loops never wait for its syncs
/// unless they need the store while it runs.
async fn write_back_when_wanted(store: Arc<Store>) {
    let wanted = store.write_back_wanted();
    while wanted.recv().await.is_ok() {
        let store = store.clone();
        match crate::workers::run(move || store.write_back()).await {
            Ok(Ok(_)) => {}
            Ok(Err(error)) => warn!("store: writing the WAL back failed: {error}"),
            Err(error) => warn!("store: writing the WAL back failed: {error}"),
        }
    }
}

/// The text of a caught panic.
fn panic_message(panic: &(dyn std::any::Any + Send)) -> &str {
    panic
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| panic.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("unknown panic")
}

/// The outcome of a journaled turn that the transcript already records
/// (the process died after the transcript append, before the journal's
/// "answered" mark): its recorded reply, so the agent is not asked twice.
pub(crate) fn recorded_outcome(
    shared: &Shared,
    turn: &krill_core::agent::TurnInput,
) -> Option<TurnOutcome> {
    let reply = shared
        .transcripts
        .recorded_reply(&turn.agent_id, &turn.session_key, &turn.message_id)
        .ok()
        .flatten()?;
    Some(TurnOutcome {
        agent_id: turn.agent_id.clone(),
        session_key: turn.session_key.clone(),
        message_id: turn.message_id.clone(),
        reply,
        failed: false,
        cancelled: false,
        error: None,
    })
}

/// Milliseconds since the Unix epoch (pairing codes expire in wall-clock
/// time, which survives restarts).
pub(crate) fn unix_ms() -> u64 {
    crate::pairing_store::now_unix_ms()
}
