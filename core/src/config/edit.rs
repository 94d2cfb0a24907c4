//! Editing the config file's text in place (`/config set|unset`), and a
//! redacted view of it (`/config show|get`).
//!
//! An edit changes only the bytes of one value: `set` replaces the value's
//! text when the key exists, or inserts `key: value` (with any missing
//! parent objects) after the last member of the deepest object that
//! exists; `unset` removes the member and its comma. Comments, blank
//! lines, key order and quoting elsewhere stay as they were. The caller
//! validates the edited text with [`super::parse`] before writing it.
//!
//! Redaction: every member named `token`, `apiKey` or ending in `Token`
//! shows as `"[redacted]"`, wherever it sits.

use super::path::{key_text, KeyPath, Seg};
use super::tree::{self, Member, Node, Value};

/// What shows instead of a secret.
pub const REDACTED: &str = "[redacted]";

/// An edit that cannot be made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum EditError {
    /// The file is not JSON5 (it did not load either).
    #[error("the config file does not parse: {0}")]
    Syntax(String),
    /// The new value is not a JSON5 value.
    #[error("`{value}` is not a JSON5 value: {reason}")]
    BadValue {
        /// The text given.
        value: String,
        /// Why.
        reason: String,
    },
    /// The path goes through something that is not an object or list.
    #[error("{path}: not an object or list, cannot hold `{next}`")]
    NotAContainer {
        /// Where.
        path: String,
        /// The step that cannot be taken.
        next: String,
    },
    /// A list index past the end.
    #[error("{path}: no item [{index}]")]
    NoSuchIndex {
        /// The list.
        path: String,
        /// The index.
        index: usize,
    },
    /// `unset` of something that is not there.
    #[error("{0}: not set")]
    NotSet(String),
    /// The value would sit deeper than a config file may nest
    /// ([`tree::MAX_DEPTH`]): the edited file would not load.
    #[error("{path}: the value would nest deeper than {max} levels")]
    TooDeep {
        /// The key path.
        path: String,
        /// The deepest nesting a config file may have.
        max: usize,
    },
    /// `unset` of a list item (only keys can be removed).
    #[error("{0}: only object keys can be unset")]
    NotAKey(String),
}

/// `text` with the value at `path` set to `value` (JSON5 text).
pub fn set_value(text: &str, path: &KeyPath, value: &str) -> Result<String, EditError> {
    let parsed = tree::parse(value.trim()).map_err(|e| EditError::BadValue {
        value: value.trim().to_owned(),
        reason: e.message,
    })?;
    // The root object holds the path's first key: the value sits inside
    // one container per path segment.
    if path.0.len() + nesting(&parsed.root) > tree::MAX_DEPTH {
        return Err(EditError::TooDeep {
            path: path.to_string(),
            max: tree::MAX_DEPTH,
        });
    }
    // Only the value itself: comments around it would swallow what follows.
    let value = &value.trim()[parsed.root.span.start..parsed.root.span.end];
    let doc = if tree::is_blank(text) {
        None
    } else {
        Some(tree::parse(text).map_err(|e| EditError::Syntax(e.message))?)
    };
    let Some(doc) = doc else {
        return Ok(format!("{{\n  {},\n}}\n", nested_member(&path.0, value)));
    };
    let mut node = &doc.root;
    for (depth, seg) in path.0.iter().enumerate() {
        let here = KeyPath(path.0[..depth].to_vec()).to_string();
        match (&node.value, seg) {
            (Value::Object(members), Seg::Key(key)) => {
                match members.iter().find(|m| &m.key == key) {
                    Some(member) => node = &member.value,
                    None => return Ok(insert_member(text, node, members, &path.0[depth..], value)),
                }
            }
            (Value::Array(items), Seg::Index(index)) => match items.get(*index) {
                Some(item) => node = item,
                None => {
                    return Err(EditError::NoSuchIndex {
                        path: here,
                        index: *index,
                    })
                }
            },
            (_, seg) => {
                return Err(EditError::NotAContainer {
                    path: if here.is_empty() {
                        "(root)".into()
                    } else {
                        here
                    },
                    next: KeyPath(vec![seg.clone()]).to_string(),
                })
            }
        }
    }
    Ok(splice(text, node.span.start, node.span.end, value))
}

/// How many levels of objects and lists `node` is (0 for a scalar).
fn nesting(node: &Node) -> usize {
    match &node.value {
        Value::Object(members) => 1 + members.iter().map(|m| nesting(&m.value)).max().unwrap_or(0),
        Value::Array(items) => 1 + items.iter().map(nesting).max().unwrap_or(0),
        _ => 0,
    }
}

