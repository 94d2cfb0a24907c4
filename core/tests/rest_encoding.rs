//! Request encoding: every Discord and KOOK request as method, URL, headers
//! (token redacted) and JSON body (insta snapshots); the fixtures' request
//! bodies reproduced exactly; `allowed_mentions` and reaction emoji tables.

#[path = "rest_support/mod.rs"]
mod support;

use krill_core::reply::{MentionPolicy, MentionScope};
use krill_core::rest::discord::{
    self, allowed_mentions, allowed_mentions_for, reaction_emoji, CreateMessage,
};
use krill_core::rest::kook::{self, DirectMessageCreate, DmTarget, MessageCreate};
use krill_core::rest::{Api, HttpRequest, Platform, SubmitError};
use krill_core::secret::Secret;
use serde::Serialize;
use serde_json::json;
use support::*;

#[derive(Serialize)]
struct View {
    method: String,
    url: String,
    authorization: String,
    headers: Vec<(String, String)>,
    body: Option<serde_json::Value>,
}

fn view(http: &HttpRequest) -> View {
    let auth = http
        .authorization
        .as_ref()
        .expect("every request is authorised");
    assert_eq!(auth.expose(), format!("Bot {TOKEN}"));
    assert!(
        !format!("{http:?}").contains(TOKEN),
        "Debug leaks the token"
    );
    View {
        method: http.method.to_string(),
        url: http.url.clone(),
        authorization: auth.expose().replace(TOKEN, "<token>"),
        headers: http
            .headers
            .iter()
            .map(|(k, v)| (k.clone(), v.replace(env!("CARGO_PKG_VERSION"), "<version>")))
            .collect(),
        body: http
            .body
            .as_deref()
            .map(|b| serde_json::from_slice(b).expect("bodies are JSON")),
    }
}

fn d(req: discord::Request) -> HttpRequest {
    req.encode(&discord_api()).expect("encodes")
}

fn k(req: kook::Request) -> HttpRequest {
    req.encode(&kook_api()).expect("encodes")
}

fn create(
    channel: &str,
    content: &str,
    reply_to: Option<&str>,
    nonce: Option<&str>,
) -> discord::Request {
    discord::Request::CreateMessage(CreateMessage {
        channel_id: channel.into(),
        content: content.into(),
        reply_to: reply_to.map(Into::into),
        nonce: nonce.map(Into::into),
        // The fixtures show every mentioned user and role listed.
        mentions: MentionPolicy::new(MentionScope::UsersAndRoles, []),
    })
}

#[test]
fn discord_requests_snapshot() {
    let cases: Vec<(&str, discord::Request)> = vec![
        ("discord_gateway_bot", discord::Request::GatewayBot),
        ("discord_current_user", discord::Request::CurrentUser),
        (
            "discord_create_message",
            create(
                "849255967228035073",
                "Hello, World!",
                None,
                Some("1350038580101120000"),
            ),
        ),
        (
            "discord_create_message_reply_mentions",
            create(
                "849255967228035073",
                "<@80351110224678912> and <@&702> asked; @everyone stays quiet",
                Some("1350038548300038144"),
                Some("42"),
            ),
        ),
        (
            "discord_open_dm",
            discord::Request::OpenDm {
                recipient_id: "80351110224678912".into(),
            },
        ),
        (
            "discord_trigger_typing",
            discord::Request::TriggerTyping {
                channel_id: "849255967228035073".into(),
            },
        ),
        (
            "discord_create_reaction_unicode",
            discord::Request::CreateReaction {
                channel_id: "849255967228035073".into(),
                message_id: "1350040850545115136".into(),
                emoji: "👍".into(),
            },
        ),
        (
            "discord_create_reaction_custom",
            discord::Request::CreateReaction {
                channel_id: "849255967228035073".into(),
                message_id: "1350040850545115136".into(),
                emoji: "<:krill:41771983429993937>".into(),
            },
        ),
        (
            "discord_delete_own_reaction_animated",
            discord::Request::DeleteOwnReaction {
                channel_id: "849255967228035073".into(),
                message_id: "1350040850545115136".into(),
                emoji: "<a:wave:41771983429993938>".into(),
            },
        ),
    ];
    for (name, req) in cases {
        insta::assert_yaml_snapshot!(name, view(&d(req)));
    }
}

