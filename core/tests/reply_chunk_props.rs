//! Property tests for the chunker against an independent model.
//!
//! For arbitrary Markdown-ish Unicode text (mixed scripts, emoji with ZWJ,
//! flags and skin tones, combining marks, ``` and ~~~ fences with info
//! strings, long words, CRLF, blank lines, links, inline code) and arbitrary
//! limits (20..=2000 chars, 1..=30 lines or none, both modes):
//! - every chunk fits: chars (code points) ≤ `max_chars`; lines ≤
//!   `max_lines`, or ≤ max(`max_lines`, 3) for a chunk holding a fence line
//!   (plus blank lines directly after an opening or before a closing
//!   fence, which cannot move);
//! - each chunk is `reopen + "\n" + input[body] + "\n" + close` and the bodies
//!   tile the input in order with only whitespace between them (lossless);
//! - no chunk is empty or whitespace-only; whitespace-only input → none;
//! - fences are balanced in every chunk (checked by a separate CommonMark
//!   fence tracker), and no chunk is only an open + close fence, unless a
//!   fence line of the input is too long for the limit (degenerate case);
//! - body edges are grapheme boundaries, unless the cluster alone is larger
//!   than the chunk's budget (max_chars minus its fence lines);
//! - deterministic; in `length` mode a reply that fits is one chunk; in
//!   `newline` mode no chunk holds a blank line outside code.

use krill_core::reply::{chunk_spans, ChunkLimits, ChunkMode, ChunkSpan};
use proptest::prelude::*;
use unicode_segmentation::UnicodeSegmentation;

// ---------------------------------------------------------------- model

/// An opening fence per CommonMark (written independently of the crate).
fn opener(line: &str) -> Option<(char, usize)> {
    let line = line.strip_suffix('\r').unwrap_or(line);
    let indent = line.len() - line.trim_start_matches(' ').len();
    if indent > 3 {
        return None;
    }
    let rest = &line[indent..];
    let ch = rest.chars().next()?;
    if ch != '`' && ch != '~' {
        return None;
    }
    let n = rest.chars().take_while(|c| *c == ch).count();
    if n < 3 || (ch == '`' && rest[n..].contains('`')) {
        return None;
    }
    Some((ch, n))
}

fn closes(line: &str, (ch, n): (char, usize)) -> bool {
    let line = line.strip_suffix('\r').unwrap_or(line);
    let indent = line.len() - line.trim_start_matches(' ').len();
    if indent > 3 {
        return false;
    }
    let rest = &line[indent..];
    let run = rest.chars().take_while(|c| *c == ch).count();
    run >= n && rest[run * ch.len_utf8()..].trim().is_empty()
}

/// Walks the fences of `text`: (holds a fence line, blank lines directly
/// after an opening fence or directly before a closing fence, still inside
/// a fence at the end).
fn fence_walk(text: &str) -> (bool, usize, bool) {
    let mut open = None;
    let mut any_fence_line = false;
    let mut blanks_after_opener = 0;
    let mut after_opener = false;
    let mut blank_run = 0;
    for line in text.split('\n') {
        match open {
            Some(f) => {
                if closes(line, f) {
                    open = None;
                    any_fence_line = true;
                    after_opener = false;
                    blanks_after_opener += blank_run;
                    blank_run = 0;
                } else if after_opener && line.trim().is_empty() {
                    blanks_after_opener += 1;
                } else if line.trim().is_empty() {
                    blank_run += 1;
                } else {
                    after_opener = false;
                    blank_run = 0;
                }
            }
            None => {
                if let Some(f) = opener(line) {
                    open = Some(f);
                    any_fence_line = true;
                    after_opener = true;
                }
            }
        }
    }
    (any_fence_line, blanks_after_opener, open.is_some())
}

/// Non-blank lines of `text` that are not fence lines.
fn content_lines(text: &str) -> usize {
    let mut open = None;
    let mut n = 0;
    for line in text.split('\n') {
        match open {
            Some(f) if closes(line, f) => open = None,
            Some(_) => n += usize::from(!line.trim().is_empty()),
            None => match opener(line) {
                Some(f) => open = Some(f),
                None => n += usize::from(!line.trim().is_empty()),
            },
        }
    }
    n
}

