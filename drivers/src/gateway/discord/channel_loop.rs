//! [`ChannelLoop`] for the Discord loop: what `run_loop` asks of it (start,
//! inputs, timeouts, the shard's outputs, the outbox pump, saving sessions,
//! reload, shutdown and the health report).

use super::*;

impl ChannelLoop for DiscordLoop {
    fn base(&self) -> &AccountLoop {
        &self.base
    }

    fn base_mut(&mut self) -> &mut AccountLoop {
        &mut self.base
    }

    fn start(&mut self, now: Instant) {
        for slot in &mut self.shards {
            slot.shard.start(now);
        }
        let media = &self.base.media;
        self.base
            .durable
            .recover_outbox(false, |file| read_recorded(media, file));
        self.recover_turns(now);
    }

    fn pump_outbox(&mut self, now: Instant) {
        let (link, name) = (&mut self.base.link, &self.base.name);
        let scope = self.settings.allowed_mentions;
        self.base.durable.pump(now, |kind, out| {
            send_outgoing(link, name, scope, now, kind, out)
        });
        self.base.finish_replies(now);
    }

    fn save_sessions(&mut self) {
        for slot in &self.shards {
            let saved = slot.shard.resume_state().map(|state| SavedSession {
                session_id: state.session_id,
                resume_url: state.resume_gateway_url,
                seq: state.seq,
            });
            self.base
                .durable
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

    fn on_rest_event(&mut self, now: Instant, event: RestEvent) {
        let event = match event {
            RestEvent::Completed { id, response } => {
                let posted = match &response {
                    Response::DiscordMessage(m) => Some((m.id.clone(), m.channel_id.clone())),
                    _ => None,
                };
                if self
                    .tool_calls
                    .on_outcome(now, &mut self.base.link, id, Ok(response.clone()))
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
                    .on_outcome(now, &mut self.base.link, id, Err(error.clone()))
                {
                    self.base.stop_if_halted();
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
                } else if let Some(added) = self.lookup.answered(&self.base.name, id, Ok(&response))
                {
                    if added {
                        self.rebuild_policy();
                    }
                } else if let Response::DiscordMessage(posted) = &response {
                    self.base.replies_out += 1;
                    self.remember_bot_message(now, &posted.id, &posted.channel_id);
                    self.base.durable.completed(id, Some(&posted.id));
                } else if self.commands_fetch == Some(id) {
                    self.commands_fetch = None;
                    if let Response::DiscordCommands(registered) = &response {
                        self.commands_fetched(now, registered);
                    }
                } else {
                    self.base.durable.completed(id, None);
                }
                self.base.finish(now, id);
            }
            RestEvent::Failed { id, error } => {
                let name = self.base.name.clone();
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
                } else {
                    if self.commands_fetch == Some(id) {
                        self.commands_fetch = None;
                    }
                    warn!("{name}: request failed: {error}");
                }
                self.base.finish(now, id);
            }
            _ => {}
        }
        self.base.stop_if_halted();
    }

    fn shut_down(&mut self, now: Instant) {
        // A stop the shard did not decide (the REST token check): end the
        // session properly instead of just dropping TCP.
        for slot in &mut self.shards {
            slot.shard.shutdown(now);
            // Closed with 1000: the session is over, nothing to resume.
            self.base
                .durable
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
            self.base.deadline(),
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
                        &self.base.name,
                        now,
                        conn,
                        event,
                    );
                }
            }
            Input::Http { id, result } => self.base.link.handle(now, id, result),
            Input::Agent { ctx, outcome } => self.handle_outcome(now, ctx, *outcome),
            Input::Media { ctx, delivery } => self.deliver_media(now, ctx, delivery),
            Input::Deliver(request) => {
                let mentions = self.settings.allowed_mentions;
                self.base.deliver(now, request, mentions);
            }
            // `run_loop` hands these to `suspend` / `reload` / `request_stop`.
            Input::Drain | Input::Reload { .. } | Input::Stop { .. } => {}
            Input::Tool(call) => {
                let facts = KnownChannels(&self.channels);
                self.tool_calls
                    .start(now, &mut self.base.link, &facts, call);
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
        let limits = chunk_limits(&settings);
        self.base
            .reconfigure(config, account, limits, settings.media_max_mb);
        self.settings = settings;
        let unresolved = self.rebuild_policy();
        let guilds: Vec<String> = self.guilds.keys().cloned().collect();
        for guild_id in guilds {
            self.lookup
                .search(now, &mut self.base.link, &guild_id, &unresolved);
        }
        info!("{}: config reloaded", self.base.name);
        self.sync_commands(now);
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
        health.messages_in = self.base.messages_in;
        health.replies_out = self.base.replies_out;
        health.content_seen = self.content_seen;
        health.notices = self
            .lookup
            .refusal()
            .map(str::to_owned)
            .into_iter()
            .collect();
    }
}
