//! The KOOK channel loop of one bot account: drives a
//! [`krill_core::kook::Session`] over a WebSocket and a
//! [`krill_core::rest::Planner`] over HTTP, turns GROUP and PERSON messages
//! into access decisions and agent turns, and sends the shaped replies back
//! (KMarkdown, `type: 9`; DMs through the direct-message API to the
//! sender's user id).
//!
//! The loop decides nothing about the protocol: gateway fetches, HELLO
//! deadlines, PING/PONG, resume, RECONNECT and the `sn` order are the
//! core's answers.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Instant;

use krill_core::access::{
    ack_reaction, AccessPolicy, Author, ChatKind, Decision, DropReason, InboundMessage, Place,
    ResolvedAllowlists,
};
use krill_core::agent::{ChannelHistories, ChannelKind, ChatType, ContextMessage};
use krill_core::commands::{classify, Inbound};
use krill_core::config::{Config, KookSettings, Platform, ResolvedAccount};
use krill_core::kook::{
    Event, GatewayFetchError, Message, Output, ResumeState, Session, SessionConfig, State,
};
use krill_core::reply::{ChunkLimits, MentionPolicy, OutboundChunk};
use krill_core::rest::kook::{
    DirectMessageCreate, DmTarget, MessageCreate, Request as KookRequest,
};
use krill_core::rest::{RequestId, Response, RestError, RestEvent};
use krill_core::routing::chat_label;
use smol::channel::{Receiver, Sender};
use tracing::{debug, error, info, warn};

use super::acks::{AckTarget, AckTracker};
use super::commands::{execute, CommandSite, Executed};
use super::deliveries::Deliveries;
use super::durable::{Durable, Outgoing, ReplyMessage, TEXT};
use super::inbound::{
    answer_chunks, build_turn, log_decision, pairing_reply, turn_participants, TurnSource,
};
use super::link::RestLink;
use super::media::{
    read_reply_files, shape_reply, submit_turn_with_media, MediaDelivery, MediaTurn,
};
use super::socket::{feed, Socket};
use super::status::Health;
use super::{run_loop, user_agent, AccountParts, ChannelEnd, ChannelLoop, Input, Shared, TurnCtx};
use crate::agent::TurnOutcome;
use crate::media::outbound::read_recorded;
use crate::media::MediaSettings;
use crate::pairing_store::{random_seed, AllowFromWatcher, PairingStore};
use crate::store::resume::SavedSession;
use crate::ws::redact_url;
use krill_core::durable::kook_check::LIST_PAGE_SIZE;
use krill_core::durable::{Admission, JournaledTurn, ListedMessage, SendKind, UPLOAD};
use krill_core::kook::Body;
use krill_core::media::{
    delivery_notes, kook_media, plan_kook_delivery, text_or_placeholder, KookSend,
};
use krill_core::rest::kook::{MediaMessageCreate, MediaTarget};
use krill_core::routing::ReplyTarget;
use std::collections::HashMap;

/// Channels whose context is kept at most.
const MAX_HISTORY_CHANNELS: usize = 512;

/// Runs one KOOK account until it stops for good.
pub(crate) async fn run(
    index: usize,
    account: ResolvedAccount,
    shared: Shared,
    inbox: Sender<Input>,
    input: Receiver<Input>,
) -> ChannelEnd {
    let name = format!("kook:{}", account.account_id);
    let Some(settings) = account.kook().cloned() else {
        return ChannelEnd {
            index,
            name,
            reason: "not a KOOK account".to_owned(),
        };
    };
    let board = shared.board.clone();
    let store = shared.store.clone();
    let channel = KookLoop::new(index, name, account, settings, shared, inbox);
    run_loop(channel, index, board, store, input).await
}

struct KookLoop {
    index: usize,
    name: String,
    account: ResolvedAccount,
    settings: KookSettings,
    shared: Shared,
    inbox: Sender<Input>,
    session: Session,
    link: RestLink,
    socket: Option<Socket>,
    next_conn: u64,
    gateway_fetch: Option<RequestId>,
    user_me: Option<RequestId>,
    bot_id: String,
    policy: AccessPolicy,
    pairing: PairingStore,
    approved: AllowFromWatcher,
    histories: ChannelHistories,
    acks: AckTracker,
    messages_in: u64,
    replies_out: u64,
    limits: ChunkLimits,
    /// Where media goes and how large it may be.
    media: MediaSettings,
    /// `krill message send` deliveries in progress.
    deliveries: Deliveries,
    stopped: Option<String>,
    /// Session saved, journal, outbox.
    durable: Durable,
    /// Acks to remove once their reply (by outbox reply id) is delivered.
    acks_after_reply: HashMap<i64, AckTarget>,
}

