//! Scenario: guild access on Discord (the Discord channel doc, "Allowlist +
//! channel routing"). With `groupPolicy: "allowlist"` and one guild entry
//! listing one channel (`requireMention` left at its default, true):
//! - a message without a mention gets no reply;
//! - a message with `<@bot>` gets one (mention stripped);
//! - a message matching `messages.groupChat.mentionPatterns` counts as a
//!   mention;
//! - a mention in a channel the guild entry does not list gets no reply;
//! - a mention in a guild with no entry gets no reply;
//! - another bot (`allowBots: false`) and the bot itself are never answered.
//!
//!
//! And with names instead of ids, as in the seed's example (a guild slug, a
//! channel name, a username), resolved once GUILD_CREATE shows them: only
//! the listed user is answered, only in the listed channel and in threads
//! under it (threads inherit their parent's rule).
//!
//! Each "no reply" is proven twice: the drop is logged with its reason
//! (the access decision is final once logged), and after a later message's
//! reply arrived exactly the expected replies were posted.

#[path = "support/krill.rs"]
mod krill;

use std::time::Duration;

use krill::{Krill, WAIT};
use krill_testkit::discord::{message_create_guild, Author, CHANNEL_ID, GUILD_ID};
use krill_testkit::{FakeDiscord, FakeDiscordOptions};
use serde_json::json;

/// A channel of the allowed guild that the guild entry does not list.
const UNLISTED_CHANNEL: &str = "849255967228035999";
/// A guild with no entry, and a channel in it.
const OTHER_GUILD: &str = "777255963033731072";
const OTHER_GUILD_CHANNEL: &str = "777255967228035073";

fn config(fake: &FakeDiscord) -> String {
    format!(
        r#"{{
  channels: {{
    discord: {{
      token: "{token}",
      apiBaseUrl: "{base}",
      groupPolicy: "allowlist",
      allowBots: false,
      guilds: {{
        "{GUILD_ID}": {{
          channels: {{ "{CHANNEL_ID}": {{ allow: true }} }},
        }},
      }},
    }},
  }},
  messages: {{ groupChat: {{ mentionPatterns: ["\\bkrill\\b"] }} }},
}}"#,
        token = fake.options().token,
        base = fake.api_base_url()
    )
}

