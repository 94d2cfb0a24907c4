//! What a model is told about each action: a description and the JSON
//! Schema of its arguments, flat objects with camelCase names (`channelId`,
//! `messageId`, `emoji`, `content`, `to`, `limit`, ...) that small local
//! models handle. [`ToolSpec`] is one function as the OpenAI backend offers
//! it and as a command agent's stdin lists it (`tools`). A turn carries its
//! specs as [`ToolSpecs`] (shared, so copying a turn copies no schema), and
//! [`SpecCache`] builds each set of actions' specs once.

use std::collections::HashMap;
use std::ops::Deref;
use std::sync::Arc;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{json, Map, Value};

use super::Action;

/// One function the agent may call.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ToolSpec {
    /// `discord_<action>`.
    pub name: String,
    /// What it does, for the model.
    pub description: String,
    /// JSON Schema (`type: object`) of its arguments.
    pub parameters: Value,
}

/// A turn's tool specs, shared: a clone copies a pointer. Serialized as
/// the list of specs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ToolSpecs(Arc<[ToolSpec]>);

impl ToolSpecs {
    /// No specs.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl Default for ToolSpecs {
    fn default() -> Self {
        Self(Arc::from(Vec::new()))
    }
}

impl Deref for ToolSpecs {
    type Target = [ToolSpec];
    fn deref(&self) -> &[ToolSpec] {
        &self.0
    }
}

impl From<Vec<ToolSpec>> for ToolSpecs {
    fn from(specs: Vec<ToolSpec>) -> Self {
        Self(Arc::from(specs))
    }
}

impl Serialize for ToolSpecs {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for ToolSpecs {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Vec::<ToolSpec>::deserialize(deserializer).map(Self::from)
    }
}

/// The specs of `actions`, in order.
pub fn specs_for(actions: &[Action]) -> ToolSpecs {
    actions.iter().map(|a| spec(*a)).collect::<Vec<_>>().into()
}

/// The specs of each set of actions seen, built once (the sets a config
/// offers are few; the cache starts over past [`SpecCache::MAX_SETS`]).
#[derive(Debug, Default)]
pub struct SpecCache {
    sets: HashMap<Vec<Action>, ToolSpecs>,
}

impl SpecCache {
    /// The most sets kept.
    pub const MAX_SETS: usize = 64;

    /// The specs of `actions` (as [`specs_for`]).
    pub fn specs(&mut self, actions: &[Action]) -> ToolSpecs {
        if let Some(specs) = self.sets.get(actions) {
            return specs.clone();
        }
        if self.sets.len() >= Self::MAX_SETS {
            self.sets.clear();
        }
        let specs = specs_for(actions);
        self.sets.insert(actions.to_vec(), specs.clone());
        specs
    }
}

/// The spec of one action.
pub fn spec(action: Action) -> ToolSpec {
    let (description, properties, required) = describe(action);
    let mut props = Map::new();
    for (name, schema) in properties {
        props.insert(name.to_owned(), schema);
    }
    ToolSpec {
        name: action.function_name(),
        description: description.to_owned(),
        parameters: json!({
            "type": "object",
            "properties": props,
            "required": required,
            "additionalProperties": false,
        }),
    }
}

fn id(what: &str) -> Value {
    json!({"type": "string", "description": what})
}

fn text(what: &str) -> Value {
    json!({"type": "string", "description": what})
}

fn int(what: &str, min: i64, max: i64) -> Value {
    json!({"type": "integer", "minimum": min, "maximum": max, "description": what})
}

fn flag(what: &str) -> Value {
    json!({"type": "boolean", "description": what})
}

fn strings(what: &str) -> Value {
    json!({"type": "array", "items": {"type": "string"}, "description": what})
}

const CHANNEL: &str = "Channel or thread id; default: the current channel.";
const MESSAGE: &str = "Message id, as in [discord message id: <id> channel: <channelId>].";
const MESSAGE_DEFAULT: &str =
    "Message id, as in [discord message id: <id> channel: <channelId>]; default: the current message.";
const USER: &str = "User id (digits, or a <@id> mention).";
const EMOJI: &str = "A Unicode emoji (✅) or a custom emoji as <:name:id>.";

