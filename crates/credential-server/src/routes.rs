//! The routes: IMDSv2 as the SDKs call it, or the ECS/EKS container endpoint; `/healthz` and
//! `/metrics` in both modes. Pure functions of the request and the server's state, so that
//! each answer is tested without a socket.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::{HeaderMap, Method, Response, StatusCode, header};
use http_body_util::Full;
use subtle::ConstantTimeEq;
use tokio::sync::watch;

use crate::config::{Config, Mode};
use crate::metrics::{Metrics, Route};
use crate::tokens::{MAX_TTL_SECS, TokenStore};
use crate::upstream::{self, Snapshot};
pub use sigv4_serve::Bucket;
use sigv4_serve::{rfc3339, unix_seconds};

/// How long a request without valid credentials waits for a fetch under way.
const WAIT_FOR_FETCH: Duration = Duration::from_secs(10);

use sigv4_credentials::imds::{
    CREDENTIALS_PATH, REGION_PATH, TOKEN_HEADER, TOKEN_PATH, TOKEN_TTL_HEADER as TTL_HEADER,
};

/// What every request reads.
pub struct State {
    pub config: Config,
    pub upstream: watch::Receiver<Snapshot>,
    pub tokens: Mutex<TokenStore>,
    pub limiter: Option<Mutex<Bucket>>,
    pub metrics: std::sync::Arc<Metrics>,
    /// Wakes the refresher when credentials are found expired before their refresh.
    pub demand: std::sync::Arc<tokio::sync::Notify>,
}

pub type Answer = Response<Full<Bytes>>;

/// The answer to a request, and the route it was counted under.
pub async fn answer(
    state: &State,
    method: &Method,
    path: &str,
    headers: &HeaderMap,
) -> (Route, Answer) {
    let (route, answer) = match path {
        "/healthz" => (Route::Healthz, text(StatusCode::OK, "ok")),
        "/metrics" => {
            let expires_in =
                state.upstream.borrow().served.as_ref().map(|s| {
                    s.expiration as i64 - unix_seconds(std::time::SystemTime::now()) as i64
                });
            let mut answer = text(StatusCode::OK, state.metrics.render(expires_in));
            answer.headers_mut().insert(
                header::CONTENT_TYPE,
                header::HeaderValue::from_static("text/plain; version=0.0.4"),
            );
            (Route::Metrics, answer)
        }
        _ if !state.allowed() => (
            Route::Other,
            text(StatusCode::TOO_MANY_REQUESTS, "rate limit exceeded"),
        ),
        _ => match state.config.mode {
            Mode::Imds => imds(state, method, path, headers).await,
            Mode::Container => container(state, method, headers).await,
        },
    };
    (route, answer)
}

impl State {
    /// Whether the rate limit lets one more request through.
    fn allowed(&self) -> bool {
        self.limiter.as_ref().is_none_or(|bucket| {
            bucket
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .take(Instant::now())
        })
    }
}

async fn imds(state: &State, method: &Method, path: &str, headers: &HeaderMap) -> (Route, Answer) {
    let mut answered = imds_route(state, method, path, headers).await;
    // As EC2's metadata service names itself.
    answered
        .1
        .headers_mut()
        .insert(header::SERVER, header::HeaderValue::from_static("EC2ws"));
    answered
}

async fn imds_route(
    state: &State,
    method: &Method,
    path: &str,
    headers: &HeaderMap,
) -> (Route, Answer) {
    // The SDKs' paths, as the client side of this crate's rules (sigv4_credentials::imds) asks.
    let credentials_prefix = CREDENTIALS_PATH.trim_end_matches('/');
    if path == TOKEN_PATH {
        return (Route::Token, issue_token(state, method, headers));
    }
    if method != Method::GET && method != Method::HEAD {
        return (
            Route::Other,
            text(StatusCode::METHOD_NOT_ALLOWED, "method not allowed"),
        );
    }
    // A token that is sent must be valid; none at all is IMDSv1.
    match headers
        .get(TOKEN_HEADER)
        .map(|v| v.to_str().unwrap_or_default())
    {
        Some(token) => {
            let tokens = state.tokens.lock().unwrap_or_else(|p| p.into_inner());
            if !tokens.is_valid(token, Instant::now()) {
                return (Route::Other, text(StatusCode::UNAUTHORIZED, "unauthorized"));
            }
        }
        None if !state.config.imds_v1_allowed => {
            return (Route::Other, text(StatusCode::UNAUTHORIZED, "unauthorized"));
        }
        None => {}
    }
    let config = &state.config;
    match path.strip_prefix(credentials_prefix) {
        Some("" | "/") => {
            return (
                Route::RoleList,
                text(StatusCode::OK, config.iam_role.clone()),
            );
        }
        Some(role)
            if role
                .strip_prefix('/')
                .is_some_and(|r| r.trim_end_matches('/') == config.iam_role) =>
        {
            return (
                Route::Credentials,
                credentials(state, |s| s.imds.as_str()).await,
            );
        }
        _ => {}
    }
    let account = config
        .source
        .role_arn()
        .and_then(upstream::account_of)
        .unwrap_or("000000000000");
    // Leaf paths answer with a trailing slash too, as EC2's do (botocore asks for
    // `placement/availability-zone/`).
    let answer = match path.strip_suffix('/').unwrap_or(path) {
        "/latest/meta-data/iam/info" => json(&serde_json::json!({
            "Code": "Success",
            "LastUpdated": rfc3339(unix_seconds(std::time::SystemTime::now())),
            "InstanceProfileArn": format!("arn:aws:iam::{account}:instance-profile/{}", config.iam_role),
            "InstanceProfileId": "AIPASIGV4CREDENTIALSERVER",
        })),
        REGION_PATH => text(StatusCode::OK, config.region.clone()),
        "/latest/meta-data/placement/availability-zone" => {
            text(StatusCode::OK, config.zone.clone())
        }
        "/latest/dynamic/instance-identity/document" => json(&serde_json::json!({
            "accountId": account,
            "architecture": std::env::consts::ARCH,
            "availabilityZone": config.zone,
            "imageId": "ami-00000000000000000",
            "instanceId": "i-00000000000000000",
            "instanceType": "sigv4.credential-server",
            "pendingTime": rfc3339(0),
            "privateIp": config.bind_address.ip().to_string(),
            "region": config.region,
            "version": "2017-09-30",
        })),
        // `security-credentials-extended/` and every other path: as EC2 answers what it lacks,
        // so that the SDKs fall back to the plain route.
        _ => text(StatusCode::NOT_FOUND, "not found"),
    };
    (Route::Metadata, answer)
}

