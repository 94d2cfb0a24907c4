//! Scenario: KOOK's `POST /direct-message/create` answers HTTP 429 (with
//! `X-Rate-Limit-Reset`), then HTTP 200 with a transient `code` (50000),
//! before it succeeds: krill retries and the reply is sent exactly once.
//! A final `code` (40000, HTTP 200) is not retried: that reply is dropped
//! with a log line and the next message is still answered. Neither token
//! reaches the log.

#[path = "support/krill.rs"]
mod krill;
#[path = "support/scenario.rs"]
mod scenario;

use krill::WAIT;
use krill_testkit::{FakeKook, FakeKookOptions, ScriptedResponse};
use scenario::{assert_no_secrets, kook_answered_once, kook_dm, start_kook};
use serde_json::json;

const ROUTE: &str = "POST /direct-message/create";

fn code(code: u32, message: &str) -> ScriptedResponse {
    ScriptedResponse::json(
        200,
        &[],
        &json!({"code": code, "message": message, "data": []}),
    )
}

#[test]
fn a_429_and_a_transient_code_are_retried_a_final_code_is_not() {
    let fake = FakeKook::start(FakeKookOptions::default());
    let krill = start_kook(&fake, "");
    fake.push_http_response(
        ROUTE,
        ScriptedResponse::json(
            429,
            &[
                ("X-Rate-Limit-Limit", "5"),
                ("X-Rate-Limit-Remaining", "0"),
                ("X-Rate-Limit-Reset", "1"),
                ("X-Rate-Limit-Bucket", "direct-message/create"),
            ],
            &json!({"code": 429, "message": "请求过于频繁", "data": []}),
        ),
    );
    fake.push_http_response(ROUTE, code(50000, "服务器繁忙"));

    kook_dm(&fake, "hello through the storm");
    let posts = fake.wait_for_posts(1, WAIT).expect("the reply");
    assert_eq!(posts[0].content, "hello through the storm");
    let attempts: Vec<u16> = fake
        .requests()
        .iter()
        .filter(|r| r.method == "POST" && r.path == "/direct-message/create")
        .map(|r| r.status)
        .collect();
    assert_eq!(attempts, vec![429, 200, 200], "429, code 50000, then sent");
    krill
        .wait_for_log("wait: 1s", WAIT)
        .expect("the 429's X-Rate-Limit-Reset is what krill waits");
    krill
        .wait_for_log("KookTransient { code: 50000", WAIT)
        .expect("the transient code is retried");

    // A final code: not retried, logged, and the channel goes on.
    fake.push_http_response(ROUTE, code(40000, "参数错误"));
    kook_dm(&fake, "this reply is refused");
    krill
        .wait_for_log("40000", WAIT)
        .expect("the refusal is logged");
    kook_answered_once(&fake, &["hello through the storm"], "calm again");
    let sends = fake
        .requests()
        .iter()
        .filter(|r| r.method == "POST" && r.path == "/direct-message/create")
        .count();
    assert_eq!(sends, 5, "the refused reply was sent once, not retried");
    assert_no_secrets(&krill, &[&fake.options().token]);
}
