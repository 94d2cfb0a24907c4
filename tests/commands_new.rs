//! Scenario: `/new` archives the chat's transcript (kept on disk, out of
//! the prompt): the next turn's agent input has no earlier history, and
//! `/new <text>` runs a turn in the fresh session; `/reset` does the same
//! without text. On a KOOK channel as well as a Discord DM.

#[path = "support/krill.rs"]
mod krill;
#[path = "support/scenario.rs"]
mod scenario;

use krill::{tests_path, Krill, WAIT};
use krill_testkit::{FakeDiscord, FakeDiscordOptions, FakeKook, FakeKookOptions};
use scenario::{config, contents_discord, discord_dm, discord_section, kook_section, KOOK_USER};
use serde_json::json;

#[test]
fn new_starts_a_session_without_history() {
    let discord = FakeDiscord::start(FakeDiscordOptions::default());
    let kook = FakeKook::start(FakeKookOptions::default());
    let work = tempfile::tempdir().expect("temp dir");
    let command = json!([tests_path("agents/record.py"), work.path().join("dump")]);
    let token = discord.options().token.clone();
    let text = format!(
        "{}\n",
        config(&[discord_section(&discord, &token, ""), kook_section(&kook, "")])
            .trim_end()
            .trim_end_matches('}')
    ) + &format!(
        "  agents: {{ defaults: {{ backend: {{ type: \"command\", command: {command} }} }} }},\n}}\n"
    );
    let krill = Krill::start(&text, &["gateway"]);
    discord.wait_for_ready_client(WAIT).expect("Discord ready");
    kook.wait_for_ready_client(WAIT).expect("KOOK ready");

    let main = "session=agent:main:main";
    let said = |n: usize| {
        discord
            .wait_for_posts(n, WAIT)
            .unwrap_or_else(|e| panic!("{e}\n{}", krill.log()));
        contents_discord(&discord)[n - 1].clone()
    };
    discord_dm(&discord, "one");
    assert_eq!(said(1), format!("{main} text=one history=0"));
    discord_dm(&discord, "two");
    assert_eq!(said(2), format!("{main} text=two history=2"));
    discord_dm(&discord, "/new");
    assert!(said(3).starts_with("New session started."), "{}", said(3));
    discord_dm(&discord, "three");
    assert_eq!(
        said(4),
        format!("{main} text=three history=0"),
        "no earlier history"
    );
    discord_dm(&discord, "/new four");
    assert_eq!(
        said(5),
        format!("{main} text=four history=0"),
        "/new <text> runs a turn"
    );
    discord_dm(&discord, "five");
    assert_eq!(said(6), format!("{main} text=five history=2"));
    discord_dm(&discord, "/reset");
    assert!(said(7).starts_with("New session started."));
    discord_dm(&discord, "six");
    assert_eq!(said(8), format!("{main} text=six history=0"));

    // The old transcripts are kept on disk, next to the live one.
    let sessions = krill.state_dir().join("agents/main/sessions");
    let archived: Vec<_> = std::fs::read_dir(&sessions)
        .expect("sessions dir")
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("agent:main:main.jsonl.") && n.ends_with(".archived"))
        .collect();
    assert_eq!(archived.len(), 3, "three archives: {archived:?}");

    // KOOK channel session.
    let channel = "5555";
    kook.event(kook.group_kmarkdown(channel, "6666", KOOK_USER, "hi", &[]));
    kook.wait_for_posts(1, WAIT).expect("KOOK turn");
    kook.event(kook.group_kmarkdown(channel, "6666", KOOK_USER, "hi again", &[]));
    let posts = kook.wait_for_posts(2, WAIT).expect("KOOK turn 2");
    assert!(
        posts[1].content.ends_with("history=2"),
        "{}",
        posts[1].content
    );
    kook.event(kook.group_kmarkdown(channel, "6666", KOOK_USER, "/new fresh", &[]));
    let posts = kook.wait_for_posts(3, WAIT).expect("KOOK /new");
    assert_eq!(
        posts[2].content,
        format!("session=agent:main:kook:channel:{channel} text=fresh history=0")
    );
}
