//! The chunker: splits one reply into messages that each fit a platform's
//! limits, without breaking Markdown code fences, graphemes or code points.
//!
//! # Limits
//! Both limits are measured on the *rendered* chunk, i.e. including any fence
//! lines the chunker adds:
//! - `max_chars`: Unicode scalar values (Rust `char`s), never bytes. Discord
//!   counts code points (`content` ≤ 2000); KOOK asks for ≤ 8000.
//! - `max_lines`: the number of lines (`'\n'`-separated; `\r\n` is one line
//!   break). It is a *soft* limit (Discord's `maxLinesPerMessage`): a single
//!   long line is governed by `max_chars` alone, and a chunk that carries a
//!   code fence may use up to 3 lines even when `max_lines` is 1 or 2 (an
//!   opening line, one line of code, a closing line). Blank lines directly
//!   after an opening fence or directly before a closing fence are not
//!   counted: they can neither be left out nor moved to another chunk.
//!
//! # Where a chunk ends
//! The chunker walks forward from the chunk start to the first point where a
//! limit would be exceeded (the *window*) and remembers the last usable break
//! of each class, best first:
//! 1. **paragraph**: a line break followed by a blank line, or right before an
//!    opening fence / right after a closing fence (outside code);
//! 2. **line**: any line break;
//! 3. **whitespace** inside a line;
//! 4. **CJK sentence end**: right after `。`, `！` or `？`;
//! 5. a **hard cut** at the last grapheme-cluster boundary that fits.
//!
//! Rule against tiny chunks: the furthest break of class ≤ *c* is taken for
//! the first class *c* (in the order above) whose break leaves the chunk at
//! least **half full** (half of `max_chars`, or half of `max_lines`). If no
//! class reaches half, the furthest break of classes 1–4 is taken anyway
//! (a short chunk beats a cut through a word); only when there is none, the
//! hard cut. If the whole rest of the reply fits, it is one chunk (`length`
//! mode never splits below the limits).
//!
//! Whitespace and CJK breaks inside a Markdown link `[text](url)` or an
//! inline code span are used only when no other soft break exists; a hard
//! cut that would land inside such a span moves to the span's start when
//! that leaves the chunk non-empty. (Spans are recognised within one line and
//! within one window; a span longer than a whole chunk cannot be kept.)
//! A grapheme cluster is split only when it alone exceeds the budget (what
//! `max_chars` leaves beside the chunk's fence lines: at tiny limits, a long
//! opening line, the first cluster of its block and a close line may not fit
//! together, and the cluster is cut rather than sending an empty block).
//!
//! # Modes
//! `length` (default) splits only where a limit forces it. `newline` also ends
//! a chunk at every blank line outside code fences (each paragraph starts a
//! new message), then applies the length rules inside each paragraph.
//!
//! # Code fences
//! See [`super::fence`] for what a fence is. A chunk that ends inside a fence
//! gets a closing line (the opening character, as many times as the opening
//! run); the next chunk starts with a reopening line on its own line: the
//! original marker and info string (```` ```rust ````), or the bare marker when
//! the marker with its info string would take more than half of `max_chars`.
//! A chunk never ends right after an opening fence line (it would hold an
//! empty block), and a chunk never starts with only the closing fence left
//! (same reason), unless the input itself holds an empty block.
//!
//! # What is dropped
//! Only whitespace at break points: trailing whitespace of a chunk, blank
//! lines between chunks, the whitespace run a chunk breaks at, and leading
//! blank lines of the reply. Indentation of a chunk's first line is kept
//! after a line break (code stays indented). Joining the bodies (see
//! [`ChunkSpan::body`]) therefore gives back the input minus whitespace at the
//! break points. Whitespace-only input gives no chunk.
//!
//! # Degenerate limits
//! Balanced fences need room: when a fence's marker plus a close line and one
//! character do not fit in `max_chars` (markers longer than about a third of
//! the limit), the chunker still keeps every chunk within the limits and
//! loses nothing, but may emit chunks without reopen/close lines. An opening
//! line longer than a whole chunk is cut like text (the next chunk reopens
//! with the bare marker).
//!
//! # A split keeps fences what they are
//! A cut inside a line never makes a piece read differently from the whole
//! line: a text line's piece never starts with what reads as an opening
//! fence (```` a ```python ```` is not split before the backticks), and a
//! code line's piece never reads as the closing fence. The cut moves back
//! instead; only a run of backticks or tildes, or a stretch of whitespace
//! right before one, about as long as half the limit (degenerate again) can
//! leave no such cut.
//!
//! # Cost
//! One pass builds a line table (`memchr` for line ends, a char count per
//! line); each chunk then walks its window once. Only the one line where the
//! window overflows is scanned char by char, so the total work is linear in
//! the input (each window is rescanned at most about twice).

