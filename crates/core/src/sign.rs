//! Signing: the string to sign, the signature, and the headers or presigned URL that carry it.

use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::canonical_request::{self, Parts};
use crate::credentials::Credentials;
use crate::error::{Error, Field, check_text};
use crate::headers::{self, Entry, check_method};
use crate::hex;
use crate::settings::{Location, SessionTokenMode, Settings};
use crate::signing_key::SigningKeyCache;
use crate::timestamp::Timestamp;
use crate::uri::Uri;
use crate::uri_encode::encode;
use crate::{ALGORITHM, MAX_EXPIRES_IN};

/// The request to sign, borrowed from the caller.
#[derive(Clone, Copy, Debug)]
pub struct Request<'a> {
    /// The HTTP method, as sent (`GET`, `PUT`, ...).
    pub method: &'a str,
    /// The request target as sent: absolute (`https://host/path?query`) or origin-form
    /// (`/path?query`, with a `Host` header). The path is the wire path, already
    /// percent-encoded; spaces and non-ASCII characters in it are encoded when signing.
    pub uri: &'a str,
    /// Header names and values, in the order sent; repeated names are allowed.
    pub headers: &'a [(&'a str, &'a str)],
    /// The body, its hash, or `UNSIGNED-PAYLOAD`.
    pub payload: crate::Payload<'a>,
}

/// Who signs, for which scope, at what time, and how.
#[derive(Clone, Copy, Debug)]
pub struct SigningParams<'a> {
    /// The credentials to sign with.
    pub credentials: &'a Credentials,
    /// The region of the credential scope (`us-east-1`).
    pub region: &'a str,
    /// The signing name of the service (`s3`, `sts`, `execute-api`, ...).
    pub service: &'a str,
    /// The signing time (the caller's clock).
    pub time: Timestamp,
    /// How to sign.
    pub settings: Settings<'a>,
}

/// A SigV4 signature: 64 lowercase hex digits.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Signature([u8; 64]);

impl Signature {
    /// The hex digits.
    pub fn as_str(&self) -> &str {
        hex::as_str(&self.0)
    }

    /// Whether `candidate` is this signature, compared in constant time.
    pub fn matches(&self, candidate: &str) -> bool {
        self.0[..].ct_eq(candidate.as_bytes()).into()
    }
}

impl fmt::Debug for Signature {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Signature({})", self.as_str())
    }
}

impl fmt::Display for Signature {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The result of signing.
#[derive(Clone)]
pub struct Signed {
    /// The signature.
    pub signature: Signature,
    /// Headers to set on the request, replacing any of the same name (header signing):
    /// `x-amz-date`, `x-amz-security-token`, `x-amz-content-sha256` as configured, and
    /// `authorization`. Empty for presigned URLs.
    pub headers: Vec<(&'static str, String)>,
    /// The presigned URL: the request URI (without fragment) with the `X-Amz-*` parameters
    /// appended. `None` for header signing.
    pub url: Option<String>,
}

impl Signed {
    /// The `Authorization` header value, for header signing.
    pub fn authorization(&self) -> Option<&str> {
        self.headers
            .iter()
            .find(|(name, _)| *name == "authorization")
            .map(|(_, value)| value.as_str())
    }
}

impl fmt::Debug for Signed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // A session token may be among the headers and in the URL.
        f.debug_struct("Signed")
            .field("signature", &self.signature)
            .field(
                "headers",
                &self.headers.iter().map(|(n, _)| n).collect::<Vec<_>>(),
            )
            .field("url", &self.url.as_ref().map(|_| "** presigned url **"))
            .finish()
    }
}

/// A signature with its intermediate steps, to compare with what a service computed when it
/// answers `SignatureDoesNotMatch` (the error carries its canonical request and string to sign).
#[derive(Clone)]
pub struct Explained {
    /// The canonical request.
    pub canonical_request: String,
    /// The string to sign.
    pub string_to_sign: String,
    /// The signature and where it goes.
    pub signed: Signed,
}

impl fmt::Debug for Explained {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The canonical request may hold a session token.
        f.debug_struct("Explained")
            .field("signed", &self.signed)
            .finish_non_exhaustive()
    }
}

/// Signs `request`: the headers to add or the presigned URL, depending on `location`.
///
/// `keys` caches the signing key across calls (one derivation per day, region, service and
/// secret); pass a fresh [`SigningKeyCache`] to sign without caching.
pub fn sign(
    request: &Request<'_>,
    params: &SigningParams<'_>,
    location: Location,
    keys: &mut SigningKeyCache,
) -> Result<Signed, Error> {
    run(request, params, location, keys).map(|(signed, _, _)| signed)
}

