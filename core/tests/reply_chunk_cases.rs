//! Scenario tests for the chunker: one rule per test, exact outputs.

use krill_core::reply::fence::{parse_opener, FenceMarker};
use krill_core::reply::{chunk_spans, chunk_text, ChunkLimits, ChunkMode};

fn len(limit: usize, lines: Option<usize>) -> ChunkLimits {
    ChunkLimits::new(limit, lines, ChunkMode::Length)
}

#[test]
fn platform_defaults_and_clamps() {
    let d = ChunkLimits::discord(None, None, ChunkMode::Length);
    assert_eq!((d.max_chars(), d.max_lines()), (2000, Some(17)));
    let d = ChunkLimits::discord(Some(5000), Some(30), ChunkMode::Newline);
    assert_eq!(
        (d.max_chars(), d.max_lines(), d.mode()),
        (2000, Some(30), ChunkMode::Newline)
    );
    let k = ChunkLimits::kook(None, None, ChunkMode::Length);
    assert_eq!((k.max_chars(), k.max_lines()), (4000, None));
    let k = ChunkLimits::kook(Some(20_000), Some(50), ChunkMode::Length);
    assert_eq!((k.max_chars(), k.max_lines()), (8000, Some(50)));
    let z = ChunkLimits::new(0, Some(0), ChunkMode::Length);
    assert_eq!((z.max_chars(), z.max_lines()), (1, Some(1)));
}

#[test]
fn short_reply_is_one_chunk_trimmed() {
    assert_eq!(
        chunk_text("\n\n  hello world  \n\n", &len(2000, Some(17))),
        ["  hello world"]
    );
}

#[test]
fn whitespace_only_gives_nothing() {
    assert!(chunk_text("", &len(10, None)).is_empty());
    assert!(chunk_text(" \n\r\n\t ", &len(10, None)).is_empty());
}

#[test]
fn twenty_short_lines_become_two_messages_at_a_line_break() {
    let text: String = (1..=20).map(|i| format!("line {i}\n")).collect();
    let chunks = chunk_text(&text, &ChunkLimits::discord(None, None, ChunkMode::Length));
    assert_eq!(chunks.len(), 2);
    assert_eq!(chunks[0].lines().count(), 17);
    assert!(chunks[0].ends_with("line 17"));
    assert_eq!(chunks[1], "line 18\nline 19\nline 20");
}

#[test]
fn a_long_line_is_governed_by_chars_only() {
    let text = "word ".repeat(100);
    let chunks = chunk_text(&text, &len(100, Some(1)));
    assert_eq!(chunks.len(), 5);
    assert!(chunks
        .iter()
        .all(|c| c.chars().count() <= 100 && !c.contains('\n')));
}

#[test]
fn counts_code_points_not_bytes() {
    // 'é' is 2 bytes, '中' 3 bytes: 10 chars fit a limit of 10.
    assert_eq!(chunk_text("éééé中中中中中中", &len(10, None)).len(), 1);
    assert_eq!(chunk_text("éééé中中中中中中中", &len(10, None)).len(), 2);
}

#[test]
fn reopened_fence_is_on_its_own_line() {
    let text = "```rust\nlet a = 1;\nlet b = 2;\nlet c = 3;\n```";
    let chunks = chunk_text(text, &len(33, None));
    assert_eq!(
        chunks,
        [
            "```rust\nlet a = 1;\nlet b = 2;\n```",
            "```rust\nlet c = 3;\n```"
        ]
    );
}

#[test]
fn fence_markers_and_info_are_kept_when_reopening() {
    let text = "~~~~ python\nx = 1\ny = 2\nz = 3\n~~~~";
    let chunks = chunk_text(text, &len(2000, Some(4)));
    assert_eq!(chunks[0], "~~~~ python\nx = 1\ny = 2\n~~~~");
    assert_eq!(chunks[1], "~~~~python\nz = 3\n~~~~");
}

#[test]
fn long_info_string_degrades_to_a_bare_marker() {
    let text = "```a-very-long-info-string-here\nline one\nline two\nline three\n```";
    let chunks = chunk_text(text, &len(50, None));
    assert!(chunks.len() >= 2);
    assert!(chunks[1].starts_with("```\n"), "{chunks:?}");
}