use std::ops::Range;

use unicode_segmentation::GraphemeCursor;

use super::fence::{parse_opener, FenceMarker};
use super::ChunkMode;

/// Discord's message `content` limit, in code points; also the maximum
/// `textChunkLimit` accepted for Discord.
pub const DISCORD_MAX_CHARS: usize = 2000;
/// Discord's default `maxLinesPerMessage`.
pub const DISCORD_DEFAULT_MAX_LINES: usize = 17;
/// KOOK's default `textChunkLimit` (what KOOK's own plugin uses).
pub const KOOK_DEFAULT_MAX_CHARS: usize = 4000;
/// KOOK's documented maximum message length; `textChunkLimit` is clamped to it.
pub const KOOK_MAX_CHARS: usize = 8000;

/// The limits one chunk must fit in. Build with [`ChunkLimits::discord`],
/// [`ChunkLimits::kook`] or [`ChunkLimits::new`]; all clamp to sane values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChunkLimits {
    max_chars: usize,
    max_lines: Option<usize>,
    mode: ChunkMode,
}

impl ChunkLimits {
    /// Limits as given, except `max_chars` and `max_lines` are at least 1.
    pub fn new(max_chars: usize, max_lines: Option<usize>, mode: ChunkMode) -> Self {
        Self {
            max_chars: max_chars.max(1),
            max_lines: max_lines.map(|l| l.max(1)),
            mode,
        }
    }

    /// Discord: `textChunkLimit` (default 2000, never above 2000),
    /// `maxLinesPerMessage` (default 17), `chunkMode`.
    pub fn discord(
        text_chunk_limit: Option<usize>,
        max_lines_per_message: Option<usize>,
        mode: ChunkMode,
    ) -> Self {
        Self::new(
            text_chunk_limit
                .unwrap_or(DISCORD_MAX_CHARS)
                .min(DISCORD_MAX_CHARS),
            Some(max_lines_per_message.unwrap_or(DISCORD_DEFAULT_MAX_LINES)),
            mode,
        )
    }

    /// KOOK: `textChunkLimit` (default 4000, never above 8000), an optional
    /// line limit (none unless configured), `chunkMode`.
    pub fn kook(
        text_chunk_limit: Option<usize>,
        max_lines_per_message: Option<usize>,
        mode: ChunkMode,
    ) -> Self {
        Self::new(
            text_chunk_limit
                .unwrap_or(KOOK_DEFAULT_MAX_CHARS)
                .min(KOOK_MAX_CHARS),
            max_lines_per_message,
            mode,
        )
    }

    /// Maximum characters (code points) per chunk, added fence lines included.
    pub fn max_chars(&self) -> usize {
        self.max_chars
    }

    /// Soft maximum lines per chunk (see the module docs), if any.
    pub fn max_lines(&self) -> Option<usize> {
        self.max_lines
    }

    /// How the reply is split.
    pub fn mode(&self) -> ChunkMode {
        self.mode
    }
}

/// One chunk, as a slice of the input plus the fence lines the chunker adds.
///
/// The message text is `reopen + "\n" + text[body] + "\n" + close` (each part
/// only when present); [`ChunkSpan::render`] builds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChunkSpan {
    /// An added line reopening a code fence the previous chunk was inside
    /// (e.g. ```` ```rust ````), without its line break.
    pub reopen: Option<String>,
    /// The byte range of the input this chunk carries (never empty, never
    /// whitespace only, no trailing whitespace).
    pub body: Range<usize>,
    /// An added line closing a code fence this chunk ends inside (e.g.
    /// ```` ``` ````), without its line break.
    pub close: Option<String>,
}

impl ChunkSpan {
    /// The message text of this chunk; `text` is the input it was cut from.
    pub fn render(&self, text: &str) -> String {
        let body = &text[self.body.clone()];
        let extra = self.reopen.as_ref().map_or(0, |r| r.len() + 1)
            + self.close.as_ref().map_or(0, |c| c.len() + 1);
        let mut out = String::with_capacity(body.len() + extra);
        if let Some(reopen) = &self.reopen {
            out.push_str(reopen);
            out.push('\n');
        }
        out.push_str(body);
        if let Some(close) = &self.close {
            out.push('\n');
            out.push_str(close);
        }
        out
    }
}

/// Splits `text` into chunks (see the module docs); zero-copy form.
pub fn chunk_spans(text: &str, limits: &ChunkLimits) -> Vec<ChunkSpan> {
    let chunker = Chunker::new(text, *limits);
    let mut out = Vec::new();
    let mut cursor = chunker.first_cursor();
    while let Some(at) = cursor {
        let (span, next) = chunker.next_chunk(at);
        out.push(span);
        // Every chunk consumes at least one char (see `next_chunk`); the
        // check only guards against a loop should that ever break.
        cursor = next.filter(|n| n.off > at.off);
    }
    out
}

