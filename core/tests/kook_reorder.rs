//! `kook::ReorderBuffer`: the rules in its module docs, one test each, and a
//! property test against a model.

use krill_core::kook::{Offer, Release, ReorderBuffer, ReorderLimits};
use proptest::prelude::*;

fn buffer(max_events: usize, max_bytes: usize) -> ReorderBuffer<u64> {
    ReorderBuffer::new(ReorderLimits {
        max_events,
        max_bytes,
    })
}

fn drain(b: &mut ReorderBuffer<u64>) -> Vec<Release<u64>> {
    std::iter::from_fn(|| b.pop()).collect()
}

fn deliver(sn: u64) -> Release<u64> {
    Release::Deliver { sn, item: sn }
}

#[test]
fn the_next_sn_is_released_with_what_follows_it() {
    let mut b = buffer(10, 1000);
    assert_eq!(b.offer(2, 1, 2), Offer::Held);
    assert_eq!(b.offer(3, 1, 3), Offer::Held);
    assert!(drain(&mut b).is_empty());
    assert_eq!(b.offer(1, 1, 1), Offer::InOrder);
    assert_eq!(drain(&mut b), vec![deliver(1), deliver(2), deliver(3)]);
    assert_eq!(b.last_delivered(), 3);
    assert_eq!((b.held_events(), b.held_bytes()), (0, 0));
}

#[test]
fn delivered_or_held_sns_are_duplicates() {
    let mut b = buffer(10, 1000);
    b.offer(1, 1, 1);
    b.offer(3, 1, 3);
    assert_eq!(b.offer(1, 1, 1), Offer::Duplicate);
    assert_eq!(b.offer(0, 1, 0), Offer::Duplicate);
    assert_eq!(b.offer(3, 1, 3), Offer::Duplicate);
    assert_eq!(drain(&mut b), vec![deliver(1)]);
    assert_eq!(b.held_events(), 1);
}

#[test]
fn release_all_skips_every_gap_in_order() {
    let mut b = buffer(10, 1000);
    for sn in [1, 4, 5, 9] {
        b.offer(sn, 1, sn);
    }
    drain(&mut b);
    b.release_all();
    assert_eq!(
        drain(&mut b),
        vec![
            Release::Gap { from: 2, to: 3 },
            deliver(4),
            deliver(5),
            Release::Gap { from: 6, to: 8 },
            deliver(9)
        ]
    );
    assert!(!b.is_holding());
    assert_eq!(b.last_delivered(), 9);
}

#[test]
fn an_event_that_does_not_fit_skips_ahead_to_it() {
    let mut b = buffer(2, 1000);
    b.offer(3, 1, 3);
    b.offer(6, 1, 6);
    assert_eq!(b.offer(5, 1, 5), Offer::SkippedAhead);
    assert_eq!(
        drain(&mut b),
        vec![
            Release::Gap { from: 1, to: 2 },
            deliver(3),
            Release::Gap { from: 4, to: 4 },
            deliver(5),
            deliver(6)
        ]
    );
    // Bytes: an event larger than the whole bound is released at once.
    let mut b = buffer(100, 10);
    assert_eq!(b.offer(2, 4, 2), Offer::Held);
    assert_eq!(b.offer(3, 6, 3), Offer::Held);
    assert_eq!(b.held_bytes(), 10);
    assert_eq!(b.offer(5, 1, 5), Offer::SkippedAhead);
    assert_eq!(b.held_bytes(), 0);
    assert_eq!(b.offer(7, 11, 7), Offer::SkippedAhead);
}

#[test]
fn a_zero_bound_never_holds() {
    let mut b = buffer(0, 0);
    assert_eq!(b.offer(3, 1, 3), Offer::SkippedAhead);
    assert_eq!(
        drain(&mut b),
        vec![Release::Gap { from: 1, to: 2 }, deliver(3)]
    );
}

#[test]
fn reset_starts_again_at_1() {
    let mut b = buffer(10, 1000);
    b.offer(1, 1, 1);
    b.offer(5, 1, 5);
    b.reset();
    assert_eq!(b.last_delivered(), 0);
    assert!(!b.is_holding());
    assert!(drain(&mut b).is_empty());
    assert_eq!(b.offer(1, 1, 1), Offer::InOrder);
}

#[test]
fn extreme_sequence_numbers_do_not_overflow() {
    let mut b = buffer(10, 1000);
    assert_eq!(b.offer(u64::MAX, 1, 0), Offer::Held);
    b.release_all();
    assert_eq!(
        drain(&mut b),
        vec![
            Release::Gap {
                from: 1,
                to: u64::MAX - 1
            },
            Release::Deliver {
                sn: u64::MAX,
                item: 0
            }
        ]
    );
    assert_eq!(b.offer(u64::MAX, 1, 0), Offer::Duplicate);
}

#[derive(Debug, Clone)]
enum Op {
    Offer(u64, usize),
    ReleaseAll,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        9 => (1u64..60, 1usize..40).prop_map(|(sn, size)| Op::Offer(sn, size)),
        1 => Just(Op::ReleaseAll),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// Against a model: each sn is delivered at most once, in increasing
    /// order; every gap report covers exactly the sns skipped; the bound
    /// always holds; after `release_all` nothing offered is lost.
    #[test]
    fn releases_are_ordered_unique_bounded_and_lossless(
        ops in proptest::collection::vec(op(), 0..200),
        max_events in 0usize..8,
        max_bytes in 0usize..120,
    ) {
        let mut b = buffer(max_events, max_bytes);
        let mut last = 0u64;
        let mut offered = std::collections::BTreeSet::new();
        let mut delivered = Vec::new();
        for op in ops {
            match op {
                Op::Offer(sn, size) => {
                    let was_duplicate = b.is_duplicate(sn);
                    let outcome = b.offer(sn, size, sn);
                    prop_assert_eq!(outcome == Offer::Duplicate, was_duplicate);
                    if !was_duplicate {
                        offered.insert(sn);
                    }
                }
                Op::ReleaseAll => b.release_all(),
            }
            prop_assert!(b.held_events() <= max_events);
            prop_assert!(b.held_bytes() <= max_bytes);
            for release in drain(&mut b) {
                match release {
                    Release::Deliver { sn, item } => {
                        prop_assert_eq!(sn, item);
                        prop_assert_eq!(sn, last + 1, "no silent jump");
                        last = sn;
                        delivered.push(sn);
                    }
                    Release::Gap { from, to } => {
                        prop_assert_eq!(from, last + 1);
                        prop_assert!(to >= from);
                        last = to;
                    }
                }
            }
            prop_assert_eq!(b.last_delivered(), last);
        }
        b.release_all();
        for release in drain(&mut b) {
            if let Release::Deliver { sn, .. } = release {
                delivered.push(sn);
            }
        }
        prop_assert!(delivered.windows(2).all(|w| w[0] < w[1]));
        let delivered: std::collections::BTreeSet<u64> = delivered.into_iter().collect();
        prop_assert_eq!(delivered, offered);
    }
}
