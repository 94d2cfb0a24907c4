//! Scenario: `MEDIA:` lines naming a file outside the allowed roots
//! (`/etc/passwd`, a symlink in `media/` pointing out, a `..` escape) or a
//! file that does not exist, or a link to an internal address, upload
//! nothing, and the user sees a short note for each, never silence. The
//! rest of the reply still goes out.

#[path = "support/krill.rs"]
mod krill;
#[path = "support/scenario.rs"]
mod scenario;

use krill::WAIT;
use krill_testkit::{FakeDiscord, FakeDiscordOptions};

#[test]
fn refused_and_missing_files_give_a_note_and_upload_nothing() {
    let discord = FakeDiscord::start(FakeDiscordOptions::default());
    let krill = scenario::start_discord(&discord, "");
    let media_dir = krill.state_dir().join("media");
    std::fs::create_dir_all(&media_dir).expect("mkdir media");
    std::os::unix::fs::symlink("/etc/hostname", media_dir.join("sneaky.txt")).expect("symlink");

    scenario::discord_dm(&discord, "MEDIA: /etc/passwd");
    let posts = discord
        .wait_for_posts(1, WAIT)
        .unwrap_or_else(|t| panic!("{t}\nlog:\n{}", krill.log()));
    assert_eq!(
        posts[0].content,
        "⚠️ Could not send `passwd`: not in a folder krill may send from."
    );

    scenario::discord_dm(&discord, "MEDIA: missing.png");
    let posts = discord.wait_for_posts(2, WAIT).expect("a second note");
    assert_eq!(
        posts[1].content,
        "⚠️ Could not send `missing.png`: file not found."
    );

    scenario::discord_dm(
        &discord,
        "Two tries:\nMEDIA: sneaky.txt\nMEDIA: ../gateway.lock",
    );
    let posts = discord
        .wait_for_posts(4, WAIT)
        .expect("the text and a note");
    assert_eq!(posts[2].content, "Two tries:");
    assert_eq!(
        posts[3].content,
        "⚠️ Could not send 2 files:\n- `sneaky.txt`: not in a folder krill may send from\n- `gateway.lock`: not in a folder krill may send from"
    );

    // A link to an internal address (the machine itself, a metadata
    // service) is not fetched.
    scenario::discord_dm(
        &discord,
        "MEDIA: https://127.0.0.1:9/secret.png\nMEDIA: https://169.254.169.254/latest/meta-data/iam",
    );
    let posts = discord.wait_for_posts(5, WAIT).expect("a note");
    assert_eq!(
        posts[4].content,
        "⚠️ Could not send 2 files:\n- `secret.png`: links to internal addresses are not fetched\n- `iam`: links to internal addresses are not fetched"
    );

    assert!(discord.uploaded_files().is_empty(), "nothing uploaded");
    assert!(discord.requests().iter().all(|r| !r
        .header("content-type")
        .unwrap_or("")
        .starts_with("multipart/")));
}
