//! Discord native (slash) commands of one bot account: keeping the
//! application's global commands in sync, and answering INTERACTION_CREATE.
//!
//! - Sync: after the first READY of the process (it carries the application
//!   id) and after each config reload, `GET /applications/{id}/commands`;
//!   the core's [`sync_plan`] says whether to `PUT` krill's list (native
//!   commands on and Discord's list differs) or `[]` (off and some are
//!   registered), or nothing.
//! - An interaction (type 2) is checked by the access policy like a message
//!   (no mention needed; `useAccessGroups: false` lets everyone through) and
//!   answered at once through `POST /interactions/{id}/{token}/callback`: a
//!   refusal ("You are not authorized to use this command.") and every
//!   instant answer as type 4 with flag 64 (ephemeral; a long answer's
//!   further pieces as ephemeral follow-ups); an agent turn (`/ask`,
//!   `/new <text>`) as type 5 (deferred), then the reply's first chunk in
//!   `PATCH /webhooks/{app}/{token}/messages/@original` and the others in
//!   `POST /webhooks/{app}/{token}`.

use krill_core::access::{Author, Decision, InboundMessage};
use krill_core::commands::{parse_interaction, sync_plan, NOT_AUTHORIZED};
use krill_core::config::Platform;
use krill_core::pipeline::{answer_chunks, interaction_answer, ShapedReply};
use krill_core::reply::MentionPolicy;
use krill_core::rest::discord::{InteractionResponse, Request as DiscordRequest};
use serde_json::Value;
use tracing::{debug, info};

use super::super::commands::{execute, CommandSite};
use super::super::inbound::log_decision;
use super::{DiscordLoop, Located};
use crate::gateway::{InteractionToken, TurnCtx};
use std::time::Instant;

impl DiscordLoop {
    /// Asks Discord for the registered commands (see the module docs).
    pub(super) fn sync_commands(&mut self, now: Instant) {
        if self.application_id.is_empty() || self.commands_fetch.is_some() {
            return;
        }
        self.commands_fetch = self.base.link.submit(
            now,
            DiscordRequest::GetGlobalCommands {
                application_id: self.application_id.clone(),
            },
        );
    }

    /// Puts krill's list (or `[]`) when the registered one is not right.
    pub(super) fn commands_fetched(&mut self, now: Instant, registered: &Value) {
        let on = self.settings.native_commands.enabled_for_discord();
        match sync_plan(on, registered) {
            Some(commands) => {
                info!(
                    "{}: {} slash commands",
                    self.base.name,
                    if on { "registering" } else { "clearing" }
                );
                self.base.link.submit(
                    now,
                    DiscordRequest::PutGlobalCommands {
                        application_id: self.application_id.clone(),
                        commands,
                    },
                );
            }
            None => debug!("{}: slash commands already up to date", self.base.name),
        }
    }

