//! Signing: the string to sign, the signature, and the headers or presigned URL that carry it.

use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;
use core::ops::Range;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::MAX_EXPIRES_IN;
use crate::canonical_request::{self, Parts};
use crate::credentials::Credentials;
use crate::error::Error;
use crate::headers::{HeaderSet, check_method};
use crate::hex;
use crate::payload::PayloadHash;
use crate::prefix_state::PrefixState;
use crate::query::QueryScratch;
use crate::settings::{Algorithm, Location, SessionTokenMode, Settings};
use crate::signing_key::{SigningKeyCache, check_service};
use crate::sigv4a::{CoreEcdsa, EcdsaKeyCache, EcdsaSigner, check_region_set};
use crate::timestamp::Timestamp;
use crate::uri::Uri;
use crate::uri_encode::{encode, encode_path_for_wire, encode_query_for_wire};

/// The request to sign, borrowed from the caller.
#[derive(Clone, Copy)]
pub struct Request<'a> {
    /// The HTTP method, as sent (`GET`, `PUT`, ...).
    pub method: &'a str,
    /// The request target: absolute (`https://host/path?query`) or origin-form (`/path?query`,
    /// with a `Host` header). The path and query are as sent, already percent-encoded; bytes that
    /// cannot be on the wire (a space, non-ASCII) are encoded, and what is signed is that wire
    /// form, which [`Signed::path_and_query`] gives to send.
    pub uri: &'a str,
    /// Header names and values, in the order sent; repeated names are allowed.
    pub headers: &'a [(&'a str, &'a str)],
    /// The body, its hash, or `UNSIGNED-PAYLOAD`.
    pub payload: crate::Payload<'a>,
}

impl fmt::Debug for Request<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Header values may hold a token or an authorization: show the names only.
        f.debug_struct("Request")
            .field("method", &self.method)
            .field("uri", &self.uri)
            .field(
                "headers",
                &self.headers.iter().map(|(n, _)| n).collect::<Vec<_>>(),
            )
            .field("payload", &self.payload)
            .finish()
    }
}

/// Who signs, for which scope, at what time, and how.
#[derive(Clone, Copy, Debug)]
pub struct SigningParams<'a> {
    /// The credentials to sign with.
    pub credentials: &'a Credentials,
    /// The region of the credential scope (`us-east-1`); for SigV4a ([`Settings::algorithm`]),
    /// the region set (`us-east-1,us-west-2`, `*`).
    pub region: &'a str,
    /// The signing name of the service (`s3`, `sts`, `execute-api`, ...).
    pub service: &'a str,
    /// The signing time (the caller's clock).
    pub time: Timestamp,
    /// How to sign.
    pub settings: Settings<'a>,
}

/// A signature in lowercase hex: 64 digits of an HMAC-SHA256 (SigV4), or up to 144 of an
/// ECDSA signature's DER encoding (SigV4a).
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Signature {
    hex: [u8; MAX_SIGNATURE_HEX],
    len: u8,
}

/// The hex digits of the longest DER encoding of a P-256 signature: 72 bytes.
const MAX_SIGNATURE_HEX: usize = 144;

impl Signature {
    /// The hex of `bytes` (up to 72).
    pub(crate) fn from_bytes(bytes: &[u8]) -> Self {
        let mut hex = [0u8; MAX_SIGNATURE_HEX];
        let len = (2 * bytes.len()).min(MAX_SIGNATURE_HEX);
        hex::encode_into(bytes, &mut hex[..len]);
        Signature {
            hex,
            len: len as u8,
        }
    }

    fn hmac(hex: [u8; 64]) -> Self {
        let mut signature = Signature {
            hex: [0u8; MAX_SIGNATURE_HEX],
            len: 64,
        };
        signature.hex[..64].copy_from_slice(&hex);
        signature
    }

    /// The hex digits.
    pub fn as_str(&self) -> &str {
        let digits = self.hex.get(..usize::from(self.len)).unwrap_or_default();
        core::str::from_utf8(digits).unwrap_or_default()
    }

    /// Whether `candidate` is this signature, compared in constant time. (SigV4a signatures
    /// are randomized by most signers: check them with [`crate::sigv4a_signature_is_valid`].)
    pub fn matches(&self, candidate: &str) -> bool {
        same_digits(self.as_str().as_bytes(), candidate.as_bytes())
    }
}

