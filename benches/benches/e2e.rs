//! End-to-end: the whole RELEASE `krill gateway` process with the echo agent
//! between the fake servers of `krill-testkit`, on loopback, and in the same
//! run on the same fake Discord a minimal discord.py echo bot
//! ([`krill_benches::discordpy`]) as the baseline.
//!
//! ```text
//! cargo build --release -p krill-drivers --bin krill && cargo bench -p krill-benches --bench e2e
//! ```
//!
//! (The bench also runs that `cargo build` itself first, a no-op when the
//! binary is fresh; `KRILL_E2E_NO_BUILD=1` skips it, `KRILL_E2E_BIN=<path>`
//! runs another binary instead. It then runs
//! `<workspace>/target/release/krill` (or `$CARGO_TARGET_DIR/release/krill`)
//! and stops with a clear message when it is missing. The discord.py venv
//! is made once under the target dir; without Python or network the
//! baseline rows are skipped with a note.)
//!
//! Per bot (Discord: krill, then discord.py, then `floor_echo`; KOOK:
//! krill), one process on a fresh fake:
//! 1. start, wait for READY (Discord: then a GUILD_CREATE with the
//!    channels) / HELLO (KOOK), idle 2 s, read `VmRSS`/`VmHWM` (idle),
//!    then reset `VmHWM`;
//! 2. warm up (20 messages), then `KRILL_E2E_SEQ` (300) messages one at a
//!    time, each sent `KRILL_E2E_GAP_MS` (10) ms after the previous one was
//!    sent (or at once once its reply is in, if later);
//! 3. load: `KRILL_E2E_LOAD_DISCORD` (2000) guild messages over 20 channels
//!    / `KRILL_E2E_LOAD_KOOK` (5000) DMs from 50 users, at most
//!    `KRILL_E2E_WINDOW` (200) unanswered at any time;
//! 4. per phase: CPU time per message (`utime + stime` of
//!    `/proc/<pid>/stat`, every thread), context switches per message (all
//!    live threads, `/proc/<pid>/task/*/status`; also per kind of thread:
//!    main, `async-io`, workers), threads, peak RSS,
//!    latency p50/p99.
//!
//! Latency is measured in this process (where the fakes run): from just
//! before the fake sends the inbound frame to the moment the last byte of
//! the reply POST arrives at a transparent stamping proxy
//! ([`krill_benches::stamp_proxy`]) in front of the fake's REST port. The
//! stamp includes one wake-up of the proxy's thread (see the floor row).
//!
//! Discord's global limit is lifted on both sides: krill runs with
//! `globalRateLimit: 1000000` (`KRILL_E2E_GLOBAL_LIMIT`, 0 = leave the key
//! out, for binaries older than the key); discord.py only waits on a global 429, which
//! the fake never sends. Guild messages need no mention
//! (`requireMention: false`), so neither bot adds reactions; krill also
//! sends its typing indicator (once per channel per 8 s).
//!
//! `floor_echo` (`benches/src/bin/floor_echo.rs`, built like krill) is the
//! smallest Rust echo bot: one thread, blocking tungstenite + ureq, no
//! store or features. Its row and ratio show what any Rust bot pays on the
//! machine; krill's distance to it is what krill's features and runtime
//! cost.
//!
//! Other knobs: `KRILL_E2E_PLATFORMS=discord,kook`, `KRILL_E2E_BASELINE=0`
//! (no discord.py), `KRILL_E2E_FLOOR=0` (no `floor_echo`),
//! `KRILL_E2E_LOG=<filter>` (krill's `KRILL_LOG`; unset =
//! krill's default, `info`), `KRILL_E2E_DUMP=<dir>` (each sequential run's
//! latencies in µs, one per line).
//!
//! Run alone (`cargo test --all-targets` runs bench targets without
//! `--bench`; this one then only prints how to run it).

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{self, Receiver};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use krill_benches::proc_status::{
    read_cpu_time, read_status, read_thread_switches, reset_peak, ProcStatus, ThreadSwitches,
};
use krill_benches::stamp_proxy::{StampProxy, Stamped};
use krill_benches::stats::{ms, summarize, Summary};
use krill_benches::{discordpy, target_dir};

#[path = "e2e/sides.rs"]
mod sides;
use sides::{DiscordSide, KookSide, Side, DISCORD_CHANNELS, KOOK_CHATS};