/// Splits `text` into message texts (see the module docs).
pub fn chunk_text(text: &str, limits: &ChunkLimits) -> Vec<String> {
    chunk_spans(text, limits)
        .iter()
        .map(|span| span.render(text))
        .collect()
}

/// What a line is, for fence tracking (`usize` indexes `Chunker::fences`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// Outside any fence.
    Text,
    /// An opening fence line.
    Open(usize),
    /// A line inside a fence (blank ones too).
    Code(usize),
    /// The line closing a fence.
    Close(usize),
}

/// One line of the input (byte offsets into it).
#[derive(Debug, Clone, Copy)]
struct Line {
    start: usize,
    /// End of the content, before `\r\n` / `\n`.
    end: usize,
    /// End of the content without trailing whitespace (`== start` if blank).
    trim_end: usize,
    /// Chars in `start..end`.
    chars: usize,
    /// Chars in `start..trim_end`.
    trim_chars: usize,
    /// Bytes (= chars) of the line ending: 0, 1 or 2.
    eol: usize,
    /// Index of the next non-blank line, `NONE` if there is none.
    next_nonblank: usize,
    kind: Kind,
}

impl Line {
    fn blank(&self) -> bool {
        self.trim_end == self.start
    }
}

const NONE: usize = usize::MAX;

#[derive(Debug, Clone)]
struct Fence {
    marker: FenceMarker,
    info: Range<usize>,
    info_chars: usize,
}

/// A chunk start: a line and a byte offset in it, pointing at the line start
/// of a non-blank line or at a non-whitespace char.
#[derive(Debug, Clone, Copy)]
struct Cursor {
    line: usize,
    off: usize,
}

/// A possible chunk end.
#[derive(Debug, Clone, Copy)]
struct Cand {
    /// Body end (exclusive).
    end: usize,
    /// Where the next chunk starts (`None`: nothing left).
    next: Option<Cursor>,
    /// The fence to close after the body, if it ends inside one.
    close: Option<usize>,
    /// Rendered size of the chunk if it ends here.
    chars: usize,
    lines: usize,
}

const PARA: usize = 0;
const LINE: usize = 1;
const WS: usize = 2;
const CJK: usize = 3;

struct Chunker<'a> {
    text: &'a str,
    lines: Vec<Line>,
    fences: Vec<Fence>,
    limits: ChunkLimits,
}

impl<'a> Chunker<'a> {
    fn new(text: &'a str, limits: ChunkLimits) -> Self {
        let bytes = text.as_bytes();
        let mut lines = Vec::with_capacity(text.len() / 48 + 1);
        let mut fences: Vec<Fence> = Vec::new();
        let mut open: Option<usize> = None;
        let mut pos = 0;
        loop {
            let (end, next) = match text[pos..].find('\n') {
                Some(i) => {
                    let nl = pos + i;
                    let end = if nl > pos && bytes[nl - 1] == b'\r' {
                        nl - 1
                    } else {
                        nl
                    };
                    (end, nl + 1)
                }
                None => (text.len(), text.len()),
            };
            let s = &text[pos..end];
            let ascii = s.is_ascii();
            let chars = if ascii { s.len() } else { s.chars().count() };
            let mut tlen = s.trim_end().len();
            if !ascii && tlen > 0 && tlen < s.len() {
                tlen = next_boundary_in(s, tlen);
            }
            let trim_chars = if ascii {
                tlen
            } else if tlen == s.len() {
                chars
            } else {
                s[..tlen].chars().count()
            };
            let kind = match open {
                Some(f) if fences[f].marker.is_closed_by(s) => {
                    open = None;
                    Kind::Close(f)
                }
                Some(f) => Kind::Code(f),
                None => match parse_opener(s) {
                    Some(o) => {
                        let info_start = o.info.as_ptr() as usize - text.as_ptr() as usize;
                        fences.push(Fence {
                            marker: o.marker,
                            info: info_start..info_start + o.info.len(),
                            info_chars: o.info.chars().count(),
                        });
                        open = Some(fences.len() - 1);
                        Kind::Open(fences.len() - 1)
                    }
                    None => Kind::Text,
                },
            };
            lines.push(Line {
                start: pos,
                end,
                trim_end: pos + tlen,
                chars,
                trim_chars,
                eol: next - end,
                next_nonblank: NONE,
                kind,
            });
            if next >= text.len() && end == text.len() {
                break;
            }
            pos = next;
        }
        let mut next_nonblank = NONE;
        for (i, line) in lines.iter_mut().enumerate().rev() {
            line.next_nonblank = next_nonblank;
            if !line.blank() {
                next_nonblank = i;
            }
        }
        Self {
            text,
            lines,
            fences,
            limits,
        }
    }

