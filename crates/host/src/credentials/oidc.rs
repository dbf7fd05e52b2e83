//! Where web identity (OIDC) tokens come from, for `AssumeRoleWithWebIdentity`: a file (re-read
//! on every fetch: Kubernetes projected tokens, `AZURE_FEDERATED_TOKEN_FILE`), an OAuth2
//! client-credentials request (Entra ID's endpoint by default, as Beats federates Entra ID into
//! AWS), an HTTP GET whose JSON answer holds the token (Azure managed identity's IMDS endpoint,
//! GitHub Actions' ID token endpoint), or a command's output. Fetched tokens are kept until their
//! expiry less a margin (`sigv4_credentials::oidc::REFRESH_MARGIN_SECS`). The rules (the form, the answers, the expiry) are
//! `sigv4_credentials::oidc`'s; this module does the I/O.

use std::fmt;
use std::sync::Mutex;
use std::time::{Duration, SystemTime};

use sigv4_credentials::oidc::{
    ClientAuth, ENTRA_AUTHORITY_HOST, Token, client_credentials_form, entra_token_url,
    oauth2_error, parse_token_answer, plain_http_allowed, shown_url,
};
use zeroize::Zeroizing;

use super::http::{agent, call, call_with_body, sts_agent};
use super::provider::{ProviderError, run_command};
use super::unix_seconds;

/// How long a token endpoint or command may take.
const FETCH_TIMEOUT: Duration = Duration::from_secs(10);

/// A secret of a token source (a client secret, a header's value): zeroized on drop, never
/// shown by `Debug`.
#[derive(Clone)]
pub struct Secret(Zeroizing<String>);

impl Secret {
    /// Keeps `text` as a secret.
    pub fn new(text: impl Into<String>) -> Self {
        Secret(Zeroizing::new(text.into()))
    }

    fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("** redacted **")
    }
}

/// How an OAuth2 client proves itself.
#[derive(Clone, Debug)]
pub enum ClientCredential {
    /// A client secret.
    Secret(Secret),
    /// A file holding a signed client assertion (a federated token), re-read on every fetch.
    AssertionFile(String),
}

/// Where a token comes from.
#[derive(Clone)]
pub enum TokenSource {
    /// A file, re-read on every fetch.
    File(String),
    /// An OAuth2 client-credentials request to `token_url`.
    ClientCredentials {
        /// The token endpoint.
        token_url: String,
        /// The application (client) id.
        client_id: String,
        /// Its secret or assertion.
        credential: ClientCredential,
        /// The scope asked for (Entra ID: `api://APP/.default`).
        scope: Option<String>,
    },
    /// A GET with these headers; the token is the JSON answer's `field`.
    HttpGet {
        /// The URL (HTTPS, or plain HTTP to a loopback or link-local host).
        url: String,
        /// Headers to send (`Metadata: true`, `Authorization: bearer ...`).
        headers: Vec<(String, Secret)>,
        /// The answer's field holding the token (`access_token`, `value`).
        field: String,
    },
    /// A command run by the shell; the token is its output.
    Command(String),
}

impl TokenSource {
    /// Entra ID's client-credentials flow for `tenant_id`, at `authority_host` (default: as the
    /// Azure SDKs, `AZURE_AUTHORITY_HOST`, else `https://login.microsoftonline.com`).
    pub fn entra(
        authority_host: Option<&str>,
        tenant_id: &str,
        client_id: String,
        credential: ClientCredential,
        scope: Option<String>,
    ) -> Self {
        TokenSource::ClientCredentials {
            token_url: entra_token_url(authority_host.unwrap_or(ENTRA_AUTHORITY_HOST), tenant_id),
            client_id,
            credential,
            scope,
        }
    }

    /// What the source is, for errors (never a secret).
    fn describe(&self) -> String {
        match self {
            TokenSource::File(path) => format!("the token file {path}"),
            TokenSource::ClientCredentials { token_url, .. } => {
                format!("the token endpoint {}", shown_url(token_url))
            }
            TokenSource::HttpGet { url, .. } => format!("the token URL {}", shown_url(url)),
            TokenSource::Command(_) => "the token command".to_string(),
        }
    }
}

