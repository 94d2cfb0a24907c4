//! What both channel loops do about media: submit a turn whose message has
//! attachments once they are downloaded (keeping its place in the
//! session's order), read the files an agent's reply names (its `MEDIA:`
//! lines, taken out by `krill_core::pipeline::shape_agent_reply`) off the
//! loop, handing them back as an [`Input::Media`], and record a turn's
//! reply in the outbox (at once, or once its files are read; uploads
//! included, see `super::durable`), which sends it. The decisions are
//! `krill_core::media`'s; each loop only maps the core's plan of a reply's
//! files onto its platform's messages.

use std::time::Instant;

use krill_core::agent::TurnInput;
use krill_core::media::{attach_media, delivery_notes, InboundMedia, MediaFailure};
use krill_core::pipeline::ShapedReply;
use krill_core::reply::OutboundChunk;
use smol::channel::Sender;

use super::account::AccountLoop;
use super::durable::ReplyMessage;
use super::{Input, Shared, TurnCtx};
use crate::agent::TurnTools;
use crate::media::outbound::{prepare, Prepared};
use crate::media::{inbound::download_all, MediaSettings};

/// A reply with files, once the files are read.
#[derive(Debug)]
pub(crate) struct MediaDelivery {
    /// The text chunks (`MEDIA:` lines removed).
    pub(crate) chunks: Vec<OutboundChunk>,
    /// The message the reply's tags point at (files quote it per
    /// `replyToMode`).
    pub(crate) target: Option<String>,
    /// The files, and those that cannot be sent.
    pub(crate) prepared: Prepared,
}

/// Reads the files of `reply` off the loop; the loop gets them back as
/// [`Input::Media`].
fn read_reply_files(
    settings: &MediaSettings,
    inbox: &Sender<Input>,
    ctx: TurnCtx,
    reply: ShapedReply,
) {
    let settings = settings.clone();
    let inbox = inbox.clone();
    crate::runtime::spawn(async move {
        let prepared = prepare(settings, reply.media).await;
        let delivery = MediaDelivery {
            chunks: reply.chunks,
            target: reply.target,
            prepared,
        };
        let _ = inbox.send(Input::Media { ctx, delivery }).await;
    })
    .detach();
}

impl AccountLoop {
    /// Records `reply` in the outbox, answering `ctx`'s turn, and removes
    /// the turn's ack once the reply is delivered (at once when there is
    /// nothing to send). A reply that names files is not recorded yet: the
    /// files are read off the loop ([`read_reply_files`]) and the loop
    /// records it when they are back ([`AccountLoop::record_media_reply`]),
    /// so its order is kept and a crash meanwhile runs the turn again.
    pub(crate) fn record_reply(&mut self, now: Instant, ctx: TurnCtx, reply: ShapedReply) {
        if !reply.media.is_empty() {
            read_reply_files(&self.media, &self.inbox, ctx, reply);
            return;
        }
        let messages = reply.chunks.into_iter().map(ReplyMessage::Text).collect();
        self.record_messages(now, ctx, messages);
    }

    /// Records a reply whose files are read, answering `ctx`'s turn:
    /// `messages` (the platform's plan of its chunks and files), then a
    /// note naming the files that cannot go; the ack as
    /// [`AccountLoop::record_reply`].
    pub(crate) fn record_media_reply(
        &mut self,
        now: Instant,
        ctx: TurnCtx,
        mut messages: Vec<ReplyMessage>,
        failures: &[MediaFailure],
    ) {
        if let Some(note) = delivery_notes(failures) {
            messages.push(ReplyMessage::Note(note));
        }
        self.record_messages(now, ctx, messages);
    }

    /// Records `messages` as the reply to `ctx`'s turn and removes its ack
    /// when due.
    fn record_messages(&mut self, now: Instant, ctx: TurnCtx, messages: Vec<ReplyMessage>) {
        let recorded = self.durable.reply_messages(
            ctx.journal,
            &ctx.reply_to.chat_id,
            ctx.reply_to.direct,
            messages,
            &ctx.participants,
        );
        self.ack_after_reply(now, ctx, recorded);
    }
}

/// The attachments of a turn's message and where they go.
pub(crate) struct MediaTurn<'a> {
    /// The account's media settings.
    pub(crate) settings: &'a MediaSettings,
    /// `discord` / `kook` (the file names' prefix).
    pub(crate) platform: &'static str,
    /// The files.
    pub(crate) media: Vec<InboundMedia>,
}

/// Submits `turn` (with the `tools` its agent may call) to the agents;
/// when the message has media, the files are downloaded first (the turn
/// keeps its place in the session) and the agent gets them in its input.
pub(crate) fn submit_turn_with_media(
    shared: &Shared,
    media: MediaTurn<'_>,
    turn: TurnInput,
    ctx: TurnCtx,
    tools: Option<TurnTools>,
) {
    if media.media.is_empty() {
        shared.agents.submit_with_tools(turn, ctx, tools);
        return;
    }
    let mut finished = turn.clone();
    let settings = media.settings.clone();
    let (platform, files) = (media.platform, media.media);
    let message_id = turn.message_id.clone();
    let ready = crate::runtime::spawn(async move {
        let items = download_all(settings, platform, message_id, files).await;
        attach_media(&mut finished, items);
        finished
    });
    shared.agents.submit_after(turn, ready, ctx, tools);
}
