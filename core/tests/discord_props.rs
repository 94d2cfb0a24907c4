//! Properties of the shard machine under arbitrary input sequences: frames
//! (valid and garbage), closes with any code or none, connect failures,
//! gateway fetch results, timeouts and time jumps, commands. Checked after
//! every step:
//! - nothing panics, and each step produces a bounded number of outputs;
//! - while connected or backing off, a timer is always pending (unless
//!   stopped), so the shard can never wedge;
//! - frames are sent only on an open connection, and Identify/Resume only
//!   after that connection's Hello, at most one handshake per connection;
//! - Identifies are at least 5 s apart;
//! - no 60 s window of one connection holds more than 120 sends;
//! - the shard never closes with 1000/1001 unless shut down.

use std::time::{Duration, Instant};

use krill_core::discord::{
    GatewayBot, GatewayCommand, GatewayFetchError, GatewayFrame, OutgoingKind, Output,
    PresenceUpdate, RequestGuildMembers, SessionStartLimit, Shard, ShardConfig, ShardState,
};
use proptest::prelude::*;

const HELLO: &str = r#"{"op":10,"d":{"heartbeat_interval":41250}}"#;
const READY: &str = r#"{"op":0,"s":1,"t":"READY","d":{"user":{"id":"1"},"session_id":"s","resume_gateway_url":"wss://r"}}"#;
const RESUMED: &str = r#"{"op":0,"s":2,"t":"RESUMED","d":{}}"#;

#[derive(Debug, Clone)]
enum Action {
    /// What a cooperative driver and peer do next: answer the fetch, open
    /// the socket, send Hello, READY or RESUMED, or fire the next timer.
    Proceed,
    Fetched(u8),
    Connected,
    ConnectFailed,
    Text(String),
    Binary(Vec<u8>),
    Closed(Option<u16>),
    /// Fire the next timer.
    Timeout,
    /// Jump time forward by this many ms, then handle_timeout.
    Jump(u64),
    Command(usize),
    Hold(u64),
    Shutdown,
}