/// How long one reply may take before the bench gives up.
const REPLY_TIMEOUT: Duration = Duration::from_secs(60);
/// Idle time after READY before the idle RSS is read.
const IDLE: Duration = Duration::from_secs(2);
/// Messages before the sequential run (pools, lazy statics, first files).
const WARMUP: usize = 20;

/// Which bot a run measures.
#[derive(Debug, Clone)]
enum Bot {
    Krill(PathBuf),
    /// The venv's python with discord.py.
    DiscordPy(PathBuf),
    /// `floor_echo`: started like krill.
    Floor(PathBuf),
}

impl Bot {
    fn name(&self) -> &'static str {
        match self {
            Bot::Krill(_) => "krill",
            Bot::DiscordPy(_) => "discord.py",
            Bot::Floor(_) => "floor_echo",
        }
    }
}

fn main() {
    if !std::env::args().any(|a| a == "--bench") {
        println!(
            "e2e: skipped (not run with --bench). Run: cargo build --release -p krill-drivers \
             --bin krill && cargo bench -p krill-benches --bench e2e"
        );
        return;
    }
    let settings = Settings::from_env();
    let bin = match krill_binary() {
        Ok(bin) => bin,
        Err(message) => {
            eprintln!("e2e: {message}");
            std::process::exit(2);
        }
    };
    println!("e2e: krill binary {}", bin.display());
    println!("e2e: {settings:?}");
    let floor = loopback_floor(settings.seq.clamp(1, 300), settings.gap);
    let mut reports = Vec::new();
    let mut notes = Vec::new();
    if settings.platforms.iter().any(|p| p == "discord") {
        let krill = Bot::Krill(bin.clone());
        reports.push(run(
            &krill,
            &DiscordSide::start(settings.global_limit),
            &settings,
            settings.load_discord,
        ));
        if settings.baseline {
            match discordpy::prepare(&target_dir()) {
                Ok(python) => {
                    let bot = Bot::DiscordPy(python);
                    reports.push(run(
                        &bot,
                        &DiscordSide::start(settings.global_limit),
                        &settings,
                        settings.load_discord,
                    ));
                }
                Err(why) => notes.push(format!(
                    "discord.py baseline skipped: {why} (the ratio rows need it)"
                )),
            }
        } else {
            notes.push("discord.py baseline skipped: KRILL_E2E_BASELINE=0".to_owned());
        }
        if settings.floor {
            match release_binary("krill-benches", "floor_echo") {
                Ok(bin) => reports.push(run(
                    &Bot::Floor(bin),
                    &DiscordSide::start(settings.global_limit),
                    &settings,
                    settings.load_discord,
                )),
                Err(why) => notes.push(format!("floor_echo skipped: {why}")),
            }
        }
    }
    if settings.platforms.iter().any(|p| p == "kook") {
        let krill = Bot::Krill(bin.clone());
        reports.push(run(
            &krill,
            &KookSide::start(),
            &settings,
            settings.load_kook,
        ));
    }
    print_reports(&reports, &settings, floor, &notes);
}

