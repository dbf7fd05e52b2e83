//! Rate limits: token buckets, one for a whole server or one per client address.

use std::collections::HashMap;
use std::net::IpAddr;
use std::time::Instant;

/// A token bucket: `rps` requests a second on average, `burst` at once.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RateLimit {
    pub rps: f64,
    pub burst: f64,
}

/// `rps:burst`, both positive (`rps` may have a fraction).
pub fn parse_rate_limit(text: &str) -> Option<RateLimit> {
    let (rps, burst) = text.split_once(':')?;
    let rps: f64 = rps.trim().parse().ok()?;
    let burst: u32 = burst.trim().parse().ok()?;
    (rps.is_finite() && rps > 0.0 && burst > 0).then_some(RateLimit {
        rps,
        burst: f64::from(burst),
    })
}

/// A token bucket.
pub struct Bucket {
    limit: RateLimit,
    tokens: f64,
    at: Instant,
}

impl Bucket {
    /// Full.
    pub fn new(limit: RateLimit, now: Instant) -> Self {
        Bucket {
            limit,
            tokens: limit.burst,
            at: now,
        }
    }

    /// Takes a token if one is left at `now`.
    pub fn take(&mut self, now: Instant) -> bool {
        self.refill(now);
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }

    fn refill(&mut self, now: Instant) {
        let elapsed = now.saturating_duration_since(self.at).as_secs_f64();
        self.tokens = (self.tokens + elapsed * self.limit.rps).min(self.limit.burst);
        self.at = now;
    }

    /// Whether the bucket would be full at `now`: forgetting it changes nothing.
    fn full_at(&self, now: Instant) -> bool {
        let elapsed = now.saturating_duration_since(self.at).as_secs_f64();
        self.tokens + elapsed * self.limit.rps >= self.limit.burst
    }
}

/// A bucket per client address, at most `capacity` of them: when full, the buckets that have
/// filled up again are forgotten first, then the longest idle, so that a flood of addresses
/// neither grows the map without bound nor locks out a client that was never limited.
pub struct PerClient {
    limit: RateLimit,
    capacity: usize,
    buckets: HashMap<IpAddr, Bucket>,
}

impl PerClient {
    pub fn new(limit: RateLimit, capacity: usize) -> Self {
        PerClient {
            limit,
            capacity: capacity.max(1),
            buckets: HashMap::new(),
        }
    }

    /// Takes a token from `client`'s bucket if one is left at `now`.
    pub fn take(&mut self, client: IpAddr, now: Instant) -> bool {
        if !self.buckets.contains_key(&client) && self.buckets.len() >= self.capacity {
            self.buckets.retain(|_, bucket| !bucket.full_at(now));
            if self.buckets.len() >= self.capacity {
                let idlest = self
                    .buckets
                    .iter()
                    .min_by_key(|(_, b)| b.at)
                    .map(|(ip, _)| *ip);
                if let Some(ip) = idlest {
                    self.buckets.remove(&ip);
                }
            }
        }
        let limit = self.limit;
        self.buckets
            .entry(client)
            .or_insert_with(|| Bucket::new(limit, now))
            .take(now)
    }

    /// How many clients have a bucket.
    pub fn len(&self) -> usize {
        self.buckets.len()
    }

    /// Whether no client has a bucket.
    pub fn is_empty(&self) -> bool {
        self.buckets.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    const LIMIT: RateLimit = RateLimit {
        rps: 10.0,
        burst: 3.0,
    };

    #[test]
    fn the_bucket_allows_a_burst_then_the_rate() {
        let now = Instant::now();
        let mut bucket = Bucket::new(LIMIT, now);
        assert!((0..3).all(|_| bucket.take(now)));
        assert!(!bucket.take(now));
        assert!(!bucket.take(now + Duration::from_millis(99)));
        assert!(bucket.take(now + Duration::from_millis(100)));
        assert!(!bucket.take(now + Duration::from_millis(100)));
        // Idle for long: full again, not more.
        let later = now + Duration::from_secs(60);
        assert!((0..3).all(|_| bucket.take(later)));
        assert!(!bucket.take(later));
    }

    #[test]
    fn rate_limits_read_as_rps_and_burst() {
        assert_eq!(
            parse_rate_limit("0.5:2"),
            Some(RateLimit {
                rps: 0.5,
                burst: 2.0
            })
        );
        for bad in [
            "", "1", "0:1", "1:0", "-1:1", "inf:1", "NaN:1", "1:1.5", "a:b",
        ] {
            assert_eq!(parse_rate_limit(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn each_client_has_its_own_bucket_and_the_map_stays_bounded() {
        let t0 = Instant::now();
        let ms = |n: u64| t0 + Duration::from_millis(n);
        let ip = |n: u8| IpAddr::from([10, 0, 0, n]);
        let mut limits = PerClient::new(LIMIT, 2);
        assert!((0..3).all(|_| limits.take(ip(1), t0)));
        assert!(!limits.take(ip(1), t0));
        // Another address is not limited by the first's use.
        assert!(limits.take(ip(2), t0));
        // Full: a third address makes room by forgetting ip 2, whose bucket has filled up
        // again, not the limited ip 1 (1.5 tokens at 150 ms: one take, not two).
        assert!(limits.take(ip(3), ms(150)));
        assert_eq!(limits.len(), 2);
        assert!(limits.take(ip(1), ms(150)));
        assert!(!limits.take(ip(1), ms(150)));
        // A flood of addresses keeps the map at its bound.
        for n in 4..=200 {
            assert!(limits.take(ip(n), ms(151)));
            assert_eq!(limits.len(), 2);
        }
    }
}
