//! The small pure pieces of the Discord module: the send limiter and its
//! heartbeat reserve, the heartbeater, URL building and the close table.

use std::time::{Duration, Instant};

use krill_core::discord::{
    close_action, gateway_url, heartbeat_reserve, Beat, CloseAction, Dispatch, GatewayFrame,
    Heartbeater, SendLimiter, SEND_LIMIT,
};

#[test]
fn heartbeat_reserve_is_ceil_60_over_interval_plus_one() {
    assert_eq!(heartbeat_reserve(Duration::from_millis(41250)), 3);
    assert_eq!(heartbeat_reserve(Duration::from_secs(60)), 2);
    assert_eq!(heartbeat_reserve(Duration::from_secs(1)), 61);
    assert_eq!(heartbeat_reserve(Duration::from_millis(1)), SEND_LIMIT);
    assert_eq!(heartbeat_reserve(Duration::ZERO), SEND_LIMIT);
}

#[test]
fn send_limiter_is_a_sliding_60_s_window() {
    let t0 = Instant::now();
    let mut limiter = SendLimiter::new();
    for i in 0..120 {
        assert!(limiter.allows(t0 + Duration::from_millis(i), 0));
        limiter.record(t0 + Duration::from_millis(i));
    }
    assert!(!limiter.allows(t0 + Duration::from_secs(1), 0));
    assert_eq!(
        limiter.next_free(t0 + Duration::from_secs(1), 0),
        Some(t0 + Duration::from_secs(60))
    );
    // With 3 slots reserved, the 4th-oldest send must leave first.
    assert_eq!(
        limiter.next_free(t0 + Duration::from_secs(1), 3),
        Some(t0 + Duration::from_secs(60) + Duration::from_millis(3))
    );
    assert!(limiter.allows(t0 + Duration::from_secs(60), 0));
    assert_eq!(limiter.used(t0 + Duration::from_secs(61)), 0);
    assert_eq!(limiter.next_free(t0, SEND_LIMIT), None);
}

#[test]
fn heartbeater_declares_a_zombie_only_without_ack_between_sends() {
    let t0 = Instant::now();
    let mut hb = Heartbeater::new(Duration::from_millis(41250));
    assert_eq!(hb.on_timer(), Beat::Send);
    hb.sent(t0);
    assert!(hb.awaiting_ack());
    hb.acked(t0 + Duration::from_millis(80));
    assert_eq!(hb.latency(), Some(Duration::from_millis(80)));
    assert_eq!(hb.on_timer(), Beat::Send);
    hb.sent(t0 + Duration::from_secs(41));
    assert_eq!(hb.on_timer(), Beat::Zombie);
}

#[test]
fn heartbeat_interval_is_clamped() {
    assert_eq!(
        Heartbeater::new(Duration::ZERO).interval(),
        Duration::from_secs(1)
    );
    assert_eq!(
        Heartbeater::new(Duration::from_millis(u64::MAX)).interval(),
        Duration::from_secs(3600)
    );
}

#[test]
fn gateway_url_appends_version_encoding_and_compression() {
    assert_eq!(
        gateway_url("wss://gateway.discord.gg/", false),
        "wss://gateway.discord.gg/?v=10&encoding=json"
    );
    assert_eq!(
        gateway_url("wss://gateway-us-east1-b.discord.gg", true),
        "wss://gateway-us-east1-b.discord.gg/?v=10&encoding=json&compress=zlib-stream"
    );
    assert_eq!(
        gateway_url("ws://127.0.0.1:9000/gw?x=1", false),
        "ws://127.0.0.1:9000/gw?x=1&v=10&encoding=json"
    );
}

#[test]
fn close_table_matches_the_protocol_doc() {
    for code in [4000, 4002, 4008, 1000, 1001, 1006, 4006, 4999] {
        assert_eq!(close_action(code), CloseAction::Resume, "{code}");
    }
    for code in [4001, 4003, 4005, 4007, 4009] {
        assert_eq!(close_action(code), CloseAction::Identify, "{code}");
    }
    for code in [4004, 4010, 4011, 4012, 4013, 4014] {
        assert!(
            matches!(close_action(code), CloseAction::Fatal(_)),
            "{code}"
        );
    }
}

mod payloads {
    use krill_core::discord::{Dispatch, GatewayFrame};

