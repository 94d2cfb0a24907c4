//! Fuzz target `kook_frame`: the KOOK frame parsers at the byte boundary.
//!
//! The first byte picks the path; the rest is the frame:
//! - even: a text frame (`parse_text`, then `EventBody::parse` for s=0);
//! - odd: a binary frame (zlib inflate bounded to 1 MiB, then the same).
//!
//! Every input is also fed to a connected `Session`, which must not panic
//! and must keep its reorder buffer within bounds.
#![no_main]

use std::time::{Duration, Instant};

use krill_core::kook::{parse_binary, parse_text, EventBody, Session, SessionConfig, Signal};
use krill_core::secret::Secret;
use libfuzzer_sys::fuzz_target;

const MAX_INFLATED: usize = 1024 * 1024;

fn check(signal: Signal) {
    if let Signal::Event { data, .. } = signal {
        if let EventBody::Message(message) = EventBody::parse(data) {
            let _ = message.text_without_mention("2862900000");
            let _ = message.mentions_user("2862900000");
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&selector, frame)) = data.split_first() else {
        return;
    };
    let binary = selector % 2 == 1;

    if binary {
        if let Ok((signal, _)) = parse_binary(frame, MAX_INFLATED) {
            check(signal);
        }
    } else if let Ok(text) = std::str::from_utf8(frame) {
        if let Ok(signal) = parse_text(text) {
            check(signal);
        }
    }

    // The same frame through a live session.
    let mut config = SessionConfig::default();
    config.max_inflated_bytes = MAX_INFLATED;
    let mut session = Session::new(config, u64::from(selector));
    let now = Instant::now();
    session.start(now);
    session.handle_gateway_fetched(now, Ok(Secret::new("wss://fuzz.test/gateway?token=t")));
    session.handle_connected(now);
    session.handle_text_frame(now, r#"{"s":1,"d":{"code":0,"session_id":"fuzz"}}"#);
    if binary {
        session.handle_binary_frame(now, frame);
    } else {
        session.handle_text_frame(now, &String::from_utf8_lossy(frame));
    }
    session.handle_timeout(now + Duration::from_secs(60));
    while session.poll_output().is_some() {}
    let limits = session.config().reorder_limits;
    assert!(session.held_events() <= limits.max_events);
    assert!(session.held_bytes() <= limits.max_bytes);
});
