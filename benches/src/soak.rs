//! What the soak benchmarks (`fault_soak`, `kill_soak`) share: the
//! `--bench` guard, their knobs from the environment, the RELEASE
//! `krill gateway` as a child process (its stderr tail kept for reports),
//! locating that binary, a fresh state dir, a seeded generator for the fault
//! or kill schedule, the waits of a run and the columns of its summary
//! table. The fakes krill runs between and the message stream on them are in
//! [`crate::soak_fakes`].

use std::fmt::Display;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

/// Whether the bench `bench` was run with `--bench`; when not (`cargo test`
/// runs bench targets too), prints that it was skipped and how to run it.
pub fn bench_requested(bench: &str) -> bool {
    if std::env::args().any(|a| a == "--bench") {
        return true;
    }
    println!(
        "{bench}: skipped (not run with --bench). Run: cargo build --release -p \
         krill-drivers --bin krill && cargo bench -p krill-benches --bench {bench}"
    );
    false
}

/// A soak bench's knobs, each `{prefix}_<NAME>` in the environment.
pub struct Knobs {
    /// `_SECS`: how long messages are sent (and faults or kills happen).
    pub secs: u64,
    /// `_RATE`: messages a second per platform (at least 1).
    pub rate: u64,
    /// `_SEED`: the fault or kill schedule.
    pub seed: u64,
    /// `_DRAIN_SECS` (60): how long to wait for the last replies.
    pub drain: Duration,
    /// `_BIN`: the krill binary (see [`krill_binary`]).
    pub bin: PathBuf,
}

impl Knobs {
    /// Reads the knobs named `{prefix}_SECS`, `_RATE`, `_SEED`, `_DRAIN_SECS`
    /// and `_BIN`, with these defaults for the first three. Exits with 2,
    /// saying so as `bench`, when the binary is missing.
    pub fn from_env(bench: &str, prefix: &str, secs: u64, rate: u64, seed: u64) -> Self {
        let knob = |name: &str, default| env_u64(&format!("{prefix}_{name}"), default);
        let (secs, rate, seed) = (
            knob("SECS", secs),
            knob("RATE", rate).max(1),
            knob("SEED", seed),
        );
        let drain = Duration::from_secs(knob("DRAIN_SECS", 60));
        let bin = krill_binary(&format!("{prefix}_BIN")).unwrap_or_else(|message| {
            eprintln!("{bench}: {message}");
            std::process::exit(2);
        });
        Self {
            secs,
            rate,
            seed,
            drain,
            bin,
        }
    }

    /// How long the fakes must live: the run, the drain and a minute more
    /// (their default lifetime is 5 minutes).
    pub fn lifetime(&self) -> Duration {
        Duration::from_secs(self.secs) + self.drain + Duration::from_secs(60)
    }
}

/// The start of a run's first line: `<bin> for <secs> s, <rate> msg/s per platform`.
impl Display for Knobs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} for {} s, {} msg/s per platform",
            self.bin.display(),
            self.secs,
            self.rate
        )
    }
}

/// A summary table's columns, each a heading and its width: the first
/// column left-aligned, the others right-aligned, one space between.
pub struct Columns(pub &'static [(&'static str, usize)]);

impl Columns {
    /// The line of headings.
    pub fn header(&self) -> String {
        let headings: Vec<&dyn Display> = self.0.iter().map(|(h, _)| h as &dyn Display).collect();
        self.row(&headings)
    }

    /// A line of `cells`, one a column.
    pub fn row(&self, cells: &[&dyn Display]) -> String {
        let mut line = String::new();
        for (i, (cell, (_, width))) in cells.iter().zip(self.0).enumerate() {
            if i == 0 {
                line += &format!("{cell:<width$}");
            } else {
                line += &format!(" {cell:>width$}");
            }
        }
        line
    }
}

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
    /// # Panics
    /// When the binary cannot be started.
    pub fn start(bin: &Path, config: &Path, state: &Path) -> Self {
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
            .spawn()
            .unwrap_or_else(|e| panic!("spawn {}: {e}", bin.display()));
        let log = Arc::new(Mutex::new(Vec::new()));
        if let Some(stderr) = child.stderr.take() {
            let log = log.clone();
            std::thread::spawn(move || {
                for line in BufReader::new(stderr).lines() {
                    let Ok(line) = line else { break };
                    let mut log = lock(&log);
                    if log.len() >= TAIL_LINES {
                        log.remove(0);
                    }
                    log.push(line);
                }
            });
        }
        Self { child, log }
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
        lock(&self.log).join("\n")
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
    let bin = crate::target_dir().join("release").join("krill");
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

/// Locks `m`, whether or not another thread panicked holding it.
pub fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Polls `done` every `every` until it holds or `until` has passed.
pub fn wait_for(until: Instant, every: Duration, mut done: impl FnMut() -> bool) {
    while Instant::now() < until && !done() {
        std::thread::sleep(every);
    }
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

    /// Sleeps a random `min_ms..=max_ms` milliseconds and returns true; when
    /// that would reach `end`, sleeps until `end` instead and returns false
    /// (the schedule is over).
    pub fn sleep_before(&mut self, min_ms: u64, max_ms: u64, end: Instant) -> bool {
        let wait = Duration::from_millis(min_ms + self.below(max_ms - min_ms + 1));
        if Instant::now() + wait >= end {
            std::thread::sleep(end.saturating_duration_since(Instant::now()));
            return false;
        }
        std::thread::sleep(wait);
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_pad_like_format_widths() {
        let columns = Columns(&[("platform", 8), ("sent", 6), ("p50", 9)]);
        assert_eq!(
            columns.header(),
            format!("{:<8} {:>6} {:>9}", "platform", "sent", "p50")
        );
        assert_eq!(
            columns.row(&[&"kook", &121, &"5.839 ms".to_owned()]),
            format!("{:<8} {:>6} {:>9}", "kook", 121, "5.839 ms")
        );
    }

    #[test]
    fn a_schedule_past_its_end_is_over() {
        let mut rng = SoakRng::new(16);
        assert!(!rng.sleep_before(3000, 10_000, Instant::now()));
    }
}
