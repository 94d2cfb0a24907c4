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
//! Reactions (the Discord channel doc's "Reaction notifications" / "Reaction
//! trigger"; the rules
//! are [`krill_core::access::reactions`]): the loop remembers the bot's last
//! [`BOT_MESSAGES_CAP`] messages (each message a `POST /messages` created,
//! and the bot's own MESSAGE_CREATE) with the `Instant` it saw them, and
//! turns each MESSAGE_REACTION_ADD into an [`InboundReaction`]. A trigger
//! runs an agent turn in the channel's session (no ack reaction; typing as
//! for a message; the reply quotes the bot's message per `replyToMode`). A
//! notification line waits in the session's [`SystemEvents`] queue and is
//! put before the prompt of that session's next turn (message or trigger).
//! MESSAGE_REACTION_REMOVE is ignored (the channel doc gives removals no meaning).
//! A DM reactor's name comes from the last message they sent the bot
//! (reaction adds in DMs carry only the user id); unknown, the id is shown.
//!
//! | module | owns |
//! |---|---|
//! | this one | the loop's own state (the account's common part is [`AccountLoop`]), the shard's outputs and events |
//! | [`channel_loop`] | what `run_loop` asks of the loop ([`ChannelLoop`]), REST events |
//! | [`guilds`] | guilds, channels, threads and topics the loop has learned |
//! | [`messages`] | MESSAGE_CREATE → history, access, commands, journaled turns |
//! | [`reactions`] | reaction notifications and triggered turns |
//! | [`delivery`] | typing, a turn's reply and files mapped onto Discord messages |
//! | [`native`] | slash commands (INTERACTION_CREATE) and their registration |

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use krill_core::access::reactions::BOT_MESSAGES_CAP;
use krill_core::access::{
    resolve_names, AccessPolicy, Allowed, Author, BotMessages, ChatKind, Directory, InboundMessage,
    InboundReaction, Place, ReactionDecision, ReactionEmoji,
};
use krill_core::agent::{
    prepend_system_events, ChannelKind, ChatType, ContextMessage, SystemEvents, TurnInput,
};
use krill_core::config::{Config, DiscordSettings, Platform, ResolvedAccount};
use krill_core::discord::{
    Channel, Dispatch, Event, GatewayFetchError, Guild, IdentifyLimiter, Message, Output, Reaction,
    ResumeState, Shard, ShardConfig, ShardState, DEFAULT_INTENTS,
};
use krill_core::durable::{JournaledTurn, SendKind};
use krill_core::pairing::Requester;
use krill_core::pipeline::{
    answer_chunks, build_turn, plan_inbound, plan_reaction_turn, InboundAction, MessageFacts,
    MessageLine, PlannedTurn, ReactionFacts, ReactionTurn, ReplyShape, TurnSource,
};
use krill_core::reply::{ChunkLimits, MentionPolicy, MentionScope};
use krill_core::rest::discord::{CreateMessage, Request as DiscordRequest};
use krill_core::rest::{RequestId, Response, RestError, RestEvent};
use krill_core::routing::{chat_label, guild_slug};
use krill_core::tools::{offered_actions, ChannelFact, ChannelFacts, SpecCache, TurnScope};
use smol::channel::{Receiver, Sender};
use tracing::{debug, error, info, warn};

use super::account::{AccountLoop, AccountSetup, RecoveredTurn};
use super::acks::AckTarget;
use super::commands::{execute, CommandSite};
use super::durable::{Outgoing, ReplyMessage, TEXT};
use super::inbound::{log_decision, pairing_reply, shape_outcome};
use super::link::RestLink;
use super::media::{submit_turn_with_media, MediaDelivery, MediaTurn};
use super::member_lookup::NameLookup;
use super::socket::{feed, Socket};
use super::status::Health;
use super::tools::{LoopTools, ToolCalls};
use super::{
    run_loop, unix_ms, user_agent, ChannelEnd, ChannelLoop, Input, InteractionToken, Shared,
    TurnCtx,
};

