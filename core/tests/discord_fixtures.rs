//! Every fixture in `tests/fixtures/discord/` parses into the right types,
//! with its fields checked; the zlib-stream fixtures inflate in order on one
//! context.

use krill_core::discord::{
    Dispatch, GatewayBot, GatewayFrame, InflateError, OutgoingFrame, ZlibStream, DEFAULT_INTENTS,
};
use std::time::Duration;

const DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/discord/");

fn fixture(name: &str) -> String {
    let path = format!("{DIR}{name}");
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("reading {path}: {e}"))
}

fn frame(name: &str) -> GatewayFrame {
    GatewayFrame::parse(&fixture(&format!("gateway/{name}")))
        .unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn hex(name: &str) -> Vec<u8> {
    let text: String = fixture(&format!("gateway/{name}"))
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect();
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).expect("fixture hex"))
        .collect()
}

fn dispatch(name: &str) -> (Option<u64>, Dispatch) {
    match frame(name) {
        GatewayFrame::Dispatch { seq, event } => (seq, event),
        other => panic!("{name}: not a dispatch: {other:?}"),
    }
}

#[test]
fn hello_carries_the_heartbeat_interval() {
    assert_eq!(
        frame("hello.json"),
        GatewayFrame::Hello {
            heartbeat_interval: Duration::from_millis(41250)
        }
    );
}

#[test]
fn heartbeats_carry_a_sequence_or_null() {
    assert_eq!(
        frame("heartbeat.json"),
        GatewayFrame::Heartbeat { seq: Some(42) }
    );
    assert_eq!(
        frame("heartbeat_null.json"),
        GatewayFrame::Heartbeat { seq: None }
    );
}

#[test]
fn heartbeat_ack_parses_with_and_without_null_fields() {
    assert_eq!(frame("heartbeat_ack.json"), GatewayFrame::HeartbeatAck);
    assert_eq!(
        frame("heartbeat_ack_with_nulls.json"),
        GatewayFrame::HeartbeatAck
    );
}

#[test]
fn identify_fixtures_parse_with_token_shard_presence_and_intents() {
    let GatewayFrame::Identify(full) = frame("identify.json") else {
        panic!("identify.json is not an Identify");
    };
    assert_eq!(full.token.expose(), "krill.fixture.token");
    assert_eq!(full.intents, 37377);
    assert_eq!(full.shard, Some([1, 4]));
    assert_eq!(full.large_threshold, Some(100));
    assert_eq!(full.compress, Some(false));
    assert_eq!(full.properties.browser, "krill");
    let presence = full.presence.as_ref().expect("presence");
    assert_eq!(presence.status, "idle");
    assert_eq!(presence.since, Some(1741944000000));
    assert_eq!(presence.activities[0].name, "the tide pools");
    assert_eq!(presence.activities[0].kind, 3);
    // Re-serialised, the Debug form hides the token, the wire form keeps it.
    let out = OutgoingFrame::identify(&full);
    assert!(out.as_str().contains("\"token\":\"krill.fixture.token\""));
    assert!(!format!("{out:?}").contains("krill.fixture.token"));
    assert!(format!("{out:?}").contains("<redacted>"));

    let GatewayFrame::Identify(min) = frame("identify_minimal.json") else {
        panic!("identify_minimal.json is not an Identify");
    };
    assert_eq!(min.intents, 513);
    assert_eq!(min.shard, None);
    assert_eq!(min.properties.os, "linux");
    assert_ne!(min.intents, DEFAULT_INTENTS);
}

#[test]
fn resume_fixture_parses() {
    let GatewayFrame::Resume(resume) = frame("resume.json") else {
        panic!("resume.json is not a Resume");
    };
    assert_eq!(resume.token.expose(), "krill.fixture.token");
    assert_eq!(resume.session_id, "9d1c0f7e5b3a48e2a6c4d8f0b2e4a6c8");
    assert_eq!(resume.seq, 57);
    let out = OutgoingFrame::resume(&resume);
    assert!(!format!("{out:?}").contains("krill.fixture.token"));
    assert!(format!("{out:?}").contains("\"token\":\"<redacted>\""));
    assert!(format!("{out:?}").contains("9d1c0f7e5b3a48e2a6c4d8f0b2e4a6c8"));
    assert!(!format!("{out}").contains("krill.fixture.token"));
    assert!(out
        .into_string()
        .contains("\"token\":\"krill.fixture.token\""));
}

