//! Reply shaping: everything that turns an agent's reply text into the list of
//! messages krill sends (reply tags, `replyToMode`, the chunker).
//!
//! The config enums below are shared with [`crate::config`].
//! (The chunker and reply tags are to be built: issue 4.)

use serde::Deserialize;

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