type Described = (&'static str, Vec<(&'static str, Value)>, Vec<&'static str>);

#[allow(clippy::too_many_lines)] // one arm per action, each a short table
fn describe(action: Action) -> Described {
    match action {
        Action::React => (
            "Add a reaction to a message (or remove the bot's own with remove: true).",
            vec![
                ("channelId", id(CHANNEL)),
                ("messageId", id(MESSAGE_DEFAULT)),
                ("emoji", text(EMOJI)),
                ("remove", flag("Remove the bot's reaction instead of adding it.")),
            ],
            vec!["emoji"],
        ),
        Action::Reactions => (
            "List the reactions on a message; with emoji, also who reacted with it.",
            vec![
                ("channelId", id(CHANNEL)),
                ("messageId", id(MESSAGE_DEFAULT)),
                ("emoji", text(EMOJI)),
                ("limit", int("Users to list for emoji (default 25).", 1, 100)),
            ],
            vec![],
        ),
        Action::Sticker => (
            "Send one to three stickers (by sticker id) to a channel.",
            vec![
                ("channelId", id(CHANNEL)),
                ("stickerIds", strings("Sticker ids (1 to 3).")),
                ("content", text("Optional text sent with the stickers.")),
            ],
            vec!["stickerIds"],
        ),
        Action::Poll => (
            "Create a poll in a channel.",
            vec![
                ("channelId", id(CHANNEL)),
                ("question", text("The question (at most 300 characters).")),
                ("answers", strings("2 to 10 answers (each at most 55 characters).")),
                ("durationHours", int("How long the poll runs (default 24).", 1, 768)),
                ("allowMultiselect", flag("Let voters pick more than one answer.")),
            ],
            vec!["question", "answers"],
        ),
        Action::Permissions => (
            "Show a channel's permission overwrites (who is allowed or denied what).",
            vec![("channelId", id(CHANNEL))],
            vec![],
        ),
        Action::ReadMessages => (
            "Read recent messages of a channel, newest first (each with timestampMs and timestampUtc).",
            vec![
                ("channelId", id(CHANNEL)),
                ("limit", int("How many (default 20).", 1, 100)),
                ("before", id("Only messages before this message id.")),
                ("after", id("Only messages after this message id.")),
                ("around", id("Messages around this message id.")),
            ],
            vec![],
        ),
        Action::SendMessage => (
            "Send a message to a channel of this server (to: channel:<id>) or a DM to a member (to: user:<id>).",
            vec![
                ("to", text("channel:<id> or user:<id>; default: the current channel.")),
                ("content", text("The text (at most 2000 characters).")),
                ("replyTo", id("Send as a reply to this message id (same channel).")),
            ],
            vec!["content"],
        ),
        Action::EditMessage => (
            "Edit a message the bot sent.",
            vec![
                ("channelId", id(CHANNEL)),
                ("messageId", id(MESSAGE)),
                ("content", text("The new text (at most 2000 characters).")),
            ],
            vec!["messageId", "content"],
        ),
        Action::DeleteMessage => (
            "Delete a message (the bot's own, or any with Manage Messages).",
            vec![("channelId", id(CHANNEL)), ("messageId", id(MESSAGE))],
            vec!["messageId"],
        ),
        Action::ThreadCreate => (
            "Create a thread: from a message (messageId) or a new one in a channel.",
            vec![
                ("channelId", id(CHANNEL)),
                ("messageId", id("Start the thread from this message (optional).")),
                ("name", text("The thread's name (1 to 100 characters).")),
                (
                    "autoArchiveMinutes",
                    json!({"type": "integer", "enum": [60, 1440, 4320, 10080],
                           "description": "Archive after this many idle minutes (default 1440)."}),
                ),
            ],
            vec!["name"],
        ),
        Action::ThreadList => (
            "List the active threads of this server (or of one channel with channelId).",
            vec![("channelId", id("Only threads of this channel (optional)."))],
            vec![],
        ),
        Action::ThreadReply => (
            "Post a message in a thread.",
            vec![
                ("threadId", id("The thread's channel id.")),
                ("content", text("The text (at most 2000 characters).")),
            ],
            vec!["threadId", "content"],
        ),
        Action::PinMessage => (
            "Pin a message.",
            vec![("channelId", id(CHANNEL)), ("messageId", id(MESSAGE_DEFAULT))],
            vec![],
        ),
        Action::UnpinMessage => (
            "Unpin a message.",
            vec![("channelId", id(CHANNEL)), ("messageId", id(MESSAGE))],
            vec!["messageId"],
        ),
        Action::ListPins => (
            "List the pinned messages of a channel (each with timestampMs and timestampUtc).",
            vec![
                ("channelId", id(CHANNEL)),
                ("limit", int("How many (default 50).", 1, 50)),
            ],
            vec![],
        ),
        Action::SearchMessages => (
            "Search this server's messages (Discord's search; results with timestampMs and timestampUtc).",
            vec![
                ("content", text("Words to look for.")),
                ("channelId", id("Only in this channel (optional).")),
                ("authorId", id("Only messages by this user (optional).")),
                ("limit", int("How many (default 25).", 1, 25)),
            ],
            vec![],
        ),
        Action::MemberInfo => (
            "Show a member of this server: names, roles, join date, timeout.",
            vec![("userId", id(USER))],
            vec!["userId"],
        ),
        Action::RoleInfo => (
            "List this server's roles (id, name, color, position).",
            vec![],
            vec![],
        ),
        Action::RoleAdd => (
            "Give a member of this server a role.",
            vec![
                ("userId", id(USER)),
                ("roleId", id("Role id (see discord_roleInfo).")),
                ("reason", text("Why (shown in the audit log).")),
            ],
            vec!["userId", "roleId"],
        ),
        Action::RoleRemove => (
            "Take a role from a member of this server.",
            vec![
                ("userId", id(USER)),
                ("roleId", id("Role id (see discord_roleInfo).")),
                ("reason", text("Why (shown in the audit log).")),
            ],
            vec!["userId", "roleId"],
        ),
        Action::EmojiList => (
            "List this server's custom emoji (use them as <:name:id>).",
            vec![],
            vec![],
        ),
        Action::ChannelInfo => (
            "Show a channel: name, type, topic, parent.",
            vec![("channelId", id(CHANNEL))],
            vec![],
        ),
        Action::ChannelList => (
            "List this server's channels (id, name, type, parent).",
            vec![],
            vec![],
        ),
        Action::VoiceStatus => (
            "Show a member's voice state in this server (which voice channel, muted, deafened).",
            vec![("userId", id(USER))],
            vec!["userId"],
        ),
        Action::EventList => (
            "List this server's scheduled events.",
            vec![],
            vec![],
        ),
        Action::EventCreate => (
            "Create a scheduled event: in a voice channel (channelId) or somewhere else (location + endTime).",
            vec![
                ("name", text("The event's name.")),
                ("startTime", text("Start, ISO 8601 (2025-03-14T18:00:00Z).")),
                ("endTime", text("End, ISO 8601 (required with location).")),
                ("description", text("What it is about.")),
                ("channelId", id("A voice channel of this server.")),
                ("location", text("Where (for an event outside a voice channel).")),
            ],
            vec!["name", "startTime"],
        ),
        Action::Timeout => (
            "Time out a member (they cannot talk) for some minutes; 0 lifts a timeout.",
            vec![
                ("userId", id(USER)),
                ("durationMinutes", int("Minutes (at most 28 days = 40320; 0 lifts it).", 0, 40_320)),
                ("reason", text("Why (shown in the audit log).")),
            ],
            vec!["userId", "durationMinutes"],
        ),
        Action::Kick => (
            "Kick a member from this server.",
            vec![
                ("userId", id(USER)),
                ("reason", text("Why (shown in the audit log).")),
            ],
            vec!["userId"],
        ),
        Action::Ban => (
            "Ban a user from this server.",
            vec![
                ("userId", id(USER)),
                ("deleteMessageDays", int("Delete their messages of the last N days (0-7).", 0, 7)),
                ("reason", text("Why (shown in the audit log).")),
            ],
            vec!["userId"],
        ),
    }
}
