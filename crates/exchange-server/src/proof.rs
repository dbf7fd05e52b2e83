//! A cloud-auth proof: an STS `GetCallerIdentity` request signed by the agent and handed to us,
//! which we replay to STS to learn who signed it. Before replaying it we check that it can only
//! be that call, to an STS endpoint we trust, for our audience, recently signed: a proof is a
//! signed request, and replaying anything else would make us the caller's proxy.
//!
//! Two shapes are read:
//! - Vault's AWS IAM login ([`Proof::from_vault_json`]);
//! - Datadog's `Authorization: Delegated ...` header ([`Proof::from_delegated_header`]).
//!
//! [`check`] runs the rules in a fixed order, one function per rule (as Vault's
//! `path_login.go` does); each failure is a [`ProofError`] naming the rule ([`ProofError::code`])
//! and the field ([`ProofError::field`]). No error, and no `Debug` of a proof, shows the value of
//! `Authorization` or `X-Amz-Security-Token`.

use std::collections::BTreeMap;
use std::fmt;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde::Deserialize;
use serde::de::{Deserializer, MapAccess, Visitor};
use sigv4_core::{Algorithm, Claimed, Payload, Rejection, Request, inspect};
use subtle::ConstantTimeEq;

/// A body over this is refused (`Action=GetCallerIdentity&Version=2011-06-15` is 43 bytes).
pub const MAX_BODY: usize = 8 * 1024;
/// More headers than this are refused (a signed `GetCallerIdentity` has about 8).
pub const MAX_HEADERS: usize = 64;
/// A URL over this is refused.
pub const MAX_URL: usize = 2 * 1024;
/// How far `X-Amz-Date` may be from now, either way, by default: 15 minutes, as STS allows.
pub const DEFAULT_MAX_AGE_SECS: u64 = 900;

/// The only `X-Amz-*` headers a `GetCallerIdentity` needs. Any other could change what STS does
/// with the request (`X-Amz-Target` names another operation in the JSON protocols).
const AMZ_HEADERS: [&str; 4] = [
    "x-amz-date",
    "x-amz-security-token",
    "x-amz-content-sha256",
    "x-amz-user-agent",
];

/// Headers whose values are secrets: never shown.
const SECRET_HEADERS: [&str; 2] = ["authorization", "x-amz-security-token"];

/// A signed request, as the agent sent it to us.
#[derive(Clone, PartialEq, Eq)]
pub struct Proof {
    /// The HTTP method.
    pub method: String,
    /// The absolute URL.
    pub url: String,
    /// Header names and values, in the order given; a name given twice is kept twice (and
    /// refused by [`check`]).
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: Vec<u8>,
}

impl fmt::Debug for Proof {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Proof")
            .field("method", &self.method)
            .field("url", &self.url)
            .field("headers", &Redacted(&self.headers))
            .field("body", &String::from_utf8_lossy(&self.body))
            .finish()
    }
}

/// Headers shown with the values of `Authorization` and `X-Amz-Security-Token` hidden.
struct Redacted<'a>(&'a [(String, String)]);

impl fmt::Debug for Redacted<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut list = f.debug_list();
        for (name, value) in self.0 {
            let secret = SECRET_HEADERS.iter().any(|s| name.eq_ignore_ascii_case(s));
            let shown = if secret { "<redacted>" } else { value.as_str() };
            list.entry(&(name, shown));
        }
        list.finish()
    }
}

/// Vault's login fields. `role` and any other field are ignored, as Vault ignores them.
#[derive(Deserialize)]
struct VaultLogin {
    iam_http_request_method: Option<serde_json::Value>,
    iam_request_url: Option<serde_json::Value>,
    iam_request_body: Option<serde_json::Value>,
    iam_request_headers: Option<serde_json::Value>,
}

impl Proof {
    /// Reads Vault's AWS IAM login body: `iam_http_request_method` (plain), `iam_request_url`,
    /// `iam_request_body` and `iam_request_headers` (each standard base64, padded, as Go's
    /// `base64.StdEncoding` writes it); the headers decode to a JSON object whose values are a
    /// string or an array of strings (Vault accepts both). All four are required.
    pub fn from_vault_json(json: &[u8]) -> Result<Proof, ProofError> {
        let login: VaultLogin = serde_json::from_slice(json).map_err(|_| malformed("login"))?;
        let text = |value: Option<serde_json::Value>, field: &'static str| match value {
            None => Err(ProofError::Missing { field }),
            Some(serde_json::Value::String(s)) => Ok(s),
            Some(_) => Err(malformed(field)),
        };
        let method = text(login.iam_http_request_method, "iam_http_request_method")?;
        let url = text(login.iam_request_url, "iam_request_url")?;
        let body = text(login.iam_request_body, "iam_request_body")?;
        let headers = text(login.iam_request_headers, "iam_request_headers")?;
        let proof = Proof {
            method,
            url: utf8(decode(&url, "iam_request_url", MAX_URL)?, "iam_request_url")?,
            headers: headers_json(
                &decode(&headers, "iam_request_headers", usize::MAX)?,
                "iam_request_headers",
            )?,
            body: decode(&body, "iam_request_body", MAX_BODY)?,
        };
        limits(&proof)?;
        Ok(proof)
    }

    /// Reads Datadog's header value `Delegated <b64(body)>|<b64(headers)>|POST|<b64(url)>`, as
    /// the Datadog Agent (`comp/core/delegatedauth/api/cloudauth/aws`) and its API clients send it
    /// in `Authorization`. Found there (reference 000 is the pull request's discussion and does
    /// not spell out the encoding): standard base64 with padding (Go's `base64.StdEncoding`); the
    /// headers are Go's `http.Header` marshalled, a JSON object of name -> array of values, names
    /// in Go's canonical case (`X-Ddog-Org-Id`, `X-Amz-Date`, `Host`); the URL is
    /// `https://sts.amazonaws.com` or `https://sts.REGION.amazonaws.com`, without a path. A string
    /// value is accepted too, as for Vault's shape. The scheme `Delegated` is matched in any case
    /// (HTTP authentication schemes are case-insensitive).
    pub fn from_delegated_header(value: &str) -> Result<Proof, ProofError> {
        let value = value.trim();
        let proof = match value.split_once(' ') {
            Some((scheme, rest)) if scheme.eq_ignore_ascii_case("Delegated") => rest,
            _ => return Err(malformed("delegated")),
        };
        let parts: Vec<&str> = proof.split('|').collect();
        let [body, headers, method, url] = parts.as_slice() else {
            return Err(malformed("delegated"));
        };
        let proof = Proof {
            method: (*method).to_string(),
            url: utf8(decode(url, "delegated.url", MAX_URL)?, "delegated.url")?,
            headers: headers_json(
                &decode(headers, "delegated.headers", usize::MAX)?,
                "delegated.headers",
            )?,
            body: decode(body, "delegated.body", MAX_BODY)?,
        };
        limits(&proof)?;
        Ok(proof)
    }

    /// The value of the header `name` (any case) when it is there once; `Err` naming it when it
    /// is there twice.
    fn header(&self, name: &str) -> Result<Option<&str>, ProofError> {
        let mut found = self
            .headers
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case(name));
        let first = found.next().map(|(_, v)| v.as_str());
        if found.next().is_some() {
            return Err(ProofError::RepeatedHeader {
                name: name.to_ascii_lowercase(),
            });
        }
        Ok(first)
    }
}

