//! Discord access rules, table-driven: each case is a config, a message and
//! the expected decision (the Discord channel doc).

use krill_core::access::{
    AccessPolicy, Author, ChatKind, Decision, DropReason, InboundMessage, Place, ResolvedAllowlists,
};
use krill_core::config::{parse, resolve_accounts, Platform};

const BOT: &str = "999";
const GUILD: &str = "111";
const HELP: &str = "201";
const GENERAL: &str = "202";

fn policy_with(text: &str, names: ResolvedAllowlists) -> AccessPolicy {
    let (config, _) = parse(text).unwrap_or_else(|e| panic!("{e}"));
    let env = |k: &str| (k == "DISCORD_BOT_TOKEN").then(|| "t".to_owned());
    let accounts = resolve_accounts(&config, &env);
    let account = accounts
        .iter()
        .find(|a| a.platform == Platform::Discord)
        .expect("discord account");
    AccessPolicy::new(&config, account, names)
}

fn policy(text: &str) -> AccessPolicy {
    policy_with(text, ResolvedAllowlists::default())
}

fn author(id: &str, username: &str) -> Author {
    Author {
        id: id.to_owned(),
        username: username.to_owned(),
        global_name: Some(format!("{username} display")),
        tag: None,
        is_bot: false,
        is_webhook: false,
    }
}

fn dm(from: &str) -> InboundMessage {
    InboundMessage {
        platform: Platform::Discord,
        account_id: "default".to_owned(),
        chat: ChatKind::Direct,
        guild: None,
        channel: Place {
            id: "500".to_owned(),
            name: None,
        },
        parent: None,
        author: author(from, &format!("user{from}")),
        text: "  hello <@999>  ".to_owned(),
        mentions: vec![],
        reply_to_bot: false,
        bot_user_id: BOT.to_owned(),
        native_command: false,
    }
}

fn in_channel(channel_id: &str, channel_name: &str, from: &str, text: &str) -> InboundMessage {
    InboundMessage {
        chat: ChatKind::Channel,
        guild: Some(Place::named(GUILD, "My Server")),
        channel: Place::named(channel_id, channel_name),
        text: text.to_owned(),
        ..dm(from)
    }
}

fn outcome(d: &Decision) -> String {
    match d {
        Decision::Allow(_) => "allow".to_owned(),
        Decision::Drop(x) => format!("drop:{:?}", x.reason),
        Decision::PairingChallenge(_) => "challenge".to_owned(),
        _ => "other".to_owned(),
    }
}

fn check(cases: Vec<(&str, &str, InboundMessage, Vec<String>, &str)>) {
    for (name, config, msg, paired, want) in cases {
        let got = outcome(&policy(config).decide(&msg, &paired));
        assert_eq!(got, want, "case: {name}");
    }
}

