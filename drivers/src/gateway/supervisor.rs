//! [`Supervisor`]: which channel loops run. It starts one loop per bot
//! account with a token, and on a config reload compares the accounts the
//! new config resolves with the running ones:
//!
//! - same account, same connection (token, `apiBaseUrl`, shards, intents,
//!   `compress`, `retry`): the loop gets the new config and keeps its
//!   sessions (access rules, agents, limits and reply settings apply to the
//!   next message);
//! - a new token or connection setting: the loop stops and a new one starts;
//! - an account now disabled or without a token: its loop stops;
//! - a new account: a loop starts.
//!
//! Loops a reload stopped end quietly; any other end is an error.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, PoisonError};

use krill_core::config::{resolve_accounts, AccountSettings, Config, Platform, ResolvedAccount};
use smol::channel::{Receiver, Sender};
use tracing::{error, info};

use super::{discord, kook, panic_message, ChannelEnd, Input, Shared};

/// The inboxes of running loops by index (the agent dispatcher routes
/// outcomes with them).
pub(crate) type Inboxes = Arc<Mutex<HashMap<usize, Sender<Input>>>>;

/// The account of each running loop, by index (the control socket routes
/// requests with them).
#[derive(Clone, Default)]
pub(crate) struct Accounts(Arc<Mutex<HashMap<usize, (Platform, String)>>>);

impl Accounts {
    fn insert(&self, index: usize, platform: Platform, account: String) {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(index, (platform, account));
    }

    fn remove(&self, index: usize) {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(&index);
    }

    /// The account ids of `platform` running now.
    pub(crate) fn running(&self, platform: Platform) -> Vec<String> {
        let map = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        map.values()
            .filter(|(p, _)| *p == platform)
            .map(|(_, id)| id.clone())
            .collect()
    }

    /// The loop index of `platform` account `account`.
    pub(crate) fn index_of(&self, platform: Platform, account: &str) -> Option<usize> {
        let map = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        map.iter()
            .find(|(_, (p, id))| *p == platform && id == account)
            .map(|(index, _)| *index)
    }
}

struct Running {
    index: usize,
    connection: String,
}

/// See the module docs.
pub(crate) struct Supervisor {
    shared: Shared,
    inboxes: Inboxes,
    accounts: Accounts,
    running: HashMap<(Platform, String), Running>,
    ended_tx: Sender<ChannelEnd>,
    stopping: HashSet<usize>,
}

impl Supervisor {
    /// A supervisor whose loops report their end on `ended_tx`.
    pub(crate) fn new(shared: Shared, ended_tx: Sender<ChannelEnd>) -> Self {
        Self {
            shared,
            inboxes: Arc::new(Mutex::new(HashMap::new())),
            accounts: Accounts::default(),
            running: HashMap::new(),
            ended_tx,
            stopping: HashSet::new(),
        }
    }

    /// The inboxes, for the agent dispatcher.
    pub(crate) fn inboxes(&self) -> Inboxes {
        self.inboxes.clone()
    }

    /// Graceful stop: every running loop is now expected to end (its end
    /// is logged as such); their inboxes, to send [`Input::Drain`] to.
    pub(crate) fn drain_all(&mut self) -> Vec<Sender<Input>> {
        for running in self.running.values() {
            self.stopping.insert(running.index);
        }
        self.inboxes
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .values()
            .cloned()
            .collect()
    }

    /// The running loops' accounts, for the control socket.
    pub(crate) fn accounts(&self) -> Accounts {
        self.accounts.clone()
    }

    /// Loops running now.
    pub(crate) fn running(&self) -> usize {
        self.running.len()
    }

