//! `krill channels status [--probe] [--json]`: configured accounts and their
//! token source, the running gateway's state from `status.json`, and probes
//! of the platform APIs against the fake Discord and KOOK servers. Exit 0
//! when every probe is fine, 1 when one fails, 2 on a bad config. Every test
//! asserts that no token appears in stdout or stderr.

#[path = "support/cli.rs"]
mod cli;

use std::path::Path;

use cli::{Run, Setup};
use krill_drivers::pairing_store::now_unix_ms;
use krill_drivers::status_file::{write_atomic, ChannelStatus, GatewayStatus};
use krill_testkit::{FakeDiscord, FakeDiscordOptions, FakeKook, FakeKookOptions, ScriptedResponse};
use serde_json::{json, Value};

const DISCORD_TOKEN: &str = "MTIzNDU2.channels-discord.SECRETtoken";
const WRONG_DISCORD_TOKEN: &str = "MTIzNDU2.wrong-discord.SECRETwrong";
const KOOK_TOKEN: &str = "1/KOOKchannelsSECRET/token==";
const WRONG_KOOK_TOKEN: &str = "1/KOOKwrongSECRET/nope==";

/// Every secret the tests use: none may be printed.
const SECRETS: &[&str] = &[
    DISCORD_TOKEN,
    WRONG_DISCORD_TOKEN,
    KOOK_TOKEN,
    WRONG_KOOK_TOKEN,
    "SECRET",
    "fake-gw-token",
];

impl Setup {
    /// `krill [--config] channels status <args>`.
    fn status(&self, config: Option<&Path>, args: &[&str], env: &[(&str, &str)]) -> Run {
        let mut all = vec!["channels", "status"];
        all.extend_from_slice(args);
        self.run(config, &all, env, SECRETS)
    }
}

impl Run {
    fn line_with(&self, needle: &str) -> Option<&str> {
        self.stdout.lines().find(|l| l.contains(needle))
    }
    fn probe(&self, who: &str, level: &str, needle: &str) -> bool {
        self.stdout.lines().any(|l| {
            let mut words = l.split_whitespace();
            words.next() == Some(who) && words.next() == Some(level) && l.contains(needle)
        })
    }
}

fn discord_config(base: &str, token: &str, extra: &str) -> String {
    format!(
        r#"{{ channels: {{ discord: {{ token: "{token}", apiBaseUrl: "{base}", {extra} }} }} }}"#
    )
}

#[test]
fn without_a_gateway_lists_accounts_token_sources_and_skips() {
    let s = Setup::new();
    let config = s.config(&format!(
        r#"{{ channels: {{
            discord: {{ token: "{DISCORD_TOKEN}", accounts: {{ second: {{ name: "Second bot" }} }} }},
            kook: {{ enabled: false }},
        }} }}"#
    ));
    let run = s.status(Some(&config), &[], &[("KOOK_BOT_TOKEN", KOOK_TOKEN)]);
    assert_eq!(run.code, Some(0), "{}{}", run.stdout, run.stderr);
    let shown = run
        .stdout
        .replace(&s.dir.path().display().to_string(), "[TMP]");
    insta::assert_snapshot!(shown, @r"
    Config:  [TMP]/krill.json5
    Gateway: not running (no [TMP]/state/status.json)

    CHANNEL  ACCOUNT              TOKEN                            STATE        DETAILS
    discord  default              config (channels.discord.token)  not running  starts with `krill gateway`
    discord  second (Second bot)  -                                no token     not started: no token (set channels.discord.accounts.second.token; DISCORD_BOT_TOKEN is only for the default account)
    kook     default              -                                disabled     not started: disabled (enabled: false)

    Check the tokens and permissions with: krill channels status --probe
    ");
}

#[test]
fn env_tokens_are_shown_as_their_variable() {
    let s = Setup::new();
    let run = s.status(
        None,
        &[],
        &[
            ("DISCORD_BOT_TOKEN", DISCORD_TOKEN),
            ("KOOK_BOT_TOKEN", KOOK_TOKEN),
        ],
    );
    assert_eq!(run.code, Some(0));
    assert!(run.stdout.contains("Config:  no file at"));
    let discord = run.line_with("discord  default").unwrap();
    assert!(discord.contains("env (DISCORD_BOT_TOKEN)"), "{discord}");
    let kook = run.line_with("kook     default").unwrap();
    assert!(kook.contains("env (KOOK_BOT_TOKEN)"), "{kook}");
}

