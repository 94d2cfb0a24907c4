//! Scenario: reactions on Discord (the Discord channel doc, "Reaction
//! notifications" and "Reaction trigger").
//!
//! - Trigger (`reactionTrigger: {enabled: true}`, `requireMention: false`,
//!   echo agent): a 👍 on the bot's fresh reply makes the bot answer in that
//!   channel, with the agent text
//!   `[reaction] <name> reacted 👍 (positive) to your message <id>`; a 🤔
//!   (neutral), a 👍 on someone else's message and a 👍 from a user outside
//!   the guild's `users` do nothing.
//! - Notifications (default `own`, command agent `tests/agents/record.py`):
//!   a 👍 on the bot's message puts
//!   `[system] <name> (<id>) reacted 👍 to your message <id>` before the
//!   prompt of the session's next turn, once; with `off` nothing does. DMs
//!   too, in the DM's session.
//!
//! "Nothing happened" is proven by the reaction's debug log line (the
//! decision is final once logged) and, later, by the exact list of posts.

#[path = "support/krill.rs"]
mod krill;

use std::path::Path;

use krill::{tests_path, Krill, WAIT};
use krill_testkit::discord::{
    message_create_dm, message_create_guild, message_reaction_add, Author, CHANNEL_ID,
    DM_CHANNEL_ID, GUILD_ID,
};
use krill_testkit::{FakeDiscord, FakeDiscordOptions};
use serde_json::{json, Value};

const ALICE: &str = "111111111111111111";
const BOB: &str = "222222222222222222";

fn alice() -> Author {
    Author::user(ALICE, "alice")
}

fn config(fake: &FakeDiscord, guild: &str, agent: &str) -> String {
    format!(
        r#"{{
  channels: {{
    discord: {{
      token: "{token}",
      apiBaseUrl: "{base}",
      dm: {{ policy: "open", allowFrom: ["*"] }},
      groupPolicy: "allowlist",
      guilds: {{ "{GUILD_ID}": {{ {guild} }} }},
    }},
  }},
  {agent}
}}"#,
        token = fake.options().token,
        base = fake.api_base_url()
    )
}

fn record_agent(dump: &Path) -> String {
    let command = json!([tests_path("agents/record.py"), dump]);
    format!(
        r#"agents: {{ defaults: {{ backend: {{ type: "command", command: {command}, timeoutMs: 20000 }} }} }},"#
    )
}

fn start(fake: &FakeDiscord, config: &str) -> Krill {
    let krill = Krill::start(config, &["gateway"]);
    if let Err(timeout) = fake.wait_for_ready_client(WAIT) {
        panic!("krill never got READY: {timeout}\nlog:\n{}", krill.log());
    }
    krill
}

/// A guild message from `author` in the fixtures' channel; returns its id.
fn say(fake: &FakeDiscord, author: &Author, text: &str) -> String {
    let bot = fake.options().bot_user_id.clone();
    let mentions: Vec<&str> = if text.contains(&fake.bot_mention()) {
        vec![&bot]
    } else {
        vec![]
    };
    let message = message_create_guild(CHANNEL_ID, GUILD_ID, author, text, &mentions);
    let id = message["id"].as_str().expect("an id").to_owned();
    fake.dispatch("MESSAGE_CREATE", message);
    id
}

/// A DM from alice; returns its id.
fn dm(fake: &FakeDiscord, text: &str) -> String {
    let message = message_create_dm(DM_CHANNEL_ID, &alice(), text);
    let id = message["id"].as_str().expect("an id").to_owned();
    fake.dispatch("MESSAGE_CREATE", message);
    id
}

/// `user` reacts with `emoji` to `message_id` (in a guild when `guild` is
/// set; the member payload then names the reactor `name`).
fn react(
    fake: &FakeDiscord,
    (user, name): (&str, &str),
    channel: &str,
    message_id: &str,
    guild: Option<&str>,
    emoji: &str,
) {
    let mut d = message_reaction_add(user, channel, message_id, guild, emoji);
    if d.get("member").is_some() {
        d["member"]["user"]["username"] = json!(name);
    }
    fake.dispatch("MESSAGE_REACTION_ADD", d);
}