#[test]
fn never_ends_right_after_an_opening_fence() {
    // The fence cannot start in chunk 1 with nothing in it: it moves on.
    let text = "intro text here\n```\ncode line\n```";
    let chunks = chunk_text(text, &len(22, None));
    assert_eq!(chunks, ["intro text here", "```\ncode line\n```"]);
}

#[test]
fn fence_overhead_counts_against_the_line_limit() {
    let text = "```\na\nb\nc\nd\ne\nf\n```";
    for chunk in chunk_text(text, &len(2000, Some(4))) {
        assert!(chunk.lines().count() <= 4, "{chunk:?}");
        assert!(chunk.starts_with("```\n") && chunk.ends_with("\n```"));
    }
}

#[test]
fn paragraph_break_preferred_when_at_least_half_full() {
    let text = "aaaa aaaa aaaa aaaa aaaa aaaa\n\nbbbb bbbb bbbb\ncccc cccc";
    let chunks = chunk_text(text, &len(50, None));
    assert_eq!(chunks[0], "aaaa aaaa aaaa aaaa aaaa aaaa");
}

#[test]
fn cjk_breaks_after_sentence_punctuation() {
    let text = "第一句话写在这里。第二句话也在这里！第三句话呢？";
    let chunks = chunk_text(text, &len(12, None));
    assert_eq!(chunks[0], "第一句话写在这里。");
}

#[test]
fn does_not_break_inside_links_or_inline_code() {
    let text = "see [the big docs page](https://x.io/a b c) and `a b c d e` ok";
    // From 40 chars on, the link (39 chars) fits in a chunk of its own.
    for limit in 40..80 {
        for chunk in chunk_text(text, &len(limit, None)) {
            let opens = chunk.matches('[').count() == chunk.matches(')').count();
            assert!(opens, "link split at {limit}: {chunk:?}");
            assert_eq!(
                chunk.matches('`').count() % 2,
                0,
                "code split at {limit}: {chunk:?}"
            );
        }
    }
}

#[test]
fn crlf_is_one_line_break() {
    let text = "a\r\nb\r\nc\r\nd";
    let chunks = chunk_text(text, &len(100, Some(2)));
    assert_eq!(chunks, ["a\r\nb", "c\r\nd"]);
}

#[test]
fn spans_tile_the_input() {
    let text = "one two three four five six seven";
    let spans = chunk_spans(text, &len(10, None));
    let joined: Vec<&str> = spans.iter().map(|s| &text[s.body.clone()]).collect();
    assert_eq!(joined.join(" "), text);
}

#[test]
fn newline_mode_splits_paragraphs_but_not_code() {
    let text = "p1\n\np2\n\n```\nx\n\ny\n```";
    let chunks = chunk_text(text, &ChunkLimits::new(2000, None, ChunkMode::Newline));
    assert_eq!(chunks, ["p1", "p2", "```\nx\n\ny\n```"]);
}

#[test]
fn an_indented_fence_at_a_tight_limit_never_yields_a_fence_only_chunk() {
    let text = "\n   ```\naaaaaaaaaa \n   ```\n";
    let limits = ChunkLimits::new(21, None, ChunkMode::Length);
    let chunks = chunk_text(text, &limits);
    for chunk in &chunks {
        let body: Vec<&str> = chunk
            .lines()
            .filter(|l| !l.trim_start().starts_with("```"))
            .collect();
        assert!(
            body.iter().any(|l| !l.trim().is_empty()),
            "a chunk with only fence lines: {chunks:?}"
        );
        assert!(chunk.chars().count() <= 21, "{chunks:?}");
    }
}

#[test]
fn a_cluster_that_cannot_follow_a_long_opener_is_cut_rather_than_left_as_an_empty_block() {
    // Degenerate limit: "~~~ python", the 7-code-point family emoji and the
    // closing line do not fit in 20 chars together.
    let text = "\n~~~ python\n👨\u{200d}👩\u{200d}👧\u{200d}👦";
    let chunks = chunk_text(text, &ChunkLimits::new(20, None, ChunkMode::Length));
    assert!(chunks.iter().all(|c| c.chars().count() <= 20), "{chunks:?}");
    assert!(chunks[0].starts_with("~~~ python\n"), "{chunks:?}");
    let joined: String = chunks
        .iter()
        .flat_map(|c| c.lines().filter(|l| !l.starts_with("~~~")))
        .collect();
    assert_eq!(joined, "👨\u{200d}👩\u{200d}👧\u{200d}👦", "{chunks:?}");
}

