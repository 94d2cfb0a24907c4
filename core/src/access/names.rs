//! Start-up name resolution: names in allowlists and guild/channel keys are
//! turned into ids using what the bot can see (guilds, channels and members
//! from `GUILD_CREATE` / member search). Unresolved entries stay as typed and
//! still match by name (usernames and tags) or slug at message time.

use std::collections::BTreeMap;

use super::allowlist::{channel_entry, slug, user_entry, ChannelEntry, UserEntry};
use crate::config::DiscordSettings;

/// What the bot can see: its guilds with their channels and members.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Directory {
    /// The guilds.
    pub guilds: Vec<DirGuild>,
}

/// One guild the bot is in.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DirGuild {
    /// Guild id.
    pub id: String,
    /// Guild name.
    pub name: String,
    /// Its channels (threads included, with `parent`).
    pub channels: Vec<DirChannel>,
    /// Members the bot could list.
    pub members: Vec<DirMember>,
}

/// One channel.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DirChannel {
    /// Channel id.
    pub id: String,
    /// Channel name.
    pub name: String,
    /// Parent channel id (threads) or category id.
    pub parent: Option<String>,
}

/// One member.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DirMember {
    /// User id.
    pub id: String,
    /// Username (unique).
    pub username: String,
    /// Display name.
    pub global_name: Option<String>,
    /// Guild nickname.
    pub nick: Option<String>,
}

/// Names resolved to ids.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ResolvedAllowlists {
    /// Lowercased user name → user id.
    pub users: BTreeMap<String, String>,
    /// Guild slug → guild id.
    pub guilds: BTreeMap<String, String>,
    /// (guild id, channel slug) → channel id.
    pub channels: BTreeMap<(String, String), String>,
}

impl ResolvedAllowlists {
    /// The id a user name resolved to.
    pub fn user(&self, name: &str) -> Option<&str> {
        self.users.get(name).map(String::as_str)
    }
}

/// Resolves the names in one Discord account's allowlists (`dm.allowFrom`,
/// guild and channel `users`, guild keys, channel keys) against `dir`.
/// Returns the resolutions and, for the log, each `(typed, id)` pair.
///
/// A user name resolves by username (or tag) first; failing that, by display
/// name or nickname only when exactly one member carries it.
pub fn resolve_names(
    settings: &DiscordSettings,
    dir: &Directory,
) -> (ResolvedAllowlists, Vec<(String, String)>) {
    let mut out = ResolvedAllowlists::default();
    let mut log = Vec::new();

    for (typed, name) in user_names(settings) {
        if out.users.contains_key(&name) {
            continue;
        }
        if let Some(id) = find_member(dir, &name) {
            log.push((typed, id.clone()));
            out.users.insert(name, id);
        }
    }

    for (key, g) in &settings.guilds {
        let guild_ids: Vec<&DirGuild> = if key.trim() == "*" {
            dir.guilds.iter().collect()
        } else if let Some(found) = dir.guilds.iter().find(|d| d.id == key.trim()) {
            vec![found]
        } else {
            let s = slug(key);
            let found: Vec<&DirGuild> = dir.guilds.iter().filter(|d| slug(&d.name) == s).collect();
            if let [one] = found.as_slice() {
                log.push((key.clone(), one.id.clone()));
                out.guilds.insert(s, one.id.clone());
            }
            found
        };
        for ckey in g.channels.iter().flat_map(|c| c.keys()) {
            let Some(ChannelEntry::Slug(cs)) = channel_entry(ckey) else {
                continue;
            };
            for guild in &guild_ids {
                let hits: Vec<&DirChannel> = guild
                    .channels
                    .iter()
                    .filter(|c| slug(&c.name) == cs)
                    .collect();
                if let [one] = hits.as_slice() {
                    log.push((format!("{}/{ckey}", guild.name), one.id.clone()));
                    out.channels
                        .insert((guild.id.clone(), cs.clone()), one.id.clone());
                }
            }
        }
    }
    (out, log)
}

/// The user entries of one Discord account's allowlists (`dm.allowFrom`,
/// guild and channel `users`) that are names, not ids: `(typed, name)`, the
/// name lowercased as [`ResolvedAllowlists::users`] keys it.
pub fn user_names(settings: &DiscordSettings) -> Vec<(String, String)> {
    let mut typed: Vec<&str> = settings.dm.allow_from.iter().map(|e| e.as_str()).collect();
    for g in settings.guilds.values() {
        typed.extend(g.users.iter().flatten().map(|e| e.as_str()));
        for c in g.channels.iter().flat_map(|c| c.values()) {
            typed.extend(c.users.iter().flatten().map(|e| e.as_str()));
        }
    }
    typed
        .into_iter()
        .filter_map(|t| match user_entry(t) {
            Some(UserEntry::Name(name)) => Some((t.to_owned(), name)),
            _ => None,
        })
        .collect()
}

fn find_member(dir: &Directory, name: &str) -> Option<String> {
    let members = || dir.guilds.iter().flat_map(|g| g.members.iter());
    if let Some(m) = members().find(|m| m.username.to_lowercase() == name) {
        return Some(m.id.clone());
    }
    let mut ids: Vec<&str> = members()
        .filter(|m| {
            let eq = |s: &Option<String>| s.as_deref().is_some_and(|s| s.to_lowercase() == name);
            eq(&m.global_name) || eq(&m.nick)
        })
        .map(|m| m.id.as_str())
        .collect();
    ids.sort_unstable();
    ids.dedup();
    match ids.as_slice() {
        [one] => Some((*one).to_owned()),
        _ => None,
    }
}
