//! The server's configuration: a YAML file, every field of which a command-line flag may give
//! instead ([`FileConfig::merge`]); [`FileConfig::resolve`] checks it all and names the field of
//! the first mistake.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::time::Duration;

use serde::Deserialize;
pub use sigv4_serve::ConfigError;
use sigv4_serve::config_error as error;
use sigv4_serve::{RateLimit, Secret, parse_duration, parse_rate_limit};

use crate::bindings::Binding;
use crate::proof::{PartitionHosts, ProofPolicy, region_of_host};

/// The configuration file, every field optional (a flag may give it instead).
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    /// `host:port` to listen on.
    pub bind_address: Option<String>,
    /// Listen on an address other than loopback (put TLS in front: keys travel in the answers).
    pub allow_remote: Option<bool>,
    /// `sqlite://PATH` or `postgres://...`.
    pub database: Option<String>,
    /// The STS endpoints proofs may be signed for (`https://sts.amazonaws.com`); none: every
    /// public STS endpoint of the `aws`, `aws-cn` and `aws-us-gov` partitions.
    #[serde(default)]
    pub sts_endpoints: Vec<String>,
    /// The header that names this service as the proof's audience, and its value.
    pub audience_header: Option<String>,
    pub audience: Option<String>,
    /// `ARN_PATTERN=ORGANIZATION`, the first match wins.
    #[serde(default)]
    pub bindings: Vec<String>,
    /// How long a login's API key lives (default `1h`).
    pub key_ttl: Option<String>,
    /// How long the previous key stays valid after a login rotates it (default `5m`).
    pub grace: Option<String>,
    /// The hex SHA-256 of the admin token (`Authorization: Bearer <token>` on `/v1/admin/`);
    /// none: no admin routes.
    pub admin_token_sha256: Option<String>,
    /// A file of at least 32 random bytes from which the agents' SigV4 secrets are derived;
    /// none: agents get bearer keys only.
    pub master_key_file: Option<String>,
    /// `rps:burst` per client address on login and enroll (default `5:20`).
    pub rate_limit: Option<String>,
    /// How long the replay of a proof to STS may take (default `5s`).
    pub sts_timeout: Option<String>,
    /// A JSON line on stderr per request (default true).
    pub access_log: Option<bool>,
}

/// A configuration checked for use.
#[derive(Clone, Debug)]
pub struct Config {
    pub bind_address: SocketAddr,
    pub database: String,
    pub policy: ProofPolicy,
    pub bindings: Vec<Binding>,
    pub key_ttl: Duration,
    pub grace: Duration,
    pub admin_token_sha256: Option<[u8; 32]>,
    pub master_key: Option<Secret>,
    pub rate_limit: RateLimit,
    pub sts_timeout: Duration,
    pub access_log: bool,
}

/// The regions whose public STS endpoints are trusted when none is configured.
const REGIONS: [&str; 33] = [
    "us-east-1",
    "us-east-2",
    "us-west-1",
    "us-west-2",
    "af-south-1",
    "ap-east-1",
    "ap-south-1",
    "ap-south-2",
    "ap-northeast-1",
    "ap-northeast-2",
    "ap-northeast-3",
    "ap-southeast-1",
    "ap-southeast-2",
    "ap-southeast-3",
    "ap-southeast-4",
    "ap-southeast-5",
    "ap-southeast-7",
    "ca-central-1",
    "ca-west-1",
    "eu-central-1",
    "eu-central-2",
    "eu-west-1",
    "eu-west-2",
    "eu-west-3",
    "eu-south-1",
    "eu-south-2",
    "eu-north-1",
    "il-central-1",
    "me-south-1",
    "me-central-1",
    "mx-central-1",
    "sa-east-1",
    "us-gov-west-1",
];

impl FileConfig {
    /// Parses the YAML of a configuration file.
    pub fn parse(yaml: &str) -> Result<FileConfig, ConfigError> {
        serde_yaml_ng::from_str(yaml).map_err(|e| error("config", e.to_string()))
    }

    /// This configuration with every field `flags` gives replaced by it (lists: when the flags
    /// give any).
    pub fn merge(self, flags: FileConfig) -> FileConfig {
        let list =
            |flags: Vec<String>, file: Vec<String>| if flags.is_empty() { file } else { flags };
        FileConfig {
            bind_address: flags.bind_address.or(self.bind_address),
            allow_remote: flags.allow_remote.or(self.allow_remote),
            database: flags.database.or(self.database),
            sts_endpoints: list(flags.sts_endpoints, self.sts_endpoints),
            audience_header: flags.audience_header.or(self.audience_header),
            audience: flags.audience.or(self.audience),
            bindings: list(flags.bindings, self.bindings),
            key_ttl: flags.key_ttl.or(self.key_ttl),
            grace: flags.grace.or(self.grace),
            admin_token_sha256: flags.admin_token_sha256.or(self.admin_token_sha256),
            master_key_file: flags.master_key_file.or(self.master_key_file),
            rate_limit: flags.rate_limit.or(self.rate_limit),
            sts_timeout: flags.sts_timeout.or(self.sts_timeout),
            access_log: flags.access_log.or(self.access_log),
        }
    }

