//! The `discord` tool in the core: which actions a turn is offered
//! (`actions.*`, `tools` / `toolsBySender`), what a call plans (requests
//! through the REST planner's types), the turn's guild as the limit of
//! every call, and the JSON results.

use std::collections::BTreeMap;

use krill_core::config::{DiscordActions, ToolPolicy};
use krill_core::reply::MentionPolicy;
use krill_core::rest::discord::{DmChannel, Request};
use krill_core::rest::{Method, Response, RestError};
use krill_core::tools::policy::PolicyLevel;
use krill_core::tools::{
    offered_actions, Action, ChannelFact, ChannelFacts, ToolRules, ToolRun, ToolStep, TurnScope,
};
use proptest::prelude::*;
use serde_json::{json, Value};

const GUILD: &str = "100";
const CHANNEL: &str = "200";
const OTHER_CHANNEL: &str = "201";
const FOREIGN_CHANNEL: &str = "900";
const MESSAGE: &str = "300";

struct Facts;

impl ChannelFacts for Facts {
    fn channel(&self, id: &str) -> ChannelFact {
        match id {
            CHANNEL | OTHER_CHANNEL => ChannelFact::InGuild(GUILD.into()),
            FOREIGN_CHANNEL => ChannelFact::InGuild("999".into()),
            _ => ChannelFact::Unknown,
        }
    }
}

fn scope(actions: DiscordActions) -> TurnScope {
    TurnScope {
        guild_id: Some(GUILD.into()),
        channel_id: CHANNEL.into(),
        message_id: MESSAGE.into(),
        sender_id: "7".into(),
        offered: offered_actions(&actions, &ToolRules::default(), "7", true),
        gates: actions,
        mentions: MentionPolicy::default(),
    }
}

fn start(scope: &TurnScope, name: &str, args: Value) -> (ToolRun, ToolStep) {
    ToolRun::start(name, &args.to_string(), scope, &Facts, 1_741_944_413_589)
}

fn done(step: ToolStep) -> Value {
    match step {
        ToolStep::Done(text) => serde_json::from_str(&text).expect("JSON result"),
        ToolStep::Send(request) => panic!("expected a result, got {request:?}"),
    }
}

fn sent(step: ToolStep) -> Request {
    match step {
        ToolStep::Send(request) => request,
        ToolStep::Done(text) => panic!("expected a request, got {text}"),
    }
}

fn policy(allow: Option<&[&str]>, deny: Option<&[&str]>) -> ToolPolicy {
    let list = |l: Option<&[&str]>| l.map(|l| l.iter().map(|s| (*s).to_owned()).collect());
    ToolPolicy {
        allow: list(allow),
        deny: list(deny),
        also_allow: None,
    }
}

#[test]
fn defaults_offer_everything_but_roles_and_moderation() {
    let offered = offered_actions(&DiscordActions::default(), &ToolRules::default(), "7", true);
    assert_eq!(offered.len(), Action::ALL.len() - 5);
    for off in [
        Action::RoleAdd,
        Action::RoleRemove,
        Action::Timeout,
        Action::Kick,
        Action::Ban,
    ] {
        assert!(!offered.contains(&off), "{off}");
    }
    let dm = offered_actions(
        &DiscordActions::default(),
        &ToolRules::default(),
        "7",
        false,
    );
    assert!(dm.contains(&Action::React) && !dm.contains(&Action::ThreadCreate));
}

#[test]
fn policies_name_the_tool_or_its_functions_and_the_channel_wins() {
    let actions = DiscordActions::default();
    let deny_all = ToolRules {
        guild: PolicyLevel::default(),
        channel: PolicyLevel {
            tools: Some(policy(None, Some(&["discord"]))),
            tools_by_sender: None,
        },
    };
    assert!(offered_actions(&actions, &deny_all, "7", true).is_empty());

    let only_react = ToolRules {
        guild: PolicyLevel {
            tools: Some(policy(None, Some(&["*"]))),
            tools_by_sender: None,
        },
        channel: PolicyLevel {
            tools: Some(policy(Some(&["DISCORD_REACT"]), None)),
            tools_by_sender: None,
        },
    };
    assert_eq!(
        offered_actions(&actions, &only_react, "7", true),
        [Action::React]
    );

    let mut by_sender = BTreeMap::new();
    by_sender.insert("<@7>".to_owned(), policy(Some(&["discord_thread*"]), None));
    by_sender.insert("*".to_owned(), policy(None, Some(&["discord"])));
    let rules = ToolRules {
        guild: PolicyLevel {
            tools: None,
            tools_by_sender: Some(by_sender),
        },
        channel: PolicyLevel::default(),
    };
    assert_eq!(
        offered_actions(&actions, &rules, "7", true),
        [
            Action::ThreadCreate,
            Action::ThreadList,
            Action::ThreadReply
        ]
    );
    assert!(offered_actions(&actions, &rules, "8", true).is_empty());
}

