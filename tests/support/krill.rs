//! Runs the real `krill` binary for end-to-end scenarios: a temp state dir,
//! a config file written from the test, stderr captured for assertions, and
//! the process killed when the handle drops. Included by scenarios with
//! `#[path = "support/krill.rs"] mod krill;`.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How long any wait on the process lasts at most.
pub const WAIT: Duration = Duration::from_secs(30);

/// What becomes of the process's stdout and stderr.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Output {
    /// Read into [`Krill::log`].
    Captured,
    /// Pipes whose reading ends are closed.
    Closed,
}

/// A running `krill` process.
pub struct Krill {
    child: Child,
    state: tempfile::TempDir,
    log: Arc<Mutex<String>>,
}

/// The path of the binary under test.
pub fn binary() -> &'static str {
    env!("CARGO_BIN_EXE_krill")
}

impl Krill {
    /// Starts `krill <args>` with `config` (JSON5 text) as its config file,
    /// a fresh state dir and a clean environment for tokens.
    pub fn start(config: &str, args: &[&str]) -> Self {
        Self::start_with_env(config, args, &[])
    }

    /// Like [`Krill::start`], with extra environment variables.
    pub fn start_with_env(config: &str, args: &[&str], env: &[(&str, &str)]) -> Self {
        let state = tempfile::tempdir().expect("temp state dir");
        Self::start_in(state, config, args, env)
    }

    /// Starts in an existing state dir (for restart scenarios).
    pub fn start_in(
        state: tempfile::TempDir,
        config: &str,
        args: &[&str],
        env: &[(&str, &str)],
    ) -> Self {
        Self::spawn(state, config, args, env, Output::Captured)
    }

    /// Like [`Krill::start`], with stdout and stderr pipes whose reading
    /// ends are closed at once, as when the reader of a supervisor's pipe
    /// has gone: every write to them fails. [`Krill::log`] stays empty.
    pub fn start_with_closed_output(config: &str, args: &[&str]) -> Self {
        let state = tempfile::tempdir().expect("temp state dir");
        Self::spawn(state, config, args, &[], Output::Closed)
    }

    fn spawn(
        state: tempfile::TempDir,
        config: &str,
        args: &[&str],
        env: &[(&str, &str)],
        output: Output,
    ) -> Self {
        let config_path = state.path().join("krill.json5");
        std::fs::write(&config_path, config).expect("write config");
        let mut command = Command::new(binary());
        command
            .args(args)
            .arg("--config")
            .arg(&config_path)
            .env("KRILL_STATE_DIR", state.path())
            .env("KRILL_LOG", "info,krill_drivers=debug")
            .env_remove("DISCORD_BOT_TOKEN")
            .env_remove("KOOK_BOT_TOKEN")
            .env_remove("KRILL_CONFIG")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        for (key, value) in env {
            command.env(key, value);
        }
        let mut child = command.spawn().expect("spawn krill");
        let log = Arc::new(Mutex::new(String::new()));
        if output == Output::Closed {
            drop(child.stderr.take());
            drop(child.stdout.take());
        }
        for stream in [
            child
                .stderr
                .take()
                .map(|s| Box::new(s) as Box<dyn Read + Send>),
            child
                .stdout
                .take()
                .map(|s| Box::new(s) as Box<dyn Read + Send>),
        ]
        .into_iter()
        .flatten()
        {
            let log = log.clone();
            std::thread::spawn(move || {
                for line in BufReader::new(stream).lines() {
                    let Ok(line) = line else { break };
                    if std::env::var_os("KRILL_TEST_ECHO").is_some() {
                        eprintln!("krill| {line}");
                    }
                    let mut log = log.lock().expect("log lock");
                    log.push_str(&line);
                    log.push('\n');
                }
            });
        }
        Self { child, state, log }
    }

    /// The state dir.
    pub fn state_dir(&self) -> &Path {
        self.state.path()
    }

    /// Everything the process printed so far (stderr and stdout).
    pub fn log(&self) -> String {
        self.log.lock().expect("log lock").clone()
    }

    /// Waits until the log contains `needle`.
    pub fn wait_for_log(&self, needle: &str, timeout: Duration) -> Result<(), String> {
        let deadline = Instant::now() + timeout;
        while Instant::now() < deadline {
            if self.log().contains(needle) {
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        Err(format!(
            "log never contained {needle:?}; log:\n{}",
            self.log()
        ))
    }

    /// Waits for the process to exit.
    pub fn wait_exit(&mut self, timeout: Duration) -> Option<ExitStatus> {
        let deadline = Instant::now() + timeout;
        while Instant::now() < deadline {
            if let Ok(Some(status)) = self.child.try_wait() {
                // Let the reader threads catch the last lines.
                std::thread::sleep(Duration::from_millis(50));
                return Some(status);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        None
    }

    /// True while the process runs.
    pub fn is_running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    /// Sends the process `signal` (e.g. `TERM`, `INT`) with kill(1).
    pub fn signal(&self, signal: &str) {
        let status = Command::new("kill")
            .arg(format!("-{signal}"))
            .arg(self.child.id().to_string())
            .status()
            .expect("run kill");
        assert!(status.success(), "kill -{signal} failed");
    }

    /// Hands back the state dir of a process that has exited (killed if it
    /// still runs).
    pub fn into_state(mut self) -> tempfile::TempDir {
        let _ = self.child.kill();
        let _ = self.child.wait();
        std::mem::replace(&mut self.state, tempfile::tempdir().expect("temp dir"))
    }

    /// Stops the process and hands back its state dir (for a restart).
    pub fn stop(mut self) -> tempfile::TempDir {
        let _ = self.child.kill();
        let _ = self.child.wait();
        std::mem::replace(&mut self.state, tempfile::tempdir().expect("temp dir"))
    }

    /// Runs `krill <args>` to completion in this process's state dir with
    /// its config; returns (exit code, stdout+stderr).
    pub fn run_cli(&self, args: &[&str]) -> (i32, String) {
        run_cli_in(self.state.path(), args)
    }
}

impl Drop for Krill {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Runs `krill <args> --config <state>/krill.json5` with `KRILL_STATE_DIR`
/// = `state`; returns (exit code, stdout+stderr).
pub fn run_cli_in(state: &Path, args: &[&str]) -> (i32, String) {
    let output = Command::new(binary())
        .args(args)
        .arg("--config")
        .arg(state.join("krill.json5"))
        .env("KRILL_STATE_DIR", state)
        .env_remove("DISCORD_BOT_TOKEN")
        .env_remove("KOOK_BOT_TOKEN")
        .env_remove("KRILL_CONFIG")
        .stdin(Stdio::null())
        .output()
        .expect("run krill");
    let mut text = String::from_utf8_lossy(&output.stdout).into_owned();
    text.push_str(&String::from_utf8_lossy(&output.stderr));
    (output.status.code().unwrap_or(-1), text)
}

/// A path under the repository's `tests/` folder.
pub fn tests_path(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../tests")
        .join(rel)
}
