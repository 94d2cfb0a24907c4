//! The line table: one pass over the reply records each line's extent,
//! char counts and fence role ([`Kind`]), and the helpers every cut uses to
//! move within a line (whitespace, grapheme boundaries, char counts).

use std::ops::Range;

use unicode_segmentation::GraphemeCursor;

use super::super::fence::{parse_opener, FenceMarker};
use super::ChunkLimits;

/// What a line is, for fence tracking (`usize` indexes `Chunker::fences`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Kind {
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
pub(super) struct Line {
    pub(super) start: usize,
    /// End of the content, before `\r\n` / `\n`.
    pub(super) end: usize,
    /// End of the content without trailing whitespace (`== start` if blank).
    pub(super) trim_end: usize,
    /// Chars in `start..end`.
    pub(super) chars: usize,
    /// Chars in `start..trim_end`.
    pub(super) trim_chars: usize,
    /// Bytes (= chars) of the line ending: 0, 1 or 2.
    pub(super) eol: usize,
    /// Index of the next non-blank line, `NONE` if there is none.
    pub(super) next_nonblank: usize,
    pub(super) kind: Kind,
}

impl Line {
    pub(super) fn blank(&self) -> bool {
        self.trim_end == self.start
    }
}

pub(super) const NONE: usize = usize::MAX;

#[derive(Debug, Clone)]
pub(super) struct Fence {
    pub(super) marker: FenceMarker,
    pub(super) info: Range<usize>,
    pub(super) info_chars: usize,
}

/// A chunk start: a line and a byte offset in it, pointing at the line start
/// of a non-blank line or at a non-whitespace char.
#[derive(Debug, Clone, Copy)]
pub(super) struct Cursor {
    pub(super) line: usize,
    pub(super) off: usize,
}

pub(super) struct Chunker<'a> {
    pub(super) text: &'a str,
    pub(super) lines: Vec<Line>,
    pub(super) fences: Vec<Fence>,
    pub(super) limits: ChunkLimits,
}
impl<'a> Chunker<'a> {
    pub(super) fn new(text: &'a str, limits: ChunkLimits) -> Self {
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

    pub(super) fn first_cursor(&self) -> Option<Cursor> {
        let first = &self.lines[0];
        if first.blank() {
            self.line_cursor(first.next_nonblank)
        } else {
            self.line_cursor(0)
        }
    }

    pub(super) fn line_cursor(&self, line: usize) -> Option<Cursor> {
        (line != NONE).then(|| Cursor {
            line,
            off: self.lines[line].start,
        })
    }

    /// Where the next chunk starts after a break at the end of line `k`.
    pub(super) fn after_line(&self, k: usize) -> Option<Cursor> {
        self.line_cursor(self.lines[k].next_nonblank)
    }

    /// The next chunk start at or after `from` in line `k`: skips
    /// whitespace, moving to the next non-blank line if the rest is blank.
    pub(super) fn skip_ws(&self, k: usize, from: usize) -> Option<Cursor> {
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
    pub(super) fn trim_end_from(&self, k: usize, from: usize, to: usize) -> usize {
        let trimmed = from + self.text[from..to].trim_end().len();
        if trimmed < to && !self.is_boundary(k, trimmed) {
            to
        } else {
            trimmed
        }
    }

    pub(super) fn is_boundary(&self, k: usize, pos: usize) -> bool {
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
    pub(super) fn prev_boundary(&self, k: usize, pos: usize) -> usize {
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

/// Counts chars of `s`, stopping once more than `cap` are seen.
pub(super) fn count_chars_capped(s: &str, cap: usize) -> usize {
    if s.len() <= cap {
        s.chars().count()
    } else {
        s.chars().take(cap + 1).count()
    }
}

/// The byte offset `n` chars after `from` (not past `to`) and the chars
/// actually advanced.
pub(super) fn advance_chars(text: &str, from: usize, to: usize, n: usize) -> (usize, usize) {
    match text[from..to].char_indices().nth(n) {
        Some((i, _)) => (from + i, n),
        None => (to, text[from..to].chars().count()),
    }
}

/// The first grapheme boundary at or after `pos` in `s`.
pub(super) fn next_boundary_in(s: &str, pos: usize) -> usize {
    let mut cursor = GraphemeCursor::new(pos, s.len(), true);
    if cursor.is_boundary(s, 0).unwrap_or(true) {
        return pos;
    }
    match cursor.next_boundary(s, 0) {
        Ok(Some(b)) => b,
        _ => s.len(),
    }
}
