//! The planner against Discord, in virtual time: 429 fixtures (user, shared,
//! global) honoured through `retry_after` and never the bucket headers, the
//! global limit pausing every bucket, `Remaining: 0` holds, per-resource
//! buckets, order under retries, 5xx backoff, 401 halting, 403/400, nonces
//! across retries, pacing, and the queue bound.

#[path = "rest_support/mod.rs"]
mod support;

use std::time::{Duration, Instant};

use krill_core::rest::{
    discord, kook, Planner, RequestId, RestError, RestEvent, RetryPolicy, RetryReason, SubmitError,
    DISCORD_GLOBAL_PER_SECOND, MAX_RATE_LIMITED_RETRIES,
};
use support::*;

/// Sends one message to channel "1" at `t0` and answers it with `resp`.
fn answered(p: &mut Planner, t0: Instant, resp: krill_core::rest::HttpResponse) -> RequestId {
    let id = p.submit(t0, msg("849255967228035073", "hi")).unwrap();
    assert_eq!(ids(&transmit_all(p, t0)), vec![id]);
    p.handle_response(t0, id, resp).unwrap();
    id
}

#[test]
fn user_429_waits_retry_after() {
    let t0 = Instant::now();
    let mut p = discord_planner(patient());
    let id = answered(
        &mut p,
        t0,
        http_fixture("discord/rest/rate_limit_429_user.json"),
    );
    let (at, reason) = retrying_at(&mut p, id);
    assert_eq!(at, t0 + secs(2.75));
    assert_eq!(
        reason,
        RetryReason::RateLimited {
            global: false,
            shared: false,
            wait: secs(2.75)
        }
    );
    assert_eq!(p.poll_timeout(), Some(at));
    assert!(transmit_all(&mut p, at - ms(1)).is_empty());
    assert_eq!(ids(&transmit_all(&mut p, at)), vec![id]);
    p.handle_response(at, id, message_ok("849255967228035073"))
        .unwrap();
    assert!(matches!(
        events(&mut p).as_slice(),
        [RestEvent::Completed { .. }]
    ));
}

#[test]
fn shared_429_waits_retry_after_not_reset_after() {
    // A shared-scope 429 whose Reset-After (5 s) disagrees with retry_after
    // (119.5 s): the 429's own wait wins.
    let t0 = Instant::now();
    let mut p = discord_planner(patient());
    let id = answered(
        &mut p,
        t0,
        http_fixture("discord/rest/rate_limit_429_shared.json"),
    );
    let (at, reason) = retrying_at(&mut p, id);
    assert_eq!(at, t0 + secs(119.5));
    assert!(matches!(
        reason,
        RetryReason::RateLimited {
            shared: true,
            global: false,
            ..
        }
    ));
    // Another message to the same channel waits too; nothing goes at reset-after.
    let later = p.submit(t0, msg("849255967228035073", "more")).unwrap();
    assert!(transmit_all(&mut p, t0 + secs(5.01)).is_empty());
    assert!(transmit_all(&mut p, t0 + secs(119.49)).is_empty());
    assert_eq!(ids(&transmit_all(&mut p, at)), vec![id]);
    p.handle_response(at, id, message_ok("849255967228035073"))
        .unwrap();
    assert_eq!(ids(&transmit_all(&mut p, at)), vec![later]);
}

#[test]
fn retry_after_is_clamped_to_max_delay() {
    let t0 = Instant::now();
    let mut p = discord_planner(RetryPolicy::default());
    let id = answered(
        &mut p,
        t0,
        http_fixture("discord/rest/rate_limit_429_shared.json"),
    );
    let (at, _) = retrying_at(&mut p, id);
    assert_eq!(at, t0 + Duration::from_millis(30_000));
    assert_eq!(ids(&transmit_all(&mut p, at)), vec![id]);
}

#[test]
fn retry_after_header_when_the_body_has_none() {
    let t0 = Instant::now();
    let mut p = discord_planner(patient());
    let id = answered(
        &mut p,
        t0,
        response(429, &[("Retry-After", "7")], "upstream said no"),
    );
    assert_eq!(retrying_at(&mut p, id).0, t0 + secs(7.0));
}