#[test]
fn reconnect_and_invalid_session_fixtures_parse() {
    assert_eq!(frame("reconnect.json"), GatewayFrame::Reconnect);
    assert_eq!(
        frame("invalid_session_false.json"),
        GatewayFrame::InvalidSession { resumable: false }
    );
    assert_eq!(
        frame("invalid_session_true.json"),
        GatewayFrame::InvalidSession { resumable: true }
    );
}

#[test]
fn ready_fixture_gives_session_resume_url_and_bot_user() {
    let (seq, Dispatch::Ready(ready)) = dispatch("ready.json") else {
        panic!("ready.json is not READY");
    };
    assert_eq!(seq, Some(1));
    assert_eq!(ready.v, 10);
    assert_eq!(ready.session_id, "3f6c0a9e8d2b4c17a5e9f1b3d7c2a640");
    assert_eq!(
        ready.resume_gateway_url.as_deref(),
        Some("wss://gateway-us-east1-d.discord.gg")
    );
    assert_eq!(ready.user.id, "1297484454297731072");
    assert_eq!(ready.user.username, "krill");
    assert!(ready.user.bot);
    assert_eq!(ready.shard, Some([0, 1]));
    let ids: Vec<&str> = ready.guilds.iter().map(|g| g.id.as_str()).collect();
    assert_eq!(ids, ["849255963033731072", "942699184128131072"]);
    assert!(ready.guilds.iter().all(|g| g.unavailable));
}

#[test]
fn resumed_fixture_parses() {
    assert_eq!(dispatch("resumed.json"), (Some(58), Dispatch::Resumed));
}

#[test]
fn guild_message_has_guild_member_and_author_not_bot() {
    let (seq, Dispatch::MessageCreate(m)) = dispatch("message_create_guild.json") else {
        panic!("not MESSAGE_CREATE");
    };
    assert_eq!(seq, Some(2));
    assert_eq!(m.id, "1350037462692528128");
    assert_eq!(m.channel_id, "849255967228035073");
    assert_eq!(m.guild_id.as_deref(), Some("849255963033731072"));
    assert!(!m.is_dm());
    assert_eq!(m.channel_type, Some(0));
    assert_eq!(m.author.id, "80351110224678912");
    assert_eq!(m.author.username, "nelly");
    assert_eq!(m.author.global_name.as_deref(), Some("Nelly"));
    assert_eq!(m.author.discriminator.as_deref(), Some("0"));
    assert!(!m.author.bot, "absent `bot` reads as false");
    assert_eq!(m.webhook_id, None);
    assert_eq!(m.content, "krill, which tide is best for rock pooling?");
    assert!(m.mentions.is_empty());
    assert!(!m.mention_everyone);
    let member = m.member.as_ref().expect("member");
    assert_eq!(member.nick, None);
    assert_eq!(member.roles, ["849588151910531072"]);
    assert!(member.user.is_none());
    assert_eq!(m.timestamp, "2025-03-14T09:26:53.589000+00:00");
    assert_eq!(m.kind, 0);
    assert!(m.message_reference.is_none() && m.referenced_message.is_none());
}

#[test]
fn dm_message_has_no_guild_and_channel_type_1() {
    let (_, Dispatch::MessageCreate(m)) = dispatch("message_create_dm.json") else {
        panic!("not MESSAGE_CREATE");
    };
    assert!(m.is_dm());
    assert_eq!(m.guild_id, None);
    assert!(m.member.is_none());
    assert_eq!(m.channel_type, Some(1));
    assert_eq!(m.channel_id, "1302291126681731072");
    assert_eq!(m.content, "could you sum up the thread from this morning?");
}

#[test]
fn mention_message_lists_mentioned_users_roles_and_nicks() {
    let (_, Dispatch::MessageCreate(m)) = dispatch("message_create_mention.json") else {
        panic!("not MESSAGE_CREATE");
    };
    assert!(m.content.starts_with("<@1297484454297731072>"));
    let ids: Vec<&str> = m.mentions.iter().map(|u| u.id.as_str()).collect();
    assert_eq!(ids, ["1297484454297731072", "53908099506183680"]);
    assert!(m.mentions[0].bot);
    assert!(!m.mentions[1].bot);
    assert_eq!(
        m.mentions[1]
            .member
            .as_ref()
            .and_then(|mm| mm.nick.as_deref()),
        Some("mason (mod)")
    );
    assert_eq!(m.mention_roles, ["849588172882051072"]);
}

