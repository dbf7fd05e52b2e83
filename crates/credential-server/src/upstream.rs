//! The served credentials and their refresher: one task fetches from upstream (on a blocking
//! thread: the providers do synchronous I/O), whatever the number of clients; requests read the
//! latest answer without waiting. Refreshed with a third of the lifetime left (with jitter);
//! after a failure retried with backoff while still-valid credentials keep being served; expired
//! ones are never served (the request gets the upstream failure instead).

use sigv4_serve::{rfc3339, unix_millis, unix_seconds};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, SystemTime};

use sigv4_credentials::refresh::{RefreshPolicy, RefreshState, refresh_at_ms};
use sigv4_host::credentials::{AwsCredentials, Provider, ProviderError};
use tokio::sync::{Notify, watch};
use zeroize::Zeroizing;

use crate::metrics::Metrics;

/// How long credentials without an expiry (static keys from the chain) are advertised for:
/// clients need an `Expiration`, and re-read the chain as often.
const STATIC_LIFETIME: Duration = Duration::from_secs(3600);

/// Credentials ready to serve, rendered once per refresh.
pub struct Served {
    /// The IMDS document (`security-credentials/ROLE`).
    pub imds: Zeroizing<String>,
    /// The container endpoint's document.
    pub container: Zeroizing<String>,
    /// Unix seconds.
    pub expiration: u64,
    /// Unix seconds: when they were fetched (`LastUpdated`).
    pub fetched: u64,
}

impl Served {
    /// Renders `credentials` fetched at `now` (unix seconds) for the role `role_arn`.
    pub fn render(credentials: &AwsCredentials, now: u64, role_arn: Option<&str>) -> Served {
        let expiration = credentials
            .expiration
            .map_or(now + STATIC_LIFETIME.as_secs(), unix_seconds);
        let token = credentials.session_token.as_ref().map(|t| t.as_str());
        let imds = serde_json::json!({
            "Code": "Success",
            "LastUpdated": rfc3339(now),
            "Type": "AWS-HMAC",
            "AccessKeyId": credentials.access_key_id,
            "SecretAccessKey": credentials.secret_access_key.as_str(),
            "Token": token.unwrap_or_default(),
            "Expiration": rfc3339(expiration),
        });
        let mut container = serde_json::json!({
            "AccessKeyId": credentials.access_key_id,
            "SecretAccessKey": credentials.secret_access_key.as_str(),
            "Token": token.unwrap_or_default(),
            "Expiration": rfc3339(expiration),
        });
        if let Some(arn) = role_arn {
            container["RoleArn"] = arn.into();
            if let Some(account) = account_of(arn) {
                container["AccountId"] = account.into();
            }
        }
        let served = Served {
            imds: Zeroizing::new(imds.to_string()),
            container: Zeroizing::new(container.to_string()),
            expiration,
            fetched: now,
        };
        // The JSON values held copies of the secret: serde_json's strings are not zeroized,
        // so the values are dropped here, before the function returns.
        drop((imds, container));
        served
    }

    /// Whether they may still be served at `now` (unix seconds).
    pub fn valid_at(&self, now: u64) -> bool {
        now < self.expiration
    }
}

/// What requests see of the upstream.
#[derive(Clone, Default)]
pub struct Snapshot {
    pub served: Option<Arc<Served>>,
    /// Why the last fetch failed (cleared by a success): the answer when nothing valid is left.
    pub error: Option<Arc<str>>,
    /// Whether a fetch is running.
    pub refreshing: bool,
}

/// The least time between two fetches a request's demand starts.
const MIN_DEMAND_INTERVAL: Duration = Duration::from_secs(1);

