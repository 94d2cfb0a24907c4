//! Keys krill accepts but does not act on yet, and the warning for each one
//! a config sets. [`NO_EFFECT_YET`] is the one list: whoever carries a key
//! out deletes its row here (and its words in README's "not acted on yet"
//! list) in the same change. `krill gateway` logs the warnings at start-up
//! and `krill doctor` prints them, once per key set in the file.
//!
//! ```text
//! for w in krill_core::config::keys_without_effect(text, &config) { /* warn */ }
//! ```

use super::path::{KeyPath, Seg};
use super::tree::{self, Node, Value};
use super::{Config, Warning};
use crate::agent::BackendSpec;

/// One key (or family of keys) that is parsed and validated but does nothing
/// yet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InertKey {
    /// Dotted key path; `*` stands for any one key (an id, a name, an
    /// account). Patterns under `channels.discord` also match the same keys
    /// under `channels.discord.accounts.<name>`. A pattern ending in `.*`
    /// warns for each key set under its parent.
    pub pattern: &'static str,
    /// What does not happen yet (the warning says "has no effect yet: ...").
    pub missing: &'static str,
    /// When the key is inert.
    pub when: Inert,
}

/// When an [`InertKey`] has no effect.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Inert {
    /// Whatever else the config says.
    Always,
    /// When the agent that answers (the default agent) runs the `openai`
    /// backend, which has no skills.
    WithOpenAiAgent,
}

/// The keys that have no effect yet. Delete a row when its key is carried
/// out.
pub const NO_EFFECT_YET: &[InertKey] = &[InertKey {
    pattern: "channels.discord.guilds.*.channels.*.skills",
    missing: "the openai backend has no skills to filter",
    when: Inert::WithOpenAiAgent,
}];

/// One warning per key of `text` that [`NO_EFFECT_YET`] lists, in file
/// order: `channels.discord.actions.roles: has no effect yet: ...`. `config`
/// is `text` already parsed (it decides [`Inert::WithOpenAiAgent`]). A text
/// that does not parse has no such keys.
pub fn keys_without_effect(text: &str, config: &Config) -> Vec<Warning> {
    let Ok(doc) = tree::parse(text) else {
        return Vec::new();
    };
    let openai = matches!(
        config.backend_for(config.default_agent_id()),
        BackendSpec::OpenAi { .. }
    );
    let mut found = Vec::new();
    walk(&doc.root, &mut KeyPath::root(), openai, &mut found);
    found.sort_by_key(|(start, _)| *start);
    found
        .into_iter()
        .map(|(start, (path, entry))| {
            let (line, column) = tree::line_col(text, start);
            Warning {
                path,
                line,
                column,
                message: format!("has no effect yet: {}", entry.missing),
            }
        })
        .collect()
}

type Found = (usize, (KeyPath, &'static InertKey));

fn walk(node: &Node, path: &mut KeyPath, openai: bool, found: &mut Vec<Found>) {
    let Value::Object(members) = &node.value else {
        return;
    };
    for member in members {
        path.0.push(Seg::Key(member.key.clone()));
        match inert_entry(path, openai) {
            Some(entry) => found.push((member.key_span.start, (path.clone(), entry))),
            None => walk(&member.value, path, openai, found),
        }
        path.0.pop();
    }
}

/// The row of [`NO_EFFECT_YET`] that makes `path` inert, if any.
fn inert_entry(path: &KeyPath, openai: bool) -> Option<&'static InertKey> {
    let keys: Vec<&str> = path
        .0
        .iter()
        .map(|seg| match seg {
            Seg::Key(k) => k.as_str(),
            Seg::Index(_) => "",
        })
        .collect();
    let keys = account_as_channel(&keys);
    NO_EFFECT_YET.iter().find(|entry| {
        let applies = match entry.when {
            Inert::Always => true,
            Inert::WithOpenAiAgent => openai,
        };
        applies && matches(entry.pattern, &keys)
    })
}

/// `channels.discord.accounts.<name>.rest` reads as `channels.discord.rest`:
/// an account takes the same keys as the channel.
fn account_as_channel<'a>(keys: &[&'a str]) -> Vec<&'a str> {
    match keys {
        ["channels", platform, "accounts", _name, rest @ ..] if !rest.is_empty() => {
            let mut out = vec!["channels", *platform];
            out.extend_from_slice(rest);
            out
        }
        _ => keys.to_vec(),
    }
}

fn matches(pattern: &str, keys: &[&str]) -> bool {
    let parts: Vec<&str> = pattern.split('.').collect();
    parts.len() == keys.len()
        && parts
            .iter()
            .zip(keys)
            .all(|(part, key)| *part == "*" || part == key)
}
