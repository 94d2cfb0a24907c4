//! Every KOOK gateway fixture in `tests/fixtures/kook/gateway/` (and the
//! `/gateway/index` REST fixtures) parses into the right types.

use std::path::Path;

use krill_core::kook::{
    inflate_frame, parse_binary, parse_gateway_index, parse_text, ping_frame, resume_frame,
    resume_url, Body, ChannelType, EventBody, GatewayFetchError, HelloError, Message, MessageType,
    Signal, SystemEvent, SystemEventKind, DEFAULT_MAX_INFLATED_BYTES,
};
use serde_json::Value;

const GATEWAY: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/kook/gateway");
const REST: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/kook/rest");

fn read(dir: &str, name: &str) -> String {
    let path = Path::new(dir).join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn signal(name: &str) -> Signal {
    parse_text(&read(GATEWAY, name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn event(name: &str) -> (u64, EventBody) {
    match signal(name) {
        Signal::Event { sn, data } => (sn, EventBody::parse(data)),
        other => panic!("{name}: not an event: {other:?}"),
    }
}

fn message(name: &str) -> (u64, Message) {
    match event(name) {
        (sn, EventBody::Message(m)) => (sn, *m),
        (_, other) => panic!("{name}: not a message: {other:?}"),
    }
}

fn system(name: &str) -> SystemEvent {
    match event(name) {
        (_, EventBody::System(e)) => *e,
        (_, other) => panic!("{name}: not a system event: {other:?}"),
    }
}

fn json(text: &str) -> Value {
    serde_json::from_str(text).expect("valid JSON")
}

fn decode_hex(hex: &str) -> Vec<u8> {
    (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).expect("fixture hex"))
        .collect()
}

#[test]
fn the_fixture_directory_resolves_and_every_file_is_covered_here() {
    let covered = [
        "event_added_reaction.json",
        "event_group_kmarkdown.json",
        "event_group_kmarkdown_bot_author.json",
        "event_group_kmarkdown_mention.json",
        "event_group_text.json",
        "event_person_text.json",
        "event_private_added_reaction.json",
        "hello_40101.json",
        "hello_40103.json",
        "hello_ok.json",
        "ping.json",
        "pong.json",
        "reconnect_40108.json",
        "resume.json",
        "resume_ack.json",
        "zlib_frame_hello_ok.hex",
        "zlib_frame_hello_ok.json",
    ];
    let mut found: Vec<String> = std::fs::read_dir(GATEWAY)
        .expect("the fixtures resolve from core/")
        .map(|entry| {
            entry
                .expect("dir entry")
                .file_name()
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    found.sort();
    assert_eq!(found, covered, "a new fixture needs a test here");
}

#[test]
fn hello_fixtures() {
    assert_eq!(
        signal("hello_ok.json"),
        Signal::Hello {
            code: 0,
            session_id: Some("b7e3a1f0-5c2d-4e89-9a6b-0d4c8f2e1a37".to_owned())
        }
    );
    assert_eq!(
        signal("hello_40101.json"),
        Signal::Hello {
            code: 40101,
            session_id: None
        }
    );
    assert_eq!(
        signal("hello_40103.json"),
        Signal::Hello {
            code: 40103,
            session_id: None
        }
    );
    assert_eq!(HelloError::from_code(40101), HelloError::InvalidToken);
    assert_eq!(HelloError::from_code(40103), HelloError::TokenExpired);
}

#[test]
fn ping_pong_resume_reconnect_and_resume_ack_fixtures() {
    assert_eq!(signal("ping.json"), Signal::Ping { sn: 12 });
    assert_eq!(json(&ping_frame(12)), json(&read(GATEWAY, "ping.json")));
    assert_eq!(signal("pong.json"), Signal::Pong);
    assert_eq!(signal("resume.json"), Signal::Resume { sn: 215 });
    assert_eq!(
        json(&resume_frame(215)),
        json(&read(GATEWAY, "resume.json"))
    );
    assert_eq!(
        signal("reconnect_40108.json"),
        Signal::Reconnect {
            code: Some(40108),
            err: Some("sn invalid".to_owned())
        }
    );
    assert_eq!(
        signal("resume_ack.json"),
        Signal::ResumeAck {
            session_id: Some("b7e3a1f0-5c2d-4e89-9a6b-0d4c8f2e1a37".to_owned())
        }
    );
}

#[test]
fn group_text_message() {
    let (sn, m) = message("event_group_text.json");
    assert_eq!(sn, 2199);
    assert_eq!(m.channel_type, ChannelType::Group);
    assert_eq!(m.message_type, MessageType::Text);
    assert_eq!(m.body, Body::Text("退潮几点？".to_owned()));
    assert_eq!(m.target_id, "48818200000000000");
    assert_eq!(m.author_id, "3301700000");
    assert_eq!(m.msg_id, "7a1c3e5f-2b4d-4f60-8a9c-1e3f5a7c9b0d");
    assert_eq!(m.msg_timestamp, Some(1741944300160));
    assert_eq!(m.nonce, "");
    assert_eq!(m.guild_id.as_deref(), Some("6016389914000000"));
    assert_eq!(m.channel_name.as_deref(), Some("潮汐"));
    assert_eq!(m.chat_code, None, "an empty code is no chat code");
    assert_eq!(m.author.id, "3301700000");
    assert_eq!(m.author.username, "shore");
    assert_eq!(m.author.nickname.as_deref(), Some("shore"));
    assert!(!m.author.bot, "an absent bot flag reads as false");
    assert!(m.author.roles.is_empty());
    assert!(m.mentions.users.is_empty() && !m.mentions.all && !m.mentions.here);
    assert!(m.quote.is_none() && m.kmarkdown.is_none() && m.attachments.is_empty());
    assert_eq!(m.chat_id(), "48818200000000000");
}

#[test]
fn group_kmarkdown_message() {
    let (sn, m) = message("event_group_kmarkdown.json");
    assert_eq!(sn, 181);
    assert_eq!(m.message_type, MessageType::KMarkdown);
    assert_eq!(m.body, Body::KMarkdown("**低潮** 14:05".to_owned()));
    assert_eq!(m.author.roles, vec![111, 112]);
    assert_eq!(m.author.username, "tz-un");
    assert_eq!(m.author.nickname.as_deref(), Some("潮汐"));
    assert_eq!(m.author.identify_num.as_deref(), Some("5618"));
    assert_eq!(m.author.display_name(), "潮汐");
    let kmarkdown = m.kmarkdown.expect("kmarkdown info");
    assert_eq!(kmarkdown.raw_content, "低潮 14:05");
    assert!(kmarkdown.mention_part.is_empty());
    assert_eq!(m.guild_id.as_deref(), Some("6016389914000000"));
}

#[test]
fn group_kmarkdown_mention_of_the_bot() {
    let (sn, m) = message("event_group_kmarkdown_mention.json");
    assert_eq!(sn, 182);
    assert_eq!(m.mentions.users, vec!["2862900000"]);
    assert!(m.mentions_user("2862900000"));
    assert!(!m.mentions_user("2418200000"));
    assert_eq!(m.text_without_mention("2862900000"), "明天退潮几点？");
    let kmarkdown = m.kmarkdown.as_ref().expect("kmarkdown info");
    assert_eq!(kmarkdown.raw_content, "@krill 明天退潮几点？");
    assert_eq!(kmarkdown.mention_part.len(), 1);
    assert_eq!(kmarkdown.mention_part[0].id, "2862900000");
    assert_eq!(kmarkdown.mention_part[0].username, "krill");
    assert_eq!(
        kmarkdown.mention_part[0].full_name.as_deref(),
        Some("krill#0001")
    );
    assert!(!m.is_from_bot());
}

#[test]
fn group_kmarkdown_from_a_bot() {
    let (sn, m) = message("event_group_kmarkdown_bot_author.json");
    assert_eq!(sn, 183);
    assert!(m.is_from_bot());
    assert_eq!(m.author.id, "3264360465");
    assert_eq!(m.author_id, "3264360465");
    assert_eq!(m.msg_id, "9c3e51d0-2b7a-4f88-b6e4-0d1a2f3c4b5e");
}

#[test]
fn person_text_message() {
    let (sn, m) = message("event_person_text.json");
    assert_eq!(sn, 40);
    assert_eq!(m.channel_type, ChannelType::Person);
    assert!(m.is_direct());
    assert_eq!(m.target_id, "2862900000");
    assert_eq!(
        m.chat_code.as_deref(),
        Some("5d0e8c1a7b3f4e2d9a6c0b1e8f7d2a43")
    );
    assert_eq!(m.chat_id(), "2418200000", "a DM's chat is the sender");
    assert_eq!(m.guild_id, None);
    assert_eq!(m.channel_name, None);
    assert_eq!(m.content(), "你好 krill，帮我总结一下今天早上的讨论？");
}

#[test]
fn added_reaction_system_event() {
    let e = system("event_added_reaction.json");
    assert_eq!(e.channel_type, ChannelType::Group);
    assert_eq!(e.name, "added_reaction");
    assert_eq!(e.target_id, "48818200000000000");
    assert_eq!(e.author_id, "1");
    assert_eq!(e.msg_timestamp, Some(1741944602612));
    let SystemEventKind::AddedReaction(reaction) = &e.kind else {
        panic!("{:?}", e.kind);
    };
    assert_eq!(reaction.msg_id, "5e2a9c4d-7b1f-4d3e-8a6c-2f0b9d4e1c75");
    assert_eq!(reaction.user_id, "2418200000");
    assert_eq!(reaction.emoji.id, "[#129408;]");
    assert_eq!(reaction.emoji.name, "[#129408;]");
    assert_eq!(reaction.channel_id.as_deref(), Some("48818200000000000"));
    assert_eq!(reaction.chat_code, None);
    assert_eq!(e.body["channel_type"], 1, "the raw body is kept");
}

#[test]
fn private_added_reaction_system_event() {
    let e = system("event_private_added_reaction.json");
    assert_eq!(e.channel_type, ChannelType::Person);
    let SystemEventKind::PrivateAddedReaction(reaction) = &e.kind else {
        panic!("{:?}", e.kind);
    };
    assert_eq!(reaction.user_id, "2418200000");
    assert_eq!(
        reaction.chat_code.as_deref(),
        Some("5d0e8c1a7b3f4e2d9a6c0b1e8f7d2a43")
    );
    assert_eq!(reaction.channel_id, None);
    assert_eq!(reaction.msg_id, "8b4f1d7e-3a6c-4e9b-a2d5-7c0f3e6b9a14");
    assert_eq!(reaction.emoji.id, "[#128077;]");
}

#[test]
fn zlib_hello_frame_inflates_exactly_and_parses() {
    let hex = read(GATEWAY, "zlib_frame_hello_ok.hex");
    let bytes = decode_hex(hex.trim());
    let inflated = inflate_frame(&bytes, DEFAULT_MAX_INFLATED_BYTES).expect("inflates");
    assert_eq!(inflated, read(GATEWAY, "zlib_frame_hello_ok.json"));
    let (signal, size) = parse_binary(&bytes, DEFAULT_MAX_INFLATED_BYTES).expect("parses");
    assert_eq!(size, inflated.len());
    assert_eq!(
        signal,
        Signal::Hello {
            code: 0,
            session_id: Some("b7e3a1f0-5c2d-4e89-9a6b-0d4c8f2e1a37".to_owned())
        }
    );
}

#[test]
fn gateway_index_fixtures() {
    let url = parse_gateway_index(200, read(REST, "gateway_index.json").as_bytes()).expect("url");
    assert_eq!(url.expose(), "wss://ws.kookapp.cn/gateway");
    let url = parse_gateway_index(200, read(REST, "gateway_index_with_query.json").as_bytes())
        .expect("url");
    assert_eq!(
        url.expose(),
        "wss://ws.kookapp.cn:8443/gateway?compress=0&token=fixture-gw-token"
    );
    assert_eq!(format!("{url:?}"), "Secret(<redacted>)");
    // Resume parameters are appended with `&` to a URL that has a query.
    assert_eq!(
        resume_url(&url, 5, "20ae-1fa4").expose(),
        "wss://ws.kookapp.cn:8443/gateway?compress=0&token=fixture-gw-token\
         &resume=1&sn=5&session_id=20ae-1fa4&sessionId=20ae-1fa4"
    );
}

#[test]
fn rate_limited_gateway_fetch_is_transient() {
    for name in ["rate_limit_429.json", "rate_limit_429_global.json"] {
        let fixture = json(&read(REST, name));
        let status = u16::try_from(fixture["status"].as_u64().expect("status")).expect("u16");
        let body = fixture["body"].to_string();
        assert!(matches!(
            parse_gateway_index(status, body.as_bytes()),
            Err(GatewayFetchError::Transient { .. })
        ));
    }
}

#[test]
fn message_types_cover_the_fixture_set() {
    let types: Vec<MessageType> = [
        "event_group_text.json",
        "event_group_kmarkdown.json",
        "event_person_text.json",
    ]
    .iter()
    .map(|name| message(name).1.message_type)
    .collect();
    assert_eq!(
        types,
        vec![
            MessageType::Text,
            MessageType::KMarkdown,
            MessageType::KMarkdown
        ]
    );
}
