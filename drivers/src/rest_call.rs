//! One REST call made to completion on the calling thread, for the
//! commands that run outside the gateway (`krill pairing approve --notify`).
//! The request still goes through the core's [`Planner`], so rate limits,
//! `retry_after`, retries and the meaning of each status are decided in one
//! place, exactly as in the gateway.

use std::time::{Duration, Instant};

use krill_core::rest::{Api, Planner, Request, Response, RestError, RestEvent, RetryPolicy};

use crate::http::HttpClient;

/// The policy for one-shot calls: a couple of quick retries, short waits.
pub fn quick_policy() -> RetryPolicy {
    RetryPolicy {
        attempts: 2,
        min_delay_ms: 250,
        max_delay_ms: 5_000,
        jitter: 0.1,
    }
}

/// Performs `request` against `api`, blocking until it succeeds or fails
/// for good.
pub fn call_blocking(
    api: Api,
    policy: RetryPolicy,
    request: Request,
) -> Result<Response, RestError> {
    let client = HttpClient::shared();
    let mut planner = Planner::new(api, policy, crate::pairing_store::random_seed());
    let id = planner
        .submit(Instant::now(), request)
        .map_err(|e| RestError::Rejected {
            status: 0,
            code: None,
            message: e.to_string(),
        })?;
    loop {
        let now = Instant::now();
        while let Some((sent, http)) = planner.poll_transmit(now) {
            let reported = match client.execute_blocking(&http) {
                Ok(response) => planner.handle_response(Instant::now(), sent, response),
                Err(error) => {
                    planner.handle_transport_error(Instant::now(), sent, &error.to_string())
                }
            };
            debug_assert!(reported.is_ok(), "the request was in flight");
        }
        while let Some(event) = planner.poll_event() {
            match event {
                RestEvent::Completed { id: done, response } if done == id => return Ok(response),
                RestEvent::Failed { id: done, error } if done == id => return Err(error),
                _ => {}
            }
        }
        let wait = planner
            .poll_timeout()
            .map(|at| at.saturating_duration_since(Instant::now()))
            .unwrap_or(Duration::from_millis(10));
        std::thread::sleep(wait.max(Duration::from_millis(1)));
    }
}
