//! Credentials the host supplies to the component, found the way the AWS CLI finds them: a chain
//! of providers tried in order, behind a cache that refreshes ahead of expiry.

mod cache;
mod chain;
mod container;
mod http;
mod imds;
mod profile;
mod provider;

use std::fmt;
use std::time::SystemTime;

use zeroize::Zeroizing;

use provider::parse_time;

pub use cache::CredentialsCache;
pub use chain::{ChainError, ProviderChain};
pub use container::ContainerProvider;
pub use imds::ImdsProvider;
pub use profile::{ProfileFiles, ProfileSection};
pub use provider::{
    CredentialProcessProvider, EnvironmentProvider, ProfileProvider, Provider, ProviderError,
    StaticProvider,
};

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
