//! Scenario: ack reactions and the typing indicator on Discord (seed
//! `discord.md`: `messages.ackReaction` + `messages.ackReactionScope`,
//! `messages.removeAckAfterReply`; "Typing indicators sent best-effort").
//! - `ackReactionScope: "all"`: a DM gets a 👀 reaction (`PUT
//!   .../reactions/%F0%9F%91%80/@me`); with
//!   `removeAckAfterReply: true` it is removed (`DELETE`) after the reply,
//!   without it stays;
//! - the default scope (`group-mentions`): no reaction on a DM, one on a
//!   guild mention;
//! - a slow agent: `POST /channels/{id}/typing` goes out before the reply;
//! - KOOK: the same ack through `/direct-message/add-reaction` and
//!   `/direct-message/delete-reaction`.

#[path = "support/krill.rs"]
mod krill;

use krill::{tests_path, Krill, WAIT};
use krill_testkit::discord::{
    message_create_dm, message_create_guild, Author, RecordedReaction, CHANNEL_ID, DM_CHANNEL_ID,
    GUILD_ID,
};
use krill_testkit::kook::KookReaction;
use krill_testkit::{
    FakeDiscord, FakeDiscordOptions, FakeKook, FakeKookOptions, RecordedRequest, ScriptedResponse,
};
use serde_json::json;

const EYES: &str = "👀";

fn config(fake: &FakeDiscord, messages: &str, agent: &str) -> String {
    format!(
        r#"{{
  channels: {{
    discord: {{
      token: "{token}",
      apiBaseUrl: "{base}",
      dm: {{ policy: "open", allowFrom: ["*"] }},
      groupPolicy: "open",
    }},
  }},
  messages: {{ {messages} }},
  {agent}
}}"#,
        token = fake.options().token,
        base = fake.api_base_url()
    )
}

/// A `slow.py` agent (half a second per turn), so the typing indicator has
/// time to show. (That the removal waits for the ack's own add is proven by
/// `a_rate_limited_ack_is_still_removed_after_the_reply`.)
fn slow_agent() -> String {
    let command = json!([tests_path("agents/slow.py"), "0.5"]);
    format!(
        r#"agents: {{ defaults: {{ backend: {{ type: "command", command: {command}, timeoutMs: 20000 }} }} }},"#
    )
}

fn alice() -> Author {
    Author::user("111111111111111111", "alice")
}

/// Sends a DM; returns its id.
fn dm(fake: &FakeDiscord, text: &str) -> String {
    let message = message_create_dm(DM_CHANNEL_ID, &alice(), text);
    let id = message["id"].as_str().expect("an id").to_owned();
    fake.dispatch("MESSAGE_CREATE", message);
    id
}

fn reaction(message_id: &str, added: bool) -> RecordedReaction {
    RecordedReaction {
        channel_id: DM_CHANNEL_ID.to_owned(),
        message_id: message_id.to_owned(),
        emoji: EYES.to_owned(),
        added,
    }
}

/// The position of the first request matching `method` and `path_part`.
fn position(requests: &[RecordedRequest], method: &str, path_part: &str) -> usize {
    requests
        .iter()
        .position(|r| r.method == method && r.path.contains(path_part))
        .unwrap_or_else(|| {
            panic!(
                "no {method} …{path_part}… in {:?}",
                requests
                    .iter()
                    .map(|r| format!("{} {}", r.method, r.path))
                    .collect::<Vec<_>>()
            )
        })
}