mod channel_loop;
mod delivery;
mod guilds;
mod messages;
mod native;
mod reactions;
use crate::agent::{TurnOutcome, TurnTools};
use crate::media::outbound::read_recorded;
use crate::pairing_store::random_seed;
use crate::store::resume::SavedSession;
use krill_core::durable::UPLOAD;
use krill_core::media::{discord_media, plan_discord_delivery, DiscordSend, InboundMedia};
use krill_core::rest::discord::CreateMessageWithFiles;

/// Channel kinds Discord uses for threads (announcement, public, private).
const THREAD_KINDS: [u16; 3] = [10, 11, 12];
/// Channels whose guild context is kept at most.
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
    let channel = DiscordLoop::new(index, name, account, settings, shared, inbox);
    run_loop(channel, input).await
}

/// The account's chunk limits (`textChunkLimit`, `maxLinesPerMessage`,
/// `chunkMode`).
fn chunk_limits(settings: &DiscordSettings) -> ChunkLimits {
    ChunkLimits::discord(
        Some(settings.text_chunk_limit as usize),
        Some(settings.max_lines_per_message as usize),
        settings.chunk_mode,
    )
}

/// One shard of the account: its machine, its socket and its pending
/// `GET /gateway/bot`.
struct ShardSlot {
    shard: Shard,
    socket: Option<Socket>,
    gateway_fetch: Option<RequestId>,
}

