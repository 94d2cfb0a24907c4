//! Config files that must load, and the values and defaults they give.

use krill_core::config::{
    parse, AckReactionScope, Config, DmPolicy, DmScope, GroupPolicy, KeyPath, ListEntry,
    NativeCommands, ReactionNotifications, Warning,
};
use krill_core::reply::{ChunkMode, ReplyToMode};

fn ok(text: &str) -> (Config, Vec<Warning>) {
    match parse(text) {
        Ok(v) => v,
        Err(e) => panic!("config should parse, got:\n{e}"),
    }
}

#[test]
fn the_complete_example_of_the_seed_docs_parses() {
    let (config, warnings) = ok(include_str!("fixtures/seed_discord_full.json5"));
    let d = config.channels.discord.as_ref().expect("discord section");
    assert_eq!(d.enabled, Some(true));
    assert_eq!(d.token.as_ref().map(|t| t.expose()), Some("abc.123"));
    assert_eq!(d.group_policy, Some(GroupPolicy::Allowlist));
    assert_eq!(d.media_max_mb, Some(8.0));
    assert_eq!(d.reply_to_mode, Some(ReplyToMode::Off));
    let actions = d.actions.expect("actions");
    assert!(actions.reactions && actions.channels && !actions.roles && !actions.moderation);
    let dm = d.dm.as_ref().expect("dm");
    assert_eq!(dm.policy, Some(DmPolicy::Pairing));
    assert_eq!(
        dm.allow_from,
        vec![
            ListEntry::from("123456789012345678"),
            ListEntry::from("steipete")
        ]
    );
    assert_eq!(dm.group_channels, vec![ListEntry::from("clawd-dm")]);

    // `guilds` is written twice in one object: the two objects are merged,
    // and so is the `"*"` entry inside them.
    let guilds = d.guilds.as_ref().expect("guilds");
    assert_eq!(guilds.len(), 2);
    let star = &guilds["*"];
    assert_eq!(star.require_mention, Some(true));
    assert!(star.channels.as_ref().expect("channels")["general"].allow == Some(true));
    let g = &guilds["123456789012345678"];
    assert_eq!(g.slug.as_deref(), Some("friends-of-clawd"));
    assert_eq!(g.require_mention, Some(false));
    assert_eq!(g.reaction_notifications, Some(ReactionNotifications::Own));
    let trigger = g.reaction_trigger.as_ref().expect("reactionTrigger");
    assert!(trigger.enabled);
    assert_eq!(trigger.window_seconds, 60);
    assert_eq!(trigger.positive().len(), 3);
    let help = &g.channels.as_ref().expect("channels")["help"];
    assert_eq!(
        help.skills.as_deref(),
        Some(&["search".to_owned(), "docs".to_owned()][..])
    );
    assert_eq!(help.system_prompt.as_deref(), Some("Keep answers short."));
    assert_eq!(help.users.as_ref().map(Vec::len), Some(1));

    let dup_paths: Vec<String> = warnings.iter().map(|w| w.path.to_string()).collect();
    assert_eq!(
        dup_paths,
        vec!["channels.discord.guilds", "channels.discord.guilds.\"*\""]
    );
    assert!(warnings[0].message.contains("merged"), "{}", warnings[0]);
}

#[test]
fn the_allowlist_example_of_the_seed_docs_parses() {
    let (config, warnings) = ok(include_str!("fixtures/seed_discord_allowlist.json5"));
    assert!(warnings.is_empty(), "{warnings:?}");
    let d = config.channels.discord.expect("discord");
    assert_eq!(d.dm.and_then(|dm| dm.enabled), Some(false));
    let retry = d.retry.expect("retry");
    assert_eq!(
        (retry.attempts, retry.min_delay_ms, retry.max_delay_ms),
        (3, 500, 30_000)
    );
    assert!((retry.jitter - 0.1).abs() < 1e-9);
}

#[test]
fn the_kook_examples_parse() {
    let (c, _) = ok(r#"{
      channels: {
        kook: {
          enabled: true,              // Enable/disable the Kook channel
          token: "YOUR_BOT_TOKEN",    // Required: Bot token from developer platform
          allowedUserId: "USER_ID"    // Strongly recommended: Your Kook user ID
        }
      }
    }"#);
    let k = c.channels.kook.expect("kook");
    assert_eq!(k.allowed_user_id.expect("allowedUserId").0, vec!["USER_ID"]);
    let (c, _) =
        ok("{channels: {kook: {allowedUserId: ['1', 2], compress: true, textChunkLimit: 8000}}}");
    let k = c.channels.kook.expect("kook");
    assert_eq!(k.allowed_user_id.expect("list").0, vec!["1", "2"]);
    assert_eq!(k.compress, Some(true));
    assert_eq!(k.text_chunk_limit, Some(8000));
}

#[test]
fn blank_and_empty_files_are_the_defaults() {
    for text in ["", "  \n", "// nothing yet\n/* really */", "{}"] {
        let (c, w) = ok(text);
        assert!(w.is_empty());
        assert!(c.channels.discord.is_none() && c.channels.kook.is_none());
        assert!(!c.discord_section_present());
        assert_eq!(c.default_agent_id(), "main");
        assert_eq!(c.messages.ack_reaction(), Some("👀"));
        assert_eq!(
            c.messages.ack_reaction_scope,
            AckReactionScope::GroupMentions
        );
        assert!(!c.messages.remove_ack_after_reply);
        assert_eq!(c.commands.native, NativeCommands::Auto);
        assert!(c.commands.text && c.commands.use_access_groups && !c.commands.config);
        assert_eq!(c.session.dm_scope, DmScope::Main);
        assert_eq!(c.backend_for("main"), krill_core::agent::BackendSpec::Echo);
    }
}