/// The machine's floor for the same shape: a 1-byte TCP round trip between
/// two threads of this process over loopback (2 thread wake-ups), `count`
/// times, `gap` apart. A krill turn chains about ten such wake-ups.
fn loopback_floor(count: usize, gap: Duration) -> Option<Summary> {
    use std::io::{Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").ok()?;
    let addr = listener.local_addr().ok()?;
    let echo = std::thread::spawn(move || {
        let Ok((mut s, _)) = listener.accept() else {
            return;
        };
        let _ = s.set_nodelay(true);
        let mut b = [0u8; 1];
        while s.read_exact(&mut b).is_ok() && s.write_all(&b).is_ok() {}
    });
    let mut c = std::net::TcpStream::connect(addr).ok()?;
    c.set_nodelay(true).ok()?;
    let mut samples = Vec::with_capacity(count);
    let mut b = [7u8; 1];
    for _ in 0..count {
        let t = Instant::now();
        c.write_all(&b).ok()?;
        c.read_exact(&mut b).ok()?;
        samples.push(t.elapsed());
        std::thread::sleep(gap);
    }
    drop(c);
    let _ = echo.join();
    summarize(&samples)
}

// ---- settings and the binary ----

#[derive(Debug)]
struct Settings {
    seq: usize,
    gap: Duration,
    load_discord: usize,
    load_kook: usize,
    window: usize,
    platforms: Vec<String>,
    krill_log: Option<String>,
    baseline: bool,
    /// Run `floor_echo` too.
    floor: bool,
    /// krill's `globalRateLimit`; 0 leaves the key out (krill's default).
    global_limit: usize,
}

impl Settings {
    fn from_env() -> Self {
        let num = |name: &str, default: usize| {
            std::env::var(name)
                .ok()
                .and_then(|v| v.trim().parse().ok())
                .unwrap_or(default)
        };
        Self {
            seq: num("KRILL_E2E_SEQ", 300),
            gap: Duration::from_millis(num("KRILL_E2E_GAP_MS", 10) as u64),
            load_discord: num("KRILL_E2E_LOAD_DISCORD", 2000),
            load_kook: num("KRILL_E2E_LOAD_KOOK", 5000),
            window: num("KRILL_E2E_WINDOW", 200).max(1),
            platforms: std::env::var("KRILL_E2E_PLATFORMS")
                .unwrap_or_else(|_| "discord,kook".into())
                .split(',')
                .map(|p| p.trim().to_ascii_lowercase())
                .collect(),
            krill_log: std::env::var("KRILL_E2E_LOG").ok(),
            baseline: num("KRILL_E2E_BASELINE", 1) != 0,
            floor: num("KRILL_E2E_FLOOR", 1) != 0,
            global_limit: num("KRILL_E2E_GLOBAL_LIMIT", 1_000_000),
        }
    }
}

/// Builds (unless `KRILL_E2E_NO_BUILD`) and locates the release binary;
/// `KRILL_E2E_BIN` names another binary (no build).
fn krill_binary() -> Result<PathBuf, String> {
    if let Some(bin) = std::env::var_os("KRILL_E2E_BIN") {
        let bin = PathBuf::from(bin);
        return if bin.is_file() {
            Ok(bin)
        } else {
            Err(format!("KRILL_E2E_BIN={} is not a file", bin.display()))
        };
    }
    release_binary("krill-drivers", "krill")
}

/// Builds (unless `KRILL_E2E_NO_BUILD`) and locates the release binary
/// `bin` of `package`.
fn release_binary(package: &str, bin: &str) -> Result<PathBuf, String> {
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let path = target_dir().join("release").join(bin);
    let build = format!("cargo build --release -p {package} --bin {bin}");
    if std::env::var_os("KRILL_E2E_NO_BUILD").is_none() {
        let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
        println!("e2e: {build}");
        let status = Command::new(cargo)
            .args(["build", "--release", "-p", package, "--bin", bin])
            .current_dir(&workspace)
            .status();
        match status {
            Ok(s) if s.success() => {}
            Ok(s) => return Err(format!("`{build}` failed ({s})")),
            Err(e) => return Err(format!("cannot run cargo to build {bin}: {e}")),
        }
    }
    if path.is_file() {
        Ok(path)
    } else {
        Err(format!(
            "the release binary {} is missing. Build it first: {build}",
            path.display()
        ))
    }
}

// ---- the bot process ----

/// The bot child: killed on drop; its output kept (last lines) for errors.
struct BotProcess {
    child: Child,
    log: Arc<Mutex<Vec<String>>>,
    _state: tempfile::TempDir,
}

impl BotProcess {
    fn start(
        bot: &Bot,
        side: &dyn Side,
        api_base: &str,
        krill_log: Option<&str>,
    ) -> Result<Self, String> {
        let state = tempfile::tempdir().map_err(|e| format!("temp dir: {e}"))?;
        let mut command = match bot {
            Bot::Krill(bin) | Bot::Floor(bin) => {
                let config_path = state.path().join("krill.json5");
                std::fs::write(&config_path, side.config(api_base))
                    .map_err(|e| format!("write config: {e}"))?;
                let mut command = Command::new(bin);
                command
                    .arg("gateway")
                    .arg("--config")
                    .arg(&config_path)
                    .env("KRILL_STATE_DIR", state.path())
                    .env_remove("DISCORD_BOT_TOKEN")
                    .env_remove("KOOK_BOT_TOKEN")
                    .env_remove("KRILL_CONFIG");
                match krill_log {
                    Some(filter) => command.env("KRILL_LOG", filter),
                    None => command.env_remove("KRILL_LOG"),
                };
                command
            }
            Bot::DiscordPy(python) => {
                discordpy::command(python, state.path(), &side.token(), api_base)
                    .map_err(|e| format!("write the discord.py bot: {e}"))?
            }
        };
        command
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        let mut child = command
            .spawn()
            .map_err(|e| format!("spawn {}: {e}", bot.name()))?;
        let log = Arc::new(Mutex::new(Vec::new()));
        if let Some(stderr) = child.stderr.take() {
            let log = log.clone();
            std::thread::spawn(move || {
                for line in BufReader::new(stderr).lines() {
                    let Ok(line) = line else { break };
                    let mut log = log.lock().unwrap_or_else(|e| e.into_inner());
                    if log.len() >= 200 {
                        log.remove(0);
                    }
                    log.push(line);
                }
            });
        }
        Ok(Self {
            child,
            log,
            _state: state,
        })
    }

    fn pid(&self) -> u32 {
        self.child.id()
    }

    /// (CPU time, context switches) so far.
    fn usage(&self) -> (Duration, ThreadSwitches) {
        (
            read_cpu_time(self.pid()).unwrap_or_default(),
            read_thread_switches(self.pid()).unwrap_or_default(),
        )
    }

    fn status(&self) -> ProcStatus {
        read_status(self.pid()).unwrap_or_default()
    }

    fn tail(&self) -> String {
        let log = self.log.lock().unwrap_or_else(|e| e.into_inner());
        log.iter()
            .rev()
            .take(30)
            .rev()
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    }
}

impl Drop for BotProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

// ---- one run ----

/// One measured phase.
struct Phase {
    latency: Option<Summary>,
    messages: usize,
    wall: Duration,
    cpu: Duration,
    switches: ThreadSwitches,
    threads: u64,
}

impl Phase {
    fn cpu_per_message(&self) -> Duration {
        self.cpu / self.messages.max(1) as u32
    }

    fn switches_per_message(&self) -> f64 {
        self.switches.total() as f64 / self.messages.max(1) as f64
    }

    /// Context switches per message of each kind of thread, busiest first.
    fn switches_by_thread(&self) -> String {
        let mut kinds: Vec<(&String, &u64)> = self.switches.0.iter().collect();
        kinds.sort_by(|a, b| b.1.cmp(a.1));
        let per = |n: u64| n as f64 / self.messages.max(1) as f64;
        let shown: Vec<String> = kinds
            .into_iter()
            .map(|(kind, n)| format!("{kind} {:.2}", per(*n)))
            .collect();
        shown.join(", ")
    }
}

struct Report {
    platform: &'static str,
    bot: &'static str,
    idle: ProcStatus,
    peak_reset: bool,
    loaded: ProcStatus,
    /// CPU used during the idle time after READY.
    idle_cpu: Duration,
    seq: Phase,
    load: Phase,
}

/// Waits for the reply to message `want`; replies to others go to `early`.
fn wait_reply(
    side: &dyn Side,
    stamps: &Receiver<Stamped>,
    want: usize,
    early: &mut Vec<(usize, Instant)>,
    bot: &BotProcess,
) -> Instant {
    if let Some(pos) = early.iter().position(|(i, _)| *i == want) {
        return early.swap_remove(pos).1;
    }
    loop {
        match stamps.recv_timeout(REPLY_TIMEOUT) {
            Ok(r) => match side.reply_index(&r) {
                Some(i) if i == want => return r.at,
                Some(i) => early.push((i, r.at)),
                None => {}
            },
            Err(_) => fail(
                bot,
                &format!("no reply to message {want} within {REPLY_TIMEOUT:?}"),
            ),
        }
    }
}

fn fail(bot: &BotProcess, message: &str) -> ! {
    eprintln!(
        "e2e: {message}\n--- last log lines of the bot ---\n{}",
        bot.tail()
    );
    std::process::exit(1);
}

fn run(which: &Bot, side: &dyn Side, settings: &Settings, load_count: usize) -> Report {
    let name = side.name();
    let who = which.name();
    let (tx, stamps) = mpsc::channel();
    let proxy = match StampProxy::start(side.rest_addr(), tx) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("e2e: cannot start the stamping proxy: {e}");
            std::process::exit(2);
        }
    };
    let api_base = format!("http://127.0.0.1:{}{}", proxy.port(), side.api_prefix());
    let bot = match BotProcess::start(which, side, &api_base, settings.krill_log.as_deref()) {
        Ok(b) => b,
        Err(e) => {
            eprintln!("e2e: {e}");
            std::process::exit(2);
        }
    };
    if let Err(e) = side.wait_ready() {
        fail(&bot, &format!("{name}/{who}: never got ready: {e}"));
    }
    side.after_ready();
    let (idle_cpu_start, _) = bot.usage();
    std::thread::sleep(IDLE);
    let idle_cpu = bot.usage().0.saturating_sub(idle_cpu_start);
    let idle = bot.status();
    let peak_reset = reset_peak(bot.pid()).is_ok();
    println!(
        "e2e {name}/{who}: ready; idle RSS {} KiB (peak so far {} KiB, {} threads)",
        idle.rss_kib, idle.hwm_kib, idle.threads
    );

    // Warm-up, then one message at a time.
    let mut early = Vec::new();
    let mut seq_latencies = Vec::with_capacity(settings.seq);
    let total = WARMUP + settings.seq;
    let mut measured_start = Instant::now();
    let mut usage_start = bot.usage();
    for i in 0..total {
        if i == WARMUP {
            measured_start = Instant::now();
            usage_start = bot.usage();
        }
        let sent = Instant::now();
        side.send(i, 0);
        let at = wait_reply(side, &stamps, i, &mut early, &bot);
        if i >= WARMUP {
            seq_latencies.push(at.saturating_duration_since(sent));
        }
        let next = sent + settings.gap;
        let now = Instant::now();
        if next > now {
            std::thread::sleep(next - now);
        }
    }
    let usage = bot.usage();
    let seq = Phase {
        latency: summarize(&seq_latencies),
        messages: settings.seq,
        wall: measured_start.elapsed(),
        cpu: usage.0.saturating_sub(usage_start.0),
        switches: usage.1.since(&usage_start.1),
        threads: bot.status().threads,
    };
    if let Some(dir) = std::env::var_os("KRILL_E2E_DUMP") {
        let path = Path::new(&dir).join(format!("{name}-{who}-sequential-us.txt"));
        let text: String = seq_latencies
            .iter()
            .map(|d| format!("{}\n", d.as_micros()))
            .collect();
        if let Err(e) = std::fs::write(&path, text) {
            eprintln!("e2e: cannot write {}: {e}", path.display());
        }
    }

    // Load: a bounded window of unanswered messages across the chats.
    let base = total;
    let chats = side.chats();
    let mut sent_at: Vec<Option<Instant>> = vec![None; load_count];
    let mut answered = vec![false; load_count];
    let mut load_latencies = Vec::with_capacity(load_count);
    let (mut sent, mut done) = (0usize, 0usize);
    let mut other = std::collections::BTreeMap::new();
    let load_start = Instant::now();
    let usage_start = bot.usage();
    let mut last_reply = load_start;
    let mut threads = 0;
    // Replies of the sequential phase that came in late are not counted.
    early.clear();
    while done < load_count {
        while sent < load_count && sent - done < settings.window {
            sent_at[sent] = Some(Instant::now());
            side.send(base + sent, sent % chats);
            sent += 1;
        }
        if done == load_count / 2 {
            threads = threads.max(bot.status().threads);
        }
        let r = match stamps.recv_timeout(REPLY_TIMEOUT) {
            Ok(r) => r,
            Err(_) => fail(
                &bot,
                &format!("{name}/{who}: load stalled at {done}/{load_count} replies ({sent} sent)"),
            ),
        };
        let Some(i) = side.reply_index(&r).and_then(|i| i.checked_sub(base)) else {
            let kind = r.path.split('?').next().unwrap_or_default();
            let kind = kind.rsplit('/').next().unwrap_or_default();
            *other
                .entry(format!("{} …/{kind}", r.method))
                .or_insert(0usize) += 1;
            continue;
        };
        if i >= load_count || answered[i] {
            continue;
        }
        answered[i] = true;
        done += 1;
        last_reply = r.at;
        if let Some(t) = sent_at[i] {
            load_latencies.push(r.at.saturating_duration_since(t));
        }
    }
    let usage = bot.usage();
    let loaded = bot.status();
    let load = Phase {
        latency: summarize(&load_latencies),
        messages: load_count,
        wall: last_reply.saturating_duration_since(load_start),
        cpu: usage.0.saturating_sub(usage_start.0),
        switches: usage.1.since(&usage_start.1),
        threads: threads.max(loaded.threads),
    };
    println!(
        "e2e {name}/{who}: load {load_count} messages in {:.1} s; peak RSS {} KiB; \
         other requests: {other:?}",
        load.wall.as_secs_f64(),
        loaded.hwm_kib
    );
    drop(bot);
    drop(proxy);
    Report {
        platform: name,
        bot: who,
        idle,
        peak_reset,
        loaded,
        idle_cpu,
        seq,
        load,
    }
}

