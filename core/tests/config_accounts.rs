//! Token resolution and effective per-account settings
//! (`config::resolve_accounts`).

use std::collections::HashMap;

use krill_core::config::{
    parse, resolve_accounts, resolve_accounts_report, DmPolicy, GroupPolicy, NativeCommands,
    Platform, SkipReason, TokenSource,
};

fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
    let map: HashMap<String, String> = pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    move |k: &str| map.get(k).cloned()
}

type Want = (Platform, String, String, TokenSource);
type Case<'a> = (&'a str, &'a str, Vec<(&'a str, &'a str)>, Vec<Want>);

fn accounts(text: &str, vars: &[(&str, &str)]) -> Vec<Want> {
    let (config, _) = parse(text).unwrap();
    resolve_accounts(&config, &env(vars))
        .into_iter()
        .map(|a| {
            (
                a.platform,
                a.account_id,
                a.token.expose().to_owned(),
                a.token_source,
            )
        })
        .collect()
}

#[test]
fn token_resolution_table() {
    use Platform::{Discord, Kook};
    use TokenSource::{Config as C, Env as E};
    let d = |id: &str, tok: &str, src| (Discord, id.to_owned(), tok.to_owned(), src);
    let k = |id: &str, tok: &str, src| (Kook, id.to_owned(), tok.to_owned(), src);
    let cases: Vec<Case> = vec![
        ("no config, no env", "{}", vec![], vec![]),
        (
            "env only",
            "{}",
            vec![("DISCORD_BOT_TOKEN", "envd"), ("KOOK_BOT_TOKEN", "envk")],
            vec![d("default", "envd", E), k("default", "envk", E)],
        ),
        (
            "config beats env",
            "{channels: {discord: {token: 'cfg'}}}",
            vec![("DISCORD_BOT_TOKEN", "envd")],
            vec![d("default", "cfg", C)],
        ),
        (
            "section without token uses env",
            "{channels: {discord: {enabled: true}}}",
            vec![("DISCORD_BOT_TOKEN", "envd")],
            vec![d("default", "envd", E)],
        ),
        (
            "enabled false wins over a token",
            "{channels: {discord: {enabled: false, token: 'x'}}}",
            vec![("DISCORD_BOT_TOKEN", "envd")],
            vec![],
        ),
        (
            "blank env is no token",
            "{}",
            vec![("DISCORD_BOT_TOKEN", "  ")],
            vec![],
        ),
        (
            "blank config token falls back to env",
            "{channels: {kook: {token: ''}}}",
            vec![("KOOK_BOT_TOKEN", "envk")],
            vec![k("default", "envk", E)],
        ),
        (
            "named accounts never use env",
            "{channels: {discord: {accounts: {work: {token: 'w'}, home: {}}}}}",
            vec![("DISCORD_BOT_TOKEN", "envd")],
            vec![d("work", "w", C)],
        ),
        (
            "section token plus accounts adds the default account",
            "{channels: {discord: {token: 'base', accounts: {work: {token: 'w'}}}}}",
            vec![],
            vec![d("default", "base", C), d("work", "w", C)],
        ),
        (
            "accounts.default takes env fallback",
            "{channels: {discord: {accounts: {default: {name: 'main'}, work: {token: 'w'}}}}}",
            vec![("DISCORD_BOT_TOKEN", "envd")],
            vec![d("default", "envd", E), d("work", "w", C)],
        ),
        (
            "an account can be disabled",
            "{channels: {discord: {accounts: {a: {token: 'a', enabled: false}, b: {token: 'b'}}}}}",
            vec![],
            vec![d("b", "b", C)],
        ),
        (
            "section disabled disables every account",
            "{channels: {kook: {enabled: false, accounts: {a: {token: 'a', enabled: true}}}}}",
            vec![],
            vec![],
        ),
    ];
    for (name, text, vars, want) in cases {
        assert_eq!(accounts(text, &vars), want, "case: {name}");
    }
}

#[test]
fn skipped_accounts_say_why() {
    let (config, _) =
        parse("{channels: {discord: {accounts: {a: {enabled: false}, b: {}}}}}").unwrap();
    let report = resolve_accounts_report(&config, &env(&[]));
    let why: Vec<(String, SkipReason)> = report
        .skipped
        .iter()
        .map(|s| (s.account_id.clone(), s.reason))
        .collect();
    assert!(why.contains(&("a".to_owned(), SkipReason::Disabled)));
    assert!(why.contains(&("b".to_owned(), SkipReason::NoToken)));
    assert!(
        why.contains(&("default".to_owned(), SkipReason::NoToken)),
        "kook default: {why:?}"
    );
}

#[test]
fn group_policy_defaults_depend_on_the_section() {
    let policy = |text: &str| {
        let (config, _) = parse(text).unwrap();
        let accs = resolve_accounts(&config, &env(&[("DISCORD_BOT_TOKEN", "t")]));
        accs[0].discord().unwrap().group_policy
    };
    assert_eq!(
        policy("{}"),
        GroupPolicy::Open,
        "env token only, no section"
    );
    assert_eq!(
        policy("{channels: {discord: {}}}"),
        GroupPolicy::Allowlist,
        "section present"
    );
    assert_eq!(
        policy("{channels: {defaults: {groupPolicy: 'disabled'}}}"),
        GroupPolicy::Disabled
    );
    assert_eq!(
        policy("{channels: {defaults: {groupPolicy: 'disabled'}, discord: {groupPolicy: 'open'}}}"),
        GroupPolicy::Open
    );
    assert_eq!(
        policy("{channels: {defaults: {groupPolicy: 'open'}, discord: {}}}"),
        GroupPolicy::Open
    );
}

