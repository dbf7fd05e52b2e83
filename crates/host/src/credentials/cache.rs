//! A credentials cache: refreshes ahead of expiry, one refresh at a time however many callers
//! ask, keeps still-valid credentials when a refresh fails, and never hands out expired ones.

use std::sync::Mutex;
use std::time::{Duration, SystemTime};

use super::{AwsCredentials, Provider, ProviderError};

/// Credentials from a provider, cached until shortly before they expire.
pub struct CredentialsCache {
    provider: Box<dyn Provider>,
    /// How long before expiry to refresh (the AWS SDKs use minutes).
    refresh_ahead: Duration,
    clock: fn() -> SystemTime,
    /// Held during a refresh: concurrent callers wait for its result instead of refreshing too.
    cached: Mutex<Option<AwsCredentials>>,
}

impl CredentialsCache {
    /// Refreshes 5 minutes ahead of expiry.
    pub fn new(provider: Box<dyn Provider>) -> Self {
        Self::with_clock(provider, Duration::from_secs(300), SystemTime::now)
    }

    /// With an explicit refresh margin and clock (tests).
    pub fn with_clock(
        provider: Box<dyn Provider>,
        refresh_ahead: Duration,
        clock: fn() -> SystemTime,
    ) -> Self {
        CredentialsCache {
            provider,
            refresh_ahead,
            clock,
            cached: Mutex::new(None),
        }
    }

    /// Valid credentials: the cached ones, or freshly fetched.
    pub fn get(&self) -> Result<AwsCredentials, ProviderError> {
        let mut cached = self
            .cached
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let now = (self.clock)();
        let fresh_enough = |c: &AwsCredentials| {
            c.expiration
                .is_none_or(|expiration| now + self.refresh_ahead < expiration)
        };
        if let Some(credentials) = cached.as_ref().filter(|c| fresh_enough(c)) {
            return Ok(credentials.clone());
        }
        match self.provider.provide() {
            Ok(credentials) if credentials.expired_at(now) => Err(ProviderError::Failed(format!(
                "{} returned expired credentials",
                credentials.provider
            ))),
            Ok(credentials) => {
                *cached = Some(credentials.clone());
                Ok(credentials)
            }
            // Keep using what still works until it expires.
            Err(error) => match cached.as_ref().filter(|c| !c.expired_at(now)) {
                Some(still_valid) => Ok(still_valid.clone()),
                None => Err(error),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
    use std::time::UNIX_EPOCH;
    use zeroize::Zeroizing;

    /// A fake clock: seconds since the epoch, set by the test.
    static NOW: AtomicU64 = AtomicU64::new(1_000_000);
    fn clock() -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(NOW.load(Ordering::SeqCst))
    }

    /// Counts calls; answers credentials expiring `lifetime` seconds after the fake now, or fails.
    struct Counting {
        calls: Arc<AtomicUsize>,
        lifetime: u64,
        fail_after: usize,
        delay: Duration,
    }

    impl Provider for Counting {
        fn name(&self) -> &'static str {
            "counting"
        }
        fn provide(&self) -> Result<AwsCredentials, ProviderError> {
            std::thread::sleep(self.delay);
            let call = self.calls.fetch_add(1, Ordering::SeqCst) + 1;
            if call > self.fail_after {
                return Err(ProviderError::Failed("refresh failed".into()));
            }
            Ok(AwsCredentials {
                access_key_id: format!("AKID{call}"),
                secret_access_key: Zeroizing::new("s".into()),
                session_token: None,
                expiration: Some(clock() + Duration::from_secs(self.lifetime)),
                provider: "counting",
            })
        }
    }

    #[test]
    fn refreshes_ahead_keeps_valid_on_failure_never_expired() {
        NOW.store(1_000_000, Ordering::SeqCst);
        let calls = Arc::new(AtomicUsize::new(0));
        let provider = Counting {
            calls: calls.clone(),
            lifetime: 3600,
            fail_after: 2,
            delay: Duration::ZERO,
        };
        let cache =
            CredentialsCache::with_clock(Box::new(provider), Duration::from_secs(300), clock);
        assert_eq!(cache.get().unwrap().access_key_id, "AKID1");
        assert_eq!(cache.get().unwrap().access_key_id, "AKID1");
        // Inside the refresh window: refreshed.
        NOW.fetch_add(3600 - 299, Ordering::SeqCst);
        assert_eq!(cache.get().unwrap().access_key_id, "AKID2");
        // The next refresh fails, while AKID2 is still valid: kept.
        NOW.fetch_add(3600 - 200, Ordering::SeqCst);
        assert_eq!(cache.get().unwrap().access_key_id, "AKID2");
        // Once AKID2 has expired, the failure is returned, never the expired credentials.
        NOW.fetch_add(300, Ordering::SeqCst);
        assert_eq!(
            cache.get().unwrap_err(),
            ProviderError::Failed("refresh failed".into())
        );
        assert_eq!(calls.load(Ordering::SeqCst), 4);
    }

    #[test]
    fn hundreds_of_concurrent_callers_cause_one_refresh() {
        let calls = Arc::new(AtomicUsize::new(0));
        let provider = Counting {
            calls: calls.clone(),
            lifetime: 1_000_000_000,
            fail_after: usize::MAX,
            delay: Duration::from_millis(50),
        };
        let cache = Arc::new(CredentialsCache::with_clock(
            Box::new(provider),
            Duration::from_secs(300),
            clock,
        ));
        let threads: Vec<_> = (0..300)
            .map(|_| {
                let cache = cache.clone();
                std::thread::spawn(move || cache.get().unwrap().access_key_id)
            })
            .collect();
        for thread in threads {
            assert_eq!(thread.join().unwrap(), "AKID1");
        }
        assert_eq!(calls.load(Ordering::SeqCst), 1);
    }
}
