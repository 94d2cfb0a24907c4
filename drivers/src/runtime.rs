//! The gateway's async runtime: one [`smol::Executor`] run on the thread
//! that calls [`block_on`] (the main thread of `krill gateway`), so socket
//! I/O, timers, channel loops and agent turns all run on that one thread.
//! A wake-up between them costs no thread switch; only blocking work hops
//! (HTTP to [`crate::http`]'s workers, file writes to the blocking pool).
//!
//! The reactor (epoll and timers) is async-io's own `async-io` thread: the
//! main thread parks on a plain parker ([`futures_lite::future::block_on`])
//! and is woken by it. With `smol::block_on` the main thread shared the
//! reactor with that thread, and async-io's hand-over made the `async-io`
//! thread wake up to ten times in each 10 ms it did not poll (an
//! exponential back-off from 50 µs), then take the reactor anyway: at one
//! message at a time that was most of the process's context switches. Now
//! the `async-io` thread sleeps in `epoll_wait` until an event and the main
//! thread until it is woken: one wake-up of each per burst of events.
//!
//! [`spawn`] puts a task on this executor when called from a thread running
//! it, and on smol's global executor otherwise (tests and tools that drive
//! krill's types with `smol::block_on` keep working unchanged).

use std::cell::Cell;
use std::future::Future;

use smol::{Executor, Task};

/// The executor [`block_on`] runs.
static EXECUTOR: Executor<'static> = Executor::new();

thread_local! {
    /// True while this thread is inside [`block_on`].
    static RUNNING: Cell<bool> = const { Cell::new(false) };
}

/// Runs `future` to completion on this thread, running every task
/// [`spawn`]ed from it (and from them) here too.
pub fn block_on<T>(future: impl Future<Output = T>) -> T {
    let was = RUNNING.with(|r| r.replace(true));
    struct Restore(bool);
    impl Drop for Restore {
        fn drop(&mut self) {
            RUNNING.with(|r| r.set(self.0));
        }
    }
    let _restore = Restore(was);
    futures_lite::future::block_on(EXECUTOR.run(future))
}

/// Spawns `future`: on the runtime of [`block_on`] when this thread runs it,
/// else on smol's global executor.
pub fn spawn<T: Send + 'static>(future: impl Future<Output = T> + Send + 'static) -> Task<T> {
    if RUNNING.with(Cell::get) {
        EXECUTOR.spawn(future)
    } else {
        smol::spawn(future)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tasks_spawned_inside_block_on_run_on_the_same_thread() {
        let caller = std::thread::current().id();
        let ran_on = block_on(async { spawn(async { std::thread::current().id() }).await });
        assert_eq!(ran_on, caller);
    }

    #[test]
    fn tasks_spawned_outside_block_on_still_run() {
        let task = spawn(async { 7 });
        assert_eq!(smol::block_on(task), 7);
    }
}
