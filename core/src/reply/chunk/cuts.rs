//! Last-resort cuts, when the window holds no usable break: the relaxed cut
//! (a hard cut in the chunk's first line, fence accounting kept) and the
//! raw cut (fence accounting given up at degenerate limits).

use super::lines::{advance_chars, Chunker, Cursor, Kind, NONE};
use super::window::Cand;

impl Chunker<'_> {
    /// Last resort when no candidate is valid (long opening lines, tiny
    /// limits): a hard cut in the first line, fence accounting kept.
    pub(super) fn relaxed_cut(&self, at: Cursor, prefix_c: usize, prefix_l: usize) -> Option<Cand> {
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
    pub(super) fn raw_cut(&self, at: Cursor) -> (Cursor, Cand) {
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
}