// ---- output ----

fn mib(kib: u64) -> String {
    format!("{:.1} MiB", kib as f64 / 1024.0)
}

fn us(d: Duration) -> String {
    format!("{:.0} µs", d.as_secs_f64() * 1e6)
}

fn print_reports(
    reports: &[Report],
    settings: &Settings,
    floor: Option<Summary>,
    notes: &[String],
) {
    println!();
    println!("## Per message: inbound frame sent by the fake -> reply POST received (loopback)");
    println!();
    println!(
        "| platform | bot | phase | messages | CPU/msg | ctx switches/msg | threads | p50 | p99 | max | msgs/s |"
    );
    println!("|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|");
    if let Some(s) = floor {
        println!(
            "| (floor) | | thread-to-thread TCP round trip, {} ms apart | {} | | | | {} | {} | {} | |",
            settings.gap.as_millis(),
            s.count,
            ms(s.p50),
            ms(s.p99),
            ms(s.max)
        );
    }
    for r in reports {
        let phases = [
            (
                format!("1 in flight, {} ms apart", settings.gap.as_millis()),
                &r.seq,
            ),
            (
                format!(
                    "{} in flight over {} chats",
                    settings.window,
                    if r.platform == "discord" {
                        DISCORD_CHANNELS
                    } else {
                        KOOK_CHATS
                    }
                ),
                &r.load,
            ),
        ];
        for (label, p) in phases {
            let Some(s) = p.latency else { continue };
            println!(
                "| {} | {} | {label} | {} | {} | {:.2} | {} | {} | {} | {} | {:.0} |",
                r.platform,
                r.bot,
                p.messages,
                us(p.cpu_per_message()),
                p.switches_per_message(),
                p.threads,
                ms(s.p50),
                ms(s.p99),
                ms(s.max),
                p.messages as f64 / p.wall.as_secs_f64().max(1e-9),
            );
        }
    }
    println!();
    println!("Context switches per message, by thread:");
    println!();
    for r in reports {
        for (label, p) in [("1 in flight", &r.seq), ("load", &r.load)] {
            println!(
                "- {} / {} / {label}: {}",
                r.platform,
                r.bot,
                p.switches_by_thread()
            );
        }
    }
    let baseline = reports.iter().find(|r| r.bot == "discord.py");
    if let Some(b) = baseline {
        println!();
        println!(
            "## bot / discord.py (same fake, same run; krill's target: CPU/msg ≤ 0.1; \
             floor_echo: what the smallest Rust bot reaches)"
        );
        println!();
        println!("| bot | phase | CPU/msg | ctx switches/msg | p99 |");
        println!("|---|---|---:|---:|---:|");
        let ratio = |a: f64, b: f64| {
            if b > 0.0 {
                format!("{:.3}", a / b)
            } else {
                "n/a".to_owned()
            }
        };
        let rust_bots = reports
            .iter()
            .filter(|r| r.platform == "discord" && r.bot != "discord.py");
        for k in rust_bots {
            for (label, kp, bp) in [("1 in flight", &k.seq, &b.seq), ("load", &k.load, &b.load)] {
                let p99 = |p: &Phase| p.latency.map_or(0.0, |s| s.p99.as_secs_f64());
                println!(
                    "| {} | {label} | **{}** | {} | {} |",
                    k.bot,
                    ratio(
                        kp.cpu_per_message().as_secs_f64(),
                        bp.cpu_per_message().as_secs_f64()
                    ),
                    ratio(kp.switches_per_message(), bp.switches_per_message()),
                    ratio(p99(kp), p99(bp)),
                );
            }
        }
    }
    println!();
    println!("## Memory (/proc/<pid>/status)");
    println!();
    println!(
        "| platform | bot | idle VmRSS (READY + 2 s) | VmHWM at idle (startup peak) | peak VmHWM under load{} | VmRSS after load | threads idle | CPU while idle |",
        if reports.iter().all(|r| r.peak_reset) { " (reset after idle)" } else { "" }
    );
    println!("|---|---|---:|---:|---:|---:|---:|---:|");
    for r in reports {
        println!(
            "| {} | {} | {} | {} | {} | {} | {} | {:.1} % |",
            r.platform,
            r.bot,
            mib(r.idle.rss_kib),
            mib(r.idle.hwm_kib),
            mib(r.loaded.hwm_kib),
            mib(r.loaded.rss_kib),
            r.idle.threads,
            100.0 * r.idle_cpu.as_secs_f64() / IDLE.as_secs_f64()
        );
    }
    for note in notes {
        println!();
        println!("Note: {note}");
    }
    println!();
    println!(
        "CPU is utime+stime of /proc/<pid>/stat (10 ms ticks: coarse for short phases); \
         context switches are summed over the live threads only."
    );
}
