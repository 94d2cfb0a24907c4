//! System events queued for a session's next turn: bounds, order,
//! de-duplication, and the prompt they are prepended to.

use krill_core::agent::system_events::{prepend_system_events, SystemEvents};
use proptest::prelude::*;

#[test]
fn lines_wait_for_their_session_and_are_taken_once() {
    let mut q = SystemEvents::default();
    assert!(q.push("s1", "[system] one"));
    assert!(q.push("s2", "[system] elsewhere"));
    assert!(q.push("s1", "[system] two"));
    assert!(!q.push("s1", "[system] one"), "already pending");
    assert_eq!(q.pending("s1"), 2);
    assert_eq!(q.take("s1"), vec!["[system] one", "[system] two"]);
    assert!(q.take("s1").is_empty());
    assert_eq!(q.pending("s2"), 1);
    // once taken, the same line may come again
    assert!(q.push("s1", "[system] one"));
    assert!(q.take("nobody").is_empty());
}

#[test]
fn each_session_keeps_its_newest_lines() {
    let mut q = SystemEvents::new(3, 10);
    for n in 1..=5 {
        q.push("s", &format!("line {n}"));
    }
    assert_eq!(q.take("s"), vec!["line 3", "line 4", "line 5"]);
}

#[test]
fn the_least_recently_pushed_session_goes_first() {
    let mut q = SystemEvents::new(5, 2);
    q.push("a", "a1");
    q.push("b", "b1");
    q.push("a", "a2");
    q.push("c", "c1");
    assert_eq!(q.sessions(), 2);
    assert_eq!(q.pending("b"), 0, "b was pushed to least recently");
    assert_eq!(q.take("a"), vec!["a1", "a2"]);
    assert_eq!(q.take("c"), vec!["c1"]);
}

#[test]
fn lines_stay_one_line() {
    let mut q = SystemEvents::default();
    q.push("s", "a\nb\r\nc");
    assert_eq!(q.take("s"), vec!["a b  c"]);
}

#[test]
fn events_come_before_the_prompt_after_a_blank_line() {
    let events = vec![
        "[system] alice (111) reacted 👍 to your message 9001".to_owned(),
        "[system] bob (222) reacted 🔥 to your message 9001".to_owned(),
    ];
    let prompt = "[from: alice (111)] what now?\n[message_id: 9002]";
    assert_eq!(
        prepend_system_events(&events, prompt),
        "[system] alice (111) reacted 👍 to your message 9001\n\
         [system] bob (222) reacted 🔥 to your message 9001\n\
         \n\
         [from: alice (111)] what now?\n\
         [message_id: 9002]"
    );
    assert_eq!(prepend_system_events(&[], prompt), prompt);
    assert_eq!(prepend_system_events(&events[..1], ""), events[0]);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    /// Whatever is pushed, the bounds hold, and a session's lines come out
    /// in push order without duplicates.
    #[test]
    fn bounds_and_order_hold(ops in proptest::collection::vec((0u8..4, 0u8..6, any::<bool>()), 0..80)) {
        let mut q = SystemEvents::new(3, 2);
        let mut pushed: Vec<(String, String)> = Vec::new();
        for (session, line, take) in ops {
            let session = format!("s{session}");
            if take {
                let lines = q.take(&session);
                prop_assert!(lines.len() <= 3);
                let mut seen = std::collections::BTreeSet::new();
                for l in &lines {
                    prop_assert!(seen.insert(l.clone()), "duplicate {l}");
                }
                // the lines are a subsequence of what was pushed to the session
                let mut it = pushed.iter().filter(|(s, _)| *s == session).map(|(_, l)| l);
                for l in &lines {
                    prop_assert!(it.any(|p| p == l), "{l} out of order");
                }
                pushed.retain(|(s, _)| *s != session);
            } else {
                let line = format!("line {line}");
                if q.push(&session, &line) {
                    pushed.push((session.clone(), line));
                }
            }
            prop_assert!(q.sessions() <= 2);
            for n in 0..4 {
                let name = format!("s{n}");
                prop_assert!(q.pending(&name) <= 3);
            }
        }
    }
}
