//! [`Deadlines`]: the overall time limits of the requests in flight, kept
//! by one coarse ticker ([`TICK`]) instead of a timer per request.
//!
//! async-io wakes its reactor for every timer it is given, so a timer per
//! request cost each REST call an extra wake-up and half a dozen system
//! calls on the runtime thread. Here a request only puts its deadline in a
//! table; one task, running while any request is in flight, checks the
//! table every [`TICK`] and wakes the requests whose time is up. A limit is
//! thus enforced within one tick after it passes.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

/// How often the ticker checks the deadlines.
pub(super) const TICK: Duration = Duration::from_millis(250);

/// The deadlines of the requests in flight.
#[derive(Debug, Default)]
pub(super) struct Deadlines {
    table: Mutex<Table>,
}

#[derive(Debug, Default)]
struct Table {
    next_id: u64,
    waiting: HashMap<u64, Entry>,
    /// A ticker task is running.
    ticking: bool,
}

#[derive(Debug)]
struct Entry {
    at: Instant,
    expired: bool,
    waker: Option<Waker>,
}

impl Deadlines {
    /// `future`'s output, or `None` once `limit` has passed (give or take
    /// a [`TICK`]).
    pub async fn within<T>(
        self: &Arc<Self>,
        limit: Duration,
        future: impl Future<Output = T>,
    ) -> Option<T> {
        let id = self.register(Instant::now() + limit);
        let expiry = Expiry {
            deadlines: self,
            id,
        };
        futures_lite::future::or(async { Some(future.await) }, async {
            expiry.await;
            None
        })
        .await
    }

    fn lock(&self) -> MutexGuard<'_, Table> {
        self.table.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Puts a deadline in the table, starting the ticker if none runs.
    fn register(self: &Arc<Self>, at: Instant) -> u64 {
        let mut table = self.lock();
        let id = table.next_id;
        table.next_id += 1;
        table.waiting.insert(
            id,
            Entry {
                at,
                expired: false,
                waker: None,
            },
        );
        if !table.ticking {
            table.ticking = true;
            crate::runtime::spawn(Arc::clone(self).tick()).detach();
        }
        id
    }

    /// Wakes the requests whose deadline passed, every [`TICK`], until no
    /// request is in flight.
    async fn tick(self: Arc<Self>) {
        loop {
            smol::Timer::after(TICK).await;
            let now = Instant::now();
            let mut table = self.lock();
            for entry in table.waiting.values_mut() {
                if !entry.expired && entry.at <= now {
                    entry.expired = true;
                    if let Some(waker) = entry.waker.take() {
                        waker.wake();
                    }
                }
            }
            if table.waiting.is_empty() {
                table.ticking = false;
                return;
            }
        }
    }
}

/// Ready once its deadline has passed; takes the deadline out of the table
/// when dropped.
struct Expiry<'a> {
    deadlines: &'a Deadlines,
    id: u64,
}

impl Future for Expiry<'_> {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let mut table = self.deadlines.lock();
        let Some(entry) = table.waiting.get_mut(&self.id) else {
            return Poll::Ready(());
        };
        if entry.expired {
            return Poll::Ready(());
        }
        match &entry.waker {
            Some(waker) if waker.will_wake(cx.waker()) => {}
            _ => entry.waker = Some(cx.waker().clone()),
        }
        Poll::Pending
    }
}

impl Drop for Expiry<'_> {
    fn drop(&mut self) {
        self.deadlines.lock().waiting.remove(&self.id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_future_that_ends_in_time_gives_its_output_and_leaves_no_deadline() {
        let deadlines = Arc::new(Deadlines::default());
        let got = smol::block_on(deadlines.within(Duration::from_secs(5), async { 7 }));
        assert_eq!(got, Some(7));
        assert!(deadlines.lock().waiting.is_empty());
    }

    #[test]
    fn a_future_past_its_limit_ends_within_a_tick() {
        let deadlines = Arc::new(Deadlines::default());
        let started = Instant::now();
        let got = smol::block_on(deadlines.within(
            Duration::from_millis(100),
            smol::Timer::after(Duration::from_secs(5)),
        ));
        let took = started.elapsed();
        assert!(got.is_none());
        assert!(took >= Duration::from_millis(100), "{took:?}");
        assert!(took < Duration::from_millis(100) + TICK * 3, "{took:?}");
        assert!(deadlines.lock().waiting.is_empty());
    }

    #[test]
    fn the_ticker_stops_when_nothing_is_in_flight_and_starts_again() {
        let deadlines = Arc::new(Deadlines::default());
        smol::block_on(async {
            assert_eq!(
                deadlines.within(Duration::from_secs(1), async { 1 }).await,
                Some(1)
            );
            // Let the ticker see the empty table and stop.
            for _ in 0..20 {
                if !deadlines.lock().ticking {
                    break;
                }
                smol::Timer::after(TICK).await;
            }
            assert!(!deadlines.lock().ticking, "the ticker stopped");
            let late = deadlines
                .within(
                    Duration::from_millis(50),
                    smol::Timer::after(Duration::from_secs(5)),
                )
                .await;
            assert!(late.is_none(), "a new ticker enforced the limit");
        });
    }
}
