//! Credential providers: explicit, environment, shared profile files, `credential_process`.

use std::collections::HashMap;
use std::fmt;
use std::process::Command;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use zeroize::Zeroizing;

use super::{AssumeRoleProvider, AwsCredentials, ProfileFiles, StsEndpoint, WebIdentityProvider};

/// Why a provider gave no credentials.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ProviderError {
    /// Nothing configures this provider: the chain goes on to the next one.
    NotConfigured(String),
    /// The provider is configured but failed: the chain stops here, as the AWS CLI does.
    Failed(String),
}

impl fmt::Display for ProviderError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ProviderError::NotConfigured(why) => write!(f, "not configured: {why}"),
            ProviderError::Failed(why) => write!(f, "failed: {why}"),
        }
    }
}

/// A source of credentials.
pub trait Provider: Send + Sync {
    /// A short name for errors and for `sigv4 credentials`.
    fn name(&self) -> &'static str;
    /// Fetches credentials (may do I/O).
    fn provide(&self) -> Result<AwsCredentials, ProviderError>;
}

/// Credentials given explicitly.
pub struct StaticProvider(pub AwsCredentials);

impl Provider for StaticProvider {
    fn name(&self) -> &'static str {
        "static"
    }

    fn provide(&self) -> Result<AwsCredentials, ProviderError> {
        Ok(self.0.clone())
    }
}

/// `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY` and `AWS_SESSION_TOKEN`.
pub struct EnvironmentProvider {
    env: HashMap<String, String>,
}

impl EnvironmentProvider {
    /// Reads from this environment (a snapshot, so that tests need not touch the process's).
    pub fn new(env: HashMap<String, String>) -> Self {
        EnvironmentProvider { env }
    }
}

impl Provider for EnvironmentProvider {
    fn name(&self) -> &'static str {
        "environment"
    }

    fn provide(&self) -> Result<AwsCredentials, ProviderError> {
        let get = |name: &str| self.env.get(name).filter(|v| !v.is_empty()).cloned();
        match (get("AWS_ACCESS_KEY_ID"), get("AWS_SECRET_ACCESS_KEY")) {
            (Some(access_key_id), Some(secret)) => Ok(AwsCredentials {
                access_key_id,
                secret_access_key: Zeroizing::new(secret),
                session_token: get("AWS_SESSION_TOKEN").map(Zeroizing::new),
                expiration: None,
                provider: self.name(),
            }),
            (None, None) => Err(ProviderError::NotConfigured(
                "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are not set".into(),
            )),
            (Some(_), None) => Err(ProviderError::Failed(
                "AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY is not".into(),
            )),
            (None, Some(_)) => Err(ProviderError::Failed(
                "AWS_SECRET_ACCESS_KEY is set but AWS_ACCESS_KEY_ID is not".into(),
            )),
        }
    }
}

/// A profile of the shared files (`AWS_PROFILE`, default `default`): static keys, or a
/// `credential_process`.
pub struct ProfileProvider {
    files: ProfileFiles,
    profile: String,
    /// For STS endpoints and `credential_source`.
    env: HashMap<String, String>,
}

impl ProfileProvider {
    /// The profile `AWS_PROFILE` names (or `default`) in the files this environment points to.
    pub fn from_env(env: &HashMap<String, String>) -> Self {
        let profile = env
            .get("AWS_PROFILE")
            .cloned()
            .unwrap_or_else(|| "default".into());
        ProfileProvider {
            files: ProfileFiles::load(env),
            profile,
            env: env.clone(),
        }
    }

    /// A named profile of parsed files.
    pub fn new(files: ProfileFiles, profile: impl Into<String>) -> Self {
        ProfileProvider {
            files,
            profile: profile.into(),
            env: HashMap::new(),
        }
    }

    /// With the environment used for STS endpoints and `credential_source`.
    pub fn with_env(mut self, env: HashMap<String, String>) -> Self {
        self.env = env;
        self
    }
}