/// Standard base64 (padded), refused past `limit` decoded bytes (a text too long for that is
/// refused before it is decoded).
fn decode(text: &str, field: &'static str, limit: usize) -> Result<Vec<u8>, ProofError> {
    let too_large = ProofError::TooLarge { field, limit };
    if text.len() / 4 > limit / 3 + 1 {
        return Err(too_large);
    }
    let bytes = STANDARD.decode(text).map_err(|_| malformed(field))?;
    if bytes.len() > limit {
        return Err(too_large);
    }
    Ok(bytes)
}

fn utf8(bytes: Vec<u8>, field: &'static str) -> Result<String, ProofError> {
    String::from_utf8(bytes).map_err(|_| malformed(field))
}

/// One header's values: a string, or an array of strings (each a header line).
#[derive(Deserialize)]
#[serde(untagged)]
enum Values {
    One(String),
    Many(Vec<String>),
}

/// A JSON object of headers, kept in order and with repeated names (a map would keep one of
/// two `Host` keys silently; [`check`] refuses both instead).
struct HeaderList(Vec<(String, String)>);

impl<'de> Deserialize<'de> for HeaderList {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct List;
        impl<'de> Visitor<'de> for List {
            type Value = HeaderList;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an object of header names to a string or an array of strings")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<HeaderList, A::Error> {
                let mut headers = Vec::new();
                while let Some((name, values)) = map.next_entry::<String, Values>()? {
                    match values {
                        Values::One(value) => headers.push((name, value)),
                        Values::Many(values) if values.is_empty() => {
                            return Err(serde::de::Error::custom("a header without a value"));
                        }
                        Values::Many(values) => {
                            headers.extend(values.into_iter().map(|v| (name.clone(), v)));
                        }
                    }
                    if headers.len() > MAX_HEADERS {
                        return Err(serde::de::Error::custom("too many headers"));
                    }
                }
                Ok(HeaderList(headers))
            }
        }
        deserializer.deserialize_map(List)
    }
}

fn headers_json(json: &[u8], field: &'static str) -> Result<Vec<(String, String)>, ProofError> {
    // serde's reasons quote no values, but they are not ours to pass on: the field is enough.
    match serde_json::from_slice::<HeaderList>(json) {
        Ok(HeaderList(headers)) => Ok(headers),
        Err(e) if e.to_string().starts_with("too many headers") => Err(ProofError::TooLarge {
            field,
            limit: MAX_HEADERS,
        }),
        Err(_) => Err(malformed(field)),
    }
}

fn malformed(field: &'static str) -> ProofError {
    ProofError::Malformed { field }
}

/// Where a proof may be sent: STS endpoints by partition, and what it must carry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProofPolicy {
    /// The STS hosts trusted, by partition (`aws`, `aws-cn`, `aws-us-gov`): `host` or
    /// `host:port`, compared lowercased with the scheme's default port left out. A host listed in
    /// two partitions belongs to the first.
    pub partitions: Vec<PartitionHosts>,
    /// The header that names us as the proof's audience (`X-Vault-AWS-IAM-Server-ID`,
    /// `X-Ddog-Org-Id`, ...): required, once, signed, so a proof made for another service cannot
    /// be replayed to us.
    pub audience_header: String,
    /// Its value.
    pub audience: String,
    /// How far `X-Amz-Date` may be from now, either way, in seconds.
    pub max_age_secs: u64,
    /// Whether `http://` endpoints are allowed (tests against a local STS such as moto).
    pub allow_http: bool,
    /// The `Version` values allowed in the body (`2011-06-15`).
    pub versions: Vec<String>,
    /// The region of each allowlisted host whose name does not say it (`127.0.0.1:5000` ->
    /// `us-east-1`, a VPC endpoint's name). Looked up first, so it also overrides what a name
    /// says. A per-host map rather than one default region: a default would silently apply to a
    /// host added later.
    pub regions: BTreeMap<String, String>,
}

/// One partition's STS hosts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PartitionHosts {
    /// `aws`, `aws-cn`, `aws-us-gov`.
    pub partition: String,
    /// `host` or `host:port`.
    pub hosts: Vec<String>,
}

impl ProofPolicy {
    /// A policy for an audience, with no host trusted yet, 15 minutes of age, HTTPS only and
    /// `Version=2011-06-15`.
    pub fn new(audience_header: &str, audience: &str) -> ProofPolicy {
        ProofPolicy {
            partitions: Vec::new(),
            audience_header: audience_header.to_string(),
            audience: audience.to_string(),
            max_age_secs: DEFAULT_MAX_AGE_SECS,
            allow_http: false,
            versions: vec!["2011-06-15".to_string()],
            regions: BTreeMap::new(),
        }
    }
}

/// A proof that passed [`check`]: what to replay and what it claims.
#[derive(Clone, PartialEq, Eq)]
pub struct Checked {
    /// The URL to send it to.
    pub url: String,
    /// Its headers, as given.
    pub headers: Vec<(String, String)>,
    /// Its body.
    pub body: Vec<u8>,
    /// The partition the URL's host is listed in.
    pub partition: String,
    /// The region of the endpoint (and of the credential scope).
    pub region: String,
    /// The access key id that signed it.
    pub access_key_id: String,
    /// The claimed signature, lowercase hex: the replay cache's key.
    pub signature: String,
    /// The signing time, Unix seconds.
    pub signed_at: u64,
    /// `signed_at + max_age_secs`: after this the proof fails the time check, so a replay cache
    /// may forget its signature then.
    pub valid_until: u64,
}

impl fmt::Debug for Checked {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Checked")
            .field("url", &self.url)
            .field("headers", &Redacted(&self.headers))
            .field("body", &String::from_utf8_lossy(&self.body))
            .field("partition", &self.partition)
            .field("region", &self.region)
            .field("access_key_id", &self.access_key_id)
            .field("signed_at", &self.signed_at)
            .field("valid_until", &self.valid_until)
            .finish_non_exhaustive()
    }
}

