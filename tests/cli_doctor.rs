//! `krill doctor`: offline checks with one `ok` / `warn` / `error` line per
//! finding; exit 0 without errors, 1 with errors, 2 on a bad config. Every
//! test asserts that no token appears in stdout or stderr.

#[path = "support/cli.rs"]
mod cli;

use std::path::Path;

use cli::{set_mode, Run, Setup};
use krill_core::config::Platform;
use krill_core::pairing::Requester;
use krill_drivers::pairing_store::{now_unix_ms, PairingStore};

const DISCORD_TOKEN: &str = "MTIzNDU2.doctor-discord.SECRETtoken";
const KOOK_TOKEN: &str = "1/KOOKdoctorSECRET/token==";

impl Setup {
    /// `krill [--config] doctor`.
    fn doctor(&self, config: Option<&Path>, env: &[(&str, &str)]) -> Run {
        self.run(
            config,
            &["doctor"],
            env,
            &[DISCORD_TOKEN, KOOK_TOKEN, "SECRET"],
        )
    }
}

impl Run {
    /// The lines starting with `level`.
    fn lines(&self, level: &str) -> Vec<&str> {
        self.stdout
            .lines()
            .filter(|l| l.split_whitespace().next() == Some(level))
            .collect()
    }
    fn has(&self, level: &str, needle: &str) -> bool {
        self.lines(level).iter().any(|l| l.contains(needle))
    }
}

#[test]
fn defaults_without_a_config_or_tokens_pass_with_one_warning() {
    let s = Setup::new();
    let run = s.doctor(None, &[]);
    assert_eq!(run.code, Some(0), "{}{}", run.stdout, run.stderr);
    let shown = run
        .stdout
        .replace(&s.dir.path().display().to_string(), "[TMP]");
    insta::assert_snapshot!(shown, @r"
    ok     config: no file at [TMP]/.krill/krill.json5: using defaults (echo agent; channels start from DISCORD_BOT_TOKEN / KOOK_BOT_TOKEN)
    ok     state dir: [TMP]/state does not exist yet (created on first use)
    ok     gateway: not running (no status file)
    ok     discord/default: not started: no token (set DISCORD_BOT_TOKEN or channels.discord.token)
    ok     kook/default: not started: no token (set KOOK_BOT_TOKEN or channels.kook.token)
    warn   channels: no channel has a token: `krill gateway` has nothing to connect (set DISCORD_BOT_TOKEN or KOOK_BOT_TOKEN, or channels.<channel>.token)
    ok     agent main (default): echo backend: replies with the inbound text (set agents.list[].backend for a real agent)
    ok     pairing: no pending requests

    0 error(s), 1 warning(s).
    ");
}

#[test]
fn env_token_alone_explains_the_open_group_policy() {
    let s = Setup::new();
    std::fs::create_dir_all(s.state()).unwrap();
    let run = s.doctor(None, &[("DISCORD_BOT_TOKEN", DISCORD_TOKEN)]);
    assert_eq!(run.code, Some(0), "{}", run.stdout);
    assert!(run.has("ok", "discord/default: token from env (DISCORD_BOT_TOKEN)"));
    assert!(
        run.has("warn", "groupPolicy defaults to \"open\""),
        "{}",
        run.stdout
    );
    assert!(run.has("ok", "dm.policy \"pairing\""));
    assert!(run.has("ok", "krill pairing approve discord <code>"));
    assert!(run.has("ok", "state dir:") && run.has("ok", "is writable"));
    assert!(!run.stdout.contains("no channel has a token"));
}

#[test]
fn kook_without_allowed_user_id_warns_that_anyone_can_control_the_bot() {
    let s = Setup::new();
    let config = s.config(&format!(
        r#"{{ channels: {{ kook: {{ token: "{KOOK_TOKEN}" }} }} }}"#
    ));
    let run = s.doctor(Some(&config), &[]);
    assert_eq!(run.code, Some(0), "{}", run.stdout);
    assert!(run.has(
        "ok",
        "kook/default: token from config (channels.kook.token)"
    ));
    assert!(
        run.has(
            "warn",
            "kook/default: channels.kook.allowedUserId is not set"
        ),
        "{}",
        run.stdout
    );
    assert!(run.has("warn", "can control it"));

    let config = s.config(&format!(
        r#"{{ channels: {{ kook: {{ token: "{KOOK_TOKEN}", allowedUserId: "2418200000" }} }} }}"#
    ));
    let run = s.doctor(Some(&config), &[]);
    assert!(
        !run.stdout.contains("allowedUserId is not set"),
        "{}",
        run.stdout
    );
    assert!(run.has("ok", "allowedUserId: only 2418200000 may talk to the bot"));
}

#[test]
fn a_missing_command_agent_program_is_an_error() {
    let s = Setup::new();
    let config = s.config(
        r#"{ agents: { list: [ { id: "main", backend: { type: "command", command: ["krill-no-such-agent", "--x"] } } ] } }"#,
    );
    let bin = s.dir.path().join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let path = bin.display().to_string();
    let run = s.doctor(Some(&config), &[("PATH", &path)]);
    assert_eq!(run.code, Some(1), "{}", run.stdout);
    assert!(
        run.has(
            "error",
            "agent main (default): command backend: program krill-no-such-agent not found on PATH"
        ),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("1 error(s)"));

    // On PATH but not executable.
    let prog = bin.join("krill-no-such-agent");
    std::fs::write(&prog, "#!/bin/sh\necho hi\n").unwrap();
    set_mode(&prog, 0o644);
    let run = s.doctor(Some(&config), &[("PATH", &path)]);
    assert_eq!(run.code, Some(1));
    assert!(
        run.has("error", "is not executable: run `chmod +x"),
        "{}",
        run.stdout
    );

    // Executable: found.
    set_mode(&prog, 0o755);
    let run = s.doctor(Some(&config), &[("PATH", &path)]);
    assert_eq!(run.code, Some(0), "{}", run.stdout);
    assert!(run.has(
        "ok",
        &format!("command backend: krill-no-such-agent ({})", prog.display())
    ));

    // A path with a slash is taken as is.
    let config = s.config(
        r#"{ agents: { list: [ { id: "main", backend: { type: "command", command: ["/nonexistent/agent.py"] } } ] } }"#,
    );
    let run = s.doctor(Some(&config), &[("PATH", &path)]);
    assert_eq!(run.code, Some(1));
    assert!(run.has("error", "program /nonexistent/agent.py does not exist"));
}

#[test]
fn an_openai_agent_needs_its_api_key_variable() {
    let s = Setup::new();
    let config = s.config(
        r#"{ agents: { list: [
            { id: "main", default: true },
            { id: "gpt", backend: { type: "openai", baseUrl: "http://127.0.0.1:9/v1", model: "gpt-x", apiKeyEnv: "KRILL_TEST_DOCTOR_KEY" } },
        ] } }"#,
    );
    let run = s.doctor(Some(&config), &[]);
    assert_eq!(run.code, Some(1), "{}", run.stdout);
    assert!(run.has("ok", "agent main (default): echo backend"));
    assert!(run.has(
        "ok",
        "agent gpt: openai backend: model gpt-x at http://127.0.0.1:9/v1"
    ));
    assert!(run.has(
        "error",
        "agent gpt: apiKeyEnv KRILL_TEST_DOCTOR_KEY is not set"
    ));

    let run = s.doctor(Some(&config), &[("KRILL_TEST_DOCTOR_KEY", "sk-SECRET-key")]);
    assert_eq!(run.code, Some(0), "{}", run.stdout);
    assert!(run.has("ok", "apiKeyEnv KRILL_TEST_DOCTOR_KEY is set"));
}

