//! Reading commands: a text command out of a message's agent text (the
//! bot's own mention already removed by the access policy), the `/config`
//! sub-command out of its arguments, and a slash command out of Discord's
//! INTERACTION_CREATE.

use serde_json::Value;

use super::registry::{lookup, CommandName};
use crate::config::KeyPath;

/// A command someone ran.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invocation {
    /// Which.
    pub command: CommandName,
    /// Everything after the command word, trimmed (text commands); native
    /// commands put their options here the same way (`/config`: `action
    /// path value`; `/new`, `/ask`: the text).
    pub args: String,
}

/// The text command in `text`, if it is one: it starts with `/` and its
/// first word names a command that runs as text (`/ask` does not). Unknown
/// `/words` are not commands (they go to the agent).
pub fn parse_text_command(text: &str) -> Option<Invocation> {
    let rest = text.trim_start().strip_prefix('/')?;
    let end = rest.find(char::is_whitespace).unwrap_or(rest.len());
    let word = &rest[..end];
    if word.is_empty() {
        return None;
    }
    let spec = lookup(word)?;
    if spec.native_only {
        return None;
    }
    Some(Invocation {
        command: spec.name,
        args: rest[end..].trim().to_owned(),
    })
}

/// `/config`'s sub-command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConfigOp {
    /// The whole config, tokens redacted.
    Show,
    /// One value.
    Get(KeyPath),
    /// Set a value (JSON5 text).
    Set(KeyPath, String),
    /// Remove a key.
    Unset(KeyPath),
}

/// Reads `/config`'s arguments; the error is the message to answer.
pub fn parse_config_args(args: &str) -> Result<ConfigOp, String> {
    const USAGE: &str = "Usage: /config show | get <path> | set <path> <value> | unset <path>";
    let args = args.trim();
    let (op, rest) = split_word(args);
    let path = |text: &str| -> Result<KeyPath, String> {
        if text.is_empty() {
            return Err(USAGE.to_owned());
        }
        text.parse::<KeyPath>().map_err(|e| e.to_string())
    };
    match op.to_ascii_lowercase().as_str() {
        "" | "show" if rest.is_empty() => Ok(ConfigOp::Show),
        "get" => Ok(ConfigOp::Get(path(rest)?)),
        "unset" => Ok(ConfigOp::Unset(path(rest)?)),
        "set" => {
            let (key, value) = split_path(rest);
            if value.is_empty() {
                return Err(USAGE.to_owned());
            }
            Ok(ConfigOp::Set(path(key)?, value.to_owned()))
        }
        _ => Err(USAGE.to_owned()),
    }
}

/// The first word and the trimmed rest.
fn split_word(text: &str) -> (&str, &str) {
    let end = text.find(char::is_whitespace).unwrap_or(text.len());
    (&text[..end], text[end..].trim())
}

/// A key path (quoted keys may hold spaces) and the trimmed rest.
fn split_path(text: &str) -> (&str, &str) {
    let mut in_quotes = false;
    let mut escaped = false;
    for (i, c) in text.char_indices() {
        match c {
            _ if escaped => escaped = false,
            '\\' if in_quotes => escaped = true,
            '"' => in_quotes = !in_quotes,
            c if c.is_whitespace() && !in_quotes => return (&text[..i], text[i..].trim()),
            _ => {}
        }
    }
    (text, "")
}

/// A slash command from INTERACTION_CREATE (type 2, APPLICATION_COMMAND).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SlashCommand {
    /// The interaction id (for the callback).
    pub id: String,
    /// The interaction token (callback and webhooks; valid 15 minutes).
    pub token: String,
    /// The application id.
    pub application_id: String,
    /// The command run, with its options as [`Invocation::args`]; `None`
    /// for a command krill does not know (answered with a refusal text).
    pub invocation: Option<Invocation>,
    /// The name Discord sent.
    pub name: String,
    /// Who ran it: `member.user` in guilds, `user` in DMs.
    pub user_id: String,
    /// Their username.
    pub username: String,
    /// Their display name.
    pub global_name: Option<String>,
    /// They are a bot.
    pub is_bot: bool,
    /// Where.
    pub channel_id: String,
    /// The guild, when not a DM.
    pub guild_id: Option<String>,
    /// `channel.type` when sent (1 DM, 3 group DM, 10–12 threads).
    pub channel_type: Option<u16>,
    /// `channel.name` when sent.
    pub channel_name: Option<String>,
    /// `channel.parent_id` when sent (threads).
    pub parent_id: Option<String>,
}

/// Why an interaction is not a slash command krill answers.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum InteractionError {
    /// Not type 2 (a ping, a component, autocomplete, a modal).
    #[error("interaction type {0} is not an application command")]
    NotACommand(u64),
    /// A field krill needs is missing.
    #[error("interaction without `{0}`")]
    Missing(&'static str),
}

/// Reads INTERACTION_CREATE's `d`.
pub fn parse_interaction(d: &Value) -> Result<SlashCommand, InteractionError> {
    let kind = d.get("type").and_then(Value::as_u64).unwrap_or(0);
    if kind != 2 {
        return Err(InteractionError::NotACommand(kind));
    }
    let text = |v: Option<&Value>| -> Option<String> {
        match v? {
            Value::String(s) => Some(s.clone()),
            Value::Number(n) => Some(n.to_string()),
            _ => None,
        }
    };
    let id = text(d.get("id")).ok_or(InteractionError::Missing("id"))?;
    let token = text(d.get("token")).ok_or(InteractionError::Missing("token"))?;
    let application_id =
        text(d.get("application_id")).ok_or(InteractionError::Missing("application_id"))?;
    let data = d.get("data").ok_or(InteractionError::Missing("data"))?;
    let name = text(data.get("name")).ok_or(InteractionError::Missing("data.name"))?;
    let user = d
        .get("member")
        .and_then(|m| m.get("user"))
        .or_else(|| d.get("user"))
        .ok_or(InteractionError::Missing("user"))?;
    let user_id = text(user.get("id")).ok_or(InteractionError::Missing("user.id"))?;
    let channel = d.get("channel");
    let channel_id = text(d.get("channel_id"))
        .or_else(|| text(channel.and_then(|c| c.get("id"))))
        .ok_or(InteractionError::Missing("channel_id"))?;
    let option = |name: &str| -> String {
        data.get("options")
            .and_then(Value::as_array)
            .and_then(|opts| opts.iter().find(|o| o["name"] == name))
            .and_then(|o| text(o.get("value")))
            .unwrap_or_default()
    };
    let invocation = lookup(&name).map(|spec| {
        let args = match spec.name {
            CommandName::Config => [option("action"), option("path"), option("value")]
                .iter()
                .filter(|s| !s.is_empty())
                .cloned()
                .collect::<Vec<_>>()
                .join(" "),
            CommandName::New | CommandName::Ask => option("text"),
            _ => String::new(),
        };
        Invocation {
            command: spec.name,
            args: args.trim().to_owned(),
        }
    });
    Ok(SlashCommand {
        id,
        token,
        application_id,
        invocation,
        name,
        user_id,
        username: text(user.get("username")).unwrap_or_default(),
        global_name: text(user.get("global_name")),
        is_bot: user.get("bot").and_then(Value::as_bool).unwrap_or(false),
        channel_id,
        guild_id: text(d.get("guild_id")),
        channel_type: channel
            .and_then(|c| c.get("type"))
            .and_then(Value::as_u64)
            .and_then(|t| u16::try_from(t).ok()),
        channel_name: text(channel.and_then(|c| c.get("name"))),
        parent_id: text(channel.and_then(|c| c.get("parent_id"))),
    })
}
