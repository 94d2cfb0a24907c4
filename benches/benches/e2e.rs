//! End-to-end: the whole RELEASE `krill gateway` process with the echo agent
//! between the fake servers of `krill-testkit`, on loopback.
//!
//! ```text
//! cargo build --release -p krill-drivers --bin krill && cargo bench -p krill-benches --bench e2e
//! ```
//!
//! (The bench also runs that `cargo build` itself first, a no-op when the
//! binary is fresh; `KRILL_E2E_NO_BUILD=1` skips it, `KRILL_E2E_BIN=<path>`
//! runs another binary instead. It then runs
//! `<workspace>/target/release/krill` (or `$CARGO_TARGET_DIR/release/krill`)
//! and stops with a clear message when it is missing.)
//!
//! Per platform (Discord, then KOOK), one krill process:
//! 1. start, wait for READY (Discord) / HELLO (KOOK), idle 2 s, read
//!    `VmRSS`/`VmHWM` from `/proc/<pid>/status` (idle), then reset `VmHWM`;
//! 2. warm up (20 messages), then `KRILL_E2E_SEQ` (1000) DMs one at a time,
//!    each sent `KRILL_E2E_GAP_MS` (50) ms after the previous one was sent
//!    (or at once once its reply is in, if later): latency p50/p95/p99/max;
//! 3. load: `KRILL_E2E_LOAD_DISCORD` (1000) / `KRILL_E2E_LOAD_KOOK` (5000)
//!    DMs from 50 users (50 chats), at most `KRILL_E2E_WINDOW` (200)
//!    unanswered at any time: messages/s, latency under load;
//! 4. `VmHWM` (peak RSS during warm-up + sequential + load) and `VmRSS`.
//!
//! Latency is measured in this process (where the fakes run) with
//! `Instant`s: from just before the fake sends the inbound frame to the
//! moment the last byte of the reply POST arrives. The POST goes through a
//! transparent stamping proxy ([`krill_benches::stamp_proxy`]) in front of
//! the fake's REST port, since the fake records posts without a time. The
//! stamp includes one wake-up of the proxy's thread (see the floor row);
//! the proxy also adds a hop to each response, which only matters under
//! load (a chat's next POST waits for the previous response).
//!
//! Also printed: krill's CPU time per message (`/proc/<pid>/stat`, 10 ms
//! ticks, so coarse for short phases), CPU while idle, thread counts, and
//! the REST requests of the load phase other than replies (Discord typing).
//!
//! Other knobs: `KRILL_E2E_PLATFORMS=discord,kook`, `KRILL_E2E_LOG=<filter>`
//! (krill's `KRILL_LOG`; unset = krill's default, `info`).
//!
//! Discord throughput is bounded by design: krill paces itself to Discord's
//! global limit of 50 requests/s (`DISCORD_GLOBAL_PER_SECOND`), and every
//! DM turn also triggers typing, so Discord's figure is the pacing, not the
//! pipeline. KOOK's planner paces only on server headers (the fake sends
//! none), so its figure is the raw pipeline.
//!
//! `KRILL_E2E_DUMP=<dir>` writes each sequential run's latencies (µs, one
//! per line). A floor row calibrates the machine: a bare thread-to-thread
//! TCP round trip with the same spacing.
//!
//! Run alone (`cargo test --all-targets` runs bench targets without
//! `--bench`; this one then only prints how to run it).

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{self, Receiver};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use krill_benches::proc_status::{read_cpu_time, read_status, reset_peak, ProcStatus};
use krill_benches::stamp_proxy::{BodyFraming, StampProxy, Stamped};
use krill_benches::stats::{ms, summarize, Summary};
use krill_testkit::discord::{message_create_dm, Author, DM_CHANNEL_ID};
use krill_testkit::kook::person_text;
use krill_testkit::{FakeDiscord, FakeDiscordOptions, FakeKook, FakeKookOptions};
use serde_json::Value;

