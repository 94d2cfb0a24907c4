//! The planner against KOOK, in virtual time: `code != 0` with HTTP 200,
//! transient codes, codes that stop the account, 429 waiting
//! `X-Rate-Limit-Reset`, the global limit, `Remaining: 0` pacing per bucket.

#[path = "rest_support/mod.rs"]
mod support;

use std::time::{Duration, Instant};

use krill_core::rest::{kook, Response, RestError, RestEvent, RetryPolicy, RetryReason};
use support::*;

#[test]
fn code_not_zero_with_http_200_is_a_final_error() {
    let t0 = Instant::now();
    let mut p = kook_planner(patient());
    let id = p.submit(t0, kook_msg("48818200000000000", "hi")).unwrap();
    assert_eq!(transmit_all(&mut p, t0).len(), 1);
    p.handle_response(
        t0,
        id,
        response(200, &[], r#"{"code":40000,"message":"参数错误","data":[]}"#),
    )
    .unwrap();
    assert_eq!(
        events(&mut p),
        vec![RestEvent::Failed {
            id,
            error: RestError::Kook {
                code: 40000,
                message: "参数错误".into()
            }
        }]
    );
    assert!(transmit_all(&mut p, t0 + Duration::from_secs(600)).is_empty());
    assert!(!p.is_halted());
}

#[test]
fn transient_codes_are_retried() {
    let t0 = Instant::now();
    let mut p = kook_planner(patient());
    let id = p.submit(t0, kook_msg("1", "hi")).unwrap();
    transmit_all(&mut p, t0);
    p.handle_response(
        t0,
        id,
        response(
            200,
            &[],
            r#"{"code":50000,"message":"服务器错误","data":[]}"#,
        ),
    )
    .unwrap();
    let (at, reason) = retrying_at(&mut p, id);
    assert_eq!(at, t0 + ms(500));
    assert!(matches!(
        reason,
        RetryReason::KookTransient { code: 50000, .. }
    ));
    assert_eq!(ids(&transmit_all(&mut p, at)), vec![id]);
    p.handle_response(at, id, kook_message_ok()).unwrap();
    assert!(matches!(
        events(&mut p).as_slice(),
        [RestEvent::Completed {
            response: Response::KookMessage(_),
            ..
        }]
    ));
}

#[test]
fn a_rejected_token_in_the_body_stops_the_account() {
    let t0 = Instant::now();
    let mut p = kook_planner(patient());
    let a = p.submit(t0, kook_msg("1", "a")).unwrap();
    let b = p.submit(t0, kook_msg("1", "b")).unwrap();
    transmit_all(&mut p, t0);
    p.handle_response(
        t0,
        a,
        response(
            200,
            &[],
            r#"{"code":40101,"message":"token 无效","data":[]}"#,
        ),
    )
    .unwrap();
    let evs = events(&mut p);
    let [RestEvent::Failed { error, .. }, RestEvent::Failed {
        id: second,
        error: RestError::Halted,
    }] = evs.as_slice()
    else {
        panic!("{evs:?}")
    };
    assert_eq!(*second, b);
    assert_eq!(
        error.to_string(),
        "token rejected (HTTP 200, code 40101): check KOOK_BOT_TOKEN / channels.kook.token"
    );
    assert!(p.is_halted());

    // HTTP 401 does the same.
    let mut p = kook_planner(patient());
    let a = p.submit(t0, kook::Request::UserMe).unwrap();
    transmit_all(&mut p, t0);
    p.handle_response(
        t0,
        a,
        response(
            401,
            &[],
            r#"{"code":401,"message":"你的token无效","data":{}}"#,
        ),
    )
    .unwrap();
    let evs = events(&mut p);
    assert_eq!(
        evs[0].clone(),
        RestEvent::Failed {
            id: a,
            error: RestError::Unauthorized {
                status: 401,
                code: None,
                hint: "KOOK_BOT_TOKEN / channels.kook.token"
            }
        }
    );
    assert!(p.is_halted());
}

#[test]
fn forbidden_names_the_channel() {
    let t0 = Instant::now();
    let mut p = kook_planner(patient());
    let id = p.submit(t0, kook_msg("48818200000000000", "hi")).unwrap();
    transmit_all(&mut p, t0);
    p.handle_response(
        t0,
        id,
        response(
            200,
            &[],
            r#"{"code":40300,"message":"你没有权限","data":[]}"#,
        ),
    )
    .unwrap();
    let evs = events(&mut p);
    let [RestEvent::Failed { error, .. }] = evs.as_slice() else {
        panic!("{evs:?}")
    };
    assert_eq!(
        error.to_string(),
        "missing permission (HTTP 200, code 40300) for channel 48818200000000000: 你没有权限"
    );
}

#[test]
fn a_429_waits_reset_and_holds_the_bucket_for_every_channel() {
    let t0 = Instant::now();
    let mut p = kook_planner(patient());
    let a = p.submit(t0, kook_msg("1", "a")).unwrap();
    let me = p.submit(t0, kook::Request::UserMe).unwrap();
    assert_eq!(ids(&transmit_all(&mut p, t0)), vec![a, me]);
    // The fixture names bucket user/me: /user/me answered with it.
    p.handle_response(t0, me, http_fixture("kook/rest/rate_limit_429.json"))
        .unwrap();
    let (at, reason) = retrying_at(&mut p, me);
    assert_eq!(at, t0 + secs(7.0));
    assert!(matches!(
        reason,
        RetryReason::RateLimited { global: false, .. }
    ));
    // Other buckets are free.
    p.handle_response(t0, a, kook_message_ok()).unwrap();
    let _ = events(&mut p);
    let b = p.submit(t0, kook_msg("2", "b")).unwrap();
    assert_eq!(ids(&transmit_all(&mut p, t0)), vec![b]);
    assert!(transmit_all(&mut p, t0 + secs(6.9)).is_empty());
    assert_eq!(ids(&transmit_all(&mut p, at)), vec![me]);
}

#[test]
fn a_global_429_pauses_everything() {
    let t0 = Instant::now();
    let mut p = kook_planner(patient());
    let a = p.submit(t0, kook::Request::UserMe).unwrap();
    transmit_all(&mut p, t0);
    p.handle_response(t0, a, http_fixture("kook/rest/rate_limit_429_global.json"))
        .unwrap();
    let (at, reason) = retrying_at(&mut p, a);
    assert!(matches!(
        reason,
        RetryReason::RateLimited { global: true, .. }
    ));
    let b = p.submit(t0, kook_msg("1", "b")).unwrap();
    let c = p
        .submit(
            t0,
            kook::Request::AddReaction {
                direct: true,
                msg_id: "m".into(),
                emoji: "👍".into(),
            },
        )
        .unwrap();
    assert!(transmit_all(&mut p, t0 + secs(6.9)).is_empty());
    assert_eq!(p.poll_timeout(), Some(at));
    assert_eq!(ids(&transmit_all(&mut p, at)), vec![a, b, c]);
}

#[test]
fn remaining_zero_paces_the_named_bucket_across_channels() {
    let t0 = Instant::now();
    let mut p = kook_planner(patient());
    let a = p.submit(t0, kook_msg("1", "a")).unwrap();
    transmit_all(&mut p, t0);
    let last_slot = response(
        200,
        &[
            ("X-Rate-Limit-Limit", "5"),
            ("X-Rate-Limit-Remaining", "0"),
            ("X-Rate-Limit-Reset", "3"),
            ("X-Rate-Limit-Bucket", "message/create"),
        ],
        r#"{"code":0,"message":"ok","data":{"msg_id":"m","msg_timestamp":1,"nonce":""}}"#,
    );
    p.handle_response(t0, a, last_slot).unwrap();
    // KOOK buckets are per bot: another channel waits as well; /user/me not.
    let b = p.submit(t0, kook_msg("2", "b")).unwrap();
    let me = p.submit(t0, kook::Request::UserMe).unwrap();
    assert_eq!(ids(&transmit_all(&mut p, t0)), vec![me]);
    assert!(transmit_all(&mut p, t0 + secs(2.9)).is_empty());
    assert_eq!(ids(&transmit_all(&mut p, t0 + secs(3.0))), vec![b]);
}

#[test]
fn server_errors_and_bad_bodies() {
    let t0 = Instant::now();
    let mut p = kook_planner(RetryPolicy {
        attempts: 2,
        jitter: 0.0,
        ..RetryPolicy::default()
    });
    let id = p.submit(t0, kook_msg("1", "a")).unwrap();
    transmit_all(&mut p, t0);
    p.handle_response(t0, id, response(502, &[], "<html>bad gateway</html>"))
        .unwrap();
    let (at, _) = retrying_at(&mut p, id);
    transmit_all(&mut p, at);
    p.handle_response(at, id, response(503, &[], "")).unwrap();
    assert_eq!(
        events(&mut p),
        vec![RestEvent::Failed {
            id,
            error: RestError::Server {
                status: 503,
                attempts: 2
            }
        }]
    );
    // HTTP 200 that is not an envelope: Decode, not retried.
    let id = p.submit(at, kook_msg("1", "b")).unwrap();
    transmit_all(&mut p, at);
    p.handle_response(at, id, response(200, &[], "<html>"))
        .unwrap();
    assert!(matches!(
        events(&mut p).as_slice(),
        [RestEvent::Failed {
            error: RestError::Decode { status: 200, .. },
            ..
        }]
    ));
    // HTTP 404 with an envelope: Rejected with KOOK's message and code.
    let id = p.submit(at, kook::Request::UserMe).unwrap();
    transmit_all(&mut p, at);
    p.handle_response(
        at,
        id,
        response(
            404,
            &[],
            r#"{"code":40400,"message":"not found","data":[]}"#,
        ),
    )
    .unwrap();
    assert_eq!(
        events(&mut p),
        vec![RestEvent::Failed {
            id,
            error: RestError::Rejected {
                status: 404,
                code: Some(40400),
                message: "not found".into()
            }
        }]
    );
}

#[test]
fn dm_and_channel_messages_keep_their_own_order() {
    let t0 = Instant::now();
    let mut p = kook_planner(patient());
    let dm = |s: &str| {
        kook::Request::DirectMessageCreate(kook::DirectMessageCreate {
            target: kook::DmTarget::User("2418200000".into()),
            content: s.into(),
            quote: None,
            nonce: None,
        })
    };
    let d1 = p.submit(t0, dm("1")).unwrap();
    let d2 = p.submit(t0, dm("2")).unwrap();
    let c1 = p.submit(t0, kook_msg("9", "c")).unwrap();
    assert_eq!(ids(&transmit_all(&mut p, t0)), vec![d1, c1]);
    p.handle_transport_error(t0, d1, "reset").unwrap();
    let (at, _) = retrying_at(&mut p, d1);
    assert!(transmit_all(&mut p, t0).is_empty(), "d2 waits behind d1");
    assert_eq!(ids(&transmit_all(&mut p, at)), vec![d1]);
    p.handle_response(at, d1, kook_message_ok()).unwrap();
    assert_eq!(ids(&transmit_all(&mut p, at)), vec![d2]);
}

/// Issue 16: a 429 with `X-Rate-Limit-Reset: 1` waits 1 s, even though the
/// responses before it said the bucket's window resets in 55 s (with slots
/// left then: that reset must not become the 429's wait).
#[test]
fn a_429_waits_its_own_reset_not_the_window_seen_before() {
    let t0 = Instant::now();
    let mut p = kook_planner(patient());
    let a = p.submit(t0, kook_msg("1", "a")).unwrap();
    transmit_all(&mut p, t0);
    let window = |remaining: &'static str, reset: &'static str, status: u16| {
        let body = if status == 429 {
            r#"{"code":429,"message":"too many requests","data":[]}"#
        } else {
            r#"{"code":0,"message":"ok","data":{"msg_id":"m","msg_timestamp":1,"nonce":""}}"#
        };
        response(
            status,
            &[
                ("X-Rate-Limit-Limit", "120"),
                ("X-Rate-Limit-Remaining", remaining),
                ("X-Rate-Limit-Reset", reset),
                ("X-Rate-Limit-Bucket", "message/create"),
            ],
            body,
        )
    };
    p.handle_response(t0, a, window("100", "55", 200)).unwrap();
    let _ = events(&mut p);
    let b = p.submit(t0, kook_msg("2", "b")).unwrap();
    assert_eq!(ids(&transmit_all(&mut p, t0)), vec![b]);
    p.handle_response(t0, b, window("0", "1", 429)).unwrap();
    let (at, _) = retrying_at(&mut p, b);
    assert_eq!(at, t0 + secs(1.0));
    let c = p.submit(t0, kook_msg("3", "c")).unwrap();
    assert!(transmit_all(&mut p, t0 + secs(0.9)).is_empty());
    assert_eq!(p.poll_timeout(), Some(at));
    assert_eq!(ids(&transmit_all(&mut p, at)), vec![b, c]);
}

/// Issue 16: chats share KOOK's one `/message/create` bucket in turn: a
/// reply of many chunks in one channel does not make a reply in another
/// channel wait behind all of them.
#[test]
fn chats_take_turns_on_the_shared_message_bucket() {
    let t0 = Instant::now();
    let mut p = kook_planner(patient());
    let long: Vec<_> = (0..50)
        .map(|i| p.submit(t0, kook_msg("1", &format!("chunk {i}"))).unwrap())
        .collect();
    // Every answer says one request is left in the bucket's window: one
    // request goes out at a time.
    let spent = || {
        response(
            200,
            &[
                ("X-Rate-Limit-Limit", "5"),
                ("X-Rate-Limit-Remaining", "1"),
                ("X-Rate-Limit-Reset", "1"),
                ("X-Rate-Limit-Bucket", "message/create"),
            ],
            r#"{"code":0,"message":"ok","data":{"msg_id":"m","msg_timestamp":1,"nonce":""}}"#,
        )
    };
    let mut order = Vec::new();
    let mut now = t0;
    let mut other = None;
    for round in 0..200 {
        if round == 3 {
            // Another chat's reply arrives while the long one is going out.
            other = Some(p.submit(now, kook_msg("2", "other chat")).unwrap());
        }
        let sent = transmit_all(&mut p, now);
        for (id, _) in &sent {
            order.push(*id);
        }
        for (id, _) in &sent {
            p.handle_response(now, *id, spent()).unwrap();
        }
        let _ = events(&mut p);
        now += ms(100);
        if order.len() == 51 {
            break;
        }
    }
    let other = other.expect("submitted");
    let at = order.iter().position(|id| *id == other).expect("sent");
    assert!(at <= 4, "the other chat's reply went out at position {at}");
    let long_sent: Vec<_> = order
        .iter()
        .filter(|id| long.contains(id))
        .copied()
        .collect();
    assert_eq!(long_sent, long, "one chat's chunks stay in order");
}