    /// Answers one INTERACTION_CREATE (see the module docs).
    pub(super) fn handle_interaction(&mut self, now: Instant, d: &Value) {
        let slash = match parse_interaction(d) {
            Ok(slash) => slash,
            Err(e) => {
                debug!("{}: interaction ignored: {e}", self.base.name);
                return;
            }
        };
        let Located {
            chat,
            guild,
            channel,
            parent,
        } = self.locate(
            &slash.channel_id,
            slash.guild_id.as_deref(),
            slash.channel_type,
        );
        let args = slash
            .invocation
            .as_ref()
            .map(|i| i.args.clone())
            .unwrap_or_default();
        let inbound = InboundMessage {
            platform: Platform::Discord,
            account_id: self.base.account.account_id.clone(),
            chat,
            guild,
            channel,
            parent,
            author: Author {
                id: slash.user_id.clone(),
                username: slash.username.clone(),
                global_name: slash.global_name.clone(),
                tag: Some(slash.username.clone()),
                is_bot: slash.is_bot,
                is_webhook: false,
            },
            text: format!("/{} {args}", slash.name).trim_end().to_owned(),
            mentions: Vec::new(),
            reply_to_bot: false,
            bot_user_id: self.base.bot_id.clone(),
            native_command: true,
        };
        let approved = self.base.approved.ids_logged(&self.base.name);
        let paired = approved.to_vec();
        let token = InteractionToken {
            application_id: slash.application_id.clone(),
            token: slash.token.clone(),
        };
        let decision = self.base.policy.decide(&inbound, &paired);
        log_decision(
            Platform::Discord,
            "slash command",
            &slash.channel_id,
            &inbound.author,
            &decision,
            self.base.policy.sender_notice(&inbound, &decision),
        );
        let allowed = match decision {
            Decision::Allow(allowed) => allowed,
            _ => {
                self.instant_answer(now, &slash.id, &token, NOT_AUTHORIZED);
                return;
            }
        };
        let Some(invocation) = slash.invocation.as_ref() else {
            let text = format!("Unknown command /{}. Try /help.", slash.name);
            self.instant_answer(now, &slash.id, &token, &text);
            return;
        };
        let executed = execute(
            &self.base.shared,
            &CommandSite {
                inbound: &inbound,
                allowed: &allowed,
                policy: &self.base.policy,
                paired: &paired,
                native: true,
                config_writes: self.settings.config_writes,
            },
            invocation,
        );
        match executed.turn {
            Some((_, allowed)) => {
                self.base.link.submit(
                    now,
                    DiscordRequest::InteractionCallback {
                        interaction_id: slash.id.clone(),
                        token: slash.token.clone(),
                        response: InteractionResponse::Deferred,
                    },
                );
                let turn = self.command_turn(&allowed, &slash.channel_id, chat, &slash.id);
                let delivery = super::Delivery {
                    message_id: slash.id.clone(),
                    ack: None,
                    journal: None,
                    participants: vec![allowed.sender.id.clone()],
                    interaction: Some(token),
                };
                let guild_id = inbound.guild.as_ref().map(|g| g.id.clone());
                self.submit_turn(now, &allowed, turn, Vec::new(), guild_id, delivery);
            }
            None => {
                let text = executed.reply.unwrap_or_default();
                self.instant_answer(now, &slash.id, &token, &text);
            }
        }
    }

    /// Answers an interaction now, ephemeral: the first chunk as the
    /// callback, the rest as follow-ups.
    fn instant_answer(
        &mut self,
        now: Instant,
        interaction_id: &str,
        token: &InteractionToken,
        text: &str,
    ) {
        let mut chunks = answer_chunks(text, &self.base.limits).into_iter();
        let first = chunks.next().map_or_else(|| "Done.".to_owned(), |c| c.text);
        self.base.link.submit(
            now,
            DiscordRequest::InteractionCallback {
                interaction_id: interaction_id.to_owned(),
                token: token.token.clone(),
                response: InteractionResponse::EphemeralMessage(first),
            },
        );
        for chunk in chunks {
            self.base.link.submit(
                now,
                DiscordRequest::CreateFollowup {
                    application_id: token.application_id.clone(),
                    token: token.token.clone(),
                    content: chunk.text,
                    ephemeral: true,
                    mentions: MentionPolicy::default(),
                },
            );
        }
    }

    /// The agent's reply to a deferred interaction: the first chunk edits
    /// the "thinking…" response, the others follow. Files the reply names
    /// cannot ride on the interaction's webhook messages: they are sent to
    /// the command's chat through the outbox like any reply's files (that
    /// ends the turn); otherwise the turn ends here.
    pub(super) fn answer_deferred(
        &mut self,
        now: Instant,
        token: &InteractionToken,
        ctx: TurnCtx,
        cancelled: bool,
        reply: ShapedReply,
    ) {
        let mentions = MentionPolicy::new(
            self.settings.allowed_mentions,
            ctx.participants.iter().map(String::as_str),
        );
        let mut texts = interaction_answer(&reply, cancelled).into_iter();
        let first = texts.next().unwrap_or_default();
        self.base.link.submit(
            now,
            DiscordRequest::EditOriginalResponse {
                application_id: token.application_id.clone(),
                token: token.token.clone(),
                content: first,
                mentions: mentions.clone(),
            },
        );
        for content in texts {
            self.base.link.submit(
                now,
                DiscordRequest::CreateFollowup {
                    application_id: token.application_id.clone(),
                    token: token.token.clone(),
                    content,
                    ephemeral: false,
                    mentions: mentions.clone(),
                },
            );
        }
        if reply.media.is_empty() {
            self.base.durable.turn_ended();
            return;
        }
        // The interaction's id is no message: the files quote nothing.
        let files_only = ShapedReply {
            media: reply.media,
            ..ShapedReply::default()
        };
        self.base.record_reply(now, ctx, files_only);
    }
}
