//! When to refresh credentials and how long to wait after a failure. Times are milliseconds
//! since the Unix epoch, given by the host; the jitter's randomness too.
//!
//! Credentials are refreshed [`RefreshPolicy::refresh_ahead_ms`] before they expire, one
//! refresh at a time; still-valid credentials keep being served while it runs and when it fails.
//! After a failure the next attempt waits an exponential backoff (doubling from
//! [`RefreshPolicy::backoff_base_ms`] up to [`RefreshPolicy::backoff_max_ms`]) with "equal
//! jitter": half the delay fixed, half random, so that many hosts do not retry in step.

/// The timings.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RefreshPolicy {
    /// Refresh this long before expiry (the AWS SDKs refresh 5 minutes ahead).
    pub refresh_ahead_ms: u64,
    /// The first backoff after a failure.
    pub backoff_base_ms: u64,
    /// The longest backoff.
    pub backoff_max_ms: u64,
}

impl Default for RefreshPolicy {
    fn default() -> Self {
        RefreshPolicy {
            refresh_ahead_ms: 300_000,
            backoff_base_ms: 1_000,
            backoff_max_ms: 60_000,
        }
    }
}

/// Whether credentials expiring at `expiration` (unix seconds; `None`: never) can be used at
/// `now_ms`.
pub fn usable(expiration: Option<u64>, now_ms: u64) -> bool {
    expiration.is_none_or(|at| now_ms < at.saturating_mul(1000))
}

/// What a cache should do at a moment.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Decision {
    /// Serve the current credentials (fresh, or still valid while a refresh runs or backs off).
    Serve,
    /// Start a refresh (and serve the current credentials meanwhile if they are usable).
    Refresh,
    /// No usable credentials and a refresh is running: wait for it.
    Wait,
    /// No usable credentials and backing off after a failure: answer the last error.
    BackingOff,
}

/// The refresh state of one cache.
#[derive(Clone, Debug, Default)]
pub struct RefreshState {
    policy: RefreshPolicy,
    in_flight: bool,
    failures: u32,
    retry_at_ms: u64,
}

impl RefreshState {
    /// With these timings.
    pub fn new(policy: RefreshPolicy) -> Self {
        RefreshState {
            policy,
            ..RefreshState::default()
        }
    }

    /// The timings.
    pub fn policy(&self) -> RefreshPolicy {
        self.policy
    }

    /// What to do at `now_ms` with `current`: `None` without credentials, else their expiration.
    pub fn decide(&self, now_ms: u64, current: Option<Option<u64>>) -> Decision {
        let valid = current.is_some_and(|expiration| usable(expiration, now_ms));
        let fresh = current.is_some_and(|expiration| {
            expiration.is_none_or(|at| {
                now_ms.saturating_add(self.policy.refresh_ahead_ms) < at.saturating_mul(1000)
            })
        });
        match (fresh, valid, self.in_flight, now_ms < self.retry_at_ms) {
            (true, ..) => Decision::Serve,
            (false, true, true, _) | (false, true, false, true) => Decision::Serve,
            (false, false, true, _) => Decision::Wait,
            (false, false, false, true) => Decision::BackingOff,
            (false, _, false, false) => Decision::Refresh,
        }
    }

    /// Whether a refresh is running.
    pub fn in_flight(&self) -> bool {
        self.in_flight
    }

    /// A refresh started.
    pub fn started(&mut self) {
        self.in_flight = true;
    }

    /// The refresh gave credentials.
    pub fn succeeded(&mut self) {
        self.in_flight = false;
        self.failures = 0;
        self.retry_at_ms = 0;
    }

    /// The refresh failed at `now_ms`: back off. `random` is any random number (it picks the
    /// jitter). Returns when the next attempt may start.
    pub fn failed(&mut self, now_ms: u64, random: u64) -> u64 {
        self.in_flight = false;
        self.failures = self.failures.saturating_add(1);
        let doubling = 1u64 << (self.failures - 1).min(20);
        let delay = self
            .policy
            .backoff_base_ms
            .saturating_mul(doubling)
            .min(self.policy.backoff_max_ms);
        let half = delay / 2;
        let jitter = random % (delay - half + 1);
        self.retry_at_ms = now_ms.saturating_add(half + jitter);
        self.retry_at_ms
    }

    /// How many refreshes failed in a row.
    pub fn failures(&self) -> u32 {
        self.failures
    }
}