#[test]
fn a_live_status_file_shows_each_channel_and_flags_a_wedge() {
    let s = Setup::new();
    let now = now_unix_ms();
    write_atomic(
        &s.state(),
        &GatewayStatus {
            pid: std::process::id(),
            started_at_ms: now - 2 * 3_600_000,
            // A little ahead, so that the durations shown (measured at
            // `updated_at_ms`) do not grow while the test runs.
            updated_at_ms: now + 10_000,
            channels: vec![
                ChannelStatus {
                    state: "ready".into(),
                    connected: true,
                    session_id_present: true,
                    since_last_event_ms: Some(12_000),
                    since_last_ack_or_pong_ms: Some(3_000),
                    reconnects: 1,
                    messages_in: 5,
                    replies_out: 4,
                    ..ChannelStatus::new("discord", "default")
                },
                ChannelStatus {
                    state: "ready".into(),
                    connected: true,
                    session_id_present: true,
                    since_last_event_ms: Some(15 * 60_000),
                    since_last_ack_or_pong_ms: Some(100_000),
                    ..ChannelStatus::new("kook", "default")
                },
                ChannelStatus {
                    state: "backing-off".into(),
                    last_error: Some("close 4000: unknown error".into()),
                    reconnects: 3,
                    ..ChannelStatus::new("kook", "old")
                },
            ],
        },
    )
    .unwrap();
    let run = s.status(
        None,
        &[],
        &[
            ("DISCORD_BOT_TOKEN", DISCORD_TOKEN),
            ("KOOK_BOT_TOKEN", KOOK_TOKEN),
        ],
    );
    assert_eq!(run.code, Some(0), "{}", run.stdout);
    let gateway = run.line_with("Gateway:").unwrap();
    assert!(
        gateway.starts_with(&format!(
            "Gateway: running (pid {}, up 2 h 00 min",
            std::process::id()
        )),
        "{gateway}"
    );
    let discord = run.line_with("discord  default").unwrap();
    for part in [
        "ready",
        "connected; last event 12 s ago; last heartbeat ACK 3 s ago; 1 reconnect(s); 5 in, 4 out",
    ] {
        assert!(discord.contains(part), "{discord}");
    }
    let kook = run.line_with("kook     default").unwrap();
    assert!(kook.contains("last PONG 100 s ago"), "{kook}");
    let old = run.line_with("kook     old").unwrap();
    assert!(
        old.contains("backing-off")
            && old.contains("not connected")
            && old.contains("last error: close 4000"),
        "{old}"
    );
    assert!(
        run.stdout.contains("warning: kook/default: connected but no PONG for 100 s: the connection looks half-dead"),
        "{}",
        run.stdout
    );
    assert!(run
        .stdout
        .contains("warning: kook/old: run by the gateway but no longer in the config"));
    assert!(!run.stdout.contains("warning: discord/default"));
}

#[test]
fn an_old_or_orphaned_status_file_means_not_running() {
    let s = Setup::new();
    let now = now_unix_ms();
    let mut status = GatewayStatus {
        pid: 0,
        started_at_ms: now - 3_600_000,
        updated_at_ms: now - 600_000,
        channels: vec![ChannelStatus {
            state: "ready".into(),
            connected: true,
            ..ChannelStatus::new("discord", "default")
        }],
    };
    write_atomic(&s.state(), &status).unwrap();
    let env = [("DISCORD_BOT_TOKEN", DISCORD_TOKEN)];
    let run = s.status(None, &[], &env);
    assert_eq!(run.code, Some(0));
    assert!(
        run.stdout
            .contains("Gateway: not running (pid 0 of the last status, 10 min ago, is gone)"),
        "{}",
        run.stdout
    );
    assert!(run
        .line_with("discord  default")
        .unwrap()
        .contains("not running"));

    // Our own pid is alive, but the file has not been rewritten for 10 min.
    status.pid = std::process::id();
    write_atomic(&s.state(), &status).unwrap();
    let run = s.status(None, &[], &env);
    assert!(
        run.stdout.contains(
            "has not updated its status for 10 min: stuck? restart with `krill gateway --force`"
        ),
        "{}",
        run.stdout
    );
}

