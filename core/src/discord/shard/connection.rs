//! One connection's life inside a [`Shard`]: frames in (Hello, dispatches,
//! acks, reconnect and invalid-session instructions), the handshake (Identify
//! paced per bucket, or Resume), heartbeats and the zombie check, the paced
//! send queue, dialing, and `reconnect`, the one place every lost connection
//! goes through (resume or identify, and how long to wait).

use super::*;

impl Shard {
    // ----- private: frames -----

    pub(super) fn handle_frame(&mut self, now: Instant, frame: GatewayFrame) {
        match frame {
            GatewayFrame::Hello { heartbeat_interval } => {
                self.handle_hello(now, heartbeat_interval)
            }
            GatewayFrame::HeartbeatAck => {
                if let Some(hb) = self.conn.as_mut().and_then(|c| c.heartbeat.as_mut()) {
                    hb.acked(now);
                    self.last_ack = Some(now);
                }
            }
            GatewayFrame::Heartbeat { .. } => {
                // Discord asks for a heartbeat now; the cadence restarts from here.
                self.send_heartbeat(now);
                if let Some(interval) = self.heartbeat_interval() {
                    self.timers.set(Timer::Heartbeat, after(now, interval));
                }
            }
            GatewayFrame::Reconnect => {
                let resume = self.session.is_some();
                self.reconnect(
                    now,
                    CloseCause::ReconnectRequested,
                    resume,
                    Some(RESUMABLE_CLOSE),
                    Delay::Instructed,
                );
            }
            GatewayFrame::InvalidSession { resumable } => {
                let (resume, delay) = if resumable && self.session.is_some() {
                    (true, Delay::Instructed)
                } else {
                    (false, Delay::InvalidSession)
                };
                self.reconnect(
                    now,
                    CloseCause::InvalidSession { resumable },
                    resume,
                    Some(RESUMABLE_CLOSE),
                    delay,
                );
            }
            GatewayFrame::Dispatch { seq, event } => self.handle_dispatch(now, seq, event),
            GatewayFrame::Unknown { op, .. } => self.emit(Event::UnknownOpcode { op }),
            // Client opcodes echoed by a confused peer: nothing to do.
            _ => {}
        }
    }

    pub(super) fn handle_hello(&mut self, now: Instant, interval: Duration) {
        if self.state != ShardState::AwaitingHello {
            return;
        }
        self.timers.clear(Timer::HelloDeadline);
        self.connect_failures = 0;
        self.hello_at = Some(now);
        let heartbeat = Heartbeater::new(interval);
        let first = self.jitter.fraction_of(heartbeat.interval());
        if let Some(conn) = self.conn.as_mut() {
            conn.heartbeat = Some(heartbeat);
        }
        self.timers.set(Timer::Heartbeat, after(now, first));
        match self.session.clone() {
            Some(session) => self.send_resume(now, session.id),
            None => {
                self.state = ShardState::Identifying;
                self.try_identify(now);
            }
        }
    }

    pub(super) fn handle_dispatch(&mut self, now: Instant, seq: Option<u64>, event: Dispatch) {
        if seq.is_some() {
            self.sequence = seq;
        }
        self.last_dispatch = Some(now);
        match event {
            // Before Hello nothing was sent: a READY/RESUMED now is a peer's
            // protocol violation and must not skip the handshake (or its timers).
            Dispatch::Ready(_) | Dispatch::Resumed if self.state == ShardState::AwaitingHello => {}
            Dispatch::Ready(ready) => {
                self.session = Some(Session {
                    id: ready.session_id.clone(),
                    resume_url: ready.resume_gateway_url.clone(),
                });
                self.bot_user_id = Some(ready.user.id.clone());
                self.use_resume_url = true;
                self.failed_resumes = 0;
                self.state = ShardState::Ready;
                self.emit(Event::Ready(ready));
            }
            Dispatch::Resumed => {
                let replayed = self.conn.as_ref().map_or(0, |c| c.replayed);
                self.failed_resumes = 0;
                self.state = ShardState::Ready;
                self.emit(Event::Resumed { replayed });
            }
            other => {
                if self.state == ShardState::Resuming {
                    if let Some(conn) = self.conn.as_mut() {
                        conn.replayed += 1;
                    }
                }
                self.emit(Event::Dispatch(other));
            }
        }
    }

    // ----- private: sending -----

    pub(super) fn try_identify(&mut self, now: Instant) {
        match self.identify_not_before().filter(|at| *at > now) {
            Some(at) => self.timers.set(Timer::IdentifyWait, at),
            None => self.send_identify(now),
        }
    }

