//! Deterministic simulation harness for `krill_core::kook::Session`:
//! virtual time (one real `Instant` as the base, then only additions), a
//! scripted fake KOOK peer, and a transcript of everything that happened
//! with relative times and the token redacted.
//!
//! `Sim::run_for` jumps from deadline to deadline, so a 30 s PING cycle runs
//! in microseconds. Two guards flag busy loops: after every
//! `handle_timeout(now)` the next deadline must lie after `now`, and one
//! `run_for` may take at most `STEP_LIMIT` steps.
#![allow(dead_code)]

use std::collections::VecDeque;
use std::fmt::Write as _;
use std::time::{Duration, Instant};

use krill_core::kook::{
    Body, Event, GatewayFetchError, Output, Session, SessionConfig, State, SystemEventKind,
};
use krill_core::secret::Secret;

/// Most timer or frame steps one `run_for` or `pump` may take.
pub const STEP_LIMIT: usize = 100_000;

/// The token the fake gateway URLs carry.
pub const TOKEN: &str = "SECRET-TOKEN";

/// Seconds as a `Duration`.
pub fn secs(s: u64) -> Duration {
    Duration::from_secs(s)
}

/// Milliseconds as a `Duration`.
pub fn ms(m: u64) -> Duration {
    Duration::from_millis(m)
}

/// How the fake server answers a fresh dial.
#[derive(Debug, Clone)]
pub enum HelloReply {
    /// HELLO code 0 with a new session id.
    Ok,
    /// Nothing at all.
    Silent,
    /// HELLO with this error code.
    Code(i64),
}

/// How the fake server answers a resume dial.
#[derive(Debug, Clone)]
pub enum ResumeReply {
    /// HELLO with the same session, the offline events, then s=6 if `ack`.
    Accept { ack: bool },
    /// Nothing at all.
    Silent,
    /// HELLO with a brand-new session id.
    NewSession,
    /// HELLO ok, then s=5 RECONNECT with this code.
    Reconnect(i64),
}

/// The scripted fake KOOK peer. Each script queue is consulted in order;
/// when empty, the default (success) applies.
#[derive(Debug)]
pub struct Peer {
    /// Answers to gateway fetches.
    pub gateway: VecDeque<Result<(), GatewayFetchError>>,
    /// Answers to dials: `false` = the dial fails.
    pub dials: VecDeque<bool>,
    /// Answers to fresh dials.
    pub hellos: VecDeque<HelloReply>,
    /// Answers to resume dials.
    pub resumes: VecDeque<ResumeReply>,
    /// Answer PINGs with PONGs.
    pub answer_pings: bool,
    /// Events replayed on an accepted resume (frame texts).
    pub offline: Vec<String>,
    /// Frames waiting to reach the client now.
    pub inbox: VecDeque<Frame>,
    /// True while the client's socket is open.
    pub open: bool,
    /// The session the server last gave out.
    pub session_id: Option<String>,
    /// How many sessions it gave out.
    pub sessions: u32,
    /// How many gateway URLs it gave out.
    pub urls: u32,
}

impl Default for Peer {
    fn default() -> Self {
        Self {
            gateway: VecDeque::new(),
            dials: VecDeque::new(),
            hellos: VecDeque::new(),
            resumes: VecDeque::new(),
            answer_pings: true,
            offline: Vec::new(),
            inbox: VecDeque::new(),
            open: false,
            session_id: None,
            sessions: 0,
            urls: 0,
        }
    }
}

/// A frame from the server.
#[derive(Debug, Clone)]
pub enum Frame {
    Text(String),
    Binary(Vec<u8>),
}

/// The simulation.
pub struct Sim {
    pub session: Session,
    pub t0: Instant,
    pub now: Instant,
    pub peer: Peer,
    /// React to outputs as the fake server (true) or keep them in
    /// `pending` for the test to inspect (false).
    pub auto: bool,
    /// Outputs not reacted to (manual mode).
    pub pending: Vec<Output>,
    /// Every event, with its time.
    pub events: Vec<(Duration, Event)>,
    /// Every frame the client sent, with its time.
    pub sent: Vec<(Duration, String)>,
    /// Every URL dialled (exposed), with its time.
    pub dials: Vec<(Duration, String)>,
    /// Gateway fetch times.
    pub fetches: Vec<Duration>,
    /// Close times.
    pub closes: Vec<Duration>,
    /// The transcript.
    pub log: Vec<String>,
    last_state: State,
}

