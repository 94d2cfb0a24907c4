//! Reactions (the Discord channel doc, "Reaction notifications" and "Reaction
//! trigger"): emoji classification, the trigger window, the bot's message
//! memory, the texts the agent sees, and `AccessPolicy::decide_reaction`.

use std::time::{Duration, Instant};

use krill_core::access::reactions::{
    classify_emoji, classify_for, normalize_emoji_name, notification_line, snowflake_unix_ms,
    trigger_text, within_window, EmojiPattern, Polarity,
};
use krill_core::access::{
    AccessPolicy, Author, BotMessage, BotMessages, ChatKind, DropReason, InboundReaction, Place,
    ReactionDecision, ReactionEmoji, ReactionIgnored, ResolvedAllowlists, Sender,
};
use krill_core::config::{parse, resolve_accounts, Platform, ReactionTrigger};

const BOT: &str = "999";
const GUILD: &str = "111";
const CHANNEL: &str = "202";
const BOT_MSG: &str = "5000";

fn list(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| (*s).to_owned()).collect()
}

fn pattern(entry: &str) -> EmojiPattern {
    EmojiPattern::parse(entry).unwrap_or_else(|| panic!("{entry:?} parses"))
}

#[test]
fn emoji_list_entries_parse_in_every_form() {
    let named = |name: &str| EmojiPattern {
        name: Some(name.to_owned()),
        id: None,
    };
    let custom = |name: &str, id: &str| EmojiPattern {
        name: Some(name.to_owned()),
        id: Some(id.to_owned()),
    };
    assert_eq!(pattern("👍"), named("👍"));
    assert_eq!(pattern(" ✔️ "), named("✔"), "variation selector dropped");
    assert_eq!(pattern("yes:123"), custom("yes", "123"));
    assert_eq!(pattern("<:yes:123>"), custom("yes", "123"));
    assert_eq!(pattern("<a:Party:456>"), custom("party", "456"));
    assert_eq!(pattern(":yes:"), named("yes"));
    assert_eq!(pattern("Yes"), named("yes"));
    assert_eq!(
        pattern("789"),
        EmojiPattern {
            name: None,
            id: Some("789".to_owned())
        }
    );
    assert_eq!(EmojiPattern::parse("   "), None);
}

#[test]
fn names_compare_without_variation_selectors_and_skin_tones() {
    assert_eq!(normalize_emoji_name("👍\u{FE0F}"), "👍");
    assert_eq!(normalize_emoji_name("👍🏽"), "👍");
    assert_eq!(normalize_emoji_name("❤\u{FE0E}"), "❤");
    assert_eq!(normalize_emoji_name("  YES "), "yes");
    // ZWJ sequences keep their joiners: only the selectors go.
    assert_eq!(normalize_emoji_name("🏳️‍🌈"), "🏳\u{200D}🌈");
}

#[test]
fn default_lists_classify_positive_negative_and_neutral() {
    let trigger = ReactionTrigger {
        enabled: true,
        ..ReactionTrigger::default()
    };
    let cases = [
        ("👍", Some(Polarity::Positive)),
        ("✅", Some(Polarity::Positive)),
        ("👌", Some(Polarity::Positive)),
        ("👍\u{FE0F}", Some(Polarity::Positive)),
        ("👍🏿", Some(Polarity::Positive)),
        ("👎", Some(Polarity::Negative)),
        ("❌", Some(Polarity::Negative)),
        ("🤔", None),
        ("🔥", None),
    ];
    for (emoji, want) in cases {
        assert_eq!(
            classify_for(&trigger, &ReactionEmoji::unicode(emoji)),
            want,
            "{emoji}"
        );
    }
    assert_eq!(classify_for(&trigger, &ReactionEmoji::default()), None);
}

