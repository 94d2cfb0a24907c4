//! The KOOK session's transitions: `Session::step`, the one `match` over
//! state and input the lifecycle table in the [module docs](super) describes,
//! and the steps it takes (fetch, dial, HELLO, in-order dispatch, PING/PONG
//! probes, resume or restart, back off, stop).

use super::*;

impl Session {
    // ----- the state machine -----

    /// Every transition, in one place.
    pub(super) fn step(&mut self, now: Instant, input: Input) {
        use Phase as P;
        match (self.phase, input) {
            (P::Idle, Input::Start) if self.restored => {
                self.restored = false;
                self.token_rejections = 0;
                self.gateway_backoff.reset();
                self.fetch_gateway();
            }
            (P::Idle | P::Stopped, Input::Start) => {
                self.discard_session();
                self.token_rejections = 0;
                self.gateway_backoff.reset();
                self.fetch_gateway();
            }
            (P::Idle | P::Stopped, _) | (_, Input::Start) => {}
            (_, Input::Stop) => self.stop_now(),

            // 1. Fetch the gateway; backoff 1, 2, 4 … 60 s, forever.
            (P::FetchingGateway, Input::GatewayFetched(Ok(url))) => {
                self.gateway_url = Some(url);
                // Only a restored session is still set here: every other
                // path to step 1 forgets the session.
                match self.session_id {
                    Some(_) => self.dial(Dial::Resume { attempt: 1 }),
                    None => self.dial(Dial::Fresh { retries: 0 }),
                }
            }
            (
                P::FetchingGateway,
                Input::GatewayFetched(Err(GatewayFetchError::Unauthorized { detail })),
            ) => self.fatal(FatalReason::TokenRejected { detail }),
            (P::FetchingGateway, Input::GatewayFetched(Err(_))) => self.back_to_gateway(now),
            (P::BackingOff(Next::FetchGateway), Input::Timer(Timer::Backoff)) => {
                self.fetch_gateway()
            }

            // 2. Connect; a fresh dial is retried twice, then step 1.
            (P::BackingOff(Next::Dial(dial)), Input::Timer(Timer::Backoff)) => self.dial(dial),
            (P::Connecting(dial), Input::Connected) => {
                self.phase = P::AwaitingHello(dial);
                self.timers.set(Timer::Hello, now + HELLO_TIMEOUT);
            }
            (P::Connecting(dial), Input::ConnectFailed) => self.dial_failed(now, dial),

            // 3. HELLO within 6 s.
            (P::AwaitingHello(dial), Input::Signal(Signal::Hello { code, session_id }, _)) => {
                self.hello(now, dial, code, session_id)
            }
            (P::AwaitingHello(dial), Input::Timer(Timer::Hello)) => {
                self.close();
                self.hello_failed(now, dial);
            }
            (P::AwaitingHello(dial), Input::Closed) => self.hello_failed(now, dial),

            // 4. Live: events in sn order, PING/PONG.
            (P::Live { .. }, Input::Signal(Signal::Event { sn, data }, size)) => {
                self.dispatch(now, sn, data, size)
            }
            (P::Live { .. }, Input::Signal(Signal::Pong, _)) => self.pong(now),
            (P::Live { .. }, Input::Timer(Timer::Ping)) => self.ping(now),
            (P::Live { resuming }, Input::Timer(Timer::Pong)) => self.pong_overdue(now, resuming),
            (P::Live { .. }, Input::Timer(Timer::Gap)) => {
                self.buffer.release_all();
                self.drain_buffer();
            }

            // 5-6. Resume: a lost live connection resumes; s=6 ends the replay.
            (P::Live { resuming }, Input::Closed) => self.resume_or_restart(now, resuming),
            (P::Live { resuming }, Input::Signal(Signal::ResumeAck { session_id }, _)) => {
                if resuming.is_some() {
                    self.phase = P::Live { resuming: None };
                    self.gateway_backoff.reset();
                }
                self.emit(Event::ResumeAck { session_id });
            }

            // 7. RECONNECT at any time: clear everything, step 1.
            (
                P::AwaitingHello(_) | P::Live { .. },
                Input::Signal(Signal::Reconnect { code, err }, _),
            ) => {
                self.emit(Event::Reconnect { code, err });
                self.close();
                self.restart_as_told(now);
            }

            // Unknown signals and unreadable frames are reported; the session
            // goes on.
            (
                P::AwaitingHello(_) | P::Live { .. },
                Input::Signal(Signal::Unknown { s, frame }, _),
            ) => self.emit(Event::UnknownSignal { s, frame }),
            (P::AwaitingHello(_) | P::Live { .. }, Input::Malformed(error)) => {
                self.emit(Event::MalformedFrame { error })
            }

            // Anything else is stale or out of place (a frame from a dropped
            // socket, an event before HELLO, a client-only signal, a second
            // HELLO, an expired timer of an earlier phase): ignored.
            _ => {}
        }
    }