impl Sim {
    /// An automatic simulation (the fake peer answers), not started.
    pub fn new(seed: u64) -> Self {
        Self::with_config(SessionConfig::default(), seed)
    }

    /// Same, with a config.
    pub fn with_config(config: SessionConfig, seed: u64) -> Self {
        let t0 = Instant::now();
        Self {
            session: Session::new(config, seed),
            t0,
            now: t0,
            peer: Peer::default(),
            auto: true,
            pending: Vec::new(),
            events: Vec::new(),
            sent: Vec::new(),
            dials: Vec::new(),
            fetches: Vec::new(),
            closes: Vec::new(),
            log: Vec::new(),
            last_state: State::Idle,
        }
    }

    /// A manual simulation: outputs collect in `pending`.
    pub fn manual(seed: u64) -> Self {
        let mut sim = Self::new(seed);
        sim.auto = false;
        sim
    }

    /// Time since the start.
    pub fn elapsed(&self) -> Duration {
        self.now - self.t0
    }

    /// Starts the session and lets it settle.
    pub fn start(&mut self) {
        self.session.start(self.now);
        self.pump();
    }

    /// Starts and runs until the first HELLO is handled (auto mode).
    pub fn start_connected(&mut self) {
        self.start();
        assert_eq!(
            self.session.state(),
            State::Connected,
            "{}",
            self.transcript()
        );
    }

    /// Takes the outputs collected in manual mode.
    pub fn take(&mut self) -> Vec<Output> {
        self.pump();
        std::mem::take(&mut self.pending)
    }

    /// Advances virtual time by `d`, handling every deadline on the way.
    pub fn run_for(&mut self, d: Duration) {
        let end = self.now + d;
        self.pump();
        let mut steps = 0;
        while let Some(deadline) = self.session.poll_timeout() {
            if deadline > end {
                break;
            }
            steps += 1;
            assert!(
                steps < STEP_LIMIT,
                "busy loop: {steps} timer steps\n{}",
                self.transcript()
            );
            self.now = self.now.max(deadline);
            self.session.handle_timeout(self.now);
            self.pump();
            if let Some(next) = self.session.poll_timeout() {
                assert!(
                    next > self.now,
                    "busy loop: a deadline at or before now survived handle_timeout\n{}",
                    self.transcript()
                );
            }
        }
        self.now = end;
        self.session.handle_timeout(self.now);
        self.pump();
    }

    /// Runs until the next deadline (and handles it).
    pub fn run_to_next_deadline(&mut self) -> Option<Duration> {
        let deadline = self.session.poll_timeout()?;
        let d = deadline.saturating_duration_since(self.now);
        self.run_for(d);
        Some(d)
    }

    /// How long until the next deadline.
    pub fn next_deadline_in(&self) -> Option<Duration> {
        self.session
            .poll_timeout()
            .map(|t| t.saturating_duration_since(self.now))
    }

    /// The server sends a text frame now.
    pub fn server_text(&mut self, text: impl Into<String>) {
        self.peer.inbox.push_back(Frame::Text(text.into()));
        self.pump();
    }

    /// The server sends a binary frame now.
    pub fn server_binary(&mut self, bytes: Vec<u8>) {
        self.peer.inbox.push_back(Frame::Binary(bytes));
        self.pump();
    }

    /// The server sends an s=0 KMarkdown message with this `sn`.
    pub fn server_event(&mut self, sn: u64) {
        self.server_text(event_frame(sn));
    }

    /// The TCP stream drops.
    pub fn drop_tcp(&mut self) {
        self.peer.open = false;
        self.line("<- (tcp drop)".to_owned());
        self.session.handle_closed(self.now, None);
        self.pump();
    }

    /// Delivered event sns, in order.
    pub fn delivered_sns(&self) -> Vec<u64> {
        self.events.iter().filter_map(|(_, e)| e.sn()).collect()
    }

    /// Every PING's sn, in order.
    pub fn ping_sns(&self) -> Vec<u64> {
        self.sent
            .iter()
            .filter_map(|(_, text)| {
                let v: serde_json::Value = serde_json::from_str(text).ok()?;
                (v["s"] == 2).then(|| v["sn"].as_u64()).flatten()
            })
            .collect()
    }

    /// Times of every frame sent, relative to `since`.
    pub fn sent_since(&self, since: Duration) -> Vec<(Duration, String)> {
        self.sent
            .iter()
            .filter(|(t, _)| *t >= since)
            .map(|(t, s)| (*t - since, s.clone()))
            .collect()
    }