#[test]
fn kook_requests_snapshot() {
    let cases: Vec<(&str, kook::Request)> = vec![
        (
            "kook_gateway_index",
            kook::Request::GatewayIndex { compress: false },
        ),
        (
            "kook_gateway_index_compressed",
            kook::Request::GatewayIndex { compress: true },
        ),
        ("kook_user_me", kook::Request::UserMe),
        (
            "kook_message_create",
            kook::Request::MessageCreate(MessageCreate {
                target_id: "48818200000000000".into(),
                content: "Hello **world**".into(),
                quote: None,
                nonce: None,
            }),
        ),
        (
            "kook_direct_message_create_user",
            kook::Request::DirectMessageCreate(DirectMessageCreate {
                target: DmTarget::User("2418200000".into()),
                content: "Hello".into(),
                quote: Some("6a0e2d4c".into()),
                nonce: Some("n-1".into()),
            }),
        ),
        (
            "kook_direct_message_create_chat_code",
            kook::Request::DirectMessageCreate(DirectMessageCreate {
                target: DmTarget::ChatCode("3b4aa448b8e8b9c87a1b3770792e7433".into()),
                content: "Hello".into(),
                quote: None,
                nonce: None,
            }),
        ),
        (
            "kook_add_reaction",
            kook::Request::AddReaction {
                direct: false,
                msg_id: "50974c-364c983fa6cb".into(),
                emoji: "👍".into(),
            },
        ),
        (
            "kook_add_reaction_direct",
            kook::Request::AddReaction {
                direct: true,
                msg_id: "50974c-364c983fa6cb".into(),
                emoji: "👍".into(),
            },
        ),
        (
            "kook_delete_reaction",
            kook::Request::DeleteReaction {
                direct: false,
                msg_id: "50974c-364c983fa6cb".into(),
                emoji: "👍".into(),
                user_id: Some("2418200000".into()),
            },
        ),
        (
            "kook_delete_reaction_direct",
            kook::Request::DeleteReaction {
                direct: true,
                msg_id: "50974c-364c983fa6cb".into(),
                emoji: "👍".into(),
                user_id: None,
            },
        ),
    ];
    for (name, req) in cases {
        insta::assert_yaml_snapshot!(name, view(&k(req)));
    }
}

#[test]
fn discord_reply_body_matches_the_fixture() {
    let http = d(create(
        "849255967228035073",
        "Tomorrow low tide is at 14:52.",
        Some("1350038548300038144"),
        Some("1350038580101120000"),
    ));
    assert_eq!(
        body_json(&http),
        fixture_json("discord/rest/create_message_reply_request.json")
    );
}

#[test]
fn kook_bodies_match_the_fixtures() {
    let cases = [
        (
            "kook/rest/message_create_request.json",
            kook::Request::MessageCreate(MessageCreate {
                target_id: "48818200000000000".into(),
                content: "低潮 14:05".into(),
                quote: None,
                nonce: Some("krill-0001".into()),
            }),
        ),
        (
            "kook/rest/message_create_request_quote.json",
            kook::Request::MessageCreate(MessageCreate {
                target_id: "48818200000000000".into(),
                content: "明天低潮 14:52。".into(),
                quote: Some("1f4a7c2e-8d3b-4e6f-a1c9-5b2d0e7f3a84".into()),
                nonce: Some("krill-7f3a84".into()),
            }),
        ),
        (
            "kook/rest/direct_message_create_request.json",
            kook::Request::DirectMessageCreate(DirectMessageCreate {
                target: DmTarget::User("2418200000".into()),
                content: "今天早上的讨论：潮汐表要更新。".into(),
                quote: None,
                nonce: Some("krill-0002".into()),
            }),
        ),
        (
            "kook/rest/direct_message_create_request_chat_code.json",
            kook::Request::DirectMessageCreate(DirectMessageCreate {
                target: DmTarget::ChatCode("5d0e8c1a7b3f4e2d9a6c0b1e8f7d2a43".into()),
                content: "今天早上的讨论：潮汐表要更新。".into(),
                quote: Some("6a0e2d4c-3f1b-4c8a-9e7d-2b5f8a1c0d36".into()),
                nonce: None,
            }),
        ),
    ];
    for (fixture, req) in cases {
        assert_eq!(body_json(&k(req)), fixture_json(fixture), "{fixture}");
    }
}

