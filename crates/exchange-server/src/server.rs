//! The HTTP API (documented in the crate's README): proof login, enrollment, `whoami`, and the
//! admin routes. Every refusal is JSON naming what was wrong: `{"error", "field", "message"}`.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Instant, SystemTime};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{ConnectInfo, DefaultBodyLimit, Path, State};
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use serde::Deserialize;
use serde_json::{Value, json};
use sigv4_serve::{PerClient, log, rfc3339, unix_millis};
use subtle::ConstantTimeEq;

use crate::auth::{self, Cache, Incoming, Unauthenticated, strip_scheme};
use crate::bindings::organization_for;
use crate::config::Config;
use crate::keys;
use crate::proof::{self, Proof};
use crate::store::{
    EnrollRefusal, KeyMaterial, NewEnrollmentToken, Principal, Store, StoreError, Subject,
};
use crate::sts::{self, StsError};

/// The largest request body read (a proof is under 8 KiB, an enrollment's metadata under 8).
const MAX_BODY: usize = 64 * 1024;

/// The largest agent metadata kept, as JSON.
const MAX_METADATA: usize = 8 * 1024;

/// The most client addresses rate-limited at once.
const MAX_CLIENTS: usize = 65_536;

/// The server's state, shared by every request.
pub struct App {
    pub config: Config,
    pub store: Store,
    cache: Cache,
    limits: Mutex<PerClient>,
}

impl App {
    pub fn new(config: Config, store: Store) -> App {
        let limits = Mutex::new(PerClient::new(config.rate_limit, MAX_CLIENTS));
        App {
            config,
            store,
            cache: Cache::default(),
            limits,
        }
    }
}

/// The routes.
pub fn router(app: Arc<App>) -> Router {
    Router::new()
        .route("/healthz", get(health))
        .route("/v1/login/aws", post(login))
        .route("/v1/enroll", post(enroll))
        .route("/v1/whoami", get(whoami))
        .route(
            "/v1/admin/enrollment-tokens",
            post(create_token).get(list_tokens),
        )
        .route("/v1/admin/enrollment-tokens/{id}", delete(revoke_token))
        .route("/v1/admin/agents", get(list_agents))
        .route("/v1/admin/agents/{id}", delete(revoke_agent))
        .route("/v1/admin/bindings", get(list_bindings))
        .fallback(not_found)
        .layer(DefaultBodyLimit::max(MAX_BODY))
        .layer(axum::middleware::from_fn_with_state(
            app.clone(),
            access_log,
        ))
        .with_state(app)
}

/// A refusal: its status, a stable code, the field at fault, and words for a person.
#[derive(Debug)]
pub struct Refusal {
    status: StatusCode,
    code: &'static str,
    field: Option<String>,
    message: String,
}

impl Refusal {
    fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Refusal {
        Refusal {
            status,
            code,
            field: None,
            message: message.into(),
        }
    }

    fn field(mut self, field: impl Into<String>) -> Refusal {
        self.field = Some(field.into());
        self
    }
}

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        let mut body = json!({"error": self.code, "message": self.message});
        if let Some(field) = self.field {
            body["field"] = Value::String(field);
        }
        (self.status, axum::Json(body)).into_response()
    }
}

impl From<StoreError> for Refusal {
    fn from(e: StoreError) -> Refusal {
        // The database's error is logged, not shown (it may name tables and hosts).
        log(json!({"event": "store_error", "error": e.to_string()}));
        Refusal::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "unavailable",
            "the database is unavailable",
        )
    }
}

fn now_ms() -> i64 {
    i64::try_from(unix_millis(SystemTime::now())).unwrap_or(i64::MAX)
}

/// An RFC 3339 time of Unix milliseconds.
fn time_text(ms: i64) -> String {
    rfc3339(u64::try_from(ms / 1000).unwrap_or(0))
}

/// One JSON line per request: no header, no body, no key.
async fn access_log(
    State(app): State<Arc<App>>,
    ConnectInfo(client): ConnectInfo<SocketAddr>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    if !app.config.access_log {
        return next.run(request).await;
    }
    let started = Instant::now();
    let (method, path) = (request.method().clone(), request.uri().path().to_string());
    let response = next.run(request).await;
    log(json!({
        "time": rfc3339(sigv4_serve::unix_seconds(SystemTime::now())),
        "client": client.ip().to_string(),
        "method": method.as_str(),
        "path": path,
        "status": response.status().as_u16(),
        "micros": u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX),
    }));
    response
}

