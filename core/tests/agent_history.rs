//! Guild context history: the ring buffer keeps the newest `capacity`
//! messages, `take_context` returns the newest `limit` in order and empties
//! it, and the per-channel map stays bounded.

use krill_core::agent::history::DEFAULT_HISTORY_LIMIT;
use krill_core::agent::{ChannelHistories, ChannelHistory, ContextMessage};
use proptest::prelude::*;

fn msg(n: usize) -> ContextMessage {
    ContextMessage {
        message_id: n.to_string(),
        author_id: "1".into(),
        author_name: "a".into(),
        text: format!("message {n}"),
    }
}

fn ids(messages: &[ContextMessage]) -> Vec<String> {
    messages.iter().map(|m| m.message_id.clone()).collect()
}

#[test]
fn keeps_the_newest_capacity_messages() {
    let mut history = ChannelHistory::new(3);
    for n in 1..=5 {
        history.record(msg(n));
    }
    assert_eq!(history.len(), 3);
    assert_eq!(ids(&history.take_context(10)), ["3", "4", "5"]);
    assert!(history.is_empty(), "take_context empties the buffer");
    assert!(history.take_context(10).is_empty());
}

#[test]
fn limit_takes_the_newest_and_zero_takes_nothing() {
    let mut history = ChannelHistory::new(DEFAULT_HISTORY_LIMIT);
    for n in 1..=5 {
        history.record(msg(n));
    }
    assert_eq!(ids(&history.take_context(2)), ["4", "5"]);
    history.record(msg(6));
    assert!(history.take_context(0).is_empty());
    assert!(history.is_empty());
}

#[test]
fn zero_capacity_records_nothing() {
    let mut history = ChannelHistory::new(0);
    history.record(msg(1));
    assert!(history.is_empty());
    let mut map = ChannelHistories::new(0, 4);
    map.record("c", msg(1));
    assert_eq!(map.channel_count(), 0);
}

#[test]
fn channels_are_separate_and_the_least_recent_is_evicted() {
    let mut map = ChannelHistories::new(5, 2);
    map.record("a", msg(1));
    map.record("b", msg(2));
    map.record("a", msg(3));
    map.record("c", msg(4)); // evicts "b", written to least recently
    assert_eq!(map.channel_count(), 2);
    assert!(map.take_context("b", 5).is_empty());
    assert_eq!(ids(&map.take_context("a", 5)), ["1", "3"]);
    assert_eq!(ids(&map.take_context("c", 5)), ["4"]);
    assert_eq!(map.channel_count(), 0);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn take_context_is_the_newest_min_of_everything(
        capacity in 0usize..30,
        count in 0usize..80,
        limit in 0usize..40,
    ) {
        let mut history = ChannelHistory::new(capacity);
        for n in 0..count {
            history.record(msg(n));
            prop_assert!(history.len() <= capacity);
        }
        let taken = history.take_context(limit);
        let expected_len = count.min(capacity).min(limit);
        prop_assert_eq!(taken.len(), expected_len);
        let expected: Vec<String> = (count - expected_len..count).map(|n| n.to_string()).collect();
        prop_assert_eq!(ids(&taken), expected);
        prop_assert!(history.is_empty());
    }

    #[test]
    fn the_map_never_holds_more_than_max_channels(
        writes in proptest::collection::vec((0u8..12, 0usize..100), 0..200),
        max_channels in 1usize..6,
    ) {
        let mut map = ChannelHistories::new(4, max_channels);
        for (channel, n) in writes {
            map.record(&channel.to_string(), msg(n));
            prop_assert!(map.channel_count() <= max_channels);
        }
    }
}
