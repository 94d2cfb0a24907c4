//! Config errors: each names the key path (dotted, indices in brackets,
//! non-identifier keys quoted), the line and column, and what is wrong.
//! The messages are insta snapshots (`snapshots/config_errors__*.snap`).

use krill_core::config::{parse, ConfigError, KeyPath};

fn err(text: &str) -> ConfigError {
    match parse(text) {
        Ok(_) => panic!("config should be rejected:\n{text}"),
        Err(e) => e,
    }
}

fn first(text: &str) -> (String, usize, usize, String) {
    let e = err(text);
    let p = &e.problems[0];
    (p.path.to_string(), p.line, p.column, p.message.clone())
}

#[test]
fn unknown_key_with_a_suggestion() {
    let e =
        err("{\n  channels: {\n    discord: {\n      dm: { alowFrom: ['1'] },\n    },\n  },\n}");
    insta::assert_snapshot!(e.to_string());
    assert_eq!(
        e.problems[0].path,
        KeyPath::dotted("channels.discord.dm.alowFrom")
    );
    assert_eq!((e.problems[0].line, e.problems[0].column), (4, 13));
}

#[test]
fn unknown_key_without_a_close_match_lists_the_keys() {
    insta::assert_snapshot!(err("{session: {zzz: 1}}").to_string());
}

#[test]
fn unknown_top_level_key() {
    insta::assert_snapshot!(err("{chanels: {}}").to_string());
}

#[test]
fn wrong_type() {
    let e = err("{\n  channels: { discord: { enabled: 'yes' } },\n}");
    insta::assert_snapshot!(e.to_string());
    assert_eq!(
        first("{\n  channels: { discord: { enabled: 'yes' } },\n}").0,
        "channels.discord.enabled"
    );
}

#[test]
fn bad_enum_value() {
    insta::assert_snapshot!(err("{channels: {discord: {dm: {policy: 'pairng'}}}}").to_string());
}

#[test]
fn bad_enum_value_without_a_close_match() {
    insta::assert_snapshot!(err("{channels: {discord: {groupPolicy: 'everyone'}}}").to_string());
}

#[test]
fn open_dm_policy_without_star() {
    let e = err("{\n  channels: {\n    discord: {\n      dm: { policy: 'open', allowFrom: ['123'] },\n    },\n  },\n}");
    insta::assert_snapshot!(e.to_string());
    assert_eq!(e.problems[0].path.to_string(), "channels.discord.dm.policy");
    assert_eq!(e.problems[0].line, 4);
}

#[test]
fn numeric_guild_key_is_quoted_in_the_path() {
    let text = r#"{
  channels: {
    discord: {
      guilds: {
        "123": {
          channels: {
            help: { allow: "yes" },
          },
        },
      },
    },
  },
}"#;
    let (path, line, col, _) = first(text);
    assert_eq!(path, r#"channels.discord.guilds."123".channels.help.allow"#);
    assert_eq!((line, col), (7, 28));
    insta::assert_snapshot!(err(text).to_string());
}

