//! Scenario tests of the shard machine, one per protocol rule of
//! `docs/protocol-discord.md` (close codes, backoff, pacing and limits:
//! `discord_closes_and_limits.rs`), against the scripted fake gateway in
//! `discord_sim` (virtual time, no I/O).

mod discord_sim;

use std::time::Duration;

use discord_sim::{config, Sim, BOT_ID, INTERVAL_MS, TOKEN};
use krill_core::discord::{
    CloseCause, Dispatch, Event, FrameError, GatewayFrame, OutgoingKind, Output, Shard, ShardState,
    DEFAULT_INTENTS,
};

const MAIN: &str = "wss://gateway.discord.gg/?v=10&encoding=json";
const RESUME: &str = "wss://gateway-us-east1-b.discord.gg/?v=10&encoding=json";

fn interval() -> Duration {
    Duration::from_millis(INTERVAL_MS)
}

fn closed_events(sim: &Sim) -> Vec<(CloseCause, bool, Duration)> {
    sim.events()
        .into_iter()
        .filter_map(|e| match e {
            Event::Closed {
                cause,
                resume,
                reconnect_in,
            } => Some((cause, resume, reconnect_in)),
            _ => None,
        })
        .collect()
}

// ----- lifecycle and URLs -----

#[test]
fn start_fetches_the_gateway_then_connects_with_version_and_encoding() {
    let mut shard = Shard::new(config(), 1);
    assert_eq!(shard.state(), ShardState::Idle);
    shard.start(std::time::Instant::now());
    assert_eq!(shard.poll_output(), Some(Output::FetchGateway));
    assert_eq!(shard.state(), ShardState::FetchingGateway);
    let mut sim = Sim::default_shard();
    sim.start();
    assert_eq!(sim.outputs[0].1, Output::FetchGateway);
    assert_eq!(sim.connects()[0].1, MAIN);
}

#[test]
fn cached_gateway_url_skips_the_fetch() {
    let mut c = config();
    c.gateway_url = Some("wss://cached.example/".to_owned());
    let mut shard = Shard::new(c, 1);
    shard.start(std::time::Instant::now());
    assert_eq!(
        shard.poll_output(),
        Some(Output::Connect {
            url: "wss://cached.example/?v=10&encoding=json".to_owned()
        })
    );
    assert_eq!(shard.state(), ShardState::Connecting);
}

#[test]
fn compress_adds_zlib_stream_to_main_and_resume_urls() {
    let mut c = config();
    c.compress = true;
    let mut sim = Sim::new(c, 3);
    sim.peer.compress = true;
    sim.start();
    assert_eq!(sim.shard.state(), ShardState::Ready);
    sim.server_close(None);
    sim.advance_secs(5.0);
    let urls: Vec<String> = sim.connects().into_iter().map(|(_, u)| u).collect();
    assert_eq!(
        urls,
        [
            format!("{MAIN}&compress=zlib-stream"),
            format!("{RESUME}&compress=zlib-stream")
        ]
    );
}

// ----- handshake -----

#[test]
fn hello_then_identify_with_intents_shard_and_properties() {
    let mut c = config();
    c.shard_id = 2;
    c.shard_count = 4;
    let mut sim = Sim::new(c, 1);
    sim.start();
    let identify = sim
        .peer
        .received
        .iter()
        .find_map(|f| match f {
            GatewayFrame::Identify(i) => Some(i.clone()),
            _ => None,
        })
        .expect("an Identify");
    assert_eq!(identify.token.expose(), TOKEN);
    assert_eq!(identify.intents, DEFAULT_INTENTS);
    assert_eq!(DEFAULT_INTENTS, 46593);
    assert_eq!(identify.shard, Some([2, 4]));
    assert_eq!(identify.properties.os, "linux");
    assert_eq!(identify.properties.browser, "krill");
    assert_eq!(identify.properties.device, "krill");
}

#[test]
fn identify_debug_output_redacts_the_token() {
    let sim = Sim::ready();
    let identify = sim
        .outputs
        .iter()
        .find_map(|(_, o)| match o {
            Output::Send(f) if f.kind() == OutgoingKind::Identify => Some(f.clone()),
            _ => None,
        })
        .expect("identify");
    assert!(identify.as_str().contains(TOKEN));
    assert!(!format!("{identify:?}").contains(TOKEN));
    assert!(!format!("{:?}", sim.outputs).contains(TOKEN));
    assert!(!format!("{:?}", sim.shard).contains(TOKEN));
}

