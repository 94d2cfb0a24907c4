//! MESSAGE_REACTION_ADD on the bot's recent messages: a notification line
//! queued for the session's next turn, or a triggered turn (see the module
//! docs of the loop and [`krill_core::access::reactions`]).

use super::*;

impl DiscordLoop {
    pub(super) fn handle_reaction(&mut self, now: Instant, reaction: Reaction) {
        let bot_id = self.bot_id.clone();
        let channel_id = reaction.channel_id.to_string();
        let message_id = reaction.message_id.to_string();
        let Located {
            chat,
            guild,
            channel,
            parent,
        } = self.locate(&channel_id, reaction.guild_id.as_deref(), None);
        let reactor_id = reaction.user_id.to_string();
        let reactor = match reaction.member.as_ref().and_then(|m| m.user.as_deref()) {
            Some(user) => Author {
                id: reactor_id,
                username: user.username.clone(),
                global_name: user.global_name.clone(),
                tag: Some(user_tag(user)),
                is_bot: user.bot,
                is_webhook: false,
            },
            None => self.authors.get(&reactor_id).cloned().unwrap_or(Author {
                id: reactor_id,
                ..Author::default()
            }),
        };
        let bot_message = self.bot_messages.lookup(
            &message_id,
            &channel_id,
            reaction.message_author_id.as_deref(),
            &bot_id,
            now,
            unix_ms(),
        );
        let inbound = InboundReaction {
            platform: Platform::Discord,
            account_id: self.account.account_id.clone(),
            chat,
            guild,
            channel,
            parent,
            reactor,
            message_id: message_id.clone(),
            message_author_id: reaction.message_author_id.clone(),
            emoji: ReactionEmoji {
                id: reaction.emoji.id.clone(),
                name: reaction.emoji.name.clone(),
                animated: reaction.emoji.animated,
            },
            bot_message,
            bot_user_id: bot_id,
        };
        let (approved, store_error) = self.approved.ids();
        if let Some(error) = store_error {
            warn!("{}: cannot read the approved pairings: {error}", self.name);
        }
        match self.policy.decide_reaction(&inbound, approved) {
            ReactionDecision::Trigger(triggered) => {
                info!(
                    "{}: {} reaction by {} on {} in {} triggers a turn",
                    self.name, triggered.polarity, inbound.reactor.id, message_id, channel_id
                );
                let in_guild = matches!(chat, ChatKind::Channel | ChatKind::Thread);
                let context = if in_guild && self.settings.history_limit > 0 {
                    self.histories
                        .take_context(&channel_id, self.settings.history_limit as usize)
                } else {
                    Vec::new()
                };
                let turn = build_turn(
                    &triggered.allowed,
                    &TurnSource {
                        channel: ChannelKind::Discord,
                        account_id: &self.account.account_id,
                        chat_type: ChatType::Channel,
                        chat_id: &channel_id,
                        message_id: &triggered.message_id,
                        context: &context,
                        reply_to: None,
                        dm_history_limit: None,
                        topic: None,
                        config: &self.shared.config,
                    },
                );
                let guild_id = inbound.guild.as_ref().map(|g| g.id.clone());
                let participants =
                    turn_participants(&triggered.allowed.sender.id, &[], &context, None);
                let delivery = Delivery {
                    message_id: triggered.message_id.clone(),
                    ack: None,
                    journal: None,
                    participants,
                    interaction: None,
                };
                self.submit_turn(
                    now,
                    &triggered.allowed,
                    turn,
                    Vec::new(),
                    guild_id,
                    delivery,
                );
            }
            ReactionDecision::Notify(event) => {
                debug!(
                    "{}: reaction on {} queued for {}",
                    self.name, message_id, event.session_key
                );
                self.system_events.push(&event.session_key, &event.text);
            }
            ReactionDecision::Ignore(why) => debug!(
                "{}: reaction by {} on {} in {} ignored: {why}",
                self.name, inbound.reactor.id, message_id, channel_id
            ),
            _ => {}
        }
    }
}