/// Issue 16: a split never turns text into a fence. The backticks are mid-line
/// (text, not a fence); cutting before them would start the next chunk with
/// an opening fence line.
#[test]
fn a_split_never_starts_a_chunk_with_a_fence_made_of_text() {
    let text = format!("{} ```python\nprint(1)", "a".repeat(1999));
    let chunks = chunk_text(&text, &ChunkLimits::discord(None, None, ChunkMode::Length));
    for chunk in &chunks {
        assert!(chunk.chars().count() <= 2000);
        assert!(
            !chunk.trim_start().starts_with("```"),
            "a chunk starts with a fence made of text: {chunks:?}"
        );
    }
    let joined: String = chunks.concat();
    assert_eq!(
        joined.replace(char::is_whitespace, ""),
        text.replace(char::is_whitespace, "")
    );
}

/// ...nor a code line into a closing fence: `"``` x"` inside a block is
/// code; cutting at its space would leave a chunk ending with a line that
/// closes the block early.
#[test]
fn a_split_never_turns_a_code_line_into_a_closing_fence() {
    let text = format!("```\n{}\n``` {}\n```", "b".repeat(20), "c".repeat(30));
    for limit in 30..60 {
        for chunk in chunk_text(&text, &len(limit, None)) {
            let mut open = None;
            for line in chunk.lines() {
                match open {
                    Some(m) if FenceMarker::is_closed_by(m, line) => open = None,
                    Some(_) => {}
                    None => open = parse_opener(line).map(|o| o.marker),
                }
            }
            assert!(open.is_none(), "limit {limit}: unbalanced {chunk:?}");
        }
    }
}

/// The `chunker` fuzz target's crash inputs (fuzz/regressions/chunker), at
/// the limits config accepts (20 and up): every chunk keeps its fences
/// balanced and nothing is lost.
#[test]
fn fuzz_regressions_keep_fences_balanced() {
    let inputs = [
        "`\0```````\u{fffd}\u{fffd}",
        "~~~\n\t\t\t{\t\u{fffd}\t\u{fffd}#\u{6}\u{fffd}\u{fffd}\u{6}",
        "x ~~~\n```\n```` a\n``` b\n```",
    ];
    for text in inputs {
        for (limit, lines) in [(20, None), (21, Some(1)), (40, None), (2000, Some(17))] {
            let chunks = chunk_text(text, &len(limit, lines));
            for chunk in &chunks {
                assert!(chunk.chars().count() <= limit);
                let mut open = None;
                for line in chunk.lines() {
                    match open {
                        Some(m) if FenceMarker::is_closed_by(m, line) => open = None,
                        Some(_) => {}
                        None => open = parse_opener(line).map(|o| o.marker),
                    }
                }
                assert!(open.is_none(), "{text:?} at {limit}: {chunks:?}");
            }
            let joined: String = chunks.concat();
            assert_eq!(
                joined
                    .replace(char::is_whitespace, "")
                    .replace(['`', '~'], ""),
                text.replace(char::is_whitespace, "")
                    .replace(['`', '~'], ""),
                "{text:?} at {limit}"
            );
        }
    }
}

#[test]
fn an_opener_with_blank_lines_then_one_wide_cluster_never_sends_an_empty_block() {
    // Property-test finds at limit 20: the block's only content is one ZWJ
    // family; holding it whole would leave the closing fence alone (or the
    // opener alone, when blank lines follow it), so the cluster is cut.
    let family = "\u{1f468}\u{200d}\u{1f469}\u{200d}\u{1f467}\u{200d}\u{1f466}";
    for text in [
        format!("\n```rust\n\n{family}\r\n\n   ```\n"),
        "\n```rust\n\n\n\u{1f44d}\u{1f3fd}\u{1f1ef}\u{1f1f5}\u{1f1eb}\u{1f1f7}\n   ```\n"
            .to_owned(),
        format!("\n```md\n\r\n\r\n\n {family}"),
    ] {
        let chunks = chunk_text(&text, &len(20, None));
        for chunk in &chunks {
            assert!(chunk.chars().count() <= 20, "{text:?}: {chunks:?}");
            let content = chunk
                .lines()
                .filter(|l| parse_opener(l).is_none() && !l.trim().is_empty())
                .filter(|l| !l.trim_start().starts_with("```"))
                .count();
            assert!(content > 0, "{text:?}: an empty block in {chunks:?}");
        }
    }
}