    pub(super) fn fetch_gateway(&mut self) {
        self.phase = Phase::FetchingGateway;
        self.outputs.push_back(Output::FetchGateway {
            compress: self.config.compress,
        });
    }

    pub(super) fn dial(&mut self, dial: Dial) {
        let url = match (&self.gateway_url, &self.session_id, dial) {
            (Some(base), _, Dial::Fresh { .. }) => base.clone(),
            (Some(base), Some(id), Dial::Resume { .. }) => resume_url(base, self.last_sn(), id),
            // A resume needs a URL and a session; every path that clears
            // them goes through step 1, so this only guards the invariant.
            _ => {
                self.discard_session();
                self.fetch_gateway();
                return;
            }
        };
        self.phase = Phase::Connecting(dial);
        self.outputs.push_back(Output::Connect { url });
    }

    pub(super) fn dial_failed(&mut self, now: Instant, dial: Dial) {
        match dial {
            Dial::Fresh { retries } => match CONNECT_RETRY_DELAYS.get(usize::from(retries)) {
                Some(&delay) => self.back_off(
                    now,
                    Next::Dial(Dial::Fresh {
                        retries: retries.saturating_add(1),
                    }),
                    delay,
                ),
                None => self.back_to_gateway(now),
            },
            Dial::Resume { attempt } => self.resume_or_restart(now, Some(attempt)),
        }
    }

    /// HELLO did not come (timeout or closed socket).
    pub(super) fn hello_failed(&mut self, now: Instant, dial: Dial) {
        match dial {
            Dial::Fresh { .. } => self.back_to_gateway(now),
            Dial::Resume { attempt } => self.resume_or_restart(now, Some(attempt)),
        }
    }

    pub(super) fn hello(
        &mut self,
        now: Instant,
        dial: Dial,
        code: i64,
        session_id: Option<String>,
    ) {
        self.timers.clear(Timer::Hello);
        if code != 0 {
            let error = HelloError::from_code(code);
            if error.is_token_rejection() {
                self.token_rejections = self.token_rejections.saturating_add(1);
            }
            self.emit(Event::HelloRejected {
                error,
                consecutive_token_rejections: self.token_rejections,
            });
            self.close();
            if matches!(dial, Dial::Resume { .. }) {
                self.abandon_session();
            }
            self.back_to_gateway(now);
            return;
        }
        self.token_rejections = 0;
        self.hello_at = Some(now);
        let resume_attempt = match dial {
            Dial::Resume { attempt }
                if self.session_id.is_some()
                    && (session_id.is_none() || session_id == self.session_id) =>
            {
                Some(attempt)
            }
            _ => None,
        };
        if let Some(attempt) = resume_attempt {
            self.phase = Phase::Live {
                resuming: Some(attempt),
            };
            self.send(frame::resume_frame(self.last_sn()));
            if self.buffer.is_holding() {
                self.timers.set(Timer::Gap, now + GAP_TIMEOUT);
            }
        } else {
            if matches!(dial, Dial::Resume { .. }) {
                self.abandon_session();
            }
            self.discard_session();
            self.session_id = session_id;
            self.phase = Phase::Live { resuming: None };
        }
        self.emit(Event::Hello {
            session_id: self.session_id.clone(),
            resumed: resume_attempt.is_some(),
        });
        self.pong = PongWait::None;
        self.schedule_ping(now);
    }

    pub(super) fn dispatch(&mut self, now: Instant, sn: u64, data: Value, size: usize) {
        self.last_event_at = Some(now);
        if self.buffer.is_duplicate(sn) {
            return;
        }
        let before = self.buffer.last_delivered();
        self.buffer.offer(sn, size, EventBody::parse(data));
        self.drain_buffer();
        // The gap timer runs while something is held (`drain_buffer` clears
        // it otherwise) and restarts whenever the in-order sn moves.
        let moved = self.buffer.last_delivered() != before;
        if self.buffer.is_holding() && (moved || !self.timers.is_set(Timer::Gap)) {
            self.timers.set(Timer::Gap, now + GAP_TIMEOUT);
        }
    }

    pub(super) fn drain_buffer(&mut self) {
        while let Some(release) = self.buffer.pop() {
            let event = match release {
                Release::Deliver { sn, item } => match item {
                    EventBody::Message(message) => Event::Message { sn, message },
                    EventBody::System(event) => Event::System { sn, event },
                    EventBody::Unknown(event) => Event::UnknownEvent { sn, event },
                },
                Release::Gap { from, to } => Event::GapSkipped { from, to },
            };
            self.emit(event);
        }
        if !self.buffer.is_holding() {
            self.timers.clear(Timer::Gap);
        }
    }

    pub(super) fn schedule_ping(&mut self, now: Instant) {
        let period = self.jitter.around(PING_INTERVAL, PING_JITTER);
        self.timers.set(Timer::Ping, now + period);
    }

