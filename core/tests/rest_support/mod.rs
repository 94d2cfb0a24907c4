//! Shared helpers for the `rest_*` integration tests: fixture loading,
//! response builders, and a little driver loop over virtual time.
#![allow(dead_code)]

use std::time::{Duration, Instant};

use krill_core::rest::{
    discord, kook, Api, HttpRequest, HttpResponse, Planner, Platform, RequestId, RestEvent,
    RetryPolicy,
};
use krill_core::secret::Secret;

/// The fixtures folder (`core/tests/fixtures`), resolved from the core crate.
pub const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures");

pub const TOKEN: &str = "MTI5NzQ4NDQ1NDI5NzczMTA3Mg.test.token";

pub fn fixture_bytes(rel: &str) -> Vec<u8> {
    let path = format!("{FIXTURES}/{rel}");
    std::fs::read(&path).unwrap_or_else(|e| panic!("fixture {path}: {e}"))
}

pub fn fixture_json(rel: &str) -> serde_json::Value {
    serde_json::from_slice(&fixture_bytes(rel)).expect("fixtures are valid JSON")
}

/// An HTTP error fixture `{status, headers, body}` as a response.
pub fn http_fixture(rel: &str) -> HttpResponse {
    let v = fixture_json(rel);
    let status = v["status"].as_u64().expect("status") as u16;
    let headers = v["headers"]
        .as_object()
        .expect("headers")
        .iter()
        .map(|(k, v)| (k.clone(), v.as_str().expect("header string").to_owned()))
        .collect();
    HttpResponse {
        status,
        headers,
        body: serde_json::to_vec(&v["body"]).expect("body"),
    }
}

pub fn response(status: u16, headers: &[(&str, &str)], body: &str) -> HttpResponse {
    HttpResponse {
        status,
        headers: headers
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect(),
        body: body.as_bytes().to_vec(),
    }
}

pub fn message_ok(channel: &str) -> HttpResponse {
    response(
        200,
        &[],
        &format!(r#"{{"id":"1350040850545115136","channel_id":"{channel}"}}"#),
    )
}

pub fn kook_message_ok() -> HttpResponse {
    response(
        200,
        &[],
        r#"{"code":0,"message":"ok","data":{"msg_id":"m1","msg_timestamp":1607072537177,"nonce":""}}"#,
    )
}

pub fn discord_api() -> Api {
    Api::new(
        Platform::Discord,
        "http://127.0.0.1:9/api/v10/",
        Secret::new(TOKEN),
    )
}

pub fn kook_api() -> Api {
    Api::new(
        Platform::Kook,
        "http://127.0.0.1:9/api/v3",
        Secret::new(TOKEN),
    )
}

/// A policy without jitter and with a very long `maxDelayMs`, so server
/// waits are honoured unclamped.
pub fn patient() -> RetryPolicy {
    RetryPolicy {
        attempts: 3,
        min_delay_ms: 500,
        max_delay_ms: 10_000_000,
        jitter: 0.0,
    }
}

pub fn discord_planner(policy: RetryPolicy) -> Planner {
    Planner::new(discord_api(), policy, 7)
}

pub fn kook_planner(policy: RetryPolicy) -> Planner {
    Planner::new(kook_api(), policy, 7)
}

pub fn msg(channel: &str, content: &str) -> discord::Request {
    discord::Request::CreateMessage(discord::CreateMessage {
        channel_id: channel.to_owned(),
        content: content.to_owned(),
        reply_to: None,
        nonce: None,
        ..Default::default()
    })
}

pub fn kook_msg(channel: &str, content: &str) -> kook::Request {
    kook::Request::MessageCreate(kook::MessageCreate {
        target_id: channel.to_owned(),
        content: content.to_owned(),
        quote: None,
        nonce: None,
    })
}

pub fn secs(s: f64) -> Duration {
    Duration::from_secs_f64(s)
}

pub fn ms(m: u64) -> Duration {
    Duration::from_millis(m)
}

pub fn transmit_all(planner: &mut Planner, now: Instant) -> Vec<(RequestId, HttpRequest)> {
    let mut out = Vec::new();
    while let Some(x) = planner.poll_transmit(now) {
        out.push(x);
        assert!(out.len() < 10_000, "poll_transmit never returned None");
    }
    out
}

pub fn ids(sent: &[(RequestId, HttpRequest)]) -> Vec<RequestId> {
    sent.iter().map(|(id, _)| *id).collect()
}

pub fn events(planner: &mut Planner) -> Vec<RestEvent> {
    std::iter::from_fn(|| planner.poll_event()).collect()
}

pub fn body_json(http: &HttpRequest) -> serde_json::Value {
    serde_json::from_slice(http.body.as_deref().expect("a body")).expect("a JSON body")
}

/// The single `Retrying` event's `at`, asserting there is exactly one event.
pub fn retrying_at(
    planner: &mut Planner,
    id: RequestId,
) -> (Instant, krill_core::rest::RetryReason) {
    let evs = events(planner);
    match evs.as_slice() {
        [RestEvent::Retrying {
            id: got,
            at,
            reason,
        }] if *got == id => (*at, reason.clone()),
        other => panic!("expected one Retrying for {id:?}, got {other:?}"),
    }
}
