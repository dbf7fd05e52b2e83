//! EC2 instance metadata (IMDSv2): a session token from `PUT /latest/api/token` (with a TTL),
//! then the instance role's credentials. IMDSv1 (no token) is off unless asked for.

use std::collections::HashMap;
use std::time::Duration;

use zeroize::Zeroizing;

use super::http::{agent, call};
use super::{AwsCredentials, Provider, ProviderError, parse_time};

const DEFAULT_ENDPOINT: &str = "http://169.254.169.254";
const TOKEN_TTL_SECONDS: &str = "21600";
const CREDENTIALS_PATH: &str = "/latest/meta-data/iam/security-credentials/";

/// The instance role's credentials from IMDSv2.
pub struct ImdsProvider {
    endpoint: Option<String>,
    timeout: Duration,
    /// Fall back to IMDSv1 (no session token) when the token request fails.
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
        let (endpoint, agent, token) = self.session()?;
        let headers = token_header(token.as_ref().map(|t| t.as_str()));
        let answer = call(
            &agent,
            "GET",
            &format!("{endpoint}/latest/meta-data/placement/region"),
            &headers,
        )
        .map_err(ProviderError::Failed)?;
        match answer.status {
            200 => Ok(answer.body.trim().to_string()),
            status => Err(ProviderError::Failed(format!(
                "IMDS answered {status} for the region"
            ))),
        }
    }

    /// The endpoint, an agent, and the session token (none under the IMDSv1 fallback).
    fn session(&self) -> Result<(&str, ureq::Agent, Option<Zeroizing<String>>), ProviderError> {
        let endpoint = self.endpoint.as_deref().ok_or_else(|| {
            ProviderError::NotConfigured("AWS_EC2_METADATA_DISABLED is true".into())
        })?;
        let agent = agent(self.timeout);
        let url = format!("{endpoint}/latest/api/token");
        let token = call(
            &agent,
            "PUT",
            &url,
            &[("x-aws-ec2-metadata-token-ttl-seconds", TOKEN_TTL_SECONDS)],
        );
        match token {
            Ok(answer) if answer.status == 200 => {
                Ok((endpoint, agent, Some(Zeroizing::new(answer.body))))
            }
            Ok(_) | Err(_) if self.allow_v1_fallback => Ok((endpoint, agent, None)),
            Ok(answer) => Err(ProviderError::Failed(format!(
                "IMDSv2 token request answered {} (IMDSv1 fallback is off)",
                answer.status
            ))),
            // Nothing listening: not on EC2.
            Err(error) => Err(ProviderError::NotConfigured(format!(
                "no instance metadata service: {error}"
            ))),
        }
    }
}

fn token_header(token: Option<&str>) -> Vec<(&'static str, &str)> {
    token
        .map(|t| vec![("x-aws-ec2-metadata-token", t)])
        .unwrap_or_default()
}

impl Provider for ImdsProvider {
    fn name(&self) -> &'static str {
        "imds"
    }

    fn provide(&self) -> Result<AwsCredentials, ProviderError> {
        let (endpoint, agent, token) = self.session()?;
        let headers = token_header(token.as_ref().map(|t| t.as_str()));
        let failed = |why: String| ProviderError::Failed(format!("IMDS: {why}"));
        let roles = call(
            &agent,
            "GET",
            &format!("{endpoint}{CREDENTIALS_PATH}"),
            &headers,
        )
        .map_err(failed)?;
        match roles.status {
            200 => {}
            404 => {
                return Err(ProviderError::NotConfigured(
                    "the instance has no IAM role".into(),
                ));
            }
            status => {
                return Err(failed(format!(
                    "listing the instance role answered {status}"
                )));
            }
        }
        let role = roles.body.lines().next().unwrap_or_default().trim();
        if role.is_empty() {
            return Err(ProviderError::NotConfigured(
                "the instance has no IAM role".into(),
            ));
        }
        let answer = call(
            &agent,
            "GET",
            &format!("{endpoint}{CREDENTIALS_PATH}{role}"),
            &headers,
        )
        .map_err(failed)?;
        if answer.status != 200 {
            return Err(failed(format!(
                "the credentials of role {role} answered {}",
                answer.status
            )));
        }
        let body = Zeroizing::new(answer.body);
        credentials_document(&body, "Token", self.name()).map_err(failed)
    }
}

/// Parses the credentials JSON of IMDS and of the container endpoint.
pub(crate) fn credentials_document(
    body: &str,
    token_key: &str,
    provider: &'static str,
) -> Result<AwsCredentials, String> {
    let json: serde_json::Value =
        serde_json::from_str(body).map_err(|e| format!("the credentials are not JSON ({e})"))?;
    if let Some(code) = json["Code"].as_str().filter(|c| *c != "Success") {
        return Err(format!("the credentials document says Code {code:?}"));
    }
    let text = |key: &str| json[key].as_str().map(String::from);
    let (Some(access_key_id), Some(secret)) = (text("AccessKeyId"), text("SecretAccessKey")) else {
        return Err("the credentials document lacks AccessKeyId or SecretAccessKey".into());
    };
    let expiration = match text("Expiration") {
        Some(when) => {
            Some(parse_time(&when).ok_or_else(|| format!("Expiration {when:?} is not RFC 3339"))?)
        }
        None => None,
    };
    Ok(AwsCredentials {
        access_key_id,
        secret_access_key: Zeroizing::new(secret),
        session_token: text(token_key).map(Zeroizing::new),
        expiration,
        provider,
    })
}
