//! Response decoding: every file in `fixtures/{discord,kook}/rest/` is read
//! into its typed value (requests are checked by `rest_encoding.rs` too), and
//! the same bodies go through the planner into `Completed` events.

#[path = "rest_support/mod.rs"]
mod support;

use std::time::{Duration, Instant};

use krill_core::rest::discord::{self, RateLimitBody, RateLimitHeaders, Scope};
use krill_core::rest::kook::{self, Envelope};
use krill_core::rest::{Planner, Request, Response, RestError, RestEvent, RetryPolicy};
use support::*;

fn discord_ok(req: discord::Request, rel: &str) -> Response {
    req.decode_success(&fixture_bytes(rel))
        .unwrap_or_else(|e| panic!("{rel}: {e}"))
}

fn kook_ok(req: kook::Request, rel: &str) -> Response {
    let env = Envelope::parse(&fixture_bytes(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"));
    assert_eq!(env.code, 0, "{rel}");
    assert_eq!(env.message, "操作成功");
    req.decode_data(env.data)
        .unwrap_or_else(|e| panic!("{rel}: {e}"))
}

/// Every fixture under `rest/` has a check here; a new file fails this test
/// until it gets one.
#[test]
fn every_rest_fixture_is_covered() {
    let covered = [
        "discord/rest/create_message_reply_request.json",
        "discord/rest/create_message_request.json",
        "discord/rest/create_message_response.json",
        "discord/rest/gateway_bot.json",
        "discord/rest/rate_limit_429_global.json",
        "discord/rest/rate_limit_429_shared.json",
        "discord/rest/rate_limit_429_user.json",
        "kook/rest/direct_message_create_request.json",
        "kook/rest/direct_message_create_request_chat_code.json",
        "kook/rest/direct_message_create_response.json",
        "kook/rest/gateway_index.json",
        "kook/rest/gateway_index_with_query.json",
        "kook/rest/message_create_request.json",
        "kook/rest/message_create_request_quote.json",
        "kook/rest/message_create_response.json",
        "kook/rest/rate_limit_429.json",
        "kook/rest/rate_limit_429_global.json",
        "kook/rest/user_me.json",
    ];
    let mut found = Vec::new();
    for platform in ["discord", "kook"] {
        let dir = format!("{FIXTURES}/{platform}/rest");
        for entry in std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{dir}: {e}")) {
            let name = entry.expect("dir entry").file_name();
            found.push(format!("{platform}/rest/{}", name.to_string_lossy()));
        }
    }
    found.sort();
    assert_eq!(found, covered);
    for rel in covered {
        let _ = fixture_json(rel);
    }
}

#[test]
fn discord_gateway_bot() {
    let Response::DiscordGatewayBot(g) = discord_ok(
        discord::Request::GatewayBot,
        "discord/rest/gateway_bot.json",
    ) else {
        panic!("wrong variant")
    };
    assert_eq!(g.url, "wss://gateway.discord.gg");
    assert_eq!(g.shards, 2);
    let limit = g
        .session_start_limit
        .expect("the fixture has session_start_limit");
    assert_eq!(limit.total, 1000);
    assert_eq!(limit.remaining, 987);
    assert_eq!(limit.reset_after, 51_840_000);
    assert_eq!(limit.max_concurrency, 1);
}

#[test]
fn discord_message_and_user() {
    let Response::DiscordMessage(m) = discord_ok(
        msg("849255967228035073", "x"),
        "discord/rest/create_message_response.json",
    ) else {
        panic!("wrong variant")
    };
    assert_eq!(m.id, "1350040850545115136");
    assert_eq!(m.channel_id, "849255967228035073");
    // The author object of the same fixture is a user.
    let author =
        serde_json::to_vec(&fixture_json("discord/rest/create_message_response.json")["author"])
            .unwrap();
    let Ok(Response::DiscordUser(u)) = discord::Request::CurrentUser.decode_success(&author) else {
        panic!("user")
    };
    assert_eq!(
        (u.id.as_str(), u.username.as_str()),
        ("1297484454297731072", "krill")
    );
    let Ok(Response::DiscordDmChannel(c)) = (discord::Request::OpenDm {
        recipient_id: "80351110224678912".into(),
    })
    .decode_success(br#"{"id":"1302291126681731072","type":1,"recipients":[]}"#) else {
        panic!("dm channel")
    };
    assert_eq!(c.id, "1302291126681731072");
    // Empty-bodied answers (204).
    let typing = discord::Request::TriggerTyping {
        channel_id: "1".into(),
    };
    assert_eq!(typing.decode_success(b""), Ok(Response::Empty));
    // Missing fields are errors, not panics.
    assert!(msg("1", "x")
        .decode_success(br#"{"channel_id":"1"}"#)
        .is_err());
    assert!(discord::Request::GatewayBot
        .decode_success(b"<html>")
        .is_err());
}

#[test]
fn discord_request_fixtures_read() {
    let plain = fixture_json("discord/rest/create_message_request.json");
    assert_eq!(plain["content"], "Low tide at 14:05.");
    let reply = fixture_json("discord/rest/create_message_reply_request.json");
    assert_eq!(reply["enforce_nonce"], true);
    assert!(reply["nonce"].as_str().unwrap().len() <= discord::MAX_NONCE_LEN);
}

#[test]
fn discord_rate_limit_fixtures() {
    let user = http_fixture("discord/rest/rate_limit_429_user.json");
    let h = RateLimitHeaders::parse(&user);
    assert_eq!(h.limit, Some(5));
    assert_eq!(h.remaining, Some(0));
    assert_eq!(h.reset, Some(1741944421.25));
    assert_eq!(h.reset_after, Some(secs(2.75)));
    assert_eq!(
        h.bucket.as_deref(),
        Some("80c17d2f203122d936070c88c8d10f33")
    );
    assert!(!h.global);
    assert_eq!(h.scope, Some(Scope::User));
    assert_eq!(h.retry_after, Some(Duration::from_secs(3)));
    let b = RateLimitBody::parse(&user.body);
    assert_eq!(b.retry_after, Some(secs(2.75)));
    assert!(!b.global);
    assert_eq!(b.message.as_deref(), Some("You are being rate limited."));

    let shared = http_fixture("discord/rest/rate_limit_429_shared.json");
    let h = RateLimitHeaders::parse(&shared);
    assert_eq!(h.remaining, Some(4));
    assert_eq!(h.scope, Some(Scope::Shared));
    assert_eq!(h.retry_after, Some(Duration::from_secs(120)));
    assert_eq!(h.reset_after, Some(secs(5.0)));
    assert_eq!(
        RateLimitBody::parse(&shared.body).retry_after,
        Some(secs(119.5))
    );

    let global = http_fixture("discord/rest/rate_limit_429_global.json");
    let h = RateLimitHeaders::parse(&global);
    assert!(h.global);
    assert_eq!(h.scope, Some(Scope::Global));
    assert_eq!(
        (h.limit, h.remaining, h.reset, h.reset_after, h.bucket),
        (None, None, None, None, None)
    );
    assert!(RateLimitBody::parse(&global.body).global);
}

#[test]
fn garbage_rate_limit_values_read_as_absent() {
    let r = response(
        429,
        &[
            ("x-ratelimit-remaining", "-1"),
            ("X-RateLimit-Reset-After", "NaN"),
            ("X-RateLimit-Reset", "soon"),
            ("Retry-After", "1e400"),
            ("X-RateLimit-Global", "false"),
            ("X-RateLimit-Bucket", "  "),
        ],
        r#"{"retry_after": -3, "global": "yes"}"#,
    );
    let h = RateLimitHeaders::parse(&r);
    assert_eq!(h, RateLimitHeaders::default());
    let b = RateLimitBody::parse(&r.body);
    assert_eq!((b.retry_after, b.global), (None, false));
    let k = kook::RateLimitHeaders::parse(&response(200, &[("X-Rate-Limit-Reset", "inf")], ""));
    assert_eq!(k, kook::RateLimitHeaders::default());
}

#[test]
fn kook_gateway() {
    for rel in [
        "kook/rest/gateway_index.json",
        "kook/rest/gateway_index_with_query.json",
    ] {
        let Response::KookGateway(g) =
            kook_ok(kook::Request::GatewayIndex { compress: false }, rel)
        else {
            panic!("wrong variant")
        };
        assert_eq!(
            g.url.expose(),
            fixture_json(rel)["data"]["url"].as_str().unwrap()
        );
        assert!(
            !format!("{g:?}").contains("token="),
            "the gateway URL is a secret"
        );
    }
}

#[test]
fn kook_message_created_and_user() {
    for (rel, msg_id, msg_timestamp, nonce) in [
        (
            "kook/rest/message_create_response.json",
            "4e9a2c7f-1d5b-4a3e-9c8d-6b0f2e4a7c19",
            1741944702177,
            "krill-0001",
        ),
        (
            "kook/rest/direct_message_create_response.json",
            "b1d3f5a7-9c2e-4b6d-8f0a-3c5e7a9b1d24",
            1741944730501,
            "krill-0002",
        ),
    ] {
        let Response::KookMessage(m) = kook_ok(kook_msg("1", "x"), rel) else {
            panic!("wrong variant")
        };
        assert_eq!(m.msg_id, msg_id);
        assert_eq!(m.msg_timestamp, msg_timestamp);
        assert_eq!(m.nonce, nonce);
    }
    let Response::KookUser(u) = kook_ok(kook::Request::UserMe, "kook/rest/user_me.json") else {
        panic!("wrong variant")
    };
    assert_eq!(
        (u.id.as_str(), u.username.as_str(), u.bot),
        ("2862900000", "krill", true)
    );
    // code 0 with unusable data is an error, not a panic.
    assert!(kook::Request::UserMe
        .decode_data(serde_json::json!([]))
        .is_err());
}

#[test]
fn kook_rate_limit_fixtures() {
    let r = http_fixture("kook/rest/rate_limit_429.json");
    let h = kook::RateLimitHeaders::parse(&r);
    assert_eq!(h.limit, Some(120));
    assert_eq!(h.remaining, Some(0));
    assert_eq!(h.reset, Some(Duration::from_secs(7)));
    assert_eq!(h.bucket.as_deref(), Some("user/me"));
    assert!(!h.global);
    let g = kook::RateLimitHeaders::parse(&http_fixture("kook/rest/rate_limit_429_global.json"));
    assert!(g.global, "present with an empty value still means global");
    let env = Envelope::parse(&r.body).unwrap();
    assert_eq!(env.code, 40000);
}

/// The same fixture bodies, answered through the planner, complete typed.
#[test]
fn planner_completes_with_typed_results() {
    let t0 = Instant::now();
    type Check = fn(&Response) -> bool;
    let cases: Vec<(Request, &str, Check)> = vec![
        (
            discord::Request::GatewayBot.into(),
            "discord/rest/gateway_bot.json",
            |r| matches!(r, Response::DiscordGatewayBot(g) if g.shards == 2),
        ),
        (
            msg("849255967228035073", "Hello").into(),
            "discord/rest/create_message_response.json",
            |r| matches!(r, Response::DiscordMessage(m) if m.id == "1350040850545115136"),
        ),
        (
            kook::Request::UserMe.into(),
            "kook/rest/user_me.json",
            |r| matches!(r, Response::KookUser(u) if u.id == "2862900000"),
        ),
        (
            kook_msg("1", "x").into(),
            "kook/rest/message_create_response.json",
            |r| matches!(r, Response::KookMessage(m) if m.msg_id == "4e9a2c7f-1d5b-4a3e-9c8d-6b0f2e4a7c19"),
        ),
    ];
    for (req, rel, check) in cases {
        let api = match req.platform() {
            krill_core::rest::Platform::Discord => discord_api(),
            _ => kook_api(),
        };
        let mut p = Planner::new(api, RetryPolicy::default(), 1);
        let id = p.submit(t0, req).unwrap();
        let sent = transmit_all(&mut p, t0);
        assert_eq!(ids(&sent), vec![id]);
        p.handle_response(
            t0,
            id,
            response(200, &[], std::str::from_utf8(&fixture_bytes(rel)).unwrap()),
        )
        .unwrap();
        match events(&mut p).as_slice() {
            [RestEvent::Completed { id: got, response }] if *got == id => {
                assert!(check(response), "{rel}")
            }
            other => panic!("{rel}: {other:?}"),
        }
        assert_eq!(p.pending(), 0);
    }
    // A 2xx the planner cannot read fails once with Decode, not retried.
    let mut p = discord_planner(RetryPolicy::default());
    let id = p.submit(t0, msg("1", "x")).unwrap();
    transmit_all(&mut p, t0);
    p.handle_response(t0, id, response(200, &[], "not json"))
        .unwrap();
    assert!(matches!(
        events(&mut p).as_slice(),
        [RestEvent::Failed {
            error: RestError::Decode { status: 200, .. },
            ..
        }]
    ));
    assert!(transmit_all(&mut p, t0 + Duration::from_secs(60)).is_empty());
}
