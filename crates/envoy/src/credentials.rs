//! Credentials fetched over HTTP through an Envoy cluster (IMDSv2 or the container endpoint), and
//! the cache that refreshes them ahead of expiry. No I/O here: the filter dispatches the calls
//! these steps ask for and feeds back the answers.

use serde::Deserialize;
use sigv4_core::{Credentials, Timestamp};

use crate::config::{CredentialSource, Endpoint};

/// Refresh this long before the credentials expire (the AWS SDKs refresh 5 minutes ahead).
pub const REFRESH_AHEAD_SECS: u64 = 300;
/// After a failed fetch, wait this long before the next attempt.
pub const RETRY_AFTER_SECS: u64 = 5;
const IMDS_TOKEN_TTL_SECS: &str = "21600";
const IMDS_CREDENTIALS_PATH: &str = "/latest/meta-data/iam/security-credentials/";

/// One HTTP call to dispatch to the credential endpoint's cluster.
#[derive(Debug, PartialEq, Eq)]
pub struct Call {
    /// The Envoy cluster.
    pub cluster: String,
    /// Headers, pseudo-headers (`:method`, `:path`, `:authority`) first.
    pub headers: Vec<(String, String)>,
    /// Milliseconds before Envoy gives up.
    pub timeout_ms: u64,
}

/// Credentials and when they expire (unix seconds; never for credentials without expiry).
#[derive(Debug)]
pub struct Fetched {
    /// The credentials.
    pub credentials: Credentials,
    /// Unix seconds at which they stop working.
    pub expires: Option<u64>,
}

/// What a fetch does next.
pub enum Step {
    /// Dispatch this call and give its answer to [`Fetch::answer`].
    Call(Call),
    /// The credentials.
    Done(Fetched),
    /// The fetch failed (the message names the endpoint and the reason, never a secret).
    Failed(String),
}

/// A credential fetch in progress.
pub struct Fetch {
    stage: Stage,
}

enum Stage {
    /// IMDSv2: `PUT /latest/api/token` with a TTL.
    ImdsToken(Endpoint),
    /// IMDSv2: the instance role's name.
    ImdsRole(Endpoint, String),
    /// IMDSv2: the role's credentials.
    ImdsCredentials,
    /// The container endpoint's credentials document.
    Container,
}

fn call(endpoint: &Endpoint, method: &str, path: &str, extra: &[(&str, &str)]) -> Call {
    let mut headers = vec![
        (":method".to_string(), method.to_string()),
        (":path".to_string(), path.to_string()),
        (":authority".to_string(), endpoint.authority.clone()),
    ];
    headers.extend(extra.iter().map(|(n, v)| (n.to_string(), v.to_string())));
    Call {
        cluster: endpoint.cluster.clone(),
        headers,
        timeout_ms: endpoint.timeout_ms,
    }
}

impl Fetch {
    /// Starts fetching from `source`: the first call to dispatch. None for inline credentials.
    pub fn start(source: &CredentialSource) -> Option<(Fetch, Call)> {
        match source {
            CredentialSource::Inline(_) => None,
            CredentialSource::InstanceProfile(endpoint) => {
                let ttl = [("x-aws-ec2-metadata-token-ttl-seconds", IMDS_TOKEN_TTL_SECS)];
                let first = call(endpoint, "PUT", "/latest/api/token", &ttl);
                let stage = Stage::ImdsToken(Endpoint {
                    cluster: endpoint.cluster.clone(),
                    authority: endpoint.authority.clone(),
                    timeout_ms: endpoint.timeout_ms,
                });
                Some((Fetch { stage }, first))
            }
            CredentialSource::Container {
                endpoint,
                path,
                authorization_token,
            } => {
                let auth: Vec<(&str, &str)> = authorization_token
                    .iter()
                    .map(|t| ("authorization", t.as_str()))
                    .collect();
                let first = call(endpoint, "GET", path, &auth);
                Some((
                    Fetch {
                        stage: Stage::Container,
                    },
                    first,
                ))
            }
        }
    }