/// Why a proof is refused. Never holds the value of `Authorization` or `X-Amz-Security-Token`
/// (the audience's expected value is not shown either).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ProofError {
    /// A required field is not there.
    Missing {
        /// Which.
        field: &'static str,
    },
    /// A field is not what its shape requires (JSON, base64, UTF-8, the `Delegated` layout).
    Malformed {
        /// Which.
        field: &'static str,
    },
    /// A field is over its limit.
    TooLarge {
        /// Which.
        field: &'static str,
        /// The limit: bytes, or headers for the headers.
        limit: usize,
    },
    /// The method is not `POST`.
    Method,
    /// The URL is not `scheme://authority[/]`: which part is wrong (`scheme`, `authority`,
    /// `query`, `fragment`, `path`).
    Url {
        /// Which part.
        part: &'static str,
    },
    /// The URL's host is not on the STS allowlist.
    HostNotAllowed {
        /// The host, lowercased, without its default port.
        host: String,
    },
    /// The body is not `Action=GetCallerIdentity` (and `Version`): what is wrong.
    Body {
        /// `action`, `version`, or `key` (a key other than those two).
        reason: &'static str,
    },
    /// `Content-Type` is missing or not `application/x-www-form-urlencoded`.
    ContentType,
    /// A header name or value that cannot be sent (not a token, a control character).
    InvalidHeader {
        /// The header's name (`headers` when the name itself is the problem).
        name: String,
    },
    /// An `X-Amz-*` header outside the four a `GetCallerIdentity` needs.
    HeaderNotAllowed {
        /// Its name, lowercased.
        name: String,
    },
    /// A header given twice.
    RepeatedHeader {
        /// Its name, lowercased.
        name: String,
    },
    /// The `Authorization` header does not read as a SigV4 signature (the core's reason).
    Authorization(Rejection),
    /// Signed with SigV4a; STS takes SigV4.
    Algorithm,
    /// The credential scope names another service than `sts`.
    Service {
        /// The scope's service.
        service: String,
    },
    /// A header that must be signed is not among `SignedHeaders`.
    NotSigned {
        /// Its name, lowercased.
        name: String,
    },
    /// The `Host` header names another host than the URL.
    HostMismatch,
    /// The audience header is not there.
    AudienceMissing {
        /// The configured header name.
        name: String,
    },
    /// The audience header has another value than ours.
    AudienceMismatch {
        /// The configured header name.
        name: String,
    },
    /// `X-Amz-Date` is further from now than allowed.
    OutsideTimeWindow {
        /// The signing time, Unix seconds.
        signed_at: u64,
        /// Now, Unix seconds.
        now: u64,
    },
    /// The credential scope's region is not the endpoint's.
    RegionMismatch {
        /// The scope's region.
        scope: String,
        /// The endpoint's region.
        endpoint: String,
    },
    /// An allowlisted host whose region is neither in its name nor in the policy's `regions`.
    UnknownRegion {
        /// The host.
        host: String,
    },
}

impl ProofError {
    /// A stable name for the rule that failed, in snake case.
    pub fn code(&self) -> &'static str {
        match self {
            ProofError::Missing { .. } => "missing",
            ProofError::Malformed { .. } => "malformed",
            ProofError::TooLarge { .. } => "too_large",
            ProofError::Method => "method",
            ProofError::Url { .. } => "url",
            ProofError::HostNotAllowed { .. } => "host_not_allowed",
            ProofError::Body { .. } => "body",
            ProofError::ContentType => "content_type",
            ProofError::InvalidHeader { .. } => "invalid_header",
            ProofError::HeaderNotAllowed { .. } => "header_not_allowed",
            ProofError::RepeatedHeader { .. } => "repeated_header",
            ProofError::Authorization(_) => "authorization",
            ProofError::Algorithm => "algorithm",
            ProofError::Service { .. } => "service",
            ProofError::NotSigned { .. } => "not_signed",
            ProofError::HostMismatch => "host_mismatch",
            ProofError::AudienceMissing { .. } => "audience_missing",
            ProofError::AudienceMismatch { .. } => "audience_mismatch",
            ProofError::OutsideTimeWindow { .. } => "outside_time_window",
            ProofError::RegionMismatch { .. } => "region_mismatch",
            ProofError::UnknownRegion { .. } => "unknown_region",
        }
    }

    /// What was wrong: a field of the proof's shape (`iam_request_headers`, `delegated.url`),
    /// `method`, `url`, `body`, or a header's name.
    pub fn field(&self) -> &str {
        match self {
            ProofError::Missing { field }
            | ProofError::Malformed { field }
            | ProofError::TooLarge { field, .. } => field,
            ProofError::Method => "method",
            ProofError::Url { .. } | ProofError::HostNotAllowed { .. } => "url",
            ProofError::UnknownRegion { .. } => "url",
            ProofError::Body { .. } => "body",
            ProofError::ContentType => "content-type",
            ProofError::InvalidHeader { name }
            | ProofError::HeaderNotAllowed { name }
            | ProofError::RepeatedHeader { name }
            | ProofError::NotSigned { name } => name,
            ProofError::Authorization(_)
            | ProofError::Algorithm
            | ProofError::Service { .. }
            | ProofError::RegionMismatch { .. } => "authorization",
            ProofError::HostMismatch => "host",
            ProofError::AudienceMissing { name } | ProofError::AudienceMismatch { name } => name,
            ProofError::OutsideTimeWindow { .. } => "x-amz-date",
        }
    }
}

impl fmt::Display for ProofError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ProofError::Missing { field } => write!(f, "{field} is missing"),
            ProofError::Malformed { field } => write!(f, "{field} is malformed"),
            ProofError::TooLarge { field, limit } => write!(f, "{field} is over {limit}"),
            ProofError::Method => f.write_str("the method is not POST"),
            ProofError::Url { part } => write!(f, "the URL's {part} is not allowed"),
            ProofError::HostNotAllowed { host } => {
                write!(f, "{host} is not an allowed STS endpoint")
            }
            ProofError::Body { reason } => write!(
                f,
                "the body is not Action=GetCallerIdentity with an allowed Version ({reason})"
            ),
            ProofError::ContentType => {
                f.write_str("content-type is not application/x-www-form-urlencoded")
            }
            ProofError::InvalidHeader { name } => write!(f, "the header {name} cannot be sent"),
            ProofError::HeaderNotAllowed { name } => write!(f, "the header {name} is not allowed"),
            ProofError::RepeatedHeader { name } => write!(f, "the header {name} is repeated"),
            ProofError::Authorization(why) => write!(f, "the Authorization header: {why}"),
            ProofError::Algorithm => f.write_str("the algorithm is not AWS4-HMAC-SHA256"),
            ProofError::Service { service } => {
                write!(f, "the credential scope names service {service}, not sts")
            }
            ProofError::NotSigned { name } => write!(f, "the header {name} is not signed"),
            ProofError::HostMismatch => f.write_str("the Host header is not the URL's host"),
            ProofError::AudienceMissing { name } => write!(f, "the header {name} is missing"),
            ProofError::AudienceMismatch { name } => {
                write!(f, "the header {name} does not name this server")
            }
            ProofError::OutsideTimeWindow { signed_at, now } => {
                write!(f, "signed at {signed_at}, too far from now ({now})")
            }
            ProofError::RegionMismatch { scope, endpoint } => write!(
                f,
                "the credential scope names region {scope}, the endpoint is in {endpoint}"
            ),
            ProofError::UnknownRegion { host } => {
                write!(f, "no region is known for the endpoint {host}")
            }
        }
    }
}

impl std::error::Error for ProofError {}

/// Checks a proof before it is replayed, rule by rule in a fixed order, and returns what the
/// replay and the replay cache need.
pub fn check(proof: &Proof, policy: &ProofPolicy, now_unix: u64) -> Result<Checked, ProofError> {
    limits(proof)?;
    check_method(&proof.method)?;
    let endpoint = check_url(&proof.url, policy)?;
    check_body(&proof.body, policy)?;
    check_headers(&proof.headers)?;
    check_content_type(proof)?;
    let names: Vec<(&str, &str)> = proof
        .headers
        .iter()
        .map(|(n, v)| (n.as_str(), v.as_str()))
        .collect();
    let request = Request {
        method: &proof.method,
        uri: &proof.url,
        headers: &names,
        payload: Payload::Bytes(&proof.body),
    };
    let claimed = check_authorization(&request)?;
    check_host(proof, &claimed, &endpoint)?;
    check_audience(proof, &claimed, policy)?;
    let signed_at = check_time(&claimed, policy.max_age_secs, now_unix)?;
    let region = check_region(&claimed, &endpoint.authority, policy)?;
    Ok(Checked {
        url: proof.url.clone(),
        headers: proof.headers.clone(),
        body: proof.body.clone(),
        partition: endpoint.partition,
        region,
        access_key_id: claimed.access_key_id.to_string(),
        signature: claimed.signature.to_ascii_lowercase(),
        signed_at,
        valid_until: signed_at.saturating_add(policy.max_age_secs),
    })
}

