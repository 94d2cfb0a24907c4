//! Scenario (issue 16): a huge reply is bounded. The echo agent answers a
//! 300,000-character message; the reply is cut at `maxReplyChars` (default
//! 20,000), its last message ends with a visible note saying so, and every
//! chunk is posted (none refused), in order. A reply in another chat is not
//! held behind it.

#[path = "support/krill.rs"]
mod krill;
#[path = "support/scenario.rs"]
mod scenario;

use krill::WAIT;
use krill_testkit::{FakeKook, FakeKookOptions};
use scenario::{kook_dm, start_kook};

#[test]
fn a_huge_reply_is_cut_with_a_note_and_fully_posted() {
    let fake = FakeKook::start(FakeKookOptions::default());
    let krill = start_kook(&fake, "maxReplyChars: 12000,");
    let huge = "lorem ipsum dolor sit amet ".repeat(11_112); // ~300,000 chars
    kook_dm(&fake, &huge);
    // 12,000 chars at KOOK's 4,000 per message (plus the note): 4 messages.
    fake.wait_for_posts(4, WAIT).expect("the cut reply");
    std::thread::sleep(std::time::Duration::from_millis(300));
    let posted: Vec<String> = fake
        .posted_messages()
        .into_iter()
        .map(|p| p.content)
        .collect();
    assert!(posted.len() <= 5, "{} messages", posted.len());
    let last = posted.last().expect("a message");
    assert!(
        last.ends_with("characters, over the 12000-character limit (maxReplyChars)]"),
        "{last}"
    );
    let total: usize = posted.iter().map(|p| p.chars().count()).sum();
    assert!(total < 12_400, "{total}");
    assert!(posted.iter().all(|p| p.chars().count() <= 4000));
    assert!(
        !krill.log().contains("REST request refused"),
        "{}",
        krill.log()
    );
}