/// Whether two signatures' digits are the same, compared in constant time (the lengths are
/// public). SigV4's 64 digits are compared as eight words: `ct_eq` on bytes takes a masked step
/// per byte, on words one per eight.
fn same_digits(expected: &[u8], candidate: &[u8]) -> bool {
    match (
        <&[u8; 64]>::try_from(expected),
        <&[u8; 64]>::try_from(candidate),
    ) {
        (Ok(expected), Ok(candidate)) => {
            let words = |hex: &[u8; 64]| {
                let mut words = [0u64; 8];
                for (word, bytes) in words.iter_mut().zip(hex.chunks_exact(8)) {
                    *word = u64::from_ne_bytes(bytes.try_into().unwrap_or_default());
                }
                words
            };
            words(expected)[..].ct_eq(&words(candidate)[..]).into()
        }
        _ => expected.len() == candidate.len() && bool::from(expected.ct_eq(candidate)),
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

/// The result of signing: the headers to set, or the presigned URL, and where to send the
/// request, held in one allocation.
#[derive(Clone)]
pub struct Signed {
    /// The signature.
    pub signature: Signature,
    /// The header values one after another, or the presigned URL; then the scheme, the host
    /// and the path and query.
    text: String,
    /// Each header's name and the end of its value in `text`.
    headers: [(&'static str, usize); 5],
    header_count: usize,
    /// Where the presigned URL ends in `text` (0 for header signing).
    url_end: usize,
    target: Target<Range<usize>>,
    /// Whether the request's URI (without its fragment) is already `scheme://host` and the
    /// signed path and query.
    uri_as_sent: bool,
}

/// Where a signed request goes: the scheme (empty for an origin-form URI), the `Host` value, the
/// path and query.
#[derive(Clone, Debug, Default)]
struct Target<T> {
    scheme: T,
    host: T,
    path_and_query: T,
}

impl Signed {
    /// Headers to set on the request, replacing any of the same name (header signing):
    /// `x-amz-date`, `x-amz-region-set` (SigV4a), `x-amz-security-token` and
    /// `x-amz-content-sha256` as configured, and `authorization`. None for presigned URLs.
    pub fn headers(&self) -> impl Iterator<Item = (&'static str, &str)> + '_ {
        let mut start = 0;
        self.headers[..self.header_count]
            .iter()
            .map(move |&(name, end)| {
                let value = self.text.get(start..end).unwrap_or_default();
                start = end;
                (name, value)
            })
    }

    /// The `Authorization` header value, for header signing.
    pub fn authorization(&self) -> Option<&str> {
        self.headers()
            .find(|(name, _)| *name == "authorization")
            .map(|(_, value)| value)
    }

    /// The presigned URL: the request URI in its wire form (no user information, fragment or
    /// default port) with the `X-Amz-*` parameters appended. None for header signing. Its
    /// authority is the URI's, where the request goes; with a `Host` header, [`Signed::host`]
    /// is what was signed, and whoever uses the URL must send that `Host`.
    pub fn url(&self) -> Option<&str> {
        (self.url_end > 0).then(|| self.part(0..self.url_end))
    }

    /// The URI's scheme (`https`), None for an origin-form URI.
    pub fn scheme(&self) -> Option<&str> {
        Some(self.part(self.target.scheme.clone())).filter(|s| !s.is_empty())
    }

    /// The `Host` value that was signed: the request's `Host` header, else the URI's authority
    /// without user information or the scheme's default port. Send exactly this.
    pub fn host(&self) -> &str {
        self.part(self.target.host.clone())
    }

    /// The path and query that were signed, in their wire form (`/a%20b?x=%C3%A9`): send
    /// exactly this as the request target, or a service computes another canonical request.
    pub fn path_and_query(&self) -> &str {
        self.part(self.target.path_and_query.clone())
    }

    /// Whether the request's URI, without its fragment, is what is sent: already in its wire
    /// form, without user information or a default port. Then a host may send it as given;
    /// otherwise it sends [`Signed::scheme`], [`Signed::host`] and [`Signed::path_and_query`].
    pub fn uri_as_sent(&self) -> bool {
        self.uri_as_sent
    }

    fn part(&self, range: Range<usize>) -> &str {
        self.text.get(range).unwrap_or_default()
    }
}

impl fmt::Debug for Signed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // A session token may be among the headers and in the URL.
        f.debug_struct("Signed")
            .field("signature", &self.signature)
            .field("host", &self.host())
            .field(
                "headers",
                &self.headers[..self.header_count]
                    .iter()
                    .map(|(n, _)| n)
                    .collect::<Vec<_>>(),
            )
            .field("url", &self.url().map(|_| "** presigned url **"))
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

/// Signs requests. It keeps the signing key (derived once per secret, day, region and service;
/// for SigV4a once per access key id and secret) and its scratch buffers between calls, so
/// signing again allocates only what it returns.
#[derive(Debug, Default)]
pub struct Signer {
    keys: SigningKeyCache,
    ecdsa_keys: EcdsaKeyCache,
    scratch: Scratch,
}

/// Buffers reused across signatures; their contents never outlive a call's result.
#[derive(Default)]
struct Scratch {
    /// `AccessKeyId/Date/Region/Service/aws4_request` (SigV4a: without `Region/`).
    credential: String,
    signed_headers: String,
    /// The presigning parameters, percent-encoded.
    presign: Vec<u8>,
    /// The path and query in their wire form.
    wire: Vec<u8>,
    canonical_request: Vec<u8>,
    string_to_sign: Vec<u8>,
    query: QueryScratch,
    headers: HeaderSet,
    /// SHA-256 after the canonical request's blocks that repeat from one request to the next.
    canonical_hash: PrefixState<Sha256>,
    /// The last signing time and its `X-Amz-Date` (most signatures share their second).
    time: Option<(Timestamp, [u8; 16])>,
    /// The verifier's: a presigned URL without its presigning parameters.
    unsigned_uri: String,
}

impl Scratch {
    /// `X-Amz-Date` for `time`, formatted once per second.
    fn amz_date(&mut self, time: Timestamp) -> [u8; 16] {
        match self.time {
            Some((last, text)) if last == time => text,
            _ => self.time.insert((time, time.amz_date())).1,
        }
    }
}

impl fmt::Debug for Scratch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The canonical request of the last call may hold a session token.
        f.write_str("Scratch")
    }
}

impl Signer {
    /// A signer with nothing cached.
    pub fn new() -> Self {
        Signer::default()
    }

    /// Drops the cached signing keys (their memory is zeroized), for example when the
    /// credentials are revoked; the next signature derives them again.
    pub fn forget_key(&mut self) {
        self.keys = SigningKeyCache::default();
        self.ecdsa_keys = EcdsaKeyCache::default();
    }

    /// `X-Amz-Date` for `time`, formatted once per second (signing that second again reuses it).
    pub(crate) fn amz_date(&mut self, time: Timestamp) -> [u8; 16] {
        self.scratch.amz_date(time)
    }

    /// The verifier's buffer for a presigned URL without its presigning parameters, taken for
    /// one verification (signing again borrows the signer) and given back with
    /// [`Signer::give_back_uri_buffer`].
    pub(crate) fn take_uri_buffer(&mut self) -> String {
        core::mem::take(&mut self.scratch.unsigned_uri)
    }

    pub(crate) fn give_back_uri_buffer(&mut self, buffer: String) {
        self.scratch.unsigned_uri = buffer;
    }

    /// The last time formatted as `X-Amz-Date` and its text, if any.
    pub(crate) fn last_amz_date(&self) -> Option<(Timestamp, [u8; 16])> {
        self.scratch.time
    }

    /// Signs like [`Signer::sign`] and also returns the canonical request and the string to sign.
    pub fn explain(
        &mut self,
        request: &Request<'_>,
        params: &SigningParams<'_>,
        location: Location,
    ) -> Result<Explained, Error> {
        let signed = self.sign(request, params, location)?;
        Ok(Explained {
            canonical_request: into_text(self.scratch.canonical_request.clone()),
            string_to_sign: into_text(self.scratch.string_to_sign.clone()),
            signed,
        })
    }

    /// Signs `request`: the headers to add, or the presigned URL, depending on `location`.
    pub fn sign(
        &mut self,
        request: &Request<'_>,
        params: &SigningParams<'_>,
        location: Location,
    ) -> Result<Signed, Error> {
        self.sign_with(request, params, location, &mut CoreEcdsa)
    }

    /// Signs like [`Signer::sign`], a SigV4a signature's ECDSA made by `ecdsa` (the platform's,
    /// where it lends a faster one than the core's `p256`) unless it declines. SigV4 ignores it.
    pub fn sign_with(
        &mut self,
        request: &Request<'_>,
        params: &SigningParams<'_>,
        location: Location,
        ecdsa: &mut dyn EcdsaSigner,
    ) -> Result<Signed, Error> {
        let uri = Uri::parse(request.uri)?;
        let credentials = params.credentials;
        let signing = Signing {
            access_key_id: credentials.access_key_id(),
            secret_access_key: credentials.secret_access_key(),
            session_token: credentials.session_token(),
            region: params.region,
            service: params.service,
            time: params.time,
            settings: params.settings,
        };
        self.prepare(request, &uri, &signing, location, None)?
            .signed(ecdsa)
    }

    /// Canonicalizes `request` (its URI parsed as `uri`) up to its string to sign, with what its
    /// signed form needs. `only` (the verifier's) signs exactly the request's headers of these
    /// names (lowercase) with those the signer sets, whatever the service excludes.
    pub(crate) fn prepare<'s>(
        &'s mut self,
        request: &Request<'s>,
        uri: &Uri<'s>,
        params: &Signing<'s>,
        location: Location,
        only: Option<&[&str]>,
    ) -> Result<Prepared<'s>, Error> {
        let Signer {
            keys,
            ecdsa_keys,
            scratch,
        } = self;
        let settings = &params.settings;
        let algorithm = settings.algorithm;
        let v4a = algorithm == Algorithm::SigV4a;
        check_method(request.method)?;
        let amz_date = scratch.amz_date(params.time);
        let mut date = [0u8; 8];
        date.copy_from_slice(&amz_date[..8]);
        // The region and service are checked with the signing key: fetch it first.
        let secret = params.secret_access_key;
        let key = match algorithm {
            Algorithm::SigV4 => {
                Key::Hmac(keys.get(secret, &date, params.region, params.service)?)
            }
            Algorithm::SigV4a => {
                check_region_set(params.region)?;
                check_service(params.service)?;
                let (key, id) = ecdsa_keys.get(params.access_key_id, secret)?;
                Key::Ecdsa(key, id)
            }
        };
        let expires_in = match location {
            Location::Query { expires_in } if !(1..=MAX_EXPIRES_IN).contains(&expires_in) => {
                return Err(Error::ExpiresInOutOfRange(expires_in));
            }
            Location::Query { expires_in } => Some(expires_in),
            Location::Headers => None,
        };
        let payload = match expires_in {
            Some(_) if settings.presigned_payload_unsigned => crate::Payload::Unsigned,
            _ => request.payload,
        };
        let payload_hash = payload.hash()?;
        let wire = WireTarget::encode(&mut scratch.wire, uri);

        // Credential = AccessKeyId/CredentialScope,
        // CredentialScope = Date/Region/Service/aws4_request (SigV4a: Date/Service/aws4_request)
        let akid = params.access_key_id;
        let region_part: &[&str] = if v4a { &[] } else { &["/", params.region] };
        let amz_date_text = core::str::from_utf8(&amz_date).unwrap_or_default();
        let credential = concat_into(
            &mut scratch.credential,
            &[
                &[akid, "/", &amz_date_text[..8]],
                region_part,
                &["/", params.service, "/aws4_request"],
            ],
        );
        let scope = &credential[akid.len() + 1..];
        let region_set = v4a.then_some(params.region);

        let token = params.session_token;
        let signed_token = token.filter(|_| settings.session_token == SessionTokenMode::Signed);
        let in_headers = expires_in.is_none();
        let sha256_header = in_headers && settings.content_sha256_header;

        // Headers the signer sets replace the request's own.
        let mut replaced: [&str; 4] = [""; 4];
        if in_headers {
            replaced[0] = X_AMZ_DATE;
            if token.is_some() {
                replaced[1] = X_AMZ_SECURITY_TOKEN;
            }
            if sha256_header {
                replaced[2] = X_AMZ_CONTENT_SHA256;
            }
            if v4a {
                replaced[3] = X_AMZ_REGION_SET;
            }
        }
        let headers = &mut scratch.headers;
        headers.collect(request.headers, settings, &replaced, only)?;
        // Values the signer adds, by index: HOST, DATE, TOKEN, SHA256, REGION_SET.
        let host_header = headers.host();
        let host = if host_header.is_some() {
            ""
        } else {
            uri.host().ok_or(Error::MissingHost)?
        };
        let signed_host = match host_header.and_then(|i| request.headers.get(i)) {
            // Trimmed as its canonical value is.
            Some((_, value)) => value.trim_matches([' ', '\t', '\r', '\n']),
            None => host,
        };
        let added = [
            host,
            amz_date_text,
            signed_token.unwrap_or_default(),
            payload_hash.as_str(),
            region_set.unwrap_or_default(),
        ];
        if !host.is_empty() {
            headers.add("host", HOST);
        }
        if in_headers {
            headers.add(X_AMZ_DATE, DATE);
            if signed_token.is_some() {
                headers.add(X_AMZ_SECURITY_TOKEN, TOKEN);
            }
            if sha256_header {
                headers.add(X_AMZ_CONTENT_SHA256, SHA256);
            }
            if v4a {
                headers.add(X_AMZ_REGION_SET, REGION_SET);
            }
        }
        headers.sort();
        headers.write_signed_headers(&mut scratch.signed_headers);
        let headers = &scratch.headers;
        let signed_headers = scratch.signed_headers.as_str();

        let mut expires_text = [0u8; 20];
        let presign = PresignParams::encode(
            &mut scratch.presign,
            expires_in.map(|secs| {
                [
                    Some(algorithm.name()),
                    Some(credential),
                    Some(amz_date_text),
                    Some(decimal(secs, &mut expires_text)),
                    region_set,
                    token,
                    Some(signed_headers),
                ]
            }),
        );
        let (canonical_params, count) = presign.canonical(signed_token.is_some());

        let canonical_request = &mut scratch.canonical_request;
        canonical_request::build(
            canonical_request,
            &mut scratch.query,
            &Parts {
                method: request.method,
                path: wire.path,
                query: uri.query,
                extra_query: &canonical_params[..count],
                headers,
                request_headers: request.headers,
                added_values: &added,
                signed_headers,
                payload_hash: payload_hash.as_str(),
            },
            settings,
        );

        // StringToSign = Algorithm \n RequestDateTime \n CredentialScope \n HashedCanonicalRequest
        let string_to_sign = &mut scratch.string_to_sign;
        string_to_sign.clear();
        string_to_sign.reserve(algorithm.name().len() + 19 + scope.len() + 64);
        string_to_sign.extend_from_slice(algorithm.name().as_bytes());
        string_to_sign.push(b'\n');
        string_to_sign.extend_from_slice(&amz_date);
        string_to_sign.push(b'\n');
        string_to_sign.extend_from_slice(scope.as_bytes());
        string_to_sign.push(b'\n');
        let hashed = scratch
            .canonical_hash
            .update(&Sha256::new(), canonical_request);
        string_to_sign.extend_from_slice(&hex::encode32(&hashed.finalize().into()));

        let uri_as_sent = wire.is_given_by(uri);
        Ok(Prepared {
            key,
            string_to_sign,
            algorithm,
            amz_date,
            credential,
            signed_headers,
            region_set,
            token,
            payload_hash,
            sha256_header,
            presign: expires_in.map(|_| presign),
            authority: uri.scheme.zip(uri.host()),
            target: Target {
                scheme: uri.scheme.unwrap_or_default(),
                host: signed_host,
                path_and_query: wire.path_and_query,
            },
            uri_as_sent,
        })
    }
}

/// [`SigningParams`] with the credentials' parts borrowed (checked as [`Credentials::new`]
/// checks them): a verifier has them from the request and its lookup, and copying them into
/// `Credentials` took 550 of a verification's 28,000 instructions (callgrind, S3 GET).
pub(crate) struct Signing<'s> {
    pub(crate) access_key_id: &'s str,
    pub(crate) secret_access_key: &'s str,
    pub(crate) session_token: Option<&'s str>,
    pub(crate) region: &'s str,
    pub(crate) service: &'s str,
    pub(crate) time: Timestamp,
    pub(crate) settings: Settings<'s>,
}