#[test]
fn allowed_mentions_table() {
    let many: String = (1..=150).map(|i| format!("<@{i}> ")).collect();
    let cases: Vec<(&str, bool, serde_json::Value)> = vec![
        ("hello", false, json!({"parse": []})),
        ("hello", true, json!({"parse": [], "replied_user": true})),
        ("@everyone @here look", false, json!({"parse": []})),
        (
            "@everyone <@&1>",
            true,
            json!({"parse": [], "roles": ["1"], "replied_user": true}),
        ),
        (
            "<@80351110224678912> and <@!53908099506183680>",
            false,
            json!({"parse": [], "users": ["80351110224678912", "53908099506183680"]}),
        ),
        (
            "<@&702><@&703>",
            false,
            json!({"parse": [], "roles": ["702", "703"]}),
        ),
        (
            "<@1> <@!1> <@1>",
            false,
            json!({"parse": [], "users": ["1"]}),
        ),
        (
            "<@abc> <@> <@12 <@&> <@!&5> <#123> <@1a>",
            false,
            json!({"parse": []}),
        ),
        ("<@<@5>>", false, json!({"parse": [], "users": ["5"]})),
        ("<@123456789012345678901>", false, json!({"parse": []})),
        (
            "`<@5>` in code",
            false,
            json!({"parse": [], "users": ["5"]}),
        ),
    ];
    for (content, replying, want) in cases {
        let got = serde_json::to_value(allowed_mentions(content, replying)).unwrap();
        assert_eq!(got, want, "{content:?} replying={replying}");
    }
    let capped = allowed_mentions(&many, false);
    assert_eq!(capped.users.len(), discord::MAX_ALLOWED_MENTION_IDS);
    assert_eq!(capped.users[0], "1");
    assert_eq!(capped.users[99], "100");
    assert!(capped.parse.is_empty());
}

#[test]
fn reaction_emoji_table() {
    let ok = [
        ("👍", "👍"),
        (" 👍 ", "👍"),
        ("<:krill:41771983429993937>", "krill:41771983429993937"),
        ("<a:wave:41771983429993938>", "wave:41771983429993938"),
        ("krill:41771983429993937", "krill:41771983429993937"),
        ("👨‍👩‍👧", "👨‍👩‍👧"),
    ];
    for (input, want) in ok {
        assert_eq!(reaction_emoji(input).as_deref(), Ok(want), "{input:?}");
    }
    for bad in [
        "",
        "  ",
        "<:krill:>",
        "<krill>",
        "<:a:b:1>",
        "krill:12x",
        ":1",
        "<:krill:1",
    ] {
        assert!(
            matches!(reaction_emoji(bad), Err(SubmitError::Invalid(_))),
            "{bad:?} accepted"
        );
    }
    // Percent-encoded in the path, `:` included.
    let http = d(discord::Request::CreateReaction {
        channel_id: "1".into(),
        message_id: "2".into(),
        emoji: "<:krill:3>".into(),
    });
    assert!(
        http.url
            .ends_with("/channels/1/messages/2/reactions/krill%3A3/@me"),
        "{}",
        http.url
    );
    let http = d(discord::Request::CreateReaction {
        channel_id: "1".into(),
        message_id: "2".into(),
        emoji: "👍".into(),
    });
    assert!(
        http.url.ends_with("/reactions/%F0%9F%91%8D/@me"),
        "{}",
        http.url
    );
}

#[test]
fn base_urls_and_path_segments() {
    assert_eq!(
        Api::with_default_base(Platform::Discord, Secret::new("t")).base_url(),
        "https://discord.com/api/v10"
    );
    assert_eq!(
        Api::with_default_base(Platform::Kook, Secret::new("t")).base_url(),
        "https://www.kookapp.cn/api/v3"
    );
    let api = Api::new(
        Platform::Discord,
        "http://127.0.0.1:4321/api/v10//",
        Secret::new("t"),
    );
    let http = discord::Request::GatewayBot.encode(&api).unwrap();
    assert_eq!(http.url, "http://127.0.0.1:4321/api/v10/gateway/bot");
    // Ids cannot walk the path.
    let http = d(discord::Request::TriggerTyping {
        channel_id: "../../users/@me".into(),
    });
    assert!(
        http.url
            .ends_with("/channels/..%2F..%2Fusers%2F%40me/typing"),
        "{}",
        http.url
    );
}

