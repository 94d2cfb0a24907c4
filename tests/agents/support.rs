//! Shared helpers of the `agents_*` tests (included with `#[path]`).
#![allow(dead_code)]

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use futures_lite::future;
use krill_core::agent::{BackendSpec, ChannelKind, ChatType, Sender, TurnInput};
use krill_drivers::agent::{AgentRunner, AgentsTable, TranscriptStore, TurnOutcome};

/// A hang (a turn that never comes back) fails the test after this long
/// instead of blocking CI; no test relies on it for timing. Generous: a
/// loaded machine may take many seconds to start a python agent.
pub const HANG_GUARD: Duration = Duration::from_secs(300);

/// `tests/agents/<name>`.
pub fn script(name: &str) -> String {
    format!("{}/../tests/agents/{name}", env!("CARGO_MANIFEST_DIR"))
}

/// A command backend running `tests/agents/<name>` with `args`.
pub fn command(name: &str, args: &[&str], timeout_ms: u64) -> BackendSpec {
    let mut command = vec![script(name)];
    command.extend(args.iter().map(|a| (*a).to_owned()));
    BackendSpec::Command {
        command,
        timeout_ms,
    }
}

/// A runner with one agent `main` answered by `backend`, keeping
/// transcripts under `state`.
pub fn runner<T: Send + 'static>(
    backend: BackendSpec,
    state: &Path,
    max_concurrency: usize,
) -> AgentRunner<T> {
    AgentRunner::new(
        AgentsTable::new().with_agent("main", backend),
        Arc::new(TranscriptStore::new(state)),
        max_concurrency,
    )
}

/// A DM turn of agent `main` in `session` (Discord, user 111 `alice`).
pub fn dm_turn(session: &str, message_id: &str, text: &str) -> TurnInput {
    TurnInput {
        agent_id: "main".into(),
        session_key: session.into(),
        channel: ChannelKind::Discord,
        account_id: "default".into(),
        chat_type: ChatType::Direct,
        chat_id: "555".into(),
        sender: Sender {
            id: "111".into(),
            name: "alice".into(),
        },
        message_id: message_id.into(),
        text: text.into(),
        prompt: format!("{text}\n[message_id: {message_id}]"),
        system_prompt: None,
        skills: None,
        tools: Default::default(),
        history_limit: None,
        media: Vec::new(),
    }
}

/// The next outcome, or a panic after [`HANG_GUARD`].
pub fn next<T: Send + 'static>(runner: &AgentRunner<T>) -> (T, TurnOutcome) {
    smol::block_on(future::or(runner.next_outcome(), async {
        smol::Timer::after(HANG_GUARD).await;
        None
    }))
    .expect("a turn outcome within the hang guard")
}

/// Submits one turn and waits for its outcome.
pub fn ask(runner: &AgentRunner<()>, turn: TurnInput) -> TurnOutcome {
    runner.submit(turn, ());
    next(runner).1
}