impl Provider for ProfileProvider {
    fn name(&self) -> &'static str {
        "profile"
    }

    fn provide(&self) -> Result<AwsCredentials, ProviderError> {
        let name = &self.profile;
        let Some(section) = self.files.profile(name) else {
            return Err(ProviderError::NotConfigured(format!(
                "no profile [{name}] in the config or credentials file"
            )));
        };
        if let (Some(access_key_id), Some(secret)) = (
            section.get("aws_access_key_id"),
            section.get("aws_secret_access_key"),
        ) {
            return Ok(AwsCredentials {
                access_key_id: access_key_id.clone(),
                secret_access_key: Zeroizing::new(secret.clone()),
                session_token: section
                    .get("aws_session_token")
                    .cloned()
                    .map(Zeroizing::new),
                expiration: None,
                provider: self.name(),
            });
        }
        if let Some(role_arn) = section.get("role_arn") {
            return self.assume_role(name, section, role_arn);
        }
        if let Some(command) = section.get("credential_process") {
            return CredentialProcessProvider::new(command.clone()).provide();
        }
        for key in ["sso_session", "sso_start_url"] {
            if section.contains_key(key) {
                return Err(ProviderError::Failed(format!(
                    "profile [{name}] uses {key}, which this host does not support yet"
                )));
            }
        }
        Err(ProviderError::NotConfigured(format!(
            "profile [{name}] has no credentials"
        )))
    }
}

impl ProfileProvider {
    /// `role_arn` with `web_identity_token_file`, `source_profile` or `credential_source`.
    fn assume_role(
        &self,
        name: &str,
        section: &super::ProfileSection,
        role_arn: &str,
    ) -> Result<AwsCredentials, ProviderError> {
        let region = section
            .get("region")
            .cloned()
            .or_else(|| self.env.get("AWS_REGION").cloned());
        let sts = StsEndpoint::from_env(&self.env, region);
        let session_name = section.get("role_session_name").cloned();
        if let Some(token_file) = section.get("web_identity_token_file") {
            return WebIdentityProvider::new(
                token_file.clone(),
                role_arn.into(),
                session_name,
                sts,
            )
            .provide();
        }
        let source: Box<dyn Provider> = if let Some(source_profile) = section.get("source_profile")
        {
            if source_profile == name {
                // A profile may hold its own static keys as the source of its role.
                let mut keys_only = self.files.clone();
                keys_only.drop_key(name, "role_arn");
                Box::new(ProfileProvider::new(keys_only, name).with_env(self.env.clone()))
            } else {
                Box::new(
                    ProfileProvider::new(self.files.clone(), source_profile.clone())
                        .with_env(self.env.clone()),
                )
            }
        } else {
            match section.get("credential_source").map(String::as_str) {
                Some("Environment") => Box::new(EnvironmentProvider::new(self.env.clone())),
                Some("Ec2InstanceMetadata") => Box::new(super::ImdsProvider::from_env(&self.env)),
                Some("EcsContainer") => {
                    Box::new(super::ContainerProvider::from_env(self.env.clone()))
                }
                other => {
                    return Err(ProviderError::Failed(format!(
                        "profile [{name}] has role_arn but neither source_profile, web_identity_token_file nor a known credential_source ({other:?})"
                    )));
                }
            }
        };
        let external_id = section.get("external_id").cloned();
        AssumeRoleProvider::new(source, role_arn.into(), session_name, external_id, sts).provide()
    }
}

/// `credential_process`: a command that prints the credentials as JSON (`Version` 1).
pub struct CredentialProcessProvider {
    command: String,
}

impl CredentialProcessProvider {
    /// The command line, run by the shell.
    pub fn new(command: String) -> Self {
        CredentialProcessProvider { command }
    }
}

impl Provider for CredentialProcessProvider {
    fn name(&self) -> &'static str {
        "credential_process"
    }

    fn provide(&self) -> Result<AwsCredentials, ProviderError> {
        let failed = |why: String| ProviderError::Failed(format!("credential_process: {why}"));
        let output = Command::new("sh")
            .arg("-c")
            .arg(&self.command)
            .output()
            .map_err(|e| failed(format!("cannot run it: {e}")))?;
        if !output.status.success() {
            // Its stderr may explain; its stdout may hold a secret, so it is not shown.
            let stderr = String::from_utf8_lossy(&output.stderr);
            return Err(failed(format!(
                "exited with {}: {}",
                output.status,
                stderr.trim()
            )));
        }
        let stdout = Zeroizing::new(output.stdout);
        let json: serde_json::Value = serde_json::from_slice(&stdout)
            .map_err(|e| failed(format!("its output is not JSON ({e})")))?;
        if json["Version"] != 1 {
            return Err(failed("its output must have \"Version\": 1".into()));
        }
        let text = |key: &str| json[key].as_str().map(String::from);
        let (Some(access_key_id), Some(secret)) = (text("AccessKeyId"), text("SecretAccessKey"))
        else {
            return Err(failed(
                "its output lacks AccessKeyId or SecretAccessKey".into(),
            ));
        };
        let expiration = match text("Expiration") {
            Some(when) => Some(
                parse_time(&when)
                    .ok_or_else(|| failed(format!("Expiration {when:?} is not RFC 3339")))?,
            ),
            None => None,
        };
        Ok(AwsCredentials {
            access_key_id,
            secret_access_key: Zeroizing::new(secret),
            session_token: text("SessionToken").map(Zeroizing::new),
            expiration,
            provider: self.name(),
        })
    }
}