#[test]
fn direct_messages() {
    let none = Vec::new;
    let paired = || vec!["7".to_owned()];
    check(vec![
        (
            "pairing is the default: unknown sender gets a challenge",
            "{channels: {discord: {}}}",
            dm("7"),
            none(),
            "challenge",
        ),
        (
            "approved pairing lets the sender in",
            "{channels: {discord: {}}}",
            dm("7"),
            paired(),
            "allow",
        ),
        (
            "allowFrom id",
            "{channels: {discord: {dm: {allowFrom: ['7']}}}}",
            dm("7"),
            none(),
            "allow",
        ),
        (
            "allowFrom username",
            "{channels: {discord: {dm: {allowFrom: ['user7']}}}}",
            dm("7"),
            none(),
            "allow",
        ),
        (
            "allowFrom mention",
            "{channels: {discord: {dm: {allowFrom: ['<@!7>']}}}}",
            dm("7"),
            none(),
            "allow",
        ),
        (
            "allowFrom prefix",
            "{channels: {discord: {dm: {allowFrom: ['discord:user:7']}}}}",
            dm("7"),
            none(),
            "allow",
        ),
        (
            "display names do not count",
            "{channels: {discord: {dm: {policy: 'allowlist', allowFrom: ['user7 display']}}}}",
            dm("7"),
            none(),
            "drop:DmSenderNotAllowed",
        ),
        (
            "allowlist drops strangers",
            "{channels: {discord: {dm: {policy: 'allowlist', allowFrom: ['8']}}}}",
            dm("7"),
            none(),
            "drop:DmSenderNotAllowed",
        ),
        (
            "allowlist honours approved pairings",
            "{channels: {discord: {dm: {policy: 'allowlist', allowFrom: ['8']}}}}",
            dm("7"),
            paired(),
            "allow",
        ),
        (
            "open allows anyone",
            "{channels: {discord: {dm: {policy: 'open', allowFrom: ['*']}}}}",
            dm("7"),
            none(),
            "allow",
        ),
        (
            "policy disabled",
            "{channels: {discord: {dm: {policy: 'disabled', allowFrom: ['7']}}}}",
            dm("7"),
            none(),
            "drop:DmPolicyDisabled",
        ),
        (
            "dm.enabled false",
            "{channels: {discord: {dm: {enabled: false, policy: 'open', allowFrom: ['*']}}}}",
            dm("7"),
            none(),
            "drop:DmDisabled",
        ),
        (
            "star in allowFrom under pairing",
            "{channels: {discord: {dm: {allowFrom: ['*']}}}}",
            dm("7"),
            none(),
            "allow",
        ),
        (
            "own message",
            "{channels: {discord: {dm: {policy: 'open', allowFrom: ['*']}}}}",
            dm(BOT),
            none(),
            "drop:OwnMessage",
        ),
    ]);
}

#[test]
fn bots_and_webhooks() {
    let bot = || InboundMessage {
        author: Author {
            is_bot: true,
            ..author("8", "otherbot")
        },
        ..dm("8")
    };
    let hook = || InboundMessage {
        author: Author {
            is_webhook: true,
            ..author("8", "hook")
        },
        ..dm("8")
    };
    let open = "{channels: {discord: {dm: {policy: 'open', allowFrom: ['*']}}}}";
    let open_bots =
        "{channels: {discord: {allowBots: true, dm: {policy: 'open', allowFrom: ['*']}}}}";
    check(vec![
        (
            "bots ignored by default",
            open,
            bot(),
            vec![],
            "drop:BotAuthor",
        ),
        ("webhooks are bots", open, hook(), vec![], "drop:BotAuthor"),
        ("allowBots lets bots in", open_bots, bot(), vec![], "allow"),
        (
            "own messages even with allowBots",
            open_bots,
            InboundMessage {
                author: Author {
                    is_bot: true,
                    ..author(BOT, "me")
                },
                ..dm(BOT)
            },
            vec![],
            "drop:OwnMessage",
        ),
    ]);
}

#[test]
fn group_dms() {
    let group = |id: &str, name: &str| InboundMessage {
        chat: ChatKind::GroupDirect,
        channel: Place::named(id, name),
        ..dm("7")
    };
    check(vec![
        (
            "ignored by default",
            "{channels: {discord: {}}}",
            group("600", "friends"),
            vec![],
            "drop:GroupDmDisabled",
        ),
        (
            "groupEnabled, no list: any group DM",
            "{channels: {discord: {dm: {groupEnabled: true}}}}",
            group("600", "friends"),
            vec![],
            "allow",
        ),
        (
            "groupChannels by id with prefix",
            "{channels: {discord: {dm: {groupEnabled: true, groupChannels: ['channel:600']}}}}",
            group("600", "x"),
            vec![],
            "allow",
        ),
        (
            "groupChannels by slug",
            "{channels: {discord: {dm: {groupEnabled: true, groupChannels: ['clawd-dm']}}}}",
            group("600", "Clawd DM"),
            vec![],
            "allow",
        ),
        (
            "unlisted group DM",
            "{channels: {discord: {dm: {groupEnabled: true, groupChannels: ['clawd-dm']}}}}",
            group("601", "other"),
            vec![],
            "drop:GroupDmChannelNotAllowed",
        ),
        (
            "dm.enabled false covers group DMs",
            "{channels: {discord: {dm: {enabled: false, groupEnabled: true}}}}",
            group("600", "x"),
            vec![],
            "drop:DmDisabled",
        ),
    ]);
}

