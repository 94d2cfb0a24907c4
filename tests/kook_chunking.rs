//! Scenario: a 9000-character echo reply on KOOK goes out as three
//! KMarkdown messages of at most 4000 characters (the default
//! `textChunkLimit`), in order, carrying every line once. Then the next
//! message is answered once; the token never reaches the log.

#[path = "support/krill.rs"]
mod krill;
#[path = "support/scenario.rs"]
mod scenario;

use krill::WAIT;
use krill_testkit::{FakeKook, FakeKookOptions};
use scenario::{assert_no_secrets, kook_answered_once, kook_dm, start_kook};

/// A reply of exactly `len` characters in lines of about 100.
fn long_reply(len: usize) -> String {
    let mut text = String::new();
    let mut n = 0;
    while text.chars().count() < len - 120 {
        text.push_str(&format!("line {n:04}: {}\n", "漢".repeat(88)));
        n += 1;
    }
    while text.chars().count() < len {
        text.push('.');
    }
    text
}

#[test]
fn a_9000_char_reply_is_three_ordered_messages() {
    let fake = FakeKook::start(FakeKookOptions::default());
    let krill = start_kook(&fake, "");
    let reply = long_reply(9000);
    assert_eq!(reply.chars().count(), 9000);

    kook_dm(&fake, &reply);
    let posts = fake.wait_for_posts(3, WAIT).expect("three chunks");
    assert_eq!(posts.len(), 3, "exactly three messages");
    for (i, post) in posts.iter().enumerate() {
        let chars = post.content.chars().count();
        assert!(chars <= 4000, "chunk {i} has {chars} characters");
        assert_eq!(post.msg_type, 9, "KMarkdown");
        assert!(post.direct);
    }
    let sent: Vec<&str> = posts.iter().flat_map(|p| p.content.lines()).collect();
    let want: Vec<&str> = reply.lines().collect();
    assert_eq!(sent, want, "every line once, in order, across the chunks");

    let expected: Vec<&str> = posts.iter().map(|p| p.content.as_str()).collect();
    kook_answered_once(&fake, &expected, "short one");
    assert_no_secrets(&krill, &[&fake.options().token]);
}
