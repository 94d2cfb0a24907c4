//! KOOK parsing beyond the fixtures: the lenient types from the fixtures
//! README pitfalls, every message and system event type, mentions, quotes,
//! frame edge cases, `/gateway/index` classification, resume URLs and the
//! inflate bound.

use krill_core::kook::{
    inflate_frame, met_mentions, parse_gateway_index, parse_text, resume_url, strip_met_mention,
    Body, ChannelType, EventBody, FrameError, GatewayFetchError, InflateError, MediaKind, Message,
    MessageType, Signal, SystemEventKind,
};
use krill_core::secret::Secret;
use serde_json::{json, Value};

fn message(data: Value) -> Message {
    match EventBody::parse(data) {
        EventBody::Message(m) => *m,
        other => panic!("not a message: {other:?}"),
    }
}

fn base(kind: i64, extra: Value) -> Value {
    json!({
        "channel_type": "GROUP", "type": kind, "target_id": "c1", "author_id": "u1",
        "content": "hello", "msg_id": "m1", "msg_timestamp": 1, "nonce": "n", "extra": extra
    })
}

fn zlib(bytes: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut encoder = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(bytes).expect("in-memory write");
    encoder.finish().expect("in-memory write")
}

// ----- message types -----

#[test]
fn media_types_carry_their_url_as_content() {
    for (code, kind) in [
        (2, MediaKind::Image),
        (3, MediaKind::Video),
        (4, MediaKind::File),
        (8, MediaKind::Audio),
    ] {
        let mut data = base(code, json!({"type": code}));
        data["content"] = json!("https://img.kookapp.cn/x.png");
        let m = message(data);
        assert_eq!(m.message_type.code(), code);
        assert_eq!(
            m.body,
            Body::Media {
                kind,
                url: "https://img.kookapp.cn/x.png".to_owned()
            }
        );
        assert_eq!(m.content(), "https://img.kookapp.cn/x.png");
    }
}

#[test]
fn card_messages_keep_their_raw_json_and_unknown_types_are_kept() {
    let card = r#"[{"type":"card","modules":[]}]"#;
    let mut data = base(10, json!({}));
    data["content"] = json!(card);
    assert_eq!(message(data).body, Body::Card(card.to_owned()));
    let m = message(base(12, json!({})));
    assert_eq!(m.message_type, MessageType::Other(12));
    assert_eq!(
        m.body,
        Body::Other {
            type_code: 12,
            content: "hello".to_owned()
        }
    );
}

#[test]
fn channel_types_including_unknown_ones() {
    for (wire, want) in [
        ("GROUP", ChannelType::Group),
        ("PERSON", ChannelType::Person),
        ("BROADCAST", ChannelType::Broadcast),
        ("THREAD", ChannelType::Other("THREAD".to_owned())),
    ] {
        let mut data = base(1, json!({}));
        data["channel_type"] = json!(wire);
        assert_eq!(message(data).channel_type, want);
    }
}

// ----- lenient types (fixtures README, KOOK pitfalls 5-7) -----

#[test]
fn attachments_may_be_false_null_an_object_an_array_or_a_map() {
    let one = json!({"type": "image", "url": "https://a/1.png", "name": "1.png", "size": 10});
    let two = json!({"type": "file", "url": "https://a/2.txt", "file_type": "text/plain"});
    for (attachments, count) in [
        (json!(false), 0),
        (Value::Null, 0),
        (json!([]), 0),
        (one.clone(), 1),
        (json!([one.clone(), two.clone()]), 2),
        (json!({"a": one.clone(), "b": two.clone()}), 2),
        (json!("junk"), 0),
    ] {
        let m = message(base(2, json!({"attachments": attachments})));
        assert_eq!(m.attachments.len(), count);
    }
    let m = message(base(2, json!({"attachments": one})));
    assert_eq!(m.attachments[0].kind, "image");
    assert_eq!(m.attachments[0].url, "https://a/1.png");
    assert_eq!(m.attachments[0].name.as_deref(), Some("1.png"));
    assert_eq!(m.attachments[0].size, Some(10));
}

#[test]
fn mention_ids_may_be_numbers_or_strings_and_role_ids_are_integers() {
    let m = message(base(
        9,
        json!({
            "mention": ["2862900000", 2418200000_u64, null, {"x": 1}],
            "mention_all": true,
            "mention_here": 1,
            "mention_roles": [702, "703", "x"],
            "author": {"id": 2418200000_u64, "username": "tz-un", "roles": [111, "112"], "bot": 0}
        }),
    ));
    assert_eq!(m.mentions.users, vec!["2862900000", "2418200000"]);
    assert!(m.mentions.all);
    assert!(m.mentions.here);
    assert_eq!(m.mentions.roles, vec![702, 703]);
    assert_eq!(m.author.id, "2418200000");
    assert_eq!(m.author.roles, vec![111, 112]);
    assert!(!m.author.bot);
    assert!(m.mentions_user("2418200000"));
}

