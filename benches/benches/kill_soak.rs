//! Kill soak: the RELEASE `krill gateway` with the echo agent between the
//! fake Discord and KOOK servers of `krill-testkit` (loopback only), a
//! steady stream of DMs on both platforms, and a SIGKILL of krill at a
//! random moment every 2-8 s (turns and reply chunks in flight); krill is
//! started again on the same state dir within a second, while the stream
//! goes on.
//!
//! ```text
//! cargo build --release -p krill-drivers --bin krill && cargo bench -p krill-benches --bench kill_soak
//! ```
//!
//! Knobs: `KRILL_KILL_SOAK_SECS` (300: how long messages are sent and krill
//! killed), `KRILL_KILL_SOAK_RATE` (4 messages/s per platform),
//! `KRILL_KILL_SOAK_SEED` (the kill schedule), `KRILL_KILL_SOAK_DRAIN_SECS`
//! (60: how long to wait for the last replies), `KRILL_KILL_SOAK_BIN`
//! (another binary; default `$CARGO_TARGET_DIR/release/krill` or
//! `target/release/krill`).
//!
//! Every fourth message is long (Discord: 40 lines, a reply of 3 chunks;
//! KOOK: 250 lines, 2 chunks), every line tagged with the message, so a
//! reply is checked line by line. Printed per platform: messages sent;
//! answered exactly once (every line once); duplicated (a line shown more
//! than once); on KOOK, of those, the duplicates in the case README
//! documents as undetectable (the first copy had been pushed out of the 50
//! newest bot messages the list check reads); cut (some lines never shown);
//! lost (nothing shown). Then the restarts: how many, and how often each
//! platform's session was resumed or identified afresh; Discord re-sends
//! answered by `enforce_nonce` with the original message; KOOK list checks.
//! Exits 1 when a message was lost or cut, or duplicated outside the
//! undetectable case. Bounded: everything stops after `KRILL_KILL_SOAK_SECS
//! + KRILL_KILL_SOAK_DRAIN_SECS`. Not a test: `cargo test` runs this target
//! without `--bench` and it only prints how to run it.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use krill_benches::soak::{bench_requested, lock, wait_for, Columns, Knobs, KrillProcess, SoakRng};
use krill_benches::soak_fakes::{Fakes, Platform, Stream};
use krill_testkit::FakeDiscordOptions;

/// How many of its newest messages krill's KOOK list check reads.
const KOOK_LIST_WINDOW: usize = 50;
/// Lines of a long message (Discord: 17 lines a chunk → 3 chunks; KOOK:
/// 4000 characters a chunk → 2 chunks).
const LONG_LINES_DISCORD: usize = 40;
const LONG_LINES_KOOK: usize = 250;
/// The summary's columns.
const COLUMNS: Columns = Columns(&[
    ("platform", 8),
    ("sent", 6),
    ("answered once", 13),
    ("duplicated", 10),
    ("of which undetectable", 26),
    ("cut", 5),
    ("lost", 6),
]);

fn main() {
    if !bench_requested("kill_soak") {
        return;
    }
    // Defaults: 300 s, 4 messages/s per platform, seed 14.
    let knobs = Knobs::from_env("kill_soak", "KRILL_KILL_SOAK", 300, 4, 14);
    println!(
        "kill_soak: {knobs}, a SIGKILL every 2-8 s, seed {}",
        knobs.seed
    );

    let fakes = Fakes::start(knobs.lifetime(), FakeDiscordOptions::default());
    let (discord, kook) = (&fakes.discord, &fakes.kook);
    let (state, config) = fakes.state_dir("krill-kill-soak");
    let start_krill = || KrillProcess::start(&knobs.bin, &config, &state);
    let mut krill = start_krill();
    fakes.wait_ready("kill_soak", &krill);

    let sent = Arc::new(Mutex::new(Sent::default()));
    let stream = {
        let sent = sent.clone();
        Stream::start(&fakes, knobs.rate, move |platform, n| {
            let lines = lines(platform, n);
            let text = lines.join("\n");
            lock(&sent).push(platform, lines);
            text
        })
    };

    // Kills until the time is up.
    let end = Instant::now() + Duration::from_secs(knobs.secs);
    let mut rng = SoakRng::new(knobs.seed);
    let mut kills = 0usize;
    let mut down = Duration::ZERO;
    while rng.sleep_before(2000, 8000, end) {
        if !krill.alive() {
            eprintln!("kill_soak: krill exited on its own\n{}", krill.tail());
            std::process::exit(1);
        }
        krill.kill();
        kills += 1;
        let pause = Duration::from_millis(rng.below(1000));
        std::thread::sleep(pause);
        down += pause;
        krill = start_krill();
    }
    stream.stop();

    // Wait for the last replies, then a little more for late duplicates.
    let sent = lock(&sent);
    wait_for(
        Instant::now() + knobs.drain,
        Duration::from_millis(500),
        || all_answered(&sent, &fakes),
    );
    std::thread::sleep(Duration::from_secs(1));
    let alive = krill.alive();
    let db_bytes = std::fs::metadata(state.join("krill.db")).map_or(0, |m| m.len());
    let tail = krill.tail();
    drop(krill);

    let reports = Platform::BOTH.map(|p| (p, tally(p, sent.of(p), &fakes.posts(p))));
    println!(
        "\nkill_soak: {} s, {kills} SIGKILLs (krill down {:.1} s in all between kill and restart)",
        knobs.secs,
        down.as_secs_f64()
    );
    println!("{}", COLUMNS.header());
    let mut bad = false;
    for (platform, r) in &reports {
        let undetectable = if *platform == Platform::Kook {
            r.undetectable.to_string()
        } else {
            "-".to_owned()
        };
        println!(
            "{}",
            COLUMNS.row(&[
                &platform.name(),
                &r.sent,
                &r.once,
                &r.duplicated,
                &undetectable,
                &r.cut,
                &r.lost,
            ])
        );
        bad |= r.lost > 0 || r.cut > 0 || r.duplicated > r.undetectable;
        for tag in &r.examples {
            println!("  {}: not answered exactly once: {tag}", platform.name());
        }
    }
    let kook_fresh = kook.connections().iter().filter(|c| !c.is_resume()).count();
    println!(
        "discord sessions: {} resumed, {} identified afresh after the first start ({} resume attempts); \
         {} re-sends answered with the original message (enforce_nonce)",
        discord.resumed_count(),
        discord.identify_count().saturating_sub(1),
        discord.resume_count(),
        discord.duplicate_post_attempts().len(),
    );
    println!(
        "kook sessions: {} resumed, {} fresh after the first start ({} connections); {} list checks",
        kook.resume_count(),
        kook_fresh.saturating_sub(1),
        kook.connection_count(),
        kook.requests()
            .iter()
            .filter(|r| r.path.ends_with("/direct-message/list"))
            .count(),
    );
    println!("krill.db at the end: {db_bytes} bytes; krill still running: {alive}");
    let _ = std::fs::remove_dir_all(&state);
    if bad || !alive {
        eprintln!("kill_soak: FAILED; krill's last log lines:\n{tail}");
        std::process::exit(1);
    }
}

