//! The spanned JSON5 parser (`config::tree`) against the `json5` crate:
//! random documents rendered in every JSON5 style, and random short texts,
//! must give the same value (or both be rejected). Also: spans and line
//! numbers.

use krill_core::config::tree::{self, line_col, Node, Value};
use proptest::prelude::*;
use serde_json::Value as J;

/// The tree as the `json5` crate would deserialize it into `serde_json::Value`.
fn to_json(node: &Node) -> J {
    match &node.value {
        Value::Null => J::Null,
        Value::Bool(b) => J::Bool(*b),
        Value::Int(i) => {
            if let Ok(u) = u64::try_from(*i) {
                J::from(u)
            } else if let Ok(s) = i64::try_from(*i) {
                J::from(s)
            } else {
                serde_json::Number::from_f64(*i as f64).map_or(J::Null, J::Number)
            }
        }
        Value::Float(f) => serde_json::Number::from_f64(*f).map_or(J::Null, J::Number),
        Value::Str(s) => J::String(s.clone()),
        Value::Array(items) => J::Array(items.iter().map(to_json).collect()),
        Value::Object(members) => J::Object(
            members
                .iter()
                .map(|m| (m.key.clone(), to_json(&m.value)))
                .collect(),
        ),
    }
}

/// Renders `v` as JSON5 with style choices drawn from `rng`.
fn render(v: &J, rng: &mut fastrand::Rng, out: &mut String) {
    trivia(rng, out);
    match v {
        J::Null => out.push_str("null"),
        J::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        J::Number(n) => {
            if let Some(u) = n.as_u64() {
                match rng.u8(..4) {
                    0 => out.push_str(&format!("0x{u:X}")),
                    1 => out.push_str(&format!("+{u}")),
                    _ => out.push_str(&u.to_string()),
                }
            } else if let Some(i) = n.as_i64() {
                if rng.bool() {
                    out.push_str(&format!("-0x{:x}", i.unsigned_abs()));
                } else {
                    out.push_str(&i.to_string());
                }
            } else if let Some(f) = n.as_f64() {
                out.push_str(&format!("{f:?}"));
            }
        }
        J::String(s) => string(s, rng, out),
        J::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                render(item, rng, out);
            }
            if !items.is_empty() && rng.bool() {
                out.push(',');
            }
            trivia(rng, out);
            out.push(']');
        }
        J::Object(map) => {
            out.push('{');
            for (i, (k, item)) in map.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                trivia(rng, out);
                let plain = k
                    .chars()
                    .next()
                    .is_some_and(|c| c.is_ascii_alphabetic() || c == '_' || c == '$')
                    && k.chars()
                        .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '$');
                if plain && rng.bool() {
                    out.push_str(k);
                } else {
                    string(k, rng, out);
                }
                trivia(rng, out);
                out.push(':');
                render(item, rng, out);
            }
            if !map.is_empty() && rng.bool() {
                out.push(',');
            }
            trivia(rng, out);
            out.push('}');
        }
    }
    trivia(rng, out);
}

fn trivia(rng: &mut fastrand::Rng, out: &mut String) {
    match rng.u8(..8) {
        0 => out.push_str(" // note\n"),
        1 => out.push_str("/* x */"),
        2 => out.push_str("\n\t "),
        3 => out.push('\u{a0}'),
        _ => {}
    }
}

fn string(s: &str, rng: &mut fastrand::Rng, out: &mut String) {
    let q = if rng.bool() { '\'' } else { '"' };
    out.push(q);
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            c if c == q => {
                out.push('\\');
                out.push(c);
            }
            c if (c as u32) < 0x20 => out.push_str(&format!("\\x{:02x}", c as u32)),
            c if rng.u8(..6) == 0 => {
                let mut buf = [0u16; 2];
                for unit in c.encode_utf16(&mut buf) {
                    out.push_str(&format!("\\u{unit:04X}"));
                }
            }
            c => out.push(c),
        }
    }
    out.push(q);
}

fn json_value() -> impl Strategy<Value = J> {
    let leaf = prop_oneof![
        Just(J::Null),
        any::<bool>().prop_map(J::Bool),
        any::<i64>().prop_map(J::from),
        any::<u64>().prop_map(J::from),
        (-1.0e12f64..1.0e12)
            .prop_map(|f| serde_json::Number::from_f64(f).map_or(J::Null, J::Number)),
        "\\PC{0,12}".prop_map(J::String),
        "[ -~\n\t\u{2028}é😀]{0,8}".prop_map(J::String),
    ];
    leaf.prop_recursive(4, 40, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..5).prop_map(J::Array),
            prop::collection::btree_map("[a-zA-Z_$][a-zA-Z0-9_$]{0,6}|\\PC{0,6}", inner, 0..5)
                .prop_map(|m| J::Object(m.into_iter().collect())),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn rendered_documents_parse_like_the_json5_crate(v in json_value(), seed in any::<u64>()) {
        let mut rng = fastrand::Rng::with_seed(seed);
        let mut text = String::new();
        render(&v, &mut rng, &mut text);
        let theirs: J = json5::from_str(&text).map_err(|e| TestCaseError::fail(format!("json5 rejected {text:?}: {e}")))?;
        let ours = tree::parse(&text).map_err(|e| TestCaseError::fail(format!("tree rejected {text:?}: {e}")))?;
        prop_assert_eq!(to_json(&ours.root), theirs, "text: {:?}", text);
    }

    #[test]
    fn short_texts_are_accepted_and_rejected_alike(text in "[{}\\[\\]:, '\"\\\\\n/*a-z0-9.+\\-xeEIN_]{0,24}") {
        let theirs = json5::from_str::<J>(&text);
        let ours = tree::parse(&text);
        match (&ours, &theirs) {
            (Ok(doc), Ok(j)) if doc.duplicates.is_empty() => prop_assert_eq!(&to_json(&doc.root), j),
            (Ok(_), Ok(_)) => {}
            (Err(_), Err(_)) => {}
            _ => prop_assert!(false, "disagree on {:?}: ours {:?} theirs {:?}", text, ours.is_ok(), theirs.is_ok()),
        }
    }
}