    /// Starts the loop of `account` as channel `index` of the status board.
    pub(crate) fn start(&mut self, index: usize, account: ResolvedAccount) {
        let (tx, rx): (Sender<Input>, Receiver<Input>) = smol::channel::unbounded();
        let name = format!("{}:{}", account.platform, account.account_id);
        info!(channel = %name, token_from = ?account.token_source, "starting channel");
        let key = (account.platform, account.account_id.clone());
        let connection = connection_of(&account);
        let shared = self.shared.clone();
        let loop_future: futures_lite::future::Boxed<ChannelEnd> = match account.platform {
            Platform::Discord => Box::pin(discord::run(index, account, shared, tx.clone(), rx)),
            Platform::Kook => Box::pin(kook::run(index, account, shared, tx.clone(), rx)),
            _ => return,
        };
        self.inboxes
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(index, tx);
        self.accounts.insert(index, key.0, key.1.clone());
        self.running.insert(key, Running { index, connection });
        let ended_tx = self.ended_tx.clone();
        crate::runtime::spawn(async move {
            use futures_lite::FutureExt;
            // A panic in a channel loop (a bug) stops that channel only, and
            // is reported like any other stop.
            let end = std::panic::AssertUnwindSafe(loop_future)
                .catch_unwind()
                .await
                .unwrap_or_else(|panic| ChannelEnd {
                    index,
                    name,
                    reason: format!(
                        "the channel loop crashed (a bug in krill): {}",
                        panic_message(panic.as_ref())
                    ),
                });
            let _ = ended_tx.send(end).await;
        })
        .detach();
    }

    /// A loop ended: reports it (quietly when a reload stopped it).
    pub(crate) fn ended(&mut self, end: &ChannelEnd) {
        self.running.retain(|_, r| r.index != end.index);
        self.inboxes
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(&end.index);
        self.accounts.remove(end.index);
        if self.stopping.remove(&end.index) {
            info!(channel = %end.name, "channel stopped: {}", end.reason);
        } else {
            error!(channel = %end.name, "channel stopped: {}", end.reason);
            errln!("krill gateway: {} stopped: {}", end.name, end.reason);
        }
    }

    /// Applies a reloaded config (see the module docs).
    pub(crate) fn apply(&mut self, config: Arc<Config>) {
        self.shared.config = config.clone();
        self.shared.agents.set_agents(super::agents_table(&config));
        let env = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
        let accounts = resolve_accounts(&config, &env);
        let mut wanted = HashSet::new();
        for account in accounts {
            let key = (account.platform, account.account_id.clone());
            wanted.insert(key.clone());
            match self.running.get(&key) {
                Some(running) if running.connection == connection_of(&account) => {
                    self.send(
                        running.index,
                        Input::Reload {
                            config: config.clone(),
                            account: Box::new(account),
                        },
                    );
                }
                Some(running) => {
                    let index = running.index;
                    self.stop(index, "its token or connection settings changed");
                    self.running.remove(&key);
                    let index = self
                        .shared
                        .board
                        .add(account.platform.to_string(), account.account_id.clone());
                    self.start(index, account);
                }
                None => {
                    let index = self
                        .shared
                        .board
                        .add(account.platform.to_string(), account.account_id.clone());
                    self.start(index, account);
                }
            }
        }
        let gone: Vec<usize> = self
            .running
            .iter()
            .filter(|(key, _)| !wanted.contains(*key))
            .map(|(_, r)| r.index)
            .collect();
        for index in gone {
            self.stop(index, "disabled or without a token in the config");
        }
    }

    fn stop(&mut self, index: usize, reason: &str) {
        self.stopping.insert(index);
        self.send(
            index,
            Input::Stop {
                reason: reason.to_owned(),
            },
        );
    }

    fn send(&self, index: usize, input: Input) {
        if let Some(inbox) = self
            .inboxes
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(&index)
        {
            let _ = inbox.try_send(input);
        }
    }
}

/// What a loop cannot change while it runs: when this differs, the loop is
/// replaced.
fn connection_of(account: &ResolvedAccount) -> String {
    let settings = match &account.settings {
        AccountSettings::Discord(d) => format!(
            "{}|{:?}|{:?}|{:?}",
            d.api_base_url, d.shards, d.intents, d.retry
        ),
        AccountSettings::Kook(k) => format!("{}|{}|{:?}", k.api_base_url, k.compress, k.retry),
        _ => String::new(),
    };
    format!("{}|{settings}", account.token.expose())
}
