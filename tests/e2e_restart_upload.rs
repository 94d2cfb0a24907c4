//! Scenario: uploads go through the outbox, so a reply's files survive a
//! SIGKILL like its text. The fakes handle the upload request at once but
//! answer it late, and krill is killed in between (the platform has acted,
//! krill never heard of it); the next start on the same state dir finishes
//! the reply and the chat shows every message exactly once:
//! - Discord: the pending upload is sent again with its nonce and files
//!   (`enforce_nonce`: the fake answers with the original message);
//! - KOOK, killed after `/asset/create` acted: no message was sent (the
//!   asset URL was never recorded), so the file is uploaded again and its
//!   message sent once;
//! - KOOK, killed after the file message acted: the recorded asset URL is
//!   found in the chat's newest messages, so nothing is sent again (the
//!   file, deleted meanwhile, is not needed: its URL is recorded).
//!
//! And an upload the platform refuses for good (HTTP 413) is replaced by
//! its text alone and a note naming the file.

#[path = "support/krill.rs"]
mod krill;
#[path = "support/media.rs"]
mod media;
#[path = "support/scenario.rs"]
mod scenario;

use std::time::Duration;

use krill::{Krill, WAIT};
use krill_testkit::http::ScriptedResponse;
use krill_testkit::{FakeDiscord, FakeDiscordOptions, FakeKook, FakeKookOptions};
use serde_json::json;

/// How late the fakes answer the request krill is killed during.
const LATE: Duration = Duration::from_secs(5);

#[test]
fn discord_an_upload_cut_by_a_kill_is_posted_exactly_once_after_the_restart() {
    let discord = FakeDiscord::start(FakeDiscordOptions::default());
    let config = scenario::discord_config(&discord, "");
    let krill = scenario::start_discord(&discord, "");
    let out = krill.state_dir().join("media").join("out");
    std::fs::create_dir_all(&out).expect("mkdir media/out");
    let bytes = media::png_bytes();
    std::fs::write(out.join("chart.png"), &bytes).expect("write chart");

    discord.delay_http_answer("POST /channels/*/messages", LATE);
    scenario::discord_dm(&discord, "Here is the chart:\nMEDIA: out/chart.png");
    discord
        .wait_for_posts(1, WAIT)
        .unwrap_or_else(|t| panic!("{t}\nlog:\n{}", krill.log()));
    let state = krill.stop();

    let krill = Krill::start_in(state, &config, &["gateway"], &[]);
    discord
        .wait_for_resumed(1, WAIT)
        .unwrap_or_else(|t| panic!("{t}\nlog:\n{}", krill.log()));
    scenario::discord_dm(&discord, "after");
    discord
        .wait_for_posts(2, WAIT)
        .unwrap_or_else(|t| panic!("{t}\nlog:\n{}", krill.log()));
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(
        scenario::contents_discord(&discord),
        ["Here is the chart:", "after"],
        "each message once\n{}",
        krill.log()
    );
    let again = discord.duplicate_post_attempts();
    assert_eq!(
        again.len(),
        1,
        "the pending upload was sent again with its nonce\n{}",
        krill.log()
    );
    assert_eq!(again[0].content, "Here is the chart:");
    let files = discord.uploaded_files();
    assert_eq!(files.len(), 1, "one upload shows: {files:?}");
    assert_eq!(files[0].data, bytes);
}