#[test]
fn never_identifies_before_hello() {
    let mut sim = Sim::default_shard();
    sim.peer.send_hello = false;
    sim.start();
    assert_eq!(sim.shard.state(), ShardState::AwaitingHello);
    sim.advance_secs(19.0);
    assert!(sim.sends().is_empty(), "nothing is sent before Hello");
    sim.server_text(r#"{"op":10,"d":{"heartbeat_interval":41250}}"#);
    assert_eq!(sim.sends()[0].1, OutgoingKind::Identify);
}

#[test]
fn hello_timeout_closes_4000_and_reconnects() {
    let mut sim = Sim::default_shard();
    sim.peer.send_hello = false;
    sim.start();
    sim.advance_secs(20.0);
    assert_eq!(sim.closes(), [4000]);
    assert!(matches!(closed_events(&sim)[0].0, CloseCause::HelloTimeout));
    assert!(sim.sends().is_empty());
}

#[test]
fn resume_is_sent_instead_of_identify_when_a_session_exists() {
    let mut sim = Sim::ready();
    sim.message(100, "hi");
    sim.clear_outputs();
    sim.server_close(Some((4000, "Unknown error")));
    sim.advance_secs(2.0);
    let sends = sim.sends();
    assert_eq!(sends[0].1, OutgoingKind::Resume);
    assert!(sim.sends_of(OutgoingKind::Identify).is_empty());
    assert!(sim.sent_texts()[0].contains(r#""session_id":"session-1","seq":2"#));
    assert_eq!(sim.connects()[0].1, RESUME);
}

// ----- heartbeats -----

#[test]
fn first_heartbeat_after_jittered_interval_then_every_interval() {
    let mut sim = Sim::ready();
    sim.advance(interval() * 4);
    let beats = sim.sends_of(OutgoingKind::Heartbeat);
    assert_eq!(beats.len(), 4);
    assert!(beats[0] < interval(), "first beat at interval * jitter");
    for pair in beats.windows(2) {
        assert_eq!(pair[1] - pair[0], interval());
    }
    // Another seed gives another first delay.
    let mut other = Sim::new(config(), 99);
    other.start();
    other.advance(interval());
    assert_ne!(other.sends_of(OutgoingKind::Heartbeat)[0], beats[0]);
}

#[test]
fn heartbeat_carries_null_before_any_sequence_then_the_last_sequence() {
    let mut sim = Sim::default_shard();
    sim.peer.answer_identify = false;
    sim.start();
    sim.advance(interval());
    assert_eq!(sim.sent_texts().last().unwrap(), r#"{"op":1,"d":null}"#);
    sim.message(1, "a");
    sim.message(2, "b");
    // A dispatch with s=null does not erase the last sequence.
    sim.server_text(r#"{"op":0,"s":null,"t":"TYPING_START","d":{}}"#);
    sim.advance(interval());
    assert_eq!(sim.sent_texts().last().unwrap(), r#"{"op":1,"d":2}"#);
    assert_eq!(sim.shard.sequence(), Some(2));
}

#[test]
fn server_heartbeat_request_is_answered_at_once() {
    let mut sim = Sim::ready();
    sim.clear_outputs();
    sim.advance_secs(1.0);
    sim.server_text(r#"{"op":1,"d":null}"#);
    let beats = sim.sends_of(OutgoingKind::Heartbeat);
    assert_eq!(beats, [sim.elapsed()]);
}

#[test]
fn heartbeat_acks_are_tracked() {
    let mut sim = Sim::ready();
    assert_eq!(sim.shard.last_ack_at(), None);
    sim.advance(interval());
    let acked = sim.shard.last_ack_at().expect("an ACK");
    sim.advance_secs(3.0);
    assert!(sim.shard.since_last_ack(sim.now).unwrap() >= Duration::from_secs(3));
    assert_eq!(sim.shard.latency(), Some(Duration::ZERO));
    assert!(acked > sim.t0);
}

#[test]
fn zombie_connection_closes_4000_at_once_and_resumes() {
    let mut sim = Sim::ready();
    sim.peer.ack_heartbeats = false;
    sim.advance(interval() * 2);
    assert_eq!(sim.closes(), [4000]);
    let closed = closed_events(&sim);
    assert_eq!(closed[0].0, CloseCause::Zombie);
    assert!(closed[0].1, "resume after a zombie");
    sim.peer.ack_heartbeats = true;
    sim.advance_secs(3.0);
    assert_eq!(sim.sends_of(OutgoingKind::Resume).len(), 1);
    assert_eq!(sim.shard.state(), ShardState::Ready);
    assert_eq!(sim.shard.session_id(), Some("session-1"));
}

#[test]
fn heartbeat_state_resets_per_connection() {
    let mut sim = Sim::ready();
    sim.peer.ack_heartbeats = false;
    sim.advance(interval()); // one unacknowledged heartbeat on connection 1
    assert_eq!(sim.sends_of(OutgoingKind::Heartbeat).len(), 1);
    sim.peer.ack_heartbeats = true;
    sim.server_close(None);
    sim.clear_outputs();
    sim.advance(interval() * 3);
    // Connection 2 heartbeats normally: the stale flag did not make a zombie.
    assert!(sim.closes().is_empty());
    assert!(sim.sends_of(OutgoingKind::Heartbeat).len() >= 2);
    assert_eq!(sim.shard.connections(), 2);
}

// ----- op 7 / op 9 -----

#[test]
fn reconnect_request_closes_4000_and_resumes_at_once() {
    let mut sim = Sim::ready();
    sim.clear_outputs();
    sim.server_text(r#"{"op":7,"d":null}"#);
    assert_eq!(sim.closes(), [4000]);
    let closed = closed_events(&sim);
    assert_eq!(
        closed[0],
        (CloseCause::ReconnectRequested, true, Duration::ZERO)
    );
    assert_eq!(sim.connects()[0], (sim.elapsed(), RESUME.to_owned()));
    assert_eq!(sim.shard.state(), ShardState::Ready);
}

#[test]
fn reconnect_request_before_hello_closes_and_reconnects() {
    let mut sim = Sim::default_shard();
    sim.peer.send_hello = false;
    sim.start();
    sim.server_text(r#"{"op":7,"d":null}"#);
    assert_eq!(sim.closes(), [4000]);
    assert!(sim.sends().is_empty());
    assert_eq!(sim.connects().len(), 2);
}

#[test]
fn repeated_reconnect_requests_back_off_instead_of_storming() {
    let mut sim = Sim::ready();
    for _ in 0..5 {
        sim.server_text(r#"{"op":7,"d":null}"#);
        if let ShardState::BackingOff { until } = sim.shard.state() {
            sim.advance(until - sim.now);
        }
        sim.advance_secs(1.0); // up for a second only: not a healthy session
    }
    let waits: Vec<Duration> = closed_events(&sim).into_iter().map(|c| c.2).collect();
    assert_eq!(waits[0], Duration::ZERO);
    assert!(waits[1..].iter().all(|w| *w >= Duration::from_millis(500)));
    assert!(waits[4] > waits[1]);
}

#[test]
fn invalid_session_resumable_resumes() {
    let mut sim = Sim::ready();
    sim.clear_outputs();
    sim.server_text(r#"{"op":9,"d":true}"#);
    assert_eq!(sim.closes(), [4000]);
    assert!(closed_events(&sim)[0].1);
    sim.advance_secs(2.0);
    assert_eq!(sim.sends_of(OutgoingKind::Resume).len(), 1);
    assert_eq!(sim.shard.session_id(), Some("session-1"));
}

#[test]
fn invalid_session_not_resumable_identifies_afresh_after_1_to_5_s() {
    let mut sim = Sim::ready();
    sim.clear_outputs();
    sim.server_text(r#"{"op":9,"d":false}"#);
    assert_eq!(sim.shard.session_id(), None);
    let (cause, resume, wait) = closed_events(&sim)[0].clone();
    assert_eq!(cause, CloseCause::InvalidSession { resumable: false });
    assert!(!resume);
    assert!(
        wait >= Duration::from_secs(1) && wait <= Duration::from_secs(5),
        "{wait:?}"
    );
    sim.advance_secs(5.0);
    assert_eq!(sim.sends_of(OutgoingKind::Identify).len(), 1);
    assert!(sim.sends_of(OutgoingKind::Resume).is_empty());
    assert_eq!(
        sim.connects()[0].1,
        MAIN,
        "a fresh session uses the main URL"
    );
    assert_eq!(sim.shard.session_id(), Some("session-2"));
}

// ----- READY / RESUMED -----

#[test]
fn ready_stores_session_resume_url_and_bot_user() {
    let mut sim = Sim::ready();
    assert_eq!(sim.shard.session_id(), Some("session-1"));
    assert_eq!(sim.shard.bot_user_id(), Some(BOT_ID));
    assert_eq!(sim.shard.sequence(), Some(1));
    assert!(matches!(sim.events()[0], Event::Ready(ref r) if r.user.id == BOT_ID));
    sim.server_close(None);
    sim.advance_secs(3.0);
    assert_eq!(sim.connects()[1].1, RESUME);
}

#[test]
fn resume_replays_missed_events_in_order_then_resumed() {
    let mut sim = Sim::ready();
    sim.server_close(None);
    // Events Discord keeps for the session while we are away.
    sim.message(10, "one");
    sim.message(11, "two");
    sim.clear_outputs();
    sim.advance_secs(3.0);
    let events = sim.events();
    let ids: Vec<String> = events
        .iter()
        .filter_map(|e| match e {
            Event::Dispatch(Dispatch::MessageCreate(m)) => Some(m.id.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(ids, ["10", "11"]);
    assert_eq!(events.last(), Some(&Event::Resumed { replayed: 2 }));
    assert_eq!(sim.shard.state(), ShardState::Ready);
    assert_eq!(sim.shard.sequence(), Some(4));
}

#[test]
fn dispatches_are_emitted_typed_and_in_order() {
    let mut sim = Sim::ready();
    sim.clear_outputs();
    sim.message(1, "first");
    sim.dispatch(
        "MESSAGE_REACTION_ADD",
        r#"{"user_id":"1","channel_id":"2","message_id":"3","emoji":{"id":null,"name":"x"}}"#,
    );
    sim.dispatch(
        "THREAD_CREATE",
        r#"{"id":"5","type":11,"guild_id":"6","name":"t","parent_id":"7"}"#,
    );
    sim.dispatch(
        "CHANNEL_CREATE",
        r#"{"id":"8","type":0,"guild_id":"6","name":"c"}"#,
    );
    sim.dispatch("INTERACTION_CREATE", r#"{"id":"9","type":2}"#);
    sim.dispatch("PRESENCE_UPDATE", r#"{"user":{"id":"1"}}"#);
    let names: Vec<String> = sim
        .events()
        .iter()
        .map(|e| match e {
            Event::Dispatch(d) => d.name().to_owned(),
            other => format!("{other:?}"),
        })
        .collect();
    assert_eq!(
        names,
        [
            "MESSAGE_CREATE",
            "MESSAGE_REACTION_ADD",
            "THREAD_CREATE",
            "CHANNEL_CREATE",
            "INTERACTION_CREATE",
            "PRESENCE_UPDATE"
        ]
    );
    assert!(sim.shard.since_last_dispatch(sim.now).is_some());
}

// ----- malformed input -----

#[test]
fn malformed_json_is_reported_and_the_session_goes_on() {
    let mut sim = Sim::ready();
    sim.clear_outputs();
    sim.server_text("{not json");
    sim.server_text(r#"{"op":0,"s":5,"t":"MESSAGE_CREATE","d":{"nope":1}}"#);
    sim.server_text(r#"{"op":10,"d":{}}"#);
    sim.server_text(r#"{"d":null}"#);
    let errors: Vec<FrameError> = sim
        .events()
        .into_iter()
        .filter_map(|e| match e {
            Event::MalformedFrame { error } => Some(error),
            _ => None,
        })
        .collect();
    assert_eq!(errors.len(), 4);
    assert_eq!(errors[1].seq(), Some(5));
    assert_eq!(
        sim.shard.sequence(),
        Some(5),
        "the bad dispatch's seq still counts"
    );
    assert_eq!(sim.shard.state(), ShardState::Ready);
    assert!(sim.closes().is_empty());
    sim.message(1, "still alive");
    assert!(matches!(
        sim.events().last(),
        Some(Event::Dispatch(Dispatch::MessageCreate(_)))
    ));
}

#[test]
fn unknown_opcodes_and_unknown_dispatches_are_typed_not_errors() {
    let mut sim = Sim::ready();
    sim.clear_outputs();
    sim.server_text(r#"{"op":42,"d":{"x":1}}"#);
    sim.dispatch("SOMETHING_NEW", r#"{"a":[1,2]}"#);
    let events = sim.events();
    assert_eq!(events[0], Event::UnknownOpcode { op: 42 });
    assert!(matches!(
        &events[1],
        Event::Dispatch(Dispatch::Unknown { name, data }) if name == "SOMETHING_NEW" && data["a"][1] == 2
    ));
    assert_eq!(sim.shard.state(), ShardState::Ready);
}

#[test]
fn heartbeat_ack_with_and_without_null_fields_both_ack() {
    let mut sim = Sim::ready();
    sim.peer.ack_heartbeats = false;
    for ack in [r#"{"op":11}"#, r#"{"op":11,"d":null,"s":null,"t":null}"#] {
        sim.advance(interval());
        sim.server_text(ack);
    }
    sim.advance(interval());
    assert!(sim.closes().is_empty(), "both forms count as ACKs");
}
