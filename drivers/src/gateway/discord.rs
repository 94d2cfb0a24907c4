//! The Discord channel loop of one bot account: drives a
//! [`krill_core::discord::Shard`] over a WebSocket and a
//! [`krill_core::rest::Planner`] over HTTP, turns MESSAGE_CREATE into access
//! decisions and agent turns, and sends the shaped replies back to the
//! channel each message came from.
//!
//! The loop decides nothing about the protocol: when to heartbeat, resume or
//! identify, how long to back off, which requests may go out and whether to
//! retry them are all the core's answers.
//!
//! Reactions (seed "Reaction notifications" / "Reaction trigger"; the rules
//! are [`krill_core::access::reactions`]): the loop remembers the bot's last
//! [`BOT_MESSAGES_CAP`] messages (each message a `POST /messages` created,
//! and the bot's own MESSAGE_CREATE) with the `Instant` it saw them, and
//! turns each MESSAGE_REACTION_ADD into an [`InboundReaction`]. A trigger
//! runs an agent turn in the channel's session (no ack reaction; typing as
//! for a message; the reply quotes the bot's message per `replyToMode`). A
//! notification line waits in the session's [`SystemEvents`] queue and is
//! put before the prompt of that session's next turn (message or trigger).
//! MESSAGE_REACTION_REMOVE is ignored (the seed gives removals no meaning).
//! A DM reactor's name comes from the last message they sent the bot
//! (reaction adds in DMs carry only the user id); unknown, the id is shown.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use krill_core::access::reactions::BOT_MESSAGES_CAP;
use krill_core::access::{
    ack_reaction, resolve_names, AccessPolicy, Allowed, Author, BotMessages, ChatKind, Decision,
    Directory, DropReason, InboundMessage, InboundReaction, Place, ReactionDecision, ReactionEmoji,
};
use krill_core::agent::{
    prepend_system_events, ChannelHistories, ChannelKind, ChatType, ContextMessage, SystemEvents,
    TurnInput,
};
use krill_core::commands::{classify, Inbound};
use krill_core::config::{Config, DiscordSettings, Platform, ResolvedAccount};
use krill_core::discord::{
    Channel, Dispatch, Event, GatewayFetchError, Guild, IdentifyLimiter, Message, Output, Reaction,
    ResumeState, Shard, ShardConfig, ShardState, DEFAULT_INTENTS,
};
use krill_core::durable::{Admission, JournaledTurn, SendKind};
use krill_core::pairing::Requester;
use krill_core::reply::{ChunkLimits, MentionPolicy, MentionScope};
use krill_core::rest::discord::{CreateMessage, Request as DiscordRequest};
use krill_core::rest::{RequestId, Response, RestError, RestEvent};
use krill_core::routing::{chat_label, guild_slug};
use krill_core::tools::{offered_actions, ChannelFact, ChannelFacts, SpecCache, TurnScope};
use smol::channel::{Receiver, Sender};
use tracing::{debug, error, info, warn};

use super::acks::{AckTarget, AckTracker};
use super::commands::{execute, CommandSite};
use super::deliveries::Deliveries;
use super::durable::{Durable, Outgoing, ReplyMessage, TEXT};
use super::inbound::{
    answer_chunks, build_turn, log_decision, pairing_reply, turn_participants, TurnSource,
};
use super::link::RestLink;
use super::media::{
    read_reply_files, shape_reply, submit_turn_with_media, MediaDelivery, MediaTurn,
};
use super::member_lookup::NameLookup;
use super::socket::{feed, Socket};
use super::status::Health;
use super::tools::{LoopTools, ToolCalls};
use super::{
    run_loop, unix_ms, user_agent, AccountParts, ChannelEnd, ChannelLoop, Input, InteractionToken,
    Shared, TurnCtx,
};

#[path = "discord_native.rs"]
mod native;
use crate::agent::{TurnOutcome, TurnTools};
use crate::media::outbound::read_recorded;
use crate::media::MediaSettings;
use crate::pairing_store::{random_seed, AllowFromWatcher, PairingStore};
use crate::store::resume::SavedSession;
use krill_core::durable::UPLOAD;
use krill_core::media::{
    delivery_notes, discord_media, plan_discord_delivery, text_or_placeholder, DiscordSend,
    InboundMedia,
};
use krill_core::rest::discord::CreateMessageWithFiles;
use krill_core::routing::ReplyTarget;

/// Channel kinds Discord uses for threads (announcement, public, private).
const THREAD_KINDS: [u16; 3] = [10, 11, 12];
/// Channels whose guild context is kept at most.
const MAX_HISTORY_CHANNELS: usize = 512;
/// Typing lasts 10 s on Discord; renew a little before.
const TYPING_RENEW: Duration = krill_core::agent::ack::TYPING_RENEW_INTERVAL;
/// Message authors remembered for naming DM reactors (forgotten all at once
/// when full).
const MAX_KNOWN_AUTHORS: usize = 1000;

/// The typing indicator of one channel.
#[derive(Debug, Clone, Copy)]
struct Typing {
    /// When the last trigger stops showing (and a running turn renews it).
    renew_at: Instant,
    /// Turns running in the channel.
    turns: usize,
}

/// A channel the bot has seen (GUILD_CREATE, CHANNEL_CREATE, THREAD_CREATE).
#[derive(Debug, Clone)]
struct KnownChannel {
    name: Option<String>,
    kind: u16,
    guild_id: Option<String>,
    parent_id: Option<String>,
    topic: Option<String>,
}

