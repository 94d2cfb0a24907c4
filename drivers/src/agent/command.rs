//! The command backend: runs `command` (no shell) once per turn.
//!
//! The contract (README, "Command agents"):
//! - stdin: the turn's `TurnRequest` as ONE JSON object followed by `\n`,
//!   then end of file;
//! - stdout, read to end of file: the reply, trailing newlines trimmed;
//!   nothing (or only whitespace) means no reply;
//! - exit status 0 = success; anything else is a failure (the user gets
//!   the "agent failed" reply, the error is logged);
//! - `timeoutMs` (default 120000) bounds the whole run, reading included;
//!   past it the process is killed (SIGKILL) and the turn fails;
//! - the program runs in a process group of its own; a turn that times out
//!   or is abandoned (`/stop`: the future is dropped) kills the whole group
//!   with SIGKILL, so helpers it started go too;
//! - stderr goes line by line to krill's log at debug level (target
//!   `krill::agent`), never to the chat;
//! - the process inherits krill's environment and working directory; in a
//!   gateway turn it also gets `KRILL_TURN_TOKEN` and `KRILL_SOCKET` (the
//!   turn's token for `krill mcp`, revoked when the turn ends).
//!
//! A program that does not read its stdin is fine: a broken pipe while
//! writing the request is not an error.

use std::process::Stdio;
use std::time::Duration;

use futures_lite::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use futures_lite::{future, StreamExt};
use krill_core::agent::{reply_from_output, TurnRequest};
use smol::process::{Child, Command};
use smol::Timer;

use super::backend::AgentError;

/// The most stdout read from one run (a runaway program cannot fill memory).
pub const MAX_STDOUT_BYTES: u64 = 4 * 1024 * 1024;

/// Runs the program for `request` (see the module docs).
pub async fn answer(
    command: &[String],
    timeout_ms: u64,
    request: &TurnRequest,
    env: &[(String, String)],
) -> Result<Option<String>, AgentError> {
    let (program, args) = command.split_first().ok_or(AgentError::EmptyCommand)?;
    let mut payload = serde_json::to_vec(request).map_err(|e| AgentError::Io(e.into()))?;
    payload.push(b'\n');

    let mut command = std::process::Command::new(program);
    command.args(args);
    command.envs(env.iter().map(|(k, v)| (k, v)));
    #[cfg(unix)]
    {
        use std::os::unix::process::CommandExt;
        command.process_group(0);
    }
    let mut child = Command::from(command)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .map_err(|source| AgentError::Spawn {
            program: program.clone(),
            source,
        })?;
    tracing::debug!(
        target: "krill::agent",
        agent = %request.agent_id,
        session = %request.session_key,
        pid = child.id(),
        "agent program started"
    );

    let mut group = GroupKill(Some(child.id()));
    let run = exchange(&mut child, &payload, &request.agent_id);
    let timeout = async {
        Timer::after(Duration::from_millis(timeout_ms)).await;
        Err(AgentError::Timeout { timeout_ms })
    };
    let result = future::or(run, timeout).await;
    if let Err(AgentError::Timeout { .. } | AgentError::Io(_)) = result {
        // Still running, or in an unknown state: make sure it is gone (with
        // its group), and reap it.
        group.kill();
        let _ = child.kill();
        let _ = child.status().await;
    }
    // It exited by itself: what it left running in the background is its
    // own business.
    group.0 = None;
    result
}

/// Kills the agent's process group (SIGKILL) when dropped armed: the turn
/// was abandoned (`/stop`) or timed out.
struct GroupKill(Option<u32>);

impl GroupKill {
    fn kill(&mut self) {
        #[cfg(unix)]
        if let Some(pid) = self
            .0
            .take()
            .and_then(|pid| i32::try_from(pid).ok())
            .and_then(rustix::process::Pid::from_raw)
        {
            if let Err(e) = rustix::process::kill_process_group(pid, rustix::process::Signal::KILL)
            {
                tracing::debug!(target: "krill::agent", "cannot kill agent process group: {e}");
            }
        }
    }
}

impl Drop for GroupKill {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Writes the request, reads stdout and stderr to end of file, waits for
/// the exit status.
async fn exchange(
    child: &mut Child,
    payload: &[u8],
    agent_id: &str,
) -> Result<Option<String>, AgentError> {
    let stdin = child.stdin.take();
    let stdout = child.stdout.take();
    let stderr = child.stderr.take();

    let write = async {
        if let Some(mut stdin) = stdin {
            if let Err(e) = stdin.write_all(payload).await {
                tracing::debug!(target: "krill::agent", agent = %agent_id, "agent did not read its stdin: {e}");
            }
            let _ = stdin.close().await;
        }
    };
    let read_stdout = async {
        let mut out = Vec::new();
        if let Some(stdout) = stdout {
            stdout.take(MAX_STDOUT_BYTES).read_to_end(&mut out).await?;
        }
        Ok::<_, std::io::Error>(out)
    };
    let log_stderr = async {
        if let Some(stderr) = stderr {
            let mut lines = BufReader::new(stderr).lines();
            while let Some(line) = lines.next().await {
                match line {
                    Ok(line) => {
                        tracing::debug!(target: "krill::agent", agent = %agent_id, "agent stderr: {line}")
                    }
                    Err(_) => break,
                }
            }
        }
    };
    let ((_, out), _) = future::zip(future::zip(write, read_stdout), log_stderr).await;
    let out = out.map_err(AgentError::Io)?;
    let status = child.status().await.map_err(AgentError::Io)?;
    if !status.success() {
        return Err(AgentError::Exit(status));
    }
    Ok(reply_from_output(&out))
}
