//! Scenario: a `command` agent that crashes (exit 3, with partial stdout and
//! a stderr line) behind the gateway: the chat gets the fixed "agent failed"
//! reply, never the partial output or the error; the failure is logged; the
//! next message in the same session is answered normally.

#[path = "support/krill.rs"]
mod krill;

use krill::{tests_path, Krill, WAIT};
use krill_core::agent::AGENT_FAILED_REPLY;
use krill_testkit::discord::{message_create_guild, Author, CHANNEL_ID, GUILD_ID};
use krill_testkit::{FakeDiscord, FakeDiscordOptions};

fn config(fake: &FakeDiscord) -> String {
    let command = serde_json::json!([tests_path("agents/crash.py")]);
    format!(
        r#"{{
  channels: {{
    discord: {{
      token: "{token}",
      apiBaseUrl: "{base}",
      groupPolicy: "open",
    }},
  }},
  agents: {{ defaults: {{ backend: {{ type: "command", command: {command}, timeoutMs: 20000 }} }} }},
}}"#,
        token = fake.options().token,
        base = fake.api_base_url()
    )
}

#[test]
fn a_crashing_agent_gets_the_failure_reply_and_the_next_message_works() {
    let fake = FakeDiscord::start(FakeDiscordOptions::default());
    let krill = Krill::start(&config(&fake), &["gateway"]);
    fake.wait_for_ready_client(WAIT).expect("krill identifies");
    let bot = fake.options().bot_user_id.clone();
    let alice = Author::user("111111111111111111", "alice");

    fake.dispatch(
        "MESSAGE_CREATE",
        message_create_guild(
            CHANNEL_ID,
            GUILD_ID,
            &alice,
            &format!("{} crash", fake.bot_mention()),
            &[&bot],
        ),
    );
    let posts = fake.wait_for_posts(1, WAIT).expect("a failure reply");
    assert_eq!(posts[0].channel_id, CHANNEL_ID);
    assert_eq!(posts[0].content, AGENT_FAILED_REPLY);
    krill
        .wait_for_log("agent failed", WAIT)
        .expect("the failure is logged");

    fake.dispatch(
        "MESSAGE_CREATE",
        message_create_guild(
            CHANNEL_ID,
            GUILD_ID,
            &alice,
            &format!("{} are you back?", fake.bot_mention()),
            &[&bot],
        ),
    );
    let posts = fake.wait_for_posts(2, WAIT).expect("the next reply");
    assert_eq!(posts[1].content, "ok: are you back?");
    for post in fake.posted_messages() {
        assert!(
            !post.content.contains("partial output") && !post.content.contains("boom"),
            "the crash's output never reaches the chat: {:?}",
            post.content
        );
    }
    assert_eq!(fake.posted_messages().len(), 2);
}