#[test]
fn discord_defaults() {
    let (config, _) = parse("{channels: {discord: {token: 't'}}}").unwrap();
    let a = &resolve_accounts(&config, &env(&[]))[0];
    let d = a.discord().unwrap();
    assert!(d.dm.enabled && d.dm.policy == DmPolicy::Pairing && !d.dm.group_enabled);
    assert_eq!(d.history_limit, 20);
    assert_eq!(d.text_chunk_limit, 2000);
    assert_eq!(d.max_lines_per_message, 17);
    assert_eq!(d.media_max_mb, 8.0);
    assert!(!d.allow_bots && d.config_writes);
    assert!(d.actions.reactions && !d.actions.roles && !d.actions.moderation);
    assert_eq!(d.native_commands, NativeCommands::Auto);
    assert_eq!(d.api_base_url, "https://discord.com/api/v10");
    assert_eq!(d.retry, krill_core::rest::RetryPolicy::default());
    assert_eq!(d.global_rate_limit, 50);
    assert!(d.section_present);
}

#[test]
fn global_rate_limit_is_read_inherited_and_must_be_positive() {
    let (config, _) = parse(
        "{channels: {discord: {token: 't', globalRateLimit: 500, accounts: {big: {token: 'b'}}}}}",
    )
    .unwrap();
    let accs = resolve_accounts(&config, &env(&[]));
    assert!(accs
        .iter()
        .all(|a| a.discord().unwrap().global_rate_limit == 500));
    let error = parse("{channels: {discord: {globalRateLimit: 0}}}").unwrap_err();
    let problem = &error.problems[0];
    assert_eq!(problem.path.to_string(), "channels.discord.globalRateLimit");
    assert!(
        problem.message.contains("at least 1"),
        "{}",
        problem.message
    );
}

#[test]
fn kook_defaults() {
    let a = &resolve_accounts(&parse("{}").unwrap().0, &env(&[("KOOK_BOT_TOKEN", "k")]))[0];
    let k = a.kook().unwrap();
    assert!(k.allowed_user_ids.is_empty() && !k.compress && !k.require_mention);
    assert_eq!(k.text_chunk_limit, 4000);
    assert_eq!(k.max_lines_per_message, None);
    assert_eq!(k.history_limit, 20);
    assert_eq!(k.api_base_url, "https://www.kookapp.cn/api/v3");
}

#[test]
fn history_limit_falls_back_to_messages_group_chat() {
    let (config, _) = parse("{messages: {groupChat: {historyLimit: 7}}, channels: {discord: {token: 't'}, kook: {token: 'k', historyLimit: 3}}}").unwrap();
    let accs = resolve_accounts(&config, &env(&[]));
    assert_eq!(accs[0].discord().unwrap().history_limit, 7);
    assert_eq!(accs[1].kook().unwrap().history_limit, 3);
}

#[test]
fn accounts_override_the_section_key_by_key() {
    let (config, _) = parse(
        "{commands: {native: false}, channels: {discord: {token: 'base', textChunkLimit: 1000, dm: {policy: 'disabled'},
          accounts: {work: {token: 'w', name: 'Work', textChunkLimit: 500, commands: {native: true}}}}}}",
    )
    .unwrap();
    let accs = resolve_accounts(&config, &env(&[]));
    let base = accs.iter().find(|a| a.account_id == "default").unwrap();
    let work = accs.iter().find(|a| a.account_id == "work").unwrap();
    assert_eq!(base.discord().unwrap().text_chunk_limit, 1000);
    assert_eq!(base.discord().unwrap().native_commands, NativeCommands::Off);
    assert_eq!(work.discord().unwrap().text_chunk_limit, 500);
    assert_eq!(
        work.discord().unwrap().dm.policy,
        DmPolicy::Disabled,
        "inherited"
    );
    assert_eq!(work.discord().unwrap().native_commands, NativeCommands::On);
    assert_eq!(work.name.as_deref(), Some("Work"));
    assert_eq!(work.token.expose(), "w");
}

#[test]
fn tokens_are_redacted_in_debug_output() {
    let (config, _) = parse("{channels: {discord: {token: 'MTIz.super.secret'}}}").unwrap();
    let accs = resolve_accounts(&config, &env(&[]));
    let dump = format!("{accs:?} {config:?}");
    assert!(!dump.contains("super.secret"), "{dump}");
}

#[test]
fn platform_names_parse() {
    assert_eq!("discord".parse::<Platform>().unwrap(), Platform::Discord);
    assert_eq!(" KOOK ".parse::<Platform>().unwrap(), Platform::Kook);
    assert!("slack".parse::<Platform>().is_err());
}
