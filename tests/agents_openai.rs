//! The OpenAI-compatible backend against a fake server: the request shape
//! (model, system prompt, transcript history, current prompt, max_tokens,
//! bearer token from `apiKeyEnv`), the reply, and every failure (HTTP
//! error, timeout, missing key, bad body, refused connection) taking the
//! "agent failed" path with the next turn working.

#[path = "agents/support.rs"]
mod support;

use std::time::Duration;

use krill_core::agent::{BackendSpec, AGENT_FAILED_REPLY};
use krill_drivers::agent::AgentError;
use krill_testkit::openai::{FakeOpenAi, FakeReply};
use support::{ask, dm_turn, runner};

fn backend(base_url: &str, api_key_env: Option<&str>, timeout_ms: u64) -> BackendSpec {
    BackendSpec::OpenAi {
        base_url: base_url.to_owned(),
        model: "test-model".into(),
        api_key_env: api_key_env.map(str::to_owned),
        system_prompt: Some("You are krill.".into()),
        max_tokens: Some(64),
        timeout_ms,
        vision: false,
        max_tool_steps: krill_core::agent::tool_loop::DEFAULT_MAX_TOOL_STEPS,
    }
}

fn s(a: &str, b: &str) -> (String, String) {
    (a.to_owned(), b.to_owned())
}

#[test]
fn request_carries_model_system_history_prompt_and_bearer_token() {
    // Edition 2021: set_var is safe; no other test reads this variable.
    std::env::set_var("KRILL_TEST_OPENAI_KEY", "sk-test-123");
    let server = FakeOpenAi::start();
    let state = tempfile::tempdir().unwrap();
    let runner = runner(
        backend(server.base_url(), Some("KRILL_TEST_OPENAI_KEY"), 30_000),
        state.path(),
        4,
    );

    let outcome = ask(&runner, dm_turn("agent:main:main", "1", "hi"));
    assert_eq!(outcome.reply.as_deref(), Some("echo: hi\n[message_id: 1]"));

    server.push_reply(FakeReply::content("Second answer.\n"));
    let mut second = dm_turn("agent:main:main", "2", "more");
    second.system_prompt = Some("Channel topic: help".into());
    let outcome = ask(&runner, second);
    assert!(!outcome.failed);
    assert_eq!(outcome.reply.as_deref(), Some("Second answer."));

    let requests = server.requests();
    assert_eq!(requests.len(), 2);
    let last = &requests[1];
    assert_eq!(last.method, "POST");
    assert_eq!(last.path, "/v1/chat/completions");
    assert_eq!(last.authorization.as_deref(), Some("Bearer sk-test-123"));
    assert_eq!(last.content_type.as_deref(), Some("application/json"));
    assert_eq!(last.model(), Some("test-model"));
    assert_eq!(last.max_tokens(), Some(64));
    assert_eq!(
        last.messages(),
        [
            s("system", "You are krill.\n\nChannel topic: help"),
            s("user", "hi\n[message_id: 1]"),
            s("assistant", "echo: hi\n[message_id: 1]"),
            s("user", "more\n[message_id: 2]"),
        ]
    );
    assert_eq!(
        requests[0].messages().len(),
        2,
        "system + prompt, no history yet"
    );
}

#[test]
fn no_api_key_env_sends_no_authorization() {
    let server = FakeOpenAi::start();
    let state = tempfile::tempdir().unwrap();
    let runner = runner(backend(server.base_url(), None, 30_000), state.path(), 4);
    let outcome = ask(&runner, dm_turn("agent:main:main", "1", "hi"));
    assert!(!outcome.failed);
    assert_eq!(server.requests()[0].authorization, None);
}

#[test]
fn missing_api_key_variable_is_a_clear_error_and_no_request() {
    let server = FakeOpenAi::start();
    let state = tempfile::tempdir().unwrap();
    let runner = runner(
        backend(
            server.base_url(),
            Some("KRILL_TEST_SURELY_UNSET_KEY"),
            30_000,
        ),
        state.path(),
        4,
    );
    let outcome = ask(&runner, dm_turn("agent:main:main", "1", "hi"));
    assert!(outcome.failed);
    assert_eq!(outcome.reply.as_deref(), Some(AGENT_FAILED_REPLY));
    let error = outcome.error.unwrap();
    assert!(
        matches!(error, AgentError::MissingApiKey(ref var) if var == "KRILL_TEST_SURELY_UNSET_KEY")
    );
    assert!(error.to_string().contains("KRILL_TEST_SURELY_UNSET_KEY"));
    assert!(server.requests().is_empty());
}