#[test]
fn guild_channels() {
    let m = |ch: &str, name: &str, from: &str| in_channel(ch, name, from, "<@999> hi");
    let no_mention = |ch: &str, name: &str| in_channel(ch, name, "7", "hi there");
    check(vec![
        ("section present: allowlist, unlisted guild dropped", "{channels: {discord: {}}}", m(HELP, "help", "7"), vec![], "drop:GuildNotAllowed"),
        ("groupPolicy open: any guild", "{channels: {discord: {groupPolicy: 'open'}}}", m(HELP, "help", "7"), vec![], "allow"),
        ("groupPolicy disabled", "{channels: {discord: {groupPolicy: 'disabled', guilds: {'111': {}}}}}", m(HELP, "help", "7"), vec![], "drop:GroupPolicyDisabled"),
        ("guild by id, no channels list: all channels", "{channels: {discord: {guilds: {'111': {}}}}}", m(GENERAL, "general", "7"), vec![], "allow"),
        ("guild by slug", "{channels: {discord: {guilds: {'my-server': {}}}}}", m(HELP, "help", "7"), vec![], "allow"),
        ("guild wildcard", "{channels: {discord: {guilds: {'*': {}}}}}", m(HELP, "help", "7"), vec![], "allow"),
        ("mention required by default", "{channels: {discord: {guilds: {'111': {}}}}}", no_mention(HELP, "help"), vec![], "drop:MentionRequired"),
        ("requireMention false on the guild", "{channels: {discord: {guilds: {'111': {requireMention: false}}}}}", no_mention(HELP, "help"), vec![], "allow"),
        ("channel overrides guild requireMention", "{channels: {discord: {guilds: {'111': {requireMention: false, channels: {help: {requireMention: true}}}}}}}", no_mention(HELP, "help"), vec![], "drop:MentionRequired"),
        ("listed channels deny the rest", "{channels: {discord: {guilds: {'111': {channels: {help: {allow: true}}}}}}}", m(GENERAL, "general", "7"), vec![], "drop:ChannelNotListed"),
        ("channel by slug (name with #)", "{channels: {discord: {guilds: {'111': {channels: {help: {allow: true}}}}}}}", m(HELP, "#Help", "7"), vec![], "allow"),
        ("channel by id", "{channels: {discord: {guilds: {'111': {channels: {'202': {allow: true}}}}}}}", m(GENERAL, "general", "7"), vec![], "allow"),
        ("channel wildcard", "{channels: {discord: {guilds: {'111': {channels: {'*': {allow: true}}}}}}}", m(GENERAL, "general", "7"), vec![], "allow"),
        ("explicit entry overrides wildcard deny", "{channels: {discord: {guilds: {'111': {channels: {'*': {allow: false}, help: {}}}}}}}", m(HELP, "help", "7"), vec![], "allow"),
        ("wildcard deny for the rest", "{channels: {discord: {guilds: {'111': {channels: {'*': {allow: false}, help: {}}}}}}}", m(GENERAL, "general", "7"), vec![], "drop:ChannelNotAllowed"),
        ("enabled false", "{channels: {discord: {guilds: {'111': {channels: {help: {enabled: false}}}}}}}", m(HELP, "help", "7"), vec![], "drop:ChannelDisabled"),
        ("allow false under open policy", "{channels: {discord: {groupPolicy: 'open', guilds: {'*': {channels: {help: {allow: false}, '*': {}}}}}}}", m(HELP, "help", "7"), vec![], "drop:ChannelNotAllowed"),
        ("guild users allowlist", "{channels: {discord: {guilds: {'111': {users: ['8']}}}}}", m(HELP, "help", "7"), vec![], "drop:UserNotAllowed"),
        ("guild users by name", "{channels: {discord: {guilds: {'111': {users: ['User7']}}}}}", m(HELP, "help", "7"), vec![], "allow"),
        ("channel users override guild users", "{channels: {discord: {guilds: {'111': {users: ['8'], channels: {help: {users: ['7']}}}}}}}", m(HELP, "help", "7"), vec![], "allow"),
        ("channel users deny", "{channels: {discord: {guilds: {'111': {channels: {help: {users: ['8']}}}}}}}", m(HELP, "help", "7"), vec![], "drop:UserNotAllowed"),
        ("explicit guild beats wildcard guild", "{channels: {discord: {guilds: {'*': {users: ['8']}, '111': {}}}}}", m(HELP, "help", "7"), vec![], "allow"),
        ("empty users list means anyone", "{channels: {discord: {guilds: {'111': {users: []}}}}}", m(HELP, "help", "7"), vec![], "allow"),
        ("pairing approvals do not open guilds", "{channels: {discord: {guilds: {'111': {users: ['8']}}}}}", m(HELP, "help", "7"), vec!["7".to_owned()], "drop:UserNotAllowed"),
    ]);
}

