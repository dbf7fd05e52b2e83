//! A signing case in the layout of the AWS signing test suite: `context.json` (credentials,
//! region, service, time, options) and `request.txt` (a raw HTTP/1.1 request). This is the
//! contract every runtime's `sigv4 sign --case` implements.

use std::fs;
use std::path::Path;

use serde::Deserialize;
use sigv4_core::{
    Algorithm, Credentials, Explained, Location, Payload, Request, SessionTokenMode, Settings,
    Signer, SigningParams, Timestamp, UriEncoding,
};

/// `context.json`.
#[derive(Debug, Deserialize)]
pub struct Context {
    /// The credentials to sign with.
    pub credentials: ContextCredentials,
    /// The presigned URL lifetime.
    #[serde(default = "default_expiration")]
    pub expiration_in_seconds: u64,
    /// Normalize the path (dot segments, repeated slashes).
    #[serde(default = "yes")]
    pub normalize: bool,
    /// The credential scope's region; with `sigv4a`, the region set.
    pub region: String,
    /// The credential scope's service.
    pub service: String,
    /// Add and sign `x-amz-content-sha256`.
    #[serde(default)]
    pub sign_body: bool,
    /// RFC 3339 signing time.
    pub timestamp: String,
    /// Add the session token after signing instead of signing it.
    #[serde(default)]
    pub omit_session_token: bool,
    /// Encode the path once more (most services) or use it as sent (S3: `false`).
    #[serde(default = "yes")]
    pub double_uri_encode: bool,
    /// Sign with SigV4a (`AWS4-ECDSA-P256-SHA256`) instead of SigV4. The AWS suite's v4a
    /// contexts do not say so (their folder does): `suite::suite_v4a_cases` adds it.
    #[serde(default)]
    pub sigv4a: bool,
}

/// The `credentials` object of `context.json`.
#[derive(Deserialize)]
pub struct ContextCredentials {
    /// The access key id.
    pub access_key_id: String,
    /// The secret access key.
    pub secret_access_key: String,
    /// The session token.
    #[serde(default)]
    pub token: Option<String>,
}

impl std::fmt::Debug for ContextCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ContextCredentials")
            .field("access_key_id", &self.access_key_id)
            .finish_non_exhaustive()
    }
}

fn yes() -> bool {
    true
}

fn default_expiration() -> u64 {
    3600
}

/// `request.txt`: a request line, headers (continuation lines kept as obsolete line folding),
/// an empty line and the body.
#[derive(Debug, PartialEq, Eq)]
pub struct RawRequest {
    /// The method of the request line.
    pub method: String,
    /// The request target as written (may hold spaces and non-ASCII characters).
    pub target: String,
    /// Headers in order.
    pub headers: Vec<(String, String)>,
    /// The body bytes.
    pub body: Vec<u8>,
}

impl RawRequest {
    /// Parses the request text. Errors say what line is wrong.
    pub fn parse(bytes: &[u8]) -> Result<Self, String> {
        let (head, body) = match find(bytes, b"\n\n")
            .map(|i| (i, 2))
            .or_else(|| find(bytes, b"\r\n\r\n").map(|i| (i, 4)))
        {
            Some((i, sep)) => (&bytes[..i], bytes[i + sep..].to_vec()),
            None => (bytes, Vec::new()),
        };
        let head = std::str::from_utf8(head)
            .map_err(|e| format!("request.txt: the head is not UTF-8: {e}"))?;
        let mut lines = head.lines();
        let request_line = lines.next().unwrap_or_default();
        let (method, rest) = request_line
            .split_once(' ')
            .ok_or_else(|| format!("request.txt: bad request line {request_line:?}"))?;
        let target = match rest.rsplit_once(' ') {
            Some((target, version)) if version.starts_with("HTTP/") => target,
            _ => rest,
        };
        let mut headers: Vec<(String, String)> = Vec::new();
        for line in lines {
            if line.starts_with([' ', '\t']) {
                let (_, value) = headers.last_mut().ok_or_else(|| {
                    format!("request.txt: continuation line before any header: {line:?}")
                })?;
                value.push('\n');
                value.push_str(line);
            } else if !line.is_empty() {
                let (name, value) = line
                    .split_once(':')
                    .ok_or_else(|| format!("request.txt: header line without ':': {line:?}"))?;
                headers.push((name.to_string(), value.to_string()));
            }
        }
        Ok(RawRequest {
            method: method.to_string(),
            target: target.to_string(),
            headers,
            body,
        })
    }

