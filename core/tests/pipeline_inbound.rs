//! The inbound pipeline: what becomes of a message after access control
//! (`krill_core::pipeline::plan_inbound`), on a real policy and config.

use krill_core::access::{AccessPolicy, Author, ChatKind, InboundMessage, Place};
use krill_core::agent::{ChannelHistories, ChannelKind, ContextMessage};
use krill_core::commands::CommandName;
use krill_core::config::{parse, resolve_accounts, Config, Platform};
use krill_core::pipeline::{plan_inbound, InboundAction, MessageFacts, MessageLine};

const BOT: &str = "999";
const GUILD: &str = "111";
const CHANNEL: &str = "202";

const CONFIG: &str = r#"{
  channels: { discord: {
    groupPolicy: "allowlist", historyLimit: 3,
    guilds: { "111": { requireMention: true, users: ["*"] } },
  } },
  messages: { ackReaction: "👀", ackReactionScope: "group-mentions" },
}"#;

fn setup(text: &str) -> (Config, AccessPolicy) {
    let (config, _) = parse(text).unwrap_or_else(|e| panic!("{e}"));
    let env = |k: &str| (k == "DISCORD_BOT_TOKEN").then(|| "t".to_owned());
    let accounts = resolve_accounts(&config, &env);
    let account = accounts
        .iter()
        .find(|a| a.platform == Platform::Discord)
        .expect("discord account");
    let policy = AccessPolicy::new(&config, account, Default::default());
    (config, policy)
}

fn message(from: &str, text: &str, chat: ChatKind) -> InboundMessage {
    let direct = chat == ChatKind::Direct;
    InboundMessage {
        platform: Platform::Discord,
        account_id: "default".to_owned(),
        chat,
        guild: (!direct).then(|| Place::named(GUILD, "My Server")),
        channel: Place::named(CHANNEL, "general"),
        parent: None,
        author: Author {
            id: from.to_owned(),
            username: format!("user{from}"),
            global_name: None,
            tag: None,
            is_bot: false,
            is_webhook: false,
        },
        text: text.to_owned(),
        mentions: if text.contains("<@999>") {
            vec![BOT.to_owned()]
        } else {
            vec![]
        },
        reply_to_bot: false,
        bot_user_id: BOT.to_owned(),
        native_command: false,
    }
}

fn facts<'a>(msg: &'a InboundMessage, id: &'a str, quoted: Option<&str>) -> MessageFacts<'a> {
    MessageFacts {
        channel: ChannelKind::Discord,
        account_id: "default",
        chat: msg.chat,
        chat_id: CHANNEL,
        message_id: id,
        line: MessageLine {
            author_id: &msg.author.id,
            author_name: &msg.author.username,
            text: &msg.text,
        },
        mentions: &msg.mentions,
        quoted: quoted.map(|author| ContextMessage {
            message_id: "q1".to_owned(),
            author_id: author.to_owned(),
            author_name: "quoted".to_owned(),
            text: "the quoted words".to_owned(),
        }),
        media: Vec::new(),
        history_limit: 3,
        dm_history_limit: None,
        topic: None,
    }
}

/// Feeds `msg` through access control and the pipeline.
fn run(
    config: &Config,
    policy: &AccessPolicy,
    histories: &mut ChannelHistories,
    msg: &InboundMessage,
    id: &str,
    quoted: Option<&str>,
) -> InboundAction {
    let decision = policy.decide(msg, &[]);
    plan_inbound(config, decision, facts(msg, id, quoted), histories)
}

#[test]
fn unmentioned_guild_messages_become_the_next_turns_context_then_are_cleared() {
    let (config, policy) = setup(CONFIG);
    let mut histories = ChannelHistories::new(10, 8);
    for (i, text) in ["first", "   ", "second"].iter().enumerate() {
        let msg = message(&format!("{}", 10 + i), text, ChatKind::Channel);
        let action = run(
            &config,
            &policy,
            &mut histories,
            &msg,
            &format!("m{i}"),
            None,
        );
        assert!(matches!(action, InboundAction::Nothing), "{action:?}");
    }
    let msg = message("42", "<@999> what did they say?", ChatKind::Channel);
    let InboundAction::Turn(planned) =
        run(&config, &policy, &mut histories, &msg, "m9", Some("77"))
    else {
        panic!("an allowed mention runs a turn");
    };
    let prompt = &planned.journaled.turn.prompt;
    assert!(
        prompt.contains("first") && prompt.contains("second"),
        "{prompt}"
    );
    assert!(prompt.contains("the quoted words"), "{prompt}");
    assert_eq!(planned.journaled.turn.message_id, "m9");
    assert_eq!(planned.journaled.chat_id, CHANNEL);
    assert!(!planned.journaled.direct);
    // The author, the bot it mentions, the context's authors (the blank
    // message was never kept), the quoted author.
    assert_eq!(
        planned.journaled.participants,
        vec!["42", BOT, "10", "12", "77"]
    );
    assert_eq!(planned.ack.as_deref(), Some("👀"));
    // The context went with that turn.
    let msg = message("42", "<@999> again", ChatKind::Channel);
    let InboundAction::Turn(planned) = run(&config, &policy, &mut histories, &msg, "m10", None)
    else {
        panic!("a turn");
    };
    assert!(!planned.journaled.turn.prompt.contains("second"));
}

#[test]
fn text_commands_are_sorted_from_agent_text_unless_turned_off() {
    let (config, policy) = setup(CONFIG);
    let mut histories = ChannelHistories::new(10, 8);
    let msg = message("42", "<@999> /whoami", ChatKind::Channel);
    match run(&config, &policy, &mut histories, &msg, "m1", None) {
        InboundAction::Command { invocation, .. } => {
            assert_eq!(invocation.command, CommandName::Whoami)
        }
        other => panic!("a command, not {other:?}"),
    }
    let off = CONFIG.replace("messages:", "commands: { text: false }, messages:");
    let (config, policy) = setup(&off);
    let action = run(&config, &policy, &mut histories, &msg, "m2", None);
    assert!(matches!(action, InboundAction::Turn(_)), "{action:?}");
}

#[test]
fn strangers_in_dms_get_a_pairing_challenge_and_dms_carry_no_guild_context() {
    let (config, policy) = setup(CONFIG);
    let mut histories = ChannelHistories::new(10, 8);
    let msg = message("5", "hello", ChatKind::Direct);
    let action = run(&config, &policy, &mut histories, &msg, "m1", None);
    assert!(
        matches!(action, InboundAction::PairingChallenge(_)),
        "{action:?}"
    );

    let open = CONFIG.replace(
        "groupPolicy",
        "dm: { policy: \"open\", allowFrom: [\"*\"] }, groupPolicy",
    );
    let (config, policy) = setup(&open);
    let guild = message("10", "chatter", ChatKind::Channel);
    run(&config, &policy, &mut histories, &guild, "m2", None);
    let InboundAction::Turn(planned) = run(&config, &policy, &mut histories, &msg, "m3", None)
    else {
        panic!("an open DM runs a turn");
    };
    assert!(planned.journaled.direct);
    assert!(!planned.journaled.turn.prompt.contains("chatter"));
    // group-mentions: no ack in a DM.
    assert_eq!(planned.ack, None);
}
