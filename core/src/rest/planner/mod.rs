//! [`Planner`]: the sans-IO REST machine of one account. It queues typed
//! requests, decides which may go out now (per-route buckets, the global
//! limit, proactive pacing, retry delays), reads each response into a typed
//! result or a retry decision, and stops the account after a 401.
//!
//! | module | owns |
//! |---|---|
//! | this one | queues, submission, transmit order, applying verdicts, halting |
//! | [`buckets`] | bucket and global-limit bookkeeping, when a queue head may go |
//! | [`verdict`] | what a response means: result, error, 429 wait, retryable failure |

mod buckets;
mod verdict;

use buckets::bucket_name;
use verdict::{discord_verdict, kook_verdict, Observed, Verdict};

use std::collections::{BTreeMap, VecDeque};
use std::time::{Duration, Instant};

use super::discord::{self, ErrorBody, RateLimitBody};
use super::error::{NotInFlight, RestError, SubmitError};
use super::kook::{self, CodeClass, Envelope};
use super::{Api, HttpRequest, HttpResponse, Platform, Request, Response, RetryPolicy};
use crate::backoff::Jitter;

/// How many requests a planner holds (queued plus in flight) unless
/// [`Planner::set_queue_capacity`] says otherwise.
pub const DEFAULT_QUEUE_CAPACITY: usize = 1000;

/// Discord's global limit: by default krill sends at most this many
/// requests in any one-second window, before Discord has to say so
/// (`channels.discord.globalRateLimit`, [`Planner::set_global_rate_limit`]).
pub const DISCORD_GLOBAL_PER_SECOND: usize = 50;

/// A request answered 429 more often than this fails with
/// [`RestError::RateLimited`]. 429s do not use up [`RetryPolicy::attempts`]
/// (the request was not processed), so this is what keeps a rate-limited
/// request from being retried forever.
pub const MAX_RATE_LIMITED_RETRIES: u32 = 5;

/// The longest a bucket is held because a response said `Remaining: 0`
/// (`Reset-After` / KOOK `Reset` beyond this is treated as this). 429 waits
/// are clamped to `maxDelayMs` instead.
pub const MAX_BUCKET_HOLD: Duration = Duration::from_secs(600);

/// How long a bucket is held after `Remaining: 0` came without a usable reset
/// time.
const FALLBACK_HOLD: Duration = Duration::from_secs(1);

/// Buckets kept before stale ones (reset passed) are dropped.
const BUCKET_PRUNE_THRESHOLD: usize = 256;

/// Identifies one submitted request for its whole life (all retries).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RequestId(u64);

impl RequestId {
    /// The number (ids count up from 0 per planner, in submission order).
    pub fn get(self) -> u64 {
        self.0
    }
}

/// What the planner reports. Drain with [`Planner::poll_event`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum RestEvent {
    /// The request succeeded (final).
    Completed {
        /// The request.
        id: RequestId,
        /// Its typed result.
        response: Response,
    },
    /// The request failed and will not be retried (final).
    Failed {
        /// The request.
        id: RequestId,
        /// Why.
        error: RestError,
    },
    /// The request will be sent again, not before `at` (for logs; nothing to
    /// do).
    Retrying {
        /// The request.
        id: RequestId,
        /// The earliest time it goes out again.
        at: Instant,
        /// Why it is retried.
        reason: RetryReason,
    },
}

/// Why a request is retried.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum RetryReason {
    /// HTTP 429.
    RateLimited {
        /// The limit is the global one: every request of the account waits.
        global: bool,
        /// Discord `X-RateLimit-Scope: shared`: a per-resource limit shared
        /// by every bot (does not count against this bot).
        shared: bool,
        /// How long (after clamping to `maxDelayMs`).
        wait: Duration,
    },
    /// HTTP 5xx.
    ServerError {
        /// The status.
        status: u16,
    },
    /// No response (the driver's error text).
    Transport {
        /// The error text.
        error: String,
    },
    /// KOOK `code` in `50000..=59999` (see [`super::kook`]).
    KookTransient {
        /// The code.
        code: i64,
        /// KOOK's message.
        message: String,
    },
}

