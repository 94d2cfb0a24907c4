//! Scenario: files over `mediaMaxMb` are not downloaded and the agent is
//! told. One announced larger than the limit is never fetched; one whose
//! announced size lies is refused by its `Content-Length` before a byte is
//! saved; one within the limit arrives. Nothing partial is left on disk.

#[path = "support/krill.rs"]
mod krill;
#[path = "support/media.rs"]
mod media;
#[path = "support/scenario.rs"]
mod scenario;

use krill::{tests_path, Krill, WAIT};
use krill_testkit::cdn::FakeCdn;
use krill_testkit::discord::{message_create_dm, DM_CHANNEL_ID};
use krill_testkit::{FakeDiscord, FakeDiscordOptions};
use serde_json::{json, Value};

#[test]
fn oversized_files_are_skipped_and_reported_to_the_agent() {
    let discord = FakeDiscord::start(FakeDiscordOptions::default());
    let cdn = FakeCdn::start();
    let work = tempfile::tempdir().expect("temp dir");
    let dump = work.path().join("dump");
    let command = json!([tests_path("agents/record.py"), dump]);
    // 0.005 MiB = 5,242 bytes: the 10,248-byte file is too large.
    let config = media::command_config(
        &[scenario::discord_section(
            &discord,
            &discord.options().token,
            "mediaMaxMb: 0.005,",
        )],
        &command,
    );
    let krill = Krill::start(&config, &["gateway"]);
    discord.wait_for_ready_client(WAIT).expect("READY");

    let big = media::png_bytes();
    let big_url = cdn.put("/attachments/1/2/big.png", &big, "image/png");
    let liar_url = cdn.put("/attachments/1/3/liar.png", &big, "image/png");
    let small_url = cdn.put("/attachments/1/4/note.txt", b"hello", "text/plain");
    let mut dm = message_create_dm(DM_CHANNEL_ID, &scenario::alice(), "three files");
    dm["attachments"] = json!([
        media::discord_attachment("2", &big_url, "big.png", big.len() as u64, "image/png"),
        media::discord_attachment("3", &liar_url, "liar.png", 100, "image/png"),
        media::discord_attachment("4", &small_url, "note.txt", 5, "text/plain"),
    ]);
    discord.dispatch("MESSAGE_CREATE", dm);
    discord
        .wait_for_posts(1, WAIT)
        .unwrap_or_else(|t| panic!("{t}\nlog:\n{}", krill.log()));

    let raw = std::fs::read_to_string(dump.join("request-1.json")).expect("the agent's input");
    let req: Value = serde_json::from_str(&raw).expect("JSON");
    let items = req["media"].as_array().expect("media[]");
    assert_eq!(items.len(), 3);
    for skipped in &items[..2] {
        assert!(skipped.get("path").is_none(), "{skipped}");
        let why = skipped["skipped"].as_str().expect("a skipped reason");
        assert!(why.contains("larger than"), "{why}");
        assert!(why.contains("mediaMaxMb"), "{why}");
    }
    assert_eq!(items[0]["size"], 10248);
    assert!(items[2]["path"].is_string(), "the small file arrives");
    assert!(items[2].get("skipped").is_none());
    let prompt = req["prompt"].as_str().expect("prompt");
    assert!(
        prompt.contains("[media: image/png big.png 10 KB not downloaded: larger than"),
        "{prompt}"
    );
    assert_eq!(req["text"], "three files");

    let fetched: Vec<String> = cdn.requests().into_iter().map(|r| r.path).collect();
    assert!(
        !fetched.iter().any(|p| p.ends_with("big.png")),
        "an announced oversize is never fetched: {fetched:?}"
    );
    let saved = media::inbound_files(krill.state_dir());
    assert_eq!(saved.len(), 1, "only the small file, no partial: {saved:?}");
    assert_eq!(std::fs::read(&saved[0]).expect("read"), b"hello");
}
