//! Scenario: the `krill` binary on a fake Discord answers a DM and a guild
//! mention with the echo agent, in the chat each came from.

#[path = "support/krill.rs"]
mod krill;

use std::time::Duration;

use krill::{Krill, WAIT};
use krill_testkit::discord::{
    message_create_dm, message_create_guild, Author, CHANNEL_ID, DM_CHANNEL_ID, GUILD_ID,
};
use krill_testkit::{FakeDiscord, FakeDiscordOptions};

fn config(fake: &FakeDiscord) -> String {
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
}}"#,
        token = fake.options().token,
        base = fake.api_base_url()
    )
}

#[test]
fn dm_and_guild_mention_get_echo_replies_in_their_own_chat() {
    let fake = FakeDiscord::start(FakeDiscordOptions::default());
    let _krill = Krill::start(&config(&fake), &["gateway"]);
    fake.wait_for_ready_client(WAIT).expect("krill identifies");

    let alice = Author::user("111111111111111111", "alice");
    fake.dispatch(
        "MESSAGE_CREATE",
        message_create_dm(DM_CHANNEL_ID, &alice, "hello krill"),
    );
    let posts = fake.wait_for_posts(1, WAIT).expect("a DM reply");
    assert_eq!(posts[0].channel_id, DM_CHANNEL_ID);
    assert_eq!(posts[0].content, "hello krill");

    let mention = format!("<@{}> what time is it?", fake.options().bot_user_id);
    fake.dispatch(
        "MESSAGE_CREATE",
        message_create_guild(
            CHANNEL_ID,
            GUILD_ID,
            &alice,
            &mention,
            &[&fake.options().bot_user_id],
        ),
    );
    let posts = fake.wait_for_posts(2, WAIT).expect("a channel reply");
    assert_eq!(posts[1].channel_id, CHANNEL_ID);
    assert_eq!(posts[1].content, "what time is it?");
    std::thread::sleep(Duration::from_millis(200));
    assert_eq!(fake.posted_messages().len(), 2, "nothing else was posted");
}