/// Runs the refresher until the sender's receivers are all gone. `demand` wakes it before its
/// time: a request found the credentials expired by the wall clock (which jumped, or they
/// were expired when fetched) with no fetch under way and no failure to report; it fetches
/// then, but never more than once per [`MIN_DEMAND_INTERVAL`], whatever the requests.
pub async fn refresh(
    provider: Arc<dyn Provider>,
    role_arn: Option<String>,
    sender: watch::Sender<Snapshot>,
    metrics: Arc<Metrics>,
    demand: Arc<Notify>,
) {
    let mut state = RefreshState::new(RefreshPolicy {
        backoff_base_ms: 1_000,
        backoff_max_ms: 60_000,
        ..RefreshPolicy::default()
    });
    loop {
        let started = tokio::time::Instant::now();
        sender.send_modify(|s| s.refreshing = true);
        let provider = provider.clone();
        let fetched = tokio::task::spawn_blocking(move || provider.provide()).await;
        let now_ms = unix_millis(SystemTime::now());
        // Credentials that are no longer valid when they arrive are a failure (a clock far off,
        // an upstream's mistake): served, they would be refused; refetched at once, they would
        // make a loop of upstream calls.
        let fetched = match fetched {
            Ok(Ok(credentials)) if credentials.expired_at(SystemTime::now()) => Err(format!(
                "the credentials fetched had expired already (at {}; is the clock right?)",
                rfc3339(credentials.expiration.map_or(0, unix_seconds))
            )),
            Ok(Ok(credentials)) => Ok(credentials),
            Ok(Err(ProviderError::Failed(why) | ProviderError::NotConfigured(why))) => Err(why),
            Err(_) => Err("the credential provider panicked".to_string()),
        };
        let next_ms = match fetched {
            Ok(credentials) => {
                state.succeeded();
                metrics.refreshes.fetch_add(1, Ordering::Relaxed);
                let served = Served::render(&credentials, now_ms / 1000, role_arn.as_deref());
                let next = refresh_at_ms(now_ms, served.expiration * 1000, random());
                sender.send_replace(Snapshot {
                    served: Some(Arc::new(served)),
                    error: None,
                    refreshing: false,
                });
                next
            }
            Err(why) => {
                metrics.refresh_failures.fetch_add(1, Ordering::Relaxed);
                crate::log(
                    serde_json::json!({"event": "refresh_failed", "error": why, "failures": state.failures() + 1}),
                );
                let retry = state.failed(now_ms, random());
                sender.send_modify(|s| {
                    s.error = Some(why.into());
                    s.refreshing = false;
                });
                retry
            }
        };
        let wait = Duration::from_millis(next_ms.saturating_sub(now_ms));
        tokio::select! {
            () = tokio::time::sleep(wait) => {}
            () = demand.notified() => {
                tokio::time::sleep_until(started + MIN_DEMAND_INTERVAL).await;
            }
            () = sender.closed() => return,
        }
    }
}

/// The account of an ARN (`arn:PARTITION:SERVICE:REGION:ACCOUNT:...`).
pub fn account_of(arn: &str) -> Option<&str> {
    arn.split(':').nth(4).filter(|a| !a.is_empty())
}

/// A random number for jitter.
fn random() -> u64 {
    let mut bytes = [0u8; 8];
    match getrandom::getrandom(&mut bytes) {
        Ok(()) => u64::from_le_bytes(bytes),
        // No random source: the clock, well mixed, spreads servers nearly as well.
        Err(_) => sigv4_credentials::refresh::mix(unix_millis(SystemTime::now())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::UNIX_EPOCH;

    #[test]
    fn renders_both_documents_with_whole_second_times() {
        let credentials = AwsCredentials {
            access_key_id: "ASIAEXAMPLE".into(),
            secret_access_key: Zeroizing::new("SECRET".into()),
            session_token: Some(Zeroizing::new("TOKEN".into())),
            expiration: Some(UNIX_EPOCH + Duration::from_millis(1_764_612_000_999)),
            provider: "test",
        };
        let served = Served::render(
            &credentials,
            1_764_608_400,
            Some("arn:aws:iam::123456789012:role/app"),
        );
        assert_eq!(
            served.imds.as_str(),
            r#"{"AccessKeyId":"ASIAEXAMPLE","Code":"Success","Expiration":"2025-12-01T18:00:00Z","LastUpdated":"2025-12-01T17:00:00Z","SecretAccessKey":"SECRET","Token":"TOKEN","Type":"AWS-HMAC"}"#
        );
        assert_eq!(
            served.container.as_str(),
            r#"{"AccessKeyId":"ASIAEXAMPLE","AccountId":"123456789012","Expiration":"2025-12-01T18:00:00Z","RoleArn":"arn:aws:iam::123456789012:role/app","SecretAccessKey":"SECRET","Token":"TOKEN"}"#
        );
        assert!(served.valid_at(1_764_611_999));
        assert!(!served.valid_at(1_764_612_000));
    }
}
