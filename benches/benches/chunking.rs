//! Chunking throughput, each beside a plain line count of the same input
//! (`bytes.split(|b| *b == b'\n').count()`), measured in the same run.
//!
//! `cargo bench -p krill-benches --bench chunking`; compare the MB/s columns
//! of `chunk_*` with `line_count_*` (target: chunking within 4× of the line
//! count).

use divan::counter::BytesCount;
use divan::{black_box, Bencher};
use krill_benches::{line_count, many_replies, mixed_markdown_reply};
use krill_core::reply::{chunk_spans, chunk_text, ChunkLimits, ChunkMode};

fn main() {
    divan::main();
}

fn big() -> String {
    mixed_markdown_reply(1 << 20, 7)
}

fn small() -> Vec<String> {
    many_replies(340, 3 * 1024, 11)
}

fn discord() -> ChunkLimits {
    ChunkLimits::discord(None, None, ChunkMode::Length)
}

/// 1 MiB reply, Discord limits (2000 chars, 17 lines): message texts.
#[divan::bench]
fn chunk_text_1mib(bencher: Bencher) {
    let text = big();
    let limits = discord();
    bencher
        .counter(BytesCount::of_str(&text))
        .bench(|| chunk_text(black_box(&text), &limits));
}

/// 1 MiB reply, Discord limits: spans only (no copies).
#[divan::bench]
fn chunk_spans_1mib(bencher: Bencher) {
    let text = big();
    let limits = discord();
    bencher
        .counter(BytesCount::of_str(&text))
        .bench(|| chunk_spans(black_box(&text), &limits));
}

/// 1 MiB reply, KOOK limits (4000 chars, no line limit), newline mode.
#[divan::bench]
fn chunk_text_1mib_kook_newline(bencher: Bencher) {
    let text = big();
    let limits = ChunkLimits::kook(None, None, ChunkMode::Newline);
    bencher
        .counter(BytesCount::of_str(&text))
        .bench(|| chunk_text(black_box(&text), &limits));
}

/// Baseline for the 1 MiB reply.
#[divan::bench]
fn line_count_1mib(bencher: Bencher) {
    let text = big();
    bencher
        .counter(BytesCount::of_str(&text))
        .bench(|| line_count(black_box(&text)));
}

/// 340 different 3 KB replies, Discord limits.
#[divan::bench]
fn chunk_text_3kb_replies(bencher: Bencher) {
    let replies = small();
    let limits = discord();
    let total: usize = replies.iter().map(String::len).sum();
    bencher.counter(BytesCount::new(total)).bench(|| {
        replies
            .iter()
            .map(|r| chunk_text(black_box(r), &limits).len())
            .sum::<usize>()
    });
}

/// Baseline for the 3 KB replies.
#[divan::bench]
fn line_count_3kb_replies(bencher: Bencher) {
    let replies = small();
    let total: usize = replies.iter().map(String::len).sum();
    bencher.counter(BytesCount::new(total)).bench(|| {
        replies
            .iter()
            .map(|r| line_count(black_box(r)))
            .sum::<usize>()
    });
}
