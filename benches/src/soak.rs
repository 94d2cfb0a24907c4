//! What the soak benchmarks (`fault_soak`, `kill_soak`) share: the RELEASE
//! `krill gateway` as a child process (its stderr tail kept for reports),
//! locating that binary, a fresh state dir, integer knobs from the
//! environment and a seeded generator for the fault or kill schedule.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex, PoisonError};

/// Lines of krill's stderr kept for a report.
const TAIL_LINES: usize = 200;

/// A running `krill gateway` (killed with SIGKILL when dropped).
pub struct KrillProcess {
    child: Child,
    log: Arc<Mutex<Vec<String>>>,
}

impl KrillProcess {
    /// Starts `bin gateway --config config` with `KRILL_STATE_DIR=state`
    /// and no token or config from the environment.
    ///
    /// # Errors
    /// When the binary cannot be started.
    pub fn start(bin: &Path, config: &Path, state: &Path) -> std::io::Result<Self> {
        let mut child = Command::new(bin)
            .arg("gateway")
            .arg("--config")
            .arg(config)
            .env("KRILL_STATE_DIR", state)
            .env_remove("DISCORD_BOT_TOKEN")
            .env_remove("KOOK_BOT_TOKEN")
            .env_remove("KRILL_CONFIG")
            .env_remove("KRILL_LOG")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()?;
        let log = Arc::new(Mutex::new(Vec::new()));
        if let Some(stderr) = child.stderr.take() {
            let log = log.clone();
            std::thread::spawn(move || {
                for line in BufReader::new(stderr).lines() {
                    let Ok(line) = line else { break };
                    let mut log = log.lock().unwrap_or_else(PoisonError::into_inner);
                    if log.len() >= TAIL_LINES {
                        log.remove(0);
                    }
                    log.push(line);
                }
            });
        }
        Ok(Self { child, log })
    }

    /// The process id.
    pub fn id(&self) -> u32 {
        self.child.id()
    }

    /// Still running.
    pub fn alive(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    /// SIGKILL, then reap it.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// The last lines krill wrote to stderr.
    pub fn tail(&self) -> String {
        self.log
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .join("\n")
    }
}

impl Drop for KrillProcess {
    fn drop(&mut self) {
        self.kill();
    }
}

/// The release binary: `$env_name` if set, else `$CARGO_TARGET_DIR/release/krill`
/// (or the workspace's `target/release/krill`).
///
/// # Errors
/// When the binary is not there, saying how to build it.
pub fn krill_binary(env_name: &str) -> Result<PathBuf, String> {
    if let Some(bin) = std::env::var_os(env_name) {
        return Ok(PathBuf::from(bin));
    }
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("..")
                .join("target")
        });
    let bin = target.join("release").join("krill");
    if bin.is_file() {
        Ok(bin)
    } else {
        Err(format!(
            "{} is missing: run cargo build --release -p krill-drivers --bin krill",
            bin.display()
        ))
    }
}

/// A fresh directory `<tmp>/<prefix>-<pid>` (emptied if it existed).
///
/// # Errors
/// When it cannot be created.
pub fn fresh_dir(prefix: &str) -> std::io::Result<PathBuf> {
    let dir = std::env::temp_dir().join(format!("{prefix}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}

/// The integer in `$name`, else `default`.
pub fn env_u64(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(default)
}

/// A small seeded generator (xorshift64*) for fault and kill schedules.
pub struct SoakRng(u64);

impl SoakRng {
    /// A generator for `seed` (any value).
    pub fn new(seed: u64) -> Self {
        Self(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1)
    }

    /// A number in `0..n` (0 when `n` is 0).
    pub fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d) % n.max(1)
    }
}