#[test]
fn star_and_spaced_keys_are_quoted() {
    let e = err(r#"{channels: {discord: {guilds: {"*": {channels: {"my room": {users: "x"}}}}}}}"#);
    assert_eq!(
        e.problems[0].path.to_string(),
        r#"channels.discord.guilds."*".channels."my room".users"#
    );
}

#[test]
fn backend_type_is_named_with_its_list_index() {
    let text = "{\n  agents: {\n    list: [\n      { id: 'main', backend: { type: 'opnai' } },\n    ],\n  },\n}";
    let (path, line, col, msg) = first(text);
    assert_eq!(path, "agents.list[0].backend.type");
    assert_eq!((line, col), (4, 38));
    assert!(msg.contains("did you mean `openai`"), "{msg}");
    insta::assert_snapshot!(err(text).to_string());
}

#[test]
fn backend_unknown_field_points_at_the_field() {
    let (path, _, _, msg) =
        first("{agents: {defaults: {backend: {type: 'command', command: ['x'], timeout: 5}}}}");
    assert_eq!(path, "agents.defaults.backend.timeout");
    assert!(msg.contains("timeoutMs"), "{msg}");
}

#[test]
fn missing_required_field() {
    insta::assert_snapshot!(err("{agents: {list: [{name: 'no id'}]}}").to_string());
}

#[test]
fn out_of_range_limits() {
    let e = err("{channels: {\n discord: {textChunkLimit: 2001, maxLinesPerMessage: 0},\n kook: {textChunkLimit: 9000},\n}}");
    insta::assert_snapshot!(e.to_string());
    assert_eq!(e.problems.len(), 3);
}

#[test]
fn negative_and_fractional_numbers_for_counts() {
    insta::assert_snapshot!(
        err("{channels: {discord: {historyLimit: -1, dmHistoryLimit: 2.5}}}").to_string()
    );
}

#[test]
fn every_problem_is_reported_in_file_order() {
    let text = "{\n  channels: {\n    discord: {\n      enabld: true,\n      dm: { policy: 'closed' },\n      allowBots: 'no',\n    },\n  },\n  sesion: {},\n}";
    let e = err(text);
    let lines: Vec<usize> = e.problems.iter().map(|p| p.line).collect();
    assert_eq!(lines, vec![4, 5, 6, 9]);
    insta::assert_snapshot!(e.to_string());
}

#[test]
fn syntax_errors_name_line_and_column() {
    let e = err("{\n  channels: {\n    discord: { token: 'abc' enabled: true },\n  },\n}");
    insta::assert_snapshot!(e.to_string());
    assert_eq!((e.problems[0].line, e.problems[0].column), (3, 29));
    insta::assert_snapshot!("unterminated_string", err("{a: 'abc\n}").to_string());
    insta::assert_snapshot!(
        "bare_word",
        err("{channels: {discord: {dm: {policy: open}}}}").to_string()
    );
}

#[test]
fn invalid_mention_regex_names_its_index() {
    let e = err("{agents: {list: [{id: 'a', groupChat: {mentionPatterns: ['ok', '(unclosed']}}]}}");
    assert_eq!(
        e.problems[0].path.to_string(),
        "agents.list[0].groupChat.mentionPatterns[1]"
    );
    insta::assert_snapshot!(e.to_string());
}

#[test]
fn agent_ids_unique_and_one_default() {
    let e = err("{agents: {list: [{id: 'a', default: true}, {id: 'a'}, {id: 'b', default: true}, {id: 'bad id'}]}}");
    insta::assert_snapshot!(e.to_string());
}

#[test]
fn root_must_be_an_object() {
    insta::assert_snapshot!(err("[1, 2]").to_string());
}

#[test]
fn nested_accounts_and_bad_shards() {
    let e = err("{channels: {discord: {shards: {total: 4, from: 3, to: 2}, accounts: {a: {accounts: {b: {}}}}}}}");
    insta::assert_snapshot!(e.to_string());
}

#[test]
fn retry_policy_is_checked() {
    let e = err("{channels: {discord: {retry: {attempts: 0, minDelayMs: 5000, maxDelayMs: 100, jitter: 2, tries: 1}}}}");
    insta::assert_snapshot!(e.to_string());
}

#[test]
fn tokens_never_appear_in_errors() {
    let e = err("{channels: {discord: {token: 'MTIzNDU2.secret.value', bogus: 1}}}");
    assert!(!format!("{e} {e:?}").contains("secret.value"));
    let e = err("{channels: {discord: {token: 12345}}}");
    assert_eq!(e.problems[0].path.to_string(), "channels.discord.token");
}

/// Issue 16: a config with many unknown keys is read in linear time and its
/// error lists the first problems with a count of the rest.
#[test]
fn many_unknown_keys_list_the_first_problems_and_count_the_rest() {
    let n = 5_000;
    let mut text = String::from("{\n  channels: {\n    discord: {\n");
    for i in 0..n {
        text.push_str(&format!("      unknownKey{i}: {i},\n"));
    }
    text.push_str("    },\n  },\n}\n");
    let e = err(&text);
    assert_eq!(e.problems.len(), krill_core::config::MAX_LISTED_PROBLEMS);
    assert_eq!(e.more, n - krill_core::config::MAX_LISTED_PROBLEMS);
    assert_eq!(
        e.problems[0].path.to_string(),
        "channels.discord.unknownKey0"
    );
    assert_eq!((e.problems[0].line, e.problems[0].column), (4, 7));
    assert_eq!(e.problems[19].line, 23);
    let shown = e.to_string();
    assert!(
        shown.ends_with(&format!(
            "... and {} more problems (fix the ones above first)",
            n - 20
        )),
        "{shown}"
    );
}

/// Line and column stay right across CR LF line breaks with many problems.
#[test]
fn problems_after_crlf_lines_have_the_right_lines() {
    let e = err("{\r\n  a: 1,\r\n  b: 2,\r\n}\r\n");
    let at: Vec<(usize, usize)> = e.problems.iter().map(|p| (p.line, p.column)).collect();
    assert_eq!(at, vec![(2, 3), (3, 3)]);
}

/// Issue 16: limits that cannot hold a chunk are refused, naming the key.
#[test]
fn chunk_limits_that_cannot_hold_a_chunk_are_refused() {
    for (text, key) in [
        (
            "{channels: {discord: {textChunkLimit: 0}}}",
            "channels.discord.textChunkLimit",
        ),
        (
            "{channels: {kook: {textChunkLimit: 5}}}",
            "channels.kook.textChunkLimit",
        ),
        (
            "{channels: {kook: {maxReplyChars: 0}}}",
            "channels.kook.maxReplyChars",
        ),
    ] {
        let e = err(text);
        assert_eq!(e.problems[0].path.to_string(), key, "{text}");
        assert!(
            e.problems[0].message.contains("must be from 20"),
            "{}",
            e.problems[0].message
        );
    }
}
