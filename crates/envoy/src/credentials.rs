//! Credentials fetched over HTTP through an Envoy cluster (IMDSv2 or the container endpoint), and
//! the cache that refreshes them ahead of expiry. No I/O here, and no rules of its own: the
//! IMDSv2 handshake, the documents and the refresh policy are `sigv4-credentials`', which the
//! wasmtime host drives too; the filter dispatches the calls these steps ask for and feeds back
//! the answers.

use std::fmt;

use sigv4_core::Credentials;
use sigv4_credentials::document::parse_endpoint_document;
use sigv4_credentials::imds::{self, Goal, Handshake, Outcome};
use sigv4_credentials::refresh::{Decision, RefreshState, mix, usable};
use sigv4_credentials::{HttpAnswer, HttpRequest, ParsedCredentials, RedactedHeaders};

use crate::config::{CredentialSource, Endpoint};

/// One HTTP call to dispatch to the credential endpoint's cluster. `Debug` hides the values of
/// the token headers (`authorization`, `x-aws-ec2-metadata-token`).
#[derive(PartialEq, Eq)]
pub struct Call {
    /// The Envoy cluster.
    pub cluster: String,
    /// Headers, pseudo-headers (`:method`, `:path`, `:authority`) first.
    pub headers: Vec<(String, String)>,
    /// Milliseconds before Envoy gives up.
    pub timeout_ms: u64,
}

impl fmt::Debug for Call {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Call")
            .field("cluster", &self.cluster)
            .field("headers", &RedactedHeaders(&self.headers))
            .field("timeout_ms", &self.timeout_ms)
            .finish()
    }
}

/// Credentials and when they expire (unix seconds; never for credentials without expiry).
#[derive(Debug)]
pub struct Fetched {
    /// The credentials.
    pub credentials: Credentials,
    /// Unix seconds at which they stop working.
    pub expires: Option<u64>,
}

