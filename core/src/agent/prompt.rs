//! Prompt rendering: the `prompt` of a turn, built from the inbound message,
//! the guild context (recent channel messages that did not trigger the bot,
//! from [`crate::agent::ChannelHistory`]) and the message it replies to; and
//! the turn's extra system prompt ([`combine_system_prompt`]).
//!
//! The format (pinned by the `agent_prompt` snapshots; documented in the
//! README):
//!
//! ```text
//! [Chat messages since your last reply - for context]
//! [from: alice#0001 (111)] hello there
//! [message_id: 9001]
//! [from: bob (222)] line one
//! line two
//! [message_id: 9002]
//!
//! [Current message - respond to this]
//! [Replying to carol (333), message_id: 8000]
//! > the quoted message
//! [from: alice#0001 (111)] what do you think?
//! [message_id: 9003]
//! ```
//!
//! - Guild channels: every message is `[from: <name> (<user id>)] <text>`
//!   then `[message_id: <id>]` on its own line, so the agent can ping the
//!   author (`<@id>`) or answer a message with `[[reply_to:<id>]]`. With no
//!   context the two `[… - …]` headers are left out.
//! - DMs: no context block and no `[from: …]`: the text, then
//!   `[message_id: <id>]`.
//! - A reply (the message references another one) puts
//!   `[Replying to <name> (<id>), message_id: <id>]` and the quoted text
//!   (each line prefixed `> `) just before the message.
//! - No message id (the terminal): no `[message_id: …]` line.
//! - Discord: every message shown (context, quoted, current) also gets
//!   `[discord message id: <id> channel: <channelId>]` after its
//!   `[message_id: …]` line (after the quote for a quoted message), so the
//!   agent can target it with the `discord` tool.
//! - A message with no text shows `(no text)` in context and quotes.

use super::turn::{ChatType, Sender};

/// Header before the guild context.
pub const CONTEXT_HEADER: &str = "[Chat messages since your last reply - for context]";
/// Header before the current message, when there is context.
pub const CURRENT_HEADER: &str = "[Current message - respond to this]";

/// A message shown to the agent besides the one it answers: a guild context
/// message or the message being replied to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContextMessage {
    /// Platform message id.
    pub message_id: String,
    /// Author's user id.
    pub author_id: String,
    /// Author's tag / display name (Discord `author.tag`).
    pub author_name: String,
    /// The message text as sent.
    pub text: String,
}

/// Everything [`render_prompt`] needs.
#[derive(Debug, Clone, Copy)]
pub struct PromptInput<'a> {
    /// DM or guild channel.
    pub chat_type: ChatType,
    /// The author of the current message.
    pub sender: &'a Sender,
    /// The current message's text (the agent input `text`).
    pub text: &'a str,
    /// The current message's id; `None` in the terminal.
    pub message_id: Option<&'a str>,
    /// Guild context, oldest first (empty for DMs, or when `historyLimit`
    /// is 0).
    pub context: &'a [ContextMessage],
    /// The message the current one replies to, if any.
    pub reply_to: Option<&'a ContextMessage>,
    /// Discord: the channel of the messages shown, for the
    /// `[discord message id: <id> channel: <channelId>]` lines; `None`
    /// elsewhere.
    pub discord_channel_id: Option<&'a str>,
}

/// Renders the prompt of a turn (format in the module docs).
pub fn render_prompt(input: &PromptInput<'_>) -> String {
    let mut out = String::new();
    let with_context = input.chat_type == ChatType::Channel && !input.context.is_empty();
    if with_context {
        out.push_str(CONTEXT_HEADER);
        out.push('\n');
        for message in input.context {
            push_from_line(
                &mut out,
                &message.author_name,
                &message.author_id,
                or_no_text(&message.text),
            );
            push_message_id(&mut out, Some(&message.message_id));
            push_discord_id(
                &mut out,
                Some(&message.message_id),
                input.discord_channel_id,
            );
        }
        out.push('\n');
        out.push_str(CURRENT_HEADER);
        out.push('\n');
    }
    if let Some(quoted) = input.reply_to {
        out.push_str(&format!(
            "[Replying to {} ({}), message_id: {}]\n",
            one_line(&quoted.author_name),
            one_line(&quoted.author_id),
            one_line(&quoted.message_id)
        ));
        for line in or_no_text(&quoted.text).lines() {
            out.push_str("> ");
            out.push_str(line);
            out.push('\n');
        }
        push_discord_id(&mut out, Some(&quoted.message_id), input.discord_channel_id);
    }
    match input.chat_type {
        ChatType::Channel => {
            push_from_line(&mut out, &input.sender.name, &input.sender.id, input.text)
        }
        ChatType::Direct if !input.text.is_empty() => {
            out.push_str(input.text);
            out.push('\n');
        }
        ChatType::Direct => {}
    }
    push_message_id(&mut out, input.message_id);
    push_discord_id(&mut out, input.message_id, input.discord_channel_id);
    let trimmed_len = out.trim_end_matches('\n').len();
    out.truncate(trimmed_len);
    out
}

/// The extra system prompt of a turn: the channel's `systemPrompt`, then the
/// channel topic as `Channel topic: <topic>`, separated by a blank line.
/// Blank parts are left out; `None` when both are.
pub fn combine_system_prompt(system_prompt: Option<&str>, topic: Option<&str>) -> Option<String> {
    let prompt = system_prompt.map(str::trim).filter(|p| !p.is_empty());
    let topic = topic
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(|t| format!("Channel topic: {t}"));
    match (prompt, topic) {
        (Some(p), Some(t)) => Some(format!("{p}\n\n{t}")),
        (Some(p), None) => Some(p.to_owned()),
        (None, Some(t)) => Some(t),
        (None, None) => None,
    }
}

/// `[from: <name> (<id>)] <text>` and a newline.
fn push_from_line(out: &mut String, name: &str, id: &str, text: &str) {
    out.push_str(&format!("[from: {} ({})]", one_line(name), one_line(id)));
    if !text.is_empty() {
        out.push(' ');
        out.push_str(text);
    }
    out.push('\n');
}

/// `[message_id: <id>]` and a newline, when there is an id.
fn push_message_id(out: &mut String, message_id: Option<&str>) {
    if let Some(id) = message_id.filter(|id| !id.is_empty()) {
        out.push_str(&format!("[message_id: {}]\n", one_line(id)));
    }
}

/// `[discord message id: <id> channel: <channelId>]` and a newline, for
/// Discord messages with an id.
fn push_discord_id(out: &mut String, message_id: Option<&str>, channel_id: Option<&str>) {
    if let (Some(id), Some(channel)) = (message_id.filter(|id| !id.is_empty()), channel_id) {
        out.push_str(&format!(
            "[discord message id: {} channel: {}]\n",
            one_line(id),
            one_line(channel)
        ));
    }
}

/// Names and ids go inside one bracketed line: no line breaks.
fn one_line(s: &str) -> String {
    s.replace(['\r', '\n'], " ")
}

fn or_no_text(text: &str) -> &str {
    if text.trim().is_empty() {
        "(no text)"
    } else {
        text
    }
}