#[test]
fn spans_cover_each_value_and_key() {
    let text = "{\n  a: [1, 'two'],\n  \"b\": {c: null}\n}";
    let doc = tree::parse(text).unwrap();
    let a = doc.root.member("a").unwrap();
    assert_eq!(&text[a.key_span.start..a.key_span.end], "a");
    assert_eq!(&text[a.value.span.start..a.value.span.end], "[1, 'two']");
    let b = doc.root.member("b").unwrap();
    assert_eq!(&text[b.key_span.start..b.key_span.end], "\"b\"");
    assert_eq!(line_col(text, b.value.span.start), (3, 8));
}

#[test]
fn line_numbers_count_every_line_terminator_once() {
    let text = "a\r\nb\rc\nd\u{2028}e";
    let at = |c: char| text.find(c).unwrap();
    assert_eq!(line_col(text, at('a')), (1, 1));
    assert_eq!(line_col(text, at('b')), (2, 1));
    assert_eq!(line_col(text, at('c')), (3, 1));
    assert_eq!(line_col(text, at('d')), (4, 1));
    assert_eq!(line_col(text, at('e')), (5, 1));
    assert_eq!(line_col("héllo", 3), (1, 3), "columns count characters");
}

#[test]
fn duplicate_keys_merge_objects_and_replace_values() {
    let doc = tree::parse("{a: {x: 1, y: 2}, b: 1, a: {y: 3, z: 4}, b: [2]}").unwrap();
    let j = to_json(&doc.root);
    assert_eq!(
        j,
        serde_json::json!({"a": {"x": 1, "y": 3, "z": 4}, "b": [2]})
    );
    let dups: Vec<(String, bool)> = doc
        .duplicates
        .iter()
        .map(|d| (d.path.to_string(), d.merged))
        .collect();
    assert_eq!(
        dups,
        vec![
            ("a".to_owned(), true),
            ("a.y".to_owned(), false),
            ("b".to_owned(), false)
        ]
    );
}

#[test]
fn deep_nesting_is_refused_not_overflowed() {
    let deep = "[".repeat(10_000);
    let e = tree::parse(&deep).unwrap_err();
    assert!(e.message.contains("nesting"), "{e}");
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    /// A cheap stand-in for the `config_parse` fuzz target in `cargo test`:
    /// the complete example config with random edits never panics the
    /// pipeline, and every error points inside the text.
    #[test]
    fn mutated_configs_never_panic(edits in prop::collection::vec((any::<prop::sample::Index>(), 0..3u8, "[\\PC{}\\[\\]:,'\"\\\\/*\n]"), 1..6)) {
        let mut text = include_str!("fixtures/complete.json5").to_owned();
        for (at, op, s) in edits {
            let mut i = at.index(text.len() + 1);
            while !text.is_char_boundary(i) {
                i -= 1;
            }
            match op {
                0 => text.insert_str(i, &s),
                1 => {
                    let end = (i + 1..=text.len()).find(|&j| text.is_char_boundary(j)).unwrap_or(i);
                    text.replace_range(i..end, "");
                }
                _ => {
                    let end = (i + 1..=text.len()).find(|&j| text.is_char_boundary(j)).unwrap_or(i);
                    text.replace_range(i..end, &s);
                }
            }
        }
        let lines = text.lines().count().max(1) + text.matches('\r').count();
        match krill_core::config::parse(&text) {
            Ok(_) => {}
            Err(e) => {
                prop_assert!(!e.problems.is_empty());
                for p in &e.problems {
                    prop_assert!(p.line >= 1 && p.line <= lines + 1, "{} of {}", p.line, lines);
                }
            }
        }
    }
}

#[test]
fn unquoted_keys_with_escapes_and_unicode() {
    for text in [
        "{\\u0061b: 1, $_x: 2, ünï: 3, a\\u0062: 4}",
        "{\\u0031a: 1}",
        "{a\\x62: 1}",
    ] {
        let theirs = json5::from_str::<J>(text);
        let ours = tree::parse(text);
        match (&ours, &theirs) {
            (Ok(doc), Ok(j)) => assert_eq!(&to_json(&doc.root), j, "{text}"),
            (Err(_), Err(_)) => {}
            _ => panic!("disagree on {text}: {ours:?} vs {theirs:?}"),
        }
    }
}
