//! The server's configuration: a YAML file in Attaché's layout (`server.bind_address`,
//! `server.rate_limit`, `server.graceful_timeout`, `iam_role`, `imds_v1_allowed`, `region`,
//! `zone`) plus what Attaché gets from Vault and this server gets from the host's credential chain
//! (`credentials`). Every field can also come from a command-line flag ([`FileConfig::merge`]);
//! [`FileConfig::resolve`] checks it all and names the field of the first mistake.

use std::net::SocketAddr;
use std::time::Duration;

use std::collections::HashMap;

use serde::Deserialize;
use sigv4_host::credentials::{self as host, ClientCredential, TokenSource};
pub use sigv4_serve::ConfigError;
use sigv4_serve::config_error as error;
pub use sigv4_serve::{RateLimit, Secret};
use sigv4_serve::{parse_duration, parse_rate_limit};

/// How clients ask for credentials.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    /// The EC2 instance metadata service, IMDSv2 (`AWS_EC2_METADATA_SERVICE_ENDPOINT`).
    #[default]
    Imds,
    /// The ECS/EKS container credentials endpoint (`AWS_CONTAINER_CREDENTIALS_FULL_URI` and
    /// `AWS_CONTAINER_AUTHORIZATION_TOKEN`).
    Container,
}

/// The configuration file, every field optional (a flag may give it instead).
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    #[serde(default)]
    pub server: ServerSection,
    pub mode: Option<Mode>,
    /// The role name IMDS lists under `security-credentials/` (default: the role ARN's name).
    pub iam_role: Option<String>,
    /// Answer requests without an IMDSv2 session token (IMDSv1). Off by default, as on EC2
    /// instances that require IMDSv2.
    pub imds_v1_allowed: Option<bool>,
    /// The region IMDS reports (`placement/region`, the identity document).
    pub region: Option<String>,
    /// The availability zone IMDS reports (default: the region and `a`).
    pub zone: Option<String>,
    /// Container mode: the value clients send in `Authorization`.
    pub authorization_token: Option<Secret>,
    #[serde(default)]
    pub credentials: CredentialsSection,
}

/// Attaché's `server:` section.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerSection {
    /// `host:port` to listen on.
    pub bind_address: Option<String>,
    /// How long in-flight requests may take to finish after SIGTERM (`0s`, `5s`, `1m`).
    pub graceful_timeout: Option<String>,
    /// `rps:burst` (`100:200`); empty: no limit.
    pub rate_limit: Option<String>,
    /// Listen on an address other than loopback. Off by default: the credentials travel in
    /// plain HTTP, and IMDS mode answers whoever reaches it (EC2's own limits it to the
    /// instance by a hop limit of one).
    pub allow_remote: Option<bool>,
}

/// Where the served role's credentials come from.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CredentialsSection {
    /// The role to serve: assumed with the host's credential chain (`AssumeRole`), or with a
    /// web identity token when `web_identity_token_file` is set. Absent: the chain's own
    /// credentials are served.
    pub role_arn: Option<String>,
    pub role_session_name: Option<String>,
    pub external_id: Option<String>,
    /// How long assumed credentials live (`DurationSeconds`, 900..=43200).
    pub duration_seconds: Option<u32>,
    /// With `role_arn`, one of these token sources makes it `AssumeRoleWithWebIdentity`:
    /// an OIDC token file, re-read on every refresh;
    pub web_identity_token_file: Option<String>,
    /// a command that prints a token;
    pub web_identity_token_command: Option<String>,
    /// a GET whose JSON answer holds the token;
    pub web_identity_token_url: Option<TokenUrl>,
    /// Entra ID's client-credentials flow (Beats' `azure_ad`);
    pub azure_ad: Option<AzureAd>,
    /// any OAuth2 token endpoint's client-credentials flow.
    pub oauth2: Option<OAuth2>,
}

