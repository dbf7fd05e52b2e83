//! The shared `config` and `credentials` files (their text; the host reads them), and the
//! resolution of a profile into a [`Plan`]: where the first credentials come from, then the roles
//! to assume with them, in order.
//!
//! The precedence is botocore's (and the AWS SDK for Rust's): a profile with `role_arn` assumes
//! the role even when it also has static keys; its source is `source_profile` or
//! `credential_source` (not both). A source profile with static keys gives those keys (so a
//! profile that is its own `source_profile` uses its keys for its role); one without keys or a
//! role gives its own credentials (`credential_process`, web identity); one with a role is assumed
//! in turn. A chain that comes back to a profile it went through is a [`ProfileError::Loop`], and
//! no chain assumes more than [`MAX_ROLE_CHAIN`] roles.

use std::collections::HashMap;
use std::fmt;

use zeroize::Zeroizing;

use crate::ParsedCredentials;

/// The most roles one profile chain may assume.
pub const MAX_ROLE_CHAIN: usize = 16;

/// The settings of one profile, from both files.
pub type ProfileSection = HashMap<String, String>;

/// Both files, parsed: `[profile name]` and `[default]` in `config`, `[name]` in `credentials`
/// (whose settings win), comments, and nested (indented) settings skipped.
#[derive(Default, Clone)]
pub struct ProfileFiles {
    profiles: HashMap<String, ProfileSection>,
    /// The profiles whose `aws_access_key_id` is in the credentials file: botocore takes those
    /// keys before `credential_process`, and keys from the config file after it.
    keys_in_credentials_file: std::collections::HashSet<String>,
}

impl fmt::Debug for ProfileFiles {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The sections hold secret keys: only the profile names are shown.
        let mut names: Vec<&String> = self.profiles.keys().collect();
        names.sort();
        f.debug_struct("ProfileFiles")
            .field("profiles", &names)
            .finish()
    }
}

impl ProfileFiles {
    /// Parses the text of both files (an absent file is the empty text).
    pub fn parse(config: &str, credentials: &str) -> Self {
        let mut files = ProfileFiles::default();
        files.merge(config, true);
        files.merge(credentials, false);
        files
    }

    /// The named profile's settings, if either file has it.
    pub fn profile(&self, name: &str) -> Option<&ProfileSection> {
        self.profiles.get(name)
    }

    fn merge(&mut self, text: &str, is_config: bool) {
        let mut current: Option<String> = None;
        for line in text.lines() {
            let trimmed = line.trim();
            if trimmed.is_empty() || trimmed.starts_with(['#', ';']) {
                continue;
            }
            if let Some(header) = trimmed.strip_prefix('[').and_then(|h| h.split(']').next()) {
                let header = header.trim();
                current = if is_config {
                    // `[default]` or `[profile name]`; other sections (sso-session, services) are
                    // not profiles.
                    match header.strip_prefix("profile ") {
                        Some(name) => Some(name.trim().to_string()),
                        None if header == "default" => Some(header.to_string()),
                        None => None,
                    }
                } else {
                    Some(header.to_string())
                };
                continue;
            }
            // An indented line continues a nested setting (`s3 =` then `  max_concurrency = 5`).
            if line.starts_with([' ', '\t']) {
                continue;
            }
            let (Some(profile), Some((key, value))) = (&current, trimmed.split_once('=')) else {
                continue;
            };
            // Like botocore's parser: no inline comments, a `#` or `;` inside a value stays.
            let key = key.trim().to_ascii_lowercase();
            if !is_config && key == "aws_access_key_id" {
                self.keys_in_credentials_file.insert(profile.clone());
            }
            self.profiles
                .entry(profile.clone())
                .or_default()
                .insert(key, value.trim().to_string());
        }
    }
}