#[test]
fn odd_field_types_never_make_a_message_unreadable() {
    let m = message(json!({
        "type": "1", "channel_type": 5, "target_id": 42, "author_id": null,
        "content": {"not": "text"}, "msg_id": 7, "msg_timestamp": "1700000000000",
        "extra": {"author": "nobody", "mention": "123", "kmarkdown": [], "quote": 5, "code": ""}
    }));
    assert_eq!(m.message_type, MessageType::Text);
    assert_eq!(m.channel_type, ChannelType::Other("5".to_owned()));
    assert_eq!(m.target_id, "42");
    assert_eq!(m.author_id, "");
    assert_eq!(m.content(), "");
    assert_eq!(m.msg_id, "7");
    assert_eq!(m.msg_timestamp, Some(1_700_000_000_000));
    assert_eq!(m.mentions.users, vec!["123"]);
    assert!(m.kmarkdown.is_none());
    assert!(m.quote.is_none());
    assert_eq!(m.chat_code, None);
}

#[test]
fn the_author_id_falls_back_to_the_event_author_id() {
    let m = message(base(1, json!({"author": {"username": "x"}})));
    assert_eq!(m.author.id, "u1");
}

// ----- quotes, DM code, mentions helper -----

#[test]
fn a_quote_gives_the_quoted_message_id_author_and_content() {
    let m = message(base(
        9,
        json!({
            "quote": {
                "id": "q-123", "type": 9, "content": "earlier", "create_at": 1,
                "author": {"id": "2862900000", "username": "krill", "bot": true}
            }
        }),
    ));
    let quote = m.quote.expect("a quote");
    assert_eq!(quote.msg_id, "q-123");
    assert_eq!(quote.content, "earlier");
    assert_eq!(quote.message_type, Some(MessageType::KMarkdown));
    let author = quote.author.expect("quote author");
    assert_eq!(author.id, "2862900000");
    assert!(author.bot);
    // Some payloads name the id `msg_id` or `rong_id`.
    let m = message(base(
        1,
        json!({"quote": {"rong_id": "r-1", "content": "c"}}),
    ));
    assert_eq!(m.quote.expect("quote").msg_id, "r-1");
    assert!(message(base(1, json!({"quote": null}))).quote.is_none());
}

#[test]
fn the_dm_chat_code_is_read_from_extra_code() {
    let mut data = base(9, json!({"code": "abc123"}));
    data["channel_type"] = json!("PERSON");
    let m = message(data);
    assert_eq!(m.chat_code.as_deref(), Some("abc123"));
    assert_eq!(m.chat_id(), "u1");
}

#[test]
fn met_mentions_are_extracted_and_the_bots_is_stripped() {
    let text = "(met)2862900000(met) hi (met)all(met) and (met)42(met)!";
    assert_eq!(
        met_mentions(text).collect::<Vec<_>>(),
        vec!["2862900000", "all", "42"]
    );
    assert_eq!(
        strip_met_mention(text, "2862900000"),
        "hi (met)all(met) and (met)42(met)!"
    );
    assert_eq!(strip_met_mention("a (met)1(met) b", "1"), "a b");
    assert_eq!(strip_met_mention("  (met)1(met)  ", "1"), "");
    assert_eq!(strip_met_mention("no mention ", "1"), "no mention");
    assert_eq!(strip_met_mention("(met)12(met) x", "1"), "(met)12(met) x");
    assert_eq!(met_mentions("(met)unterminated").count(), 0);
    assert_eq!(met_mentions("").count(), 0);
}

// ----- system events -----

fn system_kind(name: &str, body: Value) -> SystemEventKind {
    let data = json!({
        "channel_type": "GROUP", "type": 255, "target_id": "g1", "author_id": "1",
        "content": "[系统消息]", "msg_id": "e1", "msg_timestamp": 1,
        "extra": {"type": name, "body": body}
    });
    match EventBody::parse(data) {
        EventBody::System(e) => {
            assert_eq!(e.name, name);
            e.kind
        }
        other => panic!("not a system event: {other:?}"),
    }
}