#[test]
fn threads_inherit_their_parent_unless_listed() {
    let thread = |id: &str, name: &str, parent: (&str, &str)| InboundMessage {
        chat: ChatKind::Thread,
        parent: Some(Place::named(parent.0, parent.1)),
        ..in_channel(id, name, "7", "no mention")
    };
    let cfg = "{channels: {discord: {guilds: {'111': {channels: {help: {requireMention: false}, '301': {requireMention: true}}}}}}}";
    check(vec![
        (
            "thread under help inherits requireMention false",
            cfg,
            thread("300", "question", (HELP, "help")),
            vec![],
            "allow",
        ),
        (
            "listed thread uses its own rule",
            cfg,
            thread("301", "question", (HELP, "help")),
            vec![],
            "drop:MentionRequired",
        ),
        (
            "thread under an unlisted channel",
            cfg,
            thread("302", "question", (GENERAL, "general")),
            vec![],
            "drop:ChannelNotListed",
        ),
    ]);
}

#[test]
fn mentions() {
    let cfg = "{channels: {discord: {guilds: {'111': {}}}}, messages: {groupChat: {mentionPatterns: ['\\\\bkrill\\\\b']}}}";
    let agent_cfg = "{channels: {discord: {guilds: {'111': {}}}}, messages: {groupChat: {mentionPatterns: ['krill']}}, agents: {list: [{id: 'a', groupChat: {mentionPatterns: ['^robot']}}]}}";
    let msg = |text: &str| in_channel(HELP, "help", "7", text);
    check(vec![
        ("<@id>", cfg, msg("<@999> hi"), vec![], "allow"),
        ("<@!id>", cfg, msg("hi <@!999>"), vec![], "allow"),
        (
            "someone else's mention",
            cfg,
            msg("<@123> hi"),
            vec![],
            "drop:MentionRequired",
        ),
        (
            "mentions list",
            cfg,
            InboundMessage {
                mentions: vec![BOT.to_owned()],
                ..msg("hi")
            },
            vec![],
            "allow",
        ),
        (
            "reply to the bot",
            cfg,
            InboundMessage {
                reply_to_bot: true,
                ..msg("yes")
            },
            vec![],
            "allow",
        ),
        (
            "pattern, case-insensitive",
            cfg,
            msg("hey KRILL, help"),
            vec![],
            "allow",
        ),
        (
            "pattern word boundary",
            cfg,
            msg("krillian"),
            vec![],
            "drop:MentionRequired",
        ),
        (
            "agent patterns replace the global ones",
            agent_cfg,
            msg("krill?"),
            vec![],
            "drop:MentionRequired",
        ),
        (
            "agent pattern",
            agent_cfg,
            msg("Robot, go"),
            vec![],
            "allow",
        ),
    ]);
}

#[test]
fn the_agent_gets_the_text_without_the_bots_mention() {
    let p = policy(
        "{channels: {discord: {groupPolicy: 'open', dm: {policy: 'open', allowFrom: ['*']}}}}",
    );
    let Decision::Allow(a) = p.decide(
        &in_channel(HELP, "help", "7", "  <@999> what is <@!999> up? <@123> "),
        &[],
    ) else {
        panic!("allowed")
    };
    assert_eq!(a.text, "what is  up? <@123>");
    assert!(a.mentioned);
    let Decision::Allow(a) = p.decide(&dm("7"), &[]) else {
        panic!("allowed")
    };
    assert_eq!(a.text, "  hello <@999>  ", "DM text passed as sent");
}

