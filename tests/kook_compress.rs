//! Scenario: `channels.kook.compress: true`. krill fetches
//! `GET /gateway/index?compress=1`, the gateway sends every frame as a
//! binary frame holding one zlib stream, and krill inflates them: HELLO, a
//! DM and a long (multi-chunk) DM are all handled and answered once.
//! Neither token reaches the log.
//!
//! (Discord's `compress=zlib-stream` is not exposed in the config, so it
//! has no end-to-end scenario; the core's inflater has its own tests.)

#[path = "support/krill.rs"]
mod krill;
#[path = "support/scenario.rs"]
mod scenario;

use krill::WAIT;
use krill_testkit::{FakeKook, FakeKookOptions};
use scenario::{assert_no_secrets, kook_answered_once, kook_dm, start_kook};

#[test]
fn compressed_frames_are_inflated_end_to_end() {
    let fake = FakeKook::start(FakeKookOptions::default());
    let krill = start_kook(&fake, "compress: true,");

    let index: Vec<_> = fake
        .requests()
        .into_iter()
        .filter(|r| r.path == "/gateway/index")
        .collect();
    assert_eq!(index.len(), 1);
    assert_eq!(index[0].query_param("compress"), Some("1"));
    assert_eq!(fake.connections()[0].query_param("compress"), Some("1"));

    kook_dm(&fake, "squeezed hello");
    fake.wait_for_posts(1, WAIT).expect("a reply");
    // Repetitive text compresses well; this one needs two messages.
    let long = "zlib ".repeat(1000);
    kook_dm(&fake, &long);
    let posts = fake.wait_for_posts(3, WAIT).expect("a two-chunk reply");
    // The split falls on a space, which the chunker drops.
    let words: usize = posts[1..3]
        .iter()
        .map(|p| {
            p.content
                .split_whitespace()
                .filter(|w| *w == "zlib")
                .count()
        })
        .sum();
    assert_eq!(words, 1000, "the long message arrived whole");

    let expected: Vec<String> = posts.iter().map(|p| p.content.clone()).collect();
    let expected: Vec<&str> = expected.iter().map(String::as_str).collect();
    kook_answered_once(&fake, &expected, "still squeezed");
    let gateway_token = fake.last_gateway_token().expect("a gateway token");
    assert_no_secrets(&krill, &[&fake.options().token, &gateway_token]);
}