/// How long one reply may take before the bench gives up.
const REPLY_TIMEOUT: Duration = Duration::from_secs(60);
/// Idle time after READY before the idle RSS is read.
const IDLE: Duration = Duration::from_secs(2);
/// Messages before the sequential run (pools, lazy statics, first files).
const WARMUP: usize = 20;
/// Chats (DM channels / users) the load is spread over.
const LOAD_CHATS: usize = 50;

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
    if settings.platforms.iter().any(|p| p == "discord") {
        reports.push(run(
            &bin,
            &DiscordSide::start(),
            &settings,
            settings.load_discord,
        ));
    }
    if settings.platforms.iter().any(|p| p == "kook") {
        reports.push(run(&bin, &KookSide::start(), &settings, settings.load_kook));
    }
    print_reports(&reports, &settings, floor);
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
            seq: num("KRILL_E2E_SEQ", 1000),
            gap: Duration::from_millis(num("KRILL_E2E_GAP_MS", 50) as u64),
            load_discord: num("KRILL_E2E_LOAD_DISCORD", 1000),
            load_kook: num("KRILL_E2E_LOAD_KOOK", 5000),
            window: num("KRILL_E2E_WINDOW", 200).max(1),
            platforms: std::env::var("KRILL_E2E_PLATFORMS")
                .unwrap_or_else(|_| "discord,kook".into())
                .split(',')
                .map(|p| p.trim().to_ascii_lowercase())
                .collect(),
            krill_log: std::env::var("KRILL_E2E_LOG").ok(),
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
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace.join("target"));
    let bin = target.join("release").join("krill");
    if std::env::var_os("KRILL_E2E_NO_BUILD").is_none() {
        let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
        println!("e2e: cargo build --release -p krill-drivers --bin krill");
        let status = Command::new(cargo)
            .args([
                "build",
                "--release",
                "-p",
                "krill-drivers",
                "--bin",
                "krill",
            ])
            .current_dir(&workspace)
            .status();
        match status {
            Ok(s) if s.success() => {}
            Ok(s) => {
                return Err(format!(
                    "`cargo build --release -p krill-drivers --bin krill` failed ({s})"
                ))
            }
            Err(e) => return Err(format!("cannot run cargo to build the release krill: {e}")),
        }
    }
    if bin.is_file() {
        Ok(bin)
    } else {
        Err(format!(
            "the release binary {} is missing. Build it first: \
             cargo build --release -p krill-drivers --bin krill",
            bin.display()
        ))
    }
}

// ---- the platforms ----

/// One platform's fake, the stamping proxy in front of its REST side and
/// what krill needs to talk to them.
trait Side {
    fn name(&self) -> &'static str;
    /// The config file text, with `api_base` (the proxy) as `apiBaseUrl`.
    fn config(&self, api_base: &str) -> String;
    /// The fake's REST address (the proxy's upstream).
    fn rest_addr(&self) -> SocketAddr;
    /// The path prefix of the API (`/api/v10`).
    fn api_prefix(&self) -> &'static str;
    fn wait_ready(&self) -> Result<(), String>;
    /// Sends inbound DM number `i` in chat `chat` with text `e2e<i>`.
    fn send(&self, i: usize, chat: usize);
    /// The message number a request answers, if it is a reply post.
    fn reply_index(&self, request: &Stamped) -> Option<usize>;
}

fn port_of(url: &str) -> u16 {
    url.trim_start_matches("http://127.0.0.1:")
        .split('/')
        .next()
        .and_then(|p| p.parse().ok())
        .unwrap_or(0)
}

fn text_index(body: &[u8]) -> Option<usize> {
    let v: Value = serde_json::from_slice(body).ok()?;
    v.get("content")?
        .as_str()?
        .strip_prefix("e2e")?
        .parse()
        .ok()
}

struct DiscordSide {
    fake: FakeDiscord,
    /// (channel id, author) per chat; chat 0 is the fixtures' DM channel.
    chats: Vec<(String, Author)>,
}

impl DiscordSide {
    fn start() -> Self {
        let chats = (0..LOAD_CHATS)
            .map(|c| match c {
                0 => (DM_CHANNEL_ID.to_owned(), Author::nelly()),
                c => (
                    format!("13022911266817310{c:02}"),
                    Author::user(&format!("9035111022467890{c:02}"), &format!("user{c}")),
                ),
            })
            .collect();
        Self {
            fake: FakeDiscord::start(FakeDiscordOptions::default()),
            chats,
        }
    }
}