    /// The answer to the last call (`status` 0 when the call failed or timed out).
    pub fn answer(&mut self, status: u32, body: &[u8]) -> Step {
        let what = match self.stage {
            Stage::ImdsToken(_) => "IMDSv2 token (PUT /latest/api/token)",
            Stage::ImdsRole(..) => "IMDSv2 instance role",
            Stage::ImdsCredentials => "IMDSv2 role credentials",
            Stage::Container => "container credentials endpoint",
        };
        if status != 200 {
            return Step::Failed(match status {
                0 => format!("{what}: no answer (connection failed or timed out)"),
                _ => format!("{what}: HTTP {status}"),
            });
        }
        let text = String::from_utf8_lossy(body);
        match std::mem::replace(&mut self.stage, Stage::ImdsCredentials) {
            Stage::ImdsToken(endpoint) => {
                let token = text.trim().to_string();
                if token.is_empty() {
                    return Step::Failed(format!("{what}: empty token"));
                }
                let next = call(
                    &endpoint,
                    "GET",
                    IMDS_CREDENTIALS_PATH,
                    &[("x-aws-ec2-metadata-token", &token)],
                );
                self.stage = Stage::ImdsRole(endpoint, token);
                Step::Call(next)
            }
            Stage::ImdsRole(endpoint, token) => {
                let Some(role) = text.lines().map(str::trim).find(|l| !l.is_empty()) else {
                    return Step::Failed(format!("{what}: no role attached to the instance"));
                };
                let path = format!("{IMDS_CREDENTIALS_PATH}{role}");
                let next = call(
                    &endpoint,
                    "GET",
                    &path,
                    &[("x-aws-ec2-metadata-token", &token)],
                );
                self.stage = Stage::ImdsCredentials;
                Step::Call(next)
            }
            Stage::ImdsCredentials | Stage::Container => match parse_document(body) {
                Ok(fetched) => Step::Done(fetched),
                Err(reason) => Step::Failed(format!("{what}: {reason}")),
            },
        }
    }
}

/// The credentials document IMDS and the container endpoint serve.
#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Document {
    code: Option<String>,
    access_key_id: Option<String>,
    secret_access_key: Option<String>,
    token: Option<String>,
    expiration: Option<String>,
}

fn parse_document(body: &[u8]) -> Result<Fetched, String> {
    let doc: Document =
        serde_json::from_slice(body).map_err(|_| "the document is not JSON".to_string())?;
    if let Some(code) = doc.code.filter(|c| c != "Success") {
        return Err(format!("Code is {code:?}, not \"Success\""));
    }
    let (Some(id), Some(secret)) = (doc.access_key_id, doc.secret_access_key) else {
        return Err("AccessKeyId or SecretAccessKey is missing".into());
    };
    let credentials =
        Credentials::new(&id, &secret, doc.token.as_deref().filter(|t| !t.is_empty()))
            .map_err(|e| e.to_string())?;
    let expires = match doc.expiration {
        None => None,
        Some(text) => Some(
            Timestamp::parse_rfc3339(&text)
                .map_err(|_| format!("Expiration {text:?} is not RFC 3339"))?
                .unix_seconds(),
        ),
    };
    Ok(Fetched {
        credentials,
        expires,
    })
}

/// The credentials in use and when to refresh them.
#[derive(Default)]
pub struct Cache {
    current: Option<Fetched>,
    in_flight: bool,
    retry_at: u64,
    /// Why the last fetch failed, for requests that find no credentials.
    pub last_error: Option<String>,
}

impl Cache {
    /// Credentials that never expire (inline).
    pub fn fixed(credentials: Credentials) -> Self {
        Cache {
            current: Some(Fetched {
                credentials,
                expires: None,
            }),
            ..Cache::default()
        }
    }

    /// The credentials to sign with at `now`: never expired ones.
    pub fn usable(&self, now: u64) -> Option<&Credentials> {
        self.current
            .as_ref()
            .filter(|f| f.expires.is_none_or(|at| now < at))
            .map(|f| &f.credentials)
    }

    /// Whether to start a fetch at `now`: none in flight, not backing off after a failure, and no
    /// credentials or ones that expire within [`REFRESH_AHEAD_SECS`].
    pub fn should_fetch(&self, now: u64) -> bool {
        let stale = match &self.current {
            None => true,
            Some(f) => f.expires.is_some_and(|at| now + REFRESH_AHEAD_SECS >= at),
        };
        stale && !self.in_flight && now >= self.retry_at
    }

    /// A fetch started.
    pub fn started(&mut self) {
        self.in_flight = true;
    }

