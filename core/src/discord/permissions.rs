//! A member's permissions in a guild channel, computed from the API's roles,
//! member roles and the channel's `permission_overwrites`, as the Discord docs
//! ("Permissions", "Permission Overwrites") define it: base = `@everyone` |
//! the member's roles; `ADMINISTRATOR` grants everything; then the
//! `@everyone` overwrite, the member's role overwrites together, and the
//! member's own overwrite. `krill channels status --probe` audits channels
//! with it. The facts it honours are in `docs/protocol-discord.md`.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

/// `ADMINISTRATOR`: every permission, overwrites ignored.
pub const ADMINISTRATOR: u64 = 1 << 3;
/// `ADD_REACTIONS`.
pub const ADD_REACTIONS: u64 = 1 << 6;
/// `VIEW_CHANNEL`.
pub const VIEW_CHANNEL: u64 = 1 << 10;
/// `SEND_MESSAGES`.
pub const SEND_MESSAGES: u64 = 1 << 11;
/// `EMBED_LINKS`.
pub const EMBED_LINKS: u64 = 1 << 14;
/// `ATTACH_FILES`.
pub const ATTACH_FILES: u64 = 1 << 15;
/// `READ_MESSAGE_HISTORY`.
pub const READ_MESSAGE_HISTORY: u64 = 1 << 16;

/// What the bot needs to read and answer in a channel.
pub const REQUIRED: [(u64, &str); 3] = [
    (VIEW_CHANNEL, "View Channel"),
    (SEND_MESSAGES, "Send Messages"),
    (READ_MESSAGE_HISTORY, "Read Message History"),
];

/// What replies with links, files and ack reactions need.
pub const RECOMMENDED: [(u64, &str); 3] = [
    (EMBED_LINKS, "Embed Links"),
    (ATTACH_FILES, "Attach Files"),
    (ADD_REACTIONS, "Add Reactions"),
];

