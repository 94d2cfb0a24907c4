//! Inbound Discord messages: which enter guild history, the access decision,
//! text commands, pairing answers, and the agent turn a message becomes
//! (journaled before it runs, with its media and tools).

use super::*;

impl DiscordLoop {
    pub(super) fn handle_message(&mut self, now: Instant, message: Message) {
        self.base.messages_in += 1;
        let bot_id = self.base.bot_id.clone();
        let channel_id = message.channel_id.to_string();
        if content_without_mention(&message, &bot_id) {
            self.content_seen += 1;
        }
        if !bot_id.is_empty() && message.author.id == bot_id {
            self.remember_bot_message(now, &message.id, &channel_id);
        }
        let Located {
            chat,
            guild,
            channel,
            parent,
        } = self.locate(
            &channel_id,
            message.guild_id.as_deref(),
            message.channel_type,
        );
        let author = &message.author;
        let tag = user_tag(author);
        let label = chat_label(
            Platform::Discord,
            &self.settings.guilds,
            chat,
            guild.as_ref(),
            &channel,
            &tag,
        );
        let inbound_author = Author {
            id: author.id.to_string(),
            username: author.username.clone(),
            global_name: author.global_name.clone(),
            tag: Some(tag.clone()),
            is_bot: author.bot,
            is_webhook: message.webhook_id.is_some(),
        };
        self.remember_author(&inbound_author);
        let inbound = InboundMessage {
            platform: Platform::Discord,
            account_id: self.base.account.account_id.clone(),
            chat,
            guild,
            channel,
            parent,
            author: inbound_author,
            text: message.content.clone(),
            mentions: message.mentions.iter().map(|u| u.id.to_string()).collect(),
            reply_to_bot: !bot_id.is_empty()
                && message
                    .referenced_message
                    .as_ref()
                    .is_some_and(|r| r.author.id == bot_id),
            bot_user_id: bot_id,
            native_command: false,
        };
        let approved = self.base.approved.ids_logged(&self.base.name);
        let decision = self.base.policy.decide(&inbound, approved);
        log_decision(
            Platform::Discord,
            &label,
            &channel_id,
            &inbound.author,
            &decision,
            self.base.policy.sender_notice(&inbound, &decision),
        );
        let paired = approved.to_vec();
        let guild_id = inbound.guild.as_ref().map(|g| g.id.clone());
        let dm_history_limit = match chat {
            ChatKind::Direct => self.settings.dm_history_limit_for(&inbound.author.id),
            _ => None,
        };
        let facts = MessageFacts {
            channel: ChannelKind::Discord,
            account_id: &self.base.account.account_id,
            chat,
            chat_id: &channel_id,
            message_id: &message.id,
            line: MessageLine {
                author_id: &author.id,
                author_name: &tag,
                text: &message.content,
            },
            mentions: &inbound.mentions,
            quoted: message.referenced_message.as_ref().map(|r| ContextMessage {
                message_id: r.id.to_string(),
                author_id: r.author.id.to_string(),
                author_name: r.author.username.clone(),
                text: r.content.clone(),
            }),
            media: discord_media(&message.attachments),
            history_limit: self.settings.history_limit,
            dm_history_limit,
            topic: self.topic_of(&channel_id),
        };
        match plan_inbound(
            &self.base.shared.config,
            decision,
            facts,
            &mut self.base.histories,
        ) {
            InboundAction::Turn(planned) => {
                self.run_planned_turn(now, *planned, &channel_id, guild_id);
            }
            InboundAction::Command {
                invocation,
                allowed,
            } => {
                let executed = execute(
                    &self.base.shared,
                    &CommandSite {
                        inbound: &inbound,
                        allowed: &allowed,
                        policy: &self.base.policy,
                        paired: &paired,
                        native: false,
                        config_writes: self.settings.config_writes,
                    },
                    &invocation,
                );
                if let Some(text) = &executed.reply {
                    for chunk in answer_chunks(text, &self.base.limits) {
                        self.send_text(now, &channel_id, chunk.text, None);
                    }
                }
                if let Some((_, allowed)) = executed.turn {
                    let turn = self.command_turn(&allowed, &channel_id, chat, &message.id);
                    let delivery = Delivery {
                        message_id: message.id.to_string(),
                        ack: None,
                        journal: None,
                        participants: vec![allowed.sender.id.clone()],
                        interaction: None,
                    };
                    self.submit_turn(now, &allowed, turn, Vec::new(), guild_id, delivery);
                }
            }
            InboundAction::PairingChallenge(challenge) => {
                let requester = Requester {
                    id: challenge.sender.id.clone(),
                    name: Some(challenge.sender.name.clone()),
                    account_id: self.base.account.account_id.clone(),
                    chat_id: Some(channel_id.clone()),
                };
                if let Some(text) = pairing_reply(&self.base.pairing, Platform::Discord, &requester)
                {
                    self.send_text(now, &channel_id, text, None);
                }
            }
            _ => {}
        }
    }