/// Waits for the `n`th post and returns its message id.
fn post_id(fake: &FakeDiscord, krill: &Krill, n: usize) -> String {
    let posts = fake
        .wait_for_posts(n, WAIT)
        .unwrap_or_else(|e| panic!("post {n} missing: {e}\nlog:\n{}", krill.log()));
    let id = posts[n - 1].message_id.clone();
    // The loop has seen the REST answer (a reaction racing it would find an
    // unknown message).
    wait_log(krill, &format!("remembered bot message {id}"));
    id
}

fn wait_log(krill: &Krill, needle: &str) {
    if let Err(e) = krill.wait_for_log(needle, WAIT) {
        panic!("{e}");
    }
}

fn request(dump: &Path, n: usize) -> Value {
    let path = dump.join(format!("request-{n}.json"));
    let raw = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&raw).expect("JSON")
}

fn prompt(dump: &Path, n: usize) -> String {
    request(dump, n)["prompt"]
        .as_str()
        .expect("a prompt")
        .to_owned()
}

fn contents(fake: &FakeDiscord) -> Vec<String> {
    fake.posted_messages()
        .into_iter()
        .map(|p| p.content)
        .collect()
}

fn assert_no_token(fake: &FakeDiscord, krill: &Krill) {
    let token = &fake.options().token;
    assert!(!token.is_empty() && !krill.log().contains(token.as_str()));
}

#[test]
fn a_positive_reaction_on_the_bots_fresh_reply_triggers_a_turn() {
    let fake = FakeDiscord::start(FakeDiscordOptions::default());
    let guild = format!(
        r#"requireMention: false, users: ["{ALICE}"], reactionTrigger: {{ enabled: true }},"#
    );
    let krill = start(&fake, &config(&fake, &guild, ""));

    let question = say(&fake, &alice(), "deploy now?");
    let reply = post_id(&fake, &krill, 1);
    assert_eq!(contents(&fake), vec!["deploy now?"]);

    // 🤔 is neutral: no turn (a notification for the next turn instead).
    react(
        &fake,
        (ALICE, "alice"),
        CHANNEL_ID,
        &reply,
        Some(GUILD_ID),
        "🤔",
    );
    wait_log(&krill, &format!("reaction on {reply} queued for"));
    // 👍 on someone else's message (alice's own): nothing.
    react(
        &fake,
        (ALICE, "alice"),
        CHANNEL_ID,
        &question,
        Some(GUILD_ID),
        "👍",
    );
    wait_log(
        &krill,
        &format!("on {question} in {CHANNEL_ID} ignored: not covered by reactionNotifications"),
    );
    // 👍 from bob, who is not in the guild's users: nothing.
    react(
        &fake,
        (BOB, "bob"),
        CHANNEL_ID,
        &reply,
        Some(GUILD_ID),
        "👍",
    );
    wait_log(
        &krill,
        &format!("reaction by {BOB} on {reply} in {CHANNEL_ID} ignored: reactor not allowed"),
    );

    // 👍 from alice on the bot's reply: a turn, answered in the channel.
    react(
        &fake,
        (ALICE, "alice"),
        CHANNEL_ID,
        &reply,
        Some(GUILD_ID),
        "👍\u{FE0F}",
    );
    let posts = fake
        .wait_for_posts(2, WAIT)
        .unwrap_or_else(|e| panic!("no answer to the reaction: {e}\nlog:\n{}", krill.log()));
    assert_eq!(posts[1].channel_id, CHANNEL_ID);
    assert_eq!(
        posts[1].content,
        format!("[reaction] alice reacted 👍\u{FE0F} (positive) to your message {reply}")
    );
    // The trigger's answer is a bot message too: ❌ on it triggers again.
    let answer = post_id(&fake, &krill, 2);
    react(
        &fake,
        (ALICE, "alice"),
        CHANNEL_ID,
        &answer,
        Some(GUILD_ID),
        "❌",
    );
    fake.wait_for_posts(3, WAIT)
        .unwrap_or_else(|e| panic!("no answer to ❌: {e}"));

    // A sentinel message: exactly these answers, nothing for the others.
    say(&fake, &alice(), "sentinel");
    fake.wait_for_posts(4, WAIT).expect("the sentinel's reply");
    assert_eq!(
        contents(&fake),
        vec![
            "deploy now?".to_owned(),
            format!("[reaction] alice reacted 👍\u{FE0F} (positive) to your message {reply}"),
            format!("[reaction] alice reacted ❌ (negative) to your message {answer}"),
            "sentinel".to_owned(),
        ]
    );
    assert!(
        fake.reactions().iter().all(|r| r.message_id != reply),
        "no ack reaction on the bot's own message: {:?}",
        fake.reactions()
    );
    assert_no_token(&fake, &krill);
}

