//! [`AgentRunner`]: runs agent turns off the gateway's path.
//!
//! - [`AgentRunner::submit`] only enqueues and returns at once, so a slow
//!   agent never delays a heartbeat.
//! - The turns of one session (agent id + session key) run one at a time,
//!   in submission order; each sees the transcript with the turns before
//!   it.
//! - Different sessions run side by side, at most `max_concurrency` turns
//!   at once (a semaphore).
//! - Each finished turn comes back once, on [`AgentRunner::next_outcome`]
//!   (or the [`AgentRunner::outcomes`] channel), as the caller's own
//!   routing value `T` with a [`TurnOutcome`]; a session's outcomes come in
//!   order.
//! - A successful turn appends the user entry (the prompt) and the reply, if
//!   any, to the transcript. A failed turn (see [`AgentError`]) is logged
//!   at warn level, its outcome carries `AGENT_FAILED_REPLY` and nothing is
//!   written to the transcript; the session goes on.
//!
//! - [`AgentRunner::stop`] (`/stop`) drops a session's queued turns and
//!   abandons its running one (the backend's future is dropped: a command
//!   agent's process group is killed, an HTTP call is cut); each comes back
//!   as a `cancelled` outcome with no reply, nothing written.
//! - [`AgentRunner::reset`] (`/new`) archives a session's transcript; a turn
//!   running at that moment still answers but does not write into the new
//!   session.
//! - [`AgentRunner::set_agents`] swaps the agents table (config reload);
//!   turns starting afterwards use the new one.
//!
//! Turns run as tasks on smol's global executor.

use std::collections::{HashMap, VecDeque};
use std::panic::AssertUnwindSafe;
use std::sync::{Arc, Mutex, PoisonError, RwLock};
use std::time::{SystemTime, UNIX_EPOCH};

use futures_lite::FutureExt;
use krill_core::agent::{BackendSpec, TranscriptEntry, TurnInput, AGENT_FAILED_REPLY};
use smol::channel::{unbounded, Receiver, Sender};
use smol::lock::Semaphore;

use super::backend::{answer, AgentError};
use super::tools::TurnTools;
use super::transcripts::{TranscriptError, TranscriptStore};
use super::turn_token::{TurnAccess, TurnToken};
use super::AgentsTable;

/// A reasonable `max_concurrency`: turns running at once across sessions.
pub const DEFAULT_MAX_CONCURRENCY: usize = 4;

/// How one turn ended.
#[derive(Debug)]
#[non_exhaustive]
pub struct TurnOutcome {
    /// The agent that answered.
    pub agent_id: String,
    /// The session of the turn.
    pub session_key: String,
    /// The inbound message the turn answered (for `[[reply_to_current]]`).
    pub message_id: String,
    /// The text to send back: the agent's reply, or `AGENT_FAILED_REPLY`
    /// when `failed`; `None` when the agent chose not to reply.
    pub reply: Option<String>,
    /// True when the backend failed (see `error`).
    pub failed: bool,
    /// Why it failed (already logged).
    pub error: Option<AgentError>,
    /// `/stop` cancelled it (no reply).
    pub cancelled: bool,
}

/// Runs turns (see the module docs). `T` is the caller's routing data,
/// handed back untouched with the outcome.
#[derive(Debug)]
pub struct AgentRunner<T> {
    shared: Arc<Shared<T>>,
    outcomes: Receiver<(T, TurnOutcome)>,
}

#[derive(Debug)]
struct Shared<T> {
    agents: RwLock<AgentsTable>,
    transcripts: Arc<TranscriptStore>,
    permits: Arc<Semaphore>,
    /// Sessions with a worker task, and their waiting turns. A session is
    /// in the map exactly while its worker runs.
    queues: Mutex<HashMap<SessionId, Slot<T>>>,
    outcomes: Sender<(T, TurnOutcome)>,
    /// Gives command agents their turn token (the gateway sets it).
    tokens: std::sync::OnceLock<super::turn_token::TokenIssuer>,
}