#[test]
fn an_opener_without_room_for_its_first_char_still_closes_its_block() {
    // Fuzz find (fuzz/regressions/chunker/crash-9b441802…) at limit 20: the
    // opening line, its blank lines and the next line's indentation leave no
    // room for a char; the chunk is an empty block, never an unclosed one.
    let data: &[u8] = &[
        96, 96, 96, 3, 0, 0, 32, 187, 10, 32, 10, 10, 32, 32, 32, 32, 0, 10, 32, 61, 17, 0, 0, 1,
        3, 0, 0, 32, 187, 10, 32, 10, 10, 32, 32, 32, 32, 0, 10, 32, 61, 17, 0, 61,
    ];
    let text = String::from_utf8_lossy(data);
    let chunks = chunk_text(&text, &len(20, None));
    for chunk in &chunks {
        assert!(chunk.chars().count() <= 20, "{chunks:?}");
        let mut open = None;
        for line in chunk.lines() {
            match open {
                Some(m) if FenceMarker::is_closed_by(m, line) => open = None,
                Some(_) => {}
                None => open = parse_opener(line).map(|o| o.marker),
            }
        }
        assert!(open.is_none(), "unbalanced: {chunks:?}");
    }
}

/// Whether `chunk` ends inside a code fence.
fn ends_open(chunk: &str) -> bool {
    let mut open = None;
    for line in chunk.lines() {
        match open {
            Some(m) if FenceMarker::is_closed_by(m, line) => open = None,
            Some(_) => {}
            None => open = parse_opener(line).map(|o| o.marker),
        }
    }
    open.is_some()
}

#[test]
fn a_reopened_tilde_fence_keeps_an_info_string_of_tildes_out_of_its_marker() {
    // Fuzz find (fuzz/regressions/chunker/crash-9b1a25f0…) at 543 chars, one
    // line: `~~~~~~~ ~~~~~~~A` reopened as `~~~~~~~~~~~~~~A` made a 14-tilde
    // marker that the 7-tilde close line did not close.
    let text = "~~~~~~~ ~~~~~~~A\0\n \u{fffd}\u{fffd}\u{fffd}\n~";
    let chunks = chunk_text(text, &len(543, Some(1)));
    assert_eq!(chunks.len(), 2, "{chunks:?}");
    assert!(chunks[1].starts_with("~~~~~~~ ~~~~~~~A"), "{chunks:?}");
    for chunk in &chunks {
        assert!(!ends_open(chunk), "unbalanced: {chunks:?}");
    }
}

#[test]
fn a_line_led_by_more_whitespace_than_a_chunk_is_not_cut_into_a_fence() {
    // Fuzz find (fuzz/regressions/chunker/crash-b5fee1b4…) at limit 22: 24
    // form feeds, then text ending in five backticks. No break fits after
    // the whitespace, so the line is cut as it is; that cut was not
    // fence-safe and left "```…" to start the next chunk.
    let text = format!(
        "{}\u{fffd}\u{fffd}\u{10}\0~~~~v~~~\\~~~~\u{fffd}A\u{fffd}`````\0\0\0\0\0\0\u{fffd}\u{fffd}\u{fffd}\n",
        "\u{c}".repeat(24)
    );
    let chunks = chunk_text(&text, &len(22, Some(12)));
    for chunk in &chunks {
        assert!(chunk.chars().count() <= 22, "{chunks:?}");
        assert!(!ends_open(chunk), "a fence made of text: {chunks:?}");
    }
    for limit in 20..40 {
        for n in 1..40 {
            let text = format!(
                "{}{}`````{}",
                "\u{c}".repeat(limit + 2),
                "x".repeat(n),
                "y".repeat(n % 7)
            );
            let chunks = chunk_text(&text, &len(limit, None));
            for chunk in &chunks {
                assert!(chunk.chars().count() <= limit, "{limit}/{n}: {chunks:?}");
                assert!(!ends_open(chunk), "{limit}/{n}: {chunks:?}");
            }
        }
    }
}

