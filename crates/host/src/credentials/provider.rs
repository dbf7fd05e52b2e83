//! Credential providers: explicit, environment, shared profile files, `credential_process`.

use std::collections::HashMap;
use std::fmt;
use std::io::Read;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use sigv4_credentials::document;
use sigv4_credentials::profile::{self, ProfileToken, Source};
use zeroize::Zeroizing;

use super::{
    AssumeRoleProvider, AwsCredentials, ClientCredential, ProfileFiles, Secret, StsEndpoint,
    TokenSource, WebIdentityProvider,
};

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

/// A profile of the shared files (`AWS_PROFILE`, default `default`), resolved as botocore
/// resolves it (`sigv4_credentials::profile::resolve`): static keys, `credential_process`, web
/// identity, or roles assumed from a `source_profile` or `credential_source`.
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
            files: super::load_profile_files(env),
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
        let plan = profile::resolve(&self.files, &self.profile).map_err(|e| {
            if e.is_not_configured() {
                ProviderError::NotConfigured(e.to_string())
            } else {
                ProviderError::Failed(e.to_string())
            }
        })?;
        let mut credentials = self.source(plan.source)?;
        for role in plan.roles {
            let region = role.region.or_else(|| self.env.get("AWS_REGION").cloned());
            let sts = StsEndpoint::from_env(&self.env, region);
            credentials = AssumeRoleProvider::new(
                Box::new(StaticProvider(credentials)),
                role.role_arn,
                role.session_name,
                role.external_id,
                sts,
            )
            .with_duration_seconds(role.duration_seconds)
            .provide()?;
        }
        Ok(credentials)
    }
}

impl ProfileProvider {
    /// The first credentials of a plan. Once a profile names a source, a source that gives
    /// nothing is a failure, not a reason to try the next provider.
    fn source(&self, source: Source) -> Result<AwsCredentials, ProviderError> {
        let configured = |result: Result<AwsCredentials, ProviderError>, what: &str| {
            result.map_err(|e| match e {
                ProviderError::NotConfigured(why) | ProviderError::Failed(why) => {
                    ProviderError::Failed(format!("{what}: {why}"))
                }
            })
        };
        match source {
            Source::Static { credentials, .. } => {
                Ok(AwsCredentials::from_parsed(credentials, self.name()))
            }
            Source::Process { command, .. } => CredentialProcessProvider::new(command).provide(),
            Source::WebIdentity {
                role_arn,
                token,
                session_name,
                region,
                ..
            } => {
                let region = region.or_else(|| self.env.get("AWS_REGION").cloned());
                let sts = StsEndpoint::from_env(&self.env, region);
                let source = token_source(token, &self.env);
                WebIdentityProvider::with_token_source(source, role_arn, session_name, sts)
                    .provide()
            }
            Source::Environment => configured(
                EnvironmentProvider::new(self.env.clone()).provide(),
                "credential_source Environment",
            ),
            Source::Ec2InstanceMetadata => configured(
                super::ImdsProvider::from_env(&self.env).provide(),
                "credential_source Ec2InstanceMetadata",
            ),
            Source::EcsContainer => configured(
                super::ContainerProvider::from_env(self.env.clone()).provide(),
                "credential_source EcsContainer",
            ),
        }
    }
}

/// The host's token source for a profile's.
fn token_source(token: ProfileToken, env: &HashMap<String, String>) -> TokenSource {
    match token {
        ProfileToken::File(path) => TokenSource::File(path),
        ProfileToken::Command(command) => TokenSource::Command(command),
        ProfileToken::Url { url, header, field } => TokenSource::HttpGet {
            url,
            headers: header
                .into_iter()
                .map(|(name, value)| (name, Secret::new(value)))
                .collect(),
            field,
        },
        ProfileToken::AzureAd {
            tenant_id,
            client_id,
            client_secret,
            client_assertion_file,
            scope,
            authority_host,
        } => {
            let credential = match (client_secret, client_assertion_file) {
                (Some(secret), _) => ClientCredential::Secret(Secret::new(secret.as_str())),
                (None, file) => ClientCredential::AssertionFile(file.unwrap_or_default()),
            };
            let authority = authority_host.or_else(|| env.get("AZURE_AUTHORITY_HOST").cloned());
            TokenSource::entra(
                authority.as_deref(),
                &tenant_id,
                client_id,
                credential,
                scope,
            )
        }
    }
}