impl Fetched {
    fn from_parsed(parsed: ParsedCredentials) -> Result<Fetched, String> {
        let credentials = Credentials::new(
            &parsed.access_key_id,
            &parsed.secret_access_key,
            parsed.session_token.as_deref().map(String::as_str),
        )
        .map_err(|e| e.to_string())?;
        Ok(Fetched {
            credentials,
            expires: parsed.expiration,
        })
    }
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
    /// IMDSv2 (no IMDSv1 fallback): the shared handshake, and where to send its requests.
    Imds(Handshake, Endpoint),
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

fn imds_call(endpoint: &Endpoint, request: &HttpRequest) -> Call {
    let headers: Vec<(&str, &str)> = request
        .headers
        .iter()
        .map(|(n, v)| (*n, v.as_str()))
        .collect();
    call(endpoint, request.method, &request.path, &headers)
}

impl Fetch {
    /// Starts fetching from `source`: the first call to dispatch. None for inline credentials.
    pub fn start(source: &CredentialSource) -> Option<(Fetch, Call)> {
        match source {
            CredentialSource::Inline(_) => None,
            CredentialSource::InstanceProfile(endpoint) => {
                let (handshake, request) = Handshake::start(Goal::Credentials, false);
                let first = imds_call(endpoint, &request);
                let endpoint = Endpoint {
                    cluster: endpoint.cluster.clone(),
                    authority: endpoint.authority.clone(),
                    timeout_ms: endpoint.timeout_ms,
                };
                let stage = Stage::Imds(handshake, endpoint);
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
        let status = u16::try_from(status).ok().filter(|s| *s != 0);
        match &mut self.stage {
            Stage::Imds(handshake, endpoint) => {
                match handshake.answer(HttpAnswer { status, body }) {
                    imds::Step::Send(request) => Step::Call(imds_call(endpoint, &request)),
                    imds::Step::Done(Ok(Outcome::Credentials(parsed))) => {
                        match Fetched::from_parsed(parsed) {
                            Ok(fetched) => Step::Done(fetched),
                            Err(why) => Step::Failed(format!("IMDSv2 role credentials: {why}")),
                        }
                    }
                    imds::Step::Done(Ok(Outcome::Region(_))) => {
                        Step::Failed("IMDSv2: no credentials".into())
                    }
                    imds::Step::Done(Err(error)) => Step::Failed(format!("IMDSv2: {error}")),
                }
            }
            Stage::Container => {
                const WHAT: &str = "container credentials endpoint";
                match status {
                    Some(200) => match parse_endpoint_document(body)
                        .map_err(|e| e.to_string())
                        .and_then(Fetched::from_parsed)
                    {
                        Ok(fetched) => Step::Done(fetched),
                        Err(why) => Step::Failed(format!("{WHAT}: {why}")),
                    },
                    Some(status) => Step::Failed(format!("{WHAT}: HTTP {status}")),
                    None => Step::Failed(format!(
                        "{WHAT}: no answer (connection failed or timed out)"
                    )),
                }
            }
        }
    }
}

/// The credentials in use and when to refresh them (times in unix milliseconds): the shared
/// refresh policy, ahead of expiry, backing off with jitter after failures.
#[derive(Default)]
pub struct Cache {
    current: Option<Fetched>,
    refresh: RefreshState,
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

    /// The credentials to sign with at `now_ms`: never expired ones.
    pub fn usable(&self, now_ms: u64) -> Option<&Credentials> {
        self.current
            .as_ref()
            .filter(|f| usable(f.expires, now_ms))
            .map(|f| &f.credentials)
    }

    /// Whether to start a fetch at `now_ms`: none in flight, not backing off after a failure,
    /// and no credentials or ones inside the refresh window.
    pub fn should_fetch(&self, now_ms: u64) -> bool {
        let current = self.current.as_ref().map(|f| f.expires);
        self.refresh.decide(now_ms, current) == Decision::Refresh
    }

    /// A fetch started.
    pub fn started(&mut self) {
        self.refresh.started();
    }

    /// A fetch ended: new credentials replace the old; a failure keeps the old ones (still used
    /// while they are valid) and backs off, with a jitter derived from the time.
    pub fn finished(&mut self, now_ms: u64, result: Result<Fetched, String>) {
        match result {
            Ok(fetched) => {
                self.refresh.succeeded();
                self.current = Some(fetched);
                self.last_error = None;
            }
            Err(reason) => {
                self.refresh.failed(now_ms, mix(now_ms));
                self.last_error = Some(reason);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sigv4_credentials::imds::CREDENTIALS_PATH as IMDS_CREDENTIALS_PATH;

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
        let (mut fetch, _) = Fetch::start(&imds()).unwrap();
        let _ = fetch.answer(200, b"T");
        let _ = fetch.answer(200, b"role");
        let doc = br#"{"Code":"AssumeRoleUnauthorizedAccess","Message":"x"}"#;
        let Step::Failed(why) = fetch.answer(200, doc) else {
            panic!()
        };
        assert!(why.contains("AssumeRoleUnauthorizedAccess"), "{why}");
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
        const S: u64 = 1000;
        let fetched = |expires| Fetched {
            credentials: Credentials::new("A", "S", None).unwrap(),
            expires: Some(expires),
        };
        let mut cache = Cache::default();
        assert!(cache.should_fetch(1000 * S) && cache.usable(1000 * S).is_none());
        cache.started();
        assert!(!cache.should_fetch(1000 * S), "one fetch at a time");
        cache.finished(1000 * S, Ok(fetched(2000)));
        assert!(cache.usable(1000 * S).is_some() && !cache.should_fetch(1000 * S));
        assert!(cache.should_fetch((2000 - 300) * S), "refresh ahead");
        cache.started();
        cache.finished(1800 * S, Err("IMDS down".into()));
        assert!(cache.usable(1800 * S).is_some(), "still valid: kept");
        assert!(!cache.should_fetch(1800 * S + 499), "backs off");
        assert!(
            cache.should_fetch(1801 * S),
            "for at most a second after one failure"
        );
        assert!(cache.usable(2000 * S).is_none(), "expired: never used");
        assert_eq!(cache.last_error.as_deref(), Some("IMDS down"));
        // Failures in a row back off longer.
        for _ in 0..10 {
            cache.started();
            cache.finished(1800 * S, Err("IMDS down".into()));
        }
        assert!(!cache.should_fetch(1829 * S), "backs off up to a minute");
        assert!(cache.should_fetch(1860 * S));
    }

    #[test]
    fn debug_of_a_call_holds_no_token() {
        let (mut fetch, _) = Fetch::start(&imds()).unwrap();
        let Step::Call(call) = fetch.answer(200, b"IMDSTOKENMARKER") else {
            panic!()
        };
        assert_eq!(
            header(&call, "x-aws-ec2-metadata-token"),
            Some("IMDSTOKENMARKER")
        );
        let shown = format!("{call:?} {call:#?}");
        assert!(!shown.contains("IMDSTOKENMARKER"), "{shown}");
        let source = CredentialSource::Container {
            endpoint: Endpoint {
                cluster: "ecs".into(),
                authority: "169.254.170.2".into(),
                timeout_ms: 1000,
            },
            path: "/v2/credentials/abc".into(),
            authorization_token: Some("AUTHMARKER".into()),
        };
        let (_, call) = Fetch::start(&source).unwrap();
        let shown = format!("{call:?} {call:#?}");
        assert!(
            !shown.contains("AUTHMARKER") && shown.contains("authorization"),
            "{shown}"
        );
    }

    /// The same answer as the wasmtime host's: an empty IMDSv2 token is refused.
    #[test]
    fn an_empty_imds_token_is_refused() {
        let (mut fetch, _) = Fetch::start(&imds()).unwrap();
        let Step::Failed(why) = fetch.answer(200, b"\n") else {
            panic!()
        };
        assert!(why.contains("empty token"), "{why}");
    }
}
