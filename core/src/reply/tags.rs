//! Reply tags: `[[reply_to_current]]` and `[[reply_to:<id>]]` in the agent's
//! text ask for a native reply (the message shows as an answer to another).
//!
//! Rules:
//! - Tags are case-insensitive and allow whitespace inside the brackets
//!   (`[[ Reply_To : 123 ]]`). The id is one run of non-whitespace characters
//!   without brackets; `[[reply_to:]]` is not a tag and stays in the text.
//! - Every tag outside code is removed from the text. The target is the
//!   **last** `[[reply_to:<id>]]` if there is any (an explicit id beats
//!   `[[reply_to_current]]`, wherever they appear); otherwise
//!   `[[reply_to_current]]` gives [`ReplyTarget::Current`].
//! - Tags inside a fenced code block or an inline code span are left alone
//!   (literal text, e.g. the agent explaining the syntax) and do not count.
//! - Tidying: a line that held only tags disappears with its line break (and
//!   the blank line it leaves is folded into a neighbouring one); a tag
//!   between words leaves one space, not two; a tag at a line start or end
//!   takes the whitespace next to it. When any tag was removed, leading blank
//!   lines and trailing whitespace of the whole text are trimmed.
//!
//! Whether the target is used is decided by `replyToMode` in
//! [`super::plan_reply`].

use std::sync::LazyLock;

use regex::Regex;

use super::fence::{parse_opener, FenceMarker};

/// Which message a reply answers.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ReplyTarget {
    /// The message that triggered this turn (`[[reply_to_current]]`).
    Current,
    /// A message id named by the agent (`[[reply_to:<id>]]`).
    Message(String),
}

/// The agent's text with reply tags removed, and the target they asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaggedReply {
    /// The text without tags (tidied, see the module docs).
    pub text: String,
    /// `None` when the text carried no tag.
    pub target: Option<ReplyTarget>,
}

static TAG: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)\[\[\s*(?:reply_to_current|reply_to\s*:\s*([^\[\]\s]+))\s*\]\]")
        .expect("the tag pattern is a valid regex literal")
});

/// Removes reply tags from `text` and returns the target they name.
pub fn extract_reply_tags(text: &str) -> TaggedReply {
    if !text.contains("[[") {
        return TaggedReply {
            text: text.to_owned(),
            target: None,
        };
    }
    let mut out = String::with_capacity(text.len());
    let mut current = false;
    let mut explicit: Option<String> = None;
    let mut removed = false;
    let mut fence: Option<FenceMarker> = None;
    // A tag-only line was just dropped: fold the blank line that follows
    // if the output already ends with a blank line (or is empty).
    let mut fold_blank = false;
    for raw in text.split_inclusive('\n') {
        let body_len = raw.trim_end_matches(['\n', '\r']).len();
        let (line, eol) = raw.split_at(body_len);
        if let Some(marker) = fence {
            if marker.is_closed_by(line) {
                fence = None;
            }
            out.push_str(raw);
            fold_blank = false;
            continue;
        }
        if let Some(open) = parse_opener(line) {
            fence = Some(open.marker);
            out.push_str(raw);
            fold_blank = false;
            continue;
        }
        if line.trim().is_empty() {
            if !fold_blank {
                out.push_str(raw);
            }
            continue;
        }
        fold_blank = false;
        if !line.contains("[[") {
            out.push_str(raw);
            continue;
        }
        let code = inline_code_spans(line);
        let mut kept = String::with_capacity(line.len());
        let mut last = 0;
        let mut any = false;
        for caps in TAG.captures_iter(line) {
            let Some(m) = caps.get(0) else { continue };
            if code.iter().any(|c| c.start < m.end() && m.start() < c.end) {
                continue;
            }
            match caps.get(1) {
                Some(id) => explicit = Some(id.as_str().to_owned()),
                None => current = true,
            }
            any = true;
            let before = &line[last..m.start()];
            kept.push_str(before);
            last = m.end();
            // Take the whitespace after the tag when nothing (or whitespace)
            // precedes it, so no double or leading space is left.
            if kept.trim().is_empty() || kept.ends_with([' ', '\t']) {
                let rest = &line[last..];
                last += rest.len() - rest.trim_start_matches([' ', '\t']).len();
            }
        }
        if !any {
            out.push_str(raw);
            continue;
        }
        removed = true;
        kept.push_str(&line[last..]);
        if kept.trim().is_empty() {
            fold_blank = out.is_empty() || out.ends_with("\n\n") || out.ends_with("\n\r\n");
            continue;
        }
        if last == line.len() {
            let trimmed = kept.trim_end_matches([' ', '\t']).len();
            kept.truncate(trimmed);
        }
        out.push_str(&kept);
        out.push_str(eol);
    }
    let target = match explicit {
        Some(id) => Some(ReplyTarget::Message(id)),
        None if current => Some(ReplyTarget::Current),
        None => None,
    };
    if removed {
        let trimmed_end = out.trim_end().len();
        out.truncate(trimmed_end);
        let lead = leading_blank_lines(&out);
        out.drain(..lead);
    }
    TaggedReply { text: out, target }
}

/// Byte length of the whitespace-only lines at the start of `s`.
fn leading_blank_lines(s: &str) -> usize {
    let mut cut = 0;
    for line in s.split_inclusive('\n') {
        if line.ends_with('\n') && line.trim().is_empty() {
            cut += line.len();
        } else {
            break;
        }
    }
    cut
}

/// Inline code spans of one line (CommonMark backtick runs of equal length).
fn inline_code_spans(line: &str) -> Vec<std::ops::Range<usize>> {
    let bytes = line.as_bytes();
    let mut spans = Vec::new();
    let mut i = 0;
    // Run lengths (1..=32) already known to have no closing run ahead: keeps
    // lines full of unmatched backticks linear.
    let mut no_close: u32 = 0;
    while let Some(j) = line[i..].find('`') {
        let start = i + j;
        let n = bytes[start..].iter().take_while(|b| **b == b'`').count();
        let bit = if n <= 32 { 1u32 << (n - 1) } else { 0 };
        if no_close & bit != 0 {
            i = start + n;
            continue;
        }
        let mut k = start + n;
        let mut closed = None;
        while let Some(j2) = line[k..].find('`') {
            let run_start = k + j2;
            let run = bytes[run_start..]
                .iter()
                .take_while(|b| **b == b'`')
                .count();
            if run == n {
                closed = Some(run_start + run);
                break;
            }
            k = run_start + run;
        }
        match closed {
            Some(end) => {
                spans.push(start..end);
                i = end;
            }
            None => {
                no_close |= bit;
                i = start + n;
            }
        }
    }
    spans
}
