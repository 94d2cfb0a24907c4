//! Frame decoding throughput: what the gateway loops do with every frame
//! before any logic runs.
//!
//! - Discord `GatewayFrame::parse` on a MESSAGE_CREATE (the guild fixture,
//!   compact, ~1 KiB);
//! - Discord `zlib-stream`: a fresh `ZlibStream` fed the three recorded
//!   frames of a real connection (Hello, READY, GUILD_CREATE), and fed 100
//!   MESSAGE_CREATE frames compressed on one context (steady state);
//! - KOOK `parse_text` on a GROUP KMarkdown event (fixture, compact);
//! - KOOK per-frame inflate (`inflate_frame`) and inflate + parse
//!   (`parse_binary`) of that event compressed as one zlib stream, and of
//!   the recorded HELLO frame.
//!
//! Counters are bytes of decoded (inflated) text, so MB/s compare directly.
//!
//! `cargo bench -p krill-benches --bench frames`

use divan::counter::BytesCount;
use divan::{black_box, Bencher};
use krill_benches::fixtures;
use krill_core::discord::{GatewayFrame, ZlibStream};
use krill_core::kook::{inflate_frame, parse_binary, parse_text, DEFAULT_MAX_INFLATED_BYTES};

fn main() {
    divan::main();
}

/// Exits with the fixture error: a bench cannot run without its input.
fn input<T>(r: Result<T, fixtures::FixtureError>) -> T {
    r.unwrap_or_else(|e| {
        eprintln!("frames bench: {e}");
        std::process::exit(2)
    })
}

mod discord {
    use super::*;

    /// `GatewayFrame::parse` of one MESSAGE_CREATE text frame.
    #[divan::bench]
    fn parse_message_create(bencher: Bencher) {
        let text = input(fixtures::discord_message_create());
        bencher
            .counter(BytesCount::of_str(&text))
            .bench(|| GatewayFrame::parse(black_box(&text)));
    }

    /// A fresh `ZlibStream` fed the 3 recorded frames of a real connection.
    #[divan::bench]
    fn zlib_stream_recorded_connection(bencher: Bencher) {
        let (frames, texts) = input(fixtures::discord_zlib_stream_frames());
        let bytes: usize = texts.iter().map(String::len).sum();
        bencher.counter(BytesCount::new(bytes)).bench(|| {
            let mut stream = ZlibStream::new();
            for frame in &frames {
                let _ = black_box(stream.push(black_box(frame)));
            }
        });
    }

    /// 100 MESSAGE_CREATE frames on one context (context setup amortised).
    #[divan::bench]
    fn zlib_stream_100_message_creates(bencher: Bencher) {
        let (frames, bytes) = input(fixtures::discord_message_create_stream(100));
        bencher.counter(BytesCount::new(bytes)).bench(|| {
            let mut stream = ZlibStream::new();
            for frame in &frames {
                let _ = black_box(stream.push(black_box(frame)));
            }
        });
    }

    /// Inflate then parse: 100 MESSAGE_CREATE frames through one stream.
    #[divan::bench]
    fn zlib_stream_and_parse_100_message_creates(bencher: Bencher) {
        let (frames, bytes) = input(fixtures::discord_message_create_stream(100));
        bencher.counter(BytesCount::new(bytes)).bench(|| {
            let mut stream = ZlibStream::new();
            for frame in &frames {
                if let Ok(Some(text)) = stream.push(black_box(frame)) {
                    let _ = black_box(GatewayFrame::parse(&text));
                }
            }
        });
    }
}

mod kook {
    use super::*;

    /// `parse_text` of one GROUP KMarkdown event frame.
    #[divan::bench]
    fn parse_event(bencher: Bencher) {
        let text = input(fixtures::kook_event());
        bencher
            .counter(BytesCount::of_str(&text))
            .bench(|| parse_text(black_box(&text)));
    }

    /// `inflate_frame` of that event as a `compress=1` frame.
    #[divan::bench]
    fn inflate_event(bencher: Bencher) {
        let text = input(fixtures::kook_event());
        let frame = fixtures::kook_zlib_frame(&text);
        bencher
            .counter(BytesCount::of_str(&text))
            .bench(|| inflate_frame(black_box(&frame), DEFAULT_MAX_INFLATED_BYTES));
    }

    /// `parse_binary` (inflate + parse) of that event.
    #[divan::bench]
    fn inflate_and_parse_event(bencher: Bencher) {
        let text = input(fixtures::kook_event());
        let frame = fixtures::kook_zlib_frame(&text);
        bencher
            .counter(BytesCount::of_str(&text))
            .bench(|| parse_binary(black_box(&frame), DEFAULT_MAX_INFLATED_BYTES));
    }

    /// `inflate_frame` of the recorded HELLO frame (tiny: per-frame setup).
    #[divan::bench]
    fn inflate_recorded_hello(bencher: Bencher) {
        let (frame, text) = input(fixtures::kook_hello_frame());
        bencher
            .counter(BytesCount::of_str(&text))
            .bench(|| inflate_frame(black_box(&frame), DEFAULT_MAX_INFLATED_BYTES));
    }
}

/// The baseline: `serde_json::Value` of the same Discord frame (what any
/// untyped parse costs).
#[divan::bench]
fn baseline_serde_value_message_create(bencher: Bencher) {
    let text = input(fixtures::discord_message_create());
    bencher
        .counter(BytesCount::of_str(&text))
        .bench(|| serde_json::from_str::<serde_json::Value>(black_box(&text)));
}
