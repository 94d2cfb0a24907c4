//! The timer table: earliest deadline, re-arming, and expiry order.

use std::time::{Duration, Instant};

use krill_core::timers::TimerTable;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Timer {
    Heartbeat,
    Backoff,
}

#[test]
fn earliest_and_expiry_in_deadline_order() {
    let t0 = Instant::now();
    let mut table = TimerTable::new();
    assert_eq!(table.earliest(), None);
    table.set(Timer::Heartbeat, t0 + Duration::from_secs(5));
    table.set(Timer::Backoff, t0 + Duration::from_secs(2));
    assert_eq!(table.earliest(), Some(t0 + Duration::from_secs(2)));
    assert_eq!(table.pop_expired(t0 + Duration::from_secs(1)), None);
    assert_eq!(
        table.pop_expired(t0 + Duration::from_secs(9)),
        Some(Timer::Backoff)
    );
    assert_eq!(
        table.pop_expired(t0 + Duration::from_secs(9)),
        Some(Timer::Heartbeat)
    );
    assert!(table.is_empty());
}

#[test]
fn set_rearms_and_clear_disarms() {
    let t0 = Instant::now();
    let mut table = TimerTable::new();
    table.set(Timer::Heartbeat, t0 + Duration::from_secs(5));
    table.set(Timer::Heartbeat, t0 + Duration::from_secs(7));
    assert_eq!(
        table.deadline(Timer::Heartbeat),
        Some(t0 + Duration::from_secs(7))
    );
    table.clear(Timer::Heartbeat);
    assert!(!table.is_set(Timer::Heartbeat));
    assert_eq!(table.earliest(), None);
}
