//! [`KeyPath`]: where a value sits in the config, printed the way errors name
//! it: dotted keys, list indices in brackets, and keys that are not plain
//! identifiers (numeric ids, `"*"`, names with spaces) in double quotes, e.g.
//! `channels.discord.guilds."123".channels.help.allow` or
//! `agents.list[0].backend.type`.

use std::fmt;

/// One step of a [`KeyPath`].
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Seg {
    /// An object key.
    Key(String),
    /// A list index.
    Index(usize),
}

/// A path from the config's root to one value.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct KeyPath(pub Vec<Seg>);

impl KeyPath {
    /// The root (prints as an empty string).
    pub fn root() -> Self {
        Self(Vec::new())
    }

    /// Parses a plain dotted path like `channels.discord.dm` (keys only, no
    /// quoting); for building paths in code.
    pub fn dotted(path: &str) -> Self {
        Self(
            path.split('.')
                .filter(|s| !s.is_empty())
                .map(|s| Seg::Key(s.to_owned()))
                .collect(),
        )
    }

    /// This path with `key` appended.
    pub fn key(&self, key: &str) -> Self {
        let mut p = self.clone();
        p.0.push(Seg::Key(key.to_owned()));
        p
    }

    /// This path with `[index]` appended.
    pub fn index(&self, index: usize) -> Self {
        let mut p = self.clone();
        p.0.push(Seg::Index(index));
        p
    }

    /// True for the root.
    pub fn is_root(&self) -> bool {
        self.0.is_empty()
    }

    /// The last key, if the path ends in a key.
    pub fn last_key(&self) -> Option<&str> {
        match self.0.last() {
            Some(Seg::Key(k)) => Some(k),
            _ => None,
        }
    }
}

/// A key as config errors and JSON5 write it: bare when an ASCII identifier
/// (`[A-Za-z_$][A-Za-z0-9_$]*`), else a JSON string (quotes, backslashes and
/// control characters escaped).
pub fn key_text(key: &str) -> String {
    let mut chars = key.chars();
    let plain = matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_' || c == '$')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '$');
    if plain {
        key.to_owned()
    } else {
        serde_json::to_string(key).unwrap_or_else(|_| format!("\"{key}\""))
    }
}

impl fmt::Display for KeyPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, seg) in self.0.iter().enumerate() {
            match seg {
                Seg::Index(n) => write!(f, "[{n}]")?,
                Seg::Key(k) => {
                    if i > 0 {
                        f.write_str(".")?;
                    }
                    f.write_str(&key_text(k))?;
                }
            }
        }
        Ok(())
    }
}

/// A path written the way [`KeyPath`] prints one cannot be read back.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("bad key path `{path}`: {reason}")]
pub struct KeyPathError {
    /// The text given.
    pub path: String,
    /// What is wrong.
    pub reason: &'static str,
}

impl std::str::FromStr for KeyPath {
    type Err = KeyPathError;

    /// Reads a path as errors print it: `a.b."123".c[0].d` (quoted keys are
    /// JSON strings).
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let fail = |reason| KeyPathError {
            path: text.to_owned(),
            reason,
        };
        let bytes = text.as_bytes();
        let mut segs = Vec::new();
        let mut pos = 0;
        let mut expect_key = true;
        while pos < bytes.len() {
            match bytes[pos] {
                b'[' => {
                    let close = text[pos..].find(']').ok_or_else(|| fail("unclosed `[`"))?;
                    let index = text[pos + 1..pos + close]
                        .trim()
                        .parse::<usize>()
                        .map_err(|_| fail("a list index must be a number"))?;
                    segs.push(Seg::Index(index));
                    pos += close + 1;
                    expect_key = false;
                }
                b'.' if !expect_key => {
                    pos += 1;
                    expect_key = true;
                }
                b'"' if expect_key => {
                    let mut de =
                        serde_json::Deserializer::from_str(&text[pos..]).into_iter::<String>();
                    let key = match de.next() {
                        Some(Ok(key)) => key,
                        _ => return Err(fail("unclosed or invalid quoted key")),
                    };
                    pos += de.byte_offset();
                    segs.push(Seg::Key(key));
                    expect_key = false;
                }
                _ if expect_key => {
                    let end = text[pos..].find(['.', '[']).map_or(text.len(), |n| pos + n);
                    let key = text[pos..end].trim();
                    if key.is_empty() {
                        return Err(fail("empty key"));
                    }
                    segs.push(Seg::Key(key.to_owned()));
                    pos = end;
                    expect_key = false;
                }
                _ => return Err(fail("expected `.` or `[` between keys")),
            }
        }
        if segs.is_empty() || expect_key {
            return Err(fail("the path is empty or ends in `.`"));
        }
        Ok(Self(segs))
    }
}
