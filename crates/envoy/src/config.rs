//! The plugin configuration: JSON with the field names of Envoy's native
//! `envoy.filters.http.aws_request_signing` filter, checked once when the plugin starts. Every
//! error names the field it is about, so a bad configuration stops Envoy with a useful log line.

use std::fmt;

use serde::Deserialize;
use sigv4_core::Credentials;

/// The most a presigned URL may live: 7 days, as SigV4 allows.
const MAX_EXPIRATION_SECS: u64 = 604_800;
/// The native filter's default presigned URL lifetime.
const DEFAULT_EXPIRATION_SECS: u64 = 5;
/// Bodies up to this size are buffered and hashed by default (Envoy's default buffer limit).
const DEFAULT_MAX_REQUEST_BYTES: usize = 1 << 20;
/// Credential endpoints get this long per call unless configured.
const DEFAULT_FETCH_TIMEOUT_MS: u64 = 2_000;

/// A checked configuration.
#[derive(Debug)]
pub struct Config {
    /// The signing name of the service (`s3`, `sts`, `execute-api`, ...).
    pub service: String,
    /// The credential scope's region.
    pub region: String,
    /// The `:authority` sent upstream and signed, instead of the client's.
    pub host_rewrite: Option<String>,
    /// Sign `UNSIGNED-PAYLOAD` and stream the body instead of buffering it to hash it.
    pub unsigned_payload: bool,
    /// Headers left out of the signature (they may change on the way).
    pub excluded: Vec<HeaderMatcher>,
    /// Presign (the signature in the query string) with this lifetime, instead of headers.
    pub presign_secs: Option<u64>,
    /// Bodies larger than this get 413 when they must be hashed.
    pub max_request_bytes: usize,
    /// Where credentials come from.
    pub credentials: CredentialSource,
}

/// A header-name matcher of `match_excluded_headers` (Envoy's `StringMatcher`).
#[derive(Debug, PartialEq, Eq)]
pub enum HeaderMatcher {
    /// The whole name.
    Exact(String),
    /// The start of the name.
    Prefix(String),
    /// The end of the name.
    Suffix(String),
    /// Anywhere in the name.
    Contains(String),
}

impl HeaderMatcher {
    /// Whether `name` (lowercase, as Envoy keeps header names) matches.
    pub fn matches(&self, name: &str) -> bool {
        match self {
            HeaderMatcher::Exact(s) => name == s,
            HeaderMatcher::Prefix(s) => name.starts_with(s.as_str()),
            HeaderMatcher::Suffix(s) => name.ends_with(s.as_str()),
            HeaderMatcher::Contains(s) => name.contains(s.as_str()),
        }
    }
}

/// Where the filter gets its credentials. `Debug` hides the container authorization token (and
/// the inline secret, which `Credentials` hides).
pub enum CredentialSource {
    /// Fixed credentials from the configuration.
    Inline(Credentials),
    /// EC2 instance metadata (IMDSv2) reached through an Envoy cluster.
    InstanceProfile(Endpoint),
    /// The ECS/EKS container credentials endpoint reached through an Envoy cluster.
    Container {
        /// The cluster and timeout.
        endpoint: Endpoint,
        /// The path of the credentials document (`AWS_CONTAINER_CREDENTIALS_RELATIVE_URI`).
        path: String,
        /// The `Authorization` header value, if the endpoint wants one.
        authorization_token: Option<String>,
    },
}

impl fmt::Debug for CredentialSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CredentialSource::Inline(credentials) => {
                f.debug_tuple("Inline").field(credentials).finish()
            }
            CredentialSource::InstanceProfile(endpoint) => {
                f.debug_tuple("InstanceProfile").field(endpoint).finish()
            }
            CredentialSource::Container {
                endpoint,
                path,
                authorization_token,
            } => f
                .debug_struct("Container")
                .field("endpoint", endpoint)
                .field("path", path)
                .field(
                    "authorization_token",
                    &authorization_token.as_ref().map(|_| "** redacted **"),
                )
                .finish(),
        }
    }
}