/// `text` without the member at `path`.
pub fn unset_value(text: &str, path: &KeyPath) -> Result<String, EditError> {
    let doc = tree::parse(text).map_err(|e| EditError::Syntax(e.message))?;
    let shown = path.to_string();
    let Some((Seg::Key(last), parents)) = path.0.split_last() else {
        return Err(EditError::NotAKey(shown));
    };
    let mut node = &doc.root;
    for seg in parents {
        node = match (&node.value, seg) {
            (Value::Object(members), Seg::Key(key)) => {
                match members.iter().find(|m| &m.key == key) {
                    Some(m) => &m.value,
                    None => return Err(EditError::NotSet(shown)),
                }
            }
            (Value::Array(items), Seg::Index(i)) => items
                .get(*i)
                .ok_or_else(|| EditError::NotSet(shown.clone()))?,
            _ => return Err(EditError::NotSet(shown)),
        };
    }
    let Value::Object(members) = &node.value else {
        return Err(EditError::NotSet(shown));
    };
    let Some(member) = members.iter().find(|m| &m.key == last) else {
        return Err(EditError::NotSet(shown));
    };
    let mut start = member.key_span.start;
    let mut end = member.value.span.end;
    // Take the comma after the value, if any (only whitespace between).
    let after = skip_spaces(text, end);
    if text[after..].starts_with(',') {
        end = after + 1;
    }
    // A member alone on its line takes its line with it.
    let line_start = text[..start].rfind('\n').map_or(0, |n| n + 1);
    let rest_end = text[end..].find('\n').map_or(text.len(), |n| end + n);
    let before_blank = text[line_start..start].trim().is_empty();
    let after_blank = text[end..rest_end].trim().is_empty();
    if before_blank && after_blank && rest_end < text.len() {
        start = line_start;
        end = rest_end + 1;
    }
    Ok(splice(text, start, end, ""))
}

/// The config as JSON with secrets redacted (`path` empty: everything);
/// `None` when nothing is set there.
pub fn redacted_view(text: &str, path: &KeyPath) -> Result<Option<serde_json::Value>, EditError> {
    if tree::is_blank(text) {
        return Ok(path.is_root().then(|| serde_json::json!({})));
    }
    let doc = tree::parse(text).map_err(|e| EditError::Syntax(e.message))?;
    let mut node = &doc.root;
    let mut secret = false;
    for seg in &path.0 {
        node = match (&node.value, seg) {
            (Value::Object(members), Seg::Key(key)) => {
                match members.iter().find(|m| &m.key == key) {
                    Some(m) => {
                        secret |= is_secret_key(&m.key);
                        &m.value
                    }
                    None => return Ok(None),
                }
            }
            (Value::Array(items), Seg::Index(i)) => match items.get(*i) {
                Some(item) => item,
                None => return Ok(None),
            },
            _ => return Ok(None),
        };
    }
    Ok(Some(if secret {
        serde_json::Value::String(REDACTED.to_owned())
    } else {
        to_json(node)
    }))
}

/// True for keys whose values are secrets.
pub fn is_secret_key(key: &str) -> bool {
    key == "token" || key == "apiKey" || key.ends_with("Token") || key.ends_with("Secret")
}

/// A tree node as JSON, secrets redacted.
fn to_json(node: &Node) -> serde_json::Value {
    use serde_json::Value as J;
    match &node.value {
        Value::Null => J::Null,
        Value::Bool(b) => J::Bool(*b),
        Value::Int(i) => i64::try_from(*i).map_or_else(|_| J::String(i.to_string()), J::from),
        Value::Float(f) => serde_json::Number::from_f64(*f).map_or(J::Null, J::Number),
        Value::Str(s) => J::String(s.clone()),
        Value::Array(items) => J::Array(items.iter().map(to_json).collect()),
        Value::Object(members) => J::Object(
            members
                .iter()
                .map(|m| {
                    let v = if is_secret_key(&m.key) {
                        J::String(REDACTED.to_owned())
                    } else {
                        to_json(&m.value)
                    };
                    (m.key.clone(), v)
                })
                .collect(),
        ),
    }
}

/// Inserts `rest` (the missing keys, then `value`) into the object `node`.
fn insert_member(text: &str, node: &Node, members: &[Member], rest: &[Seg], value: &str) -> String {
    let member = nested_member(rest, value);
    match members.last() {
        Some(last) => {
            let indent = indent_of(text, last.key_span.start);
            let after = skip_spaces(text, last.value.span.end);
            let same_line = !text[line_start_of(text, last.key_span.start)..last.key_span.start]
                .trim()
                .is_empty();
            let (at, prefix) = if text[after..].starts_with(',') {
                (after + 1, "")
            } else {
                (last.value.span.end, ",")
            };
            let sep = if same_line {
                " ".to_owned()
            } else {
                format!("\n{indent}")
            };
            let trailing = if same_line { "" } else { "," };
            // With a trailing comma already there, keep the style: add one.
            let insert = if prefix.is_empty() {
                format!("{sep}{member}{trailing}")
            } else {
                format!("{prefix}{sep}{member}")
            };
            splice(text, at, at, &insert)
        }
        None => {
            // `{}` or `{ /* comment */ }`: put it right after the brace.
            let brace = node.span.start + 1;
            let indent = indent_of(text, node.span.start);
            splice(
                text,
                brace,
                brace,
                &format!("\n{indent}  {member},\n{indent}"),
            )
        }
    }
}