async fn health() -> Response {
    axum::Json(json!({"status": "ok"})).into_response()
}

async fn not_found() -> Refusal {
    Refusal::new(StatusCode::NOT_FOUND, "not_found", "no such route")
}

/// Refuses a client over its rate on login and enroll.
fn limit(app: &App, client: SocketAddr) -> Result<(), Refusal> {
    let allowed = app
        .limits
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .take(client.ip(), Instant::now());
    if allowed {
        Ok(())
    } else {
        Err(Refusal::new(
            StatusCode::TOO_MANY_REQUESTS,
            "rate_limited",
            "too many requests from this address: retry later",
        ))
    }
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// `POST /v1/login/aws`: a proof (Vault's JSON body, or Datadog's `Authorization: Delegated`)
/// checked, remembered against replay, replayed to STS, its ARN bound to an organization: an API
/// key for it.
async fn login(
    State(app): State<Arc<App>>,
    ConnectInfo(client): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, Refusal> {
    limit(&app, client)?;
    let bad_proof = |e: proof::ProofError| {
        let field = e.field().to_string();
        Refusal::new(StatusCode::BAD_REQUEST, e.code(), e.to_string()).field(field)
    };
    let proof =
        match header(&headers, "authorization").and_then(|a| strip_scheme(a, "Delegated")) {
            Some(_) => {
                Proof::from_delegated_header(header(&headers, "authorization").unwrap_or_default())
            }
            None => Proof::from_vault_json(&body),
        }
        .map_err(bad_proof)?;
    let now = now_ms();
    let checked = proof::check(
        &proof,
        &app.config.policy,
        u64::try_from(now / 1000).unwrap_or(0),
    )
    .map_err(bad_proof)?;
    let until = i64::try_from(checked.valid_until.saturating_mul(1000)).unwrap_or(i64::MAX);
    // By access key id and signature: the signature does not cover the key id, and two
    // proofs of one second by different keys sharing a secret would share it.
    let seen = format!("{}/{}", checked.access_key_id, checked.signature);
    if !app.store.remember_proof(&seen, until, now).await? {
        return Err(Refusal::new(
            StatusCode::UNAUTHORIZED,
            "replayed",
            "this proof was used before: sign a new one",
        ));
    }
    let timeout = app.config.sts_timeout;
    let identity = tokio::task::spawn_blocking(move || sts::replay(&checked, timeout))
        .await
        .map_err(|_| {
            Refusal::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                "STS replay failed",
            )
        })?
        .map_err(sts_refusal)?;
    let role = sts::role_arn(&identity.arn);
    let arn = role.clone().unwrap_or_else(|| identity.arn.clone());
    let arns: Vec<&str> = [Some(identity.arn.as_str()), role.as_deref()]
        .into_iter()
        .flatten()
        .collect();
    let Some(binding) = organization_for(&app.config.bindings, &arns) else {
        return Err(Refusal::new(
            StatusCode::FORBIDDEN,
            "no_binding",
            format!("{arn} is bound to no organization"),
        ));
    };
    let key = keys::api_key().map_err(random_failed)?;
    let ttl = i64::try_from(app.config.key_ttl.as_millis()).unwrap_or(i64::MAX);
    let grace = i64::try_from(app.config.grace.as_millis()).unwrap_or(i64::MAX);
    let expires_at = now.saturating_add(ttl);
    app.store
        .issue_login_key(
            &arn,
            &binding.organization,
            &keys::hash(key.expose()),
            expires_at,
            grace,
            now,
        )
        .await?;
    Ok(axum::Json(json!({
        "api_key": key.expose(),
        "expires_at": time_text(expires_at),
        "arn": arn,
        "organization": binding.organization,
    }))
    .into_response())
}

fn sts_refusal(e: StsError) -> Refusal {
    match &e {
        StsError::Refused { code, message } => Refusal::new(
            StatusCode::UNAUTHORIZED,
            "sts_refused",
            format!("STS refused the proof: {code}: {message}"),
        ),
        _ => Refusal::new(StatusCode::BAD_GATEWAY, e.code(), format!("STS: {e}")),
    }
}

fn random_failed(_: keys::RandomUnavailable) -> Refusal {
    Refusal::new(
        StatusCode::SERVICE_UNAVAILABLE,
        "unavailable",
        "no random numbers: nothing can be issued",
    )
}

/// The body of `POST /v1/enroll`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Enrollment {
    agent_id: String,
    #[serde(default)]
    metadata: Option<serde_json::Map<String, Value>>,
    #[serde(default)]
    key_type: Option<String>,
    #[serde(default)]
    replace_token: Option<String>,
}