#[test]
fn custom_lists_match_custom_emoji_by_id_or_name() {
    let positive = list(&["<:yes:123>", ":shipit:", "✔️"]);
    let negative = list(&["no:456", "789"]);
    let c = |e: ReactionEmoji| classify_emoji(&e, &positive, &negative);
    assert_eq!(
        c(ReactionEmoji::custom("yes", "123")),
        Some(Polarity::Positive)
    );
    // an entry with an id matches that emoji only, whatever its name
    assert_eq!(c(ReactionEmoji::custom("yes", "124")), None);
    assert_eq!(
        c(ReactionEmoji::custom("renamed", "456")),
        Some(Polarity::Negative)
    );
    assert_eq!(
        c(ReactionEmoji::custom("anything", "789")),
        Some(Polarity::Negative)
    );
    // an entry without an id matches by name (any id)
    assert_eq!(
        c(ReactionEmoji::custom("ShipIt", "1")),
        Some(Polarity::Positive)
    );
    assert_eq!(c(ReactionEmoji::unicode("✔")), Some(Polarity::Positive));
    // the custom lists replace the built-in ones
    assert_eq!(c(ReactionEmoji::unicode("👍")), None);
    // an emoji in both lists is neutral
    let both = list(&["👍"]);
    assert_eq!(
        classify_emoji(&ReactionEmoji::unicode("👍"), &both, &both),
        None
    );
}

#[test]
fn the_window_includes_its_bound() {
    assert!(within_window(Duration::ZERO, 60));
    assert!(within_window(Duration::from_secs(60), 60));
    assert!(!within_window(Duration::from_millis(60_001), 60));
    assert!(!within_window(Duration::from_secs(2), 1));
}

#[test]
fn snowflakes_carry_their_unix_time() {
    // fixtures/discord/gateway/message_reaction_add.json's message id
    assert_eq!(
        snowflake_unix_ms("1350038253788594176"),
        Some(1_741_944_602_201)
    );
    assert_eq!(snowflake_unix_ms("0"), Some(1_420_070_400_000));
    assert_eq!(snowflake_unix_ms("not-an-id"), None);
}

#[test]
fn bot_messages_remember_the_newest_and_their_first_time() {
    let t0 = Instant::now();
    let mut m = BotMessages::new(2);
    assert!(m.is_empty());
    m.record("1", "c", t0);
    m.record("1", "c", t0 + Duration::from_secs(5));
    assert_eq!(m.sent("1"), Some(("c", t0)), "first time kept");
    m.record("2", "c", t0);
    m.record("3", "d", t0);
    assert_eq!(m.len(), 2);
    assert_eq!(m.sent("1"), None, "oldest forgotten");
    assert_eq!(m.sent("3"), Some(("d", t0)));
    m.record("", "c", t0);
    assert_eq!(m.len(), 2, "no empty ids");
}

#[test]
fn lookup_uses_memory_then_message_author_and_snowflake_time() {
    let t0 = Instant::now();
    let mut m = BotMessages::default();
    m.record("42", "c", t0);
    let now = t0 + Duration::from_secs(30);
    assert_eq!(
        m.lookup("42", "c", None, BOT, now, 0),
        BotMessage {
            on_bot_message: true,
            age: Some(Duration::from_secs(30))
        }
    );
    // another channel: not that message
    assert_eq!(
        m.lookup("42", "x", None, BOT, now, 0),
        BotMessage::default()
    );
    // not remembered, but Discord says the bot wrote it: age from the id
    let id = "1350038253788594176";
    let sent_ms = 1_741_944_602_201;
    assert_eq!(
        m.lookup(id, "c", Some(BOT), BOT, now, sent_ms + 7_000),
        BotMessage {
            on_bot_message: true,
            age: Some(Duration::from_secs(7))
        }
    );
    // a clock behind the id's time counts as just sent
    assert_eq!(
        m.lookup(id, "c", Some(BOT), BOT, now, sent_ms - 1_000).age,
        Some(Duration::ZERO)
    );
    // someone else's message
    assert_eq!(
        m.lookup(id, "c", Some("123"), BOT, now, sent_ms),
        BotMessage::default()
    );
    assert_eq!(m.lookup("7", "c", None, "", now, 0), BotMessage::default());
}

