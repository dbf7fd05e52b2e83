//! Credentials from STS: `AssumeRoleWithWebIdentity` (an OIDC token file and a role; unsigned)
//! and `AssumeRole` (signed, inside the component, with another provider's credentials).

use std::collections::HashMap;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use sigv4_credentials::document::{parse_sts_credentials, parse_sts_error};
use zeroize::Zeroizing;

use super::http::{call_with_body, sts_agent};
use super::oidc::{TokenFetcher, TokenSource};
use super::{AwsCredentials, Provider, ProviderError};
use crate::{CallError, Header, Payload, Request, SignerComponent, SignerConfig};

/// Where STS is: `AWS_ENDPOINT_URL_STS`, `AWS_ENDPOINT_URL`, else the regional endpoint.
#[derive(Clone, Debug)]
pub struct StsEndpoint {
    url: String,
    region: String,
}

impl StsEndpoint {
    /// The endpoint this environment names, for `region` (default us-east-1).
    pub fn from_env(env: &HashMap<String, String>, region: Option<String>) -> Self {
        let region = region.unwrap_or_else(|| "us-east-1".into());
        let url = ["AWS_ENDPOINT_URL_STS", "AWS_ENDPOINT_URL"]
            .iter()
            .find_map(|v| env.get(*v).filter(|u| !u.is_empty()).cloned())
            .unwrap_or_else(|| format!("https://sts.{region}.amazonaws.com"));
        StsEndpoint {
            url: url.trim_end_matches('/').to_string() + "/",
            region,
        }
    }

    /// Posts a form to STS, signed when `credentials` are given; returns the answer's XML.
    fn post(
        &self,
        form: &[(&str, &str)],
        credentials: Option<&AwsCredentials>,
    ) -> Result<Zeroizing<String>, ProviderError> {
        let failed = |why: String| ProviderError::Failed(format!("STS: {why}"));
        let mut body = form_urlencoded::Serializer::new(String::new());
        for (name, value) in form {
            body.append_pair(name, value);
        }
        let body = Zeroizing::new(body.finish());
        let mut headers = vec![(
            "content-type".to_string(),
            "application/x-www-form-urlencoded; charset=utf-8".to_string(),
        )];
        if let Some(credentials) = credentials {
            let request = Request {
                method: "POST".into(),
                uri: self.url.clone(),
                headers: headers
                    .iter()
                    .map(|(n, v)| Header {
                        name: n.clone(),
                        value: v.clone(),
                    })
                    .collect(),
                payload: Payload::Bytes(body.as_bytes().to_vec()),
            };
            let time = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0, |d| d.as_secs());
            let config = SignerConfig {
                credentials: credentials.to_wit(),
                region: self.region.clone(),
                service: "sts".into(),
                algorithm: None,
                settings: None,
            };
            // Signed by the component, like every other request.
            let signed = SignerComponent::shared()
                .map_err(CallError::from)
                .and_then(|c| c.signer(&config)?.sign(&request, time))
                .map_err(|e| failed(e.to_string()))?;
            headers.extend(signed.headers.into_iter().map(|h| (h.name, h.value)));
        }
        let headers: Vec<(&str, &str)> = headers
            .iter()
            .map(|(n, v)| (n.as_str(), v.as_str()))
            .collect();
        let answer = call_with_body(
            &sts_agent(Duration::from_secs(5)),
            "POST",
            &self.url,
            &headers,
            body.as_bytes(),
        )
        .map_err(failed)?;
        let text = Zeroizing::new(answer.body);
        if answer.status != 200 {
            return Err(failed(format!(
                "answered {}: {}",
                answer.status,
                parse_sts_error(&text)
            )));
        }
        Ok(text)
    }
}

/// The `Credentials` element of an STS answer (which must say when they expire).
fn sts_credentials(xml: &str, provider: &'static str) -> Result<AwsCredentials, ProviderError> {
    parse_sts_credentials(xml)
        .map(|parsed| AwsCredentials::from_parsed(parsed, provider))
        .map_err(|e| ProviderError::Failed(format!("STS: {e}")))
}