#[test]
fn a_text_tail_that_starts_like_a_fence_is_split_off_only_when_it_fits_whole() {
    // Fuzz find (fuzz/regressions/chunker/crash-21f1a3de…) at limit 66: a
    // line breaks at the space before "```````…", a text tail that is no
    // opener only because a backtick follows 60 chars later; the next chunk
    // must cut that tail again, and every cut of it made an opener.
    let crash = format!(
        "{}\u{8} \u{c}```````{}{}\0\0\0\u{8} \u{c}````````````{}! .\u{fffd}\u{7df}\u{fffd}",
        "\0".repeat(11),
        "\0".repeat(21),
        "\u{fffd}".repeat(29),
        "\0".repeat(13),
    );
    let cases = [
        (crash, vec![66]),
        (
            format!("intro words ```` a {} `b` c", "x".repeat(80)),
            (20..60).collect(),
        ),
    ];
    for (text, limits) in cases {
        for limit in limits {
            let chunks = chunk_text(&text, &len(limit, None));
            for chunk in &chunks {
                assert!(chunk.chars().count() <= limit, "{limit}: {chunks:?}");
                assert!(
                    !ends_open(chunk),
                    "{limit}: a fence made of text: {chunks:?}"
                );
            }
        }
    }
}

#[test]
fn a_code_line_whose_every_cut_closes_the_block_is_not_cut() {
    // Fuzz find (fuzz/regressions/chunker/crash-b29f160c…) at limit 30: the
    // opening line leaves 11 chars for the code line `9 spaces + "Մ" + 11
    // tildes`; any cut in that room leaves a tail of 6+ tildes, which closes
    // the block. The first chunk is an empty block instead, and the next one
    // (bare reopen) has room for a safe cut.
    let text = "~~~~~~\u{1}\0'\0 \n         \u{544}~~~~~~~~~~~\n ~";
    let chunks = chunk_text(text, &ChunkLimits::new(30, Some(10), ChunkMode::Newline));
    for chunk in &chunks {
        assert!(chunk.chars().count() <= 30, "{chunks:?}");
        assert!(!ends_open(chunk), "unbalanced: {chunks:?}");
    }
    let joined: String = chunks.concat();
    assert!(joined.contains("\u{544}~~~~~~"), "{chunks:?}");
}

#[test]
fn runs_of_backticks_close_together_are_cut_inside_a_run_when_nothing_else_is_safe() {
    // Fuzz find (fuzz/regressions/chunker/crash-03df8151…) at limit 20: one
    // line of "```" runs 7 spaces apart; every break at whitespace starts the
    // next piece with a run whose first backtick after it is out of reach.
    // A cut leaving 1 or 2 backticks of a run to the next chunk is safe.
    let crash = "\u{fffd}`\0\u{fffd}\u{fffd}\u{fffd}\u{fffd}\u{fffd}\u{fffd}\u{fffd}\u{fffd}\u{fffd}\u{fffd}\u{fffd}\u{fffd}\u{7}\0\0\0\u{fffd}   \0\0\u{fffd}     \u{b}```       ```       \0   \u{fffd}  \0\u{fffd}     \u{b}```   \u{b}```       ```       \0   \u{fffd}  \0\u{fffd}     \u{b}```        \0    ".to_owned();
    let mut cases = vec![(crash, 20)];
    for limit in 20..36 {
        for n in 0..12 {
            let gap = " ".repeat(n % 7 + 1);
            let text = format!("a ```{gap}```{gap}{} b ```{gap}c", "y".repeat(n));
            cases.push((text.repeat(3), limit));
        }
    }
    for (text, limit) in cases {
        let chunks = chunk_text(&text, &len(limit, None));
        for chunk in &chunks {
            assert!(chunk.chars().count() <= limit, "{limit}: {chunks:?}");
            assert!(
                !ends_open(chunk),
                "{limit}: a fence made of text: {chunks:?}"
            );
        }
        let joined: String = chunks.concat();
        assert_eq!(
            joined.replace(char::is_whitespace, ""),
            text.replace(char::is_whitespace, ""),
            "{limit}"
        );
    }
}

