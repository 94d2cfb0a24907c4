//! Scenario: `krill gateway` starts with a config that sets keys krill
//! accepts but does not act on yet (`config::NO_EFFECT_YET`): it warns once
//! per key at start-up, naming the file, line and full key path, and then
//! runs as usual (the bot answers). Keys it acts on give no such warning.

#[path = "support/krill.rs"]
mod krill;
#[path = "support/scenario.rs"]
mod scenario;

use krill::{Krill, WAIT};
use krill_testkit::{FakeDiscord, FakeDiscordOptions};
use scenario::{assert_no_secrets, discord_answered_once, discord_section};

#[test]
fn start_up_warns_once_per_key_that_has_no_effect_yet() {
    let fake = FakeDiscord::start(FakeDiscordOptions::default());
    let token = fake.options().token.clone();
    let extra = r#"mediaMaxMb: 16,
      actions: { roles: false },
      configWrites: false,
      guilds: { "849255963033731072": { channels: { help: { tools: { deny: ["exec"] } } } } },"#;
    let config = format!(
        "{{\n  channels: {{\n    {}\n  }},\n  commands: {{ native: false, useAccessGroups: false }},\n}}\n",
        discord_section(&fake, &token, extra)
    );
    let krill = Krill::start(&config, &["gateway"]);
    fake.wait_for_ready_client(WAIT)
        .unwrap_or_else(|e| panic!("no READY: {e}\n{}", krill.log()));
    discord_answered_once(&fake, &[], "still answers");

    let log = krill.log();
    let warned: Vec<&str> = log
        .lines()
        .filter(|l| l.contains("has no effect yet"))
        .collect();
    let expected: [&str; 0] = [];
    assert_eq!(warned.len(), expected.len(), "one warning per key:\n{log}");
    for (line, key) in warned.iter().zip(expected) {
        assert!(
            line.contains(&format!(": {key}: has no effect yet")),
            "{key} in {line}"
        );
        assert!(line.contains("WARN") || line.contains("warn"), "{line}");
        assert!(line.contains("krill.json5:"), "names the file: {line}");
    }
    for carried_out in [
        "mediaMaxMb",
        "dm.policy",
        "groupPolicy",
        "apiBaseUrl",
        "token",
        "configWrites",
        "actions",
        "tools",
    ] {
        assert!(
            !warned.iter().any(|l| l.contains(carried_out)),
            "{carried_out} works: {log}"
        );
    }
    assert_no_secrets(&krill, &[&token]);
}