#[test]
fn global_429_pauses_every_bucket() {
    let t0 = Instant::now();
    let mut p = discord_planner(patient());
    let a = p.submit(t0, msg("100", "a")).unwrap();
    let b = p.submit(t0, msg("200", "b")).unwrap();
    assert_eq!(ids(&transmit_all(&mut p, t0)), vec![a, b]);
    p.handle_response(
        t0,
        a,
        http_fixture("discord/rest/rate_limit_429_global.json"),
    )
    .unwrap();
    let (at, reason) = retrying_at(&mut p, a);
    assert_eq!(at, t0 + secs(1.5));
    assert!(matches!(
        reason,
        RetryReason::RateLimited { global: true, .. }
    ));
    // b was already out; its answer is fine. New requests anywhere wait.
    p.handle_response(t0, b, message_ok("200")).unwrap();
    let c = p.submit(t0, msg("300", "c")).unwrap();
    let me = p.submit(t0, discord::Request::CurrentUser).unwrap();
    let typing = p
        .submit(
            t0,
            discord::Request::TriggerTyping {
                channel_id: "200".into(),
            },
        )
        .unwrap();
    assert!(transmit_all(&mut p, t0 + secs(1.4)).is_empty());
    assert_eq!(p.poll_timeout(), Some(at));
    assert_eq!(ids(&transmit_all(&mut p, at)), vec![a, c, me, typing]);
}

