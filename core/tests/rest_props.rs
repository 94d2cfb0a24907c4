//! Properties of the planner under arbitrary traffic: any sequence of
//! submissions, responses (random statuses, rate-limit headers with garbage
//! values, random bodies), transport errors and time jumps never panics,
//! never sends into a held bucket or during a global hold or before a
//! request's announced retry time, keeps per-queue order, and, once the
//! server behaves, ends every request exactly once.

#[path = "rest_support/mod.rs"]
mod support;

use std::collections::{HashMap, HashSet, VecDeque};
use std::time::{Duration, Instant};

use krill_core::rest::{
    discord, kook, HttpResponse, Planner, Platform, Request, RequestId, RestError, RestEvent,
    RetryPolicy,
};
use proptest::prelude::*;
use support::*;

const POLICY: RetryPolicy = RetryPolicy {
    attempts: 3,
    min_delay_ms: 100,
    max_delay_ms: 5_000,
    jitter: 0.5,
};

/// Header values: valid, odd and garbage.
const VALUES: &[&str] = &[
    "0", "0.5", "1", "2.25", "65", "700", " 3 ", "0.001", "abc", "-1", "NaN", "inf", "", "1e999",
];

#[derive(Debug, Clone, Copy)]
enum Kind {
    Msg(u8),
    /// Discord: typing in a channel; KOOK: a DM to a user.
    Other(u8),
    Me,
}

#[derive(Debug, Clone)]
struct Resp {
    status: u16,
    remaining: Option<usize>,
    reset: Option<usize>,
    retry_after_header: Option<usize>,
    body_retry_after: Option<usize>,
    global_header: bool,
    body_global: bool,
    bucket_header: bool,
    /// KOOK envelope code; Discord ignores it.
    code: i64,
    garbage_body: Option<Vec<u8>>,
}

#[derive(Debug, Clone)]
enum Op {
    Submit(Kind),
    Advance(u64),
    Transmit,
    Respond(usize, Resp),
    Transport(usize),
}

fn kind() -> impl Strategy<Value = Kind> {
    prop_oneof![
        (0u8..3).prop_map(Kind::Msg),
        (0u8..2).prop_map(Kind::Other),
        Just(Kind::Me),
    ]
}

fn value() -> impl Strategy<Value = Option<usize>> {
    proptest::option::of(0..VALUES.len())
}

fn resp() -> impl Strategy<Value = Resp> {
    let status = prop_oneof![
        6 => Just(200u16),
        1 => Just(204u16),
        1 => Just(400u16),
        1 => Just(401u16),
        1 => Just(403u16),
        6 => Just(429u16),
        2 => Just(500u16),
        1 => Just(503u16),
        1 => any::<u16>(),
    ];
    let code = prop_oneof![6 => Just(0i64), 1 => Just(40000i64), 1 => Just(40101i64), 1 => Just(40300i64), 2 => Just(50000i64)];
    (
        status,
        (value(), value(), value(), value()),
        (any::<bool>(), any::<bool>(), any::<bool>()),
        code,
        proptest::option::weighted(0.1, proptest::collection::vec(any::<u8>(), 0..40)),
    )
        .prop_map(
            |(
                status,
                (remaining, reset, retry_after_header, body_retry_after),
                (global_header, body_global, bucket_header),
                code,
                garbage_body,
            )| Resp {
                status,
                remaining,
                reset,
                retry_after_header,
                body_retry_after,
                global_header,
                body_global,
                bucket_header,
                code,
                garbage_body,
            },
        )
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => kind().prop_map(Op::Submit),
        3 => (0u64..20_000).prop_map(Op::Advance),
        4 => Just(Op::Transmit),
        5 => (any::<usize>(), resp()).prop_map(|(i, r)| Op::Respond(i, r)),
        1 => any::<usize>().prop_map(Op::Transport),
    ]
}

fn request(platform: Platform, kind: Kind) -> Request {
    match (platform, kind) {
        (Platform::Discord, Kind::Msg(c)) => msg(&format!("10{c}"), "x").into(),
        (Platform::Discord, Kind::Other(c)) => discord::Request::TriggerTyping {
            channel_id: format!("10{c}"),
        }
        .into(),
        (Platform::Discord, Kind::Me) => discord::Request::CurrentUser.into(),
        (_, Kind::Msg(c)) => kook_msg(&format!("10{c}"), "x").into(),
        (_, Kind::Other(u)) => kook::Request::DirectMessageCreate(kook::DirectMessageCreate {
            target: kook::DmTarget::User(format!("20{u}")),
            content: "x".into(),
            quote: None,
            nonce: None,
        })
        .into(),
        (_, Kind::Me) => kook::Request::UserMe.into(),
    }
}