/// An Envoy cluster that serves credentials.
#[derive(Debug, PartialEq, Eq)]
pub struct Endpoint {
    /// The cluster's name in the Envoy configuration.
    pub cluster: String,
    /// The `:authority` to send (the metadata service's address by default).
    pub authority: String,
    /// Per-call timeout in milliseconds.
    pub timeout_ms: u64,
}

/// Why the configuration was refused: the field (a JSON path) and what is wrong with it.
#[derive(Debug, PartialEq, Eq)]
pub struct ConfigError {
    /// `service_name`, `credential_provider.inline_credential.access_key_id`, ...
    pub field: String,
    /// What is wrong (never a secret).
    pub message: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "invalid plugin configuration: {}: {}",
            self.field, self.message
        )
    }
}

impl std::error::Error for ConfigError {}

fn invalid(field: &str, message: impl Into<String>) -> ConfigError {
    ConfigError {
        field: field.into(),
        message: message.into(),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Raw {
    service_name: String,
    region: String,
    #[serde(default)]
    host_rewrite: Option<String>,
    #[serde(default)]
    use_unsigned_payload: bool,
    #[serde(default)]
    match_excluded_headers: Vec<RawMatcher>,
    #[serde(default)]
    query_string: Option<RawQueryString>,
    #[serde(default)]
    max_request_bytes: Option<usize>,
    credential_provider: RawProvider,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMatcher {
    exact: Option<String>,
    prefix: Option<String>,
    suffix: Option<String>,
    contains: Option<String>,
    /// Accepted and moot: Envoy keeps header names in lowercase, and they are compared so.
    #[serde(default)]
    #[allow(dead_code)]
    ignore_case: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawQueryString {
    /// A protobuf JSON duration: `"300s"`.
    expiration_time: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawProvider {
    inline_credential: Option<RawInline>,
    instance_profile_credential_provider: Option<RawEndpoint>,
    container_credential_provider: Option<RawContainer>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawInline {
    access_key_id: String,
    secret_access_key: String,
    #[serde(default)]
    session_token: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEndpoint {
    cluster: String,
    #[serde(default)]
    authority: Option<String>,
    #[serde(default)]
    timeout: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawContainer {
    cluster: String,
    #[serde(default)]
    authority: Option<String>,
    #[serde(default)]
    timeout: Option<String>,
    path: String,
    #[serde(default)]
    authorization_token: Option<String>,
}

impl Config {
    /// Parses and checks the plugin configuration.
    pub fn parse(json: &[u8]) -> Result<Config, ConfigError> {
        let mut de = serde_json::Deserializer::from_slice(json);
        let raw: Raw = serde_path_to_error::deserialize(&mut de).map_err(|e| {
            let message = redacted(e.inner());
            invalid(&field_of(&e.path().to_string(), &message), message)
        })?;
        sigv4_core::check_scope(&raw.region, &raw.service_name).map_err(|e| {
            let field = match e.field() {
                sigv4_core::Field::Region => "region",
                _ => "service_name",
            };
            invalid(field, e.to_string())
        })?;
        let host_rewrite = match raw.host_rewrite {
            Some(h) if h.is_empty() || h.bytes().any(|b| !b.is_ascii_graphic()) => {
                return Err(invalid(
                    "host_rewrite",
                    "must be a host name (visible ASCII, not empty)",
                ));
            }
            other => other,
        };
        let excluded = raw
            .match_excluded_headers
            .into_iter()
            .enumerate()
            .map(|(i, m)| m.checked(i))
            .collect::<Result<_, _>>()?;
        let presign_secs = match raw.query_string {
            None => None,
            Some(q) => Some(match q.expiration_time {
                None => DEFAULT_EXPIRATION_SECS,
                Some(text) => {
                    let field = "query_string.expiration_time";
                    let secs = duration_secs(&text).map_err(|m| invalid(field, m))?;
                    if !(1..=MAX_EXPIRATION_SECS).contains(&secs) {
                        return Err(invalid(field, "must be between 1s and 604800s (7 days)"));
                    }
                    secs
                }
            }),
        };
        let max_request_bytes = raw.max_request_bytes.unwrap_or(DEFAULT_MAX_REQUEST_BYTES);
        Ok(Config {
            service: raw.service_name,
            region: raw.region,
            host_rewrite,
            unsigned_payload: raw.use_unsigned_payload,
            excluded,
            presign_secs,
            max_request_bytes,
            credentials: raw.credential_provider.checked()?,
        })
    }

    /// Whether `name` is left out of the signature: configured, or one of the headers the
    /// native filter never signs, or Envoy's own `x-envoy-*` headers (the router rewrites them).
    pub fn excludes(&self, name: &str) -> bool {
        matches!(
            name,
            "x-forwarded-for" | "x-forwarded-proto" | "x-amzn-trace-id"
        ) || name.starts_with("x-envoy-")
            || self.excluded.iter().any(|m| m.matches(name))
    }
}

/// The field a serde error is about: its path (which ends at an unknown field), and for a
/// missing field, that field.
fn field_of(path: &str, message: &str) -> String {
    let base = if path == "." { "" } else { path };
    let named = message
        .strip_prefix("missing field `")
        .and_then(|rest| rest.split('`').next());
    match (base, named) {
        ("", Some(name)) => name.to_string(),
        (base, Some(name)) => format!("{base}.{name}"),
        ("", None) => "(top level)".to_string(),
        (base, None) => base.to_string(),
    }
}

/// serde's error text without the values it quotes (a misplaced secret must not be logged).
fn redacted(e: &serde_json::Error) -> String {
    let text = e.to_string();
    let text = match text.find(" at line ") {
        Some(at) => &text[..at],
        None => &text,
    };
    // "invalid type: string \"...\", expected ..." -> "invalid type: string, expected ..."
    match (text.find('"'), text.rfind('"')) {
        (Some(start), Some(end)) if start < end && text.starts_with("invalid") => {
            format!("{}{}", text[..start].trim_end(), &text[end + 1..])
        }
        _ => text.to_string(),
    }
}

impl RawMatcher {
    fn checked(self, index: usize) -> Result<HeaderMatcher, ConfigError> {
        let field = format!("match_excluded_headers[{index}]");
        let lower = |s: String| s.to_ascii_lowercase();
        match (self.exact, self.prefix, self.suffix, self.contains) {
            (Some(s), None, None, None) => Ok(HeaderMatcher::Exact(lower(s))),
            (None, Some(s), None, None) if !s.is_empty() => Ok(HeaderMatcher::Prefix(lower(s))),
            (None, None, Some(s), None) if !s.is_empty() => Ok(HeaderMatcher::Suffix(lower(s))),
            (None, None, None, Some(s)) if !s.is_empty() => Ok(HeaderMatcher::Contains(lower(s))),
            _ => Err(invalid(
                &field,
                "give exactly one of exact, prefix, suffix or contains (not empty)",
            )),
        }
    }
}

impl RawProvider {
    fn checked(self) -> Result<CredentialSource, ConfigError> {
        let field = "credential_provider";
        match (
            self.inline_credential,
            self.instance_profile_credential_provider,
            self.container_credential_provider,
        ) {
            (Some(inline), None, None) => {
                let credentials = Credentials::new(
                    &inline.access_key_id,
                    &inline.secret_access_key,
                    inline.session_token.as_deref(),
                )
                .map_err(|e| {
                    let name = match e.field() {
                        sigv4_core::Field::AccessKeyId => "access_key_id",
                        sigv4_core::Field::SecretAccessKey => "secret_access_key",
                        _ => "session_token",
                    };
                    invalid(&format!("{field}.inline_credential.{name}"), e.to_string())
                })?;
                Ok(CredentialSource::Inline(credentials))
            }
            (None, Some(imds), None) => Ok(CredentialSource::InstanceProfile(endpoint(
                "credential_provider.instance_profile_credential_provider",
                imds.cluster,
                imds.authority,
                imds.timeout,
            )?)),
            (None, None, Some(c)) => {
                let at = "credential_provider.container_credential_provider";
                let endpoint = endpoint(at, c.cluster, c.authority, c.timeout)?;
                if !c.path.starts_with('/') {
                    return Err(invalid(&format!("{at}.path"), "must start with '/'"));
                }
                Ok(CredentialSource::Container {
                    endpoint,
                    path: c.path,
                    authorization_token: c.authorization_token.filter(|t| !t.is_empty()),
                })
            }
            _ => Err(invalid(
                field,
                "give exactly one of inline_credential, instance_profile_credential_provider \
                 or container_credential_provider",
            )),
        }
    }
}

fn endpoint(
    at: &str,
    cluster: String,
    authority: Option<String>,
    timeout: Option<String>,
) -> Result<Endpoint, ConfigError> {
    if cluster.is_empty() {
        return Err(invalid(
            &format!("{at}.cluster"),
            "must name an Envoy cluster",
        ));
    }
    let timeout_ms = match timeout {
        None => DEFAULT_FETCH_TIMEOUT_MS,
        Some(text) => match duration_secs(&text) {
            Ok(secs @ 1..=60) => secs * 1000,
            Ok(_) => return Err(invalid(&format!("{at}.timeout"), "must be 1s to 60s")),
            Err(m) => return Err(invalid(&format!("{at}.timeout"), m)),
        },
    };
    Ok(Endpoint {
        cluster,
        authority: authority.unwrap_or_else(|| "169.254.169.254".into()),
        timeout_ms,
    })
}

/// Whole seconds from a protobuf JSON duration (`"300s"`).
fn duration_secs(text: &str) -> Result<u64, &'static str> {
    text.strip_suffix('s')
        .and_then(|n| n.parse().ok())
        .ok_or("must be a duration in whole seconds, such as \"300s\"")
}

#[cfg(test)]
mod tests {
    use super::*;

    const INLINE: &str = r#""credential_provider": {"inline_credential": {"access_key_id": "AKID", "secret_access_key": "SECRET"}}"#;

    fn parse(body: &str) -> Result<Config, ConfigError> {
        Config::parse(format!("{{{body}}}").as_bytes())
    }

    #[test]
    fn reads_the_native_filters_fields() {
        let config = parse(&format!(
            r#""service_name": "s3", "region": "us-east-1", "host_rewrite": "bucket.s3.amazonaws.com",
               "use_unsigned_payload": true, "query_string": {{"expiration_time": "300s"}},
               "match_excluded_headers": [{{"exact": "X-Custom"}}, {{"prefix": "x-b3-"}}], {INLINE}"#
        ))
        .unwrap();
        assert_eq!(config.service, "s3");
        assert_eq!(
            config.host_rewrite.as_deref(),
            Some("bucket.s3.amazonaws.com")
        );
        assert!(config.unsigned_payload);
        assert_eq!(config.presign_secs, Some(300));
        assert!(config.excludes("x-custom") && config.excludes("x-b3-traceid"));
        assert!(config.excludes("x-forwarded-for") && config.excludes("x-envoy-attempt-count"));
        assert!(!config.excludes("x-amz-target"));
        assert!(matches!(config.credentials, CredentialSource::Inline(_)));
        assert_eq!(config.max_request_bytes, 1 << 20);
    }

    #[test]
    fn defaults_like_the_native_filter() {
        let config = parse(&format!(
            r#""service_name": "sts", "region": "eu-west-1", "query_string": {{}}, {INLINE}"#
        ))
        .unwrap();
        assert_eq!(config.presign_secs, Some(5));
        assert!(!config.unsigned_payload);
    }

    #[test]
    fn every_error_names_its_field() {
        let cases = [
            (r#""region": "us-east-1", "#.to_string() + INLINE, "service_name"),
            (
                format!(r#""service_name": "s3", "region": "us east", {INLINE}"#),
                "region",
            ),
            (
                format!(r#""service_name": "s3", "region": "r", "use_unsigned_payload": "yes", {INLINE}"#),
                "use_unsigned_payload",
            ),
            (
                format!(r#""service_name": "s3", "region": "r", "servce": "x", {INLINE}"#),
                "servce",
            ),
            (
                format!(
                    r#""service_name": "s3", "region": "r", "query_string": {{"expiration_time": "8d"}}, {INLINE}"#
                ),
                "query_string.expiration_time",
            ),
            (
                format!(
                    r#""service_name": "s3", "region": "r", "query_string": {{"expiration_time": "604801s"}}, {INLINE}"#
                ),
                "query_string.expiration_time",
            ),
            (
                format!(
                    r#""service_name": "s3", "region": "r", "match_excluded_headers": [{{"exact": "a"}}, {{"exact": "a", "prefix": "b"}}], {INLINE}"#
                ),
                "match_excluded_headers[1]",
            ),
            (
                r#""service_name": "s3", "region": "r", "credential_provider": {"inline_credential": {"access_key_id": "", "secret_access_key": "S"}}"#.into(),
                "credential_provider.inline_credential.access_key_id",
            ),
            (
                r#""service_name": "s3", "region": "r", "credential_provider": {}"#.into(),
                "credential_provider",
            ),
            (
                r#""service_name": "s3", "region": "r", "credential_provider": {"container_credential_provider": {"cluster": "ecs", "path": "v2/creds"}}"#.into(),
                "credential_provider.container_credential_provider.path",
            ),
            (
                r#""service_name": "s3", "region": "r", "credential_provider": {"instance_profile_credential_provider": {"cluster": ""}}"#.into(),
                "credential_provider.instance_profile_credential_provider.cluster",
            ),
        ];
        for (body, field) in cases {
            let error = parse(&body).unwrap_err();
            assert_eq!(error.field, field, "{body}: {error}");
        }
    }

    #[test]
    fn errors_never_quote_a_secret() {
        let body = r#""service_name": "s3", "region": "r", "credential_provider": {"inline_credential": {"access_key_id": "AKID", "secret_access_key": 7, "session_token": ["TOKENMARKER"]}}"#;
        let error = parse(body).unwrap_err().to_string();
        assert!(error.contains("secret_access_key"), "{error}");
        let body = r#""service_name": "s3", "region": "r", "credential_provider": {"inline_credential": {"access_key_id": "AKID", "secret_access_key": "S", "session_token": {"x": "TOKENMARKER"}}}"#;
        let error = parse(body).unwrap_err().to_string();
        assert!(!error.contains("TOKENMARKER"), "{error}");
    }

    #[test]
    fn credential_endpoints_through_clusters() {
        let config = parse(
            r#""service_name": "s3", "region": "r", "credential_provider": {"container_credential_provider": {"cluster": "ecs", "path": "/v2/credentials/abc", "authorization_token": "t", "timeout": "5s"}}"#,
        )
        .unwrap();
        match config.credentials {
            CredentialSource::Container {
                endpoint,
                path,
                authorization_token,
            } => {
                assert_eq!(endpoint.cluster, "ecs");
                assert_eq!(endpoint.timeout_ms, 5000);
                assert_eq!(path, "/v2/credentials/abc");
                assert_eq!(authorization_token.as_deref(), Some("t"));
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn debug_of_the_configuration_holds_no_token() {
        let container = parse(
            r#""service_name": "s3", "region": "r", "credential_provider": {"container_credential_provider": {"cluster": "ecs", "path": "/v2/credentials/abc", "authorization_token": "AUTHMARKER"}}"#,
        )
        .unwrap();
        let inline = parse(
            r#""service_name": "s3", "region": "r", "credential_provider": {"inline_credential": {"access_key_id": "AKID", "secret_access_key": "SECRETMARKER", "session_token": "TOKENMARKER"}}"#,
        )
        .unwrap();
        let shown = format!(
            "{container:?} {container:#?} {:?} {inline:?} {inline:#?}",
            container.credentials
        );
        for secret in ["AUTHMARKER", "SECRETMARKER", "TOKENMARKER"] {
            assert!(!shown.contains(secret), "{shown}");
        }
        assert!(shown.contains("authorization_token") && shown.contains("/v2/credentials/abc"));
    }
}