    /// A fetch ended: new credentials replace the old; a failure keeps the old ones (still used
    /// while they are valid) and backs off.
    pub fn finished(&mut self, now: u64, result: Result<Fetched, String>) {
        self.in_flight = false;
        match result {
            Ok(fetched) => {
                self.current = Some(fetched);
                self.last_error = None;
            }
            Err(reason) => {
                self.retry_at = now + RETRY_AFTER_SECS;
                self.last_error = Some(reason);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn imds() -> CredentialSource {
        CredentialSource::InstanceProfile(Endpoint {
            cluster: "imds".into(),
            authority: "169.254.169.254".into(),
            timeout_ms: 1000,
        })
    }

    fn header<'a>(call: &'a Call, name: &str) -> Option<&'a str> {
        call.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    const DOC: &[u8] = br#"{"Code":"Success","AccessKeyId":"ASIAEXAMPLE","SecretAccessKey":"SECRET","Token":"TOKEN","Expiration":"2030-01-01T00:00:00Z"}"#;

    #[test]
    fn imds_v2_takes_a_token_then_the_role_then_its_credentials() {
        let (mut fetch, first) = Fetch::start(&imds()).unwrap();
        assert_eq!(header(&first, ":method"), Some("PUT"));
        assert_eq!(header(&first, ":path"), Some("/latest/api/token"));
        assert_eq!(
            header(&first, "x-aws-ec2-metadata-token-ttl-seconds"),
            Some("21600")
        );
        let Step::Call(role) = fetch.answer(200, b"TOKEN-1") else {
            panic!("no role call")
        };
        assert_eq!(header(&role, ":path"), Some(IMDS_CREDENTIALS_PATH));
        assert_eq!(header(&role, "x-aws-ec2-metadata-token"), Some("TOKEN-1"));
        let Step::Call(creds) = fetch.answer(200, b"my-role\n") else {
            panic!("no credentials call")
        };
        assert_eq!(
            header(&creds, ":path"),
            Some("/latest/meta-data/iam/security-credentials/my-role")
        );
        assert_eq!(header(&creds, "x-aws-ec2-metadata-token"), Some("TOKEN-1"));
        let Step::Done(fetched) = fetch.answer(200, DOC) else {
            panic!("no credentials")
        };
        assert_eq!(fetched.credentials.access_key_id(), "ASIAEXAMPLE");
        assert_eq!(fetched.credentials.session_token(), Some("TOKEN"));
        assert_eq!(fetched.expires, Some(1_893_456_000));
    }

    #[test]
    fn failures_say_which_step_and_why() {
        let (mut fetch, _) = Fetch::start(&imds()).unwrap();
        let Step::Failed(why) = fetch.answer(401, b"") else {
            panic!()
        };
        assert!(why.contains("token") && why.contains("401"), "{why}");
        let (mut fetch, _) = Fetch::start(&imds()).unwrap();
        let _ = fetch.answer(200, b"T");
        let _ = fetch.answer(200, b"role");
        let Step::Failed(why) = fetch.answer(200, b"{not json") else {
            panic!()
        };
        assert!(why.contains("not JSON"), "{why}");
        let (mut fetch, _) = Fetch::start(&imds()).unwrap();
        let Step::Failed(why) = fetch.answer(0, b"") else {
            panic!()
        };
        assert!(why.contains("timed out"), "{why}");
        let doc = br#"{"Code":"AssumeRoleUnauthorizedAccess","Message":"x"}"#;
        assert!(
            parse_document(doc)
                .unwrap_err()
                .contains("AssumeRoleUnauthorizedAccess")
        );
        let doc = br#"{"AccessKeyId":"A","SecretAccessKey":"SECRETMARKER","Expiration":"soon"}"#;
        let why = parse_document(doc).unwrap_err();
        assert!(
            why.contains("soon") && !why.contains("SECRETMARKER"),
            "{why}"
        );
    }

    #[test]
    fn container_endpoint_sends_its_authorization_token() {
        let source = CredentialSource::Container {
            endpoint: Endpoint {
                cluster: "ecs".into(),
                authority: "169.254.170.2".into(),
                timeout_ms: 1000,
            },
            path: "/v2/credentials/abc".into(),
            authorization_token: Some("AUTH".into()),
        };
        let (mut fetch, first) = Fetch::start(&source).unwrap();
        assert_eq!(first.cluster, "ecs");
        assert_eq!(header(&first, ":path"), Some("/v2/credentials/abc"));
        assert_eq!(header(&first, "authorization"), Some("AUTH"));
        assert!(matches!(fetch.answer(200, DOC), Step::Done(_)));
    }

    #[test]
    fn cache_refreshes_ahead_keeps_valid_credentials_and_never_serves_expired_ones() {
        let fetched = |expires| Fetched {
            credentials: Credentials::new("A", "S", None).unwrap(),
            expires: Some(expires),
        };
        let mut cache = Cache::default();
        assert!(cache.should_fetch(1000) && cache.usable(1000).is_none());
        cache.started();
        assert!(!cache.should_fetch(1000), "one fetch at a time");
        cache.finished(1000, Ok(fetched(2000)));
        assert!(cache.usable(1000).is_some() && !cache.should_fetch(1000));
        assert!(
            cache.should_fetch(2000 - REFRESH_AHEAD_SECS),
            "refresh ahead"
        );
        cache.started();
        cache.finished(1800, Err("IMDS down".into()));
        assert!(cache.usable(1800).is_some(), "still valid: kept");
        assert!(!cache.should_fetch(1801), "backs off");
        assert!(cache.should_fetch(1800 + RETRY_AFTER_SECS));
        assert!(cache.usable(2000).is_none(), "expired: never used");
        assert_eq!(cache.last_error.as_deref(), Some("IMDS down"));
    }
}
