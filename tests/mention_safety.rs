//! Scenario (issue 16): a reply pings only the users who take part in the
//! turn. The echo agent repeats a crowd of user mentions, a role,
//! `@everyone` and `@here`: on Discord `allowed_mentions` lists only the
//! author (`parse: []`, no roles); on KOOK the KMarkdown markup of
//! everything else is escaped so it shows as text. `allowedMentions`
//! widens it.

#[path = "support/krill.rs"]
mod krill;
#[path = "support/scenario.rs"]
mod scenario;

use krill::WAIT;
use krill_testkit::{FakeDiscord, FakeDiscordOptions, FakeKook, FakeKookOptions};
use scenario::{alice, discord_dm, kook_dm, start_discord, start_kook, KOOK_USER};
use serde_json::json;

fn crowd_discord() -> String {
    let crowd: String = (0..85).map(|i| format!("<@{}> ", 900_000 + i)).collect();
    format!("{crowd}<@&77> @everyone @here hi <@{}>", alice().id)
}

#[test]
fn discord_reply_pings_only_the_author_by_default() {
    let fake = FakeDiscord::start(FakeDiscordOptions::default());
    let _krill = start_discord(&fake, "");
    discord_dm(&fake, &crowd_discord());
    fake.wait_for_posts(1, WAIT).expect("the reply");
    let posted = fake.posted_messages();
    assert_eq!(
        posted[0].body["allowed_mentions"],
        json!({"parse": [], "users": [alice().id]}),
        "{:?}",
        posted[0].body
    );
}

#[test]
fn discord_allowed_mentions_widens_to_users_and_roles() {
    let fake = FakeDiscord::start(FakeDiscordOptions::default());
    let _krill = start_discord(&fake, r#"allowedMentions: "usersAndRoles","#);
    discord_dm(&fake, &crowd_discord());
    fake.wait_for_posts(1, WAIT).expect("the reply");
    let body = &fake.posted_messages()[0].body;
    let allowed = &body["allowed_mentions"];
    assert_eq!(allowed["parse"], json!([]));
    assert_eq!(allowed["roles"], json!(["77"]));
    assert_eq!(allowed["users"].as_array().map(Vec::len), Some(86));
}

#[test]
fn kook_reply_markup_of_non_participants_is_escaped() {
    let fake = FakeKook::start(FakeKookOptions::default());
    let _krill = start_kook(&fake, "");
    kook_dm(
        &fake,
        &format!(
            "(met)all(met) (met)here(met) (rol)77(rol) (met)999(met) hi (met){KOOK_USER}(met)"
        ),
    );
    fake.wait_for_posts(1, WAIT).expect("the reply");
    let content = fake.posted_messages()[0].content.clone();
    assert_eq!(
        content,
        format!(
            "\\(met\\)all\\(met\\) \\(met\\)here\\(met\\) \\(rol\\)77\\(rol\\) \\(met\\)999\\(met\\) hi (met){KOOK_USER}(met)"
        )
    );
}
