//! The command registry and parsers: text commands (after the bot's mention
//! is removed), `/config` arguments, slash interactions, the native command
//! list and when it needs syncing; the `/config` in-place editor keeps every
//! byte but the value it changes.

use krill_core::commands::{
    classify, commands_differ, decide, help_text, native_definitions, parse_config_args,
    parse_interaction, parse_text_command, Action, Caller, CommandName, ConfigOp, Inbound,
    NOT_AUTHORIZED,
};
use krill_core::config::edit::{set_value, EditError};
use krill_core::config::tree::{self, MAX_DEPTH};
use krill_core::config::{KeyPath, Platform};
use proptest::prelude::*;
use serde_json::json;

fn caller(owner: bool) -> Caller {
    Caller {
        platform: Platform::Discord,
        native: false,
        owner,
        config_commands: true,
        config_writes: true,
    }
}

#[test]
fn text_commands_are_known_slash_words() {
    let inv = parse_text_command("  /New   hello there ").expect("a command");
    assert_eq!(inv.command, CommandName::New);
    assert_eq!(inv.args, "hello there");
    assert_eq!(
        parse_text_command("/id").map(|i| i.command),
        Some(CommandName::Whoami)
    );
    assert_eq!(parse_text_command("/ask what"), None, "/ask is native only");
    assert_eq!(parse_text_command("/unknown"), None);
    assert_eq!(parse_text_command("help"), None);
    assert_eq!(parse_text_command("/"), None);
    assert_eq!(parse_text_command("/helpme"), None);
    assert_eq!(
        classify("/help", false),
        Inbound::Turn,
        "commands.text: false"
    );
}

#[test]
fn config_arguments() {
    assert_eq!(parse_config_args("show"), Ok(ConfigOp::Show));
    assert_eq!(parse_config_args(""), Ok(ConfigOp::Show));
    let set = parse_config_args("set channels.discord.guilds.\"1 2\".slug  \"a b\"").unwrap();
    let path: KeyPath = "channels.discord.guilds.\"1 2\".slug".parse().unwrap();
    assert_eq!(set, ConfigOp::Set(path, "\"a b\"".into()));
    assert!(parse_config_args("set onlypath").is_err());
    assert!(parse_config_args("frob x").is_err());
}

#[test]
fn config_needs_an_owner_and_the_switches() {
    let inv = parse_text_command("/config set a.b 1").unwrap();
    assert!(matches!(
        decide(&inv, &caller(true)),
        Action::Config(ConfigOp::Set(..))
    ));
    assert!(
        matches!(decide(&inv, &caller(false)), Action::Reply(t) if t.starts_with(NOT_AUTHORIZED))
    );
    let off = Caller {
        config_commands: false,
        ..caller(true)
    };
    assert!(matches!(decide(&inv, &off), Action::Reply(t) if t.contains("commands.config")));
    let no_writes = Caller {
        config_writes: false,
        ..caller(true)
    };
    assert!(matches!(decide(&inv, &no_writes), Action::Reply(t) if t.contains("configWrites")));
    let get = parse_text_command("/config get a.b").unwrap();
    assert!(matches!(
        decide(&get, &no_writes),
        Action::Config(ConfigOp::Get(_))
    ));
}

#[test]
fn help_snapshot() {
    insta::assert_snapshot!("help_text_owner", help_text(&caller(true)));
    insta::assert_snapshot!(
        "help_native_stranger",
        help_text(&Caller {
            native: true,
            ..caller(false)
        })
    );
}

#[test]
fn native_list_snapshot_and_diff() {
    let wanted = native_definitions();
    insta::assert_json_snapshot!("native_definitions", wanted);
    // What Discord returns adds ids and omits false `required`.
    let mut registered = wanted.clone();
    for c in registered.as_array_mut().unwrap() {
        c["id"] = json!("1");
        c["application_id"] = json!("2");
        c["version"] = json!("3");
        for o in c["options"].as_array_mut().unwrap() {
            if o["required"] == json!(false) {
                o.as_object_mut().unwrap().remove("required");
            }
        }
    }
    registered.as_array_mut().unwrap().reverse();
    assert!(!commands_differ(&registered, &wanted));
    registered[0]["description"] = json!("changed");
    assert!(commands_differ(&registered, &wanted));
    assert!(commands_differ(&json!([]), &wanted));
    assert!(!commands_differ(&json!([]), &json!([])));
}