/// Where a message or reaction happened, as the access policy sees it.
struct Located {
    chat: ChatKind,
    guild: Option<Place>,
    channel: Place,
    parent: Option<Place>,
}

/// How a turn's reply is delivered, besides its chat.
struct Delivery {
    /// The message (or interaction) the turn answers.
    message_id: String,
    /// The ack reaction to remove after the reply.
    ack: Option<String>,
    /// User ids the reply may ping.
    participants: Vec<String>,
    /// The turn's row in the turn journal (`None`: not journaled).
    journal: Option<i64>,
    /// A slash command's deferred answer.
    interaction: Option<InteractionToken>,
}

/// Runs one Discord account until it stops for good.
pub(crate) async fn run(
    index: usize,
    account: ResolvedAccount,
    shared: Shared,
    inbox: Sender<Input>,
    input: Receiver<Input>,
) -> ChannelEnd {
    let name = format!("discord:{}", account.account_id);
    let Some(settings) = account.discord().cloned() else {
        return ChannelEnd {
            index,
            name,
            reason: "not a Discord account".to_owned(),
        };
    };
    let board = shared.board.clone();
    let store = shared.store.clone();
    let channel = DiscordLoop::new(index, name, account, settings, shared, inbox);
    run_loop(channel, index, board, store, input).await
}

/// One shard of the account: its machine, its socket and its pending
/// `GET /gateway/bot`.
struct ShardSlot {
    shard: Shard,
    socket: Option<Socket>,
    gateway_fetch: Option<RequestId>,
}

struct DiscordLoop {
    index: usize,
    name: String,
    account: ResolvedAccount,
    settings: DiscordSettings,
    shared: Shared,
    inbox: Sender<Input>,
    /// The shards this process runs (`channels.discord.shards`, else shard
    /// 0 of 1).
    shards: Vec<ShardSlot>,
    /// Identify pacing across the shards (`shard_id % max_concurrency`).
    identify: IdentifyLimiter,
    /// The bot's user id, from READY.
    bot_id: String,
    /// The application id, from READY (slash commands, interaction
    /// webhooks).
    application_id: String,
    /// The pending `GET /applications/{id}/commands`.
    commands_fetch: Option<RequestId>,
    link: RestLink,
    next_conn: u64,
    policy: AccessPolicy,
    guilds: HashMap<String, Guild>,
    channels: HashMap<String, KnownChannel>,
    lookup: NameLookup,
    pairing: PairingStore,
    approved: AllowFromWatcher,
    histories: ChannelHistories,
    typing: HashMap<String, Typing>,
    acks: AckTracker,
    bot_messages: BotMessages,
    system_events: SystemEvents,
    authors: HashMap<String, Author>,
    messages_in: u64,
    /// Guild messages from others with text that did not mention the bot
    /// (see [`crate::status_file::ChannelStatus::content_seen`]).
    content_seen: u64,
    replies_out: u64,
    limits: ChunkLimits,
    /// Where media goes and how large it may be.
    media: MediaSettings,
    /// `discord` tool calls waiting for their requests.
    tool_calls: ToolCalls,
    /// `krill message send` deliveries in progress.
    deliveries: Deliveries,
    stopped: Option<String>,
    /// Sessions saved, journal, outbox.
    durable: Durable,
    /// Acks to remove once their reply (by outbox reply id) is delivered.
    acks_after_reply: HashMap<i64, AckTarget>,
    /// The `discord` tool's specs per set of offered actions.
    tool_specs: SpecCache,
}

/// What the loop knows of channels, for the `discord` tool's scope checks.
struct KnownChannels<'a>(&'a HashMap<String, KnownChannel>);

impl ChannelFacts for KnownChannels<'_> {
    fn channel(&self, channel_id: &str) -> ChannelFact {
        match self.0.get(channel_id) {
            Some(KnownChannel {
                guild_id: Some(guild),
                ..
            }) => ChannelFact::InGuild(guild.clone()),
            Some(_) => ChannelFact::Direct,
            None => ChannelFact::Unknown,
        }
    }
}

