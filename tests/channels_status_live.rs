//! Scenario: `krill channels status` reads what a running gateway writes to
//! `<state>/status.json`: the Discord channel is `ready` and counts the
//! message it answered; the file holds no token.

#[path = "support/krill.rs"]
mod krill;

use std::time::{Duration, Instant};

use krill::{Krill, WAIT};
use krill_testkit::discord::{message_create_dm, Author, DM_CHANNEL_ID};
use krill_testkit::{FakeDiscord, FakeDiscordOptions};

#[test]
fn channels_status_shows_the_live_gateway() {
    let fake = FakeDiscord::start(FakeDiscordOptions::default());
    let config = format!(
        r#"{{ channels: {{ discord: {{ token: "{}", apiBaseUrl: "{}", dm: {{ policy: "open", allowFrom: ["*"] }} }} }} }}"#,
        fake.options().token,
        fake.api_base_url()
    );
    let krill = Krill::start(&config, &["gateway"]);
    fake.wait_for_ready_client(WAIT).expect("krill identifies");
    fake.dispatch(
        "MESSAGE_CREATE",
        message_create_dm(DM_CHANNEL_ID, &Author::nelly(), "status?"),
    );
    fake.wait_for_posts(1, WAIT).expect("the reply");

    // The file is rewritten every 5 s: wait for one that shows the reply.
    let deadline = Instant::now() + WAIT;
    let (code, out) = loop {
        let (code, out) = krill.run_cli(&["channels", "status"]);
        if out.contains("1 in, 1 out") || Instant::now() > deadline {
            break (code, out);
        }
        std::thread::sleep(Duration::from_millis(250));
    };
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("running"), "{out}");
    assert!(out.contains("ready"), "{out}");
    assert!(out.contains("1 in, 1 out"), "{out}");
    let file = std::fs::read_to_string(krill.state_dir().join("status.json")).expect("status.json");
    assert!(!file.contains(&fake.options().token));
    assert!(!out.contains(&fake.options().token));
}
