//! The ECS/EKS container credentials endpoint: `AWS_CONTAINER_CREDENTIALS_RELATIVE_URI` (a path
//! on `http://169.254.170.2`) or `AWS_CONTAINER_CREDENTIALS_FULL_URI`, and the authorization
//! token from `AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE` or `AWS_CONTAINER_AUTHORIZATION_TOKEN`.
//!
//! The token goes to the endpoint in clear over plain HTTP, so the URI is parsed (RFC 3986, the
//! `http` crate's parser: small enough for the Envoy filter, where the `url` crate's IDNA tables
//! added 216 KB) and checked as the AWS SDKs check it: no userinfo; `https` to any host; `http`
//! only to a loopback IP literal (127.0.0.0/8, `::1`), `localhost`, or the ECS/EKS addresses
//! 169.254.170.2, 169.254.170.23 and fd00:ec2::23.

use std::collections::HashMap;
use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use http::Uri;
use zeroize::Zeroizing;

/// The ECS task endpoint that relative URIs are paths on.
pub const ECS_ENDPOINT: &str = "http://169.254.170.2";

/// A checked container endpoint.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ContainerEndpoint {
    /// The whole URL, for clients that take one.
    pub url: String,
    /// `host[:port]`, for clients that call through a named upstream (Envoy's clusters).
    pub authority: String,
    /// The path and query, `/` when the URI has none.
    pub path_and_query: String,
}

impl From<ContainerEndpoint> for String {
    fn from(endpoint: ContainerEndpoint) -> String {
        endpoint.url
    }
}

/// Why the container endpoint is not used (the URL is not secret; a token never appears).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ContainerError {
    /// Neither variable is set.
    NotConfigured,
    /// `AWS_CONTAINER_CREDENTIALS_RELATIVE_URI` does not start with `/`.
    RelativeNotAPath(String),
    /// The URI does not parse.
    Unparseable {
        /// The variable.
        variable: &'static str,
        /// The parser's reason.
        why: String,
    },
    /// The URI has a user or password (`http://127.0.0.1:1@evil.example/`).
    Userinfo(&'static str),
    /// Neither `http` nor `https`.
    Scheme(String),
    /// Plain HTTP to a host that is neither loopback nor the ECS/EKS endpoint.
    HostNotAllowed(String),
    /// The authorization token would break the header (CR or LF in it).
    TokenNotAHeaderValue,
}

impl fmt::Display for ContainerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ContainerError::NotConfigured => {
                f.write_str("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI and _FULL_URI are not set")
            }
            ContainerError::RelativeNotAPath(uri) => write!(
                f,
                "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI {uri:?} does not start with '/'"
            ),
            ContainerError::Unparseable { variable, why } => {
                write!(f, "{variable} is not a URL ({why})")
            }
            ContainerError::Userinfo(variable) => {
                write!(
                    f,
                    "{variable} has a user or password before the host, which is refused"
                )
            }
            ContainerError::Scheme(scheme) => write!(
                f,
                "AWS_CONTAINER_CREDENTIALS_FULL_URI has scheme {scheme:?}, not http or https"
            ),
            ContainerError::HostNotAllowed(host) => write!(
                f,
                "AWS_CONTAINER_CREDENTIALS_FULL_URI uses plain HTTP to {host}, which is neither loopback nor the ECS/EKS endpoint"
            ),
            ContainerError::TokenNotAHeaderValue => f.write_str(
                "the container authorization token has a line break, which is not a header value",
            ),
        }
    }
}

impl std::error::Error for ContainerError {}

/// The endpoint the environment names, checked.
pub fn endpoint(env: &HashMap<String, String>) -> Result<ContainerEndpoint, ContainerError> {
    let get = |name: &str| env.get(name).filter(|v| !v.is_empty());
    if let Some(relative) = get("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI") {
        return relative_endpoint(relative);
    }
    match get("AWS_CONTAINER_CREDENTIALS_FULL_URI") {
        Some(full) => full_endpoint(full),
        None => Err(ContainerError::NotConfigured),
    }
}

/// `http://169.254.170.2` and the path `relative` (which must start with `/`).
pub fn relative_endpoint(relative: &str) -> Result<ContainerEndpoint, ContainerError> {
    const VARIABLE: &str = "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI";
    if !relative.starts_with('/') {
        return Err(ContainerError::RelativeNotAPath(relative.to_string()));
    }
    let (uri, endpoint) = parse(VARIABLE, &format!("{ECS_ENDPOINT}{relative}"))?;
    // A path cannot move the host, but check what was parsed, not what was meant.
    if endpoint.authority != "169.254.170.2" {
        return Err(ContainerError::HostNotAllowed(
            uri.host().unwrap_or_default().to_string(),
        ));
    }
    Ok(endpoint)
}

