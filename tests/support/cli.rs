//! Runs one `krill` command to completion for the CLI tests (`doctor`,
//! `channels status`): a temp dir holding the state dir, the home and the
//! config file; token variables cleared; and a check that no secret reaches
//! stdout or stderr. Included with `#[path = "support/cli.rs"] mod cli;`.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;

/// A state dir, a home and a config file of one test.
pub struct Setup {
    pub dir: tempfile::TempDir,
}

/// What a finished command printed.
pub struct Run {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

impl Setup {
    pub fn new() -> Self {
        Self {
            dir: tempfile::tempdir().expect("temp dir"),
        }
    }

    /// `<dir>/state`, the `KRILL_STATE_DIR`.
    pub fn state(&self) -> PathBuf {
        self.dir.path().join("state")
    }

    /// Writes `text` as the config file (mode 0600) and returns its path.
    pub fn config(&self, text: &str) -> PathBuf {
        let path = self.dir.path().join("krill.json5");
        std::fs::write(&path, text).expect("write the config");
        set_mode(&path, 0o600);
        path
    }

    /// Runs `krill [--config <config>] <args>` with `env` set, and asserts
    /// that none of `secrets` appears in what it printed.
    pub fn run(
        &self,
        config: Option<&Path>,
        args: &[&str],
        env: &[(&str, &str)],
        secrets: &[&str],
    ) -> Run {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_krill"));
        if let Some(c) = config {
            cmd.arg("--config").arg(c);
        }
        cmd.args(args)
            .env("KRILL_STATE_DIR", self.state())
            .env("HOME", self.dir.path())
            .env_remove("KRILL_CONFIG")
            .env_remove("KRILL_LOG")
            .env_remove("DISCORD_BOT_TOKEN")
            .env_remove("KOOK_BOT_TOKEN");
        for (k, v) in env {
            cmd.env(k, v);
        }
        let out = cmd.output().expect("run krill");
        let run = Run {
            code: out.status.code(),
            stdout: String::from_utf8(out.stdout).expect("UTF-8 stdout"),
            stderr: String::from_utf8(out.stderr).expect("UTF-8 stderr"),
        };
        for secret in secrets {
            assert!(
                !run.stdout.contains(secret) && !run.stderr.contains(secret),
                "a token leaked:\n{}\n{}",
                run.stdout,
                run.stderr
            );
        }
        run
    }
}

/// Sets a file's Unix permission bits.
pub fn set_mode(path: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).expect("chmod");
}