    /// Checks the configuration (and reads the master key file).
    pub fn resolve(self) -> Result<Config, ConfigError> {
        let bind = self
            .bind_address
            .ok_or_else(|| error("bind_address", "missing (host:port to listen on)"))?;
        let bind_address: SocketAddr = bind.parse().map_err(|_| {
            error(
                "bind_address",
                format!("{bind:?} is not an IP address and port (127.0.0.1:8900)"),
            )
        })?;
        if !bind_address.ip().is_loopback() && self.allow_remote != Some(true) {
            return Err(error(
                "bind_address",
                format!(
                    "{bind} is not a loopback address: put TLS in front and set allow_remote to mean it"
                ),
            ));
        }
        let database = self
            .database
            .ok_or_else(|| error("database", "missing (sqlite://PATH or postgres://...)"))?;
        let audience_header = self
            .audience_header
            .filter(|h| !h.is_empty())
            .ok_or_else(|| {
                error(
                    "audience_header",
                    "missing (the header naming this service)",
                )
            })?;
        if !audience_header
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        {
            return Err(error(
                "audience_header",
                format!("{audience_header:?} is not a header name"),
            ));
        }
        let audience = self
            .audience
            .filter(|a| !a.is_empty())
            .ok_or_else(|| error("audience", "missing (the value proofs must sign)"))?;
        let mut policy = ProofPolicy::new(&audience_header, &audience);
        sts_endpoints(&self.sts_endpoints, &mut policy)?;
        let bindings = self
            .bindings
            .iter()
            .map(|text| {
                Binding::parse(text).map_err(|e| error("bindings", format!("{text:?}: {e}")))
            })
            .collect::<Result<Vec<_>, _>>()?;
        let duration = |field: &'static str, text: Option<String>, default: Duration| match text
            .as_deref()
        {
            None | Some("") => Ok(default),
            Some(text) => parse_duration(text)
                .ok_or_else(|| error(field, format!("{text:?} is not a duration (30s, 5m, 1h)"))),
        };
        let key_ttl = duration("key_ttl", self.key_ttl, Duration::from_secs(3600))?;
        if key_ttl < Duration::from_secs(1) {
            return Err(error("key_ttl", "must be at least 1s"));
        }
        let grace = duration("grace", self.grace, Duration::from_secs(300))?;
        let sts_timeout = duration("sts_timeout", self.sts_timeout, Duration::from_secs(5))?;
        let rate_limit = match self.rate_limit.as_deref() {
            None | Some("") => RateLimit {
                rps: 5.0,
                burst: 20.0,
            },
            Some(text) => parse_rate_limit(text)
                .ok_or_else(|| error("rate_limit", format!("{text:?} is not rps:burst (5:20)")))?,
        };
        let admin_token_sha256 = match self.admin_token_sha256.as_deref() {
            None | Some("") => None,
            Some(hex) => Some(sha256_hex(hex).ok_or_else(|| {
                error(
                    "admin_token_sha256",
                    "not 64 hex digits (sha256sum of the token)",
                )
            })?),
        };
        let master_key = match self.master_key_file.as_deref() {
            None | Some("") => None,
            Some(path) => {
                let bytes = std::fs::read(path)
                    .map_err(|e| error("master_key_file", format!("{path}: {e}")))?;
                let text = String::from_utf8(bytes)
                    .map_err(|_| error("master_key_file", format!("{path}: not text")))?;
                let key = text.trim();
                if key.len() < 32 {
                    return Err(error(
                        "master_key_file",
                        format!(
                            "{path}: at least 32 characters of random text (openssl rand -hex 32)"
                        ),
                    ));
                }
                Some(Secret::from(key.to_string()))
            }
        };
        Ok(Config {
            bind_address,
            database,
            policy,
            bindings,
            key_ttl,
            grace,
            admin_token_sha256,
            master_key,
            rate_limit,
            sts_timeout,
            access_log: self.access_log != Some(false),
        })
    }
}

