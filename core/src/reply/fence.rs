//! Markdown code-fence lines: recognising an opening fence (```` ``` ```` or
//! `~~~`, with an info string) and the line that closes it.
//!
//! The rules follow CommonMark's fenced code blocks, line by line:
//! - an **opening fence** is up to 3 spaces of indentation, then a run of at
//!   least 3 backticks or at least 3 tildes, then an optional info string;
//!   for a backtick fence the info string may not contain a backtick;
//! - a **closing fence** is up to 3 spaces of indentation, then a run of the
//!   *same* character at least as long as the opening run, then only
//!   whitespace.
//!
//! Fences nested in list items or block quotes (container indentation) are
//! not recognised; Discord's and KOOK's renderers are line-based as well.
//! Callers hand in one line without its line ending (`\r` is tolerated).

/// An opening fence: which character, how many of it, and the info string.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FenceMarker {
    /// `b'`'` or `b'~'`.
    pub ch: u8,
    /// Length of the marker run (3 or more).
    pub len: usize,
}

impl FenceMarker {
    /// The marker alone, e.g. ```` ``` ```` (also a valid closing line).
    pub fn bare(self) -> String {
        char::from(self.ch).to_string().repeat(self.len)
    }

    /// Whether `line` closes a fence opened with this marker.
    pub fn is_closed_by(self, line: &str) -> bool {
        let rest = match strip_indent(line) {
            Some(rest) => rest,
            None => return false,
        };
        let run = rest.bytes().take_while(|b| *b == self.ch).count();
        run >= self.len && rest[run..].trim().is_empty()
    }
}

/// An opening fence line, parsed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FenceOpen<'a> {
    /// The marker run.
    pub marker: FenceMarker,
    /// The info string (e.g. `rust`), trimmed; empty when there is none.
    pub info: &'a str,
}

/// Parses `line` as an opening fence; `None` when it is not one.
pub fn parse_opener(line: &str) -> Option<FenceOpen<'_>> {
    let rest = strip_indent(line)?;
    let ch = *rest.as_bytes().first()?;
    if ch != b'`' && ch != b'~' {
        return None;
    }
    let len = rest.bytes().take_while(|b| *b == ch).count();
    if len < 3 {
        return None;
    }
    let info = rest[len..].trim();
    if ch == b'`' && info.contains('`') {
        return None;
    }
    Some(FenceOpen {
        marker: FenceMarker { ch, len },
        info,
    })
}

/// Strips up to 3 leading spaces; `None` if the line is indented further
/// (an indented code line, never a fence).
fn strip_indent(line: &str) -> Option<&str> {
    let spaces = line.bytes().take_while(|b| *b == b' ').count();
    if spaces > 3 {
        None
    } else {
        Some(&line[spaces..])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn openers() {
        let o = parse_opener("```rust").unwrap();
        assert_eq!((o.marker.ch, o.marker.len, o.info), (b'`', 3, "rust"));
        let o = parse_opener("   ~~~~ python  \r").unwrap();
        assert_eq!((o.marker.ch, o.marker.len, o.info), (b'~', 4, "python"));
        assert!(
            parse_opener("    ```").is_none(),
            "4 spaces = indented code"
        );
        assert!(parse_opener("``").is_none());
        assert!(parse_opener("``` a`b").is_none(), "backtick in info");
        assert!(
            parse_opener("~~~ a`b").is_some(),
            "tilde info may hold backticks"
        );
        assert!(parse_opener("text ```").is_none());
    }

    #[test]
    fn closers() {
        let m = FenceMarker { ch: b'`', len: 4 };
        assert!(m.is_closed_by("````"));
        assert!(m.is_closed_by("  `````  \r"));
        assert!(!m.is_closed_by("```"), "shorter run");
        assert!(!m.is_closed_by("~~~~"), "other char");
        assert!(!m.is_closed_by("```` x"), "text after");
        assert!(!m.is_closed_by("    ````"), "indented 4");
        assert_eq!(m.bare(), "````");
    }
}