/// One busy session: its waiting turns, how to cancel the running one,
/// and its epoch (bumped by `/new`).
#[derive(Debug)]
struct Slot<T> {
    queue: VecDeque<Job<T>>,
    cancel: Option<Sender<()>>,
    epoch: u64,
}

/// (agent id, session key).
type SessionId = (String, String);

#[derive(Debug)]
struct Job<T> {
    turn: TurnInput,
    ctx: T,
    submitted_ms: u64,
    tools: Option<TurnTools>,
}

impl<T: Send + 'static> AgentRunner<T> {
    /// A runner for `agents`, keeping transcripts in `transcripts`, running
    /// at most `max_concurrency` turns at once (at least 1).
    pub fn new(
        agents: AgentsTable,
        transcripts: Arc<TranscriptStore>,
        max_concurrency: usize,
    ) -> Self {
        let (tx, rx) = unbounded();
        Self {
            shared: Arc::new(Shared {
                agents: RwLock::new(agents),
                transcripts,
                permits: Arc::new(Semaphore::new(max_concurrency.max(1))),
                queues: Mutex::new(HashMap::new()),
                outcomes: tx,
                tokens: std::sync::OnceLock::new(),
            }),
            outcomes: rx,
        }
    }

    /// Gives every command-agent turn from now on a turn token from
    /// `issuer` (`KRILL_TURN_TOKEN`, `KRILL_SOCKET`); set once.
    pub fn set_token_issuer(&self, issuer: super::turn_token::TokenIssuer) {
        let _ = self.shared.tokens.set(issuer);
    }

    /// Queues a turn behind the session's earlier turns; returns at once.
    pub fn submit(&self, turn: TurnInput, ctx: T) {
        self.submit_with_tools(turn, ctx, None);
    }

    /// [`AgentRunner::submit`] for a turn whose agent may call tools
    /// (`turn.tools`), carried out by `tools`.
    pub fn submit_with_tools(&self, turn: TurnInput, ctx: T, tools: Option<TurnTools>) {
        let session = (turn.agent_id.clone(), turn.session_key.clone());
        let job = Job {
            turn,
            ctx,
            submitted_ms: unix_ms(),
            tools,
        };
        let mut queues = self
            .shared
            .queues
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if let Some(slot) = queues.get_mut(&session) {
            slot.queue.push_back(job);
            return;
        }
        queues.insert(
            session.clone(),
            Slot {
                queue: VecDeque::from([job]),
                cancel: None,
                epoch: 0,
            },
        );
        drop(queues);
        crate::runtime::spawn(work(self.shared.clone(), session)).detach();
    }

    /// `/stop`: drops the session's queued turns and cancels its running
    /// one. Returns (a turn was running, queued turns dropped). Each comes
    /// back as a cancelled outcome.
    pub fn stop(&self, agent_id: &str, session_key: &str) -> (bool, usize) {
        let session = (agent_id.to_owned(), session_key.to_owned());
        let mut queues = self
            .shared
            .queues
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let Some(slot) = queues.get_mut(&session) else {
            return (false, 0);
        };
        let dropped: Vec<Job<T>> = slot.queue.drain(..).collect();
        let running = slot
            .cancel
            .take()
            .is_some_and(|cancel| cancel.try_send(()).is_ok());
        drop(queues);
        let count = dropped.len();
        for job in dropped {
            let _ = self
                .shared
                .outcomes
                .try_send((job.ctx, cancelled(&job.turn)));
        }
        (running, count)
    }

    /// `/new`: archives the session's transcript (see the module docs).
    pub fn reset(
        &self,
        agent_id: &str,
        session_key: &str,
    ) -> Result<(), crate::agent::TranscriptError> {
        let session = (agent_id.to_owned(), session_key.to_owned());
        if let Some(slot) = self
            .shared
            .queues
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get_mut(&session)
        {
            slot.epoch += 1;
        }
        self.shared
            .transcripts
            .archive(agent_id, session_key, unix_ms())
            .map(|_| ())
    }

    /// User turns in the session's transcript.
    pub fn user_turns(&self, agent_id: &str, session_key: &str) -> Option<usize> {
        self.shared
            .transcripts
            .user_turns(agent_id, session_key)
            .ok()
    }

    /// Replaces the agents (config reload).
    pub fn set_agents(&self, agents: AgentsTable) {
        *self
            .shared
            .agents
            .write()
            .unwrap_or_else(PoisonError::into_inner) = agents;
    }

    /// The next finished turn, in completion order (per session: submission
    /// order). `None` never happens while the runner lives.
    pub async fn next_outcome(&self) -> Option<(T, TurnOutcome)> {
        self.outcomes.recv().await.ok()
    }

    /// The outcome channel, for a caller that wants to own the receiving
    /// end (e.g. in its own task).
    pub fn outcomes(&self) -> Receiver<(T, TurnOutcome)> {
        self.outcomes.clone()
    }

    /// Sessions with a turn running or waiting.
    pub fn busy_sessions(&self) -> usize {
        self.shared
            .queues
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }
}

