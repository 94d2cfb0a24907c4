//! One agent turn: what the gateway hands the runner ([`TurnInput`]) and the
//! one JSON object a backend receives ([`TurnRequest`], written to a command
//! agent's stdin). The JSON field names are part of krill's public contract
//! (README, "Command agents"); the `agent_turn_request` snapshot pins them.
//!
//! A [`TurnInput`] becomes a [`TurnRequest`] when the turn starts, not when
//! it is submitted: [`TurnInput::request`] takes the session's transcript as
//! it is then, so a turn sees the replies to the turns queued before it.

use serde::{Deserialize, Serialize};

use super::transcript::{history_window, TranscriptEntry};
use crate::media::MediaItem;
use crate::tools::ToolSpecs;

/// What the user sees when a backend fails (non-zero exit, timeout, spawn
/// failure, HTTP error). The details go to the log, never to the chat.
pub const AGENT_FAILED_REPLY: &str = "⚠️ The agent failed to answer. Try again later.";

/// The platform a message came from (`channel` in the JSON object).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum ChannelKind {
    /// Discord.
    Discord,
    /// KOOK.
    Kook,
    /// The terminal (`krill chat`).
    Cli,
}

/// A direct chat (DM) or a server channel (`chatType` in the JSON object).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum ChatType {
    /// A DM: Discord DM channel, KOOK PERSON message, the terminal.
    Direct,
    /// A guild / server channel (threads included).
    Channel,
}

/// Who wrote the message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sender {
    /// Platform user id.
    pub id: String,
    /// Display name: Discord `author.tag` style (`name` or `name#1234`),
    /// KOOK `username#identify_num`.
    pub name: String,
}

/// The speaker of a transcript entry or history item.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// The human side: the rendered prompt of a past turn.
    User,
    /// The agent's reply (or, with `toolCalls`, its request to call tools).
    Assistant,
    /// The result of one tool call (`toolCallId` says which).
    Tool,
}

impl Role {
    /// `"user"` / `"assistant"`, as on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::User => "user",
            Role::Assistant => "assistant",
            Role::Tool => "tool",
        }
    }
}

/// One item of [`TurnRequest::history`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HistoryEntry {
    /// `user`, `assistant` or `tool`.
    pub role: Role,
    /// For `user`: the prompt that turn was asked with; for `assistant`: the
    /// reply; for `tool`: the tool's JSON result.
    pub text: String,
    /// `assistant` entries that asked for tools: the calls.
    #[serde(rename = "toolCalls", default, skip_serializing_if = "Vec::is_empty")]
    pub tool_calls: Vec<ToolCallRecord>,
    /// `tool` entries: the call this is the result of.
    #[serde(
        rename = "toolCallId",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub tool_call_id: Option<String>,
}

impl HistoryEntry {
    /// A plain `user` / `assistant` entry.
    pub fn new(role: Role, text: impl Into<String>) -> Self {
        Self {
            role,
            text: text.into(),
            tool_calls: Vec::new(),
            tool_call_id: None,
        }
    }
}

/// One tool call an agent made: kept in the transcript with its result so
/// later turns see what the agent did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ToolCallRecord {
    /// The call's id (the model's, else `call_<n>`).
    pub id: String,
    /// The function, e.g. `discord_react`.
    pub name: String,
    /// Its arguments, a JSON object as text.
    pub arguments: String,
}

/// The one JSON object a backend receives per turn (camelCase on the wire).
///
/// `systemPrompt` and `skills` are left out of the JSON when unset; an
/// absent `skills` means "all skills", `[]` means "none".
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TurnRequest {
    /// The agent answering (`agents.list[].id`, `main` by default).
    pub agent_id: String,
    /// The session, e.g. `agent:main:main` or
    /// `agent:main:discord:channel:123`.
    pub session_key: String,
    /// `discord`, `kook` or `cli`.
    pub channel: ChannelKind,
    /// The channel account (`default` unless `accounts` are configured).
    pub account_id: String,
    /// `direct` or `channel`.
    pub chat_type: ChatType,
    /// Where the reply goes: Discord channel id (DM channel id for DMs);
    /// KOOK channel id, or the sender's user id for PERSON messages.
    pub chat_id: String,
    /// Who wrote the message.
    pub sender: Sender,
    /// The platform id of the inbound message.
    pub message_id: String,
    /// The inbound text: the bot's own mention removed and trimmed (DMs as
    /// sent).
    pub text: String,
    /// The rendered prompt ([`crate::agent::render_prompt`]): guild context,
    /// reply context, `[from: …]` and `[message_id: …]` markers.
    pub prompt: String,
    /// Past turns of this session from the transcript, oldest first.
    pub history: Vec<HistoryEntry>,
    /// Extra system prompt: the channel's `systemPrompt` combined with the
    /// channel topic.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub system_prompt: Option<String>,
    /// Skill filter: absent = all, `[]` = none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub skills: Option<Vec<String>>,
    /// Files attached to the message (`[{path, url, filename, contentType,
    /// size, skipped}]`; `path` absent and `skipped` set when not
    /// downloaded). Left out when there are none.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub media: Vec<MediaItem>,
    /// The `discord` tool's functions this turn may call (Discord turns
    /// only; left out when none).
    #[serde(default, skip_serializing_if = "ToolSpecs::is_empty")]
    pub tools: ToolSpecs,
}

