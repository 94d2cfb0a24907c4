//! Properties of `kook::Session` under any interleaving of server frames
//! (shuffled and duplicated `sn`, garbage, zlib, HELLOs, RECONNECTs),
//! TCP drops, failed fetches and dials, and time jumps:
//! - nothing panics, and no busy loop (the harness checks every deadline);
//! - within one session, every `sn` is delivered at most once, in
//!   increasing order, and gap reports cover exactly the skipped range;
//! - the reorder buffer never exceeds its bound;
//! - once the peer behaves again, the session ends up connected (no wedge).

mod kook_common;

use std::time::Duration;

use kook_common::{event_frame, ms, secs, HelloReply, ResumeReply, Sim};
use krill_core::kook::{Event, GatewayFetchError, ReorderLimits, SessionConfig, State};
use proptest::prelude::*;

#[derive(Debug, Clone)]
enum Op {
    Event(u64),
    ZlibEvent(u64),
    Pong,
    Hello(i64),
    Reconnect(i64),
    ResumeAck,
    Garbage(String),
    Binary(Vec<u8>),
    Drop,
    Advance(u64),
    FailNextFetch,
    FailNextDial,
    SilentNextHello,
    RejectNextHello(i64),
    NextResume(u8),
    AnswerPings(bool),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        30 => (1u64..40).prop_map(Op::Event),
        3 => (1u64..40).prop_map(Op::ZlibEvent),
        4 => Just(Op::Pong),
        1 => prop_oneof![Just(0i64), Just(40101), Just(40103)].prop_map(Op::Hello),
        2 => prop_oneof![Just(40106i64), Just(40107), Just(40108)].prop_map(Op::Reconnect),
        2 => Just(Op::ResumeAck),
        2 => ".{0,40}".prop_map(Op::Garbage),
        2 => proptest::collection::vec(any::<u8>(), 0..64).prop_map(Op::Binary),
        3 => Just(Op::Drop),
        20 => (0u64..70_000).prop_map(Op::Advance),
        2 => Just(Op::FailNextFetch),
        2 => Just(Op::FailNextDial),
        1 => Just(Op::SilentNextHello),
        1 => prop_oneof![Just(40100i64), Just(40102)].prop_map(Op::RejectNextHello),
        2 => (0u8..4).prop_map(Op::NextResume),
        2 => any::<bool>().prop_map(Op::AnswerPings),
    ]
}

const MAX_EVENTS: usize = 5;

fn config() -> SessionConfig {
    let mut config = SessionConfig::default();
    config.reorder_limits = ReorderLimits {
        max_events: MAX_EVENTS,
        max_bytes: event_frame(10).len() * 4,
    };
    config
}

