//! Scenario: a reply with a line `MEDIA: <file under media/>` sends the
//! file to Discord as a multipart message (`payload_json` + `files[0]`)
//! with the right bytes, on the reply's last chunk; the line itself is not
//! in the text. (The echo agent replies with the DM's text, so the DM is
//! the reply.)

#[path = "support/krill.rs"]
mod krill;
#[path = "support/media.rs"]
mod media;
#[path = "support/scenario.rs"]
mod scenario;

use krill::WAIT;
use serde_json::Value;

use krill_testkit::{FakeDiscord, FakeDiscordOptions};

/// A gateway on a fake Discord, with `<state>/media/out/chart.png` (a PNG;
/// its bytes returned) for replies to name.
fn start_with_chart() -> (FakeDiscord, krill::Krill, Vec<u8>) {
    let discord = FakeDiscord::start(FakeDiscordOptions::default());
    let krill = scenario::start_discord(&discord, "");
    let out = krill.state_dir().join("media").join("out");
    std::fs::create_dir_all(&out).expect("mkdir media/out");
    let bytes = media::png_bytes();
    std::fs::write(out.join("chart.png"), &bytes).expect("write chart");
    (discord, krill, bytes)
}

#[test]
fn a_media_line_uploads_the_file_to_discord() {
    let (discord, krill, bytes) = start_with_chart();

    scenario::discord_dm(&discord, "Here is the chart:\nMEDIA: out/chart.png");
    let posts = discord
        .wait_for_posts(1, WAIT)
        .unwrap_or_else(|t| panic!("{t}\nlog:\n{}", krill.log()));
    assert_eq!(posts[0].content, "Here is the chart:");
    let content_type = posts[0].header("content-type").expect("a content type");
    assert!(
        content_type.starts_with("multipart/form-data; boundary="),
        "{content_type}"
    );
    let attachments = posts[0].body["attachments"]
        .as_array()
        .expect("attachments");
    assert_eq!(attachments.len(), 1);
    assert_eq!(attachments[0]["filename"], "chart.png");
    assert_eq!(attachments[0]["id"], Value::from(0));
    assert!(posts[0].body["nonce"].is_string(), "uploads carry a nonce");

    let files = discord.uploaded_files();
    assert_eq!(files.len(), 1);
    assert_eq!(files[0].field, "files[0]");
    assert_eq!(files[0].filename, "chart.png");
    assert_eq!(files[0].content_type.as_deref(), Some("image/png"));
    assert_eq!(files[0].data, bytes, "the bytes arrive unchanged");
    assert_eq!(files[0].message_id, posts[0].message_id);

    // Only the one message: no note, nothing else.
    std::thread::sleep(std::time::Duration::from_millis(300));
    assert_eq!(discord.posted_messages().len(), 1);
}

/// `/ask` whose reply names a file: the interaction's webhook messages
/// carry no files, so the text answers the interaction and the file is
/// uploaded to the command's chat (quoting nothing: the interaction is no
/// message); the `MEDIA:` line shows nowhere.
#[test]
fn a_slash_command_reply_sends_its_file_to_the_chat() {
    use krill_testkit::discord::{SlashCaller, DM_CHANNEL_ID};

    let (discord, krill, bytes) = start_with_chart();

    let alice = scenario::alice();
    let caller = SlashCaller {
        user: &alice,
        channel_id: DM_CHANNEL_ID,
        guild_id: None,
    };
    let ask = discord.dispatch_interaction(&caller, "ask", &[("text", "MEDIA: out/chart.png")]);
    let record = discord
        .wait_for_original_edits(&ask, 1, WAIT)
        .unwrap_or_else(|e| panic!("{e}\nlog:\n{}", krill.log()));
    assert_eq!(record.original_edits[0], "The files follow in this chat.");
    let posts = discord
        .wait_for_posts(1, WAIT)
        .unwrap_or_else(|t| panic!("{t}\nlog:\n{}", krill.log()));
    assert_eq!(posts[0].channel_id, DM_CHANNEL_ID);
    assert_eq!(posts[0].content, "");
    assert!(posts[0].body.get("message_reference").is_none());
    let files = discord.uploaded_files();
    assert_eq!(files.len(), 1);
    assert_eq!(files[0].filename, "chart.png");
    assert_eq!(files[0].data, bytes);

    std::thread::sleep(std::time::Duration::from_millis(300));
    assert_eq!(discord.posted_messages().len(), 1);
    let record = discord.wait_for_original_edits(&ask, 1, WAIT).unwrap();
    assert_eq!(record.original_edits.len(), 1);
    assert!(record.followups.is_empty(), "{record:?}");
}