/// Where a plan's first credentials come from.
#[derive(Debug, PartialEq, Eq)]
pub enum Source {
    /// Static keys of a profile.
    Static {
        /// The profile that holds them.
        profile: String,
        /// The keys (no expiry).
        credentials: ParsedCredentials,
    },
    /// A `credential_process` command line (run by the shell).
    Process {
        /// The profile that names it.
        profile: String,
        /// The command line.
        command: String,
    },
    /// `AssumeRoleWithWebIdentity` with a token from `token`.
    WebIdentity {
        /// The profile that names it.
        profile: String,
        /// The role.
        role_arn: String,
        /// Where the OIDC token comes from.
        token: ProfileToken,
        /// `role_session_name`.
        session_name: Option<String>,
        /// The profile's `region` (for the STS endpoint).
        region: Option<String>,
    },
    /// `credential_source = Environment`.
    Environment,
    /// `credential_source = Ec2InstanceMetadata`.
    Ec2InstanceMetadata,
    /// `credential_source = EcsContainer`.
    EcsContainer,
}

/// One `AssumeRole`, signed with the credentials before it.
#[derive(Debug, PartialEq, Eq)]
pub struct AssumeRole {
    /// The profile whose role this is.
    pub profile: String,
    /// `role_arn`.
    pub role_arn: String,
    /// `role_session_name`.
    pub session_name: Option<String>,
    /// `external_id`.
    pub external_id: Option<String>,
    /// `duration_seconds`.
    pub duration_seconds: Option<u32>,
    /// The profile's `region` (for the STS endpoint).
    pub region: Option<String>,
}

/// How to get a profile's credentials: the source, then each role in order.
#[derive(Debug, PartialEq, Eq)]
pub struct Plan {
    /// The first credentials.
    pub source: Source,
    /// The roles to assume, the first with the source's credentials, each next with the
    /// credentials of the one before.
    pub roles: Vec<AssumeRole>,
}

/// Why a profile has no plan.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ProfileError {
    /// Neither file has the profile (the chain goes on).
    NoProfile(String),
    /// The profile has nothing that gives credentials (the chain goes on).
    NoCredentials(String),
    /// One of `aws_access_key_id`, `aws_secret_access_key` without the other.
    PartialKeys {
        /// The profile.
        profile: String,
        /// The key that is missing.
        missing: &'static str,
    },
    /// `source_profile` names a profile neither file has.
    MissingSourceProfile {
        /// The profile with the `source_profile`.
        profile: String,
        /// The missing one.
        source_profile: String,
    },
    /// The chain comes back to a profile it went through (the profiles, in order, ending with
    /// the one seen again).
    Loop(Vec<String>),
    /// The chain assumes more than [`MAX_ROLE_CHAIN`] roles (the profiles so far).
    TooDeep(Vec<String>),
    /// Both `source_profile` and `credential_source`.
    BothSources(String),
    /// `role_arn` with neither `source_profile`, `credential_source` nor
    /// `web_identity_token_file`.
    NoSource(String),
    /// A key a profile's token source needs is missing or empty.
    Missing {
        /// The profile.
        profile: String,
        /// The key.
        key: &'static str,
    },
    /// More than one web identity token source.
    TwoTokenSources {
        /// The profile.
        profile: String,
        /// The keys naming them.
        keys: Vec<String>,
    },
    /// A `credential_source` other than Environment, Ec2InstanceMetadata, EcsContainer.
    UnknownCredentialSource {
        /// The profile.
        profile: String,
        /// The value.
        value: String,
    },
    /// A setting this crate does not support (`sso_session`, `sso_start_url`).
    Unsupported {
        /// The profile.
        profile: String,
        /// The setting.
        key: &'static str,
    },
    /// `duration_seconds` is not a number of seconds.
    BadDuration(String),
}

impl ProfileError {
    /// Whether the profile simply does not configure credentials (the chain goes on), rather
    /// than configuring them wrongly (the chain stops).
    pub fn is_not_configured(&self) -> bool {
        matches!(
            self,
            ProfileError::NoProfile(_) | ProfileError::NoCredentials(_)
        )
    }
}

