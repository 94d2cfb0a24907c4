//! Breaks inside the line where a chunk's window overflows: whitespace, CJK
//! sentence ends and the hard cut, with Markdown links and inline code
//! spans protected.

use std::ops::Range;

use super::lines::{Chunker, Cursor, Kind, NONE};
use super::window::{Cand, CJK, WS};

impl Chunker<'_> {
    /// Collects whitespace, CJK and hard-cut candidates inside the line where
    /// the window overflows.
    pub(super) fn scan_line(
        &self,
        scan: &LineScan,
        best: &mut [Option<Cand>; 4],
        protected: &mut Option<Cand>,
        hard: &mut Option<Cand>,
    ) {
        let max_c = self.limits.max_chars;
        let budget = match max_c.checked_sub(scan.acc_c + scan.suffix_c) {
            Some(b) if b > 0 => b,
            _ => return,
        };
        let line = &self.lines[scan.k];
        let text = self.text;
        let s_end = line.trim_end;
        let k = scan.k;
        let cand = |end: usize, next: Option<Cursor>, count: usize| Cand {
            end,
            next,
            close: scan.close,
            chars: scan.acc_c + count + scan.suffix_c,
            lines: scan.lines,
        };
        // Spans are only looked for within the window (plus a char each side).
        let mut search_end = s_end.min(scan.start_off + 4 * (budget + 1));
        while !text.is_char_boundary(search_end) {
            search_end -= 1;
        }
        let mut spans = SpanFinder::new(&text[..search_end]);
        let mut span = 0..0;
        let mut count = 0;
        let mut h = s_end;
        let mut seen_nonws = false;
        let mut ws_run: Option<(usize, usize)> = None;
        for (i, ch) in text[scan.start_off..s_end].char_indices() {
            let p = scan.start_off + i;
            if count == budget {
                h = p;
                break;
            }
            if is_break_ws(ch) {
                if ws_run.is_none() && seen_nonws {
                    ws_run = Some((p, count));
                }
            } else if ch.is_whitespace() {
                // A no-break space: neither a break nor content (a chunk
                // never starts at one, nor holds only such).
            } else {
                if let Some((ws, ws_count)) = ws_run.take() {
                    if self.is_boundary(k, ws)
                        && self.is_boundary(k, p)
                        && self.keeps_fences(k, scan.start_off, ws, Some(p))
                    {
                        let c = cand(ws, Some(Cursor { line: k, off: p }), ws_count);
                        if span.start < ws && ws < span.end {
                            *protected = Some(c);
                        } else {
                            best[WS] = Some(c);
                        }
                    }
                }
                seen_nonws = true;
                if scan.spans && p >= span.end && (ch == '`' || ch == '[') {
                    if let Some(found) = spans.span_at(p) {
                        span = found;
                    }
                }
            }
            count += 1;
            if matches!(ch, '。' | '！' | '？') {
                let q = p + ch.len_utf8();
                let next_ws = text[q..s_end]
                    .chars()
                    .next()
                    .is_none_or(char::is_whitespace);
                if !next_ws
                    && self.is_boundary(k, q)
                    && self.keeps_fences(k, scan.start_off, q, Some(q))
                {
                    let c = cand(q, Some(Cursor { line: k, off: q }), count);
                    if span.start < q && q < span.end {
                        *protected = Some(c);
                    } else {
                        best[CJK] = Some(c);
                    }
                }
            }
        }
        // A whitespace run still open when the budget ran out.
        if let Some((ws, ws_count)) = ws_run {
            let rest = &text[ws..s_end];
            if let Some(i) = rest.find(|c: char| !c.is_whitespace()) {
                let p = ws + i;
                if self.is_boundary(k, ws)
                    && self.is_boundary(k, p)
                    && self.keeps_fences(k, scan.start_off, ws, Some(p))
                {
                    let c = cand(ws, Some(Cursor { line: k, off: p }), ws_count);
                    if span.start < ws && ws < span.end {
                        *protected = Some(c);
                    } else {
                        best[WS] = Some(c);
                    }
                }
            }
        }
        // Hard cut.
        let mut g = if span.start < h && h < span.end && span.start > scan.body_start {
            self.prev_boundary(k, span.start)
        } else {
            self.prev_boundary(k, h)
        };
        if g <= scan.start_off || g <= scan.body_start {
            g = h; // one cluster larger than the budget: split it
        }
        let Some(g) = self.fence_safe_cut(k, scan.start_off.max(scan.body_start), g) else {
            // Every cut would make a piece read as a fence: no hard cut here.
            return;
        };
        let end = self.trim_end_from(k, scan.start_off, g);
        // (A cluster cut in two may leave only whitespace before the cut,
        // e.g. the space a combining mark sits on.)
        if end > scan.start_off
            && end > scan.body_start
            && !text[scan.body_start..end].chars().all(char::is_whitespace)
        {
            let used = count - text[end..h].chars().count();
            let next = self.skip_ws(k, g);
            let lone_closer = scan.close.is_some_and(|f| {
                next.is_some_and(|n| self.lines[n.line].kind == Kind::Close(f) && n.line != k)
            });
            if !lone_closer {
                *hard = Some(cand(end, next, used));
            }
        }
    }
}

