//! `access::MemberSearch`: which member searches to send for allowlist
//! names a guild's `GUILD_CREATE` did not resolve, each once per guild and
//! none after a refusal; what an answer adds to the name directory; and a
//! refusal (HTTP 403, the Server Members Intent is off) said once.

use krill_core::access::{
    resolve_names, DirGuild, Directory, MemberSearch, SearchOutcome, MEMBER_SEARCH_LIMIT,
};
use krill_core::config::{parse, resolve_accounts, Platform};
use krill_core::discord::Member;
use krill_core::rest::discord::Request;
use krill_core::rest::RestError;

fn search(guild: &str, query: &str) -> Request {
    Request::SearchGuildMembers {
        guild_id: guild.to_owned(),
        query: query.to_owned(),
        limit: MEMBER_SEARCH_LIMIT,
    }
}

fn names(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| (*s).to_owned()).collect()
}

fn forbidden() -> RestError {
    RestError::Forbidden {
        status: 403,
        code: Some(50001),
        target: "member search in guild 1".to_owned(),
        message: "Missing Access".to_owned(),
    }
}

#[test]
fn each_name_is_searched_once_per_guild() {
    let mut s = MemberSearch::default();
    assert_eq!(
        s.queries("1", &names(&["alice", "bob#1234"])),
        [search("1", "alice"), search("1", "bob")],
        "a tag is searched by its name"
    );
    assert!(s.queries("1", &names(&["alice"])).is_empty());
    assert_eq!(s.queries("2", &names(&["alice"])), [search("2", "alice")]);
    assert!(s.queries("3", &names(&[" ", "#0001"])).is_empty());
}

#[test]
fn found_members_resolve_names_by_username() {
    let mut s = MemberSearch::default();
    let members: Vec<Member> = serde_json::from_str(
        r#"[{"user": {"id": "111", "username": "alice"}, "nick": "Al", "roles": []},
            {"nick": "no user", "roles": []}]"#,
    )
    .unwrap();
    let SearchOutcome::Found(found) = s.answered(Ok(members)) else {
        panic!("found");
    };
    assert_eq!(found.len(), 1, "a member without a user is skipped");
    assert_eq!(
        (found[0].id.as_str(), found[0].nick.as_deref()),
        ("111", Some("Al"))
    );

    let (config, _) = parse(
        r#"{ channels: { discord: { token: "t", guilds: { "1": { users: ["alice"] } } } } }"#,
    )
    .unwrap();
    let accounts = resolve_accounts(&config, &|_| None);
    let account = accounts
        .iter()
        .find(|a| a.platform == Platform::Discord)
        .unwrap();
    let dir = Directory {
        guilds: vec![DirGuild {
            id: "1".into(),
            name: "g".into(),
            channels: vec![],
            members: found,
        }],
    };
    let (resolved, log) = resolve_names(account.discord().unwrap(), &dir);
    assert_eq!(resolved.user("alice"), Some("111"));
    assert_eq!(log, [("alice".to_owned(), "111".to_owned())]);
}

#[test]
fn a_refusal_is_said_once_and_stops_every_search() {
    let mut s = MemberSearch::default();
    assert_eq!(s.queries("1", &names(&["alice", "carol"])).len(), 2);
    let SearchOutcome::RefusedFirst(notice) = s.answered(Err(&forbidden())) else {
        panic!("refused");
    };
    assert!(notice.contains("Server Members Intent"), "{notice}");
    assert_eq!(s.refusal(), Some(notice.as_str()));
    assert_eq!(s.answered(Err(&forbidden())), SearchOutcome::Nothing);
    assert!(s.queries("2", &names(&["alice"])).is_empty());
    let transient = RestError::Server {
        status: 502,
        attempts: 3,
    };
    let mut other = MemberSearch::default();
    assert_eq!(other.answered(Err(&transient)), SearchOutcome::Nothing);
    assert_eq!(other.refusal(), None);
}