/// `a: { b: { c: value } }` for the keys in `rest` (list indices cannot be
/// created; they are written as keys, which validation then refuses).
fn nested_member(rest: &[Seg], value: &str) -> String {
    let mut out = value.to_owned();
    for (i, seg) in rest.iter().enumerate().rev() {
        let key = match seg {
            Seg::Key(k) => key_text(k),
            Seg::Index(n) => key_text(&n.to_string()),
        };
        out = if i == 0 {
            format!("{key}: {out}")
        } else {
            format!("{{ {key}: {out} }}")
        };
    }
    out
}

fn splice(text: &str, start: usize, end: usize, with: &str) -> String {
    let mut out = String::with_capacity(text.len() + with.len());
    out.push_str(&text[..start]);
    out.push_str(with);
    out.push_str(&text[end..]);
    out
}

/// The first byte at or after `pos` that is not a space or tab.
fn skip_spaces(text: &str, pos: usize) -> usize {
    text[pos..]
        .find(|c: char| c != ' ' && c != '\t')
        .map_or(text.len(), |n| pos + n)
}

fn line_start_of(text: &str, pos: usize) -> usize {
    text[..pos].rfind('\n').map_or(0, |n| n + 1)
}

/// The whitespace that starts the line holding `pos`.
fn indent_of(text: &str, pos: usize) -> String {
    let start = line_start_of(text, pos);
    text[start..pos]
        .chars()
        .take_while(|c| *c == ' ' || *c == '\t')
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn path(p: &str) -> KeyPath {
        p.parse().expect("path")
    }

    const FILE: &str = "{\n  // the bot\n  channels: {\n    discord: {\n      token: \"abc\", // secret\n      historyLimit: 20,\n    },\n  },\n}\n";

    #[test]
    fn set_replaces_only_the_value() {
        let out = set_value(FILE, &path("channels.discord.historyLimit"), "5").unwrap();
        assert_eq!(out, FILE.replace("historyLimit: 20", "historyLimit: 5"));
    }

    #[test]
    fn set_inserts_missing_keys_keeping_comments() {
        let out = set_value(FILE, &path("channels.discord.dm.policy"), "\"disabled\"").unwrap();
        assert!(out.contains("// the bot") && out.contains("// secret"));
        assert!(
            out.contains("historyLimit: 20,\n      dm: { policy: \"disabled\" },\n"),
            "{out}"
        );
        crate::config::parse(&out).expect("still valid");
    }

    #[test]
    fn set_inserts_without_trailing_comma() {
        let out = set_value("{ a: 1 }", &path("commands.text"), "false").unwrap();
        assert_eq!(out, "{ a: 1, commands: { text: false } }");
    }

    #[test]
    fn comments_around_a_value_are_dropped() {
        let out = set_value("{ a: 1 }", &path("b"), "2 // note").unwrap();
        assert_eq!(out, "{ a: 1, b: 2 }");
    }

    #[test]
    fn unset_removes_the_line() {
        let out = unset_value(FILE, &path("channels.discord.historyLimit")).unwrap();
        assert_eq!(out, FILE.replace("      historyLimit: 20,\n", ""));
        assert!(matches!(
            unset_value(FILE, &path("channels.kook")),
            Err(EditError::NotSet(_))
        ));
    }

    #[test]
    fn views_redact_tokens() {
        let all = redacted_view(FILE, &KeyPath::root()).unwrap().unwrap();
        assert_eq!(all["channels"]["discord"]["token"], REDACTED);
        let one = redacted_view(FILE, &path("channels.discord.token")).unwrap();
        assert_eq!(one, Some(serde_json::json!(REDACTED)));
        assert_eq!(redacted_view(FILE, &path("nope")).unwrap(), None);
    }

    #[test]
    fn paths_read_back_as_printed() {
        for p in [
            "a.b",
            "channels.discord.guilds.\"123\".users",
            "agents.list[0].backend.type",
        ] {
            assert_eq!(path(p).to_string(), p);
        }
        assert!("a..b".parse::<KeyPath>().is_err());
        assert!("".parse::<KeyPath>().is_err());
    }
}