/// A request canonicalized up to its string to sign ([`Signer::prepare`]): what signing it
/// makes of it, or what a verifier checks a claimed signature against.
pub(crate) struct Prepared<'s> {
    key: Key<'s>,
    string_to_sign: &'s [u8],
    algorithm: Algorithm,
    amz_date: [u8; 16],
    credential: &'s str,
    /// The signed header names, `name;name;...`.
    pub(crate) signed_headers: &'s str,
    region_set: Option<&'s str>,
    token: Option<&'s str>,
    payload_hash: PayloadHash,
    sha256_header: bool,
    /// The presigning parameters (none for header signing).
    presign: Option<PresignParams<'s>>,
    /// The URI's scheme and host, when it is absolute.
    authority: Option<(&'s str, &'s str)>,
    target: Target<&'s str>,
    uri_as_sent: bool,
}

impl Prepared<'_> {
    /// Signs (SigV4a's ECDSA through `ecdsa`, see [`Signer::sign_with`]): the headers to add,
    /// or the presigned URL.
    fn signed(self, ecdsa: &mut dyn EcdsaSigner) -> Result<Signed, Error> {
        let signature = match self.key {
            Key::Hmac(key) => Signature::hmac(hex::encode32(&key.sign(self.string_to_sign))),
            Key::Ecdsa(key, id) => key.sign_with(id, ecdsa, self.string_to_sign)?,
        };
        let target = &self.target;
        if let Some(presign) = &self.presign {
            let mut signed = presign.url(self.authority, target, signature);
            signed.uri_as_sent = self.uri_as_sent;
            return Ok(signed);
        }
        let amz_date = core::str::from_utf8(&self.amz_date).unwrap_or_default();
        let payload_hash = self.payload_hash.as_str();
        // Authorization: Algorithm Credential=..., SignedHeaders=..., Signature=...
        let authorization = [
            self.algorithm.name(),
            " Credential=",
            self.credential,
            ", SignedHeaders=",
            self.signed_headers,
            ", Signature=",
            signature.as_str(),
        ];
        // Every header value in one allocation, sized once.
        let length = amz_date.len()
            + self.region_set.map_or(0, str::len)
            + self.token.map_or(0, str::len)
            + if self.sha256_header {
                payload_hash.len()
            } else {
                0
            }
            + authorization.iter().map(|p| p.len()).sum::<usize>()
            + target.len();
        let mut out = Signed::with_capacity(signature, length);
        out.push_header(X_AMZ_DATE, &[amz_date]);
        if let Some(region_set) = self.region_set {
            out.push_header(X_AMZ_REGION_SET, &[region_set]);
        }
        if let Some(token) = self.token {
            out.push_header(X_AMZ_SECURITY_TOKEN, &[token]);
        }
        if self.sha256_header {
            out.push_header(X_AMZ_CONTENT_SHA256, &[payload_hash]);
        }
        out.push_header("authorization", &authorization);
        out.push_target(target);
        out.uri_as_sent = self.uri_as_sent;
        Ok(out)
    }

    /// Whether `claimed` is the signature of this request: SigV4's compared in constant time
    /// with the one made again; SigV4a's (randomized by most signers) verified with the public
    /// key against the string to sign.
    pub(crate) fn verifies(self, claimed: &str) -> bool {
        match self.key {
            Key::Hmac(key) => same_digits(
                &hex::encode32(&key.sign(self.string_to_sign)),
                claimed.as_bytes(),
            ),
            Key::Ecdsa(key, _) => key.verifies(self.string_to_sign, claimed),
        }
    }
}