#[test]
fn routes_and_session_keys() {
    let p = policy("{channels: {discord: {groupPolicy: 'open', dm: {policy: 'open', allowFrom: ['*']}}}, agents: {list: [{id: 'x'}, {id: 'helper', default: true}]}}");
    let Decision::Allow(a) = p.decide(&dm("7"), &[]) else {
        panic!()
    };
    assert_eq!(a.route.session_key.as_str(), "agent:helper:main");
    assert_eq!(a.route.agent_id, "helper");
    assert_eq!(a.route.reply_to.chat_id, "500");
    assert!(a.route.reply_to.direct);
    let Decision::Allow(a) = p.decide(&in_channel(HELP, "help", "7", "<@999>"), &[]) else {
        panic!()
    };
    assert_eq!(
        a.route.session_key.as_str(),
        "agent:helper:discord:channel:201"
    );
    assert_eq!(a.route.reply_to.chat_id, HELP);
    assert!(!a.route.reply_to.direct);
    let slash = InboundMessage {
        native_command: true,
        text: "/status".to_owned(),
        ..in_channel(HELP, "help", "7", "")
    };
    let Decision::Allow(a) = p.decide(&slash, &[]) else {
        panic!()
    };
    assert_eq!(a.route.session_key.as_str(), "agent:helper:discord:slash:7");
}

#[test]
fn native_commands_follow_the_allowlists_without_mentions() {
    let cmd = |m: InboundMessage| InboundMessage {
        native_command: true,
        ..m
    };
    let guild = "{channels: {discord: {guilds: {'111': {users: ['8']}}}}}";
    check(vec![
        ("no mention needed", "{channels: {discord: {guilds: {'111': {}}}}}", cmd(in_channel(HELP, "help", "7", "/x")), vec![], "allow"),
        ("users allowlist still applies", guild, cmd(in_channel(HELP, "help", "7", "/x")), vec![], "drop:NotAuthorized"),
        ("pairing DM: not authorized instead of a code", "{channels: {discord: {}}}", cmd(dm("7")), vec![], "drop:NotAuthorized"),
        ("useAccessGroups false bypasses", "{commands: {useAccessGroups: false}, channels: {discord: {guilds: {'111': {users: ['8']}}}}}", cmd(in_channel(HELP, "help", "7", "/x")), vec![], "allow"),
    ]);
}

#[test]
fn unknown_senders_carry_their_id_for_the_log() {
    let p = policy(
        "{channels: {discord: {dm: {policy: 'allowlist', allowFrom: ['8']}, guilds: {'111': {}}}}}",
    );
    let d = p.decide(&dm("7"), &[]);
    assert_eq!(d.unknown_sender().map(|s| s.id.as_str()), Some("7"));
    let d = p.decide(&in_channel(HELP, "help", "7", "no mention"), &[]);
    assert!(
        d.unknown_sender().is_none(),
        "a missing mention is not an unknown sender"
    );
    let Decision::Drop(x) = d else { panic!() };
    assert_eq!(x.reason, DropReason::MentionRequired);
    let c = policy("{channels: {discord: {}}}").decide(&dm("7"), &[]);
    assert_eq!(c.unknown_sender().map(|s| s.id.as_str()), Some("7"));
}

#[test]
fn resolved_names_match_by_id() {
    let mut names = ResolvedAllowlists::default();
    names.users.insert("alice".to_owned(), "7".to_owned());
    names
        .channels
        .insert((GUILD.to_owned(), "support".to_owned()), HELP.to_owned());
    let p = policy_with(
        "{channels: {discord: {guilds: {'111': {users: ['alice'], channels: {support: {}}}}}}}",
        names,
    );
    // The channel was renamed and alice changed her username: the ids still match.
    let msg = in_channel(HELP, "help-renamed", "7", "<@999> hi");
    assert_eq!(outcome(&p.decide(&msg, &[])), "allow");
}

#[test]
fn startup_warnings() {
    let w = policy("{}").startup_warnings();
    assert!(
        w.iter().any(|s| s.contains("defaults to \"open\"")),
        "{w:?}"
    );
    let w = policy("{channels: {discord: {}}}").startup_warnings();
    assert!(
        w.iter().any(|s| s.contains("no guilds are listed")),
        "{w:?}"
    );
    let w = policy("{channels: {discord: {guilds: {'1': {}}}}}").startup_warnings();
    assert!(w.is_empty(), "{w:?}");
}

