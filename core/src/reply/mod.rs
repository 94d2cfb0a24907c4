//! Reply shaping: everything that turns an agent's reply text into the list of
//! messages krill sends (reply tags, `replyToMode`, the chunker). Pure
//! functions, no state.
//!
//! | submodule | owns |
//! |---|---|
//! | [`bound`] | [`bound_reply`]: a reply's length bound (`maxReplyChars`) and the note on a cut reply |
//! | [`mentions`] | whom a reply may ping (`allowedMentions`) |
//! | [`chunk`] | [`ChunkLimits`], [`chunk_text`] / [`chunk_spans`]: splitting within limits, fences kept balanced |
//! | [`fence`] | recognising code-fence lines |
//! | [`tags`] | [`extract_reply_tags`]: `[[reply_to_current]]`, `[[reply_to:<id>]]` |
//! | [`plan`] | [`plan_reply`]: tags + `replyToMode` + chunks; Discord/KOOK reply wire shapes |
//!
//! Driving it: the outbound path calls
//! `plan_reply(agent_text, Some(trigger_message_id), &ChunkLimits::discord(..), mode)`
//! and sends each [`OutboundChunk`] in order, as a reply to `reply_to` when set.
//!
//! The config enums below are shared with [`crate::config`].

use serde::Deserialize;

pub mod bound;
pub mod chunk;
pub mod fence;
pub mod mentions;
pub mod plan;
pub mod tags;

pub use bound::{bound_reply, DEFAULT_MAX_REPLY_CHARS};
pub use chunk::{chunk_spans, chunk_text, ChunkLimits, ChunkSpan};
pub use mentions::{neutralize_kmarkdown, MentionPolicy, MentionScope};
pub use plan::{discord_message_reference, kook_quote, plan_reply, reply_target, OutboundChunk};
pub use tags::{extract_reply_tags, ReplyTarget, TaggedReply};

/// `chunkMode`: how a long reply is split.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ChunkMode {
    /// Split only when a limit is exceeded (the default).
    #[default]
    Length,
    /// Split on blank lines (paragraph boundaries) first, then by length.
    Newline,
}

/// `replyToMode`: which outbound chunks are sent as replies when the agent's
/// text carries a reply tag.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ReplyToMode {
    /// Tags are stripped and ignored (the default).
    #[default]
    Off,
    /// Only the first outbound chunk is a reply.
    First,
    /// Every outbound chunk is a reply.
    All,
}