#[test]
fn json5_syntax_is_accepted() {
    let (c, _) = ok(r#"
    // line comment
    /* block
       comment */
    {
      'channels': {
        "discord": {
          token: 'single \' quoted',
          intents: 0x8201,            // hex
          mediaMaxMb: .5,             // leading dot
          historyLimit: +10,          // explicit plus
          textChunkLimit: 1500.,      // trailing dot
          dm: { allowFrom: [123456789012345678, 'a\
b',], },                              // snowflake kept exact; line continuation
        },
      },
    }"#);
    let d = c.channels.discord.expect("discord");
    assert_eq!(d.token.expect("token").expose(), "single ' quoted");
    assert_eq!(d.intents, Some(0x8201));
    assert_eq!(d.media_max_mb, Some(0.5));
    assert_eq!(d.history_limit, Some(10));
    assert_eq!(d.text_chunk_limit, Some(1500));
    assert_eq!(
        d.dm.expect("dm").allow_from,
        vec![ListEntry::from("123456789012345678"), ListEntry::from("ab")]
    );
}

#[test]
fn every_documented_key_is_accepted() {
    let (c, w) = ok(include_str!("fixtures/complete.json5"));
    assert!(w.is_empty(), "{w:?}");
    let d = c.channels.discord.as_ref().expect("discord");
    assert_eq!(d.chunk_mode, Some(ChunkMode::Newline));
    assert_eq!(d.accounts.len(), 1);
    assert_eq!(d.shards.expect("shards").ids(), 0..=1);
    assert_eq!(c.session.dm_scope, DmScope::PerChannelPeer);
    assert_eq!(c.default_agent_id(), "helper");
    assert_eq!(c.messages.ack_reaction_scope, AckReactionScope::GroupAll);
    assert_eq!(c.mention_patterns("helper").len(), 1);
    assert_eq!(
        c.mention_patterns("other").len(),
        2,
        "falls back to messages.groupChat"
    );
    assert!(
        c.mention_patterns("helper")[0].is_match("HEY KRILL"),
        "case-insensitive"
    );
    assert_eq!(c.media.retention_hours, Some(48));
    assert_eq!(c.media.local_roots, ["/srv/agent-out", "~/krill-out"]);
    assert_eq!(
        c.channels.kook.as_ref().and_then(|k| k.media_max_mb),
        Some(16.0)
    );
}

#[test]
fn media_keys_are_checked() {
    let text = "{\n  channels: { kook: { mediaMaxMb: 0 } },\n  media: { localRoots: [\"out\", \"/\"] },\n}\n";
    let errors = krill_core::config::parse(text).expect_err("invalid media keys");
    let paths: Vec<String> = errors.problems.iter().map(|d| d.path.to_string()).collect();
    assert!(
        paths.contains(&"channels.kook.mediaMaxMb".to_owned()),
        "{paths:?}"
    );
    assert!(
        paths.contains(&"media.localRoots[0]".to_owned()),
        "{paths:?}"
    );
    assert!(
        paths.contains(&"media.localRoots[1]".to_owned()),
        "{paths:?}"
    );
}

#[test]
fn require_mention_at_the_discord_top_level_is_a_warning() {
    let (_, w) =
        ok("{\n  channels: {\n    discord: {\n      requireMention: false,\n    },\n  },\n}\n");
    assert_eq!(w.len(), 1);
    assert_eq!(
        w[0].path,
        KeyPath::dotted("channels.discord.requireMention")
    );
    assert_eq!((w[0].line, w[0].column), (4, 7));
    assert!(w[0].message.contains("ignored"), "{}", w[0]);
}

#[test]
fn a_dm_allowlist_without_anyone_is_a_warning() {
    let (_, w) = ok("{channels: {discord: {dm: {policy: 'allowlist'}}}}");
    assert_eq!(w.len(), 1);
    assert_eq!(w[0].path.to_string(), "channels.discord.dm.policy");
}

#[test]
fn open_dm_policy_with_star_is_fine() {
    let (c, w) = ok("{channels: {discord: {dm: {policy: 'open', allowFrom: ['*']}}}}");
    assert!(w.is_empty());
    assert_eq!(
        c.channels.discord.and_then(|d| d.dm).and_then(|d| d.policy),
        Some(DmPolicy::Open)
    );
}

#[test]
fn native_commands_take_true_false_or_auto() {
    for (text, want) in [
        ("true", NativeCommands::On),
        ("false", NativeCommands::Off),
        ("'auto'", NativeCommands::Auto),
    ] {
        let (c, _) = ok(&format!("{{commands: {{native: {text}}}, channels: {{discord: {{commands: {{native: {text}}}}}}}}}"));
        assert_eq!(c.commands.native, want);
        let d = c.channels.discord.expect("discord");
        assert_eq!(d.commands.and_then(|c| c.native), Some(want));
    }
}