#[test]
fn probe_with_a_good_discord_token_reports_the_bot() {
    let fake = FakeDiscord::start(FakeDiscordOptions {
        token: DISCORD_TOKEN.into(),
        bot_username: "probe-bot".into(),
        ..Default::default()
    });
    let s = Setup::new();
    let config = s.config(&discord_config(
        &fake.api_base_url(),
        DISCORD_TOKEN,
        r#"guilds: { "849255963033731072": { channels: { help: { allow: true } } } }"#,
    ));
    let run = s.status(Some(&config), &["--probe"], &[]);
    assert_eq!(run.code, Some(0), "{}{}", run.stdout, run.stderr);
    assert!(
        run.probe(
            "discord/default",
            "ok",
            "bot probe-bot (id 1297484454297731072)"
        ),
        "{}",
        run.stdout
    );
    assert!(run.probe(
        "discord/default",
        "ok",
        "identify budget 1000 of 1000 left (resets in 4 h 00 min); 1 shard recommended"
    ));
    assert!(run.probe("discord/default", "ok", "Message Content Intent is enabled"));
    assert!(run.probe(
        "discord/default",
        "note",
        "channels.discord.guilds.\"849255963033731072\".channels.help: not a numeric channel id, so its permissions can't be audited"
    ));
    let paths: Vec<String> = fake.requests().into_iter().map(|r| r.path).collect();
    assert_eq!(
        paths,
        ["/users/@me", "/gateway/bot", "/oauth2/applications/@me"]
    );
}

#[test]
fn probe_with_a_wrong_discord_token_exits_1_and_stops_at_the_first_401() {
    let fake = FakeDiscord::start(FakeDiscordOptions {
        token: DISCORD_TOKEN.into(),
        ..Default::default()
    });
    let s = Setup::new();
    let config = s.config(&discord_config(
        &fake.api_base_url(),
        WRONG_DISCORD_TOKEN,
        r#"guilds: { "849255963033731072": { channels: { "849255967228035073": {} } } }"#,
    ));
    let run = s.status(Some(&config), &["--probe"], &[]);
    assert_eq!(run.code, Some(1), "{}{}", run.stdout, run.stderr);
    assert!(
        run.probe(
            "discord/default",
            "FAIL",
            "token rejected (HTTP 401): check DISCORD_BOT_TOKEN / channels.discord.token"
        ),
        "{}",
        run.stdout
    );
    assert_eq!(
        fake.requests().len(),
        1,
        "nothing more is sent with a rejected token"
    );
}

#[test]
fn probe_flags_a_disabled_message_content_intent() {
    let fake = FakeDiscord::start(FakeDiscordOptions {
        token: DISCORD_TOKEN.into(),
        application_flags: 1 << 14,
        ..Default::default()
    });
    let s = Setup::new();
    let config = s.config(&discord_config(&fake.api_base_url(), DISCORD_TOKEN, ""));
    let run = s.status(Some(&config), &["--probe"], &[]);
    assert_eq!(run.code, Some(1), "{}", run.stdout);
    assert!(
        run.probe(
            "discord/default",
            "FAIL",
            "enable Message Content Intent in the Developer Portal"
        ),
        "{}",
        run.stdout
    );

    // Without asking for the intent, it is a warning: the bot still connects.
    let config = s.config(&discord_config(
        &fake.api_base_url(),
        DISCORD_TOKEN,
        "intents: 13825",
    ));
    let run = s.status(Some(&config), &["--probe"], &[]);
    assert_eq!(run.code, Some(0), "{}", run.stdout);
    assert!(run.probe(
        "discord/default",
        "warn",
        "enable Message Content Intent in the Developer Portal"
    ));
}

