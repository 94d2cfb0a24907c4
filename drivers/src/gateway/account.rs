//! [`AccountLoop`]: what every channel loop holds for its bot account,
//! whatever the platform (the REST link, the access policy, pairing, guild
//! context, acks, the durable journal and outbox, media settings, counts),
//! and what both loops do with it the same way: recover the turns the last
//! process left unanswered, journal a turn's message, add and remove its
//! ack reaction, record replies in the outbox (`super::media`) and start
//! `krill message send` deliveries. Each platform's loop keeps only
//! its own machines and settings beside it.

use std::sync::Arc;
use std::time::Instant;

use krill_core::access::{AccessPolicy, ResolvedAllowlists};
use krill_core::agent::{ChannelHistories, TurnInput};
use krill_core::config::{Config, ResolvedAccount};
use krill_core::durable::{Admission, JournaledTurn};
use krill_core::reply::{ChunkLimits, MentionScope};
use krill_core::rest::{Api, Planner, Request, RequestId, RestEvent, RetryPolicy};
use smol::channel::Sender;
use tracing::{debug, info, warn};

use super::acks::{AckTarget, AckTracker};
use super::deliveries::DeliverRequest;
use super::deliveries::{Deliveries, DeliveryShape};
use super::durable::Durable;
use super::link::RestLink;
use super::{recorded_outcome, Input, Shared, TurnCtx};
use crate::agent::TurnOutcome;
use crate::media::MediaSettings;
use crate::pairing_store::{AllowFromWatcher, PairingStore};

/// Channels whose guild context is kept at most.
const MAX_HISTORY_CHANNELS: usize = 512;

/// What one bot account's channel loop holds on every platform.
pub(crate) struct AccountLoop {
    /// The loop's index among the gateway's loops.
    pub(crate) index: usize,
    /// `discord:<account>` / `kook:<account>`, for logs.
    pub(crate) name: String,
    pub(crate) account: ResolvedAccount,
    pub(crate) shared: Shared,
    /// The loop's own inbox (tasks it starts answer there).
    pub(crate) inbox: Sender<Input>,
    /// The planner of the account's API and its requests in flight.
    pub(crate) link: RestLink,
    /// The id of the last gateway connection opened.
    pub(crate) next_conn: u64,
    /// The bot's user id, once the platform said it.
    pub(crate) bot_id: String,
    pub(crate) policy: AccessPolicy,
    pub(crate) pairing: PairingStore,
    pub(crate) approved: AllowFromWatcher,
    /// Guild context lines per channel (`historyLimit`).
    pub(crate) histories: ChannelHistories,
    pub(crate) acks: AckTracker,
    pub(crate) messages_in: u64,
    pub(crate) replies_out: u64,
    /// The platform's chunk limits with the account's settings.
    pub(crate) limits: ChunkLimits,
    /// Where media goes and how large it may be.
    pub(crate) media: MediaSettings,
    /// `krill message send` deliveries in progress.
    pub(crate) deliveries: Deliveries,
    /// Why the loop must stop, once it must.
    pub(crate) stopped: Option<String>,
    /// Sessions saved, journal, outbox.
    pub(crate) durable: Durable,
}

/// What a platform's settings give an [`AccountLoop`].
pub(crate) struct AccountSetup<'a> {
    /// `apiBaseUrl` and the REST retry policy.
    pub(crate) rest: (&'a str, RetryPolicy),
    /// Allowlist names resolved to ids (Discord; KOOK has none).
    pub(crate) names: ResolvedAllowlists,
    pub(crate) limits: ChunkLimits,
    /// `historyLimit`.
    pub(crate) history_limit: u32,
    /// `mediaMaxMb`.
    pub(crate) media_max_mb: f64,
    /// How a note the outbox adds (a file that could not be sent) is
    /// written on the platform.
    pub(crate) note_format: fn(&str) -> String,
}