    /// The earliest an Identify may go: 5 s after this shard's last one, and
    /// not before the driver's hold.
    pub(super) fn identify_not_before(&self) -> Option<Instant> {
        let own = self
            .last_identify
            .and_then(|at| at.checked_add(IDENTIFY_INTERVAL));
        match (own, self.identify_hold) {
            (Some(a), Some(b)) => Some(a.max(b)),
            (a, b) => a.or(b),
        }
    }

    pub(super) fn send_identify(&mut self, now: Instant) {
        if self.conn.as_ref().is_none_or(|c| c.handshake_sent) {
            return;
        }
        let identify = Identify {
            token: self.config.token.clone(),
            intents: self.config.intents,
            properties: ConnectionProperties {
                os: self.config.os.clone(),
                browser: "krill".to_owned(),
                device: "krill".to_owned(),
            },
            shard: Some([self.config.shard_id, self.config.shard_count]),
            presence: self.config.presence.clone(),
            large_threshold: self.config.large_threshold,
            compress: None,
        };
        let frame = OutgoingFrame::identify(&identify);
        if frame.len() > MAX_PAYLOAD_BYTES {
            self.outputs.push_back(Output::Close {
                code: RESUMABLE_CLOSE,
            });
            self.drop_connection();
            self.stop_fatal(
                None,
                format!(
                    "the Identify payload is {} bytes, over Discord's {MAX_PAYLOAD_BYTES}: \
                     shorten the configured presence",
                    frame.len()
                ),
            );
            return;
        }
        self.timers.clear(Timer::IdentifyWait);
        self.last_identify = Some(now);
        self.identify_hold = None;
        if let Some(limit) = self.start_limit.as_mut() {
            limit.remaining = limit.remaining.saturating_sub(1);
        }
        self.send_handshake(now, frame);
    }

    pub(super) fn send_resume(&mut self, now: Instant, session_id: String) {
        let resume = Resume {
            token: self.config.token.clone(),
            session_id,
            seq: self.sequence.unwrap_or(0),
        };
        self.failed_resumes += 1;
        self.state = ShardState::Resuming;
        self.send_handshake(now, OutgoingFrame::resume(&resume));
    }

    pub(super) fn send_handshake(&mut self, now: Instant, frame: OutgoingFrame) {
        let Some(conn) = self.conn.as_mut() else {
            return;
        };
        // A fresh connection has used at most a few heartbeats of its budget.
        if conn.handshake_sent || !conn.limiter.allows(now, 0) {
            return;
        }
        conn.handshake_sent = true;
        conn.limiter.record(now);
        self.outputs.push_back(Output::Send(frame));
    }

    pub(super) fn heartbeat_interval(&self) -> Option<Duration> {
        self.conn
            .as_ref()
            .and_then(|c| c.heartbeat.as_ref())
            .map(Heartbeater::interval)
    }

    pub(super) fn heartbeat_due(&mut self, now: Instant) {
        let Some(hb) = self.conn.as_ref().and_then(|c| c.heartbeat.as_ref()) else {
            return;
        };
        let interval = hb.interval();
        match hb.on_timer() {
            Beat::Zombie => {
                let resume = self.session.is_some();
                self.reconnect(
                    now,
                    CloseCause::Zombie,
                    resume,
                    Some(RESUMABLE_CLOSE),
                    Delay::Backoff,
                );
            }
            Beat::Send => {
                self.send_heartbeat(now);
                self.timers.set(Timer::Heartbeat, after(now, interval));
            }
        }
    }

    /// Sends a heartbeat if the connection's budget allows (it always does
    /// unless the peer floods op 1).
    pub(super) fn send_heartbeat(&mut self, now: Instant) {
        let seq = self.sequence;
        let Some(conn) = self.conn.as_mut() else {
            return;
        };
        if !conn.limiter.allows(now, 0) {
            return;
        }
        conn.limiter.record(now);
        if let Some(hb) = conn.heartbeat.as_mut() {
            hb.sent(now);
        }
        self.outputs
            .push_back(Output::Send(OutgoingFrame::heartbeat(seq)));
    }