#[test]
fn probe_audits_the_permissions_of_numeric_channels() {
    const GUILD: &str = "849255963033731072";
    const CHANNEL: &str = "849255967228035073";
    const HIDDEN: &str = "849255967228035074";
    const MISSING: &str = "849255967228035075";
    const ROLE: &str = "900000000000000001";
    let view = 1u64 << 10;
    let send = 1u64 << 11;
    let history = 1u64 << 16;
    let fake = FakeDiscord::start(FakeDiscordOptions {
        token: DISCORD_TOKEN.into(),
        ..Default::default()
    });
    // Channels are audited in key order: CHANNEL, HIDDEN, MISSING.
    fake.push_http_response(
        format!("GET /channels/{CHANNEL}").as_str(),
        ScriptedResponse::json(
            200,
            &[],
            &json!({
                "id": CHANNEL, "type": 0, "name": "help", "guild_id": GUILD,
                "permission_overwrites": [
                    {"id": GUILD, "type": 0, "allow": "0", "deny": send.to_string()},
                ]
            }),
        ),
    );
    fake.push_http_response(
        "GET /guilds/*/roles",
        ScriptedResponse::json(
            200,
            &[],
            &json!([
                {"id": GUILD, "permissions": (view | send | history).to_string()},
                {"id": ROLE, "permissions": "0"},
            ]),
        ),
    );
    fake.push_http_response(
        "GET /guilds/*/members/*",
        ScriptedResponse::json(200, &[], &json!({"roles": [ROLE]})),
    );
    fake.push_http_response(
        format!("GET /channels/{HIDDEN}").as_str(),
        ScriptedResponse::json(
            403,
            &[],
            &json!({"message": "Missing Access", "code": 50001}),
        ),
    );
    let s = Setup::new();
    let config = s.config(&discord_config(
        &fake.api_base_url(),
        DISCORD_TOKEN,
        &format!(
            r#"guilds: {{ "{GUILD}": {{ channels: {{ "{CHANNEL}": {{}}, "{HIDDEN}": {{}}, "{MISSING}": {{}}, "*": {{}} }} }} }}"#
        ),
    ));
    let run = s.status(Some(&config), &["--probe"], &[]);
    assert_eq!(run.code, Some(1), "{}{}", run.stdout, run.stderr);
    assert!(
        run.probe(
            "discord/default",
            "FAIL",
            &format!("discord:{GUILD}#help (channel {CHANNEL}): missing Send Messages")
        ),
        "{}",
        run.stdout
    );
    assert!(run.probe(
        "discord/default",
        "FAIL",
        &format!("channel {HIDDEN}: the bot cannot see it (HTTP 403 Missing Access)")
    ));
    assert!(run.probe(
        "discord/default",
        "FAIL",
        &format!("channel {MISSING}: not found (HTTP 404)")
    ));
    let members: Vec<String> = fake
        .requests()
        .into_iter()
        .map(|r| r.path)
        .filter(|p| p.starts_with("/guilds/"))
        .collect();
    assert_eq!(
        members,
        [
            format!("/guilds/{GUILD}/roles"),
            format!("/guilds/{GUILD}/members/1297484454297731072")
        ],
        "the guild's roles and the bot's member entry are fetched once"
    );

    // Granted by the bot's role: everything required is there.
    fake.push_http_response(
        format!("GET /channels/{CHANNEL}").as_str(),
        ScriptedResponse::json(
            200,
            &[],
            &json!({
                "id": CHANNEL, "type": 0, "name": "help", "guild_id": GUILD,
                "permission_overwrites": [
                    {"id": GUILD, "type": 0, "allow": "0", "deny": (view | send).to_string()},
                    {"id": ROLE, "type": 0, "allow": (view | send).to_string(), "deny": "0"},
                ]
            }),
        ),
    );
    fake.push_http_response(
        "GET /guilds/*/roles",
        ScriptedResponse::json(
            200,
            &[],
            &json!([{"id": GUILD, "permissions": (history | 1 << 14 | 1 << 15 | 1 << 6).to_string()}, {"id": ROLE, "permissions": "0"}]),
        ),
    );
    fake.push_http_response(
        "GET /guilds/*/members/*",
        ScriptedResponse::json(200, &[], &json!({"roles": [ROLE]})),
    );
    let config = s.config(&discord_config(
        &fake.api_base_url(),
        DISCORD_TOKEN,
        &format!(
            r#"guilds: {{ "{GUILD}": {{ slug: "Krill Lab", channels: {{ "{CHANNEL}": {{}} }} }} }}"#
        ),
    ));
    let run = s.status(Some(&config), &["--probe"], &[]);
    assert_eq!(run.code, Some(0), "{}", run.stdout);
    assert!(
        run.probe(
            "discord/default",
            "ok",
            &format!(
                "discord:krill-lab#help (channel {CHANNEL}): View Channel, Send Messages, Read Message History granted"
            )
        ),
        "guilds.<id>.slug names the guild: {}",
        run.stdout
    );
}

