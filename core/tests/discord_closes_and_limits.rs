//! Scenario tests of the shard machine, continued (see
//! `discord_scenarios.rs`): close codes, backoff, gateway fetch and identify
//! pacing, outgoing limits, zlib-stream, timers, and op 7 / op 9 as
//! instructions rather than failures; one per protocol rule of
//! `docs/protocol-discord.md`, against the scripted fake gateway in
//! `discord_sim` (virtual time, no I/O).
mod discord_sim;

use std::time::Duration;

use discord_sim::{config, Input, Sim, INTERVAL_MS, MAIN_URL, RESUME_URL};
use krill_core::discord::{
    CloseCause, Event, GatewayBot, GatewayCommand, GatewayFetchError, IdentifyLimiter,
    OutgoingKind, PresenceUpdate, RequestGuildMembers, SendError, SessionStartLimit, ShardState,
    SEND_LIMIT,
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

fn presence() -> GatewayCommand {
    GatewayCommand::PresenceUpdate(PresenceUpdate {
        since: None,
        activities: vec![],
        status: "online".to_owned(),
        afk: false,
    })
}

// ----- close codes -----

#[test]
fn close_codes_follow_the_table() {
    // (code, reconnect, resume)
    let table = [
        (4000, true, true),
        (4001, true, false),
        (4002, true, true),
        (4003, true, false),
        (4004, false, false),
        (4005, true, false),
        (4007, true, false),
        (4008, true, true),
        (4009, true, false),
        (4010, false, false),
        (4011, false, false),
        (4012, false, false),
        (4013, false, false),
        (4014, false, false),
        (1000, true, true),
        (1001, true, true),
    ];
    for (code, reconnect, resume) in table {
        let mut sim = Sim::ready();
        sim.clear_outputs();
        sim.server_close(Some((code, "bye")));
        if reconnect {
            let closed = closed_events(&sim);
            assert_eq!(closed.len(), 1, "{code}");
            assert_eq!(closed[0].1, resume, "{code}: resume");
            // (an Identify also waits for its 5 s slot after the first one)
            sim.advance_secs(6.0);
            let kind = if resume {
                OutgoingKind::Resume
            } else {
                OutgoingKind::Identify
            };
            assert_eq!(sim.sends()[0].1, kind, "{code}");
            assert_eq!(sim.shard.state(), ShardState::Ready, "{code}");
        } else {
            assert_eq!(
                sim.shard.state(),
                ShardState::Stopped { fatal: true },
                "{code}"
            );
            assert!(matches!(sim.events()[0], Event::Fatal { code: Some(c), .. } if c == code));
            assert_eq!(
                sim.shard.poll_timeout(),
                None,
                "{code}: no timer once stopped"
            );
            sim.advance_secs(3600.0);
            assert!(sim.connects().is_empty(), "{code}: never reconnects");
        }
    }
}

fn fatal_message(code: u16) -> String {
    let mut sim = Sim::ready();
    sim.server_close(Some((code, "x")));
    sim.events()
        .into_iter()
        .find_map(|e| match e {
            Event::Fatal { message, .. } => Some(message),
            _ => None,
        })
        .expect("a Fatal event")
}

#[test]
fn fatal_4014_says_to_enable_message_content_intent() {
    let message = fatal_message(4014);
    assert!(message.contains("Message Content Intent"), "{message}");
    assert!(message.contains("Developer Portal"), "{message}");
}

#[test]
fn fatal_4004_says_the_token_was_rejected() {
    let message = fatal_message(4004);
    assert!(message.contains("token"), "{message}");
    assert!(message.contains("DISCORD_BOT_TOKEN"), "{message}");
    assert!(message.contains("channels.discord.token"), "{message}");
}

#[test]
fn remote_close_1000_is_reconnectable() {
    let mut sim = Sim::ready();
    sim.server_close(Some((1000, "")));
    sim.advance_secs(3.0);
    assert_eq!(sim.shard.state(), ShardState::Ready);
    assert_eq!(sim.shard.connections(), 2);
}

#[test]
fn the_shard_never_closes_with_1000_or_1001_except_on_shutdown() {
    let mut sim = Sim::ready();
    sim.server_text(r#"{"op":7}"#);
    sim.server_text(r#"{"op":9,"d":true}"#);
    sim.advance_secs(10.0);
    sim.peer.ack_heartbeats = false;
    sim.advance(interval() * 3);
    assert!(!sim.closes().is_empty());
    assert!(
        sim.closes().iter().all(|c| *c == 4000),
        "{:?}",
        sim.closes()
    );
    sim.shard.shutdown(sim.now);
    sim.settle();
    assert_eq!(sim.closes().last(), Some(&1000));
    assert_eq!(sim.shard.state(), ShardState::Stopped { fatal: false });
    assert_eq!(sim.shard.poll_timeout(), None);
}

#[test]
fn transport_error_resumes() {
    let mut sim = Sim::ready();
    sim.clear_outputs();
    sim.server_close(None);
    assert_eq!(closed_events(&sim)[0].0, CloseCause::TransportError);
    assert!(closed_events(&sim)[0].1);
    sim.advance_secs(3.0);
    assert_eq!(sim.sends()[0].1, OutgoingKind::Resume);
}

#[test]
fn connect_failure_to_the_resume_url_falls_back_to_the_main_url() {
    let mut sim = Sim::ready();
    sim.peer.fail_prefix = Some(RESUME_URL.to_owned());
    sim.clear_outputs();
    sim.server_close(None);
    sim.advance_secs(10.0);
    let urls: Vec<String> = sim.connects().into_iter().map(|(_, u)| u).collect();
    assert_eq!(urls, [RESUME, MAIN]);
    // Still a Resume (the session is fine), now on the main URL.
    assert_eq!(sim.sends()[0].1, OutgoingKind::Resume);
    assert_eq!(sim.shard.state(), ShardState::Ready);
}

#[test]
fn repeated_failed_resumes_escalate_to_identify() {
    let mut sim = Sim::ready();
    sim.peer.answer_resume = false;
    sim.clear_outputs();
    for _ in 0..3 {
        sim.server_close(None);
        sim.advance_secs(120.0);
    }
    assert_eq!(sim.sends_of(OutgoingKind::Resume).len(), 3);
    assert_eq!(sim.sends_of(OutgoingKind::Identify).len(), 0);
    sim.server_close(None);
    assert!(!closed_events(&sim).last().unwrap().1, "gives up resuming");
    sim.advance_secs(120.0);
    assert_eq!(sim.sends_of(OutgoingKind::Identify).len(), 1);
    assert_eq!(sim.shard.session_id(), Some("session-2"));
}

#[test]
fn unknown_session_on_resume_gets_op9_and_identifies() {
    let mut sim = Sim::ready();
    sim.peer.session = None; // Discord forgot the session.
    sim.server_close(None);
    sim.advance_secs(10.0);
    let kinds: Vec<OutgoingKind> = sim
        .sends()
        .into_iter()
        .map(|(_, k)| k)
        .filter(|k| *k != OutgoingKind::Heartbeat)
        .collect();
    assert_eq!(
        kinds,
        [
            OutgoingKind::Identify,
            OutgoingKind::Resume,
            OutgoingKind::Identify
        ]
    );
    assert_eq!(sim.shard.state(), ShardState::Ready);
}

// ----- backoff -----

#[test]
fn backoff_grows_exponentially_with_jitter_and_is_capped() {
    let mut sim = Sim::ready();
    sim.peer.fail_connects = 100;
    sim.server_close(None);
    sim.advance_secs(1200.0);
    let waits: Vec<f64> = closed_events(&sim)
        .into_iter()
        .map(|c| c.2.as_secs_f64())
        .collect();
    assert!(waits.len() > 10);
    assert!((0.5..=1.5).contains(&waits[0]), "{waits:?}");
    assert!((1.0..=3.0).contains(&waits[1]), "{waits:?}");
    assert!((2.0..=6.0).contains(&waits[2]), "{waits:?}");
    assert!(waits.iter().all(|w| *w <= 60.0), "capped: {waits:?}");
    assert!(waits[8..].iter().all(|w| *w >= 30.0), "{waits:?}");
}

#[test]
fn backoff_resets_after_a_healthy_session() {
    let mut sim = Sim::ready();
    sim.peer.fail_connects = 6;
    sim.server_close(None);
    sim.advance_secs(600.0); // six failures, then Ready again; stays up.
    assert_eq!(sim.shard.state(), ShardState::Ready);
    sim.clear_outputs();
    sim.server_close(None);
    let wait = closed_events(&sim)[0].2;
    assert!(wait <= Duration::from_millis(1500), "reset: {wait:?}");
}

#[test]
fn a_short_lived_session_does_not_reset_the_backoff() {
    let mut sim = Sim::ready();
    for _ in 0..4 {
        sim.server_close(None);
        let until = match sim.shard.state() {
            ShardState::BackingOff { until } => until,
            other => panic!("{other:?}"),
        };
        sim.advance(until - sim.now);
        sim.advance_secs(1.0); // up for a second only
    }
    let waits: Vec<Duration> = closed_events(&sim).into_iter().map(|c| c.2).collect();
    assert!(waits[3] >= Duration::from_secs(4), "{waits:?}");
}

// ----- gateway fetch and identify pacing -----

#[test]
fn gateway_fetch_unauthorized_is_fatal() {
    let mut sim = Sim::default_shard();
    sim.peer
        .fetch_results
        .push_back(Err(GatewayFetchError::Unauthorized));
    sim.start();
    assert_eq!(sim.shard.state(), ShardState::Stopped { fatal: true });
    assert!(
        matches!(&sim.events()[0], Event::Fatal { code: None, message } if message.contains("DISCORD_BOT_TOKEN"))
    );
    assert_eq!(sim.shard.poll_timeout(), None);
}

#[test]
fn gateway_fetch_transient_error_retries_with_backoff() {
    let mut sim = Sim::default_shard();
    sim.peer
        .fetch_results
        .push_back(Err(GatewayFetchError::Transient {
            retry_after: Some(Duration::from_secs(7)),
        }));
    sim.start();
    assert!(
        matches!(sim.events()[0], Event::GatewayFetchFailed { retry_in } if retry_in >= Duration::from_secs(7))
    );
    assert!(matches!(sim.shard.state(), ShardState::BackingOff { .. }));
    sim.advance_secs(8.0);
    assert_eq!(sim.shard.state(), ShardState::Ready);
}

#[test]
fn exhausted_session_start_limit_waits_reset_after() {
    let mut sim = Sim::default_shard();
    sim.peer.fetch_results.push_back(Ok(GatewayBot {
        url: MAIN_URL.to_owned(),
        shards: 1,
        session_start_limit: Some(SessionStartLimit {
            total: 1000,
            remaining: 0,
            reset_after: 60_000,
            max_concurrency: 1,
        }),
    }));
    sim.start();
    assert_eq!(
        sim.events()[0],
        Event::SessionStartLimited {
            retry_in: Duration::from_secs(60)
        }
    );
    assert!(sim.connects().is_empty());
    sim.advance_secs(59.0);
    assert!(sim.connects().is_empty());
    sim.advance_secs(1.0);
    assert_eq!(
        sim.shard.state(),
        ShardState::Ready,
        "re-fetched and identified"
    );
}

#[test]
fn identify_budget_counts_down_locally() {
    let mut sim = Sim::default_shard();
    sim.peer.start_limit.remaining = 1;
    sim.peer.start_limit.reset_after = 600_000;
    sim.start();
    assert_eq!(sim.shard.state(), ShardState::Ready);
    sim.clear_outputs();
    sim.server_text(r#"{"op":9,"d":false}"#);
    sim.advance_secs(10.0);
    assert!(matches!(sim.events()[1], Event::SessionStartLimited { .. }));
    assert!(sim.sends_of(OutgoingKind::Identify).is_empty());
}

#[test]
fn a_shard_identifies_at_most_once_per_5_s() {
    let mut sim = Sim::ready();
    sim.clear_outputs();
    // A fresh-session close right after READY: the next Identify waits.
    sim.server_close(Some((4009, "Session timed out")));
    sim.advance_secs(30.0);
    let identify = sim.sends_of(OutgoingKind::Identify);
    assert_eq!(identify.len(), 1);
    assert!(identify[0] >= Duration::from_secs(5), "{identify:?}");
}

#[test]
fn identify_limiter_buckets_by_max_concurrency() {
    let t0 = std::time::Instant::now();
    let mut limiter = IdentifyLimiter::new(2);
    assert_eq!(limiter.bucket(5), 1);
    assert_eq!(limiter.next_allowed(0, t0), t0);
    limiter.record(0, t0);
    // Same bucket (0 % 2 == 2 % 2) waits 5 s; the other bucket does not.
    assert_eq!(limiter.next_allowed(2, t0), t0 + Duration::from_secs(5));
    assert_eq!(limiter.next_allowed(1, t0), t0);
    assert_eq!(
        limiter.next_allowed(2, t0 + Duration::from_secs(9)),
        t0 + Duration::from_secs(9)
    );
    assert_eq!(IdentifyLimiter::new(0).bucket(7), 0, "0 reads as 1");
}

#[test]
fn hold_identify_until_delays_the_identify() {
    let mut sim = Sim::default_shard();
    sim.shard.start(sim.now);
    assert!(sim.shard.will_identify());
    sim.shard
        .hold_identify_until(sim.now + Duration::from_secs(4));
    sim.settle();
    assert_eq!(sim.shard.state(), ShardState::Identifying);
    assert!(sim.sends_of(OutgoingKind::Identify).is_empty());
    sim.advance_secs(4.0);
    assert_eq!(
        sim.sends_of(OutgoingKind::Identify),
        [Duration::from_secs(4)]
    );
}

// ----- outgoing limits -----

#[test]
fn payload_over_4096_bytes_is_refused() {
    let mut sim = Sim::ready();
    sim.clear_outputs();
    let command = GatewayCommand::RequestGuildMembers(RequestGuildMembers {
        guild_id: "1".to_owned(),
        query: None,
        limit: 0,
        presences: None,
        user_ids: Some(vec!["123456789012345678".to_owned(); 250]),
        nonce: None,
    });
    let err = sim.shard.send_command(sim.now, command).unwrap_err();
    assert!(matches!(err, SendError::TooLarge { limit: 4096, size } if size > 4096));
    sim.settle();
    assert!(sim.sends().is_empty());
}

#[test]
fn commands_before_ready_are_refused() {
    let mut sim = Sim::default_shard();
    assert_eq!(
        sim.shard.send_command(sim.now, presence()),
        Err(SendError::NotReady)
    );
    sim.peer.answer_identify = false;
    sim.start();
    assert_eq!(
        sim.shard.send_command(sim.now, presence()),
        Err(SendError::NotReady)
    );
}

#[test]
fn commands_beyond_the_rate_limit_are_queued_and_sent_later() {
    let mut sim = Sim::ready();
    let mut accepted = 0;
    let mut refused = 0;
    for _ in 0..200 {
        match sim.shard.send_command(sim.now, presence()) {
            Ok(()) => accepted += 1,
            Err(SendError::QueueFull { .. }) => refused += 1,
            Err(e) => panic!("{e}"),
        }
    }
    sim.settle();
    // 120 - reserve(ceil(60/41.25)+1 = 3) - identify = 116 now, 64 queued.
    let now_sent = sim.sends_of(OutgoingKind::PresenceUpdate).len();
    assert_eq!(now_sent, SEND_LIMIT - 3 - 1);
    assert_eq!(accepted, now_sent + 64);
    assert_eq!(refused, 200 - accepted);
    assert!(sim.shard.poll_timeout().is_some());
    sim.advance_secs(61.0);
    assert_eq!(
        sim.sends_of(OutgoingKind::PresenceUpdate).len(),
        accepted,
        "the queue drains once the window frees"
    );
    // No 60 s window ever held more than 120 sends.
    let sends: Vec<Duration> = sim.sends().into_iter().map(|(t, _)| t).collect();
    for (i, t) in sends.iter().enumerate() {
        let in_window = sends[..=i]
            .iter()
            .filter(|s| **s + Duration::from_secs(60) > *t)
            .count();
        assert!(in_window <= SEND_LIMIT);
    }
}

#[test]
fn queued_commands_are_dropped_with_the_connection() {
    let mut sim = Sim::ready();
    for _ in 0..130 {
        let _ = sim.shard.send_command(sim.now, presence());
    }
    sim.settle();
    sim.server_close(None);
    assert!(sim
        .events()
        .iter()
        .any(|e| matches!(e, Event::CommandsDropped { count } if *count > 0)));
}

// ----- zlib-stream -----

#[test]
fn zlib_stream_session_inflates_frames_with_a_new_context_per_connection() {
    let mut c = config();
    c.compress = true;
    let mut sim = Sim::new(c, 5);
    sim.peer.compress = true;
    sim.start();
    assert_eq!(sim.shard.state(), ShardState::Ready);
    sim.message(1, "compressed");
    sim.server_close(None);
    sim.advance_secs(3.0);
    // The second connection starts a new zlib stream (new header): this only
    // inflates on a fresh context.
    assert_eq!(sim.shard.state(), ShardState::Ready);
    assert!(sim.events().contains(&Event::Resumed { replayed: 0 }));
    sim.advance(interval());
    assert!(sim.closes().is_empty());
}

#[test]
fn corrupt_zlib_stream_reconnects_and_resumes() {
    let mut c = config();
    c.compress = true;
    let mut sim = Sim::new(c, 5);
    sim.peer.compress = true;
    sim.start();
    sim.clear_outputs();
    sim.feed(Input::Binary(vec![1, 2, 3, 0, 0, 0xff, 0xff]));
    assert_eq!(sim.closes(), [4000]);
    assert!(matches!(
        closed_events(&sim)[0],
        (CloseCause::CorruptStream { .. }, true, _)
    ));
    sim.advance_secs(3.0);
    assert_eq!(sim.shard.state(), ShardState::Ready);
}

#[test]
fn binary_frame_without_compression_is_malformed_not_fatal() {
    let mut sim = Sim::ready();
    sim.clear_outputs();
    sim.feed(Input::Binary(vec![0x78, 0x9c]));
    assert!(matches!(sim.events()[0], Event::MalformedFrame { .. }));
    assert_eq!(sim.shard.state(), ShardState::Ready);
}

// ----- timers -----

#[test]
fn spurious_timeouts_do_nothing() {
    let mut sim = Sim::ready();
    sim.clear_outputs();
    for _ in 0..10 {
        sim.shard.handle_timeout(sim.now);
    }
    sim.settle();
    assert!(sim.outputs.is_empty());
}

#[test]
fn stale_reports_about_an_old_socket_are_ignored() {
    let mut sim = Sim::ready();
    sim.server_text(r#"{"op":7}"#); // closes and immediately dials again
    let state = sim.shard.state();
    sim.shard.handle_connected(sim.now);
    sim.shard
        .handle_gateway_fetched(sim.now, Err(GatewayFetchError::Unauthorized));
    assert_eq!(sim.shard.state(), state);
}

#[test]
fn ready_before_hello_does_not_skip_the_handshake() {
    // Found by the property test: a READY before Hello used to move the
    // shard to Ready with no heartbeat timer, wedging it.
    let mut sim = Sim::default_shard();
    sim.peer.send_hello = false;
    sim.start();
    sim.server_text(
        r#"{"op":0,"s":1,"t":"READY","d":{"user":{"id":"1"},"session_id":"s","resume_gateway_url":"wss://r"}}"#,
    );
    assert_eq!(sim.shard.state(), ShardState::AwaitingHello);
    assert_eq!(sim.shard.session_id(), None);
    assert!(sim.shard.poll_timeout().is_some());
    sim.server_text(r#"{"op":10,"d":{"heartbeat_interval":41250}}"#);
    assert_eq!(sim.sends()[0].1, OutgoingKind::Identify);
}

// ----- issue 16: instructions are not failures -----

/// Faults every few seconds (op 7, op 9 `d:false`, TCP drops, zombies): each
/// wait follows what happened, never a backoff grown by earlier faults on
/// connections that were fine.
#[test]
fn instructions_every_few_seconds_never_build_up_a_backoff() {
    let mut sim = Sim::ready();
    sim.clear_outputs();
    for round in 0..24 {
        match round % 3 {
            0 => sim.server_text(r#"{"op":7,"d":null}"#),
            1 => sim.server_text(r#"{"op":9,"d":false}"#),
            _ => sim.server_close(None),
        }
        sim.advance_secs(4.0 + f64::from(round % 4));
        assert_eq!(sim.shard.state(), ShardState::Ready, "round {round}");
    }
    for (cause, _, wait) in closed_events(&sim) {
        let max = match cause {
            CloseCause::ReconnectRequested => Duration::ZERO,
            CloseCause::InvalidSession { .. } => Duration::from_secs(5),
            _ => Duration::from_millis(1500),
        };
        assert!(wait <= max, "{cause:?} waited {wait:?}");
        if let CloseCause::InvalidSession { .. } = cause {
            assert!(wait >= Duration::from_secs(1), "op 9: at least 1 s");
        }
    }
}

/// Issue 14 (quick recovery): after an outage, once a connection succeeds,
/// op 9 `d:false` leads to an Identify within Discord's 1-5 s, not after the
/// backoff the outage built up.
#[test]
fn after_an_outage_op9_identifies_within_5_s_not_after_the_outage_backoff() {
    let mut sim = Sim::ready();
    sim.peer.fail_connects = 7;
    sim.server_close(None);
    sim.advance_secs(400.0); // seven failures (backoff ~60 s), then resumed
    assert_eq!(sim.shard.state(), ShardState::Ready);
    sim.peer.fail_connects = 5;
    sim.server_close(None);
    // Back off through the failures, until the server accepts again.
    while sim.peer.fail_connects > 0 || !sim.shard.state().is_connected() {
        let until = match sim.shard.state() {
            ShardState::BackingOff { until } => until,
            other => panic!("{other:?}"),
        };
        sim.advance(until - sim.now);
    }
    sim.clear_outputs();
    sim.server_text(r#"{"op":9,"d":false}"#);
    let wait = closed_events(&sim)[0].2;
    assert!(wait <= Duration::from_secs(5), "{wait:?}");
    sim.advance_secs(5.0);
    assert_eq!(sim.sends_of(OutgoingKind::Identify).len(), 1);
    assert_eq!(sim.shard.state(), ShardState::Ready);
}
