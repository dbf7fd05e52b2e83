//! A credentials cache: refreshes ahead of expiry, one refresh at a time however many callers
//! ask, outside its lock, so that still-valid credentials keep being served while the provider
//! does its I/O; keeps them when a refresh fails, backs off with jitter after a failure, and never
//! hands out expired credentials. The policy (when to refresh, how long to back off) is
//! `sigv4_credentials::refresh`'s.

use std::hash::BuildHasher;
use std::sync::{Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant, SystemTime};

use sigv4_credentials::refresh::{Decision, RefreshPolicy, RefreshState};

use super::{AwsCredentials, Provider, ProviderError, unix_millis};

/// The longest a caller without usable credentials waits for another caller's refresh.
const MAX_WAIT: Duration = Duration::from_secs(120);

/// Credentials from a provider, cached until shortly before they expire.
pub struct CredentialsCache {
    provider: Box<dyn Provider>,
    clock: fn() -> SystemTime,
    state: Mutex<State>,
    /// Signalled when a refresh ends.
    refreshed: Condvar,
}

struct State {
    current: Option<AwsCredentials>,
    refresh: RefreshState,
    /// Why the last refresh failed: the answer while backing off without usable credentials.
    last_error: Option<ProviderError>,
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
        let policy = RefreshPolicy {
            refresh_ahead_ms: u64::try_from(refresh_ahead.as_millis()).unwrap_or(u64::MAX),
            ..RefreshPolicy::default()
        };
        CredentialsCache {
            provider,
            clock,
            state: Mutex::new(State {
                current: None,
                refresh: RefreshState::new(policy),
                last_error: None,
            }),
            refreshed: Condvar::new(),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Valid credentials: the cached ones, or freshly fetched (by this caller, or by the one
    /// already refreshing when there are no valid ones to serve meanwhile).
    pub fn get(&self) -> Result<AwsCredentials, ProviderError> {
        let deadline = Instant::now() + MAX_WAIT;
        let mut state = self.lock();
        loop {
            let now = unix_millis((self.clock)());
            let current = state
                .current
                .as_ref()
                .map(AwsCredentials::expiration_unix_seconds);
            match state.refresh.decide(now, current) {
                Decision::Serve => {
                    if let Some(credentials) = &state.current {
                        return Ok(credentials.clone());
                    }
                }
                Decision::BackingOff => {
                    return Err(state.last_error.clone().unwrap_or_else(|| {
                        ProviderError::Failed("backing off after a failed refresh".into())
                    }));
                }
                Decision::Wait => {
                    let left = deadline.saturating_duration_since(Instant::now());
                    if left.is_zero() {
                        return Err(ProviderError::Failed(format!(
                            "{} did not answer within {MAX_WAIT:?}",
                            self.provider.name()
                        )));
                    }
                    state = self
                        .refreshed
                        .wait_timeout(state, left)
                        .unwrap_or_else(|poisoned| poisoned.into_inner())
                        .0;
                    continue;
                }
                Decision::Refresh => break,
            }
        }
        state.refresh.started();
        drop(state);
        // The provider's I/O, without the lock. If it panics, the guard ends the refresh.
        let mut guard = Refreshing {
            cache: self,
            done: false,
        };
        let result = self.provider.provide();
        guard.done = true;
        self.finish(result)
    }

    /// Records a refresh's result and wakes the callers waiting for it.
    fn finish(
        &self,
        result: Result<AwsCredentials, ProviderError>,
    ) -> Result<AwsCredentials, ProviderError> {
        let mut state = self.lock();
        let now = (self.clock)();
        let result = match result {
            Ok(credentials) if credentials.expired_at(now) => Err(ProviderError::Failed(format!(
                "{} returned expired credentials",
                credentials.provider
            ))),
            other => other,
        };
        let answer = match result {
            Ok(credentials) => {
                state.refresh.succeeded();
                state.last_error = None;
                state.current = Some(credentials.clone());
                Ok(credentials)
            }
            Err(error) => {
                let now_ms = unix_millis(now);
                // Any random number will do for the jitter: std's per-process random keys.
                let random = std::collections::hash_map::RandomState::new().hash_one(now_ms);
                state.refresh.failed(now_ms, random);
                state.last_error = Some(error.clone());
                // Keep using what still works until it expires.
                match state.current.as_ref().filter(|c| !c.expired_at(now)) {
                    Some(still_valid) => Ok(still_valid.clone()),
                    None => Err(error),
                }
            }
        };
        drop(state);
        self.refreshed.notify_all();
        answer
    }
}

/// Ends a refresh whose provider panicked, so that callers do not wait for it.
struct Refreshing<'a> {
    cache: &'a CredentialsCache,
    done: bool,
}

impl Drop for Refreshing<'_> {
    fn drop(&mut self) {
        if !self.done {
            let _ = self
                .cache
                .finish(Err(ProviderError::Failed("the provider panicked".into())));
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

#[cfg(test)]
mod concurrency_tests {
    use super::*;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::{Instant, UNIX_EPOCH};
    use zeroize::Zeroizing;

    static CALLERS: usize = 1000;

    fn creds(akid: &str, expires: SystemTime) -> AwsCredentials {
        AwsCredentials {
            access_key_id: akid.into(),
            secret_access_key: Zeroizing::new("s".into()),
            session_token: None,
            expiration: Some(expires),
            provider: "slow",
        }
    }

    fn fixed_now() -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(1_000_000)
    }

    /// The first call answers credentials inside the refresh window; the second (the refresh)
    /// blocks until every other caller has been answered, or 10 s.
    struct Slow {
        calls: AtomicUsize,
        answered: Arc<(Mutex<usize>, Condvar)>,
        waited_out: AtomicUsize,
    }

    impl Provider for Slow {
        fn name(&self) -> &'static str {
            "slow"
        }
        fn provide(&self) -> Result<AwsCredentials, ProviderError> {
            let call = self.calls.fetch_add(1, Ordering::SeqCst);
            if call == 0 {
                return Ok(creds("OLD", fixed_now() + Duration::from_secs(60)));
            }
            let (lock, cvar) = &*self.answered;
            let deadline = Instant::now() + Duration::from_secs(10);
            let mut answered = lock.lock().unwrap();
            while *answered < CALLERS - 1 {
                let left = deadline.saturating_duration_since(Instant::now());
                if left.is_zero() {
                    self.waited_out.fetch_add(1, Ordering::SeqCst);
                    break;
                }
                answered = cvar.wait_timeout(answered, left).unwrap().0;
            }
            Ok(creds("NEW", fixed_now() + Duration::from_secs(3600)))
        }
    }

    #[test]
    fn a_thousand_callers_are_served_while_one_slow_refresh_runs() {
        let answered = Arc::new((Mutex::new(0usize), Condvar::new()));
        let provider = Arc::new(Slow {
            calls: AtomicUsize::new(0),
            answered: answered.clone(),
            waited_out: AtomicUsize::new(0),
        });
        struct Shared(Arc<Slow>);
        impl Provider for Shared {
            fn name(&self) -> &'static str {
                "slow"
            }
            fn provide(&self) -> Result<AwsCredentials, ProviderError> {
                self.0.provide()
            }
        }
        let cache = Arc::new(CredentialsCache::with_clock(
            Box::new(Shared(provider.clone())),
            Duration::from_secs(300),
            fixed_now,
        ));
        // Valid for 60 s, inside the 300 s refresh window: the next call refreshes.
        assert_eq!(cache.get().unwrap().access_key_id, "OLD");
        let started = Instant::now();
        let threads: Vec<_> = (0..CALLERS)
            .map(|_| {
                let (cache, answered) = (cache.clone(), answered.clone());
                std::thread::Builder::new()
                    .stack_size(128 * 1024)
                    .spawn(move || {
                        let got = cache.get().map(|c| c.access_key_id);
                        let (lock, cvar) = &*answered;
                        *lock.lock().unwrap() += 1;
                        cvar.notify_all();
                        got
                    })
                    .unwrap()
            })
            .collect();
        let mut got = Vec::new();
        for thread in threads {
            got.push(thread.join().unwrap().unwrap());
        }
        assert_eq!(got.len(), CALLERS, "every caller answered");
        assert_eq!(provider.calls.load(Ordering::SeqCst), 2, "one refresh");
        assert_eq!(
            provider.waited_out.load(Ordering::SeqCst),
            0,
            "callers were kept waiting behind the refresh ({:?})",
            started.elapsed()
        );
        assert_eq!(
            got.iter().filter(|a| *a == "NEW").count(),
            1,
            "the refresher's"
        );
        assert_eq!(cache.get().unwrap().access_key_id, "NEW");
    }

