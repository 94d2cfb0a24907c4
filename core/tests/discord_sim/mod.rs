//! A deterministic simulation of one shard against a scripted fake Discord.
//!
//! Virtual time only moves in [`Sim::advance`]; [`Sim::settle`] drains the
//! shard's outputs and feeds the peer's answers back until both are quiet,
//! and panics when that does not happen within a bound (a busy loop). The
//! fake peer answers like Discord: Hello on connect, ACK per heartbeat,
//! READY per Identify, a replay plus RESUMED per valid Resume and op 9 for
//! an unknown session. Everything that happens is written to `log` with
//! times relative to the start, for snapshots.
#![allow(dead_code)]

use std::collections::VecDeque;
use std::fmt::Write as _;
use std::time::{Duration, Instant};

use flate2::{Compress, Compression, FlushCompress};
use krill_core::discord::{
    Event, GatewayBot, GatewayFetchError, GatewayFrame, OutgoingKind, Output, SessionStartLimit,
    Shard, ShardConfig,
};

pub const TOKEN: &str = "MTIz.secret-token";
pub const MAIN_URL: &str = "wss://gateway.discord.gg";
pub const RESUME_URL: &str = "wss://gateway-us-east1-b.discord.gg";
pub const BOT_ID: &str = "1297484454297731072";
pub const INTERVAL_MS: u64 = 41250;

/// An input the peer or the test feeds into the shard.
#[derive(Debug, Clone)]
pub enum Input {
    Fetched(Result<GatewayBot, GatewayFetchError>),
    Connected,
    ConnectFailed,
    Text(String),
    Binary(Vec<u8>),
    Closed(Option<(u16, String)>),
}

/// How the fake Discord behaves.
#[derive(Debug)]
pub struct Peer {
    pub interval_ms: u64,
    pub send_hello: bool,
    pub ack_heartbeats: bool,
    /// Answer Resume with RESUMED (when the session is known) or not at all.
    pub answer_resume: bool,
    /// Answer Identify with READY.
    pub answer_identify: bool,
    pub fetch_results: VecDeque<Result<GatewayBot, GatewayFetchError>>,
    pub start_limit: SessionStartLimit,
    /// Fail the next n connects (any URL).
    pub fail_connects: u32,
    /// Fail every connect whose URL starts with this.
    pub fail_prefix: Option<String>,
    /// Send frames zlib-stream compressed (binary), one context per connection.
    pub compress: bool,
    compressor: Option<Compress>,
    pub connected: bool,
    pub seq: u64,
    pub session: Option<String>,
    pub sessions_created: u32,
    /// `(seq, frame)` of every dispatch of the current session, for replays.
    pub history: Vec<(u64, String)>,
    /// Frames the shard sent on the current connection.
    pub received: Vec<GatewayFrame>,
}

impl Default for Peer {
    fn default() -> Self {
        Self {
            interval_ms: INTERVAL_MS,
            send_hello: true,
            ack_heartbeats: true,
            answer_resume: true,
            answer_identify: true,
            fetch_results: VecDeque::new(),
            start_limit: SessionStartLimit {
                total: 1000,
                remaining: 999,
                reset_after: 14_400_000,
                max_concurrency: 1,
            },
            fail_connects: 0,
            fail_prefix: None,
            compress: false,
            compressor: None,
            connected: false,
            seq: 0,
            session: None,
            sessions_created: 0,
            history: Vec::new(),
            received: Vec::new(),
        }
    }
}

/// One shard plus its fake peer in virtual time.
pub struct Sim {
    pub shard: Shard,
    pub peer: Peer,
    pub t0: Instant,
    pub now: Instant,
    pub log: Vec<String>,
    /// Every output with its time since start.
    pub outputs: Vec<(Duration, Output)>,
    pending: VecDeque<Input>,
}

pub fn config() -> ShardConfig {
    let mut config = ShardConfig::new(TOKEN);
    config.os = "linux".to_owned();
    config
}

impl Sim {
    pub fn new(config: ShardConfig, seed: u64) -> Self {
        let t0 = Instant::now();
        Self {
            shard: Shard::new(config, seed),
            peer: Peer::default(),
            t0,
            now: t0,
            log: Vec::new(),
            outputs: Vec::new(),
            pending: VecDeque::new(),
        }
    }