/// The STS hosts proofs may be signed for: the configured endpoints (their partition from their
/// name; a host whose name has no region, such as a local STS, is `us-east-1`), or every public
/// one.
fn sts_endpoints(endpoints: &[String], policy: &mut ProofPolicy) -> Result<(), ConfigError> {
    let mut partitions: BTreeMap<&'static str, Vec<String>> = BTreeMap::new();
    if endpoints.is_empty() {
        let mut add = |partition, host: String| partitions.entry(partition).or_default().push(host);
        add("aws", "sts.amazonaws.com".to_string());
        for region in REGIONS {
            let partition = if region.starts_with("us-gov-") {
                "aws-us-gov"
            } else {
                "aws"
            };
            add(partition, format!("sts.{region}.amazonaws.com"));
        }
        add("aws-us-gov", "sts.us-gov-east-1.amazonaws.com".to_string());
        for region in ["cn-north-1", "cn-northwest-1"] {
            add("aws-cn", format!("sts.{region}.amazonaws.com.cn"));
        }
    }
    for url in endpoints {
        let bad = |why: &str| error("sts_endpoints", format!("{url:?}: {why}"));
        let (scheme, rest) = url
            .split_once("://")
            .ok_or_else(|| bad("not a URL (https://sts.amazonaws.com)"))?;
        match scheme.to_ascii_lowercase().as_str() {
            "https" => {}
            "http" => policy.allow_http = true,
            _ => return Err(bad("not http or https")),
        }
        let host = rest.trim_end_matches('/').to_ascii_lowercase();
        if host.is_empty() || host.contains(['/', '?', '#', '@']) {
            return Err(bad(
                "an endpoint is a scheme and a host[:port], without a path",
            ));
        }
        let host = match (scheme, host.rsplit_once(':')) {
            ("https", Some((name, "443"))) | ("http", Some((name, "80"))) => name.to_string(),
            _ => host,
        };
        let name = host
            .rsplit_once(':')
            .map_or(host.as_str(), |(name, _)| name);
        let partition = if name.ends_with(".amazonaws.com.cn") {
            "aws-cn"
        } else if name.contains("us-gov-") {
            "aws-us-gov"
        } else {
            "aws"
        };
        if region_of_host(name).is_none() {
            policy.regions.insert(host.clone(), "us-east-1".to_string());
        }
        partitions.entry(partition).or_default().push(host);
    }
    policy.partitions = partitions
        .into_iter()
        .map(|(partition, hosts)| PartitionHosts {
            partition: partition.to_string(),
            hosts,
        })
        .collect();
    Ok(())
}