#[test]
fn react_defaults_to_the_current_message() {
    let scope = scope(DiscordActions::default());
    let (mut run, step) = start(&scope, "discord_react", json!({"emoji": "<:party:123>"}));
    assert_eq!(
        sent(step),
        Request::CreateReaction {
            channel_id: CHANNEL.into(),
            message_id: MESSAGE.into(),
            emoji: "<:party:123>".into()
        }
    );
    let result = done(run.handle(Ok(Response::Empty)));
    assert_eq!(result["ok"], json!(true));
    assert_eq!(result["action"], json!("react"));
    assert_eq!(result["messageId"], json!(MESSAGE));
}

#[test]
fn a_switched_off_group_is_refused_naming_its_key() {
    let scope = scope(DiscordActions::default());
    let (run, step) = start(
        &scope,
        "discord_roleAdd",
        json!({"userId": "7", "roleId": "8"}),
    );
    let result = done(step);
    assert_eq!(result["ok"], json!(false));
    assert!(result["error"]
        .as_str()
        .unwrap()
        .contains("channels.discord.actions.roles"));
    assert!(run.is_done());
}

#[test]
fn other_guilds_are_refused_and_unknown_channels_looked_up() {
    let scope = scope(DiscordActions::default());
    let known = done(
        start(
            &scope,
            "discord_readMessages",
            json!({"channelId": FOREIGN_CHANNEL}),
        )
        .1,
    );
    assert!(
        known["error"].as_str().unwrap().contains("another server"),
        "{known}"
    );
    let wrong_guild = done(start(&scope, "discord_channelList", json!({"guildId": "999"})).1);
    assert_eq!(wrong_guild["ok"], json!(false));

    let (mut run, step) = start(
        &scope,
        "discord_readMessages",
        json!({"channelId": "<#555>"}),
    );
    match sent(step) {
        Request::Api(call) => {
            assert_eq!(
                (call.method, call.path.as_str()),
                (Method::Get, "/channels/555")
            );
        }
        other => panic!("{other:?}"),
    }
    let refused = done(run.handle(Ok(Response::DiscordJson(
        json!({"id": "555", "guild_id": "999"}),
    ))));
    assert!(
        refused["error"]
            .as_str()
            .unwrap()
            .contains("another server"),
        "{refused}"
    );

    let (mut run, step) = start(
        &scope,
        "discord_readMessages",
        json!({"channelId": "555", "limit": 2}),
    );
    sent(step);
    let read = sent(run.handle(Ok(Response::DiscordJson(
        json!({"id": "555", "guild_id": GUILD}),
    ))));
    match read {
        Request::Api(call) => assert_eq!(call.path, "/channels/555/messages?limit=2"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn read_results_carry_normalized_timestamps() {
    let scope = scope(DiscordActions::default());
    let (mut run, step) = start(&scope, "discord_readMessages", json!({}));
    sent(step);
    let result = done(run.handle(Ok(Response::DiscordJson(json!([{
        "id": "300", "channel_id": CHANNEL, "content": "hi",
        "author": {"id": "7", "username": "alice", "global_name": null},
        "timestamp": "2025-03-14T09:26:53.589000+00:00", "edited_timestamp": null,
        "reactions": [{"emoji": {"id": null, "name": "✅"}, "count": 2, "me": true}]
    }])))));
    insta::assert_json_snapshot!("tools_read_messages_result", result);
}

#[test]
fn a_dm_to_a_user_checks_membership_opens_the_dm_then_sends() {
    let scope = scope(DiscordActions::default());
    let (mut run, step) = start(
        &scope,
        "discord_sendMessage",
        json!({"to": "user:42", "content": "psst"}),
    );
    match sent(step) {
        Request::Api(call) => assert_eq!(call.path, "/guilds/100/members/42"),
        other => panic!("{other:?}"),
    }
    let open = sent(run.handle(Ok(Response::DiscordJson(json!({"user": {"id": "42"}})))));
    assert_eq!(
        open,
        Request::OpenDm {
            recipient_id: "42".into()
        }
    );
    match sent(run.handle(Ok(Response::DiscordDmChannel(DmChannel {
        id: "77".into(),
    })))) {
        Request::CreateMessage(m) => {
            assert_eq!((m.channel_id.as_str(), m.content.as_str()), ("77", "psst"))
        }
        other => panic!("{other:?}"),
    }
    let bare = done(
        start(
            &scope,
            "discord_sendMessage",
            json!({"to": "42", "content": "x"}),
        )
        .1,
    );
    assert!(
        bare["error"].as_str().unwrap().contains("ambiguous"),
        "{bare}"
    );

    let (mut run, step) = start(
        &scope,
        "discord_sendMessage",
        json!({"to": "user:43", "content": "x"}),
    );
    sent(step);
    let not_member = done(run.handle(Err(RestError::Rejected {
        status: 404,
        code: Some(10007),
        message: "Unknown Member".into(),
    })));
    assert!(
        not_member["error"]
            .as_str()
            .unwrap()
            .contains("not a member"),
        "{not_member}"
    );
}

#[test]
fn timeouts_are_dated_from_the_given_clock() {
    let actions = DiscordActions {
        moderation: true,
        ..DiscordActions::default()
    };
    let scope = scope(actions);
    let (_, step) = start(
        &scope,
        "discord_timeout",
        json!({"userId": "42", "durationMinutes": 10, "reason": "spam"}),
    );
    match sent(step) {
        Request::Api(call) => {
            assert_eq!(call.method, Method::Patch);
            assert_eq!(
                call.body,
                Some(json!({"communication_disabled_until": "2025-03-14T09:36:53.589Z"}))
            );
            assert_eq!(call.audit_reason.as_deref(), Some("spam"));
        }
        other => panic!("{other:?}"),
    }
}

proptest! {
    /// Whatever a model sends, a call never panics and ends within a few
    /// steps, whatever Discord answers.
    #[test]
    fn any_call_ends_with_a_json_result(
        action in 0usize..Action::ALL.len(),
        args in prop::collection::btree_map(
            prop::sample::select(vec!["channelId", "messageId", "userId", "roleId", "emoji", "content", "to", "name", "limit", "threadId", "answers", "stickerIds", "startTime", "location", "durationMinutes"]),
            prop_oneof![
                Just(json!("200")), Just(json!("<#555>")), Just(json!("user:42")), Just(json!(12)),
                Just(json!(null)), Just(json!(["a", "b"])), Just(json!("✅")), Just(json!(true)),
                ".{0,30}".prop_map(Value::String),
            ],
            0..6,
        ),
        ok in prop::collection::vec(any::<bool>(), 6),
        moderation in any::<bool>(),
    ) {
        let actions = DiscordActions {
            roles: moderation,
            moderation,
            ..DiscordActions::default()
        };
        let scope = scope(actions);
        let args: serde_json::Map<String, Value> = args.into_iter().map(|(k, v)| (k.to_owned(), v)).collect();
        let (mut run, mut step) = start(&scope, &Action::ALL[action].function_name(), Value::Object(args));
        for answer_ok in ok {
            match step {
                ToolStep::Done(text) => {
                    let value: Value = serde_json::from_str(&text).unwrap();
                    prop_assert!(value["ok"].is_boolean());
                    return Ok(());
                }
                ToolStep::Send(_) => {
                    step = run.handle(if answer_ok {
                        Ok(Response::DiscordJson(json!({"guild_id": GUILD, "id": "1"})))
                    } else {
                        Err(RestError::Halted)
                    });
                }
            }
        }
        prop_assert!(matches!(step, ToolStep::Done(_)), "still running after 6 answers");
    }
}
