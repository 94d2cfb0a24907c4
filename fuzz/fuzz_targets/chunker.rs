//! Fuzz target `chunker`: arbitrary bytes → lossy UTF-8 text, limits taken
//! from the first bytes (within what config accepts) → `chunk_spans`, then
//! the invariants:
//! - every chunk within `max_chars` (code points) and the soft line limit
//!   (`max_lines`, or max(`max_lines`, 3) plus its blank lines when the chunk
//!   holds a fence line);
//! - rendered = reopen + body + close; bodies in order, only whitespace
//!   between them (nothing lost); no empty chunk;
//! - fences balanced in every chunk (so no split turned text into a fence
//!   or code into a closing fence), unless a fence line or a run of fence
//!   characters of the input is too long for the limit (the documented
//!   degenerate case).
#![no_main]

use krill_core::reply::fence::{parse_opener, FenceMarker};
use krill_core::reply::{chunk_spans, ChunkLimits, ChunkMode};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if data.len() < 4 {
        return;
    }
    // The limits config accepts: textChunkLimit 20..=8000 (below 20 a chunk
    // cannot hold a code block's closing and reopening lines; refused).
    let max_chars = 20 + usize::from(u16::from_le_bytes([data[0], data[1]]) % 7981);
    let max_lines = match data[2] {
        0 => None,
        n => Some(usize::from(n % 40)),
    };
    let mode = if data[3] & 1 == 0 {
        ChunkMode::Length
    } else {
        ChunkMode::Newline
    };
    let limits = ChunkLimits::new(max_chars, max_lines, mode);
    let text = String::from_utf8_lossy(&data[4..]);
    let spans = chunk_spans(&text, &limits);
    assert_eq!(spans.is_empty(), text.trim().is_empty());

    let max_c = limits.max_chars();
    let max_l = limits.max_lines().unwrap_or(usize::MAX);
    // Degenerate: a fence line too long for the limit, or a run of fence
    // characters anywhere that a chunk cannot hold with one more char
    // around it (every cut near it would start or end a piece with a fence).
    let degenerate = text.split('\n').any(|l| {
        let t = l.trim_start_matches(' ');
        // The whole line: its trailing whitespace stays in a chunk that
        // goes on past it.
        let long_fence = (t.starts_with("```") || t.starts_with("~~~"))
            && l.trim_end_matches('\r').chars().count() * 2 + 4 > max_c;
        long_fence || longest_fence_run(l) * 2 + 4 > max_c
    });
    let mut prev_end = 0;
    for span in &spans {
        let rendered = span.render(&text);
        let body = &text[span.body.clone()];
        assert!(!body.trim().is_empty());
        assert!(span.body.start >= prev_end);
        assert!(text[prev_end..span.body.start].trim().is_empty(), "lost text");
        prev_end = span.body.end;
        assert!(rendered.chars().count() <= max_c, "over max_chars");

        let (fence_line, ends_open) = walk(&rendered);
        let lines = rendered.split('\n').count();
        let blanks = rendered.split('\n').filter(|l| l.trim().is_empty()).count();
        let allowed = if fence_line {
            max_l.max(3).saturating_add(blanks)
        } else {
            max_l
        };
        assert!(lines <= allowed, "over max_lines");
        if !degenerate {
            assert!(!ends_open, "unbalanced fence");
        }
    }
    assert!(text[prev_end..].trim().is_empty(), "lost the tail");
});

/// The degenerate size of `line`'s fence-looking runs: the longest run of 3
/// or more backticks or tildes, or the whitespace right before such a run
/// when longer (whitespace is dropped at a break, so a blank stretch wider
/// than a chunk leaves the run at the next chunk's start); 0 if none.
fn longest_fence_run(line: &str) -> usize {
    let chars: Vec<char> = line.chars().collect();
    let mut best = 0;
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c != '`' && c != '~' {
            i += 1;
            continue;
        }
        let run = chars[i..].iter().take_while(|x| **x == c).count();
        if run >= 3 {
            let blank = chars[..i].iter().rev().take_while(|x| x.is_whitespace()).count();
            best = best.max(run).max(blank);
        }
        i += run;
    }
    best
}

/// (holds a fence line, still inside a fence at the end)
fn walk(text: &str) -> (bool, bool) {
    let mut open: Option<FenceMarker> = None;
    let mut any = false;
    for line in text.split('\n') {
        let line = line.strip_suffix('\r').unwrap_or(line);
        match open {
            Some(m) if m.is_closed_by(line) => {
                open = None;
                any = true;
            }
            Some(_) => {}
            None => {
                if let Some(o) = parse_opener(line) {
                    open = Some(o.marker);
                    any = true;
                }
            }
        }
    }
    (any, open.is_some())
}