/// One session's worker: runs its turns in order until its queue is empty.
async fn work<T: Send + 'static>(shared: Arc<Shared<T>>, session: SessionId) {
    loop {
        let (job, cancel, epoch) = {
            let mut queues = shared.queues.lock().unwrap_or_else(PoisonError::into_inner);
            let Some(slot) = queues.get_mut(&session) else {
                return;
            };
            match slot.queue.pop_front() {
                Some(job) => {
                    let (tx, rx) = smol::channel::bounded::<()>(1);
                    slot.cancel = Some(tx);
                    (job, rx, slot.epoch)
                }
                None => {
                    queues.remove(&session);
                    return;
                }
            }
        };
        let turn = async {
            let permit = shared.permits.acquire_arc().await;
            // A panic in a backend (a library bug) must not wedge the
            // session: it becomes a failed turn like any other.
            let outcome = AssertUnwindSafe(shared.run(
                &job.turn,
                job.submitted_ms,
                job.tools.as_ref(),
                &session,
                epoch,
            ))
            .catch_unwind()
            .await
            .unwrap_or_else(|_| shared.failed(&job.turn, AgentError::Panicked));
            drop(permit);
            outcome
        };
        let stopped = async {
            // A sender dropped without a message (never happens while the
            // turn runs) is not a `/stop`.
            if cancel.recv().await.is_err() {
                std::future::pending::<()>().await;
            }
            cancelled(&job.turn)
        };
        let outcome = turn.or(stopped).await;
        if outcome.cancelled {
            tracing::info!(
                target: "krill::agent",
                agent = %job.turn.agent_id,
                session = %job.turn.session_key,
                "turn cancelled (/stop)"
            );
        }
        if let Some(slot) = shared
            .queues
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get_mut(&session)
        {
            slot.cancel = None;
        }
        // The receiver lives as long as the runner; after that nobody
        // wants the outcome.
        let _ = shared.outcomes.send((job.ctx, outcome)).await;
    }
}

/// The outcome of a turn `/stop` dropped or cancelled.
fn cancelled(turn: &TurnInput) -> TurnOutcome {
    TurnOutcome {
        agent_id: turn.agent_id.clone(),
        session_key: turn.session_key.clone(),
        message_id: turn.message_id.clone(),
        reply: None,
        failed: false,
        error: None,
        cancelled: true,
    }
}

impl<T> Shared<T> {
    async fn run(
        &self,
        turn: &TurnInput,
        submitted_ms: u64,
        tools: Option<&TurnTools>,
        session: &SessionId,
        epoch: u64,
    ) -> TurnOutcome {
        match self.answer(turn, submitted_ms, tools, session, epoch).await {
            Ok(reply) => TurnOutcome {
                agent_id: turn.agent_id.clone(),
                session_key: turn.session_key.clone(),
                message_id: turn.message_id.clone(),
                reply,
                failed: false,
                error: None,
                cancelled: false,
            },
            Err(error) => self.failed(turn, error),
        }
    }