    /// The transcript as one string.
    pub fn transcript(&self) -> String {
        self.log.join("\n")
    }

    /// Drains outputs (reacting as the peer in auto mode) and delivers
    /// queued server frames, until both are empty.
    pub fn pump(&mut self) {
        let mut steps = 0;
        loop {
            steps += 1;
            assert!(
                steps < STEP_LIMIT,
                "busy loop in pump\n{}",
                self.transcript()
            );
            if let Some(out) = self.session.poll_output() {
                self.record(&out);
                if self.auto {
                    self.react(out);
                } else {
                    self.pending.push(out);
                }
                continue;
            }
            self.note_state();
            let Some(frame) = self.peer.inbox.pop_front() else {
                break;
            };
            match frame {
                Frame::Text(text) => {
                    self.line(format!("<- {}", abbreviate(&text)));
                    self.session.handle_text_frame(self.now, &text);
                }
                Frame::Binary(bytes) => {
                    self.line(format!("<- binary frame ({} bytes)", bytes.len()));
                    self.session.handle_binary_frame(self.now, &bytes);
                }
            }
        }
    }

    fn record(&mut self, out: &Output) {
        let t = self.elapsed();
        let line = match out {
            Output::FetchGateway { compress } => {
                self.fetches.push(t);
                format!("-> fetch gateway (compress={})", u8::from(*compress))
            }
            Output::Connect { url } => {
                self.dials.push((t, url.expose().to_owned()));
                format!("-> connect {}", redact(url.expose()))
            }
            Output::Send(text) => {
                self.sent.push((t, text.clone()));
                format!("-> {text}")
            }
            Output::Close => {
                self.closes.push(t);
                "-> close".to_owned()
            }
            Output::Event(event) => {
                self.events.push((t, event.clone()));
                format!("event {}", describe(event))
            }
        };
        self.line(line);
    }

    fn note_state(&mut self) {
        let state = self.session.state();
        if state != self.last_state {
            let mut line = format!("state {:?} -> {:?}", self.last_state, state);
            if let Some(wait) = self.next_deadline_in() {
                if state == State::BackingOff {
                    let _ = write!(line, " (wait {})", fmt_duration(wait));
                }
            }
            self.line(line);
            self.last_state = state;
        }
    }

    fn line(&mut self, text: String) {
        let t = self.elapsed();
        self.log.push(format!("[{:>8}] {text}", fmt_duration(t)));
    }

