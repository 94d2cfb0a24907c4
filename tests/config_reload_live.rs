//! Scenario: the running gateway picks up hand edits of its config file
//! within a few seconds, without a restart: a setting applies to the next
//! message, an invalid file is logged with its key path and the running
//! config stays, a channel added to the file starts and a channel disabled
//! stops; SIGHUP reloads at once.

#[path = "support/krill.rs"]
mod krill;
#[path = "support/scenario.rs"]
mod scenario;

use std::time::Duration;

use krill::{Krill, WAIT};
use krill_testkit::{FakeDiscord, FakeDiscordOptions, FakeKook, FakeKookOptions};
use scenario::{
    assert_no_secrets, config, contents_discord, discord_dm, discord_section, kook_dm, kook_section,
};

fn with_commands(sections: &[String], commands: &str) -> String {
    let base = config(sections);
    let body = base.trim_end().trim_end_matches('}');
    format!("// hand-written\n{body}  commands: {commands},\n}}\n")
}

#[test]
fn hand_edits_apply_live() {
    let discord = FakeDiscord::start(FakeDiscordOptions::default());
    let kook = FakeKook::start(FakeKookOptions::default());
    let token = discord.options().token.clone();
    let d = discord_section(&discord, &token, "");
    let krill = Krill::start(
        &with_commands(std::slice::from_ref(&d), "{ text: true }"),
        &["gateway"],
    );
    discord.wait_for_ready_client(WAIT).expect("ready");
    let file = krill.state_dir().join("krill.json5");

    discord_dm(&discord, "/whoami");
    let posts = discord.wait_for_posts(1, WAIT).expect("/whoami");
    assert!(posts[0].content.starts_with("user id:"), "a command");

    // 1. A setting: text commands off, applied to the next message.
    std::fs::write(
        &file,
        with_commands(std::slice::from_ref(&d), "{ text: false }"),
    )
    .unwrap();
    krill
        .wait_for_log("discord:default: config reloaded", WAIT)
        .unwrap();
    discord_dm(&discord, "/whoami");
    discord.wait_for_posts(2, WAIT).expect("echoed");
    assert_eq!(contents_discord(&discord)[1], "/whoami", "now plain text");
    assert_eq!(discord.identify_count(), 1, "the session was kept");

    // 2. An invalid file: logged with its key path; the running config stays.
    std::fs::write(
        &file,
        with_commands(
            std::slice::from_ref(&d),
            "{ text: true, useAccessGroups: \"maybe\" }",
        ),
    )
    .unwrap();
    krill
        .wait_for_log("commands.useAccessGroups", WAIT)
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(krill.log().contains("config reload refused"));
    discord_dm(&discord, "/help");
    discord.wait_for_posts(3, WAIT).expect("echoed");
    assert_eq!(
        contents_discord(&discord)[2],
        "/help",
        "old config still in force"
    );

    // 3. KOOK added: it starts; Discord disabled: it stops. Written without
    // touching the mtime check's luck: SIGHUP makes it immediate.
    let disabled = discord_section(&discord, &token, "enabled: false,");
    std::fs::write(
        &file,
        with_commands(&[disabled, kook_section(&kook, "")], "{ text: true }"),
    )
    .unwrap();
    let pid = krill_pid(&krill);
    let _ = std::process::Command::new("kill")
        .args(["-HUP", &pid.to_string()])
        .status();
    kook.wait_for_ready_client(WAIT)
        .unwrap_or_else(|e| panic!("KOOK never started: {e}\n{}", krill.log()));
    discord
        .wait_for_disconnect(WAIT)
        .unwrap_or_else(|e| panic!("Discord never stopped: {e}\n{}", krill.log()));
    kook_dm(&kook, "/whoami");
    let posts = kook.wait_for_posts(1, WAIT).expect("KOOK answers");
    assert!(
        posts[0].content.starts_with("user id:"),
        "{}",
        posts[0].content
    );
    std::thread::sleep(Duration::from_millis(200));
    assert!(krill.log().contains("SIGHUP"), "SIGHUP logged");
    assert_no_secrets(&krill, &[&token, &kook.options().token]);
}

/// The gateway's pid, from the state dir's status file.
fn krill_pid(krill: &Krill) -> u32 {
    let path = krill.state_dir().join("status.json");
    let deadline = std::time::Instant::now() + WAIT;
    loop {
        if let Some(pid) = std::fs::read_to_string(&path)
            .ok()
            .and_then(|t| serde_json::from_str::<serde_json::Value>(&t).ok())
            .and_then(|v| v["pid"].as_u64())
        {
            return pid as u32;
        }
        assert!(std::time::Instant::now() < deadline, "no status.json");
        std::thread::sleep(Duration::from_millis(50));
    }
}