impl KookLoop {
    fn new(
        index: usize,
        name: String,
        account: ResolvedAccount,
        settings: KookSettings,
        shared: Shared,
        inbox: Sender<Input>,
    ) -> Self {
        let seed = random_seed();
        let parts = AccountParts::new(
            &name,
            &account,
            (&settings.api_base_url, settings.retry),
            ResolvedAllowlists::default(),
            &shared,
            &inbox,
            seed,
        );
        let limits = ChunkLimits::kook(
            Some(settings.text_chunk_limit as usize),
            settings.max_lines_per_message.map(|n| n as usize),
            settings.chunk_mode,
        );
        let history_cap = (settings.history_limit as usize).max(1);
        let mut durable = Durable::new(
            &name,
            Platform::Kook,
            &account.account_id,
            shared.store.clone(),
            quiet_kmarkdown,
        );
        let mut session = Session::new(SessionConfig::new(settings.compress), seed);
        if let Some(saved) = durable.saved_session(0) {
            info!("{name}: resuming the saved session");
            session.restore(ResumeState {
                session_id: saved.session_id,
                sn: saved.seq.unwrap_or(0),
            });
        }
        let media = MediaSettings::new(
            &shared.config,
            &shared.state_dir,
            Platform::Kook,
            settings.media_max_mb,
        );
        Self {
            index,
            name,
            session,
            link: parts.link,
            account,
            settings,
            shared,
            inbox,
            socket: None,
            next_conn: 0,
            gateway_fetch: None,
            user_me: None,
            bot_id: String::new(),
            policy: parts.policy,
            pairing: parts.pairing,
            approved: parts.approved,
            histories: ChannelHistories::new(history_cap, MAX_HISTORY_CHANNELS),
            acks: AckTracker::default(),
            messages_in: 0,
            replies_out: 0,
            limits,
            media,
            deliveries: Deliveries::default(),
            stopped: None,
            durable,
            acks_after_reply: HashMap::new(),
        }
    }

    /// Runs again the turns the last process accepted but never answered
    /// (their reply recorded in the transcript is reused, not asked again).
    fn recover_turns(&mut self, now: Instant) {
        for (id, journaled) in self.durable.recovered_turns() {
            let ctx = TurnCtx {
                channel: self.index,
                reply_to: ReplyTarget {
                    platform: Platform::Kook,
                    account_id: self.account.account_id.clone(),
                    chat_id: journaled.chat_id.clone(),
                    direct: journaled.direct,
                },
                message_id: journaled.turn.message_id.clone(),
                ack: None,
                journal: Some(id),
                participants: journaled.participants.clone(),
                interaction: None,
            };
            self.durable.turn_started();
            match super::recorded_outcome(&self.shared, &journaled.turn) {
                Some(outcome) => self.handle_outcome(now, ctx, outcome),
                None => {
                    info!(
                        "{}: running again the unanswered turn for message {}",
                        self.name, journaled.turn.message_id
                    );
                    self.shared.agents.submit(journaled.turn, ctx);
                }
            }
        }
    }

    /// Removes the acks of replies that are now delivered.
    fn finish_replies(&mut self, now: Instant) {
        for reply in self.durable.take_finished() {
            if let Some(target) = self.acks_after_reply.remove(&reply) {
                if let Some(ack) = self.acks.remove_after_reply(None, target) {
                    self.remove_ack(now, ack);
                }
            }
        }
    }

    fn handle_output(&mut self, now: Instant, output: Output) {
        match output {
            Output::FetchGateway { compress } => {
                self.gateway_fetch = self
                    .link
                    .submit(now, KookRequest::GatewayIndex { compress });
                if self.gateway_fetch.is_none() {
                    self.session.handle_gateway_fetched(
                        now,
                        Err(GatewayFetchError::Transient {
                            detail: "the request was refused".to_owned(),
                        }),
                    );
                }
            }
            Output::Connect { url } => {
                self.next_conn += 1;
                info!("{}: connecting to {}", self.name, redact_url(url.expose()));
                self.socket = Some(Socket::open(
                    url.expose().to_owned(),
                    user_agent(),
                    self.next_conn,
                    self.inbox.clone(),
                ));
            }
            Output::Send(frame) => {
                if let Some(socket) = &self.socket {
                    socket.send_text(frame);
                }
            }
            Output::Close => {
                if let Some(socket) = self.socket.take() {
                    socket.close(1000);
                }
            }
            Output::Event(event) => self.handle_event(now, event),
        }
    }