/// Lines of `text` outside fences that are blank and sit between two
/// non-blank lines.
fn has_inner_blank_outside_code(text: &str) -> bool {
    let mut open = None;
    let mut seen_content = false;
    let mut pending_blank = false;
    for line in text.split('\n') {
        if let Some(f) = open {
            if closes(line, f) {
                open = None;
            }
            seen_content = true;
            pending_blank = false;
            continue;
        }
        if let Some(f) = opener(line) {
            if pending_blank && seen_content {
                return true;
            }
            open = Some(f);
            seen_content = true;
            continue;
        }
        if line.trim().is_empty() {
            pending_blank = true;
        } else {
            if pending_blank && seen_content {
                return true;
            }
            seen_content = true;
            pending_blank = false;
        }
    }
    false
}

/// The input holds a fence line too long to be kept balanced at this limit,
/// or an opening line whose blank lines (which stay in the block) leave no
/// room, with the closing line, for one char of content (after the first
/// content line's indentation), or a closing line that cannot sit with one
/// char of its block (see [`closer_without_room`]).
fn degenerate(text: &str, max_chars: usize) -> bool {
    let lines: Vec<&str> = text.split('\n').collect();
    closer_without_room(text, max_chars)
        || lines.iter().enumerate().any(|(i, l)| {
            let fence_like = opener(l).is_some()
                || l.trim_start().starts_with("```")
                || l.trim_start().starts_with("~~~");
            if !fence_like {
                return false;
            }
            if l.trim_end().chars().count() * 2 + 4 > max_chars {
                return true;
            }
            opener(l).is_some_and(|(_, marker)| {
                let blanks: usize = lines[i + 1..]
                    .iter()
                    .take_while(|b| b.trim().is_empty())
                    .map(|b| b.chars().count() + 1)
                    .sum();
                // The first content line's indentation stays with its first char.
                let indent = lines[i + 1..]
                    .iter()
                    .find(|b| !b.trim().is_empty())
                    .map_or(0, |b| b.chars().take_while(|c| c.is_whitespace()).count());
                l.chars().count() + 1 + blanks + indent + marker + 1 + 1 > max_chars
            })
        })
}

/// The input holds an empty fenced block (the only excuse for a chunk that
/// is an open + close fence and nothing else).
fn has_empty_block(text: &str) -> bool {
    let lines: Vec<&str> = text.split('\n').collect();
    let mut open: Option<((char, usize), bool)> = None;
    for line in lines {
        match open {
            Some((f, content)) => {
                if closes(line, f) {
                    if !content {
                        return true;
                    }
                    open = None;
                } else if !line.trim().is_empty() {
                    open = Some((f, true));
                }
            }
            None => open = opener(line).map(|f| (f, false)),
        }
    }
    matches!(open, Some((_, false)))
}

/// The length of the line that reopens the block of opening line `line`
/// (a `n`-char marker) in the next chunk, per the chunker's docs: the marker
/// and the info string, or the bare marker when those would take more than
/// half of `max_c` with a close line.
fn reopen_chars(line: &str, n: usize, max_c: usize) -> usize {
    let info = line.trim().chars().skip(n).collect::<String>();
    let info_c = info.trim().chars().count();
    if info_c > 0 && n + info_c + n + 2 <= max_c / 2 {
        n + info_c
    } else {
        n
    }
}

/// For every fenced block with a closing line and content: its last
/// grapheme cluster (byte range, chars) and the chars a chunk needs to hold
/// that cluster whole together with the closing line: a reopening line (or,
/// when the cluster is also the block's first content, the opening line and
/// everything up to the cluster), the cluster and the rest up to the closing
/// line's end.
fn last_clusters(text: &str, max_c: usize) -> Vec<(std::ops::Range<usize>, usize, usize)> {
    let mut out = Vec::new();
    // fence, block start, content start
    let mut open: Option<((char, usize), usize, usize)> = None;
    let mut at = 0;
    for line in text.split_inclusive('\n') {
        let bare = line.strip_suffix('\n').unwrap_or(line);
        match open {
            Some(((ch, n), block_start, content_start)) if closes(bare, (ch, n)) => {
                let content = &text[content_start..at];
                let content_end = content_start + content.trim_end().len();
                let last = text[content_start..content_end]
                    .grapheme_indices(true)
                    .next_back();
                if let Some((i, g)) = last {
                    let cs = content_start + i;
                    let first = text[content_start..cs].trim().is_empty();
                    let prefix = if first {
                        text[block_start..cs].chars().count()
                    } else {
                        reopen_chars(&text[block_start..content_start], n, max_c) + 1
                    };
                    let tail = text[cs..at + bare.trim_end().len()].chars().count();
                    out.push((cs..cs + g.len(), g.chars().count(), prefix + tail));
                }
                open = None;
            }
            Some(_) => {}
            None => open = opener(bare).map(|f| (f, at, at + line.len())),
        }
        at += line.len();
    }
    out
}

