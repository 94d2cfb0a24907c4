//! Scenario: `/stop` cancels the chat's running turn (the command agent is
//! killed with its process group) and drops its queued turns, saying how
//! many; the session then answers the next message at once.

#[path = "support/krill.rs"]
mod krill;
#[path = "support/scenario.rs"]
mod scenario;

use std::time::{Duration, Instant};

use krill::{tests_path, Krill, WAIT};
use krill_testkit::{FakeDiscord, FakeDiscordOptions};
use scenario::{contents_discord, discord_config, discord_dm};
use serde_json::json;

#[test]
fn stop_cancels_a_slow_agent_and_drops_queued_turns() {
    let discord = FakeDiscord::start(FakeDiscordOptions::default());
    let work = tempfile::tempdir().expect("temp dir");
    let pidfile = work.path().join("agent.pid");
    let command = json!([tests_path("agents/sleepy.py"), pidfile]);
    let text = discord_config(&discord, "").trim_end().trim_end_matches('}').to_owned()
        + &format!(
            "  agents: {{ defaults: {{ backend: {{ type: \"command\", command: {command} }} }} }},\n}}\n"
        );
    let krill = Krill::start(&text, &["gateway"]);
    discord.wait_for_ready_client(WAIT).expect("ready");

    discord_dm(&discord, "sleep");
    let deadline = Instant::now() + WAIT;
    let pid = loop {
        if let Some(pid) = std::fs::read_to_string(&pidfile)
            .ok()
            .and_then(|p| p.trim().parse::<u32>().ok())
        {
            break pid;
        }
        assert!(
            Instant::now() < deadline,
            "the agent never started\n{}",
            krill.log()
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    discord_dm(&discord, "queued one");
    discord_dm(&discord, "queued two");
    std::thread::sleep(Duration::from_millis(200));
    discord_dm(&discord, "/stop");
    let posts = discord.wait_for_posts(1, WAIT).expect("/stop answered");
    assert_eq!(
        posts[0].content,
        "Stopped the running agent turn and dropped 2 queued turns."
    );
    let gone = Instant::now() + Duration::from_secs(10);
    while std::path::Path::new(&format!("/proc/{pid}")).exists()
        && std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|s| !s.contains(") Z "))
    {
        assert!(
            Instant::now() < gone,
            "agent {pid} still running after /stop"
        );
        std::thread::sleep(Duration::from_millis(20));
    }

    discord_dm(&discord, "after");
    let posts = discord.wait_for_posts(2, WAIT).expect("next turn answered");
    assert_eq!(posts[1].content, "awake: after");
    discord_dm(&discord, "/stop");
    let posts = discord.wait_for_posts(3, WAIT).expect("idle /stop");
    assert_eq!(
        posts[2].content,
        "Nothing to stop: no agent turn is running here."
    );
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(
        contents_discord(&discord).len(),
        3,
        "cancelled turns say nothing"
    );
}
