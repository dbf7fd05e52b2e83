//! Credentials the host supplies to the component, found the way the AWS CLI finds them: a chain
//! of providers tried in order, behind a cache that refreshes ahead of expiry.
//!
//! This module does the I/O (files, processes, HTTP, threads, the clock); every rule (the
//! documents, the IMDSv2 handshake, the container endpoint's checks, profile resolution, the
//! refresh policy) is `sigv4-credentials`', which the Envoy filter drives too.

mod cache;
mod chain;
mod container;
mod http;
mod imds;
mod oidc;
mod profile;
mod provider;
mod sts;

use std::fmt;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use sigv4_credentials::ParsedCredentials;
use zeroize::Zeroizing;

pub use cache::CredentialsCache;
pub use chain::{ChainError, ProviderChain};
pub use container::ContainerProvider;
pub use imds::ImdsProvider;
pub use oidc::{ClientCredential, Secret, TokenFetcher, TokenSource};
pub use profile::load_profile_files;
pub use provider::{
    CredentialProcessProvider, EnvironmentProvider, ProfileProvider, Provider, ProviderError,
    StaticProvider,
};
pub use sigv4_credentials::document::xml_text;
pub use sigv4_credentials::profile::{ProfileFiles, ProfileSection};
pub use sts::{AssumeRoleProvider, StsEndpoint, WebIdentityProvider};

/// AWS credentials with where they came from and when they expire. The secret and the token
/// are zeroized on drop and never shown by `Debug`.
#[derive(Clone)]
pub struct AwsCredentials {
    /// The access key id.
    pub access_key_id: String,
    /// The secret access key.
    pub secret_access_key: Zeroizing<String>,
    /// The session token of temporary credentials.
    pub session_token: Option<Zeroizing<String>>,
    /// When temporary credentials stop working.
    pub expiration: Option<SystemTime>,
    /// The provider that answered (`environment`, `profile`, `credential_process`, ...).
    pub provider: &'static str,
}

impl AwsCredentials {
    /// Whether these credentials are expired at `now`.
    pub fn expired_at(&self, now: SystemTime) -> bool {
        self.expiration.is_some_and(|expiration| expiration <= now)
    }

    /// Parsed credentials, as `provider` gave them.
    pub fn from_parsed(parsed: ParsedCredentials, provider: &'static str) -> Self {
        AwsCredentials {
            access_key_id: parsed.access_key_id,
            secret_access_key: parsed.secret_access_key,
            session_token: parsed.session_token,
            expiration: parsed.expiration.map(from_unix_seconds),
            provider,
        }
    }

    /// The expiration in unix seconds (as the refresh policy takes it).
    pub(crate) fn expiration_unix_seconds(&self) -> Option<u64> {
        self.expiration.map(unix_seconds)
    }

    /// The component's credentials record.
    pub fn to_wit(&self) -> crate::Credentials {
        crate::Credentials {
            access_key_id: self.access_key_id.clone(),
            secret_access_key: self.secret_access_key.to_string(),
            session_token: self.session_token.as_ref().map(|t| t.to_string()),
        }
    }
}

impl fmt::Debug for AwsCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AwsCredentials")
            .field("access_key_id", &self.access_key_id)
            .field("secret_access_key", &"** redacted **")
            .field(
                "session_token",
                &self.session_token.as_ref().map(|_| "** redacted **"),
            )
            .field("expiration", &self.expiration)
            .field("provider", &self.provider)
            .finish()
    }
}

/// The providers in the AWS CLI's order: environment, shared profile files (static keys,
/// `credential_process`, assume-role, web identity), web identity from the environment,
/// container endpoint, EC2 instance metadata.
pub fn default_chain(env: &std::collections::HashMap<String, String>) -> ProviderChain {
    let sts = StsEndpoint::from_env(env, resolve_region_without_imds(env));
    ProviderChain::new(vec![
        Box::new(EnvironmentProvider::new(env.clone())),
        Box::new(ProfileProvider::from_env(env)),
        Box::new(WebIdentityProvider::from_env(env, sts)),
        Box::new(ContainerProvider::from_env(env.clone())),
        Box::new(ImdsProvider::from_env(env)),
    ])
}

/// The region: `AWS_REGION`, `AWS_DEFAULT_REGION`, the profile's `region`, then the instance's
/// (IMDS). `None` when no source has one.
pub fn resolve_region(env: &std::collections::HashMap<String, String>) -> Option<String> {
    resolve_region_without_imds(env).or_else(|| ImdsProvider::from_env(env).region().ok())
}

/// The region from the environment or the profile.
pub fn resolve_region_without_imds(
    env: &std::collections::HashMap<String, String>,
) -> Option<String> {
    let from_env = ["AWS_REGION", "AWS_DEFAULT_REGION"]
        .iter()
        .find_map(|v| env.get(*v).filter(|r| !r.is_empty()));
    if let Some(region) = from_env {
        return Some(region.clone());
    }
    let profile = env.get("AWS_PROFILE").map_or("default", String::as_str);
    load_profile_files(env)
        .profile(profile)
        .and_then(|p| p.get("region"))
        .cloned()
}

/// A unix time in seconds as a `SystemTime`.
pub(crate) fn from_unix_seconds(secs: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(secs)
}

/// A `SystemTime` in unix seconds (0 before the epoch).
pub(crate) fn unix_seconds(time: SystemTime) -> u64 {
    time.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

/// A `SystemTime` in unix milliseconds (0 before the epoch).
pub(crate) fn unix_millis(time: SystemTime) -> u64 {
    time.duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    #[test]
    fn region_from_env_then_profile() {
        let dir = std::env::temp_dir().join(format!("sigv4-region-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let config = dir.join("config");
        std::fs::write(&config, "[profile dev]\nregion = ap-south-1\n").unwrap();
        let env = |pairs: &[(&str, &str)]| -> HashMap<String, String> {
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect()
        };
        let config = config.to_str().unwrap();
        let no_imds = ("AWS_EC2_METADATA_DISABLED", "true");
        assert_eq!(
            resolve_region(&env(&[
                ("AWS_REGION", "us-west-1"),
                ("AWS_DEFAULT_REGION", "x")
            ]))
            .as_deref(),
            Some("us-west-1")
        );
        assert_eq!(
            resolve_region(&env(&[("AWS_DEFAULT_REGION", "eu-north-1")])).as_deref(),
            Some("eu-north-1")
        );
        assert_eq!(
            resolve_region(&env(&[
                ("AWS_CONFIG_FILE", config),
                ("AWS_PROFILE", "dev"),
                no_imds
            ]))
            .as_deref(),
            Some("ap-south-1")
        );
        assert_eq!(
            resolve_region(&env(&[("AWS_CONFIG_FILE", config), no_imds])),
            None
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