/// `AssumeRoleWithWebIdentity`: exchanges an OIDC token (from a [`TokenSource`]: a file,
/// re-read on each refresh as Kubernetes rotates it, an OAuth2 endpoint, a URL, a command) for
/// temporary credentials of `role_arn`.
pub struct WebIdentityProvider {
    /// The token's source and the role, when configured.
    config: Option<(TokenFetcher, String)>,
    session_name: String,
    sts: StsEndpoint,
}

impl WebIdentityProvider {
    /// From `AWS_WEB_IDENTITY_TOKEN_FILE`, `AWS_ROLE_ARN` and `AWS_ROLE_SESSION_NAME` (not
    /// configured when the first two are missing).
    pub fn from_env(env: &HashMap<String, String>, sts: StsEndpoint) -> Self {
        let get = |name: &str| env.get(name).filter(|v| !v.is_empty()).cloned();
        WebIdentityProvider {
            config: get("AWS_WEB_IDENTITY_TOKEN_FILE")
                .zip(get("AWS_ROLE_ARN"))
                .map(|(file, role)| (TokenFetcher::new(TokenSource::File(file)), role)),
            session_name: get("AWS_ROLE_SESSION_NAME").unwrap_or_else(default_session_name),
            sts,
        }
    }

    /// An explicit token file and role.
    pub fn new(
        token_file: String,
        role_arn: String,
        session_name: Option<String>,
        sts: StsEndpoint,
    ) -> Self {
        Self::with_token_source(TokenSource::File(token_file), role_arn, session_name, sts)
    }

    /// A role assumed with tokens from `source`.
    pub fn with_token_source(
        source: TokenSource,
        role_arn: String,
        session_name: Option<String>,
        sts: StsEndpoint,
    ) -> Self {
        WebIdentityProvider {
            config: Some((TokenFetcher::new(source), role_arn)),
            session_name: session_name.unwrap_or_else(default_session_name),
            sts,
        }
    }
}

fn default_session_name() -> String {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    format!("sigv4-{secs}")
}

impl Provider for WebIdentityProvider {
    fn name(&self) -> &'static str {
        "web_identity"
    }

    fn provide(&self) -> Result<AwsCredentials, ProviderError> {
        let Some((tokens, role_arn)) = &self.config else {
            return Err(ProviderError::NotConfigured(
                "AWS_WEB_IDENTITY_TOKEN_FILE and AWS_ROLE_ARN are not both set".into(),
            ));
        };
        let token = tokens.token().map_err(|e| match e {
            ProviderError::NotConfigured(why) | ProviderError::Failed(why) => {
                ProviderError::Failed(format!("web identity: {why}"))
            }
        })?;
        let xml = self.sts.post(
            &[
                ("Action", "AssumeRoleWithWebIdentity"),
                ("RoleArn", role_arn),
                ("RoleSessionName", &self.session_name),
                ("WebIdentityToken", token.trim()),
                ("Version", "2011-06-15"),
            ],
            None,
        )?;
        sts_credentials(&xml, self.name())
    }
}

/// `AssumeRole`, signed with the source provider's credentials.
pub struct AssumeRoleProvider {
    source: Box<dyn Provider>,
    role_arn: String,
    session_name: String,
    external_id: Option<String>,
    duration_seconds: Option<u32>,
    sts: StsEndpoint,
}

impl AssumeRoleProvider {
    /// Assumes `role_arn` with the credentials `source` gives.
    pub fn new(
        source: Box<dyn Provider>,
        role_arn: String,
        session_name: Option<String>,
        external_id: Option<String>,
        sts: StsEndpoint,
    ) -> Self {
        let session_name = session_name.unwrap_or_else(default_session_name);
        AssumeRoleProvider {
            source,
            role_arn,
            session_name,
            external_id,
            duration_seconds: None,
            sts,
        }
    }