    /// A shard with the default config and seed 7.
    pub fn default_shard() -> Self {
        Self::new(config(), 7)
    }

    /// Starts the shard and settles.
    pub fn start(&mut self) {
        self.shard.start(self.now);
        self.settle();
    }

    /// Started, identified and READY.
    pub fn ready() -> Self {
        let mut sim = Self::default_shard();
        sim.start();
        assert_eq!(sim.shard.state(), krill_core::discord::ShardState::Ready);
        sim
    }

    pub fn elapsed(&self) -> Duration {
        self.now - self.t0
    }

    pub fn note(&mut self, text: impl AsRef<str>) {
        let t = self.elapsed().as_secs_f64();
        self.log.push(format!("{t:>9.3}s  {}", text.as_ref()));
    }

    /// Feeds one input now and settles.
    pub fn feed(&mut self, input: Input) {
        self.pending.push_back(input);
        self.settle();
    }

    /// The peer sends a raw text frame (whatever its compress setting).
    pub fn server_text(&mut self, text: &str) {
        self.note(format!("<- {}", short(text)));
        self.feed(Input::Text(text.to_owned()));
    }

    /// The peer closes the socket (`None`: TCP reset).
    pub fn server_close(&mut self, close: Option<(u16, &str)>) {
        self.peer.connected = false;
        match close {
            Some((code, reason)) => self.note(format!("<- close {code} {reason:?}")),
            None => self.note("<- connection reset"),
        }
        self.feed(Input::Closed(close.map(|(c, r)| (c, r.to_owned()))));
    }

    /// The peer dispatches an event in the current session (delivered now if
    /// connected, replayed on resume otherwise).
    pub fn dispatch(&mut self, name: &str, data: &str) {
        self.peer.seq += 1;
        let frame = format!(
            r#"{{"op":0,"s":{},"t":"{name}","d":{data}}}"#,
            self.peer.seq
        );
        self.peer.history.push((self.peer.seq, frame.clone()));
        if self.peer.connected {
            self.send_frame(frame);
            self.settle();
        }
    }

    /// A MESSAGE_CREATE with this content.
    pub fn message(&mut self, id: u64, content: &str) {
        let data = format!(
            r#"{{"id":"{id}","channel_id":"849255967228035073","guild_id":"849255963033731072","author":{{"id":"80351110224678912","username":"nelly"}},"content":"{content}","timestamp":"2025-03-14T09:26:53.589000+00:00","type":0}}"#
        );
        self.dispatch("MESSAGE_CREATE", &data);
    }

    /// Moves virtual time forward by `d`, firing every due timer in order.
    pub fn advance(&mut self, d: Duration) {
        let target = self.now + d;
        let mut stuck = 0;
        loop {
            self.settle();
            match self.shard.poll_timeout() {
                Some(at) if at <= target => {
                    if at <= self.now {
                        stuck += 1;
                        assert!(
                            stuck < 100,
                            "busy loop: timer keeps firing at {:?}",
                            self.elapsed()
                        );
                    } else {
                        stuck = 0;
                        self.now = at;
                    }
                    self.shard.handle_timeout(self.now);
                }
                _ => break,
            }
        }
        self.now = target;
        self.settle();
    }

    pub fn advance_secs(&mut self, secs: f64) {
        self.advance(Duration::from_secs_f64(secs));
    }

    /// Drains outputs and peer answers until quiet (bounded).
    pub fn settle(&mut self) {
        for _ in 0..100_000 {
            if let Some(out) = self.shard.poll_output() {
                self.outputs.push((self.elapsed(), out.clone()));
                self.on_output(out);
                continue;
            }
            match self.pending.pop_front() {
                Some(input) => self.apply(input),
                None => return,
            }
        }
        panic!("busy loop: no quiet point after 100000 steps");
    }

