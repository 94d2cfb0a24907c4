//! Scenario: guild context history (the Discord channel doc, item 11 and "Reply
//! tags"). With `historyLimit` at its default (20), guild messages that did
//! not trigger the bot are shown to the agent when it is mentioned: the
//! `prompt` of the command agent holds each earlier message as
//! `[from: <author.tag> (<id>)] <text>` and `[message_id: <id>]`, then the
//! current one. The context is "since your last reply": the next mention
//! starts empty. `historyLimit: 1` keeps only the newest message, `0` none.

#[path = "support/krill.rs"]
mod krill;

use std::path::Path;

use krill::{tests_path, Krill, WAIT};
use krill_testkit::discord::{message_create_guild, Author, CHANNEL_ID, GUILD_ID};
use krill_testkit::{FakeDiscord, FakeDiscordOptions};
use serde_json::{json, Value};

fn config(fake: &FakeDiscord, dump: &Path, extra: &str) -> String {
    let command = json!([tests_path("agents/record.py"), dump]);
    format!(
        r#"{{
  channels: {{
    discord: {{
      token: "{token}",
      apiBaseUrl: "{base}",
      groupPolicy: "open",
      {extra}
    }},
  }},
  agents: {{ defaults: {{ backend: {{ type: "command", command: {command}, timeoutMs: 20000 }} }} }},
}}"#,
        token = fake.options().token,
        base = fake.api_base_url()
    )
}

fn request(dump: &Path, n: usize) -> Value {
    let path = dump.join(format!("request-{n}.json"));
    let raw = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&raw).expect("JSON")
}

/// Dispatches a guild message in the fixtures' channel; returns its id.
fn say(fake: &FakeDiscord, author: &Author, text: &str, discriminator: Option<&str>) -> String {
    let bot = fake.options().bot_user_id.clone();
    let mentions: Vec<&str> = if text.contains(&fake.bot_mention()) {
        vec![&bot]
    } else {
        vec![]
    };
    let mut message = message_create_guild(CHANNEL_ID, GUILD_ID, author, text, &mentions);
    if let Some(d) = discriminator {
        message["author"]["discriminator"] = json!(d);
    }
    let id = message["id"].as_str().expect("an id").to_owned();
    fake.dispatch("MESSAGE_CREATE", message);
    id
}

#[test]
fn earlier_unmentioned_messages_are_the_mentioned_turns_context() {
    let fake = FakeDiscord::start(FakeDiscordOptions::default());
    let work = tempfile::tempdir().expect("temp dir");
    let dump = work.path().join("dump");
    let krill = Krill::start(&config(&fake, &dump, ""), &["gateway"]);
    fake.wait_for_ready_client(WAIT).expect("krill identifies");

    let bob = Author::user("222222222222222222", "bob");
    let carol = Author::user("333333333333333333", "carol");
    let alice = Author::user("111111111111111111", "alice");
    let first = say(
        &fake,
        &bob,
        "I think we should ship on friday",
        Some("4242"),
    );
    let second = say(&fake, &carol, "line one\nline two", None);
    let current = say(
        &fake,
        &alice,
        &format!("{} what do you think?", fake.bot_mention()),
        None,
    );
    let posts = fake
        .wait_for_posts(1, WAIT)
        .expect("a reply to the mention");
    assert_eq!(posts.len(), 1, "only the mention is answered");
    let prompt = request(&dump, 1)["prompt"]
        .as_str()
        .expect("a prompt")
        .to_owned();
    assert_eq!(
        prompt,
        format!(
            "[Chat messages since your last reply - for context]\n\
             [from: bob#4242 (222222222222222222)] I think we should ship on friday\n\
             [message_id: {first}]\n\
             [discord message id: {first} channel: {CHANNEL_ID}]\n\
             [from: carol (333333333333333333)] line one\nline two\n\
             [message_id: {second}]\n\
             [discord message id: {second} channel: {CHANNEL_ID}]\n\
             \n\
             [Current message - respond to this]\n\
             [from: alice (111111111111111111)] what do you think?\n\
             [message_id: {current}]\n\
             [discord message id: {current} channel: {CHANNEL_ID}]"
        )
    );
    assert_eq!(request(&dump, 1)["text"], "what do you think?");

    // The context was used up by that reply: the next mention has none.
    let next = say(
        &fake,
        &alice,
        &format!("{} and now?", fake.bot_mention()),
        None,
    );
    fake.wait_for_posts(2, WAIT).expect("a second reply");
    assert_eq!(
        request(&dump, 2)["prompt"],
        format!("[from: alice (111111111111111111)] and now?\n[message_id: {next}]\n[discord message id: {next} channel: {CHANNEL_ID}]")
    );
    assert!(!krill.log().contains(&fake.options().token));
}

#[test]
fn history_limit_bounds_the_context_and_zero_disables_it() {
    for (limit, expected_lines) in [(1usize, 1usize), (0, 0)] {
        let fake = FakeDiscord::start(FakeDiscordOptions::default());
        let work = tempfile::tempdir().expect("temp dir");
        let dump = work.path().join("dump");
        let extra = format!("historyLimit: {limit},");
        let _krill = Krill::start(&config(&fake, &dump, &extra), &["gateway"]);
        fake.wait_for_ready_client(WAIT).expect("krill identifies");

        let bob = Author::user("222222222222222222", "bob");
        let alice = Author::user("111111111111111111", "alice");
        say(&fake, &bob, "old news", None);
        let newest = say(&fake, &bob, "fresh news", None);
        let current = say(
            &fake,
            &alice,
            &format!("{} summary?", fake.bot_mention()),
            None,
        );
        fake.wait_for_posts(1, WAIT).expect("a reply");
        let prompt = request(&dump, 1)["prompt"].as_str().unwrap().to_owned();
        let context_lines = prompt.matches("[from: bob").count();
        assert_eq!(
            context_lines, expected_lines,
            "historyLimit {limit}: {prompt}"
        );
        assert!(
            !prompt.contains("old news"),
            "historyLimit {limit}: {prompt}"
        );
        if limit == 1 {
            assert!(
                prompt.contains(&format!("fresh news\n[message_id: {newest}]")),
                "{prompt}"
            );
        } else {
            assert_eq!(
                prompt,
                format!("[from: alice (111111111111111111)] summary?\n[message_id: {current}]\n[discord message id: {current} channel: {CHANNEL_ID}]")
            );
        }
    }
}
