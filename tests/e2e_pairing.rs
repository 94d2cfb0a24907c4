//! Scenario: Discord DM pairing end to end (the Discord channel doc, "DM access is
//! pairing by default"). A stranger's DM gets a pairing code and the approve
//! command; `krill pairing list discord --json` shows the request;
//! `krill pairing approve discord <code>` (a second process on the same state
//! dir) approves it; the stranger's next DM reaches the agent without
//! restarting the gateway.
//!
//! Also: `dm.policy: "allowlist"` answers listed senders and ignores others
//! silently (no code); `krill pairing approve --notify` DMs the approved
//! user.
//!
//! KOOK has no pairing: its only gate is `channels.kook.allowedUserId` (see
//! the access module docs), so this scenario is Discord only.

#[path = "support/krill.rs"]
mod krill;

use krill::{run_cli_in, Krill, WAIT};
use krill_testkit::discord::{message_create_dm, Author, DM_CHANNEL_ID};
use krill_testkit::{FakeDiscord, FakeDiscordOptions};

/// The pairing code alphabet: no `0`, `O`, `1`, `I`.
const ALPHABET: &str = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789";

fn config(fake: &FakeDiscord) -> String {
    // No `dm` section: dm.policy defaults to "pairing".
    format!(
        r#"{{
  channels: {{
    discord: {{
      token: "{token}",
      apiBaseUrl: "{base}",
    }},
  }},
}}"#,
        token = fake.options().token,
        base = fake.api_base_url()
    )
}

/// The first `**CODE**` in `text`.
fn bold_code(text: &str) -> Option<&str> {
    let start = text.find("**")? + 2;
    let len = text[start..].find("**")?;
    Some(&text[start..start + len])
}

#[test]
fn a_stranger_pairs_and_is_answered_after_approval_without_a_restart() {
    let fake = FakeDiscord::start(FakeDiscordOptions::default());
    let krill = Krill::start(&config(&fake), &["gateway"]);
    fake.wait_for_ready_client(WAIT).expect("krill identifies");

    let stranger = Author::user("333333333333333333", "stranger");
    fake.dispatch(
        "MESSAGE_CREATE",
        message_create_dm(DM_CHANNEL_ID, &stranger, "hi, who are you?"),
    );
    let posts = fake.wait_for_posts(1, WAIT).expect("a pairing reply");
    let challenge = &posts[0];
    assert_eq!(challenge.channel_id, DM_CHANNEL_ID, "answered in the DM");
    let code = bold_code(&challenge.content)
        .unwrap_or_else(|| panic!("a **code** in {:?}", challenge.content))
        .to_owned();
    assert_eq!(code.chars().count(), 8, "an 8-character code: {code:?}");
    assert!(
        code.chars().all(|c| ALPHABET.contains(c)),
        "only unambiguous characters (no 0/O/1/I): {code:?}"
    );
    assert!(
        challenge
            .content
            .contains(&format!("krill pairing approve discord {code}")),
        "the reply names the approve command: {:?}",
        challenge.content
    );
    krill
        .wait_for_log("authorId=333333333333333333", WAIT)
        .expect("the stranger's id is logged");

    // A second DM before approval: the same pending code again, no agent.
    fake.dispatch(
        "MESSAGE_CREATE",
        message_create_dm(DM_CHANNEL_ID, &stranger, "hello?"),
    );
    let posts = fake
        .wait_for_posts(2, WAIT)
        .expect("a second pairing reply");
    assert_eq!(bold_code(&posts[1].content), Some(code.as_str()));

    let state = krill.state_dir().to_owned();
    let (status, out) = run_cli_in(&state, &["pairing", "list", "discord", "--json"]);
    assert_eq!(status, 0, "pairing list: {out}");
    let json_start = out.find('[').expect("a JSON array");
    let listed: serde_json::Value =
        serde_json::from_str(out[json_start..].trim()).expect("pairing list --json is JSON");
    let listed = listed.as_array().expect("an array");
    assert_eq!(listed.len(), 1, "{listed:?}");
    assert_eq!(listed[0]["code"], code.as_str());
    assert_eq!(listed[0]["channel"], "discord");
    assert_eq!(listed[0]["senderId"], "333333333333333333");

    let (status, out) = run_cli_in(&state, &["pairing", "approve", "discord", &code]);
    assert_eq!(status, 0, "pairing approve: {out}");
    assert!(out.contains("333333333333333333"), "{out}");

    fake.dispatch(
        "MESSAGE_CREATE",
        message_create_dm(DM_CHANNEL_ID, &stranger, "now do you know me?"),
    );
    let posts = fake.wait_for_posts(3, WAIT).expect("the agent's reply");
    assert_eq!(posts[2].channel_id, DM_CHANNEL_ID);
    assert_eq!(posts[2].content, "now do you know me?", "the echo agent");

    let (status, out) = run_cli_in(&state, &["pairing", "list", "discord", "--json"]);
    assert_eq!(status, 0, "{out}");
    let json_start = out.find('[').expect("a JSON array");
    let listed: serde_json::Value = serde_json::from_str(out[json_start..].trim()).unwrap();
    assert_eq!(listed, serde_json::json!([]), "no request pending any more");

    assert!(
        !krill.log().contains(&fake.options().token),
        "the token never reaches the log"
    );
}

