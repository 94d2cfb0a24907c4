//! Scenario: allowlist names that `GUILD_CREATE` does not resolve (without
//! the Server Members Intent it lists only the bot) are looked up with
//! `GET /guilds/{guild.id}/members/search?query=<name>&limit=...` when the
//! guild becomes available (the Discord channel doc: "Name → id resolution uses
//! guild member search and requires Server Members Intent"):
//! - found: the mapping is logged and the user is matched by id (a renamed
//!   account still gets in), each name searched once per guild;
//! - refused (403 Missing Access, the intent is off): said once in the log
//!   (not again for the next guild, which is not searched), repeated by
//!   `krill doctor` and `krill channels status --probe`, and the entries
//!   stay as typed (the user still matches by username).

#[path = "support/krill.rs"]
mod krill;

use std::time::{Duration, Instant};

use krill::{Krill, WAIT};
use krill_testkit::discord::{message_create_guild, Author, GuildMember, CHANNEL_ID, GUILD_ID};
use krill_testkit::{FakeDiscord, FakeDiscordOptions};
use serde_json::json;

const ALICE: &str = "111111111111111111";
const OTHER_GUILD: &str = "777255963033731072";
const OTHER_CHANNEL: &str = "777255967228035073";

fn config(fake: &FakeDiscord) -> String {
    format!(
        r#"{{
  channels: {{ discord: {{
    token: "{token}", apiBaseUrl: "{base}",
    groupPolicy: "allowlist",
    guilds: {{
      "{GUILD_ID}": {{ users: ["alice"], requireMention: false }},
      "{OTHER_GUILD}": {{ users: ["alice", "carol"], requireMention: false }},
    }},
  }} }},
}}"#,
        token = fake.options().token,
        base = fake.api_base_url(),
    )
}

/// GUILD_CREATE for `id` as a bot without the members intent sees it: the
/// bot is its only member.
fn guild_available(fake: &FakeDiscord, id: &str, channel: &str) {
    let bot = fake.options().bot_user_id.clone();
    fake.dispatch(
        "GUILD_CREATE",
        json!({
            "id": id, "name": format!("guild {id}"), "unavailable": false,
            "channels": [{"id": channel, "type": 0, "name": "general"}],
            "threads": [],
            "members": [{"user": {"id": bot, "username": "krill", "bot": true}, "roles": []}],
        }),
    );
}

fn searches(fake: &FakeDiscord) -> Vec<(String, String, String)> {
    fake.requests()
        .into_iter()
        .filter(|r| r.path.ends_with("/members/search"))
        .map(|r| {
            (
                r.path.clone(),
                r.query_param("query").unwrap_or_default().to_owned(),
                r.query_param("limit").unwrap_or_default().to_owned(),
            )
        })
        .collect()
}

#[test]
fn a_name_resolves_through_member_search() {
    let fake = FakeDiscord::start(FakeDiscordOptions {
        guild_ids: vec![GUILD_ID.into(), OTHER_GUILD.into()],
        guild_members: vec![
            GuildMember::new(Author::user(ALICE, "alice")),
            GuildMember::new(Author::user("222222222222222222", "alina")),
        ],
        ..Default::default()
    });
    let krill = Krill::start(&config(&fake), &["gateway"]);
    fake.wait_for_ready_client(WAIT).expect("READY");
    guild_available(&fake, GUILD_ID, CHANNEL_ID);
    krill
        .wait_for_log(
            &format!(r#"allowlist entry "alice" resolved to {ALICE}"#),
            WAIT,
        )
        .expect("the mapping is logged");
    let path = format!("/guilds/{GUILD_ID}/members/search");
    let found = searches(&fake);
    assert!(
        found.contains(&(path.clone(), "alice".into(), "10".into())),
        "{found:?}"
    );
    assert!(
        found.iter().all(|(p, ..)| p == &path),
        "only the guild that became available is searched: {found:?}"
    );

    // The id now decides: alice renamed herself and is still answered.
    fake.dispatch(
        "MESSAGE_CREATE",
        message_create_guild(
            CHANNEL_ID,
            GUILD_ID,
            &Author::user(ALICE, "alice-renamed"),
            "still me",
            &[],
        ),
    );
    let posts = fake.wait_for_posts(1, WAIT).expect("an answer");
    assert_eq!(posts[0].content, "still me");

    // The second guild: "alice" is resolved already; "carol" is searched
    // (and not found: it stays as typed, nothing logged for it).
    guild_available(&fake, OTHER_GUILD, OTHER_CHANNEL);
    let deadline = Instant::now() + WAIT;
    while searches(&fake).iter().all(|(p, ..)| p == &path) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    let other = format!("/guilds/{OTHER_GUILD}/members/search");
    let queries: Vec<String> = searches(&fake)
        .into_iter()
        .filter(|(p, ..)| p == &other)
        .map(|(_, q, _)| q)
        .collect();
    assert_eq!(queries, ["carol"], "{queries:?}");
    assert!(!krill.log().contains(r#"entry "carol" resolved"#));
    assert!(!krill.log().contains("member search refused"));
}

#[test]
fn a_refused_search_is_reported_once_and_names_stay_as_typed() {
    let fake = FakeDiscord::start(FakeDiscordOptions {
        guild_ids: vec![GUILD_ID.into(), OTHER_GUILD.into()],
        guild_members: vec![GuildMember::new(Author::user(ALICE, "alice"))],
        members_intent: false,
        ..Default::default()
    });
    let krill = Krill::start(&config(&fake), &["gateway"]);
    fake.wait_for_ready_client(WAIT).expect("READY");
    guild_available(&fake, GUILD_ID, CHANNEL_ID);
    krill
        .wait_for_log("member search refused", WAIT)
        .expect("the refusal is logged");
    guild_available(&fake, OTHER_GUILD, OTHER_CHANNEL);

    // Typed names still match by username.
    fake.dispatch(
        "MESSAGE_CREATE",
        message_create_guild(
            OTHER_CHANNEL,
            OTHER_GUILD,
            &Author::user(ALICE, "alice"),
            "by name",
            &[],
        ),
    );
    let posts = fake.wait_for_posts(1, WAIT).expect("an answer");
    assert_eq!(posts[0].content, "by name");
    let log = krill.log();
    let refusals = log
        .lines()
        .filter(|l| l.contains("member search refused"))
        .count();
    assert_eq!(refusals, 1, "said once:\n{log}");
    assert!(log.contains("Server Members Intent"), "{log}");
    let path = format!("/guilds/{GUILD_ID}/members/search");
    assert!(
        searches(&fake).iter().all(|(p, ..)| p == &path),
        "the next guild is not searched after a refusal: {:?}",
        searches(&fake)
    );

    // doctor and channels status --probe repeat it (status.json is
    // rewritten every 5 s).
    let deadline = Instant::now() + WAIT;
    let (code, out) = loop {
        let (code, out) = krill.run_cli(&["doctor"]);
        if out.contains("member search refused") || Instant::now() > deadline {
            break (code, out);
        }
        std::thread::sleep(Duration::from_millis(250));
    };
    assert!(
        out.lines()
            .any(|l| l.starts_with("warn") && l.contains("member search refused")),
        "doctor ({code}):\n{out}"
    );
    let (_, out) = krill.run_cli(&["channels", "status", "--probe"]);
    assert!(
        out.contains("member search refused") && out.contains("Server Members Intent"),
        "{out}"
    );
    assert!(!out.contains(&fake.options().token));
}
