//! Scenario: `krill message send --media <path>` sends files through the
//! running gateway. Discord: one multipart `POST /channels/{id}/messages`
//! carrying the text and the files. KOOK: `/asset/create`, then a message
//! of type 2 (image) or 4 (file) with the asset URL. A path that is not a
//! file is refused before anything is sent (exit 2); a file over
//! `mediaMaxMb` is refused by the gateway, named (exit 1); `--media` alone,
//! without text, is a message.

#[path = "support/krill.rs"]
mod krill;

use krill::{Krill, WAIT};
use krill_testkit::discord::CHANNEL_ID;
use krill_testkit::{FakeDiscord, FakeDiscordOptions, FakeKook, FakeKookOptions};

const KOOK_USER: &str = "2418200000";

#[test]
fn discord_files_ride_on_the_message_and_bad_files_are_refused() {
    let fake = FakeDiscord::start(FakeDiscordOptions::default());
    let config = format!(
        r#"{{ channels: {{ discord: {{ token: "{token}", apiBaseUrl: "{base}", mediaMaxMb: 1 }} }} }}"#,
        token = fake.options().token,
        base = fake.api_base_url()
    );
    let krill = Krill::start(&config, &["gateway"]);
    fake.wait_for_ready_client(WAIT).expect("krill identifies");
    let files = tempfile::tempdir().expect("temp dir");
    let chart = files.path().join("chart.png");
    std::fs::write(&chart, b"\x89PNG fake image").expect("write");
    let notes = files.path().join("notes.txt");
    std::fs::write(&notes, b"plain notes").expect("write");
    let channel = format!("channel:{CHANNEL_ID}");

    let (code, out) = krill.run_cli(&[
        "message",
        "send",
        "--to",
        &channel,
        "--media",
        chart.to_str().expect("utf-8"),
        "--media",
        notes.to_str().expect("utf-8"),
        "the weekly chart",
    ]);
    assert_eq!(code, 0, "{out}");
    let posts = fake.wait_for_posts(1, WAIT).expect("the message");
    assert_eq!(posts[0].content, "the weekly chart");
    assert!(
        out.contains(&format!("sent {}", posts[0].message_id)),
        "{out}"
    );
    let uploaded = fake.uploaded_files();
    let names: Vec<&str> = uploaded.iter().map(|f| f.filename.as_str()).collect();
    assert_eq!(names, ["chart.png", "notes.txt"]);
    assert!(uploaded.iter().all(|f| f.message_id == posts[0].message_id));
    assert_eq!(uploaded[0].data, b"\x89PNG fake image");

    // A file alone is a message.
    let (code, out) = krill.run_cli(&[
        "message",
        "send",
        "--to",
        &channel,
        "--media",
        notes.to_str().expect("utf-8"),
    ]);
    assert_eq!(code, 0, "{out}");
    fake.wait_for_posts(2, WAIT).expect("the file alone");
    assert_eq!(fake.uploaded_files().len(), 3);

    // Not a file: refused by the command, nothing sent.
    let missing = files.path().join("missing.pdf");
    let (code, out) = krill.run_cli(&[
        "message",
        "send",
        "--to",
        &channel,
        "--media",
        missing.to_str().expect("utf-8"),
        "x",
    ]);
    assert_eq!(code, 2, "{out}");
    assert!(out.contains("missing.pdf"), "{out}");

    // Over mediaMaxMb (1 MiB): refused by the gateway, the file named.
    let big = files.path().join("big.bin");
    std::fs::write(&big, vec![0u8; 1_048_577]).expect("write");
    let (code, out) = krill.run_cli(&[
        "message",
        "send",
        "--to",
        &channel,
        "--media",
        big.to_str().expect("utf-8"),
        "too big",
    ]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("big.bin"), "{out}");
    std::thread::sleep(std::time::Duration::from_millis(200));
    assert_eq!(fake.posted_messages().len(), 2, "nothing else was posted");
}

#[test]
fn kook_files_go_as_assets_then_image_or_file_messages() {
    let fake = FakeKook::start(FakeKookOptions::default());
    let config = format!(
        r#"{{ channels: {{ kook: {{ token: "{token}", apiBaseUrl: "{base}", allowedUserId: "{KOOK_USER}" }} }} }}"#,
        token = fake.options().token,
        base = fake.api_base_url()
    );
    let krill = Krill::start(&config, &["gateway"]);
    fake.wait_for_ready_client(WAIT).expect("krill connects");
    let files = tempfile::tempdir().expect("temp dir");
    let photo = files.path().join("photo.jpg");
    std::fs::write(&photo, b"\xff\xd8 fake jpeg").expect("write");
    let report = files.path().join("report.pdf");
    std::fs::write(&report, b"%PDF-1.4 fake").expect("write");

    let dm = format!("user:{KOOK_USER}");
    let (code, out) = krill.run_cli(&[
        "message",
        "send",
        "--channel",
        "kook",
        "--to",
        &dm,
        "--media",
        photo.to_str().expect("utf-8"),
        "--media",
        report.to_str().expect("utf-8"),
        "here you go",
    ]);
    assert_eq!(code, 0, "{out}");
    let posts = fake.wait_for_posts(3, WAIT).expect("text, image, file");
    assert_eq!(posts[0].content, "here you go");
    let assets = fake.uploaded_assets();
    let names: Vec<&str> = assets.iter().map(|f| f.filename.as_str()).collect();
    assert_eq!(names, ["photo.jpg", "report.pdf"]);
    assert_eq!((posts[1].msg_type, posts[2].msg_type), (2, 4));
    assert_eq!(posts[1].content, assets[0].message_id, "the asset URL");
    assert_eq!(posts[2].content, assets[1].message_id, "the asset URL");
    assert!(posts.iter().all(|p| p.direct && p.target_id == KOOK_USER));
    assert_eq!(out.matches("sent ").count(), 3, "{out}");
}
