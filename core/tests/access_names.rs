//! Start-up name → id resolution (`access::resolve_names`).

use krill_core::access::{resolve_names, DirChannel, DirGuild, DirMember, Directory};
use krill_core::config::{parse, resolve_accounts, DiscordSettings};

fn settings(text: &str) -> DiscordSettings {
    let (config, _) = parse(text).unwrap();
    let accounts = resolve_accounts(&config, &|_| Some("t".to_owned()));
    accounts[0].discord().unwrap().clone()
}

fn member(id: &str, username: &str, global: Option<&str>, nick: Option<&str>) -> DirMember {
    DirMember {
        id: id.into(),
        username: username.into(),
        global_name: global.map(Into::into),
        nick: nick.map(Into::into),
    }
}

fn dir() -> Directory {
    Directory {
        guilds: vec![DirGuild {
            id: "111".into(),
            name: "Friends of Clawd".into(),
            channels: vec![
                DirChannel {
                    id: "201".into(),
                    name: "help".into(),
                    parent: None,
                },
                DirChannel {
                    id: "202".into(),
                    name: "general".into(),
                    parent: None,
                },
            ],
            members: vec![
                member("7", "steipete", Some("Peter"), None),
                member("8", "alice", Some("Al"), Some("Boss")),
                member("9", "bob", Some("Al"), None),
            ],
        }],
    }
}

#[test]
fn names_resolve_to_ids_and_the_mapping_is_logged() {
    let s = settings(
        "{channels: {discord: {dm: {allowFrom: ['steipete', '123', 'Boss', 'Al', 'nobody']},
          guilds: {'friends-of-clawd': {users: ['@alice'], channels: {help: {}, '#General': {users: ['bob']}}}}}}}",
    );
    let (r, log) = resolve_names(&s, &dir());
    assert_eq!(r.user("steipete"), Some("7"));
    assert_eq!(r.user("alice"), Some("8"));
    assert_eq!(r.user("bob"), Some("9"));
    assert_eq!(r.user("boss"), Some("8"), "unique nickname");
    assert_eq!(
        r.user("al"),
        None,
        "ambiguous display name stays unresolved"
    );
    assert_eq!(
        r.user("nobody"),
        None,
        "unresolved entries are kept as typed"
    );
    assert_eq!(
        r.guilds.get("friends-of-clawd").map(String::as_str),
        Some("111")
    );
    assert_eq!(
        r.channels
            .get(&("111".to_owned(), "help".to_owned()))
            .map(String::as_str),
        Some("201")
    );
    assert_eq!(
        r.channels
            .get(&("111".to_owned(), "general".to_owned()))
            .map(String::as_str),
        Some("202")
    );
    assert!(log.contains(&("steipete".to_owned(), "7".to_owned())));
    assert!(log.contains(&("friends-of-clawd".to_owned(), "111".to_owned())));
    assert!(
        !log.iter().any(|(typed, _)| typed == "123"),
        "ids are not 'resolved'"
    );
}

#[test]
fn wildcard_guild_channel_names_resolve_in_every_guild() {
    let s = settings("{channels: {discord: {guilds: {'*': {channels: {general: {}}}}}}}");
    let (r, _) = resolve_names(&s, &dir());
    assert_eq!(
        r.channels
            .get(&("111".to_owned(), "general".to_owned()))
            .map(String::as_str),
        Some("202")
    );
}