    fn handle_event(&mut self, now: Instant, event: Event) {
        match event {
            Event::Hello {
                session_id,
                resumed,
            } => info!(
                "{}: connected (session {}{})",
                self.name,
                session_id.as_deref().unwrap_or("?"),
                if resumed { ", resuming" } else { "" }
            ),
            Event::Message { message, .. } => self.handle_message(now, *message),
            Event::ResumeAck { .. } => info!("{}: resumed; missed events delivered", self.name),
            Event::GapSkipped { from, to } => warn!(
                "{}: events sn {from}..={to} never arrived; going on without them",
                self.name
            ),
            Event::Reconnect { code, err } => info!(
                "{}: the server asked to reconnect (code {code:?}, {}); starting a new session",
                self.name,
                err.as_deref().unwrap_or("")
            ),
            Event::ResumeFailed { .. } => {
                info!("{}: resume failed; starting a new session", self.name)
            }
            Event::HelloRejected { error, .. } => warn!("{}: {error}", self.name),
            Event::Fatal { reason } => {
                error!("{}: {reason}", self.name);
                self.stopped = Some(reason.to_string());
            }
            Event::MalformedFrame { error } => {
                warn!("{}: malformed gateway frame ignored: {error}", self.name)
            }
            other => debug!("{}: {other:?}", self.name),
        }
    }

    fn on_rest_event(&mut self, now: Instant, event: RestEvent) {
        match event {
            RestEvent::Completed { id, response } => {
                if self.gateway_fetch == Some(id) {
                    self.gateway_fetch = None;
                    match response {
                        Response::KookGateway(gateway) => {
                            self.session.handle_gateway_fetched(now, Ok(gateway.url))
                        }
                        _ => self.session.handle_gateway_fetched(
                            now,
                            Err(GatewayFetchError::Transient {
                                detail: "unexpected response".to_owned(),
                            }),
                        ),
                    }
                } else if self.user_me == Some(id) {
                    self.user_me = None;
                    if let Response::KookUser(user) = response {
                        info!("{}: bot user {} ({})", self.name, user.username, user.id);
                        self.bot_id = user.id;
                    }
                } else if let Response::KookAsset(asset) = &response {
                    let (link, name) = (&mut self.link, &self.name);
                    self.durable.asset_created(now, id, &asset.url, |out| {
                        send_outgoing(link, name, now, SendKind::Send, out)
                    });
                } else if let Response::KookMessage(posted) = &response {
                    self.replies_out += 1;
                    self.durable.completed(id, Some(&posted.msg_id));
                } else if let Response::KookMessageList(list) = &response {
                    let listed: Vec<ListedMessage> = list
                        .items
                        .iter()
                        .map(|m| ListedMessage {
                            id: m.id.clone(),
                            author_id: m.author_id().to_owned(),
                            content: m.content.clone(),
                            created_ms: m.create_at,
                        })
                        .collect();
                    self.durable.verified(id, &listed, &self.bot_id);
                } else {
                    self.durable.completed(id, None);
                }
                self.finish(now, id);
                self.finish_replies(now);
            }
            RestEvent::Failed { id, error } => {
                if self.gateway_fetch == Some(id) {
                    self.gateway_fetch = None;
                    warn!("{}: GET /gateway/index failed: {error}", self.name);
                    let fetch_error = match error {
                        RestError::Unauthorized { .. } => GatewayFetchError::Unauthorized {
                            detail: error.to_string(),
                        },
                        other => GatewayFetchError::Transient {
                            detail: other.to_string(),
                        },
                    };
                    self.session.handle_gateway_fetched(now, Err(fetch_error));
                } else if self.durable.owns(id) {
                    self.durable.failed(now, id, &error);
                    self.finish_replies(now);
                } else {
                    if self.user_me == Some(id) {
                        self.user_me = None;
                    }
                    warn!("{}: request failed: {error}", self.name);
                }
                self.finish(now, id);
            }
            RestEvent::Retrying { id, at, reason } => debug!(
                "{}: request {id:?} retried in {:.1}s: {reason:?}",
                self.name,
                at.saturating_duration_since(now).as_secs_f64()
            ),
            _ => {}
        }
        if self.link.is_halted() && self.stopped.is_none() {
            self.stopped = Some(
                "token rejected (HTTP 401): check KOOK_BOT_TOKEN / channels.kook.token".to_owned(),
            );
        }
    }