impl Side for DiscordSide {
    fn name(&self) -> &'static str {
        "discord"
    }

    fn config(&self, api_base: &str) -> String {
        format!(
            r#"{{ channels: {{ discord: {{ token: "{}", apiBaseUrl: "{api_base}",
                 dm: {{ policy: "open", allowFrom: ["*"] }} }} }} }}"#,
            self.fake.options().token
        )
    }

    fn rest_addr(&self) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], port_of(&self.fake.api_base_url())))
    }

    fn api_prefix(&self) -> &'static str {
        "/api/v10"
    }

    fn wait_ready(&self) -> Result<(), String> {
        self.fake
            .wait_for_ready_client(REPLY_TIMEOUT)
            .map_err(|e| e.to_string())
    }

    fn send(&self, i: usize, chat: usize) {
        let (channel, author) = &self.chats[chat % self.chats.len()];
        self.fake.dispatch(
            "MESSAGE_CREATE",
            message_create_dm(channel, author, &format!("e2e{i}")),
        );
    }

    fn reply_index(&self, r: &Stamped) -> Option<usize> {
        let rest = r.path.strip_prefix("/api/v10/channels/")?;
        (r.method == "POST" && rest.ends_with("/messages"))
            .then(|| text_index(&r.body))
            .flatten()
    }
}

struct KookSide {
    fake: FakeKook,
    users: Vec<String>,
}

impl KookSide {
    fn start() -> Self {
        let users = (0..LOAD_CHATS)
            .map(|c| match c {
                0 => krill_testkit::kook::USER_ID.to_owned(),
                c => format!("24183000{c:02}"),
            })
            .collect();
        Self {
            fake: FakeKook::start(FakeKookOptions::default()),
            users,
        }
    }
}

impl Side for KookSide {
    fn name(&self) -> &'static str {
        "kook"
    }

    fn config(&self, api_base: &str) -> String {
        format!(
            r#"{{ channels: {{ kook: {{ token: "{}", apiBaseUrl: "{api_base}" }} }} }}"#,
            self.fake.options().token
        )
    }

    fn rest_addr(&self) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], port_of(&self.fake.api_base_url())))
    }

    fn api_prefix(&self) -> &'static str {
        "/api/v3"
    }

    fn wait_ready(&self) -> Result<(), String> {
        self.fake
            .wait_for_ready_client(REPLY_TIMEOUT)
            .map_err(|e| e.to_string())
    }

    fn send(&self, i: usize, chat: usize) {
        let user = &self.users[chat % self.users.len()];
        let bot = &self.fake.options().bot_user_id;
        self.fake.event(person_text(bot, user, &format!("e2e{i}")));
    }

    fn reply_index(&self, r: &Stamped) -> Option<usize> {
        let path = r.path.strip_prefix("/api/v3")?;
        (r.method == "POST" && (path == "/direct-message/create" || path == "/message/create"))
            .then(|| text_index(&r.body))
            .flatten()
    }
}

// ---- the krill process ----

/// The krill child: killed on drop; its output kept (last lines) for errors.
struct KrillProcess {
    child: Child,
    log: Arc<Mutex<Vec<String>>>,
    _state: tempfile::TempDir,
}

impl KrillProcess {
    fn start(bin: &Path, config: &str, krill_log: Option<&str>) -> Result<Self, String> {
        let state = tempfile::tempdir().map_err(|e| format!("temp dir: {e}"))?;
        let config_path = state.path().join("krill.json5");
        std::fs::write(&config_path, config).map_err(|e| format!("write config: {e}"))?;
        let mut command = Command::new(bin);
        command
            .arg("gateway")
            .arg("--config")
            .arg(&config_path)
            .env("KRILL_STATE_DIR", state.path())
            .env_remove("DISCORD_BOT_TOKEN")
            .env_remove("KOOK_BOT_TOKEN")
            .env_remove("KRILL_CONFIG")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        match krill_log {
            Some(filter) => command.env("KRILL_LOG", filter),
            None => command.env_remove("KRILL_LOG"),
        };
        let mut child = command
            .spawn()
            .map_err(|e| format!("spawn {}: {e}", bin.display()))?;
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

    fn cpu(&self) -> Duration {
        read_cpu_time(self.pid()).unwrap_or_default()
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

impl Drop for KrillProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

// ---- one run ----

struct Report {
    platform: &'static str,
    idle: ProcStatus,
    peak_reset: bool,
    loaded: ProcStatus,
    seq: Option<Summary>,
    seq_wall: Duration,
    /// krill's CPU time (all threads) during the sequential phase.
    seq_cpu: Duration,
    /// ... and during the load.
    load_cpu: Duration,
    /// ... and during the idle time after READY.
    idle_cpu: Duration,
    load_count: usize,
    load_wall: Duration,
    load: Option<Summary>,
}

/// Waits for the reply to message `want`; replies to others go to `early`.
fn wait_reply(
    side: &dyn Side,
    stamps: &Receiver<Stamped>,
    want: usize,
    early: &mut Vec<(usize, Instant)>,
    krill: &KrillProcess,
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
                krill,
                &format!("no reply to message {want} within {REPLY_TIMEOUT:?}"),
            ),
        }
    }
}

