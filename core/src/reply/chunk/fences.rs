//! Fences kept what they are: the reopening line of a block a chunk starts
//! inside, and the check that a cut inside a line makes no piece read as a
//! fence (a text piece as an opener, a code piece as the closing line),
//! with the hard cut moved back until it does not.

use super::super::fence::{parse_opener, FenceMarker};
use super::lines::{count_chars_capped, Chunker, Kind, NONE};

impl Chunker<'_> {
    /// Whether the next non-blank line after `k` closes fence `f` (breaking
    /// after `k` would leave the next chunk an empty reopened block).
    pub(super) fn next_is_closer(&self, k: usize, f: usize) -> bool {
        let next = self.lines[k].next_nonblank;
        next != NONE && self.lines[next].kind == Kind::Close(f)
    }

    /// The reopening line for fence `f` and its length in chars, or `None`
    /// when not even the bare marker, a close line and one char fit.
    pub(super) fn reopen_line(&self, f: usize, bare: bool) -> Option<(String, usize)> {
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

    /// Whether cutting line `k` (its part in this chunk starting at `from`)
    /// at `end`, the next chunk going on at `next` in the same line, keeps
    /// every piece what the whole line is: a text line's head or tail must
    /// not read as an opening fence, a code line's head or tail must not
    /// close its fence (`"a ```python"` split before the backticks would
    /// start the next chunk with a code block).
    pub(super) fn keeps_fences(
        &self,
        k: usize,
        from: usize,
        end: usize,
        next: Option<usize>,
    ) -> bool {
        let line = &self.lines[k];
        let head = &self.text[from.min(end)..end];
        let tail = next
            .filter(|n| (line.start..line.end).contains(n))
            .map_or("", |n| &self.text[n..line.end]);
        if let Kind::Open(f) = line.kind {
            // The head of a whole opening line must still open the block
            // (a close line follows it): no cut inside the marker run.
            if from <= line.start
                && parse_opener(head).map(|o| o.marker) != Some(self.fences[f].marker)
            {
                return false;
            }
        }
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
    pub(super) fn next_code_budget(&self, k: usize, f: usize) -> usize {
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
    /// the tail (more would start the tail with a fence-like run), except
    /// the cuts leaving 2 or 1 of it to a head it starts. `None` when no cut
    /// after `from` does.
    pub(super) fn fence_safe_cut(&self, k: usize, from: usize, g: usize) -> Option<usize> {
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
                // the tail (which then cannot start a fence), then, when
                // the run starts the piece, those leaving 2 or 1 of them to
                // the head (no fence either), then its start.
                Some(c @ ('`' | '~'))
                    if self.text.as_bytes()[cut..].starts_with(&[c as u8, c as u8]) =>
                {
                    let run_start = from + head.trim_end_matches(c).len();
                    let lead = &self.text[from..run_start];
                    let leads = lead.len() <= 3 && lead.bytes().all(|b| b == b' ');
                    if leads && cut > run_start + 2 {
                        run_start + 2
                    } else if leads && cut > run_start + 1 {
                        run_start + 1
                    } else {
                        run_start
                    }
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
}

/// How far (in graphemes) a hard cut moves back to keep a fence a fence.
pub(super) const MAX_FENCE_SAFE_STEPS: usize = 64;

/// Whether `s` starts (after up to 3 spaces) with three backticks or
/// tildes: the cheap test before a piece is parsed as a fence line.
pub(super) fn starts_like_fence(s: &str) -> bool {
    let t = s.trim_start_matches(' ');
    s.len() - t.len() <= 3 && (t.starts_with("```") || t.starts_with("~~~"))
}

/// Whether `s` starts (after up to 3 spaces) with a run that would close a
/// fence opened with `marker`, were only whitespace to follow it.
pub(super) fn starts_with_closing_run(s: &str, marker: FenceMarker) -> bool {
    let t = s.trim_start_matches(' ');
    s.len() - t.len() <= 3 && t.bytes().take_while(|b| *b == marker.ch).count() >= marker.len
}