impl fmt::Display for ProfileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ProfileError::NoProfile(name) => {
                write!(f, "no profile [{name}] in the config or credentials file")
            }
            ProfileError::NoCredentials(name) => write!(f, "profile [{name}] has no credentials"),
            ProfileError::PartialKeys { profile, missing } => {
                write!(f, "profile [{profile}] has static keys without {missing}")
            }
            ProfileError::MissingSourceProfile {
                profile,
                source_profile,
            } => write!(
                f,
                "the source_profile [{source_profile}] of profile [{profile}] does not exist"
            ),
            ProfileError::Loop(chain) => write!(
                f,
                "the profiles' source_profile settings loop: {}",
                chain.join(" -> ")
            ),
            ProfileError::TooDeep(chain) => write!(
                f,
                "the profile chain assumes more than {MAX_ROLE_CHAIN} roles: {} -> ...",
                chain.join(" -> ")
            ),
            ProfileError::BothSources(name) => write!(
                f,
                "profile [{name}] has both source_profile and credential_source"
            ),
            ProfileError::NoSource(name) => write!(
                f,
                "profile [{name}] has role_arn but neither source_profile, credential_source nor web_identity_token_file"
            ),
            ProfileError::Missing { profile, key } => {
                write!(f, "profile [{profile}] needs {key}")
            }
            ProfileError::TwoTokenSources { profile, keys } => write!(
                f,
                "profile [{profile}] names more than one web identity token source: {}",
                keys.join(", ")
            ),
            ProfileError::UnknownCredentialSource { profile, value } => write!(
                f,
                "profile [{profile}] has credential_source {value:?}, not Environment, Ec2InstanceMetadata or EcsContainer"
            ),
            ProfileError::Unsupported { profile, key } => write!(
                f,
                "profile [{profile}] uses {key}, which this host does not support yet"
            ),
            ProfileError::BadDuration(name) => write!(
                f,
                "profile [{name}] has a duration_seconds that is not a number of seconds"
            ),
        }
    }
}

impl std::error::Error for ProfileError {}

/// The plan for profile `name`.
pub fn resolve(files: &ProfileFiles, name: &str) -> Result<Plan, ProfileError> {
    let section = files
        .profile(name)
        .ok_or_else(|| ProfileError::NoProfile(name.to_string()))?;
    let mut visited = vec![name.to_string()];
    let mut roles = Vec::new();
    let source = if assumes_role(section) {
        roles.push(assume_role(name, section)?);
        role_source(files, name, section, &mut visited, &mut roles)?
    } else {
        own_credentials(files, name, section)?
    };
    roles.reverse();
    Ok(Plan { source, roles })
}

/// Where a profile's web identity token comes from: the AWS SDKs' `web_identity_token_file`, or
/// one of this host's sources (the same as the credential server's, under profile keys).
#[derive(Clone, PartialEq, Eq)]
pub enum ProfileToken {
    /// `web_identity_token_file`: re-read on every refresh.
    File(String),
    /// `web_identity_token_command`: a command printing the token.
    Command(String),
    /// `web_identity_token_url` (with `web_identity_token_header = Name: value` and
    /// `web_identity_token_field`, default `access_token`): a GET answering JSON.
    Url {
        url: String,
        header: Option<(String, String)>,
        field: String,
    },
    /// `azure_tenant_id`, `azure_client_id`, `azure_client_secret` or
    /// `azure_client_assertion_file`, `azure_scope`, `azure_authority_host`: Entra ID's
    /// client-credentials flow.
    AzureAd {
        tenant_id: String,
        client_id: String,
        client_secret: Option<Zeroizing<String>>,
        client_assertion_file: Option<String>,
        scope: Option<String>,
        authority_host: Option<String>,
    },
}

impl fmt::Debug for ProfileToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ProfileToken::File(path) => f.debug_tuple("File").field(path).finish(),
            // A command line or a header may hold a secret: named only.
            ProfileToken::Command(_) => f.write_str("Command"),
            ProfileToken::Url { url, field, .. } => f
                .debug_struct("Url")
                .field("url", url)
                .field("field", field)
                .finish_non_exhaustive(),
            ProfileToken::AzureAd {
                tenant_id,
                client_id,
                ..
            } => f
                .debug_struct("AzureAd")
                .field("tenant_id", tenant_id)
                .field("client_id", client_id)
                .finish_non_exhaustive(),
        }
    }
}

