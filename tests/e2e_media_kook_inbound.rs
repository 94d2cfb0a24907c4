//! Scenario: an image message (type 2) sent to the bot in a KOOK DM is
//! downloaded into `<state>/media/inbound/` byte for byte, and the command
//! agent gets it in `media[]` and its prompt, with `<media:image>` as the
//! text (not the URL the message's `content` carries).

#[path = "support/krill.rs"]
mod krill;
#[path = "support/media.rs"]
mod media;
#[path = "support/scenario.rs"]
mod scenario;

use krill::{tests_path, Krill, WAIT};
use krill_testkit::cdn::FakeCdn;
use krill_testkit::{FakeKook, FakeKookOptions};
use serde_json::{json, Value};

#[test]
fn a_kook_image_message_reaches_disk_and_the_agent() {
    let kook = FakeKook::start(FakeKookOptions::default());
    let cdn = FakeCdn::start();
    let work = tempfile::tempdir().expect("temp dir");
    let dump = work.path().join("dump");
    let command = json!([tests_path("agents/record.py"), dump]);
    let config = media::command_config(&[scenario::kook_section(&kook, "")], &command);
    let krill = Krill::start(&config, &["gateway"]);
    kook.wait_for_ready_client(WAIT).expect("HELLO");

    let bytes = media::png_bytes();
    let url = cdn.put("/assets/2025-03/cat.png", &bytes, "image/png");
    let mut event = kook.person_text(scenario::KOOK_USER, &url);
    event["type"] = json!(2);
    event["extra"]["type"] = json!(2);
    event["extra"]
        .as_object_mut()
        .expect("extra")
        .remove("kmarkdown");
    event["extra"]["attachments"] =
        json!({"type": "image", "url": url, "name": "cat.png", "size": bytes.len()});
    kook.event(event);
    let posts = kook
        .wait_for_posts(1, WAIT)
        .unwrap_or_else(|t| panic!("{t}\nlog:\n{}", krill.log()));
    assert_eq!(
        posts[0].content,
        "session=agent:main:main text=<media:image> history=0"
    );

    let saved = media::inbound_files(krill.state_dir());
    assert_eq!(saved.len(), 1, "{saved:?}");
    assert_eq!(media::sha256_file(&saved[0]), media::PNG_SHA256);
    let raw = std::fs::read_to_string(dump.join("request-1.json")).expect("the agent's input");
    let req: Value = serde_json::from_str(&raw).expect("JSON");
    let path = saved[0].to_string_lossy().into_owned();
    assert_eq!(req["media"][0]["path"], path.as_str());
    assert_eq!(req["media"][0]["url"], url.as_str());
    assert_eq!(req["media"][0]["filename"], "cat.png");
    assert_eq!(req["media"][0]["contentType"], "image/png");
    assert_eq!(req["media"][0]["size"], 10248);
    assert!(req["prompt"]
        .as_str()
        .expect("prompt")
        .contains(&format!("[media: image/png cat.png 10 KB {path}]")));
    assert!(cdn.requests()[0].header("authorization").is_none());
}
