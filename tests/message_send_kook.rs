//! Scenario: `krill message send --channel kook` delivers through the
//! running gateway on a fake KOOK: a DM through `/direct-message/create` to
//! the user, a channel message through `/message/create`; a bare id is
//! refused as ambiguous.

#[path = "support/krill.rs"]
mod krill;

use krill::{Krill, WAIT};
use krill_testkit::{FakeKook, FakeKookOptions};

const USER: &str = "2418200000";
const CHANNEL: &str = "5550000000";

#[test]
fn message_send_reaches_kook_dms_and_channels() {
    let fake = FakeKook::start(FakeKookOptions::default());
    let config = format!(
        r#"{{ channels: {{ kook: {{ token: "{token}", apiBaseUrl: "{base}", allowedUserId: "{USER}" }} }} }}"#,
        token = fake.options().token,
        base = fake.api_base_url()
    );
    let krill = Krill::start(&config, &["gateway"]);
    fake.wait_for_ready_client(WAIT).expect("krill connects");

    let dm = format!("user:{USER}");
    let (code, out) = krill.run_cli(&["message", "send", "--channel", "kook", "--to", &dm, "hi"]);
    assert_eq!(code, 0, "{out}");
    let posts = fake.wait_for_posts(1, WAIT).expect("the DM");
    assert!(posts[0].direct);
    assert_eq!(posts[0].target_id, USER);
    assert_eq!(posts[0].content, "hi");

    let channel = format!("channel:{CHANNEL}");
    let (code, out) = krill.run_cli(&[
        "message",
        "send",
        "--channel",
        "kook",
        "--to",
        &channel,
        "to all",
    ]);
    assert_eq!(code, 0, "{out}");
    let posts = fake.wait_for_posts(2, WAIT).expect("the channel message");
    assert!(!posts[1].direct);
    assert_eq!(posts[1].target_id, CHANNEL);
    assert_eq!(posts[1].content, "to all");

    let (code, out) = krill.run_cli(&["message", "send", "--channel", "kook", "--to", USER, "x"]);
    assert_eq!(code, 2, "{out}");
    assert!(out.contains("ambiguous"), "{out}");

    // No Discord account runs in this gateway: the error names it.
    let (code, out) = krill.run_cli(&["message", "send", "--to", &dm, "x"]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("no discord account is running"), "{out}");
}
