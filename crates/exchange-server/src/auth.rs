//! Who a request comes from: an API key (`Authorization: ApiKey <key>`) or a SigV4 signature made
//! with an agent's key pair, checked by the core's verifier. Lookups are cached for at most a
//! second, so that a revocation on any replica takes effect everywhere within two.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use sigv4_core::{Payload, Request, Signer, VerifyParams, inspect};

use crate::keys;
use crate::store::{KeyKind, Principal, Store, StoreError};

/// The service name in the credential scope of an agent's SigV4-signed requests.
pub const SIGV4_SERVICE: &str = "exchange";

/// How long a lookup is reused: the revocation bound (2 s) less the time a request takes.
const CACHE_TTL: Duration = Duration::from_secs(1);

/// The most lookups cached; past it the cache starts again (each entry is a hash and a
/// principal, about 200 bytes).
const CACHE_MAX: usize = 100_000;

/// Why a request is not authenticated (its `code`, and what it says).
#[derive(Debug)]
pub enum Unauthenticated {
    /// No credential at all, or of an unknown scheme.
    Missing,
    /// A key that is not (or no longer) valid.
    InvalidKey,
    /// A SigV4 signature the verifier refuses, with its reason.
    Signature(sigv4_core::Rejection),
    /// The database failed.
    Store(StoreError),
}

impl Unauthenticated {
    pub fn code(&self) -> &'static str {
        match self {
            Unauthenticated::Missing => "missing_credentials",
            Unauthenticated::InvalidKey => "invalid_key",
            Unauthenticated::Signature(rejection) => rejection.code(),
            Unauthenticated::Store(_) => "unavailable",
        }
    }

    pub fn message(&self) -> String {
        match self {
            Unauthenticated::Missing => {
                "send Authorization: ApiKey <key>, or sign the request with SigV4".into()
            }
            Unauthenticated::InvalidKey => {
                "the key is not valid (unknown, expired or revoked)".into()
            }
            Unauthenticated::Signature(rejection) => rejection.to_string(),
            Unauthenticated::Store(_) => "the database is unavailable".into(),
        }
    }
}

/// Lookups of principals by key, reused for [`CACHE_TTL`].
#[derive(Default)]
pub struct Cache {
    entries: Mutex<HashMap<String, (Option<Principal>, Instant)>>,
}

impl Cache {
    /// The principal of a key (`lookup`: its hash, or an access key id), from the cache if it
    /// was looked up less than a second ago, else from the store.
    async fn principal(
        &self,
        store: &Store,
        lookup: &str,
        kind: KeyKind,
        now_ms: i64,
    ) -> Result<Option<Principal>, StoreError> {
        let fresh = |principal: &Option<Principal>| {
            principal
                .as_ref()
                .and_then(|p| p.expires_at)
                .is_none_or(|expires_at| expires_at > now_ms)
        };
        if let Some((principal, at)) = self.lock().get(lookup)
            && at.elapsed() < CACHE_TTL
            && fresh(principal)
        {
            return Ok(principal.clone());
        }
        let principal = match kind {
            KeyKind::Bearer => store.lookup_bearer(lookup, now_ms).await?,
            KeyKind::SigV4 => store.lookup_sigv4(lookup, now_ms).await?,
        };
        let mut entries = self.lock();
        if entries.len() >= CACHE_MAX {
            entries.clear();
        }
        entries.insert(lookup.to_string(), (principal.clone(), Instant::now()));
        Ok(principal)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, (Option<Principal>, Instant)>> {
        self.entries.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// A request as the verifier reads it.
pub struct Incoming<'a> {
    pub method: &'a str,
    /// The path and query, as sent.
    pub target: &'a str,
    pub headers: &'a [(&'a str, &'a str)],
    pub body: &'a [u8],
}

/// Authenticates a request: `ApiKey <key>`, else a SigV4 signature of an agent's key pair (with
/// `master_key` configured), checked at `now_ms` within the verifier's default skew.
pub async fn authenticate(
    store: &Store,
    cache: &Cache,
    master_key: Option<&[u8]>,
    request: &Incoming<'_>,
    now_ms: i64,
) -> Result<Principal, Unauthenticated> {
    let authorization = request
        .headers
        .iter()
        .find(|(name, _)| name.eq_ignore_ascii_case("authorization"))
        .map(|(_, value)| *value)
        .ok_or(Unauthenticated::Missing)?;
    if let Some(key) = strip_scheme(authorization, "ApiKey") {
        let principal = cache
            .principal(store, &keys::hash(key.trim()), KeyKind::Bearer, now_ms)
            .await
            .map_err(Unauthenticated::Store)?;
        return principal.ok_or(Unauthenticated::InvalidKey);
    }
    // Any other scheme (Basic, Bearer) is no credential of ours.
    let master_key = master_key
        .filter(|_| authorization.starts_with("AWS4-"))
        .ok_or(Unauthenticated::Missing)?;
    let signed = Request {
        method: request.method,
        uri: request.target,
        headers: request.headers,
        payload: Payload::Bytes(request.body),
    };
    // The claimed access key id first (the lookup is asynchronous, the verifier's is not).
    let claim = inspect(&signed).map_err(|rejection| match rejection {
        sigv4_core::Rejection::NotSigned => Unauthenticated::Missing,
        rejection => Unauthenticated::Signature(rejection),
    })?;
    let principal = cache
        .principal(store, claim.access_key_id, KeyKind::SigV4, now_ms)
        .await
        .map_err(Unauthenticated::Store)?
        .ok_or(Unauthenticated::InvalidKey)?;
    let secret = keys::sigv4_secret(master_key, claim.access_key_id);
    let now = sigv4_core::Timestamp::from_unix_seconds(u64::try_from(now_ms / 1000).unwrap_or(0))
        .map_err(|e| Unauthenticated::Signature(sigv4_core::Rejection::Invalid(e)))?;
    let params = VerifyParams {
        service: Some(SIGV4_SERVICE),
        ..VerifyParams::new(now)
    };
    Signer::new()
        .verify(&signed, &params, |id| {
            (id == claim.access_key_id).then_some(secret.expose())
        })
        .map_err(Unauthenticated::Signature)?;
    Ok(principal)
}

/// The credential after `scheme` and a space (the scheme in any case, as HTTP allows).
pub fn strip_scheme<'a>(authorization: &'a str, scheme: &str) -> Option<&'a str> {
    let (given, rest) = authorization.split_once(' ')?;
    given.eq_ignore_ascii_case(scheme).then_some(rest)
}
