//! Carrying an agent turn's outcome back to Discord: typing while it runs,
//! the reply's chunks and files through the outbox, and the ack reaction
//! removed once the reply is out.

use super::*;

impl DiscordLoop {
    /// A turn starts in `channel_id`: show "typing" unless the last trigger
    /// still shows (one trigger lasts about 10 s), then keep it up.
    pub(super) fn start_typing(&mut self, now: Instant, channel_id: &str) {
        let typing = self.typing.entry(channel_id.to_owned()).or_insert(Typing {
            renew_at: now,
            turns: 0,
        });
        typing.turns += 1;
        if typing.turns == 1 && typing.renew_at <= now {
            typing.renew_at = now + TYPING_RENEW;
            self.base.link.submit(
                now,
                DiscordRequest::TriggerTyping {
                    channel_id: channel_id.to_owned(),
                },
            );
        }
    }

    /// A turn of `channel_id` ended.
    pub(super) fn stop_typing(&mut self, channel_id: &str) {
        if let Some(typing) = self.typing.get_mut(channel_id) {
            typing.turns = typing.turns.saturating_sub(1);
        }
    }

    /// Renews "typing" where turns still run; forgets idle channels whose
    /// last trigger is over.
    pub(super) fn renew_typing(&mut self, now: Instant) {
        self.typing
            .retain(|_, typing| typing.turns > 0 || typing.renew_at > now);
        let due: Vec<String> = self
            .typing
            .iter()
            .filter(|(_, typing)| typing.turns > 0 && typing.renew_at <= now)
            .map(|(id, _)| id.clone())
            .collect();
        for channel_id in due {
            if let Some(typing) = self.typing.get_mut(&channel_id) {
                typing.renew_at = now + TYPING_RENEW;
            }
            self.base
                .link
                .submit(now, DiscordRequest::TriggerTyping { channel_id });
        }
    }

    pub(super) fn send_text(
        &mut self,
        now: Instant,
        channel_id: &str,
        text: String,
        reply_to: Option<String>,
    ) {
        self.base.link.submit(
            now,
            DiscordRequest::CreateMessage(CreateMessage {
                channel_id: channel_id.to_owned(),
                content: text,
                reply_to,
                nonce: None,
                mentions: MentionPolicy::default(),
            }),
        );
    }

    /// A reply with files, once they are read: the messages the core plans
    /// (files on the last chunk), then a note for the files that cannot go,
    /// recorded in the outbox (answering the turn) and sent from there.
    pub(super) fn deliver_media(&mut self, now: Instant, ctx: TurnCtx, delivery: MediaDelivery) {
        let plan = plan_discord_delivery(
            delivery.chunks,
            delivery.prepared.files,
            delivery.target.as_ref(),
            self.settings.reply_to_mode,
        );
        let messages: Vec<ReplyMessage> = plan
            .sends
            .into_iter()
            .map(|send| match send {
                DiscordSend::Text(chunk) => ReplyMessage::Text(chunk),
                DiscordSend::Files { chunk, files } => ReplyMessage::Upload {
                    chunk,
                    files,
                    message_type: None,
                },
            })
            .collect();
        self.base
            .record_media_reply(now, ctx, messages, &delivery.prepared.failures);
    }

    pub(super) fn handle_outcome(&mut self, now: Instant, ctx: TurnCtx, outcome: TurnOutcome) {
        self.stop_typing(&ctx.reply_to.chat_id);
        let shape = ReplyShape {
            limits: &self.base.limits,
            mode: self.settings.reply_to_mode,
            max_reply_chars: self.settings.max_reply_chars,
            kmarkdown: None,
        };
        let reply = shape_outcome(&self.base.name, &ctx, &outcome, &shape);
        if let Some(interaction) = ctx.interaction.clone() {
            // Its text answers the interaction; files go through the outbox.
            self.answer_deferred(now, &interaction, ctx, outcome.cancelled, reply);
            return;
        }
        self.base.record_reply(now, ctx, reply);
    }
}