/// What the gateway submits for one inbound message: everything of the
/// [`TurnRequest`] but its `history`, plus how much history to include.
/// Serializable for the turn journal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TurnInput {
    /// See [`TurnRequest::agent_id`].
    pub agent_id: String,
    /// See [`TurnRequest::session_key`].
    pub session_key: String,
    /// See [`TurnRequest::channel`].
    pub channel: ChannelKind,
    /// See [`TurnRequest::account_id`].
    pub account_id: String,
    /// See [`TurnRequest::chat_type`].
    pub chat_type: ChatType,
    /// See [`TurnRequest::chat_id`].
    pub chat_id: String,
    /// See [`TurnRequest::sender`].
    pub sender: Sender,
    /// See [`TurnRequest::message_id`].
    pub message_id: String,
    /// See [`TurnRequest::text`].
    pub text: String,
    /// See [`TurnRequest::prompt`].
    pub prompt: String,
    /// See [`TurnRequest::system_prompt`].
    pub system_prompt: Option<String>,
    /// See [`TurnRequest::skills`].
    pub skills: Option<Vec<String>>,
    /// See [`TurnRequest::tools`].
    pub tools: ToolSpecs,
    /// How many past *user turns* of the transcript go into `history`
    /// (each with the replies that followed it). `None`: all the transcript
    /// the store keeps in memory; `Some(0)`: no history. For DMs this is
    /// `dms["<userId>"].historyLimit`, else `dmHistoryLimit`
    /// ([`dm_history_limit`]).
    pub history_limit: Option<usize>,
    /// See [`TurnRequest::media`] (filled by [`crate::media::attach_media`]
    /// once the files are downloaded).
    pub media: Vec<MediaItem>,
}

impl TurnInput {
    /// The request for this turn, with `history` cut from `transcript`
    /// (oldest first) by [`TurnInput::history_limit`].
    pub fn request(&self, transcript: &[TranscriptEntry]) -> TurnRequest {
        self.request_with_history(history_window(transcript, self.history_limit))
    }

    /// The request with `history` already cut to this turn's window (see
    /// [`history_window`]).
    pub fn request_with_history(&self, history: Vec<HistoryEntry>) -> TurnRequest {
        TurnRequest {
            agent_id: self.agent_id.clone(),
            session_key: self.session_key.clone(),
            channel: self.channel,
            account_id: self.account_id.clone(),
            chat_type: self.chat_type,
            chat_id: self.chat_id.clone(),
            sender: self.sender.clone(),
            message_id: self.message_id.clone(),
            text: self.text.clone(),
            prompt: self.prompt.clone(),
            history,
            system_prompt: self.system_prompt.clone(),
            skills: self.skills.clone(),
            media: self.media.clone(),
            tools: self.tools.clone(),
        }
    }

    /// The transcript entry recording this turn's question: the prompt,
    /// with the inbound message id and sender.
    pub fn user_entry(&self, ts_ms: u64) -> TranscriptEntry {
        TranscriptEntry {
            ts_ms,
            role: Role::User,
            text: self.prompt.clone(),
            message_id: Some(self.message_id.clone()).filter(|id| !id.is_empty()),
            sender: Some(self.sender.clone()),
            tool_calls: Vec::new(),
            tool_call_id: None,
        }
    }
}

/// The DM history limit for one user: the per-user
/// `dms["<userId>"].historyLimit` wins over the account's `dmHistoryLimit`;
/// neither set means no limit.
pub fn dm_history_limit(dm_default: Option<usize>, per_user: Option<usize>) -> Option<usize> {
    per_user.or(dm_default)
}

/// The reply in an agent's output (a command's stdout, an echo): trailing
/// newlines trimmed; `None` when nothing but whitespace is left (no reply).
/// Invalid UTF-8 is replaced, not rejected.
pub fn reply_from_output(output: &[u8]) -> Option<String> {
    let text = String::from_utf8_lossy(output);
    let trimmed = text.trim_end_matches(['\n', '\r']);
    if trimmed.trim().is_empty() {
        None
    } else {
        Some(trimmed.to_owned())
    }
}