#[test]
fn reply_message_carries_reference_and_referenced_message() {
    let (_, Dispatch::MessageCreate(m)) = dispatch("message_create_reply.json") else {
        panic!("not MESSAGE_CREATE");
    };
    assert_eq!(m.kind, 19);
    let reference = m.message_reference.as_ref().expect("reference");
    assert_eq!(reference.message_id.as_deref(), Some("1350038253788594176"));
    assert_eq!(reference.kind, 0);
    let replied = m.referenced_message.as_ref().expect("referenced message");
    assert_eq!(replied.id, "1350038253788594176");
    assert_eq!(replied.author.id, "1297484454297731072");
    assert!(replied.author.bot);
    assert!(replied.content.starts_with("Low tide today"));
}

#[test]
fn referenced_message_null_means_deleted() {
    let text = fixture("gateway/message_create_reply.json");
    let mut json: serde_json::Value = serde_json::from_str(&text).unwrap();
    json["d"]["referenced_message"] = serde_json::Value::Null;
    let GatewayFrame::Dispatch {
        event: Dispatch::MessageCreate(m),
        ..
    } = GatewayFrame::parse(&json.to_string()).unwrap()
    else {
        panic!("not MESSAGE_CREATE");
    };
    assert!(m.message_reference.is_some());
    assert!(m.referenced_message.is_none());
}

#[test]
fn bot_author_message_is_marked_bot() {
    let (_, Dispatch::MessageCreate(m)) = dispatch("message_create_bot_author.json") else {
        panic!("not MESSAGE_CREATE");
    };
    assert!(m.author.bot);
    assert_eq!(m.author.username, "tidebot");
    assert_eq!(m.author.global_name, None);
}

#[test]
fn reaction_add_in_a_guild_has_member_and_unicode_emoji() {
    let (seq, Dispatch::MessageReactionAdd(r)) = dispatch("message_reaction_add.json") else {
        panic!("not MESSAGE_REACTION_ADD");
    };
    assert_eq!(seq, Some(7));
    assert_eq!(r.user_id, "80351110224678912");
    assert_eq!(r.channel_id, "849255967228035073");
    assert_eq!(r.message_id, "1350038253788594176");
    assert_eq!(r.guild_id.as_deref(), Some("849255963033731072"));
    assert_eq!(r.emoji.id, None);
    assert_eq!(r.emoji.name.as_deref(), Some("🦀"));
    assert!(!r.emoji.animated);
    assert_eq!(r.message_author_id.as_deref(), Some("1297484454297731072"));
    let member = r.member.as_ref().expect("member");
    assert_eq!(
        member.user.as_ref().map(|u| u.username.as_str()),
        Some("nelly")
    );
    assert!(!r.burst);
}

#[test]
fn reaction_add_in_a_dm_has_custom_animated_emoji() {
    let (_, Dispatch::MessageReactionAdd(r)) =
        dispatch("message_reaction_add_dm_custom_emoji.json")
    else {
        panic!("not MESSAGE_REACTION_ADD");
    };
    assert_eq!(r.guild_id, None);
    assert!(r.member.is_none());
    assert_eq!(r.emoji.id.as_deref(), Some("1311020304050607080"));
    assert_eq!(r.emoji.name.as_deref(), Some("krillwave"));
    assert!(r.emoji.animated);
}

#[test]
fn gateway_bot_fixture_parses() {
    let bot: GatewayBot = serde_json::from_str(&fixture("rest/gateway_bot.json")).unwrap();
    assert_eq!(bot.url, "wss://gateway.discord.gg");
    assert_eq!(bot.shards, 2);
    let limit = bot.session_start_limit.expect("limit");
    assert_eq!(
        (
            limit.total,
            limit.remaining,
            limit.reset_after,
            limit.max_concurrency
        ),
        (1000, 987, 51_840_000, 1)
    );
}

#[test]
fn create_message_response_parses_as_a_message() {
    let m: krill_core::discord::Message =
        serde_json::from_str(&fixture("rest/create_message_response.json")).unwrap();
    assert_eq!(m.id, "1350040850545115136");
    assert_eq!(m.content, "Low tide at 14:05.");
    assert!(m.author.bot);
}

