//! Allowlist entries, normalised once: user entries (`dm.allowFrom`,
//! `users`) and channel entries (`dm.groupChannels`, channel keys), plus the
//! slug rule shared with guild and channel names.
//!
//! User entries accept ids, names (usernames), tags (`name#1234`), mentions
//! `<@id>` / `<@!id>`, the prefixes `discord:` and `user:`, and `*`.
//! Channel entries accept ids, slugs or names (`#general`), `<#id>`, the
//! prefix `channel:`, and `*`.

/// A normalised user entry.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum UserEntry {
    /// `*`: anyone.
    Any,
    /// A user id (digits).
    Id(String),
    /// A username or tag, lowercased, without a leading `@`.
    Name(String),
}

/// A normalised channel entry.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ChannelEntry {
    /// `*`: any channel.
    Any,
    /// A channel id (digits).
    Id(String),
    /// A channel slug (see [`slug`]).
    Slug(String),
}

/// Slugs a guild or channel name: without leading `#`s and whitespace,
/// lowercase, runs of whitespace replaced by one `-`.
pub fn slug(name: &str) -> String {
    name.trim_start_matches(|c: char| c == '#' || c.is_whitespace())
        .split_whitespace()
        .collect::<Vec<_>>()
        .join("-")
        .to_lowercase()
}

fn is_id(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

/// Strips any of `prefixes` (ASCII case-insensitive) from the front, repeatedly.
fn strip_prefixes<'a>(mut s: &'a str, prefixes: &[&str]) -> &'a str {
    loop {
        let before = s;
        for p in prefixes {
            if s.len() >= p.len()
                && s.is_char_boundary(p.len())
                && s[..p.len()].eq_ignore_ascii_case(p)
            {
                s = s[p.len()..].trim_start();
            }
        }
        if s == before {
            return s;
        }
    }
}

/// Normalises one user entry; `None` for an empty one.
pub fn user_entry(raw: &str) -> Option<UserEntry> {
    let s = raw.trim();
    if s == "*" {
        return Some(UserEntry::Any);
    }
    let s = strip_prefixes(s, &["discord:", "user:"]).trim();
    if s == "*" {
        return Some(UserEntry::Any);
    }
    if let Some(inner) = s.strip_prefix("<@").and_then(|r| r.strip_suffix('>')) {
        let id = inner.strip_prefix('!').unwrap_or(inner);
        if is_id(id) {
            return Some(UserEntry::Id(id.to_owned()));
        }
    }
    if is_id(s) {
        return Some(UserEntry::Id(s.to_owned()));
    }
    let name = s.trim_start_matches('@').trim().to_lowercase();
    match name.as_str() {
        "" => None,
        "*" => Some(UserEntry::Any),
        _ => Some(UserEntry::Name(name)),
    }
}

/// Normalises one channel entry; `None` for an empty one.
pub fn channel_entry(raw: &str) -> Option<ChannelEntry> {
    let s = strip_prefixes(raw.trim(), &["channel:", "discord:"]).trim();
    if let Some(inner) = s.strip_prefix("<#").and_then(|r| r.strip_suffix('>')) {
        if is_id(inner) {
            return Some(ChannelEntry::Id(inner.to_owned()));
        }
    }
    let slug = slug(s);
    match slug.as_str() {
        "" => None,
        "*" => Some(ChannelEntry::Any),
        id if is_id(id) => Some(ChannelEntry::Id(slug)),
        _ => Some(ChannelEntry::Slug(slug)),
    }
}

/// Normalises a list of user entries, dropping empty ones.
pub fn user_entries<'a>(raw: impl IntoIterator<Item = &'a str>) -> Vec<UserEntry> {
    raw.into_iter().filter_map(user_entry).collect()
}

/// Normalises a list of channel entries, dropping empty ones.
pub fn channel_entries<'a>(raw: impl IntoIterator<Item = &'a str>) -> Vec<ChannelEntry> {
    raw.into_iter().filter_map(channel_entry).collect()
}