/// Waits until the log shows a message from `author_id` dropped for
/// `reason` (the access decision's log line).
fn wait_for_drop(krill: &Krill, author_id: &str, reason: &str) {
    let deadline = std::time::Instant::now() + WAIT;
    loop {
        let log = krill.log();
        let found = log
            .lines()
            .any(|l| l.contains(&format!("authorId={author_id}")) && l.contains(reason));
        if found {
            return;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no drop of {author_id} for {reason:?} in the log:\n{log}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn only_mentions_in_listed_channels_from_humans_are_answered() {
    let fake = FakeDiscord::start(FakeDiscordOptions::default());
    let krill = Krill::start(&config(&fake), &["gateway"]);
    fake.wait_for_ready_client(WAIT).expect("krill identifies");
    let bot_id = fake.options().bot_user_id.clone();
    let mention = fake.bot_mention();

    // 1. No mention in the listed channel: dropped.
    let quiet = Author::user("100000000000000001", "quiet");
    fake.dispatch(
        "MESSAGE_CREATE",
        message_create_guild(CHANNEL_ID, GUILD_ID, &quiet, "just chatting here", &[]),
    );
    wait_for_drop(&krill, "100000000000000001", "mention required");

    // 2. A mention in a channel the guild entry does not list: dropped.
    let lost = Author::user("100000000000000002", "lost");
    fake.dispatch(
        "MESSAGE_CREATE",
        message_create_guild(
            UNLISTED_CHANNEL,
            GUILD_ID,
            &lost,
            &format!("{mention} anyone here?"),
            &[&bot_id],
        ),
    );
    wait_for_drop(&krill, "100000000000000002", "channel not listed");

    // 3. A mention in a guild with no entry: dropped.
    let visitor = Author::user("100000000000000003", "visitor");
    fake.dispatch(
        "MESSAGE_CREATE",
        message_create_guild(
            OTHER_GUILD_CHANNEL,
            OTHER_GUILD,
            &visitor,
            &format!("{mention} hello from elsewhere"),
            &[&bot_id],
        ),
    );
    wait_for_drop(&krill, "100000000000000003", "guild not in");

    // 4. Another bot mentioning krill (allowBots: false): dropped.
    let robot = Author::bot("100000000000000004", "otherbot");
    fake.dispatch(
        "MESSAGE_CREATE",
        message_create_guild(
            CHANNEL_ID,
            GUILD_ID,
            &robot,
            &format!("{mention} beep"),
            &[&bot_id],
        ),
    );
    wait_for_drop(&krill, "100000000000000004", "bot author");

    // 5. The bot's own message (even mentioning itself): dropped.
    let myself = Author::bot(&bot_id, "krill");
    fake.dispatch(
        "MESSAGE_CREATE",
        message_create_guild(
            CHANNEL_ID,
            GUILD_ID,
            &myself,
            &format!("{mention} talking to myself"),
            &[&bot_id],
        ),
    );
    wait_for_drop(&krill, &bot_id, "own message");

    // 6. A mention pattern counts as a mention.
    let alice = Author::user("100000000000000005", "alice");
    fake.dispatch(
        "MESSAGE_CREATE",
        message_create_guild(CHANNEL_ID, GUILD_ID, &alice, "hey krill, are you up?", &[]),
    );
    let posts = fake
        .wait_for_posts(1, WAIT)
        .expect("a reply to the pattern");
    assert_eq!(posts[0].channel_id, CHANNEL_ID);
    assert_eq!(posts[0].content, "hey krill, are you up?");

    // 7. A real mention: answered, mention stripped.
    fake.dispatch(
        "MESSAGE_CREATE",
        message_create_guild(
            CHANNEL_ID,
            GUILD_ID,
            &alice,
            &format!("{mention} status?"),
            &[&bot_id],
        ),
    );
    let posts = fake
        .wait_for_posts(2, WAIT)
        .expect("a reply to the mention");
    assert_eq!(posts[1].channel_id, CHANNEL_ID);
    assert_eq!(posts[1].content, "status?");

    // A word that only contains the pattern's text is not a mention.
    fake.dispatch(
        "MESSAGE_CREATE",
        message_create_guild(CHANNEL_ID, GUILD_ID, &quiet, "krilling along", &[]),
    );
    fake.dispatch(
        "MESSAGE_CREATE",
        message_create_guild(
            CHANNEL_ID,
            GUILD_ID,
            &alice,
            &format!("{mention} last one"),
            &[&bot_id],
        ),
    );
    let posts = fake
        .wait_for_posts(3, WAIT)
        .expect("a reply to the last mention");
    assert_eq!(posts[2].content, "last one");

    let contents: Vec<_> = fake
        .posted_messages()
        .into_iter()
        .map(|p| (p.channel_id, p.content))
        .collect();
    assert_eq!(
        contents,
        vec![
            (CHANNEL_ID.to_owned(), "hey krill, are you up?".to_owned()),
            (CHANNEL_ID.to_owned(), "status?".to_owned()),
            (CHANNEL_ID.to_owned(), "last one".to_owned()),
        ],
        "only the pattern and the mentions were answered"
    );
    assert!(
        !krill.log().contains(&fake.options().token),
        "the token never reaches the log"
    );
}

#[test]
fn names_in_the_allowlist_resolve_and_threads_inherit_their_parent() {
    const HELP: &str = "849255967228035100";
    const GENERAL: &str = "849255967228035101";
    const HELP_THREAD: &str = "849255967228035102";
    const GENERAL_THREAD: &str = "849255967228035103";
    let fake = FakeDiscord::start(FakeDiscordOptions::default());
    let config = format!(
        r#"{{
  channels: {{
    discord: {{
      token: "{token}",
      apiBaseUrl: "{base}",
      guilds: {{
        "friends-of-clawd": {{
          users: ["alice"],
          channels: {{ help: {{ allow: true, requireMention: false }} }},
        }},
      }},
    }},
  }},
}}"#,
        token = fake.options().token,
        base = fake.api_base_url()
    );
    let krill = Krill::start(&config, &["gateway"]);
    fake.wait_for_ready_client(WAIT).expect("krill identifies");
    let member = |id: &str, name: &str| {
        json!({"user": {"id": id, "username": name}, "roles": [],
               "joined_at": "2021-06-03T18:44:12.512000+00:00"})
    };
    fake.dispatch(
        "GUILD_CREATE",
        json!({
            "id": GUILD_ID, "name": "Friends of Clawd", "unavailable": false,
            "channels": [
                {"id": HELP, "type": 0, "name": "help"},
                {"id": GENERAL, "type": 0, "name": "general"}
            ],
            "threads": [
                {"id": HELP_THREAD, "type": 11, "name": "question", "parent_id": HELP, "guild_id": GUILD_ID},
                {"id": GENERAL_THREAD, "type": 11, "name": "chatter", "parent_id": GENERAL, "guild_id": GUILD_ID}
            ],
            "members": [
                member("111111111111111111", "alice"),
                member("222222222222222222", "bob")
            ]
        }),
    );
    krill
        .wait_for_log(
            r#"allowlist entry "alice" resolved to 111111111111111111"#,
            WAIT,
        )
        .expect("the user name resolves");
    let alice = Author::user("111111111111111111", "alice");
    let bob = Author::user("222222222222222222", "bob");

    fake.dispatch(
        "MESSAGE_CREATE",
        message_create_guild(GENERAL, GUILD_ID, &alice, "in general", &[]),
    );
    fake.dispatch(
        "MESSAGE_CREATE",
        message_create_guild(GENERAL_THREAD, GUILD_ID, &alice, "in general's thread", &[]),
    );
    fake.dispatch(
        "MESSAGE_CREATE",
        message_create_guild(HELP, GUILD_ID, &bob, "bob in help", &[]),
    );
    wait_for_drop(
        &krill,
        "222222222222222222",
        "sender not in users allowlist",
    );
    let general_drops = || {
        krill
            .log()
            .lines()
            .filter(|l| l.contains("reason=channel not listed"))
            .count()
    };
    assert_eq!(
        general_drops(),
        2,
        "general and its thread: {}",
        krill.log()
    );

    fake.dispatch(
        "MESSAGE_CREATE",
        message_create_guild(HELP, GUILD_ID, &alice, "alice in help", &[]),
    );
    fake.wait_for_posts(1, WAIT)
        .expect("alice in help is answered");
    fake.dispatch(
        "MESSAGE_CREATE",
        message_create_guild(HELP_THREAD, GUILD_ID, &alice, "alice in the thread", &[]),
    );
    fake.wait_for_posts(2, WAIT)
        .expect("alice in help's thread is answered");
    let contents: Vec<_> = fake
        .posted_messages()
        .into_iter()
        .map(|p| (p.channel_id, p.content))
        .collect();
    assert_eq!(
        contents,
        vec![
            (HELP.to_owned(), "alice in help".to_owned()),
            (HELP_THREAD.to_owned(), "alice in the thread".to_owned()),
        ]
    );
}