    fn dispatch(t: &str, d: &str) -> Dispatch {
        let text = format!(r#"{{"op":0,"s":9,"t":"{t}","d":{d}}}"#);
        match GatewayFrame::parse(&text) {
            Ok(GatewayFrame::Dispatch { event, .. }) => event,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn thread_and_channel_create_carry_id_type_guild_name_parent() {
        let Dispatch::ThreadCreate(thread) = dispatch(
            "THREAD_CREATE",
            r#"{"id":"5","type":11,"guild_id":"6","name":"help-thread","parent_id":"7","owner_id":"1","newly_created":true}"#,
        ) else {
            panic!()
        };
        assert_eq!(
            (
                thread.id.as_str(),
                thread.kind,
                thread.guild_id.as_deref(),
                thread.name.as_deref(),
                thread.parent_id.as_deref()
            ),
            ("5", 11, Some("6"), Some("help-thread"), Some("7"))
        );
        let Dispatch::ChannelCreate(channel) = dispatch(
            "CHANNEL_CREATE",
            r#"{"id":"8","type":0,"guild_id":"6","name":"general","parent_id":null}"#,
        ) else {
            panic!()
        };
        assert_eq!(channel.name.as_deref(), Some("general"));
        assert_eq!(channel.parent_id, None);
    }

    #[test]
    fn reaction_remove_parses_like_add() {
        let Dispatch::MessageReactionRemove(r) = dispatch(
            "MESSAGE_REACTION_REMOVE",
            r#"{"user_id":"1","channel_id":"2","message_id":"3","guild_id":"4","emoji":{"id":"5","name":null},"burst":false,"type":0}"#,
        ) else {
            panic!()
        };
        assert_eq!(r.emoji.id.as_deref(), Some("5"));
        assert_eq!(r.emoji.name, None);
        assert_eq!(r.message_author_id, None);
    }

    #[test]
    fn guild_create_lists_channels_threads_and_member_nicks() {
        let Dispatch::GuildCreate(g) = dispatch(
            "GUILD_CREATE",
            r#"{"id":"1","name":"Krill HQ","channels":[{"id":"2","type":0,"name":"help","parent_id":"3"}],
               "threads":[{"id":"4","type":11,"guild_id":"1","name":"t","parent_id":"2"}],
               "members":[{"user":{"id":"9","username":"nelly","global_name":"Nelly"},"nick":"nel","roles":[]}]}"#,
        ) else {
            panic!()
        };
        assert_eq!(g.name, "Krill HQ");
        assert_eq!(g.channels[0].name.as_deref(), Some("help"));
        assert_eq!(g.threads[0].parent_id.as_deref(), Some("2"));
        let member = &g.members[0];
        assert_eq!(member.nick.as_deref(), Some("nel"));
        let user = member.user.as_ref().unwrap();
        assert_eq!(
            (user.username.as_str(), user.global_name.as_deref()),
            ("nelly", Some("Nelly"))
        );
        // An unavailable guild (outage) parses too.
        let Dispatch::GuildCreate(g) = dispatch("GUILD_CREATE", r#"{"id":"1","unavailable":true}"#)
        else {
            panic!()
        };
        assert!(g.unavailable && g.channels.is_empty());
    }

    #[test]
    fn interaction_create_keeps_the_raw_object() {
        let Dispatch::InteractionCreate(v) = dispatch(
            "INTERACTION_CREATE",
            r#"{"id":"1","type":2,"data":{"name":"ask"}}"#,
        ) else {
            panic!()
        };
        assert_eq!(v["data"]["name"], "ask");
    }

    #[test]
    fn webhook_messages_and_huge_ids_parse_without_numbers() {
        let Dispatch::MessageCreate(m) = dispatch(
            "MESSAGE_CREATE",
            r#"{"id":"999999999999999999999999","channel_id":"2","webhook_id":"77","author":{"id":"77","username":"hook","bot":null},"content":"hi","mention_everyone":true}"#,
        ) else {
            panic!()
        };
        assert_eq!(m.id, "999999999999999999999999");
        assert_eq!(m.webhook_id.as_deref(), Some("77"));
        assert!(!m.author.bot, "null bot reads as false");
        assert!(m.mention_everyone);
    }
}

/// Issue 16: a lone surrogate (`\ud800`) in a message's content decodes to
/// U+FFFD; the frame is not malformed and the message is not lost.
#[test]
fn a_lone_surrogate_in_content_decodes_to_a_replacement_character() {
    let text = r#"{"op":0,"s":42,"t":"MESSAGE_CREATE","d":{"id":"1","channel_id":"2","author":{"id":"3","username":"u"},"content":"hi \ud800 there \ud83d\ude00","timestamp":"2024-01-01T00:00:00Z"}}"#;
    match GatewayFrame::parse(text) {
        Ok(GatewayFrame::Dispatch {
            seq: Some(42),
            event: Dispatch::MessageCreate(message),
        }) => assert_eq!(message.content, "hi \u{fffd} there 😀"),
        other => panic!("{other:?}"),
    }
}