#[test]
fn scope_all_acks_a_dm_and_removes_the_ack_after_the_reply() {
    let fake = FakeDiscord::start(FakeDiscordOptions::default());
    let krill = Krill::start(
        &config(
            &fake,
            r#"ackReactionScope: "all", removeAckAfterReply: true"#,
            &slow_agent(),
        ),
        &["gateway"],
    );
    fake.wait_for_ready_client(WAIT).expect("krill identifies");
    let id = dm(&fake, "hello");
    fake.wait_for_posts(1, WAIT).expect("the reply");
    let requests = fake
        .wait_for_requests("DELETE /channels/*/messages/*/reactions/*/@me", 1, WAIT)
        .expect("the ack is removed");
    assert_eq!(requests.len(), 1);
    assert_eq!(
        fake.reactions(),
        vec![reaction(&id, true), reaction(&id, false)]
    );

    let requests = fake.requests();
    let added = position(&requests, "PUT", "/reactions/");
    let posted = position(&requests, "POST", "/messages");
    let removed = position(&requests, "DELETE", "/reactions/");
    // The ack and the agent run side by side; the removal waits for the
    // reply's last chunk.
    assert!(
        added < removed && posted < removed,
        "the ack is removed after the reply: {added} {posted} {removed}"
    );
    assert!(
        requests[added]
            .path
            .ends_with("/reactions/%F0%9F%91%80/@me"),
        "the emoji is percent-encoded in the path: {}",
        requests[added].path
    );
    assert!(!krill.log().contains(&fake.options().token));
}

#[test]
fn without_remove_after_reply_the_ack_stays() {
    let fake = FakeDiscord::start(FakeDiscordOptions::default());
    let _krill = Krill::start(
        &config(&fake, r#"ackReactionScope: "all""#, ""),
        &["gateway"],
    );
    fake.wait_for_ready_client(WAIT).expect("krill identifies");
    let first = dm(&fake, "one");
    fake.wait_for_posts(1, WAIT).expect("the first reply");
    let second = dm(&fake, "two");
    fake.wait_for_posts(2, WAIT).expect("the second reply");
    fake.wait_for_requests("PUT /channels/*/messages/*/reactions/*/@me", 2, WAIT)
        .expect("both acks");
    assert_eq!(
        fake.reactions(),
        vec![reaction(&first, true), reaction(&second, true)],
        "nothing removed"
    );
}

#[test]
fn the_default_scope_acks_guild_mentions_only() {
    let fake = FakeDiscord::start(FakeDiscordOptions::default());
    let _krill = Krill::start(&config(&fake, "", ""), &["gateway"]);
    fake.wait_for_ready_client(WAIT).expect("krill identifies");
    dm(&fake, "a DM");
    fake.wait_for_posts(1, WAIT).expect("the DM reply");
    let bot = fake.options().bot_user_id.clone();
    let mention = message_create_guild(
        CHANNEL_ID,
        GUILD_ID,
        &alice(),
        &format!("{} in the guild", fake.bot_mention()),
        &[&bot],
    );
    let mention_id = mention["id"].as_str().unwrap().to_owned();
    fake.dispatch("MESSAGE_CREATE", mention);
    fake.wait_for_posts(2, WAIT).expect("the guild reply");
    fake.wait_for_requests("PUT /channels/*/messages/*/reactions/*/@me", 1, WAIT)
        .expect("the mention's ack");
    assert_eq!(
        fake.reactions(),
        vec![RecordedReaction {
            channel_id: CHANNEL_ID.to_owned(),
            message_id: mention_id,
            emoji: EYES.to_owned(),
            added: true,
        }],
        "no ack on the DM"
    );
}

#[test]
fn a_slow_agent_shows_typing_before_the_reply() {
    let fake = FakeDiscord::start(FakeDiscordOptions::default());
    let command = json!([tests_path("agents/slow.py"), "1"]);
    let agent = format!(
        r#"agents: {{ defaults: {{ backend: {{ type: "command", command: {command}, timeoutMs: 20000 }} }} }},"#
    );
    let _krill = Krill::start(&config(&fake, "", &agent), &["gateway"]);
    fake.wait_for_ready_client(WAIT).expect("krill identifies");
    dm(&fake, "take your time");
    let typing = fake
        .wait_for_requests("POST /channels/*/typing", 1, WAIT)
        .expect("a typing indicator");
    assert_eq!(typing[0].path, format!("/channels/{DM_CHANNEL_ID}/typing"));
    let posts = fake.wait_for_posts(1, WAIT).expect("the reply");
    assert_eq!(posts[0].content, "slow: take your time");
    let requests = fake.requests();
    assert!(
        position(&requests, "POST", "/typing") < position(&requests, "POST", "/messages"),
        "typing comes before the reply"
    );
}

#[test]
fn kook_acks_a_private_message_and_removes_the_ack_after_the_reply() {
    let fake = FakeKook::start(FakeKookOptions::default());
    let config = format!(
        r#"{{
  channels: {{ kook: {{ token: "{token}", apiBaseUrl: "{base}", allowedUserId: "2418200000" }} }},
  messages: {{ ackReactionScope: "all", removeAckAfterReply: true }},
  {agent}
}}"#,
        token = fake.options().token,
        base = fake.api_base_url(),
        agent = slow_agent(),
    );
    let krill = Krill::start(&config, &["gateway"]);
    fake.wait_for_ready_client(WAIT).expect("krill connects");
    let message = fake.person_text("2418200000", "hi");
    let id = message["msg_id"].as_str().expect("an id").to_owned();
    fake.event(message);
    fake.wait_for_posts(1, WAIT).expect("the reply");
    let deadline = std::time::Instant::now() + WAIT;
    while fake.reactions().len() < 2 && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let ack = |added| KookReaction {
        direct: true,
        msg_id: id.clone(),
        emoji: EYES.to_owned(),
        added,
    };
    let requests = fake.requests();
    assert_eq!(
        fake.reactions(),
        vec![ack(true), ack(false)],
        "requests: {:?}",
        requests
            .iter()
            .map(|r| format!("{} {}", r.method, r.path))
            .collect::<Vec<_>>()
    );
    let posted = position(&requests, "POST", "/direct-message/create");
    let removed = position(&requests, "POST", "/direct-message/delete-reaction");
    assert!(posted < removed, "removed after the reply");
    assert!(!krill.log().contains(&fake.options().token));
}