#[test]
fn reaction_notifications_per_guild_mode() {
    let p = policy(
        "{channels: {discord: {guilds: {
            '111': {reactionNotifications: 'allowlist', users: ['7']},
            'off-guild': {reactionNotifications: 'off'},
            '*': {reactionNotifications: 'all', reactionTrigger: {enabled: true}},
        }}}}",
    );
    let g = |id: &str, name: &str| Place::named(id, name);
    let alice = author("7", "alice");
    let bob = author("8", "bob");
    // allowlist: only listed users, on any message
    assert!(p.reaction_notification(Some(&g(GUILD, "x")), &alice, false, BOT));
    assert!(!p.reaction_notification(Some(&g(GUILD, "x")), &bob, true, BOT));
    // off
    assert!(!p.reaction_notification(Some(&g("5", "Off Guild")), &alice, true, BOT));
    // all (wildcard guild)
    assert!(p.reaction_notification(Some(&g("6", "other")), &bob, false, BOT));
    // DMs: own messages only; the bot's own reactions never
    assert!(p.reaction_notification(None, &bob, true, BOT));
    assert!(!p.reaction_notification(None, &bob, false, BOT));
    assert!(!p.reaction_notification(Some(&g("6", "other")), &author(BOT, "me"), true, BOT));
    // trigger only where enabled
    assert!(p.reaction_trigger(&g("6", "other")).is_some());
    assert!(p.reaction_trigger(&g(GUILD, "x")).is_none());
    // default mode is own
    let d = policy("{channels: {discord: {guilds: {'111': {}}}}}");
    assert!(d.reaction_notification(Some(&g(GUILD, "x")), &bob, true, BOT));
    assert!(!d.reaction_notification(Some(&g(GUILD, "x")), &bob, false, BOT));
}

#[test]
fn ack_reaction_scope() {
    use krill_core::access::ack_reaction;
    let cases = [
        ("", "👀", "", ""),
        ("ackReactionScope: 'group-all'", "👀", "👀", ""),
        ("ackReactionScope: 'direct'", "", "", "👀"),
        ("ackReactionScope: 'all'", "👀", "👀", "👀"),
        ("ackReactionScope: 'off'", "", "", ""),
        (
            "ackReaction: '✅', ackReactionScope: 'all'",
            "✅",
            "✅",
            "✅",
        ),
        ("ackReaction: '', ackReactionScope: 'all'", "", "", ""),
    ];
    for (messages, mentioned_in_guild, unmentioned_in_guild, in_dm) in cases {
        let text = format!(
            "{{messages: {{{messages}}}, channels: {{discord: {{guilds: {{'111': {{requireMention: false}}}}, dm: {{policy: 'open', allowFrom: ['*']}}}}}}}}"
        );
        let (config, _) = parse(&text).unwrap();
        let p = policy(&text);
        let ack = |m: InboundMessage| match p.decide(&m, &[]) {
            Decision::Allow(a) => ack_reaction(&config, &a).unwrap_or("").to_owned(),
            other => panic!("{other:?}"),
        };
        assert_eq!(
            ack(in_channel(HELP, "help", "7", "<@999> hi")),
            mentioned_in_guild,
            "{messages}"
        );
        assert_eq!(
            ack(in_channel(HELP, "help", "7", "hi")),
            unmentioned_in_guild,
            "{messages}"
        );
        assert_eq!(ack(dm("7")), in_dm, "{messages}");
    }
}

#[test]
fn a_challenge_carries_what_the_pairing_book_needs() {
    let Decision::PairingChallenge(c) = policy("{channels: {discord: {}}}").decide(&dm("7"), &[])
    else {
        panic!("challenge")
    };
    let r = c.requester();
    assert_eq!((r.id.as_str(), r.account_id.as_str()), ("7", "default"));
    assert_eq!(r.chat_id.as_deref(), Some("500"));
    assert_eq!(r.name.as_deref(), Some("user7"));
}
