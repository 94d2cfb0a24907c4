//! Scenario: `channels.discord.shards` runs a shard range in one process:
//! each shard identifies with its own `[id, count]`, identifies of one
//! `max_concurrency` bucket are at least 5 s apart, and messages are
//! answered.

#[path = "support/krill.rs"]
mod krill;

use std::time::{Duration, Instant};

use krill::{Krill, WAIT};
use krill_testkit::discord::{message_create_dm, Author, DM_CHANNEL_ID};
use krill_testkit::{FakeDiscord, FakeDiscordOptions};

#[test]
fn two_shards_identify_paced_and_answer() {
    let fake = FakeDiscord::start(FakeDiscordOptions::default());
    let config = format!(
        r#"{{ channels: {{ discord: {{ token: "{}", apiBaseUrl: "{}", shards: {{ total: 2 }}, dm: {{ policy: "open", allowFrom: ["*"] }} }} }} }}"#,
        fake.options().token,
        fake.api_base_url()
    );
    let krill = Krill::start(&config, &["gateway"]);
    fake.wait_for_identify_count(1, WAIT)
        .expect("the first shard identifies");
    let first = Instant::now();
    fake.wait_for_identify_count(2, WAIT)
        .expect("the second shard identifies");
    let gap = first.elapsed();
    assert!(
        gap >= Duration::from_millis(4500),
        "identifies of one bucket (max_concurrency 1) are 5 s apart, got {gap:?}"
    );
    let mut shards: Vec<serde_json::Value> = fake
        .identifies()
        .iter()
        .map(|identify| identify["shard"].clone())
        .collect();
    shards.sort_by_key(|s| s[0].as_u64());
    assert_eq!(
        shards,
        vec![serde_json::json!([0, 2]), serde_json::json!([1, 2])]
    );

    fake.wait_for_ready_client(WAIT).expect("a shard is ready");
    fake.dispatch(
        "MESSAGE_CREATE",
        message_create_dm(DM_CHANNEL_ID, &Author::nelly(), "sharded hello"),
    );
    let posts = fake.wait_for_posts(1, WAIT).expect("the reply");
    assert_eq!(posts[0].content, "sharded hello");
    assert!(!krill.log().contains(&fake.options().token));
}