/// The profile keys that name a web identity token source.
const TOKEN_KEYS: [&str; 4] = [
    "web_identity_token_file",
    "web_identity_token_command",
    "web_identity_token_url",
    "azure_tenant_id",
];

/// The token source a profile names, if any.
fn profile_token(
    name: &str,
    section: &ProfileSection,
) -> Result<Option<ProfileToken>, ProfileError> {
    let get = |key: &str| section.get(key).filter(|v| !v.is_empty()).cloned();
    let named: Vec<&str> = TOKEN_KEYS
        .into_iter()
        .filter(|k| section.contains_key(*k))
        .collect();
    let missing = |key: &'static str| ProfileError::Missing {
        profile: name.to_string(),
        key,
    };
    let token = match named.as_slice() {
        [] => return Ok(None),
        ["web_identity_token_file"] => ProfileToken::File(
            get("web_identity_token_file").ok_or_else(|| missing("web_identity_token_file"))?,
        ),
        ["web_identity_token_command"] => ProfileToken::Command(
            get("web_identity_token_command")
                .ok_or_else(|| missing("web_identity_token_command"))?,
        ),
        ["web_identity_token_url"] => ProfileToken::Url {
            url: get("web_identity_token_url").ok_or_else(|| missing("web_identity_token_url"))?,
            header: get("web_identity_token_header").map(|h| {
                let (name, value) = h.split_once(':').unwrap_or((&h, ""));
                (name.trim().to_string(), value.trim().to_string())
            }),
            field: get("web_identity_token_field").unwrap_or_else(|| "access_token".into()),
        },
        ["azure_tenant_id"] => {
            let client_secret = get("azure_client_secret").map(Zeroizing::new);
            let client_assertion_file = get("azure_client_assertion_file");
            if client_secret.is_some() == client_assertion_file.is_some() {
                return Err(missing(
                    "azure_client_secret (or azure_client_assertion_file, one of them)",
                ));
            }
            ProfileToken::AzureAd {
                tenant_id: get("azure_tenant_id").ok_or_else(|| missing("azure_tenant_id"))?,
                client_id: get("azure_client_id").ok_or_else(|| missing("azure_client_id"))?,
                client_secret,
                client_assertion_file,
                scope: get("azure_scope"),
                authority_host: get("azure_authority_host"),
            }
        }
        _ => {
            return Err(ProfileError::TwoTokenSources {
                profile: name.to_string(),
                keys: named.iter().map(|k| k.to_string()).collect(),
            });
        }
    };
    Ok(Some(token))
}

/// `role_arn` without a web identity token source (with one, the role is assumed with web
/// identity).
fn assumes_role(section: &ProfileSection) -> bool {
    section.contains_key("role_arn") && !TOKEN_KEYS.iter().any(|k| section.contains_key(*k))
}

fn assume_role(name: &str, section: &ProfileSection) -> Result<AssumeRole, ProfileError> {
    let duration_seconds = section
        .get("duration_seconds")
        .map(|d| {
            d.parse()
                .map_err(|_| ProfileError::BadDuration(name.into()))
        })
        .transpose()?;
    Ok(AssumeRole {
        profile: name.to_string(),
        role_arn: section["role_arn"].clone(),
        session_name: section.get("role_session_name").cloned(),
        external_id: section.get("external_id").cloned(),
        duration_seconds,
        region: section.get("region").cloned(),
    })
}

