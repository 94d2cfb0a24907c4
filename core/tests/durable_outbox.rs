//! The outbox machine (`krill_core::durable::Outbox`): order per chat, one
//! message in flight per chat, holding after a transient failure, the
//! give-up bound and its note, verification of recovered messages.

use std::time::{Duration, Instant};

use krill_core::durable::{Failure, Outbox, OutboxEffect, OutboxItem, SendKind, DELIVERY_GIVE_UP};
use proptest::prelude::*;

fn item(id: i64, chat: &str, reply: i64) -> OutboxItem<()> {
    OutboxItem {
        id,
        chat: chat.to_owned(),
        reply,
        verify: false,
        note: false,
        payload: (),
    }
}

fn next(outbox: &mut Outbox<()>, now: Instant) -> Option<(SendKind, i64)> {
    outbox.poll_send(now).map(|(kind, item)| (kind, item.id))
}

fn effects(outbox: &mut Outbox<()>) -> Vec<OutboxEffect> {
    std::iter::from_fn(|| outbox.poll_effect()).collect()
}

#[test]
fn chunks_of_a_chat_go_one_at_a_time_in_order_other_chats_in_parallel() {
    let t0 = Instant::now();
    let mut outbox = Outbox::new();
    for id in 1..=3 {
        outbox.push(item(id, "a", 1));
    }
    outbox.push(item(4, "b", 4));
    assert_eq!(next(&mut outbox, t0), Some((SendKind::Send, 1)));
    assert_eq!(next(&mut outbox, t0), Some((SendKind::Send, 4)));
    assert_eq!(next(&mut outbox, t0), None, "chunk 2 waits for chunk 1");
    outbox.handle_delivered(1);
    assert_eq!(next(&mut outbox, t0), Some((SendKind::Send, 2)));
    outbox.handle_delivered(2);
    outbox.handle_delivered(4);
    assert_eq!(next(&mut outbox, t0), Some((SendKind::Send, 3)));
    outbox.handle_delivered(3);
    let done: Vec<_> = effects(&mut outbox)
        .into_iter()
        .filter(|e| matches!(e, OutboxEffect::ReplyDone { .. }))
        .collect();
    assert_eq!(
        done,
        vec![
            OutboxEffect::ReplyDone { reply: 4 },
            OutboxEffect::ReplyDone { reply: 1 }
        ]
    );
    assert_eq!(outbox.pending(), 0);
}

#[test]
fn a_transient_failure_holds_the_rest_until_the_api_answers_again() {
    let t0 = Instant::now();
    let mut outbox = Outbox::new();
    for id in 1..=3 {
        outbox.push(item(id, "a", 1));
    }
    assert_eq!(next(&mut outbox, t0), Some((SendKind::Send, 1)));
    outbox.handle_delivered(1);
    assert_eq!(next(&mut outbox, t0), Some((SendKind::Send, 2)));
    outbox.handle_failed(t0, 2, Failure::Transient);
    assert_eq!(next(&mut outbox, t0), None, "chunk 3 never skips chunk 2");
    let retry = outbox.poll_timeout().expect("a retry time");
    assert_eq!(retry, t0 + Duration::from_secs(2));
    assert_eq!(next(&mut outbox, retry), Some((SendKind::Send, 2)));
    outbox.handle_delivered(2);
    assert_eq!(next(&mut outbox, retry), Some((SendKind::Send, 3)));
    outbox.handle_delivered(3);
    assert!(
        !effects(&mut outbox).iter().any(|e| matches!(
            e,
            OutboxEffect::Abandoned { .. } | OutboxEffect::Note { .. }
        )),
        "nothing given up"
    );
}

#[test]
fn past_the_bound_the_rest_is_dropped_and_the_user_told() {
    let t0 = Instant::now();
    let mut outbox = Outbox::new();
    for id in 1..=4 {
        outbox.push(item(id, "a", 1));
    }
    outbox.push(item(5, "a", 5));
    next(&mut outbox, t0);
    outbox.handle_delivered(1);
    let mut now = t0;
    loop {
        let (_, id) = next(&mut outbox, now).expect("chunk 2 again");
        assert_eq!(id, 2);
        outbox.handle_failed(now, 2, Failure::Transient);
        match outbox.poll_timeout() {
            Some(at) => now = at,
            None => break,
        }
        assert!(now <= t0 + DELIVERY_GIVE_UP + Duration::from_secs(30));
        if now.saturating_duration_since(t0) > DELIVERY_GIVE_UP + Duration::from_secs(60) {
            panic!("never gave up");
        }
    }
    let effects = effects(&mut outbox);
    assert!(effects.contains(&OutboxEffect::Abandoned { ids: vec![2, 3, 4] }));
    assert!(effects.contains(&OutboxEffect::Note {
        chat: "a".into(),
        reply: 1
    }));
    // The next reply still goes out.
    assert_eq!(next(&mut outbox, now), Some((SendKind::Send, 5)));
}