impl Signed {
    fn with_capacity(signature: Signature, text: usize) -> Self {
        Signed {
            signature,
            text: String::with_capacity(text),
            headers: [("", 0); 5],
            header_count: 0,
            url_end: 0,
            target: Target::default(),
            uri_as_sent: false,
        }
    }

    /// Appends where the request goes.
    fn push_target(&mut self, target: &Target<&str>) {
        let mut push = |part: &str| {
            let start = self.text.len();
            self.text.push_str(part);
            start..self.text.len()
        };
        self.target = Target {
            scheme: push(target.scheme),
            host: push(target.host),
            path_and_query: push(target.path_and_query),
        };
    }

    /// Appends a header whose value is the concatenation of `parts`.
    fn push_header(&mut self, name: &'static str, parts: &[&str]) {
        self.text.reserve(parts.iter().map(|p| p.len()).sum());
        for part in parts {
            self.text.push_str(part);
        }
        if let Some(slot) = self.headers.get_mut(self.header_count) {
            *slot = (name, self.text.len());
            self.header_count += 1;
        }
    }
}

/// Clears `out` and writes the concatenation of `groups` into it.
fn concat_into<'a>(out: &'a mut String, groups: &[&[&str]]) -> &'a str {
    out.clear();
    out.reserve(groups.iter().flat_map(|g| g.iter()).map(|p| p.len()).sum());
    for part in groups.iter().flat_map(|g| g.iter()) {
        out.push_str(part);
    }
    out
}

/// The presigning parameters, in canonical (sorted) order, percent-encoded once for both the
/// canonical query and the URL.
struct PresignParams<'a> {
    encoded: &'a [u8],
    ends: [usize; PRESIGN_COUNT],
    present: [bool; PRESIGN_COUNT],
}

impl<'a> PresignParams<'a> {
    /// Encodes the values (in `PRESIGN_PARAMS` order) into `buf`; none for header signing.
    fn encode(buf: &'a mut Vec<u8>, values: Option<[Option<&str>; PRESIGN_COUNT]>) -> Self {
        buf.clear();
        let mut ends = [0; PRESIGN_COUNT];
        let mut present = [false; PRESIGN_COUNT];
        for (i, value) in values.iter().flatten().enumerate() {
            if let Some(value) = value {
                encode(buf, value.as_bytes(), false);
                present[i] = true;
            }
            ends[i] = buf.len();
        }
        PresignParams {
            encoded: buf,
            ends,
            present,
        }
    }

    fn get(&self, i: usize) -> (&'static str, &'a [u8]) {
        let start = if i == 0 { 0 } else { self.ends[i - 1] };
        (PRESIGN_PARAMS[i], &self.encoded[start..self.ends[i]])
    }

    /// The parameters of the canonical query: an unsigned session token is in the URL only.
    fn canonical(&self, token_signed: bool) -> ([(&'static str, &'a [u8]); PRESIGN_COUNT], usize) {
        let mut params = [("", &b""[..]); PRESIGN_COUNT];
        let mut count = 0;
        for (i, &present) in self.present.iter().enumerate() {
            if present && (i != SECURITY_TOKEN_PARAM || token_signed) {
                params[count] = self.get(i);
                count += 1;
            }
        }
        (params, count)
    }