impl DiscordLoop {
    fn new(
        index: usize,
        name: String,
        account: ResolvedAccount,
        settings: DiscordSettings,
        shared: Shared,
        inbox: Sender<Input>,
    ) -> Self {
        let seed = random_seed();
        let (ids, count) = match settings.shards {
            Some(range) => (range.ids().collect::<Vec<u32>>(), range.total.max(1)),
            None => (vec![0], 1),
        };
        let mut durable = Durable::new(
            &name,
            Platform::Discord,
            &account.account_id,
            shared.store.clone(),
            str::to_owned,
        );
        let shards = ids
            .into_iter()
            .map(|id| {
                let mut config = ShardConfig::new(account.token.clone());
                config.intents = settings.intents.unwrap_or(DEFAULT_INTENTS);
                config.shard_id = id;
                config.shard_count = count;
                let mut shard = Shard::new(config, seed ^ u64::from(id).rotate_left(32));
                if let Some(saved) = durable.saved_session(id) {
                    info!("{name}: shard {id} resumes its saved session");
                    shard.restore(ResumeState {
                        session_id: saved.session_id,
                        resume_gateway_url: saved.resume_url,
                        seq: saved.seq,
                    });
                }
                ShardSlot {
                    shard,
                    socket: None,
                    gateway_fetch: None,
                }
            })
            .collect::<Vec<_>>();
        if shards.len() > 1 {
            info!("{name}: running {} shards of {count}", shards.len());
        }
        let (names, _) = resolve_names(&settings, &Directory::default());
        let mut parts = AccountParts::new(
            &name,
            &account,
            (&settings.api_base_url, settings.retry),
            names,
            &shared,
            &inbox,
            seed,
        );
        parts
            .link
            .set_global_rate_limit(settings.global_rate_limit as usize);
        let limits = ChunkLimits::discord(
            Some(settings.text_chunk_limit as usize),
            Some(settings.max_lines_per_message as usize),
            settings.chunk_mode,
        );
        let history_cap = (settings.history_limit as usize).max(1);
        let media = MediaSettings::new(
            &shared.config,
            &shared.state_dir,
            Platform::Discord,
            settings.media_max_mb,
        );
        Self {
            index,
            name,
            link: parts.link,
            shards,
            identify: IdentifyLimiter::new(1),
            bot_id: String::new(),
            application_id: String::new(),
            commands_fetch: None,
            account,
            settings,
            shared,
            inbox,
            next_conn: 0,
            policy: parts.policy,
            guilds: HashMap::new(),
            channels: HashMap::new(),
            lookup: NameLookup::default(),
            pairing: parts.pairing,
            approved: parts.approved,
            histories: ChannelHistories::new(history_cap, MAX_HISTORY_CHANNELS),
            typing: HashMap::new(),
            acks: AckTracker::default(),
            bot_messages: BotMessages::new(BOT_MESSAGES_CAP),
            system_events: SystemEvents::default(),
            authors: HashMap::new(),
            messages_in: 0,
            content_seen: 0,
            replies_out: 0,
            limits,
            media,
            tool_calls: ToolCalls::default(),
            deliveries: Deliveries::default(),
            stopped: None,
            durable,
            acks_after_reply: HashMap::new(),
            tool_specs: SpecCache::default(),
        }
    }

    /// Runs again the turns the last process accepted but never answered
    /// (their reply recorded in the transcript is reused, not asked again).
    fn recover_turns(&mut self, now: Instant) {
        for (id, journaled) in self.durable.recovered_turns() {
            let ctx = TurnCtx {
                channel: self.index,
                reply_to: ReplyTarget {
                    platform: Platform::Discord,
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
                    self.start_typing(now, &journaled.chat_id);
                    self.shared.agents.submit(journaled.turn, ctx);
                }
            }
        }
    }

    /// Carries out one output of shard `slot`.
    fn handle_output(&mut self, now: Instant, slot: usize, output: Output) {
        let Some(this) = self.shards.get_mut(slot) else {
            return;
        };
        match output {
            Output::FetchGateway => {
                this.gateway_fetch = self.link.submit(now, DiscordRequest::GatewayBot);
                if this.gateway_fetch.is_none() {
                    this.shard.handle_gateway_fetched(
                        now,
                        Err(GatewayFetchError::Transient { retry_after: None }),
                    );
                }
            }
            Output::Connect { url } => {
                self.next_conn += 1;
                let shard_id = this.shard.config().shard_id;
                if this.shard.will_identify() {
                    // Identify slots are shared by the shards of a bucket
                    // (`shard_id % max_concurrency`, one per 5 s).
                    let max_concurrency = this.shard.max_concurrency().max(1);
                    if self.identify.max_concurrency() != max_concurrency {
                        self.identify = IdentifyLimiter::new(max_concurrency);
                    }
                    let at = self.identify.next_allowed(shard_id, now);
                    self.identify.record(shard_id, at);
                    this.shard.hold_identify_until(at);
                }
                info!("{}: shard {shard_id} connecting to the gateway", self.name);
                debug!("{}: gateway url {url}", self.name);
                this.socket = Some(Socket::open(
                    url,
                    user_agent(),
                    self.next_conn,
                    self.inbox.clone(),
                ));
            }
            Output::Send(frame) => match &this.socket {
                Some(socket) => socket.send_text(frame.into_string()),
                None => debug!("{}: no socket for {:?}", self.name, frame.kind()),
            },
            Output::Close { code } => {
                if let Some(socket) = this.socket.take() {
                    socket.close(code);
                }
            }
            Output::Event(event) => self.handle_event(now, event),
            _ => {}
        }
    }

    fn handle_event(&mut self, now: Instant, event: Event) {
        match event {
            Event::Ready(ready) => {
                info!(
                    "{}: ready as {} ({}), {} guild(s)",
                    self.name,
                    ready.user.username,
                    ready.user.id,
                    ready.guilds.len()
                );
                self.bot_id.clone_from(&ready.user.id);
                if let Some(application) = &ready.application {
                    let first = self.application_id.is_empty();
                    self.application_id.clone_from(&application.id);
                    if first {
                        // Once per process start (a resume keeps it).
                        self.sync_commands(now);
                    }
                }
            }
            Event::Resumed { replayed } => {
                info!("{}: resumed, {replayed} event(s) replayed", self.name)
            }
            Event::Dispatch(dispatch) => self.handle_dispatch(now, dispatch),
            Event::Closed {
                cause,
                resume,
                reconnect_in,
            } => info!(
                "{}: gateway connection closed ({cause:?}); {} in {:.1}s",
                self.name,
                if resume { "resuming" } else { "identifying" },
                reconnect_in.as_secs_f64()
            ),
            Event::Fatal { code, message } => {
                error!("{}: {message}", self.name);
                self.stopped = Some(match code {
                    Some(code) => format!("gateway closed with {code}: {message}"),
                    None => message,
                });
            }
            Event::MalformedFrame { error } => {
                warn!("{}: malformed gateway frame ignored: {error}", self.name)
            }
            Event::GatewayFetchFailed { retry_in } => warn!(
                "{}: GET /gateway/bot failed; retrying in {:.1}s",
                self.name,
                retry_in.as_secs_f64()
            ),
            Event::SessionStartLimited { retry_in } => warn!(
                "{}: the daily identify budget is used up; waiting {:.0}s",
                self.name,
                retry_in.as_secs_f64()
            ),
            other => debug!("{}: {other:?}", self.name),
        }
    }