/// `AWS_CONTAINER_CREDENTIALS_FULL_URI`, checked.
pub fn full_endpoint(full: &str) -> Result<ContainerEndpoint, ContainerError> {
    const VARIABLE: &str = "AWS_CONTAINER_CREDENTIALS_FULL_URI";
    let (uri, endpoint) = parse(VARIABLE, full)?;
    let host = uri.host().unwrap_or_default();
    match uri.scheme_str().map(str::to_ascii_lowercase).as_deref() {
        Some("https") => Ok(endpoint),
        Some("http") if plain_http_allowed(host) => Ok(endpoint),
        Some("http") => Err(ContainerError::HostNotAllowed(host.to_string())),
        other => Err(ContainerError::Scheme(
            other.unwrap_or_default().to_string(),
        )),
    }
}

/// Parses an absolute URI without user information.
fn parse(variable: &'static str, text: &str) -> Result<(Uri, ContainerEndpoint), ContainerError> {
    let unparseable = |why: String| ContainerError::Unparseable { variable, why };
    let uri: Uri = text
        .parse()
        .map_err(|e: http::uri::InvalidUri| unparseable(e.to_string()))?;
    let authority = uri
        .authority()
        .ok_or_else(|| unparseable("it has no host".into()))?;
    if authority.as_str().contains('@') {
        return Err(ContainerError::Userinfo(variable));
    }
    if uri.host().is_none_or(str::is_empty) {
        return Err(unparseable("it has no host".into()));
    }
    let endpoint = ContainerEndpoint {
        url: uri.to_string(),
        authority: authority.as_str().to_string(),
        path_and_query: uri
            .path_and_query()
            .map_or_else(|| "/".to_string(), |p| p.as_str().to_string()),
    };
    Ok((uri, endpoint))
}

/// Loopback IP literals, `localhost`, and the ECS/EKS endpoints.
fn plain_http_allowed(host: &str) -> bool {
    if host.eq_ignore_ascii_case("localhost") {
        return true;
    }
    let literal = host
        .strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(host);
    let Ok(ip) = literal.parse::<IpAddr>() else {
        return false;
    };
    const ECS: IpAddr = IpAddr::V4(Ipv4Addr::new(169, 254, 170, 2));
    const EKS: IpAddr = IpAddr::V4(Ipv4Addr::new(169, 254, 170, 23));
    const EKS_V6: IpAddr = IpAddr::V6(Ipv6Addr::new(0xfd00, 0xec2, 0, 0, 0, 0, 0, 0x23));
    ip.is_loopback() || ip == ECS || ip == EKS || ip == EKS_V6
}

/// Where the authorization token comes from.
#[derive(Clone, PartialEq, Eq)]
pub enum TokenSource {
    /// No token.
    None,
    /// The file `AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE` names (re-read on every fetch: EKS
    /// rotates it); the host reads it and gives its text to [`token_from_file`].
    File(String),
    /// `AWS_CONTAINER_AUTHORIZATION_TOKEN`.
    Value(Zeroizing<String>),
}

impl fmt::Debug for TokenSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TokenSource::None => f.write_str("None"),
            TokenSource::File(path) => f.debug_tuple("File").field(path).finish(),
            TokenSource::Value(_) => f.write_str("Value(** redacted **)"),
        }
    }
}

/// The token source of this environment: the file wins over the value, as in the AWS SDKs.
pub fn token_source(env: &HashMap<String, String>) -> TokenSource {
    let get = |name: &str| env.get(name).filter(|v| !v.is_empty());
    if let Some(path) = get("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE") {
        return TokenSource::File(path.clone());
    }
    match get("AWS_CONTAINER_AUTHORIZATION_TOKEN") {
        Some(token) => TokenSource::Value(Zeroizing::new(token.clone())),
        None => TokenSource::None,
    }
}

/// The token in a token file's text (trimmed), checked as a header value.
pub fn token_from_file(text: &str) -> Result<Zeroizing<String>, ContainerError> {
    checked_token(text.trim())
}