#[test]
fn a_rate_limited_ack_is_still_removed_after_the_reply() {
    let fake = FakeDiscord::start(FakeDiscordOptions::default());
    fake.push_http_response(
        "PUT /channels/*/messages/*/reactions/*/@me",
        ScriptedResponse::json(
            429,
            &[("retry-after", "1"), ("x-ratelimit-scope", "user")],
            &json!({"message": "You are being rate limited.", "retry_after": 0.5, "global": false}),
        ),
    );
    let config = format!(
        r#"{{
  channels: {{ discord: {{ token: "{}", apiBaseUrl: "{}", dm: {{ policy: "open", allowFrom: ["*"] }} }} }},
  messages: {{ ackReactionScope: "all", removeAckAfterReply: true }},
}}"#,
        fake.options().token,
        fake.api_base_url()
    );
    let krill = Krill::start(&config, &["gateway"]);
    fake.wait_for_ready_client(WAIT).expect("krill identifies");
    fake.dispatch(
        "MESSAGE_CREATE",
        message_create_dm(DM_CHANNEL_ID, &Author::nelly(), "hi"),
    );
    fake.wait_for_posts(1, WAIT).expect("the reply");
    fake.wait_for_requests("PUT /channels/*/messages/*/reactions/*/@me", 2, WAIT)
        .expect("the ack is retried after the 429");
    fake.wait_for_requests("DELETE /channels/*/messages/*/reactions/*/@me", 1, WAIT)
        .expect("the ack is removed");
    let reactions = fake.reactions();
    assert_eq!(
        reactions.iter().map(|r| r.added).collect::<Vec<_>>(),
        vec![true, false],
        "added, then removed: {reactions:?}"
    );
    assert!(!krill.log().contains(&fake.options().token));
}
