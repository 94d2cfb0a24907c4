//! Fault soak: the RELEASE `krill gateway` with the echo agent between the
//! fake Discord and KOOK servers of `krill-testkit` (loopback only), a steady
//! stream of DMs on both platforms, and a random fault every 3-10 s on one of
//! them: Discord op 7, op 9 (`d:false`), zombie (no heartbeat ACKs), TCP
//! drop, 429, 5xx; KOOK RECONNECT (s=5), TCP drop, PONG loss, 429, 5xx.
//!
//! ```text
//! cargo build --release -p krill-drivers --bin krill && cargo bench -p krill-benches --bench fault_soak
//! ```
//!
//! Knobs: `KRILL_SOAK_SECS` (600: how long messages are sent and faults
//! injected), `KRILL_SOAK_RATE` (6 messages/s per platform),
//! `KRILL_SOAK_SEED` (fault schedule), `KRILL_SOAK_DRAIN_SECS` (60: how long
//! to wait for the last replies), `KRILL_SOAK_BIN` (another binary; default
//! `$CARGO_TARGET_DIR/release/krill` or `target/release/krill`).
//!
//! Printed per platform: messages sent; answered exactly once; duplicated
//! (answered more than once); lost (never answered); sent while krill had no
//! live connection ("krill waited") and, of those, never answered; reply
//! latency p50/p99/max (send → reply seen by the fake, polled every 10 ms);
//! faults injected by kind. Bounded: everything stops after
//! `KRILL_SOAK_SECS + KRILL_SOAK_DRAIN_SECS`. Not a test: `cargo test`
//! runs this target without `--bench` and it only prints how to run it.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use krill_benches::soak::{
    bench_requested, lock, wait_for, Columns, Knobs, KrillProcess, SoakRng as Rng,
};
use krill_benches::soak_fakes::{Fakes, Platform, Stream};
use krill_benches::stats::{ms, summarize};
use krill_testkit::http::ScriptedResponse;
use krill_testkit::{FakeDiscord, FakeDiscordOptions, FakeKook};
use serde_json::json;

/// How often the reply poller looks at the fakes' posts.
const POLL: Duration = Duration::from_millis(10);
/// Discord's heartbeat interval on the fake (a zombie is found within two).
const HEARTBEAT_MS: u64 = 3000;
/// The summary's columns.
const COLUMNS: Columns = Columns(&[
    ("platform", 8),
    ("sent", 6),
    ("answered once", 13),
    ("duplicated", 10),
    ("lost", 6),
    ("sent waiting", 13),
    ("never delivered (wait)", 22),
    ("p50", 9),
    ("p99", 9),
    ("max", 9),
]);

