//! `MEDIA:` lines in an agent's reply: a line of its own `MEDIA: <path or
//! https URL>` asks krill to send that file. [`extract_media`] takes those
//! lines out of the text and returns what they name; everything else of the
//! reply is kept as it was.
//!
//! Rules:
//! - the line, trimmed, starts with `MEDIA:` (upper case, as the convention
//!   of the Discord doc's ecosystem writes it); the rest, trimmed, is the
//!   target. A target wrapped in backticks, quotes or `<…>` is unwrapped.
//! - `https://…` is a URL; `http://` and other schemes are refused (the
//!   user is told); anything else is a local path (relative paths are under
//!   `<state>/media/`, see [`super::path_policy`]).
//! - lines inside a fenced code block (```` ``` ```` / `~~~`) are text, so
//!   an agent can show the syntax without triggering it.
//! - a `MEDIA:` line with nothing after it is kept as text.
//! - lines that held a directive are removed; blank lines left at the start
//!   or the end of the reply are trimmed, so a reply that was only `MEDIA:`
//!   lines becomes empty text.

/// What a `MEDIA:` line names.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum MediaRef {
    /// A local path, as written (not yet resolved or checked).
    Local(String),
    /// An `https://` URL.
    Url(String),
    /// Something krill will not fetch (an `http://` or other URL); the
    /// user is told.
    Unsupported(String),
}

impl MediaRef {
    /// The target as the agent wrote it.
    pub fn as_str(&self) -> &str {
        match self {
            MediaRef::Local(s) | MediaRef::Url(s) | MediaRef::Unsupported(s) => s,
        }
    }
}

/// A reply with its `MEDIA:` lines taken out.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct MediaReply {
    /// The text without the directive lines.
    pub text: String,
    /// The files, in the order the lines came.
    pub media: Vec<MediaRef>,
}

/// The directive keyword, with its colon.
pub const MEDIA_PREFIX: &str = "MEDIA:";

/// Splits `reply` into its text and the files its `MEDIA:` lines name (see
/// the module docs). A reply without directives comes back unchanged.
pub fn extract_media(reply: &str) -> MediaReply {
    let mut media = Vec::new();
    let mut kept: Vec<&str> = Vec::new();
    let mut fence: Option<(char, usize)> = None;
    for line in reply.split('\n') {
        let trimmed = line.trim();
        if let Some(open) = fence {
            if closes_fence(trimmed, open) {
                fence = None;
            }
            kept.push(line);
            continue;
        }
        if let Some(open) = opens_fence(trimmed) {
            fence = Some(open);
            kept.push(line);
            continue;
        }
        match parse_line(trimmed) {
            Some(target) => media.push(target),
            None => kept.push(line),
        }
    }
    if media.is_empty() {
        return MediaReply {
            text: reply.to_owned(),
            media,
        };
    }
    let text = kept.join("\n");
    let text = text.trim_matches(|c| c == '\n' || c == '\r');
    let text = if text.trim().is_empty() { "" } else { text };
    MediaReply {
        text: text.to_owned(),
        media,
    }
}

/// The target of one trimmed line, when it is a directive.
fn parse_line(trimmed: &str) -> Option<MediaRef> {
    let rest = trimmed.strip_prefix(MEDIA_PREFIX)?;
    let target = unwrap_target(rest.trim());
    if target.is_empty() || target.contains(['\n', '\r', '\0']) {
        return None;
    }
    let lower = target.to_ascii_lowercase();
    Some(
        if lower.starts_with("https://") && target.len() > "https://".len() {
            MediaRef::Url(target.to_owned())
        } else if has_scheme(&lower) {
            MediaRef::Unsupported(target.to_owned())
        } else {
            MediaRef::Local(target.to_owned())
        },
    )
}

/// Strips one pair of backticks, quotes or angle brackets.
fn unwrap_target(target: &str) -> &str {
    for (open, close) in [('`', '`'), ('"', '"'), ('\'', '\''), ('<', '>')] {
        if let Some(inner) = target
            .strip_prefix(open)
            .and_then(|t| t.strip_suffix(close))
        {
            return inner.trim();
        }
    }
    target
}

/// `scheme://` at the start (letters, digits, `+-.`, then `://`).
fn has_scheme(lower: &str) -> bool {
    match lower.split_once("://") {
        Some((scheme, _)) => {
            !scheme.is_empty()
                && scheme.starts_with(|c: char| c.is_ascii_alphabetic())
                && scheme
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
        }
        None => false,
    }
}

/// A fence opener: three or more backticks or tildes.
fn opens_fence(trimmed: &str) -> Option<(char, usize)> {
    let marker = trimmed.chars().next().filter(|c| *c == '`' || *c == '~')?;
    let run = trimmed.chars().take_while(|c| *c == marker).count();
    (run >= 3).then_some((marker, run))
}

/// The closer of a fence opened with `open`: the same marker, at least as
/// long, nothing else on the line.
fn closes_fence(trimmed: &str, (marker, run): (char, usize)) -> bool {
    let len = trimmed.chars().take_while(|c| *c == marker).count();
    len >= run && trimmed.chars().all(|c| c == marker)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_directive_line_is_taken_out() {
        let r = extract_media("Here you go:\nMEDIA: media/out/chart.png\nEnjoy.");
        assert_eq!(r.text, "Here you go:\nEnjoy.");
        assert_eq!(r.media, vec![MediaRef::Local("media/out/chart.png".into())]);
    }

    #[test]
    fn urls_schemes_and_wrapping() {
        let r = extract_media(
            "MEDIA: https://example.com/a.png\nMEDIA: `http://x/y`\n  MEDIA: \"/tmp/a b.txt\"  ",
        );
        assert_eq!(r.text, "");
        assert_eq!(
            r.media,
            vec![
                MediaRef::Url("https://example.com/a.png".into()),
                MediaRef::Unsupported("http://x/y".into()),
                MediaRef::Local("/tmp/a b.txt".into()),
            ]
        );
    }

    #[test]
    fn fenced_and_inline_mentions_stay_text() {
        let text = "```\nMEDIA: /etc/passwd\n```\nwrite MEDIA: x to send\nMEDIA:\nmedia: lower";
        let r = extract_media(text);
        assert_eq!(r.text, text);
        assert!(r.media.is_empty());
    }
}
