//! [`ChannelLoop`] for the KOOK loop: what `run_loop` asks of it (start,
//! inputs, timeouts, the session's outputs, the outbox pump, saving the
//! session, reload, shutdown and the health report).

use super::*;

impl ChannelLoop for KookLoop {
    fn base(&self) -> &AccountLoop {
        &self.base
    }

    fn base_mut(&mut self) -> &mut AccountLoop {
        &mut self.base
    }

    fn start(&mut self, now: Instant) {
        self.user_me = self.base.link.submit(now, KookRequest::UserMe);
        self.session.start(now);
        // KOOK does not deduplicate by nonce: look for each recovered
        // message in its chat before sending it again.
        let media = &self.base.media;
        self.base
            .durable
            .recover_outbox(true, |file| read_recorded(media, file));
        self.recover_turns(now);
    }

    fn pump_outbox(&mut self, now: Instant) {
        // The check needs the bot's id (from `GET /user/me`) first.
        if self.base.bot_id.is_empty() && self.user_me.is_some() {
            return;
        }
        let (link, name) = (&mut self.base.link, &self.base.name);
        self.base
            .durable
            .pump(now, |kind, out| send_outgoing(link, name, now, kind, out));
        self.base.finish_replies(now);
    }

    fn save_sessions(&mut self) {
        let saved = self.session.resume_state().map(|state| SavedSession {
            session_id: state.session_id,
            resume_url: None,
            seq: Some(state.sn),
        });
        self.base.durable.save_session(0, saved);
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

    fn step_machine(&mut self, now: Instant) -> bool {
        match self.session.poll_output() {
            Some(output) => {
                self.handle_output(now, output);
                true
            }
            None => false,
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
                        info!(
                            "{}: bot user {} ({})",
                            self.base.name, user.username, user.id
                        );
                        self.base.bot_id = user.id;
                    }
                } else if let Response::KookAsset(asset) = &response {
                    let (link, name) = (&mut self.base.link, &self.base.name);
                    self.base.durable.asset_created(now, id, &asset.url, |out| {
                        send_outgoing(link, name, now, SendKind::Send, out)
                    });
                } else if let Response::KookMessage(posted) = &response {
                    self.base.replies_out += 1;
                    self.base.durable.completed(id, Some(&posted.msg_id));
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
                    self.base.durable.verified(id, &listed, &self.base.bot_id);
                } else {
                    self.base.durable.completed(id, None);
                }
                self.base.finish(now, id);
            }
            RestEvent::Failed { id, error } => {
                if self.gateway_fetch == Some(id) {
                    self.gateway_fetch = None;
                    warn!("{}: GET /gateway/index failed: {error}", self.base.name);
                    let fetch_error = match error {
                        RestError::Unauthorized { .. } => GatewayFetchError::Unauthorized {
                            detail: error.to_string(),
                        },
                        other => GatewayFetchError::Transient {
                            detail: other.to_string(),
                        },
                    };
                    self.session.handle_gateway_fetched(now, Err(fetch_error));
                } else {
                    if self.user_me == Some(id) {
                        self.user_me = None;
                    }
                    warn!("{}: request failed: {error}", self.base.name);
                }
                self.base.finish(now, id);
            }
            _ => {}
        }
        self.base.stop_if_halted();
    }

    fn shut_down(&mut self, now: Instant) {
        self.session.stop(now);
        if let Some(socket) = self.socket.take() {
            socket.close(1000);
        }
    }

    fn deadline(&self) -> Option<Instant> {
        [self.session.poll_timeout(), self.base.deadline()]
            .into_iter()
            .flatten()
            .min()
    }

    fn handle_input(&mut self, now: Instant, input: Input) {
        match input {
            Input::Socket { conn, event } => feed(
                &mut self.session,
                &mut self.socket,
                &self.base.name,
                now,
                conn,
                event,
            ),
            Input::Http { id, result } => self.base.link.handle(now, id, result),
            Input::Agent { ctx, outcome } => self.handle_outcome(now, ctx, *outcome),
            Input::Media { ctx, delivery } => self.deliver_media(now, ctx, delivery),
            Input::Deliver(request) => {
                let mentions = self.settings.allowed_mentions;
                self.base.deliver(now, request, mentions);
            }
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
        let limits = chunk_limits(&settings);
        self.base
            .reconfigure(config, account, limits, settings.media_max_mb);
        self.base.policy = AccessPolicy::new(
            &self.base.shared.config,
            &self.base.account,
            ResolvedAllowlists::default(),
        );
        self.settings = settings;
        info!("{}: config reloaded", self.base.name);
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
        health.messages_in = self.base.messages_in;
        health.replies_out = self.base.replies_out;
    }
}