/// How long a `credential_process` command may run unless told otherwise.
pub const CREDENTIAL_PROCESS_TIMEOUT: Duration = Duration::from_secs(30);
/// The most of a command's stderr an error shows.
const STDERR_SHOWN: usize = 4096;

/// `credential_process`: a command that prints the credentials as JSON (`Version` 1), run by
/// the shell with a timeout.
pub struct CredentialProcessProvider {
    command: String,
    timeout: Duration,
}

impl CredentialProcessProvider {
    /// The command line, run by the shell, killed after [`CREDENTIAL_PROCESS_TIMEOUT`].
    pub fn new(command: String) -> Self {
        CredentialProcessProvider {
            command,
            timeout: CREDENTIAL_PROCESS_TIMEOUT,
        }
    }

    /// With another timeout.
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }
}

/// Kills the process and, on Unix, its group (what it started).
fn kill_group(child: &mut std::process::Child) {
    #[cfg(unix)]
    {
        let group = format!("-{}", child.id());
        let _ = Command::new("kill").args(["-KILL", "--", &group]).status();
    }
    let _ = child.kill();
    let _ = child.wait();
}

/// Reads a pipe to its end on a thread of its own (so that neither pipe fills while the other is
/// read, and a timeout need not wait for either).
fn drain(pipe: Option<impl Read + Send + 'static>) -> mpsc::Receiver<Vec<u8>> {
    let (sender, receiver) = mpsc::channel();
    if let Some(mut pipe) = pipe {
        std::thread::spawn(move || {
            let mut bytes = Vec::new();
            let _ = pipe.read_to_end(&mut bytes);
            let _ = sender.send(bytes);
        });
    }
    receiver
}

impl Provider for CredentialProcessProvider {
    fn name(&self) -> &'static str {
        "credential_process"
    }

    fn provide(&self) -> Result<AwsCredentials, ProviderError> {
        let failed = |why: String| ProviderError::Failed(format!("credential_process: {why}"));
        let (stdout, stderr) = run_command(&self.command, self.timeout).map_err(failed)?;
        document::parse_process_output(&stdout)
            .map(|parsed| AwsCredentials::from_parsed(parsed, self.name()))
            .map_err(|e| failed(format!("its output: {e}{}", shown(&stderr))))
    }
}

/// Runs `command` with the shell, killed (with what it started) after `timeout`: its stdout
/// (zeroized: it may hold a secret, so it is never shown) and stderr, or why it failed (its
/// stderr included, which may explain).
pub(crate) fn run_command(
    command_line: &str,
    timeout: Duration,
) -> Result<(Zeroizing<Vec<u8>>, Vec<u8>), String> {
    let mut command = Command::new("sh");
    command
        .arg("-c")
        .arg(command_line)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    // A group of its own, so that a timeout stops what it started too.
    #[cfg(unix)]
    std::os::unix::process::CommandExt::process_group(&mut command, 0);
    let mut child = command.spawn().map_err(|e| format!("cannot run it: {e}"))?;
    let stdout = drain(child.stdout.take());
    let stderr = drain(child.stderr.take());
    let deadline = Instant::now() + timeout;
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if Instant::now() < deadline => {
                std::thread::sleep(Duration::from_millis(5));
            }
            Ok(None) => {
                kill_group(&mut child);
                let stderr = stderr.recv_timeout(Duration::from_millis(100));
                return Err(format!(
                    "did not finish within {timeout:?}{}",
                    shown(&stderr.unwrap_or_default())
                ));
            }
            Err(e) => return Err(format!("waiting for it: {e}")),
        }
    };
    // A process it left running may hold the pipes open: the same deadline bounds reading them.
    let left = || deadline.saturating_duration_since(Instant::now());
    let (Ok(stdout), Ok(stderr)) = (stdout.recv_timeout(left()), stderr.recv_timeout(left()))
    else {
        kill_group(&mut child);
        return Err(format!(
            "its output did not end within {timeout:?} (a process it started holds it open)"
        ));
    };
    let stdout = Zeroizing::new(stdout);
    if !status.success() {
        return Err(format!("exited with {status}{}", shown(&stderr)));
    }
    Ok((stdout, stderr))
}

