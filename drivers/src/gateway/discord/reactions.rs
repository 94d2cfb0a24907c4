//! MESSAGE_REACTION_ADD on the bot's recent messages: a notification line
//! queued for the session's next turn, or a triggered turn (see the module
//! docs of the loop and [`krill_core::access::reactions`]).

use super::*;

impl DiscordLoop {
    pub(super) fn handle_reaction(&mut self, now: Instant, reaction: Reaction) {
        let bot_id = self.base.bot_id.clone();
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
            account_id: self.base.account.account_id.clone(),
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
        let approved = self.base.approved.ids_logged(&self.base.name);
        match self.base.policy.decide_reaction(&inbound, approved) {
            ReactionDecision::Trigger(triggered) => {
                info!(
                    "{}: {} reaction by {} on {} in {} triggers a turn",
                    self.base.name, triggered.polarity, inbound.reactor.id, message_id, channel_id
                );
                let ReactionTurn { turn, participants } = plan_reaction_turn(
                    &self.base.shared.config,
                    &triggered,
                    ReactionFacts {
                        channel: ChannelKind::Discord,
                        account_id: &self.base.account.account_id,
                        chat,
                        chat_id: &channel_id,
                        history_limit: self.settings.history_limit,
                    },
                    &mut self.base.histories,
                );
                let guild_id = inbound.guild.as_ref().map(|g| g.id.clone());
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
                    self.base.name, message_id, event.session_key
                );
                self.system_events.push(&event.session_key, &event.text);
            }
            ReactionDecision::Ignore(why) => debug!(
                "{}: reaction by {} on {} in {} ignored: {why}",
                self.base.name, inbound.reactor.id, message_id, channel_id
            ),
            _ => {}
        }
    }
}