    fn first_cursor(&self) -> Option<Cursor> {
        let first = &self.lines[0];
        if first.blank() {
            self.line_cursor(first.next_nonblank)
        } else {
            self.line_cursor(0)
        }
    }

    fn line_cursor(&self, line: usize) -> Option<Cursor> {
        (line != NONE).then(|| Cursor {
            line,
            off: self.lines[line].start,
        })
    }

    /// Where the next chunk starts after a break at the end of line `k`.
    fn after_line(&self, k: usize) -> Option<Cursor> {
        self.line_cursor(self.lines[k].next_nonblank)
    }

    /// Cuts one chunk starting at `at`; returns it and the next start.
    fn next_chunk(&self, at: Cursor) -> (ChunkSpan, Option<Cursor>) {
        let max_c = self.limits.max_chars;
        let lim_l = self.limits.max_lines.unwrap_or(usize::MAX);
        let fenced_l = lim_l.max(3);
        let newline_mode = self.limits.mode == ChunkMode::Newline;

        let l0 = &self.lines[at.line];
        let (reopen_fence, bare) = match l0.kind {
            Kind::Code(f) | Kind::Close(f) => (Some(f), false),
            Kind::Open(f) if at.off > l0.start => (Some(f), true),
            _ => (None, false),
        };
        let reopen = reopen_fence.and_then(|f| self.reopen_line(f, bare));
        if reopen_fence.is_some() && reopen.is_none() {
            let (at, cand) = self.raw_cut(at);
            return self.finish(at, None, cand);
        }
        let prefix_c = reopen.as_ref().map_or(0, |(_, c)| c + 1);
        let prefix_l = usize::from(reopen.is_some());

        let mut acc_c = prefix_c;
        let mut acc_l = prefix_l;
        let mut has_content = false;
        let mut fence_lines_seen = reopen.is_some();
        let mut extra_l = 0;
        let mut blank_run = 0;
        let mut best: [Option<Cand>; 4] = [None; 4];
        let mut protected: Option<Cand> = None;
        let mut hard: Option<Cand> = None;
        let mut k = at.line;
        let mut start_off = at.off;
        loop {
            let line = &self.lines[k];
            let partial = start_off != line.start;
            let (open_after, is_fence_line) = match line.kind {
                Kind::Text => (None, false),
                Kind::Open(f) => (Some(f), !partial),
                Kind::Code(f) => (Some(f), false),
                Kind::Close(_) => (None, true),
            };
            let suffix_c = open_after.map_or(0, |f| 1 + self.fences[f].marker.len);
            let cand_l = acc_l + 1 + usize::from(open_after.is_some());
            let blank = line.trim_end <= start_off;
            match line.kind {
                // Blank lines right after an opening fence or right before a
                // closing one cannot be left out of the block; they do not
                // count against the (soft) line limit.
                Kind::Code(_) if blank && !has_content => extra_l += 1,
                Kind::Code(_) if blank => blank_run += 1,
                Kind::Close(_) => extra_l += std::mem::take(&mut blank_run),
                _ => blank_run = 0,
            }
            // Line counts never decrease along the window: stop once even the
            // most generous limit is passed (blank lines hold no candidate,
            // and the allowance may still grow at a closing fence).
            if !blank && cand_l > fenced_l.saturating_add(extra_l) {
                break;
            }
            let fenced_now = fence_lines_seen || is_fence_line || open_after.is_some();
            let line_limit = if fenced_now {
                fenced_l.saturating_add(extra_l)
            } else {
                lim_l
            };
            let has_content_after = match line.kind {
                Kind::Open(_) if !partial => false,
                Kind::Open(_) | Kind::Code(_) => has_content || !blank,
                _ => false,
            };
            let remaining = max_c.saturating_sub(acc_c);
            let line_tc = if partial {
                count_chars_capped(&self.text[start_off..line.trim_end], remaining + 1)
            } else {
                line.trim_chars
            };
            if acc_c + line_tc + suffix_c > max_c {
                // The window ends inside this line.
                let intra_ok = match line.kind {
                    Kind::Text | Kind::Code(_) => true,
                    Kind::Open(_) => partial,
                    Kind::Close(_) => false,
                };
                if intra_ok && cand_l <= line_limit {
                    let scan = LineScan {
                        k,
                        start_off,
                        body_start: at.off,
                        acc_c,
                        suffix_c,
                        lines: cand_l,
                        close: open_after,
                        spans: matches!(line.kind, Kind::Text),
                    };
                    self.scan_line(&scan, &mut best, &mut protected, &mut hard);
                }
                break;
            }
            if !blank && cand_l <= line_limit {
                let next = self.after_line(k);
                let valid = match open_after {
                    Some(f) => next.is_none() || (has_content_after && !self.next_is_closer(k, f)),
                    None => true,
                };
                if valid {
                    let cand = Cand {
                        end: line.trim_end,
                        next,
                        close: open_after,
                        chars: acc_c + line_tc + suffix_c,
                        lines: cand_l,
                    };
                    if next.is_none() {
                        // The whole rest fits: one chunk.
                        return self.finish(at, reopen, cand);
                    }
                    let blank_follows = open_after.is_none()
                        && self
                            .lines
                            .get(k + 1)
                            .is_some_and(|l| l.blank() && l.kind == Kind::Text);
                    if newline_mode && blank_follows {
                        return self.finish(at, reopen, cand);
                    }
                    let para = open_after.is_none()
                        && (blank_follows
                            || matches!(line.kind, Kind::Close(_))
                            || matches!(self.lines[line.next_nonblank].kind, Kind::Open(_)));
                    best[if para { PARA } else { LINE }] = Some(cand);
                }
            }
            has_content = has_content_after;
            fence_lines_seen |= is_fence_line;
            let line_c = if partial {
                line_tc + self.text[line.trim_end..line.end].chars().count()
            } else {
                line.chars
            };
            acc_c += line_c + line.eol;
            acc_l += 1;
            k += 1;
            if k >= self.lines.len() {
                break;
            }
            start_off = self.lines[k].start;
        }
        let cand = self
            .select(&best, protected, hard)
            .or_else(|| self.relaxed_cut(at, prefix_c, prefix_l));
        if let Some(cand) = cand {
            return self.finish(at, reopen, cand);
        }
        if reopen.is_some() {
            // Inside a block, indentation (or a space a mark sits on)
            // wider than the room left beside the fence lines: drop it
            // (whitespace at a break), keep the block.
            let line = &self.lines[at.line];
            let rest = &self.text[at.off..line.trim_end];
            if let Some(i) = rest.find(|c: char| !c.is_whitespace()).filter(|i| *i > 0) {
                let inner = Cursor {
                    off: at.off + i,
                    ..at
                };
                if let Some(cand) = self.relaxed_cut(inner, prefix_c, prefix_l) {
                    return self.finish(inner, reopen, cand);
                }
            }
        }
        let (at, cand) = self.raw_cut(at);
        self.finish(at, None, cand)
    }