#[test]
fn global_flag_from_the_body_alone() {
    let t0 = Instant::now();
    let mut p = discord_planner(patient());
    let a = answered(
        &mut p,
        t0,
        response(429, &[], r#"{"retry_after": 2.5, "global": true}"#),
    );
    assert!(matches!(
        retrying_at(&mut p, a).1,
        RetryReason::RateLimited { global: true, .. }
    ));
    p.submit(t0, msg("999", "x")).unwrap();
    assert!(transmit_all(&mut p, t0 + secs(2.49)).is_empty());
    assert_eq!(transmit_all(&mut p, t0 + secs(2.5)).len(), 2);
}

#[test]
fn remaining_zero_holds_the_bucket_until_reset_after() {
    let t0 = Instant::now();
    let mut p = discord_planner(patient());
    let a = p.submit(t0, msg("100", "one")).unwrap();
    let b = p.submit(t0, msg("100", "two")).unwrap();
    let other = p.submit(t0, msg("200", "elsewhere")).unwrap();
    assert_eq!(ids(&transmit_all(&mut p, t0)), vec![a, other]);
    let limited = response(
        200,
        &[
            ("X-RateLimit-Limit", "5"),
            ("X-RateLimit-Remaining", "0"),
            ("X-RateLimit-Reset", "1470173023.5"),
            ("X-RateLimit-Reset-After", "2.5"),
            ("X-RateLimit-Bucket", "msgs"),
        ],
        r#"{"id":"1","channel_id":"100"}"#,
    );
    p.handle_response(t0, a, limited).unwrap();
    p.handle_response(t0, other, message_ok("200")).unwrap();
    // Channel 200 is another resource: its next message goes at once.
    let other2 = p.submit(t0, msg("200", "again")).unwrap();
    assert_eq!(ids(&transmit_all(&mut p, t0)), vec![other2]);
    assert_eq!(p.poll_timeout(), Some(t0 + secs(2.5)));
    assert!(transmit_all(&mut p, t0 + secs(2.49)).is_empty());
    assert_eq!(ids(&transmit_all(&mut p, t0 + secs(2.5))), vec![b]);
}

#[test]
fn known_remaining_is_counted_down_locally() {
    let t0 = Instant::now();
    let mut p = discord_planner(patient());
    let a = p
        .submit(
            t0,
            discord::Request::TriggerTyping {
                channel_id: "1".into(),
            },
        )
        .unwrap();
    transmit_all(&mut p, t0);
    let one_left = response(
        204,
        &[
            ("X-RateLimit-Remaining", "1"),
            ("X-RateLimit-Reset-After", "4"),
        ],
        "",
    );
    p.handle_response(t0, a, one_left).unwrap();
    let b = p
        .submit(
            t0,
            discord::Request::TriggerTyping {
                channel_id: "1".into(),
            },
        )
        .unwrap();
    let c = p
        .submit(
            t0,
            discord::Request::TriggerTyping {
                channel_id: "1".into(),
            },
        )
        .unwrap();
    assert_eq!(ids(&transmit_all(&mut p, t0)), vec![b]);
    p.handle_response(t0, b, response(204, &[], "")).unwrap();
    // b used the last slot of the window; c waits for the reset.
    assert!(transmit_all(&mut p, t0 + secs(3.9)).is_empty());
    assert_eq!(ids(&transmit_all(&mut p, t0 + secs(4.0))), vec![c]);
}

#[test]
fn routes_sharing_a_bucket_hash_share_the_hold() {
    let t0 = Instant::now();
    let mut p = discord_planner(patient());
    let react = |put: bool, emoji: &str| {
        let (channel_id, message_id, emoji) = ("1".to_owned(), "2".to_owned(), emoji.to_owned());
        if put {
            discord::Request::CreateReaction {
                channel_id,
                message_id,
                emoji,
            }
        } else {
            discord::Request::DeleteOwnReaction {
                channel_id,
                message_id,
                emoji,
            }
        }
    };
    let hash = [("X-RateLimit-Bucket", "react")];
    // Learn that PUT and DELETE both map to "react".
    for put in [true, false] {
        let id = p.submit(t0, react(put, "👍")).unwrap();
        transmit_all(&mut p, t0);
        p.handle_response(t0, id, response(204, &hash, "")).unwrap();
    }
    let put = p.submit(t0, react(true, "🎉")).unwrap();
    transmit_all(&mut p, t0);
    p.handle_response(
        t0,
        put,
        response(
            204,
            &[
                ("X-RateLimit-Bucket", "react"),
                ("X-RateLimit-Remaining", "0"),
                ("X-RateLimit-Reset-After", "0.25"),
            ],
            "",
        ),
    )
    .unwrap();
    let del = p.submit(t0, react(false, "👍")).unwrap();
    assert!(
        transmit_all(&mut p, t0).is_empty(),
        "DELETE shares PUT's bucket"
    );
    assert_eq!(ids(&transmit_all(&mut p, t0 + secs(0.25))), vec![del]);
}

#[test]
fn two_channels_do_not_block_each_other_but_one_channel_is_sequential() {
    let t0 = Instant::now();
    let mut p = discord_planner(patient());
    let a1 = p.submit(t0, msg("100", "a1")).unwrap();
    let a2 = p.submit(t0, msg("100", "a2")).unwrap();
    let b1 = p.submit(t0, msg("200", "b1")).unwrap();
    assert_eq!(ids(&transmit_all(&mut p, t0)), vec![a1, b1]);
    p.handle_response(t0, a1, response(500, &[], "")).unwrap();
    assert!(matches!(
        retrying_at(&mut p, a1).1,
        RetryReason::ServerError { status: 500 }
    ));
    p.handle_response(t0, b1, message_ok("200")).unwrap();
    let b2 = p.submit(t0, msg("200", "b2")).unwrap();
    assert_eq!(
        ids(&transmit_all(&mut p, t0)),
        vec![b2],
        "a2 waits behind the retried a1"
    );
    let _ = a2;
}

#[test]
fn order_is_kept_under_retries() {
    let t0 = Instant::now();
    let mut p = discord_planner(RetryPolicy {
        jitter: 0.0,
        ..RetryPolicy::default()
    });
    let chunks: Vec<RequestId> = (0..4)
        .map(|i| p.submit(t0, msg("100", &format!("chunk {i}"))).unwrap())
        .collect();
    let mut now = t0;
    let mut sent_order = Vec::new();
    let mut done_order = Vec::new();
    // Script: chunk 0 -> 503 then ok; chunk 1 -> 429 then transport error then ok; others ok.
    let mut script: Vec<(RequestId, Vec<Option<u16>>)> = vec![
        (chunks[0], vec![Some(503), Some(200)]),
        (chunks[1], vec![Some(429), None, Some(200)]),
        (chunks[2], vec![Some(200)]),
        (chunks[3], vec![Some(200)]),
    ];
    for _ in 0..50 {
        for (id, http) in transmit_all(&mut p, now) {
            sent_order.push(id);
            let body = body_json(&http);
            let entry = script.iter_mut().find(|(i, _)| *i == id).unwrap();
            match entry.1.remove(0) {
                Some(200) => p.handle_response(now, id, message_ok("100")).unwrap(),
                Some(429) => p
                    .handle_response(
                        now,
                        id,
                        response(429, &[], r#"{"retry_after": 1.5, "global": false}"#),
                    )
                    .unwrap(),
                Some(s) => p.handle_response(now, id, response(s, &[], "")).unwrap(),
                None => p
                    .handle_transport_error(now, id, "connection reset")
                    .unwrap(),
            }
            assert!(body["content"].as_str().unwrap().starts_with("chunk"));
        }
        for ev in events(&mut p) {
            if let RestEvent::Completed { id, .. } = ev {
                done_order.push(id);
            }
        }
        match p.poll_timeout() {
            Some(t) => now = now.max(t),
            None => break,
        }
    }
    assert_eq!(done_order, chunks);
    let c = &chunks;
    assert_eq!(sent_order, vec![c[0], c[0], c[1], c[1], c[1], c[2], c[3]]);
}

#[test]
fn server_errors_back_off_within_bounds_then_fail() {
    let t0 = Instant::now();
    let policy = RetryPolicy::default(); // 3 attempts, 500..30000 ms, jitter 0.1
    for seed in 0..20 {
        let mut p = Planner::new(discord_api(), policy, seed);
        let id = p.submit(t0, msg("1", "x")).unwrap();
        let mut now = t0;
        let mut delays = Vec::new();
        for attempt in 1..=3 {
            assert_eq!(
                ids(&transmit_all(&mut p, now)),
                vec![id],
                "attempt {attempt}"
            );
            p.handle_response(now, id, response(502, &[], "bad gateway"))
                .unwrap();
            if attempt < 3 {
                let (at, _) = retrying_at(&mut p, id);
                delays.push(at - now);
                assert!(transmit_all(&mut p, at - ms(1)).is_empty());
                now = at;
            }
        }
        assert!(delays[0] >= ms(500) && delays[0] <= ms(550), "{delays:?}");
        assert!(delays[1] >= ms(900) && delays[1] <= ms(1100), "{delays:?}");
        match events(&mut p).as_slice() {
            [RestEvent::Failed { error, .. }] => {
                assert_eq!(
                    *error,
                    RestError::Server {
                        status: 502,
                        attempts: 3
                    }
                );
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(p.poll_timeout(), None);
        assert_eq!(p.pending(), 0);
    }
}

#[test]
fn backoff_is_capped_and_retry_after_on_5xx_wins() {
    let t0 = Instant::now();
    let policy = RetryPolicy {
        attempts: 10,
        min_delay_ms: 1000,
        max_delay_ms: 3000,
        jitter: 0.5,
    };
    let mut p = Planner::new(discord_api(), policy, 3);
    let id = p.submit(t0, msg("1", "x")).unwrap();
    let mut now = t0;
    for _ in 0..6 {
        transmit_all(&mut p, now);
        p.handle_response(now, id, response(500, &[], "")).unwrap();
        let (at, _) = retrying_at(&mut p, id);
        assert!(
            at - now >= ms(1000) && at - now <= ms(3000),
            "{:?}",
            at - now
        );
        now = at;
    }
    transmit_all(&mut p, now);
    p.handle_response(now, id, response(503, &[("Retry-After", "2")], ""))
        .unwrap();
    assert_eq!(retrying_at(&mut p, id).0, now + secs(2.0));
}

#[test]
fn transport_errors_are_retried_then_reported() {
    let t0 = Instant::now();
    let mut p = discord_planner(RetryPolicy {
        attempts: 2,
        jitter: 0.0,
        ..RetryPolicy::default()
    });
    let id = p.submit(t0, msg("1", "x")).unwrap();
    transmit_all(&mut p, t0);
    p.handle_transport_error(t0, id, "connection refused")
        .unwrap();
    let (at, reason) = retrying_at(&mut p, id);
    assert_eq!(at, t0 + ms(500));
    assert_eq!(
        reason,
        RetryReason::Transport {
            error: "connection refused".into()
        }
    );
    transmit_all(&mut p, at);
    p.handle_transport_error(at, id, "timed out").unwrap();
    match events(&mut p).as_slice() {
        [RestEvent::Failed { error, .. }] => assert_eq!(
            *error,
            RestError::Transport {
                error: "timed out".into(),
                attempts: 2
            }
        ),
        other => panic!("{other:?}"),
    }
    // Answering twice is a driver bug, reported and harmless.
    assert!(p.handle_transport_error(at, id, "again").is_err());
    assert!(p.handle_response(at, id, message_ok("1")).is_err());
}

#[test]
fn rate_limits_do_not_use_attempts_but_are_capped() {
    let t0 = Instant::now();
    let mut p = discord_planner(patient());
    let id = p.submit(t0, msg("1", "x")).unwrap();
    let mut now = t0;
    let limited = || response(429, &[], r#"{"retry_after": 0.5, "global": false}"#);
    // Two 429s, then two 500s: still alive (attempts = 3 counts only the 500s).
    for resp in [
        limited(),
        limited(),
        response(500, &[], ""),
        response(500, &[], ""),
    ] {
        assert_eq!(ids(&transmit_all(&mut p, now)), vec![id]);
        p.handle_response(now, id, resp).unwrap();
        now = retrying_at(&mut p, id).0;
    }
    // 429s up to the cap, then RateLimited.
    for _ in 2..MAX_RATE_LIMITED_RETRIES {
        transmit_all(&mut p, now);
        p.handle_response(now, id, limited()).unwrap();
        now = retrying_at(&mut p, id).0;
    }
    transmit_all(&mut p, now);
    p.handle_response(now, id, limited()).unwrap();
    assert!(matches!(
        events(&mut p).as_slice(),
        [RestEvent::Failed {
            error: RestError::RateLimited {
                retries: MAX_RATE_LIMITED_RETRIES
            },
            ..
        }]
    ));
}

#[test]
fn unauthorized_fails_fast_and_stops_the_account() {
    let t0 = Instant::now();
    let mut p = discord_planner(patient());
    let a = p.submit(t0, msg("100", "a")).unwrap();
    let b = p.submit(t0, msg("200", "b")).unwrap();
    let a2 = p.submit(t0, msg("100", "a2")).unwrap();
    let d = p.submit(t0, msg("400", "d")).unwrap();
    let e = p.submit(t0, msg("500", "e")).unwrap();
    assert_eq!(ids(&transmit_all(&mut p, t0)), vec![a, b, d, e]);
    p.handle_response(
        t0,
        a,
        response(401, &[], r#"{"message": "401: Unauthorized", "code": 0}"#),
    )
    .unwrap();
    let evs = events(&mut p);
    let RestEvent::Failed { id, error } = &evs[0] else {
        panic!("{evs:?}")
    };
    assert_eq!(*id, a);
    assert_eq!(
        error.to_string(),
        "token rejected (HTTP 401): check DISCORD_BOT_TOKEN / channels.discord.token"
    );
    assert_eq!(
        evs[1..],
        [RestEvent::Failed {
            id: a2,
            error: RestError::Halted
        }]
    );
    assert!(p.is_halted());
    // Nothing more is sent, ever; new requests fail at once.
    let c = p.submit(t0, msg("300", "c")).unwrap();
    assert_eq!(
        events(&mut p),
        vec![RestEvent::Failed {
            id: c,
            error: RestError::Halted
        }]
    );
    assert!(transmit_all(&mut p, t0 + Duration::from_secs(3600)).is_empty());
    assert_eq!(p.poll_timeout(), None);
    // b, d and e were already out: a retryable answer fails, a second 401 is
    // not reported again, a success still completes.
    p.handle_response(t0, b, response(500, &[], "")).unwrap();
    p.handle_response(t0, d, response(401, &[], "")).unwrap();
    p.handle_response(t0, e, message_ok("500")).unwrap();
    let evs = events(&mut p);
    assert_eq!(
        evs[..2],
        [
            RestEvent::Failed {
                id: b,
                error: RestError::Halted
            },
            RestEvent::Failed {
                id: d,
                error: RestError::Halted
            }
        ]
    );
    assert!(matches!(evs[2], RestEvent::Completed { id, .. } if id == e));
    assert_eq!(p.pending(), 0);
}

#[test]
fn forbidden_and_bad_request_are_not_retried() {
    let t0 = Instant::now();
    let mut p = discord_planner(patient());
    let id = answered(
        &mut p,
        t0,
        response(
            403,
            &[],
            r#"{"message": "Missing Permissions", "code": 50013}"#,
        ),
    );
    let evs = events(&mut p);
    let [RestEvent::Failed { id: got, error }] = evs.as_slice() else {
        panic!("{evs:?}")
    };
    assert_eq!(*got, id);
    assert_eq!(
        error.to_string(),
        "missing permission (HTTP 403, code 50013) for channel 849255967228035073: Missing Permissions"
    );
    assert!(!p.is_halted());
    let id = answered(
        &mut p,
        t0,
        response(
            400,
            &[],
            r#"{"message": "Invalid Form Body", "code": 50035}"#,
        ),
    );
    assert_eq!(
        events(&mut p),
        vec![RestEvent::Failed {
            id,
            error: RestError::Rejected {
                status: 400,
                code: Some(50035),
                message: "Invalid Form Body".into()
            }
        }]
    );
    assert!(transmit_all(&mut p, t0 + Duration::from_secs(60)).is_empty());
}

#[test]
fn the_nonce_is_generated_once_and_reused_on_every_retry() {
    let t0 = Instant::now();
    let mut p = discord_planner(RetryPolicy {
        attempts: 5,
        ..RetryPolicy::default()
    });
    let id = p.submit(t0, msg("1", "x")).unwrap();
    let other = p.submit(t0, msg("2", "y")).unwrap();
    let mut bodies = Vec::new();
    let mut now = t0;
    let answers = [
        response(500, &[], ""),
        response(429, &[], r#"{"retry_after": 1, "global": false}"#),
        response(502, &[], ""),
    ];
    for (i, resp) in answers.into_iter().enumerate() {
        let sent = transmit_all(&mut p, now);
        for (sid, http) in &sent {
            if *sid == id {
                bodies.push(body_json(http));
            } else if i == 0 {
                p.handle_response(now, *sid, message_ok("2")).unwrap();
                assert_eq!(*sid, other);
            }
        }
        p.handle_response(now, id, resp).unwrap();
        let _ = events(&mut p);
        now = p.poll_timeout().unwrap();
    }
    let sent = transmit_all(&mut p, now);
    bodies.push(body_json(&sent[0].1));
    p.handle_transport_error(now, id, "reset").unwrap();
    now = p.poll_timeout().unwrap();
    bodies.push(body_json(&transmit_all(&mut p, now)[0].1));
    let nonce = bodies[0]["nonce"].as_str().unwrap().to_owned();
    assert!(!nonce.is_empty() && nonce.len() <= discord::MAX_NONCE_LEN);
    assert!(nonce.bytes().all(|b| b.is_ascii_digit()));
    for b in &bodies {
        assert_eq!(b["nonce"], nonce.as_str());
        assert_eq!(b["enforce_nonce"], true);
    }
    assert_eq!(bodies.len(), 5);

    // Two messages get different nonces; a caller's nonce is kept.
    let mut p = discord_planner(RetryPolicy::default());
    p.submit(t0, msg("1", "a")).unwrap();
    p.submit(t0, msg("2", "b")).unwrap();
    p.submit(
        t0,
        discord::Request::CreateMessage(discord::CreateMessage {
            channel_id: "3".into(),
            content: "c".into(),
            reply_to: None,
            nonce: Some("mine".into()),
            ..Default::default()
        }),
    )
    .unwrap();
    let sent = transmit_all(&mut p, t0);
    let nonces: Vec<String> = sent
        .iter()
        .map(|(_, h)| body_json(h)["nonce"].as_str().unwrap().into())
        .collect();
    assert_ne!(nonces[0], nonces[1]);
    assert_eq!(nonces[2], "mine");
}

#[test]
fn discord_is_paced_to_fifty_requests_per_second() {
    let t0 = Instant::now();
    let mut p = discord_planner(patient());
    let n = DISCORD_GLOBAL_PER_SECOND + 10;
    for i in 0..n {
        p.submit(t0, msg(&i.to_string(), "x")).unwrap();
    }
    let first = transmit_all(&mut p, t0);
    assert_eq!(first.len(), DISCORD_GLOBAL_PER_SECOND);
    for (id, _) in &first {
        p.handle_response(t0, *id, message_ok("1")).unwrap();
    }
    assert!(transmit_all(&mut p, t0 + ms(999)).is_empty());
    assert_eq!(p.poll_timeout(), Some(t0 + secs(1.0)));
    assert_eq!(transmit_all(&mut p, t0 + secs(1.0)).len(), 10);
}

#[test]
fn the_global_pace_follows_the_configured_limit() {
    let t0 = Instant::now();
    let mut p = discord_planner(patient());
    assert_eq!(p.global_rate_limit(), DISCORD_GLOBAL_PER_SECOND);
    p.set_global_rate_limit(3);
    for i in 0..5 {
        p.submit(t0, msg(&i.to_string(), "x")).unwrap();
    }
    let first = transmit_all(&mut p, t0);
    assert_eq!(first.len(), 3);
    for (id, _) in &first {
        p.handle_response(t0, *id, message_ok("1")).unwrap();
    }
    assert_eq!(p.poll_timeout(), Some(t0 + secs(1.0)));
    assert_eq!(transmit_all(&mut p, t0 + secs(1.0)).len(), 2);

    // Lifted: a thousand requests go out at once.
    let mut p = discord_planner(patient());
    p.set_global_rate_limit(1_000_000);
    for i in 0..1000 {
        p.submit(t0, msg(&i.to_string(), "x")).unwrap();
    }
    assert_eq!(transmit_all(&mut p, t0).len(), 1000);
    p.set_global_rate_limit(0);
    assert_eq!(p.global_rate_limit(), 1, "at least 1");
}

#[test]
fn submissions_are_bounded_and_checked() {
    let t0 = Instant::now();
    let mut p = discord_planner(RetryPolicy::default());
    p.set_queue_capacity(3);
    for i in 0..3 {
        p.submit(t0, msg(&i.to_string(), "x")).unwrap();
    }
    assert_eq!(
        p.submit(t0, msg("9", "x")),
        Err(SubmitError::QueueFull { capacity: 3 })
    );
    assert!(matches!(
        p.submit(t0, kook::Request::UserMe),
        Err(SubmitError::WrongPlatform { .. })
    ));
    assert!(matches!(
        p.submit(
            t0,
            discord::Request::TriggerTyping {
                channel_id: "".into()
            }
        ),
        Err(SubmitError::Invalid(_))
    ));
    assert_eq!(p.pending(), 3);
    let sent = transmit_all(&mut p, t0);
    assert_eq!(p.in_flight(), 3);
    p.handle_response(t0, sent[0].0, message_ok("0")).unwrap();
    assert!(p.submit(t0, msg("9", "x")).is_ok());
}