    fn react(&mut self, out: Output) {
        match out {
            Output::FetchGateway { compress } => {
                let answer = self.peer.gateway.pop_front().unwrap_or(Ok(()));
                match answer {
                    Ok(()) => {
                        self.peer.urls += 1;
                        let url = format!(
                            "wss://kook.test/gateway?compress={}&token={TOKEN}-{}",
                            u8::from(compress),
                            self.peer.urls
                        );
                        self.line("<- gateway url".to_owned());
                        self.session
                            .handle_gateway_fetched(self.now, Ok(Secret::new(url)));
                    }
                    Err(error) => {
                        self.line(format!("<- gateway error: {error}"));
                        self.session.handle_gateway_fetched(self.now, Err(error));
                    }
                }
            }
            Output::Connect { url } => {
                if !self.peer.dials.pop_front().unwrap_or(true) {
                    self.line("<- dial failed".to_owned());
                    self.session.handle_connect_failed(self.now);
                    return;
                }
                self.peer.open = true;
                self.line("<- connected".to_owned());
                self.session.handle_connected(self.now);
                let url = url.expose().to_owned();
                if url.contains("resume=1") {
                    self.answer_resume(&url);
                } else {
                    self.answer_fresh();
                }
            }
            Output::Send(text) => {
                let v: serde_json::Value = serde_json::from_str(&text).unwrap_or_default();
                if v["s"] == 2 && self.peer.answer_pings && self.peer.open {
                    self.peer
                        .inbox
                        .push_back(Frame::Text(r#"{"s":3}"#.to_owned()));
                }
            }
            Output::Close => {
                self.peer.open = false;
            }
            Output::Event(_) => {}
        }
    }

    fn new_session(&mut self) -> String {
        self.peer.sessions += 1;
        let id = format!("session-{}", self.peer.sessions);
        self.peer.session_id = Some(id.clone());
        id
    }

    fn answer_fresh(&mut self) {
        match self.peer.hellos.pop_front().unwrap_or(HelloReply::Ok) {
            HelloReply::Ok => {
                let id = self.new_session();
                self.peer.inbox.push_back(Frame::Text(format!(
                    r#"{{"s":1,"d":{{"code":0,"session_id":"{id}"}}}}"#
                )));
            }
            HelloReply::Silent => {}
            HelloReply::Code(code) => {
                self.peer
                    .inbox
                    .push_back(Frame::Text(format!(r#"{{"s":1,"d":{{"code":{code}}}}}"#)));
            }
        }
    }

    fn answer_resume(&mut self, url: &str) {
        let asked = query_value(url, "session_id").unwrap_or_default();
        let reply = self
            .peer
            .resumes
            .pop_front()
            .unwrap_or(ResumeReply::Accept { ack: true });
        let hello =
            |id: &str| Frame::Text(format!(r#"{{"s":1,"d":{{"code":0,"session_id":"{id}"}}}}"#));
        match reply {
            ResumeReply::Accept { ack } => {
                self.peer.inbox.push_back(hello(&asked));
                for text in std::mem::take(&mut self.peer.offline) {
                    self.peer.inbox.push_back(Frame::Text(text));
                }
                if ack {
                    self.peer.inbox.push_back(Frame::Text(format!(
                        r#"{{"s":6,"d":{{"session_id":"{asked}"}}}}"#
                    )));
                }
            }
            ResumeReply::Silent => {}
            ResumeReply::NewSession => {
                let id = self.new_session();
                self.peer.inbox.push_back(hello(&id));
            }
            ResumeReply::Reconnect(code) => {
                self.peer.inbox.push_back(hello(&asked));
                self.peer.inbox.push_back(Frame::Text(format!(
                    r#"{{"s":5,"d":{{"code":{code},"err":"resume failed"}}}}"#
                )));
            }
        }
    }
}

/// An s=0 KMarkdown message frame with this `sn` (content `m<sn>`).
pub fn event_frame(sn: u64) -> String {
    format!(
        r#"{{"s":0,"sn":{sn},"d":{{"channel_type":"GROUP","type":9,"target_id":"c1","author_id":"u1","content":"m{sn}","msg_id":"id-{sn}","msg_timestamp":1700000000000,"nonce":"","extra":{{"type":9,"guild_id":"g1","author":{{"id":"u1","username":"nelly","bot":false}}}}}}}}"#
    )
}

/// A query parameter's value.
pub fn query_value(url: &str, key: &str) -> Option<String> {
    let query = url.split_once('?')?.1;
    query.split('&').find_map(|pair| {
        let (k, v) = pair.split_once('=')?;
        (k == key).then(|| v.to_owned())
    })
}

/// The URL with any `token=` value replaced by `<redacted>`.
pub fn redact(url: &str) -> String {
    let Some((base, query)) = url.split_once('?') else {
        return url.to_owned();
    };
    let query: Vec<String> = query
        .split('&')
        .map(|pair| match pair.split_once('=') {
            Some(("token", _)) => "token=<redacted>".to_owned(),
            _ => pair.to_owned(),
        })
        .collect();
    format!("{base}?{}", query.join("&"))
}

/// `12.345s`.
pub fn fmt_duration(d: Duration) -> String {
    format!("{}.{:03}s", d.as_secs(), d.subsec_millis())
}

/// A one-line description of an event for transcripts.
pub fn describe(event: &Event) -> String {
    match event {
        Event::Message { sn, message } => {
            let text = match &message.body {
                Body::Text(s) | Body::KMarkdown(s) => s.clone(),
                other => format!("{other:?}"),
            };
            format!("message sn={sn} {:?}", text)
        }
        Event::System { sn, event } => match &event.kind {
            SystemEventKind::Other(name) => format!("system sn={sn} other {name}"),
            kind => format!("system sn={sn} {kind:?}"),
        },
        other => format!("{other:?}"),
    }
}

/// A server frame for the transcript: s=0 events shortened to their `sn`
/// and content.
pub fn abbreviate(text: &str) -> String {
    let Ok(v) = serde_json::from_str::<serde_json::Value>(text) else {
        return text.to_owned();
    };
    if v["s"] != 0 {
        return text.to_owned();
    }
    format!(
        "s=0 sn={} type={} content={}",
        v["sn"], v["d"]["type"], v["d"]["content"]
    )
}