impl fmt::Debug for TokenSource {
    /// What [`TokenSource::describe`] says: a command line or a URL's query may hold a secret.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.describe())
    }
}

/// A token source with its last token kept until it nears expiry.
pub struct TokenFetcher {
    source: TokenSource,
    cached: Mutex<Option<Token>>,
}

impl TokenFetcher {
    /// Nothing fetched yet.
    pub fn new(source: TokenSource) -> Self {
        TokenFetcher {
            source,
            cached: Mutex::new(None),
        }
    }

    /// A token to send: the kept one while it lasts, else a new one.
    pub fn token(&self) -> Result<Zeroizing<String>, ProviderError> {
        let now = unix_seconds(SystemTime::now());
        // Files are re-read every time: whoever writes them rotates them.
        let keeps = !matches!(self.source, TokenSource::File(_));
        let mut cached = self.cached.lock().unwrap_or_else(|p| p.into_inner());
        if keeps && let Some(token) = cached.as_ref().filter(|t| t.usable_at(now)) {
            return Ok(token.value.clone());
        }
        let failed =
            |why: String| ProviderError::Failed(format!("{}: {why}", self.source.describe()));
        let token = fetch(&self.source, now).map_err(failed)?;
        let value = token.value.clone();
        if keeps {
            *cached = Some(token);
        }
        Ok(value)
    }
}

/// Fetches a token from `source` at `now`.
fn fetch(source: &TokenSource, now: u64) -> Result<Token, String> {
    let bare = |text: &str| Token::bare(text).map_err(|e| e.to_string());
    match source {
        TokenSource::File(path) => {
            let text = std::fs::read_to_string(path).map(Zeroizing::new);
            bare(&text.map_err(|e| e.to_string())?)
        }
        TokenSource::Command(command) => {
            let (stdout, _) = run_command(command, FETCH_TIMEOUT)?;
            bare(&String::from_utf8_lossy(&stdout))
        }
        TokenSource::HttpGet {
            url,
            headers,
            field,
        } => {
            let headers: Vec<(&str, &str)> = headers
                .iter()
                .map(|(name, value)| (name.as_str(), value.expose()))
                .collect();
            let answer = call(&agent_for(url)?, "GET", url, &headers)?;
            if answer.status != 200 {
                return Err(format!("answered {}", answer.status));
            }
            let body = Zeroizing::new(answer.body);
            parse_token_answer(&body, field, now).map_err(|e| e.to_string())
        }
        TokenSource::ClientCredentials {
            token_url,
            client_id,
            credential,
            scope,
        } => {
            let assertion;
            let auth = match credential {
                ClientCredential::Secret(secret) => ClientAuth::Secret(secret.expose()),
                ClientCredential::AssertionFile(path) => {
                    assertion = std::fs::read_to_string(path)
                        .map(Zeroizing::new)
                        .map_err(|e| format!("the client assertion file {path}: {e}"))?;
                    ClientAuth::Assertion(assertion.trim())
                }
            };
            let mut body = form_urlencoded::Serializer::new(String::new());
            for (name, value) in client_credentials_form(client_id, auth, scope.as_deref()) {
                body.append_pair(name, value);
            }
            let body = Zeroizing::new(body.finish());
            let answer = call_with_body(
                &agent_for(token_url)?,
                "POST",
                token_url,
                &[
                    ("content-type", "application/x-www-form-urlencoded"),
                    ("accept", "application/json"),
                ],
                body.as_bytes(),
            )?;
            let text = Zeroizing::new(answer.body);
            if answer.status != 200 {
                return Err(format!(
                    "answered {}: {}",
                    answer.status,
                    oauth2_error(&text)
                ));
            }
            parse_token_answer(&text, "access_token", now).map_err(|e| e.to_string())
        }
    }
}

