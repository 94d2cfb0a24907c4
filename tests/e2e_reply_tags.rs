//! Scenario: reply tags (the Discord channel doc, "Reply tags"; `replyToMode`).
//! An agent answering `[[reply_to_current]] hi`:
//! - Discord, `replyToMode: "first"`: the posted message carries
//!   `message_reference {message_id: <inbound id>, fail_if_not_exists:
//!   false}`, on the first chunk only; `"all"`: on every chunk;
//!   `[[reply_to:<id>]]` names another message;
//! - Discord, default `off`: no `message_reference`; the tag never shows;
//! - KOOK, `replyToMode: "first"`: the message is sent with `quote` = the
//!   inbound `msg_id`; default: no `quote`.

#[path = "support/krill.rs"]
mod krill;

use krill::{tests_path, Krill, WAIT};
use krill_testkit::discord::{message_create_dm, Author, PostedMessage, DM_CHANNEL_ID};
use krill_testkit::{FakeDiscord, FakeDiscordOptions, FakeKook, FakeKookOptions};
use serde_json::{json, Value};

const KOOK_USER: &str = "2418200000";

/// `say.py` answering `text` plus `extra_lines` lines.
fn backend(text: &str, extra_lines: usize) -> String {
    let command = json!([tests_path("agents/say.py"), text, extra_lines.to_string()]);
    format!(
        r#"agents: {{ defaults: {{ backend: {{ type: "command", command: {command}, timeoutMs: 20000 }} }} }},"#
    )
}

fn discord_config(fake: &FakeDiscord, reply_to_mode: &str, agent: &str) -> String {
    format!(
        r#"{{
  channels: {{
    discord: {{
      token: "{token}",
      apiBaseUrl: "{base}",
      dm: {{ policy: "open", allowFrom: ["*"] }},
      {reply_to_mode}
    }},
  }},
  {agent}
}}"#,
        token = fake.options().token,
        base = fake.api_base_url()
    )
}

/// Starts krill with `config`, sends one DM; returns the inbound id, the
/// `n` posts and the process.
fn dm_round(fake: &FakeDiscord, config: &str, n: usize) -> (String, Vec<PostedMessage>, Krill) {
    let krill = Krill::start(config, &["gateway"]);
    fake.wait_for_ready_client(WAIT).expect("krill identifies");
    let alice = Author::user("111111111111111111", "alice");
    let message = message_create_dm(DM_CHANNEL_ID, &alice, "hello?");
    let id = message["id"].as_str().expect("an id").to_owned();
    fake.dispatch("MESSAGE_CREATE", message);
    let posts = fake.wait_for_posts(n, WAIT).expect("the reply");
    assert!(!krill.log().contains(&fake.options().token));
    (id, posts, krill)
}

fn reference(post: &PostedMessage) -> Option<&Value> {
    post.body.get("message_reference")
}

#[test]
fn first_mode_references_the_inbound_message() {
    let fake = FakeDiscord::start(FakeDiscordOptions::default());
    let config = discord_config(
        &fake,
        r#"replyToMode: "first","#,
        &backend("[[reply_to_current]] hi", 0),
    );
    let (id, posts, _krill) = dm_round(&fake, &config, 1);
    assert_eq!(posts[0].content, "hi", "the tag is removed");
    assert_eq!(
        reference(&posts[0]),
        Some(&json!({"message_id": id, "fail_if_not_exists": false}))
    );
}

#[test]
fn off_by_default_sends_no_reference() {
    let fake = FakeDiscord::start(FakeDiscordOptions::default());
    let config = discord_config(&fake, "", &backend("[[reply_to_current]] hi", 0));
    let (_, posts, _krill) = dm_round(&fake, &config, 1);
    assert_eq!(posts[0].content, "hi", "the tag is removed");
    assert_eq!(reference(&posts[0]), None, "{:?}", posts[0].body);
}

#[test]
fn first_mode_references_only_the_first_chunk_and_all_mode_every_chunk() {
    for (mode, second_has_reference) in [("first", false), ("all", true)] {
        let fake = FakeDiscord::start(FakeDiscordOptions::default());
        let config = discord_config(
            &fake,
            &format!(r#"replyToMode: "{mode}","#),
            // 1 + 30 lines: two chunks at the default 17 lines per message.
            &backend("[[reply_to_current]] a long answer", 30),
        );
        let (id, posts, krill) = dm_round(&fake, &config, 2);
        let want = json!({"message_id": id, "fail_if_not_exists": false});
        assert!(posts[0].content.starts_with("a long answer\nline 1\n"));
        assert!(
            posts[1].content.ends_with("line 30"),
            "{:?}",
            posts[1].content
        );
        assert_eq!(reference(&posts[0]), Some(&want), "{mode}: first chunk");
        assert_eq!(
            reference(&posts[1]).is_some(),
            second_has_reference,
            "{mode}: second chunk {:?}",
            posts[1].body
        );
        if second_has_reference {
            assert_eq!(reference(&posts[1]), Some(&want));
        }
        drop(krill);
    }
}

#[test]
fn reply_to_id_names_another_message() {
    let fake = FakeDiscord::start(FakeDiscordOptions::default());
    let config = discord_config(
        &fake,
        r#"replyToMode: "all","#,
        &backend("[[reply_to:1302291126681731999]] about that one", 0),
    );
    let (_, posts, _krill) = dm_round(&fake, &config, 1);
    assert_eq!(posts[0].content, "about that one");
    assert_eq!(
        reference(&posts[0]).and_then(|r| r.get("message_id")),
        Some(&json!("1302291126681731999"))
    );
}

fn kook_config(fake: &FakeKook, reply_to_mode: &str) -> String {
    format!(
        r#"{{
  channels: {{
    kook: {{
      token: "{token}",
      apiBaseUrl: "{base}",
      allowedUserId: "{KOOK_USER}",
      {reply_to_mode}
    }},
  }},
  {agent}
}}"#,
        token = fake.options().token,
        base = fake.api_base_url(),
        agent = backend("[[reply_to_current]] hi", 0),
    )
}

#[test]
fn kook_quotes_the_inbound_message_in_first_mode_only() {
    for (mode, quoted) in [(r#"replyToMode: "first","#, true), ("", false)] {
        let fake = FakeKook::start(FakeKookOptions::default());
        let krill = Krill::start(&kook_config(&fake, mode), &["gateway"]);
        fake.wait_for_ready_client(WAIT).expect("krill connects");
        let group = fake.group_kmarkdown("5555", "6666", KOOK_USER, "hello?", &[]);
        let id = group["msg_id"].as_str().expect("an id").to_owned();
        fake.event(group);
        let posts = fake.wait_for_posts(1, WAIT).expect("the reply");
        assert_eq!(posts[0].content, "hi", "the tag is removed");
        assert_eq!(posts[0].target_id, "5555");
        if quoted {
            assert_eq!(
                posts[0].quote.as_deref(),
                Some(id.as_str()),
                "{:?}",
                posts[0].body
            );
        } else {
            assert_eq!(posts[0].quote, None, "{:?}", posts[0].body);
        }
        assert!(!krill.log().contains(&fake.options().token));
    }
}