struct DiscordLoop {
    /// What every platform's loop holds for its account.
    base: AccountLoop,
    settings: DiscordSettings,
    /// The shards this process runs (`channels.discord.shards`, else shard
    /// 0 of 1).
    shards: Vec<ShardSlot>,
    /// Identify pacing across the shards (`shard_id % max_concurrency`).
    identify: IdentifyLimiter,
    /// The application id, from READY (slash commands, interaction
    /// webhooks).
    application_id: String,
    /// The pending `GET /applications/{id}/commands`.
    commands_fetch: Option<RequestId>,
    guilds: HashMap<String, Guild>,
    channels: HashMap<String, KnownChannel>,
    lookup: NameLookup,
    typing: HashMap<String, Typing>,
    bot_messages: BotMessages,
    system_events: SystemEvents,
    authors: HashMap<String, Author>,
    /// Guild messages from others with text that did not mention the bot
    /// (see [`crate::status_file::ChannelStatus::content_seen`]).
    content_seen: u64,
    /// `discord` tool calls waiting for their requests.
    tool_calls: ToolCalls,
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
        let (names, _) = resolve_names(&settings, &Directory::default());
        let setup = AccountSetup {
            rest: (&settings.api_base_url, settings.retry),
            names,
            limits: chunk_limits(&settings),
            history_limit: settings.history_limit,
            media_max_mb: settings.media_max_mb,
            note_format: str::to_owned,
        };
        let mut base = AccountLoop::new(index, name, account, shared, inbox, seed, setup);
        base.link
            .set_global_rate_limit(settings.global_rate_limit as usize);
        let name = &base.name;
        let shards = ids
            .into_iter()
            .map(|id| {
                let mut config = ShardConfig::new(base.account.token.clone());
                config.intents = settings.intents.unwrap_or(DEFAULT_INTENTS);
                config.shard_id = id;
                config.shard_count = count;
                let mut shard = Shard::new(config, seed ^ u64::from(id).rotate_left(32));
                if let Some(saved) = base.durable.saved_session(id) {
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
        Self {
            base,
            shards,
            identify: IdentifyLimiter::new(1),
            application_id: String::new(),
            commands_fetch: None,
            settings,
            guilds: HashMap::new(),
            channels: HashMap::new(),
            lookup: NameLookup::default(),
            typing: HashMap::new(),
            bot_messages: BotMessages::new(BOT_MESSAGES_CAP),
            system_events: SystemEvents::default(),
            authors: HashMap::new(),
            content_seen: 0,
            tool_calls: ToolCalls::default(),
            tool_specs: SpecCache::default(),
        }
    }

    /// Runs again the turns the last process accepted but never answered
    /// (their reply recorded in the transcript is reused, not asked again).
    fn recover_turns(&mut self, now: Instant) {
        for recovered in self.base.recover_turns() {
            match recovered {
                RecoveredTurn::Answered(ctx, outcome) => self.handle_outcome(now, ctx, outcome),
                RecoveredTurn::Unanswered(ctx, turn) => {
                    self.start_typing(now, &ctx.reply_to.chat_id);
                    self.base.shared.agents.submit(turn, ctx);
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
                this.gateway_fetch = self.base.link.submit(now, DiscordRequest::GatewayBot);
                if this.gateway_fetch.is_none() {
                    this.shard.handle_gateway_fetched(
                        now,
                        Err(GatewayFetchError::Transient { retry_after: None }),
                    );
                }
            }
            Output::Connect { url } => {
                self.base.next_conn += 1;
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
                info!(
                    "{}: shard {shard_id} connecting to the gateway",
                    self.base.name
                );
                debug!("{}: gateway url {url}", self.base.name);
                this.socket = Some(Socket::open(
                    url,
                    user_agent(),
                    self.base.next_conn,
                    self.base.inbox.clone(),
                ));
            }
            Output::Send(frame) => match &this.socket {
                Some(socket) => socket.send_text(frame.into_string()),
                None => debug!("{}: no socket for {:?}", self.base.name, frame.kind()),
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
                    self.base.name,
                    ready.user.username,
                    ready.user.id,
                    ready.guilds.len()
                );
                self.base.bot_id.clone_from(&ready.user.id);
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
                info!("{}: resumed, {replayed} event(s) replayed", self.base.name)
            }
            Event::Dispatch(dispatch) => self.handle_dispatch(now, dispatch),
            Event::Closed {
                cause,
                resume,
                reconnect_in,
            } => info!(
                "{}: gateway connection closed ({cause:?}); {} in {:.1}s",
                self.base.name,
                if resume { "resuming" } else { "identifying" },
                reconnect_in.as_secs_f64()
            ),
            Event::Fatal { code, message } => {
                error!("{}: {message}", self.base.name);
                self.base.stopped = Some(match code {
                    Some(code) => format!("gateway closed with {code}: {message}"),
                    None => message,
                });
            }
            Event::MalformedFrame { error } => {
                warn!(
                    "{}: malformed gateway frame ignored: {error}",
                    self.base.name
                )
            }
            Event::GatewayFetchFailed { retry_in } => warn!(
                "{}: GET /gateway/bot failed; retrying in {:.1}s",
                self.base.name,
                retry_in.as_secs_f64()
            ),
            Event::SessionStartLimited { retry_in } => warn!(
                "{}: the daily identify budget is used up; waiting {:.0}s",
                self.base.name,
                retry_in.as_secs_f64()
            ),
            other => debug!("{}: {other:?}", self.base.name),
        }
    }

    /// The shard whose `GET /gateway/bot` is request `id`.
    fn fetching(&mut self, id: RequestId) -> Option<&mut ShardSlot> {
        self.shards
            .iter_mut()
            .find(|slot| slot.gateway_fetch == Some(id))
    }

    fn handle_dispatch(&mut self, now: Instant, dispatch: Dispatch) {
        match dispatch {
            Dispatch::MessageCreate(message) => self.handle_message(now, *message),
            Dispatch::InteractionCreate(interaction) => self.handle_interaction(now, &interaction),
            Dispatch::MessageReactionAdd(reaction) => self.handle_reaction(now, *reaction),
            Dispatch::MessageReactionRemove(reaction) => debug!(
                "{}: reaction removed from {} in {} (ignored)",
                self.base.name, reaction.message_id, reaction.channel_id
            ),
            Dispatch::GuildCreate(guild) => self.learn_guild(now, *guild),
            Dispatch::ChannelCreate(channel) | Dispatch::ThreadCreate(channel) => {
                self.learn_channel(&channel)
            }
            other => debug!("{}: {} ignored", self.base.name, other.name()),
        }
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
