//! The [`Planner`]'s rate-limit bookkeeping: when the global limit and a
//! queue's head may go, which bucket a route belongs to (learned from
//! `X-RateLimit-Bucket`), what a response says about its bucket, global holds,
//! and pruning buckets that no longer matter.

use super::*;

impl Planner {
    /// The earliest time anything may go out (a global hold, the pacing
    /// window), `None` = no such constraint.
    pub(super) fn global_ready_at(&self) -> Option<Instant> {
        let pacing = (self.recent_sends.len() >= self.global_per_second)
            .then(|| {
                self.recent_sends
                    .front()
                    .map(|t| *t + Duration::from_secs(1))
            })
            .flatten();
        self.global_until.max(pacing)
    }

    /// The earliest time `head` may go out as far as its own retry delay and
    /// bucket are concerned, `None` = no such constraint. Looks the bucket up
    /// without building its key.
    pub(super) fn head_ready_at(&self, head: &Entry) -> Option<Instant> {
        if self.buckets.is_empty() {
            return head.not_before;
        }
        let bucket = self
            .buckets
            .get(bucket_name(&self.route_buckets, head.route))
            .and_then(|b| b.get(&head.major))
            .filter(|b| b.remaining == Some(0))
            .and_then(|b| b.reset_at);
        head.not_before.max(bucket)
    }

    /// Maps `route` to the bucket the server named. On the first mapping the
    /// state kept under the route's own name moves to the bucket (merged:
    /// the longer hold wins), so no hold is lost.
    pub(super) fn learn_bucket(&mut self, route: &'static str, bucket: &str) {
        let previous = self.route_buckets.insert(route, bucket.to_owned());
        if previous.is_some() || bucket == route {
            return;
        }
        let Some(moved) = self.buckets.remove(route) else {
            return;
        };
        let target = self.buckets.entry(bucket.to_owned()).or_default();
        for (major, old) in moved {
            let merged = target.entry(major).or_insert(old);
            if old.remaining == Some(0) && old.reset_at > merged.reset_at {
                *merged = old;
            }
        }
    }

    /// Updates bucket state from a non-429 response's headers.
    pub(super) fn observe_limits(
        &mut self,
        now: Instant,
        route: &'static str,
        major: &str,
        seen: &Observed,
    ) {
        let Some(remaining) = seen.remaining else {
            return;
        };
        let reset_after = match (remaining, seen.reset_after) {
            (_, Some(d)) => Some(d.min(MAX_BUCKET_HOLD)),
            (0, None) => Some(FALLBACK_HOLD),
            (_, None) => None,
        };
        let reset_at = reset_after.map(|d| now + d);
        if seen.global && remaining == 0 {
            self.hold_globally(reset_at);
        }
        *self.bucket_entry(route, major) = Bucket {
            remaining: Some(remaining),
            reset_at,
        };
    }

    /// The state of `route`'s bucket for `major`, created empty when new
    /// (keys are only allocated then).
    pub(super) fn bucket_entry(&mut self, route: &'static str, major: &str) -> &mut Bucket {
        let name = bucket_name(&self.route_buckets, route);
        if !self.buckets.contains_key(name) {
            self.buckets.insert(name.to_owned(), BTreeMap::new());
        }
        let states = self
            .buckets
            .get_mut(name)
            .expect("the bucket's map was just ensured");
        if !states.contains_key(major) {
            states.insert(major.to_owned(), Bucket::default());
        }
        states
            .get_mut(major)
            .expect("the bucket state was just ensured")
    }

    pub(super) fn hold_globally(&mut self, until: Option<Instant>) {
        self.global_until = self.global_until.max(until);
    }

    /// Drops bucket states that carry no information any more (reset passed)
    /// once there are many.
    pub(super) fn prune_buckets(&mut self, now: Instant) {
        let states: usize = self.buckets.values().map(BTreeMap::len).sum();
        if states > BUCKET_PRUNE_THRESHOLD {
            for states in self.buckets.values_mut() {
                states.retain(|_, b| b.reset_at.is_some_and(|reset| reset > now));
            }
            self.buckets.retain(|_, states| !states.is_empty());
        }
        if self.global_until.is_some_and(|t| t <= now) {
            self.global_until = None;
        }
    }
}

/// The bucket a route is counted in: the hash the server named, else the
/// route itself.
pub(super) fn bucket_name<'a>(
    route_buckets: &'a BTreeMap<&'static str, String>,
    route: &'a str,
) -> &'a str {
    route_buckets.get(route).map_or(route, String::as_str)
}