    /// The presigned URL: the URI in its wire form with the parameters and the signature
    /// appended, then where the request goes.
    fn url(
        &self,
        authority: Option<(&str, &str)>,
        target: &Target<&str>,
        signature: Signature,
    ) -> Signed {
        let mut url = String::with_capacity(2 * target.len() + self.encoded.len() + 200);
        if let Some((scheme, host)) = authority {
            url.push_str(scheme);
            url.push_str("://");
            url.push_str(host);
        }
        url.push_str(target.path_and_query);
        url.push(if target.path_and_query.contains('?') {
            '&'
        } else {
            '?'
        });
        for i in URL_PARAM_ORDER.into_iter().filter(|&i| self.present[i]) {
            let (name, value) = self.get(i);
            url.push_str(name);
            url.push('=');
            // Percent-encoded, so ASCII.
            url.push_str(core::str::from_utf8(value).unwrap_or_default());
            url.push('&');
        }
        url.push_str("X-Amz-Signature=");
        url.push_str(signature.as_str());
        let url_end = url.len();
        let mut signed = Signed {
            text: url,
            url_end,
            ..Signed::with_capacity(signature, 0)
        };
        signed.push_target(target);
        signed
    }
}

impl Target<&str> {
    fn len(&self) -> usize {
        self.scheme.len() + self.host.len() + self.path_and_query.len()
    }
}

/// The path and query of a URI in their wire form: bytes that cannot be on the wire (and those
/// fetch encodes) percent-encoded.
struct WireTarget<'a> {
    /// The path, `/` for an empty one.
    path: &'a str,
    /// The path, and `?` and the query if there is one.
    path_and_query: &'a str,
}

impl<'a> WireTarget<'a> {
    /// Whether `uri` (without its fragment) is `scheme://host` and this target: sent as given.
    fn is_given_by(&self, uri: &Uri<'_>) -> bool {
        let given = uri.without_fragment;
        match (uri.scheme, uri.host()) {
            (Some(scheme), Some(host)) => given
                .strip_prefix(scheme)
                .and_then(|rest| rest.strip_prefix("://"))
                .and_then(|rest| rest.strip_prefix(host))
                .is_some_and(|rest| rest == self.path_and_query),
            _ => given == self.path_and_query,
        }
    }

    fn encode(buf: &'a mut Vec<u8>, uri: &Uri<'_>) -> Self {
        buf.clear();
        let path = if uri.path.is_empty() { "/" } else { uri.path };
        encode_path_for_wire(buf, path.as_bytes());
        let path_end = buf.len();
        if !uri.query.is_empty() {
            buf.push(b'?');
            encode_query_for_wire(buf, uri.query.as_bytes());
        }
        // Escapes and the ASCII bytes kept: UTF-8.
        let text = core::str::from_utf8(buf).unwrap_or_default();
        WireTarget {
            path: text.get(..path_end).unwrap_or_default(),
            path_and_query: text,
        }
    }
}