/// The message of a turn is in the journal already (a replayed event).
#[derive(Debug)]
pub(crate) struct AlreadyJournaled;

/// A turn the last process journaled but did not answer.
pub(crate) enum RecoveredTurn {
    /// Its reply is in the transcript: send it, do not ask again.
    Answered(TurnCtx, TurnOutcome),
    /// Never answered: the loop submits it to the agents again.
    Unanswered(TurnCtx, TurnInput),
}

impl AccountLoop {
    /// Builds the account's parts (logs as `name`; the access policy's
    /// start-up warnings are logged here).
    pub(crate) fn new(
        index: usize,
        name: String,
        account: ResolvedAccount,
        shared: Shared,
        inbox: Sender<Input>,
        seed: u64,
        setup: AccountSetup<'_>,
    ) -> Self {
        let (api_base_url, retry) = setup.rest;
        let api = Api::new(account.platform, api_base_url, account.token.clone());
        let planner = Planner::new(api, retry, seed.rotate_left(17));
        let policy = AccessPolicy::new(&shared.config, &account, setup.names);
        for warning in policy.startup_warnings() {
            warn!("{name}: {warning}");
        }
        let pairing = PairingStore::new(
            crate::paths::credentials_dir(&shared.state_dir),
            account.platform,
        );
        let approved = AllowFromWatcher::new(&pairing);
        let durable = Durable::new(
            &name,
            account.platform,
            &account.account_id,
            shared.store.clone(),
            setup.note_format,
        );
        let media = MediaSettings::new(
            &shared.config,
            &shared.state_dir,
            account.platform,
            setup.media_max_mb,
        );
        let history_cap = (setup.history_limit as usize).max(1);
        Self {
            index,
            name,
            link: RestLink::new(planner, inbox.clone()),
            account,
            shared,
            inbox,
            next_conn: 0,
            bot_id: String::new(),
            policy,
            pairing,
            approved,
            histories: ChannelHistories::new(history_cap, MAX_HISTORY_CHANNELS),
            acks: AckTracker::default(),
            messages_in: 0,
            replies_out: 0,
            limits: setup.limits,
            media,
            deliveries: Deliveries::default(),
            stopped: None,
            durable,
        }
    }

    /// Takes a reloaded config for the account (same connection): its chunk
    /// `limits` and `mediaMaxMb` as the platform's settings give them.
    pub(crate) fn reconfigure(
        &mut self,
        config: Arc<Config>,
        account: ResolvedAccount,
        limits: ChunkLimits,
        media_max_mb: f64,
    ) {
        self.limits = limits;
        self.media = MediaSettings::new(
            &config,
            &self.shared.state_dir,
            account.platform,
            media_max_mb,
        );
        self.shared.config = config;
        self.account = account;
    }

    /// The turns the last process accepted but never answered, each
    /// counted as running: those whose reply the transcript already
    /// records come back with it (the agent is not asked twice).
    pub(crate) fn recover_turns(&mut self) -> Vec<RecoveredTurn> {
        let platform = self.account.platform;
        let mut recovered = Vec::new();
        for (id, journaled) in self.durable.recovered_turns() {
            let ctx = TurnCtx::recovered(
                self.index,
                platform,
                &self.account.account_id,
                id,
                &journaled,
            );
            self.durable.turn_started();
            recovered.push(match recorded_outcome(&self.shared, &journaled.turn) {
                Some(outcome) => RecoveredTurn::Answered(ctx, outcome),
                None => {
                    info!(
                        "{}: running again the unanswered turn for message {}",
                        self.name, journaled.turn.message_id
                    );
                    RecoveredTurn::Unanswered(ctx, journaled.turn)
                }
            });
        }
        recovered
    }