/// `pos` lies in the last grapheme cluster of a fenced block's content, and
/// no chunk can hold that cluster whole together with the closing line:
/// holding it whole would leave the closing fence alone in the next chunk,
/// so the chunker may cut the cluster rather than send an empty block.
fn in_last_cluster_before_a_distant_closer(text: &str, pos: usize, max_c: usize) -> bool {
    last_clusters(text, max_c)
        .into_iter()
        .any(|(r, _, need)| r.start < pos && pos < r.end && need > max_c)
}

/// Not even one char of a block's last cluster fits in a chunk with the
/// closing line (long blank lines before it): the closing fence has to go
/// alone (degenerate limits).
fn closer_without_room(text: &str, max_c: usize) -> bool {
    last_clusters(text, max_c)
        .into_iter()
        .any(|(_, chars, need)| need - (chars - 1) > max_c)
}

fn check(text: &str, limits: &ChunkLimits) -> Result<(), TestCaseError> {
    let spans = chunk_spans(text, limits);
    prop_assert_eq!(&spans, &chunk_spans(text, limits), "deterministic");
    if text.trim().is_empty() {
        prop_assert!(spans.is_empty(), "whitespace-only input gives no chunk");
        return Ok(());
    }
    prop_assert!(!spans.is_empty());
    let max_c = limits.max_chars();
    let max_l = limits.max_lines().unwrap_or(usize::MAX);
    let degenerate = degenerate(text, max_c);
    let boundaries: Vec<usize> = text
        .grapheme_indices(true)
        .map(|(i, _)| i)
        .chain([text.len()])
        .collect();
    let mut prev_end = 0;
    let mut prev_overhead = 0;
    for (i, span) in spans.iter().enumerate() {
        let ChunkSpan {
            reopen,
            body,
            close,
        } = span;
        let rendered = span.render(text);
        let ctx = format!("chunk {i} {rendered:?}");
        // render = reopen + body + close
        let mut expect = String::new();
        if let Some(r) = reopen {
            expect.push_str(r);
            expect.push('\n');
        }
        expect.push_str(&text[body.clone()]);
        if let Some(c) = close {
            expect.push('\n');
            expect.push_str(c);
        }
        prop_assert_eq!(&rendered, &expect, "{}", ctx);
        // limits
        let chars = rendered.chars().count();
        prop_assert!(chars <= max_c, "{} chars {} > {}", ctx, chars, max_c);
        let lines = rendered.split('\n').count();
        let (fence_line, blanks, ends_open) = fence_walk(&rendered);
        let line_limit = if fence_line {
            max_l.max(3).saturating_add(blanks)
        } else {
            max_l
        };
        prop_assert!(
            lines <= line_limit,
            "{} lines {} > {}",
            ctx,
            lines,
            line_limit
        );
        // not empty
        prop_assert!(!text[body.clone()].trim().is_empty(), "{} empty body", ctx);
        // lossless: only whitespace between bodies, in order
        prop_assert!(body.start >= prev_end, "{} reordered", ctx);
        prop_assert!(
            text[prev_end..body.start].trim().is_empty(),
            "{} lost {:?}",
            ctx,
            &text[prev_end..body.start]
        );
        prev_end = body.end;
        // fences
        if !degenerate {
            prop_assert!(!ends_open, "{} unbalanced fence", ctx);
            let only_fences = content_lines(&rendered) == 0;
            if only_fences && (reopen.is_some() || close.is_some()) {
                prop_assert!(has_empty_block(text), "{} only an open+close fence", ctx);
            }
            if let Some(r) = reopen {
                prop_assert!(opener(r).is_some(), "{} reopen is not a fence line", ctx);
            }
        }
        // graphemes
        // The budget of a cut is what the fence lines leave: added ones, and
        // an opening line the body starts with (its block must hold content).
        // (with the blank lines right after it, which stay in the block).
        let mut body_lines = text[body.clone()].split('\n');
        let first_line = body_lines.next().unwrap_or("");
        let opener_overhead = opener(first_line).map_or(0, |_| {
            first_line.chars().count()
                + 1
                + body_lines
                    .take_while(|l| l.trim().is_empty())
                    .map(|l| l.chars().count() + 1)
                    .sum::<usize>()
        });
        let overhead = reopen.as_ref().map_or(0, |r| r.chars().count() + 1)
            + close.as_ref().map_or(0, |c| c.chars().count() + 1)
            + opener_overhead;
        // When all the chunk holds before the cluster it ends in is fence
        // lines and whitespace (a code line's indentation stays), all of it
        // is overhead too.
        let end_overhead = if boundaries.binary_search(&body.end).is_err() {
            let at = boundaries.partition_point(|b| *b < body.end);
            let before = &text[body.start..boundaries[at - 1]];
            let after_opener = match before.split_once('\n') {
                Some((first, rest)) if opener(first).is_some() => rest,
                _ => before,
            };
            if after_opener.trim().is_empty() {
                overhead.max(
                    reopen.as_ref().map_or(0, |r| r.chars().count() + 1)
                        + close.as_ref().map_or(0, |c| c.chars().count() + 1)
                        + before.chars().count(),
                )
            } else {
                overhead
            }
        } else {
            overhead
        };
        // A cut is one edge shared by two chunks: judge it by the budget of
        // the chunk that made it (the one it ends).
        for (edge, cut_overhead) in [(body.start, prev_overhead), (body.end, end_overhead)] {
            if boundaries.binary_search(&edge).is_err() {
                let at = boundaries.partition_point(|b| *b < edge);
                let cluster = &text[boundaries[at - 1]..boundaries[at]];
                prop_assert!(
                    cluster.chars().count() > max_c.saturating_sub(cut_overhead)
                        || in_last_cluster_before_a_distant_closer(text, edge, max_c),
                    "{} splits grapheme {:?}",
                    ctx,
                    cluster
                );
            }
        }
        prev_overhead = end_overhead;
        if limits.mode() == ChunkMode::Newline && !degenerate {
            prop_assert!(
                !has_inner_blank_outside_code(&rendered),
                "{} newline mode keeps a paragraph break",
                ctx
            );
        }
    }
    prop_assert!(text[prev_end..].trim().is_empty(), "lost the tail");
    // length mode never splits a reply that fits as it is (leading blank
    // lines dropped, the first line's indentation kept)
    let mut first_line_start = 0;
    for line in text.split_inclusive('\n') {
        if !line.trim().is_empty() {
            break;
        }
        first_line_start += line.len();
    }
    let trimmed = text[first_line_start..].trim_end();
    let (_, _, input_open) = fence_walk(trimmed);
    if limits.mode() == ChunkMode::Length
        && !input_open
        && trimmed.chars().count() <= max_c
        && trimmed.split('\n').count() <= max_l
    {
        prop_assert_eq!(spans.len(), 1, "a reply within the limits is one chunk");
    }
    Ok(())
}

