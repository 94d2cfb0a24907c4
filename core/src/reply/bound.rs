//! The bound on one reply's length: an agent's reply longer than
//! `maxReplyChars` is cut, and the cut is told to the reader.
//!
//! A reply of megabytes would otherwise become thousands of messages that
//! hold a chat (and, on KOOK, the bot's one `/message/create` bucket) for
//! many minutes. The cut falls on the last line break, else whitespace, in
//! the last tenth before the bound (never inside a character); a code block
//! left open is closed; then a visible note ends the reply.

use std::borrow::Cow;

use super::fence::{parse_opener, FenceMarker};

/// `maxReplyChars` default: characters (code points) of one reply.
pub const DEFAULT_MAX_REPLY_CHARS: usize = 20_000;

/// `text` cut to at most `max_chars` characters (code points) plus the
/// closing fence and the note, or `text` itself when it fits.
pub fn bound_reply(text: &str, max_chars: usize) -> Cow<'_, str> {
    let max_chars = max_chars.max(1);
    let Some((hard, _)) = text.char_indices().nth(max_chars) else {
        return Cow::Borrowed(text);
    };
    let total = text.chars().count();
    let floor = text[..hard]
        .char_indices()
        .nth(max_chars - max_chars / 10)
        .map_or(0, |(i, _)| i);
    let window = &text[floor..hard];
    let cut = window
        .rfind('\n')
        .or_else(|| window.rfind(char::is_whitespace))
        .map_or(hard, |i| floor + i);
    let kept = text[..cut].trim_end();
    let mut out = String::with_capacity(kept.len() + 120);
    out.push_str(kept);
    if let Some(marker) = open_fence_at_end(kept) {
        out.push('\n');
        out.push_str(&marker.bare());
    }
    out.push_str(&format!(
        "\n\n[reply cut: {total} characters, over the {max_chars}-character limit (maxReplyChars)]"
    ));
    Cow::Owned(out)
}

/// The fence still open at the end of `text`, if any.
fn open_fence_at_end(text: &str) -> Option<FenceMarker> {
    let mut open: Option<FenceMarker> = None;
    for line in text.split('\n') {
        let line = line.strip_suffix('\r').unwrap_or(line);
        match open {
            Some(m) if m.is_closed_by(line) => open = None,
            Some(_) => {}
            None => open = parse_opener(line).map(|o| o.marker),
        }
    }
    open
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_short_reply_is_untouched() {
        assert!(matches!(bound_reply("hello", 10), Cow::Borrowed("hello")));
    }

    #[test]
    fn a_long_reply_is_cut_at_a_break_and_says_so() {
        let text = "word ".repeat(100);
        let cut = bound_reply(&text, 50);
        let (body, note) = cut.split_once("\n\n[reply cut").expect("a note");
        assert!(
            body.chars().count() <= 50 && body.chars().count() >= 40,
            "{body:?}"
        );
        assert!(body.ends_with("word"));
        assert!(note.contains("500 characters, over the 50-character limit"));
    }

    #[test]
    fn an_open_code_block_is_closed_before_the_note() {
        let text = format!("intro\n```rust\n{}", "let x = 1;\n".repeat(50));
        let cut = bound_reply(&text, 100);
        assert!(cut.contains("\n```\n\n[reply cut"), "{cut}");
    }
}
