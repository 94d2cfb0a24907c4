//! Inputs shared by krill's benchmarks (`benches/benches/*.rs`): realistic
//! generated replies and frames, and the target dir the release binaries
//! are found in. Run with `cargo bench -p krill-benches`.
//!
//! Generators are deterministic (a seed in, the same text out) so runs are
//! comparable.
//!
//! | module | owns |
//! |---|---|
//! | [`stamp_proxy`] | a timestamping HTTP proxy in front of the fakes' REST side (e2e latency) |
//! | [`proc_status`] | `VmRSS`/`VmHWM`/`Threads`, CPU time and context switches of a process from `/proc` |
//! | [`discordpy`] | the discord.py echo bot the e2e bench compares krill with (its venv, its script) |
//! | [`soak`] | the release krill as a child process, schedules, waits and knobs for the soak benches |
//! | [`soak_fakes`] | the soak benches' two fakes, krill's config for them, the DM stream on both, the replies |
//! | [`stats`] | nearest-rank latency percentiles |
//! | [`fixtures`] | the shared fixture frames, compacted and compressed (frame decoding benches) |

pub mod discordpy;
pub mod fixtures;
pub mod proc_status;
pub mod soak;
pub mod soak_fakes;
pub mod stamp_proxy;
pub mod stats;

use std::path::{Path, PathBuf};

/// `$CARGO_TARGET_DIR`, else the workspace's `target`: where the benches
/// find the release binaries they run.
pub fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("..")
                .join("target")
        })
}

/// A tiny xorshift generator: deterministic, no dependency.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Self {
        Self(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len())]
    }
}

const WORDS: &[&str] = &[
    "the",
    "gateway",
    "reconnects",
    "after",
    "a",
    "missed",
    "heartbeat",
    "and",
    "resumes",
    "session",
    "with",
    "its",
    "last",
    "sequence",
    "number",
    "so",
    "no",
    "events",
    "are",
    "lost",
    "chunker",
    "splits",
    "replies",
    "into",
    "messages",
    "within",
    "limits",
    "configuration",
    "retry",
    "backoff",
    "jitter",
    "Discord",
    "KOOK",
    "agent",
    "channel",
];

const CODE: &[&str] = &[
    "let mut shard = Shard::new(config, seed);",
    "while let Some(out) = shard.poll_output() {",
    "    match out { Output::Send(frame) => ws.send(frame)?, _ => {} }",
    "}",
    "fn backoff(attempt: u32) -> Duration { Duration::from_millis(500 << attempt.min(6)) }",
    "    // heartbeat every interval, jittered on the first beat",
    "assert_eq!(chunks.len(), 3);",
];

const CJK: &str = "网关在心跳超时后会重新连接并恢复会话，不会丢失任何事件。分块器把长回复拆成多条消息！这样可以吗？";

/// One paragraph of prose, `words` words, with the odd link, inline code
/// span or emoji.
fn prose(rng: &mut Rng, words: usize, out: &mut String) {
    for i in 0..words {
        if i > 0 {
            out.push(' ');
        }
        match rng.below(40) {
            0 => out.push_str("[the docs](https://example.com/docs/gateway#resume)"),
            1 => out.push_str("`shard.poll_timeout()`"),
            2 => out.push_str("👍🏽"),
            3 => out.push_str("👨\u{200d}👩\u{200d}👧"),
            _ => out.push_str(rng.pick(WORDS)),
        }
    }
    out.push('.');
}

/// Appends one Markdown block (paragraph, list, code block, CJK text,
/// heading) to `out`.
fn block(rng: &mut Rng, out: &mut String) {
    match rng.below(10) {
        0..=3 => {
            let n = 20 + rng.below(80);
            prose(rng, n, out);
        }
        4 | 5 => {
            let n = 3 + rng.below(12);
            for i in 0..n {
                out.push_str(&format!("- item {i}: "));
                let w = 3 + rng.below(10);
                prose(rng, w, out);
                out.push('\n');
            }
        }
        6 | 7 => {
            let fence = if rng.below(4) == 0 { "~~~" } else { "```" };
            let info = rng.pick(&["rust", "", "python", "json"]);
            out.push_str(&format!("{fence}{info}\n"));
            let n = 4 + rng.below(30);
            for _ in 0..n {
                out.push_str(rng.pick(CODE));
                out.push('\n');
            }
            out.push_str(fence);
        }
        8 => {
            let n = 1 + rng.below(4);
            for _ in 0..n {
                out.push_str(CJK);
            }
        }
        _ => {
            out.push_str("## ");
            let w = 2 + rng.below(5);
            prose(rng, w, out);
        }
    }
    out.push_str("\n\n");
}

/// A mixed Markdown reply (prose, lists, fenced code, CJK, emoji, links) of
/// at least `bytes` bytes.
pub fn mixed_markdown_reply(bytes: usize, seed: u64) -> String {
    let mut rng = Rng::new(seed);
    let mut out = String::with_capacity(bytes + 4096);
    while out.len() < bytes {
        block(&mut rng, &mut out);
    }
    out
}

/// `count` different mixed Markdown replies of about `bytes` bytes each.
pub fn many_replies(count: usize, bytes: usize, seed: u64) -> Vec<String> {
    (0..count)
        .map(|i| mixed_markdown_reply(bytes, seed.wrapping_add(i as u64)))
        .collect()
}

/// The baseline every chunking figure is compared with: a plain line count.
pub fn line_count(text: &str) -> usize {
    text.as_bytes().split(|b| *b == b'\n').count()
}
