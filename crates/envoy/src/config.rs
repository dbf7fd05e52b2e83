//! The plugin configuration: JSON with the field names of Envoy's native
//! `envoy.filters.http.aws_request_signing` filter, checked once when the plugin starts. Every
//! error names the field it is about, so a bad configuration stops Envoy with a useful log line.

use std::collections::HashMap;
use std::fmt;

use serde::Deserialize;
use sigv4_core::{Algorithm, Credentials, SessionTokenMode, Settings, UriEncoding};
use sigv4_credentials::container::{self, ContainerError, TokenSource};

/// The most a presigned URL may live: 7 days, as SigV4 allows.
const MAX_EXPIRATION_SECS: u64 = 604_800;
/// The native filter's default presigned URL lifetime.
const DEFAULT_EXPIRATION_SECS: u64 = 5;
/// Bodies up to this size are buffered and hashed by default (Envoy's default buffer limit).
const DEFAULT_MAX_REQUEST_BYTES: usize = 1 << 20;
/// Credential endpoints get this long per call unless configured.
const DEFAULT_FETCH_TIMEOUT_MS: u64 = 2_000;
/// The Envoy cluster of the instance metadata service when the configuration names none: the
/// name the native filter gives the cluster it creates for itself. A wasm filter cannot create
/// clusters: define it (pointing at 169.254.169.254:80).
pub const IMDS_CLUSTER: &str = "ec2_instance_metadata_server_internal";
/// The Envoy cluster of the container credentials endpoint of the default chain: the native
/// filter's name. Define it pointing at the host and port of
/// `AWS_CONTAINER_CREDENTIALS_FULL_URI` (169.254.170.2:80 for `_RELATIVE_URI`).
pub const CONTAINER_CLUSTER: &str = "ecs_task_metadata_server_internal";
/// The address of the instance metadata service.
const IMDS_AUTHORITY: &str = "169.254.169.254";