/// Starts krill on `kook`, with `report.pdf` under `<state>/media/`, and
/// asks for it alone (a reply with no text: the file message is the only
/// message); `late` is answered only after [`LATE`], and krill is killed
/// once it acted (`remove`: and the file is deleted before the restart).
/// Returns the restarted krill.
fn kook_killed_during(
    kook: &FakeKook,
    late: &str,
    remove: bool,
    acted: impl Fn(&FakeKook) -> bool,
) -> Krill {
    let config = scenario::kook_config(kook, "");
    let krill = scenario::start_kook(kook, "");
    let media_dir = krill.state_dir().join("media");
    std::fs::create_dir_all(&media_dir).expect("mkdir media");
    std::fs::write(media_dir.join("report.pdf"), b"%PDF-1.4\nreport\n").expect("write report");

    kook.delay_http_answer(late, LATE);
    scenario::kook_dm(kook, "MEDIA: report.pdf");
    let deadline = std::time::Instant::now() + WAIT;
    while !acted(kook) {
        assert!(
            std::time::Instant::now() < deadline,
            "{late} never arrived\n{}",
            krill.log()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let state = krill.stop();
    if remove {
        std::fs::remove_file(state.path().join("media").join("report.pdf")).expect("rm report");
    }
    let krill = Krill::start_in(state, &config, &["gateway"], &[]);
    kook.wait_for_resumed(1, WAIT)
        .unwrap_or_else(|t| panic!("{t}\nlog:\n{}", krill.log()));
    krill
}

fn file_messages(kook: &FakeKook) -> Vec<String> {
    kook.posted_messages()
        .into_iter()
        .filter(|p| p.msg_type == 4)
        .map(|p| p.content)
        .collect()
}

#[test]
fn kook_killed_after_the_asset_upload_sends_the_file_message_once() {
    let kook = FakeKook::start(FakeKookOptions::default());
    let krill = kook_killed_during(&kook, "POST /asset/create", false, |k| {
        !k.uploaded_assets().is_empty()
    });
    kook.wait_for_posts(1, WAIT)
        .unwrap_or_else(|t| panic!("{t}\nlog:\n{}", krill.log()));
    let assets = kook.uploaded_assets();
    scenario::kook_answered_once(&kook, &[&assets[1].message_id], "after");
    assert_eq!(assets.len(), 2, "uploaded again after the restart");
    assert_eq!(assets[1].data, b"%PDF-1.4\nreport\n");
    assert_eq!(
        file_messages(&kook),
        [assets[1].message_id.clone()],
        "one file message, with the new asset\n{}",
        krill.log()
    );
}

#[test]
fn kook_killed_after_the_file_message_sends_nothing_again() {
    let kook = FakeKook::start(FakeKookOptions::default());
    let krill = kook_killed_during(&kook, "POST /direct-message/create", true, |k| {
        k.posted_messages().iter().any(|p| p.msg_type == 4)
    });
    let assets = kook.uploaded_assets();
    scenario::kook_answered_once(&kook, &[&assets[0].message_id], "after");
    assert_eq!(assets.len(), 1, "not uploaded again");
    assert_eq!(
        file_messages(&kook),
        [assets[0].message_id.clone()],
        "the file message shows once\n{}",
        krill.log()
    );
    assert!(
        kook.requests()
            .iter()
            .any(|r| r.path.ends_with("/direct-message/list")),
        "the chat was checked for the pending file message"
    );
}

#[test]
fn discord_an_upload_refused_for_good_goes_as_its_text_and_a_note() {
    let discord = FakeDiscord::start(FakeDiscordOptions::default());
    let krill = scenario::start_discord(&discord, "");
    let out = krill.state_dir().join("media").join("out");
    std::fs::create_dir_all(&out).expect("mkdir media/out");
    std::fs::write(out.join("chart.png"), media::png_bytes()).expect("write chart");

    discord.push_http_response(
        "POST /channels/*/messages",
        ScriptedResponse::json(
            413,
            &[],
            &json!({"message": "Request entity too large", "code": 40005}),
        ),
    );
    scenario::discord_dm(&discord, "Here is the chart:\nMEDIA: out/chart.png");
    discord
        .wait_for_posts(2, WAIT)
        .unwrap_or_else(|t| panic!("{t}\nlog:\n{}", krill.log()));
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(
        scenario::contents_discord(&discord),
        [
            "Here is the chart:",
            "⚠️ Could not send `chart.png`: the upload failed."
        ],
        "{}",
        krill.log()
    );
    assert!(discord.uploaded_files().is_empty());
}
