//! EC2 instance metadata (IMDSv2): the handshake of `sigv4-credentials` (a session token from
//! `PUT /latest/api/token`, then the instance role's credentials or the region), driven over
//! plain HTTP with timeouts. IMDSv1 (no token) is off unless asked for.

use std::collections::HashMap;
use std::time::Duration;

use sigv4_credentials::imds::{Goal, Handshake, ImdsError, Outcome, Step};
use sigv4_credentials::{HttpAnswer, HttpRequest};
use zeroize::Zeroizing;

use super::http::{agent, call};
use super::{AwsCredentials, Provider, ProviderError};

const DEFAULT_ENDPOINT: &str = "http://169.254.169.254";

/// The instance role's credentials from IMDSv2.
pub struct ImdsProvider {
    endpoint: Option<String>,
    timeout: Duration,
    /// Fall back to IMDSv1 (no session token) when the token request is answered 403, 404 or
    /// 405, or with an empty token.
    pub allow_v1_fallback: bool,
}

impl ImdsProvider {
    /// `AWS_EC2_METADATA_SERVICE_ENDPOINT` (default `http://169.254.169.254`), none when
    /// `AWS_EC2_METADATA_DISABLED` is true; 1-second timeouts, no IMDSv1 fallback.
    pub fn from_env(env: &HashMap<String, String>) -> Self {
        let disabled = env
            .get("AWS_EC2_METADATA_DISABLED")
            .is_some_and(|v| v.eq_ignore_ascii_case("true"));
        let endpoint = env
            .get("AWS_EC2_METADATA_SERVICE_ENDPOINT")
            .cloned()
            .unwrap_or_else(|| DEFAULT_ENDPOINT.into());
        ImdsProvider {
            endpoint: (!disabled).then(|| endpoint.trim_end_matches('/').to_string()),
            timeout: Duration::from_secs(1),
            allow_v1_fallback: false,
        }
    }

    /// With another per-request timeout.
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// The instance's region (`/latest/meta-data/placement/region`).
    pub fn region(&self) -> Result<String, ProviderError> {
        match self.run(Goal::Region)? {
            Outcome::Region(region) => Ok(region),
            Outcome::Credentials(_) => Err(ProviderError::Failed("IMDS: no region".into())),
        }
    }

    /// Drives the handshake to its end.
    fn run(&self, goal: Goal) -> Result<Outcome, ProviderError> {
        let endpoint = self.endpoint.as_deref().ok_or_else(|| {
            ProviderError::NotConfigured("AWS_EC2_METADATA_DISABLED is true".into())
        })?;
        let agent = agent(self.timeout);
        let (mut handshake, mut request) = Handshake::start(goal, self.allow_v1_fallback);
        let mut first = true;
        loop {
            let answer = send(&agent, endpoint, &request);
            if first && let Err(why) = &answer {
                // Nothing listening: not on EC2.
                return Err(ProviderError::NotConfigured(format!(
                    "no instance metadata service: {why}"
                )));
            }
            first = false;
            let (status, body) = match &answer {
                Ok((status, body)) => (Some(*status), body.as_bytes()),
                Err(_) => (None, &b""[..]),
            };
            match handshake.answer(HttpAnswer { status, body }) {
                Step::Send(next) => request = next,
                Step::Done(Ok(outcome)) => return Ok(outcome),
                Step::Done(Err(ImdsError::NoRole)) => {
                    return Err(ProviderError::NotConfigured(ImdsError::NoRole.to_string()));
                }
                Step::Done(Err(error)) => {
                    let why = match &answer {
                        Err(why) => format!("{error}: {why}"),
                        Ok(_) => error.to_string(),
                    };
                    return Err(ProviderError::Failed(why));
                }
            }
        }
    }
}

/// Sends one request of the handshake; the answer's body is zeroized (it may be a token or
/// credentials).
fn send(
    agent: &ureq::Agent,
    endpoint: &str,
    request: &HttpRequest,
) -> Result<(u16, Zeroizing<String>), String> {
    let headers: Vec<(&str, &str)> = request
        .headers
        .iter()
        .map(|(name, value)| (*name, value.as_str()))
        .collect();
    let url = format!("{endpoint}{}", request.path);
    call(agent, request.method, &url, &headers)
        .map(|answer| (answer.status, Zeroizing::new(answer.body)))
}

impl Provider for ImdsProvider {
    fn name(&self) -> &'static str {
        "imds"
    }

    fn provide(&self) -> Result<AwsCredentials, ProviderError> {
        match self.run(Goal::Credentials)? {
            Outcome::Credentials(parsed) => Ok(AwsCredentials::from_parsed(parsed, self.name())),
            Outcome::Region(_) => Err(ProviderError::Failed("IMDS: no credentials".into())),
        }
    }
}
