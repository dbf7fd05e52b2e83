//! ECS and EKS container credentials: `AWS_CONTAINER_CREDENTIALS_RELATIVE_URI` (on
//! `http://169.254.170.2`) or `AWS_CONTAINER_CREDENTIALS_FULL_URI`, with the authorization token
//! from `AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE` or `AWS_CONTAINER_AUTHORIZATION_TOKEN`.

use std::collections::HashMap;
use std::time::Duration;

use zeroize::Zeroizing;

use super::http::{agent, call};
use super::imds::credentials_document;
use super::{AwsCredentials, Provider, ProviderError};

const ECS_ENDPOINT: &str = "http://169.254.170.2";

/// Credentials from the container credentials endpoint.
pub struct ContainerProvider {
    env: HashMap<String, String>,
    timeout: Duration,
}

impl ContainerProvider {
    /// Reads its configuration from this environment when asked for credentials.
    pub fn from_env(env: HashMap<String, String>) -> Self {
        ContainerProvider {
            env,
            timeout: Duration::from_secs(2),
        }
    }

    fn url(&self) -> Result<String, ProviderError> {
        let get = |name: &str| self.env.get(name).filter(|v| !v.is_empty());
        if let Some(relative) = get("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI") {
            return Ok(format!("{ECS_ENDPOINT}{relative}"));
        }
        let Some(full) = get("AWS_CONTAINER_CREDENTIALS_FULL_URI") else {
            return Err(ProviderError::NotConfigured(
                "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI and _FULL_URI are not set".into(),
            ));
        };
        // Plain HTTP only to loopback or the ECS/EKS link-local endpoints, as the AWS SDKs allow.
        let host = full
            .strip_prefix("http://")
            .map(|rest| rest.split(['/', '?']).next().unwrap_or_default());
        if let Some(host) = host {
            let name = host.rsplit_once(':').map_or(host, |(name, _)| name);
            let allowed = matches!(
                name,
                "localhost"
                    | "127.0.0.1"
                    | "[::1]"
                    | "169.254.170.2"
                    | "169.254.170.23"
                    | "[fd00:ec2::23]"
            ) || name.starts_with("127.");
            if !allowed {
                return Err(ProviderError::Failed(format!(
                    "AWS_CONTAINER_CREDENTIALS_FULL_URI uses plain HTTP to {name}, which is neither loopback nor the ECS/EKS endpoint"
                )));
            }
        } else if !full.starts_with("https://") {
            return Err(ProviderError::Failed(
                "AWS_CONTAINER_CREDENTIALS_FULL_URI is not an http(s) URL".into(),
            ));
        }
        Ok(full.clone())
    }

    fn authorization(&self) -> Result<Option<Zeroizing<String>>, ProviderError> {
        if let Some(path) = self
            .env
            .get("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE")
            .filter(|p| !p.is_empty())
        {
            let token = std::fs::read_to_string(path).map_err(|e| {
                ProviderError::Failed(format!(
                    "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE {path}: {e}"
                ))
            })?;
            return Ok(Some(Zeroizing::new(token.trim().to_string())));
        }
        Ok(self
            .env
            .get("AWS_CONTAINER_AUTHORIZATION_TOKEN")
            .cloned()
            .map(Zeroizing::new))
    }
}

impl Provider for ContainerProvider {
    fn name(&self) -> &'static str {
        "container"
    }

    fn provide(&self) -> Result<AwsCredentials, ProviderError> {
        let url = self.url()?;
        let token = self.authorization()?;
        let headers: Vec<(&str, &str)> = token
            .as_deref()
            .map(|t| vec![("authorization", t.as_str())])
            .unwrap_or_default();
        let failed = |why: String| ProviderError::Failed(format!("container endpoint: {why}"));
        let answer = call(&agent(self.timeout), "GET", &url, &headers).map_err(failed)?;
        if answer.status != 200 {
            return Err(failed(format!("answered {}", answer.status)));
        }
        let body = Zeroizing::new(answer.body);
        credentials_document(&body, "Token", self.name()).map_err(failed)
    }
}