#[test]
fn a_code_tail_that_starts_with_a_closing_run_is_split_off_only_when_it_fits_whole() {
    // Fuzz find (fuzz/regressions/chunker/crash-878e5093…) at limit 20: a
    // code line breaks at the whitespace before "```````", leaving a tail
    // `"``````` \r \r *"` one char too long for the next chunk; every cut of
    // it left a head that closes the block, so the chunk was cut raw (no
    // reopen line) and read as an opener.
    let text = "```\u{fffd}@\0\n\0\u{8} \r``````` \r \r *\n\0\u{8} \r``\0\u{fffd}@\0\n\0\u{8}\r \u{fffd}\u{fffd}@\0\n\0\u{8}\r \u{fffd}\u{fffd}`````|\r";
    let mut cases = vec![(text.to_owned(), 20, Some(11))];
    for limit in 20..40 {
        for n in 0..(limit / 2) {
            let code = format!("```\nx {}{}\n```", "`".repeat(n % 9 + 3), " y".repeat(n));
            cases.push((code, limit, None));
        }
    }
    for (text, limit, lines) in cases {
        let chunks = chunk_text(&text, &len(limit, lines));
        for chunk in &chunks {
            assert!(chunk.chars().count() <= limit, "{limit}: {chunks:?}");
            assert!(!ends_open(chunk), "{limit}: unbalanced: {chunks:?}");
        }
    }
}

#[test]
fn a_cluster_cut_in_two_never_leaves_a_whitespace_only_chunk() {
    // Fuzz find (fuzz/regressions/chunker/crash-836d0a43…) at limit 23: a
    // 10-tilde block leaves 1 char per chunk, and the last line is U+0603 (a
    // prepend mark) and a space, one cluster; cut in two, the space alone
    // became the next chunk.
    let text = "~~~~~~~~~~\nab\n\u{603} ";
    let spans = chunk_spans(text, &len(23, None));
    for span in &spans {
        assert!(!text[span.body.clone()].trim().is_empty(), "{spans:?}");
    }
    let data = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../fuzz/regressions/chunker/crash-836d0a43caeafc4b50625ceba04f96bfa2a7d769"
    ))
    .expect("regression input");
    let text = String::from_utf8_lossy(&data[4..]);
    for span in chunk_spans(&text, &len(23, None)) {
        assert!(!text[span.body.clone()].trim().is_empty());
    }
}

#[test]
fn a_code_line_led_by_a_longer_run_than_its_marker_is_cut_inside_the_run() {
    // Fuzz find (fuzz/regressions/chunker/crash-eb61fea9…) at limit 27: an
    // 8-tilde block leaves 9 chars a chunk for a code line of 9 tildes and
    // text; 9 or 8 tildes alone would close the block, 7 do not.
    let text =
        "~~~~~~~~\n~~~~~~~~~\u{fffd}\u{fffd}\n7~\u{fffd}\n7\u{fffd}\n\u{fffd}\u{fffd}\u{fffd}\n~";
    let chunks = chunk_text(text, &len(27, None));
    for chunk in &chunks {
        assert!(chunk.chars().count() <= 27, "{chunks:?}");
        assert!(!ends_open(chunk), "unbalanced: {chunks:?}");
    }
    assert!(
        chunks.iter().any(|c| c.contains("\n~~~~~~~\n")),
        "{chunks:?}"
    );
}

#[test]
fn code_indented_wider_than_the_room_beside_the_fence_lines_keeps_its_block() {
    // Fuzz find (fuzz/regressions/chunker/crash-e1eafd2b…) at limit 27: an
    // 11-tilde block leaves 3 chars a chunk; a code line of 4 form feeds and
    // "~~~~" was cut raw (no reopen line), and "~~~~" alone opened a block.
    // The indentation is dropped instead and the block kept.
    let text = "~~~~~~~~~~~\nA\u{fffd}\u{fffd}\n\u{fffd}~\n\u{c}\u{c}\u{c}\u{c}~~~~\nA\u{fffd}\u{fffd}\n\u{fffd}~\n\u{c}\u{c}\u{c}\u{c}\u{fffd}\n\u{fffd}";
    let chunks = chunk_text(text, &len(27, Some(24)));
    for chunk in &chunks {
        assert!(chunk.chars().count() <= 27, "{chunks:?}");
        assert!(!ends_open(chunk), "unbalanced: {chunks:?}");
        assert!(
            chunk.starts_with("~~~~~~~~~~~\n"),
            "left the block: {chunks:?}"
        );
    }
}

