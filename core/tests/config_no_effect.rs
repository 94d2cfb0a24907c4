//! `config::keys_without_effect`: one warning per key of the file that
//! `NO_EFFECT_YET` lists, naming its full key path and line, in file order;
//! nothing for keys that are carried out or not set (`actions`, `tools`,
//! `toolsBySender` are carried out by the `discord` tool).

use krill_core::config::{keys_without_effect, parse, Inert, NO_EFFECT_YET};

/// The warnings of `text` as `(path, line)`.
fn inert(text: &str) -> Vec<(String, usize)> {
    let (config, _) = parse(text).unwrap_or_else(|e| panic!("{e}"));
    keys_without_effect(text, &config)
        .into_iter()
        .map(|w| {
            assert!(
                w.message.starts_with("has no effect yet: "),
                "{}",
                w.message
            );
            (w.path.to_string(), w.line)
        })
        .collect()
}

const EVERY_KEY: &str = r#"{
  channels: {
    discord: {
      mediaMaxMb: 16,
      actions: { roles: false, moderation: true },
      configWrites: false,
      commands: { native: false },
      guilds: {
        "111": {
          slug: "my-server",
          tools: { deny: ["exec"] },
          toolsBySender: { "*": { allow: [] } },
          channels: {
            help: { allow: true, skills: ["search"], tools: { allow: ["search"] }, toolsBySender: { "7": { deny: [] } } },
          },
        },
      },
      accounts: { work: { token: "t", actions: { pins: true }, mediaMaxMb: 4 } },
    },
  },
  commands: { native: "auto", text: false, useAccessGroups: false, config: true },
  agents: { list: [{ id: "main", backend: { type: "openai", baseUrl: "http://127.0.0.1:1/v1", model: "m" } }] },
}
"#;

#[test]
fn every_listed_key_is_named_once_with_its_full_path_and_line() {
    assert_eq!(
        inert(EVERY_KEY),
        [("channels.discord.guilds.\"111\".channels.help.skills", 14),]
            .map(|(p, l)| (p.to_owned(), l))
    );
}

#[test]
fn every_row_of_the_table_is_exercised_above() {
    // A new row needs a key in EVERY_KEY: a pattern no config can match
    // would be a row nobody notices.
    let (config, _) = parse(EVERY_KEY).unwrap();
    let named: Vec<String> = keys_without_effect(EVERY_KEY, &config)
        .iter()
        .map(|w| {
            w.path
                .to_string()
                .replace("\"111\"", "*")
                .replace("help", "*")
        })
        .collect();
    for row in NO_EFFECT_YET {
        let shape = row.pattern.trim_end_matches(".*");
        assert!(
            named.iter().any(|n| n.starts_with(shape)),
            "{} is not exercised",
            row.pattern
        );
    }
}

#[test]
fn skills_are_inert_only_when_the_answering_agent_runs_openai() {
    let channel = r#"channels: { discord: { guilds: { "111": { channels: { help: { skills: ["docs"] } } } } } }"#;
    let with = |backend: &str| {
        format!("{{ {channel}, agents: {{ defaults: {{ backend: {backend} }} }} }}")
    };
    assert_eq!(
        inert(&with(
            r#"{ type: "openai", baseUrl: "http://x/v1", model: "m" }"#
        )),
        [(
            "channels.discord.guilds.\"111\".channels.help.skills".to_owned(),
            1
        )]
    );
    assert!(inert(&with(r#"{ type: "command", command: ["agent"] }"#)).is_empty());
    assert!(inert(&with(r#"{ type: "echo" }"#)).is_empty());
    assert!(NO_EFFECT_YET
        .iter()
        .any(|r| r.pattern.ends_with(".skills") && r.when == Inert::WithOpenAiAgent));
}

#[test]
fn keys_that_work_and_keys_not_set_give_nothing() {
    assert!(inert("{}").is_empty());
    assert!(inert("// only a comment\n").is_empty());
    assert!(inert(
        r#"{
  channels: {
    discord: { token: "t", textChunkLimit: 1500, actions: {}, guilds: { "*": { requireMention: false } } },
    kook: { token: "k", allowedUserId: ["1"] },
  },
  messages: { ackReaction: "👀" },
}"#
    )
    .is_empty());
}
