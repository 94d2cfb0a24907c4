//! Insta snapshots of whole scripted KOOK sessions: frames sent, URLs
//! dialled (token redacted), events, state changes and relative times.
//! They read like `websocket.md` § 连接流程.

mod kook_common;

use kook_common::{event_frame, secs, Sim, TOKEN};
use krill_core::kook::GatewayFetchError;

/// Fetch, connect, HELLO, events (one out of order, one duplicate), a PING
/// cycle, then the PONGs stop: re-PINGs at +6 s and +8 s, give up at +12 s,
/// resume 8 s later with the resume query, HELLO, RESUME, the offline
/// events, RESUME ACK, and PINGs again.
#[test]
fn pong_timeout_reping_resume_and_resume_ack() {
    let mut sim = Sim::new(2024);
    sim.start();
    sim.server_event(1);
    sim.server_event(3);
    sim.server_event(2);
    sim.server_event(2);
    sim.run_for(secs(40));
    sim.peer.answer_pings = false;
    sim.peer.offline = vec![event_frame(4), event_frame(5)];
    sim.run_for(secs(40));
    sim.peer.answer_pings = true;
    sim.run_for(secs(40));
    let transcript = sim.transcript();
    assert!(
        !transcript.contains(TOKEN),
        "the token leaked into the transcript"
    );
    insta::assert_snapshot!(transcript);
}

/// The gateway fetch fails twice, then RECONNECT: sn, session and buffer are
/// cleared and a new gateway is fetched; the new session PINGs with sn 0.
#[test]
fn fetch_backoff_then_reconnect_and_a_fresh_session() {
    let mut sim = Sim::new(7);
    let flaky = || GatewayFetchError::Transient {
        detail: "HTTP 502".to_owned(),
    };
    sim.peer.gateway.extend([Err(flaky()), Err(flaky())]);
    sim.start();
    sim.run_for(secs(4));
    sim.server_event(1);
    sim.server_event(2);
    sim.server_event(4);
    sim.server_text(r#"{"s":5,"d":{"code":40108,"err":"Missing params"}}"#);
    sim.run_for(secs(40));
    let transcript = sim.transcript();
    assert!(!transcript.contains(TOKEN));
    insta::assert_snapshot!(transcript);
}
