//! Inbound KOOK messages: which enter channel history, the access decision,
//! text commands, pairing answers, and the agent turn a message becomes
//! (journaled before it runs, with its media).

use super::*;

impl KookLoop {
    pub(super) fn handle_message(&mut self, now: Instant, message: Message) {
        self.base.messages_in += 1;
        let direct = message.is_direct();
        if self.base.bot_id.is_empty() && direct && !message.target_id.is_empty() {
            // `GET /user/me` has not answered (yet): a private message's
            // target is the bot itself.
            info!(
                "{}: bot user id {} (from a private message)",
                self.base.name, message.target_id
            );
            self.base.bot_id.clone_from(&message.target_id);
        }
        let chat_id = message.chat_id().to_owned();
        let author = &message.author;
        let display = match author.identify_num.as_deref() {
            Some(num) if !num.is_empty() => format!("{}#{num}", author.username),
            _ => author.username.clone(),
        };
        let mut mentions = message.mentions.users.clone();
        if !self.base.bot_id.is_empty() && message.mentions_user(&self.base.bot_id) {
            mentions.push(self.base.bot_id.clone());
        }
        let inbound = InboundMessage {
            platform: Platform::Kook,
            account_id: self.base.account.account_id.clone(),
            chat: if direct {
                ChatKind::Direct
            } else {
                ChatKind::Channel
            },
            guild: message.guild_id.as_ref().map(|id| Place {
                id: id.clone(),
                name: None,
            }),
            channel: Place {
                id: chat_id.clone(),
                name: message.channel_name.clone(),
            },
            parent: None,
            author: Author {
                id: author.id.clone(),
                username: author.username.clone(),
                global_name: author.nickname.clone(),
                tag: Some(display.clone()),
                is_bot: author.bot,
                is_webhook: false,
            },
            // A media message's content is its URL, not words.
            text: match message.body {
                Body::Media { .. } => String::new(),
                _ => message.content().to_owned(),
            },
            mentions,
            reply_to_bot: !self.base.bot_id.is_empty()
                && message
                    .quote
                    .as_ref()
                    .and_then(|q| q.author.as_ref())
                    .is_some_and(|a| a.id == self.base.bot_id),
            bot_user_id: self.base.bot_id.clone(),
            native_command: false,
        };
        let label = chat_label(
            Platform::Kook,
            &BTreeMap::new(),
            inbound.chat,
            inbound.guild.as_ref(),
            &inbound.channel,
            &display,
        );
        let approved = self.base.approved.ids_logged(&self.base.name);
        let decision = self.base.policy.decide(&inbound, approved);
        log_decision(
            Platform::Kook,
            &label,
            &chat_id,
            &inbound.author,
            &decision,
            self.base.policy.sender_notice(&inbound, &decision),
        );
        let chat = inbound.chat;
        let facts = MessageFacts {
            channel: ChannelKind::Kook,
            account_id: &self.base.account.account_id,
            chat,
            chat_id: &chat_id,
            message_id: &message.msg_id,
            line: MessageLine {
                author_id: &author.id,
                author_name: &display,
                text: message.content(),
            },
            mentions: &inbound.mentions,
            quoted: message.quote.as_ref().map(|q| ContextMessage {
                message_id: q.msg_id.clone(),
                author_id: q.author.as_ref().map(|a| a.id.clone()).unwrap_or_default(),
                author_name: q
                    .author
                    .as_ref()
                    .map(|a| a.username.clone())
                    .unwrap_or_default(),
                text: q.content.clone(),
            }),
            media: kook_media(&message),
            history_limit: self.settings.history_limit,
            dm_history_limit: None,
            topic: None,
        };
        match plan_inbound(
            &self.base.shared.config,
            decision,
            facts,
            &mut self.base.histories,
        ) {
            InboundAction::Turn(planned) => self.run_planned_turn(now, *planned, direct),
            InboundAction::Command {
                invocation,
                allowed,
            } => {
                let paired = approved.to_vec();
                let executed = execute(
                    &self.base.shared,
                    &CommandSite {
                        inbound: &inbound,
                        allowed: &allowed,
                        policy: &self.base.policy,
                        paired: &paired,
                        native: false,
                        config_writes: true,
                    },
                    &invocation,
                );
                self.carry_out(now, executed, &chat_id, direct, &message.msg_id);
            }
            InboundAction::PairingChallenge(challenge) => {
                let requester = krill_core::pairing::Requester {
                    id: challenge.sender.id.clone(),
                    name: Some(challenge.sender.name.clone()),
                    account_id: self.base.account.account_id.clone(),
                    chat_id: Some(chat_id.clone()),
                };
                if let Some(text) = pairing_reply(&self.base.pairing, Platform::Kook, &requester) {
                    self.send(now, &chat_id, direct, text, None);
                }
            }
            _ => {}
        }
    }

    /// Journals a planned turn (a message already journaled is not run
    /// again), adds its ack reaction and hands it to the agents.
    pub(super) fn run_planned_turn(&mut self, now: Instant, planned: PlannedTurn, direct: bool) {
        let PlannedTurn {
            allowed,
            journaled,
            ack,
            media,
        } = planned;
        let Ok(journal) = self.base.journal_turn(&journaled) else {
            return;
        };
        let JournaledTurn {
            turn,
            chat_id,
            participants,
            ..
        } = journaled;
        let message_id = turn.message_id.clone();
        if let Some(emoji) = &ack {
            let request = KookRequest::AddReaction {
                direct,
                msg_id: message_id.clone(),
                emoji: emoji.clone(),
            };
            let target = AckTarget {
                chat_id,
                direct,
                message_id: message_id.clone(),
                emoji: emoji.clone(),
            };
            self.base.add_ack(now, request, target);
        }
        self.base.durable.turn_started();
        let ctx = TurnCtx {
            channel: self.base.index,
            reply_to: allowed.route.reply_to.clone(),
            message_id,
            ack,
            journal,
            participants,
            interaction: None,
        };
        let media_turn = MediaTurn {
            settings: &self.base.media,
            platform: "kook",
            media,
        };
        submit_turn_with_media(&self.base.shared, media_turn, turn, ctx, None);
    }

    /// Sends a command's answer and runs the turn it asks for.
    pub(super) fn carry_out(
        &mut self,
        now: Instant,
        executed: Executed,
        chat_id: &str,
        direct: bool,
        message_id: &str,
    ) {
        if let Some(text) = executed.reply {
            for chunk in answer_chunks(&text, &self.base.limits) {
                self.send(now, chat_id, direct, chunk.text, None);
            }
        }
        if let Some((_, allowed)) = executed.turn {
            let turn = build_turn(
                &allowed,
                &TurnSource {
                    channel: ChannelKind::Kook,
                    account_id: &self.base.account.account_id,
                    chat_type: if direct {
                        ChatType::Direct
                    } else {
                        ChatType::Channel
                    },
                    chat_id,
                    message_id,
                    context: &[],
                    reply_to: None,
                    dm_history_limit: None,
                    topic: None,
                    config: &self.base.shared.config,
                },
            );
            self.base.durable.turn_started();
            self.base.shared.agents.submit(
                turn,
                TurnCtx {
                    channel: self.base.index,
                    reply_to: allowed.route.reply_to.clone(),
                    message_id: message_id.to_owned(),
                    ack: None,
                    journal: None,
                    participants: vec![allowed.sender.id.clone()],
                    interaction: None,
                },
            );
        }
    }
}