    fn finish(
        &self,
        at: Cursor,
        reopen: Option<(String, usize)>,
        cand: Cand,
    ) -> (ChunkSpan, Option<Cursor>) {
        let span = ChunkSpan {
            reopen: reopen.map(|(line, _)| line),
            body: at.off..cand.end,
            close: cand.close.map(|f| self.fences[f].marker.bare()),
        };
        (span, cand.next)
    }

    /// The tiny-chunk rule of the module docs.
    fn select(
        &self,
        best: &[Option<Cand>; 4],
        protected: Option<Cand>,
        hard: Option<Cand>,
    ) -> Option<Cand> {
        let mut furthest: Option<Cand> = None;
        for cand in best.iter().flatten() {
            if furthest.is_none_or(|f| cand.end > f.end) {
                furthest = Some(*cand);
            }
            if let Some(f) = furthest {
                if self.half_full(&f) {
                    return Some(f);
                }
            }
        }
        furthest.or(protected).or(hard)
    }

    fn half_full(&self, cand: &Cand) -> bool {
        2 * cand.chars >= self.limits.max_chars
            || self.limits.max_lines.is_some_and(|l| 2 * cand.lines >= l)
    }

    /// Whether the next non-blank line after `k` closes fence `f` (breaking
    /// after `k` would leave the next chunk an empty reopened block).
    fn next_is_closer(&self, k: usize, f: usize) -> bool {
        let next = self.lines[k].next_nonblank;
        next != NONE && self.lines[next].kind == Kind::Close(f)
    }

