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
//!
//! | module | owns |
//! |---|---|
//! | this one | the loop's own state (the account's common part is [`AccountLoop`]), the session's outputs and events |
//! | [`channel_loop`] | what `run_loop` asks of the loop ([`ChannelLoop`]), REST events |
//! | [`messages`] | GROUP/PERSON messages → history, access, commands, journaled turns |
//! | [`delivery`] | a turn's reply and files mapped onto KOOK messages |

mod channel_loop;
mod delivery;
mod messages;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Instant;

use krill_core::access::{
    AccessPolicy, Author, ChatKind, InboundMessage, Place, ResolvedAllowlists,
};
use krill_core::agent::{ChannelKind, ChatType, ContextMessage};
use krill_core::config::{Config, KookSettings, Platform, ResolvedAccount};
use krill_core::kook::{
    Event, GatewayFetchError, Message, Output, ResumeState, Session, SessionConfig, State,
};
use krill_core::pipeline::{
    answer_chunks, build_turn, plan_inbound, InboundAction, MessageFacts, MessageLine, PlannedTurn,
    ReplyShape, TurnSource,
};
use krill_core::reply::{ChunkLimits, MentionPolicy, OutboundChunk};
use krill_core::rest::kook::{
    DirectMessageCreate, DmTarget, MessageCreate, Request as KookRequest,
};
use krill_core::rest::{RequestId, Response, RestError, RestEvent};
use krill_core::routing::chat_label;
use smol::channel::{Receiver, Sender};
use tracing::{debug, error, info, warn};

use super::account::{AccountLoop, AccountSetup, RecoveredTurn};
use super::acks::AckTarget;
use super::commands::{execute, CommandSite, Executed};
use super::durable::{Outgoing, ReplyMessage, TEXT};
use super::inbound::{log_decision, pairing_reply, shape_outcome};
use super::link::RestLink;
use super::media::{submit_turn_with_media, MediaDelivery, MediaTurn};
use super::socket::{feed, Socket};
use super::status::Health;
use super::{run_loop, user_agent, ChannelEnd, ChannelLoop, Input, Shared, TurnCtx};
use crate::agent::TurnOutcome;
use crate::media::outbound::read_recorded;
use crate::pairing_store::random_seed;
use crate::store::resume::SavedSession;
use crate::ws::redact_url;
use krill_core::durable::kook_check::LIST_PAGE_SIZE;
use krill_core::durable::{JournaledTurn, ListedMessage, SendKind, UPLOAD};
use krill_core::kook::Body;
use krill_core::media::{kook_media, plan_kook_delivery, KookSend};
use krill_core::rest::kook::{MediaMessageCreate, MediaTarget};

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
    let channel = KookLoop::new(index, name, account, settings, shared, inbox);
    run_loop(channel, input).await
}

/// The account's chunk limits (`textChunkLimit`, `maxLinesPerMessage`,
/// `chunkMode`).
fn chunk_limits(settings: &KookSettings) -> ChunkLimits {
    ChunkLimits::kook(
        Some(settings.text_chunk_limit as usize),
        settings.max_lines_per_message.map(|n| n as usize),
        settings.chunk_mode,
    )
}

struct KookLoop {
    /// What every platform's loop holds for its account.
    base: AccountLoop,
    settings: KookSettings,
    session: Session,
    socket: Option<Socket>,
    gateway_fetch: Option<RequestId>,
    /// The pending `GET /user/me` (the bot's id).
    user_me: Option<RequestId>,
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
        let setup = AccountSetup {
            rest: (&settings.api_base_url, settings.retry),
            names: ResolvedAllowlists::default(),
            limits: chunk_limits(&settings),
            history_limit: settings.history_limit,
            media_max_mb: settings.media_max_mb,
            note_format: quiet_kmarkdown,
        };
        let mut base = AccountLoop::new(index, name, account, shared, inbox, seed, setup);
        let mut session = Session::new(SessionConfig::new(settings.compress), seed);
        if let Some(saved) = base.durable.saved_session(0) {
            info!("{}: resuming the saved session", base.name);
            session.restore(ResumeState {
                session_id: saved.session_id,
                sn: saved.seq.unwrap_or(0),
            });
        }
        Self {
            base,
            settings,
            session,
            socket: None,
            gateway_fetch: None,
            user_me: None,
        }
    }

    /// Runs again the turns the last process accepted but never answered
    /// (their reply recorded in the transcript is reused, not asked again).
    fn recover_turns(&mut self, now: Instant) {
        for recovered in self.base.recover_turns() {
            match recovered {
                RecoveredTurn::Answered(ctx, outcome) => self.handle_outcome(now, ctx, outcome),
                RecoveredTurn::Unanswered(ctx, turn) => self.base.shared.agents.submit(turn, ctx),
            }
        }
    }

    fn handle_output(&mut self, now: Instant, output: Output) {
        match output {
            Output::FetchGateway { compress } => {
                self.gateway_fetch = self
                    .base
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
                self.base.next_conn += 1;
                info!(
                    "{}: connecting to {}",
                    self.base.name,
                    redact_url(url.expose())
                );
                self.socket = Some(Socket::open(
                    url.expose().to_owned(),
                    user_agent(),
                    self.base.next_conn,
                    self.base.inbox.clone(),
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
                self.base.name,
                session_id.as_deref().unwrap_or("?"),
                if resumed { ", resuming" } else { "" }
            ),
            Event::Message { message, .. } => self.handle_message(now, *message),
            Event::ResumeAck { .. } => {
                info!("{}: resumed; missed events delivered", self.base.name)
            }
            Event::GapSkipped { from, to } => warn!(
                "{}: events sn {from}..={to} never arrived; going on without them",
                self.base.name
            ),
            Event::Reconnect { code, err } => info!(
                "{}: the server asked to reconnect (code {code:?}, {}); starting a new session",
                self.base.name,
                err.as_deref().unwrap_or("")
            ),
            Event::ResumeFailed { .. } => {
                info!("{}: resume failed; starting a new session", self.base.name)
            }
            Event::HelloRejected { error, .. } => warn!("{}: {error}", self.base.name),
            Event::Fatal { reason } => {
                error!("{}: {reason}", self.base.name);
                self.base.stopped = Some(reason.to_string());
            }
            Event::MalformedFrame { error } => {
                warn!(
                    "{}: malformed gateway frame ignored: {error}",
                    self.base.name
                )
            }
            other => debug!("{}: {other:?}", self.base.name),
        }
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