// ---- the messages ----

/// Message `n`'s lines on `platform`: its tag alone, or (every fourth) many
/// lines each naming the tag.
fn lines(platform: Platform, n: u64) -> Vec<String> {
    let tag = platform.tag("kill", n);
    if n % 4 != 3 {
        return vec![tag];
    }
    let count = match platform {
        Platform::Discord => LONG_LINES_DISCORD,
        Platform::Kook => LONG_LINES_KOOK,
    };
    (0..count).map(|i| format!("{tag} line {i:03}")).collect()
}

/// Every message sent, as its lines, per platform.
#[derive(Default)]
struct Sent {
    discord: Vec<Vec<String>>,
    kook: Vec<Vec<String>>,
}

impl Sent {
    fn push(&mut self, platform: Platform, lines: Vec<String>) {
        match platform {
            Platform::Discord => self.discord.push(lines),
            Platform::Kook => self.kook.push(lines),
        }
    }

    fn of(&self, platform: Platform) -> &[Vec<String>] {
        match platform {
            Platform::Discord => &self.discord,
            Platform::Kook => &self.kook,
        }
    }
}

// ---- the tally ----

fn all_answered(sent: &Sent, fakes: &Fakes) -> bool {
    Platform::BOTH.iter().all(|&p| {
        let r = tally(p, sent.of(p), &fakes.posts(p));
        r.lost + r.cut == 0
    })
}

#[derive(Debug, Default)]
struct Report {
    sent: usize,
    once: usize,
    duplicated: usize,
    undetectable: usize,
    cut: usize,
    lost: usize,
    /// A few messages that were not answered exactly once.
    examples: Vec<String>,
}

/// Classifies every message sent on `platform` by how often each of its
/// lines shows in `posts` (all to the one DM chat, in posting order). On
/// KOOK, a duplicate whose copies are all more than [`KOOK_LIST_WINDOW`]
/// posts apart is the documented undetectable case.
fn tally(platform: Platform, sent: &[Vec<String>], posts: &[String]) -> Report {
    let mut seen: HashMap<&str, Vec<usize>> = HashMap::new();
    for (i, post) in posts.iter().enumerate() {
        for line in post.lines() {
            seen.entry(line.trim()).or_default().push(i);
        }
    }
    let mut r = Report {
        sent: sent.len(),
        ..Report::default()
    };
    for lines in sent {
        let at: Vec<&[usize]> = lines
            .iter()
            .map(|l| seen.get(l.as_str()).map_or(&[][..], Vec::as_slice))
            .collect();
        let missing = at.iter().filter(|p| p.is_empty()).count();
        let doubled: Vec<&&[usize]> = at.iter().filter(|p| p.len() > 1).collect();
        let ok = if missing == lines.len() {
            r.lost += 1;
            false
        } else if missing > 0 {
            r.cut += 1;
            false
        } else if doubled.is_empty() {
            r.once += 1;
            true
        } else {
            r.duplicated += 1;
            let far_apart = doubled
                .iter()
                .all(|p| p.windows(2).all(|w| w[1] - w[0] > KOOK_LIST_WINDOW));
            if platform == Platform::Kook && far_apart {
                r.undetectable += 1;
                true
            } else {
                false
            }
        };
        if !ok && r.examples.len() < 10 {
            r.examples.push(lines[0].clone());
        }
    }
    r
}
