//! Agents: the backend a session talks to ([`BackendSpec`]), the one JSON
//! object a backend receives per turn ([`TurnRequest`]), prompt rendering
//! ([`prompt`]), guild context history ([`ChannelHistory`]), transcript
//! entries and the history window ([`transcript`]) and the OpenAI-compatible
//! wire shapes ([`openai`]), when a message gets the ack reaction
//! ([`ack`]), the system events queued for a session's next turn
//! ([`system_events`]), and the function-calling loop of the OpenAI backend
//! ([`tool_loop`]).
//!
//! Everything here is pure: the drivers (`krill_drivers::agent`) run the
//! backends, keep the transcript files and call these functions.
//!
//! [`BackendSpec`] is shared with [`crate::config`]
//! (`agents.defaults.backend`, `agents.list[].backend`).

pub mod ack;
pub mod history;
pub mod openai;
pub mod prompt;
pub mod system_events;
pub mod tool_loop;
pub mod transcript;
pub mod turn;

pub use history::{ChannelHistories, ChannelHistory};
pub use prompt::{combine_system_prompt, render_prompt, ContextMessage, PromptInput};
pub use system_events::{prepend_system_events, SystemEvents};
pub use transcript::{history_window, TranscriptEntry};
pub use turn::{
    dm_history_limit, reply_from_output, ChannelKind, ChatType, HistoryEntry, Role, Sender,
    ToolCallRecord, TurnInput, TurnRequest, AGENT_FAILED_REPLY,
};

use serde::Deserialize;

/// `agents.*.backend`: which program or service answers a turn.
#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[serde(tag = "type", rename_all = "lowercase", deny_unknown_fields)]
pub enum BackendSpec {
    /// Replies with the inbound text. The default: shows the gateway working
    /// with no model at all.
    #[default]
    Echo,
    /// Runs a program once per turn: one JSON object on stdin, the reply on
    /// stdout.
    Command {
        /// Program and arguments (`["prog", "arg", ...]`), not a shell line.
        command: Vec<String>,
        /// Kill the program after this many milliseconds (default 120000).
        #[serde(rename = "timeoutMs", default = "default_command_timeout_ms")]
        timeout_ms: u64,
    },
    /// An OpenAI-compatible `POST {baseUrl}/chat/completions`.
    #[serde(rename = "openai")]
    OpenAi {
        /// e.g. `http://127.0.0.1:11434/v1` (Ollama) or `https://api.openai.com/v1`.
        #[serde(rename = "baseUrl")]
        base_url: String,
        /// Model name sent as `model`.
        model: String,
        /// Name of the environment variable holding the API key, if any.
        #[serde(rename = "apiKeyEnv", default)]
        api_key_env: Option<String>,
        /// System prompt sent first.
        #[serde(rename = "systemPrompt", default)]
        system_prompt: Option<String>,
        /// `max_tokens`, if set.
        #[serde(rename = "maxTokens", default)]
        max_tokens: Option<u32>,
        /// Request timeout in milliseconds (default 120000).
        #[serde(rename = "timeoutMs", default = "default_openai_timeout_ms")]
        timeout_ms: u64,
        /// The model reads images: downloaded inbound images go to it as
        /// image content parts (data URLs) instead of prompt lines only
        /// (default false).
        #[serde(default)]
        vision: bool,
        /// Model calls that may ask for tools in one turn before krill stops
        /// the turn (default [`tool_loop::DEFAULT_MAX_TOOL_STEPS`]).
        #[serde(rename = "maxToolSteps", default = "default_max_tool_steps")]
        max_tool_steps: u32,
    },
}

fn default_command_timeout_ms() -> u64 {
    120_000
}

fn default_openai_timeout_ms() -> u64 {
    120_000
}

fn default_max_tool_steps() -> u32 {
    tool_loop::DEFAULT_MAX_TOOL_STEPS
}
