//! `krill pairing list|approve` end to end: the real binary, a temporary
//! state dir, codes issued through the same store the gateway uses. Also:
//! a bad config file makes the process exit 2 naming the key and line.

use std::path::Path;
use std::process::{Command, Output};

use krill_core::config::Platform;
use krill_core::pairing::{PairingOutcome, Requester, CODE_TTL_MS};
use krill_drivers::pairing_store::{now_unix_ms, PairingStore};

fn krill(home: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_krill"))
        .args(args)
        .env("HOME", home)
        .env("KRILL_STATE_DIR", home.join("state"))
        .env_remove("KRILL_CONFIG")
        .env_remove("DISCORD_BOT_TOKEN")
        .env_remove("KOOK_BOT_TOKEN")
        .env("KRILL_LOG", "warn")
        .output()
        .expect("run krill")
}

fn store(home: &Path, platform: Platform) -> PairingStore {
    PairingStore::new(home.join("state").join("credentials"), platform)
}

fn issue(home: &Path, platform: Platform, id: &str, now: u64) -> String {
    let who = Requester {
        id: id.into(),
        name: Some(format!("user{id}")),
        account_id: "default".into(),
        chat_id: None,
    };
    match store(home, platform).challenge(now, &who, 11).unwrap() {
        PairingOutcome::Created { code, .. } => code,
        other => panic!("{other:?}"),
    }
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

#[test]
fn approve_a_pending_code() {
    let home = tempfile::tempdir().unwrap();
    let code = issue(home.path(), Platform::Discord, "4242", now_unix_ms());

    let out = krill(home.path(), &["pairing", "list", "--json"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let listed: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(listed[0]["code"], code.as_str());
    assert_eq!(listed[0]["channel"], "discord");
    assert_eq!(listed[0]["senderId"], "4242");

    let out = krill(home.path(), &["pairing", "list"]);
    assert!(text(&out.stdout).contains(&code), "{}", text(&out.stdout));

    let out = krill(
        home.path(),
        &["pairing", "approve", "discord", &code.to_lowercase()],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("Approved user4242 (4242)"),
        "{}",
        text(&out.stdout)
    );
    assert_eq!(
        store(home.path(), Platform::Discord)
            .approved_ids()
            .unwrap(),
        vec!["4242".to_owned()]
    );

    let out = krill(home.path(), &["pairing", "list", "discord"]);
    assert!(
        text(&out.stdout).contains("No pending"),
        "{}",
        text(&out.stdout)
    );

    // The same code again: unknown, exit 1.
    let out = krill(home.path(), &["pairing", "approve", "discord", &code]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("no pending pairing request"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn expired_code_exits_1() {
    let home = tempfile::tempdir().unwrap();
    let code = issue(
        home.path(),
        Platform::Kook,
        "7",
        now_unix_ms() - CODE_TTL_MS - 1000,
    );
    let out = krill(home.path(), &["pairing", "approve", "kook", &code]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("expired"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn unknown_channel_exits_2() {
    let home = tempfile::tempdir().unwrap();
    let out = krill(home.path(), &["pairing", "approve", "slack", "ABCDEFGH"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("unknown channel"),
        "{}",
        text(&out.stderr)
    );
    let out = krill(home.path(), &["pairing", "list", "irc"]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn notify_without_a_token_warns_and_still_approves() {
    let home = tempfile::tempdir().unwrap();
    let code = issue(home.path(), Platform::Discord, "5", now_unix_ms());
    let out = krill(
        home.path(),
        &["pairing", "approve", "discord", &code, "--notify"],
    );
    assert_eq!(out.status.code(), Some(0));
    let err = text(&out.stderr);
    assert!(
        err.contains("--notify") && err.contains("DISCORD_BOT_TOKEN"),
        "{err}"
    );
    assert_eq!(
        store(home.path(), Platform::Discord)
            .approved_ids()
            .unwrap(),
        vec!["5".to_owned()]
    );
}

#[test]
fn pairing_reads_the_config_named_by_krill_config_too() {
    let home = tempfile::tempdir().unwrap();
    let cfg = home.path().join("custom.json5");
    std::fs::write(
        &cfg,
        "{ channels: { discord: { dm: { policy: 'pairng' } } } }",
    )
    .unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_krill"))
        .args(["pairing", "list"])
        .env("HOME", home.path())
        .env("KRILL_STATE_DIR", home.path().join("state"))
        .env("KRILL_CONFIG", &cfg)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("channels.discord.dm.policy"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn a_bad_config_file_exits_2_naming_the_key_and_line() {
    let home = tempfile::tempdir().unwrap();
    let cfg = home.path().join("krill.json5");
    std::fs::write(
        &cfg,
        "{\n  channels: {\n    discord: {\n      guilds: { \"123\": { channels: { help: { allow: 'yes' } } } },\n    },\n  },\n}\n",
    )
    .unwrap();
    let out = krill(
        home.path(),
        &["--config", cfg.to_str().unwrap(), "pairing", "list"],
    );
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    assert!(
        err.contains(&format!(
            "{}:4:53: channels.discord.guilds.\"123\".channels.help.allow: expected true or false",
            cfg.display()
        )),
        "{err}"
    );
}

#[test]
fn a_missing_named_config_exits_2_but_a_missing_default_is_fine() {
    let home = tempfile::tempdir().unwrap();
    let out = krill(
        home.path(),
        &["--config", "/nonexistent/krill.json5", "pairing", "list"],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("not found"));
    let out = krill(home.path(), &["pairing", "list"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
}

#[test]
fn notify_sends_the_approved_user_a_dm_through_the_api() {
    use krill_testkit::{FakeDiscord, FakeDiscordOptions};
    let fake = FakeDiscord::start(FakeDiscordOptions::default());
    let home = tempfile::tempdir().unwrap();
    let cfg = home.path().join("krill.json5");
    std::fs::write(
        &cfg,
        format!(
            "{{ channels: {{ discord: {{ token: '{}', apiBaseUrl: '{}' }} }} }}",
            fake.options().token,
            fake.api_base_url()
        ),
    )
    .unwrap();
    let code = issue(
        home.path(),
        Platform::Discord,
        "777000777000777000",
        now_unix_ms(),
    );
    let out = krill(
        home.path(),
        &[
            "pairing",
            "approve",
            "discord",
            &code,
            "--notify",
            "--config",
            cfg.to_str().unwrap(),
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("Notified"),
        "{}",
        text(&out.stdout)
    );
    let posts = fake
        .wait_for_posts(1, std::time::Duration::from_secs(10))
        .expect("the approval DM");
    assert!(!posts[0].content.is_empty());
    let opened = fake
        .requests()
        .iter()
        .any(|r| r.path.ends_with("/users/@me/channels"));
    assert!(opened, "a DM channel was opened for the user");
    let all = format!("{}{}", text(&out.stdout), text(&out.stderr));
    assert!(!all.contains(&fake.options().token));
}

/// `krill pairing list | head -1` where `head` has already gone: the lines
/// that cannot be written are dropped and the command ends normally (the
/// `println!` it used panicked with "failed printing to stdout", exit 101).
#[test]
fn list_with_closed_stdout_and_stderr_ends_normally() {
    let home = tempfile::tempdir().unwrap();
    let now = now_unix_ms();
    issue(home.path(), Platform::Discord, "111", now);
    issue(home.path(), Platform::Discord, "222", now);
    // Pipes whose reading ends are closed before krill starts: every write
    // fails with EPIPE.
    let (out_reader, out_writer) = std::io::pipe().expect("pipe");
    let (err_reader, err_writer) = std::io::pipe().expect("pipe");
    drop(out_reader);
    drop(err_reader);
    let status = Command::new(env!("CARGO_BIN_EXE_krill"))
        .args(["pairing", "list", "discord"])
        .env("HOME", home.path())
        .env("KRILL_STATE_DIR", home.path().join("state"))
        .env_remove("KRILL_CONFIG")
        .env("KRILL_LOG", "warn")
        .stdout(out_writer)
        .stderr(err_writer)
        .status()
        .expect("run krill");
    assert_eq!(status.code(), Some(0), "{status:?}");
}
