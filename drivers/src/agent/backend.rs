//! Running one turn on a backend: [`answer`] dispatches on
//! `krill_core::agent::BackendSpec` to echo, [`super::command`] or
//! [`super::openai`], and every way a backend can fail is an [`AgentError`]
//! (logged by the runner; the user only sees the "agent failed" reply).

use std::io;
use std::process::ExitStatus;

use krill_core::agent::openai::OpenAiResponseError;
use krill_core::agent::{reply_from_output, BackendSpec, HistoryEntry, TurnRequest};
use thiserror::Error;

use super::tools::TurnTools;

/// A backend's answer to one turn.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Answer {
    /// The reply; `None` for no reply.
    pub reply: Option<String>,
    /// What the turn did after its prompt, for the transcript: tool steps
    /// and results, then the reply. Empty: just the reply.
    pub trace: Vec<HistoryEntry>,
}

impl Answer {
    /// An answer that used no tools.
    pub fn reply(reply: Option<String>) -> Self {
        Self {
            reply,
            trace: Vec::new(),
        }
    }
}

/// Why a backend gave no answer.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum AgentError {
    /// The turn names an agent that is not configured.
    #[error("no agent `{0}` is configured")]
    UnknownAgent(String),
    /// A command backend with an empty `command` list.
    #[error("the agent command is empty")]
    EmptyCommand,
    /// The program could not be started (not found, not executable, ...).
    #[error("could not start agent program `{program}`: {source}")]
    Spawn {
        /// `command[0]`.
        program: String,
        /// Why.
        source: io::Error,
    },
    /// Reading the agent's output or waiting for it failed.
    #[error("talking to the agent process failed: {0}")]
    Io(#[source] io::Error),
    /// The program exited unsuccessfully (its stderr is in the debug log).
    #[error("the agent program exited with {0}")]
    Exit(ExitStatus),
    /// No answer within `timeoutMs` (a command is killed).
    #[error("the agent did not answer within {timeout_ms} ms")]
    Timeout {
        /// The backend's `timeoutMs`.
        timeout_ms: u64,
    },
    /// `apiKeyEnv` names a variable that is not set, empty or not UTF-8.
    #[error("environment variable `{0}` (agents backend apiKeyEnv) is not set or empty")]
    MissingApiKey(String),
    /// The API answered with a non-2xx status.
    #[error("{url} answered HTTP {status}: {body}")]
    Http {
        /// The request URL.
        url: String,
        /// The status code.
        status: u16,
        /// The start of the response body.
        body: String,
    },
    /// The request did not get a response (connection refused, TLS, ...).
    #[error("request to {url} failed: {message}")]
    Transport {
        /// The request URL.
        url: String,
        /// What went wrong.
        message: String,
    },
    /// A 2xx response that is not a chat completion.
    #[error(transparent)]
    BadResponse(#[from] OpenAiResponseError),
    /// The backend panicked (a bug); the session goes on.
    #[error("the agent backend panicked")]
    Panicked,
}

/// Runs `request` on `backend`; `tools` carries out the calls of an
/// OpenAI backend (the command backend only sees the list in its stdin).
pub async fn answer(
    backend: &BackendSpec,
    request: &TurnRequest,
    tools: Option<&TurnTools>,
    env: &[(String, String)],
) -> Result<Answer, AgentError> {
    match backend {
        BackendSpec::Echo => Ok(Answer::reply(reply_from_output(request.text.as_bytes()))),
        BackendSpec::Command {
            command,
            timeout_ms,
        } => Ok(Answer::reply(
            super::command::answer(command, *timeout_ms, request, env).await?,
        )),
        BackendSpec::OpenAi {
            base_url,
            model,
            api_key_env,
            system_prompt,
            max_tokens,
            timeout_ms,
            max_tool_steps,
        } => {
            let call = super::openai::OpenAiCall {
                base_url,
                model,
                api_key_env: api_key_env.as_deref(),
                system_prompt: system_prompt.as_deref(),
                max_tokens: *max_tokens,
                timeout_ms: *timeout_ms,
                max_tool_steps: *max_tool_steps,
            };
            call.answer(request, tools).await
        }
    }
}