    /// Journals a planned turn (a message already journaled is not run
    /// again), adds its ack reaction and hands it to the agents.
    pub(super) fn run_planned_turn(
        &mut self,
        now: Instant,
        planned: PlannedTurn,
        channel_id: &str,
        guild_id: Option<String>,
    ) {
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
            turn, participants, ..
        } = journaled;
        let message_id = turn.message_id.clone();
        if let Some(emoji) = &ack {
            let target = AckTarget {
                chat_id: channel_id.to_owned(),
                direct: allowed.route.reply_to.direct,
                message_id: message_id.clone(),
                emoji: emoji.clone(),
            };
            let request = DiscordRequest::CreateReaction {
                channel_id: channel_id.to_owned(),
                message_id: message_id.clone(),
                emoji: emoji.clone(),
            };
            self.base.add_ack(now, request, target);
        }
        let delivery = Delivery {
            message_id,
            ack,
            journal,
            participants,
            interaction: None,
        };
        self.submit_turn(now, &allowed, turn, media, guild_id, delivery);
    }

    /// The turn a command runs (`/new <text>`, `/ask`): its text alone, no
    /// guild context.
    pub(super) fn command_turn(
        &self,
        allowed: &Allowed,
        channel_id: &str,
        chat: ChatKind,
        message_id: &str,
    ) -> TurnInput {
        let direct = chat == ChatKind::Direct;
        build_turn(
            allowed,
            &TurnSource {
                channel: ChannelKind::Discord,
                account_id: &self.base.account.account_id,
                chat_type: if direct {
                    ChatType::Direct
                } else {
                    ChatType::Channel
                },
                chat_id: channel_id,
                message_id,
                context: &[],
                reply_to: None,
                dm_history_limit: if direct {
                    self.settings.dm_history_limit_for(&allowed.sender.id)
                } else {
                    None
                },
                topic: None,
                config: &self.base.shared.config,
            },
        )
    }

    /// Hands `turn` to the agents, with the session's pending system events
    /// before its prompt, and shows typing in the chat.
    pub(super) fn submit_turn(
        &mut self,
        now: Instant,
        allowed: &Allowed,
        mut turn: TurnInput,
        media: Vec<InboundMedia>,
        guild_id: Option<String>,
        delivery: Delivery,
    ) {
        self.base.durable.turn_started();
        // A slash command's id is no message: the tool gets no default
        // message to act on.
        let message_id = match delivery.interaction {
            Some(_) => String::new(),
            None => turn.message_id.clone(),
        };
        let events = self.system_events.take(&turn.session_key);
        if !events.is_empty() {
            debug!(
                "{}: {} system event(s) for {}",
                self.base.name,
                events.len(),
                turn.session_key
            );
            turn.prompt = prepend_system_events(&events, &turn.prompt);
        }
        let channel_id = allowed.route.reply_to.chat_id.clone();
        self.start_typing(now, &channel_id);
        debug!(
            "{}: turn for {} in {}",
            self.base.name, allowed.route.session_key, channel_id
        );
        let offered = offered_actions(
            &self.settings.actions,
            &allowed.tool_rules,
            &allowed.sender.id,
            guild_id.is_some(),
        );
        turn.tools = self.tool_specs.specs(&offered);
        let tools = (!offered.is_empty()).then(|| TurnTools {
            handler: Arc::new(LoopTools {
                inbox: self.base.inbox.clone(),
                scope: Arc::new(TurnScope {
                    guild_id,
                    channel_id: channel_id.clone(),
                    message_id: message_id.clone(),
                    sender_id: allowed.sender.id.clone(),
                    offered,
                    gates: self.settings.actions,
                    mentions: MentionPolicy::new(
                        self.settings.allowed_mentions,
                        delivery.participants.iter().map(String::as_str),
                    ),
                }),
            }),
        });
        let ctx = TurnCtx {
            channel: self.base.index,
            reply_to: allowed.route.reply_to.clone(),
            message_id: delivery.message_id,
            ack: delivery.ack,
            journal: delivery.journal,
            participants: delivery.participants,
            interaction: delivery.interaction,
        };
        let media_turn = MediaTurn {
            settings: &self.base.media,
            platform: "discord",
            media,
        };
        submit_turn_with_media(&self.base.shared, media_turn, turn, ctx, tools);
    }

    /// Remembers a message author's names (DM reactions carry only an id).
    pub(super) fn remember_author(&mut self, author: &Author) {
        if self.authors.len() >= MAX_KNOWN_AUTHORS && !self.authors.contains_key(&author.id) {
            self.authors.clear();
        }
        self.authors.insert(author.id.clone(), author.clone());
    }
}
