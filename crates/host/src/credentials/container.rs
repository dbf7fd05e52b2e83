//! ECS and EKS container credentials: `AWS_CONTAINER_CREDENTIALS_RELATIVE_URI` (on
//! `http://169.254.170.2`) or `AWS_CONTAINER_CREDENTIALS_FULL_URI`, with the authorization token
//! from `AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE` or `AWS_CONTAINER_AUTHORIZATION_TOKEN`. The URL
//! checks, the token's and the document are `sigv4-credentials`'; this reads the file and calls.

use std::collections::HashMap;
use std::time::Duration;

use sigv4_credentials::container::{self, ContainerError, TokenSource};
use sigv4_credentials::document::parse_endpoint_document;
use zeroize::Zeroizing;

use super::http::{agent, call};
use super::{AwsCredentials, Provider, ProviderError};

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
        match container::endpoint(&self.env) {
            Ok(url) => Ok(url.into()),
            Err(ContainerError::NotConfigured) => Err(ProviderError::NotConfigured(
                ContainerError::NotConfigured.to_string(),
            )),
            Err(error) => Err(ProviderError::Failed(error.to_string())),
        }
    }

    fn authorization(&self) -> Result<Option<Zeroizing<String>>, ProviderError> {
        let failed = |e: ContainerError| ProviderError::Failed(e.to_string());
        match container::token_source(&self.env) {
            TokenSource::None => Ok(None),
            TokenSource::Value(token) => container::checked_token(&token).map(Some).map_err(failed),
            TokenSource::File(path) => {
                let text = std::fs::read_to_string(&path)
                    .map(Zeroizing::new)
                    .map_err(|e| {
                        ProviderError::Failed(format!(
                            "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE {path}: {e}"
                        ))
                    })?;
                container::token_from_file(&text).map(Some).map_err(failed)
            }
        }
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
        parse_endpoint_document(body.as_bytes())
            .map(|parsed| AwsCredentials::from_parsed(parsed, self.name()))
            .map_err(|e| failed(e.to_string()))
    }
}

#[cfg(test)]
mod bypass_tests {
    use super::*;

    fn url_of(name: &str, value: &str) -> Result<String, ProviderError> {
        ContainerProvider::from_env(HashMap::from([(name.to_string(), value.to_string())])).url()
    }

    /// `http://127.evil.example/` passed the old prefix check: its host is not loopback.
    #[test]
    fn full_uri_host_starting_with_127_is_refused() {
        let got = url_of(
            "AWS_CONTAINER_CREDENTIALS_FULL_URI",
            "http://127.evil.example/",
        );
        assert!(
            matches!(&got, Err(ProviderError::Failed(why)) if why.contains("127.evil.example")),
            "{got:?}"
        );
    }

    /// `http://127.0.0.1:1@evil.example/` is user `127.0.0.1`, password `1`, host evil.example.
    #[test]
    fn full_uri_with_userinfo_is_refused() {
        let got = url_of(
            "AWS_CONTAINER_CREDENTIALS_FULL_URI",
            "http://127.0.0.1:1@evil.example/",
        );
        assert!(
            matches!(&got, Err(ProviderError::Failed(why)) if why.contains("user or password")),
            "{got:?}"
        );
    }

    /// `@evil.example/x` after `http://169.254.170.2` makes the ECS address a user name.
    #[test]
    fn relative_uri_not_starting_with_a_slash_is_refused() {
        let got = url_of("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "@evil.example/x");
        assert!(
            matches!(&got, Err(ProviderError::Failed(why)) if why.contains("does not start with '/'")),
            "{got:?}"
        );
    }

    #[test]
    fn allowed_urls_are_kept() {
        assert_eq!(
            url_of(
                "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
                "/v2/credentials/x"
            ),
            Ok("http://169.254.170.2/v2/credentials/x".into())
        );
        assert_eq!(
            url_of(
                "AWS_CONTAINER_CREDENTIALS_FULL_URI",
                "http://127.0.0.1:8080/c"
            ),
            Ok("http://127.0.0.1:8080/c".into())
        );
    }
}