fn fail(krill: &KrillProcess, message: &str) -> ! {
    eprintln!(
        "e2e: {message}\n--- last krill log lines ---\n{}",
        krill.tail()
    );
    std::process::exit(1);
}

fn run(bin: &Path, side: &dyn Side, settings: &Settings, load_count: usize) -> Report {
    let name = side.name();
    let (tx, stamps) = mpsc::channel();
    let proxy = match StampProxy::start(side.rest_addr(), tx) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("e2e: cannot start the stamping proxy: {e}");
            std::process::exit(2);
        }
    };
    let api_base = format!("http://127.0.0.1:{}{}", proxy.port(), side.api_prefix());
    let krill =
        match KrillProcess::start(bin, &side.config(&api_base), settings.krill_log.as_deref()) {
            Ok(k) => k,
            Err(e) => {
                eprintln!("e2e: {e}");
                std::process::exit(2);
            }
        };
    if let Err(e) = side.wait_ready() {
        fail(&krill, &format!("{name}: krill never got ready: {e}"));
    }
    let idle_cpu_start = krill.cpu();
    std::thread::sleep(IDLE);
    let idle_cpu = krill.cpu().saturating_sub(idle_cpu_start);
    let idle = krill.status();
    let peak_reset = reset_peak(krill.pid()).is_ok();
    println!(
        "e2e {name}: ready; idle RSS {} KiB (peak so far {} KiB, {} threads)",
        idle.rss_kib, idle.hwm_kib, idle.threads
    );

    // Warm-up, then one message at a time.
    let mut early = Vec::new();
    let mut seq_latencies = Vec::with_capacity(settings.seq);
    let total = WARMUP + settings.seq;
    let seq_start = Instant::now();
    let mut measured_start = seq_start;
    let mut cpu_start = krill.cpu();
    for i in 0..total {
        if i == WARMUP {
            measured_start = Instant::now();
            cpu_start = krill.cpu();
        }
        let sent = Instant::now();
        side.send(i, 0);
        let at = wait_reply(side, &stamps, i, &mut early, &krill);
        if i >= WARMUP {
            seq_latencies.push(at.saturating_duration_since(sent));
        }
        let next = sent + settings.gap;
        let now = Instant::now();
        if next > now {
            std::thread::sleep(next - now);
        }
    }
    let seq_wall = measured_start.elapsed();
    let seq_cpu = krill.cpu().saturating_sub(cpu_start);
    let tenth = (seq_latencies.len() / 10).max(1);
    let head = summarize(&seq_latencies[..tenth.min(seq_latencies.len())]);
    let tail = summarize(&seq_latencies[seq_latencies.len().saturating_sub(tenth)..]);
    println!(
        "e2e {name}: sequential {} messages in {:.1} s; p50 of the first / last {tenth}: {} / {}",
        settings.seq,
        seq_wall.as_secs_f64(),
        head.map_or_else(String::new, |s| ms(s.p50)),
        tail.map_or_else(String::new, |s| ms(s.p50)),
    );
    if let Some(dir) = std::env::var_os("KRILL_E2E_DUMP") {
        let path = Path::new(&dir).join(format!("{name}-sequential-us.txt"));
        let text: String = seq_latencies
            .iter()
            .map(|d| format!("{}\n", d.as_micros()))
            .collect();
        if let Err(e) = std::fs::write(&path, text) {
            eprintln!("e2e: cannot write {}: {e}", path.display());
        }
    }

    // Load: a bounded window of unanswered messages across LOAD_CHATS chats.
    let base = total;
    let mut sent_at: Vec<Option<Instant>> = vec![None; load_count];
    let mut answered = vec![false; load_count];
    let mut load_latencies = Vec::with_capacity(load_count);
    let (mut sent, mut done, mut chunked) = (0usize, 0usize, 0usize);
    let mut other = std::collections::BTreeMap::new();
    let load_start = Instant::now();
    let load_cpu_start = krill.cpu();
    let mut last_reply = load_start;
    // Replies of the sequential phase that came in late are not counted.
    early.clear();
    while done < load_count {
        while sent < load_count && sent - done < settings.window {
            sent_at[sent] = Some(Instant::now());
            side.send(base + sent, sent % LOAD_CHATS);
            sent += 1;
        }
        let r = match stamps.recv_timeout(REPLY_TIMEOUT) {
            Ok(r) => r,
            Err(_) => fail(
                &krill,
                &format!("{name}: load stalled at {done}/{load_count} replies ({sent} sent)"),
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
        if r.framing == BodyFraming::Chunked {
            chunked += 1;
        }
        last_reply = r.at;
        if let Some(t) = sent_at[i] {
            load_latencies.push(r.at.saturating_duration_since(t));
        }
    }
    let load_wall = last_reply.saturating_duration_since(load_start);
    let load_cpu = krill.cpu().saturating_sub(load_cpu_start);
    let loaded = krill.status();
    println!(
        "e2e {name}: load {load_count} messages in {:.1} s; peak RSS {} KiB; \
         {chunked} of the reply POSTs came chunked; other requests: {other:?}",
        load_wall.as_secs_f64(),
        loaded.hwm_kib
    );
    drop(krill);
    drop(proxy);
    Report {
        platform: name,
        idle,
        peak_reset,
        loaded,
        seq: summarize(&seq_latencies),
        seq_wall,
        seq_cpu,
        load_cpu,
        idle_cpu,
        load_count,
        load_wall,
        load: summarize(&load_latencies),
    }
}

// ---- output ----

fn mib(kib: u64) -> String {
    format!("{:.1} MiB", kib as f64 / 1024.0)
}

fn print_reports(reports: &[Report], settings: &Settings, floor: Option<Summary>) {
    println!();
    println!("## Latency: inbound frame sent by the fake -> reply POST received (loopback)");
    println!();
    println!("| platform | phase | messages | p50 | p95 | p99 | max | msgs/s | krill CPU/msg |");
    println!("|---|---|---:|---:|---:|---:|---:|---:|---:|");
    if let Some(s) = floor {
        println!(
            "| (floor) | thread-to-thread TCP round trip, {} ms apart | {} | {} | {} | {} | {} | | |",
            settings.gap.as_millis(),
            s.count,
            ms(s.p50),
            ms(s.p95),
            ms(s.p99),
            ms(s.max)
        );
    }
    for r in reports {
        if let Some(s) = r.seq {
            println!(
                "| {} | sequential (1 in flight, {} ms apart) | {} | {} | {} | {} | {} | {:.1} | {} |",
                r.platform,
                settings.gap.as_millis(),
                s.count,
                ms(s.p50),
                ms(s.p95),
                ms(s.p99),
                ms(s.max),
                s.count as f64 / r.seq_wall.as_secs_f64(),
                ms(r.seq_cpu / s.count.max(1) as u32)
            );
        }
        if let Some(s) = r.load {
            println!(
                "| {} | load ({} chats, window {}) | {} | {} | {} | {} | {} | **{:.1}** | {} |",
                r.platform,
                LOAD_CHATS,
                settings.window,
                s.count,
                ms(s.p50),
                ms(s.p95),
                ms(s.p99),
                ms(s.max),
                r.load_count as f64 / r.load_wall.as_secs_f64(),
                ms(r.load_cpu / r.load_count.max(1) as u32)
            );
        }
    }
    println!();
    println!("## Memory of the krill process (/proc/<pid>/status)");
    println!();
    println!(
        "| platform | idle VmRSS (READY + 2 s) | VmHWM at idle (startup peak) | peak VmHWM under load{} | VmRSS after load | threads idle / loaded | CPU while idle |",
        if reports.iter().all(|r| r.peak_reset) { " (reset after idle)" } else { "" }
    );
    println!("|---|---:|---:|---:|---:|---:|---:|");
    for r in reports {
        println!(
            "| {} | {} | {} | {} | {} | {} / {} | {:.1} % |",
            r.platform,
            mib(r.idle.rss_kib),
            mib(r.idle.hwm_kib),
            mib(r.loaded.hwm_kib),
            mib(r.loaded.rss_kib),
            r.idle.threads,
            r.loaded.threads,
            100.0 * r.idle_cpu.as_secs_f64() / IDLE.as_secs_f64()
        );
    }
    println!();
    println!("Targets (issue \"krill gateway\"): idle RSS <= 10 MB; p99 inbound -> POST <= 2 ms.");
    println!(
        "Discord's load figure is krill's own pacing to Discord's global limit (50 requests/s, \
         typing + message per DM), not the pipeline; KOOK's is the pipeline."
    );
}
