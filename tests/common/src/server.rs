//! Plumbing shared by the fakes: state behind a mutex with a condvar for the
//! `wait_for_*` calls, and the guard that stops a fake's threads on drop.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::Timeout;

/// A fake's state, shared by its HTTP thread, its WebSocket thread and the
/// test's handle. Every change goes through [`Shared::update`], which wakes
/// the waiters.
pub(crate) struct Shared<S> {
    state: Mutex<S>,
    cond: Condvar,
}

impl<S> Shared<S> {
    pub(crate) fn new(state: S) -> Self {
        Self {
            state: Mutex::new(state),
            cond: Condvar::new(),
        }
    }

    /// The state, for reading. A panic elsewhere cannot wedge the fake: a
    /// poisoned lock is taken over as is (the state stays usable).
    pub(crate) fn lock(&self) -> MutexGuard<'_, S> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Changes the state and wakes every waiter.
    pub(crate) fn update<R>(&self, f: impl FnOnce(&mut S) -> R) -> R {
        let r = f(&mut self.lock());
        self.cond.notify_all();
        r
    }

    /// Waits until `ready` returns `Some`, at most `timeout`. `describe`
    /// says what was awaited and what the state is, for the error.
    pub(crate) fn wait_until<T>(
        &self,
        timeout: Duration,
        describe: impl Fn(&S) -> String,
        mut ready: impl FnMut(&S) -> Option<T>,
    ) -> Result<T, Timeout> {
        let deadline = Instant::now() + timeout;
        let mut guard = self.lock();
        loop {
            if let Some(t) = ready(&guard) {
                return Ok(t);
            }
            let now = Instant::now();
            if now >= deadline {
                return Err(Timeout {
                    what: describe(&guard),
                    waited: timeout,
                });
            }
            guard = self
                .cond
                .wait_timeout(guard, deadline - now)
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
    }
}

/// Stops a fake's threads when dropped: raises the stop flag, closes the
/// stop channel (which ends the WebSocket executor at once) and joins.
pub(crate) struct Guard {
    pub(crate) stop_flag: Arc<AtomicBool>,
    pub(crate) stop_tx: Option<smol::channel::Sender<()>>,
    pub(crate) threads: Vec<JoinHandle<()>>,
}

impl Guard {
    pub(crate) fn new() -> (Self, smol::channel::Receiver<()>) {
        let (tx, rx) = smol::channel::bounded(1);
        (
            Self {
                stop_flag: Arc::new(AtomicBool::new(false)),
                stop_tx: Some(tx),
                threads: Vec::new(),
            },
            rx,
        )
    }
}

impl Drop for Guard {
    fn drop(&mut self) {
        self.stop_flag.store(true, Ordering::SeqCst);
        drop(self.stop_tx.take());
        for t in self.threads.drain(..) {
            // A fake thread that panicked has nothing left to clean up.
            let _ = t.join();
        }
    }
}

/// The two servers of one fake platform, running until their [`Guard`]
/// drops (or their lifetime, [`crate::HARD_LIFETIME`] by default, passes).
pub(crate) struct Servers {
    pub(crate) guard: Guard,
    pub(crate) ws_port: u16,
    pub(crate) http_port: u16,
}

/// Starts the WebSocket server with `ws`, tells `on_ws_port` its port (before
/// any client can know it), then starts the HTTP server with `http`.
///
/// # Panics
/// When 127.0.0.1 cannot be bound (the test cannot run then).
pub(crate) fn start_servers(
    name: &str,
    lifetime: std::time::Duration,
    ws: Arc<dyn crate::ws::WsHandler>,
    on_ws_port: impl FnOnce(u16),
    http: crate::http::Handler,
) -> Servers {
    let (mut guard, stop_rx) = Guard::new();
    let deadline = Instant::now() + lifetime;
    let (ws_port, ws_thread) =
        crate::ws::spawn(name, ws, stop_rx, deadline).expect("bind 127.0.0.1 (ws)");
    guard.threads.push(ws_thread);
    on_ws_port(ws_port);
    let (http_port, http_thread) =
        crate::http::spawn(name, http, guard.stop_flag.clone(), deadline)
            .expect("bind 127.0.0.1 (http)");
    guard.threads.push(http_thread);
    Servers {
        guard,
        ws_port,
        http_port,
    }
}