/// The source of the role of profile `name`, pushing the roles of source profiles on the way.
fn role_source(
    files: &ProfileFiles,
    name: &str,
    section: &ProfileSection,
    visited: &mut Vec<String>,
    roles: &mut Vec<AssumeRole>,
) -> Result<Source, ProfileError> {
    let (mut name, mut section) = (name.to_string(), section);
    loop {
        let source_profile = match (
            section.get("source_profile"),
            section.get("credential_source"),
        ) {
            (Some(_), Some(_)) => return Err(ProfileError::BothSources(name)),
            (None, Some(source)) => {
                return match source.as_str() {
                    "Environment" => Ok(Source::Environment),
                    "Ec2InstanceMetadata" => Ok(Source::Ec2InstanceMetadata),
                    "EcsContainer" => Ok(Source::EcsContainer),
                    other => Err(ProfileError::UnknownCredentialSource {
                        profile: name,
                        value: other.to_string(),
                    }),
                };
            }
            (None, None) => return Err(ProfileError::NoSource(name)),
            (Some(source_profile), None) => source_profile.clone(),
        };
        let source =
            files
                .profile(&source_profile)
                .ok_or_else(|| ProfileError::MissingSourceProfile {
                    profile: name.clone(),
                    source_profile: source_profile.clone(),
                })?;
        if visited.contains(&source_profile) {
            // A profile may be its own source for its static keys; any other return is a loop.
            if source_profile != name || static_keys(&source_profile, source)?.is_none() {
                visited.push(source_profile);
                return Err(ProfileError::Loop(std::mem::take(visited)));
            }
        }
        visited.push(source_profile.clone());
        // A source profile with keys gives its own credentials, even if it has a role too
        // (botocore); in the order own_credentials takes them.
        if static_keys(&source_profile, source)?.is_some() || !assumes_role(source) {
            return own_credentials(files, &source_profile, source);
        }
        if roles.len() == MAX_ROLE_CHAIN {
            return Err(ProfileError::TooDeep(std::mem::take(visited)));
        }
        roles.push(assume_role(&source_profile, source)?);
        (name, section) = (source_profile, source);
    }
}

/// A profile's own credentials (no `role_arn`, or one with `web_identity_token_file`), in
/// botocore's order: web identity, static keys of the credentials file, `credential_process`,
/// static keys of the config file.
fn own_credentials(
    files: &ProfileFiles,
    name: &str,
    section: &ProfileSection,
) -> Result<Source, ProfileError> {
    if let Some(role_arn) = section.get("role_arn")
        && let Some(token) = profile_token(name, section)?
    {
        return Ok(Source::WebIdentity {
            profile: name.to_string(),
            role_arn: role_arn.clone(),
            token,
            session_name: section.get("role_session_name").cloned(),
            region: section.get("region").cloned(),
        });
    }
    let keys = static_keys(name, section)?;
    let process = section.get("credential_process");
    match (keys, process) {
        (Some(credentials), None) => {
            return Ok(Source::Static {
                profile: name.to_string(),
                credentials,
            });
        }
        (Some(credentials), Some(_)) if files.keys_in_credentials_file.contains(name) => {
            return Ok(Source::Static {
                profile: name.to_string(),
                credentials,
            });
        }
        (_, Some(command)) => {
            return Ok(Source::Process {
                profile: name.to_string(),
                command: command.clone(),
            });
        }
        (None, None) => {}
    }
    for key in ["sso_session", "sso_start_url"] {
        if section.contains_key(key) {
            return Err(ProfileError::Unsupported {
                profile: name.to_string(),
                key,
            });
        }
    }
    Err(ProfileError::NoCredentials(name.to_string()))
}

