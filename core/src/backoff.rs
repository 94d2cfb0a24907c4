//! [`Backoff`]: capped exponential backoff with seeded jitter, and [`Jitter`],
//! the seeded random source every machine draws from.
//!
//! The core never touches OS randomness: a machine is built with a `seed`, and
//! the same seed and inputs give the same delays, so simulations replay
//! exactly.

use std::time::Duration;

/// A seeded source of uniform random numbers (deterministic per seed).
#[derive(Debug, Clone)]
pub struct Jitter {
    rng: fastrand::Rng,
}

impl Jitter {
    /// A source that yields the same sequence for the same seed.
    pub fn new(seed: u64) -> Self {
        Self {
            rng: fastrand::Rng::with_seed(seed),
        }
    }

    /// A number uniform in `[0, 1)`.
    pub fn unit(&mut self) -> f64 {
        self.rng.f64()
    }

    /// `d` scaled by a uniform factor in `[0, 1)` (e.g. Discord's first
    /// heartbeat after `interval * jitter`).
    pub fn fraction_of(&mut self, d: Duration) -> Duration {
        d.mul_f64(self.unit())
    }

    /// `d` spread uniformly over `[d - spread, d + spread]`, never negative.
    pub fn around(&mut self, d: Duration, spread: Duration) -> Duration {
        let offset = spread.mul_f64(self.unit() * 2.0);
        (d + offset).saturating_sub(spread)
    }

    /// A fresh 64-bit value (for nonces and derived seeds).
    pub fn next_u64(&mut self) -> u64 {
        self.rng.u64(..)
    }
}

/// Capped exponential backoff: `base * 2^attempt`, at most `cap`, each delay
/// spread by `±jitter` (a fraction in `[0, 1]`) and still at most `cap`.
#[derive(Debug, Clone)]
pub struct Backoff {
    base: Duration,
    cap: Duration,
    jitter_fraction: f64,
    attempt: u32,
    jitter: Jitter,
}

impl Backoff {
    /// A backoff starting at `base`, never above `cap`.
    pub fn new(base: Duration, cap: Duration, jitter_fraction: f64, seed: u64) -> Self {
        Self {
            base,
            cap: cap.max(base),
            jitter_fraction: jitter_fraction.clamp(0.0, 1.0),
            attempt: 0,
            jitter: Jitter::new(seed),
        }
    }

    /// The delay before the next attempt; each call doubles the next one.
    pub fn next_delay(&mut self) -> Duration {
        let factor = 2u32.saturating_pow(self.attempt.min(30));
        let raw = self.base.saturating_mul(factor).min(self.cap);
        self.attempt = self.attempt.saturating_add(1);
        if self.jitter_fraction == 0.0 {
            return raw;
        }
        let spread = raw.mul_f64(self.jitter_fraction);
        self.jitter.around(raw, spread).min(self.cap)
    }

    /// The delay `next_delay` would give, without jitter and without counting.
    pub fn peek_raw(&self) -> Duration {
        let factor = 2u32.saturating_pow(self.attempt.min(30));
        self.base.saturating_mul(factor).min(self.cap)
    }

    /// How many delays were handed out since the last reset.
    pub fn attempts(&self) -> u32 {
        self.attempt
    }

    /// Back to `base` (after a healthy session).
    pub fn reset(&mut self) {
        self.attempt = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doubles_up_to_the_cap_without_jitter() {
        let mut b = Backoff::new(Duration::from_secs(1), Duration::from_secs(60), 0.0, 7);
        let got: Vec<u64> = (0..8).map(|_| b.next_delay().as_secs()).collect();
        assert_eq!(got, vec![1, 2, 4, 8, 16, 32, 60, 60]);
        b.reset();
        assert_eq!(b.next_delay(), Duration::from_secs(1));
    }

    #[test]
    fn jitter_stays_within_the_spread_and_the_cap() {
        let mut b = Backoff::new(Duration::from_secs(1), Duration::from_secs(10), 0.5, 42);
        for _ in 0..100 {
            let raw = b.peek_raw();
            let d = b.next_delay();
            assert!(d >= raw.mul_f64(0.5) && d <= raw.mul_f64(1.5).min(Duration::from_secs(10)));
        }
    }

    #[test]
    fn same_seed_same_delays() {
        let mut a = Backoff::new(Duration::from_millis(500), Duration::from_secs(30), 0.1, 9);
        let mut b = Backoff::new(Duration::from_millis(500), Duration::from_secs(30), 0.1, 9);
        for _ in 0..10 {
            assert_eq!(a.next_delay(), b.next_delay());
        }
    }
}
