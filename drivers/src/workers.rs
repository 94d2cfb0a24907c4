//! [`run`]: blocking file work (status file writes, a session's first
//! transcript read, the config file check) done off the async runtime by a
//! few long-lived threads, `krill-worker-<n>`. (HTTP runs on the runtime
//! itself, [`crate::http`].)
//!
//! - At most [`MAX_WORKERS`] threads; one more starts only when a job comes
//!   in while every started thread is busy, and started threads stay.
//! - Jobs wait in a bounded queue ([`QUEUE_CAPACITY`]); when it is full the
//!   submitting task waits (back-pressure, nothing dropped).
//! - A job that panics (a bug) is reported as [`WorkerGone`] to its caller;
//!   the worker thread lives on.
//!
//! A job should finish in bounded time: a job that runs for minutes holds
//! one of the few workers.

use std::panic::AssertUnwindSafe;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::OnceLock;

use smol::channel::{bounded, Receiver, Sender};

/// The most worker threads.
pub const MAX_WORKERS: usize = 4;

/// Jobs waiting for a worker before submitters wait.
pub const QUEUE_CAPACITY: usize = 1024;

/// The job ended without a result (it panicked, or no worker could start).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the worker thread running the job failed")]
pub struct WorkerGone;

type Job = Box<dyn FnOnce() + Send>;

/// The process's workers.
struct Workers {
    jobs: Sender<Job>,
    queue: Receiver<Job>,
    /// Threads started.
    started: AtomicUsize,
    /// Threads waiting for a job.
    idle: AtomicUsize,
}

fn workers() -> &'static Workers {
    static WORKERS: OnceLock<Workers> = OnceLock::new();
    WORKERS.get_or_init(|| {
        let (jobs, queue) = bounded(QUEUE_CAPACITY);
        Workers {
            jobs,
            queue,
            started: AtomicUsize::new(0),
            idle: AtomicUsize::new(0),
        }
    })
}

/// Runs `job` on a worker thread and waits (asynchronously) for its result.
pub async fn run<T: Send + 'static>(
    job: impl FnOnce() -> T + Send + 'static,
) -> Result<T, WorkerGone> {
    let pool = workers();
    let (done, result) = bounded(1);
    let job: Job = Box::new(move || {
        let _ = done.try_send(job());
    });
    pool.grow_if_busy();
    if pool.jobs.send(job).await.is_err() {
        return Err(WorkerGone);
    }
    result.recv().await.map_err(|_| WorkerGone)
}

/// Worker threads started so far (for tests and diagnostics).
pub fn started() -> usize {
    workers().started.load(Ordering::SeqCst)
}

impl Workers {
    /// Starts one more thread when none is idle and the limit allows.
    fn grow_if_busy(&'static self) {
        if self.idle.load(Ordering::SeqCst) > 0 {
            return;
        }
        let claimed = self
            .started
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| {
                (n < MAX_WORKERS).then_some(n + 1)
            });
        let Ok(n) = claimed else {
            return;
        };
        let spawned = std::thread::Builder::new()
            .name(format!("krill-worker-{n}"))
            .spawn(move || self.work());
        if let Err(error) = spawned {
            self.started.fetch_sub(1, Ordering::SeqCst);
            tracing::warn!("cannot start a worker thread: {error}");
        }
    }

    fn work(&self) {
        loop {
            self.idle.fetch_add(1, Ordering::SeqCst);
            let job = self.queue.recv_blocking();
            self.idle.fetch_sub(1, Ordering::SeqCst);
            let Ok(job) = job else {
                return;
            };
            // The job's result channel is dropped by the unwind, which
            // tells the caller; this thread keeps serving.
            let _ = std::panic::catch_unwind(AssertUnwindSafe(job));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jobs_run_on_a_few_long_lived_threads() {
        let names: Vec<String> = smol::block_on(async {
            let mut names = Vec::new();
            for _ in 0..50 {
                let name = run(|| std::thread::current().name().map(str::to_owned))
                    .await
                    .expect("the job ran");
                names.push(name.unwrap_or_default());
            }
            names
        });
        assert!(names.iter().all(|n| n.starts_with("krill-worker-")));
        assert!(started() <= MAX_WORKERS);
    }

    #[test]
    fn a_panicking_job_is_reported_and_the_worker_survives() {
        smol::block_on(async {
            let failed = run(|| -> u32 { panic!("a bug in a job") }).await;
            assert_eq!(failed, Err(WorkerGone));
            assert_eq!(run(|| 2 + 2).await, Ok(4));
        });
    }

    #[test]
    fn many_parallel_jobs_never_start_more_than_the_limit() {
        let results = smol::block_on(async {
            let tasks: Vec<_> = (0..64)
                .map(|i| {
                    smol::spawn(run(move || {
                        std::thread::sleep(std::time::Duration::from_millis(2));
                        i * 2
                    }))
                })
                .collect();
            let mut out = Vec::new();
            for t in tasks {
                out.push(t.await.expect("the job ran"));
            }
            out
        });
        assert_eq!(results, (0..64).map(|i| i * 2).collect::<Vec<_>>());
        assert!(started() <= MAX_WORKERS);
    }
}