    pub(super) fn flush_queue(&mut self, now: Instant) {
        if self.state != ShardState::Ready {
            return;
        }
        let Some(conn) = self.conn.as_mut() else {
            return;
        };
        let reserve = conn
            .heartbeat
            .as_ref()
            .map_or(0, |hb| heartbeat_reserve(hb.interval()));
        while !conn.queue.is_empty() && conn.limiter.allows(now, reserve) {
            if let Some(frame) = conn.queue.pop_front() {
                conn.limiter.record(now);
                self.outputs.push_back(Output::Send(frame));
            }
        }
        if conn.queue.is_empty() {
            self.timers.clear(Timer::SendQueue);
        } else if let Some(at) = conn.limiter.next_free(now, reserve) {
            self.timers.set(Timer::SendQueue, at);
        }
    }

    // ----- private: lifecycle -----

    /// Fetches the gateway, waits for the identify budget, or dials.
    pub(super) fn begin_connect(&mut self, now: Instant) {
        if self.session.is_none() {
            if let Some(limit) = self.start_limit.filter(|l| l.remaining == 0) {
                if now < limit.reset_at {
                    let wait = limit.reset_at - now;
                    self.refetch = true;
                    self.back_off(now, wait);
                    self.emit(Event::SessionStartLimited { retry_in: wait });
                    return;
                }
                self.refetch = true;
            }
        }
        let main_url = match self.gateway_url.clone() {
            Some(url) if !self.refetch => url,
            _ => {
                self.refetch = false;
                self.state = ShardState::FetchingGateway;
                self.outputs.push_back(Output::FetchGateway);
                return;
            }
        };
        let resume_url = self
            .session
            .as_ref()
            .filter(|_| self.use_resume_url)
            .and_then(|s| s.resume_url.clone());
        self.dialing_resume_url = resume_url.is_some();
        let base = resume_url.unwrap_or(main_url);
        let url = gateway_url(&base, self.config.compress);
        self.state = ShardState::Connecting;
        self.outputs.push_back(Output::Connect { url });
    }

    /// Every lost connection goes through here: emit our close (if we
    /// initiate it), forget the connection, decide resume or identify, pick
    /// the delay, report, and dial again or back off.
    pub(super) fn reconnect(
        &mut self,
        now: Instant,
        cause: CloseCause,
        resume: bool,
        local_close: Option<u16>,
        delay: Delay,
    ) {
        if let Some(code) = local_close {
            self.outputs.push_back(Output::Close { code });
        }
        self.drop_connection();
        // Never loop on a resume that keeps failing (discordeno PR #3907).
        let resume = resume && self.failed_resumes < MAX_FAILED_RESUMES;
        if !resume {
            self.session = None;
            self.sequence = None;
            self.failed_resumes = 0;
        }
        // A connection that was stable ended the failures before it: only
        // the failures since count (issue 16: op 7 after op 7 waited 60 s).
        if let Some(hello) = self.hello_at.take() {
            if now.saturating_duration_since(hello) >= STABLE_AFTER {
                self.backoff.reset();
            }
        }
        let wait = match delay {
            Delay::Backoff => self.backoff.next_delay(),
            Delay::Instructed => {
                let first = self.backoff.attempts() == 0;
                let wait = self.backoff.next_delay();
                if first {
                    Duration::ZERO
                } else {
                    wait
                }
            }
            Delay::InvalidSession => {
                INVALID_SESSION_WAIT_MIN + self.jitter.fraction_of(INVALID_SESSION_WAIT_SPREAD)
            }
        };
        self.emit(Event::Closed {
            cause,
            resume,
            reconnect_in: wait,
        });
        if wait.is_zero() {
            self.begin_connect(now);
        } else {
            self.back_off(now, wait);
        }
    }

    /// Forgets the current socket and its timers.
    pub(super) fn drop_connection(&mut self) {
        for timer in [
            Timer::HelloDeadline,
            Timer::Heartbeat,
            Timer::IdentifyWait,
            Timer::SendQueue,
        ] {
            self.timers.clear(timer);
        }
        if let Some(conn) = self.conn.take() {
            if !conn.queue.is_empty() {
                self.emit(Event::CommandsDropped {
                    count: conn.queue.len(),
                });
            }
        }
    }

    pub(super) fn back_off(&mut self, now: Instant, wait: Duration) {
        let until = after(now, wait);
        self.state = ShardState::BackingOff { until };
        self.timers.set(Timer::Backoff, until);
    }

    pub(super) fn stop_fatal(&mut self, code: Option<u16>, message: String) {
        self.timers.clear_all();
        self.state = ShardState::Stopped { fatal: true };
        self.emit(Event::Fatal { code, message });
    }

    pub(super) fn emit(&mut self, event: Event) {
        self.outputs.push_back(Output::Event(event));
    }
}
