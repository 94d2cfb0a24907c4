//! What both channel loops do with an inbound message once the platform's
//! payload is turned into the core's [`InboundMessage`](krill_core::access::InboundMessage): log senders the way
//! the channel docs promise (`authorId` at info when the operator needs it, drops
//! at debug with the reason), answer pairing challenges, and log a failed
//! turn before its reply is shaped. What becomes of a message (its
//! turn, context, command) is the core's [`krill_core::pipeline`]; this
//! module only assembles inputs and carries out results.

use krill_core::access::{Author, Decision, SenderNotice};
use krill_core::config::Platform;
use krill_core::pairing::{challenge_text, PairingOutcome, Requester};
use krill_core::pipeline::{shape_agent_reply, ReplyShape, ShapedReply};
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

/// Shapes the reply of `outcome` through the core
/// ([`shape_agent_reply`]): its files, then its chunks; nothing when the
/// agent gave no reply. A failed turn is logged here (its reply is the
/// failure text).
pub(crate) fn shape_outcome(
    channel: &str,
    ctx: &TurnCtx,
    outcome: &TurnOutcome,
    shape: &ReplyShape<'_>,
) -> ShapedReply {
    if let Some(error) = &outcome.error {
        warn!(
            "{channel}: agent {} failed for {}: {error}",
            outcome.agent_id, outcome.session_key
        );
    }
    shape_agent_reply(
        outcome.reply.as_deref(),
        outcome.failed,
        &ctx.message_id,
        shape,
    )
}