/// `PUT /latest/api/token`: a session token for the TTL asked (1..=21600 s).
fn issue_token(state: &State, method: &Method, headers: &HeaderMap) -> Answer {
    if method != Method::PUT {
        return text(StatusCode::METHOD_NOT_ALLOWED, "method not allowed");
    }
    // EC2 refuses a token to anything that came through a proxy: a request forwarded from
    // outside the host must not get one.
    if headers.contains_key("x-forwarded-for") {
        return text(StatusCode::FORBIDDEN, "forbidden");
    }
    let ttl = headers
        .get(TTL_HEADER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok())
        .filter(|ttl| (1..=MAX_TTL_SECS).contains(ttl));
    let Some(ttl) = ttl else {
        return text(
            StatusCode::BAD_REQUEST,
            "x-aws-ec2-metadata-token-ttl-seconds must be between 1 and 21600",
        );
    };
    let now = Instant::now();
    let issued = state
        .tokens
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .issue(now, now + Duration::from_secs(ttl));
    match issued {
        Ok(token) => {
            let mut answer = text(StatusCode::OK, token);
            answer
                .headers_mut()
                .insert(TTL_HEADER, header::HeaderValue::from(ttl));
            answer
        }
        Err(_) => text(
            StatusCode::SERVICE_UNAVAILABLE,
            "no random source for a token",
        ),
    }
}

/// The container endpoint: any path, `GET` with the configured `Authorization`.
async fn container(state: &State, method: &Method, headers: &HeaderMap) -> (Route, Answer) {
    if method != Method::GET {
        return (
            Route::Other,
            text(StatusCode::METHOD_NOT_ALLOWED, "method not allowed"),
        );
    }
    let expected = state
        .config
        .authorization_token
        .as_ref()
        .map_or(&[][..], |t| t.expose().as_bytes());
    let sent = headers
        .get(header::AUTHORIZATION)
        .map_or(&[][..], |v| v.as_bytes());
    // Compared in constant time: the token is a secret.
    if expected.is_empty() || !bool::from(sent.ct_eq(expected)) {
        return (Route::Other, text(StatusCode::UNAUTHORIZED, "unauthorized"));
    }
    (
        Route::Credentials,
        credentials(state, |s| s.container.as_str()).await,
    )
}

/// The served credentials' document, waiting for a fetch under way when none are valid; never
/// expired ones: without valid credentials, 500 with the upstream failure.
async fn credentials(state: &State, document: impl Fn(&crate::upstream::Served) -> &str) -> Answer {
    let mut upstream = state.upstream.clone();
    let deadline = tokio::time::Instant::now() + WAIT_FOR_FETCH;
    loop {
        let waiting = {
            let snapshot = upstream.borrow_and_update();
            let now = unix_seconds(std::time::SystemTime::now());
            if let Some(served) = snapshot.served.as_ref().filter(|s| s.valid_at(now)) {
                return json_text(document(served));
            }
            // Nothing fetched yet counts as a fetch under way (the refresher starts at once).
            if !snapshot.refreshing && snapshot.error.is_some() {
                return unavailable(snapshot.error.as_deref());
            }
            // Expired before their refresh was due (the clock jumped): fetch now.
            if !snapshot.refreshing && snapshot.served.is_some() {
                state.demand.notify_one();
            }
            snapshot.error.clone()
        };
        match tokio::time::timeout_at(deadline, upstream.changed()).await {
            Ok(Ok(())) => continue,
            _ => return unavailable(waiting.as_deref()),
        }
    }
}

fn unavailable(error: Option<&str>) -> Answer {
    let message = match error {
        Some(why) => format!("no valid credentials: the upstream failed: {why}"),
        None => "no valid credentials: the upstream has not answered yet".into(),
    };
    let mut answer = json(&serde_json::json!({
        "Code": "CredentialsUnavailable",
        "Message": message,
    }));
    *answer.status_mut() = StatusCode::INTERNAL_SERVER_ERROR;
    answer
}

fn text(status: StatusCode, body: impl Into<Bytes>) -> Answer {
    let mut answer = Response::new(Full::new(body.into()));
    *answer.status_mut() = status;
    answer.headers_mut().insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static("text/plain"),
    );
    answer
}

fn json(value: &serde_json::Value) -> Answer {
    json_text(&value.to_string())
}

fn json_text(body: &str) -> Answer {
    let mut answer = Response::new(Full::new(Bytes::copy_from_slice(body.as_bytes())));
    answer.headers_mut().insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static("application/json"),
    );
    answer
}
