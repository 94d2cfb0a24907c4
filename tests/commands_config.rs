//! Scenario: `/config` over Discord text. An owner (explicit `dm.allowFrom`
//! entry) reads values with tokens redacted and sets one that the next
//! message obeys; the file keeps its comments and permissions; an invalid
//! value is refused with the CLI's key-path message and the file is left
//! alone; a caller who is not an owner changes nothing.

#[path = "support/krill.rs"]
mod krill;
#[path = "support/scenario.rs"]
mod scenario;

use std::os::unix::fs::PermissionsExt;

use krill::{Krill, WAIT};
use krill_testkit::discord::{message_create_guild, Author, CHANNEL_ID, GUILD_ID};
use krill_testkit::{FakeDiscord, FakeDiscordOptions};
use scenario::{alice, assert_no_secrets, contents_discord, discord_dm};

#[test]
fn config_set_applies_keeps_comments_and_refuses_bad_values() {
    let discord = FakeDiscord::start(FakeDiscordOptions::default());
    let token = discord.options().token.clone();
    let text = format!(
        r#"// my bot, do not lose this comment
{{
  channels: {{
    discord: {{
      token: "{token}", // the secret
      apiBaseUrl: "{base}",
      dm: {{ policy: "allowlist", allowFrom: ["{alice}"] }},
      groupPolicy: "open",
      /* replies */
      textChunkLimit: 2000,
    }},
  }},
  commands: {{ config: true }},
}}
"#,
        base = discord.api_base_url(),
        alice = alice().id
    );
    let krill = Krill::start(&text, &["gateway"]);
    discord.wait_for_ready_client(WAIT).expect("ready");
    let file = krill.state_dir().join("krill.json5");
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o640)).unwrap();
    // Each answer: everything posted after what was seen, once it settles
    // (a long answer comes in several messages).
    let seen = std::cell::Cell::new(0usize);
    let answer = || {
        let n = seen.get() + 1;
        discord
            .wait_for_posts(n, WAIT)
            .unwrap_or_else(|e| panic!("{e}\n{}", krill.log()));
        std::thread::sleep(std::time::Duration::from_millis(300));
        let all = contents_discord(&discord);
        seen.set(all.len());
        all[n - 1..].join("\n")
    };

    discord_dm(&discord, "/config get channels.discord.token");
    assert_eq!(answer(), "\"[redacted]\"");
    discord_dm(&discord, "/config show");
    let shown = answer();
    assert!(shown.contains("\"textChunkLimit\": 2000"), "{shown}");
    assert!(!shown.contains(&token), "no token in /config show");

    // Not an owner: a guild member (the guild is open) is refused.
    let bot = discord.options().bot_user_id.clone();
    discord.dispatch(
        "MESSAGE_CREATE",
        message_create_guild(
            CHANNEL_ID,
            GUILD_ID,
            &Author::user("222222222222222222", "mallory"),
            &format!(
                "{} /config set channels.discord.textChunkLimit 5",
                discord.bot_mention()
            ),
            &[&bot],
        ),
    );
    let refused = answer();
    assert!(
        refused.starts_with("You are not authorized to use this command."),
        "{refused}"
    );

    // Invalid value: refused with the key path, the file untouched.
    let before = std::fs::read_to_string(&file).unwrap();
    discord_dm(
        &discord,
        "/config set channels.discord.dm.policy \"sometimes\"",
    );
    let invalid = answer();
    assert!(invalid.contains("channels.discord.dm.policy"), "{invalid}");
    assert!(
        invalid.contains("krill.json5:"),
        "the CLI's file:line form: {invalid}"
    );
    assert_eq!(std::fs::read_to_string(&file).unwrap(), before);

    // A valid value: written in place, obeyed by the next message.
    discord_dm(&discord, "/config set channels.discord.textChunkLimit 20");
    let set = answer();
    assert!(
        set.starts_with("Set channels.discord.textChunkLimit."),
        "{set}"
    );
    let after = std::fs::read_to_string(&file).unwrap();
    assert_eq!(
        after,
        before.replace("textChunkLimit: 2000", "textChunkLimit: 20")
    );
    let mode = std::fs::metadata(&file).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o640, "mode kept");
    krill
        .wait_for_log("discord:default: config reloaded", WAIT)
        .unwrap();
    discord_dm(&discord, "aaaa bbbb cccc dddd eeee ffff gggg hhhh");
    assert_eq!(
        answer(),
        "aaaa bbbb cccc dddd\neeee ffff gggg hhhh",
        "two messages of at most 20"
    );
    assert_eq!(
        discord.posted_messages().last().unwrap().content,
        "eeee ffff gggg hhhh"
    );

    discord_dm(&discord, "/config unset channels.discord.textChunkLimit");
    assert!(
        answer().starts_with("Unset"),
        "answered (in 20-character pieces)"
    );
    let unset = std::fs::read_to_string(&file).unwrap();
    assert!(!unset.contains("textChunkLimit"));
    assert!(
        unset.contains("// my bot, do not lose this comment") && unset.contains("/* replies */")
    );
    assert_no_secrets(&krill, &[&token]);
}
