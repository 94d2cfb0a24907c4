//! Scenario: an image sent to the bot in a Discord DM (no text, one
//! attachment on the CDN) is downloaded into `<state>/media/inbound/` byte
//! for byte, and the command agent gets it: `media[]` in its JSON, a
//! `[media: …]` line in the prompt and `<media:image>` as the text. The
//! CDN is asked without the bot token.

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
fn a_discord_image_reaches_disk_and_the_agent() {
    let discord = FakeDiscord::start(FakeDiscordOptions::default());
    let cdn = FakeCdn::start();
    let work = tempfile::tempdir().expect("temp dir");
    let dump = work.path().join("dump");
    let command = json!([tests_path("agents/record.py"), dump]);
    let config = media::command_config(
        &[scenario::discord_section(
            &discord,
            &discord.options().token,
            "",
        )],
        &command,
    );
    let krill = Krill::start(&config, &["gateway"]);
    discord.wait_for_ready_client(WAIT).expect("READY");

    let bytes = media::png_bytes();
    let url = cdn.put(
        "/attachments/1302291126681731072/1350000000000000001/photo.png",
        &bytes,
        "image/png",
    );
    let mut dm = message_create_dm(DM_CHANNEL_ID, &scenario::alice(), "");
    dm["attachments"] = json!([media::discord_attachment(
        "1350000000000000001",
        &url,
        "photo.png",
        bytes.len() as u64,
        "image/png"
    )]);
    discord.dispatch("MESSAGE_CREATE", dm);
    let posts = discord
        .wait_for_posts(1, WAIT)
        .unwrap_or_else(|t| panic!("{t}\nlog:\n{}", krill.log()));
    assert_eq!(
        posts[0].content,
        "session=agent:main:main text=<media:image> history=0"
    );

    let saved = media::inbound_files(krill.state_dir());
    assert_eq!(saved.len(), 1, "one file in media/inbound: {saved:?}");
    assert_eq!(std::fs::read(&saved[0]).expect("read saved"), bytes);
    assert_eq!(media::sha256_file(&saved[0]), media::PNG_SHA256);
    let name = saved[0].file_name().unwrap().to_string_lossy().into_owned();
    assert!(name.ends_with("photo.png"), "{name}");

    let raw = std::fs::read_to_string(dump.join("request-1.json")).expect("the agent's input");
    let req: Value = serde_json::from_str(&raw).expect("JSON");
    let path = saved[0].to_string_lossy().into_owned();
    assert_eq!(
        req["media"],
        json!([{
            "path": path,
            "url": url,
            "filename": "photo.png",
            "contentType": "image/png",
            "size": 10248
        }])
    );
    assert_eq!(req["text"], "<media:image>");
    let prompt = req["prompt"].as_str().expect("prompt");
    assert!(
        prompt.ends_with(&format!("[media: image/png photo.png 10 KB {path}]")),
        "{prompt}"
    );

    let fetches = cdn.requests();
    assert_eq!(fetches.len(), 1, "downloaded once");
    assert!(
        fetches[0].header("authorization").is_none(),
        "no token to the CDN"
    );
    scenario::assert_no_secrets(&krill, &[&discord.options().token]);
}