/// The inputs of [`Chunker::scan_line`].
pub(super) struct LineScan {
    pub(super) k: usize,
    pub(super) start_off: usize,
    pub(super) body_start: usize,
    pub(super) acc_c: usize,
    pub(super) suffix_c: usize,
    pub(super) lines: usize,
    pub(super) close: Option<usize>,
    pub(super) spans: bool,
}

/// Finds inline code spans and links starting at a position, with caches so
/// that repeated failing searches stay linear.
pub(super) struct SpanFinder<'t> {
    pub(super) text: &'t str,
    /// Backtick run lengths (1..=32) known to have no closing run ahead.
    pub(super) no_close_run: u32,
    /// Next `]` at or after the cached position (`NONE`: none ahead).
    pub(super) next_bracket: Option<usize>,
}

impl<'t> SpanFinder<'t> {
    pub(super) fn new(text: &'t str) -> Self {
        Self {
            text,
            no_close_run: 0,
            next_bracket: None,
        }
    }

    /// The span (code or link) starting at `p`, if one does.
    pub(super) fn span_at(&mut self, p: usize) -> Option<Range<usize>> {
        let bytes = self.text.as_bytes();
        match bytes.get(p)? {
            b'`' => {
                let n = bytes[p..].iter().take_while(|b| **b == b'`').count();
                let bit = if n <= 32 { 1u32 << (n - 1) } else { 0 };
                if self.no_close_run & bit != 0 {
                    return None;
                }
                let mut i = p + n;
                while let Some(j) = self.text[i..].find('`') {
                    let run_start = i + j;
                    let run = bytes[run_start..]
                        .iter()
                        .take_while(|b| **b == b'`')
                        .count();
                    if run == n {
                        return Some(p..run_start + run);
                    }
                    i = run_start + run;
                }
                self.no_close_run |= bit;
                None
            }
            b'[' => {
                let close = match self.next_bracket {
                    Some(c) if c == NONE => return None,
                    Some(c) if c > p => c,
                    _ => {
                        let c = self.text[p..].find(']').map_or(NONE, |j| p + j);
                        self.next_bracket = Some(c);
                        if c == NONE {
                            return None;
                        }
                        c
                    }
                };
                if bytes.get(close + 1) != Some(&b'(') {
                    return None;
                }
                let paren = self.text[close + 2..].find(')')?;
                Some(p..close + 2 + paren + 1)
            }
            _ => None,
        }
    }
}

/// Whitespace a chunk may break at (not the no-break spaces).
pub(super) fn is_break_ws(c: char) -> bool {
    c.is_whitespace() && !matches!(c, '\u{a0}' | '\u{2007}' | '\u{202f}')
}
