//! [`ChannelLoop`] for the Discord loop: what `run_loop` asks of it (start,
//! inputs, timeouts, the shard's outputs, the outbox pump, saving sessions,
//! reload, shutdown and the health report).

use super::*;
use crate::gateway::deliveries::DeliveryShape;

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
            Input::Deliver(request) => {
                let shape = DeliveryShape {
                    platform: Platform::Discord,
                    limits: &self.limits,
                    file_limits: self.media.file_limits(),
                    mentions: self.settings.allowed_mentions,
                };
                self.deliveries
                    .deliver(now, &mut self.link, &shape, request);
            }
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
