//! The credential rules of every sigv4 host, without I/O: the hosts (the wasmtime host's
//! credential chain, the Envoy filter) read files, run processes, call endpoints and read
//! clocks, and hand the results to this crate, which parses, checks and decides.
//!
//! - [`document`]: the credentials documents of IMDS and the container endpoint (JSON), STS
//!   (`AssumeRole`, `AssumeRoleWithWebIdentity`: XML) and `credential_process` (JSON).
//! - [`time`]: RFC 3339 times with any offset, as those documents write them.
//! - [`imds`]: the IMDSv2 handshake as a state machine (token, role, credentials or region).
//! - [`container`]: the ECS/EKS container endpoint's URL and authorization token.
//! - [`profile`]: the shared `config`/`credentials` files and the resolution of a profile into a
//!   plan (static keys, `credential_process`, assume-role chains, web identity).
//! - [`oidc`]: OIDC tokens for web identity: the OAuth2 client-credentials form, tokens in JSON
//!   answers and their expiry.
//! - [`refresh`]: when to refresh (ahead of expiry) and how long to back off after a failure.

pub mod container;
pub mod document;
pub mod imds;
pub mod oidc;
pub mod profile;
pub mod refresh;
pub mod time;

use std::fmt;

use zeroize::Zeroizing;

/// Credentials as a document gave them. The secret and the token are zeroized on drop and
/// never shown by `Debug`.
#[derive(Clone, PartialEq, Eq)]
pub struct ParsedCredentials {
    /// The access key id.
    pub access_key_id: String,
    /// The secret access key.
    pub secret_access_key: Zeroizing<String>,
    /// The session token of temporary credentials.
    pub session_token: Option<Zeroizing<String>>,
    /// Unix seconds at which they stop working; `None` for credentials without expiry.
    pub expiration: Option<u64>,
}

impl fmt::Debug for ParsedCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ParsedCredentials")
            .field("access_key_id", &self.access_key_id)
            .field("secret_access_key", &"** redacted **")
            .field(
                "session_token",
                &self.session_token.as_ref().map(|_| "** redacted **"),
            )
            .field("expiration", &self.expiration)
            .finish()
    }
}

/// One HTTP request a host makes for a state machine of this crate (IMDS): method, path and
/// headers; the host adds the endpoint. `Debug` hides the values of secret headers.
#[derive(Clone, PartialEq, Eq)]
pub struct HttpRequest {
    /// `GET` or `PUT`.
    pub method: &'static str,
    /// The path (and query) on the endpoint.
    pub path: String,
    /// Headers to send (the IMDSv2 token header holds a secret).
    pub headers: Vec<(&'static str, Zeroizing<String>)>,
}

/// Header names whose values are secrets: never in `Debug` output, logs or errors.
pub const SECRET_HEADERS: [&str; 3] = [
    "authorization",
    "x-aws-ec2-metadata-token",
    "x-amz-security-token",
];

/// Whether a header's value is a secret (by its name, in any case).
pub fn is_secret_header(name: &str) -> bool {
    SECRET_HEADERS
        .iter()
        .any(|secret| secret.eq_ignore_ascii_case(name))
}

/// `Debug` of header pairs with the values of [`SECRET_HEADERS`] redacted.
pub struct RedactedHeaders<'a, V>(pub &'a [(V, V)]);

impl<V: AsRef<str>> fmt::Debug for RedactedHeaders<'_, V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list()
            .entries(self.0.iter().map(|(name, value)| {
                let name = name.as_ref();
                let value = if is_secret_header(name) {
                    "** redacted **"
                } else {
                    value.as_ref()
                };
                (name.to_string(), value.to_string())
            }))
            .finish()
    }
}

impl fmt::Debug for HttpRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let headers: Vec<(&str, &str)> =
            self.headers.iter().map(|(n, v)| (*n, v.as_str())).collect();
        f.debug_struct("HttpRequest")
            .field("method", &self.method)
            .field("path", &self.path)
            .field("headers", &RedactedHeaders(&headers))
            .finish()
    }
}

/// The answer to an [`HttpRequest`]: `None` when no answer came (nothing listening, a timeout).
#[derive(Clone, Copy, Debug)]
pub struct HttpAnswer<'a> {
    /// The HTTP status, or `None` without an answer.
    pub status: Option<u16>,
    /// The body (credential documents are small; hosts bound what they read).
    pub body: &'a [u8],
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_hides_secrets() {
        let credentials = ParsedCredentials {
            access_key_id: "AKID".into(),
            secret_access_key: Zeroizing::new("SECRETMARKER".into()),
            session_token: Some(Zeroizing::new("TOKENMARKER".into())),
            expiration: None,
        };
        let request = HttpRequest {
            method: "GET",
            path: "/".into(),
            headers: vec![(
                "x-aws-ec2-metadata-token",
                Zeroizing::new("IMDSTOKENMARKER".into()),
            )],
        };
        let shown = format!("{credentials:?} {credentials:#?} {request:?} {request:#?}");
        for secret in ["SECRETMARKER", "TOKENMARKER", "IMDSTOKENMARKER"] {
            assert!(!shown.contains(secret), "{shown}");
        }
        assert!(shown.contains("AKID") && shown.contains("x-aws-ec2-metadata-token"));
    }
}
