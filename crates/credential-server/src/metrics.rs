//! Counters for `/metrics`, in the Prometheus text format: requests by route and status,
//! refreshes and their failures, and the served credentials' seconds until expiry. Counted with
//! atomics in fixed tables, so that a request takes no lock to be counted.

use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering};

/// The routes requests are counted by.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Route {
    Token,
    Credentials,
    RoleList,
    Metadata,
    Healthz,
    Metrics,
    Other,
}

const ROUTES: [(Route, &str); 7] = [
    (Route::Token, "token"),
    (Route::Credentials, "credentials"),
    (Route::RoleList, "role_list"),
    (Route::Metadata, "metadata"),
    (Route::Healthz, "healthz"),
    (Route::Metrics, "metrics"),
    (Route::Other, "other"),
];

/// The statuses the server answers with.
const STATUSES: [u16; 9] = [200, 400, 401, 403, 404, 405, 429, 500, 503];

/// The server's counters.
pub struct Metrics {
    requests: [[AtomicU64; STATUSES.len()]; ROUTES.len()],
    pub refreshes: AtomicU64,
    pub refresh_failures: AtomicU64,
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics {
            requests: std::array::from_fn(|_| std::array::from_fn(|_| AtomicU64::new(0))),
            refreshes: AtomicU64::new(0),
            refresh_failures: AtomicU64::new(0),
        }
    }
}

impl Metrics {
    /// Counts one request answered with `status`.
    pub fn count(&self, route: Route, status: u16) {
        let r = ROUTES.iter().position(|(r, _)| *r == route).unwrap_or(6);
        // A status outside the table is counted as a server error.
        let s = STATUSES.iter().position(|s| *s == status).unwrap_or(7);
        self.requests[r][s].fetch_add(1, Ordering::Relaxed);
    }

    /// The text format; `expires_in` is the served credentials' seconds until expiry (none
    /// served, or never expiring: no sample).
    pub fn render(&self, expires_in: Option<i64>) -> String {
        let mut out = String::new();
        out.push_str(
            "# HELP credential_server_requests_total Requests answered, by route and status.\n",
        );
        out.push_str("# TYPE credential_server_requests_total counter\n");
        for (r, (_, route)) in ROUTES.iter().enumerate() {
            for (s, status) in STATUSES.iter().enumerate() {
                let n = self.requests[r][s].load(Ordering::Relaxed);
                if n > 0 {
                    let _ = writeln!(
                        out,
                        "credential_server_requests_total{{route=\"{route}\",status=\"{status}\"}} {n}"
                    );
                }
            }
        }
        for (name, help, value) in [
            (
                "credential_server_refreshes_total",
                "Credentials fetched from upstream.",
                &self.refreshes,
            ),
            (
                "credential_server_refresh_failures_total",
                "Upstream fetches that failed.",
                &self.refresh_failures,
            ),
        ] {
            let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} counter");
            let _ = writeln!(out, "{name} {}", value.load(Ordering::Relaxed));
        }
        out.push_str("# HELP credential_server_credentials_expiry_seconds Seconds until the served credentials expire.\n");
        out.push_str("# TYPE credential_server_credentials_expiry_seconds gauge\n");
        if let Some(seconds) = expires_in {
            let _ = writeln!(
                out,
                "credential_server_credentials_expiry_seconds {seconds}"
            );
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_counted_requests_and_the_gauges() {
        let metrics = Metrics::default();
        metrics.count(Route::Credentials, 200);
        metrics.count(Route::Credentials, 200);
        metrics.count(Route::Token, 400);
        metrics.count(Route::Other, 418);
        metrics.refreshes.fetch_add(3, Ordering::Relaxed);
        let text = metrics.render(Some(1234));
        for line in [
            "credential_server_requests_total{route=\"credentials\",status=\"200\"} 2\n",
            "credential_server_requests_total{route=\"token\",status=\"400\"} 1\n",
            "credential_server_requests_total{route=\"other\",status=\"500\"} 1\n",
            "credential_server_refreshes_total 3\n",
            "credential_server_refresh_failures_total 0\n",
            "credential_server_credentials_expiry_seconds 1234\n",
        ] {
            assert!(text.contains(line), "{line} in\n{text}");
        }
        assert!(!text.contains("status=\"404\""));
    }
}