/// The sans-IO REST machine of one account (one token): queues, rate-limit
/// buckets, global limit, retries.
///
/// # Driving contract
/// ```text
/// let mut planner = Planner::new(api, retry_policy, seed);
/// loop {
///     // 1. feed what happened (any order, any number):
///     planner.submit(now, request)?               // -> RequestId, remember it
///     planner.handle_response(now, id, response)  // for every request sent
///     planner.handle_transport_error(now, id, "connection reset")
///     // 2. send what may go out now, until None:
///     while let Some((id, http)) = planner.poll_transmit(now) { driver.spawn(id, http) }
///     // 3. drain events until None:
///     while let Some(ev) = planner.poll_event() { Completed / Failed / Retrying }
///     // 4. sleep until planner.poll_timeout() (None: until the next submit
///     //    or response), then go to 2.
/// }
/// ```
/// - `now` must never go backwards.
/// - Every request handed out by `poll_transmit` must be answered exactly
///   once, by `handle_response` or `handle_transport_error` (the driver
///   enforces its own HTTP timeout and reports it as a transport error).
///   Until then its queue sends nothing else.
/// - Every submitted request ends with exactly one `Completed` or `Failed`
///   event; before that it may see any number of `Retrying` events.
/// - What changes `poll_transmit`'s answer: time passing (retry delays,
///   bucket resets, the global limit, pacing), `submit`, and responses.
///
/// # Ordering
/// Requests are queued per route and resource (for Discord the route
/// template plus the channel; for KOOK the path plus the channel, DM peer or
/// message). Each queue has at most one request in flight and sends in
/// submission order: a retried request keeps its place at the head and the
/// ones behind it wait, so a reply's chunks are never reordered. Different
/// queues go out in parallel and take turns: of the queues whose head may go,
/// the one that sent least recently goes first (then the oldest submission),
/// so a long reply in one chat shares a bucket fairly with the other chats.
///
/// # Rate limits
/// - Discord: every response's `X-RateLimit-*` headers update the bucket of
///   its route and major parameter (the route is mapped to the
///   `X-RateLimit-Bucket` hash once learned, so routes sharing a hash share
///   the state); `Remaining: 0` holds the bucket until `Reset-After` has
///   passed. A 429 waits `retry_after` / `Retry-After` (never the bucket
///   headers), holding the bucket, or every bucket when global
///   (`X-RateLimit-Global`, body `global: true`, scope `global`). krill also
///   paces itself to [`DISCORD_GLOBAL_PER_SECOND`] requests per second (or
///   what [`Planner::set_global_rate_limit`] says).
/// - KOOK: the same with `X-Rate-Limit-*`; buckets are per
///   `X-Rate-Limit-Bucket` (e.g. `message/create`) for the whole bot;
///   `X-Rate-Limit-Reset` is relative seconds; `X-Rate-Limit-Global`
///   (present, any value) makes the hold global.
///
/// Retry and error rules: see the [module docs](super).
#[derive(Debug)]
pub struct Planner {
    api: Api,
    policy: RetryPolicy,
    jitter: Jitter,
    next_id: u64,
    capacity: usize,
    pending: usize,
    queues: BTreeMap<QueueKey, Queue>,
    in_flight: BTreeMap<RequestId, QueueKey>,
    /// Route (Discord template, KOOK path) -> learned bucket hash / name.
    route_buckets: BTreeMap<&'static str, String>,
    /// Bucket (hash or route) -> major parameter -> state. Nested so a
    /// lookup by `&str` builds no key.
    buckets: BTreeMap<String, BTreeMap<String, Bucket>>,
    global_until: Option<Instant>,
    /// Requests per second krill allows itself (Discord only).
    global_per_second: usize,
    /// Send times within the last second (at most `global_per_second`).
    recent_sends: VecDeque<Instant>,
    halted: bool,
    events: VecDeque<RestEvent>,
    /// The latest `now` seen.
    last_now: Option<Instant>,
    /// Requests sent so far (stamps [`Queue::served`]).
    sends: u64,
}