fn sha256_hex(hex: &str) -> Option<[u8; 32]> {
    let hex = hex.trim();
    if hex.len() != 64 {
        return None;
    }
    let mut out = [0u8; 32];
    for (i, byte) in out.iter_mut().enumerate() {
        *byte = u8::from_str_radix(hex.get(2 * i..2 * i + 2)?, 16).ok()?;
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn base() -> FileConfig {
        FileConfig {
            bind_address: Some("127.0.0.1:0".into()),
            database: Some("sqlite://x.db".into()),
            audience_header: Some("X-Intake-Id".into()),
            audience: Some("intake".into()),
            ..FileConfig::default()
        }
    }

    #[test]
    fn a_file_reads_and_flags_override_it() {
        let file = FileConfig::parse(
            "bind_address: 127.0.0.1:8900\ndatabase: sqlite://exchange.db\n\
             sts_endpoints: [http://127.0.0.1:5000]\naudience_header: X-Intake-Id\n\
             audience: intake\nbindings: ['arn:aws:iam::123456789012:role/agents-*=acme']\n\
             key_ttl: 10m\ngrace: 30s\nrate_limit: '1:2'\nsts_timeout: 2s\n",
        )
        .unwrap();
        let flags = FileConfig {
            bind_address: Some("127.0.0.1:9000".into()),
            ..FileConfig::default()
        };
        let config = file.merge(flags).resolve().unwrap();
        assert_eq!(config.bind_address.to_string(), "127.0.0.1:9000");
        assert_eq!(config.database, "sqlite://exchange.db");
        assert_eq!(config.key_ttl, Duration::from_secs(600));
        assert_eq!(config.grace, Duration::from_secs(30));
        assert_eq!(config.sts_timeout, Duration::from_secs(2));
        assert_eq!(
            config.rate_limit,
            RateLimit {
                rps: 1.0,
                burst: 2.0
            }
        );
        assert_eq!(config.bindings.len(), 1);
        assert_eq!(config.bindings[0].organization, "acme");
        assert!(config.policy.allow_http);
        assert_eq!(
            config.policy.partitions,
            vec![PartitionHosts {
                partition: "aws".into(),
                hosts: vec!["127.0.0.1:5000".into()]
            }]
        );
        assert_eq!(config.policy.regions["127.0.0.1:5000"], "us-east-1");
        assert_eq!(config.policy.audience_header, "X-Intake-Id");
    }

    #[test]
    fn without_endpoints_every_public_sts_endpoint_is_trusted_over_https() {
        let config = base().resolve().unwrap();
        assert!(!config.policy.allow_http);
        let hosts = |partition: &str| {
            config
                .policy
                .partitions
                .iter()
                .find(|p| p.partition == partition)
                .map(|p| p.hosts.clone())
                .unwrap_or_default()
        };
        assert!(hosts("aws").contains(&"sts.amazonaws.com".to_string()));
        assert!(hosts("aws").contains(&"sts.eu-west-1.amazonaws.com".to_string()));
        assert!(hosts("aws-cn").contains(&"sts.cn-north-1.amazonaws.com.cn".to_string()));
        assert!(hosts("aws-us-gov").contains(&"sts.us-gov-west-1.amazonaws.com".to_string()));
        assert!(!hosts("aws").contains(&"sts.us-gov-west-1.amazonaws.com".to_string()));
        assert_eq!(config.key_ttl, Duration::from_secs(3600));
        assert_eq!(config.admin_token_sha256, None);
        assert!(config.master_key.is_none());
    }

    #[test]
    fn each_mistake_names_its_field() {
        let cases: Vec<(FileConfig, &str)> = vec![
            (
                FileConfig {
                    bind_address: None,
                    ..base()
                },
                "bind_address",
            ),
            (
                FileConfig {
                    bind_address: Some("0.0.0.0:1".into()),
                    ..base()
                },
                "bind_address",
            ),
            (
                FileConfig {
                    bind_address: Some("localhost".into()),
                    ..base()
                },
                "bind_address",
            ),
            (
                FileConfig {
                    database: None,
                    ..base()
                },
                "database",
            ),
            (
                FileConfig {
                    audience_header: None,
                    ..base()
                },
                "audience_header",
            ),
            (
                FileConfig {
                    audience_header: Some("X Bad".into()),
                    ..base()
                },
                "audience_header",
            ),
            (
                FileConfig {
                    audience: Some(String::new()),
                    ..base()
                },
                "audience",
            ),
            (
                FileConfig {
                    sts_endpoints: vec!["sts.amazonaws.com".into()],
                    ..base()
                },
                "sts_endpoints",
            ),
            (
                FileConfig {
                    sts_endpoints: vec!["ftp://sts.amazonaws.com".into()],
                    ..base()
                },
                "sts_endpoints",
            ),
            (
                FileConfig {
                    sts_endpoints: vec!["https://sts.amazonaws.com/x".into()],
                    ..base()
                },
                "sts_endpoints",
            ),
            (
                FileConfig {
                    bindings: vec!["acme".into()],
                    ..base()
                },
                "bindings",
            ),
            (
                FileConfig {
                    key_ttl: Some("1d".into()),
                    ..base()
                },
                "key_ttl",
            ),
            (
                FileConfig {
                    key_ttl: Some("0s".into()),
                    ..base()
                },
                "key_ttl",
            ),
            (
                FileConfig {
                    grace: Some("soon".into()),
                    ..base()
                },
                "grace",
            ),
            (
                FileConfig {
                    rate_limit: Some("5".into()),
                    ..base()
                },
                "rate_limit",
            ),
            (
                FileConfig {
                    admin_token_sha256: Some("abc".into()),
                    ..base()
                },
                "admin_token_sha256",
            ),
            (
                FileConfig {
                    master_key_file: Some("/nonexistent/key".into()),
                    ..base()
                },
                "master_key_file",
            ),
        ];
        for (config, field) in cases {
            let shown = format!("{config:?}");
            assert_eq!(
                config.resolve().map(|_| ()).unwrap_err().field,
                field,
                "{shown}"
            );
        }
        assert_eq!(
            FileConfig::parse("bind_adress: x\n").unwrap_err().field,
            "config"
        );
    }

    #[test]
    fn the_admin_token_is_configured_by_its_hash_and_the_master_key_by_a_file() {
        let dir = std::env::temp_dir().join(format!("exchange-config-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let (short, long) = (dir.join("short"), dir.join("long"));
        std::fs::write(&short, "too short\n").unwrap();
        std::fs::write(&long, format!("{}\n", "ab".repeat(32))).unwrap();
        let with_key = |path: &std::path::Path| FileConfig {
            master_key_file: Some(path.display().to_string()),
            admin_token_sha256: Some(
                "BA7816BF8F01CFEA414140DE5DAE2223B00361A396177A9CB410FF61F20015AD".into(),
            ),
            ..base()
        };
        assert_eq!(
            with_key(&short).resolve().unwrap_err().field,
            "master_key_file"
        );
        let config = with_key(&long).resolve().unwrap();
        assert_eq!(config.master_key.unwrap().expose(), "ab".repeat(32));
        let hash = config.admin_token_sha256.unwrap();
        assert_eq!(hash[0], 0xba);
        assert_eq!(hash[31], 0xad);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
