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

/// True when `key` prints without quotes: an ASCII identifier
/// (`[A-Za-z_$][A-Za-z0-9_$]*`).
fn is_plain(key: &str) -> bool {
    let mut chars = key.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_' || c == '$')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '$')
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
                    if is_plain(k) {
                        f.write_str(k)?;
                    } else {
                        // serde_json's string escaping: quotes, backslashes and
                        // control characters come out escaped.
                        let quoted = serde_json::to_string(k).map_err(|_| fmt::Error)?;
                        f.write_str(&quoted)?;
                    }
                }
            }
        }
        Ok(())
    }
}