/// Signs like [`sign`] and also returns the canonical request and the string to sign.
pub fn explain(
    request: &Request<'_>,
    params: &SigningParams<'_>,
    location: Location,
    keys: &mut SigningKeyCache,
) -> Result<Explained, Error> {
    run(request, params, location, keys).map(|(signed, canonical_request, string_to_sign)| {
        Explained {
            canonical_request,
            string_to_sign,
            signed,
        }
    })
}

const X_AMZ_DATE: &str = "x-amz-date";
const X_AMZ_SECURITY_TOKEN: &str = "x-amz-security-token";
const X_AMZ_CONTENT_SHA256: &str = "x-amz-content-sha256";

fn run(
    request: &Request<'_>,
    params: &SigningParams<'_>,
    location: Location,
    keys: &mut SigningKeyCache,
) -> Result<(Signed, String, String), Error> {
    let settings = &params.settings;
    check_method(request.method)?;
    let scope_part = |b: u8| b.is_ascii_graphic() && b != b'/';
    check_text(params.region, Field::Region, scope_part)?;
    check_text(params.service, Field::Service, scope_part)?;
    let uri = Uri::parse(request.uri)?;
    let expires_in = match location {
        Location::Query { expires_in } if !(1..=MAX_EXPIRES_IN).contains(&expires_in) => {
            return Err(Error::ExpiresInOutOfRange(expires_in));
        }
        Location::Query { expires_in } => Some(expires_in),
        Location::Headers => None,
    };
    let payload_hash = request.payload.hash()?;
    let payload_hash = payload_hash.as_str();

    let amz_date = params.time.amz_date();
    let amz_date = core::str::from_utf8(&amz_date).unwrap_or_default();
    let date = params.time.date();
    let mut scope = String::with_capacity(32 + params.region.len() + params.service.len());
    scope.push_str(&amz_date[..8]);
    scope.push('/');
    scope.push_str(params.region);
    scope.push('/');
    scope.push_str(params.service);
    scope.push_str("/aws4_request");

    let credentials = params.credentials;
    let token = credentials.session_token();
    let signed_token = token.filter(|_| settings.session_token == SessionTokenMode::Signed);
    let in_headers = expires_in.is_none();
    let sha256_header = in_headers && settings.content_sha256_header;

    // Headers the signer sets replace the request's own.
    let mut replaced: [&str; 3] = [""; 3];
    if in_headers {
        replaced[0] = X_AMZ_DATE;
        if token.is_some() {
            replaced[1] = X_AMZ_SECURITY_TOKEN;
        }
        if sha256_header {
            replaced[2] = X_AMZ_CONTENT_SHA256;
        }
    }
    let mut entries: Vec<Entry<'_>> = Vec::with_capacity(request.headers.len() + 4);
    headers::collect(request.headers, settings, &replaced, &mut entries)?;
    if !entries.iter().any(|e| e.name == "host") {
        let host = uri.host().ok_or(Error::MissingHost)?;
        entries.push(Entry {
            name: "host".into(),
            value: host,
        });
    }
    if in_headers {
        entries.push(Entry {
            name: X_AMZ_DATE.into(),
            value: amz_date,
        });
        if let Some(token) = signed_token {
            entries.push(Entry {
                name: X_AMZ_SECURITY_TOKEN.into(),
                value: token,
            });
        }
        if sha256_header {
            entries.push(Entry {
                name: X_AMZ_CONTENT_SHA256.into(),
                value: payload_hash,
            });
        }
    }
    entries.sort_by(|a, b| a.name.cmp(&b.name));
    let signed_headers = headers::signed_headers(&entries);

    let mut credential = String::with_capacity(credentials.access_key_id().len() + 1 + scope.len());
    credential.push_str(credentials.access_key_id());
    credential.push('/');
    credential.push_str(&scope);
    let mut expires_text = [0u8; 20];
    let expires_text = expires_in
        .map(|secs| decimal(secs, &mut expires_text))
        .unwrap_or_default();
    let presign_params: Vec<(&str, &str)> = if in_headers {
        Vec::new()
    } else {
        let mut list = Vec::with_capacity(7);
        list.push(("X-Amz-Algorithm", ALGORITHM));
        list.push(("X-Amz-Credential", credential.as_str()));
        list.push(("X-Amz-Date", amz_date));
        list.push(("X-Amz-SignedHeaders", signed_headers.as_str()));
        list.push(("X-Amz-Expires", expires_text));
        if let Some(token) = signed_token {
            list.push(("X-Amz-Security-Token", token));
        }
        list
    };

    let canonical_request = canonical_request::build(
        &Parts {
            method: request.method,
            uri: &uri,
            extra_query: &presign_params,
            headers: &entries,
            signed_headers: &signed_headers,
            payload_hash,
        },
        settings,
    );

    // StringToSign = Algorithm \n RequestDateTime \n CredentialScope \n HashedCanonicalRequest
    let mut string_to_sign = String::with_capacity(ALGORITHM.len() + 16 + scope.len() + 67);
    string_to_sign.push_str(ALGORITHM);
    string_to_sign.push('\n');
    string_to_sign.push_str(amz_date);
    string_to_sign.push('\n');
    string_to_sign.push_str(&scope);
    string_to_sign.push('\n');
    let hashed = hex::encode32(&Sha256::digest(canonical_request.as_bytes()).into());
    string_to_sign.push_str(hex::as_str(&hashed));

    let key = keys.get(
        credentials.secret_access_key(),
        &date,
        params.region,
        params.service,
    );
    let signature = Signature(hex::encode32(&key.sign(string_to_sign.as_bytes())));

    let signed = if in_headers {
        let mut out = Vec::with_capacity(4);
        out.push((X_AMZ_DATE, String::from(amz_date)));
        if let Some(token) = token {
            out.push((X_AMZ_SECURITY_TOKEN, String::from(token)));
        }
        if sha256_header {
            out.push((X_AMZ_CONTENT_SHA256, String::from(payload_hash)));
        }
        let mut authorization =
            String::with_capacity(ALGORITHM.len() + credential.len() + signed_headers.len() + 110);
        authorization.push_str(ALGORITHM);
        authorization.push_str(" Credential=");
        authorization.push_str(&credential);
        authorization.push_str(", SignedHeaders=");
        authorization.push_str(&signed_headers);
        authorization.push_str(", Signature=");
        authorization.push_str(signature.as_str());
        out.push(("authorization", authorization));
        Signed {
            signature,
            headers: out,
            url: None,
        }
    } else {
        let base = uri.without_fragment;
        let mut url = String::with_capacity(base.len() + 512);
        url.push_str(base);
        if !base.ends_with('?') {
            url.push(if base.contains('?') { '&' } else { '?' });
        }
        // The order of the AWS signing test suite's presigned requests.
        let mut first = true;
        let mut append = |name: &str, value: &str| {
            if !first {
                url.push('&');
            }
            first = false;
            url.push_str(name);
            url.push('=');
            encode(&mut url, value.as_bytes(), false);
        };
        for name in [
            "X-Amz-Algorithm",
            "X-Amz-Credential",
            "X-Amz-Date",
            "X-Amz-SignedHeaders",
            "X-Amz-Expires",
        ] {
            let value = presign_params
                .iter()
                .find(|(n, _)| *n == name)
                .map(|(_, v)| *v);
            append(name, value.unwrap_or_default());
        }
        if let Some(token) = token {
            append("X-Amz-Security-Token", token);
        }
        append("X-Amz-Signature", signature.as_str());
        Signed {
            signature,
            headers: Vec::new(),
            url: Some(url),
        }
    };
    Ok((signed, canonical_request, string_to_sign))
}