#[test]
fn the_system_events_krill_uses_are_typed_and_others_are_kept_raw() {
    let reaction = json!({"msg_id": "m", "user_id": "u", "channel_id": "c",
                          "emoji": {"id": "[#128226;]", "name": "[#128226;]"}});
    assert!(matches!(
        system_kind("deleted_reaction", reaction.clone()),
        SystemEventKind::DeletedReaction(r) if r.user_id == "u" && r.msg_id == "m"
    ));
    assert!(matches!(
        system_kind("private_deleted_reaction", reaction),
        SystemEventKind::PrivateDeletedReaction(_)
    ));
    let updated = system_kind(
        "updated_message",
        json!({"channel_id": "c", "msg_id": "m", "content": "new", "mention": [1],
               "mention_all": false, "mention_here": false, "mention_roles": [],
               "updated_at": 1612778254035_i64}),
    );
    let SystemEventKind::UpdatedMessage(update) = updated else {
        panic!("{updated:?}");
    };
    assert_eq!(update.content, "new");
    assert_eq!(update.channel_id.as_deref(), Some("c"));
    assert_eq!(update.mentions.users, vec!["1"]);
    assert_eq!(update.updated_at, Some(1612778254035));
    let private = system_kind(
        "updated_private_message",
        json!({"msg_id": "m", "author_id": "a", "target_id": "t", "content": "x",
               "chat_code": "cc", "updated_at": 1}),
    );
    assert!(matches!(
        private,
        SystemEventKind::UpdatedPrivateMessage(u) if u.chat_code.as_deref() == Some("cc")
            && u.author_id.as_deref() == Some("a")
    ));
    assert!(matches!(
        system_kind("deleted_message", json!({"channel_id": "c", "msg_id": "m"})),
        SystemEventKind::DeletedMessage(d) if d.msg_id == "m" && d.channel_id.as_deref() == Some("c")
    ));
    assert!(matches!(
        system_kind("deleted_private_message", json!({"chat_code": "cc", "msg_id": "m"})),
        SystemEventKind::DeletedPrivateMessage(d) if d.chat_code.as_deref() == Some("cc")
    ));
    assert_eq!(
        system_kind("joined_guild", json!({"user_id": "u"})),
        SystemEventKind::Other("joined_guild".to_owned())
    );
}

#[test]
fn events_without_a_type_are_unknown_and_kept_raw() {
    for data in [
        json!({"channel_type": "GROUP"}),
        json!([1]),
        json!("x"),
        Value::Null,
    ] {
        match EventBody::parse(data.clone()) {
            EventBody::Unknown(u) => assert_eq!(u.data, data),
            other => panic!("{other:?}"),
        }
    }
}

// ----- frames -----

