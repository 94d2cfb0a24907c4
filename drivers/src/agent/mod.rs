//! Agents at run time: the backends that answer a turn ([`backend`]: echo,
//! a command run once per turn, an OpenAI-compatible HTTP API), the
//! transcript files ([`TranscriptStore`]) and the [`AgentRunner`] that
//! queues turns per session and runs sessions side by side.
//!
//! What a turn looks like, how a prompt is rendered and what a transcript
//! line holds is decided in `krill_core::agent`; this module only runs
//! processes, makes HTTP requests and reads and appends files.
//!
//! Driving contract (the gateway): build a `krill_core::agent::TurnInput`
//! per inbound message, [`AgentRunner::submit`] it with whatever routing
//! data the reply needs (returns at once), and read
//! [`AgentRunner::next_outcome`] in a task of its own; each
//! [`TurnOutcome`] carries the reply to shape and send (the "agent failed"
//! text when the backend failed), or none.

use std::collections::BTreeMap;

use krill_core::agent::BackendSpec;

pub mod backend;
pub mod command;
pub mod openai;
pub mod runner;
pub mod tools;
pub mod transcripts;
pub mod turn_token;

pub use backend::AgentError;
pub use runner::{AgentRunner, TurnOutcome, DEFAULT_MAX_CONCURRENCY};
pub use tools::{ToolHandler, TurnTools};
pub use transcripts::{TranscriptError, TranscriptStore, MAX_CACHED_ENTRIES};

/// One configured agent, as the runner needs it.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct AgentSpec {
    /// What answers its turns.
    pub backend: BackendSpec,
}

impl AgentSpec {
    /// An agent answered by `backend`.
    pub fn new(backend: BackendSpec) -> Self {
        Self { backend }
    }
}

/// The agents the runner knows: agent id → [`AgentSpec`]
/// (`agents.list[]`, each with `agents.defaults` applied).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AgentsTable {
    agents: BTreeMap<String, AgentSpec>,
}

impl AgentsTable {
    /// No agents.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds (or replaces) agent `id` answered by `backend`.
    pub fn with_agent(mut self, id: impl Into<String>, backend: BackendSpec) -> Self {
        self.insert(id, AgentSpec::new(backend));
        self
    }

    /// Adds (or replaces) agent `id`.
    pub fn insert(&mut self, id: impl Into<String>, spec: AgentSpec) {
        self.agents.insert(id.into(), spec);
    }

    /// Agent `id`, if configured.
    pub fn agent(&self, id: &str) -> Option<&AgentSpec> {
        self.agents.get(id)
    }

    /// The configured agent ids, sorted.
    pub fn ids(&self) -> impl Iterator<Item = &str> {
        self.agents.keys().map(String::as_str)
    }
}
