//! Inbound KOOK messages: which enter channel history, the access decision,
//! text commands, pairing answers, and the agent turn a message becomes
//! (journaled before it runs, with its media).

use super::*;

impl KookLoop {
    pub(super) fn handle_message(&mut self, now: Instant, message: Message) {
        self.messages_in += 1;
        let direct = message.is_direct();
        if self.bot_id.is_empty() && direct && !message.target_id.is_empty() {
            // `GET /user/me` has not answered (yet): a private message's
            // target is the bot itself.
            info!(
                "{}: bot user id {} (from a private message)",
                self.name, message.target_id
            );
            self.bot_id.clone_from(&message.target_id);
        }
        let chat_id = message.chat_id().to_owned();
        let author = &message.author;
        let display = match author.identify_num.as_deref() {
            Some(num) if !num.is_empty() => format!("{}#{num}", author.username),
            _ => author.username.clone(),
        };
        let mut mentions = message.mentions.users.clone();
        if !self.bot_id.is_empty() && message.mentions_user(&self.bot_id) {
            mentions.push(self.bot_id.clone());
        }
        let inbound = InboundMessage {
            platform: Platform::Kook,
            account_id: self.account.account_id.clone(),
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
            reply_to_bot: !self.bot_id.is_empty()
                && message
                    .quote
                    .as_ref()
                    .and_then(|q| q.author.as_ref())
                    .is_some_and(|a| a.id == self.bot_id),
            bot_user_id: self.bot_id.clone(),
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
        let (approved, store_error) = self.approved.ids();
        if let Some(error) = store_error {
            warn!("{}: cannot read the approved pairings: {error}", self.name);
        }
        let decision = self.policy.decide(&inbound, approved);
        log_decision(
            Platform::Kook,
            &label,
            &chat_id,
            &inbound.author,
            &decision,
            self.policy.sender_notice(&inbound, &decision),
        );
        match decision {
            Decision::Allow(mut allowed) => {
                if let Inbound::Command(invocation) =
                    classify(&allowed.text, self.shared.config.commands.text)
                {
                    let paired = approved.to_vec();
                    let executed = execute(
                        &self.shared,
                        &CommandSite {
                            inbound: &inbound,
                            allowed: &allowed,
                            policy: &self.policy,
                            paired: &paired,
                            native: false,
                            config_writes: true,
                        },
                        &invocation,
                    );
                    self.carry_out(now, executed, &chat_id, direct, &message.msg_id);
                    return;
                }
                let media = kook_media(&message);
                allowed.text = text_or_placeholder(&allowed.text, &media);
                let chat_type = if direct {
                    ChatType::Direct
                } else {
                    ChatType::Channel
                };
                let context = if !direct && self.settings.history_limit > 0 {
                    self.histories
                        .take_context(&chat_id, self.settings.history_limit as usize)
                } else {
                    Vec::new()
                };
                let quoted = message.quote.as_ref().map(|q| ContextMessage {
                    message_id: q.msg_id.clone(),
                    author_id: q.author.as_ref().map(|a| a.id.clone()).unwrap_or_default(),
                    author_name: q
                        .author
                        .as_ref()
                        .map(|a| a.username.clone())
                        .unwrap_or_default(),
                    text: q.content.clone(),
                });
                let turn = build_turn(
                    &allowed,
                    &TurnSource {
                        channel: ChannelKind::Kook,
                        account_id: &self.account.account_id,
                        chat_type,
                        chat_id: &chat_id,
                        message_id: &message.msg_id,
                        context: &context,
                        reply_to: quoted.as_ref(),
                        dm_history_limit: None,
                        topic: None,
                        config: &self.shared.config,
                    },
                );
                let participants = turn_participants(
                    &inbound.author.id,
                    &inbound.mentions,
                    &context,
                    quoted.as_ref(),
                );
                let journaled = JournaledTurn {
                    turn,
                    chat_id: allowed.route.reply_to.chat_id.clone(),
                    direct: allowed.route.reply_to.direct,
                    participants,
                };
                let journal = match self.durable.admit(&message.msg_id, &journaled) {
                    Admission::Run { id } => Some(id),
                    Admission::AlreadyJournaled => {
                        debug!(
                            "{}: message {} was already handled",
                            self.name, message.msg_id
                        );
                        return;
                    }
                    _ => None,
                };
                let JournaledTurn {
                    turn, participants, ..
                } = journaled;
                let ack = ack_reaction(&self.shared.config, &allowed).map(str::to_owned);
                if let Some(emoji) = &ack {
                    let add = self.link.submit(
                        now,
                        KookRequest::AddReaction {
                            direct,
                            msg_id: message.msg_id.clone(),
                            emoji: emoji.clone(),
                        },
                    );
                    if let Some(add) = add {
                        self.acks.adding(
                            add,
                            AckTarget {
                                chat_id: chat_id.clone(),
                                direct,
                                message_id: message.msg_id.clone(),
                                emoji: emoji.clone(),
                            },
                        );
                    }
                }
                self.durable.turn_started();
                let ctx = TurnCtx {
                    channel: self.index,
                    reply_to: allowed.route.reply_to.clone(),
                    message_id: message.msg_id.clone(),
                    ack,
                    journal,
                    participants,
                    interaction: None,
                };
                let media_turn = MediaTurn {
                    settings: &self.media,
                    platform: "kook",
                    media,
                };
                submit_turn_with_media(&self.shared, media_turn, turn, ctx, None);
            }
            Decision::Drop(dropped)
                if !direct
                    && dropped.reason == DropReason::MentionRequired
                    && self.settings.history_limit > 0 =>
            {
                self.histories.record(
                    &chat_id,
                    ContextMessage {
                        message_id: message.msg_id.clone(),
                        author_id: author.id.clone(),
                        author_name: display,
                        text: message.content().to_owned(),
                    },
                );
            }
            Decision::PairingChallenge(challenge) => {
                let requester = krill_core::pairing::Requester {
                    id: challenge.sender.id.clone(),
                    name: Some(challenge.sender.name.clone()),
                    account_id: self.account.account_id.clone(),
                    chat_id: Some(chat_id.clone()),
                };
                if let Some(text) = pairing_reply(&self.pairing, Platform::Kook, &requester) {
                    self.send(now, &chat_id, direct, text, None);
                }
            }
            _ => {}
        }
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
            for chunk in answer_chunks(&text, &self.limits) {
                self.send(now, chat_id, direct, chunk.text, None);
            }
        }
        if let Some((_, allowed)) = executed.turn {
            let turn = build_turn(
                &allowed,
                &TurnSource {
                    channel: ChannelKind::Kook,
                    account_id: &self.account.account_id,
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
                    config: &self.shared.config,
                },
            );
            self.durable.turn_started();
            self.shared.agents.submit(
                turn,
                TurnCtx {
                    channel: self.index,
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