#[test]
fn discord_settings_are_explained_and_risky_ones_flagged() {
    let s = Setup::new();
    let config = s.config(&format!(
        r#"{{
          channels: {{
            discord: {{
              token: "{DISCORD_TOKEN}",
              requireMention: false,
              intents: 4609,
              dm: {{ policy: "allowlist", allowFrom: ["80351110224678912"] }},
              guilds: {{ "849255963033731072": {{ channels: {{ help: {{ allow: true }} }} }} }},
            }},
          }},
        }}"#
    ));
    let run = s.doctor(Some(&config), &[("DISCORD_BOT_TOKEN", "env-SECRET-token")]);
    assert_eq!(run.code, Some(0), "{}", run.stdout);
    assert!(
        run.has("warn", "channels.discord.requireMention: ignored here"),
        "{}",
        run.stdout
    );
    assert!(run.has(
        "ok",
        "token from config (channels.discord.token) (DISCORD_BOT_TOKEN is also set and ignored"
    ));
    assert!(run.has("ok", "groupPolicy \"allowlist\": only the 1 guild entry"));
    assert!(run.has("ok", "dm.policy \"allowlist\": only dm.allowFrom (1 entry)"));
    assert!(
        run.has("warn", "channels.discord.intents (4609) lacks MESSAGE_CONTENT (32768): guild messages arrive with empty text unless they mention the bot"),
        "{}",
        run.stdout
    );
    assert!(!run.stdout.contains("lacks DIRECT_MESSAGES"));
}

#[test]
fn a_token_with_the_bot_prefix_is_an_error() {
    let s = Setup::new();
    let config = s.config(&format!(
        r#"{{ channels: {{ discord: {{ token: "Bot {DISCORD_TOKEN}" }} }} }}"#
    ));
    let run = s.doctor(Some(&config), &[]);
    assert_eq!(run.code, Some(1), "{}", run.stdout);
    assert!(run.has("error", "the token starts with \"Bot \""));
}