/// A GET for a token: Azure managed identity's IMDS endpoint (`Metadata: true`), GitHub
/// Actions' `ACTIONS_ID_TOKEN_REQUEST_URL` (with its bearer token).
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TokenUrl {
    pub url: Option<String>,
    #[serde(default)]
    pub headers: std::collections::BTreeMap<String, Secret>,
    /// The answer's field holding the token (default `access_token`).
    pub field: Option<String>,
}

/// Entra ID (Azure AD): `{authority_host}/{tenant_id}/oauth2/v2.0/token`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AzureAd {
    pub tenant_id: Option<String>,
    pub client_id: Option<String>,
    pub client_secret: Option<Secret>,
    /// A file holding a signed client assertion (`AZURE_FEDERATED_TOKEN_FILE`), instead of a
    /// secret.
    pub client_assertion_file: Option<String>,
    pub scope: Option<String>,
    /// Default: `AZURE_AUTHORITY_HOST`, else `https://login.microsoftonline.com`.
    pub authority_host: Option<String>,
}

/// Any OAuth2 token endpoint, the client authenticated in the form.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OAuth2 {
    pub token_url: Option<String>,
    pub client_id: Option<String>,
    pub client_secret: Option<Secret>,
    pub client_assertion_file: Option<String>,
    pub scope: Option<String>,
}

/// A configuration checked for use.
#[derive(Clone, Debug)]
pub struct Config {
    pub bind_address: SocketAddr,
    pub graceful_timeout: Duration,
    pub rate_limit: Option<RateLimit>,
    pub mode: Mode,
    pub iam_role: String,
    pub imds_v1_allowed: bool,
    pub region: String,
    pub zone: String,
    pub authorization_token: Option<Secret>,
    pub source: Source,
}

/// The credentials served.
#[derive(Clone, Debug)]
pub enum Source {
    /// The host's credential chain, as the AWS CLI resolves it.
    Chain,
    /// `AssumeRole` with the chain's credentials.
    AssumeRole {
        role_arn: String,
        session_name: Option<String>,
        external_id: Option<String>,
        duration_seconds: Option<u32>,
    },
    /// `AssumeRoleWithWebIdentity` with tokens from `token`.
    WebIdentity {
        role_arn: String,
        token: TokenSource,
        session_name: Option<String>,
    },
}

impl Source {
    /// The role ARN served, when there is one.
    pub fn role_arn(&self) -> Option<&str> {
        match self {
            Source::Chain => None,
            Source::AssumeRole { role_arn, .. } | Source::WebIdentity { role_arn, .. } => {
                Some(role_arn)
            }
        }
    }
}

impl FileConfig {
    /// Parses the YAML of a configuration file.
    pub fn parse(yaml: &str) -> Result<FileConfig, ConfigError> {
        // serde's message names the field (`unknown field`, `invalid type ... at line`); the
        // configuration holds no secret worth hiding from its own author but the token, which
        // serde does not quote for a type error of a string field.
        serde_yaml_ng::from_str(yaml).map_err(|e| error("config", e.to_string()))
    }

