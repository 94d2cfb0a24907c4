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
//! lines between chunks, the whitespace run a chunk breaks at (no-break
//! spaces in it included: they are never a break, nor a chunk's start), and
//! leading blank lines of the reply. Indentation of a chunk's first line is kept
//! after a line break (code stays indented), unless it is wider than the
//! room a chunk inside a block has beside its fence lines. Joining the bodies (see
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
//! instead (possibly into a backtick/tilde run, leaving 1 or 2 of its chars
//! to the next piece). A tail that starts like a fence without being one
//! (text: a backtick later in its info string; code: text after a closing
//! run) is split off only when it fits the next chunk whole, since cutting
//! it again could make its head a fence. When no cut of a line is safe, the
//! chunk ends before the line (an empty block beats an unbalanced one).
//! Only a run of backticks or tildes, or a stretch of whitespace right
//! before one, about as long as half the limit (degenerate again) can leave
//! no such cut.
//!
//! # Cost
//! One pass builds a line table (`memchr` for line ends, a char count per
//! line); each chunk then walks its window once. Only the one line where the
//! window overflows is scanned char by char, so the total work is linear in
//! the input (each window is rescanned at most about twice).
//!
//! # Layout
//! | submodule | owns |
//! |---|---|
//! | `lines` | the line table (extents, char counts, fence roles) and in-line moves |
//! | `window` | the main loop: one chunk's window, its candidates, the tiny-chunk rule |
//! | `breaks` | whitespace, CJK and hard-cut candidates in the overflowing line |
//! | `fences` | reopening lines and fence-safe cuts |
//! | `cuts` | last-resort cuts (relaxed, raw) |

mod breaks;
mod cuts;
mod fences;
mod lines;
mod window;

use std::ops::Range;

use super::ChunkMode;
use lines::Chunker;

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