/// The agent for a token URL: HTTPS through the environment's proxy (as STS); plain HTTP only
/// where `plain_http_allowed` says (a local broker, Azure's IMDS endpoint), never through a
/// proxy, because what is sent (a client secret, a bearer header) would travel in clear.
fn agent_for(url: &str) -> Result<ureq::Agent, String> {
    let uri: http::Uri = url
        .parse()
        .map_err(|_| format!("{:?} is not a URL", shown_url(url)))?;
    match uri.scheme_str() {
        Some("https") => Ok(sts_agent(FETCH_TIMEOUT)),
        Some("http") if uri.host().is_some_and(plain_http_allowed) => Ok(agent(FETCH_TIMEOUT)),
        Some("http") => Err(format!(
            "{} is plain HTTP to a host that is neither loopback nor 169.254.169.254",
            shown_url(url)
        )),
        _ => Err(format!("{:?} is not an http(s) URL", shown_url(url))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_http_only_to_local_hosts() {
        for url in [
            "http://127.0.0.1:8080/t",
            "http://169.254.169.254/metadata/identity/oauth2/token?resource=x",
            "http://[::1]:1/",
            "http://localhost/x",
            "https://login.microsoftonline.com/t/oauth2/v2.0/token",
        ] {
            assert!(agent_for(url).is_ok(), "{url}");
        }
        for url in [
            "http://login.example.com/token",
            "ftp://127.0.0.1/",
            "token",
        ] {
            assert!(agent_for(url).is_err(), "{url}");
        }
    }

    #[test]
    fn files_are_re_read_and_commands_kept_until_expiry() {
        let dir = std::env::temp_dir().join(format!("sigv4-oidc-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("token");
        std::fs::write(&file, "first\n").unwrap();
        let fetcher = TokenFetcher::new(TokenSource::File(file.to_string_lossy().into()));
        assert_eq!(fetcher.token().unwrap().as_str(), "first");
        std::fs::write(&file, "second").unwrap();
        assert_eq!(fetcher.token().unwrap().as_str(), "second");

        // A JWT that expires in 2100: the command runs once.
        let count = dir.join("count");
        let jwt = "eyJhbGciOiJub25lIn0.eyJleHAiOjQxMDI0NDQ4MDB9.s";
        let command = format!("echo x >> {}; echo {jwt}", count.display());
        let fetcher = TokenFetcher::new(TokenSource::Command(command));
        assert_eq!(fetcher.token().unwrap().as_str(), jwt);
        assert_eq!(fetcher.token().unwrap().as_str(), jwt);
        assert_eq!(std::fs::read_to_string(&count).unwrap(), "x\n");
        // An opaque token (no expiry known) is fetched every time.
        let fetcher = TokenFetcher::new(TokenSource::Command(format!(
            "echo y >> {}; echo opaque",
            count.display()
        )));
        fetcher.token().unwrap();
        fetcher.token().unwrap();
        assert_eq!(std::fs::read_to_string(&count).unwrap(), "x\ny\ny\n");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn errors_name_the_source_and_never_the_secret() {
        let fetcher = TokenFetcher::new(TokenSource::entra(
            Some("http://login.example.com"),
            "tenant",
            "app".into(),
            ClientCredential::Secret(Secret::new("hunter2-secret")),
            None,
        ));
        let error = fetcher.token().unwrap_err().to_string();
        assert!(
            error.contains("http://login.example.com/tenant/oauth2/v2.0/token"),
            "{error}"
        );
        assert!(!error.contains("hunter2"), "{error}");
        let source = TokenSource::HttpGet {
            url: "http://127.0.0.1:9/".into(),
            headers: vec![("authorization".into(), Secret::new("bearer hunter2"))],
            field: "value".into(),
        };
        assert!(!format!("{source:?}").contains("hunter2"));
        let error = TokenFetcher::new(TokenSource::Command("echo oops >&2; exit 3".into()))
            .token()
            .unwrap_err()
            .to_string();
        assert!(
            error.contains("the token command: exited with exit status: 3: oops"),
            "{error}"
        );
    }
}