#[test]
fn texts_the_agent_sees() {
    let alice = Sender {
        id: "111".to_owned(),
        name: "alice".to_owned(),
    };
    assert_eq!(
        trigger_text(
            &alice,
            &ReactionEmoji::unicode("👍"),
            Polarity::Positive,
            "5000"
        ),
        "[reaction] alice reacted 👍 (positive) to your message 5000"
    );
    let mut party = ReactionEmoji::custom("party", "77");
    assert_eq!(party.label(), "<:party:77>");
    party.animated = true;
    assert_eq!(
        trigger_text(&alice, &party, Polarity::Negative, "5000"),
        "[reaction] alice reacted <a:party:77> (negative) to your message 5000"
    );
    let fire = ReactionEmoji::unicode("🔥");
    assert_eq!(
        notification_line(&alice, &fire, "5000", true, Some(BOT)),
        "[system] alice (111) reacted 🔥 to your message 5000"
    );
    assert_eq!(
        notification_line(&alice, &fire, "6000", false, Some("222")),
        "[system] alice (111) reacted 🔥 to message 6000 (author 222)"
    );
    assert_eq!(
        notification_line(&alice, &fire, "6000", false, None),
        "[system] alice (111) reacted 🔥 to message 6000"
    );
    let sneaky = Sender {
        id: "1".to_owned(),
        name: "a\nb".to_owned(),
    };
    assert_eq!(
        notification_line(&sneaky, &ReactionEmoji::default(), "2", false, None),
        "[system] a b (1) reacted ? to message 2"
    );
}

// ---- decide_reaction ----

fn policy(text: &str) -> AccessPolicy {
    let (config, _) = parse(text).unwrap_or_else(|e| panic!("{e}"));
    let env = |k: &str| (k == "DISCORD_BOT_TOKEN").then(|| "t".to_owned());
    let accounts = resolve_accounts(&config, &env);
    let account = accounts
        .iter()
        .find(|a| a.platform == Platform::Discord)
        .expect("discord account");
    AccessPolicy::new(&config, account, ResolvedAllowlists::default())
}

fn reactor(id: &str, name: &str) -> Author {
    Author {
        id: id.to_owned(),
        username: name.to_owned(),
        ..Author::default()
    }
}

/// A 👍 by alice on the bot's message, 10 s after it was posted.
fn reaction() -> InboundReaction {
    InboundReaction {
        platform: Platform::Discord,
        account_id: "default".to_owned(),
        chat: ChatKind::Channel,
        guild: Some(Place::named(GUILD, "My Server")),
        channel: Place::named(CHANNEL, "general"),
        parent: None,
        reactor: reactor("7", "alice"),
        message_id: BOT_MSG.to_owned(),
        message_author_id: Some(BOT.to_owned()),
        emoji: ReactionEmoji::unicode("👍"),
        bot_message: BotMessage {
            on_bot_message: true,
            age: Some(Duration::from_secs(10)),
        },
        bot_user_id: BOT.to_owned(),
    }
}

fn on_other_message(mut r: InboundReaction) -> InboundReaction {
    r.message_id = "6000".to_owned();
    r.message_author_id = Some("8".to_owned());
    r.bot_message = BotMessage::default();
    r
}

fn summary(d: &ReactionDecision) -> String {
    match d {
        ReactionDecision::Trigger(t) => format!(
            "trigger {} {} | {}",
            t.allowed.route.session_key.as_str(),
            t.polarity,
            t.allowed.text
        ),
        ReactionDecision::Notify(e) => format!("notify {} | {}", e.session_key, e.text),
        ReactionDecision::Ignore(why) => format!("ignore: {why}"),
        _ => "other".to_owned(),
    }
}

const TRIGGER: &str = "{channels: {discord: {guilds: {'111': {
    requireMention: true,
    reactionTrigger: {enabled: true, windowSeconds: 60},
}}}}}";