    /// The reopening line for fence `f` and its length in chars, or `None`
    /// when not even the bare marker, a close line and one char fit.
    fn reopen_line(&self, f: usize, bare: bool) -> Option<(String, usize)> {
        let fence = &self.fences[f];
        let max_c = self.limits.max_chars;
        let close_c = 1 + fence.marker.len;
        if !bare && !fence.info.is_empty() {
            let info = &self.text[fence.info.clone()];
            // A tilde fence's info string may start with tildes: a space
            // keeps them out of the marker run (`~~~ ~~x` reopened as
            // `~~~~~x` would need a longer closing run).
            let sep = info.as_bytes().first() == Some(&fence.marker.ch);
            let full_c = fence.marker.len + usize::from(sep) + fence.info_chars;
            if full_c + 1 + close_c <= max_c / 2 {
                let mut line = fence.marker.bare();
                if sep {
                    line.push(' ');
                }
                line.push_str(info);
                return Some((line, full_c));
            }
        }
        (fence.marker.len + 1 + close_c < max_c).then(|| (fence.marker.bare(), fence.marker.len))
    }

    /// Collects whitespace, CJK and hard-cut candidates inside the line where
    /// the window overflows.
    fn scan_line(
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

    /// Whether cutting line `k` (its part in this chunk starting at `from`)
    /// at `end`, the next chunk going on at `next` in the same line, keeps
    /// every piece what the whole line is: a text line's head or tail must
    /// not read as an opening fence, a code line's head or tail must not
    /// close its fence (`"a ```python"` split before the backticks would
    /// start the next chunk with a code block).
    fn keeps_fences(&self, k: usize, from: usize, end: usize, next: Option<usize>) -> bool {
        let line = &self.lines[k];
        let head = &self.text[from.min(end)..end];
        let tail = next
            .filter(|n| (line.start..line.end).contains(n))
            .map_or("", |n| &self.text[n..line.end]);
        if !starts_like_fence(head) && !starts_like_fence(tail) {
            return true;
        }
        // A tail that starts like a fence but is none (text: a backtick in
        // its info string; code: more than whitespace after the run) must
        // fit in the next chunk whole: cut again right after its run, its
        // head would open (or close) a block.
        let fits = |budget: usize| count_chars_capped(tail.trim_end(), budget) <= budget;
        match line.kind {
            Kind::Text => {
                parse_opener(head).is_none()
                    && parse_opener(tail).is_none()
                    && (!starts_like_fence(tail) || fits(self.limits.max_chars))
            }
            Kind::Open(f) | Kind::Code(f) => {
                let marker = self.fences[f].marker;
                let head_closes = from > line.start || !matches!(line.kind, Kind::Open(_));
                if marker.is_closed_by(tail) || head_closes && marker.is_closed_by(head) {
                    return false;
                }
                !starts_with_closing_run(tail, marker) || fits(self.next_code_budget(k, f))
            }
            Kind::Close(_) => false,
        }
    }

    /// The chars a chunk starting inside line `k` (of fence `f`) has for
    /// the line: `max_chars` less the reopening and closing lines.
    fn next_code_budget(&self, k: usize, f: usize) -> usize {
        let bare = matches!(self.lines[k].kind, Kind::Open(_));
        let close_c = 1 + self.fences[f].marker.len;
        match self.reopen_line(f, bare) {
            Some((_, c)) => self.limits.max_chars.saturating_sub(c + 1 + close_c),
            None => self.limits.max_chars,
        }
    }

    /// `g` (a hard cut in line `k`, whose part in the chunk starts at
    /// `from`), moved back until the pieces keep their kind (see
    /// [`Self::keeps_fences`]): one grapheme at a time, but a whitespace run
    /// at once and a run of backticks or tildes at once once 2 of it are in
    /// the tail (more would start the tail with a fence-like run). `None`
    /// when no cut after `from` does.
    fn fence_safe_cut(&self, k: usize, from: usize, g: usize) -> Option<usize> {
        let mut cut = g;
        // A few steps suffice unless a line holds many marker runs close
        // together (the degenerate limits of the module docs).
        let mut steps = 0;
        while cut > from && steps < MAX_FENCE_SAFE_STEPS {
            steps += 1;
            let end = self.trim_end_from(k, from, cut);
            let next = self.skip_ws(k, cut).map(|c| c.off);
            if end > from && self.keeps_fences(k, from, end, next) {
                return Some(cut);
            }
            let head = &self.text[from..cut];
            let before = match head.chars().next_back() {
                // In a marker run: the cuts leaving 1 or 2 of its chars to
                // the tail (which then cannot start a fence), then its start.
                Some(c @ ('`' | '~'))
                    if self.text.as_bytes()[cut..].starts_with(&[c as u8, c as u8]) =>
                {
                    from + head.trim_end_matches(c).len()
                }
                Some('`' | '~') => cut - 1,
                Some(c) if c.is_whitespace() => from + head.trim_end().len(),
                Some(c) => cut - c.len_utf8(),
                None => from,
            };
            cut = self.prev_boundary(k, before);
        }
        None
    }

    /// Last resort when no candidate is valid (long opening lines, tiny
    /// limits): a hard cut in the first line, fence accounting kept.
    fn relaxed_cut(&self, at: Cursor, prefix_c: usize, prefix_l: usize) -> Option<Cand> {
        let line = &self.lines[at.line];
        // Never end right after a whole opening fence line (the chunk would
        // hold an empty block): cut inside the block's first non-blank line
        // instead (the blank lines before it stay in the block, and count).
        if let Kind::Open(f) = line.kind {
            let first = line.next_nonblank;
            if at.off == line.start && first != NONE && self.lines[first].kind == Kind::Code(f) {
                let held: usize = self.lines[at.line..first]
                    .iter()
                    .map(|l| l.chars + l.eol)
                    .sum();
                let inner = Cursor {
                    line: first,
                    off: self.lines[first].start,
                };
                // No room for one char of it (indentation included): an
                // empty block beats an unbalanced one.
                let cut = self.relaxed_cut(inner, prefix_c + held, prefix_l + (first - at.line));
                if cut.is_some() {
                    return cut;
                }
            }
        }
        let close = match line.kind {
            Kind::Text => None,
            Kind::Open(f) | Kind::Code(f) | Kind::Close(f) => Some(f),
        };
        let suffix_c = close.map_or(0, |f| 1 + self.fences[f].marker.len);
        let budget = self.limits.max_chars.checked_sub(prefix_c + suffix_c)?;
        if budget == 0 {
            return None;
        }
        let lines = prefix_l + 1 + usize::from(close.is_some());
        let (h, count) = advance_chars(self.text, at.off, line.trim_end, budget);
        // (`max`: a start inside a cluster, after dropped whitespace.)
        let mut g = self.prev_boundary(at.line, h).max(at.off);
        if h == line.trim_end && close.is_some_and(|f| self.next_is_closer(at.line, f)) {
            // Leave the last grapheme for the next chunk, so that it does
            // not hold the closing fence alone; when that grapheme is all
            // the content there is, leave its last char (the cluster is cut
            // rather than sending an empty block).
            if let Some((j, _)) = self.text[at.off..h].char_indices().last() {
                let last = at.off + j;
                g = self.prev_boundary(at.line, last).max(at.off);
                if self.text[at.off..g].trim().is_empty() {
                    g = last;
                }
            }
        }
        if self.text[at.off..g].trim().is_empty() {
            // One cluster (after the line's indentation) larger than the
            // budget: split it.
            g = h;
        }
        let g = self.fence_safe_cut(at.line, at.off, g)?;
        let end = self.trim_end_from(at.line, at.off, g);
        if self.text[at.off..end].chars().all(char::is_whitespace) {
            return None;
        }
        Some(Cand {
            end,
            next: self.skip_ws(at.line, g),
            close,
            chars: prefix_c + count - self.text[end..h].chars().count() + suffix_c,
            lines,
        })
    }

    /// Fence accounting given up (limits too small for it): up to
    /// `max_chars` chars of the first line, as they are (the line's
    /// indentation dropped, so the chunk is never whitespace only).
    fn raw_cut(&self, at: Cursor) -> (Cursor, Cand) {
        let line = &self.lines[at.line];
        let indent = self.text[at.off..line.trim_end].len()
            - self.text[at.off..line.trim_end].trim_start().len();
        let at = Cursor {
            off: at.off + indent,
            ..at
        };
        let (h, count) = advance_chars(self.text, at.off, line.trim_end, self.limits.max_chars);
        let mut g = self.prev_boundary(at.line, h);
        if g <= at.off {
            g = h;
        }
        // No fence lines are added here, but a cut must still not make a
        // piece of the line read as a fence.
        // (Degenerate limits: when no cut does, the line is cut anyway.)
        g = self.fence_safe_cut(at.line, at.off, g).unwrap_or(g);
        let mut end = self.trim_end_from(at.line, at.off, g);
        if end <= at.off {
            end = g;
        }
        let cand = Cand {
            end,
            next: self.skip_ws(at.line, end),
            close: None,
            chars: count - self.text[end.min(h)..h].chars().count(),
            lines: 1,
        };
        (at, cand)
    }

    /// The next chunk start at or after `from` in line `k`: skips
    /// whitespace, moving to the next non-blank line if the rest is blank.
    fn skip_ws(&self, k: usize, from: usize) -> Option<Cursor> {
        let line = &self.lines[k];
        if from >= line.trim_end {
            return self.after_line(k);
        }
        let rest = &self.text[from..line.trim_end];
        // Whitespace only (the rest of a cluster cut in two, e.g. a prepend
        // mark and the space it joins): the line is done.
        let Some(i) = rest.find(|c: char| !c.is_whitespace()) else {
            return self.after_line(k);
        };
        let mut q = from + i;
        if q > from && !self.is_boundary(k, q) {
            // The char needs the whitespace before it (e.g. a combining mark).
            q = from + rest[..i].char_indices().last().map_or(0, |(j, _)| j);
        }
        Some(Cursor { line: k, off: q })
    }

    /// `to` with trailing whitespace removed (not below `from`), kept on a
    /// grapheme boundary.
    fn trim_end_from(&self, k: usize, from: usize, to: usize) -> usize {
        let trimmed = from + self.text[from..to].trim_end().len();
        if trimmed < to && !self.is_boundary(k, trimmed) {
            to
        } else {
            trimmed
        }
    }

    fn is_boundary(&self, k: usize, pos: usize) -> bool {
        let line = &self.lines[k];
        if pos <= line.start || pos >= line.end {
            return true;
        }
        let bytes = self.text.as_bytes();
        if bytes[pos - 1] < 0x80 && bytes[pos] < 0x80 {
            return true;
        }
        let s = &self.text[line.start..line.end];
        GraphemeCursor::new(pos - line.start, s.len(), true)
            .is_boundary(s, 0)
            .unwrap_or(true)
    }

    /// The last grapheme boundary at or before `pos` in line `k`.
    fn prev_boundary(&self, k: usize, pos: usize) -> usize {
        if self.is_boundary(k, pos) {
            return pos;
        }
        let line = &self.lines[k];
        let s = &self.text[line.start..line.end];
        match GraphemeCursor::new(pos - line.start, s.len(), true).prev_boundary(s, 0) {
            Ok(Some(b)) => line.start + b,
            _ => line.start,
        }
    }
}

/// The inputs of [`Chunker::scan_line`].
struct LineScan {
    k: usize,
    start_off: usize,
    body_start: usize,
    acc_c: usize,
    suffix_c: usize,
    lines: usize,
    close: Option<usize>,
    spans: bool,
}

/// Finds inline code spans and links starting at a position, with caches so
/// that repeated failing searches stay linear.
struct SpanFinder<'t> {
    text: &'t str,
    /// Backtick run lengths (1..=32) known to have no closing run ahead.
    no_close_run: u32,
    /// Next `]` at or after the cached position (`NONE`: none ahead).
    next_bracket: Option<usize>,
}

