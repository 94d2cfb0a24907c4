//! Transcripts: one [`TranscriptEntry`] per JSONL line, the file name a
//! session key maps to, parsing a transcript file that may end in a torn
//! line, and the history window a turn sees ([`history_window`]).
//!
//! The driver (`krill_drivers::agent::TranscriptStore`) reads and appends
//! the files under `<state>/agents/<agentId>/sessions/`; this module decides
//! what the bytes mean.
//!
//! File names: `<sessionKey>.jsonl`, as README (the state dir table under "Commands") lays out the state
//! dir: `agent:main:main` is stored as `agent:main:main.jsonl`.
//! [`session_file_name`] keeps ASCII letters, digits, `-`, `_`, `:` and `.`
//! and percent-encodes every other byte (and a leading dot) as `%XX`, so a
//! key built from ids a server sent can never name another path (no `/`,
//! `\\`, `..`). The mapping is reversible ([`session_key_from_file_name`])
//! and so collision-free.

use percent_encoding::{percent_decode_str, utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use serde::{Deserialize, Serialize};

use super::turn::{HistoryEntry, Role, Sender, ToolCallRecord};

/// Bytes of a session key kept as they are in its file name.
const FILE_NAME_ESCAPES: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b':')
    .remove(b'.');

/// The extension of transcript files.
pub const TRANSCRIPT_EXTENSION: &str = ".jsonl";

/// One line of a transcript file.
///
/// On disk: `{"ts_ms":…,"role":"user"|"assistant","text":"…","messageId":"…","sender":{"id":"…","name":"…"}}`
/// (`messageId` and `sender` only when known; the assistant entries carry
/// neither). A turn that used tools also has, between its user entry and
/// its reply, an assistant entry per model step with `"toolCalls":[{"id",
/// "name","arguments"}]` and one `"role":"tool"` entry per call with its
/// JSON result as `text` and `"toolCallId"`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TranscriptEntry {
    /// Wall-clock time of the entry, Unix epoch milliseconds.
    pub ts_ms: u64,
    /// `user` or `assistant`.
    pub role: Role,
    /// User entries: the turn's prompt. Assistant entries: the reply.
    pub text: String,
    /// The platform message id of the inbound message (user entries).
    #[serde(rename = "messageId", default, skip_serializing_if = "Option::is_none")]
    pub message_id: Option<String>,
    /// Who wrote the inbound message (user entries).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sender: Option<Sender>,
    /// Assistant entries that asked for tools: the calls.
    #[serde(rename = "toolCalls", default, skip_serializing_if = "Vec::is_empty")]
    pub tool_calls: Vec<ToolCallRecord>,
    /// Tool entries (`role: "tool"`): which call this is the result of.
    #[serde(
        rename = "toolCallId",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub tool_call_id: Option<String>,
}

impl TranscriptEntry {
    /// An assistant entry with `reply`.
    pub fn assistant(ts_ms: u64, reply: impl Into<String>) -> Self {
        Self {
            ts_ms,
            role: Role::Assistant,
            text: reply.into(),
            message_id: None,
            sender: None,
            tool_calls: Vec::new(),
            tool_call_id: None,
        }
    }

    /// The entry recording `step` of a turn's tool use (an assistant entry
    /// with its calls, or a tool result).
    pub fn from_history(ts_ms: u64, step: &HistoryEntry) -> Self {
        Self {
            ts_ms,
            role: step.role,
            text: step.text.clone(),
            message_id: None,
            sender: None,
            tool_calls: step.tool_calls.clone(),
            tool_call_id: step.tool_call_id.clone(),
        }
    }

    /// The entry as one JSONL line, `\n` included.
    pub fn to_jsonl_line(&self) -> String {
        // Serializing a struct of strings, numbers and unit enums cannot
        // fail; the fallback keeps the line valid JSON anyway.
        let mut line = serde_json::to_string(self).unwrap_or_else(|_| String::from("{}"));
        line.push('\n');
        line
    }
}

/// A transcript file, parsed.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ParsedTranscript {
    /// The entries of every line that parsed, in file order.
    pub entries: Vec<TranscriptEntry>,
    /// Lines that did not parse (a torn last line after a crash, a line
    /// someone edited by hand). They are skipped, not fatal.
    pub skipped_lines: usize,
    /// False when the file is non-empty and does not end in `\n` (a torn
    /// last line): the next append must start with a `\n` so it does not
    /// glue itself to the fragment.
    pub ends_with_newline: bool,
}

/// Parses the contents of a transcript file: one JSON object per line; blank
/// lines are ignored, lines that do not parse are counted and skipped.
pub fn parse_transcript(contents: &str) -> ParsedTranscript {
    let mut parsed = ParsedTranscript {
        ends_with_newline: contents.is_empty() || contents.ends_with('\n'),
        ..ParsedTranscript::default()
    };
    for line in contents.lines() {
        if line.trim().is_empty() {
            continue;
        }
        match serde_json::from_str::<TranscriptEntry>(line) {
            Ok(entry) => parsed.entries.push(entry),
            Err(_) => parsed.skipped_lines += 1,
        }
    }
    parsed
}

/// The history a turn sees: the transcript from the `user_turns`-th last
/// user entry on (each user turn with the replies after it), oldest first.
/// `None` keeps everything; `Some(0)` keeps nothing.
pub fn history_window(
    transcript: &[TranscriptEntry],
    user_turns: Option<usize>,
) -> Vec<HistoryEntry> {
    let start = match user_turns {
        None => 0,
        Some(0) => transcript.len(),
        Some(limit) => transcript
            .iter()
            .enumerate()
            .rev()
            .filter(|(_, entry)| entry.role == Role::User)
            .nth(limit - 1)
            .map_or(0, |(index, _)| index),
    };
    transcript[start..]
        .iter()
        .map(|entry| HistoryEntry {
            role: entry.role,
            text: entry.text.clone(),
            tool_calls: entry.tool_calls.clone(),
            tool_call_id: entry.tool_call_id.clone(),
        })
        .collect()
}

/// The file name of a session's transcript (see the module docs).
pub fn session_file_name(session_key: &str) -> String {
    let encoded = utf8_percent_encode(session_key, FILE_NAME_ESCAPES).to_string();
    match encoded.strip_prefix('.') {
        Some(rest) => format!("%2E{rest}{TRANSCRIPT_EXTENSION}"),
        None => format!("{encoded}{TRANSCRIPT_EXTENSION}"),
    }
}

/// The session key a transcript file name stands for, or `None` when the
/// name is not one [`session_file_name`] makes.
pub fn session_key_from_file_name(file_name: &str) -> Option<String> {
    let stem = file_name.strip_suffix(TRANSCRIPT_EXTENSION)?;
    let key = percent_decode_str(stem).decode_utf8().ok()?.into_owned();
    (session_file_name(&key) == file_name).then_some(key)
}

/// True when an agent id can name a folder under `<state>/agents/`: not
/// empty, no leading `.`, only ASCII letters, digits, `-`, `_` and `.`.
pub fn is_path_safe_agent_id(agent_id: &str) -> bool {
    !agent_id.is_empty()
        && !agent_id.starts_with('.')
        && agent_id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}