    fn on_rest_event(&mut self, now: Instant, event: RestEvent) {
        let event = match event {
            RestEvent::Completed { id, response } => {
                let posted = match &response {
                    Response::DiscordMessage(m) => Some((m.id.clone(), m.channel_id.clone())),
                    _ => None,
                };
                if self
                    .tool_calls
                    .on_outcome(now, &mut self.link, id, Ok(response.clone()))
                {
                    // A message the tool sent is the bot's too (reactions
                    // on it can trigger turns).
                    if let Some((message_id, channel_id)) = posted {
                        self.remember_bot_message(now, &message_id, &channel_id);
                    }
                    return;
                }
                RestEvent::Completed { id, response }
            }
            RestEvent::Failed { id, error } => {
                if self
                    .tool_calls
                    .on_outcome(now, &mut self.link, id, Err(error.clone()))
                {
                    self.stop_if_halted();
                    return;
                }
                RestEvent::Failed { id, error }
            }
            other => other,
        };
        match event {
            RestEvent::Completed { id, response } => {
                if let Some(slot) = self.fetching(id) {
                    slot.gateway_fetch = None;
                    match response {
                        Response::DiscordGatewayBot(info) => {
                            slot.shard.handle_gateway_fetched(now, Ok(info))
                        }
                        _ => slot.shard.handle_gateway_fetched(
                            now,
                            Err(GatewayFetchError::Transient { retry_after: None }),
                        ),
                    }
                } else if let Some(added) = self.lookup.answered(&self.name, id, Ok(&response)) {
                    if added {
                        self.rebuild_policy();
                    }
                } else if let Response::DiscordMessage(posted) = &response {
                    self.replies_out += 1;
                    self.remember_bot_message(now, &posted.id, &posted.channel_id);
                    self.durable.completed(id, Some(&posted.id));
                } else if self.commands_fetch == Some(id) {
                    self.commands_fetch = None;
                    if let Response::DiscordCommands(registered) = &response {
                        self.commands_fetched(now, registered);
                    }
                } else {
                    self.durable.completed(id, None);
                }
                self.finish(now, id);
            }
            RestEvent::Failed { id, error } => {
                let name = self.name.clone();
                if let Some(slot) = self.fetching(id) {
                    slot.gateway_fetch = None;
                    let fetch_error = match error {
                        RestError::Unauthorized { .. } => GatewayFetchError::Unauthorized,
                        _ => GatewayFetchError::Transient { retry_after: None },
                    };
                    warn!("{name}: GET /gateway/bot failed: {error}");
                    slot.shard.handle_gateway_fetched(now, Err(fetch_error));
                } else if self.lookup.answered(&name, id, Err(&error)).is_some() {
                    debug!("{name}: member search failed: {error}");
                } else if self.durable.owns(id) {
                    self.durable.failed(now, id, &error);
                } else {
                    if self.commands_fetch == Some(id) {
                        self.commands_fetch = None;
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
        self.stop_if_halted();
    }

    /// Stops the channel once a 401 halted the planner.
    fn stop_if_halted(&mut self) {
        if self.link.is_halted() && self.stopped.is_none() {
            self.stopped = Some(
                "token rejected (HTTP 401): check DISCORD_BOT_TOKEN / channels.discord.token"
                    .to_owned(),
            );
        }
    }

    /// The shard whose `GET /gateway/bot` is request `id`.
    fn fetching(&mut self, id: RequestId) -> Option<&mut ShardSlot> {
        self.shards
            .iter_mut()
            .find(|slot| slot.gateway_fetch == Some(id))
    }

    /// Runs what waited for request `id` to finish.
    fn finish(&mut self, now: Instant, id: RequestId) {
        if let Some(ack) = self.acks.finished(id) {
            self.remove_ack(now, ack);
        }
        self.finish_replies(now);
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

    fn remove_ack(&mut self, now: Instant, ack: AckTarget) {
        self.link.submit(
            now,
            DiscordRequest::DeleteOwnReaction {
                channel_id: ack.chat_id,
                message_id: ack.message_id,
                emoji: ack.emoji,
            },
        );
    }

    fn handle_dispatch(&mut self, now: Instant, dispatch: Dispatch) {
        match dispatch {
            Dispatch::MessageCreate(message) => self.handle_message(now, *message),
            Dispatch::InteractionCreate(interaction) => self.handle_interaction(now, &interaction),
            Dispatch::MessageReactionAdd(reaction) => self.handle_reaction(now, *reaction),
            Dispatch::MessageReactionRemove(reaction) => debug!(
                "{}: reaction removed from {} in {} (ignored)",
                self.name, reaction.message_id, reaction.channel_id
            ),
            Dispatch::GuildCreate(guild) => self.learn_guild(now, *guild),
            Dispatch::ChannelCreate(channel) | Dispatch::ThreadCreate(channel) => {
                self.learn_channel(&channel)
            }
            other => debug!("{}: {} ignored", self.name, other.name()),
        }
    }

    fn learn_channel(&mut self, channel: &Channel) {
        self.channels.insert(
            channel.id.to_string(),
            KnownChannel {
                name: channel.name.clone(),
                kind: channel.kind,
                guild_id: channel.guild_id.as_ref().map(ToString::to_string),
                parent_id: channel.parent_id.as_ref().map(ToString::to_string),
                topic: channel.topic.clone(),
            },
        );
    }

    /// The channel's topic, else (threads) its parent's: passed to the agent
    /// with the channel's `systemPrompt`.
    fn topic_of(&self, channel_id: &str) -> Option<String> {
        let channel = self.channels.get(channel_id)?;
        channel
            .topic
            .clone()
            .filter(|t| !t.trim().is_empty())
            .or_else(|| {
                let parent = self.channels.get(channel.parent_id.as_deref()?)?;
                parent.topic.clone().filter(|t| !t.trim().is_empty())
            })
    }

    /// Remembers a guild's channels and members, and resolves allowlist names
    /// to ids now that the bot can see them.
    fn learn_guild(&mut self, now: Instant, guild: Guild) {
        for channel in guild.channels.iter().chain(guild.threads.iter()) {
            let mut channel = channel.clone();
            if channel.guild_id.is_none() {
                channel.guild_id = Some(guild.id.clone());
            }
            self.learn_channel(&channel);
        }
        let place = Place {
            id: guild.id.to_string(),
            name: Some(guild.name.clone()).filter(|n| !n.is_empty()),
        };
        info!(
            "{}: guild {} available as discord:{} ({} channels)",
            self.name,
            guild.id,
            guild_slug(&self.settings.guilds, &place),
            guild.channels.len()
        );
        let guild_id = guild.id.to_string();
        self.guilds.insert(guild_id.clone(), guild);
        let unresolved = self.rebuild_policy();
        self.lookup
            .search(now, &mut self.link, &guild_id, &unresolved);
    }

    /// The access policy from the settings in force and the names the bot
    /// can see now (allowlist names resolved, each new mapping logged);
    /// returns the names still unresolved.
    fn rebuild_policy(&mut self) -> Vec<String> {
        let (names, unresolved) = self
            .lookup
            .resolve(&self.name, &self.settings, &self.guilds);
        self.policy = AccessPolicy::new(&self.shared.config, &self.account, names);
        unresolved
    }

    fn place(&self, id: &str) -> Place {
        Place {
            id: id.to_owned(),
            name: self.channels.get(id).and_then(|c| c.name.clone()),
        }
    }

    /// Where `channel_id` is: DM, group DM, guild channel or thread, with
    /// the guild and a thread's parent.
    fn locate(
        &self,
        channel_id: &str,
        guild_id: Option<&str>,
        channel_type: Option<u16>,
    ) -> Located {
        let known = self.channels.get(channel_id);
        let guild_id = guild_id
            .map(str::to_owned)
            .or_else(|| known.and_then(|c| c.guild_id.clone()));
        let is_thread = known.is_some_and(|c| THREAD_KINDS.contains(&c.kind));
        let chat = match (&guild_id, channel_type) {
            (None, Some(3)) => ChatKind::GroupDirect,
            (None, _) if known.is_some_and(|c| c.kind == 3) => ChatKind::GroupDirect,
            (None, _) => ChatKind::Direct,
            (Some(_), _) if is_thread => ChatKind::Thread,
            (Some(_), _) => ChatKind::Channel,
        };
        let parent = if is_thread {
            known
                .and_then(|c| c.parent_id.as_deref())
                .map(|id| self.place(id))
        } else {
            None
        };
        let guild = guild_id.map(|id| Place {
            name: self.guilds.get(&id).map(|g| g.name.clone()),
            id,
        });
        Located {
            chat,
            guild,
            channel: self.place(channel_id),
            parent,
        }
    }

    /// Remembers a message the bot posted (the trigger window starts here).
    fn remember_bot_message(&mut self, now: Instant, message_id: &str, channel_id: &str) {
        if self.bot_messages.sent(message_id).is_none() {
            self.bot_messages.record(message_id, channel_id, now);
            debug!(
                "{}: remembered bot message {message_id} in {channel_id}",
                self.name
            );
        }
    }

    fn handle_message(&mut self, now: Instant, message: Message) {
        self.messages_in += 1;
        let bot_id = self.bot_id.clone();
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
            account_id: self.account.account_id.clone(),
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
        let (approved, store_error) = self.approved.ids();
        if let Some(error) = store_error {
            warn!("{}: cannot read the approved pairings: {error}", self.name);
        }
        let decision = self.policy.decide(&inbound, approved);
        log_decision(
            Platform::Discord,
            &label,
            &channel_id,
            &inbound.author,
            &decision,
            self.policy.sender_notice(&inbound, &decision),
        );
        let paired = approved.to_vec();
        let in_guild = matches!(chat, ChatKind::Channel | ChatKind::Thread);
        let guild_id = inbound.guild.as_ref().map(|g| g.id.clone());
        match decision {
            Decision::Allow(mut allowed) => {
                if let Inbound::Command(invocation) =
                    classify(&allowed.text, self.shared.config.commands.text)
                {
                    let executed = execute(
                        &self.shared,
                        &CommandSite {
                            inbound: &inbound,
                            allowed: &allowed,
                            policy: &self.policy,
                            paired: &paired,
                            native: false,
                            config_writes: self.settings.config_writes,
                        },
                        &invocation,
                    );
                    if let Some(text) = &executed.reply {
                        for chunk in answer_chunks(text, &self.limits) {
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
                        self.submit_turn(
                            now,
                            &allowed,
                            turn,
                            Vec::new(),
                            guild_id.clone(),
                            delivery,
                        );
                    }
                    return;
                }
                let media = discord_media(&message.attachments);
                allowed.text = text_or_placeholder(&allowed.text, &media);
                let chat_type = if chat == ChatKind::Direct {
                    ChatType::Direct
                } else {
                    ChatType::Channel
                };
                let context = if in_guild && self.settings.history_limit > 0 {
                    self.histories
                        .take_context(&channel_id, self.settings.history_limit as usize)
                } else {
                    Vec::new()
                };
                let quoted = message.referenced_message.as_ref().map(|r| ContextMessage {
                    message_id: r.id.to_string(),
                    author_id: r.author.id.to_string(),
                    author_name: r.author.username.clone(),
                    text: r.content.clone(),
                });
                let dm_history_limit = if chat == ChatKind::Direct {
                    self.settings.dm_history_limit_for(&inbound.author.id)
                } else {
                    None
                };
                let message_id = message.id.to_string();
                let topic = self.topic_of(&channel_id);
                let turn = build_turn(
                    &allowed,
                    &TurnSource {
                        channel: ChannelKind::Discord,
                        account_id: &self.account.account_id,
                        chat_type,
                        chat_id: &channel_id,
                        message_id: &message_id,
                        context: &context,
                        reply_to: quoted.as_ref(),
                        dm_history_limit,
                        topic: topic.as_deref(),
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
                let journal = match self.durable.admit(&message_id, &journaled) {
                    Admission::Run { id } => Some(id),
                    Admission::AlreadyJournaled => {
                        debug!("{}: message {message_id} was already handled", self.name);
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
                        DiscordRequest::CreateReaction {
                            channel_id: channel_id.clone(),
                            message_id: message_id.clone(),
                            emoji: emoji.clone(),
                        },
                    );
                    if let Some(add) = add {
                        self.acks.adding(
                            add,
                            AckTarget {
                                chat_id: channel_id.clone(),
                                direct: false,
                                message_id: message_id.clone(),
                                emoji: emoji.clone(),
                            },
                        );
                    }
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
            Decision::Drop(dropped)
                if in_guild
                    && dropped.reason == DropReason::MentionRequired
                    && self.settings.history_limit > 0
                    && !message.content.trim().is_empty() =>
            {
                self.histories.record(
                    &channel_id,
                    ContextMessage {
                        message_id: message.id.to_string(),
                        author_id: author.id.to_string(),
                        author_name: tag,
                        text: message.content.clone(),
                    },
                );
            }
            Decision::PairingChallenge(challenge) => {
                let requester = Requester {
                    id: challenge.sender.id.clone(),
                    name: Some(challenge.sender.name.clone()),
                    account_id: self.account.account_id.clone(),
                    chat_id: Some(channel_id.clone()),
                };
                if let Some(text) = pairing_reply(&self.pairing, Platform::Discord, &requester) {
                    self.send_text(now, &channel_id, text, None);
                }
            }
            _ => {}
        }
    }

    /// The turn a command runs (`/new <text>`, `/ask`): its text alone, no
    /// guild context.
    fn command_turn(
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
                account_id: &self.account.account_id,
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
                config: &self.shared.config,
            },
        )
    }

    /// Hands `turn` to the agents, with the session's pending system events
    /// before its prompt, and shows typing in the chat.
    fn submit_turn(
        &mut self,
        now: Instant,
        allowed: &Allowed,
        mut turn: TurnInput,
        media: Vec<InboundMedia>,
        guild_id: Option<String>,
        delivery: Delivery,
    ) {
        self.durable.turn_started();
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
                self.name,
                events.len(),
                turn.session_key
            );
            turn.prompt = prepend_system_events(&events, &turn.prompt);
        }
        let channel_id = allowed.route.reply_to.chat_id.clone();
        self.start_typing(now, &channel_id);
        debug!(
            "{}: turn for {} in {}",
            self.name, allowed.route.session_key, channel_id
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
                inbox: self.inbox.clone(),
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
            channel: self.index,
            reply_to: allowed.route.reply_to.clone(),
            message_id: delivery.message_id,
            ack: delivery.ack,
            journal: delivery.journal,
            participants: delivery.participants,
            interaction: delivery.interaction,
        };
        let media_turn = MediaTurn {
            settings: &self.media,
            platform: "discord",
            media,
        };
        submit_turn_with_media(&self.shared, media_turn, turn, ctx, tools);
    }

    /// Remembers a message author's names (DM reactions carry only an id).
    fn remember_author(&mut self, author: &Author) {
        if self.authors.len() >= MAX_KNOWN_AUTHORS && !self.authors.contains_key(&author.id) {
            self.authors.clear();
        }
        self.authors.insert(author.id.clone(), author.clone());
    }

    fn handle_reaction(&mut self, now: Instant, reaction: Reaction) {
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

    /// A turn starts in `channel_id`: show "typing" unless the last trigger
    /// still shows (one trigger lasts about 10 s), then keep it up.
    fn start_typing(&mut self, now: Instant, channel_id: &str) {
        let typing = self.typing.entry(channel_id.to_owned()).or_insert(Typing {
            renew_at: now,
            turns: 0,
        });
        typing.turns += 1;
        if typing.turns == 1 && typing.renew_at <= now {
            typing.renew_at = now + TYPING_RENEW;
            self.link.submit(
                now,
                DiscordRequest::TriggerTyping {
                    channel_id: channel_id.to_owned(),
                },
            );
        }
    }

    /// A turn of `channel_id` ended.
    fn stop_typing(&mut self, channel_id: &str) {
        if let Some(typing) = self.typing.get_mut(channel_id) {
            typing.turns = typing.turns.saturating_sub(1);
        }
    }

    /// Renews "typing" where turns still run; forgets idle channels whose
    /// last trigger is over.
    fn renew_typing(&mut self, now: Instant) {
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
            self.link
                .submit(now, DiscordRequest::TriggerTyping { channel_id });
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
            Platform::Discord,
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

    fn send_text(
        &mut self,
        now: Instant,
        channel_id: &str,
        text: String,
        reply_to: Option<String>,
    ) {
        self.link.submit(
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
    fn deliver_media(&mut self, now: Instant, ctx: TurnCtx, delivery: MediaDelivery) {
        let plan = plan_discord_delivery(
            delivery.chunks,
            delivery.prepared.files,
            delivery.target.as_ref(),
            self.settings.reply_to_mode,
        );
        let mut messages: Vec<ReplyMessage> = plan
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
        if let Some(note) = delivery_notes(&delivery.prepared.failures) {
            messages.push(ReplyMessage::Note(note));
        }
        let channel_id = ctx.reply_to.chat_id.clone();
        let reply = self.durable.reply_messages(
            ctx.journal,
            &channel_id,
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
            direct: false,
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
        let channel_id = ctx.reply_to.chat_id.clone();
        self.stop_typing(&channel_id);
        if let Some(interaction) = &ctx.interaction {
            // Answered through the interaction, not the outbox.
            self.durable.turn_ended();
            self.answer_deferred(now, interaction, &ctx, &outcome);
            return;
        }
        let reply = shape_reply(
            &self.name,
            &ctx,
            &outcome,
            &self.limits,
            self.settings.reply_to_mode,
            self.settings.max_reply_chars,
            None,
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
            &channel_id,
            ctx.reply_to.direct,
            reply.chunks,
            &ctx.participants,
        );
        self.ack_after_reply(now, ctx, reply);
    }
}

impl ChannelLoop for DiscordLoop {
    fn name(&self) -> &str {
        &self.name
    }

    fn start(&mut self, now: Instant) {
        for slot in &mut self.shards {
            slot.shard.start(now);
        }
        let media = &self.media;
        self.durable
            .recover_outbox(false, |file| read_recorded(media, file));
        self.recover_turns(now);
    }

    fn pump_outbox(&mut self, now: Instant) {
        let (link, name) = (&mut self.link, &self.name);
        let scope = self.settings.allowed_mentions;
        self.durable.pump(now, |kind, out| {
            send_outgoing(link, name, scope, now, kind, out)
        });
        self.finish_replies(now);
    }

    fn save_sessions(&mut self) {
        for slot in &self.shards {
            let saved = slot.shard.resume_state().map(|state| SavedSession {
                session_id: state.session_id,
                resume_url: state.resume_gateway_url,
                seq: state.seq,
            });
            self.durable
                .save_session(slot.shard.config().shard_id, saved);
        }
    }

    fn suspend(&mut self, now: Instant) {
        for slot in &mut self.shards {
            slot.shard.suspend(now);
            while let Some(output) = slot.shard.poll_output() {
                if let Output::Close { code } = output {
                    if let Some(socket) = slot.socket.take() {
                        socket.close(code);
                    }
                }
            }
        }
    }

    fn idle(&self) -> bool {
        self.durable.idle()
    }

    fn step_machine(&mut self, now: Instant) -> bool {
        let mut stepped = false;
        for index in 0..self.shards.len() {
            if let Some(output) = self.shards[index].shard.poll_output() {
                self.handle_output(now, index, output);
                stepped = true;
            }
        }
        stepped
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
        // A stop the shard did not decide (the REST token check): end the
        // session properly instead of just dropping TCP.
        for slot in &mut self.shards {
            slot.shard.shutdown(now);
            // Closed with 1000: the session is over, nothing to resume.
            self.durable
                .save_session(slot.shard.config().shard_id, None);
            while let Some(output) = slot.shard.poll_output() {
                if let Output::Close { code } = output {
                    if let Some(socket) = slot.socket.take() {
                        socket.close(code);
                    }
                }
            }
        }
    }

    fn deadline(&self) -> Option<Instant> {
        let shards = self
            .shards
            .iter()
            .filter_map(|slot| slot.shard.poll_timeout());
        [
            shards.min(),
            self.link.poll_timeout(),
            self.durable.deadline(),
            self.typing
                .values()
                .filter(|typing| typing.turns > 0)
                .map(|typing| typing.renew_at)
                .min(),
        ]
        .into_iter()
        .flatten()
        .min()
    }

    fn handle_input(&mut self, now: Instant, input: Input) {
        match input {
            Input::Socket { conn, event } => {
                let owner = self
                    .shards
                    .iter_mut()
                    .find(|slot| slot.socket.as_ref().map(Socket::conn) == Some(conn));
                if let Some(slot) = owner {
                    feed(
                        &mut slot.shard,
                        &mut slot.socket,
                        &self.name,
                        now,
                        conn,
                        event,
                    );
                }
            }
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
            Input::Tool(call) => {
                let facts = KnownChannels(&self.channels);
                self.tool_calls.start(now, &mut self.link, &facts, call);
            }
        }
    }

    fn handle_timeout(&mut self, now: Instant) {
        for slot in &mut self.shards {
            slot.shard.handle_timeout(now);
        }
        self.renew_typing(now);
    }

    fn reload(&mut self, now: Instant, config: Arc<Config>, account: ResolvedAccount) {
        let Some(settings) = account.discord().cloned() else {
            return;
        };
        self.limits = ChunkLimits::discord(
            Some(settings.text_chunk_limit as usize),
            Some(settings.max_lines_per_message as usize),
            settings.chunk_mode,
        );
        self.media = MediaSettings::new(
            &config,
            &self.shared.state_dir,
            Platform::Discord,
            settings.media_max_mb,
        );
        self.shared.config = config;
        self.account = account;
        self.settings = settings;
        let unresolved = self.rebuild_policy();
        let guilds: Vec<String> = self.guilds.keys().cloned().collect();
        for guild_id in guilds {
            self.lookup
                .search(now, &mut self.link, &guild_id, &unresolved);
        }
        info!("{}: config reloaded", self.name);
        self.sync_commands(now);
    }

    fn request_stop(&mut self, reason: String) {
        self.stopped = Some(reason);
    }

    fn report(&self, now: Instant, health: &mut Health) {
        // The channel is as healthy as its least healthy shard.
        let worst = self
            .shards
            .iter()
            .map(|slot| &slot.shard)
            .find(|shard| shard.state() != ShardState::Ready)
            .or_else(|| self.shards.first().map(|slot| &slot.shard));
        let Some(worst) = worst else {
            return;
        };
        let state = worst.state();
        // Reported after every input: copy the text only when it changed.
        let text = shard_state_text(state);
        if health.state != text {
            health.state = text.to_owned();
        }
        health.set_link(
            self.shards.iter().all(|s| s.shard.state().is_connected()),
            self.shards
                .iter()
                .all(|s| s.shard.state() == ShardState::Ready),
        );
        health.session = self.shards.iter().all(|s| s.shard.session_id().is_some());
        health.last_event_at = self
            .shards
            .iter()
            .filter_map(|s| s.shard.since_last_dispatch(now))
            .min()
            .map(|d| now - d);
        health.last_ack_at = self
            .shards
            .iter()
            .map(|s| s.shard.since_last_ack(now))
            .max()
            .flatten()
            .map(|d| now - d);
        health.messages_in = self.messages_in;
        health.replies_out = self.replies_out;
        health.content_seen = self.content_seen;
        health.notices = self
            .lookup
            .refusal()
            .map(str::to_owned)
            .into_iter()
            .collect();
    }
}

/// Sends one outbox message as `POST /channels/{id}/messages` (multipart
/// with its files for an upload) with its recorded nonce (`enforce_nonce`:
/// Discord posts it at most once, so a message recovered after a restart
/// needs no check first).
fn send_outgoing(
    link: &mut RestLink,
    name: &str,
    scope: MentionScope,
    now: Instant,
    kind: SendKind,
    out: &Outgoing,
) -> Option<RequestId> {
    let _ = kind;
    let message = |content: String| CreateMessage {
        channel_id: out.entry.chat_id.clone(),
        content,
        reply_to: out.entry.reply_to.clone(),
        nonce: Some(out.entry.nonce.clone()),
        mentions: MentionPolicy::new(scope, out.entry.participants.iter().map(String::as_str)),
    };
    let request = match (out.entry.kind.as_str(), out.upload(), &out.files) {
        (TEXT, _, _) => DiscordRequest::CreateMessage(message(out.entry.body.clone())),
        (UPLOAD, Some(record), Some(files)) => {
            DiscordRequest::CreateMessageWithFiles(CreateMessageWithFiles {
                message: message(record.text),
                files: files.to_vec(),
            })
        }
        (kind, _, _) => {
            warn!(
                "{name}: outbox message {} cannot be sent (kind {kind:?}, unreadable or without its files)",
                out.id
            );
            return None;
        }
    };
    link.submit(now, request)
}

/// A guild message from someone else that carries text without mentioning
/// the bot: Discord blanks such text unless the Message Content Intent is
/// in effect, so seeing one proves the intent works.
fn content_without_mention(message: &Message, bot_id: &str) -> bool {
    message.guild_id.is_some()
        && !bot_id.is_empty()
        && message.author.id != bot_id
        && !message.content.is_empty()
        && !message.mentions.iter().any(|u| u.id == bot_id)
}

/// A user's tag: `name#1234`, or the username for migrated users.
fn user_tag(user: &krill_core::discord::User) -> String {
    match user.discriminator.as_deref() {
        Some(d) if !d.is_empty() && d != "0" => format!("{}#{d}", user.username),
        _ => user.username.clone(),
    }
}

/// The shard's state as `channels status` shows it.
fn shard_state_text(state: ShardState) -> &'static str {
    match state {
        ShardState::Idle => "starting",
        ShardState::FetchingGateway => "fetching-gateway",
        ShardState::Connecting => "connecting",
        ShardState::AwaitingHello => "awaiting-hello",
        ShardState::Identifying => "identifying",
        ShardState::Resuming => "resuming",
        ShardState::Ready => "ready",
        ShardState::BackingOff { .. } => "backing-off",
        ShardState::Stopped { .. } => "stopped",
        _ => "unknown",
    }
}
