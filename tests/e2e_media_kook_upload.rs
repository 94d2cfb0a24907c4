//! Scenario: on KOOK, a reply with `MEDIA: <file under media/>` sends its
//! text (KMarkdown), then uploads the file with `POST /asset/create` and
//! sends a file message (type 4) with the asset URL; an image goes as type
//! 2. The bytes arrive unchanged.

#[path = "support/krill.rs"]
mod krill;
#[path = "support/media.rs"]
mod media;
#[path = "support/scenario.rs"]
mod scenario;

use krill::WAIT;
use krill_testkit::{FakeKook, FakeKookOptions};

#[test]
fn a_media_line_uploads_the_file_through_asset_create() {
    let kook = FakeKook::start(FakeKookOptions::default());
    let krill = scenario::start_kook(&kook, "");
    let media_dir = krill.state_dir().join("media");
    std::fs::create_dir_all(&media_dir).expect("mkdir media");
    let report = b"%PDF-1.4\nreport\n".to_vec();
    std::fs::write(media_dir.join("report.pdf"), &report).expect("write report");
    std::fs::write(media_dir.join("photo.png"), media::png_bytes()).expect("write photo");

    scenario::kook_dm(&kook, "The report:\nMEDIA: report.pdf\nMEDIA: photo.png");
    let posts = kook
        .wait_for_posts(3, WAIT)
        .unwrap_or_else(|t| panic!("{t}\nlog:\n{}", krill.log()));
    assert_eq!(posts[0].content, "The report:");
    assert_eq!(posts[0].msg_type, 9);

    let assets = kook.uploaded_assets();
    assert_eq!(assets.len(), 2);
    assert_eq!(assets[0].field, "file");
    assert_eq!(assets[0].filename, "report.pdf");
    assert_eq!(assets[0].data, report);
    assert_eq!(assets[1].filename, "photo.png");
    assert_eq!(assets[1].data, media::png_bytes());

    assert_eq!(posts[1].msg_type, 4, "a file message");
    assert_eq!(posts[1].content, assets[0].message_id, "the asset URL");
    assert_eq!(posts[2].msg_type, 2, "an image message");
    assert_eq!(posts[2].content, assets[1].message_id);
    assert!(posts
        .iter()
        .all(|p| p.direct && p.target_id == scenario::KOOK_USER));
}