#[test]
fn a_positive_reaction_in_the_window_triggers_a_turn_and_no_notification() {
    let p = policy(TRIGGER);
    let d = p.decide_reaction(&reaction(), &[]);
    let ReactionDecision::Trigger(t) = &d else {
        panic!("expected a trigger, got {}", summary(&d));
    };
    assert_eq!(t.polarity, Polarity::Positive);
    assert_eq!(t.message_id, BOT_MSG);
    assert_eq!(
        t.allowed.route.session_key.as_str(),
        "agent:main:discord:channel:202"
    );
    assert_eq!(t.allowed.route.reply_to.chat_id, CHANNEL);
    assert!(!t.allowed.route.reply_to.direct);
    assert_eq!(t.allowed.sender.id, "7");
    assert_eq!(t.allowed.sender.name, "alice");
    assert_eq!(
        t.allowed.text,
        "[reaction] alice reacted 👍 (positive) to your message 5000"
    );
    let mut no = reaction();
    no.emoji = ReactionEmoji::unicode("❌");
    assert_eq!(
        summary(&p.decide_reaction(&no, &[])),
        "trigger agent:main:discord:channel:202 negative | [reaction] alice reacted ❌ (negative) to your message 5000"
    );
}

#[test]
fn what_does_not_trigger_falls_back_to_notifications() {
    let p = policy(TRIGGER);
    let notify_own = "notify agent:main:discord:channel:202 | [system] alice (7) reacted";
    // neutral emoji
    let mut r = reaction();
    r.emoji = ReactionEmoji::unicode("🤔");
    assert_eq!(
        summary(&p.decide_reaction(&r, &[])),
        format!("{notify_own} 🤔 to your message 5000")
    );
    // outside the window
    let mut r = reaction();
    r.bot_message.age = Some(Duration::from_secs(61));
    assert_eq!(
        summary(&p.decide_reaction(&r, &[])),
        format!("{notify_own} 👍 to your message 5000")
    );
    // age unknown
    let mut r = reaction();
    r.bot_message.age = None;
    assert!(summary(&p.decide_reaction(&r, &[])).starts_with("notify"));
    // someone else's message: no trigger, and `own` does not cover it
    assert_eq!(
        summary(&p.decide_reaction(&on_other_message(reaction()), &[])),
        "ignore: not covered by reactionNotifications"
    );
    // trigger not enabled: the default `own` notification
    let plain =
        policy("{channels: {discord: {guilds: {'111': {reactionTrigger: {enabled: false}}}}}}");
    assert_eq!(
        summary(&plain.decide_reaction(&reaction(), &[])),
        format!("{notify_own} 👍 to your message 5000")
    );
}

#[test]
fn notification_modes() {
    let mode = |m: &str| {
        policy(&format!(
            "{{channels: {{discord: {{guilds: {{'111': {{reactionNotifications: '{m}', users: ['7', 'carol']}}}}}}}}}}"
        ))
    };
    let own = reaction();
    let other = on_other_message(reaction());
    let kind = |p: &AccessPolicy, r: &InboundReaction| {
        summary(&p.decide_reaction(r, &[]))
            .split_whitespace()
            .next()
            .unwrap_or_default()
            .to_owned()
    };
    assert_eq!(kind(&mode("off"), &own), "ignore:");
    assert_eq!(kind(&mode("own"), &own), "notify");
    assert_eq!(kind(&mode("own"), &other), "ignore:");
    assert_eq!(kind(&mode("all"), &other), "notify");
    assert_eq!(kind(&mode("allowlist"), &other), "notify");
    assert_eq!(
        summary(&mode("all").decide_reaction(&other, &[])),
        "notify agent:main:discord:channel:202 | [system] alice (7) reacted 👍 to message 6000 (author 8)"
    );
}

