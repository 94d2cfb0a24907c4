//! The gateway's async runtime: one [`smol::Executor`] run on the thread
//! that calls [`block_on`] (the main thread of `krill gateway`), so socket
//! I/O (WebSockets and HTTP, [`crate::http`]), timers, channel loops and
//! agent turns all run on that one thread, and a wake-up between them costs
//! no thread switch; only blocking file work hops to
//! [`crate::workers`].
//!
//! The main thread also waits for socket events and timers itself
//! (`smol::block_on` polls the reactor while the executor has nothing to
//! run): one wake-up per burst of events. async-io's own `async-io` thread
//! stays as a back-up that polls the reactor only while the main thread is
//! busy. (While HTTP calls ran on worker threads, the main thread parked on
//! a plain parker instead: two threads then shared the reactor, and its
//! hand-over cost more wake-ups than it saved.)
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
///
/// `future` runs as a task of the executor, polled only when it is woken:
/// the executor polls the future it runs on every wake-up of the thread,
/// and the gateway's top-level future (channel ends, reloads, signals) had
/// each of those cost a read of the signal pipe.
pub fn block_on<T: Send + 'static>(future: impl Future<Output = T> + Send + 'static) -> T {
    let was = RUNNING.with(|r| r.replace(true));
    struct Restore(bool);
    impl Drop for Restore {
        fn drop(&mut self) {
            RUNNING.with(|r| r.set(self.0));
        }
    }
    let _restore = Restore(was);
    let task = EXECUTOR.spawn(future);
    smol::block_on(EXECUTOR.run(task))
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