#[test]
fn a_readable_config_holding_a_token_is_flagged() {
    let s = Setup::new();
    let config = s.config(&format!(
        r#"{{ channels: {{ discord: {{ token: "{DISCORD_TOKEN}" }} }} }}"#
    ));
    let run = s.doctor(Some(&config), &[]);
    assert!(run.has(
        "ok",
        "config: holds a bot token and only its owner can read it"
    ));
    set_mode(&config, 0o644);
    let run = s.doctor(Some(&config), &[]);
    assert_eq!(run.code, Some(0));
    assert!(
        run.has(
            "warn",
            "holds a bot token and is readable by other users (mode 0644): run `chmod 600"
        ),
        "{}",
        run.stdout
    );
}

#[test]
fn a_bad_config_exits_2_naming_the_key() {
    let s = Setup::new();
    let config = s.config(r#"{ channels: { discord: { dm: { policy: "sometimes" } } } }"#);
    let run = s.doctor(Some(&config), &[]);
    assert_eq!(run.code, Some(2), "{}", run.stdout);
    assert!(
        run.has("error", "channels.discord.dm.policy"),
        "{}",
        run.stdout
    );
    let missing = s.dir.path().join("nope.json5");
    let run = s.doctor(Some(&missing), &[]);
    assert_eq!(run.code, Some(2));
    assert!(run.has("error", "config file not found"));
}

#[test]
fn pending_pairings_and_an_open_credentials_dir_are_reported() {
    let s = Setup::new();
    let creds = s.state().join("credentials");
    let store = PairingStore::new(&creds, Platform::Discord);
    for id in ["111", "222"] {
        store
            .challenge(
                now_unix_ms(),
                &Requester {
                    id: id.into(),
                    name: Some(format!("user{id}")),
                    account_id: "default".into(),
                    chat_id: None,
                },
                7,
            )
            .unwrap();
    }
    let run = s.doctor(None, &[]);
    assert!(
        run.has("warn", "pairing: 2 pending discord request(s)"),
        "{}",
        run.stdout
    );
    assert!(run.has("warn", "krill pairing approve discord <code>"));
    assert!(run.has("ok", "credentials:") && run.has("ok", "is private (0700)"));

    set_mode(&creds, 0o755);
    let run = s.doctor(None, &[]);
    assert!(
        run.has(
            "warn",
            "is mode 0755: other users can see pairing approvals"
        ),
        "{}",
        run.stdout
    );
}

#[test]
fn a_running_gateway_is_seen_through_its_status_file() {
    use krill_drivers::status_file::{write_atomic, ChannelStatus, GatewayStatus};
    let s = Setup::new();
    let now = now_unix_ms();
    write_atomic(
        &s.state(),
        &GatewayStatus {
            pid: std::process::id(),
            started_at_ms: now - 3_600_000,
            updated_at_ms: now,
            channels: vec![ChannelStatus {
                state: "ready".into(),
                connected: true,
                since_last_ack_or_pong_ms: Some(200_000),
                ..ChannelStatus::new("kook", "default")
            }],
        },
    )
    .unwrap();
    let run = s.doctor(None, &[]);
    assert!(run.has("ok", "gateway: running (pid "), "{}", run.stdout);
    assert!(run.has("warn", "kook/default: connected but no PONG for"));
}

#[test]
fn state_dir_that_is_a_file_is_an_error() {
    let s = Setup::new();
    std::fs::write(s.state(), "not a dir").unwrap();
    let run = s.doctor(None, &[]);
    assert_eq!(run.code, Some(1));
    assert!(run.has("error", "is not a directory"));
}

#[test]
fn keys_that_have_no_effect_yet_are_warned_once_each() {
    let s = Setup::new();
    let config = s.config(
        r#"{
  channels: { discord: { mediaMaxMb: 4, guilds: { "1": { channels: { help: { skills: ["x"] } } } } } },
  agents: { list: [{ id: "main", backend: { type: "openai", baseUrl: "http://127.0.0.1:1/v1", model: "m" } }] },
}"#,
    );
    let run = s.doctor(Some(&config), &[]);
    let warned: Vec<&str> = run
        .lines("warn")
        .into_iter()
        .filter(|l| l.contains("has no effect yet"))
        .collect();
    assert_eq!(warned.len(), 1, "{}", run.stdout);
    assert!(
        warned[0].contains(
            "channels.discord.guilds.\"1\".channels.help.skills: has no effect yet: the openai backend has no skills to filter"
        ),
        "{}",
        warned[0]
    );
    assert!(
        !run.stdout.contains("mediaMaxMb"),
        "mediaMaxMb is carried out: {}",
        run.stdout
    );
}
