//! What both channel loops do with an inbound message once the platform's
//! payload is turned into the core's [`InboundMessage`](krill_core::access::InboundMessage): log senders the way
//! the channel docs promise (`authorId` at info when the operator needs it, drops
//! at debug with the reason), answer pairing challenges, and shape command
//! answers and agent replies into messages. What becomes of a message (its
//! turn, context, command) is the core's [`krill_core::pipeline`]; this
//! module only assembles inputs and carries out results.

use krill_core::access::{Author, Decision, SenderNotice};
use krill_core::config::Platform;
use krill_core::pairing::{challenge_text, PairingOutcome, Requester};
use krill_core::reply::{
    bound_reply, neutralize_kmarkdown, plan_reply, ChunkLimits, MentionPolicy, OutboundChunk,
    ReplyToMode,
};
use tracing::{debug, info, warn};

use super::TurnCtx;
use crate::agent::TurnOutcome;
use crate::pairing_store::{random_seed, PairingStore};

/// Logs who sent a message and what became of it (`chat` is its
/// [`chat_label`](krill_core::routing::chat_label)): at info with the
/// sender's `authorId` and the `channelId` when the core says the operator
/// needs the id ([`SenderNotice`]: KOOK without `allowedUserId`, senders not
/// allowed yet), else drops at debug with the reason.
pub(crate) fn log_decision(
    platform: Platform,
    chat: &str,
    chat_id: &str,
    sender: &Author,
    decision: &Decision,
    notice: Option<SenderNotice>,
) {
    let outcome = match decision {
        Decision::Allow(_) => "allowed".to_owned(),
        Decision::Drop(d) => d.reason.to_string(),
        Decision::PairingChallenge(_) => "pairing code sent".to_owned(),
        _ => "other".to_owned(),
    };
    let author = sender.tag.as_deref().unwrap_or(&sender.username);
    match (notice, decision) {
        (Some(notice), _) => info!(
            %platform,
            authorId = %sender.id,
            author = %author,
            channelId = %chat_id,
            chat = %chat,
            outcome = %outcome,
            "{}",
            notice.describe()
        ),
        (None, Decision::Drop(_)) => debug!(
            %platform,
            authorId = %sender.id,
            channelId = %chat_id,
            chat = %chat,
            reason = %outcome,
            "message dropped"
        ),
        (None, _) => {}
    }
}

/// Handles a pairing challenge: the reply text to send the stranger, or
/// `None` when nothing should be sent (too many pending requests, or the
/// store failed; both logged).
pub(crate) fn pairing_reply(
    store: &PairingStore,
    platform: Platform,
    requester: &Requester,
) -> Option<String> {
    match store.challenge(super::unix_ms(), requester, random_seed()) {
        Ok(PairingOutcome::Created { code, .. }) => {
            info!(
                %platform,
                authorId = %requester.id,
                "pairing requested: approve with `krill pairing approve {platform} {code}`"
            );
            Some(challenge_text(platform, &code))
        }
        Ok(PairingOutcome::Pending { code, .. }) => Some(challenge_text(platform, &code)),
        Ok(PairingOutcome::Full) => {
            info!(
                %platform,
                authorId = %requester.id,
                "pairing request ignored: too many requests are pending (approve or let them expire)"
            );
            None
        }
        Ok(_) => None,
        Err(error) => {
            warn!(%platform, %error, "pairing store failed");
            None
        }
    }
}

/// The messages that carry a command's answer (plain text, chunked).
pub(crate) fn answer_chunks(text: &str, limits: &ChunkLimits) -> Vec<OutboundChunk> {
    plan_reply(text, None, limits, ReplyToMode::Off)
}

/// The messages that carry an agent's answer: the reply shaped by the core
/// (tags, `replyToMode`, chunking to `limits`), nothing when the agent gave
/// no reply. A failed turn is logged here (its reply is the failure text).
pub(crate) fn reply_chunks(
    channel: &str,
    ctx: &TurnCtx,
    outcome: &TurnOutcome,
    limits: &ChunkLimits,
    mode: ReplyToMode,
    max_reply_chars: u32,
    kmarkdown: Option<&MentionPolicy>,
) -> Vec<OutboundChunk> {
    if let Some(error) = &outcome.error {
        warn!(
            "{channel}: agent {} failed for {}: {error}",
            outcome.agent_id, outcome.session_key
        );
    }
    match &outcome.reply {
        Some(text) => text_chunks(text, ctx, limits, mode, max_reply_chars, kmarkdown),
        None => Vec::new(),
    }
}

/// The messages of one reply text: a text over `maxReplyChars` is cut,
/// with a note saying so; on KOOK mention markup that may not ping is
/// escaped; then tags and chunks.
pub(crate) fn text_chunks(
    text: &str,
    ctx: &TurnCtx,
    limits: &ChunkLimits,
    mode: ReplyToMode,
    max_reply_chars: u32,
    kmarkdown: Option<&MentionPolicy>,
) -> Vec<OutboundChunk> {
    let bounded = bound_reply(text, max_reply_chars as usize);
    match kmarkdown {
        Some(policy) => plan_reply(
            &neutralize_kmarkdown(&bounded, policy),
            Some(&ctx.message_id),
            limits,
            mode,
        ),
        None => plan_reply(&bounded, Some(&ctx.message_id), limits, mode),
    }
}