/// Formats `value` in decimal into `buf`.
fn decimal(mut value: u64, buf: &mut [u8; 20]) -> &str {
    let mut start = buf.len();
    loop {
        start -= 1;
        buf[start] = b'0' + (value % 10) as u8;
        value /= 10;
        if value == 0 {
            break;
        }
    }
    core::str::from_utf8(&buf[start..]).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Payload;

    fn params(credentials: &Credentials) -> SigningParams<'_> {
        SigningParams {
            credentials,
            region: "us-east-1",
            service: "service",
            time: Timestamp::parse_rfc3339("2015-08-30T12:36:00Z").unwrap(),
            settings: Settings::default(),
        }
    }

    fn request(uri: &str) -> Request<'_> {
        Request {
            method: "GET",
            uri,
            headers: &[],
            payload: Payload::Bytes(b""),
        }
    }

    #[test]
    fn bad_input_is_a_typed_error_naming_the_field() {
        let creds = Credentials::new("AKIDEXAMPLE", "secret", None).unwrap();
        let keys = &mut SigningKeyCache::new();
        let p = params(&creds);
        let err = |r: &Request<'_>, p: &SigningParams<'_>, l| {
            sign(r, p, l, &mut SigningKeyCache::new()).unwrap_err()
        };
        let h = Location::Headers;
        assert_eq!(err(&request("/"), &p, h), Error::MissingHost);
        assert_eq!(err(&request("nope"), &p, h).field(), Field::Uri);
        assert_eq!(
            err(
                &Request {
                    method: "G T",
                    ..request("https://h/")
                },
                &p,
                h
            )
            .field(),
            Field::Method
        );
        let bad_name = Request {
            headers: &[("ok", "1"), ("bad name", "v")],
            ..request("https://h/")
        };
        assert_eq!(err(&bad_name, &p, h).field(), Field::HeaderName(1));
        let bad_value = Request {
            headers: &[("x", "a\u{0}b")],
            ..request("https://h/")
        };
        assert_eq!(err(&bad_value, &p, h).field(), Field::HeaderValue(0));
        assert_eq!(
            err(
                &request("https://h/"),
                &SigningParams { region: "", ..p },
                h
            ),
            Error::Empty(Field::Region)
        );
        assert_eq!(
            err(
                &request("https://h/"),
                &SigningParams { service: "", ..p },
                h
            ),
            Error::Empty(Field::Service)
        );
        assert_eq!(
            err(
                &request("https://h/"),
                &SigningParams {
                    region: "us/east",
                    ..p
                },
                h
            )
            .field(),
            Field::Region
        );
        for expires_in in [0, 604_801, u64::MAX] {
            assert_eq!(
                err(&request("https://h/"), &p, Location::Query { expires_in }),
                Error::ExpiresInOutOfRange(expires_in)
            );
        }
        assert!(
            sign(
                &request("https://h/"),
                &p,
                Location::Query {
                    expires_in: 604_800
                },
                keys
            )
            .is_ok()
        );
        let bad_hash = Request {
            payload: Payload::Sha256Hex("xyz"),
            ..request("https://h/")
        };
        assert_eq!(err(&bad_hash, &p, h), Error::InvalidPayloadHash);
    }

    #[test]
    fn session_token_signed_or_appended() {
        let creds = Credentials::new("AKIDEXAMPLE", "secret", Some("TOKEN/+=")).unwrap();
        let keys = &mut SigningKeyCache::new();
        let p = params(&creds);
        let signed = explain(&request("https://h/"), &p, Location::Headers, keys).unwrap();
        assert!(
            signed
                .canonical_request
                .contains("x-amz-security-token:TOKEN/+=\n")
        );
        assert!(
            signed
                .signed
                .headers
                .contains(&(X_AMZ_SECURITY_TOKEN, "TOKEN/+=".into()))
        );
        let after = SigningParams {
            settings: Settings {
                session_token: SessionTokenMode::AfterSigning,
                ..Settings::default()
            },
            ..p
        };
        let signed = explain(&request("https://h/"), &after, Location::Headers, keys).unwrap();
        assert!(!signed.canonical_request.contains("x-amz-security-token"));
        assert!(
            signed
                .signed
                .headers
                .contains(&(X_AMZ_SECURITY_TOKEN, "TOKEN/+=".into()))
        );
        let url = sign(
            &request("https://h/?a=1#f"),
            &p,
            Location::Query { expires_in: 60 },
            keys,
        )
        .unwrap()
        .url
        .unwrap();
        assert!(url.starts_with("https://h/?a=1&X-Amz-Algorithm=AWS4-HMAC-SHA256&"));
        assert!(url.contains("&X-Amz-Security-Token=TOKEN%2F%2B%3D&X-Amz-Signature="));
    }

    #[test]
    fn signature_compares_in_constant_time_and_debug_hides_secrets() {
        let creds = Credentials::new("AKIDEXAMPLE", "secret", Some("TOKENMARKER")).unwrap();
        let keys = &mut SigningKeyCache::new();
        let signed = sign(
            &request("https://h/"),
            &params(&creds),
            Location::Headers,
            keys,
        )
        .unwrap();
        let hex = String::from(signed.signature.as_str());
        assert!(signed.signature.matches(&hex));
        assert!(!signed.signature.matches(&hex[..63]));
        assert!(!signed.signature.matches(&hex.replace(&hex[..1], "x")));
        let presigned = sign(
            &request("https://h/"),
            &params(&creds),
            Location::Query { expires_in: 5 },
            keys,
        )
        .unwrap();
        let shown = alloc::format!("{signed:?} {presigned:?} {keys:?}");
        assert!(
            !shown.contains("TOKENMARKER") && !shown.contains("secret"),
            "{shown}"
        );
    }
}