#[test]
fn http_error_fails_the_turn_and_the_next_turn_works() {
    let server = FakeOpenAi::start();
    let state = tempfile::tempdir().unwrap();
    let runner = runner(backend(server.base_url(), None, 30_000), state.path(), 4);

    server.push_reply(FakeReply::error(500, "upstream exploded"));
    let outcome = ask(&runner, dm_turn("agent:main:main", "1", "hi"));
    assert!(outcome.failed);
    assert_eq!(outcome.reply.as_deref(), Some(AGENT_FAILED_REPLY));
    match outcome.error {
        Some(AgentError::Http {
            status, ref body, ..
        }) => {
            assert_eq!(status, 500);
            assert!(body.contains("upstream exploded"));
        }
        ref other => panic!("expected an HTTP error, got {other:?}"),
    }

    server.push_reply(FakeReply::error(429, "slow down"));
    let outcome = ask(&runner, dm_turn("agent:main:main", "2", "hi"));
    assert!(matches!(
        outcome.error,
        Some(AgentError::Http { status: 429, .. })
    ));

    let outcome = ask(&runner, dm_turn("agent:main:main", "3", "again"));
    assert!(!outcome.failed);
    assert_eq!(
        outcome.reply.as_deref(),
        Some("echo: again\n[message_id: 3]")
    );
    let last = server.requests().pop().unwrap();
    assert_eq!(last.messages().len(), 2, "failed turns are not history");
}

#[test]
fn a_slow_api_times_out_and_the_next_turn_works() {
    let server = FakeOpenAi::start();
    let state = tempfile::tempdir().unwrap();
    let runner = runner(backend(server.base_url(), None, 500), state.path(), 4);

    server.push_reply(FakeReply::content("too late").delayed(Duration::from_secs(10)));
    let outcome = ask(&runner, dm_turn("agent:main:main", "1", "hi"));
    assert!(outcome.failed);
    assert!(
        matches!(outcome.error, Some(AgentError::Timeout { timeout_ms: 500 })),
        "{:?}",
        outcome.error
    );

    let outcome = ask(&runner, dm_turn("agent:main:main", "2", "quick"));
    assert_eq!(
        outcome.reply.as_deref(),
        Some("echo: quick\n[message_id: 2]")
    );
}

#[test]
fn odd_bodies_null_content_and_refused_connections() {
    let server = FakeOpenAi::start();
    let state = tempfile::tempdir().unwrap();
    let runner = runner(backend(server.base_url(), None, 30_000), state.path(), 4);

    server.push_reply(FakeReply::null_content());
    let outcome = ask(&runner, dm_turn("agent:main:main", "1", "hi"));
    assert!(!outcome.failed);
    assert_eq!(outcome.reply, None, "null content: no reply");

    server.push_reply(FakeReply::raw(200, "<html>proxy error</html>"));
    let outcome = ask(&runner, dm_turn("agent:main:main", "2", "hi"));
    assert!(
        matches!(outcome.error, Some(AgentError::BadResponse(_))),
        "{:?}",
        outcome.error
    );
    assert_eq!(outcome.reply.as_deref(), Some(AGENT_FAILED_REPLY));

    let closed_port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let refused = runner_for_refused(closed_port, state.path());
    let outcome = ask(&refused, dm_turn("agent:main:main", "3", "hi"));
    assert!(
        matches!(outcome.error, Some(AgentError::Transport { .. })),
        "{:?}",
        outcome.error
    );
    assert_eq!(outcome.reply.as_deref(), Some(AGENT_FAILED_REPLY));
}

fn runner_for_refused(port: u16, state: &std::path::Path) -> krill_drivers::agent::AgentRunner<()> {
    runner(
        backend(&format!("http://127.0.0.1:{port}/v1"), None, 5_000),
        state,
        4,
    )
}