    /// This configuration with every field `flags` gives replaced by it.
    pub fn merge(self, flags: FileConfig) -> FileConfig {
        let c = flags.credentials;
        let base = self.credentials;
        FileConfig {
            server: ServerSection {
                bind_address: flags.server.bind_address.or(self.server.bind_address),
                graceful_timeout: flags
                    .server
                    .graceful_timeout
                    .or(self.server.graceful_timeout),
                rate_limit: flags.server.rate_limit.or(self.server.rate_limit),
                allow_remote: flags.server.allow_remote.or(self.server.allow_remote),
            },
            mode: flags.mode.or(self.mode),
            iam_role: flags.iam_role.or(self.iam_role),
            imds_v1_allowed: flags.imds_v1_allowed.or(self.imds_v1_allowed),
            region: flags.region.or(self.region),
            zone: flags.zone.or(self.zone),
            authorization_token: flags.authorization_token.or(self.authorization_token),
            credentials: CredentialsSection {
                role_arn: c.role_arn.or(base.role_arn),
                role_session_name: c.role_session_name.or(base.role_session_name),
                external_id: c.external_id.or(base.external_id),
                duration_seconds: c.duration_seconds.or(base.duration_seconds),
                web_identity_token_file: c.web_identity_token_file.or(base.web_identity_token_file),
                web_identity_token_command: c
                    .web_identity_token_command
                    .or(base.web_identity_token_command),
                web_identity_token_url: merge_with(
                    base.web_identity_token_url,
                    c.web_identity_token_url,
                    |base, flags| TokenUrl {
                        url: flags.url.or(base.url),
                        headers: if flags.headers.is_empty() {
                            base.headers
                        } else {
                            flags.headers
                        },
                        field: flags.field.or(base.field),
                    },
                ),
                azure_ad: merge_with(base.azure_ad, c.azure_ad, |base, flags| AzureAd {
                    tenant_id: flags.tenant_id.or(base.tenant_id),
                    client_id: flags.client_id.or(base.client_id),
                    client_secret: flags.client_secret.or(base.client_secret),
                    client_assertion_file: flags
                        .client_assertion_file
                        .or(base.client_assertion_file),
                    scope: flags.scope.or(base.scope),
                    authority_host: flags.authority_host.or(base.authority_host),
                }),
                oauth2: merge_with(base.oauth2, c.oauth2, |base, flags| OAuth2 {
                    token_url: flags.token_url.or(base.token_url),
                    client_id: flags.client_id.or(base.client_id),
                    client_secret: flags.client_secret.or(base.client_secret),
                    client_assertion_file: flags
                        .client_assertion_file
                        .or(base.client_assertion_file),
                    scope: flags.scope.or(base.scope),
                }),
            },
        }
    }