#[test]
fn interactions() {
    let d = json!({
        "id": "10", "application_id": "20", "type": 2, "token": "tok",
        "channel_id": "30", "guild_id": "40",
        "member": {"user": {"id": "50", "username": "alice"}},
        "data": {"id": "60", "name": "config", "type": 1, "options": [
            {"name": "action", "type": 3, "value": "set"},
            {"name": "path", "type": 3, "value": "commands.text"},
            {"name": "value", "type": 3, "value": "false"}]}
    });
    let slash = parse_interaction(&d).unwrap();
    assert_eq!(slash.user_id, "50");
    assert_eq!(slash.guild_id.as_deref(), Some("40"));
    let inv = slash.invocation.unwrap();
    assert_eq!(
        (inv.command, inv.args.as_str()),
        (CommandName::Config, "set commands.text false")
    );
    let dm = json!({"id": "1", "application_id": "2", "type": 2, "token": "t", "channel_id": "3",
        "user": {"id": "4", "username": "bob"}, "data": {"name": "ask", "options": [{"name": "text", "value": "hi"}]}});
    let slash = parse_interaction(&dm).unwrap();
    assert_eq!(slash.user_id, "4");
    assert_eq!(slash.invocation.unwrap().args, "hi");
    assert!(
        parse_interaction(&json!({"type": 1})).is_err(),
        "a PING is not a command"
    );
}

/// Fuzz find (fuzz/regressions/commands/crash-b4483572…): a `set` whose
/// path and value together nest deeper than a config file may is refused,
/// naming the key, instead of writing a file that no longer loads.
#[test]
fn a_set_too_deep_for_the_file_is_refused() {
    let file = "{\n  commands: { config: true },\n}\n";
    let deepest: KeyPath = vec!["a"; MAX_DEPTH].join(".").parse().unwrap();
    let out = set_value(file, &deepest, "1").expect("64 levels fit");
    assert!(tree::parse(&out).is_ok(), "{out}");
    let error = set_value(file, &deepest, "{ b: 1 }").unwrap_err();
    assert!(matches!(error, EditError::TooDeep { max: MAX_DEPTH, .. }));
    assert!(error.to_string().starts_with("a.a.a."), "{error}");
    let shallow: KeyPath = "a.b".parse().unwrap();
    let value = format!(
        "{}1{}",
        "[".repeat(MAX_DEPTH - 2),
        "]".repeat(MAX_DEPTH - 2)
    );
    assert!(tree::parse(&set_value(file, &shallow, &value).unwrap()).is_ok());
    let value = format!("[{value}]");
    assert!(set_value(file, &shallow, &value).is_err());
    assert!(set_value("", &deepest, "[1]").is_err(), "a blank file too");
}

proptest! {
    #[test]
    fn parsing_never_panics(text in "\\PC{0,60}") {
        let _ = parse_text_command(&text);
        let _ = parse_config_args(&text);
        let _ = text.parse::<KeyPath>();
    }

    #[test]
    fn a_set_changes_only_that_value(value in 0u32..1000, comment in "[a-z ]{0,20}") {
        let file = format!("{{\n  // {comment}\n  commands: {{ text: true }}, /* keep */\n  messages: {{ ackReaction: \"👀\" }},\n}}\n");
        let path: KeyPath = "messages.groupChat.historyLimit".parse().unwrap();
        let out = set_value(&file, &path, &value.to_string()).unwrap();
        let (config, _) = krill_core::config::parse(&out).unwrap();
        prop_assert_eq!(config.messages.group_chat.history_limit, Some(value));
        let kept = out.contains(&format!("// {comment}\n")) && out.contains("/* keep */");
        prop_assert!(kept);
        let again = set_value(&out, &path, "7").unwrap();
        prop_assert_eq!(again.len() + value.to_string().len(), out.len() + 1);
    }
}