#[test]
fn a_wrong_code_is_refused_and_the_stranger_stays_out() {
    let fake = FakeDiscord::start(FakeDiscordOptions::default());
    let krill = Krill::start(&config(&fake), &["gateway"]);
    fake.wait_for_ready_client(WAIT).expect("krill identifies");

    let stranger = Author::user("444444444444444444", "mallory");
    fake.dispatch(
        "MESSAGE_CREATE",
        message_create_dm(DM_CHANNEL_ID, &stranger, "let me in"),
    );
    let posts = fake.wait_for_posts(1, WAIT).expect("a pairing reply");
    let code = bold_code(&posts[0].content).expect("a code").to_owned();
    let wrong = if code == "ABCDEFGH" {
        "HGFEDCBA"
    } else {
        "ABCDEFGH"
    };
    let (status, out) = run_cli_in(krill.state_dir(), &["pairing", "approve", "discord", wrong]);
    assert_ne!(status, 0, "an unknown code fails: {out}");

    fake.dispatch(
        "MESSAGE_CREATE",
        message_create_dm(DM_CHANNEL_ID, &stranger, "still nothing?"),
    );
    let posts = fake.wait_for_posts(2, WAIT).expect("another challenge");
    assert_eq!(
        bold_code(&posts[1].content),
        Some(code.as_str()),
        "still the pairing reply, not the agent: {:?}",
        posts[1].content
    );
}

#[test]
fn the_allowlist_policy_answers_listed_senders_and_ignores_others_silently() {
    let fake = FakeDiscord::start(FakeDiscordOptions::default());
    let config = format!(
        r#"{{
  channels: {{
    discord: {{
      token: "{token}",
      apiBaseUrl: "{base}",
      dm: {{ policy: "allowlist", allowFrom: ["111111111111111111"] }},
    }},
  }},
}}"#,
        token = fake.options().token,
        base = fake.api_base_url()
    );
    let krill = Krill::start(&config, &["gateway"]);
    fake.wait_for_ready_client(WAIT).expect("krill identifies");
    let stranger = Author::user("333333333333333333", "stranger");
    fake.dispatch(
        "MESSAGE_CREATE",
        message_create_dm(DM_CHANNEL_ID, &stranger, "let me in"),
    );
    krill
        .wait_for_log("authorId=333333333333333333", WAIT)
        .expect("the stranger's id is logged");
    let alice = Author::user("111111111111111111", "alice");
    fake.dispatch(
        "MESSAGE_CREATE",
        message_create_dm(DM_CHANNEL_ID, &alice, "it is me"),
    );
    let posts = fake.wait_for_posts(1, WAIT).expect("alice's reply");
    assert_eq!(posts[0].content, "it is me");
    assert_eq!(
        fake.posted_messages().len(),
        1,
        "no pairing code for anyone"
    );
    let (status, out) = run_cli_in(krill.state_dir(), &["pairing", "list", "discord", "--json"]);
    assert_eq!(status, 0, "{out}");
    assert!(out.trim().ends_with("[]"), "no pending request: {out}");
}

#[test]
fn approve_with_notify_dms_the_approved_user() {
    let fake = FakeDiscord::start(FakeDiscordOptions::default());
    let krill = Krill::start(&config(&fake), &["gateway"]);
    fake.wait_for_ready_client(WAIT).expect("krill identifies");
    let stranger = Author::user("333333333333333333", "stranger");
    fake.dispatch(
        "MESSAGE_CREATE",
        message_create_dm(DM_CHANNEL_ID, &stranger, "hi"),
    );
    let posts = fake.wait_for_posts(1, WAIT).expect("a pairing reply");
    let code = bold_code(&posts[0].content).expect("a code").to_owned();
    let (status, out) = run_cli_in(
        krill.state_dir(),
        &["pairing", "approve", "discord", &code, "--notify"],
    );
    assert_eq!(status, 0, "{out}");
    assert!(
        !out.contains("warning"),
        "notified without a warning: {out}"
    );
    let posts = fake.wait_for_posts(2, WAIT).expect("the approval DM");
    assert_eq!(
        posts[1].content,
        krill_core::pairing::approved_text(),
        "the approved user is told"
    );
}