#[test]
fn reactors_follow_the_message_access_rules() {
    // users allowlist: someone else's reaction is ignored, even a trigger
    let listed = policy(
        "{channels: {discord: {guilds: {'111': {users: ['8'], reactionNotifications: 'all',
            reactionTrigger: {enabled: true}}}}}}",
    );
    assert_eq!(
        summary(&listed.decide_reaction(&reaction(), &[])),
        format!(
            "ignore: reactor not allowed: {}",
            DropReason::UserNotAllowed
        )
    );
    // channel not listed
    let channels = policy(
        "{channels: {discord: {guilds: {'111': {channels: {'999999': {allow: true}},
            reactionTrigger: {enabled: true}}}}}}",
    );
    assert!(matches!(
        channels.decide_reaction(&reaction(), &[]),
        ReactionDecision::Ignore(ReactionIgnored::NotAllowed(DropReason::ChannelNotListed))
    ));
    // groupPolicy allowlist without the guild
    let closed = policy("{channels: {discord: {groupPolicy: 'allowlist', guilds: {'5': {}}}}}");
    assert!(matches!(
        closed.decide_reaction(&reaction(), &[]),
        ReactionDecision::Ignore(ReactionIgnored::NotAllowed(DropReason::GuildNotAllowed))
    ));
    // other bots (allowBots off) and the bot itself
    let p = policy(TRIGGER);
    let mut bot = reaction();
    bot.reactor.is_bot = true;
    assert!(matches!(
        p.decide_reaction(&bot, &[]),
        ReactionDecision::Ignore(ReactionIgnored::NotAllowed(DropReason::BotAuthor))
    ));
    let mut own = reaction();
    own.reactor = reactor(BOT, "krill");
    assert!(matches!(
        p.decide_reaction(&own, &[]),
        ReactionDecision::Ignore(ReactionIgnored::OwnReaction)
    ));
    // no mention needed: requireMention is true in TRIGGER and it triggered
    assert!(matches!(
        p.decide_reaction(&reaction(), &[]),
        ReactionDecision::Trigger(_)
    ));
}

#[test]
fn threads_use_their_own_session_and_the_parent_rule() {
    let p = policy(
        "{channels: {discord: {guilds: {'111': {channels: {general: {allow: true}},
            reactionTrigger: {enabled: true}}}}}}",
    );
    let mut r = reaction();
    r.chat = ChatKind::Thread;
    r.channel = Place::named("303", "a thread");
    r.parent = Some(Place::named(CHANNEL, "general"));
    let d = p.decide_reaction(&r, &[]);
    assert!(
        summary(&d).starts_with("trigger agent:main:discord:channel:303 positive"),
        "{}",
        summary(&d)
    );
}

#[test]
fn dm_reactions_notify_the_dm_session_and_never_trigger() {
    let dm = |r: &mut InboundReaction| {
        r.chat = ChatKind::Direct;
        r.guild = None;
        r.channel = Place {
            id: "500".to_owned(),
            name: None,
        };
    };
    let open = policy(
        "{session: {dmScope: 'per-channel-peer'}, channels: {discord: {dm: {policy: 'open', allowFrom: ['*']},
            guilds: {'*': {reactionTrigger: {enabled: true}}}}}}",
    );
    let mut r = reaction();
    dm(&mut r);
    assert_eq!(
        summary(&open.decide_reaction(&r, &[])),
        "notify agent:main:discord:dm:7 | [system] alice (7) reacted 👍 to your message 5000"
    );
    // pairing (the default): strangers are ignored, approved ones notify
    let pairing = policy("{channels: {discord: {}}}");
    assert!(matches!(
        pairing.decide_reaction(&r, &[]),
        ReactionDecision::Ignore(ReactionIgnored::PairingRequired)
    ));
    assert_eq!(
        summary(&pairing.decide_reaction(&r, &["7".to_owned()])),
        "notify agent:main:main | [system] alice (7) reacted 👍 to your message 5000"
    );
    // an unknown reactor name shows the id
    r.reactor.username.clear();
    assert_eq!(
        summary(&open.decide_reaction(&r, &[])),
        "notify agent:main:discord:dm:7 | [system] 7 (7) reacted 👍 to your message 5000"
    );
}
