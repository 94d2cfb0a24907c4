//! Scenario tests for `kook::Session`'s events: delivered in `sn` order,
//! duplicates dropped, gaps skipped after 6 s and bounded, each session
//! from sn 1; compressed frames, malformed input and unknown signals
//! (`docs/protocol-kook.md` § Event order), driven by the deterministic
//! simulation in `kook_common`.

mod kook_common;

use kook_common::{event_frame, ms, secs, Sim};
use krill_core::kook::{
    Event, FrameError, GatewayFetchError, InflateError, Output, ReorderLimits, SessionConfig, State,
};
use krill_core::secret::Secret;

fn transient() -> GatewayFetchError {
    GatewayFetchError::Transient {
        detail: "HTTP 502".to_owned(),
    }
}

// ----- event order -----

#[test]
fn events_are_delivered_in_sn_order_once_the_gap_fills() {
    let mut sim = Sim::new(23);
    sim.start_connected();
    sim.server_event(1);
    sim.server_event(3);
    sim.server_event(4);
    assert_eq!(sim.delivered_sns(), vec![1]);
    assert_eq!(sim.session.held_events(), 2);
    sim.server_event(2);
    assert_eq!(sim.delivered_sns(), vec![1, 2, 3, 4]);
    assert_eq!(sim.session.held_events(), 0);
    assert_eq!(sim.session.last_sn(), 4);
}

#[test]
fn duplicates_are_dropped() {
    let mut sim = Sim::new(24);
    sim.start_connected();
    for sn in [1, 2, 2, 1, 4, 4, 3, 3, 4] {
        sim.server_event(sn);
    }
    assert_eq!(sim.delivered_sns(), vec![1, 2, 3, 4]);
}

#[test]
fn a_gap_that_never_fills_is_skipped_after_6_seconds_and_reported() {
    let mut sim = Sim::new(25);
    sim.start_connected();
    sim.server_event(1);
    sim.server_event(4);
    sim.server_event(5);
    sim.run_for(ms(5_999));
    assert_eq!(sim.delivered_sns(), vec![1]);
    sim.run_for(ms(1));
    assert_eq!(sim.delivered_sns(), vec![1, 4, 5]);
    assert!(sim
        .events
        .iter()
        .any(|(_, e)| *e == Event::GapSkipped { from: 2, to: 3 }));
    // A straggler from the skipped range is now a duplicate.
    sim.server_event(2);
    assert_eq!(sim.delivered_sns(), vec![1, 4, 5]);
}

#[test]
fn the_gap_timer_restarts_when_the_in_order_sn_moves() {
    let mut sim = Sim::new(26);
    sim.start_connected();
    sim.server_event(1);
    sim.server_event(3);
    sim.server_event(5);
    sim.run_for(secs(4));
    sim.server_event(2);
    assert_eq!(sim.delivered_sns(), vec![1, 2, 3]);
    sim.run_for(ms(5_999));
    assert_eq!(
        sim.delivered_sns(),
        vec![1, 2, 3],
        "6 s from the last progress"
    );
    sim.run_for(ms(1));
    assert_eq!(sim.delivered_sns(), vec![1, 2, 3, 5]);
}

#[test]
fn the_buffer_stays_within_its_bound_and_skips_ahead_when_full() {
    let mut config = SessionConfig::default();
    config.reorder_limits = ReorderLimits {
        max_events: 4,
        max_bytes: 1 << 20,
    };
    let mut sim = Sim::with_config(config, 27);
    sim.start_connected();
    sim.server_event(1);
    for sn in 3..=20 {
        sim.server_event(sn);
        assert!(sim.session.held_events() <= 4);
    }
    // Nothing received is lost, order is kept, the missing 2 is reported.
    assert_eq!(sim.delivered_sns()[..2], [1, 3]);
    let delivered = sim.delivered_sns();
    assert!(delivered.windows(2).all(|w| w[0] < w[1]));
    assert!(sim
        .events
        .iter()
        .any(|(_, e)| *e == Event::GapSkipped { from: 2, to: 2 }));
    sim.run_for(secs(6));
    assert_eq!(sim.delivered_sns(), [vec![1], (3..=20).collect()].concat());

    // The byte bound works the same way.
    let mut config = SessionConfig::default();
    let frame_len = event_frame(10).len();
    config.reorder_limits = ReorderLimits {
        max_events: 1000,
        max_bytes: frame_len * 3,
    };
    let mut sim = Sim::with_config(config, 27);
    sim.start_connected();
    for sn in 10..=30 {
        sim.server_event(sn);
        assert!(sim.session.held_bytes() <= frame_len * 3);
        assert!(sim.session.held_events() <= 3);
    }
}

