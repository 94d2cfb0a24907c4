//! What an agent's reply becomes before anything is sent: its `MEDIA:`
//! lines taken out as files to send, the rest cut to `maxReplyChars`, on
//! KOOK its mention markup that may not ping escaped, then reply tags,
//! `replyToMode` and chunks. Also a command's answer (plain text, chunked).
//!
//! The loops hand [`shape_agent_reply`] the reply and their account's
//! [`ReplyShape`] and carry out the [`ShapedReply`]: chunks to the outbox
//! (or a slash command's interaction, [`interaction_answer`]), files read
//! off the loop and sent with them.

use crate::media::{extract_media, MediaRef};
use crate::reply::{
    bound_reply, neutralize_kmarkdown, plan_reply, reply_target, ChunkLimits, MentionPolicy,
    OutboundChunk, ReplyToMode,
};

/// How one account shapes replies.
#[derive(Debug, Clone, Copy)]
pub struct ReplyShape<'a> {
    /// The platform's chunk limits with the account's settings.
    pub limits: &'a ChunkLimits,
    /// `replyToMode`.
    pub mode: ReplyToMode,
    /// `maxReplyChars`: a longer reply is cut, with a note saying so.
    pub max_reply_chars: u32,
    /// KOOK: the reply is KMarkdown, and mention markup this policy does
    /// not let ping is escaped. `None` on Discord (its `allowed_mentions`
    /// does that on the wire).
    pub kmarkdown: Option<&'a MentionPolicy>,
}

/// An agent's reply, shaped.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ShapedReply {
    /// The text's messages, in order (`MEDIA:` lines removed).
    pub chunks: Vec<OutboundChunk>,
    /// The files the reply names, in order.
    pub media: Vec<MediaRef>,
    /// The message the reply's tags point at, whatever `replyToMode` says:
    /// the files quote it when the mode lets them. Set only with media.
    pub target: Option<String>,
}

/// Shapes `reply`, the agent's answer to message `message_id` (`None`: the
/// agent gave none). A `failed` turn's reply is the failure text: it is
/// sent as text, and `MEDIA:` lines in it name no files.
pub fn shape_agent_reply(
    reply: Option<&str>,
    failed: bool,
    message_id: &str,
    shape: &ReplyShape<'_>,
) -> ShapedReply {
    let Some(text) = reply else {
        return ShapedReply::default();
    };
    let with_files = Some(text)
        .filter(|_| !failed)
        .map(extract_media)
        .filter(|extracted| !extracted.media.is_empty());
    match with_files {
        Some(extracted) => ShapedReply {
            chunks: text_chunks(&extracted.text, message_id, shape),
            target: reply_target(&extracted.text, Some(message_id)),
            media: extracted.media,
        },
        None => ShapedReply {
            chunks: text_chunks(text, message_id, shape),
            ..ShapedReply::default()
        },
    }
}

/// A slash command's answer when the agent's reply is only files: they
/// follow in the command's chat.
pub const FILES_FOLLOW: &str = "The files follow in this chat.";

/// The texts that answer a slash command's deferred interaction with
/// `reply`: the first edits the "thinking…" response, the others follow.
/// There is always a first: without text it says that the files follow
/// (they go to the chat: interaction messages carry none here), that the
/// turn was stopped (`cancelled`), or that the agent gave no reply.
pub fn interaction_answer(reply: &ShapedReply, cancelled: bool) -> Vec<String> {
    let texts: Vec<String> = reply.chunks.iter().map(|c| c.text.clone()).collect();
    if !texts.is_empty() {
        return texts;
    }
    let text = if !reply.media.is_empty() {
        FILES_FOLLOW
    } else if cancelled {
        "Stopped."
    } else {
        "The agent did not reply."
    };
    vec![text.to_owned()]
}

/// The messages that carry a command's answer: plain text, chunked, tags
/// left as written.
pub fn answer_chunks(text: &str, limits: &ChunkLimits) -> Vec<OutboundChunk> {
    plan_reply(text, None, limits, ReplyToMode::Off)
}

/// The messages of one reply text: cut to `maxReplyChars`, KMarkdown
/// mentions escaped, then tags and chunks.
fn text_chunks(text: &str, message_id: &str, shape: &ReplyShape<'_>) -> Vec<OutboundChunk> {
    let bounded = bound_reply(text, shape.max_reply_chars as usize);
    let current = Some(message_id);
    match shape.kmarkdown {
        Some(policy) => plan_reply(
            &neutralize_kmarkdown(&bounded, policy),
            current,
            shape.limits,
            shape.mode,
        ),
        None => plan_reply(&bounded, current, shape.limits, shape.mode),
    }
}