/// The size limits (a proof built by hand is held to them too).
fn limits(proof: &Proof) -> Result<(), ProofError> {
    if proof.body.len() > MAX_BODY {
        return Err(ProofError::TooLarge {
            field: "body",
            limit: MAX_BODY,
        });
    }
    if proof.headers.len() > MAX_HEADERS {
        return Err(ProofError::TooLarge {
            field: "headers",
            limit: MAX_HEADERS,
        });
    }
    if proof.url.len() > MAX_URL {
        return Err(ProofError::TooLarge {
            field: "url",
            limit: MAX_URL,
        });
    }
    Ok(())
}

fn check_method(method: &str) -> Result<(), ProofError> {
    if method != "POST" {
        return Err(ProofError::Method);
    }
    Ok(())
}

/// The endpoint a URL names, once allowed.
struct Endpoint {
    /// Lowercased, without the scheme's default port: as the allowlist has it.
    authority: String,
    /// The scheme's default port, `:443` or `:80`.
    default_port: &'static str,
    partition: String,
}

/// `https://HOST[:PORT]` with an empty path or `/`, nothing else: no user info, query or
/// fragment (a query could carry another `Action`, which STS reads before the body's).
fn check_url(url: &str, policy: &ProofPolicy) -> Result<Endpoint, ProofError> {
    let (scheme, rest) = url
        .split_once("://")
        .ok_or(ProofError::Url { part: "scheme" })?;
    let default_port = match scheme.to_ascii_lowercase().as_str() {
        "https" => ":443",
        "http" if policy.allow_http => ":80",
        _ => return Err(ProofError::Url { part: "scheme" }),
    };
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(end);
    if tail.contains('#') {
        return Err(ProofError::Url { part: "fragment" });
    }
    if tail.contains('?') {
        return Err(ProofError::Url { part: "query" });
    }
    if !tail.is_empty() && tail != "/" {
        return Err(ProofError::Url { part: "path" });
    }
    let valid = |c: char| c.is_ascii_alphanumeric() || "-._:[]".contains(c);
    if authority.is_empty() || !authority.chars().all(valid) {
        return Err(ProofError::Url { part: "authority" });
    }
    let lower = authority.to_ascii_lowercase();
    let authority = lower
        .strip_suffix(default_port)
        .unwrap_or(&lower)
        .to_string();
    let partition = policy
        .partitions
        .iter()
        .find(|p| p.hosts.iter().any(|h| h.eq_ignore_ascii_case(&authority)))
        .ok_or_else(|| ProofError::HostNotAllowed {
            host: authority.clone(),
        })?;
    Ok(Endpoint {
        authority,
        default_port,
        partition: partition.partition.clone(),
    })
}

/// `Action=GetCallerIdentity` once, `Version` at most once and allowed, no other key: STS reads
/// the operation from the body, and any other parameter is not ours to pass on.
fn check_body(body: &[u8], policy: &ProofPolicy) -> Result<(), ProofError> {
    let (mut actions, mut versions) = (0, 0);
    for (key, value) in form_urlencoded::parse(body) {
        match key.as_ref() {
            "Action" if value == "GetCallerIdentity" => actions += 1,
            "Action" => return Err(ProofError::Body { reason: "action" }),
            "Version" if policy.versions.iter().any(|v| *v == value) => versions += 1,
            "Version" => return Err(ProofError::Body { reason: "version" }),
            _ => return Err(ProofError::Body { reason: "key" }),
        }
    }
    if actions != 1 {
        return Err(ProofError::Body { reason: "action" });
    }
    if versions > 1 {
        return Err(ProofError::Body { reason: "version" });
    }
    Ok(())
}

/// Names are tokens and values sendable; no name twice (any case); `X-Amz-*` only the four.
fn check_headers(headers: &[(String, String)]) -> Result<(), ProofError> {
    let token = |c: char| c.is_ascii_alphanumeric() || "!#$%&'*+-.^_`|~".contains(c);
    for (i, (name, value)) in headers.iter().enumerate() {
        if name.is_empty() || !name.chars().all(token) {
            return Err(ProofError::InvalidHeader {
                name: "headers".to_string(),
            });
        }
        let lower = name.to_ascii_lowercase();
        if value.chars().any(|c| c.is_control() && c != '\t') {
            return Err(ProofError::InvalidHeader { name: lower });
        }
        if headers[..i]
            .iter()
            .any(|(n, _)| n.eq_ignore_ascii_case(name))
        {
            return Err(ProofError::RepeatedHeader { name: lower });
        }
        if lower.starts_with("x-amz-") && !AMZ_HEADERS.contains(&lower.as_str()) {
            return Err(ProofError::HeaderNotAllowed { name: lower });
        }
    }
    Ok(())
}

/// The body is read by STS as a form only with this type (every AWS SDK sends it).
fn check_content_type(proof: &Proof) -> Result<(), ProofError> {
    let value = proof
        .header("content-type")?
        .ok_or(ProofError::ContentType)?;
    let media = value.split(';').next().unwrap_or_default().trim();
    if !media.eq_ignore_ascii_case("application/x-www-form-urlencoded") {
        return Err(ProofError::ContentType);
    }
    Ok(())
}

/// The claim, read by the core as its verifier reads it: SigV4, for `sts`.
fn check_authorization<'r>(request: &Request<'r>) -> Result<Claimed<'r>, ProofError> {
    let claimed = inspect(request).map_err(ProofError::Authorization)?;
    if claimed.algorithm != Algorithm::SigV4 {
        return Err(ProofError::Algorithm);
    }
    if claimed.service != "sts" {
        return Err(ProofError::Service {
            service: claimed.service.to_string(),
        });
    }
    Ok(claimed)
}

/// `host` signed (else the proof could be sent to any host), and a `Host` header, when given,
/// the URL's: it is what the replay sends, and what STS checks the signature with.
fn check_host(proof: &Proof, claimed: &Claimed<'_>, endpoint: &Endpoint) -> Result<(), ProofError> {
    if !claimed.signs("host") {
        return Err(ProofError::NotSigned {
            name: "host".to_string(),
        });
    }
    if let Some(host) = proof.header("host")? {
        let lower = host.trim().to_ascii_lowercase();
        if lower.strip_suffix(endpoint.default_port).unwrap_or(&lower) != endpoint.authority {
            return Err(ProofError::HostMismatch);
        }
    }
    Ok(())
}

/// Our audience header, once, signed, with our value (compared in constant time).
fn check_audience(
    proof: &Proof,
    claimed: &Claimed<'_>,
    policy: &ProofPolicy,
) -> Result<(), ProofError> {
    let name = policy.audience_header.to_ascii_lowercase();
    let value = proof
        .header(&name)?
        .ok_or_else(|| ProofError::AudienceMissing { name: name.clone() })?;
    if !bool::from(value.as_bytes().ct_eq(policy.audience.as_bytes())) {
        return Err(ProofError::AudienceMismatch { name });
    }
    if !claimed.signs(&name) {
        return Err(ProofError::NotSigned { name });
    }
    Ok(())
}

