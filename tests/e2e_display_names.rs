//! Scenario: logs name guild channels `discord:<guildSlug>#<channelSlug>`
//! (the Discord channel doc, Goals), using `guilds.<id>.slug` when set and the
//! slug of the guild's name otherwise; DMs are `discord:@<user>`.

#[path = "support/krill.rs"]
mod krill;

use krill::{Krill, WAIT};
use krill_testkit::discord::{
    message_create_dm, message_create_guild, Author, CHANNEL_ID, DM_CHANNEL_ID, GUILD_ID,
};
use krill_testkit::{FakeDiscord, FakeDiscordOptions};
use serde_json::json;

const OTHER_GUILD: &str = "777255963033731072";
const OTHER_CHANNEL: &str = "777255967228035073";

#[test]
fn guild_channels_are_named_by_guild_and_channel_slug() {
    let fake = FakeDiscord::start(FakeDiscordOptions {
        guild_ids: vec![GUILD_ID.into(), OTHER_GUILD.into()],
        ..Default::default()
    });
    let config = format!(
        r#"{{
  channels: {{ discord: {{
    token: "{token}", apiBaseUrl: "{base}",
    dm: {{ policy: "allowlist", allowFrom: ["1"] }},
    guilds: {{
      "{GUILD_ID}": {{ slug: "Friends of Clawd", users: ["1"] }},
      "{OTHER_GUILD}": {{ users: ["1"] }},
    }},
  }} }},
}}"#,
        token = fake.options().token,
        base = fake.api_base_url(),
    );
    let krill = Krill::start(&config, &["gateway"]);
    fake.wait_for_ready_client(WAIT).expect("krill identifies");
    for (id, name, channel, channel_name) in [
        (GUILD_ID, "Clawd HQ", CHANNEL_ID, "Help Desk"),
        (OTHER_GUILD, "Tide Pool Test", OTHER_CHANNEL, "general"),
    ] {
        fake.dispatch(
            "GUILD_CREATE",
            json!({
                "id": id, "name": name, "unavailable": false,
                "channels": [{"id": channel, "type": 0, "name": channel_name}],
                "threads": [], "members": [],
            }),
        );
    }
    krill
        .wait_for_log("available as discord:tide-pool-test", WAIT)
        .expect("the second guild is named by its name's slug");
    assert!(
        krill.log().contains(&format!(
            "guild {GUILD_ID} available as discord:friends-of-clawd"
        )),
        "guilds.<id>.slug wins over the name: {}",
        krill.log()
    );

    // Senders outside the `users` lists: their drops are logged at info
    // with the chat's display name.
    let stranger = Author::user("333333333333333333", "stranger");
    let bot = fake.options().bot_user_id.clone();
    let mention = format!("{} hi", fake.bot_mention());
    for (channel, guild) in [(CHANNEL_ID, GUILD_ID), (OTHER_CHANNEL, OTHER_GUILD)] {
        fake.dispatch(
            "MESSAGE_CREATE",
            message_create_guild(channel, guild, &stranger, &mention, &[&bot]),
        );
    }
    fake.dispatch(
        "MESSAGE_CREATE",
        message_create_dm(DM_CHANNEL_ID, &stranger, "hello?"),
    );
    krill
        .wait_for_log("chat=discord:@stranger", WAIT)
        .expect("the DM is named by its sender");
    let log = krill.log();
    for label in [
        "chat=discord:friends-of-clawd#help-desk",
        "chat=discord:tide-pool-test#general",
    ] {
        assert!(
            log.lines()
                .any(|l| l.contains(label) && l.contains("authorId=333333333333333333")),
            "{label} in:\n{log}"
        );
    }
}