/// A token checked as a header value: a CR or LF would end the header (botocore refuses it).
pub fn checked_token(token: &str) -> Result<Zeroizing<String>, ContainerError> {
    if token.contains(['\r', '\n']) {
        return Err(ContainerError::TokenNotAHeaderValue);
    }
    Ok(Zeroizing::new(token.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn full(uri: &str) -> Result<ContainerEndpoint, ContainerError> {
        full_endpoint(uri)
    }

    #[test]
    fn allowed_endpoints() {
        for uri in [
            "http://127.0.0.1:51678/creds",
            "http://127.1.2.3/creds",
            "http://localhost:8080/creds",
            "http://LOCALHOST/creds",
            "http://[::1]:80/creds",
            "http://169.254.170.2/v2/credentials/x",
            "http://169.254.170.23/v1/credentials",
            "http://[fd00:ec2::23]/v1/credentials",
            "https://creds.example.com/x",
        ] {
            assert!(full(uri).is_ok(), "{uri}: {:?}", full(uri));
        }
        let relative = relative_endpoint("/v2/credentials/abc?x=1").unwrap();
        assert_eq!(relative.url, "http://169.254.170.2/v2/credentials/abc?x=1");
        assert_eq!(relative.authority, "169.254.170.2");
        assert_eq!(relative.path_and_query, "/v2/credentials/abc?x=1");
        let v6 = full("http://[::1]:9/c").unwrap();
        assert_eq!(
            (v6.authority.as_str(), v6.path_and_query.as_str()),
            ("[::1]:9", "/c")
        );
        assert_eq!(
            full("https://creds.example.com").unwrap().path_and_query,
            "/"
        );
    }

    /// A host name that starts like a loopback address is not one.
    #[test]
    fn full_uri_host_that_starts_with_127_is_refused() {
        assert_eq!(
            full("http://127.evil.example/"),
            Err(ContainerError::HostNotAllowed("127.evil.example".into()))
        );
    }

    /// `127.0.0.1:1@` is a user and password: the host is evil.example.
    #[test]
    fn full_uri_with_userinfo_is_refused() {
        assert_eq!(
            full("http://127.0.0.1:1@evil.example/"),
            Err(ContainerError::Userinfo(
                "AWS_CONTAINER_CREDENTIALS_FULL_URI"
            ))
        );
        assert!(full("https://user@creds.example.com/").is_err());
    }

    /// A relative URI is a path on 169.254.170.2: `@evil.example/x` would make that a user.
    #[test]
    fn relative_uri_that_is_not_a_path_is_refused() {
        assert_eq!(
            relative_endpoint("@evil.example/x"),
            Err(ContainerError::RelativeNotAPath("@evil.example/x".into()))
        );
        assert_eq!(
            relative_endpoint(":80@evil.example/x"),
            Err(ContainerError::RelativeNotAPath(
                ":80@evil.example/x".into()
            ))
        );
        let env: HashMap<String, String> = [(
            "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI".to_string(),
            "@evil.example/x".to_string(),
        )]
        .into();
        assert!(endpoint(&env).is_err());
        // Paths that look like hosts stay paths on the ECS endpoint.
        for path in ["//evil.example/x", "/\\evil.example/x", "/@evil.example"] {
            let endpoint = relative_endpoint(path).unwrap();
            assert_eq!(endpoint.authority, "169.254.170.2", "{path}");
        }
    }

    #[test]
    fn other_hosts_and_schemes_are_refused() {
        for uri in [
            "http://169.254.169.254/",
            "http://10.0.0.1/",
            "http://localhost.evil.example/",
            "http://[::2]/",
            "ftp://127.0.0.1/",
            "file:///etc/passwd",
            "not a url",
        ] {
            assert!(full(uri).is_err(), "{uri}");
        }
    }

    #[test]
    fn token_sources() {
        let env = |pairs: &[(&str, &str)]| -> HashMap<String, String> {
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect()
        };
        let both = env(&[
            ("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", "/t"),
            ("AWS_CONTAINER_AUTHORIZATION_TOKEN", "TOKENMARKER"),
        ]);
        assert_eq!(token_source(&both), TokenSource::File("/t".into()));
        let value = token_source(&env(&[(
            "AWS_CONTAINER_AUTHORIZATION_TOKEN",
            "TOKENMARKER",
        )]));
        assert!(!format!("{value:?}").contains("TOKENMARKER"));
        assert_eq!(token_source(&env(&[])), TokenSource::None);
        assert_eq!(token_from_file(" tok\n").unwrap().as_str(), "tok");
        assert_eq!(
            token_from_file("a\r\nx-evil: 1"),
            Err(ContainerError::TokenNotAHeaderValue)
        );
    }
}
