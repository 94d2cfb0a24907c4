//! Carrying an agent turn's outcome back to KOOK: the reply's chunks and
//! files (`/asset/create`, then an image or file message) through the
//! outbox, and the ack reaction removed once the reply is out.

use super::*;

impl KookLoop {
    /// Submits one message to a channel or, for DMs, to the user.
    pub(super) fn send(
        &mut self,
        now: Instant,
        chat_id: &str,
        direct: bool,
        content: String,
        quote: Option<String>,
    ) -> Option<RequestId> {
        let request = if direct {
            KookRequest::DirectMessageCreate(DirectMessageCreate {
                target: DmTarget::User(chat_id.to_owned()),
                content,
                quote,
                nonce: None,
            })
        } else {
            KookRequest::MessageCreate(MessageCreate {
                target_id: chat_id.to_owned(),
                content,
                quote,
                nonce: None,
            })
        };
        self.base.link.submit(now, request)
    }

    /// A reply with files, once they are read: the text chunks, then each
    /// file (`/asset/create`, then a media message), then a note for the
    /// files that cannot go, recorded in the outbox (answering the turn) and
    /// sent from there.
    pub(super) fn deliver_media(&mut self, now: Instant, ctx: TurnCtx, delivery: MediaDelivery) {
        let plan = plan_kook_delivery(
            delivery.chunks,
            delivery.prepared.files,
            delivery.target.as_ref(),
            self.settings.reply_to_mode,
        );
        let messages: Vec<ReplyMessage> = plan
            .sends
            .into_iter()
            .map(|send| match send {
                KookSend::Text(chunk) => ReplyMessage::Text(chunk),
                KookSend::File {
                    file,
                    reply_to,
                    message_type,
                } => ReplyMessage::Upload {
                    chunk: OutboundChunk {
                        text: String::new(),
                        reply_to,
                    },
                    files: vec![file],
                    message_type: Some(message_type),
                },
            })
            .collect();
        self.base
            .record_media_reply(now, ctx, messages, &delivery.prepared.failures);
    }

    pub(super) fn handle_outcome(&mut self, now: Instant, ctx: TurnCtx, outcome: TurnOutcome) {
        let mentions = MentionPolicy::new(
            self.settings.allowed_mentions,
            ctx.participants.iter().map(String::as_str),
        );
        let shape = ReplyShape {
            limits: &self.base.limits,
            mode: self.settings.reply_to_mode,
            max_reply_chars: self.settings.max_reply_chars,
            kmarkdown: Some(&mentions),
        };
        let reply = shape_outcome(&self.base.name, &ctx, &outcome, &shape);
        self.base.record_reply(now, ctx, reply);
    }
}
