//! KOOK does not deduplicate messages by nonce, so a reply chunk whose
//! `message/create` was in flight when krill died may or may not have been
//! posted. Before sending it again, krill lists the chat's recent messages
//! (`GET /message/list`, `/direct-message/list`) and looks for it here.
//!
//! A listed message is "ours" when the bot wrote it, its content is the
//! chunk's text and it was created no earlier than [`CLOCK_SLACK_MS`] before
//! the chunk was first recorded. What stays undetectable: the same text
//! posted by the bot twice in that window (the check takes the earlier one
//! as ours and the chunk is not sent again), and a chunk pushed out of the
//! listed page by more than [`LIST_PAGE_SIZE`] newer messages (it is sent
//! again, so it may show twice).

/// Messages listed per check.
pub const LIST_PAGE_SIZE: u32 = 50;
/// Clock difference tolerated between krill and KOOK.
pub const CLOCK_SLACK_MS: u64 = 60_000;

/// One listed message (only what the check reads).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListedMessage {
    /// The message id.
    pub id: String,
    /// Its author.
    pub author_id: String,
    /// Its content.
    pub content: String,
    /// When it was created (Unix ms).
    pub created_ms: u64,
}

/// The id of the listed message that is the pending chunk, if any.
pub fn find_posted<'a>(
    listed: &'a [ListedMessage],
    bot_id: &str,
    content: &str,
    recorded_ms: u64,
) -> Option<&'a str> {
    let not_before = recorded_ms.saturating_sub(CLOCK_SLACK_MS);
    listed
        .iter()
        .filter(|m| m.author_id == bot_id && m.content == content && m.created_ms >= not_before)
        .min_by_key(|m| m.created_ms)
        .map(|m| m.id.as_str())
}
