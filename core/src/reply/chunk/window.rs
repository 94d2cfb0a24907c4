//! The main loop: one chunk at a time, the window from the chunk start to
//! the first point where a limit would be exceeded, the best break of each
//! class found in it, and the tiny-chunk rule that picks among them (see
//! the module docs of [`super`]).

use super::breaks::LineScan;
use super::lines::{count_chars_capped, Chunker, Cursor, Kind};
use super::{ChunkMode, ChunkSpan};

/// A possible chunk end.
#[derive(Debug, Clone, Copy)]
pub(super) struct Cand {
    /// Body end (exclusive).
    pub(super) end: usize,
    /// Where the next chunk starts (`None`: nothing left).
    pub(super) next: Option<Cursor>,
    /// The fence to close after the body, if it ends inside one.
    pub(super) close: Option<usize>,
    /// Rendered size of the chunk if it ends here.
    pub(super) chars: usize,
    pub(super) lines: usize,
}

pub(super) const PARA: usize = 0;
pub(super) const LINE: usize = 1;
pub(super) const WS: usize = 2;
pub(super) const CJK: usize = 3;

impl Chunker<'_> {
    /// Cuts one chunk starting at `at`; returns it and the next start.
    pub(super) fn next_chunk(&self, at: Cursor) -> (ChunkSpan, Option<Cursor>) {
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

    pub(super) fn finish(
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
    pub(super) fn select(
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

    pub(super) fn half_full(&self, cand: &Cand) -> bool {
        2 * cand.chars >= self.limits.max_chars
            || self.limits.max_lines.is_some_and(|l| 2 * cand.lines >= l)
    }
}
