//! Mention safety: whom a reply may ping.
//!
//! The agent's text is not trusted to ping: anyone who can get the agent to
//! repeat a list of mentions would otherwise ping a crowd (issue 16). By
//! default ([`MentionScope::Participants`]) a reply may ping only the users
//! who take part in the turn: the author, the users the inbound message
//! mentions, and the authors of the messages in its context (guild history,
//! the quoted message). Roles, `@everyone` and `@here` never ping.
//!
//! `channels.<platform>.allowedMentions` widens that:
//! `"participants"` (default) | `"users"` (any user the reply mentions) |
//! `"usersAndRoles"` (any user or role it mentions) | `"all"` (also
//! `@everyone` / `@here`).
//!
//! How each platform enforces it:
//! - Discord: the message's `allowed_mentions` lists exactly the users
//!   (and roles) that may ping, with `parse: []` (see
//!   [`crate::rest::discord::allowed_mentions`]); the text is unchanged.
//! - KOOK has no such field: the KMarkdown markup of a mention that may not
//!   ping (`(met)id(met)`, `(met)all(met)`, `(met)here(met)`,
//!   `(rol)id(rol)`) is escaped (`\(met\)…\(met\)`), so it shows as text
//!   ([`neutralize_kmarkdown`]).

use std::borrow::Cow;

use serde::Deserialize;

/// `allowedMentions`: how far beyond the turn's participants a reply may
/// ping.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum MentionScope {
    /// Only the turn's participants (the default).
    #[default]
    Participants,
    /// Any user the reply mentions; no roles, no everyone/here.
    Users,
    /// Any user or role the reply mentions; no everyone/here.
    UsersAndRoles,
    /// Everything the reply mentions, `@everyone` and `@here` included.
    All,
}

/// Who one reply may ping: the scope and the turn's participants.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct MentionPolicy {
    /// The configured scope.
    pub scope: MentionScope,
    /// User ids taking part in the turn (deduplicated, in order).
    pub participants: Vec<String>,
}

impl MentionPolicy {
    /// The policy for a turn: `scope` and the participants (empty ids and
    /// repeats dropped).
    pub fn new<'a>(scope: MentionScope, participants: impl IntoIterator<Item = &'a str>) -> Self {
        let mut ids: Vec<String> = Vec::new();
        for id in participants {
            let id = id.trim();
            if !id.is_empty() && !ids.iter().any(|x| x == id) {
                ids.push(id.to_owned());
            }
        }
        Self {
            scope,
            participants: ids,
        }
    }

    /// Whether a mention of user `id` may ping.
    pub fn user_may_ping(&self, id: &str) -> bool {
        self.scope != MentionScope::Participants || self.participants.iter().any(|p| p == id)
    }

    /// Whether role mentions may ping.
    pub fn roles_may_ping(&self) -> bool {
        matches!(self.scope, MentionScope::UsersAndRoles | MentionScope::All)
    }

    /// Whether `@everyone` / `@here` may ping.
    pub fn everyone_may_ping(&self) -> bool {
        self.scope == MentionScope::All
    }
}

/// KOOK: `text` (KMarkdown) with the markup of every mention that may not
/// ping escaped, so that it shows as text; borrowed when nothing changes.
pub fn neutralize_kmarkdown<'a>(text: &'a str, policy: &MentionPolicy) -> Cow<'a, str> {
    if !text.contains("(met)") && !text.contains("(rol)") {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 16);
    let mut rest = text;
    let mut changed = false;
    while let Some(at) = rest.find(['(']) {
        out.push_str(&rest[..at]);
        let tail = &rest[at..];
        let tag = ["(met)", "(rol)"].into_iter().find(|t| tail.starts_with(t));
        let Some(tag) = tag else {
            out.push('(');
            rest = &tail[1..];
            continue;
        };
        let inner_start = tag.len();
        let Some(len) = tail[inner_start..].find(tag) else {
            out.push_str(tag);
            rest = &tail[inner_start..];
            continue;
        };
        let target = &tail[inner_start..inner_start + len];
        let whole = &tail[..inner_start + len + tag.len()];
        let valid = !target.is_empty() && !target.contains(char::is_whitespace);
        let allowed = !valid
            || match (tag, target) {
                ("(met)", "all" | "here") => policy.everyone_may_ping(),
                ("(met)", id) => policy.user_may_ping(id),
                _ => policy.roles_may_ping(),
            };
        if allowed {
            out.push_str(whole);
        } else {
            let name = &tag[1..4];
            out.push_str(&format!("\\({name}\\){target}\\({name}\\)"));
            changed = true;
        }
        rest = &tail[whole.len()..];
    }
    out.push_str(rest);
    if changed {
        Cow::Owned(out)
    } else {
        Cow::Borrowed(text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kook_markup_of_non_participants_is_escaped() {
        let p = MentionPolicy::new(MentionScope::Participants, ["111"]);
        let text = "hi (met)111(met) and (met)222(met) (met)all(met) (met)here(met) (rol)9(rol)";
        assert_eq!(
            neutralize_kmarkdown(text, &p),
            "hi (met)111(met) and \\(met\\)222\\(met\\) \\(met\\)all\\(met\\) \\(met\\)here\\(met\\) \\(rol\\)9\\(rol\\)"
        );
        let all = MentionPolicy::new(MentionScope::All, []);
        assert!(matches!(neutralize_kmarkdown(text, &all), Cow::Borrowed(_)));
        let roles = MentionPolicy::new(MentionScope::UsersAndRoles, []);
        assert_eq!(
            neutralize_kmarkdown("(rol)9(rol)(met)all(met)", &roles),
            "(rol)9(rol)\\(met\\)all\\(met\\)"
        );
        assert!(matches!(
            neutralize_kmarkdown("(plain) text (met) alone", &p),
            Cow::Borrowed(_)
        ));
    }
}