    /// Checks the configuration; `env` (the process environment) gives the defaults the AWS
    /// and Azure SDKs take from it: the region, `AZURE_AUTHORITY_HOST`.
    pub fn resolve(self, env: &HashMap<String, String>) -> Result<Config, ConfigError> {
        let bind = self
            .server
            .bind_address
            .ok_or_else(|| error("server.bind_address", "missing (host:port to listen on)"))?;
        let bind_address: SocketAddr = bind.parse().map_err(|_| {
            error(
                "server.bind_address",
                format!("{bind:?} is not an IP address and port (127.0.0.1:8080)"),
            )
        })?;
        if !bind_address.ip().is_loopback() && self.server.allow_remote != Some(true) {
            return Err(error(
                "server.bind_address",
                format!(
                    "{bind} is not a loopback address: credentials would be served in clear to whoever reaches it (set server.allow_remote to mean it)"
                ),
            ));
        }
        let graceful_timeout = match self.server.graceful_timeout.as_deref() {
            None | Some("") => Duration::from_secs(5),
            Some(text) => parse_duration(text).ok_or_else(|| {
                error(
                    "server.graceful_timeout",
                    format!("{text:?} is not a duration (0s, 500ms, 5s, 1m)"),
                )
            })?,
        };
        let rate_limit = match self.server.rate_limit.as_deref() {
            None | Some("") => None,
            Some(text) => Some(parse_rate_limit(text).ok_or_else(|| {
                error(
                    "server.rate_limit",
                    format!("{text:?} is not rps:burst with both above zero (100:200)"),
                )
            })?),
        };
        let c = self.credentials;
        let non_empty = |field: &'static str, value: Option<String>| match value {
            Some(v) if v.is_empty() => Err(error(field, "must not be empty")),
            other => Ok(other),
        };
        let role_arn = non_empty("credentials.role_arn", c.role_arn)?;
        if let Some(arn) = &role_arn
            && !(arn.starts_with("arn:") && arn.contains(":role/"))
        {
            return Err(error(
                "credentials.role_arn",
                format!("{arn:?} is not a role ARN (arn:aws:iam::ACCOUNT:role/NAME)"),
            ));
        }
        let mode = self.mode.unwrap_or_default();
        // botocore takes IMDS credentials with under 12-20 minutes left for an outage and keeps
        // using them past their expiry: IMDS mode serves credentials that live an hour at least
        // (refreshed with a third left).
        let least = if mode == Mode::Imds { 3600 } else { 900 };
        if let Some(d) = c.duration_seconds
            && !(least..=43_200).contains(&d)
        {
            return Err(error(
                "credentials.duration_seconds",
                format!("{d} is not between {least} and 43200 (in {mode:?} mode)"),
            ));
        }
        let session_name = non_empty("credentials.role_session_name", c.role_session_name)?;
        let mut sources = Vec::new();
        if let Some(file) = non_empty(
            "credentials.web_identity_token_file",
            c.web_identity_token_file,
        )? {
            sources.push(("web_identity_token_file", TokenSource::File(file)));
        }
        if let Some(command) = non_empty(
            "credentials.web_identity_token_command",
            c.web_identity_token_command,
        )? {
            sources.push(("web_identity_token_command", TokenSource::Command(command)));
        }
        if let Some(get) = c.web_identity_token_url {
            sources.push(("web_identity_token_url", token_url(get)?));
        }
        if let Some(azure) = c.azure_ad {
            sources.push(("azure_ad", azure_ad(azure, env)?));
        }
        if let Some(oauth2) = c.oauth2 {
            sources.push(("oauth2", oauth2_source(oauth2)?));
        }
        if sources.len() > 1 {
            let names: Vec<&str> = sources.iter().map(|(name, _)| *name).collect();
            return Err(error(
                "credentials",
                format!("one token source, not {}", names.join(" and ")),
            ));
        }
        // A field that would do nothing is a mistake to report, not to ignore.
        let unused = |field: &'static str, given: bool, why: &str| match given {
            true => Err(error(field, why.to_string())),
            false => Ok(()),
        };
        let assumes = role_arn.is_some();
        unused(
            "credentials.role_session_name",
            !assumes && session_name.is_some(),
            "needs credentials.role_arn",
        )?;
        let by_token = !sources.is_empty();
        for (field, given) in [
            ("credentials.external_id", c.external_id.is_some()),
            ("credentials.duration_seconds", c.duration_seconds.is_some()),
        ] {
            unused(field, given && !assumes, "needs credentials.role_arn")?;
            unused(
                field,
                given && by_token,
                "AssumeRoleWithWebIdentity does not take it here",
            )?;
        }
        let source = match (role_arn, sources.pop()) {
            (None, None) => Source::Chain,
            (None, Some((name, _))) => {
                return Err(error(
                    "credentials.role_arn",
                    format!("missing: {name} needs the role to assume"),
                ));
            }
            (Some(role_arn), None) => Source::AssumeRole {
                role_arn,
                session_name,
                external_id: c.external_id,
                duration_seconds: c.duration_seconds,
            },
            (Some(role_arn), Some((_, token))) => Source::WebIdentity {
                role_arn,
                token,
                session_name,
            },
        };
        let iam_role = match non_empty("iam_role", self.iam_role)? {
            Some(role) if role.contains('/') => {
                return Err(error("iam_role", format!("{role:?} is a path, not a name")));
            }
            Some(role) => role,
            None => source
                .role_arn()
                .and_then(|arn| arn.rsplit('/').next())
                .unwrap_or("sigv4-credential-server")
                .to_string(),
        };
        let authorization_token = match (mode, self.authorization_token) {
            (Mode::Container, None) => {
                return Err(error(
                    "authorization_token",
                    "missing: container mode answers only clients that send it",
                ));
            }
            (_, Some(token)) if token.expose().is_empty() => {
                return Err(error("authorization_token", "must not be empty"));
            }
            (Mode::Imds, Some(_)) => {
                return Err(error(
                    "authorization_token",
                    "only container mode uses it (IMDS clients get session tokens)",
                ));
            }
            (_, token) => token,
        };
        let region = non_empty("region", self.region)?
            .or_else(|| host::resolve_region_without_imds(env))
            .unwrap_or_else(|| "us-east-1".into());
        let zone = non_empty("zone", self.zone)?.unwrap_or_else(|| format!("{region}a"));
        Ok(Config {
            bind_address,
            graceful_timeout,
            rate_limit,
            mode,
            iam_role,
            imds_v1_allowed: self.imds_v1_allowed.unwrap_or(false),
            region,
            zone,
            authorization_token,
            source,
        })
    }
}