fn apply(sim: &mut Sim, op: Op) {
    match op {
        Op::Event(sn) => sim.server_event(sn),
        Op::ZlibEvent(sn) => sim.server_binary(zlib(&event_frame(sn))),
        Op::Pong => sim.server_text(r#"{"s":3}"#),
        Op::Hello(code) => sim.server_text(format!(
            r#"{{"s":1,"d":{{"code":{code},"session_id":"rogue"}}}}"#
        )),
        Op::Reconnect(code) => sim.server_text(format!(r#"{{"s":5,"d":{{"code":{code}}}}}"#)),
        Op::ResumeAck => sim.server_text(r#"{"s":6,"d":{}}"#),
        Op::Garbage(text) => sim.server_text(text),
        Op::Binary(bytes) => sim.server_binary(bytes),
        Op::Drop => {
            if sim.peer.open {
                sim.drop_tcp();
            }
        }
        Op::Advance(millis) => sim.run_for(ms(millis)),
        Op::FailNextFetch => sim
            .peer
            .gateway
            .push_back(Err(GatewayFetchError::Transient {
                detail: "flaky".to_owned(),
            })),
        Op::FailNextDial => sim.peer.dials.push_back(false),
        Op::SilentNextHello => sim.peer.hellos.push_back(HelloReply::Silent),
        Op::RejectNextHello(code) => sim.peer.hellos.push_back(HelloReply::Code(code)),
        Op::NextResume(kind) => sim.peer.resumes.push_back(match kind {
            0 => ResumeReply::Accept { ack: true },
            1 => ResumeReply::Silent,
            2 => ResumeReply::NewSession,
            _ => ResumeReply::Reconnect(40107),
        }),
        Op::AnswerPings(on) => sim.peer.answer_pings = on,
    }
}

fn zlib(text: &str) -> Vec<u8> {
    use std::io::Write;
    let mut encoder = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::fast());
    encoder.write_all(text.as_bytes()).expect("in-memory write");
    encoder.finish().expect("in-memory write")
}

/// Checks the delivery invariants over the whole event log.
fn check_delivery(events: &[(Duration, Event)]) -> Result<(), TestCaseError> {
    let mut last = 0u64;
    for (_, event) in events {
        match event {
            Event::Hello { resumed: false, .. } => last = 0,
            Event::GapSkipped { from, to } => {
                prop_assert_eq!(*from, last + 1, "a gap starts right after the last sn");
                prop_assert!(to >= from);
                last = *to;
            }
            other => {
                if let Some(sn) = other.sn() {
                    prop_assert!(sn > last, "sn {} delivered after {}", sn, last);
                    last = sn;
                }
            }
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn any_interleaving_is_safe_ordered_bounded_and_recovers(
        seed in any::<u64>(),
        ops in proptest::collection::vec(op(), 0..120),
    ) {
        let mut sim = Sim::with_config(config(), seed);
        sim.start();
        let limits = sim.session.config().reorder_limits;
        for op in ops {
            apply(&mut sim, op);
            prop_assert!(sim.session.held_events() <= limits.max_events);
            prop_assert!(sim.session.held_bytes() <= limits.max_bytes);
            prop_assert_ne!(sim.session.state(), State::Stopped);
        }
        check_delivery(&sim.events)?;

        // The peer behaves again: the session must come back by itself.
        sim.peer.gateway.clear();
        sim.peer.dials.clear();
        sim.peer.hellos.clear();
        sim.peer.resumes.clear();
        sim.peer.answer_pings = true;
        sim.run_for(secs(300));
        prop_assert_eq!(sim.session.state(), State::Connected, "{}", sim.transcript());
        check_delivery(&sim.events)?;
    }
}

/// Arbitrary JSON, to put odd types where KOOK fields are expected.
fn any_json() -> impl Strategy<Value = serde_json::Value> {
    use serde_json::{json, Value};
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        any::<f64>().prop_map(|f| json!(f)),
        ".{0,12}".prop_map(Value::String),
    ];
    leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            proptest::collection::btree_map(
                prop_oneof![
                    Just("type".to_owned()),
                    Just("id".to_owned()),
                    Just("mention".to_owned()),
                    Just("roles".to_owned()),
                    Just("attachments".to_owned()),
                    Just("body".to_owned()),
                    Just("quote".to_owned()),
                    "[a-z_]{1,8}".prop_map(|s| s),
                ],
                inner,
                0..4
            )
            .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// The parsers at the byte boundary (what the `kook_frame` fuzz target
    /// runs) never panic.
    #[test]
    fn parsers_never_panic_on_any_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..256)) {
        let _ = krill_core::kook::parse_binary(&bytes, 1 << 20);
        let _ = krill_core::kook::parse_text(&String::from_utf8_lossy(&bytes));
        let _ = krill_core::kook::parse_binary(&zlib(&String::from_utf8_lossy(&bytes)), 1 << 20);
    }

    /// Typed payload parsing is total, whatever types the fields have.
    #[test]
    fn event_payloads_parse_whatever_the_field_types(
        kind in prop_oneof![Just(serde_json::json!(255)), Just(serde_json::json!(9)), any_json()],
        extra in any_json(),
        body in any_json(),
        content in any_json(),
    ) {
        let mut extra = extra;
        if let Some(map) = extra.as_object_mut() {
            map.insert("body".to_owned(), body);
        }
        let data = serde_json::json!({
            "type": kind, "channel_type": "GROUP", "content": content, "extra": extra,
        });
        let frame = serde_json::json!({"s": 0, "sn": 1, "d": data}).to_string();
        let signal = krill_core::kook::parse_text(&frame);
        prop_assert!(signal.is_ok());
        if let Ok(krill_core::kook::Signal::Event { data, .. }) = signal {
            if let krill_core::kook::EventBody::Message(m) = krill_core::kook::EventBody::parse(data) {
                let _ = m.text_without_mention("1");
                let _ = m.mentions_user("1");
            }
        }
    }
}