#[test]
fn a_reply_refused_outright_is_dropped_without_a_note() {
    let t0 = Instant::now();
    let mut outbox = Outbox::new();
    outbox.push(item(1, "a", 1));
    outbox.push(item(2, "a", 1));
    next(&mut outbox, t0);
    outbox.handle_failed(t0, 1, Failure::Permanent);
    let effects = effects(&mut outbox);
    assert!(effects.contains(&OutboxEffect::Abandoned { ids: vec![1, 2] }));
    assert!(!effects
        .iter()
        .any(|e| matches!(e, OutboxEffect::Note { .. })));
}

#[test]
fn a_recovered_message_is_verified_first_and_sent_only_when_missing() {
    let t0 = Instant::now();
    let mut outbox = Outbox::new();
    let mut first = item(1, "a", 1);
    first.verify = true;
    let mut second = item(2, "a", 1);
    second.verify = true;
    outbox.push(first);
    outbox.push(second);
    assert_eq!(next(&mut outbox, t0), Some((SendKind::Verify, 1)));
    outbox.handle_verified(1, true);
    assert_eq!(next(&mut outbox, t0), Some((SendKind::Verify, 2)));
    outbox.handle_verified(2, false);
    assert_eq!(next(&mut outbox, t0), Some((SendKind::Send, 2)));
}

proptest! {
    /// Whatever succeeds or fails when, per chat the delivered messages are
    /// in push order and at most one message is in flight.
    #[test]
    fn delivery_order_per_chat_is_push_order(
        pushes in proptest::collection::vec((0u8..3, 0u8..3), 1..40),
        outcomes in proptest::collection::vec(0u8..4, 1..200),
    ) {
        let t0 = Instant::now();
        let mut outbox = Outbox::new();
        let mut pushed: Vec<(i64, String)> = Vec::new();
        for (n, (chat, reply)) in pushes.iter().enumerate() {
            let id = n as i64 + 1;
            let chat = format!("c{chat}");
            outbox.push(item(id, &chat, i64::from(*reply) * 100 + i64::from(chat.len() as u8)));
            pushed.push((id, chat));
        }
        let mut now = t0;
        let mut delivered: Vec<i64> = Vec::new();
        let mut dropped: Vec<i64> = Vec::new();
        for outcome in outcomes {
            let mut in_flight = Vec::new();
            while let Some((_, item)) = outbox.poll_send(now) {
                in_flight.push((item.id, item.chat.clone()));
            }
            let chats: std::collections::HashSet<_> = in_flight.iter().map(|(_, c)| c.clone()).collect();
            prop_assert_eq!(chats.len(), in_flight.len(), "one in flight per chat");
            for (id, _) in in_flight {
                match outcome {
                    0 | 1 => outbox.handle_delivered(id),
                    2 => outbox.handle_failed(now, id, Failure::Transient),
                    _ => outbox.handle_failed(now, id, Failure::Permanent),
                }
            }
            while let Some(effect) = outbox.poll_effect() {
                match effect {
                    OutboxEffect::Delivered { id } => delivered.push(id),
                    OutboxEffect::Abandoned { ids } => dropped.extend(ids),
                    _ => {}
                }
            }
            now = outbox.poll_timeout().unwrap_or(now).max(now + Duration::from_secs(1));
        }
        for chat in ["c0", "c1", "c2"] {
            let order: Vec<i64> = delivered
                .iter()
                .copied()
                .filter(|id| pushed.iter().any(|(p, c)| p == id && c == chat))
                .collect();
            let mut sorted = order.clone();
            sorted.sort_unstable();
            prop_assert_eq!(order, sorted);
        }
        for id in &delivered {
            prop_assert!(!dropped.contains(id), "a message is delivered or dropped, not both");
        }
    }
}