#[test]
fn a_reaction_notification_reaches_the_next_turns_prompt_once() {
    let fake = FakeDiscord::start(FakeDiscordOptions::default());
    let work = tempfile::tempdir().expect("temp dir");
    let dump = work.path().join("dump");
    let krill = start(&fake, &config(&fake, "", &record_agent(&dump)));
    let mention = fake.bot_mention();

    say(&fake, &alice(), &format!("{mention} first"));
    let reply = post_id(&fake, &krill, 1);
    react(
        &fake,
        (ALICE, "alice"),
        CHANNEL_ID,
        &reply,
        Some(GUILD_ID),
        "👍",
    );
    let session = format!("agent:main:discord:channel:{CHANNEL_ID}");
    wait_log(&krill, &format!("reaction on {reply} queued for {session}"));

    let second = say(&fake, &alice(), &format!("{mention} second"));
    fake.wait_for_posts(2, WAIT).expect("a second reply");
    assert_eq!(
        prompt(&dump, 2),
        format!(
            "[system] alice ({ALICE}) reacted 👍 to your message {reply}\n\
             \n\
             [from: alice ({ALICE})] second\n\
             [message_id: {second}]\n\
             [discord message id: {second} channel: {CHANNEL_ID}]"
        )
    );
    assert_eq!(
        request(&dump, 2)["text"],
        "second",
        "the text is the message"
    );

    // Shown once: the next turn has no system line.
    let third = say(&fake, &alice(), &format!("{mention} third"));
    fake.wait_for_posts(3, WAIT).expect("a third reply");
    assert_eq!(
        prompt(&dump, 3),
        format!("[from: alice ({ALICE})] third\n[message_id: {third}]\n[discord message id: {third} channel: {CHANNEL_ID}]")
    );
    assert_no_token(&fake, &krill);
}

#[test]
fn with_notifications_off_the_prompt_has_no_system_line() {
    let fake = FakeDiscord::start(FakeDiscordOptions::default());
    let work = tempfile::tempdir().expect("temp dir");
    let dump = work.path().join("dump");
    let krill = start(
        &fake,
        &config(
            &fake,
            r#"reactionNotifications: "off","#,
            &record_agent(&dump),
        ),
    );
    let mention = fake.bot_mention();

    say(&fake, &alice(), &format!("{mention} first"));
    let reply = post_id(&fake, &krill, 1);
    react(
        &fake,
        (ALICE, "alice"),
        CHANNEL_ID,
        &reply,
        Some(GUILD_ID),
        "👍",
    );
    wait_log(
        &krill,
        &format!("on {reply} in {CHANNEL_ID} ignored: not covered by reactionNotifications"),
    );
    let second = say(&fake, &alice(), &format!("{mention} second"));
    fake.wait_for_posts(2, WAIT).expect("a second reply");
    assert_eq!(
        prompt(&dump, 2),
        format!("[from: alice ({ALICE})] second\n[message_id: {second}]\n[discord message id: {second} channel: {CHANNEL_ID}]")
    );
    assert_no_token(&fake, &krill);
}

#[test]
fn a_dm_reaction_is_shown_in_the_dms_next_turn() {
    let fake = FakeDiscord::start(FakeDiscordOptions::default());
    let work = tempfile::tempdir().expect("temp dir");
    let dump = work.path().join("dump");
    let krill = start(&fake, &config(&fake, "", &record_agent(&dump)));

    dm(&fake, "hello");
    let reply = post_id(&fake, &krill, 1);
    // DM adds carry no member: the name comes from alice's DM.
    react(&fake, (ALICE, "alice"), DM_CHANNEL_ID, &reply, None, "🔥");
    wait_log(
        &krill,
        &format!("reaction on {reply} queued for agent:main:main"),
    );
    let next = dm(&fake, "and now?");
    fake.wait_for_posts(2, WAIT).expect("a second reply");
    assert_eq!(
        prompt(&dump, 2),
        format!(
            "[system] alice ({ALICE}) reacted 🔥 to your message {reply}\n\
             \n\
             and now?\n\
             [message_id: {next}]\n\
             [discord message id: {next} channel: {DM_CHANNEL_ID}]"
        )
    );
    assert_no_token(&fake, &krill);
}