#[test]
fn each_session_starts_at_sn_1() {
    let mut sim = Sim::new(28);
    sim.start_connected();
    for sn in 1..=3 {
        sim.server_event(sn);
    }
    sim.server_text(r#"{"s":5,"d":{"code":40107}}"#);
    sim.run_for(secs(5));
    sim.server_event(1);
    sim.server_event(2);
    assert_eq!(sim.delivered_sns(), vec![1, 2, 3, 1, 2]);
}

// ----- compression, malformed input, unknowns -----

fn zlib(text: &str) -> Vec<u8> {
    use std::io::Write;
    let mut encoder = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(text.as_bytes()).expect("in-memory write");
    encoder.finish().expect("in-memory write")
}

#[test]
fn zlib_binary_frames_work_with_compress_1() {
    let mut sim = Sim::manual(29);
    sim.session = krill_core::kook::Session::new(SessionConfig::new(true), 29);
    sim.start();
    assert_eq!(sim.take(), vec![Output::FetchGateway { compress: true }]);
    sim.session.handle_gateway_fetched(
        sim.now,
        Ok(Secret::new("wss://kook.test/gateway?compress=1&token=t")),
    );
    assert!(matches!(sim.take()[..], [Output::Connect { .. }]));
    sim.session.handle_connected(sim.now);
    let hex = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/kook/gateway/zlib_frame_hello_ok.hex"
    ))
    .expect("fixture");
    let bytes = decode_hex(hex.trim());
    sim.server_binary(bytes);
    assert_eq!(sim.session.state(), State::Connected);
    assert_eq!(
        sim.session.session_id(),
        Some("b7e3a1f0-5c2d-4e89-9a6b-0d4c8f2e1a37")
    );
    sim.server_binary(zlib(&event_frame(1)));
    sim.server_text(event_frame(2));
    assert_eq!(sim.delivered_sns(), vec![1, 2]);
    // Client frames stay text.
    sim.run_for(secs(40));
    assert!(sim
        .take()
        .iter()
        .any(|o| matches!(o, Output::Send(t) if t == r#"{"s":2,"sn":2}"#)));
}

#[test]
fn binary_frames_that_do_not_inflate_are_reported_and_the_session_goes_on() {
    let mut config = SessionConfig::default();
    config.max_inflated_bytes = 1024;
    let mut sim = Sim::with_config(config, 30);
    sim.start_connected();
    sim.server_binary(vec![0x78, 0x9c, 0xff, 0x00]);
    sim.server_binary(Vec::new());
    let big = format!(r#"{{"s":3,"pad":"{}"}}"#, "a".repeat(4096));
    sim.server_binary(zlib(&big));
    let mut truncated = zlib(&event_frame(1));
    truncated.truncate(truncated.len() / 2);
    sim.server_binary(truncated);
    let errors: Vec<FrameError> = sim
        .events
        .iter()
        .filter_map(|(_, e)| match e {
            Event::MalformedFrame { error } => Some(error.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(errors.len(), 4, "{errors:?}");
    assert_eq!(
        errors[2],
        FrameError::Inflate(InflateError::TooLarge { limit: 1024 })
    );
    assert!(matches!(
        errors[3],
        FrameError::Inflate(InflateError::Corrupt { .. })
    ));
    assert_eq!(sim.session.state(), State::Connected);
    sim.server_binary(zlib(&event_frame(1)));
    assert_eq!(sim.delivered_sns(), vec![1]);
}

#[test]
fn malformed_text_frames_are_reported_and_the_session_goes_on() {
    let mut sim = Sim::new(31);
    sim.start_connected();
    for text in [
        "not json",
        "[1,2]",
        "{}",
        r#"{"s":"zero"}"#,
        r#"{"s":0,"d":{}}"#,
        r#"{"s":0,"sn":-1,"d":{}}"#,
        "",
    ] {
        sim.server_text(text);
    }
    let errors: Vec<FrameError> = sim
        .events
        .iter()
        .filter_map(|(_, e)| match e {
            Event::MalformedFrame { error } => Some(error.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(errors.len(), 7);
    assert!(matches!(errors[0], FrameError::Json { .. }));
    assert_eq!(errors[1], FrameError::NotAnObject);
    assert_eq!(errors[2], FrameError::MissingSignal);
    assert_eq!(errors[3], FrameError::MissingSignal);
    assert_eq!(errors[4], FrameError::MissingSn);
    assert_eq!(errors[5], FrameError::MissingSn);
    assert_eq!(sim.session.state(), State::Connected);
    sim.server_event(1);
    assert_eq!(sim.delivered_sns(), vec![1]);
}

#[test]
fn unknown_signals_and_event_types_are_typed_unknowns() {
    let mut sim = Sim::new(32);
    sim.start_connected();
    sim.server_text(r#"{"s":9,"d":{"x":1}}"#);
    sim.server_text(r#"{"s":0,"sn":1,"d":{"type":77,"channel_type":"GROUP"}}"#);
    sim.server_text(r#"{"s":0,"sn":2,"d":"not an object"}"#);
    sim.server_event(3);
    let kinds: Vec<String> = sim
        .events
        .iter()
        .filter(|(_, e)| !matches!(e, Event::Hello { .. }))
        .map(|(_, e)| match e {
            Event::UnknownSignal { s, .. } => format!("signal {s}"),
            Event::Message { sn, message } => format!("message {sn} {:?}", message.message_type),
            Event::UnknownEvent { sn, event } => format!("unknown {sn} {:?}", event.type_code),
            other => format!("{other:?}"),
        })
        .collect();
    assert_eq!(
        kinds,
        vec![
            "signal 9",
            "message 1 Other(77)",
            "unknown 2 None",
            "message 3 KMarkdown"
        ]
    );
}

// ----- getters, stale inputs, stop, determinism -----

#[test]
fn since_last_event_and_since_last_pong_expose_a_wedge() {
    let mut sim = Sim::new(33);
    sim.start_connected();
    assert_eq!(sim.session.since_last_event(sim.now), None);
    assert_eq!(sim.session.since_last_pong(sim.now), None);
    sim.server_event(1);
    sim.run_for(secs(300));
    // PONGs keep coming, events do not: the wedge is visible.
    assert!(sim.session.since_last_pong(sim.now).expect("pong") <= secs(35));
    assert_eq!(sim.session.since_last_event(sim.now), Some(secs(300)));
}

#[test]
fn stale_and_out_of_place_inputs_are_ignored() {
    let mut sim = Sim::manual(34);
    // Before start: nothing.
    sim.session.handle_connected(sim.now);
    sim.session
        .handle_text_frame(sim.now, r#"{"s":1,"d":{"code":0,"session_id":"x"}}"#);
    sim.session.handle_closed(sim.now, None);
    sim.session.handle_timeout(sim.now);
    assert!(sim.take().is_empty());
    assert_eq!(sim.session.state(), State::Idle);
    sim.start();
    sim.take();
    // Frames and dial reports while fetching the gateway: ignored.
    sim.session.handle_connected(sim.now);
    sim.session.handle_text_frame(sim.now, "garbage");
    sim.session
        .handle_closed(sim.now, Some((1000, "bye".to_owned())));
    sim.session
        .handle_gateway_fetched(sim.now, Ok(Secret::new("wss://a?token=t")));
    assert!(matches!(sim.take()[..], [Output::Connect { .. }]));
    // A second gateway answer and a close while dialling: ignored.
    sim.session
        .handle_gateway_fetched(sim.now, Ok(Secret::new("wss://b?token=t")));
    sim.session.handle_closed(sim.now, None);
    assert!(sim.take().is_empty());
    assert_eq!(sim.session.state(), State::Connecting);
    // Spurious timeouts are harmless.
    for _ in 0..5 {
        sim.session.handle_timeout(sim.now);
    }
    assert!(sim.take().is_empty());
    sim.session.handle_connected(sim.now);
    sim.session.handle_connected(sim.now);
    sim.session
        .handle_text_frame(sim.now, r#"{"s":1,"d":{"code":0,"session_id":"x"}}"#);
    sim.session
        .handle_text_frame(sim.now, r#"{"s":1,"d":{"code":0,"session_id":"y"}}"#);
    assert_eq!(
        sim.session.session_id(),
        Some("x"),
        "a second HELLO is ignored"
    );
    // Client-only signals from the server are ignored.
    sim.session.handle_text_frame(sim.now, r#"{"s":2,"sn":5}"#);
    sim.session.handle_text_frame(sim.now, r#"{"s":4,"sn":5}"#);
    let outputs = sim.take();
    assert_eq!(outputs.len(), 1, "{outputs:?}");
    assert!(matches!(outputs[0], Output::Event(Event::Hello { .. })));
}

#[test]
fn frames_after_close_are_ignored() {
    let mut sim = Sim::new(35);
    sim.start_connected();
    sim.server_text(r#"{"s":5,"d":{"code":40107}}"#);
    sim.server_event(1);
    sim.server_text(r#"{"s":3}"#);
    assert!(sim.delivered_sns().is_empty());
    assert_eq!(sim.session.since_last_pong(sim.now), None);
}

#[test]
fn stop_closes_and_goes_quiet_and_start_begins_a_fresh_session() {
    let mut sim = Sim::new(36);
    sim.start_connected();
    sim.server_event(1);
    sim.session.stop(sim.now);
    sim.pump();
    assert_eq!(sim.closes.len(), 1);
    assert_eq!(sim.session.state(), State::Stopped);
    assert_eq!(sim.session.poll_timeout(), None);
    sim.run_for(secs(600));
    assert_eq!(sim.dials.len(), 1);
    sim.start();
    assert_eq!(sim.session.state(), State::Connected);
    assert_eq!(sim.session.session_id(), Some("session-2"));
    assert_eq!(sim.session.last_sn(), 0);
}

#[test]
fn the_same_seed_gives_the_same_session() {
    let run = |seed| {
        let mut sim = Sim::new(seed);
        sim.peer
            .gateway
            .extend([Err(transient()), Err(transient())]);
        sim.start();
        sim.run_for(secs(100));
        sim.peer.answer_pings = false;
        sim.run_for(secs(100));
        sim.transcript()
    };
    assert_eq!(run(77), run(77));
    assert_ne!(run(77), run(78));
}

fn decode_hex(hex: &str) -> Vec<u8> {
    (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).expect("fixture hex"))
        .collect()
}

// ----- issue 16: lossy decoding -----

/// A lone surrogate (`\ud800`) in a message's content decodes to U+FFFD:
/// the message is delivered, not dropped as a malformed frame.
#[test]
fn a_lone_surrogate_in_content_is_delivered_as_a_replacement_character() {
    let mut sim = Sim::new(30);
    sim.start_connected();
    sim.server_event(1);
    sim.server_text(event_frame(2).replace("\"content\":\"m2\"", r#""content":"hi \ud800 there""#));
    sim.server_event(3);
    assert_eq!(sim.delivered_sns(), vec![1, 2, 3]);
    let content = sim.events.iter().find_map(|(_, e)| match e {
        Event::Message { sn: 2, message } => match &message.body {
            krill_core::kook::Body::KMarkdown(text) => Some(text.clone()),
            _ => None,
        },
        _ => None,
    });
    assert_eq!(content.as_deref(), Some("hi \u{fffd} there"));
}

/// An event whose body cannot be decoded still advances `sn`: the events
/// after it are delivered at once, not after the 6 s gap timeout.
#[test]
fn an_undecodable_event_still_advances_sn() {
    let mut sim = Sim::new(31);
    sim.start_connected();
    sim.server_event(1);
    sim.server_text(event_frame(2).replace("\"content\":\"m2\"", r#""content":"bad \x escape""#));
    sim.server_event(3);
    sim.server_event(4);
    assert!(sim
        .events
        .iter()
        .any(|(_, e)| matches!(e, Event::MalformedFrame { .. })));
    assert!(
        sim.delivered_sns().contains(&4),
        "{:?}",
        sim.delivered_sns()
    );
    assert!(!sim
        .events
        .iter()
        .any(|(_, e)| matches!(e, Event::GapSkipped { .. })));
    assert_eq!(sim.session.held_events(), 0);
    assert_eq!(sim.session.last_sn(), 4);
}