    pub(super) fn ping(&mut self, now: Instant) {
        self.send(frame::ping_frame(self.last_sn()));
        if self.pong == PongWait::None {
            self.pong = PongWait::Waiting { probes: 0 };
            self.timers.set(Timer::Pong, now + PONG_TIMEOUT);
        }
        self.schedule_ping(now);
    }

    pub(super) fn pong(&mut self, now: Instant) {
        self.last_pong_at = Some(now);
        self.pong = PongWait::None;
        self.timers.clear(Timer::Pong);
        self.gateway_backoff.reset();
    }

    pub(super) fn pong_overdue(&mut self, now: Instant, resuming: Option<u8>) {
        let PongWait::Waiting { probes } = self.pong else {
            return;
        };
        match PONG_PROBE_WAITS.get(usize::from(probes)) {
            Some(&wait) => {
                self.send(frame::ping_frame(self.last_sn()));
                self.pong = PongWait::Waiting {
                    probes: probes.saturating_add(1),
                };
                self.timers.set(Timer::Pong, now + wait);
            }
            None => {
                self.close();
                self.resume_or_restart(now, resuming);
            }
        }
    }

    /// The live connection (or resume attempt `failed`) is gone: resume
    /// with the next attempt, or give the session up and start over.
    pub(super) fn resume_or_restart(&mut self, now: Instant, failed: Option<u8>) {
        let next = failed.map_or(1, |attempt| attempt.saturating_add(1));
        let delay = RESUME_DELAYS.get(usize::from(next) - 1);
        match (self.session_id.is_some(), delay) {
            (true, Some(&delay)) => {
                self.back_off(now, Next::Dial(Dial::Resume { attempt: next }), delay)
            }
            _ => {
                self.abandon_session();
                self.back_to_gateway(now);
            }
        }
    }

    /// Gives a session up after a failed resume: releases what it holds
    /// and reports the loss.
    pub(super) fn abandon_session(&mut self) {
        let Some(session_id) = self.session_id.clone() else {
            return;
        };
        self.buffer.release_all();
        self.drain_buffer();
        self.emit(Event::ResumeFailed {
            session_id,
            last_sn: self.last_sn(),
        });
    }

    /// Forgets the session: id, sn, reorder buffer.
    pub(super) fn discard_session(&mut self) {
        self.session_id = None;
        self.buffer.reset();
        self.timers.clear(Timer::Gap);
    }

    /// Back to step 1: no session, no URL (never re-dial it), and the
    /// gateway backoff before the fetch.
    pub(super) fn back_to_gateway(&mut self, now: Instant) {
        self.discard_session();
        self.gateway_url = None;
        let delay = self.gateway_backoff.next_delay();
        self.back_off(now, Next::FetchGateway, delay);
    }

    /// s=5 is the server's instruction, not a failure: on a sound connection
    /// (up [`STABLE_AFTER`] since its HELLO) the gateway is fetched at once
    /// and the backoff starts over; only a storm of RECONNECTs on fresh
    /// connections backs off (issue 16).
    pub(super) fn restart_as_told(&mut self, now: Instant) {
        let sound = self
            .hello_at
            .take()
            .is_some_and(|at| now.saturating_duration_since(at) >= STABLE_AFTER);
        if !sound {
            self.back_to_gateway(now);
            return;
        }
        self.gateway_backoff.reset();
        self.discard_session();
        self.gateway_url = None;
        self.timers.clear_all();
        self.pong = PongWait::None;
        self.fetch_gateway();
    }

    pub(super) fn back_off(&mut self, now: Instant, next: Next, delay: Duration) {
        self.hello_at = None;
        self.timers.clear_all();
        self.pong = PongWait::None;
        self.phase = Phase::BackingOff(next);
        self.timers.set(Timer::Backoff, now + delay);
    }

    pub(super) fn fatal(&mut self, reason: FatalReason) {
        self.emit(Event::Fatal { reason });
        self.stop_now();
    }

    pub(super) fn stop_now(&mut self) {
        if matches!(
            self.phase,
            Phase::Connecting(_) | Phase::AwaitingHello(_) | Phase::Live { .. }
        ) {
            self.close();
        }
        self.timers.clear_all();
        self.pong = PongWait::None;
        self.phase = Phase::Stopped;
    }

    pub(super) fn socket_open(&self) -> bool {
        matches!(self.phase, Phase::AwaitingHello(_) | Phase::Live { .. })
    }

    pub(super) fn send(&mut self, text: String) {
        self.outputs.push_back(Output::Send(text));
    }

    pub(super) fn close(&mut self) {
        self.outputs.push_back(Output::Close);
    }

    pub(super) fn emit(&mut self, event: Event) {
        self.outputs.push_back(Output::Event(event));
    }
}