/// `: <stderr>` (trimmed, at most [`STDERR_SHOWN`] bytes), or nothing when it is empty.
fn shown(stderr: &[u8]) -> String {
    let text = String::from_utf8_lossy(&stderr[..stderr.len().min(STDERR_SHOWN)]);
    match text.trim() {
        "" => String::new(),
        text => format!(": {text}"),
    }
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
        assert_eq!(
            got.expiration,
            Some(super::super::from_unix_seconds(1_893_456_000))
        );
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

#[cfg(test)]
mod regression_tests {
    use super::*;

    fn closed_sts() -> HashMap<String, String> {
        HashMap::from([(
            "AWS_ENDPOINT_URL_STS".to_string(),
            "http://127.0.0.1:9".to_string(),
        )])
    }

    /// botocore and the Rust SDK assume the role of a profile that also has static keys.
    #[test]
    fn a_profile_with_role_arn_and_static_keys_assumes_the_role() {
        let config = "[profile both]\nrole_arn = arn:aws:iam::123456789012:role/r\nsource_profile = base\naws_access_key_id = AKIDBOTH\naws_secret_access_key = S\n[profile base]\naws_access_key_id = AKIDBASE\naws_secret_access_key = S\n";
        let files = ProfileFiles::parse(config, "");
        let got = ProfileProvider::new(files, "both")
            .with_env(closed_sts())
            .provide();
        assert!(
            matches!(&got, Err(ProviderError::Failed(why)) if why.contains("STS: POST http://127.0.0.1:9/")),
            "{got:?}"
        );
    }

    #[test]
    fn a_source_profile_loop_is_an_error_naming_it() {
        let config = "[profile a]\nrole_arn = arn:aws:iam::1:role/a\nsource_profile = b\n[profile b]\nrole_arn = arn:aws:iam::1:role/b\nsource_profile = a\n";
        let files = ProfileFiles::parse(config, "");
        let got = ProfileProvider::new(files, "a")
            .with_env(closed_sts())
            .provide();
        assert!(
            matches!(&got, Err(ProviderError::Failed(why)) if why.contains("a -> b -> a")),
            "{got:?}"
        );
    }

    /// `aws configure export-credentials --format process` writes `+00:00`.
    #[test]
    fn credential_process_accepts_rfc3339_offsets() {
        let command = r#"printf '{"Version": 1, "AccessKeyId": "ASIAX", "SecretAccessKey": "S", "SessionToken": "T", "Expiration": "2030-01-01T00:00:00+00:00"}'"#;
        let got = CredentialProcessProvider::new(command.into()).provide();
        assert_eq!(
            got.map(|c| c.expiration),
            Ok(Some(super::super::from_unix_seconds(1_893_456_000)))
        );
    }

    #[test]
    fn credential_process_stderr_is_in_the_error_of_bad_output() {
        let command = "echo 'token expired, run login' >&2; echo not-json";
        let got = CredentialProcessProvider::new(command.into()).provide();
        assert!(
            matches!(&got, Err(ProviderError::Failed(why)) if why.contains("token expired, run login")),
            "{got:?}"
        );
    }

    #[test]
    fn a_profile_that_is_its_own_source_profile_assumes_its_role_with_its_keys() {
        let config = "[profile me]\nrole_arn = arn:aws:iam::1:role/r\nsource_profile = me\naws_access_key_id = AKIDME\naws_secret_access_key = S\n";
        let files = ProfileFiles::parse(config, "");
        let got = ProfileProvider::new(files, "me")
            .with_env(closed_sts())
            .provide();
        assert!(
            matches!(&got, Err(ProviderError::Failed(why)) if why.contains("STS: POST http://127.0.0.1:9/")),
            "{got:?}"
        );
    }

    /// A process it started that keeps stdout open made the refresh wait for it forever.
    #[test]
    fn a_process_left_holding_the_output_does_not_hang_the_refresh() {
        let started = Instant::now();
        let command =
            r#"sleep 30 & printf '{"Version": 1, "AccessKeyId": "A", "SecretAccessKey": "S"}'"#;
        let got = CredentialProcessProvider::new(command.into())
            .with_timeout(Duration::from_secs(1))
            .provide();
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "{:?}",
            started.elapsed()
        );
        assert!(
            matches!(&got, Err(ProviderError::Failed(why)) if why.contains("holds it open")),
            "{got:?}"
        );
    }

    #[test]
    fn credential_process_is_killed_after_its_timeout_with_its_stderr() {
        let started = Instant::now();
        let got =
            CredentialProcessProvider::new("echo 'waiting for MFA' >&2; exec sleep 30".into())
                .with_timeout(Duration::from_millis(300))
                .provide();
        assert!(
            matches!(&got, Err(ProviderError::Failed(why)) if why.contains("did not finish within") && why.contains("waiting for MFA")),
            "{got:?}"
        );
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "{:?}",
            started.elapsed()
        );
    }
}
