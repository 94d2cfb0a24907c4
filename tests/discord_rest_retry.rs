//! Scenario: `POST /channels/{id}/messages` answers 429 (with
//! `retry_after`), then 502, then 500, before it succeeds. krill waits
//! what the 429 asks, backs off on the 5xx, resends the very same body
//! (same `nonce`, `enforce_nonce: true`), and the reply is posted exactly
//! once (no duplicate attempt). The next message is answered once; the
//! token never reaches the log.

#[path = "support/krill.rs"]
mod krill;
#[path = "support/scenario.rs"]
mod scenario;

use krill::WAIT;
use krill_testkit::{FakeDiscord, FakeDiscordOptions, ScriptedResponse};
use scenario::{assert_no_secrets, discord_answered_once, discord_dm, start_discord};
use serde_json::json;

const ROUTE: &str = "POST /channels/*/messages";

#[test]
fn rate_limits_and_server_errors_are_retried_and_the_reply_posted_once() {
    let fake = FakeDiscord::start(FakeDiscordOptions::default());
    let krill = start_discord(&fake, "");
    fake.push_http_response(
        ROUTE,
        ScriptedResponse::json(
            429,
            &[
                ("X-RateLimit-Limit", "5"),
                ("X-RateLimit-Remaining", "0"),
                ("X-RateLimit-Reset-After", "0.3"),
                ("X-RateLimit-Bucket", "fake-bucket"),
            ],
            &json!({"message": "You are being rate limited.", "retry_after": 0.3, "global": false}),
        ),
    );
    fake.push_http_response(ROUTE, ScriptedResponse::empty(502));
    fake.push_http_response(
        ROUTE,
        ScriptedResponse::json(
            500,
            &[],
            &json!({"message": "500: Internal Server Error", "code": 0}),
        ),
    );

    discord_dm(&fake, "hello through the storm");
    let posts = fake.wait_for_posts(1, WAIT).expect("the reply");
    assert_eq!(posts[0].content, "hello through the storm");

    let attempts = fake
        .wait_for_requests(ROUTE, 4, WAIT)
        .expect("four attempts");
    let statuses: Vec<u16> = attempts.iter().map(|r| r.status).collect();
    assert_eq!(statuses, vec![429, 502, 500, 200]);
    let first = attempts[0].json().expect("a JSON body");
    assert!(first["nonce"].is_string(), "a nonce: {first}");
    assert_eq!(first["enforce_nonce"], true);
    for attempt in &attempts[1..] {
        assert_eq!(
            attempt.body, attempts[0].body,
            "a retry resends the same bytes"
        );
    }
    assert!(fake.duplicate_post_attempts().is_empty());
    krill
        .wait_for_log("wait: 300ms", WAIT)
        .expect("the 429's retry_after is what krill waits");
    krill
        .wait_for_log("ServerError { status: 502 }", WAIT)
        .expect("the 502 is retried");

    discord_answered_once(&fake, &["hello through the storm"], "calm again");
    assert_eq!(
        fake.wait_for_requests(ROUTE, 5, WAIT).map(|r| r.len()),
        Ok(5),
        "the second reply needed one attempt"
    );
    assert_no_secrets(&krill, &[&fake.options().token]);
}