/// An RFC 3339 UTC time (`2024-01-01T00:00:00Z`), as AWS writes expirations.
pub(crate) fn parse_time(text: &str) -> Option<SystemTime> {
    let secs = sigv4_core::Timestamp::parse_rfc3339(text)
        .ok()?
        .unix_seconds();
    Some(UNIX_EPOCH + Duration::from_secs(secs))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn environment_provider() {
        let ok = EnvironmentProvider::new(env(&[
            ("AWS_ACCESS_KEY_ID", "AKID"),
            ("AWS_SECRET_ACCESS_KEY", "SECRET"),
            ("AWS_SESSION_TOKEN", "TOKEN"),
        ]))
        .provide()
        .unwrap();
        assert_eq!(
            (ok.access_key_id.as_str(), ok.secret_access_key.as_str()),
            ("AKID", "SECRET")
        );
        assert_eq!(
            ok.session_token.as_deref().map(String::as_str),
            Some("TOKEN")
        );
        assert!(matches!(
            EnvironmentProvider::new(env(&[])).provide(),
            Err(ProviderError::NotConfigured(_))
        ));
        assert!(matches!(
            EnvironmentProvider::new(env(&[("AWS_ACCESS_KEY_ID", "AKID")])).provide(),
            Err(ProviderError::Failed(_))
        ));
    }

    #[test]
    fn profile_static_keys_and_credential_process() {
        let config = "[profile proc]\ncredential_process = printf '{\"Version\":1,\"AccessKeyId\":\"AKIDPROC\",\"SecretAccessKey\":\"S\",\"SessionToken\":\"T\",\"Expiration\":\"2030-01-01T00:00:00Z\"}'\n[profile role]\nrole_arn = arn:aws:iam::123456789012:role/r\nsource_profile = default\n[profile broken]\ncredential_process = sh -c 'echo boom >&2; exit 3'\n";
        let credentials =
            "[default]\naws_access_key_id = AKIDFILE\naws_secret_access_key = SFILE\n";
        let files = ProfileFiles::parse(config, credentials);
        let got = ProfileProvider::new(files.clone(), "default")
            .provide()
            .unwrap();
        assert_eq!(got.access_key_id, "AKIDFILE");
        let got = ProfileProvider::new(files.clone(), "proc")
            .provide()
            .unwrap();
        assert_eq!(got.access_key_id, "AKIDPROC");
        assert_eq!(got.expiration, parse_time("2030-01-01T00:00:00Z"));
        let err = ProfileProvider::new(files.clone(), "broken")
            .provide()
            .unwrap_err();
        assert!(
            matches!(&err, ProviderError::Failed(why) if why.contains("boom") && why.contains("exit status: 3")),
            "{err}"
        );
        // role_arn + source_profile: AssumeRole with the source's keys, sent to STS (here a closed
        // loopback port: the request is made, and the failure says where it went).
        let closed = env(&[("AWS_ENDPOINT_URL_STS", "http://127.0.0.1:9")]);
        let err = ProfileProvider::new(files.clone(), "role")
            .with_env(closed)
            .provide()
            .unwrap_err();
        assert!(
            matches!(&err, ProviderError::Failed(why) if why.contains("STS: POST http://127.0.0.1:9/")),
            "{err}"
        );
        assert!(matches!(
            ProfileProvider::new(files, "nope").provide(),
            Err(ProviderError::NotConfigured(_))
        ));
    }

    #[test]
    fn debug_never_shows_secrets() {
        let creds = EnvironmentProvider::new(env(&[
            ("AWS_ACCESS_KEY_ID", "AKID"),
            ("AWS_SECRET_ACCESS_KEY", "SECRETMARKER"),
            ("AWS_SESSION_TOKEN", "TOKENMARKER"),
        ]))
        .provide()
        .unwrap();
        let shown = format!("{creds:?} {creds:#?}");
        assert!(
            !shown.contains("SECRETMARKER") && !shown.contains("TOKENMARKER"),
            "{shown}"
        );
    }
}