    fn apply(&mut self, input: Input) {
        let now = self.now;
        match input {
            Input::Fetched(result) => self.shard.handle_gateway_fetched(now, result),
            Input::Connected => self.shard.handle_connected(now),
            Input::ConnectFailed => self.shard.handle_connect_failed(now),
            Input::Text(text) => self.shard.handle_text_frame(now, &text),
            Input::Binary(bytes) => self.shard.handle_binary_frame(now, &bytes),
            Input::Closed(close) => self.shard.handle_closed(now, close),
        }
    }

    fn on_output(&mut self, out: Output) {
        match out {
            Output::FetchGateway => {
                self.note("-> GET /gateway/bot");
                let result = self.peer.fetch_results.pop_front().unwrap_or_else(|| {
                    Ok(GatewayBot {
                        url: MAIN_URL.to_owned(),
                        shards: 1,
                        session_start_limit: Some(self.peer.start_limit),
                    })
                });
                match &result {
                    Ok(bot) => {
                        let remaining = bot.session_start_limit.map(|l| l.remaining);
                        self.note(format!("<- gateway {} remaining={remaining:?}", bot.url))
                    }
                    Err(e) => self.note(format!("<- gateway error {e:?}")),
                }
                self.pending.push_back(Input::Fetched(result));
            }
            Output::Connect { url } => {
                self.note(format!("-> connect {url}"));
                let fail = self.peer.fail_connects > 0
                    || self
                        .peer
                        .fail_prefix
                        .as_deref()
                        .is_some_and(|p| url.starts_with(p));
                if fail {
                    self.peer.fail_connects = self.peer.fail_connects.saturating_sub(1);
                    self.note("<- connect failed");
                    self.pending.push_back(Input::ConnectFailed);
                    return;
                }
                self.note("<- connected");
                self.peer.connected = true;
                self.peer.received.clear();
                self.peer.compressor = self
                    .peer
                    .compress
                    .then(|| Compress::new(Compression::default(), true));
                self.pending.push_back(Input::Connected);
                if self.peer.send_hello {
                    let hello = format!(
                        r#"{{"op":10,"d":{{"heartbeat_interval":{}}},"s":null,"t":null}}"#,
                        self.peer.interval_ms
                    );
                    self.send_frame(hello);
                }
            }
            Output::Send(frame) => {
                self.note(format!("-> {}", frame.redacted()));
                assert!(frame.len() <= 4096, "sent a payload over 4096 bytes");
                if !self.peer.connected {
                    return;
                }
                let parsed =
                    GatewayFrame::parse(frame.as_str()).expect("the shard sends valid frames");
                self.peer.received.push(parsed.clone());
                self.answer(frame.kind(), parsed);
            }
            Output::Close { code } => {
                self.note(format!("-> close {code}"));
                self.peer.connected = false;
            }
            Output::Event(event) => {
                let line = summary(&event);
                self.note(format!("** {line}"));
            }
            other => self.note(format!("?? {other:?}")),
        }
    }

