//! `krill chat [--agent ID]`: a terminal conversation with the configured
//! agent, through the same backend, transcript and runner as the gateway.
//!
//! The session is `agent:<id>:main` (the one DMs use), channel `cli`, chat
//! type `direct`; each input line is one turn, its reply is printed on
//! stdout. The prompt `you> ` is shown only when stdin is a terminal. End
//! of input or `/exit` ends the conversation with exit code 0.

use std::io::{self, BufRead, IsTerminal, Write};
use std::path::Path;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use krill_core::agent::{
    render_prompt, BackendSpec, ChannelKind, ChatType, PromptInput, Sender, TurnInput,
};

use crate::agent::{AgentRunner, AgentsTable, TranscriptStore};

/// Flags of `krill chat`.
#[derive(Debug, clap::Args)]
pub struct ChatArgs {
    /// Which agent of `agents.list` to talk to (default: the default agent).
    #[arg(long, value_name = "ID")]
    pub agent: Option<String>,
}

/// Runs the conversation on stdin/stdout until end of input.
pub fn run(config: Option<&Path>, args: ChatArgs) -> i32 {
    let loaded = match crate::config_file::load_or_exit(config) {
        Ok(loaded) => loaded,
        Err(code) => return code,
    };
    let config = &loaded.config;
    let agent_id = match args.agent {
        Some(id) if id == config.default_agent_id() || config.agent(&id).is_some() => id,
        Some(id) => {
            let known: Vec<&str> = config.agents.list.iter().map(|a| a.id.as_str()).collect();
            errln!(
                "krill chat: no agent {id:?} in agents.list (known: {})",
                if known.is_empty() {
                    config.default_agent_id().to_owned()
                } else {
                    known.join(", ")
                }
            );
            return super::EXIT_USAGE;
        }
        None => config.default_agent_id().to_owned(),
    };
    let backend = config.backend_for(&agent_id);
    let state_dir = crate::paths::state_dir();
    let stdin = io::stdin();
    let show_prompt = stdin.is_terminal();
    converse(
        &agent_id,
        backend,
        &state_dir,
        stdin.lock(),
        io::stdout().lock(),
        show_prompt,
    )
}

/// The conversation with agent `agent_id` answered by `backend`, keeping
/// the transcript under `state_dir`, reading turns from `input` and writing
/// replies to `output` (no `you> ` prompt). Returns the exit code.
pub fn run_with(
    agent_id: &str,
    backend: BackendSpec,
    state_dir: &Path,
    input: impl BufRead,
    output: impl Write,
) -> i32 {
    converse(agent_id, backend, state_dir, input, output, false)
}

fn converse(
    agent_id: &str,
    backend: BackendSpec,
    state_dir: &Path,
    mut input: impl BufRead,
    mut output: impl Write,
    show_prompt: bool,
) -> i32 {
    let transcripts = Arc::new(TranscriptStore::new(state_dir));
    let runner = AgentRunner::new(
        AgentsTable::new().with_agent(agent_id, backend),
        transcripts,
        1,
    );
    let session_key = format!("agent:{agent_id}:main");
    let sender = local_user();
    let started_ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis());

    smol::block_on(async {
        let mut turns = 0u64;
        loop {
            if show_prompt
                && write!(output, "you> ")
                    .and_then(|()| output.flush())
                    .is_err()
            {
                return super::EXIT_FAILURE;
            }
            let mut line = String::new();
            match input.read_line(&mut line) {
                Ok(0) => return super::EXIT_OK,
                Ok(_) => {}
                Err(e) => {
                    errln!("krill chat: reading input: {e}");
                    return super::EXIT_FAILURE;
                }
            }
            let text = line.trim();
            if text.is_empty() {
                continue;
            }
            if text == "/exit" {
                return super::EXIT_OK;
            }
            turns += 1;
            let prompt = render_prompt(&PromptInput {
                chat_type: ChatType::Direct,
                sender: &sender,
                text,
                message_id: None,
                context: &[],
                reply_to: None,
                discord_channel_id: None,
            });
            runner.submit(
                TurnInput {
                    agent_id: agent_id.to_owned(),
                    session_key: session_key.clone(),
                    channel: ChannelKind::Cli,
                    account_id: "default".into(),
                    chat_type: ChatType::Direct,
                    chat_id: "cli".into(),
                    sender: sender.clone(),
                    message_id: format!("cli-{started_ms}-{turns}"),
                    text: text.to_owned(),
                    prompt,
                    system_prompt: None,
                    skills: None,
                    tools: Default::default(),
                    history_limit: None,
                    media: Vec::new(),
                },
                (),
            );
            let Some(((), outcome)) = runner.next_outcome().await else {
                return super::EXIT_FAILURE;
            };
            if let Some(reply) = outcome.reply {
                if writeln!(output, "{reply}")
                    .and_then(|()| output.flush())
                    .is_err()
                {
                    return super::EXIT_FAILURE;
                }
            }
        }
    })
}

/// The person at the terminal: `$USER`, else `you`.
fn local_user() -> Sender {
    let name = std::env::var("USER")
        .ok()
        .filter(|u| !u.is_empty())
        .unwrap_or_else(|| "you".to_owned());
    Sender {
        id: "local".into(),
        name,
    }
}