/// (route, resource): requests with the same key go out in order.
type QueueKey = (&'static str, String);

#[derive(Debug, Default)]
struct Queue {
    entries: VecDeque<Entry>,
    in_flight: bool,
    /// When this queue last sent (the planner's send counter; 0: never).
    /// The ready queue that sent least recently goes first, so chats share
    /// a bucket in turn (issue 16: a long reply in one chat must not make
    /// every other chat wait behind all of its chunks).
    served: u64,
}

#[derive(Debug)]
struct Entry {
    id: RequestId,
    request: Request,
    http: HttpRequest,
    /// Route template (Discord) or path (KOOK).
    route: &'static str,
    /// Discord major parameter; empty for KOOK.
    major: String,
    sends: u32,
    failures: u32,
    rate_limited: u32,
    not_before: Option<Instant>,
}

#[derive(Debug, Clone, Copy, Default)]
struct Bucket {
    remaining: Option<u32>,
    reset_at: Option<Instant>,
}

impl Planner {
    /// A planner for `api`'s account. `seed` drives the backoff jitter and
    /// the generated Discord nonces.
    pub fn new(api: Api, policy: RetryPolicy, seed: u64) -> Self {
        Self {
            api,
            policy,
            jitter: Jitter::new(seed),
            next_id: 0,
            capacity: DEFAULT_QUEUE_CAPACITY,
            pending: 0,
            queues: BTreeMap::new(),
            in_flight: BTreeMap::new(),
            route_buckets: BTreeMap::new(),
            buckets: BTreeMap::new(),
            global_until: None,
            global_per_second: DISCORD_GLOBAL_PER_SECOND,
            recent_sends: VecDeque::new(),
            halted: false,
            events: VecDeque::new(),
            last_now: None,
            sends: 0,
        }
    }

    /// The account's platform.
    pub fn platform(&self) -> Platform {
        self.api.platform()
    }

    /// The account's endpoint.
    pub fn api(&self) -> &Api {
        &self.api
    }

    /// How many requests may be pending (queued plus in flight).
    pub fn queue_capacity(&self) -> usize {
        self.capacity
    }

    /// Sets the capacity (at least 1). Requests already pending stay.
    pub fn set_queue_capacity(&mut self, capacity: usize) {
        self.capacity = capacity.max(1);
    }

    /// Sets the global pacing of a Discord account: at most `per_second`
    /// requests (at least 1) in any one-second window. KOOK planners pace
    /// only on the server's headers and ignore it.
    pub fn set_global_rate_limit(&mut self, per_second: usize) {
        self.global_per_second = per_second.max(1);
    }

    /// The global pacing in requests per second.
    pub fn global_rate_limit(&self) -> usize {
        self.global_per_second
    }

    /// Requests submitted and not yet ended (queued, waiting or in flight).
    pub fn pending(&self) -> usize {
        self.pending
    }

    /// Requests handed out by `poll_transmit` and not yet answered.
    pub fn in_flight(&self) -> usize {
        self.in_flight.len()
    }

    /// True once a 401 stopped this account: nothing more is sent.
    pub fn is_halted(&self) -> bool {
        self.halted
    }

    /// Queues `request`. A Discord `CreateMessage` without a nonce gets one
    /// here, kept for every retry. After a 401 the request is accepted and
    /// fails at once with [`RestError::Halted`] (one event, like any other).
    ///
    /// Errors (caller misuse, nothing queued): the other platform's request,
    /// a full queue, an unencodable request.
    pub fn submit(
        &mut self,
        now: Instant,
        request: impl Into<Request>,
    ) -> Result<RequestId, SubmitError> {
        self.see(now);
        let mut request = request.into();
        if request.platform() != self.platform() {
            return Err(SubmitError::WrongPlatform {
                planner: self.platform(),
                request: request.platform(),
            });
        }
        if let Request::Discord(r) = &mut request {
            if let Some(nonce @ None) = r.nonce_slot() {
                *nonce = Some(discord::nonce_from(self.jitter.next_u64()));
            }
        }
        let (http, route, major, resource) = match &request {
            Request::Discord(r) => {
                let route = r.route();
                (
                    r.encode(&self.api)?,
                    route.template,
                    route.major.clone(),
                    route.major,
                )
            }
            Request::Kook(r) => (
                r.encode(&self.api)?,
                r.path(),
                String::new(),
                r.resource().to_owned(),
            ),
        };
        if self.pending >= self.capacity {
            return Err(SubmitError::QueueFull {
                capacity: self.capacity,
            });
        }
        let id = RequestId(self.next_id);
        self.next_id += 1;
        if self.halted {
            self.events.push_back(RestEvent::Failed {
                id,
                error: RestError::Halted,
            });
            return Ok(id);
        }
        self.pending += 1;
        self.queues
            .entry((route, resource))
            .or_default()
            .entries
            .push_back(Entry {
                id,
                request,
                http,
                route,
                major,
                sends: 0,
                failures: 0,
                rate_limited: 0,
                not_before: None,
            });
        Ok(id)
    }

    /// The next request that may go out now (queues in turn, see the type's
    /// docs), or
    /// `None`. Call until `None`. The driver must answer every request it
    /// gets here with `handle_response` or `handle_transport_error`.
    pub fn poll_transmit(&mut self, now: Instant) -> Option<(RequestId, HttpRequest)> {
        self.see(now);
        if self.halted {
            return None;
        }
        self.prune_buckets(now);
        if self.global_ready_at().is_some_and(|at| at > now) {
            return None;
        }
        let key = self
            .queues
            .iter()
            .filter(|(_, q)| !q.in_flight)
            .filter_map(|(key, q)| {
                let head = q.entries.front()?;
                let ready = self.head_ready_at(head).is_none_or(|at| at <= now);
                // A retry keeps its age: it goes before queues' next turns.
                let turn = if head.sends > 0 { 0 } else { q.served };
                ready.then_some(((turn, head.id), key))
            })
            .min_by_key(|(turn, _)| *turn)
            .map(|(_, key)| key.clone())?;
        self.sends += 1;
        let queue = self
            .queues
            .get_mut(&key)
            .expect("the key was just found among the queues");
        queue.in_flight = true;
        queue.served = self.sends;
        let head = queue
            .entries
            .front_mut()
            .expect("the queue was chosen for its head");
        head.sends += 1;
        let (id, http) = (head.id, head.http.clone());
        let (route, major) = (head.route, &head.major);
        let name = bucket_name(&self.route_buckets, route);
        let bucket = self.buckets.get_mut(name).and_then(|b| b.get_mut(major));
        if let Some(bucket) = bucket {
            match (bucket.remaining, bucket.reset_at) {
                (Some(n), Some(reset)) if reset > now => {
                    bucket.remaining = Some(n.saturating_sub(1))
                }
                _ => *bucket = Bucket::default(),
            }
        }
        self.in_flight.insert(id, key);
        if self.platform() == Platform::Discord {
            let window_start = now.checked_sub(Duration::from_secs(1));
            while self.recent_sends.len() >= self.global_per_second
                || self
                    .recent_sends
                    .front()
                    .zip(window_start)
                    .is_some_and(|(sent, start)| *sent <= start)
            {
                self.recent_sends.pop_front();
            }
            self.recent_sends.push_back(now);
        }
        Some((id, http))
    }

    /// Reports the response to request `id`. Errors only when `id` is not in
    /// flight (a driver bug; nothing changes).
    pub fn handle_response(
        &mut self,
        now: Instant,
        id: RequestId,
        response: HttpResponse,
    ) -> Result<(), NotInFlight> {
        self.see(now);
        let key = self.in_flight.remove(&id).ok_or(NotInFlight(id))?;
        let (verdict, observed) = {
            let head = self.head(&key, id);
            match &head.request {
                Request::Discord(r) => discord_verdict(r, &response),
                Request::Kook(r) => kook_verdict(r, &response),
            }
        };
        let route = self.head(&key, id).route;
        let major = self.head(&key, id).major.clone();
        if let Some(bucket) = &observed.bucket {
            self.learn_bucket(route, bucket);
        }
        if !matches!(verdict, Verdict::RateLimited { .. }) {
            self.observe_limits(now, route, &major, &observed);
        }
        self.apply(now, key, verdict);
        Ok(())
    }

    /// Reports that request `id` got no response (connection failed, timed
    /// out...). Retried with backoff up to `attempts` sends. Errors only when
    /// `id` is not in flight.
    pub fn handle_transport_error(
        &mut self,
        now: Instant,
        id: RequestId,
        error: &str,
    ) -> Result<(), NotInFlight> {
        self.see(now);
        let key = self.in_flight.remove(&id).ok_or(NotInFlight(id))?;
        let sends = self.head(&key, id).sends;
        let error: String = error.chars().take(500).collect();
        let verdict = Verdict::Failure {
            reason: RetryReason::Transport {
                error: error.clone(),
            },
            retry_after: None,
            error: RestError::Transport {
                error,
                attempts: sends,
            },
        };
        self.apply(now, key, verdict);
        Ok(())
    }

    /// The next event, or `None`. Drain after every `submit` and `handle_*`.
    pub fn poll_event(&mut self) -> Option<RestEvent> {
        self.events.pop_front()
    }

    /// When `poll_transmit` may next have something to send (a retry delay,
    /// a bucket reset, the end of a global limit or of the pacing window);
    /// `None` when nothing is waiting. A request that may go at once gives
    /// the latest `now` the planner was given (so this may be in the past:
    /// then call `poll_transmit` now).
    pub fn poll_timeout(&self) -> Option<Instant> {
        if self.halted {
            return None;
        }
        let global = self.global_ready_at();
        let mut earliest: Option<Instant> = None;
        for head in self
            .queues
            .values()
            .filter(|q| !q.in_flight)
            .filter_map(|q| q.entries.front())
        {
            let at = match (self.head_ready_at(head).max(global), self.last_now) {
                (Some(at), Some(seen)) => Some(at.max(seen)),
                (at, seen) => at.or(seen),
            };
            earliest = match (earliest, at) {
                (Some(e), Some(a)) => Some(e.min(a)),
                (e, a) => e.or(a),
            };
            // Nothing can be earlier than "now": stop scanning.
            if earliest.is_some() && earliest == self.last_now {
                break;
            }
        }
        earliest
    }

    /// Remembers the latest `now` (time never goes backwards).
    fn see(&mut self, now: Instant) {
        self.last_now = self.last_now.max(Some(now));
    }

    /// The head of queue `key`, which is request `id` in flight.
    fn head(&self, key: &QueueKey, id: RequestId) -> &Entry {
        let head = self
            .queues
            .get(key)
            .and_then(|q| q.entries.front())
            .expect("an in-flight request is the head of its queue");
        debug_assert_eq!(head.id, id);
        head
    }

    /// Acts on a verdict for the head of queue `key`, whose response (or
    /// transport error) just came in.
    fn apply(&mut self, now: Instant, key: QueueKey, verdict: Verdict) {
        let max_delay = Duration::from_millis(self.policy.max_delay_ms);
        let attempts = self.policy.attempts.max(1);
        let queue = self
            .queues
            .get_mut(&key)
            .expect("an in-flight request has a queue");
        queue.in_flight = false;
        let head = queue
            .entries
            .front_mut()
            .expect("an in-flight request is the head of its queue");
        let id = head.id;
        let retry = match verdict {
            Verdict::Complete(response) => Err(RestEvent::Completed { id, response }),
            // A 401 is reported once; later ones just say the account stopped.
            Verdict::Fail(RestError::Unauthorized { .. }) if self.halted => {
                Err(RestEvent::Failed {
                    id,
                    error: RestError::Halted,
                })
            }
            Verdict::Fail(error) => Err(RestEvent::Failed { id, error }),
            _ if self.halted => Err(RestEvent::Failed {
                id,
                error: RestError::Halted,
            }),
            Verdict::RateLimited {
                wait,
                global,
                shared,
            } => {
                head.rate_limited += 1;
                if head.rate_limited > MAX_RATE_LIMITED_RETRIES {
                    Err(RestEvent::Failed {
                        id,
                        error: RestError::RateLimited {
                            retries: MAX_RATE_LIMITED_RETRIES,
                        },
                    })
                } else {
                    let n = head.rate_limited;
                    let wait = match wait {
                        Some(w) => w.min(max_delay),
                        None => backoff(&self.policy, &mut self.jitter, n),
                    };
                    Ok((
                        now + wait,
                        RetryReason::RateLimited {
                            global,
                            shared,
                            wait,
                        },
                        Some(global),
                    ))
                }
            }
            Verdict::Failure {
                reason,
                retry_after,
                error,
            } => {
                head.failures += 1;
                if head.failures >= attempts {
                    let error = match error {
                        RestError::Server { status, .. } => RestError::Server {
                            status,
                            attempts: head.sends,
                        },
                        RestError::Transport { error, .. } => RestError::Transport {
                            error,
                            attempts: head.sends,
                        },
                        other => other,
                    };
                    Err(RestEvent::Failed { id, error })
                } else {
                    let wait = match retry_after {
                        Some(w) => w.min(max_delay),
                        None => backoff(&self.policy, &mut self.jitter, head.failures),
                    };
                    Ok((now + wait, reason, None))
                }
            }
        };
        match retry {
            Ok((at, reason, hold)) => {
                head.not_before = Some(at);
                let (route, major) = (head.route, head.major.clone());
                self.events
                    .push_back(RestEvent::Retrying { id, at, reason });
                match hold {
                    Some(true) => self.hold_globally(Some(at)),
                    Some(false) => {
                        // The 429 holds the bucket until its own reset. A
                        // window reset seen while slots were left (e.g. 55 s)
                        // is not a hold and must not become this wait (issue
                        // 16); an earlier `Remaining: 0` hold still counts.
                        let bucket = self.bucket_entry(route, &major);
                        let held = bucket.remaining == Some(0);
                        bucket.remaining = Some(0);
                        bucket.reset_at = if held {
                            bucket.reset_at.max(Some(at))
                        } else {
                            Some(at)
                        };
                    }
                    None => {}
                }
            }
            Err(event) => {
                // A 401 on a route authorised by an interaction token (a
                // stale token) says nothing about the bot token.
                let token_route = queue
                    .entries
                    .pop_front()
                    .is_some_and(|entry| entry.route.contains("{token}"));
                if queue.entries.is_empty() {
                    self.queues.remove(&key);
                }
                self.pending -= 1;
                let unauthorized = !token_route
                    && matches!(
                        event,
                        RestEvent::Failed {
                            error: RestError::Unauthorized { .. },
                            ..
                        }
                    );
                self.events.push_back(event);
                if unauthorized {
                    self.halt();
                }
            }
        }
    }

    /// After a 401: every queued request fails now; in-flight ones end when
    /// their responses come in.
    fn halt(&mut self) {
        self.halted = true;
        let mut failed = Vec::new();
        for queue in self.queues.values_mut() {
            let keep = usize::from(queue.in_flight);
            while queue.entries.len() > keep {
                if let Some(entry) = queue.entries.pop_back() {
                    failed.push(entry.id);
                }
            }
        }
        self.queues.retain(|_, q| !q.entries.is_empty());
        failed.sort();
        self.pending -= failed.len();
        self.events
            .extend(failed.into_iter().map(|id| RestEvent::Failed {
                id,
                error: RestError::Halted,
            }));
    }
}

/// `minDelayMs * 2^(n-1)` with `±jitter`, within `[minDelayMs, maxDelayMs]`;
/// `n` counts from 1.
fn backoff(policy: &RetryPolicy, jitter: &mut Jitter, n: u32) -> Duration {
    let max = Duration::from_millis(policy.max_delay_ms);
    let min = Duration::from_millis(policy.min_delay_ms).min(max);
    let factor = 2u32.saturating_pow(n.saturating_sub(1).min(30));
    let raw = min.saturating_mul(factor).min(max);
    let fraction = if policy.jitter.is_finite() {
        policy.jitter.clamp(0.0, 1.0)
    } else {
        0.0
    };
    let spread = raw.mul_f64(fraction);
    jitter.around(raw, spread).clamp(min, max)
}