#[test]
fn probe_with_kook_tokens_good_and_wrong() {
    let fake = FakeKook::start(FakeKookOptions {
        token: KOOK_TOKEN.into(),
        bot_username: "kook-probe-bot".into(),
        ..Default::default()
    });
    let s = Setup::new();
    let config = s.config(&format!(
        r#"{{ channels: {{ kook: {{ token: "{KOOK_TOKEN}", apiBaseUrl: "{}", allowedUserId: "1" }} }} }}"#,
        fake.api_base_url()
    ));
    let run = s.status(Some(&config), &["--probe"], &[]);
    assert_eq!(run.code, Some(0), "{}{}", run.stdout, run.stderr);
    assert!(
        run.probe("kook/default", "ok", "bot kook-probe-bot (id "),
        "{}",
        run.stdout
    );
    assert!(run.probe("kook/default", "ok", "gateway URL issued"));

    let config = s.config(&format!(
        r#"{{ channels: {{ kook: {{ token: "{WRONG_KOOK_TOKEN}", apiBaseUrl: "{}" }} }} }}"#,
        fake.api_base_url()
    ));
    let run = s.status(Some(&config), &["--probe"], &[]);
    assert_eq!(run.code, Some(1), "{}", run.stdout);
    assert!(
        run.probe(
            "kook/default",
            "FAIL",
            "token rejected (HTTP 401, code 401): check KOOK_BOT_TOKEN / channels.kook.token"
        ),
        "{}",
        run.stdout
    );
}

#[test]
fn probe_of_an_unreachable_api_exits_1() {
    // A port that was just free: nothing listens there.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let s = Setup::new();
    let config = s.config(&discord_config(
        &format!("http://127.0.0.1:{port}/api/v10"),
        DISCORD_TOKEN,
        "",
    ));
    let run = s.status(Some(&config), &["--probe"], &[]);
    assert_eq!(run.code, Some(1), "{}", run.stdout);
    assert!(
        run.probe("discord/default", "FAIL", "GET /users/@me: unreachable"),
        "{}",
        run.stdout
    );
}

#[test]
fn probe_with_no_tokens_has_nothing_to_do() {
    let s = Setup::new();
    let run = s.status(None, &["--probe"], &[]);
    assert_eq!(run.code, Some(0));
    assert!(run
        .stdout
        .contains("Probes: nothing to probe (no account has a token)."));
}

#[test]
fn json_output_carries_accounts_live_state_and_probes() {
    let fake = FakeDiscord::start(FakeDiscordOptions {
        token: DISCORD_TOKEN.into(),
        ..Default::default()
    });
    let s = Setup::new();
    let now = now_unix_ms();
    write_atomic(
        &s.state(),
        &GatewayStatus {
            pid: std::process::id(),
            started_at_ms: now,
            updated_at_ms: now,
            channels: vec![ChannelStatus {
                state: "ready".into(),
                connected: true,
                messages_in: 2,
                ..ChannelStatus::new("discord", "default")
            }],
        },
    )
    .unwrap();
    let config = s.config(&discord_config(&fake.api_base_url(), DISCORD_TOKEN, ""));
    let run = s.status(Some(&config), &["--probe", "--json"], &[]);
    assert_eq!(run.code, Some(0), "{}", run.stdout);
    let doc: Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(doc["gateway"]["state"], "running");
    assert_eq!(doc["gateway"]["pid"], std::process::id());
    let accounts = doc["accounts"].as_array().unwrap();
    let discord = &accounts[0];
    assert_eq!(discord["channel"], "discord");
    assert_eq!(discord["tokenSource"], "config (channels.discord.token)");
    assert_eq!(discord["starts"], true);
    assert_eq!(discord["live"]["messagesIn"], 2);
    assert_eq!(discord["probes"][0]["level"], "ok");
    assert_eq!(accounts[1]["channel"], "kook");
    assert_eq!(accounts[1]["starts"], false);
}

#[test]
fn a_bad_config_exits_2() {
    let s = Setup::new();
    let config = s.config(r#"{ channels: { discord: { tokn: "x" } } }"#);
    for args in [&[][..], &["--probe"][..]] {
        let run = s.status(Some(&config), args, &[]);
        assert_eq!(run.code, Some(2));
        assert!(
            run.stderr.contains("channels.discord.tokn"),
            "{}",
            run.stderr
        );
    }
}
