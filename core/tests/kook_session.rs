//! Scenario tests for `kook::Session`: one test per rule of
//! `docs/protocol-kook.md` § Connection lifecycle (events: `kook_session_events.rs`),
//! driven by the deterministic simulation in `kook_common`.

mod kook_common;

use std::time::Duration;

use kook_common::{event_frame, ms, query_value, secs, HelloReply, ResumeReply, Sim};
use krill_core::kook::{
    Event, FatalReason, GatewayFetchError, HelloError, Output, SessionConfig, State,
};

fn transient() -> GatewayFetchError {
    GatewayFetchError::Transient {
        detail: "HTTP 502".to_owned(),
    }
}

fn ping_times(sim: &Sim) -> Vec<Duration> {
    sim.sent
        .iter()
        .filter(|(_, text)| text.starts_with(r#"{"s":2"#))
        .map(|(t, _)| *t)
        .collect()
}

fn assert_within(actual: Duration, expected: Duration, spread: f64) {
    let lo = expected.mul_f64(1.0 - spread);
    let hi = expected.mul_f64(1.0 + spread);
    assert!(
        actual >= lo && actual <= hi,
        "{actual:?} not within {spread} of {expected:?}"
    );
}

// ----- 1. gateway fetch -----

#[test]
fn start_asks_for_the_gateway_with_the_configured_compress_flag() {
    let mut sim = Sim::manual(1);
    sim.start();
    assert_eq!(sim.take(), vec![Output::FetchGateway { compress: false }]);
    assert_eq!(sim.session.state(), State::FetchingGateway);

    let mut sim = Sim::manual(1);
    sim.session = krill_core::kook::Session::new(SessionConfig::new(true), 1);
    sim.start();
    assert_eq!(sim.take(), vec![Output::FetchGateway { compress: true }]);
}

#[test]
fn gateway_fetch_backs_off_1_2_4_up_to_60_seconds_forever() {
    let mut sim = Sim::manual(3);
    sim.start();
    let mut waits = Vec::new();
    for _ in 0..20 {
        assert_eq!(sim.take(), vec![Output::FetchGateway { compress: false }]);
        sim.session
            .handle_gateway_fetched(sim.now, Err(transient()));
        assert!(sim.take().is_empty());
        assert_eq!(sim.session.state(), State::BackingOff);
        let wait = sim.next_deadline_in().expect("a backoff deadline");
        waits.push(wait);
        sim.run_for(wait);
    }
    let expected = [1, 2, 4, 8, 16, 32, 60, 60, 60, 60];
    for (wait, want) in waits.iter().zip(expected) {
        assert_within(*wait, secs(want), 0.1);
        assert!(*wait <= secs(60));
    }
    // Forever: the 20th failure still schedules a fetch, capped at 60 s.
    assert!(waits[19] <= secs(60) && waits[19] >= secs(54));
    assert_eq!(sim.take(), vec![Output::FetchGateway { compress: false }]);
}

#[test]
fn a_rejected_token_at_the_gateway_fetch_is_fatal_and_clear() {
    let mut sim = Sim::new(1);
    sim.peer
        .gateway
        .push_back(Err(GatewayFetchError::Unauthorized {
            detail: "HTTP 401, code 401, 你的token不正确".to_owned(),
        }));
    sim.start();
    assert_eq!(sim.session.state(), State::Stopped);
    assert_eq!(sim.session.poll_timeout(), None);
    let fatal = sim
        .events
        .iter()
        .find_map(|(_, e)| match e {
            Event::Fatal { reason } => Some(reason.clone()),
            _ => None,
        })
        .expect("a fatal event");
    assert!(matches!(fatal, FatalReason::TokenRejected { .. }));
    let text = fatal.to_string();
    assert!(text.contains("channels.kook.token"), "{text}");
    assert!(text.contains("HTTP 401"), "{text}");
    // Nothing happens any more, however long we wait.
    sim.run_for(secs(3600));
    assert_eq!(sim.fetches.len(), 1);
    // `start` begins again.
    sim.start();
    assert_eq!(sim.session.state(), State::Connected);
}

// ----- 2. connect -----

#[test]
fn a_failed_dial_is_retried_after_2_and_4_seconds_then_the_gateway_is_fetched_again() {
    let mut sim = Sim::new(5);
    sim.peer.dials.extend([false, false, false]);
    sim.start();
    sim.run_for(secs(30));
    let dial_times: Vec<Duration> = sim.dials.iter().map(|(t, _)| *t).collect();
    assert_eq!(dial_times[..3], [secs(0), secs(2), secs(6)]);
    // Three dials of the first URL, then a fresh gateway fetch (after the
    // gateway backoff) and a dial of the new URL.
    assert!(sim.dials[..3].iter().all(|(_, url)| url.ends_with("-1")));
    assert_eq!(sim.fetches.len(), 2);
    assert_within(sim.fetches[1] - secs(6), secs(1), 0.1);
    assert!(sim.dials[3].1.ends_with("-2"));
    assert_eq!(sim.session.state(), State::Connected);
}

// ----- 3. HELLO -----

#[test]
fn no_hello_within_6_seconds_closes_and_fetches_a_new_gateway() {
    let mut sim = Sim::new(2);
    sim.peer.hellos.push_back(HelloReply::Silent);
    sim.start();
    assert_eq!(sim.session.state(), State::AwaitingHello);
    sim.run_for(ms(5_999));
    assert_eq!(sim.session.state(), State::AwaitingHello);
    assert!(sim.closes.is_empty());
    sim.run_for(ms(1));
    assert_eq!(sim.closes, vec![secs(6)]);
    assert_eq!(sim.session.state(), State::BackingOff);
    sim.run_for(secs(2));
    assert_eq!(sim.fetches.len(), 2);
    assert_eq!(sim.dials.len(), 2);
    assert_ne!(sim.dials[0].1, sim.dials[1].1, "never re-dial the same URL");
    assert_eq!(sim.session.state(), State::Connected);
}

#[test]
fn hello_errors_40100_to_40103_fetch_a_new_gateway_and_never_redial_the_old_url() {
    for code in [40100, 40101, 40102, 40103] {
        let mut sim = Sim::new(9);
        sim.peer.hellos.push_back(HelloReply::Code(code));
        sim.start();
        let rejected: Vec<HelloError> = sim
            .events
            .iter()
            .filter_map(|(_, e)| match e {
                Event::HelloRejected { error, .. } => Some(*error),
                _ => None,
            })
            .collect();
        assert_eq!(rejected, vec![HelloError::from_code(code)]);
        assert_eq!(rejected[0].code(), code);
        assert_eq!(sim.closes.len(), 1, "code {code}");
        assert_eq!(sim.session.state(), State::BackingOff);
        sim.run_for(secs(2));
        assert_eq!(sim.fetches.len(), 2, "code {code}");
        let urls: Vec<&str> = sim.dials.iter().map(|(_, u)| u.as_str()).collect();
        assert_eq!(urls.len(), 2);
        assert_ne!(urls[0], urls[1], "code {code}: the old URL was re-dialled");
        assert_eq!(sim.session.state(), State::Connected);
    }
}

#[test]
fn invalid_token_hellos_are_reported_with_actionable_text_and_counted_but_not_fatal() {
    let mut sim = Sim::new(4);
    sim.peer.hellos.extend([
        HelloReply::Code(40101),
        HelloReply::Code(40102),
        HelloReply::Code(40101),
        HelloReply::Ok,
        HelloReply::Code(40101),
    ]);
    sim.start();
    sim.run_for(secs(20));
    let rejections: Vec<(i64, u32, String)> = sim
        .events
        .iter()
        .filter_map(|(_, e)| match e {
            Event::HelloRejected {
                error,
                consecutive_token_rejections,
            } => Some((
                error.code(),
                *consecutive_token_rejections,
                error.to_string(),
            )),
            _ => None,
        })
        .collect();
    assert_eq!(
        rejections.iter().map(|r| (r.0, r.1)).collect::<Vec<_>>(),
        vec![(40101, 1), (40102, 2), (40101, 3)]
    );
    for (_, _, text) in &rejections {
        assert!(text.contains("channels.kook.token"), "{text}");
        assert!(text.contains("developer.kookapp.cn"), "{text}");
    }
    assert!(HelloError::InvalidToken.is_token_rejection());
    assert!(!HelloError::TokenExpired.is_token_rejection());
    // Not fatal: the fourth HELLO succeeded.
    assert_eq!(sim.session.state(), State::Connected);
    // A healthy HELLO resets the count. The connection has been up for
    // seconds, so the RECONNECT is followed at once (issue 16), without the
    // backoff the rejections built up.
    let fetches = sim.fetches.len();
    sim.server_text(r#"{"s":5,"d":{"code":40107,"err":"expired"}}"#);
    assert_eq!(sim.fetches.len(), fetches + 1);
    sim.run_for(secs(10));
    let last = sim.events.iter().rev().find_map(|(_, e)| match e {
        Event::HelloRejected {
            consecutive_token_rejections,
            ..
        } => Some(*consecutive_token_rejections),
        _ => None,
    });
    assert_eq!(last, Some(1));
}

#[test]
fn the_machine_never_sits_connected_without_a_hello() {
    let mut sim = Sim::new(6);
    sim.peer.hellos.push_back(HelloReply::Silent);
    sim.start();
    assert_eq!(sim.session.state(), State::AwaitingHello);
    // Events and PONGs before HELLO are not taken as a live session.
    sim.server_event(1);
    sim.server_text(r#"{"s":3}"#);
    assert!(sim.delivered_sns().is_empty());
    assert_eq!(sim.session.state(), State::AwaitingHello);
    assert_eq!(sim.session.since_last_pong(sim.now), None);
    assert!(sim.sent.is_empty(), "no PING before HELLO");
    sim.run_for(secs(6));
    assert_ne!(sim.session.state(), State::AwaitingHello);
    assert_eq!(sim.closes.len(), 1);
}

#[test]
fn a_tcp_drop_before_hello_goes_back_to_the_gateway() {
    let mut sim = Sim::new(6);
    sim.peer.hellos.push_back(HelloReply::Silent);
    sim.start();
    sim.run_for(secs(1));
    sim.drop_tcp();
    assert_eq!(sim.session.state(), State::BackingOff);
    sim.run_for(secs(2));
    assert_eq!(sim.fetches.len(), 2);
    assert_eq!(sim.session.state(), State::Connected);
}

// ----- 4. PING / PONG -----

#[test]
fn pings_every_30_plus_minus_5_seconds_carrying_the_last_in_order_sn() {
    let mut sim = Sim::new(11);
    sim.start_connected();
    sim.run_for(secs(600));
    let times = ping_times(&sim);
    assert!(times.len() >= 17, "{} pings in 10 minutes", times.len());
    let gaps: Vec<Duration> = times.windows(2).map(|w| w[1] - w[0]).collect();
    assert!(times[0] >= secs(25) && times[0] <= secs(35));
    assert!(
        gaps.iter().all(|g| *g >= secs(25) && *g <= secs(35)),
        "{gaps:?}"
    );
    assert!(gaps.iter().any(|g| *g != gaps[0]), "the period is jittered");
    assert!(sim.ping_sns().iter().all(|sn| *sn == 0));

    // After events 1..=3 and an out-of-order 5, PINGs carry 3 until the gap
    // timer gives up on 4, then 5.
    for sn in [1, 2, 3, 5] {
        sim.server_event(sn);
    }
    let since = sim.elapsed();
    sim.run_for(secs(80));
    let released_at = sim
        .events
        .iter()
        .find_map(|(t, e)| (*e == Event::GapSkipped { from: 4, to: 4 }).then_some(*t))
        .expect("the gap is skipped");
    assert_eq!(released_at, since + secs(6));
    let later: Vec<(Duration, String)> = sim.sent_since(since);
    assert!(later.len() >= 2);
    for (t, text) in later {
        let want = if since + t < released_at { 3 } else { 5 };
        assert_eq!(text, format!(r#"{{"s":2,"sn":{want}}}"#));
    }
    assert_eq!(sim.session.last_sn(), 5);
}

#[test]
fn ping_carries_the_in_order_sn_not_the_highest_seen() {
    let mut sim = Sim::new(11);
    sim.start_connected();
    let first_ping = sim.next_deadline_in().expect("ping timer");
    sim.run_for(first_ping - secs(1));
    for sn in [1, 2, 4] {
        sim.server_event(sn);
    }
    sim.run_for(secs(1));
    assert_eq!(sim.ping_sns(), vec![2]);
}

#[test]
fn a_late_pong_triggers_two_more_pings_after_6_then_2_seconds_then_a_resume() {
    let mut sim = Sim::new(12);
    sim.start_connected();
    for sn in 1..=3 {
        sim.server_event(sn);
    }
    sim.peer.answer_pings = false;
    sim.run_for(secs(60));
    let pings = ping_times(&sim);
    let t = pings[0];
    assert_eq!(pings[..3], [t, t + secs(6), t + secs(8)]);
    assert_eq!(sim.closes, vec![t + secs(12)]);
    assert!(sim.ping_sns().iter().all(|sn| *sn == 3));
    // The resume dial comes 8 s after giving up.
    let (dial_at, url) = sim.dials.last().expect("a resume dial").clone();
    assert_eq!(dial_at, t + secs(20));
    assert_eq!(query_value(&url, "resume").as_deref(), Some("1"));
    assert_eq!(query_value(&url, "sn").as_deref(), Some("3"));
    assert_eq!(
        query_value(&url, "session_id").as_deref(),
        Some("session-1")
    );
    assert_eq!(query_value(&url, "sessionId").as_deref(), Some("session-1"));
    assert!(url.contains("&resume=1"), "appended with &: {url}");
}

#[test]
fn state_shows_awaiting_pong_while_probing() {
    let mut sim = Sim::new(12);
    sim.start_connected();
    sim.peer.answer_pings = false;
    let first_ping = sim.next_deadline_in().expect("ping timer");
    sim.run_for(first_ping);
    assert_eq!(
        sim.session.state(),
        State::Connected,
        "a PONG is not late yet"
    );
    sim.run_for(secs(6));
    assert_eq!(sim.session.state(), State::AwaitingPong);
}

#[test]
fn a_pong_while_probing_means_recovered() {
    let mut sim = Sim::new(13);
    sim.start_connected();
    sim.peer.answer_pings = false;
    let first_ping = sim.next_deadline_in().expect("ping timer");
    sim.run_for(first_ping + secs(7));
    assert_eq!(sim.session.state(), State::AwaitingPong);
    sim.server_text(r#"{"s":3}"#);
    assert_eq!(sim.session.state(), State::Connected);
    assert_eq!(sim.session.since_last_pong(sim.now), Some(Duration::ZERO));
    sim.peer.answer_pings = true;
    sim.run_for(secs(120));
    assert!(sim.closes.is_empty());
    assert_eq!(sim.dials.len(), 1);
    assert_eq!(sim.session.state(), State::Connected);
}

// ----- 5-6. resume -----

#[test]
fn resume_sends_s4_and_the_replay_ends_with_resume_ack() {
    let mut sim = Sim::new(14);
    sim.start_connected();
    for sn in 1..=2 {
        sim.server_event(sn);
    }
    sim.peer.offline = vec![event_frame(3), event_frame(4)];
    sim.peer
        .resumes
        .push_back(ResumeReply::Accept { ack: false });
    sim.drop_tcp();
    assert_eq!(sim.session.state(), State::BackingOff);
    sim.run_for(secs(8));
    assert_eq!(sim.session.state(), State::Resuming);
    assert!(sim.sent.iter().any(|(_, text)| text == r#"{"s":4,"sn":2}"#));
    assert_eq!(sim.delivered_sns(), vec![1, 2, 3, 4]);
    sim.server_text(r#"{"s":6,"d":{"session_id":"session-1"}}"#);
    assert_eq!(sim.session.state(), State::Connected);
    assert!(matches!(
        sim.events.last(),
        Some((_, Event::ResumeAck { session_id: Some(id) })) if id == "session-1"
    ));
    assert_eq!(sim.session.session_id(), Some("session-1"));
    let hellos: Vec<bool> = sim
        .events
        .iter()
        .filter_map(|(_, e)| match e {
            Event::Hello { resumed, .. } => Some(*resumed),
            _ => None,
        })
        .collect();
    assert_eq!(hellos, vec![false, true]);
}

#[test]
fn a_tcp_drop_with_a_session_resumes_after_8_seconds() {
    let mut sim = Sim::new(15);
    sim.start_connected();
    sim.server_event(1);
    sim.run_for(secs(3));
    sim.drop_tcp();
    assert!(sim.closes.is_empty(), "nothing to close after a drop");
    assert_eq!(sim.next_deadline_in(), Some(secs(8)));
    sim.run_for(secs(8));
    let (at, url) = sim.dials.last().expect("resume dial").clone();
    assert_eq!(at, secs(11));
    assert!(url.ends_with("&resume=1&sn=1&session_id=session-1&sessionId=session-1"));
    assert!(
        url.contains("token=SECRET-TOKEN-1"),
        "resume uses the fetched URL"
    );
    assert_eq!(sim.fetches.len(), 1, "a resume needs no new gateway");
    assert_eq!(sim.session.state(), State::Connected);
}

#[test]
fn two_failed_resumes_8_then_16_seconds_apart_give_way_to_a_fresh_session() {
    let mut sim = Sim::new(16);
    sim.start_connected();
    for sn in 1..=4 {
        sim.server_event(sn);
    }
    sim.peer
        .resumes
        .extend([ResumeReply::Silent, ResumeReply::Silent]);
    sim.drop_tcp();
    let dropped = sim.elapsed();
    sim.run_for(secs(120));
    let resume_dials: Vec<Duration> = sim
        .dials
        .iter()
        .filter(|(_, u)| u.contains("resume=1"))
        .map(|(t, _)| *t - dropped)
        .collect();
    // 8 s wait, dial, 6 s HELLO timeout, 16 s wait, dial.
    assert_eq!(resume_dials, vec![secs(8), secs(30)]);
    assert!(sim.events.iter().any(|(_, e)| matches!(
        e,
        Event::ResumeFailed { session_id, last_sn: 4 } if session_id == "session-1"
    )));
    // Then a fresh gateway and a fresh session, whose PINGs start at sn 0.
    assert_eq!(sim.fetches.len(), 2);
    let last_dial = &sim.dials.last().expect("fresh dial").1;
    assert!(!last_dial.contains("resume=1"));
    assert_eq!(sim.session.session_id(), Some("session-2"));
    assert_eq!(sim.session.last_sn(), 0);
    assert_eq!(*sim.ping_sns().last().expect("a ping"), 0);
    sim.server_event(1);
    assert_eq!(sim.delivered_sns(), vec![1, 2, 3, 4, 1]);
}

#[test]
fn a_resume_answered_with_a_new_session_starts_sn_again() {
    let mut sim = Sim::new(17);
    sim.start_connected();
    for sn in 1..=3 {
        sim.server_event(sn);
    }
    sim.peer.resumes.push_back(ResumeReply::NewSession);
    sim.drop_tcp();
    sim.run_for(secs(8));
    assert_eq!(sim.session.session_id(), Some("session-2"));
    assert_eq!(sim.session.last_sn(), 0);
    assert!(sim
        .events
        .iter()
        .any(|(_, e)| matches!(e, Event::ResumeFailed { .. })));
    sim.server_event(1);
    assert_eq!(sim.delivered_sns(), vec![1, 2, 3, 1]);
}

#[test]
fn a_reconnect_during_resume_clears_everything() {
    let mut sim = Sim::new(18);
    sim.start_connected();
    sim.server_event(1);
    sim.peer.resumes.push_back(ResumeReply::Reconnect(40108));
    sim.drop_tcp();
    sim.run_for(secs(8));
    assert_eq!(sim.session.session_id(), None);
    assert_eq!(sim.session.last_sn(), 0);
    sim.run_for(secs(2));
    assert_eq!(sim.fetches.len(), 2);
    assert_eq!(sim.session.session_id(), Some("session-2"));
}

// ----- 7. RECONNECT -----

#[test]
fn reconnect_clears_sn_session_and_buffer_then_fetches_a_new_gateway() {
    for code in [40106, 40107, 40108] {
        let mut sim = Sim::new(19);
        sim.start_connected();
        for sn in [1, 2, 3, 5, 6] {
            sim.server_event(sn);
        }
        assert_eq!(sim.session.held_events(), 2);
        sim.server_text(format!(
            r#"{{"s":5,"d":{{"code":{code},"err":"Missing params"}}}}"#
        ));
        assert!(sim.events.iter().any(|(_, e)| matches!(
            e,
            Event::Reconnect { code: Some(c), .. } if *c == code
        )));
        assert_eq!(sim.closes.len(), 1);
        assert_eq!(sim.session.state(), State::BackingOff);
        assert_eq!(sim.session.session_id(), None);
        assert_eq!(sim.session.last_sn(), 0);
        assert_eq!(sim.session.held_events(), 0);
        assert_eq!(sim.session.held_bytes(), 0);
        // The held 5 and 6 are dropped, not delivered.
        sim.run_for(secs(60));
        assert_eq!(sim.delivered_sns(), vec![1, 2, 3]);
        assert_eq!(sim.fetches.len(), 2);
        assert!(sim.dials.iter().all(|(_, u)| !u.contains("resume=1")));
        assert_eq!(sim.session.session_id(), Some("session-2"));
    }
}

#[test]
fn a_new_session_is_never_pinged_with_the_old_sn() {
    let mut sim = Sim::new(20);
    sim.start_connected();
    for sn in 1..=50 {
        sim.server_event(sn);
    }
    sim.run_for(secs(40));
    assert_eq!(*sim.ping_sns().last().expect("ping"), 50);
    sim.server_text(r#"{"s":5,"d":{"code":40108,"err":"invalid sn"}}"#);
    let pings_before = sim.ping_sns().len();
    sim.run_for(secs(120));
    let new_pings = &sim.ping_sns()[pings_before..];
    assert!(!new_pings.is_empty());
    assert!(new_pings.iter().all(|sn| *sn == 0), "{new_pings:?}");
    // And the new session's sn 1 is delivered, not dropped as a duplicate.
    sim.server_event(1);
    assert_eq!(sim.delivered_sns().last(), Some(&1));
    assert_eq!(sim.session.last_sn(), 1);
}

#[test]
fn a_reconnect_storm_backs_off_instead_of_spinning() {
    let mut sim = Sim::new(21);
    sim.start_connected();
    for _ in 0..8 {
        sim.server_text(r#"{"s":5,"d":{"code":40107}}"#);
        let wait = sim.next_deadline_in().expect("backoff");
        sim.run_for(wait);
        assert_eq!(sim.session.state(), State::Connected);
    }
    let gaps: Vec<Duration> = sim.fetches.windows(2).map(|w| w[1] - w[0]).collect();
    assert_within(gaps[0], secs(1), 0.1);
    assert_within(gaps[5], secs(32), 0.1);
    assert_within(gaps[7], secs(60), 0.1);
}

#[test]
fn the_gateway_backoff_resets_after_a_healthy_session() {
    let mut sim = Sim::new(22);
    sim.peer
        .gateway
        .extend([Err(transient()), Err(transient()), Err(transient())]);
    sim.start();
    sim.run_for(secs(8));
    assert_eq!(sim.session.state(), State::Connected);
    // A PONG proves the connection; the next step-1 wait is 1 s again.
    sim.run_for(secs(40));
    assert!(sim.session.since_last_pong(sim.now).is_some());
    let fetches = sim.fetches.len();
    sim.server_text(r#"{"s":5,"d":{"code":40107}}"#);
    assert_eq!(sim.fetches.len(), fetches + 1, "at once");
}

/// Issue 16: RECONNECT every few seconds on connections that were fine is
/// followed at once every time; it never builds up a backoff.
#[test]
fn reconnects_on_sound_connections_are_followed_at_once() {
    let mut sim = Sim::new(24);
    sim.start_connected();
    for round in 0..10 {
        sim.run_for(secs(3 + round % 5));
        let fetches = sim.fetches.len();
        sim.server_text(r#"{"s":5,"d":{"code":40107}}"#);
        assert_eq!(
            sim.fetches.len(),
            fetches + 1,
            "round {round}: fetched at once"
        );
        sim.run_for(Duration::from_millis(10));
        assert_eq!(sim.session.state(), State::Connected, "round {round}");
    }
}