#[test]
fn frame_numbers_are_read_leniently() {
    assert_eq!(
        parse_text(r#"{"s":"3"}"#),
        Ok(Signal::Pong),
        "numeric strings are accepted"
    );
    assert!(matches!(
        parse_text(r#"{"s":0,"sn":"7","d":{}}"#),
        Ok(Signal::Event { sn: 7, .. })
    ));
    assert!(matches!(
        parse_text(r#"{"s":0.0,"sn":7.0,"d":{}}"#),
        Ok(Signal::Event { sn: 7, .. })
    ));
    assert_eq!(
        parse_text(r#"{"s":0,"sn":7.5}"#),
        Err(FrameError::MissingSn)
    );
    assert_eq!(
        parse_text(r#"{"s":2}"#),
        Err(FrameError::BadClientSn { s: 2 })
    );
    assert_eq!(
        parse_text(r#"{"s":1,"d":{}}"#),
        Ok(Signal::Hello {
            code: 40100,
            session_id: None
        }),
        "a HELLO without a code is a missing-parameter error"
    );
    assert_eq!(
        parse_text(r#"{"s":1,"d":{"code":0,"sessionId":"s"}}"#),
        Ok(Signal::Hello {
            code: 0,
            session_id: Some("s".to_owned())
        })
    );
    assert_eq!(
        parse_text(r#"{"s":5}"#),
        Ok(Signal::Reconnect {
            code: None,
            err: None
        })
    );
}

#[test]
fn unknown_signals_keep_the_whole_frame() {
    let signal = parse_text(r#"{"s":42,"d":{"a":1},"sn":3}"#).expect("parses");
    assert_eq!(
        signal,
        Signal::Unknown {
            s: 42,
            frame: json!({"s": 42, "d": {"a": 1}, "sn": 3})
        }
    );
}

#[test]
fn deeply_nested_json_is_an_error_not_a_crash() {
    let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    assert!(matches!(parse_text(&deep), Err(FrameError::Json { .. })));
}

// ----- inflate -----

#[test]
fn inflate_is_bounded_and_strict() {
    let payload = vec![b'a'; 10_000];
    let compressed = zlib(&payload);
    assert_eq!(
        inflate_frame(&compressed, 10_000).map(|s| s.len()),
        Ok(10_000)
    );
    assert_eq!(
        inflate_frame(&compressed, 9_999),
        Err(InflateError::TooLarge { limit: 9_999 })
    );
    // A zip bomb stops at the limit instead of allocating what it claims.
    let bomb = zlib(&vec![0u8; 8 * 1024 * 1024]);
    assert!(bomb.len() < 16 * 1024);
    assert_eq!(
        inflate_frame(&bomb, 64 * 1024),
        Err(InflateError::TooLarge { limit: 64 * 1024 })
    );
    assert!(matches!(
        inflate_frame(&compressed[..compressed.len() - 6], 1 << 20),
        Err(InflateError::Corrupt { .. })
    ));
    assert!(matches!(
        inflate_frame(b"", 1 << 20),
        Err(InflateError::Corrupt { .. })
    ));
    assert!(matches!(
        inflate_frame(b"not zlib at all", 1 << 20),
        Err(InflateError::Corrupt { .. })
    ));
    assert_eq!(
        inflate_frame(&zlib(&[0xff, 0xfe]), 1 << 20),
        Err(InflateError::NotUtf8)
    );
    // Bytes after the end of the stream are ignored.
    let mut trailing = zlib(b"{\"s\":3}");
    trailing.extend_from_slice(b"junk");
    assert_eq!(
        inflate_frame(&trailing, 1 << 20).as_deref(),
        Ok("{\"s\":3}")
    );
    assert_eq!(inflate_frame(&zlib(b""), 0).as_deref(), Ok(""));
}

// ----- /gateway/index -----

#[test]
fn gateway_index_answers_are_classified() {
    let ok = br#"{"code":0,"message":"","data":{"url":"wss://g?compress=0&token=t"}}"#;
    assert_eq!(
        parse_gateway_index(200, ok).map(|s| s.expose().to_owned()),
        Ok("wss://g?compress=0&token=t".to_owned())
    );
    let unauthorized = [
        (401, br#"{"code":401,"message":"token wrong"}"#.as_slice()),
        (403, b"forbidden".as_slice()),
        (
            200,
            br#"{"code":40101,"message":"invalid token"}"#.as_slice(),
        ),
    ];
    for (status, body) in unauthorized {
        assert!(
            matches!(
                parse_gateway_index(status, body),
                Err(GatewayFetchError::Unauthorized { .. })
            ),
            "{status}"
        );
    }
    let transient = [
        (500, b"oops".as_slice()),
        (429, br#"{"code":40000}"#.as_slice()),
        (200, b"not json".as_slice()),
        (200, br#"{"code":0,"data":{}}"#.as_slice()),
        (200, br#"{"code":0,"data":{"url":""}}"#.as_slice()),
        (200, br#"{"code":50000,"message":"busy"}"#.as_slice()),
    ];
    for (status, body) in transient {
        assert!(
            matches!(
                parse_gateway_index(status, body),
                Err(GatewayFetchError::Transient { .. })
            ),
            "{status} {}",
            String::from_utf8_lossy(body)
        );
    }
    let Err(error) = parse_gateway_index(401, br#"{"code":401,"message":"token wrong"}"#) else {
        panic!("must fail");
    };
    let text = error.to_string();
    assert!(
        text.contains("HTTP 401") && text.contains("token wrong"),
        "{text}"
    );
}

// ----- resume URL -----

#[test]
fn resume_parameters_are_appended_with_the_right_separator_and_escaped() {
    let cases = [
        (
            "wss://g/gateway?compress=0&token=t",
            "wss://g/gateway?compress=0&token=t&",
        ),
        ("wss://g/gateway", "wss://g/gateway?"),
        ("wss://g/gateway?", "wss://g/gateway?"),
        ("wss://g/gateway?token=t&", "wss://g/gateway?token=t&"),
    ];
    for (base, prefix) in cases {
        let url = resume_url(&Secret::new(base), 9, "ab-c");
        assert_eq!(
            url.expose(),
            format!("{prefix}resume=1&sn=9&session_id=ab-c&sessionId=ab-c")
        );
    }
    let url = resume_url(&Secret::new("wss://g?x=1"), 0, "a b&c=d");
    assert!(url
        .expose()
        .ends_with("session_id=a%20b%26c%3Dd&sessionId=a%20b%26c%3Dd"));
}
