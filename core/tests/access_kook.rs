//! KOOK access rules (the KOOK channel doc): `allowedUserId` is the gate for DMs
//! and channels; without it anyone may talk (with a start-up warning);
//! channel messages need no mention unless `requireMention` is set.

use krill_core::access::{
    AccessPolicy, Author, ChatKind, Decision, InboundMessage, Place, ResolvedAllowlists,
};
use krill_core::config::{parse, resolve_accounts, Platform};

fn policy(text: &str) -> AccessPolicy {
    let (config, _) = parse(text).unwrap();
    let env = |k: &str| (k == "KOOK_BOT_TOKEN").then(|| "t".to_owned());
    let accounts = resolve_accounts(&config, &env);
    let account = accounts
        .iter()
        .find(|a| a.platform == Platform::Kook)
        .expect("kook");
    AccessPolicy::new(&config, account, ResolvedAllowlists::default())
}

fn msg(chat: ChatKind, from: &str, text: &str) -> InboundMessage {
    InboundMessage {
        platform: Platform::Kook,
        account_id: "default".to_owned(),
        chat,
        guild: (chat != ChatKind::Direct).then(|| Place::named("g1", "Guild")),
        channel: if chat == ChatKind::Direct {
            Place {
                id: from.to_owned(),
                name: None,
            }
        } else {
            Place::named("c1", "lobby")
        },
        parent: None,
        author: Author {
            id: from.to_owned(),
            username: format!("u{from}"),
            ..Author::default()
        },
        text: text.to_owned(),
        mentions: vec![],
        reply_to_bot: false,
        bot_user_id: "900".to_owned(),
        native_command: false,
    }
}

fn outcome(d: &Decision) -> String {
    match d {
        Decision::Allow(_) => "allow".to_owned(),
        Decision::Drop(x) => format!("drop:{:?}", x.reason),
        _ => "other".to_owned(),
    }
}

#[test]
fn allowed_user_id_gates_dms_and_channels() {
    let cases = [
        (
            "no allowedUserId: DM",
            "{}",
            msg(ChatKind::Direct, "1", "hi"),
            "allow",
        ),
        (
            "no allowedUserId: channel, no mention",
            "{}",
            msg(ChatKind::Channel, "1", "hi"),
            "allow",
        ),
        (
            "allowed id DM",
            "{channels: {kook: {allowedUserId: '1'}}}",
            msg(ChatKind::Direct, "1", "hi"),
            "allow",
        ),
        (
            "other id DM",
            "{channels: {kook: {allowedUserId: '1'}}}",
            msg(ChatKind::Direct, "2", "hi"),
            "drop:KookUserNotAllowed",
        ),
        (
            "other id channel",
            "{channels: {kook: {allowedUserId: ['1', '3']}}}",
            msg(ChatKind::Channel, "2", "hi"),
            "drop:KookUserNotAllowed",
        ),
        (
            "list",
            "{channels: {kook: {allowedUserId: ['1', '3']}}}",
            msg(ChatKind::Channel, "3", "hi"),
            "allow",
        ),
        (
            "own message",
            "{}",
            msg(ChatKind::Channel, "900", "hi"),
            "drop:OwnMessage",
        ),
        (
            "bots",
            "{}",
            InboundMessage {
                author: Author {
                    id: "5".into(),
                    is_bot: true,
                    ..Author::default()
                },
                ..msg(ChatKind::Channel, "5", "hi")
            },
            "drop:BotAuthor",
        ),
        (
            "requireMention extension",
            "{channels: {kook: {requireMention: true}}}",
            msg(ChatKind::Channel, "1", "hi"),
            "drop:MentionRequired",
        ),
        (
            "requireMention met",
            "{channels: {kook: {requireMention: true}}}",
            msg(ChatKind::Channel, "1", "(met)900(met) hi"),
            "allow",
        ),
        (
            "requireMention not for DMs",
            "{channels: {kook: {requireMention: true}}}",
            msg(ChatKind::Direct, "1", "hi"),
            "allow",
        ),
    ];
    for (name, cfg, m, want) in cases {
        assert_eq!(outcome(&policy(cfg).decide(&m, &[])), want, "case: {name}");
    }
}

#[test]
fn unknown_kook_senders_are_reported_with_their_id() {
    let d = policy("{channels: {kook: {allowedUserId: '1'}}}")
        .decide(&msg(ChatKind::Direct, "42", "hi"), &[]);
    assert_eq!(d.unknown_sender().map(|s| s.id.as_str()), Some("42"));
}

#[test]
fn the_bots_kook_mention_is_removed_and_routes_are_per_channel() {
    let p = policy("{}");
    let Decision::Allow(a) = p.decide(
        &msg(ChatKind::Channel, "1", " (met)900(met) hello (met)5(met) "),
        &[],
    ) else {
        panic!()
    };
    assert_eq!(a.text, "hello (met)5(met)");
    assert_eq!(a.route.session_key.as_str(), "agent:main:kook:channel:c1");
    assert_eq!(a.route.reply_to.chat_id, "c1");
    let Decision::Allow(a) = p.decide(&msg(ChatKind::Direct, "1", " (met)900(met) hi "), &[])
    else {
        panic!()
    };
    assert_eq!(a.text, " (met)900(met) hi ", "DM text as sent");
    assert_eq!(a.route.session_key.as_str(), "agent:main:main");
    assert_eq!(
        a.route.reply_to.chat_id, "1",
        "KOOK DM chat id is the sender"
    );
    assert!(a.route.reply_to.direct);
}

#[test]
fn missing_allowed_user_id_warns_at_start_up() {
    let w = policy("{}").startup_warnings();
    assert_eq!(w.len(), 1);
    assert!(w[0].contains("anyone"), "{}", w[0]);
    assert!(policy("{channels: {kook: {allowedUserId: '1'}}}")
        .startup_warnings()
        .is_empty());
}

#[test]
fn without_allowed_user_id_every_sender_but_the_bot_is_named_at_info() {
    use krill_core::access::SenderNotice;
    let open = policy("{ channels: { kook: { token: 't' } } }");
    for chat in [ChatKind::Direct, ChatKind::Channel] {
        let m = msg(chat, "42", "hello");
        let d = open.decide(&m, &[]);
        assert_eq!(
            open.sender_notice(&m, &d),
            Some(SenderNotice::AllowlistUnset),
            "{chat:?}"
        );
    }
    let own = msg(ChatKind::Channel, "900", "the bot itself");
    assert_eq!(open.sender_notice(&own, &open.decide(&own, &[])), None);

    let gated = policy("{ channels: { kook: { token: 't', allowedUserId: '42' } } }");
    let owner = msg(ChatKind::Direct, "42", "me");
    assert_eq!(
        gated.sender_notice(&owner, &gated.decide(&owner, &[])),
        None
    );
    let stranger = msg(ChatKind::Direct, "7", "let me in");
    assert_eq!(
        gated.sender_notice(&stranger, &gated.decide(&stranger, &[])),
        Some(SenderNotice::NotAllowedYet)
    );
}