fn static_keys(
    name: &str,
    section: &ProfileSection,
) -> Result<Option<ParsedCredentials>, ProfileError> {
    let get = |key: &str| section.get(key).filter(|v| !v.is_empty());
    match (get("aws_access_key_id"), get("aws_secret_access_key")) {
        (Some(id), Some(secret)) => Ok(Some(ParsedCredentials {
            access_key_id: id.clone(),
            secret_access_key: Zeroizing::new(secret.clone()),
            session_token: get("aws_session_token").cloned().map(Zeroizing::new),
            expiration: None,
        })),
        (None, None) => Ok(None),
        (Some(_), None) => Err(ProfileError::PartialKeys {
            profile: name.to_string(),
            missing: "aws_secret_access_key",
        }),
        (None, Some(_)) => Err(ProfileError::PartialKeys {
            profile: name.to_string(),
            missing: "aws_access_key_id",
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_both_files_with_credentials_winning() {
        let config = "\
# comment
[default]
region = us-west-2
[profile dev]
region=eu-west-1
s3 =
  max_concurrent_requests = 5
credential_process = /bin/echo hi
[sso-session corp]
sso_region = us-east-1
";
        let credentials = "\
[default]
aws_access_key_id = AKIDDEFAULT
aws_secret_access_key = secret ; not a comment in a value
[dev]
aws_access_key_id=AKIDDEV
";
        let files = ProfileFiles::parse(config, credentials);
        let default = files.profile("default").unwrap();
        assert_eq!(default["region"], "us-west-2");
        assert_eq!(default["aws_access_key_id"], "AKIDDEFAULT");
        assert_eq!(
            default["aws_secret_access_key"],
            "secret ; not a comment in a value"
        );
        let dev = files.profile("dev").unwrap();
        assert_eq!(dev["region"], "eu-west-1");
        assert_eq!(dev["credential_process"], "/bin/echo hi");
        assert_eq!(dev["aws_access_key_id"], "AKIDDEV");
        assert!(!dev.contains_key("max_concurrent_requests"));
        assert!(files.profile("corp").is_none());
        assert!(!format!("{files:?}").contains("AKIDDEFAULT"));
    }

    fn plan(config: &str, name: &str) -> Result<Plan, ProfileError> {
        resolve(&ProfileFiles::parse(config, ""), name)
    }

    fn static_of(plan: &Plan) -> (&str, &str) {
        match &plan.source {
            Source::Static {
                profile,
                credentials,
            } => (profile, &credentials.access_key_id),
            other => panic!("{other:?}"),
        }
    }

    fn arns(plan: &Plan) -> Vec<&str> {
        plan.roles.iter().map(|r| r.role_arn.as_str()).collect()
    }

    /// botocore and the Rust SDK assume the role of a profile that also has static keys.
    #[test]
    fn role_arn_wins_over_static_keys() {
        let config = "[profile both]\nrole_arn = arn:aws:iam::1:role/r\nsource_profile = base\naws_access_key_id = AKIDBOTH\naws_secret_access_key = S\n[profile base]\naws_access_key_id = AKIDBASE\naws_secret_access_key = S\n";
        let p = plan(config, "both").unwrap();
        assert_eq!(static_of(&p), ("base", "AKIDBASE"));
        assert_eq!(arns(&p), ["arn:aws:iam::1:role/r"]);
    }

    /// A profile that is its own source_profile signs its role with its own keys.
    #[test]
    fn a_profile_may_be_its_own_source_for_its_keys() {
        let config = "[profile me]\nrole_arn = arn:aws:iam::1:role/r\nsource_profile = me\naws_access_key_id = AKIDME\naws_secret_access_key = S\nregion = eu-west-1\nexternal_id = x\nduration_seconds = 900\n";
        let p = plan(config, "me").unwrap();
        assert_eq!(static_of(&p), ("me", "AKIDME"));
        assert_eq!(
            p.roles,
            [AssumeRole {
                profile: "me".into(),
                role_arn: "arn:aws:iam::1:role/r".into(),
                session_name: None,
                external_id: Some("x".into()),
                duration_seconds: Some(900),
                region: Some("eu-west-1".into()),
            }]
        );
        // Without keys, a profile that is its own source loops.
        let config = "[profile me]\nrole_arn = arn:aws:iam::1:role/r\nsource_profile = me\n";
        assert_eq!(
            plan(config, "me"),
            Err(ProfileError::Loop(vec!["me".into(), "me".into()]))
        );
    }

    #[test]
    fn chains_assume_each_role_in_order() {
        let config = "[profile a]\nrole_arn = arn:a\nsource_profile = b\n[profile b]\nrole_arn = arn:b\nsource_profile = c\n[profile c]\nrole_arn = arn:c\ncredential_source = Ec2InstanceMetadata\n";
        let p = plan(config, "a").unwrap();
        assert_eq!(p.source, Source::Ec2InstanceMetadata);
        assert_eq!(arns(&p), ["arn:c", "arn:b", "arn:a"]);
        // A source profile with keys gives its keys, even if it has a role too (botocore).
        let config = "[profile a]\nrole_arn = arn:a\nsource_profile = b\n[profile b]\nrole_arn = arn:b\nsource_profile = c\naws_access_key_id = AKIDB\naws_secret_access_key = S\n";
        let p = plan(config, "a").unwrap();
        assert_eq!((static_of(&p), arns(&p)), (("b", "AKIDB"), vec!["arn:a"]));
        // A source profile with a process or web identity gives those credentials.
        let config = "[profile a]\nrole_arn = arn:a\nsource_profile = p\n[profile p]\ncredential_process = get-creds\n[profile w]\nrole_arn = arn:w\nweb_identity_token_file = /t\n[profile x]\nrole_arn = arn:x\nsource_profile = w\n";
        let p = plan(config, "a").unwrap();
        assert_eq!(
            p.source,
            Source::Process {
                profile: "p".into(),
                command: "get-creds".into()
            }
        );
        let p = plan(config, "x").unwrap();
        assert!(matches!(&p.source, Source::WebIdentity { role_arn, .. } if role_arn == "arn:w"));
        assert_eq!(arns(&p), ["arn:x"]);
    }

    /// Keys in the credentials file come before `credential_process`, keys in the config file
    /// after it (botocore's SharedCredentialProvider, ProcessProvider, ConfigProvider).
    #[test]
    fn credential_process_between_the_two_files_keys() {
        let config = "[profile p]\ncredential_process = get-creds\naws_access_key_id = AKIDCONFIG\naws_secret_access_key = S\n";
        let files = ProfileFiles::parse(config, "");
        let p = resolve(&files, "p").unwrap();
        assert!(
            matches!(&p.source, Source::Process { command, .. } if command == "get-creds"),
            "{:?}",
            p.source
        );
        let files = ProfileFiles::parse(
            "[profile p]\ncredential_process = get-creds\n",
            "[p]\naws_access_key_id = AKIDFILE\naws_secret_access_key = S\n",
        );
        let p = resolve(&files, "p").unwrap();
        assert!(
            matches!(&p.source, Source::Static { credentials, .. } if credentials.access_key_id == "AKIDFILE"),
            "{:?}",
            p.source
        );
    }

    /// A role with a web identity token file is assumed with it, even beside static keys
    /// (botocore and the Rust SDK try web identity first; the keys were returned before).
    #[test]
    fn web_identity_tokens_from_this_hosts_sources() {
        let config = "[profile c]\nrole_arn = arn:c\nweb_identity_token_command = get-token\n\
            [profile u]\nrole_arn = arn:u\nweb_identity_token_url = http://169.254.169.254/t\nweb_identity_token_header = Metadata: true\n\
            [profile a]\nrole_arn = arn:a\nazure_tenant_id = t\nazure_client_id = app\nazure_client_secret = hunter2-profile\nazure_scope = api://app/.default\n\
            [profile two]\nrole_arn = arn:x\nweb_identity_token_file = /t\nweb_identity_token_command = c\n\
            [profile nosecret]\nrole_arn = arn:x\nazure_tenant_id = t\nazure_client_id = app\n";
        let files = ProfileFiles::parse(config, "");
        let token = |name: &str| match resolve(&files, name).map(|p| p.source) {
            Ok(Source::WebIdentity { token, .. }) => Ok(token),
            Ok(other) => panic!("{other:?}"),
            Err(e) => Err(e.to_string()),
        };
        assert_eq!(token("c"), Ok(ProfileToken::Command("get-token".into())));
        assert_eq!(
            token("u"),
            Ok(ProfileToken::Url {
                url: "http://169.254.169.254/t".into(),
                header: Some(("Metadata".into(), "true".into())),
                field: "access_token".into()
            })
        );
        let azure = token("a").unwrap();
        assert!(
            matches!(&azure, ProfileToken::AzureAd { tenant_id, client_secret: Some(_), .. } if tenant_id == "t")
        );
        assert!(!format!("{azure:?}").contains("hunter2"), "{azure:?}");
        assert_eq!(
            token("two"),
            Err("profile [two] names more than one web identity token source: web_identity_token_file, web_identity_token_command".into())
        );
        assert_eq!(
            token("nosecret"),
            Err("profile [nosecret] needs azure_client_secret (or azure_client_assertion_file, one of them)".into())
        );
    }

    #[test]
    fn web_identity_comes_before_static_keys() {
        let config = "[profile w]\nrole_arn = arn:w\nweb_identity_token_file = /t\naws_access_key_id = AKIDW\naws_secret_access_key = S\n";
        let p = plan(config, "w").unwrap();
        assert!(
            matches!(&p.source, Source::WebIdentity { role_arn, .. } if role_arn == "arn:w"),
            "{:?}",
            p.source
        );
    }

    /// A -> B -> A overflowed the stack: now a typed error naming the loop.
    #[test]
    fn a_source_profile_loop_is_an_error_naming_it() {
        let config = "[profile a]\nrole_arn = arn:a\nsource_profile = b\n[profile b]\nrole_arn = arn:b\nsource_profile = a\n";
        let error = plan(config, "a").unwrap_err();
        assert_eq!(
            error,
            ProfileError::Loop(vec!["a".into(), "b".into(), "a".into()])
        );
        assert!(error.to_string().contains("a -> b -> a"), "{error}");
        // Even when a has keys: a is reached again from b, not from itself.
        let config = "[profile a]\nrole_arn = arn:a\nsource_profile = b\naws_access_key_id = K\naws_secret_access_key = S\n[profile b]\nrole_arn = arn:b\nsource_profile = a\n";
        assert_eq!(
            plan(config, "a").unwrap_err(),
            ProfileError::Loop(vec!["a".into(), "b".into(), "a".into()])
        );
    }

    #[test]
    fn chains_are_bounded() {
        let mut config = String::new();
        for i in 0..40 {
            config += &format!(
                "[profile p{i}]\nrole_arn = arn:{i}\nsource_profile = p{}\n",
                i + 1
            );
        }
        config += "[profile p40]\naws_access_key_id = K\naws_secret_access_key = S\n";
        let Err(ProfileError::TooDeep(chain)) = plan(&config, "p0") else {
            panic!()
        };
        assert_eq!(chain.len(), MAX_ROLE_CHAIN + 1);
        assert_eq!(plan(&config, "p30").unwrap().roles.len(), 10);
    }

    #[test]
    fn misconfigurations_are_named() {
        let cases = [
            (
                "[profile r]\nrole_arn = x\n",
                ProfileError::NoSource("r".into()),
            ),
            (
                "[profile r]\nrole_arn = x\nsource_profile = s\ncredential_source = Environment\n",
                ProfileError::BothSources("r".into()),
            ),
            (
                "[profile r]\nrole_arn = x\ncredential_source = Elsewhere\n",
                ProfileError::UnknownCredentialSource {
                    profile: "r".into(),
                    value: "Elsewhere".into(),
                },
            ),
            (
                "[profile r]\nrole_arn = x\nsource_profile = gone\n",
                ProfileError::MissingSourceProfile {
                    profile: "r".into(),
                    source_profile: "gone".into(),
                },
            ),
            (
                "[profile r]\naws_access_key_id = K\n",
                ProfileError::PartialKeys {
                    profile: "r".into(),
                    missing: "aws_secret_access_key",
                },
            ),
            (
                "[profile r]\nsso_session = corp\n",
                ProfileError::Unsupported {
                    profile: "r".into(),
                    key: "sso_session",
                },
            ),
            (
                "[profile r]\nregion = x\n",
                ProfileError::NoCredentials("r".into()),
            ),
        ];
        for (config, expected) in cases {
            assert_eq!(plan(config, "r"), Err(expected), "{config}");
        }
        assert_eq!(plan("", "r"), Err(ProfileError::NoProfile("r".into())));
        let p = plan(
            "[profile r]\nrole_arn = x\ncredential_source = Environment\n",
            "r",
        );
        assert_eq!(p.unwrap().source, Source::Environment);
    }
}