/// `flags` over `base`, field by field, when both are given.
fn merge_with<T>(base: Option<T>, flags: Option<T>, merge: impl FnOnce(T, T) -> T) -> Option<T> {
    match (base, flags) {
        (Some(base), Some(flags)) => Some(merge(base, flags)),
        (base, flags) => flags.or(base),
    }
}

/// A required text field of a token source.
fn required(field: &'static str, value: Option<String>) -> Result<String, ConfigError> {
    match value {
        Some(v) if !v.is_empty() => Ok(v),
        Some(_) => Err(error(field, "must not be empty")),
        None => Err(error(field, "missing")),
    }
}

/// A client's secret or assertion file: exactly one.
fn client_credential(
    secret: Option<Secret>,
    assertion_file: Option<String>,
    field: &'static str,
) -> Result<ClientCredential, ConfigError> {
    match (secret, assertion_file) {
        (Some(secret), None) if !secret.expose().is_empty() => {
            Ok(ClientCredential::Secret(host::Secret::new(secret.expose())))
        }
        (None, Some(file)) if !file.is_empty() => Ok(ClientCredential::AssertionFile(file)),
        (Some(_), Some(_)) => Err(error(
            field,
            "client_secret or client_assertion_file, not both",
        )),
        _ => Err(error(
            field,
            "missing: client_secret or client_assertion_file",
        )),
    }
}

fn token_url(get: TokenUrl) -> Result<TokenSource, ConfigError> {
    Ok(TokenSource::HttpGet {
        url: required("credentials.web_identity_token_url.url", get.url)?,
        headers: get
            .headers
            .into_iter()
            .map(|(name, value)| (name, host::Secret::new(value.expose())))
            .collect(),
        field: get.field.unwrap_or_else(|| "access_token".into()),
    })
}

fn azure_ad(azure: AzureAd, env: &HashMap<String, String>) -> Result<TokenSource, ConfigError> {
    let authority = azure
        .authority_host
        .or_else(|| env.get("AZURE_AUTHORITY_HOST").cloned())
        .filter(|host| !host.is_empty());
    Ok(TokenSource::entra(
        authority.as_deref(),
        &required("credentials.azure_ad.tenant_id", azure.tenant_id)?,
        required("credentials.azure_ad.client_id", azure.client_id)?,
        client_credential(
            azure.client_secret,
            azure.client_assertion_file,
            "credentials.azure_ad.client_secret",
        )?,
        azure.scope,
    ))
}

