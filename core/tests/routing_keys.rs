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