#[test]
fn a_no_break_space_after_a_break_never_starts_a_chunk() {
    // Fuzz find (fuzz/regressions/chunker/crash-74295eeb…) at limit 20: a
    // break at " " went on at the figure space after it (U+2007, not a
    // break), and "\u{2007}" alone became a chunk.
    let text = "~~~~~~~~#~n~\u{7}\0~\u{18}^\u{14}\u{3}\0\0\0~\u{fffd}~~~~~~\u{c}`\u{b}d\u{1d}\u{b} ~?\u{1}\0\0\n~ \u{2007}\t\0P\u{1d}  &";
    let mut cases = vec![(
        text.to_owned(),
        ChunkLimits::new(20, None, ChunkMode::Newline),
    )];
    for limit in 20..30 {
        for nb in ['\u{a0}', '\u{2007}', '\u{202f}'] {
            let text = format!(
                "{} {nb}\t{} {nb} \u{3002}{nb} x",
                "a".repeat(limit - 2),
                "b".repeat(limit - 3)
            );
            cases.push((text, len(limit, None)));
        }
    }
    for (text, limits) in cases {
        let spans = chunk_spans(&text, &limits);
        for span in &spans {
            assert!(
                !text[span.body.clone()].trim().is_empty(),
                "{text:?}: {spans:?}"
            );
            assert!(span.render(&text).chars().count() <= limits.max_chars());
        }
    }
}

#[test]
fn a_space_carrying_a_mark_is_never_a_chunk_alone() {
    // Fuzz find (fuzz/regressions/chunker/crash-7847965d…) at limit 27: a
    // 12-tilde block leaves 1 char a chunk; "\u{603} \u{7ed}" (a prepend
    // mark joined to a space, a space carrying a combining mark) was cut
    // into "\u{603}", " " and "\u{7ed}": the space alone was a chunk.
    let text = "~~~~~~~~~~~~x\nab\u{603} \u{7ed}cd\n~~~~~~~~~~~~";
    let spans = chunk_spans(text, &len(27, None));
    for span in &spans {
        assert!(!text[span.body.clone()].trim().is_empty(), "{spans:?}");
        let chunk = span.render(text);
        assert!(chunk.chars().count() <= 27, "{spans:?}");
        assert!(!ends_open(&chunk), "{spans:?}");
    }
}

#[test]
fn an_empty_block_too_tall_for_a_chunk_is_never_cut_inside_its_opening_run() {
    // Fuzz find (fuzz/regressions/chunker/crash-27a7f74e…) at limit 27: "~~~",
    // 100 blank lines, a closing line. The block holds nothing, so the chunk
    // kept "~~" (leaving "~" so as not to send the closer alone): "~~" is
    // text, and the close line after it opened a block.
    let text = format!(
        "~~~{}~~~~~~~~~\n\nA\u{fffd}\u{fffd}\nz{}~\u{fffd}",
        "\n".repeat(101),
        "\u{fffd}".repeat(13)
    );
    let chunks = chunk_text(&text, &len(27, Some(32)));
    for chunk in &chunks {
        assert!(chunk.chars().count() <= 27, "{chunks:?}");
        assert!(!ends_open(chunk), "unbalanced: {chunks:?}");
    }
    assert!(chunks[0].starts_with("~~~\n"), "{chunks:?}");
}

#[test]
fn a_code_piece_led_by_a_closing_run_keeps_one_or_two_of_its_chars() {
    // Fuzz find (fuzz/regressions/chunker/crash-0d85c9d2…) at limit 29: a
    // code piece "~~~~~~~~~~\u{fffd}" before the closing line must leave
    // its last char to the next chunk; every head of it made only of tildes
    // closes the block except "~" and "~~", which were stepped over, and the
    // piece was cut raw (no reopen line): an opener.
    let ff = "\u{c}".repeat(12);
    let text = format!(
        "\n~~~\0\0\u{c}\u{c}\u{c}\u{e}\nF\n~\u{c}\u{7}\0\0\0~~~~~{ff}\u{c}\u{fffd}\u{e}\u{c}\u{c}\u{c}\u{c}\u{c}({ff}~~~~~~~~~~\u{fffd}\n\u{c}\u{c}\n\n\n\n\n\n\n~~~\n\u{fffd}\u{fffd}~\u{7}\0\0"
    );
    let chunks = chunk_text(&text, &len(29, Some(10)));
    for chunk in &chunks {
        assert!(chunk.chars().count() <= 29, "{chunks:?}");
        assert!(!ends_open(chunk), "unbalanced: {chunks:?}");
    }
}