#[test]
fn invalid_requests_are_refused() {
    let api = discord_api();
    let long = "1".repeat(discord::MAX_NONCE_LEN + 1);
    let ok = "1".repeat(discord::MAX_NONCE_LEN);
    assert!(matches!(
        create("1", "x", None, Some(&long)).encode(&api),
        Err(SubmitError::Invalid(_))
    ));
    assert!(create("1", "x", None, Some(&ok)).encode(&api).is_ok());
    assert!(matches!(
        create("1", "x", None, Some("")).encode(&api),
        Err(SubmitError::Invalid(_))
    ));
    assert!(matches!(
        create(" ", "x", None, None).encode(&api),
        Err(SubmitError::Invalid(_))
    ));
    assert!(matches!(
        kook::Request::AddReaction {
            direct: false,
            msg_id: "m".into(),
            emoji: "".into()
        }
        .encode(&kook_api()),
        Err(SubmitError::Invalid(_))
    ));
    assert!(matches!(
        kook::Request::DirectMessageCreate(DirectMessageCreate {
            target: DmTarget::ChatCode("".into()),
            content: "x".into(),
            quote: None,
            nonce: None,
        })
        .encode(&kook_api()),
        Err(SubmitError::Invalid(_))
    ));
}

/// Issue 16: by default a reply pings only the turn's participants: the 85
/// users and the role the agent's text lists do not ping; `allowedMentions`
/// widens it.
#[test]
fn a_reply_pings_only_the_turns_participants_by_default() {
    let crowd: String = (1000..1085).map(|i| format!("<@{i}> ")).collect();
    let text = format!("{crowd} <@&77> @everyone <@42> <@!43>");
    let turn = MentionPolicy::new(MentionScope::Participants, ["42", "43", "44"]);
    let got = serde_json::to_value(allowed_mentions_for(&text, true, &turn)).unwrap();
    assert_eq!(
        got,
        json!({"parse": [], "users": ["42", "43"], "replied_user": true})
    );
    let users = MentionPolicy::new(MentionScope::Users, []);
    let got = allowed_mentions_for(&text, false, &users);
    assert_eq!((got.users.len(), got.roles.len()), (87, 0));
    assert!(got.parse.is_empty());
    let all = MentionPolicy::new(MentionScope::All, []);
    let got = allowed_mentions_for(&text, false, &all);
    assert_eq!(
        (got.parse, got.roles),
        (vec!["everyone".to_owned()], vec!["77".to_owned()])
    );
    // The request body carries it.
    let body = discord::Request::CreateMessage(CreateMessage {
        channel_id: "1".into(),
        content: text.clone(),
        mentions: turn,
        ..Default::default()
    });
    let v = body_json(&d(body));
    assert_eq!(
        v["allowed_mentions"],
        json!({"parse": [], "users": ["42", "43"]})
    );
}

#[test]
fn member_search_puts_the_percent_encoded_query_and_limit_in_the_url() {
    let http = d(discord::Request::SearchGuildMembers {
        guild_id: "849255963033731072".into(),
        query: "al ice&x=1".into(),
        limit: 10,
    });
    assert!(
        http.url
            .ends_with("/guilds/849255963033731072/members/search?query=al%20ice%26x%3D1&limit=10"),
        "{}",
        http.url
    );
    assert!(http.body.is_none());
    let api = discord_api();
    for (query, limit) in [("", 10), ("alice", 0), ("alice", 1001)] {
        let bad = discord::Request::SearchGuildMembers {
            guild_id: "1".into(),
            query: query.into(),
            limit,
        };
        assert!(
            matches!(bad.encode(&api), Err(SubmitError::Invalid(_))),
            "{query:?} {limit}"
        );
    }
}
