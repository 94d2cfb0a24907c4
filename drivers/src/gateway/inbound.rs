//! What both channel loops do with an inbound message once the platform's
//! payload is turned into the core's [`InboundMessage`]: log drops the way
//! the seeds promise (unknown senders at info with their id, everything else
//! at debug with the reason), answer pairing challenges, and build the agent
//! turn for an allowed message. Every decision here is the core's; this
//! module only assembles inputs and carries out results.

use krill_core::access::{Allowed, Dropped};
use krill_core::agent::{
    render_prompt, ChannelKind, ChatType, ContextMessage, PromptInput, Sender, TurnInput,
};
use krill_core::config::Platform;
use krill_core::pairing::{challenge_text, PairingOutcome, Requester};
use krill_core::reply::{plan_reply, ChunkLimits, OutboundChunk, ReplyToMode};
use tracing::{debug, info, warn};

use super::TurnCtx;
use crate::agent::TurnOutcome;
use crate::pairing_store::{random_seed, PairingStore};

/// Logs a dropped message: unknown senders at info with their id (users find
/// their `authorId` this way), everything else at debug.
pub(crate) fn log_drop(platform: Platform, chat_id: &str, dropped: &Dropped) {
    if dropped.unknown_sender {
        info!(
            %platform,
            authorId = %dropped.sender.id,
            author = %dropped.sender.name,
            chat = %chat_id,
            reason = %dropped.reason,
            "message from a sender who is not allowed"
        );
    } else {
        debug!(
            %platform,
            authorId = %dropped.sender.id,
            chat = %chat_id,
            reason = %dropped.reason,
            "message dropped"
        );
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

/// The inputs of one agent turn besides the access decision.
pub(crate) struct TurnSource<'a> {
    pub(crate) channel: ChannelKind,
    pub(crate) account_id: &'a str,
    pub(crate) chat_type: ChatType,
    pub(crate) chat_id: &'a str,
    pub(crate) message_id: &'a str,
    pub(crate) context: &'a [ContextMessage],
    pub(crate) reply_to: Option<&'a ContextMessage>,
    pub(crate) history_limit: Option<usize>,
    pub(crate) topic: Option<&'a str>,
}

/// The agent turn for an allowed message: the prompt rendered by the core
/// with its context, the channel's system prompt and skills passed through.
pub(crate) fn build_turn(allowed: &Allowed, source: &TurnSource<'_>) -> TurnInput {
    let sender = Sender {
        id: allowed.sender.id.clone(),
        name: allowed.sender.name.clone(),
    };
    let prompt = render_prompt(&PromptInput {
        chat_type: source.chat_type,
        sender: &sender,
        text: &allowed.text,
        message_id: Some(source.message_id),
        context: source.context,
        reply_to: source.reply_to,
    });
    let rule = allowed.channel_rule.as_ref();
    TurnInput {
        agent_id: allowed.route.agent_id.clone(),
        session_key: allowed.route.session_key.as_str().to_owned(),
        channel: source.channel,
        account_id: source.account_id.to_owned(),
        chat_type: source.chat_type,
        chat_id: source.chat_id.to_owned(),
        sender,
        message_id: source.message_id.to_owned(),
        text: allowed.text.clone(),
        prompt,
        system_prompt: krill_core::agent::combine_system_prompt(
            rule.and_then(|r| r.system_prompt.as_deref()),
            source.topic,
        ),
        skills: rule.and_then(|r| r.skills.clone()),
        history_limit: source.history_limit,
        media: Vec::new(),
    }
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
) -> Vec<OutboundChunk> {
    if let Some(error) = &outcome.error {
        warn!(
            "{channel}: agent {} failed for {}: {error}",
            outcome.agent_id, outcome.session_key
        );
    }
    match &outcome.reply {
        Some(text) => plan_reply(text, Some(&ctx.message_id), limits, mode),
        None => Vec::new(),
    }
}