// ---------------------------------------------------------------- generators

fn fragment() -> impl Strategy<Value = String> {
    prop_oneof![
        6 => "[a-z]{1,12}".prop_map(|w| w + " "),
        2 => Just(" ".to_owned()),
        3 => Just("\n".to_owned()),
        2 => Just("\r\n".to_owned()),
        2 => Just("\n\n".to_owned()),
        1 => Just("\n  \n\t\n".to_owned()),
        1 => "[a-zA-Z0-9]{40,400}",
        2 => Just("中文没有空格的句子很长。再来一句！是吗？".to_owned()),
        1 => Just("日本語のテキスト、句読点。".to_owned()),
        1 => Just("Привет, мир! Ελληνικά κείμενα. עברית ".to_owned()),
        2 => Just("👍🏽".to_owned()),
        2 => Just("👨\u{200d}👩\u{200d}👧\u{200d}👦".to_owned()),
        2 => Just("🇯🇵🇫🇷".to_owned()),
        1 => Just("e\u{301}\u{302}\u{303} ".to_owned()),
        2 => Just("[the docs](https://example.com/some/path?q=a b) ".to_owned()),
        2 => Just("`let x = vec![1, 2, 3];` ".to_owned()),
        1 => Just("``a ` b`` ".to_owned()),
        2 => prop_oneof![
            Just("```"), Just("```rust"), Just("~~~"), Just("~~~ python"),
            Just("````md"), Just("   ```"), Just("``` js")
        ]
        .prop_map(|f| format!("\n{f}\n")),
        1 => Just("\n    indented code\n".to_owned()),
        1 => Just("- item one\n- item two\n".to_owned()),
        1 => any::<char>().prop_map(|c| c.to_string()),
        1 => "\\PC{1,20}",
    ]
}