/// (queue, logical bucket) of a request in the model: Discord buckets are per
/// route and channel (the queue itself); KOOK buckets are per route.
fn keys(platform: Platform, kind: Kind) -> (String, String) {
    let queue = match kind {
        Kind::Msg(c) => format!("msg/{c}"),
        Kind::Other(c) => format!("other/{c}"),
        Kind::Me => "me".to_owned(),
    };
    let bucket = match (platform, kind) {
        (Platform::Discord, _) => queue.clone(),
        (_, Kind::Msg(_)) => "msg".to_owned(),
        (_, Kind::Other(_)) => "other".to_owned(),
        (_, Kind::Me) => "me".to_owned(),
    };
    (queue, bucket)
}

fn success_body(platform: Platform, kind: Kind) -> String {
    match (platform, kind) {
        (Platform::Discord, Kind::Msg(c)) => format!(r#"{{"id":"1","channel_id":"10{c}"}}"#),
        (Platform::Discord, Kind::Other(_)) => String::new(),
        (Platform::Discord, Kind::Me) => r#"{"id":"1","username":"krill"}"#.to_owned(),
        (_, Kind::Me) => {
            r#"{"code":0,"message":"","data":{"id":"1","username":"k","bot":true}}"#.to_owned()
        }
        _ => r#"{"code":0,"message":"","data":{"msg_id":"m","msg_timestamp":1,"nonce":""}}"#
            .to_owned(),
    }
}

fn build(platform: Platform, kind: Kind, r: &Resp) -> HttpResponse {
    let (remaining, reset, bucket, global) = match platform {
        Platform::Discord => (
            "X-RateLimit-Remaining",
            "X-RateLimit-Reset-After",
            "X-RateLimit-Bucket",
            ("X-RateLimit-Global", "true"),
        ),
        _ => (
            "X-Rate-Limit-Remaining",
            "X-Rate-Limit-Reset",
            "X-Rate-Limit-Bucket",
            ("X-Rate-Limit-Global", ""),
        ),
    };
    let mut headers = Vec::new();
    let mut push = |k: &str, v: Option<usize>| {
        if let Some(i) = v {
            headers.push((k.to_owned(), VALUES[i].to_owned()));
        }
    };
    push(remaining, r.remaining);
    push(reset, r.reset);
    push("Retry-After", r.retry_after_header);
    if r.global_header {
        headers.push((global.0.to_owned(), global.1.to_owned()));
    }
    if r.bucket_header {
        let (_, name) = keys(platform, kind);
        let name = match platform {
            Platform::Discord => format!("hash-{}", name.split('/').next().unwrap_or("")),
            _ => format!("bucket/{name}"),
        };
        headers.push((bucket.to_owned(), name));
    }
    let body = if let Some(g) = &r.garbage_body {
        String::from_utf8_lossy(g).into_owned()
    } else if r.status == 429 || !(200..300).contains(&r.status) {
        let retry_after = match r.body_retry_after {
            Some(i) if serde_json::from_str::<serde_json::Value>(VALUES[i]).is_ok() => {
                VALUES[i].to_owned()
            }
            Some(i) => format!("{:?}", VALUES[i]),
            None => "null".to_owned(),
        };
        format!(
            r#"{{"code":{},"message":"m","retry_after":{retry_after},"global":{}}}"#,
            r.code, r.body_global
        )
    } else if platform == Platform::Kook && r.code != 0 {
        format!(r#"{{"code":{},"message":"m","data":[]}}"#, r.code)
    } else {
        success_body(platform, kind)
    };
    HttpResponse {
        status: r.status,
        headers,
        body: body.into_bytes(),
    }
}

fn seconds(v: &str) -> Option<Duration> {
    let f = v.trim().parse::<f64>().ok()?;
    (f.is_finite() && (0.0..=86_400.0).contains(&f)).then(|| Duration::from_secs_f64(f))
}

fn header<'a>(r: &'a HttpResponse, name: &str) -> Option<&'a str> {
    r.headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

/// What the spec says a 429 means: (wait if the server gave one, global).
fn rate_limit(platform: Platform, r: &HttpResponse) -> (Option<Duration>, bool) {
    let body: Option<serde_json::Value> = serde_json::from_slice(&r.body).ok();
    match platform {
        Platform::Discord => {
            let body_wait = body
                .as_ref()
                .and_then(|b| b.get("retry_after"))
                .and_then(|v| v.as_f64())
                .and_then(|f| seconds(&f.to_string()));
            let wait = body_wait.or_else(|| header(r, "Retry-After").and_then(seconds));
            let global = header(r, "X-RateLimit-Global").is_some()
                || body
                    .as_ref()
                    .and_then(|b| b.get("global"))
                    .and_then(|v| v.as_bool())
                    .unwrap_or(false);
            (wait, global)
        }
        _ => (
            header(r, "X-Rate-Limit-Reset")
                .and_then(seconds)
                .or_else(|| header(r, "Retry-After").and_then(seconds)),
            header(r, "X-Rate-Limit-Global").is_some(),
        ),
    }
}

struct Model {
    platform: Platform,
    kinds: HashMap<RequestId, Kind>,
    ended: HashSet<RequestId>,
    in_flight: Vec<RequestId>,
    queues: HashMap<String, VecDeque<RequestId>>,
    not_before: HashMap<RequestId, Instant>,
    bucket_hold: HashMap<String, Instant>,
    global_hold: Option<Instant>,
    halted: bool,
}

impl Model {
    fn new(platform: Platform) -> Self {
        Self {
            platform,
            kinds: HashMap::new(),
            ended: HashSet::new(),
            in_flight: Vec::new(),
            queues: HashMap::new(),
            not_before: HashMap::new(),
            bucket_hold: HashMap::new(),
            global_hold: None,
            halted: false,
        }
    }

    fn submitted(&mut self, id: RequestId, kind: Kind) {
        self.kinds.insert(id, kind);
        let (queue, _) = keys(self.platform, kind);
        self.queues.entry(queue).or_default().push_back(id);
    }

    fn sent(&mut self, id: RequestId, now: Instant) {
        let kind = self.kinds[&id];
        let (queue, bucket) = keys(self.platform, kind);
        assert!(!self.halted, "sent {id:?} after a 401");
        assert!(!self.ended.contains(&id), "sent {id:?} after it ended");
        assert!(!self.in_flight.contains(&id), "sent {id:?} twice at once");
        assert_eq!(
            self.queues[&queue].front(),
            Some(&id),
            "{id:?} jumped its queue"
        );
        if let Some(t) = self.not_before.get(&id) {
            assert!(now >= *t, "{id:?} retried before its announced time");
        }
        if let Some(t) = self.bucket_hold.get(&bucket) {
            assert!(now >= *t, "{id:?} sent into held bucket {bucket}");
        }
        if let Some(t) = self.global_hold {
            assert!(now >= t, "{id:?} sent during a global hold");
        }
        self.in_flight.push(id);
    }

    /// Bucket headers of a non-429 response (the server's latest word).
    fn observe(&mut self, id: RequestId, r: &HttpResponse, now: Instant) {
        let (remaining_name, reset_name) = match self.platform {
            Platform::Discord => ("X-RateLimit-Remaining", "X-RateLimit-Reset-After"),
            _ => ("X-Rate-Limit-Remaining", "X-Rate-Limit-Reset"),
        };
        let Some(remaining) = header(r, remaining_name).and_then(|v| v.trim().parse::<u32>().ok())
        else {
            return;
        };
        let (_, bucket) = keys(self.platform, self.kinds[&id]);
        if remaining == 0 {
            let reset = header(r, reset_name)
                .and_then(seconds)
                .unwrap_or(Duration::from_secs(1))
                .min(Duration::from_secs(600));
            self.bucket_hold.insert(bucket, now + reset);
            if self.platform == Platform::Kook && header(r, "X-Rate-Limit-Global").is_some() {
                self.global_hold = self.global_hold.max(Some(now + reset));
            }
        } else {
            self.bucket_hold.remove(&bucket);
        }
    }

    fn event(&mut self, ev: RestEvent, now: Instant, cause: Option<&HttpResponse>) {
        match ev {
            RestEvent::Completed { id, .. } | RestEvent::Failed { id, .. } => {
                assert!(self.kinds.contains_key(&id), "unknown {id:?}");
                assert!(self.ended.insert(id), "{id:?} ended twice");
                assert!(
                    !self.in_flight.contains(&id),
                    "{id:?} ended while in flight"
                );
                let (queue, _) = keys(self.platform, self.kinds[&id]);
                let q = self.queues.get_mut(&queue).expect("queue");
                let halted = matches!(
                    ev,
                    RestEvent::Failed {
                        error: RestError::Halted,
                        ..
                    }
                );
                // Only a halt ends requests out of order (all the queued ones).
                if !halted {
                    assert_eq!(q.front(), Some(&id), "{id:?} ended before an older request");
                }
                let pos = q.iter().position(|x| *x == id).expect("queued");
                q.remove(pos);
            }
            RestEvent::Retrying { id, at, .. } => {
                assert!(!self.ended.contains(&id), "{id:?} retried after it ended");
                assert!(at >= now);
                self.not_before.insert(id, at);
                let max = Duration::from_millis(POLICY.max_delay_ms);
                let min = Duration::from_millis(POLICY.min_delay_ms);
                match cause {
                    Some(r) if r.status == 429 => {
                        let (wait, global) = rate_limit(self.platform, r);
                        match wait {
                            Some(w) => assert_eq!(at, now + w.min(max), "429 wait"),
                            None => assert!(at >= now + min && at <= now + max),
                        }
                        if global {
                            self.global_hold = self.global_hold.max(Some(at));
                        } else {
                            let (_, bucket) = keys(self.platform, self.kinds[&id]);
                            let hold = self.bucket_hold.entry(bucket).or_insert(at);
                            *hold = (*hold).max(at);
                        }
                    }
                    Some(r) if (500..600).contains(&r.status) => {
                        match header(r, "Retry-After").and_then(seconds) {
                            Some(w) => assert_eq!(at, now + w.min(max), "5xx Retry-After"),
                            None => assert!(at >= now + min && at <= now + max, "5xx backoff"),
                        }
                    }
                    _ => assert!(at >= now + min && at <= now + max, "backoff"),
                }
            }
            other => panic!("unexpected event {other:?}"),
        }
    }
}

fn drain(p: &mut Planner, model: &mut Model, now: Instant, cause: Option<&HttpResponse>) {
    while let Some(ev) = p.poll_event() {
        if let RestEvent::Failed {
            error: RestError::Unauthorized { .. },
            ..
        } = &ev
        {
            model.halted = true;
        }
        model.event(ev, now, cause);
    }
}

fn run(platform: Platform, ops: Vec<Op>, seed: u64) {
    let t0 = Instant::now();
    let api = match platform {
        Platform::Discord => discord_api(),
        _ => kook_api(),
    };
    let mut p = Planner::new(api, POLICY, seed);
    p.set_queue_capacity(40);
    let mut model = Model::new(platform);
    let mut now = t0;
    for op in ops {
        match op {
            Op::Submit(kind) => {
                if let Ok(id) = p.submit(now, request(platform, kind)) {
                    model.submitted(id, kind);
                }
            }
            Op::Advance(ms) => now += Duration::from_millis(ms),
            Op::Transmit => {
                while let Some((id, _)) = p.poll_transmit(now) {
                    model.sent(id, now);
                }
            }
            Op::Respond(i, r) => {
                if model.in_flight.is_empty() {
                    continue;
                }
                let id = model.in_flight.remove(i % model.in_flight.len());
                let response = build(platform, model.kinds[&id], &r);
                if response.status != 429 {
                    model.observe(id, &response, now);
                }
                p.handle_response(now, id, response.clone())
                    .expect("in flight");
                drain(&mut p, &mut model, now, Some(&response));
            }
            Op::Transport(i) => {
                if model.in_flight.is_empty() {
                    continue;
                }
                let id = model.in_flight.remove(i % model.in_flight.len());
                p.handle_transport_error(now, id, "reset")
                    .expect("in flight");
                drain(&mut p, &mut model, now, None);
            }
        }
        drain(&mut p, &mut model, now, None);
    }
    // The server behaves from now on: everything ends, exactly once.
    for _ in 0..10_000 {
        for id in std::mem::take(&mut model.in_flight) {
            let kind = model.kinds[&id];
            let ok = HttpResponse {
                status: 200,
                headers: vec![],
                body: success_body(platform, kind).into_bytes(),
            };
            p.handle_response(now, id, ok.clone()).expect("in flight");
            drain(&mut p, &mut model, now, Some(&ok));
        }
        if model.ended.len() == model.kinds.len() {
            break;
        }
        while let Some((id, _)) = p.poll_transmit(now) {
            model.sent(id, now);
        }
        if model.in_flight.is_empty() {
            let next = p
                .poll_timeout()
                .expect("requests are pending, so something is due");
            assert!(
                next > now || p.in_flight() > 0,
                "poll_timeout in the past but nothing sendable"
            );
            now = now.max(next);
        }
    }
    assert_eq!(
        model.ended.len(),
        model.kinds.len(),
        "some requests never ended"
    );
    assert_eq!(p.pending(), 0);
    assert_eq!(p.in_flight(), 0);
    assert_eq!(p.poll_timeout(), None);
    assert!(p.poll_event().is_none());
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(192))]

    #[test]
    fn discord_planner_invariants(ops in proptest::collection::vec(op(), 0..80), seed in any::<u64>()) {
        run(Platform::Discord, ops, seed);
    }

    #[test]
    fn kook_planner_invariants(ops in proptest::collection::vec(op(), 0..80), seed in any::<u64>()) {
        run(Platform::Kook, ops, seed);
    }
}
