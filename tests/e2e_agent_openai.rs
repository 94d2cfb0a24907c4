//! Scenario: an `openai` backend behind the gateway: a Discord DM becomes a
//! `POST /chat/completions` to the (fake) OpenAI-compatible server with the
//! model, the system prompt, the transcript history and the rendered prompt,
//! the bearer key from `apiKeyEnv`; the model's answer is posted in the DM.
//! Neither the bot token nor the API key reaches the log.

#[path = "support/krill.rs"]
mod krill;

use krill::{Krill, WAIT};
use krill_testkit::discord::{message_create_dm, Author, DM_CHANNEL_ID};
use krill_testkit::openai::{FakeOpenAi, FakeReply};
use krill_testkit::{FakeDiscord, FakeDiscordOptions};

const API_KEY: &str = "sk-e2e-secret-key-42";

fn config(fake: &FakeDiscord, openai: &FakeOpenAi) -> String {
    format!(
        r#"{{
  channels: {{
    discord: {{
      token: "{token}",
      apiBaseUrl: "{base}",
      dm: {{ policy: "open", allowFrom: ["*"] }},
    }},
  }},
  agents: {{
    list: [{{
      id: "main",
      backend: {{
        type: "openai",
        baseUrl: "{openai}",
        model: "e2e-model",
        apiKeyEnv: "KRILL_E2E_OPENAI_KEY",
        systemPrompt: "You are krill.",
        timeoutMs: 20000,
      }},
    }}],
  }},
}}"#,
        token = fake.options().token,
        base = fake.api_base_url(),
        openai = openai.base_url(),
    )
}

fn pair(a: &str, b: &str) -> (String, String) {
    (a.to_owned(), b.to_owned())
}

#[test]
fn an_openai_backend_answers_a_discord_dm() {
    let fake = FakeDiscord::start(FakeDiscordOptions::default());
    let openai = FakeOpenAi::start();
    openai.push_reply(FakeReply::content("Hello, I am the model.\n"));
    openai.push_reply(FakeReply::content("Still me."));
    let krill = Krill::start_with_env(
        &config(&fake, &openai),
        &["gateway"],
        &[("KRILL_E2E_OPENAI_KEY", API_KEY)],
    );
    fake.wait_for_ready_client(WAIT).expect("krill identifies");

    let alice = Author::user("111111111111111111", "alice");
    let first = message_create_dm(DM_CHANNEL_ID, &alice, "who are you?");
    let first_id = first["id"].as_str().unwrap().to_owned();
    fake.dispatch("MESSAGE_CREATE", first);
    let posts = fake.wait_for_posts(1, WAIT).expect("the model's reply");
    assert_eq!(posts[0].channel_id, DM_CHANNEL_ID);
    assert_eq!(posts[0].content, "Hello, I am the model.");

    let second = message_create_dm(DM_CHANNEL_ID, &alice, "and now?");
    let second_id = second["id"].as_str().unwrap().to_owned();
    fake.dispatch("MESSAGE_CREATE", second);
    let posts = fake.wait_for_posts(2, WAIT).expect("the second reply");
    assert_eq!(posts[1].content, "Still me.");

    let requests = openai.requests();
    assert_eq!(requests.len(), 2, "one request per turn");
    let first_prompt = format!("who are you?\n[message_id: {first_id}]\n[discord message id: {first_id} channel: {DM_CHANNEL_ID}]");
    assert_eq!(requests[0].path, "/v1/chat/completions");
    assert_eq!(requests[0].model(), Some("e2e-model"));
    assert_eq!(
        requests[0].authorization.as_deref(),
        Some(format!("Bearer {API_KEY}").as_str())
    );
    assert_eq!(
        requests[0].messages(),
        vec![
            pair("system", "You are krill."),
            pair("user", &first_prompt)
        ]
    );
    assert_eq!(
        requests[1].messages(),
        vec![
            pair("system", "You are krill."),
            pair("user", &first_prompt),
            pair("assistant", "Hello, I am the model."),
            pair("user", &format!("and now?\n[message_id: {second_id}]\n[discord message id: {second_id} channel: {DM_CHANNEL_ID}]")),
        ],
        "the transcript goes along"
    );

    let log = krill.log();
    assert!(
        !log.contains(&fake.options().token),
        "no bot token in the log"
    );
    assert!(!log.contains(API_KEY), "no API key in the log");
}

#[test]
fn a_failing_model_gets_the_agent_failed_reply_and_the_next_turn_works() {
    let fake = FakeDiscord::start(FakeDiscordOptions::default());
    let openai = FakeOpenAi::start();
    openai.push_reply(FakeReply::error(500, "the model is on fire"));
    openai.push_reply(FakeReply::content("recovered"));
    let krill = Krill::start_with_env(
        &config(&fake, &openai),
        &["gateway"],
        &[("KRILL_E2E_OPENAI_KEY", API_KEY)],
    );
    fake.wait_for_ready_client(WAIT).expect("krill identifies");

    let alice = Author::user("111111111111111111", "alice");
    fake.dispatch(
        "MESSAGE_CREATE",
        message_create_dm(DM_CHANNEL_ID, &alice, "first"),
    );
    let posts = fake.wait_for_posts(1, WAIT).expect("a failure reply");
    assert_eq!(posts[0].content, krill_core::agent::AGENT_FAILED_REPLY);
    assert!(
        !posts[0].content.contains("on fire"),
        "the error stays out of the chat"
    );
    fake.dispatch(
        "MESSAGE_CREATE",
        message_create_dm(DM_CHANNEL_ID, &alice, "second"),
    );
    let posts = fake.wait_for_posts(2, WAIT).expect("the next reply");
    assert_eq!(posts[1].content, "recovered");
    assert!(!krill.log().contains(API_KEY), "no API key in the log");
}
