//! [`ChannelLoop`] for the KOOK loop: what `run_loop` asks of it (start,
//! inputs, timeouts, the session's outputs, the outbox pump, saving the
//! session, reload, shutdown and the health report).

use super::*;
use crate::gateway::deliveries::DeliveryShape;

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
            Input::Deliver(request) => {
                let shape = DeliveryShape {
                    platform: Platform::Kook,
                    limits: &self.limits,
                    file_limits: self.media.file_limits(),
                    mentions: self.settings.allowed_mentions,
                };
                self.deliveries
                    .deliver(now, &mut self.link, &shape, request);
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