fn frame() -> impl Strategy<Value = String> {
    let interval = prop_oneof![
        Just(0u64),
        Just(1),
        Just(500),
        Just(41250),
        Just(u64::MAX),
        0u64..100_000
    ];
    prop_oneof![
        4 => interval.prop_map(|ms| format!(r#"{{"op":10,"d":{{"heartbeat_interval":{ms}}}}}"#)),
        4 => Just(r#"{"op":11}"#.to_owned()),
        2 => Just(r#"{"op":11,"d":null,"s":null,"t":null}"#.to_owned()),
        2 => Just(r#"{"op":1,"d":null}"#.to_owned()),
        2 => Just(r#"{"op":7,"d":null}"#.to_owned()),
        2 => any::<bool>().prop_map(|b| format!(r#"{{"op":9,"d":{b}}}"#)),
        4 => (0u64..50).prop_map(|s| format!(
            r#"{{"op":0,"s":{s},"t":"READY","d":{{"v":10,"user":{{"id":"1","username":"k"}},"session_id":"s{s}","resume_gateway_url":"wss://r"}}}}"#
        )),
        2 => (0u64..50).prop_map(|s| format!(r#"{{"op":0,"s":{s},"t":"RESUMED","d":{{}}}}"#)),
        3 => (0u64..u64::MAX).prop_map(|s| format!(
            r#"{{"op":0,"s":{s},"t":"MESSAGE_CREATE","d":{{"id":"1","channel_id":"2","author":{{"id":"3"}},"content":"x"}}}}"#
        )),
        1 => (0u64..1000).prop_map(|op| format!(r#"{{"op":{op},"d":{{"x":[1]}}}}"#)),
        1 => "[A-Z_]{1,12}".prop_map(|t| format!(r#"{{"op":0,"s":3,"t":"{t}","d":{{"id":"9"}}}}"#)),
        2 => ".{0,40}",
        1 => r#"\{"op":[0-9]{1,2}(,"d":(null|true|false|[0-9]{1,5}|\{\}|"x"))?(,"s":(null|-1|[0-9]))?\}"#,
    ]
}

fn action() -> impl Strategy<Value = Action> {
    prop_oneof![
        24 => Just(Action::Proceed),
        1 => (0u8..10).prop_map(Action::Fetched),
        1 => Just(Action::Connected),
        2 => Just(Action::ConnectFailed),
        12 => frame().prop_map(Action::Text),
        1 => proptest::collection::vec(any::<u8>(), 0..64).prop_map(Action::Binary),
        2 => proptest::option::of(any::<u16>()).prop_map(Action::Closed),
        2 => prop_oneof![Just(1000u16), Just(1001), 4000u16..4010].prop_map(|c| Action::Closed(Some(c))),
        6 => Just(Action::Timeout),
        4 => prop_oneof![0u64..2_000, 0u64..120_000, 0u64..7_200_000].prop_map(Action::Jump),
        3 => prop_oneof![1usize..200, 4000usize..5000].prop_map(Action::Command),
        1 => (0u64..20_000).prop_map(Action::Hold),
    ]
}

/// What the test knows about the current connection.
#[derive(Debug, Default)]
struct Conn {
    hello_seen: bool,
    handshakes: u32,
    sends: Vec<Instant>,
}

struct Model {
    shard: Shard,
    now: Instant,
    conn: Option<Conn>,
    identifies: Vec<Instant>,
    shut_down: bool,
    /// Heartbeats and Presence Update statuses sent since last taken.
    heartbeats_seen: usize,
    presences_seen: Vec<String>,
}

impl Model {
    fn new(config: ShardConfig, seed: u64) -> Self {
        Self {
            shard: Shard::new(config, seed),
            now: Instant::now(),
            conn: None,
            identifies: Vec::new(),
            shut_down: false,
            heartbeats_seen: 0,
            presences_seen: Vec::new(),
        }
    }

    fn apply(&mut self, action: &Action) {
        let now = self.now;
        let state = self.shard.state();
        match action {
            Action::Proceed => match state {
                ShardState::FetchingGateway => self.fetched(0),
                ShardState::Connecting => self.connected(),
                ShardState::AwaitingHello => self.apply(&Action::Text(HELLO.to_owned())),
                ShardState::Identifying => self.apply(&Action::Text(READY.to_owned())),
                ShardState::Resuming => self.apply(&Action::Text(RESUMED.to_owned())),
                _ => self.apply(&Action::Timeout),
            },
            Action::Fetched(kind) => self.fetched(*kind),
            Action::Connected => self.connected(),
            Action::ConnectFailed => self.shard.handle_connect_failed(now),
            Action::Text(text) => {
                if matches!(GatewayFrame::parse(text), Ok(GatewayFrame::Hello { .. }))
                    && state == ShardState::AwaitingHello
                {
                    if let Some(conn) = self.conn.as_mut() {
                        conn.hello_seen = true;
                    }
                }
                self.shard.handle_text_frame(now, text);
            }
            Action::Binary(bytes) => self.shard.handle_binary_frame(now, bytes),
            Action::Closed(code) => {
                if state.is_connected() {
                    self.conn = None;
                }
                self.shard
                    .handle_closed(now, code.map(|c| (c, "reason".to_owned())));
            }
            Action::Timeout => {
                if let Some(at) = self.shard.poll_timeout() {
                    self.now = self.now.max(at);
                }
                self.shard.handle_timeout(self.now);
            }
            Action::Jump(ms) => {
                self.now += Duration::from_millis(*ms);
                self.shard.handle_timeout(self.now);
            }
            Action::Command(size) => {
                let command = if *size < 300 {
                    GatewayCommand::PresenceUpdate(PresenceUpdate {
                        since: None,
                        activities: vec![],
                        status: "x".repeat(*size),
                        afk: false,
                    })
                } else {
                    GatewayCommand::RequestGuildMembers(RequestGuildMembers {
                        guild_id: "1".repeat(*size),
                        query: None,
                        limit: 0,
                        presences: None,
                        user_ids: None,
                        nonce: None,
                    })
                };
                let _ = self.shard.send_command(now, command);
            }
            Action::Hold(ms) => self
                .shard
                .hold_identify_until(now + Duration::from_millis(*ms)),
            Action::Shutdown => {
                self.shut_down = true;
                self.shard.shutdown(now);
            }
        }
    }

    fn fetched(&mut self, kind: u8) {
        let result = match kind {
            0..=6 => Ok(GatewayBot {
                url: "wss://gateway.discord.gg".to_owned(),
                shards: 1,
                session_start_limit: Some(SessionStartLimit {
                    total: 1000,
                    // Mostly a healthy budget; kind 5 and 6 are exhausted ones.
                    remaining: if kind >= 5 { 0 } else { 999 - u32::from(kind) },
                    reset_after: u64::from(kind) * 100_000,
                    max_concurrency: u32::from(kind),
                }),
            }),
            7 => Err(GatewayFetchError::Unauthorized),
            _ => Err(GatewayFetchError::Transient {
                retry_after: Some(Duration::from_secs(u64::from(kind))),
            }),
        };
        self.shard.handle_gateway_fetched(self.now, result);
    }

    fn connected(&mut self) {
        if self.shard.state() == ShardState::Connecting {
            self.conn = Some(Conn::default());
        }
        self.shard.handle_connected(self.now);
    }

    /// Drains outputs, checking each, then checks the state.
    fn check(&mut self) -> Result<(), TestCaseError> {
        let mut count = 0;
        while let Some(out) = self.shard.poll_output() {
            count += 1;
            prop_assert!(count < 500, "a busy loop of outputs");
            match out {
                Output::Send(frame) => {
                    prop_assert!(frame.len() <= 4096);
                    let conn = self.conn.as_mut();
                    prop_assert!(
                        conn.is_some(),
                        "sent {:?} without a connection",
                        frame.kind()
                    );
                    let conn = conn.unwrap();
                    if matches!(frame.kind(), OutgoingKind::Identify | OutgoingKind::Resume) {
                        prop_assert!(conn.hello_seen, "handshake before Hello");
                        conn.handshakes += 1;
                        prop_assert!(conn.handshakes <= 1, "two handshakes on one connection");
                    }
                    if frame.kind() == OutgoingKind::Identify {
                        if let Some(last) = self.identifies.last() {
                            prop_assert!(self.now - *last >= Duration::from_secs(5));
                        }
                        self.identifies.push(self.now);
                    }
                    conn.sends.push(self.now);
                    match GatewayFrame::parse(frame.as_str()) {
                        Ok(GatewayFrame::PresenceUpdate(p)) => self.presences_seen.push(p.status),
                        Ok(GatewayFrame::Heartbeat { .. }) => self.heartbeats_seen += 1,
                        _ => {}
                    }
                    let window_start = self.now.checked_sub(Duration::from_secs(60));
                    let in_window = conn
                        .sends
                        .iter()
                        .filter(|t| window_start.is_none_or(|w| **t > w))
                        .count();
                    prop_assert!(in_window <= 120, "{in_window} sends in 60 s");
                }
                Output::Close { code } => {
                    prop_assert!(self.conn.is_some(), "close without a connection");
                    prop_assert!(
                        self.shut_down || (code != 1000 && code != 1001),
                        "closed with {code}"
                    );
                    self.conn = None;
                }
                Output::Connect { .. } => {
                    prop_assert!(self.conn.is_none(), "dialing while connected");
                }
                Output::FetchGateway | Output::Event(_) => {}
                _ => {}
            }
        }
        let state = self.shard.state();
        if !state.is_connected() {
            self.conn = None;
        }
        if state.is_connected() || matches!(state, ShardState::BackingOff { .. }) {
            prop_assert!(
                self.shard.poll_timeout().is_some(),
                "no pending timer in {state:?}"
            );
        }
        if let ShardState::BackingOff { until } = state {
            prop_assert!(self.shard.poll_timeout() <= Some(until));
        }
        if matches!(state, ShardState::Stopped { .. }) {
            prop_assert_eq!(self.shard.poll_timeout(), None);
        }
        Ok(())
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn arbitrary_inputs_never_panic_wedge_or_break_the_send_rules(
        compress in any::<bool>(),
        seed in any::<u64>(),
        actions in proptest::collection::vec(action(), 1..120),
        shutdown_at in proptest::option::weighted(0.1, 0usize..120),
    ) {
        let mut config = ShardConfig::new("token");
        config.compress = compress;
        let mut model = Model::new(config, seed);
        model.shard.start(model.now);
        model.check()?;
        for (i, action) in actions.iter().enumerate() {
            if shutdown_at == Some(i) {
                model.apply(&Action::Shutdown);
                model.check()?;
            }
            model.apply(action);
            model.check()?;
        }
    }

    /// A cooperative peer: every Hello is answered, heartbeats ACKed; the
    /// shard gets Ready and keeps at most one handshake per connection,
    /// whatever closes and time jumps happen.
    #[test]
    fn healthy_driving_reaches_ready(
        seed in any::<u64>(),
        drops in proptest::collection::vec(proptest::option::of(any::<u16>()), 0..6),
    ) {
        let mut config = ShardConfig::new("token");
        config.gateway_url = Some("wss://g".to_owned());
        let mut model = Model::new(config, seed);
        model.shard.start(model.now);
        model.check()?;
        for drop in drops {
            // Drive until Ready (bounded).
            for _ in 0..50 {
                match model.shard.state() {
                    ShardState::Ready | ShardState::Stopped { .. } => break,
                    ShardState::Connecting => model.apply(&Action::Connected),
                    ShardState::AwaitingHello => model.apply(&Action::Text(HELLO.to_owned())),
                    ShardState::Identifying => {
                        if model.identifies.is_empty() || model.shard.poll_timeout().is_none() {
                            model.apply(&Action::Timeout);
                        }
                        model.check()?;
                        if model.shard.state() == ShardState::Identifying && model.conn.as_ref().is_some_and(|c| c.handshakes == 1) {
                            model.apply(&Action::Text(READY.to_owned()));
                        } else {
                            model.apply(&Action::Timeout);
                        }
                    }
                    ShardState::Resuming => model.apply(&Action::Text(RESUMED.to_owned())),
                    _ => model.apply(&Action::Timeout),
                }
                model.check()?;
            }
            let state = model.shard.state();
            prop_assert!(
                matches!(state, ShardState::Ready | ShardState::Stopped { fatal: true }),
                "stuck in {:?}", state
            );
            if let ShardState::Stopped { .. } = state {
                break;
            }
            model.apply(&Action::Jump(5_000));
            model.check()?;
            model.apply(&Action::Closed(drop));
            model.check()?;
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Bursts of commands at random times on a Ready shard: every accepted
    /// command is sent exactly once, in order, and no 60 s window holds
    /// more than 120 sends, heartbeats included.
    #[test]
    fn command_bursts_respect_the_window_and_lose_nothing(
        seed in any::<u64>(),
        bursts in proptest::collection::vec((0usize..150, 0u64..90_000), 1..8),
    ) {
        let mut config = ShardConfig::new("token");
        config.gateway_url = Some("wss://g".to_owned());
        let mut model = Model::new(config, seed);
        model.shard.start(model.now);
        model.check()?;
        for action in [Action::Proceed, Action::Proceed, Action::Proceed] {
            model.apply(&action);
            model.check()?;
        }
        prop_assert_eq!(model.shard.state(), ShardState::Ready);
        let mut accepted = Vec::new();
        let mut sent = Vec::new();
        let mut next = 0u32;
        for (count, gap) in bursts {
            for _ in 0..count {
                let status = next.to_string();
                let command = GatewayCommand::PresenceUpdate(PresenceUpdate {
                    since: None,
                    activities: vec![],
                    status: status.clone(),
                    afk: false,
                });
                if model.shard.send_command(model.now, command).is_ok() {
                    accepted.push(status);
                }
                next += 1;
            }
            // Step through time timer by timer, ACKing every heartbeat.
            let end = model.now + Duration::from_millis(gap);
            loop {
                drain_acking(&mut model, &mut sent)?;
                match model.shard.poll_timeout() {
                    Some(at) if at <= end => {
                        model.now = model.now.max(at);
                        model.shard.handle_timeout(model.now);
                    }
                    _ => break,
                }
            }
            model.now = end;
        }
        // Let the queue drain.
        for _ in 0..10 {
            model.now += Duration::from_secs(30);
            model.shard.handle_timeout(model.now);
            drain_acking(&mut model, &mut sent)?;
        }
        prop_assert_eq!(sent, accepted);
    }
}

/// Drains outputs like [`Model::check`] does, ACKing heartbeats and
/// collecting the status of every Presence Update sent.
fn drain_acking(model: &mut Model, sent: &mut Vec<String>) -> Result<(), TestCaseError> {
    model.check()?;
    let acks = std::mem::take(&mut model.heartbeats_seen);
    sent.extend(std::mem::take(&mut model.presences_seen));
    prop_assert!(
        model.shard.state() == ShardState::Ready,
        "left Ready: {:?}",
        model.shard.state()
    );
    if acks > 0 {
        model.shard.handle_text_frame(model.now, r#"{"op":11}"#);
        model.check()?;
        sent.extend(std::mem::take(&mut model.presences_seen));
        model.heartbeats_seen = 0;
    }
    Ok(())
}