    /// Journals a planned turn's message before its turn runs: its journal
    /// row, `None` when the journal failed (the turn runs unjournaled:
    /// answering matters more than exactly once), [`AlreadyJournaled`] for
    /// a replayed event (the turn must not run again).
    pub(crate) fn journal_turn(
        &mut self,
        journaled: &JournaledTurn,
    ) -> Result<Option<i64>, AlreadyJournaled> {
        let message_id = &journaled.turn.message_id;
        match self.durable.admit(message_id, journaled) {
            Admission::Run { id } => Ok(Some(id)),
            Admission::AlreadyJournaled => {
                debug!("{}: message {message_id} was already handled", self.name);
                Err(AlreadyJournaled)
            }
            _ => Ok(None),
        }
    }

    /// Adds a turn's ack reaction through `request`, tracked so that it
    /// can be removed after the reply.
    pub(crate) fn add_ack(&mut self, now: Instant, request: impl Into<Request>, target: AckTarget) {
        if let Some(add) = self.link.submit(now, request) {
            self.acks.adding(add, target);
        }
    }

    /// Removes an ack reaction.
    pub(crate) fn remove_ack(&mut self, now: Instant, ack: AckTarget) {
        let request = ack.removal(self.account.platform);
        self.link.submit(now, request);
    }

    /// Removes the ack of `ctx`'s message once `reply` is delivered (at
    /// once when there is nothing to send), when configured.
    pub(crate) fn ack_after_reply(&mut self, now: Instant, ctx: TurnCtx, reply: Option<i64>) {
        let remove = self.shared.config.messages.remove_ack_after_reply;
        if let Some(ack) = self.acks.after_turn(remove, ctx, reply) {
            self.remove_ack(now, ack);
        }
    }

    /// Request `id` finished: removes the ack that waited for it, and
    /// those whose replies are now delivered.
    pub(crate) fn finish(&mut self, now: Instant, id: RequestId) {
        if let Some(ack) = self.acks.finished(id) {
            self.remove_ack(now, ack);
        }
        self.finish_replies(now);
    }

    /// Removes the acks of replies that are now delivered.
    pub(crate) fn finish_replies(&mut self, now: Instant) {
        for reply in self.durable.take_finished() {
            if let Some(ack) = self.acks.reply_delivered(reply) {
                self.remove_ack(now, ack);
            }
        }
    }

    /// Starts a `krill message send` delivery (`mentions`: the account's
    /// `allowedMentions`).
    pub(crate) fn deliver(
        &mut self,
        now: Instant,
        request: DeliverRequest,
        mentions: MentionScope,
    ) {
        let shape = DeliveryShape {
            platform: self.account.platform,
            limits: &self.limits,
            file_limits: self.media.file_limits(),
            mentions,
        };
        self.deliveries
            .deliver(now, &mut self.link, &shape, request);
    }

    /// Takes what every loop does the same with a REST event: a delivery's
    /// events, an outbox message's failure, retries (logged). `None` when
    /// it took the event; otherwise the loop handles it.
    pub(crate) fn rest_event(&mut self, now: Instant, event: RestEvent) -> Option<RestEvent> {
        match self.deliveries.handle(now, &mut self.link, event)? {
            RestEvent::Failed { id, error } if self.durable.owns(id) => {
                self.durable.failed(now, id, &error);
                self.finish(now, id);
                self.stop_if_halted();
                None
            }
            RestEvent::Retrying { id, at, reason } => {
                debug!(
                    "{}: request {id:?} retried in {:.1}s: {reason:?}",
                    self.name,
                    at.saturating_duration_since(now).as_secs_f64()
                );
                None
            }
            other => Some(other),
        }
    }

    /// Stops the loop once the REST link halted on a rejected token (401).
    pub(crate) fn stop_if_halted(&mut self) {
        if self.link.is_halted() && self.stopped.is_none() {
            let hint = self.account.platform.token_hint();
            self.stopped = Some(format!("token rejected (HTTP 401): check {hint}"));
        }
    }

    /// The earliest deadline of the REST link and the outbox.
    pub(crate) fn deadline(&self) -> Option<Instant> {
        match (self.link.poll_timeout(), self.durable.deadline()) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }
}