    /// Logs `error` and makes the "agent failed" outcome.
    fn failed(&self, turn: &TurnInput, error: AgentError) -> TurnOutcome {
        tracing::warn!(
            target: "krill::agent",
            agent = %turn.agent_id,
            session = %turn.session_key,
            message = %turn.message_id,
            "agent failed: {error}"
        );
        TurnOutcome {
            agent_id: turn.agent_id.clone(),
            session_key: turn.session_key.clone(),
            message_id: turn.message_id.clone(),
            reply: Some(AGENT_FAILED_REPLY.to_owned()),
            failed: true,
            error: Some(error),
            cancelled: false,
        }
    }

    async fn answer(
        &self,
        turn: &TurnInput,
        submitted_ms: u64,
        tools: Option<&TurnTools>,
        session: &SessionId,
        epoch: u64,
    ) -> Result<Option<String>, AgentError> {
        let spec = self
            .agents
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .agent(&turn.agent_id)
            .cloned()
            .ok_or_else(|| AgentError::UnknownAgent(turn.agent_id.clone()))?;
        // The echo agent answers from the text alone: no history to read.
        let history = if spec.backend == BackendSpec::Echo {
            Vec::new()
        } else {
            let store = self.transcripts.clone();
            let (agent_id, session_key) = (turn.agent_id.clone(), turn.session_key.clone());
            let limit = turn.history_limit;
            let read = crate::workers::run(move || store.history(&agent_id, &session_key, limit));
            match read.await {
                Ok(Ok(history)) => history,
                Ok(Err(e)) => {
                    tracing::warn!(target: "krill::agent", "{e}; answering without history");
                    Vec::new()
                }
                Err(gone) => {
                    tracing::warn!(target: "krill::agent", "{gone}; answering without history");
                    Vec::new()
                }
            }
        };
        let request = turn.request_with_history(history);
        // A command agent's turn token lives exactly as long as the backend
        // runs for this turn (a stopped turn drops it too).
        let token = match (&spec.backend, self.tokens.get()) {
            (BackendSpec::Command { .. }, Some(issuer)) => issuer.issue(TurnAccess {
                tools: request.tools.clone(),
                handler: tools.map(|t| t.handler.clone()),
            }),
            _ => None,
        };
        let env = token.as_ref().map(TurnToken::env).unwrap_or_default();
        let answered = answer(&spec.backend, &request, tools, &env).await;
        drop(token);
        let answered = answered?;
        let reply = answered.reply;

        let mut entries = vec![turn.user_entry(submitted_ms)];
        if answered.trace.is_empty() {
            entries.extend(
                reply
                    .iter()
                    .map(|r| TranscriptEntry::assistant(unix_ms(), r.clone())),
            );
        } else {
            let now = unix_ms();
            entries.extend(
                answered
                    .trace
                    .iter()
                    .map(|step| TranscriptEntry::from_history(now, step)),
            );
        }
        let current = self
            .queues
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(session)
            .map_or(epoch, |slot| slot.epoch);
        if current != epoch {
            // `/new` archived the session while this turn ran.
            return Ok(reply);
        }
        // A turn's append is one small write the page cache absorbs: done
        // here, it costs less than the two thread wake-ups of a hop to a
        // worker. The session's first use reads its whole file, which may
        // be large: that one goes to a worker.
        let store = &self.transcripts;
        let (agent_id, session_key) = (&turn.agent_id, &turn.session_key);
        let written = if store.is_loaded(agent_id, session_key) {
            store.append(agent_id, session_key, &entries)
        } else {
            let store = store.clone();
            let (agent_id, session_key) = (agent_id.clone(), session_key.clone());
            crate::workers::run(move || store.append(&agent_id, &session_key, &entries))
                .await
                .unwrap_or_else(|gone| Err(TranscriptError::Worker(gone)))
        };
        if let Err(e) = written {
            tracing::error!(target: "krill::agent", "{e}; the turn is not in the transcript");
        }
        Ok(reply)
    }
}

/// Now, in Unix epoch milliseconds (0 if the clock is before 1970).
fn unix_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}
