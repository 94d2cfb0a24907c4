//! Scenario: `krill message send` delivers through the running gateway on a
//! fake Discord: a DM (`user:<id>` and `<@id>` open the DM channel first), a
//! channel message, a long text chunked like a reply; a bare id is refused
//! as ambiguous (exit 2), a platform error comes back as exit 1 with the
//! platform's message, and with no gateway running the error says so.

#[path = "support/krill.rs"]
mod krill;

use std::os::unix::fs::{FileTypeExt, PermissionsExt};

use krill::{run_cli_in, Krill, WAIT};
use krill_testkit::discord::CHANNEL_ID;
use krill_testkit::http::ScriptedResponse;
use krill_testkit::{FakeDiscord, FakeDiscordOptions};
use serde_json::json;

const USER: &str = "111111111111111111";

fn config(fake: &FakeDiscord) -> String {
    format!(
        r#"{{ channels: {{ discord: {{ token: "{token}", apiBaseUrl: "{base}" }} }} }}"#,
        token = fake.options().token,
        base = fake.api_base_url()
    )
}

#[test]
fn message_send_delivers_through_the_running_gateway() {
    let fake = FakeDiscord::start(FakeDiscordOptions::default());
    let krill = Krill::start(&config(&fake), &["gateway"]);
    fake.wait_for_ready_client(WAIT).expect("krill identifies");

    let socket = krill.state_dir().join("gateway.sock");
    let meta = std::fs::metadata(&socket).expect("the control socket exists");
    assert!(meta.file_type().is_socket());
    assert_eq!(meta.permissions().mode() & 0o777, 0o600, "socket is 0600");

    // A DM: the DM channel is opened, then the message posted there.
    let target = format!("user:{USER}");
    let (code, out) = krill.run_cli(&["message", "send", "--to", &target, "hello", "there"]);
    assert_eq!(code, 0, "{out}");
    let posts = fake.wait_for_posts(1, WAIT).expect("the DM");
    assert_eq!(posts[0].content, "hello there");
    assert_ne!(posts[0].channel_id, CHANNEL_ID);
    let dm_channel = posts[0].channel_id.clone();
    assert!(
        out.contains(&format!("sent {}", posts[0].message_id)),
        "{out}"
    );
    assert!(fake
        .requests()
        .iter()
        .any(|r| r.method == "POST" && r.path == "/users/@me/channels"));

    // `<@id>` is the same DM.
    let mention = format!("<@{USER}>");
    let (code, out) = krill.run_cli(&["message", "send", "--to", &mention, "again"]);
    assert_eq!(code, 0, "{out}");
    let posts = fake.wait_for_posts(2, WAIT).expect("the second DM");
    assert_eq!(posts[1].channel_id, dm_channel);

    // A channel.
    let channel = format!("channel:{CHANNEL_ID}");
    let (code, out) = krill.run_cli(&["message", "send", "--to", &channel, "to the channel"]);
    assert_eq!(code, 0, "{out}");
    let posts = fake.wait_for_posts(3, WAIT).expect("the channel message");
    assert_eq!(posts[2].channel_id, CHANNEL_ID);
    assert_eq!(posts[2].content, "to the channel");

    // A long text is chunked to Discord's 2000 characters.
    let long = "word ".repeat(900);
    let (code, out) = krill.run_cli(&["message", "send", "--to", &channel, &long]);
    assert_eq!(code, 0, "{out}");
    let posts = fake.wait_for_posts(6, WAIT).expect("three chunks");
    assert!(posts[3..].iter().all(|p| p.content.chars().count() <= 2000));
    assert_eq!(out.matches("sent ").count(), 3, "{out}");

    // A bare id is ambiguous: refused before anything is sent.
    let (code, out) = krill.run_cli(&["message", "send", "--to", CHANNEL_ID, "nope"]);
    assert_eq!(code, 2, "{out}");
    assert!(out.contains("ambiguous") && out.contains(&channel), "{out}");

    // The platform's error comes back.
    fake.push_http_response(
        format!("POST /channels/{CHANNEL_ID}/messages").as_str(),
        ScriptedResponse::json(
            403,
            &[],
            &json!({"message": "Missing Permissions", "code": 50013}),
        ),
    );
    let (code, out) = krill.run_cli(&["message", "send", "--to", &channel, "refused"]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("Missing Permissions"), "{out}");
    std::thread::sleep(std::time::Duration::from_millis(200));
    assert_eq!(fake.posted_messages().len(), 6, "nothing else was posted");

    // A killed gateway leaves a stale socket: the error says no gateway runs.
    let state = krill.stop();
    assert!(
        state.path().join("gateway.sock").exists(),
        "stale socket left"
    );
    let (code, out) = run_cli_in(state.path(), &["message", "send", "--to", &channel, "x"]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("no krill gateway is running"), "{out}");

    // The next gateway replaces the stale socket.
    let krill = Krill::start_in(state, &config(&fake), &["gateway"], &[]);
    fake.wait_for_ready_client(WAIT)
        .expect("krill identifies again");
    let (code, out) = krill.run_cli(&["message", "send", "--to", &channel, "back"]);
    assert_eq!(code, 0, "{out}");
    let posts = fake
        .wait_for_posts(7, WAIT)
        .expect("delivered after restart");
    assert_eq!(posts[6].content, "back");

    // Nothing listens on a missing socket either.
    let empty = tempfile::tempdir().expect("temp dir");
    let (code, out) = run_cli_in(empty.path(), &["message", "send", "--to", &channel, "x"]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("no krill gateway is running"), "{out}");
}