    /// Asks for credentials that live this long (`DurationSeconds`).
    pub fn with_duration_seconds(mut self, duration_seconds: Option<u32>) -> Self {
        self.duration_seconds = duration_seconds;
        self
    }
}

impl Provider for AssumeRoleProvider {
    fn name(&self) -> &'static str {
        "assume_role"
    }

    fn provide(&self) -> Result<AwsCredentials, ProviderError> {
        let source = self.source.provide().map_err(|e| match e {
            ProviderError::NotConfigured(why) | ProviderError::Failed(why) => {
                ProviderError::Failed(format!(
                    "the source credentials of {}: {why}",
                    self.role_arn
                ))
            }
        })?;
        let mut form = vec![
            ("Action", "AssumeRole"),
            ("RoleArn", self.role_arn.as_str()),
            ("RoleSessionName", self.session_name.as_str()),
        ];
        if let Some(external_id) = &self.external_id {
            form.push(("ExternalId", external_id));
        }
        let duration = self.duration_seconds.map(|d| d.to_string());
        if let Some(duration) = &duration {
            form.push(("DurationSeconds", duration));
        }
        form.push(("Version", "2011-06-15"));
        let xml = self.sts.post(&form, Some(&source))?;
        sts_credentials(&xml, self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoint_from_env() {
        let env = |pairs: &[(&str, &str)]| -> HashMap<String, String> {
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect()
        };
        assert_eq!(
            StsEndpoint::from_env(&env(&[]), Some("eu-west-1".into())).url,
            "https://sts.eu-west-1.amazonaws.com/"
        );
        assert_eq!(
            StsEndpoint::from_env(&env(&[("AWS_ENDPOINT_URL", "http://127.0.0.1:5000")]), None).url,
            "http://127.0.0.1:5000/"
        );
        let both = env(&[
            ("AWS_ENDPOINT_URL", "http://a"),
            ("AWS_ENDPOINT_URL_STS", "http://b/"),
        ]);
        assert_eq!(StsEndpoint::from_env(&both, None).url, "http://b/");
    }

    #[test]
    fn parses_sts_credentials() {
        let xml = "<AssumeRoleResponse><AssumeRoleResult><Credentials><AccessKeyId>ASIA1</AccessKeyId><SecretAccessKey>S</SecretAccessKey><SessionToken>T</SessionToken><Expiration>2030-01-01T00:00:00Z</Expiration></Credentials></AssumeRoleResult></AssumeRoleResponse>";
        let c = sts_credentials(xml, "assume_role").unwrap();
        assert_eq!(
            (c.access_key_id.as_str(), c.secret_access_key.as_str()),
            ("ASIA1", "S")
        );
        assert!(c.expiration.is_some());
        assert!(sts_credentials("<Error/>", "assume_role").is_err());
    }

    /// An answer without a parseable Expiration became credentials that never expire.
    #[test]
    fn an_sts_answer_without_a_parseable_expiration_is_an_error() {
        let missing = "<AssumeRoleResponse><AssumeRoleResult><Credentials><AccessKeyId>ASIA1</AccessKeyId><SecretAccessKey>S</SecretAccessKey><SessionToken>T</SessionToken></Credentials></AssumeRoleResult></AssumeRoleResponse>";
        let got = sts_credentials(missing, "assume_role");
        assert!(
            matches!(&got, Err(ProviderError::Failed(why)) if why.contains("Expiration")),
            "{got:?}"
        );
        let garbled = missing.replace(
            "</SessionToken>",
            "</SessionToken><Expiration>tomorrow</Expiration>",
        );
        let got = sts_credentials(&garbled, "assume_role");
        assert!(
            matches!(&got, Err(ProviderError::Failed(why)) if why.contains("tomorrow")),
            "{got:?}"
        );
    }
}
