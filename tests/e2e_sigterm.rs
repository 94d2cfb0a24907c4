//! Scenario: SIGTERM during a slow turn. With the default shutdown timeout
//! the turn finishes, its reply is posted and krill exits 0; the next start
//! resumes the Discord session (no new Identify) and posts nothing twice.
//! With `gateway.shutdownTimeoutSeconds: 1` krill exits 0 before the turn
//! ends; the next start runs the journaled turn again and posts its reply
//! exactly once.

#[path = "support/krill.rs"]
mod krill;

use std::time::Duration;

use krill::{tests_path, Krill, WAIT};
use krill_testkit::discord::{message_create_dm, Author, DM_CHANNEL_ID};
use krill_testkit::{FakeDiscord, FakeDiscordOptions};
use serde_json::json;

fn config(fake: &FakeDiscord, seconds: f64, extra: &str) -> String {
    let command = json!([tests_path("agents/slow.py"), seconds.to_string()]);
    format!(
        r#"{{
  channels: {{ discord: {{ token: "{token}", apiBaseUrl: "{base}", dm: {{ policy: "open", allowFrom: ["*"] }} }} }},
  agents: {{ defaults: {{ backend: {{ type: "command", command: {command}, timeoutMs: 20000 }} }} }},
  {extra}
}}"#,
        token = fake.options().token,
        base = fake.api_base_url()
    )
}

fn contents(fake: &FakeDiscord) -> Vec<String> {
    fake.posted_messages()
        .into_iter()
        .map(|p| p.content)
        .collect()
}

#[test]
fn sigterm_lets_the_running_turn_answer_then_the_next_start_resumes() {
    let fake = FakeDiscord::start(FakeDiscordOptions::default());
    let config = config(&fake, 1.5, "");
    let mut krill = Krill::start(&config, &["gateway"]);
    fake.wait_for_ready_client(WAIT).expect("ready");
    let alice = Author::user("111111111111111111", "alice");
    fake.dispatch(
        "MESSAGE_CREATE",
        message_create_dm(DM_CHANNEL_ID, &alice, "hello"),
    );
    std::thread::sleep(Duration::from_millis(400));
    krill.signal("TERM");
    let status = krill.wait_exit(WAIT).expect("krill exits");
    assert!(
        status.success(),
        "exit 0 after SIGTERM: {status:?}\n{}",
        krill.log()
    );
    assert_eq!(contents(&fake), ["slow: hello"], "answered before exit");
    assert!(
        fake.client_close_codes()
            .iter()
            .all(|code| !matches!(code, Some(1000 | 1001))),
        "the session is not ended: {:?}",
        fake.client_close_codes()
    );

    let state = krill.into_state();
    let krill = Krill::start_in(state, &config, &["gateway"], &[]);
    fake.wait_for_resumed(1, WAIT)
        .expect("the next start resumes");
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(fake.identify_count(), 1, "no new Identify\n{}", krill.log());
    assert_eq!(contents(&fake), ["slow: hello"], "nothing posted twice");
}

#[test]
fn a_turn_cut_by_the_shutdown_timeout_is_answered_after_the_restart() {
    let fake = FakeDiscord::start(FakeDiscordOptions::default());
    let config = config(&fake, 3.0, "gateway: { shutdownTimeoutSeconds: 1 },");
    let mut krill = Krill::start(&config, &["gateway"]);
    fake.wait_for_ready_client(WAIT).expect("ready");
    let alice = Author::user("111111111111111111", "alice");
    fake.dispatch(
        "MESSAGE_CREATE",
        message_create_dm(DM_CHANNEL_ID, &alice, "slowly"),
    );
    std::thread::sleep(Duration::from_millis(300));
    krill.signal("TERM");
    let status = krill
        .wait_exit(Duration::from_secs(10))
        .expect("krill exits");
    assert!(status.success(), "exit 0 after the timeout: {status:?}");
    assert!(contents(&fake).is_empty(), "the turn was cut short");

    let state = krill.into_state();
    let krill = Krill::start_in(state, &config, &["gateway"], &[]);
    fake.wait_for_resumed(1, WAIT)
        .expect("the next start resumes");
    fake.wait_for_posts(1, WAIT)
        .expect("the journaled turn is answered");
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(
        contents(&fake),
        ["slow: slowly"],
        "answered once\n{}",
        krill.log()
    );
}
