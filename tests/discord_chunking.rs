//! Scenario: a 5000-character echo reply on Discord goes out as three
//! messages of at most 2000 characters, in order, each with its code fences
//! balanced (a fence cut by a split is closed and reopened), and together
//! they carry every line of the reply once. Then the next message is
//! answered once; the token never reaches the log.

#[path = "support/krill.rs"]
mod krill;
#[path = "support/scenario.rs"]
mod scenario;

use krill::WAIT;
use krill_testkit::{FakeDiscord, FakeDiscordOptions};
use scenario::{assert_no_secrets, discord_answered_once, discord_dm, start_discord};

/// A reply of exactly `len` characters: prose, then a fenced block of long
/// lines that no single message can hold, then prose.
fn long_reply(len: usize) -> String {
    let mut text = String::from("Here is the listing you asked for:\n```rust\n");
    let mut n = 0;
    while text.chars().count() < len - 300 {
        text.push_str(&format!("let line_{n:03} = \"{}\";\n", "x".repeat(270)));
        n += 1;
    }
    text.push_str("```\nThat is all.");
    while text.chars().count() < len {
        text.push('!');
    }
    text
}

fn non_fence_lines(text: &str) -> Vec<&str> {
    text.lines()
        .filter(|l| !l.trim_start().starts_with("```"))
        .collect()
}

#[test]
fn a_5000_char_reply_is_three_ordered_messages_with_balanced_fences() {
    let fake = FakeDiscord::start(FakeDiscordOptions::default());
    let krill = start_discord(&fake, "");
    let reply = long_reply(5000);
    assert_eq!(reply.chars().count(), 5000);

    discord_dm(&fake, &reply);
    let posts = fake.wait_for_posts(3, WAIT).expect("three chunks");
    assert_eq!(posts.len(), 3, "exactly three messages");
    for (i, post) in posts.iter().enumerate() {
        let chars = post.content.chars().count();
        assert!(chars <= 2000, "chunk {i} has {chars} characters");
        assert_eq!(
            post.content.matches("```").count() % 2,
            0,
            "chunk {i} has unbalanced fences:\n{}",
            post.content
        );
    }
    assert!(posts[0].content.starts_with("Here is the listing"));
    assert!(posts[2].content.contains("That is all."));
    let sent: Vec<&str> = posts
        .iter()
        .flat_map(|p| non_fence_lines(&p.content))
        .collect();
    assert_eq!(
        sent,
        non_fence_lines(&reply),
        "every line once, in order, across the chunks"
    );

    let expected: Vec<&str> = posts.iter().map(|p| p.content.as_str()).collect();
    discord_answered_once(&fake, &expected, "short one");
    assert_no_secrets(&krill, &[&fake.options().token]);
}