impl<'t> SpanFinder<'t> {
    fn new(text: &'t str) -> Self {
        Self {
            text,
            no_close_run: 0,
            next_bracket: None,
        }
    }

    /// The span (code or link) starting at `p`, if one does.
    fn span_at(&mut self, p: usize) -> Option<Range<usize>> {
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

/// How far (in graphemes) a hard cut moves back to keep a fence a fence.
const MAX_FENCE_SAFE_STEPS: usize = 64;

/// Whether `s` starts (after up to 3 spaces) with three backticks or
/// tildes: the cheap test before a piece is parsed as a fence line.
fn starts_like_fence(s: &str) -> bool {
    let t = s.trim_start_matches(' ');
    s.len() - t.len() <= 3 && (t.starts_with("```") || t.starts_with("~~~"))
}

/// Whether `s` starts (after up to 3 spaces) with a run that would close a
/// fence opened with `marker`, were only whitespace to follow it.
fn starts_with_closing_run(s: &str, marker: FenceMarker) -> bool {
    let t = s.trim_start_matches(' ');
    s.len() - t.len() <= 3 && t.bytes().take_while(|b| *b == marker.ch).count() >= marker.len
}

/// Whitespace a chunk may break at (not the no-break spaces).
fn is_break_ws(c: char) -> bool {
    c.is_whitespace() && !matches!(c, '\u{a0}' | '\u{2007}' | '\u{202f}')
}

/// Counts chars of `s`, stopping once more than `cap` are seen.
fn count_chars_capped(s: &str, cap: usize) -> usize {
    if s.len() <= cap {
        s.chars().count()
    } else {
        s.chars().take(cap + 1).count()
    }
}

/// The byte offset `n` chars after `from` (not past `to`) and the chars
/// actually advanced.
fn advance_chars(text: &str, from: usize, to: usize, n: usize) -> (usize, usize) {
    match text[from..to].char_indices().nth(n) {
        Some((i, _)) => (from + i, n),
        None => (to, text[from..to].chars().count()),
    }
}

/// The first grapheme boundary at or after `pos` in `s`.
fn next_boundary_in(s: &str, pos: usize) -> usize {
    let mut cursor = GraphemeCursor::new(pos, s.len(), true);
    if cursor.is_boundary(s, 0).unwrap_or(true) {
        return pos;
    }
    match cursor.next_boundary(s, 0) {
        Ok(Some(b)) => b,
        _ => s.len(),
    }
}
