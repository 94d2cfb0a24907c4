//! Scenario: the gateway outlives its stderr. Run under a supervisor whose
//! log pipe has lost its reader, every write to stdout and stderr fails;
//! krill keeps answering, keeps applying edits of its config file, and
//! stops cleanly on SIGTERM (log lines that cannot be written are dropped,
//! not a panic that kills the task that tried to log).

#[path = "support/krill.rs"]
mod krill;
#[path = "support/scenario.rs"]
mod scenario;

use krill::{Krill, WAIT};
use krill_testkit::{FakeDiscord, FakeDiscordOptions};
use scenario::{config, contents_discord, discord_dm, discord_section};

fn with_text_commands(section: &str, on: bool) -> String {
    let base = config(&[section.to_owned()]);
    let body = base.trim_end().trim_end_matches('}');
    format!("{body}  commands: {{ text: {on} }},\n}}\n")
}

#[test]
fn a_gateway_whose_stderr_is_closed_answers_reloads_and_stops() {
    let discord = FakeDiscord::start(FakeDiscordOptions::default());
    let token = discord.options().token.clone();
    let section = discord_section(&discord, &token, "");
    let mut krill =
        Krill::start_with_closed_output(&with_text_commands(&section, true), &["gateway"]);
    discord.wait_for_ready_client(WAIT).expect("ready");

    discord_dm(&discord, "/whoami");
    let posts = discord.wait_for_posts(1, WAIT).expect("/whoami answered");
    assert!(
        posts[0].content.starts_with("user id:"),
        "a text command: {:?}",
        posts[0].content
    );

    // The edit is noticed within a second or two; its "config file changed"
    // log line cannot be written. Each /whoami is answered either as a
    // command (old config) or echoed (new config): ask until it echoes.
    std::fs::write(
        krill.state_dir().join("krill.json5"),
        with_text_commands(&section, false),
    )
    .expect("edit the config");
    let mut echoed = false;
    for sent in 2..=20 {
        discord_dm(&discord, "/whoami");
        discord
            .wait_for_posts(sent, WAIT)
            .unwrap_or_else(|e| panic!("message {sent} answered: {e:?}"));
        if contents_discord(&discord).last().map(String::as_str) == Some("/whoami") {
            echoed = true;
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(500));
    }
    assert!(echoed, "the edit (text commands off) was applied");

    krill.signal("TERM");
    let status = krill.wait_exit(WAIT).expect("stops after SIGTERM");
    assert!(status.success(), "a clean stop: {status:?}");
}