    /// Runs what waited for request `id` to finish.
    fn finish(&mut self, now: Instant, id: RequestId) {
        if let Some(ack) = self.acks.finished(id) {
            self.remove_ack(now, ack);
        }
    }

    fn remove_ack(&mut self, now: Instant, ack: AckTarget) {
        self.link.submit(
            now,
            KookRequest::DeleteReaction {
                direct: ack.direct,
                msg_id: ack.message_id,
                emoji: ack.emoji,
                user_id: None,
            },
        );
    }

    fn handle_message(&mut self, now: Instant, message: Message) {
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
    fn carry_out(
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

    /// Delivers `text` to `target` for the control socket (`krill message
    /// send`): chunked like a reply; only a DM's recipient may be pinged.
    fn deliver(
        &mut self,
        now: Instant,
        target: krill_core::control::Target,
        text: &str,
        reply: Sender<krill_core::control::ControlReply>,
    ) {
        let recipient = match &target {
            krill_core::control::Target::User(id) => Some(id.clone()),
            krill_core::control::Target::Channel(_) => None,
        };
        let mentions = MentionPolicy::new(self.settings.allowed_mentions, recipient.as_deref());
        match krill_core::control::Delivery::new(
            Platform::Kook,
            target,
            text,
            &self.limits,
            mentions,
        ) {
            Ok(delivery) => self.deliveries.start(now, &mut self.link, delivery, reply),
            Err(error) => {
                let _ = reply.try_send(krill_core::control::ControlReply::failed(error));
            }
        }
    }

    /// Submits one message to a channel or, for DMs, to the user.
    fn send(
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
        self.link.submit(now, request)
    }

    /// A reply with files, once they are read: the text chunks, then each
    /// file (`/asset/create`, then a media message), then a note for the
    /// files that cannot go, recorded in the outbox (answering the turn) and
    /// sent from there.
    fn deliver_media(&mut self, now: Instant, ctx: TurnCtx, delivery: MediaDelivery) {
        let plan = plan_kook_delivery(
            delivery.chunks,
            delivery.prepared.files,
            delivery.target.as_ref(),
            self.settings.reply_to_mode,
        );
        let mut messages: Vec<ReplyMessage> = plan
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
        if let Some(note) = delivery_notes(&delivery.prepared.failures) {
            messages.push(ReplyMessage::Note(note));
        }
        let reply = self.durable.reply_messages(
            ctx.journal,
            &ctx.reply_to.chat_id,
            ctx.reply_to.direct,
            messages,
            &ctx.participants,
        );
        self.ack_after_reply(now, ctx, reply);
    }

    /// Removes the ack of `ctx`'s message once `reply` is delivered (at
    /// once when there is nothing to send), when configured.
    fn ack_after_reply(&mut self, now: Instant, ctx: TurnCtx, reply: Option<i64>) {
        let Some(emoji) = ctx.ack else {
            return;
        };
        if !self.shared.config.messages.remove_ack_after_reply {
            return;
        }
        let target = AckTarget {
            chat_id: ctx.reply_to.chat_id,
            direct: ctx.reply_to.direct,
            message_id: ctx.message_id,
            emoji,
        };
        match reply {
            Some(reply) => {
                self.acks_after_reply.insert(reply, target);
            }
            None => {
                if let Some(ack) = self.acks.remove_after_reply(None, target) {
                    self.remove_ack(now, ack);
                }
            }
        }
    }

    fn handle_outcome(&mut self, now: Instant, ctx: TurnCtx, outcome: TurnOutcome) {
        let direct = ctx.reply_to.direct;
        let chat_id = ctx.reply_to.chat_id.clone();
        let reply = shape_reply(
            &self.name,
            &ctx,
            &outcome,
            &self.limits,
            self.settings.reply_to_mode,
            self.settings.max_reply_chars,
            Some(&MentionPolicy::new(
                self.settings.allowed_mentions,
                ctx.participants.iter().map(String::as_str),
            )),
        );
        if !reply.media.is_empty() {
            // The files are read off the loop; the reply is recorded (and
            // the turn answered) when they are (`Input::Media`), so its
            // order is kept and a crash meanwhile runs the turn again.
            read_reply_files(&self.media, &self.inbox, ctx, reply);
            return;
        }
        let reply = self.durable.reply(
            ctx.journal,
            &chat_id,
            direct,
            reply.chunks,
            &ctx.participants,
        );
        self.ack_after_reply(now, ctx, reply);
    }
}

impl ChannelLoop for KookLoop {
    fn name(&self) -> &str {
        &self.name
    }

    fn start(&mut self, now: Instant) {
        self.user_me = self.link.submit(now, KookRequest::UserMe);
        self.session.start(now);
        // KOOK does not deduplicate by nonce: look for each recovered
        // message in its chat before sending it again.
        let media = &self.media;
        self.durable
            .recover_outbox(true, |file| read_recorded(media, file));
        self.recover_turns(now);
    }

    fn pump_outbox(&mut self, now: Instant) {
        // The check needs the bot's id (from `GET /user/me`) first.
        if self.bot_id.is_empty() && self.user_me.is_some() {
            return;
        }
        let (link, name) = (&mut self.link, &self.name);
        self.durable
            .pump(now, |kind, out| send_outgoing(link, name, now, kind, out));
        self.finish_replies(now);
    }

    fn save_sessions(&mut self) {
        let saved = self.session.resume_state().map(|state| SavedSession {
            session_id: state.session_id,
            resume_url: None,
            seq: Some(state.sn),
        });
        self.durable.save_session(0, saved);
    }

    fn suspend(&mut self, now: Instant) {
        // KOOK gives close codes no meaning: stopping keeps the session
        // resumable (it is saved in the store).
        self.save_sessions();
        self.session.stop(now);
        while let Some(output) = self.session.poll_output() {
            if let Output::Close = output {
                if let Some(socket) = self.socket.take() {
                    socket.close(1000);
                }
            }
        }
        if let Some(socket) = self.socket.take() {
            socket.close(1000);
        }
    }

    fn idle(&self) -> bool {
        self.durable.idle()
    }

    fn step_machine(&mut self, now: Instant) -> bool {
        match self.session.poll_output() {
            Some(output) => {
                self.handle_output(now, output);
                true
            }
            None => false,
        }
    }

    fn link(&mut self) -> &mut RestLink {
        &mut self.link
    }

    fn handle_rest_event(&mut self, now: Instant, event: RestEvent) {
        if let Some(event) = self.deliveries.handle(now, &mut self.link, event) {
            self.on_rest_event(now, event);
        }
    }

    fn take_stop(&mut self) -> Option<String> {
        self.stopped.take()
    }

    fn shut_down(&mut self, now: Instant) {
        self.session.stop(now);
        if let Some(socket) = self.socket.take() {
            socket.close(1000);
        }
    }

    fn deadline(&self) -> Option<Instant> {
        [
            self.session.poll_timeout(),
            self.link.poll_timeout(),
            self.durable.deadline(),
        ]
        .into_iter()
        .flatten()
        .min()
    }

    fn handle_input(&mut self, now: Instant, input: Input) {
        match input {
            Input::Socket { conn, event } => feed(
                &mut self.session,
                &mut self.socket,
                &self.name,
                now,
                conn,
                event,
            ),
            Input::Http { id, result } => self.link.handle(now, id, result),
            Input::Agent { ctx, outcome } => self.handle_outcome(now, ctx, *outcome),
            Input::Media { ctx, delivery } => self.deliver_media(now, ctx, delivery),
            Input::Deliver {
                target,
                text,
                reply,
            } => self.deliver(now, target, &text, reply),
            // `run_loop` hands these to `suspend` / `reload` / `request_stop`.
            Input::Drain | Input::Reload { .. } | Input::Stop { .. } => {}
            // KOOK turns are offered no tools; a stray call gets an error.
            Input::Tool(call) => {
                let _ = call.reply.try_send(krill_core::tools::run::error_result(
                    "the discord tool only works in Discord conversations",
                ));
            }
        }
    }

    fn handle_timeout(&mut self, now: Instant) {
        self.session.handle_timeout(now);
    }

    fn reload(&mut self, _now: Instant, config: Arc<Config>, account: ResolvedAccount) {
        let Some(settings) = account.kook().cloned() else {
            return;
        };
        self.limits = ChunkLimits::kook(
            Some(settings.text_chunk_limit as usize),
            settings.max_lines_per_message.map(|n| n as usize),
            settings.chunk_mode,
        );
        self.policy = AccessPolicy::new(&config, &account, ResolvedAllowlists::default());
        self.media = MediaSettings::new(
            &config,
            &self.shared.state_dir,
            Platform::Kook,
            settings.media_max_mb,
        );
        self.shared.config = config;
        self.account = account;
        self.settings = settings;
        info!("{}: config reloaded", self.name);
    }

    fn request_stop(&mut self, reason: String) {
        self.stopped = Some(reason);
    }

    fn report(&self, now: Instant, health: &mut Health) {
        let state = self.session.state();
        // Reported after every input: copy the text only when it changed.
        let text = session_state_text(state);
        if health.state != text {
            health.state = text.to_owned();
        }
        let up = matches!(state, State::Connected | State::AwaitingPong);
        health.set_link(up, up);
        health.session = self.session.session_id().is_some();
        health.last_event_at = self.session.since_last_event(now).map(|d| now - d);
        health.last_ack_at = self.session.since_last_pong(now).map(|d| now - d);
        health.messages_in = self.messages_in;
        health.replies_out = self.replies_out;
    }
}

/// Sends one outbox message (`message/create`, or `direct-message/create`
/// for DMs) with its recorded nonce, or lists the chat's newest messages to
/// check whether a recovered one is already there.
fn send_outgoing(
    link: &mut RestLink,
    name: &str,
    now: Instant,
    kind: SendKind,
    out: &Outgoing,
) -> Option<RequestId> {
    let entry = &out.entry;
    let upload = match entry.kind.as_str() {
        TEXT => None,
        UPLOAD => match (out.upload(), out.files.as_ref().and_then(|f| f.first())) {
            // With its asset URL the message needs no file.
            (Some(record), file) if record.url.is_some() || file.is_some() => Some((record, file)),
            _ => {
                warn!(
                    "{name}: outbox upload {} cannot be sent (unreadable or without its file)",
                    out.id
                );
                return None;
            }
        },
        other => {
            warn!(
                "{name}: outbox message {} has a kind this build cannot send ({other:?})",
                out.id
            );
            return None;
        }
    };
    let request = match (kind, upload) {
        (SendKind::Verify, _) => KookRequest::MessageList {
            direct: entry.direct,
            target_id: entry.chat_id.clone(),
            page_size: LIST_PAGE_SIZE,
        },
        // A file: uploaded first, then (`Durable::asset_created`) its
        // message with the asset URL.
        (_, Some((record, file))) => match (record.url, file) {
            (None, Some(file)) => KookRequest::AssetCreate(file.clone()),
            (None, None) => return None,
            (Some(url), _) => KookRequest::MediaMessageCreate(MediaMessageCreate {
                target: if entry.direct {
                    MediaTarget::Direct(DmTarget::User(entry.chat_id.clone()))
                } else {
                    MediaTarget::Channel(entry.chat_id.clone())
                },
                message_type: record.message_type.unwrap_or(4),
                url,
                quote: entry.reply_to.clone(),
            }),
        },
        _ if entry.direct => KookRequest::DirectMessageCreate(DirectMessageCreate {
            target: DmTarget::User(entry.chat_id.clone()),
            content: entry.body.clone(),
            quote: entry.reply_to.clone(),
            nonce: Some(entry.nonce.clone()),
        }),
        _ => KookRequest::MessageCreate(MessageCreate {
            target_id: entry.chat_id.clone(),
            content: entry.body.clone(),
            quote: entry.reply_to.clone(),
            nonce: Some(entry.nonce.clone()),
        }),
    };
    link.submit(now, request)
}

/// The session's state as `channels status` shows it.
fn session_state_text(state: State) -> &'static str {
    match state {
        State::Idle => "starting",
        State::FetchingGateway => "fetching-gateway",
        State::BackingOff => "backing-off",
        State::Connecting => "connecting",
        State::AwaitingHello => "awaiting-hello",
        State::Connected => "ready",
        State::AwaitingPong => "awaiting-pong",
        State::Resuming => "resuming",
        State::Stopped => "stopped",
        _ => "unknown",
    }
}

/// A note naming files (agent-chosen names) as KMarkdown that pings nobody.
fn quiet_kmarkdown(note: &str) -> String {
    krill_core::reply::neutralize_kmarkdown(note, &krill_core::reply::MentionPolicy::default())
        .into_owned()
}