/// Bytes built from UTF-8 text and ASCII escapes, as text.
fn into_text(bytes: Vec<u8>) -> String {
    String::from_utf8(bytes).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

pub(crate) const X_AMZ_DATE: &str = "x-amz-date";
pub(crate) const X_AMZ_SECURITY_TOKEN: &str = "x-amz-security-token";
pub(crate) const X_AMZ_CONTENT_SHA256: &str = "x-amz-content-sha256";
pub(crate) const X_AMZ_REGION_SET: &str = "x-amz-region-set";

/// The presigning parameters, sorted as in the canonical query (`X-Amz-Region-Set` for SigV4a
/// only).
const PRESIGN_PARAMS: [&str; PRESIGN_COUNT] = [
    "X-Amz-Algorithm",
    "X-Amz-Credential",
    "X-Amz-Date",
    "X-Amz-Expires",
    "X-Amz-Region-Set",
    "X-Amz-Security-Token",
    "X-Amz-SignedHeaders",
];
const PRESIGN_COUNT: usize = 7;
const SECURITY_TOKEN_PARAM: usize = 5;
/// The order of the presigning parameters in the URL: that of the AWS signing test suite's
/// presigned requests (any order is valid).
const URL_PARAM_ORDER: [usize; PRESIGN_COUNT] = [0, 1, 2, 6, 3, 5, 4];

// Indices of the values the signer adds to the signed headers.
const HOST: usize = 0;
const DATE: usize = 1;
const TOKEN: usize = 2;
const SHA256: usize = 3;
const REGION_SET: usize = 4;

/// The key a signature is made with.
enum Key<'k> {
    /// SigV4's, cached per secret, day, region and service.
    Hmac(&'k mut crate::signing_key::CachedKey),
    /// SigV4a's, cached per access key id and secret, with its id
    /// ([`crate::EcdsaKeyRef::id`]).
    Ecdsa(&'k crate::sigv4a::EcdsaKey, u64),
}

/// Formats `value` in decimal into `buf`.
pub(crate) fn decimal(mut value: u64, buf: &mut [u8; 20]) -> &str {
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
    use crate::error::Field;

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
        let p = params(&creds);
        let signer = &mut Signer::new();
        let err =
            |r: &Request<'_>, p: &SigningParams<'_>, l| Signer::new().sign(r, p, l).unwrap_err();
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
            signer
                .sign(
                    &request("https://h/"),
                    &p,
                    Location::Query {
                        expires_in: 604_800
                    }
                )
                .is_ok()
        );
        let bad_hash = Request {
            payload: Payload::Sha256Hex("xyz"),
            ..request("https://h/")
        };
        assert_eq!(err(&bad_hash, &p, h), Error::InvalidPayloadHash);
    }

    fn v4a<'a>(params: SigningParams<'a>, region_set: &'a str) -> SigningParams<'a> {
        SigningParams {
            region: region_set,
            settings: Settings {
                algorithm: Algorithm::SigV4a,
                ..params.settings
            },
            ..params
        }
    }

    /// A platform signer for the tests: signs as the core does (through a key imported from
    /// what [`crate::EcdsaKeyRef`] gives), or answers `reply`; counts its calls and imports.
    struct TestEcdsa {
        reply: Option<Vec<u8>>,
        imported: Option<(u64, p256::ecdsa::SigningKey)>,
        imports: usize,
        calls: usize,
    }

    impl EcdsaSigner for TestEcdsa {
        fn sign(&mut self, key: &crate::EcdsaKeyRef<'_>, string_to_sign: &[u8]) -> Option<Vec<u8>> {
            use p256::ecdsa::signature::hazmat::PrehashSigner;
            use sha2::Digest;
            self.calls += 1;
            if let Some(reply) = &self.reply {
                return Some(reply.clone());
            }
            if self.imported.as_ref().map(|(id, _)| *id) != Some(key.id()) {
                let scalar = key.private_scalar();
                let imported = p256::ecdsa::SigningKey::from_slice(&scalar[..]).ok()?;
                let public = imported.verifying_key().to_sec1_point(false);
                assert_eq!(public.as_bytes(), &key.public_key()[..]);
                self.imported = Some((key.id(), imported));
                self.imports += 1;
            }
            let (_, imported) = self.imported.as_ref()?;
            let digest = Sha256::digest(string_to_sign);
            let signature: p256::ecdsa::DerSignature = imported.sign_prehash(&digest).ok()?;
            Some(signature.as_bytes().to_vec())
        }
    }

    #[test]
    fn sigv4a_signs_through_a_platform_signer_whose_der_is_checked() {
        let creds = Credentials::new("AKIDEXAMPLE", "secret", None).unwrap();
        let other = Credentials::new("AKIDOTHER", "secret", None).unwrap();
        let r = request("https://h/");
        let p = v4a(params(&creds), "*");
        let platform = &mut TestEcdsa {
            reply: None,
            imported: None,
            imports: 0,
            calls: 0,
        };
        let signer = &mut Signer::new();
        // The same deterministic signature as the core's, through one import of the key.
        let core = Signer::new().sign(&r, &p, Location::Headers).unwrap();
        for _ in 0..3 {
            let signed = signer
                .sign_with(&r, &p, Location::Headers, platform)
                .unwrap();
            assert_eq!(signed.authorization(), core.authorization());
        }
        assert_eq!((platform.calls, platform.imports), (3, 1));
        // Other credentials, or the key forgotten: a new id, imported again.
        let p_other = v4a(params(&other), "*");
        let presigned = Location::Query { expires_in: 60 };
        let theirs = signer.sign_with(&r, &p_other, presigned, platform).unwrap();
        assert_eq!(
            theirs.url(),
            Signer::new().sign(&r, &p_other, presigned).unwrap().url()
        );
        signer.forget_key();
        signer
            .sign_with(&r, &p, Location::Headers, platform)
            .unwrap();
        assert_eq!(platform.imports, 3);
        // A second signer of the same credentials has its own id: no key is taken for another's.
        Signer::new()
            .sign_with(&r, &p, Location::Headers, platform)
            .unwrap();
        assert_eq!(platform.imports, 4);
        // SigV4 never asks it.
        Signer::new()
            .sign_with(&r, &params(&creds), Location::Headers, platform)
            .unwrap();
        assert_eq!(platform.calls, 6);
        // What is not a well-formed P-256 signature is an error, never sent.
        let good = core
            .signature
            .as_str()
            .as_bytes()
            .chunks(2)
            .map(|pair| u8::from_str_radix(core::str::from_utf8(pair).unwrap(), 16).unwrap());
        let good: Vec<u8> = good.collect();
        let mut zero_s = good.clone();
        let s_at = usize::from(good[3]) + 4;
        zero_s.truncate(s_at);
        zero_s.extend_from_slice(&[2, 1, 0]);
        zero_s[1] = (zero_s.len() - 2) as u8;
        let mut long = good.clone();
        long.push(0);
        for garbage in [
            &[][..],
            b"not a signature",
            &good[..good.len() - 1],
            &long,
            &zero_s,
            &[0x30; 200],
        ] {
            platform.reply = Some(garbage.to_vec());
            assert_eq!(
                signer
                    .sign_with(&r, &p, Location::Headers, platform)
                    .unwrap_err(),
                Error::SigV4aKey,
                "{garbage:02x?}"
            );
        }
        platform.reply = Some(good);
        let signed = signer
            .sign_with(&r, &p, Location::Headers, platform)
            .unwrap();
        assert_eq!(signed.authorization(), core.authorization());
    }

    #[test]
    fn sigv4a_bad_input_is_a_typed_error_naming_the_field() {
        let creds = Credentials::new("AKIDEXAMPLE", "secret", None).unwrap();
        let err = |p: &SigningParams<'_>| {
            Signer::new()
                .sign(&request("https://h/"), p, Location::Headers)
                .unwrap_err()
        };
        assert_eq!(err(&v4a(params(&creds), "")), Error::Empty(Field::Region));
        for bad in [
            ",",
            "us-east-1,",
            "a,,b",
            "us-east-1, us-west-2",
            "us/east",
            "é",
        ] {
            assert_eq!(
                err(&v4a(params(&creds), bad)).field(),
                Field::Region,
                "{bad}"
            );
        }
        let no_service = SigningParams {
            service: "",
            ..v4a(params(&creds), "*")
        };
        assert_eq!(err(&no_service), Error::Empty(Field::Service));
        let bad_service = SigningParams {
            service: "s/3",
            ..v4a(params(&creds), "*")
        };
        assert_eq!(err(&bad_service).field(), Field::Service);
        let p = v4a(params(&creds), "*");
        assert_eq!(
            Signer::new()
                .sign(
                    &request("https://h/"),
                    &p,
                    Location::Query { expires_in: 0 }
                )
                .unwrap_err(),
            Error::ExpiresInOutOfRange(0)
        );
        assert_eq!(
            Signer::new()
                .sign(&request("/"), &p, Location::Headers)
                .unwrap_err(),
            Error::MissingHost
        );
    }

    #[test]
    fn sigv4a_signs_for_a_region_set_with_a_scope_without_region() {
        let creds = Credentials::new("AKIDEXAMPLE", "SECRETMARKER", Some("TOKEN/+=")).unwrap();
        let p = v4a(params(&creds), "us-east-1,us-west-2");
        let public = crate::sigv4a_public_key(&creds).unwrap();
        let signer = &mut Signer::new();
        // The signer's own region set replaces the request's.
        let r = Request {
            headers: &[("X-Amz-Region-Set", "eu-west-1")],
            ..request("https://h/a b?x=1")
        };
        let out = signer.explain(&r, &p, Location::Headers).unwrap();
        assert!(
            out.canonical_request.ends_with(
                "\nhost:h\nx-amz-date:20150830T123600Z\nx-amz-region-set:us-east-1,us-west-2\n\
                 x-amz-security-token:TOKEN/+=\n\n\
                 host;x-amz-date;x-amz-region-set;x-amz-security-token\n\
                 e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
            ),
            "{}",
            out.canonical_request
        );
        assert!(out.string_to_sign.starts_with(
            "AWS4-ECDSA-P256-SHA256\n20150830T123600Z\n20150830/service/aws4_request\n"
        ));
        let authorization = out.signed.authorization().unwrap();
        let prefix = "AWS4-ECDSA-P256-SHA256 Credential=AKIDEXAMPLE/20150830/service/aws4_request, \
                      SignedHeaders=host;x-amz-date;x-amz-region-set;x-amz-security-token, Signature=";
        assert_eq!(
            authorization.strip_prefix(prefix),
            Some(out.signed.signature.as_str())
        );
        assert!(
            out.signed
                .headers()
                .any(|h| h == (X_AMZ_REGION_SET, "us-east-1,us-west-2"))
        );
        let signature = out.signed.signature.as_str();
        assert!(crate::sigv4a_signature_is_valid(
            &public,
            &out.string_to_sign,
            signature
        ));
        // RFC 6979: the same request signs the same, with or without a cached key.
        let again = Signer::new().explain(&r, &p, Location::Headers).unwrap();
        assert_eq!(again.signed.signature, out.signed.signature);

        // The request goes where a SigV4 signature sends it.
        let sigv4 = params(&creds);
        for uri in ["https://h/a b?x=1", "http://u@h:80/?", "/k%2F?a=é"] {
            let r = Request {
                headers: &[("host", "h.example")],
                ..request(uri)
            };
            for location in [Location::Headers, Location::Query { expires_in: 60 }] {
                let a = signer.sign(&r, &p, location).unwrap();
                let b = signer.sign(&r, &sigv4, location).unwrap();
                let target = |s: &Signed| {
                    let t = (s.scheme(), s.host(), s.path_and_query(), s.uri_as_sent());
                    alloc::format!("{t:?}")
                };
                assert_eq!(target(&a), target(&b), "{uri}");
            }
        }

        // Presigned: the region set is a parameter, between X-Amz-Expires and the token.
        let url = signer
            .explain(
                &request("https://h/"),
                &p,
                Location::Query { expires_in: 60 },
            )
            .unwrap();
        assert!(url.canonical_request.contains(
            "&X-Amz-Expires=60&X-Amz-Region-Set=us-east-1%2Cus-west-2&X-Amz-Security-Token=TOKEN%2F%2B%3D&"
        ));
        let text = url.signed.url().unwrap();
        assert!(text.starts_with(
            "https://h/?X-Amz-Algorithm=AWS4-ECDSA-P256-SHA256&X-Amz-Credential=AKIDEXAMPLE%2F20150830%2Fservice%2Faws4_request&"
        ));
        assert!(text.contains("&X-Amz-Region-Set=us-east-1%2Cus-west-2&X-Amz-Signature="));
        let signature = url.signed.signature.as_str();
        assert!(text.ends_with(signature));
        assert!(crate::sigv4a_signature_is_valid(
            &public,
            &url.string_to_sign,
            signature
        ));

        // Neither the secret, nor the token, nor the derived key shows in Debug.
        let shown = alloc::format!("{signer:?} {signer:#?} {p:?} {out:?} {url:?}");
        assert!(
            !shown.contains("SECRETMARKER") && !shown.contains("TOKEN/"),
            "{shown}"
        );
    }

    #[test]
    fn session_token_signed_or_appended() {
        let creds = Credentials::new("AKIDEXAMPLE", "secret", Some("TOKEN/+=")).unwrap();
        let signer = &mut Signer::new();
        let p = params(&creds);
        let signed = signer
            .explain(&request("https://h/"), &p, Location::Headers)
            .unwrap();
        assert!(
            signed
                .canonical_request
                .contains("x-amz-security-token:TOKEN/+=\n")
        );
        assert!(
            signed
                .signed
                .headers()
                .any(|h| h == (X_AMZ_SECURITY_TOKEN, "TOKEN/+="))
        );
        let after = SigningParams {
            settings: Settings {
                session_token: SessionTokenMode::AfterSigning,
                ..Settings::default()
            },
            ..p
        };
        let signed = signer
            .explain(&request("https://h/"), &after, Location::Headers)
            .unwrap();
        assert!(!signed.canonical_request.contains("x-amz-security-token"));
        assert!(
            signed
                .signed
                .headers()
                .any(|h| h == (X_AMZ_SECURITY_TOKEN, "TOKEN/+="))
        );
        let url = signer
            .sign(
                &request("https://h/?a=1#f"),
                &p,
                Location::Query { expires_in: 60 },
            )
            .unwrap()
            .url()
            .unwrap()
            .to_string();
        assert!(url.starts_with("https://h/?a=1&X-Amz-Algorithm=AWS4-HMAC-SHA256&"));
        assert!(url.contains("&X-Amz-Security-Token=TOKEN%2F%2B%3D&X-Amz-Signature="));
    }

    #[test]
    fn signature_compares_in_constant_time_and_debug_hides_secrets() {
        let creds = Credentials::new("AKIDEXAMPLE", "secret", Some("TOKENMARKER")).unwrap();
        let signer = &mut Signer::new();
        let signed = signer
            .sign(&request("https://h/"), &params(&creds), Location::Headers)
            .unwrap();
        let hex = String::from(signed.signature.as_str());
        assert!(signed.signature.matches(&hex));
        assert!(!signed.signature.matches(&hex[..63]));
        assert!(!signed.signature.matches(&hex.replace(&hex[..1], "x")));
        let presigned = signer
            .sign(
                &request("https://h/"),
                &params(&creds),
                Location::Query { expires_in: 5 },
            )
            .unwrap();
        let with_header = Request {
            headers: &[("x-amz-security-token", "TOKENMARKER")],
            ..request("https://h/")
        };
        let shown = alloc::format!("{signed:?} {presigned:?} {signer:?} {with_header:?}");
        assert!(
            !shown.contains("TOKENMARKER") && !shown.contains("secret"),
            "{shown}"
        );
    }

    #[test]
    fn s3_presigned_urls_sign_unsigned_payload() {
        let creds = Credentials::new("AKIDEXAMPLE", "secret", None).unwrap();
        let s3 = SigningParams {
            service: "s3",
            settings: Settings::for_service("s3"),
            ..params(&creds)
        };
        let presign = Location::Query { expires_in: 60 };
        let last_line = |r: &Request<'_>, p: &SigningParams<'_>, l| {
            let explained = Signer::new().explain(r, p, l).unwrap();
            String::from(explained.canonical_request.rsplit('\n').next().unwrap())
        };
        let get = request("https://b.s3.amazonaws.com/k");
        assert_eq!(last_line(&get, &s3, presign), "UNSIGNED-PAYLOAD");
        let hash = "0".repeat(64);
        let hashed = Request {
            payload: Payload::Sha256Hex(&hash),
            ..get
        };
        assert_eq!(last_line(&hashed, &s3, presign), "UNSIGNED-PAYLOAD");
        assert_eq!(last_line(&hashed, &s3, Location::Headers), hash);
        // Header signing, and other services, sign the body's hash.
        let empty = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
        assert_eq!(last_line(&get, &s3, Location::Headers), empty);
        assert_eq!(last_line(&get, &params(&creds), presign), empty);
    }

    #[test]
    fn the_target_sent_is_the_one_signed() {
        let creds = Credentials::new("AKIDEXAMPLE", "secret", None).unwrap();
        let p = params(&creds);
        let signer = &mut Signer::new();
        let sign = |signer: &mut Signer, r: &Request<'_>, l| signer.explain(r, &p, l).unwrap();
        // A URI in its wire form is sent as given.
        for uri in [
            "https://sts.amazonaws.com/",
            "https://h/a?b=1#f",
            "/a%20b?x",
        ] {
            let with_host = Request {
                headers: &[("host", "h")],
                ..request(uri)
            };
            let out = sign(signer, &with_host, Location::Headers);
            assert!(out.signed.uri_as_sent(), "{uri}");
        }
        for uri in [
            "https://h/a b",
            "https://h/?",
            "https://h",
            "http://h:80/",
            "https://u@h/",
        ] {
            let out = sign(signer, &request(uri), Location::Headers);
            assert!(!out.signed.uri_as_sent(), "{uri}");
        }
        // The scheme's default port is not part of the host sent or signed.
        for uri in [
            "https://sts.amazonaws.com:443/",
            "https://u@sts.amazonaws.com/#f",
        ] {
            let out = sign(signer, &request(uri), Location::Headers);
            assert_eq!(out.signed.scheme(), Some("https"));
            assert_eq!(out.signed.host(), "sts.amazonaws.com");
            assert_eq!(out.signed.path_and_query(), "/");
            assert!(out.canonical_request.contains("\nhost:sts.amazonaws.com\n"));
        }
        let out = sign(signer, &request("http://h:80"), Location::Headers);
        assert_eq!((out.signed.host(), out.signed.path_and_query()), ("h", "/"));
        let out = sign(signer, &request("http://h:8080/?a"), Location::Headers);
        assert_eq!(out.signed.host(), "h:8080");
        // A Host header is what is signed and sent.
        let with_host = Request {
            headers: &[("Host", " other.example ")],
            ..request("/a b?x=é y")
        };
        let out = sign(signer, &with_host, Location::Headers);
        assert_eq!(out.signed.scheme(), None);
        assert_eq!(out.signed.host(), "other.example");
        // Raw bytes the wire cannot carry are sent encoded, and signed as a service reading
        // that request line computes them: encoded once more by a double-encoding service.
        assert_eq!(out.signed.path_and_query(), "/a%20b?x=%C3%A9%20y");
        assert!(
            out.canonical_request
                .starts_with("GET\n/a%2520b\nx=%C3%A9%20y\n")
        );
        let s3 = SigningParams {
            settings: Settings::s3(),
            ..p
        };
        let out = signer.explain(&with_host, &s3, Location::Headers).unwrap();
        assert!(
            out.canonical_request
                .starts_with("GET\n/a%20b\nx=%C3%A9%20y\n")
        );
        // Bytes a request line carries and fetch leaves raw (`|`, `[`, `^`, a lone `%`) are sent
        // raw, and encoded in the canonical URI as a service reading them encodes them.
        let reserved = request("https://h/a|b[c]^d%/e?q=[1]|x");
        let out = sign(signer, &reserved, Location::Headers);
        assert_eq!(out.signed.path_and_query(), "/a|b[c]^d%/e?q=[1]|x");
        assert!(
            out.canonical_request
                .starts_with("GET\n/a%7Cb%5Bc%5D%5Ed%25/e\nq=%5B1%5D%7Cx\n")
        );
        let out = signer.explain(&reserved, &s3, Location::Headers).unwrap();
        assert!(
            out.canonical_request
                .starts_with("GET\n/a%7Cb%5Bc%5D%5Ed%25/e\n")
        );
        // A presigned URL is in the wire form, without user information or default port.
        let url = signer
            .sign(
                &request("https://u:p@b.s3.amazonaws.com:443/a b/ሴ?x=1#frag"),
                &s3,
                Location::Query { expires_in: 60 },
            )
            .unwrap();
        let url_text = url.url().unwrap();
        assert!(
            url_text.starts_with("https://b.s3.amazonaws.com/a%20b/%E1%88%B4?x=1&X-Amz-Algorithm="),
            "{url_text}"
        );
        assert_eq!(url.host(), "b.s3.amazonaws.com");
        assert_eq!(url.path_and_query(), "/a%20b/%E1%88%B4?x=1");
        assert_eq!(url.headers().count(), 0);
    }

    #[test]
    fn the_wire_query_has_the_canonical_query_of_the_query_given() {
        // Every string of up to three of these pieces.
        const PIECES: [&str; 11] = ["a", "=", "&", " ", "é", "%20", "%", "+", "?", "\"", "%zz"];
        let creds = Credentials::new("AKIDEXAMPLE", "secret", None).unwrap();
        let p = params(&creds);
        let mut signer = Signer::new();
        for query in crate::pieces::every_string_of(&PIECES, 3) {
            let uri = alloc::format!("https://h/?{query}");
            let given = signer
                .explain(&request(&uri), &p, Location::Headers)
                .unwrap();
            let wire = alloc::format!("https://h{}", given.signed.path_and_query());
            let sent = signer
                .explain(&request(&wire), &p, Location::Headers)
                .unwrap();
            assert_eq!(given.canonical_request, sent.canonical_request, "{query:?}");
            assert_eq!(sent.signed.path_and_query(), given.signed.path_and_query());
        }
    }

    #[test]
    fn a_long_lived_signer_matches_fresh_ones() {
        // Requests of one shape with small changes, as an agent sends them: every cache (key,
        // hash prefixes, X-Amz-Date, buffers) is hit, missed and refilled along the way.
        let with_token = Credentials::new("AKIDEXAMPLE", "secret", Some("TOKEN")).unwrap();
        let without = Credentials::new("AKIDEXAMPLE", "secret", None).unwrap();
        let mut signer = Signer::new();
        for i in 0..400u64 {
            let value = alloc::format!("v{}", i / 10 % 5);
            let headers = [
                ("content-type", "application/json"),
                ("x-custom", value.as_str()),
            ];
            let uri = alloc::format!(
                "https://service.us-east-1.amazonaws.com/a/long/enough/path/to/fill/a/block/{}?q={}",
                i / 50 % 3,
                i / 20 % 7
            );
            let body = alloc::format!("{{\"n\":{i}}}");
            let request = Request {
                method: if i % 11 == 0 { "PUT" } else { "POST" },
                uri: &uri,
                headers: &headers,
                payload: Payload::Bytes(body.as_bytes()),
            };
            let params = SigningParams {
                credentials: if i % 2 == 0 { &with_token } else { &without },
                region: if i % 13 == 0 {
                    "eu-west-1"
                } else {
                    "us-east-1"
                },
                service: "service",
                time: Timestamp::from_unix_seconds(1_700_000_000 + i / 4).unwrap(),
                settings: Settings {
                    algorithm: if i % 7 < 2 {
                        Algorithm::SigV4a
                    } else {
                        Algorithm::SigV4
                    },
                    ..Settings::default()
                },
            };
            let location = match i % 4 {
                0 => Location::Query { expires_in: 60 },
                _ => Location::Headers,
            };
            let reused = signer.explain(&request, &params, location).unwrap();
            let fresh = Signer::new().explain(&request, &params, location).unwrap();
            assert_eq!(reused.canonical_request, fresh.canonical_request, "{i}");
            assert_eq!(reused.string_to_sign, fresh.string_to_sign, "{i}");
            assert_eq!(reused.signed.signature, fresh.signed.signature, "{i}");
            assert!(reused.signed.headers().eq(fresh.signed.headers()), "{i}");
            assert_eq!(reused.signed.url(), fresh.signed.url(), "{i}");
        }
    }
}
