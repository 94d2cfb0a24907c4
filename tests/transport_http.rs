//! The HTTP transport (`krill_drivers::http`) against the fake Discord and
//! KOOK REST APIs.

use std::time::Duration;

use krill_core::rest::http::{HttpRequest, Method};
use krill_core::secret::Secret;
use krill_drivers::http::{HttpClient, HttpClientConfig, TransportError};
use krill_testkit::{FakeDiscord, FakeDiscordOptions, FakeKook, FakeKookOptions, ScriptedResponse};
use serde_json::{json, Value};

fn request(method: Method, url: String, token: &str, body: Option<Value>) -> HttpRequest {
    HttpRequest {
        method,
        url,
        authorization: Some(Secret::new(format!("Bot {token}"))),
        headers: vec![
            (
                "User-Agent".into(),
                "DiscordBot (https://github.com/krill, 0.1.0)".into(),
            ),
            ("Content-Type".into(), "application/json".into()),
        ],
        body: body.map(|b| b.to_string().into_bytes()),
    }
}

fn json_body(body: &[u8]) -> Value {
    serde_json::from_slice(body).expect("json body")
}

#[test]
fn discord_gateway_bot_is_200_json_and_the_token_is_sent() {
    let fake = FakeDiscord::start(FakeDiscordOptions::default());
    let token = fake.options().token.clone();
    let req = request(
        Method::Get,
        format!("{}/gateway/bot", fake.api_base_url()),
        &token,
        None,
    );
    let resp = smol::block_on(HttpClient::shared().execute(req)).expect("response");
    assert_eq!(resp.status, 200);
    assert!(resp
        .header("content-type")
        .is_some_and(|v| v.contains("json")));
    let body = json_body(&resp.body);
    assert_eq!(body["url"], fake.gateway_url());
    let recorded = &fake.requests()[0];
    assert_eq!(
        recorded.header("authorization"),
        Some(format!("Bot {token}").as_str())
    );
    assert_eq!(recorded.method, "GET");
    assert_eq!(recorded.path, "/gateway/bot");
}

#[test]
fn error_statuses_are_responses_not_errors() {
    let fake = FakeDiscord::start(FakeDiscordOptions::default());
    let token = fake.options().token.clone();
    fake.push_http_response(
        "POST /channels/*/messages",
        ScriptedResponse::json(
            429,
            &[
                ("Retry-After", "2"),
                ("X-RateLimit-Bucket", "abcd1234"),
                ("X-RateLimit-Scope", "user"),
            ],
            &json!({"message": "You are being rate limited.", "retry_after": 1.5, "global": false}),
        ),
    );
    let url = format!(
        "{}/channels/849255967228035073/messages",
        fake.api_base_url()
    );
    let body = json!({"content": "hi", "nonce": "n1", "enforce_nonce": true});
    let client = HttpClient::shared();

    let resp = client
        .execute_blocking(&request(
            Method::Post,
            url.clone(),
            &token,
            Some(body.clone()),
        ))
        .expect("a 429 is a response");
    assert_eq!(resp.status, 429);
    assert_eq!(resp.header("retry-after"), Some("2"));
    assert_eq!(resp.header("x-ratelimit-bucket"), Some("abcd1234"));
    assert_eq!(json_body(&resp.body)["retry_after"], 1.5);

    let resp = client
        .execute_blocking(&request(Method::Post, url.clone(), &token, Some(body)))
        .expect("retry");
    assert_eq!(resp.status, 200);
    assert_eq!(json_body(&resp.body)["content"], "hi");
    assert_eq!(fake.posted_messages().len(), 1);

    let resp = client
        .execute_blocking(&request(
            Method::Get,
            format!("{}/users/@me", fake.api_base_url()),
            "wrong",
            None,
        ))
        .expect("a 401 is a response");
    assert_eq!(resp.status, 401);

    fake.push_http_response("/users/@me", ScriptedResponse::empty(502));
    let resp = client
        .execute_blocking(&request(
            Method::Get,
            format!("{}/users/@me", fake.api_base_url()),
            &token,
            None,
        ))
        .expect("a 502 is a response");
    assert_eq!(resp.status, 502);
}

#[test]
fn a_refused_port_is_a_transport_error_without_the_token() {
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        l.local_addr().expect("addr").port()
    };
    let req = request(
        Method::Get,
        format!("http://127.0.0.1:{port}/api/v10/gateway/bot"),
        "SECRET-TOKEN",
        None,
    );
    let err = HttpClient::shared()
        .execute_blocking(&req)
        .expect_err("refused");
    assert!(matches!(err, TransportError::Connect { .. }), "{err:?}");
    assert!(!format!("{err} {err:?} {req:?}").contains("SECRET-TOKEN"));
}

#[test]
fn bodies_over_the_limit_are_refused() {
    let fake = FakeDiscord::start(FakeDiscordOptions::default());
    fake.push_http_response(
        "/users/@me",
        ScriptedResponse::json(200, &[], &json!({"x": "y".repeat(4096)})),
    );
    let client = HttpClient::new(&HttpClientConfig {
        max_body_bytes: 1024,
        ..HttpClientConfig::default()
    });
    let req = request(
        Method::Get,
        format!("{}/users/@me", fake.api_base_url()),
        "t",
        None,
    );
    let err = client.execute_blocking(&req).expect_err("too large");
    assert!(
        matches!(err, TransportError::BodyTooLarge { limit: 1024, .. }),
        "{err:?}"
    );
}

#[test]
fn slow_responses_hit_the_overall_timeout() {
    let fake = FakeDiscord::start(FakeDiscordOptions::default());
    fake.push_http_response(
        "/users/@me",
        ScriptedResponse::empty(200).delayed(Duration::from_secs(3)),
    );
    let client = HttpClient::new(&HttpClientConfig {
        overall_timeout: Duration::from_millis(300),
        ..HttpClientConfig::default()
    });
    let req = request(
        Method::Get,
        format!("{}/users/@me", fake.api_base_url()),
        "t",
        None,
    );
    let err = client.execute_blocking(&req).expect_err("timeout");
    assert!(matches!(err, TransportError::Timeout { .. }), "{err:?}");
}

#[test]
fn kook_gateway_index_and_message_create() {
    let fake = FakeKook::start(FakeKookOptions::default());
    let token = fake.options().token.clone();
    let base = fake.api_base_url();
    let resp = smol::block_on(HttpClient::shared().execute(request(
        Method::Get,
        format!("{base}/gateway/index?compress=0"),
        &token,
        None,
    )))
    .expect("response");
    assert_eq!(resp.status, 200);
    let body = json_body(&resp.body);
    assert_eq!(body["code"], 0);
    let gw = body["data"]["url"].as_str().expect("url");
    assert!(gw.contains("?compress=0&token="), "{gw}");
    assert_eq!(fake.gateway_fetch_count(), 1);

    let resp = HttpClient::shared()
        .execute_blocking(&request(
            Method::Post,
            format!("{base}/message/create"),
            &token,
            Some(json!({"type": 9, "target_id": "c1", "content": "**hi**", "quote": "m0"})),
        ))
        .expect("response");
    assert_eq!(json_body(&resp.body)["code"], 0);
    let posts = fake
        .wait_for_posts(1, Duration::from_secs(5))
        .expect("post");
    assert_eq!(posts[0].content, "**hi**");
    assert_eq!(posts[0].quote.as_deref(), Some("m0"));
}