fn main() {
    if !bench_requested("fault_soak") {
        return;
    }
    // Defaults: 600 s, 6 messages/s per platform, seed 16.
    let knobs = Knobs::from_env("fault_soak", "KRILL_SOAK", 600, 6, 16);
    println!("fault_soak: {knobs}, seed {}", knobs.seed);

    let fakes = Fakes::start(
        knobs.lifetime(),
        FakeDiscordOptions {
            heartbeat_interval_ms: HEARTBEAT_MS,
            ..FakeDiscordOptions::default()
        },
    );
    let (discord, kook) = (&fakes.discord, &fakes.kook);
    let (state, config) = fakes.state_dir("krill-fault-soak");
    let mut krill = KrillProcess::start(&knobs.bin, &config, &state);
    fakes.wait_ready("fault_soak", &krill);

    let ledger = Arc::new(Mutex::new(Ledger::default()));
    let polling = Arc::new(AtomicBool::new(true));
    let poller = {
        let (fakes, ledger, polling) = (fakes.clone(), ledger.clone(), polling.clone());
        std::thread::spawn(move || poll_replies(&fakes, &ledger, &polling))
    };
    let stream = {
        let (ledger, watched) = (ledger.clone(), fakes.clone());
        Stream::start(&fakes, knobs.rate, move |platform, n| {
            let tag = platform.tag("soak", n);
            let waiting = watched.disconnected(platform);
            let sent = Sent {
                platform,
                at: Instant::now(),
                waiting,
                replies: 0,
                first_reply: None,
            };
            lock(&ledger).sent.insert(tag.clone(), sent);
            tag
        })
    };

    // Faults until the time is up.
    let end = Instant::now() + Duration::from_secs(knobs.secs);
    let mut rng = Rng::new(knobs.seed);
    let mut faults: BTreeMap<String, usize> = BTreeMap::new();
    while rng.sleep_before(3000, 10_000, end) {
        let name = inject(&mut rng, discord, kook, end);
        *faults.entry(name).or_default() += 1;
    }
    stream.stop();
    // Heal anything still faulty, then wait for the last replies.
    discord.set_heartbeat_ack(true);
    kook.set_pong(true);
    wait_for(
        Instant::now() + knobs.drain,
        Duration::from_millis(100),
        || lock(&ledger).all_answered(),
    );
    std::thread::sleep(Duration::from_millis(500)); // late duplicates
    polling.store(false, Ordering::SeqCst);
    let _ = poller.join();
    let alive = krill.alive();
    drop(krill);

    let ledger = lock(&ledger);
    println!(
        "\nfault_soak: {} s, {} faults: {}",
        knobs.secs,
        faults.values().sum::<usize>(),
        faults
            .iter()
            .map(|(k, v)| format!("{k} {v}"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    println!("{}", COLUMNS.header());
    for platform in Platform::BOTH {
        let r = ledger.report(platform);
        let lat = summarize(&r.latencies);
        let show = |f: fn(&krill_benches::stats::Summary) -> Duration| {
            lat.as_ref().map_or("-".to_owned(), |s| ms(f(s)))
        };
        println!(
            "{}",
            COLUMNS.row(&[
                &platform.name(),
                &r.sent,
                &r.once,
                &r.duplicated,
                &r.lost,
                &r.sent_waiting,
                &r.waiting_lost,
                &show(|s| s.p50),
                &show(|s| s.p99),
                &show(|s| s.max),
            ])
        );
    }
    println!("krill still running at the end: {alive}");
    let _ = std::fs::remove_dir_all(&state);
}

// ---- faults ----

/// Injects one random fault on one platform; returns its name. A zombie or a
/// PONG loss is healed by a thread of its own once krill has reconnected,
/// so the schedule goes on meanwhile.
fn inject(rng: &mut Rng, discord: &Arc<FakeDiscord>, kook: &Arc<FakeKook>, end: Instant) -> String {
    let name = match rng.below(11) {
        0 => {
            discord.send_op7_reconnect();
            "discord op7"
        }
        1 => {
            discord.send_op9(false);
            "discord op9"
        }
        2 => {
            // Zombie: no ACKs until krill has given the connection up.
            let before = discord.connection_count();
            discord.set_heartbeat_ack(false);
            let discord = discord.clone();
            std::thread::spawn(move || {
                wait_until(
                    end,
                    Duration::from_secs(3 * HEARTBEAT_MS / 1000 + 5),
                    || discord.connection_count() > before,
                );
                discord.set_heartbeat_ack(true);
            });
            "discord zombie"
        }
        3 => {
            discord.drop_tcp();
            "discord tcp-drop"
        }
        4 => {
            discord.push_http_response(
                "POST /channels/*/messages",
                ScriptedResponse::json(
                    429,
                    &[("Retry-After", "1"), ("X-RateLimit-Scope", "user")],
                    &json!({"message": "You are being rate limited.", "retry_after": 1.0, "global": false}),
                ),
            );
            "discord 429"
        }
        5 => {
            discord.push_http_response(
                "POST /channels/*/messages",
                ScriptedResponse::json(502, &[], &json!({"message": "bad gateway"})),
            );
            "discord 5xx"
        }
        6 => {
            kook.send_reconnect(40107);
            "kook s=5"
        }
        7 => {
            kook.drop_tcp();
            "kook tcp-drop"
        }
        8 => {
            // PONG loss until krill has resumed on a new connection.
            let before = kook.connection_count();
            kook.set_pong(false);
            let kook = kook.clone();
            std::thread::spawn(move || {
                wait_until(end, Duration::from_secs(90), || {
                    kook.connection_count() > before
                });
                kook.set_pong(true);
            });
            "kook pong-loss"
        }
        9 => {
            kook.push_http_response(
                "POST /direct-message/create",
                ScriptedResponse::json(
                    429,
                    &[
                        ("X-Rate-Limit-Limit", "120"),
                        ("X-Rate-Limit-Remaining", "0"),
                        ("X-Rate-Limit-Reset", "1"),
                        ("X-Rate-Limit-Bucket", "direct-message/create"),
                    ],
                    &json!({"code": 429, "message": "too many requests", "data": []}),
                ),
            );
            "kook 429"
        }
        _ => {
            kook.push_http_response(
                "POST /direct-message/create",
                ScriptedResponse::json(500, &[], &json!({"code": 500, "message": "error"})),
            );
            "kook 5xx"
        }
    };
    name.to_owned()
}

/// Polls `done` every 50 ms for at most `limit` (and not past `end`).
fn wait_until(end: Instant, limit: Duration, done: impl Fn() -> bool) {
    let until = (Instant::now() + limit).min(end + Duration::from_secs(30));
    wait_for(until, Duration::from_millis(50), done);
}

// ---- the ledger of sent messages and their replies ----

struct Sent {
    platform: Platform,
    at: Instant,
    /// No live connection to krill when it was sent.
    waiting: bool,
    replies: usize,
    first_reply: Option<Instant>,
}

#[derive(Default)]
struct Ledger {
    sent: HashMap<String, Sent>,
}

struct PlatformReport {
    sent: usize,
    once: usize,
    duplicated: usize,
    lost: usize,
    sent_waiting: usize,
    waiting_lost: usize,
    latencies: Vec<Duration>,
}

impl Ledger {
    fn all_answered(&self) -> bool {
        self.sent.values().all(|s| s.replies > 0)
    }

    fn report(&self, platform: Platform) -> PlatformReport {
        let mine: Vec<&Sent> = self
            .sent
            .values()
            .filter(|s| s.platform == platform)
            .collect();
        PlatformReport {
            sent: mine.len(),
            once: mine.iter().filter(|s| s.replies == 1).count(),
            duplicated: mine.iter().filter(|s| s.replies > 1).count(),
            lost: mine.iter().filter(|s| s.replies == 0).count(),
            sent_waiting: mine.iter().filter(|s| s.waiting).count(),
            waiting_lost: mine.iter().filter(|s| s.waiting && s.replies == 0).count(),
            latencies: mine
                .iter()
                .filter_map(|s| s.first_reply.map(|r| r.saturating_duration_since(s.at)))
                .collect(),
        }
    }
}

/// Records every reply the fakes got, by the tag it echoes.
fn poll_replies(fakes: &Fakes, ledger: &Mutex<Ledger>, on: &AtomicBool) {
    let mut seen = [0; 2];
    while on.load(Ordering::SeqCst) {
        let mut posts = Vec::new();
        for (platform, seen) in Platform::BOTH.into_iter().zip(&mut seen) {
            let before = posts.len();
            posts.extend(fakes.posts(platform).into_iter().skip(*seen));
            *seen += posts.len() - before;
        }
        let now = Instant::now();
        let mut ledger = lock(ledger);
        for content in &posts {
            if let Some(sent) = ledger.sent.get_mut(content.trim()) {
                sent.replies += 1;
                sent.first_reply.get_or_insert(now);
            }
        }
        drop(ledger);
        std::thread::sleep(POLL);
    }
}