#[test]
fn zlib_stream_hello_inflates_to_the_exact_json() {
    let mut z = ZlibStream::new();
    let text = z
        .push(&hex("zlib_stream_hello.hex"))
        .unwrap()
        .expect("a message");
    assert_eq!(text, fixture("gateway/zlib_stream_hello.json"));
    assert_eq!(
        GatewayFrame::parse(&text).unwrap(),
        GatewayFrame::Hello {
            heartbeat_interval: Duration::from_millis(41250)
        }
    );
}

#[test]
fn zlib_stream_hello_split_in_halves_yields_nothing_after_the_first_half() {
    let bytes = hex("zlib_stream_hello.hex");
    let (first, second) = bytes.split_at(bytes.len() / 2);
    let mut z = ZlibStream::new();
    assert_eq!(z.push(first).unwrap(), None);
    assert_eq!(z.buffered(), first.len());
    let text = z
        .push(second)
        .unwrap()
        .expect("complete after the second half");
    assert_eq!(text, fixture("gateway/zlib_stream_hello.json"));
    assert_eq!(z.buffered(), 0);
}

#[test]
fn zlib_stream_sequence_inflates_in_order_on_one_context() {
    let mut z = ZlibStream::new();
    let names = [
        "zlib_stream_seq_1_hello",
        "zlib_stream_seq_2_ready",
        "zlib_stream_seq_3_guild_create",
    ];
    let mut frames = Vec::new();
    for name in names {
        let text = z
            .push(&hex(&format!("{name}.hex")))
            .unwrap()
            .expect("a message");
        assert_eq!(text, fixture(&format!("gateway/{name}.json")), "{name}");
        frames.push(GatewayFrame::parse(&text).unwrap());
    }
    assert!(matches!(frames[0], GatewayFrame::Hello { .. }));
    let GatewayFrame::Dispatch {
        seq: Some(1),
        event: Dispatch::Ready(ready),
    } = &frames[1]
    else {
        panic!("frame 2 is not READY: {:?}", frames[1]);
    };
    assert_eq!(ready.session_id, "c0ffee4b1d2e3f405162738495a6b7c8");
    assert_eq!(ready.user.id, "1311000000000000001");
    let GatewayFrame::Dispatch {
        seq: Some(2),
        event: Dispatch::GuildCreate(guild),
    } = &frames[2]
    else {
        panic!("frame 3 is not GUILD_CREATE");
    };
    assert_eq!(guild.id, "1311000000000000100");
    assert_eq!(guild.name, "Tide Pool Test");
    let general = guild
        .channels
        .iter()
        .find(|c| c.name.as_deref() == Some("general"))
        .expect("#general");
    assert_eq!(general.id, "1311000000000010001");
    assert_eq!(general.kind, 0);
    assert_eq!(general.parent_id.as_deref(), Some("1311000000000010000"));
    assert!(guild.threads.is_empty());
    let first = guild.members[0].user.as_ref().expect("member user");
    assert_eq!(first.id, "1311000000000000050");
    assert_eq!(first.username, "wren");
    assert!(guild
        .members
        .iter()
        .any(|m| m.user.as_ref().is_some_and(|u| u.bot)));
}

#[test]
fn zlib_stream_continuation_fails_on_a_fresh_context() {
    let mut z = ZlibStream::new();
    let err = z.push(&hex("zlib_stream_seq_2_ready.hex")).unwrap_err();
    assert!(matches!(err, InflateError::Corrupt { .. }), "{err:?}");
}

#[test]
fn zlib_stream_buffer_is_bounded() {
    let mut z = ZlibStream::with_limit(64);
    assert_eq!(z.push(&[1; 60]).unwrap(), None);
    assert_eq!(
        z.push(&[1; 10]).unwrap_err(),
        InflateError::TooLarge { limit: 64 }
    );
    assert_eq!(z.buffered(), 0);
}

#[test]
fn zlib_stream_inflated_message_is_bounded() {
    // The GUILD_CREATE frame inflates to ~5.7 kB; allow less than that.
    let mut z = ZlibStream::with_limit(5000);
    z.push(&hex("zlib_stream_seq_1_hello.hex")).unwrap();
    z.push(&hex("zlib_stream_seq_2_ready.hex")).unwrap();
    assert_eq!(
        z.push(&hex("zlib_stream_seq_3_guild_create.hex"))
            .unwrap_err(),
        InflateError::TooLarge { limit: 5000 }
    );
}
