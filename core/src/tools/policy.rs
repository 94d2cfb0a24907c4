//! Which actions of the `discord` tool a turn is offered (and so may call).
//!
//! An action is offered when all of these hold:
//! 1. its `channels.discord.actions.<group>` switch is on (defaults: every
//!    group on but `roles` and `moderation`);
//! 2. the turn happens where it makes sense: actions that need a server
//!    ([`Action::needs_guild`]) are not offered in DMs;
//! 3. the tool policy in force lets its function name through.
//!
//! **The policy in force** is the channel's when the matched channel entry
//! (`guilds.<id>.channels.<channel>`) sets `tools` or `toolsBySender`,
//! else the guild entry's; DMs have none. Within that entry,
//! `toolsBySender["<sender id>"]` wins, then `toolsBySender["*"]`, then
//! `tools`. A policy (`allow`, `deny`, `alsoAllow`) names tools as:
//! `discord` (the whole tool, every action), `discord_<action>` (one
//! action, e.g. `discord_react`), `*` (everything), or a prefix ending in
//! `*` (`discord_thread*`); names are compared case-insensitively. `deny`
//! wins; when `allow` is set only what `allow` or `alsoAllow` names passes;
//! without `allow` everything not denied passes (`alsoAllow` then adds
//! nothing).

use std::collections::BTreeMap;

use super::{Action, DISCORD_TOOL};
use crate::config::{DiscordActions, ToolPolicy};

/// The `tools` / `toolsBySender` of one config entry (guild or channel).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PolicyLevel {
    /// `tools`.
    pub tools: Option<ToolPolicy>,
    /// `toolsBySender`.
    pub tools_by_sender: Option<BTreeMap<String, ToolPolicy>>,
}

impl PolicyLevel {
    /// True when the entry sets either key.
    pub fn is_set(&self) -> bool {
        self.tools.is_some() || self.tools_by_sender.as_ref().is_some_and(|m| !m.is_empty())
    }

    /// The policy for `sender_id` (see the module docs).
    fn for_sender(&self, sender_id: &str) -> Option<&ToolPolicy> {
        let by_sender = self.tools_by_sender.as_ref();
        by_sender
            .and_then(|m| {
                m.iter()
                    .find(|(k, _)| sender_key(k) == sender_id)
                    .map(|(_, p)| p)
            })
            .or_else(|| by_sender.and_then(|m| m.get("*")))
            .or(self.tools.as_ref())
    }
}

/// The tool policies that apply to one conversation: its guild entry's and
/// its channel entry's.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ToolRules {
    /// `guilds.<id>.tools` / `toolsBySender`.
    pub guild: PolicyLevel,
    /// `guilds.<id>.channels.<channel>.tools` / `toolsBySender`.
    pub channel: PolicyLevel,
}

impl ToolRules {
    /// The policy in force for `sender_id`, if any.
    pub fn policy_for(&self, sender_id: &str) -> Option<&ToolPolicy> {
        if self.channel.is_set() {
            self.channel.for_sender(sender_id)
        } else {
            self.guild.for_sender(sender_id)
        }
    }

    /// Whether function `function` (`discord_react`) may be used by
    /// `sender_id`.
    pub fn allows(&self, sender_id: &str, function: &str) -> bool {
        self.policy_for(sender_id)
            .is_none_or(|policy| policy_allows(policy, function))
    }
}

/// The actions a turn is offered, in [`Action::ALL`] order (module docs).
pub fn offered_actions(
    actions: &DiscordActions,
    rules: &ToolRules,
    sender_id: &str,
    in_guild: bool,
) -> Vec<Action> {
    Action::ALL
        .into_iter()
        .filter(|a| a.group().enabled(actions))
        .filter(|a| in_guild || !a.needs_guild())
        .filter(|a| rules.allows(sender_id, &a.function_name()))
        .collect()
}

/// Whether one policy lets `function` through.
pub fn policy_allows(policy: &ToolPolicy, function: &str) -> bool {
    let listed = |list: &Option<Vec<String>>| {
        list.as_ref()
            .is_some_and(|l| l.iter().any(|entry| names(entry, function)))
    };
    if listed(&policy.deny) {
        return false;
    }
    match &policy.allow {
        Some(_) => listed(&policy.allow) || listed(&policy.also_allow),
        None => true,
    }
}

/// Whether a policy entry names `function`.
fn names(entry: &str, function: &str) -> bool {
    let entry = entry.trim().to_ascii_lowercase();
    let function = function.to_ascii_lowercase();
    if entry == "*" || entry == function {
        return true;
    }
    if entry == DISCORD_TOOL {
        return function.starts_with(super::FUNCTION_PREFIX);
    }
    match entry.strip_suffix('*') {
        Some(prefix) => function.starts_with(prefix),
        None => false,
    }
}

/// A `toolsBySender` key as a bare user id (`<@id>`, `<@!id>`, `user:id`,
/// `discord:id` accepted).
fn sender_key(key: &str) -> &str {
    let key = key.trim();
    let key = key
        .strip_prefix("<@!")
        .or_else(|| key.strip_prefix("<@"))
        .and_then(|k| k.strip_suffix('>'))
        .unwrap_or(key);
    key.strip_prefix("user:")
        .or_else(|| key.strip_prefix("discord:"))
        .unwrap_or(key)
}