    /// The absolute URI `https://{Host}{target}` (the target as written if already absolute).
    pub fn uri(&self) -> String {
        if !self.target.starts_with('/') {
            return self.target.clone();
        }
        match self
            .headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case("host"))
        {
            Some((_, host)) => format!("https://{}{}", host.trim(), self.target),
            None => self.target.clone(),
        }
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// A case directory, loaded.
#[derive(Debug)]
pub struct Case {
    /// `context.json`.
    pub context: Context,
    /// `request.txt`.
    pub request: RawRequest,
}

/// Where the signature goes, as the CLI names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SignatureLocation {
    /// `Authorization` header.
    Header,
    /// Presigned URL.
    Query,
}

impl Case {
    /// Reads `context.json` and `request.txt` from `dir`.
    pub fn load(dir: &Path) -> Result<Self, String> {
        let read = |name: &str| {
            fs::read(dir.join(name)).map_err(|e| format!("{}: {e}", dir.join(name).display()))
        };
        let context = serde_json::from_slice(&read("context.json")?)
            .map_err(|e| format!("{}: {e}", dir.join("context.json").display()))?;
        let request = RawRequest::parse(&read("request.txt")?)?;
        Ok(Case { context, request })
    }

    /// The signing options `context.json` asks for.
    pub fn settings(&self) -> Settings<'static> {
        let ctx = &self.context;
        Settings {
            algorithm: if ctx.sigv4a {
                Algorithm::SigV4a
            } else {
                Algorithm::SigV4
            },
            uri_encoding: if ctx.double_uri_encode {
                UriEncoding::Double
            } else {
                UriEncoding::Single
            },
            normalize_path: ctx.normalize,
            content_sha256_header: ctx.sign_body,
            session_token: if ctx.omit_session_token {
                SessionTokenMode::AfterSigning
            } else {
                SessionTokenMode::Signed
            },
            ..Settings::default()
        }
    }

    /// Where the signature goes, with the case's presigned URL lifetime.
    pub fn location(&self, location: SignatureLocation) -> Location {
        match location {
            SignatureLocation::Header => Location::Headers,
            SignatureLocation::Query => Location::Query {
                expires_in: self.context.expiration_in_seconds,
            },
        }
    }

    /// The signing time of `context.json`.
    pub fn time(&self) -> Result<Timestamp, sigv4_core::Error> {
        Timestamp::parse_rfc3339(&self.context.timestamp)
    }

    /// Signs the case with the native core, returning every intermediate step.
    pub fn sign(&self, location: SignatureLocation) -> Result<Explained, sigv4_core::Error> {
        let ctx = &self.context;
        let credentials = Credentials::new(
            &ctx.credentials.access_key_id,
            &ctx.credentials.secret_access_key,
            ctx.credentials.token.as_deref(),
        )?;
        let headers: Vec<(&str, &str)> = self
            .request
            .headers
            .iter()
            .map(|(n, v)| (n.as_str(), v.as_str()))
            .collect();
        let uri = self.request.uri();
        let request = Request {
            method: &self.request.method,
            uri: &uri,
            headers: &headers,
            payload: Payload::Bytes(&self.request.body),
        };
        let params = SigningParams {
            credentials: &credentials,
            region: &ctx.region,
            service: &ctx.service,
            time: self.time()?,
            settings: self.settings(),
        };
        Signer::new().explain(&request, &params, self.location(location))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_folded_headers_spaces_in_target_and_body() {
        let raw = b"GET /example space/ HTTP/1.1\nHost:example.amazonaws.com\nMy-Header1:value1\n  value2\nX: y\n\nbody\n";
        let r = RawRequest::parse(raw).unwrap();
        assert_eq!(r.method, "GET");
        assert_eq!(r.target, "/example space/");
        assert_eq!(
            r.headers[1],
            ("My-Header1".into(), "value1\n  value2".into())
        );
        assert_eq!(r.headers[2], ("X".into(), " y".into()));
        assert_eq!(r.body, b"body\n");
        assert_eq!(r.uri(), "https://example.amazonaws.com/example space/");
    }
}