    struct Failing(AtomicUsize);

    impl Provider for Failing {
        fn name(&self) -> &'static str {
            "failing"
        }
        fn provide(&self) -> Result<AwsCredentials, ProviderError> {
            self.0.fetch_add(1, Ordering::SeqCst);
            Err(ProviderError::Failed("down".into()))
        }
    }

    #[test]
    fn a_failing_provider_is_not_retried_on_every_call() {
        let provider = Arc::new(Failing(AtomicUsize::new(0)));
        struct Shared(Arc<Failing>);
        impl Provider for Shared {
            fn name(&self) -> &'static str {
                "failing"
            }
            fn provide(&self) -> Result<AwsCredentials, ProviderError> {
                self.0.provide()
            }
        }
        let cache = CredentialsCache::with_clock(
            Box::new(Shared(provider.clone())),
            Duration::from_secs(300),
            fixed_now,
        );
        for _ in 0..100 {
            assert_eq!(
                cache.get().unwrap_err(),
                ProviderError::Failed("down".into())
            );
        }
        assert_eq!(provider.0.load(Ordering::SeqCst), 1);
    }

    /// Without credentials to serve, callers wait for the one refresh instead of each calling.
    #[test]
    fn callers_without_credentials_wait_for_one_refresh() {
        struct Slow(Arc<AtomicUsize>);
        impl Provider for Slow {
            fn name(&self) -> &'static str {
                "slow"
            }
            fn provide(&self) -> Result<AwsCredentials, ProviderError> {
                self.0.fetch_add(1, Ordering::SeqCst);
                std::thread::sleep(Duration::from_millis(200));
                Ok(creds("ONLY", fixed_now() + Duration::from_secs(3600)))
            }
        }
        let calls = Arc::new(AtomicUsize::new(0));
        let cache = Arc::new(CredentialsCache::with_clock(
            Box::new(Slow(calls.clone())),
            Duration::from_secs(300),
            fixed_now,
        ));
        let threads: Vec<_> = (0..CALLERS)
            .map(|_| {
                let cache = cache.clone();
                std::thread::Builder::new()
                    .stack_size(128 * 1024)
                    .spawn(move || cache.get().map(|c| c.access_key_id))
                    .unwrap()
            })
            .collect();
        for thread in threads {
            assert_eq!(thread.join().unwrap().unwrap(), "ONLY");
        }
        assert_eq!(calls.load(Ordering::SeqCst), 1);
    }

    #[test]
    fn a_panicking_provider_does_not_leave_callers_waiting() {
        struct Panics;
        impl Provider for Panics {
            fn name(&self) -> &'static str {
                "panics"
            }
            fn provide(&self) -> Result<AwsCredentials, ProviderError> {
                panic!("provider bug")
            }
        }
        let cache = Arc::new(CredentialsCache::with_clock(
            Box::new(Panics),
            Duration::from_secs(300),
            fixed_now,
        ));
        let first = cache.clone();
        assert!(std::thread::spawn(move || first.get()).join().is_err());
        assert_eq!(
            cache.get().unwrap_err(),
            ProviderError::Failed("the provider panicked".into())
        );
    }
}