/// `X-Amz-Date` within `max_age_secs` of now, either way: the signing time, Unix seconds.
fn check_time(claimed: &Claimed<'_>, max_age_secs: u64, now: u64) -> Result<u64, ProofError> {
    let signed_at = claimed.time.unix_seconds();
    if signed_at.abs_diff(now) > max_age_secs {
        return Err(ProofError::OutsideTimeWindow { signed_at, now });
    }
    Ok(signed_at)
}

/// The credential scope's region is the endpoint's: a proof signed for one region is replayed
/// to that region's endpoint only.
fn check_region(
    claimed: &Claimed<'_>,
    authority: &str,
    policy: &ProofPolicy,
) -> Result<String, ProofError> {
    let endpoint = policy
        .regions
        .iter()
        .find(|(host, _)| host.eq_ignore_ascii_case(authority))
        .map(|(_, region)| region.clone())
        .or_else(|| region_of_host(authority))
        .ok_or_else(|| ProofError::UnknownRegion {
            host: authority.to_string(),
        })?;
    if claimed.region != endpoint {
        return Err(ProofError::RegionMismatch {
            scope: claimed.region.to_string(),
            endpoint,
        });
    }
    Ok(endpoint)
}

/// The region an STS host's name says: `sts.amazonaws.com` (the global endpoint) is
/// `us-east-1`; `sts.REGION.amazonaws.com`, `sts-fips.REGION.amazonaws.com` and
/// `sts.REGION.amazonaws.com.cn` are `REGION`. Any other name says nothing.
pub fn region_of_host(host: &str) -> Option<String> {
    let host = host.to_ascii_lowercase();
    if host == "sts.amazonaws.com" {
        return Some("us-east-1".to_string());
    }
    let rest = host
        .strip_prefix("sts.")
        .or_else(|| host.strip_prefix("sts-fips."))?;
    let region = rest
        .strip_suffix(".amazonaws.com")
        .or_else(|| rest.strip_suffix(".amazonaws.com.cn"))?;
    let valid = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-';
    (!region.is_empty() && region.chars().all(valid)).then(|| region.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use sigv4_core::{Credentials, Location, Settings, Signer, SigningParams, Timestamp};

    const T: u64 = 1_893_456_000; // 2030-01-01T00:00:00Z
    const TOKEN: &str = "TOKENSECRETMARKER";
    const AUDIENCE: &str = "X-Vault-AWS-IAM-Server-ID";
    const BODY: &[u8] = b"Action=GetCallerIdentity&Version=2011-06-15";
    const FORM: &str = "application/x-www-form-urlencoded; charset=utf-8";

    fn policy() -> ProofPolicy {
        let mut policy = ProofPolicy::new(AUDIENCE, "vault.example.com");
        policy.partitions = vec![
            PartitionHosts {
                partition: "aws".into(),
                hosts: vec![
                    "sts.amazonaws.com".into(),
                    "sts.eu-west-1.amazonaws.com".into(),
                    "127.0.0.1:5000".into(),
                ],
            },
            PartitionHosts {
                partition: "aws-cn".into(),
                hosts: vec!["sts.cn-north-1.amazonaws.com.cn".into()],
            },
        ];
        policy
            .regions
            .insert("127.0.0.1:5000".into(), "us-east-1".into());
        policy.allow_http = true;
        policy
    }

    /// A proof signed as an SDK signs it: `headers` given, then the signer's.
    fn sign(url: &str, region: &str, headers: &[(&str, &str)], body: &[u8]) -> Proof {
        let credentials = Credentials::new("AKIDEXAMPLE", "SECRET", Some(TOKEN)).unwrap();
        let params = SigningParams {
            credentials: &credentials,
            region,
            service: "sts",
            time: Timestamp::from_unix_seconds(T).unwrap(),
            settings: Settings::for_service("sts"),
        };
        let request = Request {
            method: "POST",
            uri: url,
            headers,
            payload: Payload::Bytes(body),
        };
        let out = Signer::new()
            .sign(&request, &params, Location::Headers)
            .unwrap();
        let mut all: Vec<(String, String)> = headers
            .iter()
            .map(|(n, v)| (n.to_string(), v.to_string()))
            .collect();
        all.extend(out.headers().map(|(n, v)| (n.to_string(), v.to_string())));
        Proof {
            method: "POST".into(),
            url: url.into(),
            headers: all,
            body: body.to_vec(),
        }
    }

    fn good() -> Proof {
        sign(
            "https://sts.amazonaws.com/",
            "us-east-1",
            &[("content-type", FORM), (AUDIENCE, "vault.example.com")],
            BODY,
        )
    }

    fn refused(proof: &Proof) -> (&'static str, String) {
        let e = check(proof, &policy(), T).unwrap_err();
        (e.code(), e.field().to_string())
    }

    fn with_header(mut proof: Proof, name: &str, value: &str) -> Proof {
        proof.headers.push((name.into(), value.into()));
        proof
    }

    #[test]
    fn a_good_proof_passes() {
        let proof = good();
        let checked = check(&proof, &policy(), T + 900).unwrap();
        assert_eq!(checked.url, "https://sts.amazonaws.com/");
        assert_eq!(checked.partition, "aws");
        assert_eq!(checked.region, "us-east-1");
        assert_eq!(checked.access_key_id, "AKIDEXAMPLE");
        assert_eq!(checked.signed_at, T);
        assert_eq!(checked.valid_until, T + 900);
        assert_eq!(checked.body, BODY);
        assert_eq!(checked.headers, proof.headers);
        assert_eq!(checked.signature.len(), 64);
        let authorization = proof.header("authorization").unwrap().unwrap();
        assert!(authorization.ends_with(&format!("Signature={}", checked.signature)));
        // Earlier too, within the window.
        assert!(check(&proof, &policy(), T - 900).is_ok());
    }

    #[test]
    fn regional_china_and_local_endpoints() {
        let eu = sign(
            "https://sts.eu-west-1.amazonaws.com",
            "eu-west-1",
            &[("content-type", FORM), (AUDIENCE, "vault.example.com")],
            BODY,
        );
        assert_eq!(check(&eu, &policy(), T).unwrap().region, "eu-west-1");
        let cn = sign(
            "https://sts.cn-north-1.amazonaws.com.cn/",
            "cn-north-1",
            &[("content-type", FORM), (AUDIENCE, "vault.example.com")],
            BODY,
        );
        let checked = check(&cn, &policy(), T).unwrap();
        assert_eq!(
            (checked.partition.as_str(), checked.region.as_str()),
            ("aws-cn", "cn-north-1")
        );
        let local = sign(
            "http://127.0.0.1:5000/",
            "us-east-1",
            &[("content-type", FORM), (AUDIENCE, "vault.example.com")],
            BODY,
        );
        assert_eq!(check(&local, &policy(), T).unwrap().region, "us-east-1");
        // A default port is left out before the allowlist is read.
        let port = sign(
            "https://STS.amazonaws.com:443",
            "us-east-1",
            &[("content-type", FORM), (AUDIENCE, "vault.example.com")],
            BODY,
        );
        assert_eq!(check(&port, &policy(), T).unwrap().partition, "aws");
    }

    #[test]
    fn region_of_host_names() {
        let cases = [
            ("sts.amazonaws.com", Some("us-east-1")),
            ("sts.us-east-2.amazonaws.com", Some("us-east-2")),
            (
                "sts-fips.us-gov-west-1.amazonaws.com",
                Some("us-gov-west-1"),
            ),
            (
                "sts.cn-northwest-1.amazonaws.com.cn",
                Some("cn-northwest-1"),
            ),
            ("sts..amazonaws.com", None),
            ("iam.amazonaws.com", None),
            ("127.0.0.1:5000", None),
        ];
        for (host, region) in cases {
            assert_eq!(region_of_host(host).as_deref(), region, "{host}");
        }
    }

    #[test]
    fn method_must_be_post() {
        let mut proof = good();
        proof.method = "post".into();
        assert_eq!(refused(&proof), ("method", "method".into()));
    }

    #[test]
    fn url_rules() {
        let cases = [
            ("ftp://sts.amazonaws.com/", ("url", "url")),
            ("sts.amazonaws.com", ("url", "url")),
            (
                "https://sts.amazonaws.com/?Action=AssumeRole",
                ("url", "url"),
            ),
            ("https://sts.amazonaws.com/#x", ("url", "url")),
            ("https://sts.amazonaws.com/other", ("url", "url")),
            ("https://user@sts.amazonaws.com/", ("url", "url")),
            ("https://sts.evil.example/", ("host_not_allowed", "url")),
            (
                "https://sts.amazonaws.com:8443/",
                ("host_not_allowed", "url"),
            ),
        ];
        for (url, (code, field)) in cases {
            let mut proof = good();
            proof.url = url.into();
            assert_eq!(refused(&proof), (code, field.into()), "{url}");
        }
        let parts = [
            ("ftp://sts.amazonaws.com/", "scheme"),
            ("https://sts.amazonaws.com/?", "query"),
            ("https://sts.amazonaws.com#", "fragment"),
            ("https://sts.amazonaws.com//", "path"),
            ("https://a b/", "authority"),
        ];
        for (url, part) in parts {
            let mut proof = good();
            proof.url = url.into();
            assert_eq!(
                check(&proof, &policy(), T),
                Err(ProofError::Url { part }),
                "{url}"
            );
        }
    }

    #[test]
    fn http_only_when_allowed() {
        let proof = sign(
            "http://127.0.0.1:5000/",
            "us-east-1",
            &[("content-type", FORM), (AUDIENCE, "vault.example.com")],
            BODY,
        );
        let mut strict = policy();
        strict.allow_http = false;
        assert_eq!(
            check(&proof, &strict, T),
            Err(ProofError::Url { part: "scheme" })
        );
    }

    #[test]
    fn body_rules() {
        let cases: [(&[u8], &str); 7] = [
            (b"Action=AssumeRole&Version=2011-06-15", "action"),
            (b"Version=2011-06-15", "action"),
            (
                b"Action=GetCallerIdentity&Action=GetCallerIdentity",
                "action",
            ),
            (b"Action=GetCallerIdentity&Version=2012-01-01", "version"),
            (
                b"Action=GetCallerIdentity&Version=2011-06-15&Version=2011-06-15",
                "version",
            ),
            (b"Action=GetCallerIdentity&RoleArn=x", "key"),
            (b"", "action"),
        ];
        for (body, reason) in cases {
            let proof = sign(
                "https://sts.amazonaws.com/",
                "us-east-1",
                &[("content-type", FORM), (AUDIENCE, "vault.example.com")],
                body,
            );
            assert_eq!(
                check(&proof, &policy(), T),
                Err(ProofError::Body { reason }),
                "{}",
                String::from_utf8_lossy(body)
            );
        }
        // Without Version, and percent-encoded: still the one action.
        let proof = sign(
            "https://sts.amazonaws.com/",
            "us-east-1",
            &[("content-type", FORM), (AUDIENCE, "vault.example.com")],
            b"Action=Get%43allerIdentity",
        );
        assert!(check(&proof, &policy(), T).is_ok());
    }

    #[test]
    fn content_type_is_a_form() {
        let proof = sign(
            "https://sts.amazonaws.com/",
            "us-east-1",
            &[
                ("content-type", "application/json"),
                (AUDIENCE, "vault.example.com"),
            ],
            BODY,
        );
        assert_eq!(refused(&proof), ("content_type", "content-type".into()));
        let proof = sign(
            "https://sts.amazonaws.com/",
            "us-east-1",
            &[(AUDIENCE, "vault.example.com")],
            BODY,
        );
        assert_eq!(refused(&proof), ("content_type", "content-type".into()));
    }

    #[test]
    fn only_four_amz_headers() {
        let proof = with_header(
            good(),
            "X-Amz-Target",
            "AWSSecurityTokenServiceV20110615.AssumeRole",
        );
        assert_eq!(
            refused(&proof),
            ("header_not_allowed", "x-amz-target".into())
        );
        let proof = with_header(good(), "x-amz-user-agent", "aws-sdk-go/1");
        assert!(check(&proof, &policy(), T).is_ok());
    }

    #[test]
    fn a_repeated_header_is_refused() {
        let proof = with_header(good(), "Content-Type", FORM);
        assert_eq!(refused(&proof), ("repeated_header", "content-type".into()));
        let proof = with_header(good(), "X-AMZ-DATE", "20300101T000000Z");
        assert_eq!(refused(&proof), ("repeated_header", "x-amz-date".into()));
    }

    #[test]
    fn unsendable_headers_are_refused() {
        let proof = with_header(good(), "x-evil", "a\r\nx-amz-target: b");
        assert_eq!(refused(&proof), ("invalid_header", "x-evil".into()));
        let proof = with_header(good(), "bad name", "v");
        assert_eq!(refused(&proof), ("invalid_header", "headers".into()));
    }

    #[test]
    fn authorization_is_read_by_the_core() {
        let mut proof = good();
        proof.headers.retain(|(n, _)| n != "authorization");
        assert_eq!(
            check(&proof, &policy(), T),
            Err(ProofError::Authorization(Rejection::NotSigned))
        );
        let mut proof = good();
        for (name, value) in proof.headers.iter_mut() {
            if name == "authorization" {
                *value = "AWS4-HMAC-SHA256 garbage".into();
            }
        }
        let e = check(&proof, &policy(), T).unwrap_err();
        assert_eq!((e.code(), e.field()), ("authorization", "authorization"));
    }

    #[test]
    fn sigv4a_and_other_services_are_refused() {
        let mut proof = good();
        for (name, value) in proof.headers.iter_mut() {
            if name == "authorization" {
                *value = value.replace("/us-east-1/sts/", "/us-east-1/iam/");
            }
        }
        assert_eq!(
            check(&proof, &policy(), T),
            Err(ProofError::Service {
                service: "iam".into()
            })
        );
        let credentials = Credentials::new("AKIDEXAMPLE", "SECRET", None).unwrap();
        let params = SigningParams {
            credentials: &credentials,
            region: "us-east-1",
            service: "sts",
            time: Timestamp::from_unix_seconds(T).unwrap(),
            settings: Settings {
                algorithm: Algorithm::SigV4a,
                ..Settings::for_service("sts")
            },
        };
        let headers = [("content-type", FORM), (AUDIENCE, "vault.example.com")];
        let request = Request {
            method: "POST",
            uri: "https://sts.amazonaws.com/",
            headers: &headers,
            payload: Payload::Bytes(BODY),
        };
        let out = Signer::new()
            .sign(&request, &params, Location::Headers)
            .unwrap();
        let mut proof = Proof {
            method: "POST".into(),
            url: "https://sts.amazonaws.com/".into(),
            headers: headers
                .iter()
                .map(|(n, v)| (n.to_string(), v.to_string()))
                .collect(),
            body: BODY.to_vec(),
        };
        proof
            .headers
            .extend(out.headers().map(|(n, v)| (n.to_string(), v.to_string())));
        // SigV4a's X-Amz-Region-Set is an X-Amz header outside the four: refused first.
        assert_eq!(
            check(&proof, &policy(), T),
            Err(ProofError::HeaderNotAllowed {
                name: "x-amz-region-set".into()
            })
        );
        // The algorithm rule, were that header allowed.
        let names: Vec<(&str, &str)> = proof
            .headers
            .iter()
            .map(|(n, v)| (n.as_str(), v.as_str()))
            .collect();
        let request = Request {
            method: "POST",
            uri: &proof.url,
            headers: &names,
            payload: Payload::Bytes(BODY),
        };
        assert_eq!(
            check_authorization(&request).unwrap_err(),
            ProofError::Algorithm
        );
    }

    #[test]
    fn host_must_be_signed_and_match() {
        let proof = sign(
            "https://sts.amazonaws.com/",
            "us-east-1",
            &[
                ("content-type", FORM),
                (AUDIENCE, "vault.example.com"),
                ("host", "sts.eu-west-1.amazonaws.com"),
            ],
            BODY,
        );
        assert_eq!(refused(&proof), ("host_mismatch", "host".into()));
        let proof = sign(
            "https://sts.amazonaws.com/",
            "us-east-1",
            &[
                ("content-type", FORM),
                (AUDIENCE, "vault.example.com"),
                ("Host", "sts.amazonaws.com"),
            ],
            BODY,
        );
        assert!(check(&proof, &policy(), T).is_ok());
        let proof = sign(
            "HTTPS://sts.amazonaws.com:443/",
            "us-east-1",
            &[
                ("content-type", FORM),
                (AUDIENCE, "vault.example.com"),
                ("Host", "sts.amazonaws.com:443"),
            ],
            BODY,
        );
        assert!(check(&proof, &policy(), T).is_ok());
        let mut unsigned = good();
        for (name, value) in unsigned.headers.iter_mut() {
            if name == "authorization" {
                *value = value.replace("SignedHeaders=", "SignedHeaders=a;");
                *value = value.replace(";host;", ";");
            }
        }
        let e = check(&unsigned, &policy(), T).unwrap_err();
        assert_eq!((e.code(), e.field()), ("not_signed", "host"), "{e:?}");
    }

    #[test]
    fn audience_rules() {
        let missing = sign(
            "https://sts.amazonaws.com/",
            "us-east-1",
            &[("content-type", FORM)],
            BODY,
        );
        assert_eq!(
            refused(&missing),
            ("audience_missing", "x-vault-aws-iam-server-id".into())
        );
        let other = sign(
            "https://sts.amazonaws.com/",
            "us-east-1",
            &[("content-type", FORM), (AUDIENCE, "other.example.com")],
            BODY,
        );
        assert_eq!(
            refused(&other),
            ("audience_mismatch", "x-vault-aws-iam-server-id".into())
        );
        let twice = with_header(good(), "x-vault-aws-iam-server-id", "vault.example.com");
        assert_eq!(
            refused(&twice),
            ("repeated_header", "x-vault-aws-iam-server-id".into())
        );
        // Added after signing: present, right, but not signed.
        let unsigned = with_header(
            sign(
                "https://sts.amazonaws.com/",
                "us-east-1",
                &[("content-type", FORM)],
                BODY,
            ),
            AUDIENCE,
            "vault.example.com",
        );
        assert_eq!(
            refused(&unsigned),
            ("not_signed", "x-vault-aws-iam-server-id".into())
        );
    }

    #[test]
    fn signed_within_the_window() {
        let proof = good();
        for now in [T + 901, T - 901] {
            assert_eq!(
                check(&proof, &policy(), now),
                Err(ProofError::OutsideTimeWindow { signed_at: T, now })
            );
        }
        let mut tight = policy();
        tight.max_age_secs = 60;
        assert_eq!(check(&proof, &tight, T + 60).unwrap().valid_until, T + 60);
    }

    #[test]
    fn scope_region_is_the_endpoints() {
        let proof = sign(
            "https://sts.eu-west-1.amazonaws.com/",
            "us-east-1",
            &[("content-type", FORM), (AUDIENCE, "vault.example.com")],
            BODY,
        );
        assert_eq!(
            check(&proof, &policy(), T),
            Err(ProofError::RegionMismatch {
                scope: "us-east-1".into(),
                endpoint: "eu-west-1".into()
            })
        );
        let mut unmapped = policy();
        unmapped.regions.clear();
        let local = sign(
            "http://127.0.0.1:5000/",
            "us-east-1",
            &[("content-type", FORM), (AUDIENCE, "vault.example.com")],
            BODY,
        );
        assert_eq!(
            check(&local, &unmapped, T),
            Err(ProofError::UnknownRegion {
                host: "127.0.0.1:5000".into()
            })
        );
    }

    #[test]
    fn size_limits() {
        let mut proof = good();
        proof.body = vec![b'a'; MAX_BODY + 1];
        assert_eq!(refused(&proof), ("too_large", "body".into()));
        let mut proof = good();
        proof.url = format!("https://sts.amazonaws.com/{}", "a".repeat(MAX_URL));
        assert_eq!(refused(&proof), ("too_large", "url".into()));
        let mut proof = good();
        for i in 0..MAX_HEADERS {
            proof.headers.push((format!("x-h{i}"), "v".into()));
        }
        assert_eq!(refused(&proof), ("too_large", "headers".into()));
    }

    fn b64(bytes: &[u8]) -> String {
        STANDARD.encode(bytes)
    }

    /// The proof's headers as `sigv4 proof` prints them: name -> [value].
    fn headers_as_arrays(proof: &Proof) -> String {
        let map: serde_json::Map<String, serde_json::Value> = proof
            .headers
            .iter()
            .map(|(n, v)| (n.clone(), serde_json::json!([v])))
            .collect();
        serde_json::Value::Object(map).to_string()
    }

    #[test]
    fn vault_shape() {
        let proof = good();
        let json = serde_json::json!({
            "role": "agent",
            "unknown": 1,
            "iam_http_request_method": "POST",
            "iam_request_url": b64(proof.url.as_bytes()),
            "iam_request_body": b64(&proof.body),
            "iam_request_headers": b64(headers_as_arrays(&proof).as_bytes()),
        });
        let read = Proof::from_vault_json(json.to_string().as_bytes()).unwrap();
        let mut sorted = proof.headers.clone();
        sorted.sort();
        let mut got = read.headers.clone();
        got.sort();
        assert_eq!(
            (read.method.as_str(), read.url.as_str()),
            ("POST", "https://sts.amazonaws.com/")
        );
        assert_eq!((got, read.body.as_slice()), (sorted, BODY));
        assert!(check(&read, &policy(), T).is_ok());
        // Plain strings as values, as Vault also accepts.
        let plain: serde_json::Map<String, serde_json::Value> = proof
            .headers
            .iter()
            .map(|(n, v)| (n.clone(), serde_json::json!(v)))
            .collect();
        let mut json2 = json.clone();
        json2["iam_request_headers"] =
            b64(serde_json::Value::Object(plain).to_string().as_bytes()).into();
        let read2 = Proof::from_vault_json(json2.to_string().as_bytes()).unwrap();
        assert!(check(&read2, &policy(), T).is_ok());
    }

    #[test]
    fn vault_shape_errors() {
        let base = serde_json::json!({
            "iam_http_request_method": "POST",
            "iam_request_url": b64(b"https://sts.amazonaws.com/"),
            "iam_request_body": b64(BODY),
            "iam_request_headers": b64(br#"{"Host":["sts.amazonaws.com"]}"#),
        });
        let err = |json: serde_json::Value| {
            let e = Proof::from_vault_json(json.to_string().as_bytes()).unwrap_err();
            (e.code(), e.field().to_string())
        };
        for field in [
            "iam_http_request_method",
            "iam_request_url",
            "iam_request_body",
            "iam_request_headers",
        ] {
            let mut json = base.clone();
            json.as_object_mut().unwrap().remove(field);
            assert_eq!(err(json), ("missing", field.into()));
            let mut json = base.clone();
            json[field] = serde_json::json!(7);
            assert_eq!(err(json), ("malformed", field.into()));
        }
        let mut json = base.clone();
        json["iam_request_url"] = "not base64!".into();
        assert_eq!(err(json), ("malformed", "iam_request_url".into()));
        let mut json = base.clone();
        json["iam_request_url"] = b64(&[0xff, 0xfe]).into();
        assert_eq!(err(json), ("malformed", "iam_request_url".into()));
        for headers in [
            &br#"["Host"]"#[..],
            br#"{"Host":7}"#,
            br#"{"Host":[]}"#,
            br#"{"Host":[1]}"#,
            b"{",
        ] {
            let mut json = base.clone();
            json["iam_request_headers"] = b64(headers).into();
            assert_eq!(err(json), ("malformed", "iam_request_headers".into()));
        }
        // The same key twice is kept twice, then refused by check.
        let mut json = base.clone();
        json["iam_request_headers"] = b64(br#"{"Host":"a","Host":"b"}"#).into();
        let proof = Proof::from_vault_json(json.to_string().as_bytes()).unwrap();
        assert_eq!(
            proof.headers,
            [("Host".into(), "a".into()), ("Host".into(), "b".into())]
        );
        let mut json = base.clone();
        json["iam_request_body"] = b64(&[b'a'; MAX_BODY]).into();
        let proof = Proof::from_vault_json(json.to_string().as_bytes()).unwrap();
        assert_eq!(proof.body.len(), MAX_BODY);
        let mut json = base.clone();
        json["iam_request_body"] = b64(&[b'a'; MAX_BODY + 1]).into();
        assert_eq!(err(json), ("too_large", "iam_request_body".into()));
        let mut json = base.clone();
        json["iam_request_body"] = b64(&[b'a'; MAX_BODY + 3]).into();
        assert_eq!(err(json), ("too_large", "iam_request_body".into()));
        let many: serde_json::Map<String, serde_json::Value> = (0..=MAX_HEADERS)
            .map(|i| (format!("h{i}"), serde_json::json!("v")))
            .collect();
        let mut json = base.clone();
        json["iam_request_headers"] =
            b64(serde_json::Value::Object(many).to_string().as_bytes()).into();
        assert_eq!(err(json), ("too_large", "iam_request_headers".into()));
        assert_eq!(
            Proof::from_vault_json(b"[]").unwrap_err(),
            ProofError::Malformed { field: "login" }
        );
    }

    /// Datadog's header as its agent builds it: Go's canonical names, each value an array.
    fn delegated(proof: &Proof) -> String {
        format!(
            "Delegated {}|{}|POST|{}",
            b64(&proof.body),
            b64(headers_as_arrays(proof).as_bytes()),
            b64(proof.url.as_bytes())
        )
    }

    #[test]
    fn datadog_shape() {
        let mut policy = policy();
        policy.audience_header = "X-Ddog-Org-Id".into();
        policy.audience = "org-uuid".into();
        let proof = sign(
            "https://sts.amazonaws.com",
            "us-east-1",
            &[
                ("Content-Type", FORM),
                ("X-Ddog-Org-Id", "org-uuid"),
                ("User-Agent", "datadog-agent/7"),
            ],
            BODY,
        );
        let read = Proof::from_delegated_header(&delegated(&proof)).unwrap();
        assert_eq!(read.url, "https://sts.amazonaws.com");
        let checked = check(&read, &policy, T).unwrap();
        assert_eq!(checked.region, "us-east-1");
        let lower = delegated(&proof).replacen("Delegated", "delegated", 1);
        assert!(Proof::from_delegated_header(&lower).is_ok());
    }

    #[test]
    fn datadog_shape_errors() {
        let proof = good();
        let value = delegated(&proof);
        let err = |v: &str| {
            let e = Proof::from_delegated_header(v).unwrap_err();
            (e.code(), e.field().to_string())
        };
        assert_eq!(
            err(&value.replacen("Delegated ", "Bearer ", 1)),
            ("malformed", "delegated".into())
        );
        assert_eq!(
            err(&value.replacen("Delegated ", "", 1)),
            ("malformed", "delegated".into())
        );
        assert_eq!(
            err(&format!("{value}|x")),
            ("malformed", "delegated".into())
        );
        assert_eq!(err("Delegated a|b|POST"), ("malformed", "delegated".into()));
        assert_eq!(
            err(&format!("Delegated !|{}|POST|{}", b64(b"{}"), b64(b"u"))),
            ("malformed", "delegated.body".into())
        );
        assert_eq!(
            err(&format!(
                "Delegated {}|{}|POST|{}",
                b64(BODY),
                b64(b"[]"),
                b64(b"u")
            )),
            ("malformed", "delegated.headers".into())
        );
        assert_eq!(
            err(&format!("Delegated {}|{}|POST|!", b64(BODY), b64(b"{}"))),
            ("malformed", "delegated.url".into())
        );
        let long = b64(format!("https://{}", "a".repeat(MAX_URL)).as_bytes());
        assert_eq!(
            err(&format!(
                "Delegated {}|{}|POST|{long}",
                b64(BODY),
                b64(b"{}")
            )),
            ("too_large", "delegated.url".into())
        );
        // The method is read as given, and refused by check.
        let get = Proof::from_delegated_header(&value.replace("|POST|", "|GET|")).unwrap();
        assert_eq!(check(&get, &policy(), T), Err(ProofError::Method));
    }

    #[test]
    fn secrets_stay_out_of_debug_and_errors() {
        let proof = good();
        let signature = check(&proof, &policy(), T).unwrap().signature;
        let shown = format!("{proof:?} {:?}", check(&proof, &policy(), T).unwrap());
        assert!(
            !shown.contains(TOKEN) && !shown.contains(&signature),
            "{shown}"
        );
        assert!(shown.contains("<redacted>"));
        // Every error this proof can raise, shown both ways.
        let mut proofs = vec![
            with_header(good(), "X-Amz-Security-Token", TOKEN),
            with_header(good(), "x-amz-target", TOKEN),
            with_header(good(), "authorization", TOKEN),
        ];
        let mut bad_auth = good();
        for (name, value) in bad_auth.headers.iter_mut() {
            if name == "authorization" {
                *value = format!("AWS4-HMAC-SHA256 Credential={TOKEN}");
            }
        }
        proofs.push(bad_auth);
        for proof in proofs {
            let e = check(&proof, &policy(), T).unwrap_err();
            let shown = format!("{e} {e:?}");
            assert!(!shown.contains(TOKEN), "{shown}");
            assert!(!shown.contains(&signature), "{shown}");
        }
    }
}