/// Reads a JSON body; a mistake names its field: the path to a value of the wrong type, or the
/// field missing or unknown (else `body`).
fn json_body<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, Refusal> {
    let mut json = serde_json::Deserializer::from_slice(body);
    serde_path_to_error::deserialize(&mut json).map_err(|e| {
        let path = e.path().to_string();
        let message = e.inner().to_string();
        let named = ["missing field `", "unknown field `"]
            .iter()
            .find_map(|prefix| message.strip_prefix(prefix))
            .and_then(|rest| rest.split('`').next());
        let field = match (path.as_str(), named) {
            ("." | "", Some(name)) => name.to_string(),
            ("." | "", None) => "body".to_string(),
            (path, _) => path.to_string(),
        };
        Refusal::new(StatusCode::BAD_REQUEST, "malformed", message).field(field)
    })
}

/// Whether an agent id is one we keep: 1 to 128 of `A-Za-z0-9._:-`.
fn valid_agent_id(id: &str) -> bool {
    (1..=128).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b':' | b'-'))
}

/// `POST /v1/enroll` with `Authorization: ApiKey <enrollment token>`: the agent recorded, its
/// own key returned once with a replace token (or, with its replace token, enrolled again).
async fn enroll(
    State(app): State<Arc<App>>,
    ConnectInfo(client): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, Refusal> {
    limit(&app, client)?;
    let token = header(&headers, "authorization")
        .and_then(|a| strip_scheme(a, "ApiKey"))
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .ok_or_else(|| {
            Refusal::new(
                StatusCode::UNAUTHORIZED,
                "missing_credentials",
                "send Authorization: ApiKey <enrollment token>",
            )
            .field("authorization")
        })?;
    let request: Enrollment = json_body(&body)?;
    if !valid_agent_id(&request.agent_id) {
        return Err(Refusal::new(
            StatusCode::BAD_REQUEST,
            "malformed",
            "agent_id: 1 to 128 of A-Z a-z 0-9 . _ : -",
        )
        .field("agent_id"));
    }
    let metadata = Value::Object(request.metadata.unwrap_or_default()).to_string();
    if metadata.len() > MAX_METADATA {
        return Err(Refusal::new(
            StatusCode::BAD_REQUEST,
            "too_large",
            "metadata: at most 8 KiB of JSON",
        )
        .field("metadata"));
    }
    let sigv4 = match request.key_type.as_deref() {
        None | Some("bearer") => false,
        Some("sigv4") if app.config.master_key.is_some() => true,
        Some("sigv4") => {
            return Err(Refusal::new(
                StatusCode::BAD_REQUEST,
                "sigv4_keys_disabled",
                "this server issues bearer keys only (no master key configured)",
            )
            .field("key_type"));
        }
        Some(_) => {
            return Err(Refusal::new(
                StatusCode::BAD_REQUEST,
                "malformed",
                "key_type: bearer or sigv4",
            )
            .field("key_type"));
        }
    };
    let now = now_ms();
    let used = app
        .store
        .use_enrollment_token(&keys::hash(token), now)
        .await?
        .map_err(|refusal| enroll_refusal(refusal, "authorization"))?;
    let replace = keys::replace_token().map_err(random_failed)?;
    let (material, issued) = if sigv4 {
        let id = keys::access_key_id().map_err(random_failed)?;
        let master = app
            .config
            .master_key
            .as_ref()
            .map(|k| k.expose().as_bytes())
            .unwrap_or_default();
        let secret = keys::sigv4_secret(master, &id);
        let issued = json!({"access_key_id": id, "secret_access_key": secret.expose()});
        (KeyMaterial::SigV4 { access_key_id: id }, issued)
    } else {
        let key = keys::api_key().map_err(random_failed)?;
        let issued = json!({"api_key": key.expose()});
        (
            KeyMaterial::Bearer {
                hash: keys::hash(key.expose()),
            },
            issued,
        )
    };
    let replace_hash = keys::hash(replace.expose());
    let organization = match &request.replace_token {
        None => {
            app.store
                .enroll_agent(
                    &request.agent_id,
                    &used,
                    &metadata,
                    &material,
                    &replace_hash,
                    now,
                )
                .await?
                .map_err(|refusal| enroll_refusal(refusal, "agent_id"))?;
            used.organization.clone()
        }
        Some(old) => app
            .store
            .reenroll_agent(
                &request.agent_id,
                &keys::hash(old),
                &metadata,
                &material,
                &replace_hash,
                now,
            )
            .await?
            .map_err(|refusal| enroll_refusal(refusal, "replace_token"))?,
    };
    let mut answer = json!({
        "agent_id": request.agent_id,
        "organization": organization,
        "key_type": if sigv4 { "sigv4" } else { "bearer" },
        "replace_token": replace.expose(),
    });
    if let (Value::Object(answer), Value::Object(issued)) = (&mut answer, issued) {
        answer.extend(issued);
    }
    Ok(axum::Json(answer).into_response())
}

fn enroll_refusal(refusal: EnrollRefusal, field: &str) -> Refusal {
    let (status, code) = match refusal {
        EnrollRefusal::UnknownToken => (StatusCode::UNAUTHORIZED, "unknown_token"),
        EnrollRefusal::TokenRevoked => (StatusCode::UNAUTHORIZED, "token_revoked"),
        EnrollRefusal::TokenExpired => (StatusCode::UNAUTHORIZED, "token_expired"),
        EnrollRefusal::TokenExhausted => (StatusCode::UNAUTHORIZED, "token_exhausted"),
        EnrollRefusal::AlreadyEnrolled => (StatusCode::CONFLICT, "already_enrolled"),
        EnrollRefusal::UnknownAgent => (StatusCode::NOT_FOUND, "unknown_agent"),
        EnrollRefusal::AgentRevoked => (StatusCode::FORBIDDEN, "agent_revoked"),
        EnrollRefusal::BadReplaceToken => (StatusCode::UNAUTHORIZED, "bad_replace_token"),
    };
    Refusal::new(status, code, refusal.to_string()).field(field)
}

/// `GET /v1/whoami`: who the key or signature belongs to.
async fn whoami(
    State(app): State<Arc<App>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, Refusal> {
    let principal = authenticate(&app, &method, &uri, &headers, &body).await?;
    let mut answer = json!({
        "organization": principal.organization,
        "expires_at": principal.expires_at.map(time_text),
        "key_type": principal.kind.as_str(),
    });
    match principal.subject {
        Subject::Agent(id) => answer["agent_id"] = Value::String(id),
        Subject::Arn(arn) => answer["arn"] = Value::String(arn),
    }
    Ok(axum::Json(answer).into_response())
}

/// The request's principal, or a 401 naming why not.
async fn authenticate(
    app: &App,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<Principal, Refusal> {
    let pairs: Vec<(&str, &str)> = headers
        .iter()
        .filter_map(|(name, value)| Some((name.as_str(), value.to_str().ok()?)))
        .collect();
    let target = uri.path_and_query().map_or("/", |p| p.as_str());
    let incoming = Incoming {
        method: method.as_str(),
        target,
        headers: &pairs,
        body,
    };
    let master = app
        .config
        .master_key
        .as_ref()
        .map(|k| k.expose().as_bytes());
    auth::authenticate(&app.store, &app.cache, master, &incoming, now_ms())
        .await
        .map_err(|e| match e {
            Unauthenticated::Store(e) => Refusal::from(e),
            e => {
                Refusal::new(StatusCode::UNAUTHORIZED, e.code(), e.message()).field("authorization")
            }
        })
}

/// Refuses a request without the configured admin token (`Authorization: Bearer <token>`).
fn admin(app: &App, headers: &HeaderMap) -> Result<(), Refusal> {
    let Some(expected) = app.config.admin_token_sha256 else {
        return Err(Refusal::new(
            StatusCode::FORBIDDEN,
            "admin_disabled",
            "no admin token is configured",
        ));
    };
    let given = header(headers, "authorization").and_then(|a| strip_scheme(a, "Bearer"));
    let ok = given.is_some_and(|token| {
        use sha2::Digest;
        let hash: [u8; 32] = sha2::Sha256::digest(token.trim().as_bytes()).into();
        bool::from(hash.ct_eq(&expected))
    });
    if ok {
        Ok(())
    } else {
        Err(Refusal::new(
            StatusCode::UNAUTHORIZED,
            "invalid_admin_token",
            "send Authorization: Bearer <admin token>",
        )
        .field("authorization"))
    }
}

/// The body of `POST /v1/admin/enrollment-tokens`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewToken {
    name: String,
    organization: String,
    /// Seconds from now.
    #[serde(default)]
    expires_in: Option<u64>,
    #[serde(default)]
    max_uses: Option<u32>,
}

async fn create_token(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, Refusal> {
    admin(&app, &headers)?;
    let request: NewToken = json_body(&body)?;
    for (field, value) in [
        ("name", &request.name),
        ("organization", &request.organization),
    ] {
        if value.is_empty() || value.len() > 128 || value.chars().any(char::is_control) {
            return Err(Refusal::new(
                StatusCode::BAD_REQUEST,
                "malformed",
                format!("{field}: 1 to 128 printable characters"),
            )
            .field(field));
        }
    }
    if request.max_uses == Some(0) {
        return Err(
            Refusal::new(StatusCode::BAD_REQUEST, "malformed", "max_uses: at least 1")
                .field("max_uses"),
        );
    }
    let now = now_ms();
    let expires_at = match request.expires_in {
        Some(0) => {
            return Err(Refusal::new(
                StatusCode::BAD_REQUEST,
                "malformed",
                "expires_in: at least 1 second",
            )
            .field("expires_in"));
        }
        Some(secs) => {
            Some(now.saturating_add(i64::try_from(secs.saturating_mul(1000)).unwrap_or(i64::MAX)))
        }
        None => None,
    };
    let token = keys::enrollment_token().map_err(random_failed)?;
    let created = app
        .store
        .create_enrollment_token(
            &NewEnrollmentToken {
                id: keys::public_id().map_err(random_failed)?,
                name: request.name,
                organization: request.organization,
                token_hash: keys::hash(token.expose()),
                expires_at,
                use_limit: request.max_uses.map(i64::from),
            },
            now,
        )
        .await?;
    let mut answer = token_json(&created);
    answer["token"] = Value::String(token.expose().to_string());
    Ok((StatusCode::CREATED, axum::Json(answer)).into_response())
}

fn token_json(token: &crate::store::EnrollmentToken) -> Value {
    json!({
        "id": token.id,
        "name": token.name,
        "organization": token.organization,
        "created_at": time_text(token.created_at),
        "expires_at": token.expires_at.map(time_text),
        "max_uses": token.use_limit,
        "uses": token.uses,
        "revoked_at": token.revoked_at.map(time_text),
    })
}

async fn list_tokens(State(app): State<Arc<App>>, headers: HeaderMap) -> Result<Response, Refusal> {
    admin(&app, &headers)?;
    let tokens = app.store.list_enrollment_tokens().await?;
    let tokens: Vec<Value> = tokens.iter().map(token_json).collect();
    Ok(axum::Json(json!({"enrollment_tokens": tokens})).into_response())
}

async fn revoke_token(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Response, Refusal> {
    admin(&app, &headers)?;
    if app.store.revoke_enrollment_token(&id, now_ms()).await? {
        Ok(axum::Json(json!({"id": id, "revoked": true})).into_response())
    } else {
        Err(Refusal::new(
            StatusCode::NOT_FOUND,
            "unknown_token",
            "no unrevoked enrollment token has this id",
        )
        .field("id"))
    }
}

async fn list_agents(State(app): State<Arc<App>>, headers: HeaderMap) -> Result<Response, Refusal> {
    admin(&app, &headers)?;
    let agents = app.store.list_agents().await?;
    let agents: Vec<Value> = agents
        .iter()
        .map(|agent| {
            json!({
                "agent_id": agent.id,
                "organization": agent.organization,
                "metadata": serde_json::from_str::<Value>(&agent.metadata_json).unwrap_or(Value::Null),
                "enrolled_with": agent.enrolled_with,
                "enrolled_at": time_text(agent.enrolled_at),
                "updated_at": time_text(agent.updated_at),
                "revoked_at": agent.revoked_at.map(time_text),
                "key_type": agent.key_kind.map(|k| k.as_str()),
            })
        })
        .collect();
    Ok(axum::Json(json!({"agents": agents})).into_response())
}

async fn revoke_agent(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Response, Refusal> {
    admin(&app, &headers)?;
    if app.store.revoke_agent(&id, now_ms()).await? {
        Ok(axum::Json(json!({"agent_id": id, "revoked": true})).into_response())
    } else {
        Err(Refusal::new(
            StatusCode::NOT_FOUND,
            "unknown_agent",
            "no unrevoked agent has this id",
        )
        .field("id"))
    }
}

async fn list_bindings(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
) -> Result<Response, Refusal> {
    admin(&app, &headers)?;
    let bindings: Vec<Value> = app
        .config
        .bindings
        .iter()
        .map(|b| json!({"arn_pattern": b.pattern, "organization": b.organization}))
        .collect();
    Ok(axum::Json(json!({"bindings": bindings})).into_response())
}
