//! Providers tried in order; the error lists every one tried and why it gave nothing.

use std::fmt;

use super::{AwsCredentials, Provider, ProviderError};

/// A chain of providers, tried in order until one answers or one fails.
pub struct ProviderChain {
    providers: Vec<Box<dyn Provider>>,
}

/// No provider gave credentials: each one tried, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChainError {
    /// `(provider, why)` for every provider tried, in order.
    pub tried: Vec<(&'static str, ProviderError)>,
}

impl fmt::Display for ChainError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("no credentials found; providers tried:")?;
        for (name, why) in &self.tried {
            write!(f, "\n  {name}: {why}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ChainError {}

impl ProviderChain {
    /// A chain of these providers, in this order.
    pub fn new(providers: Vec<Box<dyn Provider>>) -> Self {
        ProviderChain { providers }
    }
}

impl Provider for ProviderChain {
    fn name(&self) -> &'static str {
        "chain"
    }

    fn provide(&self) -> Result<AwsCredentials, ProviderError> {
        self.resolve()
            .map_err(|e| ProviderError::Failed(e.to_string()))
    }
}

impl ProviderChain {
    /// The first provider's credentials, or every provider's reason.
    pub fn resolve(&self) -> Result<AwsCredentials, ChainError> {
        let mut tried = Vec::new();
        for provider in &self.providers {
            match provider.provide() {
                Ok(credentials) => return Ok(credentials),
                Err(error @ ProviderError::NotConfigured(_)) => {
                    tried.push((provider.name(), error))
                }
                Err(error @ ProviderError::Failed(_)) => {
                    tried.push((provider.name(), error));
                    break;
                }
            }
        }
        Err(ChainError { tried })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::credentials::{EnvironmentProvider, ProfileFiles, ProfileProvider};
    use std::collections::HashMap;

    #[test]
    fn lists_every_provider_tried() {
        let chain = ProviderChain::new(vec![
            Box::new(EnvironmentProvider::new(HashMap::new())),
            Box::new(ProfileProvider::new(ProfileFiles::default(), "default")),
        ]);
        let error = chain.resolve().unwrap_err();
        assert_eq!(error.tried.len(), 2);
        let text = error.to_string();
        assert!(
            text.contains("environment: not configured: AWS_ACCESS_KEY_ID"),
            "{text}"
        );
        assert!(
            text.contains("profile: not configured: no profile [default]"),
            "{text}"
        );
    }

    #[test]
    fn first_answer_wins_and_a_failure_stops_the_chain() {
        let env = |pairs: &[(&str, &str)]| -> HashMap<String, String> {
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect()
        };
        let files = ProfileFiles::parse(
            "",
            "[default]\naws_access_key_id = AKIDFILE\naws_secret_access_key = S\n",
        );
        let chain = ProviderChain::new(vec![
            Box::new(EnvironmentProvider::new(env(&[]))),
            Box::new(ProfileProvider::new(files.clone(), "default")),
        ]);
        assert_eq!(chain.resolve().unwrap().provider, "profile");
        let chain = ProviderChain::new(vec![
            Box::new(EnvironmentProvider::new(env(&[("AWS_ACCESS_KEY_ID", "A")]))),
            Box::new(ProfileProvider::new(files, "default")),
        ]);
        let error = chain.resolve().unwrap_err();
        assert_eq!(error.tried.len(), 1, "{error}");
    }
}