/// A checked configuration.
#[derive(Debug)]
pub struct Config {
    /// The signing name of the service (`s3`, `sts`, `execute-api`, ...).
    pub service: String,
    /// How every request is signed (in headers, presigned, or as an aws-chunked upload): SigV4
    /// (`AWS_SIGV4`, the default) or SigV4a (`AWS_SIGV4A`), with the service's rules (S3's for
    /// the S3 family, the standard ones for every other service) and `signing_rules`' overrides.
    pub settings: Settings<'static>,
    /// The credential scope's region; with SigV4a the region set (`us-east-1,us-west-2`, `*`),
    /// sent and signed as `x-amz-region-set`.
    pub region: String,
    /// The `:authority` sent upstream and signed, instead of the client's.
    pub host_rewrite: Option<String>,
    /// Sign `UNSIGNED-PAYLOAD` and stream the body instead of buffering it to hash it.
    pub unsigned_payload: bool,
    /// Headers left out of the signature (they may change on the way).
    pub excluded: Vec<HeaderMatcher>,
    /// Presign (the signature in the query string) with this lifetime, instead of headers.
    pub presign_secs: Option<u64>,
    /// Bodies larger than this get 413 when they must be hashed (unless streamed).
    pub max_request_bytes: usize,
    /// S3 uploads with a `content-length` over `max_request_bytes` are sent as signed
    /// aws-chunked bodies, encoded chunk by chunk as they arrive, instead of answered 413.
    pub stream_large_bodies: bool,
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
    /// Absent: `AWS_REGION`, then `AWS_DEFAULT_REGION`, of the VM environment; with SigV4a,
    /// `AWS_SIGV4A_SIGNING_REGION_SET`.
    #[serde(default)]
    region: Option<String>,
    /// `AWS_SIGV4` (default) or `AWS_SIGV4A`: the native filter's enum, by name.
    #[serde(default)]
    signing_algorithm: Option<String>,
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
    #[serde(default)]
    stream_large_bodies: bool,
    /// Our extension (the native filter has none): overrides of the service's signing rules.
    #[serde(default)]
    signing_rules: RawSigningRules,
    /// Absent: the default chain, on the VM environment.
    #[serde(default)]
    credential_provider: Option<RawProvider>,
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

/// `signing_rules`: each field absent keeps the service's rule. The names are the core's
/// (`sigv4_core::Settings`); the two choices are strings, checked as `signing_algorithm` is.
#[derive(Deserialize, Default)]
#[serde(
    deny_unknown_fields,
    expecting = "an object of uri_encoding, normalize_path, content_sha256_header, session_token"
)]
struct RawSigningRules {
    /// `double` or `single`.
    #[serde(default)]
    uri_encoding: Option<String>,
    #[serde(default)]
    normalize_path: Option<bool>,
    #[serde(default)]
    content_sha256_header: Option<bool>,
    /// `signed` or `after_signing`.
    #[serde(default)]
    session_token: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawProvider {
    inline_credential: Option<RawInline>,
    instance_profile_credential_provider: Option<RawEndpoint>,
    container_credential_provider: Option<RawContainer>,
    /// `{}`: `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN` of the VM
    /// environment.
    environment_credential_provider: Option<RawEmpty>,
    /// The native filter's switch from its default chain to the providers given. Accepted: this
    /// filter uses exactly the one provider given anyway.
    #[serde(default)]
    #[allow(dead_code)]
    custom_credential_provider_chain: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEmpty {}

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
    /// Absent: [`IMDS_CLUSTER`].
    #[serde(default)]
    cluster: Option<String>,
    #[serde(default)]
    authority: Option<String>,
    #[serde(default)]
    timeout: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawContainer {
    /// Absent: [`CONTAINER_CLUSTER`].
    #[serde(default)]
    cluster: Option<String>,
    #[serde(default)]
    authority: Option<String>,
    #[serde(default)]
    timeout: Option<String>,
    /// Absent (`{}`, as on the native filter): the endpoint the VM environment's
    /// `AWS_CONTAINER_CREDENTIALS_*` variables name.
    #[serde(default)]
    path: Option<String>,
    #[serde(default)]
    authorization_token: Option<String>,
}

impl Config {
    /// Parses and checks the plugin configuration; `env` is the VM's environment (the region
    /// and the credentials of the default chain when the configuration gives none).
    pub fn parse(json: &[u8], env: &HashMap<String, String>) -> Result<Config, ConfigError> {
        let mut de = serde_json::Deserializer::from_slice(json);
        let raw: Raw = serde_path_to_error::deserialize(&mut de).map_err(|e| {
            let message = redacted(e.inner());
            invalid(&field_of(&e.path().to_string(), &message), message)
        })?;
        let algorithm = match raw.signing_algorithm.as_deref() {
            None | Some("AWS_SIGV4") => Algorithm::SigV4,
            Some("AWS_SIGV4A") => Algorithm::SigV4a,
            Some(_) => {
                return Err(invalid(
                    "signing_algorithm",
                    "must be AWS_SIGV4 (the default) or AWS_SIGV4A",
                ));
            }
        };
        let region = region(raw.region, algorithm, env)?;
        sigv4_core::check_scope(&region, &raw.service_name).map_err(|e| {
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
        let settings = raw.signing_rules.applied(Settings {
            algorithm,
            ..Settings::for_service(&raw.service_name)
        })?;
        if raw.stream_large_bodies {
            let why = if !sigv4_core::uses_s3_rules(&raw.service_name) {
                Some("aws-chunked uploads are S3's: service_name must be s3 (or s3express, ...)")
            } else if algorithm != Algorithm::SigV4 {
                Some("aws-chunked uploads are signed with AWS_SIGV4 only")
            } else if raw.use_unsigned_payload || presign_secs.is_some() {
                Some("the body already streams with use_unsigned_payload or query_string")
            } else {
                None
            };
            if let Some(why) = why {
                return Err(invalid("stream_large_bodies", why));
            }
            // aws-chunked uploads always sign `x-amz-content-sha256` (it names the streaming
            // payload): asked not to, small and large bodies would be signed by other rules.
            if !settings.content_sha256_header {
                return Err(invalid(
                    "signing_rules.content_sha256_header",
                    "cannot be false with stream_large_bodies: aws-chunked uploads sign \
                     x-amz-content-sha256 (STREAMING-AWS4-HMAC-SHA256-PAYLOAD)",
                ));
            }
        }
        let credentials = match raw.credential_provider {
            Some(provider) => provider.checked(env)?,
            None => default_chain(env)?,
        };
        Ok(Config {
            service: raw.service_name,
            settings,
            region,
            host_rewrite,
            unsigned_payload: raw.use_unsigned_payload,
            excluded,
            presign_secs,
            max_request_bytes,
            stream_large_bodies: raw.stream_large_bodies,
            credentials,
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

/// The region, or SigV4a's region set: configured, else from the VM environment as the native
/// filter takes it from Envoy's (`AWS_REGION`, then `AWS_DEFAULT_REGION`; for SigV4a
/// `AWS_SIGV4A_SIGNING_REGION_SET`, never a single region of the environment: a SigV4a signature
/// is valid exactly in the regions it names). A region set is checked as the core signs it:
/// names separated by commas, none empty, no spaces (`us-east-1,us-west-2`, `*`, `us-*`).
fn region(
    configured: Option<String>,
    algorithm: Algorithm,
    env: &HashMap<String, String>,
) -> Result<String, ConfigError> {
    let (names, missing): (&[&str], &str) = match algorithm {
        Algorithm::SigV4 => (
            &["AWS_REGION", "AWS_DEFAULT_REGION"],
            "missing, and the VM environment has neither AWS_REGION nor AWS_DEFAULT_REGION \
             (vm_config.environment_variables)",
        ),
        Algorithm::SigV4a => (
            &["AWS_SIGV4A_SIGNING_REGION_SET"],
            "missing: with signing_algorithm AWS_SIGV4A it is the region set (such as \
             \"us-east-1,us-west-2\" or \"*\"), and the VM environment has no \
             AWS_SIGV4A_SIGNING_REGION_SET (vm_config.environment_variables)",
        ),
    };
    let region = match configured {
        Some(region) => region,
        None => names
            .iter()
            .find_map(|name| get(env, name))
            .ok_or_else(|| invalid("region", missing))?
            .to_string(),
    };
    if algorithm == Algorithm::SigV4a {
        sigv4_core::check_region_set(&region).map_err(|e| {
            invalid(
                "region",
                format!(
                    "not a SigV4a region set ({e}): region names or patterns separated by \
                     commas, without spaces, such as \"us-east-1,us-west-2\" or \"*\""
                ),
            )
        })?;
    }
    Ok(region)
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

impl RawSigningRules {
    /// `rules` (the service's) with the configured overrides.
    fn applied(self, rules: Settings<'static>) -> Result<Settings<'static>, ConfigError> {
        Ok(Settings {
            uri_encoding: match self.uri_encoding.as_deref() {
                None => rules.uri_encoding,
                Some("double") => UriEncoding::Double,
                Some("single") => UriEncoding::Single,
                Some(_) => {
                    return Err(invalid(
                        "signing_rules.uri_encoding",
                        "must be double (the path encoded once more, as every service but S3 \
                         computes) or single (the path as sent, as S3 computes)",
                    ));
                }
            },
            normalize_path: self.normalize_path.unwrap_or(rules.normalize_path),
            content_sha256_header: self
                .content_sha256_header
                .unwrap_or(rules.content_sha256_header),
            session_token: match self.session_token.as_deref() {
                None => rules.session_token,
                Some("signed") => SessionTokenMode::Signed,
                Some("after_signing") => SessionTokenMode::AfterSigning,
                Some(_) => {
                    return Err(invalid(
                        "signing_rules.session_token",
                        "must be signed (x-amz-security-token signed) or after_signing (added \
                         after signing, outside the signature)",
                    ));
                }
            },
            ..rules
        })
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

/// A variable of the VM environment, if set and not empty.
fn get<'a>(env: &'a HashMap<String, String>, name: &str) -> Option<&'a str> {
    env.get(name).map(String::as_str).filter(|v| !v.is_empty())
}

/// Credentials of the VM environment, if it has an access key and a secret.
fn environment_credentials(
    env: &HashMap<String, String>,
    field: &str,
) -> Option<Result<Credentials, ConfigError>> {
    let id = get(env, "AWS_ACCESS_KEY_ID")?;
    let secret = get(env, "AWS_SECRET_ACCESS_KEY")?;
    Some(
        Credentials::new(id, secret, get(env, "AWS_SESSION_TOKEN"))
            .map_err(|e| invalid(field, format!("the VM environment's credentials: {e}"))),
    )
}

/// The default chain when `credential_provider` is absent, as the native filter's (and the AWS
/// SDKs'): the VM environment's credentials; else the container endpoint its
/// `AWS_CONTAINER_CREDENTIALS_*` variables name, through [`CONTAINER_CLUSTER`]; else the
/// instance profile through [`IMDS_CLUSTER`]. The environment is fixed for the VM's life, so the
/// choice is made once. (The shared config and credentials files are files: not readable.)
fn default_chain(env: &HashMap<String, String>) -> Result<CredentialSource, ConfigError> {
    let field = "credential_provider";
    if let Some(credentials) = environment_credentials(env, field) {
        return Ok(CredentialSource::Inline(credentials?));
    }
    // The endpoint checked as every host checks it (sigv4-credentials).
    match container::endpoint(env) {
        Ok(endpoint) => {
            return container_from_env(endpoint.authority, endpoint.path_and_query, env, field);
        }
        Err(ContainerError::NotConfigured) => {}
        Err(e) => return Err(invalid(field, format!("the default chain: {e}"))),
    }
    if get(env, "AWS_EC2_METADATA_DISABLED").is_some_and(|v| v.eq_ignore_ascii_case("true")) {
        return Err(invalid(
            field,
            "missing, and the default chain found nothing: no AWS_ACCESS_KEY_ID and \
             AWS_SECRET_ACCESS_KEY, no AWS_CONTAINER_CREDENTIALS_RELATIVE_URI or _FULL_URI in \
             the VM environment, and AWS_EC2_METADATA_DISABLED is true",
        ));
    }
    Ok(CredentialSource::InstanceProfile(Endpoint {
        cluster: IMDS_CLUSTER.into(),
        authority: IMDS_AUTHORITY.into(),
        timeout_ms: DEFAULT_FETCH_TIMEOUT_MS,
    }))
}

/// The container endpoint through [`CONTAINER_CLUSTER`],
/// with the token of `AWS_CONTAINER_AUTHORIZATION_TOKEN`. A token file cannot be read: Envoy's
/// proxy-wasm host has no WASI file system (`fd_prestat_get` answers EBADF, `path_open` ENOENT).
fn container_from_env(
    authority: String,
    path: String,
    env: &HashMap<String, String>,
    field: &str,
) -> Result<CredentialSource, ConfigError> {
    Ok(CredentialSource::Container {
        endpoint: Endpoint {
            cluster: CONTAINER_CLUSTER.into(),
            authority,
            timeout_ms: DEFAULT_FETCH_TIMEOUT_MS,
        },
        path,
        authorization_token: container_token(env, field)?,
    })
}

/// `AWS_CONTAINER_AUTHORIZATION_TOKEN` of the VM environment, checked.
fn container_token(
    env: &HashMap<String, String>,
    field: &str,
) -> Result<Option<String>, ConfigError> {
    Ok(match container::token_source(env) {
        TokenSource::None => None,
        TokenSource::Value(token) => Some(
            container::checked_token(&token)
                .map_err(|e| invalid(field, e.to_string()))?
                .to_string(),
        ),
        TokenSource::File(_) => {
            return Err(invalid(
                field,
                "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE is set, and a wasm filter cannot read \
                 files (Envoy's proxy-wasm host has no WASI file system: no preopens, path_open \
                 answers ENOENT): give the token in AWS_CONTAINER_AUTHORIZATION_TOKEN instead \
                 (and leave _FILE out of the VM environment)",
            ));
        }
    })
}

impl RawProvider {
    fn checked(self, env: &HashMap<String, String>) -> Result<CredentialSource, ConfigError> {
        let field = "credential_provider";
        match (
            self.inline_credential,
            self.instance_profile_credential_provider,
            self.container_credential_provider,
            self.environment_credential_provider,
        ) {
            (None, None, None, Some(RawEmpty {})) => {
                let field = "credential_provider.environment_credential_provider";
                match environment_credentials(env, field) {
                    Some(credentials) => Ok(CredentialSource::Inline(credentials?)),
                    None => Err(invalid(
                        field,
                        "the VM environment has no AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY \
                         (vm_config.environment_variables)",
                    )),
                }
            }
            (Some(inline), None, None, None) => {
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
            (None, Some(imds), None, None) => Ok(CredentialSource::InstanceProfile(endpoint(
                "credential_provider.instance_profile_credential_provider",
                imds.cluster.unwrap_or_else(|| IMDS_CLUSTER.into()),
                imds.authority,
                imds.timeout,
            )?)),
            (None, None, Some(c), None) => {
                let at = "credential_provider.container_credential_provider";
                let cluster = c.cluster.unwrap_or_else(|| CONTAINER_CLUSTER.into());
                let Some(path) = c.path else {
                    // `{}`, as on the native filter: the endpoint and the token the VM
                    // environment names, checked as every host checks them.
                    let found = container::endpoint(env).map_err(|e| {
                        invalid(at, format!("{e} (vm_config.environment_variables)"))
                    })?;
                    let authorization_token = match c.authorization_token {
                        Some(token) => Some(token),
                        None => container_token(env, at)?,
                    };
                    return Ok(CredentialSource::Container {
                        endpoint: endpoint(at, cluster, Some(found.authority), c.timeout)?,
                        path: found.path_and_query,
                        authorization_token: authorization_token.filter(|t| !t.is_empty()),
                    });
                };
                let endpoint = endpoint(at, cluster, c.authority, c.timeout)?;
                if !path.starts_with('/') {
                    return Err(invalid(&format!("{at}.path"), "must start with '/'"));
                }
                Ok(CredentialSource::Container {
                    endpoint,
                    path,
                    authorization_token: c.authorization_token.filter(|t| !t.is_empty()),
                })
            }
            _ => Err(invalid(
                field,
                "give exactly one of inline_credential, instance_profile_credential_provider, \
                 container_credential_provider or environment_credential_provider (or leave \
                 credential_provider out for the default chain)",
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
        authority: authority.unwrap_or_else(|| IMDS_AUTHORITY.into()),
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
        parse_in(body, &[])
    }

    fn parse_in(body: &str, env: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let env = env
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Config::parse(format!("{{{body}}}").as_bytes(), &env)
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
    fn sigv4a_takes_the_region_set_from_region_like_the_native_filter() {
        let config = parse(&format!(
            r#""service_name": "s3", "region": "us-east-1,us-west-2", "signing_algorithm": "AWS_SIGV4A", {INLINE}"#
        ))
        .unwrap();
        assert_eq!(config.settings.algorithm, Algorithm::SigV4a);
        assert_eq!(config.region, "us-east-1,us-west-2");
        for set in ["*", "us-*", "eu-west-1"] {
            let body = format!(
                r#""service_name": "s3", "region": "{set}", "signing_algorithm": "AWS_SIGV4A", {INLINE}"#
            );
            assert_eq!(parse(&body).unwrap().region, set);
        }
        // The default, and said so.
        let v4 = format!(r#""service_name": "s3", "region": "r", {INLINE}"#);
        assert_eq!(parse(&v4).unwrap().settings.algorithm, Algorithm::SigV4);
        let v4 = format!(
            r#""service_name": "s3", "region": "r", "signing_algorithm": "AWS_SIGV4", {INLINE}"#
        );
        assert_eq!(parse(&v4).unwrap().settings.algorithm, Algorithm::SigV4);
        // Absent, the region set comes from AWS_SIGV4A_SIGNING_REGION_SET, never AWS_REGION.
        let body = format!(r#""service_name": "s3", "signing_algorithm": "AWS_SIGV4A", {INLINE}"#);
        let set = [
            ("AWS_SIGV4A_SIGNING_REGION_SET", "*"),
            ("AWS_REGION", "eu-west-3"),
        ];
        assert_eq!(parse_in(&body, &set).unwrap().region, "*");
        let error = parse_in(&body, &[("AWS_REGION", "eu-west-3")]).unwrap_err();
        assert_eq!(error.field, "region");
        assert!(
            error.message.contains("AWS_SIGV4A_SIGNING_REGION_SET"),
            "{error}"
        );
    }

    #[test]
    fn bad_sigv4a_settings_name_their_field() {
        for (extra, field, says) in [
            (
                r#""region": "r", "signing_algorithm": "SIGV4A","#,
                "signing_algorithm",
                "AWS_SIGV4A",
            ),
            (
                r#""region": "r", "signing_algorithm": 1,"#,
                "signing_algorithm",
                "invalid type",
            ),
            (
                r#""region": "us-east-1, us-west-2", "signing_algorithm": "AWS_SIGV4A","#,
                "region",
                "without spaces",
            ),
            (
                r#""region": "us-east-1,", "signing_algorithm": "AWS_SIGV4A","#,
                "region",
                "region set",
            ),
            (
                r#""region": ",us-east-1", "signing_algorithm": "AWS_SIGV4A","#,
                "region",
                "region set",
            ),
            (
                r#""region": "", "signing_algorithm": "AWS_SIGV4A","#,
                "region",
                "region set",
            ),
            (
                r#""region": "us/east", "signing_algorithm": "AWS_SIGV4A","#,
                "region",
                "region set",
            ),
        ] {
            let body = format!(r#""service_name": "s3", {extra} {INLINE}"#);
            let error = parse(&body).unwrap_err();
            assert_eq!(error.field, field, "{body}: {error}");
            assert!(error.to_string().contains(says), "{body}: {error}");
        }
    }

    #[test]
    fn signing_rules_default_to_the_services_and_each_overrides_one_rule() {
        let settings = |service: &str, extra: &str| {
            let body = format!(r#""service_name": "{service}", "region": "r", {extra} {INLINE}"#);
            parse(&body).unwrap().settings
        };
        assert_eq!(settings("s3", ""), Settings::s3());
        assert_eq!(settings("S3-Outposts", ""), Settings::s3());
        assert_eq!(settings("execute-api", ""), Settings::default());
        assert_eq!(
            settings("execute-api", r#""signing_rules": {},"#),
            Settings::default()
        );
        assert_eq!(
            settings(
                "execute-api",
                r#""signing_rules": {"uri_encoding": "single", "normalize_path": false, "content_sha256_header": true, "session_token": "after_signing"},"#
            ),
            Settings {
                uri_encoding: UriEncoding::Single,
                normalize_path: false,
                content_sha256_header: true,
                session_token: SessionTokenMode::AfterSigning,
                ..Settings::default()
            }
        );
        // One field changes its rule only; the others stay the service's.
        assert_eq!(
            settings("s3", r#""signing_rules": {"uri_encoding": "double"},"#),
            Settings {
                uri_encoding: UriEncoding::Double,
                ..Settings::s3()
            }
        );
        assert_eq!(
            settings("s3", r#""signing_rules": {"normalize_path": true},"#),
            Settings {
                normalize_path: true,
                ..Settings::s3()
            }
        );
        assert_eq!(
            settings(
                "s3",
                r#""signing_rules": {"content_sha256_header": false},"#
            ),
            Settings {
                content_sha256_header: false,
                ..Settings::s3()
            }
        );
        assert_eq!(
            settings(
                "iotdevicegateway",
                r#""signing_rules": {"session_token": "after_signing"},"#
            ),
            Settings {
                session_token: SessionTokenMode::AfterSigning,
                ..Settings::default()
            }
        );
        // Values equal to the service's own are accepted, and change nothing.
        assert_eq!(
            settings(
                "sts",
                r#""signing_rules": {"uri_encoding": "double", "normalize_path": true, "content_sha256_header": false, "session_token": "signed"},"#
            ),
            Settings::default()
        );
        // The algorithm is kept beside the rules.
        assert_eq!(
            settings(
                "sts",
                r#""signing_algorithm": "AWS_SIGV4A", "signing_rules": {"normalize_path": false},"#
            ),
            Settings {
                algorithm: Algorithm::SigV4a,
                normalize_path: false,
                ..Settings::default()
            }
        );
        // aws-chunked uploads with S3's rules changed where they may be.
        let streamed = settings(
            "s3",
            r#""stream_large_bodies": true, "signing_rules": {"uri_encoding": "double", "normalize_path": true, "content_sha256_header": true},"#,
        );
        assert_eq!(
            streamed,
            Settings {
                uri_encoding: UriEncoding::Double,
                normalize_path: true,
                ..Settings::s3()
            }
        );
    }

    #[test]
    fn bad_signing_rules_name_their_field() {
        const ENCODING: &str = "must be double (the path encoded once more, as every service but \
                                S3 computes) or single (the path as sent, as S3 computes)";
        const TOKEN: &str = "must be signed (x-amz-security-token signed) or after_signing \
                             (added after signing, outside the signature)";
        for (rules, field, message) in [
            (
                r#"{"uri_encoding": "triple"}"#,
                "signing_rules.uri_encoding",
                ENCODING,
            ),
            (
                r#"{"uri_encoding": "Double"}"#,
                "signing_rules.uri_encoding",
                ENCODING,
            ),
            (
                r#"{"uri_encoding": 2}"#,
                "signing_rules.uri_encoding",
                "invalid type: integer `2`, expected a string",
            ),
            (
                r#"{"normalize_path": "false"}"#,
                "signing_rules.normalize_path",
                "invalid type: string, expected a boolean",
            ),
            (
                r#"{"content_sha256_header": 1}"#,
                "signing_rules.content_sha256_header",
                "invalid type: integer `1`, expected a boolean",
            ),
            (
                r#"{"session_token": "after"}"#,
                "signing_rules.session_token",
                TOKEN,
            ),
            (
                r#"{"session_token": true}"#,
                "signing_rules.session_token",
                "invalid type: boolean `true`, expected a string",
            ),
            (
                r#"{"normalise_path": false}"#,
                "signing_rules.normalise_path",
                "unknown field `normalise_path`, expected one of `uri_encoding`, \
                 `normalize_path`, `content_sha256_header`, `session_token`",
            ),
            (
                r#""single""#,
                "signing_rules",
                "invalid type: string, expected an object of uri_encoding, normalize_path, \
                 content_sha256_header, session_token",
            ),
        ] {
            let body = format!(
                r#""service_name": "execute-api", "region": "r", "signing_rules": {rules}, {INLINE}"#
            );
            let error = parse(&body).unwrap_err();
            assert_eq!(
                (error.field.as_str(), error.message.as_str()),
                (field, message),
                "{rules}"
            );
        }
        let body = format!(
            r#""service_name": "s3", "region": "r", "stream_large_bodies": true, "signing_rules": {{"content_sha256_header": false}}, {INLINE}"#
        );
        assert_eq!(
            parse(&body).unwrap_err(),
            invalid(
                "signing_rules.content_sha256_header",
                "cannot be false with stream_large_bodies: aws-chunked uploads sign \
                 x-amz-content-sha256 (STREAMING-AWS4-HMAC-SHA256-PAYLOAD)"
            )
        );
    }

    #[test]
    fn streaming_large_bodies_is_for_s3_with_sigv4_and_signed_payloads() {
        let body = format!(
            r#""service_name": "s3", "region": "r", "stream_large_bodies": true, {INLINE}"#
        );
        assert!(parse(&body).unwrap().stream_large_bodies);
        assert!(
            !parse(&format!(r#""service_name": "s3", "region": "r", {INLINE}"#))
                .unwrap()
                .stream_large_bodies
        );
        for (extra, says) in [
            (r#""service_name": "sts", "region": "r","#, "S3's"),
            (
                r#""service_name": "s3", "region": "r", "signing_algorithm": "AWS_SIGV4A","#,
                "AWS_SIGV4 only",
            ),
            (
                r#""service_name": "s3", "region": "r", "use_unsigned_payload": true,"#,
                "already streams",
            ),
            (
                r#""service_name": "s3", "region": "r", "query_string": {},"#,
                "already streams",
            ),
        ] {
            let body = format!(r#"{extra} "stream_large_bodies": true, {INLINE}"#);
            let error = parse(&body).unwrap_err();
            assert_eq!(error.field, "stream_large_bodies", "{body}");
            assert!(error.message.contains(says), "{error}");
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
    fn region_absent_comes_from_the_vm_environment() {
        let body = format!(r#""service_name": "s3", {INLINE}"#);
        let region = |env: &[(&str, &str)]| parse_in(&body, env).map(|c| c.region);
        assert_eq!(region(&[("AWS_REGION", "eu-west-3")]).unwrap(), "eu-west-3");
        let both = [
            ("AWS_DEFAULT_REGION", "us-west-2"),
            ("AWS_REGION", "eu-west-3"),
        ];
        assert_eq!(region(&both).unwrap(), "eu-west-3", "AWS_REGION first");
        let default = [("AWS_DEFAULT_REGION", "us-west-2"), ("AWS_REGION", "")];
        assert_eq!(region(&default).unwrap(), "us-west-2");
        let error = region(&[]).unwrap_err();
        assert_eq!(error.field, "region");
        assert!(error.message.contains("AWS_REGION"), "{error}");
        assert_eq!(
            region(&[("AWS_REGION", "us east")]).unwrap_err().field,
            "region"
        );
        // The configuration's region wins over the environment's.
        let given = format!(r#""service_name": "s3", "region": "ap-south-1", {INLINE}"#);
        let config = parse_in(&given, &[("AWS_REGION", "eu-west-3")]).unwrap();
        assert_eq!(config.region, "ap-south-1");
    }

    const KEYS: [(&str, &str); 3] = [
        ("AWS_ACCESS_KEY_ID", "AKIDENV"),
        ("AWS_SECRET_ACCESS_KEY", "SECRETENV"),
        ("AWS_SESSION_TOKEN", "TOKENENV"),
    ];

    fn chain(env: &[(&str, &str)]) -> Result<CredentialSource, ConfigError> {
        parse_in(r#""service_name": "s3", "region": "r""#, env).map(|c| c.credentials)
    }

    #[test]
    fn credential_provider_absent_is_the_default_chain_on_the_vm_environment() {
        // The environment's credentials come first.
        let mut env = KEYS.to_vec();
        env.push((
            "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
            "/v2/credentials/x",
        ));
        let CredentialSource::Inline(credentials) = chain(&env).unwrap() else {
            panic!()
        };
        assert_eq!(credentials.access_key_id(), "AKIDENV");
        assert_eq!(credentials.session_token(), Some("TOKENENV"));
        // Then the container endpoint, through the default cluster.
        let relative = [
            ("AWS_ACCESS_KEY_ID", "AKID-WITHOUT-SECRET"),
            (
                "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
                "/v2/credentials/x",
            ),
            ("AWS_CONTAINER_AUTHORIZATION_TOKEN", "AUTH"),
        ];
        let CredentialSource::Container {
            endpoint,
            path,
            authorization_token,
        } = chain(&relative).unwrap()
        else {
            panic!()
        };
        assert_eq!(endpoint.cluster, CONTAINER_CLUSTER);
        assert_eq!(endpoint.authority, "169.254.170.2");
        assert_eq!(path, "/v2/credentials/x");
        assert_eq!(authorization_token.as_deref(), Some("AUTH"));
        let full = [(
            "AWS_CONTAINER_CREDENTIALS_FULL_URI",
            "http://169.254.170.23:8080/v1/credentials?x=1#f",
        )];
        let CredentialSource::Container {
            endpoint,
            path,
            authorization_token,
        } = chain(&full).unwrap()
        else {
            panic!()
        };
        assert_eq!(endpoint.authority, "169.254.170.23:8080");
        assert_eq!(
            (path.as_str(), authorization_token),
            ("/v1/credentials?x=1", None)
        );
        // Then the instance profile, through the default cluster.
        let CredentialSource::InstanceProfile(endpoint) = chain(&[]).unwrap() else {
            panic!()
        };
        assert_eq!(endpoint.cluster, IMDS_CLUSTER);
        assert_eq!(endpoint.authority, "169.254.169.254");
        assert_eq!(endpoint.timeout_ms, 2000);
    }

    #[test]
    fn the_default_chain_refuses_what_it_cannot_use_and_names_it() {
        for (env, says) in [
            (
                vec![("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "v2/x")],
                "RELATIVE_URI",
            ),
            (
                vec![(
                    "AWS_CONTAINER_CREDENTIALS_FULL_URI",
                    "http://evil.example/x",
                )],
                "plain HTTP",
            ),
            (
                vec![(
                    "AWS_CONTAINER_CREDENTIALS_FULL_URI",
                    "http://127.0.0.1:1@evil/x",
                )],
                "user or password",
            ),
            (
                vec![("AWS_CONTAINER_CREDENTIALS_FULL_URI", "ftp://127.0.0.1/x")],
                "not http or https",
            ),
            (
                vec![
                    ("AWS_CONTAINER_CREDENTIALS_FULL_URI", "http://127.0.0.1/x"),
                    ("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", "/var/run/token"),
                ],
                "cannot read files",
            ),
            (
                vec![
                    ("AWS_CONTAINER_CREDENTIALS_FULL_URI", "http://127.0.0.1/x"),
                    ("AWS_CONTAINER_AUTHORIZATION_TOKEN", "a\nb"),
                ],
                "line break",
            ),
            (
                vec![("AWS_EC2_METADATA_DISABLED", "TRUE")],
                "AWS_EC2_METADATA_DISABLED",
            ),
        ] {
            let error = chain(&env).unwrap_err();
            assert_eq!(error.field, "credential_provider", "{env:?}");
            assert!(error.message.contains(says), "{env:?}: {error}");
        }
        // https goes anywhere.
        let https = [(
            "AWS_CONTAINER_CREDENTIALS_FULL_URI",
            "https://creds.example",
        )];
        let CredentialSource::Container { endpoint, path, .. } = chain(&https).unwrap() else {
            panic!()
        };
        assert_eq!(
            (endpoint.authority.as_str(), path.as_str()),
            ("creds.example", "/")
        );
        let v6 = [("AWS_CONTAINER_CREDENTIALS_FULL_URI", "http://[::1]:9/c")];
        assert!(chain(&v6).is_ok());
    }

    #[test]
    fn the_native_filters_provider_shapes() {
        // `instance_profile_credential_provider: {}`: the default cluster.
        let config = parse(
            r#""service_name": "s3", "region": "r", "credential_provider": {"instance_profile_credential_provider": {}}"#,
        )
        .unwrap();
        let CredentialSource::InstanceProfile(endpoint) = config.credentials else {
            panic!()
        };
        assert_eq!(endpoint.cluster, "ec2_instance_metadata_server_internal");
        // The environment provider, alone in a custom chain.
        let body = r#""service_name": "s3", "region": "r", "credential_provider": {"custom_credential_provider_chain": true, "environment_credential_provider": {}}"#;
        let CredentialSource::Inline(credentials) = parse_in(body, &KEYS).unwrap().credentials
        else {
            panic!()
        };
        assert_eq!(credentials.access_key_id(), "AKIDENV");
        let error = parse(body).unwrap_err();
        assert_eq!(
            error.field,
            "credential_provider.environment_credential_provider"
        );
        let body = r#""service_name": "s3", "region": "r", "credential_provider": {"environment_credential_provider": {}, "instance_profile_credential_provider": {}}"#;
        assert_eq!(
            parse_in(body, &KEYS).unwrap_err().field,
            "credential_provider"
        );
        // `container_credential_provider: {}`: the endpoint and token of the VM environment,
        // through the default cluster (refused before: cluster and path were required).
        let body = r#""service_name": "s3", "region": "r", "credential_provider": {"container_credential_provider": {}}"#;
        let env = [
            (
                "AWS_CONTAINER_CREDENTIALS_FULL_URI",
                "http://[fd00:ec2::23]/v1/credentials?a=1",
            ),
            ("AWS_CONTAINER_AUTHORIZATION_TOKEN", "TOKEN"),
        ];
        let CredentialSource::Container {
            endpoint,
            path,
            authorization_token,
        } = parse_in(body, &env).unwrap().credentials
        else {
            panic!()
        };
        assert_eq!(endpoint.cluster, CONTAINER_CLUSTER);
        assert_eq!(endpoint.authority, "[fd00:ec2::23]");
        assert_eq!(path, "/v1/credentials?a=1");
        assert_eq!(authorization_token.as_deref(), Some("TOKEN"));
        let error = parse(body).unwrap_err();
        assert_eq!(
            error.field,
            "credential_provider.container_credential_provider"
        );
        assert!(
            error
                .message
                .contains("_RELATIVE_URI and _FULL_URI are not set"),
            "{error}"
        );
    }

    #[test]
    fn errors_about_the_environment_never_quote_its_secrets() {
        let env = [
            ("AWS_ACCESS_KEY_ID", "AKID"),
            ("AWS_SECRET_ACCESS_KEY", "SECRET\nMARKER"),
        ];
        let shown = format!("{:?}", chain(&env));
        assert!(!shown.contains("MARKER"), "{shown}");
        let env = [
            ("AWS_CONTAINER_CREDENTIALS_FULL_URI", "http://127.0.0.1/x"),
            ("AWS_CONTAINER_AUTHORIZATION_TOKEN", "AUTH\nMARKER"),
        ];
        let shown = format!("{:?}", chain(&env));
        assert!(!shown.contains("MARKER"), "{shown}");
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