/// The names in `list` whose bit `granted` lacks, in order.
pub fn missing(granted: u64, list: &[(u64, &'static str)]) -> Vec<&'static str> {
    list.iter()
        .filter(|(bit, _)| granted & bit == 0)
        .map(|(_, name)| *name)
        .collect()
}

/// A permission field: a decimal string in API v10 (a number in older
/// payloads); anything else grants nothing.
pub fn bits(v: &Value) -> u64 {
    match v {
        Value::String(s) => s.parse().unwrap_or(0),
        Value::Number(n) => n.as_u64().unwrap_or(0),
        _ => 0,
    }
}

/// A guild's roles and one member's role ids: enough to compute that
/// member's permissions in any channel of the guild.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GuildPermissions {
    /// Role id → its permission bits (the `@everyone` role's id is the
    /// guild's id).
    pub roles: BTreeMap<String, u64>,
    /// The member's role ids.
    pub member_roles: BTreeSet<String>,
}

impl GuildPermissions {
    /// From `GET /guilds/{id}/roles` (a list) and `GET
    /// /guilds/{id}/members/{user}` (an object with `roles`). Roles without an
    /// id are skipped; an answer that is not a list is an error.
    pub fn from_api(roles: &Value, member: &Value) -> Result<Self, &'static str> {
        let roles = roles
            .as_array()
            .ok_or("the roles answer is not a list")?
            .iter()
            .filter_map(|r| {
                Some((
                    r.get("id")?.as_str()?.to_owned(),
                    bits(r.get("permissions")?),
                ))
            })
            .collect();
        let member_roles = member
            .get("roles")
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(|r| r.as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default();
        Ok(Self {
            roles,
            member_roles,
        })
    }

    /// The member `member_id`'s permissions in `channel` (a channel object
    /// with `permission_overwrites`) of guild `guild_id`.
    pub fn in_channel(&self, guild_id: &str, member_id: &str, channel: &Value) -> u64 {
        let mut base = self.roles.get(guild_id).copied().unwrap_or(0);
        for r in &self.member_roles {
            base |= self.roles.get(r).copied().unwrap_or(0);
        }
        if base & ADMINISTRATOR != 0 {
            return u64::MAX;
        }
        let overwrites: Vec<(&str, u64, u64)> = channel
            .get("permission_overwrites")
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(|o| {
                        Some((
                            o.get("id")?.as_str()?,
                            o.get("allow").map_or(0, bits),
                            o.get("deny").map_or(0, bits),
                        ))
                    })
                    .collect()
            })
            .unwrap_or_default();
        let apply = |perms: u64, (allow, deny): (u64, u64)| (perms & !deny) | allow;
        let mut perms = base;
        if let Some((_, allow, deny)) = overwrites.iter().find(|(id, ..)| *id == guild_id) {
            perms = apply(perms, (*allow, *deny));
        }
        let roles = overwrites
            .iter()
            .filter(|(id, ..)| self.member_roles.contains(*id))
            .fold((0, 0), |(a, d), (_, allow, deny)| (a | allow, d | deny));
        perms = apply(perms, roles);
        if let Some((_, allow, deny)) = overwrites.iter().find(|(id, ..)| *id == member_id) {
            perms = apply(perms, (*allow, *deny));
        }
        perms
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn perms(roles: &[(&str, u64)], member_roles: &[&str]) -> GuildPermissions {
        GuildPermissions {
            roles: roles.iter().map(|(i, p)| ((*i).to_owned(), *p)).collect(),
            member_roles: member_roles.iter().map(|r| (*r).to_owned()).collect(),
        }
    }

    const VIEW: u64 = VIEW_CHANNEL;
    const SEND: u64 = SEND_MESSAGES;
    const HISTORY: u64 = READ_MESSAGE_HISTORY;

    #[test]
    fn overwrites_apply_everyone_then_roles_then_member() {
        let g = perms(&[("G", VIEW | SEND | HISTORY), ("R", 0)], &["R"]);
        assert_eq!(g.in_channel("G", "B", &json!({})), VIEW | SEND | HISTORY);
        // @everyone denied Send; the bot's role allows it back.
        let ch = json!({"permission_overwrites": [
            {"id": "G", "type": 0, "allow": "0", "deny": SEND.to_string()},
            {"id": "R", "type": 0, "allow": SEND.to_string(), "deny": "0"},
        ]});
        assert_eq!(g.in_channel("G", "B", &ch), VIEW | SEND | HISTORY);
        // A member overwrite denying View wins over everything.
        let ch = json!({"permission_overwrites": [
            {"id": "R", "type": 0, "allow": SEND.to_string(), "deny": "0"},
            {"id": "B", "type": 1, "allow": "0", "deny": VIEW.to_string()},
        ]});
        assert_eq!(g.in_channel("G", "B", &ch), SEND | HISTORY);
        // A role the bot does not have changes nothing.
        let ch = json!({"permission_overwrites": [
            {"id": "X", "type": 0, "allow": "0", "deny": VIEW.to_string()},
        ]});
        assert_eq!(g.in_channel("G", "B", &ch), VIEW | SEND | HISTORY);
    }

    #[test]
    fn administrator_ignores_overwrites() {
        let g = perms(&[("G", 0), ("A", ADMINISTRATOR)], &["A"]);
        let ch = json!({"permission_overwrites": [
            {"id": "G", "type": 0, "allow": "0", "deny": VIEW.to_string()},
        ]});
        assert_eq!(g.in_channel("G", "B", &ch), u64::MAX);
    }

    #[test]
    fn api_answers_are_read_with_string_or_number_bits() {
        let roles = json!([
            {"id": "G", "permissions": VIEW.to_string()},
            {"id": "R", "permissions": SEND},
            {"permissions": "8"},
            {"id": "X", "permissions": "not a number"},
        ]);
        let member = json!({"roles": ["R", 5]});
        let g = GuildPermissions::from_api(&roles, &member).expect("a list");
        assert_eq!(g, perms(&[("G", VIEW), ("R", SEND), ("X", 0)], &["R"]));
        assert_eq!(g.in_channel("G", "B", &json!({})), VIEW | SEND);
        assert!(GuildPermissions::from_api(&json!({}), &member).is_err());
    }

    #[test]
    fn missing_names_what_is_not_granted_in_order() {
        assert_eq!(
            missing(VIEW, &REQUIRED),
            vec!["Send Messages", "Read Message History"]
        );
        assert!(missing(u64::MAX, &RECOMMENDED).is_empty());
    }
}
