//! Lenient JSON text: what the gateways' frames may carry that a strict
//! parser refuses, repaired before parsing.
//!
//! JSON allows any `\uXXXX` escape, including a UTF-16 surrogate that is
//! not part of a pair (`"\ud800"`); serde_json refuses such a string, which
//! made a whole gateway frame (and the message in it) unreadable. Here a
//! lone surrogate escape becomes `\ufffd` (U+FFFD REPLACEMENT CHARACTER),
//! as lossy UTF-16 decoding does; paired surrogates are kept.

use std::borrow::Cow;

/// `text` with every lone surrogate escape (`\ud800`-`\udfff` not forming a
/// high-low pair) replaced by `\ufffd`. Borrowed (no copy) when there is
/// none, which is the common case.
pub fn repair_lone_surrogates(text: &str) -> Cow<'_, str> {
    let bytes = text.as_bytes();
    if !has_surrogate_escape(bytes) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len());
    let mut copied = 0;
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] != b'\\' {
            i += 1;
            continue;
        }
        // An escape: `\` and one char, or `\uXXXX`.
        let Some(unit) = escape_unit(bytes, i) else {
            i += 2;
            continue;
        };
        if is_high(unit) && escape_unit(bytes, i + 6).is_some_and(is_low) {
            i += 12;
            continue;
        }
        if is_high(unit) || is_low(unit) {
            out.push_str(&text[copied..i]);
            out.push_str("\\ufffd");
            copied = i + 6;
        }
        i += 6;
    }
    out.push_str(&text[copied..]);
    Cow::Owned(out)
}

/// Whether `\u` followed by `d`/`D` and `8`-`f` occurs at all (a cheap,
/// escape-unaware pre-check: false positives only cost the full scan).
fn has_surrogate_escape(bytes: &[u8]) -> bool {
    bytes.windows(4).any(|w| {
        w[0] == b'\\'
            && w[1] == b'u'
            && (w[2] | 0x20) == b'd'
            && matches!(w[3] | 0x20, b'8'..=b'9' | b'a'..=b'f')
    })
}

/// The code unit of a `\uXXXX` escape starting at `at`, if one does.
fn escape_unit(bytes: &[u8], at: usize) -> Option<u16> {
    if bytes.get(at) != Some(&b'\\') || bytes.get(at + 1) != Some(&b'u') {
        return None;
    }
    let hex = std::str::from_utf8(bytes.get(at + 2..at + 6)?).ok()?;
    u16::from_str_radix(hex, 16).ok()
}

fn is_high(unit: u16) -> bool {
    (0xd800..0xdc00).contains(&unit)
}

fn is_low(unit: u16) -> bool {
    (0xdc00..0xe000).contains(&unit)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decoded(text: &str) -> String {
        serde_json::from_str(&repair_lone_surrogates(text)).expect("valid after repair")
    }

    #[test]
    fn lone_surrogates_become_replacement_characters() {
        assert_eq!(decoded(r#""a\ud800b""#), "a\u{fffd}b");
        assert_eq!(decoded(r#""\uDC00""#), "\u{fffd}");
        assert_eq!(decoded(r#""\ud800\ud800\udc00""#), "\u{fffd}\u{10000}");
        assert_eq!(decoded(r#""x\ud83d""#), "x\u{fffd}");
    }

    #[test]
    fn pairs_and_escaped_backslashes_are_kept() {
        assert_eq!(decoded(r#""\ud83d\ude00""#), "😀");
        assert!(matches!(
            repair_lone_surrogates(r#""\\ud800""#),
            Cow::Owned(_)
        ));
        assert_eq!(decoded(r#""\\ud800""#), "\\ud800");
        assert!(matches!(repair_lone_surrogates("{}"), Cow::Borrowed(_)));
    }
}