    fn answer(&mut self, kind: OutgoingKind, frame: GatewayFrame) {
        match (kind, frame) {
            (OutgoingKind::Heartbeat, _) if self.peer.ack_heartbeats => {
                self.send_frame(r#"{"op":11}"#.to_owned());
            }
            (OutgoingKind::Identify, _) if self.peer.answer_identify => {
                self.peer.sessions_created += 1;
                let id = format!("session-{}", self.peer.sessions_created);
                self.peer.session = Some(id.clone());
                self.peer.seq = 0;
                self.peer.history.clear();
                let ready = format!(
                    r#"{{"v":10,"user":{{"id":"{BOT_ID}","username":"krill","bot":true}},"session_id":"{id}","resume_gateway_url":"{RESUME_URL}","guilds":[{{"id":"849255963033731072","unavailable":true}}]}}"#
                );
                self.dispatch("READY", &ready);
            }
            (OutgoingKind::Resume, GatewayFrame::Resume(resume)) if self.peer.answer_resume => {
                if self.peer.session.as_deref() != Some(resume.session_id.as_str()) {
                    self.send_frame(r#"{"op":9,"d":false}"#.to_owned());
                    return;
                }
                let missed: Vec<String> = self
                    .peer
                    .history
                    .iter()
                    .filter(|(seq, _)| *seq > resume.seq)
                    .map(|(_, f)| f.clone())
                    .collect();
                for frame in missed {
                    self.send_frame(frame);
                }
                self.dispatch("RESUMED", "{}");
            }
            _ => {}
        }
    }

    /// Queues a frame from the peer, compressed when the peer compresses.
    fn send_frame(&mut self, text: String) {
        if text.contains(r#""op":0"#) {
            let (t, s) = dispatch_name(&text);
            self.note(format!("<- dispatch {t} s={s}"));
        } else {
            self.note(format!("<- {}", short(&text)));
        }
        match self.peer.compressor.as_mut() {
            Some(c) => {
                let mut out = Vec::with_capacity(text.len() + 64);
                c.compress_vec(text.as_bytes(), &mut out, FlushCompress::Sync)
                    .expect("compress");
                while out.capacity() == out.len() {
                    out.reserve(256);
                    c.compress_vec(&[], &mut out, FlushCompress::Sync)
                        .expect("compress");
                }
                self.pending.push_back(Input::Binary(out));
            }
            None => self.pending.push_back(Input::Text(text)),
        }
    }

    /// Frames the shard sent, as `(time since start, kind)`.
    pub fn sends(&self) -> Vec<(Duration, OutgoingKind)> {
        self.outputs
            .iter()
            .filter_map(|(t, o)| match o {
                Output::Send(f) => Some((*t, f.kind())),
                _ => None,
            })
            .collect()
    }

    pub fn sends_of(&self, kind: OutgoingKind) -> Vec<Duration> {
        self.sends()
            .into_iter()
            .filter(|(_, k)| *k == kind)
            .map(|(t, _)| t)
            .collect()
    }

    pub fn sent_texts(&self) -> Vec<String> {
        self.outputs
            .iter()
            .filter_map(|(_, o)| match o {
                Output::Send(f) => Some(f.as_str().to_owned()),
                _ => None,
            })
            .collect()
    }

    pub fn connects(&self) -> Vec<(Duration, String)> {
        self.outputs
            .iter()
            .filter_map(|(t, o)| match o {
                Output::Connect { url } => Some((*t, url.clone())),
                _ => None,
            })
            .collect()
    }

    pub fn closes(&self) -> Vec<u16> {
        self.outputs
            .iter()
            .filter_map(|(_, o)| match o {
                Output::Close { code } => Some(*code),
                _ => None,
            })
            .collect()
    }

    pub fn events(&self) -> Vec<Event> {
        self.outputs
            .iter()
            .filter_map(|(_, o)| match o {
                Output::Event(e) => Some(e.clone()),
                _ => None,
            })
            .collect()
    }

    /// Forgets recorded outputs (to assert on what happens next).
    pub fn clear_outputs(&mut self) {
        self.outputs.clear();
    }

    pub fn snapshot(&self) -> String {
        let mut s = String::new();
        for line in &self.log {
            let _ = writeln!(s, "{line}");
        }
        s
    }
}

/// One line per event, for the log.
pub fn summary(event: &Event) -> String {
    match event {
        Event::Ready(r) => format!("Ready session={} user={}", r.session_id, r.user.id),
        Event::Resumed { replayed } => format!("Resumed replayed={replayed}"),
        Event::Dispatch(d) => format!("Dispatch {}", d.name()),
        Event::Closed {
            cause,
            resume,
            reconnect_in,
        } => format!(
            "Closed {cause:?} resume={resume} reconnect_in={:.3}s",
            reconnect_in.as_secs_f64()
        ),
        Event::Fatal { code, message } => format!("Fatal code={code:?}: {message}"),
        other => format!("{other:?}"),
    }
}

fn short(text: &str) -> String {
    if text.chars().count() > 120 {
        format!("{}...", text.chars().take(117).collect::<String>())
    } else {
        text.to_owned()
    }
}

fn dispatch_name(text: &str) -> (String, String) {
    let v: serde_json::Value = serde_json::from_str(text).unwrap_or_default();
    (
        v["t"].as_str().unwrap_or("?").to_owned(),
        v["s"].to_string(),
    )
}
