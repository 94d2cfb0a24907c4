//! Session keys and the default agent (`routing`).

use krill_core::config::{parse, DmScope, Platform};
use krill_core::routing::{display_name, route, session_key, Conversation, ReplyTarget};

#[test]
fn session_keys_as_documented() {
    let dm = Conversation::Direct {
        user_id: "42".into(),
    };
    let ch = Conversation::Channel {
        channel_id: "77".into(),
    };
    let slash = Conversation::Slash {
        user_id: "42".into(),
    };
    let cases = [
        (DmScope::Main, Platform::Discord, &dm, "agent:main:main"),
        (DmScope::Main, Platform::Kook, &dm, "agent:main:main"),
        (DmScope::PerPeer, Platform::Discord, &dm, "agent:main:dm:42"),
        (
            DmScope::PerChannelPeer,
            Platform::Discord,
            &dm,
            "agent:main:discord:dm:42",
        ),
        (
            DmScope::PerChannelPeer,
            Platform::Kook,
            &dm,
            "agent:main:kook:dm:42",
        ),
        (
            DmScope::PerAccountChannelPeer,
            Platform::Discord,
            &dm,
            "agent:main:discord:work:dm:42",
        ),
        (
            DmScope::PerPeer,
            Platform::Discord,
            &ch,
            "agent:main:discord:channel:77",
        ),
        (
            DmScope::Main,
            Platform::Kook,
            &ch,
            "agent:main:kook:channel:77",
        ),
        (
            DmScope::Main,
            Platform::Discord,
            &slash,
            "agent:main:discord:slash:42",
        ),
    ];
    for (scope, platform, conv, want) in cases {
        assert_eq!(
            session_key("main", scope, platform, "work", conv).as_str(),
            want
        );
    }
}

#[test]
fn the_default_agent() {
    let id = |text: &str| parse(text).unwrap().0.default_agent_id().to_owned();
    assert_eq!(id("{}"), "main");
    assert_eq!(id("{agents: {list: [{id: 'a'}, {id: 'b'}]}}"), "a");
    assert_eq!(
        id("{agents: {list: [{id: 'a'}, {id: 'b', default: true}]}}"),
        "b"
    );
}

#[test]
fn routes_reply_where_the_message_came_from() {
    let (config, _) =
        parse("{session: {dmScope: 'per-peer'}, agents: {list: [{id: 'x'}]}}").unwrap();
    let target = ReplyTarget {
        platform: Platform::Kook,
        account_id: "default".into(),
        chat_id: "9".into(),
        direct: true,
    };
    let r = route(
        &config,
        &Conversation::Direct {
            user_id: "9".into(),
        },
        target.clone(),
    );
    assert_eq!(r.agent_id, "x");
    assert_eq!(r.session_key.as_str(), "agent:x:dm:9");
    assert_eq!(r.reply_to, target);
}

#[test]
fn display_names() {
    assert_eq!(
        display_name(
            Platform::Discord,
            Some("friends-of-clawd"),
            Some("help"),
            None
        ),
        "discord:friends-of-clawd#help"
    );
    assert_eq!(
        display_name(Platform::Discord, None, None, Some("bob")),
        "discord:@bob"
    );
    assert_eq!(
        display_name(Platform::Kook, None, Some("lobby"), None),
        "kook:#lobby"
    );
}

#[test]
fn chat_labels_use_the_configured_guild_slug_then_the_name_then_the_id() {
    use krill_core::access::{ChatKind, Place};
    use krill_core::config::GuildConfig;
    use krill_core::routing::{chat_label, guild_slug};
    use std::collections::BTreeMap;

    let mut guilds = BTreeMap::new();
    guilds.insert(
        "111".to_owned(),
        GuildConfig {
            slug: Some("Friends of Clawd".into()),
            ..Default::default()
        },
    );
    let help = Place::named("9", "#Help Desk");
    let named = Place::named("111", "Clawd HQ");
    assert_eq!(guild_slug(&guilds, &named), "friends-of-clawd");
    assert_eq!(
        guild_slug(&guilds, &Place::named("222", "Tide Pool")),
        "tide-pool"
    );
    assert_eq!(
        guild_slug(
            &guilds,
            &Place {
                id: "333".into(),
                name: None
            }
        ),
        "333"
    );
    let label = |chat, guild: Option<&Place>, channel: &Place| {
        chat_label(Platform::Discord, &guilds, chat, guild, channel, "nelly")
    };
    assert_eq!(
        label(ChatKind::Channel, Some(&named), &help),
        "discord:friends-of-clawd#help-desk"
    );
    assert_eq!(
        label(
            ChatKind::Thread,
            Some(&named),
            &Place {
                id: "10".into(),
                name: None
            }
        ),
        "discord:friends-of-clawd#10"
    );
    assert_eq!(label(ChatKind::Direct, None, &help), "discord:@nelly");
    assert_eq!(
        label(ChatKind::GroupDirect, None, &help),
        "discord:#help-desk"
    );
    assert_eq!(
        chat_label(
            Platform::Kook,
            &BTreeMap::new(),
            ChatKind::Channel,
            Some(&Place::named("6016389914000000", "x")),
            &Place::named("48818200000000000", "潮汐"),
            "tz-un"
        ),
        "kook:#潮汐"
    );
}