/// When a server that hands credentials to others refreshes them, fetched at `fetched_ms` and
/// expiring at `expiration_ms`: once a third of their lifetime is left, less a random jitter of
/// up to a twelfth of it (`random`), so that many servers fetching at once do not refresh in
/// step. Clients keep what they got until their own refresh margin (the SDKs': 5 minutes, or
/// 15 in IMDS's case), so a third left leaves them credentials that outlive it.
pub fn refresh_at_ms(fetched_ms: u64, expiration_ms: u64, random: u64) -> u64 {
    let lifetime = expiration_ms.saturating_sub(fetched_ms);
    let jitter = random % (lifetime / 12 + 1);
    fetched_ms + lifetime - lifetime / 3 - jitter
}

/// A well-mixed 64-bit number from any seed (SplitMix64's finalizer): hosts without a random
/// source derive the jitter from the time, say, without I/O.
pub fn mix(seed: u64) -> u64 {
    let mut z = seed.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: u64 = 1000;

    #[test]
    fn refreshes_ahead_serves_valid_and_waits_only_without_credentials() {
        let mut state = RefreshState::default();
        assert_eq!(state.decide(0, None), Decision::Refresh);
        state.started();
        assert_eq!(state.decide(0, None), Decision::Wait);
        state.succeeded();
        let expires = Some(3600);
        assert_eq!(state.decide(0, Some(expires)), Decision::Serve);
        assert_eq!(
            state.decide((3600 - 300) * S - 1, Some(expires)),
            Decision::Serve
        );
        assert_eq!(
            state.decide((3600 - 300) * S, Some(expires)),
            Decision::Refresh
        );
        state.started();
        assert_eq!(
            state.decide(3500 * S, Some(expires)),
            Decision::Serve,
            "valid while refreshing"
        );
        assert_eq!(
            state.decide(3600 * S, Some(expires)),
            Decision::Wait,
            "expired: never served"
        );
        assert_eq!(state.decide(0, Some(None)), Decision::Serve, "no expiry");
    }

    #[test]
    fn servers_refresh_with_a_third_of_the_lifetime_left_less_jitter() {
        let hour = 3_600_000;
        assert_eq!(refresh_at_ms(0, hour, 0), 2_400_000);
        assert_eq!(
            refresh_at_ms(0, hour, hour / 12),
            2_100_000,
            "the most jitter"
        );
        assert_eq!(refresh_at_ms(0, hour, hour / 12 + 1), 2_400_000, "wraps");
        assert_eq!(refresh_at_ms(60_000, 60_000 + hour, 1), 2_459_999);
        assert_eq!(refresh_at_ms(1000, 1000, 7), 1000, "already expired: now");
        assert_eq!(
            refresh_at_ms(5000, 1000, 7),
            5000,
            "expired before fetched: now"
        );
    }

    #[test]
    fn backs_off_with_jitter_after_failures() {
        let mut state = RefreshState::default();
        state.started();
        let retry = state.failed(10 * S, 0);
        assert_eq!(retry, 10 * S + 500, "half the first second, no jitter");
        assert_eq!(state.decide(10 * S, None), Decision::BackingOff);
        assert_eq!(state.decide(retry, None), Decision::Refresh);
        // Valid credentials are served while backing off.
        assert_eq!(state.decide(10 * S, Some(Some(11))), Decision::Serve);
        state.started();
        let retry = state.failed(20 * S, u64::MAX);
        assert!((20 * S + 1000..=20 * S + 2000).contains(&retry), "{retry}");
        let mut retry = 0;
        for _ in 0..30 {
            state.started();
            retry = state.failed(0, mix(u64::from(state.failures())));
            assert!(retry <= 60 * S, "bounded: {retry}");
        }
        assert!((30 * S..=60 * S).contains(&retry), "at the cap: {retry}");
        state.succeeded();
        assert_eq!(state.decide(0, None), Decision::Refresh);
        assert_eq!(state.failures(), 0);
    }

    #[test]
    fn jitter_spreads() {
        let mut retries: Vec<u64> = (0..64)
            .map(|seed| {
                let mut state = RefreshState::default();
                state.failed(0, mix(seed))
            })
            .collect();
        retries.sort_unstable();
        retries.dedup();
        assert!(retries.len() > 32, "{retries:?}");
        assert!(retries.iter().all(|r| (500..=1000).contains(r)));
    }

    #[test]
    fn usable_never_after_expiry() {
        assert!(usable(None, u64::MAX));
        assert!(usable(Some(10), 9_999));
        assert!(!usable(Some(10), 10_000));
    }
}
