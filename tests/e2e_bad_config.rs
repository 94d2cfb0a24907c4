//! Scenario: `krill gateway` refuses a bad config before touching the
//! network (README, "Configuration": unknown keys are errors that name the key
//! path; exit code 2 for bad config). Each case names the dotted key path
//! and the file's line, never echoes the token, and never connects to the
//! (running) fake Discord.

#[path = "support/krill.rs"]
mod krill;

use krill::{Krill, WAIT};
use krill_testkit::{FakeDiscord, FakeDiscordOptions};

/// Runs `krill gateway` with `config`; returns its exit code and output.
fn gateway_fails(fake: &FakeDiscord, config: &str) -> (i32, String) {
    let mut krill = Krill::start(config, &["gateway"]);
    let status = krill
        .wait_exit(WAIT)
        .unwrap_or_else(|| panic!("krill exits on a bad config; log:\n{}", krill.log()));
    let log = krill.log();
    assert_eq!(fake.connection_count(), 0, "no gateway connection: {log}");
    assert!(fake.requests().is_empty(), "no REST request: {log}");
    assert!(
        !log.contains(&fake.options().token),
        "the token never reaches the output: {log}"
    );
    (status.code().unwrap_or(-1), log)
}

/// A config whose line 6 is `line6` (inside `channels.discord`).
fn config_with_line6(fake: &FakeDiscord, line6: &str) -> String {
    format!(
        "{{\n  channels: {{\n    discord: {{\n      token: \"{token}\",\n      apiBaseUrl: \"{base}\",\n{line6}\n    }},\n  }},\n}}\n",
        token = fake.options().token,
        base = fake.api_base_url()
    )
}

#[test]
fn an_unknown_key_names_its_path_and_line_and_suggests_the_right_key() {
    let fake = FakeDiscord::start(FakeDiscordOptions::default());
    let config = config_with_line6(&fake, r#"      dm: { alowFrom: ["123"] },"#);
    assert!(config.lines().nth(5).unwrap().contains("alowFrom"));
    let (code, log) = gateway_fails(&fake, &config);
    assert_eq!(code, 2, "{log}");
    assert!(log.contains("channels.discord.dm.alowFrom"), "{log}");
    assert!(log.contains("krill.json5:6:"), "names the line: {log}");
    assert!(log.contains("`allowFrom`"), "suggests allowFrom: {log}");
}

#[test]
fn an_invalid_enum_value_lists_the_valid_ones() {
    let fake = FakeDiscord::start(FakeDiscordOptions::default());
    let config = config_with_line6(&fake, r#"      groupPolicy: "sometimes","#);
    let (code, log) = gateway_fails(&fake, &config);
    assert_eq!(code, 2, "{log}");
    assert!(log.contains("channels.discord.groupPolicy"), "{log}");
    assert!(log.contains("krill.json5:6:"), "names the line: {log}");
    assert!(log.contains("sometimes"), "{log}");
    for valid in ["open", "allowlist", "disabled"] {
        assert!(log.contains(valid), "lists {valid}: {log}");
    }
}

#[test]
fn an_open_dm_policy_needs_allow_from_star() {
    let fake = FakeDiscord::start(FakeDiscordOptions::default());
    let config = config_with_line6(
        &fake,
        r#"      dm: { policy: "open", allowFrom: ["123"] },"#,
    );
    let (code, log) = gateway_fails(&fake, &config);
    assert_eq!(code, 2, "{log}");
    assert!(log.contains("channels.discord.dm.policy"), "{log}");
    assert!(log.contains("krill.json5:6:"), "names the line: {log}");
    assert!(
        log.contains(r#"allowFrom: ["*"]"#),
        "says how to fix it: {log}"
    );

    // Without any allowFrom at all: the same refusal.
    let config = config_with_line6(&fake, r#"      dm: { policy: "open" },"#);
    let (code, log) = gateway_fails(&fake, &config);
    assert_eq!(code, 2, "{log}");
    assert!(log.contains("channels.discord.dm.policy"), "{log}");
}

#[test]
fn broken_json5_names_the_line() {
    let fake = FakeDiscord::start(FakeDiscordOptions::default());
    let config = config_with_line6(&fake, r#"      groupPolicy: "open" "oops","#);
    let (code, log) = gateway_fails(&fake, &config);
    assert_eq!(code, 2, "{log}");
    assert!(log.contains("krill.json5:6"), "names the line: {log}");
}