fn text() -> impl Strategy<Value = String> {
    prop::collection::vec(fragment(), 0..60).prop_map(|v| v.concat())
}

fn limits() -> impl Strategy<Value = ChunkLimits> {
    (
        prop_oneof![20usize..=80, 80usize..=400, 400usize..=2000],
        prop_oneof![Just(None), (1usize..=30).prop_map(Some)],
        prop_oneof![Just(ChunkMode::Length), Just(ChunkMode::Newline)],
    )
        .prop_map(|(c, l, m)| ChunkLimits::new(c, l, m))
}

/// Cases per property: 400, or `PROPTEST_CASES` when set (long explorations,
/// e.g. `PROPTEST_CASES=200000 PROPTEST_RNG_SEED=$RANDOM`).
fn cases() -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(400)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(cases()))]

    #[test]
    fn chunks_obey_the_model(text in text(), limits in limits()) {
        check(&text, &limits)?;
    }

    #[test]
    fn arbitrary_unicode_obeys_the_model(text in "\\PC{0,300}|[\\s\\S]{0,200}", limits in limits()) {
        check(&text, &limits)?;
    }

    #[test]
    fn long_single_words_are_cut_at_the_limit(
        word in "[a-z]{1,3000}",
        max in 20usize..=500,
    ) {
        let limits = ChunkLimits::new(max, None, ChunkMode::Length);
        check(&word, &limits)?;
        let spans = chunk_spans(&word, &limits);
        // every chunk but the last is full
        for span in &spans[..spans.len() - 1] {
            prop_assert_eq!(span.body.len(), max);
        }
    }
}

// ------------------------------------------- small limits, wide clusters

/// Fences, blank lines and wide grapheme clusters (ZWJ families, flags)
/// at limits near 20, where a block's opening line, its first cluster and a
/// closing line barely fit.
fn focused_fragment() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => Just("👨\u{200d}👩\u{200d}👧\u{200d}👦".to_owned()),
        1 => Just("👍🏽".to_owned()),
        1 => Just("🇯🇵🇫🇷".to_owned()),
        2 => prop_oneof![
            Just("```"), Just("```md"), Just("~~~"), Just("````md"), Just("```rust"), Just("   ```")
        ]
        .prop_map(|f| format!("\n{f}\n")),
        1 => Just("\n".to_owned()),
        1 => Just("\r\n".to_owned()),
        1 => Just("\n\n".to_owned()),
        1 => Just(" ".to_owned()),
        1 => "[a-z]{1,6}".prop_map(|w| w + " "),
        1 => Just("e\u{301}\u{302}\u{303} ".to_owned()),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(cases()))]
    #[test]
    fn fenced_wide_clusters_at_small_limits_obey_the_model(v in prop::collection::vec(focused_fragment(), 0..12),
                   c in 20usize..=30,
                   l in prop_oneof![Just(None), (1usize..=4).prop_map(Some)],
                   m in prop_oneof![Just(ChunkMode::Length), Just(ChunkMode::Newline)]) {
        check(&v.concat(), &ChunkLimits::new(c, l, m))?;
    }
}
