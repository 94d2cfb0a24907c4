//! Planning a whole reply: reply tags → `replyToMode` → chunks, and the
//! platform wire shapes of "this message is a reply to X".
//!
//! [`plan_reply`] is the one call the outbound path needs: it strips the
//! tags (see [`super::tags`]), chunks the rest (see [`super::chunk`]) and
//! decides per chunk whether it is a native reply:
//! - `replyToMode = off` (default): never (tags are still stripped);
//! - `first`: only the first chunk;
//! - `all`: every chunk.
//!
//! It applies only when the text carried a tag; `[[reply_to_current]]`
//! needs the id of the triggering message (`current_message_id`), without
//! one it is dropped.
//!
//! The REST planner puts `reply_to` on the wire with [`discord_message_reference`]
//! (field `message_reference` of `POST /channels/{id}/messages`) or as KOOK's
//! `quote` field ([`KOOK_REPLY_FIELD`], the message id as a string) of
//! `POST /message/create` and `/direct-message/create`.

use serde::Serialize;
use serde_json::{json, Value};

use super::chunk::{chunk_text, ChunkLimits};
use super::tags::{extract_reply_tags, ReplyTarget};
use super::ReplyToMode;

/// Discord's request field for a reply.
pub const DISCORD_REPLY_FIELD: &str = "message_reference";
/// KOOK's request field for a reply (a message id string).
pub const KOOK_REPLY_FIELD: &str = "quote";

/// One message to send.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OutboundChunk {
    /// The message text; within the limits it was planned with.
    pub text: String,
    /// The message id this message replies to, if it is a native reply.
    pub reply_to: Option<String>,
}

/// Strips reply tags, chunks the text and marks which chunks are replies.
/// Whitespace-only text (or text that was only tags) gives no chunk.
pub fn plan_reply(
    text: &str,
    current_message_id: Option<&str>,
    limits: &ChunkLimits,
    mode: ReplyToMode,
) -> Vec<OutboundChunk> {
    let tagged = extract_reply_tags(text);
    let target = resolve_target(tagged.target, current_message_id);
    chunk_text(&tagged.text, limits)
        .into_iter()
        .enumerate()
        .map(|(i, text)| {
            let reply = match mode {
                ReplyToMode::Off => false,
                ReplyToMode::First => i == 0,
                ReplyToMode::All => true,
            };
            OutboundChunk {
                text,
                reply_to: if reply { target.clone() } else { None },
            }
        })
        .collect()
}

/// The message a reply's tags point at (`[[reply_to_current]]` is
/// `current_message_id`), whatever `replyToMode` says: what messages added
/// to a reply (files) quote when the mode lets them.
pub fn reply_target(text: &str, current_message_id: Option<&str>) -> Option<String> {
    resolve_target(extract_reply_tags(text).target, current_message_id)
}

fn resolve_target(target: Option<ReplyTarget>, current_message_id: Option<&str>) -> Option<String> {
    match target {
        Some(ReplyTarget::Message(id)) => Some(id),
        Some(ReplyTarget::Current) => current_message_id
            .map(str::trim)
            .filter(|id| !id.is_empty())
            .map(str::to_owned),
        None => None,
    }
}

/// Discord's `message_reference` value for a reply to `message_id`:
/// `{"message_id": id, "fail_if_not_exists": false}` (a deleted target
/// still lets the message through, as a plain message).
pub fn discord_message_reference(message_id: &str) -> Value {
    json!({ "message_id": message_id, "fail_if_not_exists": false })
}

/// KOOK's `quote` value for a reply to `msg_id` (just the id).
pub fn kook_quote(msg_id: &str) -> Value {
    Value::String(msg_id.to_owned())
}
