//! Scenario: the `krill` binary on a fake KOOK answers a private message and
//! a channel message with the echo agent: DMs through the direct-message
//! API to the sender, channel messages to the channel, both as KMarkdown.

#[path = "support/krill.rs"]
mod krill;

use krill::{Krill, WAIT};
use krill_testkit::{FakeKook, FakeKookOptions};

const USER: &str = "2418200000";

fn config(fake: &FakeKook, extra: &str) -> String {
    format!(
        r#"{{
  channels: {{
    kook: {{
      token: "{token}",
      apiBaseUrl: "{base}",
      allowedUserId: "{USER}",
      {extra}
    }},
  }},
}}"#,
        token = fake.options().token,
        base = fake.api_base_url()
    )
}

#[test]
fn private_and_channel_messages_get_echo_replies() {
    let fake = FakeKook::start(FakeKookOptions::default());
    let krill = Krill::start(&config(&fake, ""), &["gateway"]);
    fake.wait_for_ready_client(WAIT).expect("krill connects");

    fake.event(fake.person_text(USER, "hello krill"));
    let posts = fake.wait_for_posts(1, WAIT).expect("a DM reply");
    assert!(posts[0].direct);
    assert_eq!(posts[0].target_id, USER);
    assert_eq!(posts[0].content, "hello krill");
    assert_eq!(posts[0].msg_type, 9);

    let mention = format!("(met){}(met) ping", fake.options().bot_user_id);
    fake.event(fake.group_kmarkdown(
        "5555",
        "6666",
        USER,
        &mention,
        &[&fake.options().bot_user_id],
    ));
    let posts = fake.wait_for_posts(2, WAIT).expect("a channel reply");
    assert!(!posts[1].direct);
    assert_eq!(posts[1].target_id, "5555");
    assert_eq!(posts[1].content, "ping");
    assert!(
        !krill.log().contains(&fake.options().token),
        "the token never reaches the log"
    );
}

#[test]
fn a_stranger_is_ignored_when_allowed_user_id_is_set() {
    let fake = FakeKook::start(FakeKookOptions::default());
    let krill = Krill::start(&config(&fake, ""), &["gateway"]);
    fake.wait_for_ready_client(WAIT).expect("krill connects");
    fake.event(fake.person_text("999", "let me in"));
    fake.event(fake.person_text(USER, "it is me"));
    let posts = fake.wait_for_posts(1, WAIT).expect("the owner's reply");
    assert_eq!(posts[0].content, "it is me");
    krill
        .wait_for_log("authorId=999", WAIT)
        .expect("the stranger's id is logged");
    assert_eq!(fake.posted_messages().len(), 1);
}