fn oauth2_source(oauth2: OAuth2) -> Result<TokenSource, ConfigError> {
    Ok(TokenSource::ClientCredentials {
        token_url: required("credentials.oauth2.token_url", oauth2.token_url)?,
        client_id: required("credentials.oauth2.client_id", oauth2.client_id)?,
        credential: client_credential(
            oauth2.client_secret,
            oauth2.client_assertion_file,
            "credentials.oauth2.client_secret",
        )?,
        scope: oauth2.scope,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resolved(yaml: &str) -> Result<Config, ConfigError> {
        FileConfig::parse(yaml)?.resolve(&HashMap::new())
    }

    #[test]
    fn attaches_layout_parses() {
        let config = resolved(
            "server:\n  bind_address: 127.0.0.1:8080\n  graceful_timeout: 0s\n  rate_limit: \"\"\n\
             provider: \"\"\n",
        );
        // Attaché's `provider` (its cloud) is not ours: named, not ignored.
        assert_eq!(config.unwrap_err().field, "config");
        let config = resolved(
            "server:\n  bind_address: 127.0.0.1:8080\n  graceful_timeout: 0s\n  rate_limit: \"10:20\"\n\
             iam_role: application-role\nimds_v1_allowed: false\nregion: eu-west-1\n\
             credentials:\n  role_arn: arn:aws:iam::123456789012:role/app\n",
        )
        .unwrap();
        assert_eq!(config.bind_address.to_string(), "127.0.0.1:8080");
        assert_eq!(config.graceful_timeout, Duration::ZERO);
        assert_eq!(
            config.rate_limit,
            Some(RateLimit {
                rps: 10.0,
                burst: 20.0
            })
        );
        assert_eq!(config.iam_role, "application-role");
        assert_eq!(
            (config.region.as_str(), config.zone.as_str()),
            ("eu-west-1", "eu-west-1a")
        );
        assert!(
            matches!(&config.source, Source::AssumeRole { role_arn, session_name: None, external_id: None, duration_seconds: None } if role_arn == "arn:aws:iam::123456789012:role/app"),
            "{:?}",
            config.source
        );
    }

    #[test]
    fn flags_override_the_file_and_the_role_name_defaults_to_the_arns() {
        let file = FileConfig::parse("server:\n  bind_address: 127.0.0.1:1\nmode: imds\n").unwrap();
        let flags = FileConfig {
            server: ServerSection {
                bind_address: Some("127.0.0.1:2".into()),
                ..ServerSection::default()
            },
            credentials: CredentialsSection {
                role_arn: Some("arn:aws:iam::123456789012:role/path/reader".into()),
                ..CredentialsSection::default()
            },
            ..FileConfig::default()
        };
        let env = HashMap::from([("AWS_REGION".to_string(), "ap-south-1".to_string())]);
        let config = file.merge(flags).resolve(&env).unwrap();
        assert_eq!(config.bind_address.port(), 2);
        assert_eq!(config.iam_role, "reader");
        assert_eq!(config.region, "ap-south-1");
        assert_eq!(config.graceful_timeout, Duration::from_secs(5));
    }

    #[test]
    fn each_mistake_names_its_field() {
        let bind = "server:\n  bind_address: 127.0.0.1:8080\n";
        let cases = [
            ("mode: imds\n", "server.bind_address"),
            (
                "server:\n  bind_address: localhost\n",
                "server.bind_address",
            ),
            (
                &format!("{bind}  graceful_timeout: soon\n"),
                "server.graceful_timeout",
            ),
            (
                &format!("{bind}  rate_limit: \"10\"\n"),
                "server.rate_limit",
            ),
            (
                &format!("{bind}  rate_limit: \"0:5\"\n"),
                "server.rate_limit",
            ),
            (
                &format!("{bind}  rate_limit: \"5:0\"\n"),
                "server.rate_limit",
            ),
            (&format!("{bind}mode: container\n"), "authorization_token"),
            (
                &format!("{bind}authorization_token: \"\"\n"),
                "authorization_token",
            ),
            (&format!("{bind}mode: proxy\n"), "config"),
            (&format!("{bind}iam_role: a/b\n"), "iam_role"),
            (
                "server:\n  bind_address: 0.0.0.0:8080\n",
                "server.bind_address",
            ),
            (
                &format!("{bind}authorization_token: t\n"),
                "authorization_token",
            ),
            (
                &format!("{bind}credentials:\n  external_id: x\n"),
                "credentials.external_id",
            ),
            (
                &format!("{bind}credentials:\n  role_session_name: x\n"),
                "credentials.role_session_name",
            ),
            (
                &format!(
                    "{bind}credentials:\n  role_arn: arn:aws:iam::1:role/r\n  duration_seconds: 900\n"
                ),
                "credentials.duration_seconds",
            ),
            (
                &format!(
                    "{bind}credentials:\n  role_arn: arn:aws:iam::1:role/r\n  web_identity_token_file: /t\n  duration_seconds: 3600\n"
                ),
                "credentials.duration_seconds",
            ),
            (
                &format!("{bind}credentials:\n  role_arn: reader\n"),
                "credentials.role_arn",
            ),
            (
                &format!("{bind}credentials:\n  web_identity_token_file: /t\n"),
                "credentials.role_arn",
            ),
            (
                &format!(
                    "{bind}credentials:\n  role_arn: arn:aws:iam::1:role/r\n  duration_seconds: 60\n"
                ),
                "credentials.duration_seconds",
            ),
        ];
        for (yaml, field) in cases {
            assert_eq!(resolved(yaml).unwrap_err().field, field, "{yaml}");
        }
        let role = "credentials:\n  role_arn: arn:aws:iam::1:role/r\n";
        let token_cases = [
            (
                "  azure_ad:\n    client_id: a\n    client_secret: s\n",
                "credentials.azure_ad.tenant_id",
            ),
            (
                "  azure_ad:\n    tenant_id: t\n    client_id: a\n",
                "credentials.azure_ad.client_secret",
            ),
            (
                "  azure_ad:\n    tenant_id: t\n    client_id: a\n    client_secret: s\n    client_assertion_file: /f\n",
                "credentials.azure_ad.client_secret",
            ),
            (
                "  oauth2:\n    client_id: a\n    client_secret: s\n",
                "credentials.oauth2.token_url",
            ),
            (
                "  web_identity_token_url:\n    field: value\n",
                "credentials.web_identity_token_url.url",
            ),
            (
                "  web_identity_token_file: /t\n  web_identity_token_command: cat /t\n",
                "credentials",
            ),
            (
                "  web_identity_token_command: \"\"\n",
                "credentials.web_identity_token_command",
            ),
        ];
        for (yaml, field) in token_cases {
            let yaml = format!("{bind}{role}{yaml}");
            assert_eq!(resolved(&yaml).unwrap_err().field, field, "{yaml}");
        }
    }

    #[test]
    fn token_sources_as_the_seeds_configure_them() {
        let yaml = "server:\n  bind_address: 127.0.0.1:8080\ncredentials:\n  role_arn: arn:aws:iam::1:role/oidc\n  azure_ad:\n    tenant_id: tenant-1\n    client_id: app\n    client_secret: s3cr3t\n    scope: api://app/.default\n";
        let env = HashMap::from([(
            "AZURE_AUTHORITY_HOST".to_string(),
            "https://login.microsoftonline.us".to_string(),
        )]);
        let config = FileConfig::parse(yaml).unwrap().resolve(&env).unwrap();
        let Source::WebIdentity {
            role_arn,
            token:
                TokenSource::ClientCredentials {
                    token_url,
                    client_id,
                    scope,
                    ..
                },
            ..
        } = &config.source
        else {
            panic!("{:?}", config.source);
        };
        assert_eq!(role_arn, "arn:aws:iam::1:role/oidc");
        assert_eq!(
            token_url,
            "https://login.microsoftonline.us/tenant-1/oauth2/v2.0/token"
        );
        assert_eq!(
            (client_id.as_str(), scope.as_deref()),
            ("app", Some("api://app/.default"))
        );
        assert!(!format!("{config:?}").contains("s3cr3t"));
        let github = "server:\n  bind_address: 127.0.0.1:8080\ncredentials:\n  role_arn: arn:aws:iam::1:role/ci\n  web_identity_token_url:\n    url: http://127.0.0.1:1/token?audience=sts.amazonaws.com\n    headers:\n      Authorization: bearer gh-t0ken\n    field: value\n";
        let config = resolved(github).unwrap();
        assert!(
            matches!(&config.source, Source::WebIdentity { token: TokenSource::HttpGet { field, headers, .. }, .. } if field == "value" && headers.len() == 1)
        );
        assert!(!format!("{config:?}").contains("gh-t0ken"));
    }

    #[test]
    fn the_authorization_token_is_not_shown_by_debug() {
        let config = resolved(
            "server:\n  bind_address: 127.0.0.1:8080\nmode: container\nauthorization_token: s3cr3t-t0ken\n",
        )
        .unwrap();
        assert!(!format!("{config:?}").contains("s3cr3t-t0ken"));
    }
}
