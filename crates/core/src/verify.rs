//! Checking a SigV4 signature, as a service does: the request's `Authorization` header or
//! presigning parameters are read, the scope and the time are checked, and the request is signed
//! again with the secret the caller looks up, compared in constant time.
//!
//! The core does no lookup and reads no clock: the caller gives the time now and answers which
//! secret belongs to an access key id.

use alloc::borrow::Cow;
use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

use crate::credentials::Credentials;
use crate::error::Error;
use crate::payload::Payload;
use crate::scan::{find_any, find_byte, split_ascii, split_at_byte};
use crate::settings::Algorithm;
use crate::settings::{Location, SessionTokenMode, Settings};
use crate::sign::{
    Request, Signer, Signing, X_AMZ_CONTENT_SHA256, X_AMZ_DATE, X_AMZ_REGION_SET,
    X_AMZ_SECURITY_TOKEN,
};
use crate::timestamp::Timestamp;
use crate::uri::Uri;
use crate::uri_encode::decode_into;
use crate::{ALGORITHM, ALGORITHM_V4A, MAX_EXPIRES_IN, UNSIGNED_PAYLOAD};

/// What a verifier checks a request against, besides its signature.
#[derive(Clone, Copy, Debug)]
pub struct VerifyParams<'a> {
    /// The time now (the verifier's clock).
    pub now: Timestamp,
    /// How far the request's time may be from `now`, in seconds (AWS allows 900).
    pub max_skew_secs: u64,
    /// The region the credential scope must name; None accepts any.
    pub region: Option<&'a str>,
    /// The service the credential scope must name; None accepts any.
    pub service: Option<&'a str>,
    /// How the service computes canonical requests; None: the rules of the scope's service
    /// ([`Settings::for_service`]). Its header lists are not used: the request says what it
    /// signed.
    pub settings: Option<Settings<'a>>,
}

impl VerifyParams<'_> {
    /// Any region and service, within AWS's 15 minutes of skew.
    pub fn new(now: Timestamp) -> Self {
        VerifyParams {
            now,
            max_skew_secs: 900,
            region: None,
            service: None,
            settings: None,
        }
    }
}

/// Who signed a request that verified, and for which scope.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Verified<'a> {
    /// The access key id that signed it.
    pub access_key_id: Cow<'a, str>,
    /// The region of its credential scope.
    pub region: Cow<'a, str>,
    /// The service of its credential scope.
    pub service: Cow<'a, str>,
    /// When it was signed (`X-Amz-Date`).
    pub time: Timestamp,
    /// The session token the request carries, for the caller to check that these temporary
    /// credentials are still valid (the signature says only who holds the secret).
    pub session_token: Option<Cow<'a, str>>,
    /// Whether the signature covers the body the caller gave (its bytes or their hash); false
    /// for `UNSIGNED-PAYLOAD`, or when the caller gave no body (`Payload::Unsigned`).
    pub payload_verified: bool,
}

impl Verified<'_> {
    /// The same, owning its text. (A verification borrows it from the request where it can:
    /// copying it took 250 of a verification's 27,000 instructions, callgrind, S3 GET.)
    pub fn into_owned(self) -> Verified<'static> {
        Verified {
            access_key_id: Cow::Owned(self.access_key_id.into_owned()),
            region: Cow::Owned(self.region.into_owned()),
            service: Cow::Owned(self.service.into_owned()),
            time: self.time,
            session_token: self.session_token.map(|t| Cow::Owned(t.into_owned())),
            payload_verified: self.payload_verified,
        }
    }
}

/// Why a request does not verify. Never carries a secret or a signature.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Rejection {
    /// Neither an `Authorization` header nor presigning parameters.
    NotSigned,
    /// The `Authorization` header or a presigning parameter is malformed: which part.
    Malformed(&'static str),
    /// An algorithm other than `AWS4-HMAC-SHA256` and `AWS4-ECDSA-P256-SHA256`.
    UnsupportedAlgorithm,
    /// The caller knows no secret for this access key id.
    UnknownAccessKey(String),
    /// The credential scope's date is not the date of `X-Amz-Date`.
    ScopeDateMismatch,
    /// The credential scope names another region than the one expected.
    WrongRegion(String),
    /// The credential scope names another service than the one expected.
    WrongService(String),
    /// `host` is not among the signed headers.
    HostNotSigned,
    /// `x-amz-date` is not among the signed headers (header signing).
    DateNotSigned,
    /// A signed header is not in the request.
    SignedHeaderMissing(String),
    /// `x-amz-content-sha256` is not the SHA-256 of the body.
    ContentSha256Mismatch,
    /// The request's time is further from now than the skew allowed (header signing).
    OutsideSkew,
    /// A presigned URL used before its time (less the skew allowed).
    NotYetValid,
    /// A presigned URL used after it expired.
    Expired,
    /// `X-Amz-Expires` over 604800 seconds (7 days) or zero.
    ExpiresOutOfRange,
    /// The request cannot be signed again (an input the signer refuses).
    Invalid(Error),
    /// The signature is not the one the secret gives.
    SignatureMismatch,
    /// The `Host` header names another host than the URI's authority.
    HostMismatch,
    /// A session token not covered by the signature, where the rules require it signed.
    TokenNotSigned,
    /// A payload form the verifier does not check (`STREAMING-*`, aws-chunked).
    UnsupportedPayload,
}

impl Rejection {
    /// A stable name for the reason, in snake case (the npm package's `code`, the WIT's
    /// `rejection-code` in kebab case).
    pub fn code(&self) -> &'static str {
        match self {
            Rejection::NotSigned => "not_signed",
            Rejection::Malformed(_) => "malformed",
            Rejection::UnsupportedAlgorithm => "unsupported_algorithm",
            Rejection::UnknownAccessKey(_) => "unknown_access_key",
            Rejection::ScopeDateMismatch => "scope_date_mismatch",
            Rejection::WrongRegion(_) => "wrong_region",
            Rejection::WrongService(_) => "wrong_service",
            Rejection::HostNotSigned => "host_not_signed",
            Rejection::DateNotSigned => "date_not_signed",
            Rejection::SignedHeaderMissing(_) => "signed_header_missing",
            Rejection::ContentSha256Mismatch => "content_sha256_mismatch",
            Rejection::OutsideSkew => "outside_skew",
            Rejection::NotYetValid => "not_yet_valid",
            Rejection::Expired => "expired",
            Rejection::ExpiresOutOfRange => "expires_out_of_range",
            Rejection::Invalid(_) => "invalid",
            Rejection::SignatureMismatch => "signature_mismatch",
            Rejection::HostMismatch => "host_mismatch",
            Rejection::TokenNotSigned => "token_not_signed",
            Rejection::UnsupportedPayload => "unsupported_payload",
        }
    }
}

impl fmt::Display for Rejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Rejection::NotSigned => {
                f.write_str("the request has no Authorization header or presigning parameters")
            }
            Rejection::Malformed(part) => write!(f, "malformed {part}"),
            Rejection::UnsupportedAlgorithm => {
                f.write_str("the algorithm is neither AWS4-HMAC-SHA256 nor AWS4-ECDSA-P256-SHA256")
            }
            Rejection::UnknownAccessKey(id) => write!(f, "unknown access key id {id}"),
            Rejection::ScopeDateMismatch => {
                f.write_str("the credential scope's date is not the date of X-Amz-Date")
            }
            Rejection::WrongRegion(region) => write!(
                f,
                "the credential scope names region {region}, not the one expected"
            ),
            Rejection::WrongService(service) => write!(
                f,
                "the credential scope names service {service}, not the one expected"
            ),
            Rejection::HostNotSigned => f.write_str("host is not a signed header"),
            Rejection::DateNotSigned => f.write_str("x-amz-date is not a signed header"),
            Rejection::SignedHeaderMissing(name) => {
                write!(f, "the signed header {name} is not in the request")
            }
            Rejection::ContentSha256Mismatch => {
                f.write_str("x-amz-content-sha256 is not the SHA-256 of the body")
            }
            Rejection::OutsideSkew => {
                f.write_str("the request's time is outside the clock skew allowed")
            }
            Rejection::NotYetValid => f.write_str("the presigned URL is not valid yet"),
            Rejection::Expired => f.write_str("the presigned URL has expired"),
            Rejection::ExpiresOutOfRange => {
                f.write_str("X-Amz-Expires must be between 1 and 604800 seconds")
            }
            Rejection::Invalid(error) => write!(f, "the request cannot be signed: {error}"),
            Rejection::SignatureMismatch => f.write_str("the signature does not match"),
            Rejection::HostMismatch => {
                f.write_str("the Host header names another host than the URI")
            }
            Rejection::TokenNotSigned => f.write_str("the session token is not signed"),
            Rejection::UnsupportedPayload => {
                f.write_str("the payload form (streaming, aws-chunked) is not verified here")
            }
        }
    }
}

impl core::error::Error for Rejection {}

/// The signed headers the verifier asks about, as bits of [`Claim::known`].
#[derive(Clone, Copy)]
enum Known {
    Host = 1,
    Date = 2,
    RegionSet = 4,
    ContentSha256 = 8,
    SecurityToken = 16,
}

impl Known {
    /// The bit of a header name (lowercase), 0 for any other.
    fn bit(name: &str) -> u8 {
        (match name {
            "host" => Known::Host,
            X_AMZ_DATE => Known::Date,
            X_AMZ_REGION_SET => Known::RegionSet,
            X_AMZ_CONTENT_SHA256 => Known::ContentSha256,
            X_AMZ_SECURITY_TOKEN => Known::SecurityToken,
            _ => return 0,
        }) as u8
    }
}

/// What a request claims: who signed it, for which scope, which headers, and the signature.
struct Claim<'a> {
    algorithm: Algorithm,
    access_key_id: &'a str,
    date: &'a str,
    /// SigV4's region, or SigV4a's region set (`X-Amz-Region-Set`).
    region: &'a str,
    service: &'a str,
    /// The signed header names, as listed: lowercase, sorted, each once (checked).
    names: Vec<&'a str>,
    /// The same, `name;name;...`.
    signed_headers: &'a str,
    /// Which of the [`Known`] headers are signed, as bits.
    known: u8,
    signature: &'a str,
    time: Timestamp,
    /// `X-Amz-Date` as sent: the text of `time` (checked).
    amz_date: &'a str,
}

impl<'a> Claim<'a> {
    fn check_scope(&self, params: &VerifyParams<'_>) -> Result<(), Rejection> {
        if self.amz_date.get(..8) != Some(self.date) {
            return Err(Rejection::ScopeDateMismatch);
        }
        if params.region.is_some_and(|r| !self.covers(r)) {
            return Err(Rejection::WrongRegion(self.region.into()));
        }
        if params.service.is_some_and(|s| s != self.service) {
            return Err(Rejection::WrongService(self.service.into()));
        }
        if !self.signs(Known::Host) {
            return Err(Rejection::HostNotSigned);
        }
        Ok(())
    }

    /// Whether the scope is for `region`: SigV4's region, or a SigV4a region set with a name
    /// that is the region or a pattern covering it (`*`, `eu-*`).
    fn covers(&self, region: &str) -> bool {
        match self.algorithm {
            Algorithm::SigV4 => self.region == region,
            Algorithm::SigV4a => self
                .region
                .split(',')
                .any(|name| match name.strip_suffix('*') {
                    Some(prefix) => region.starts_with(prefix),
                    None => name == region,
                }),
        }
    }

    /// Whether one of the headers the verifier asks about (a [`Known`]) is among the signed.
    fn signs(&self, header: Known) -> bool {
        self.known & header as u8 != 0
    }

    fn verified(&self, session_token: Option<&'a str>, payload_verified: bool) -> Verified<'a> {
        Verified {
            access_key_id: Cow::Borrowed(self.access_key_id),
            region: Cow::Borrowed(self.region),
            service: Cow::Borrowed(self.service),
            time: self.time,
            session_token: session_token.map(Cow::Borrowed),
            payload_verified,
        }
    }
}

impl Signer {
    /// Verifies a signed request: header signing (`Authorization`) or a presigned URL. `secret_for`
    /// answers which secret belongs to an access key id (None: unknown). The request's body is
    /// its payload: `Payload::Bytes` is checked against `x-amz-content-sha256` when the request
    /// has that header; `Payload::Sha256Hex` is the body's hash when the caller hashed it.
    pub fn verify<'r, S: AsRef<str>>(
        &mut self,
        request: &Request<'r>,
        params: &VerifyParams<'_>,
        secret_for: impl FnOnce(&str) -> Option<S>,
    ) -> Result<Verified<'r>, Rejection> {
        // A hash the caller computed is one: a payload name in its place (`STREAMING-...`) would
        // stand for a body nobody hashed.
        if let Payload::Sha256Hex(hash) = request.payload
            && (hash.len() != 64 || !hash.bytes().all(|b| b.is_ascii_hexdigit()))
        {
            return Err(Rejection::Invalid(Error::InvalidPayloadHash));
        }
        let uri = Uri::parse(request.uri).map_err(Rejection::Invalid)?;
        let read = ReadHeaders::of(request.headers);
        // What is routed by its authority must be what was signed for its Host.
        if let (Some(host), Some(authority)) = (read.host.first, uri.host())
            && !same_host(host, authority, uri.scheme)
        {
            return Err(Rejection::HostMismatch);
        }
        match (read.authorization.count, is_presigned(uri.query)) {
            (0, false) => Err(Rejection::NotSigned),
            (0, true) => self.verify_presigned(request, &uri, &read, params, secret_for),
            (1, false) => {
                let authorization = read.authorization.first.unwrap_or_default();
                self.verify_header_signed(request, &uri, &read, authorization, params, secret_for)
            }
            // Two signatures, or one in a header and one in the query: which would a service take?
            _ => Err(Rejection::Malformed("Authorization")),
        }
    }

    fn verify_header_signed<'r, S: AsRef<str>>(
        &mut self,
        request: &Request<'r>,
        uri: &Uri<'r>,
        read: &ReadHeaders<'r>,
        authorization: &'r str,
        params: &VerifyParams<'_>,
        secret_for: impl FnOnce(&str) -> Option<S>,
    ) -> Result<Verified<'r>, Rejection> {
        let (scope, signed_headers, signature, amz_date) = header_claim(read, authorization)?;
        let algorithm = scope.algorithm;
        let claim = self.claim(scope, signed_headers, signature, amz_date)?;
        claim.check_scope(params)?;
        if !claim.signs(Known::Date) {
            return Err(Rejection::DateNotSigned);
        }
        if algorithm == Algorithm::SigV4a && !claim.signs(Known::RegionSet) {
            return Err(Rejection::Malformed("X-Amz-Region-Set"));
        }
        let skew = claim
            .time
            .unix_seconds()
            .abs_diff(params.now.unix_seconds());
        if skew > params.max_skew_secs {
            return Err(Rejection::OutsideSkew);
        }
        let (payload, payload_verified) = match read.content_sha256.first {
            Some(claimed) => claimed_payload(claimed, request.payload)?,
            None => (request.payload, request.payload != Payload::Unsigned),
        };
        let settings = Settings {
            content_sha256_header: claim.signs(Known::ContentSha256),
            ..rules(params, &claim)
        };
        let token = read.token.first;
        let token_signed = claim.signs(Known::SecurityToken);
        if token.is_some() && !token_signed && settings.session_token == SessionTokenMode::Signed {
            return Err(Rejection::TokenNotSigned);
        }
        let again = Again {
            uri: *uri,
            has_host: read.host.count > 0 || uri.authority.is_some(),
            sha256_header_missing: read.content_sha256.count == 0,
            token,
        };
        let valid = self.sign_again(
            request,
            &again,
            &claim,
            payload,
            settings,
            Location::Headers,
            secret_for,
        )?;
        if valid {
            Ok(claim.verified(token, payload_verified))
        } else {
            Err(Rejection::SignatureMismatch)
        }
    }

    fn verify_presigned<'r, S: AsRef<str>>(
        &mut self,
        request: &Request<'r>,
        uri: &Uri<'r>,
        read: &ReadHeaders<'r>,
        params: &VerifyParams<'_>,
        secret_for: impl FnOnce(&str) -> Option<S>,
    ) -> Result<Verified<'r>, Rejection> {
        // The URI without the parameters the signer appends (it appends them again), built as
        // the query is read, in a buffer of the signer's (allocating and freeing it took
        // about 90 of a verification's instructions, callgrind, S3 presign).
        let mut without = self.take_uri_buffer();
        let verified =
            self.verify_presigned_in(request, uri, read, params, secret_for, &mut without);
        self.give_back_uri_buffer(without);
        verified
    }

    #[allow(clippy::too_many_arguments)]
    fn verify_presigned_in<'r, S: AsRef<str>>(
        &mut self,
        request: &Request<'r>,
        uri: &Uri<'r>,
        read: &ReadHeaders<'r>,
        params: &VerifyParams<'_>,
        secret_for: impl FnOnce(&str) -> Option<S>,
        without: &mut String,
    ) -> Result<Verified<'r>, Rejection> {
        // As sent (decoded once found).
        let mut found: [Option<&'r str>; 7] = Default::default();
        let before_query = uri.without_fragment.len() - uri.query.len();
        without.clear();
        without.push_str(&uri.without_fragment[..before_query]);
        let query_start = without.len();
        let (mut tokens, mut hashes) = (Named::default(), Named::default());
        for (name, value) in query_pairs(uri.query) {
            match presign_param(name) {
                Some(i) => {
                    if found[i].replace(value.unwrap_or_default()).is_some() {
                        return Err(Rejection::Malformed(PRESIGN_PARAMS[i]));
                    }
                }
                // The signer appends the token again too.
                None if name == "X-Amz-Security-Token" => tokens.add(value.unwrap_or_default()),
                None => {
                    if name == "X-Amz-Content-Sha256" {
                        hashes.add(value.unwrap_or_default());
                    }
                    if without.len() > query_start {
                        without.push('&');
                    }
                    without.push_str(name);
                    if let Some(value) = value {
                        without.push('=');
                        without.push_str(value);
                    }
                }
            }
        }
        if without.len() == query_start {
            without.pop(); // The `?`.
        }
        let [
            algorithm,
            credential,
            date,
            expires,
            signed_headers,
            signature,
            region_set,
        ] = found;
        let region_set = region_set.map(decoded);
        let missing = |what| move || Rejection::Malformed(what);
        let algorithm = algorithm.ok_or_else(missing("X-Amz-Algorithm"))?;
        let algorithm = algorithm_named(&decoded(algorithm))?;
        // Only SigV4a signs a region set: in a SigV4 URL it is no parameter the signer appends,
        // and taken out before signing again it would ride along unsigned.
        if algorithm == Algorithm::SigV4 && region_set.is_some() {
            return Err(Rejection::Malformed("X-Amz-Region-Set"));
        }
        let credential = credential.ok_or_else(missing("X-Amz-Credential"))?;
        let (credential, separator) = credential_parts(credential, algorithm);
        let date = decoded(date.ok_or_else(missing("X-Amz-Date"))?);
        let signed_headers = decoded(signed_headers.ok_or_else(missing("X-Amz-SignedHeaders"))?);
        let signature = decoded(signature.ok_or_else(missing("X-Amz-Signature"))?);
        let expires: u64 = decoded(expires.ok_or_else(missing("X-Amz-Expires"))?)
            .parse()
            .map_err(|_| Rejection::Malformed("X-Amz-Expires"))?;
        if !(1..=MAX_EXPIRES_IN).contains(&expires) {
            return Err(Rejection::ExpiresOutOfRange);
        }
        let scope = Scope {
            algorithm,
            credential: &credential,
            separator,
            region_set: region_set.as_deref(),
        };
        let claim = self.claim(scope, &signed_headers, &signature, &date)?;
        claim.check_scope(params)?;
        let (signed_at, now) = (claim.time.unix_seconds(), params.now.unix_seconds());
        if now.saturating_add(params.max_skew_secs) < signed_at {
            return Err(Rejection::NotYetValid);
        }
        if now > signed_at.saturating_add(expires) {
            return Err(Rejection::Expired);
        }
        let settings = rules(params, &claim);
        let location = Location::Query {
            expires_in: expires,
        };
        // A presigned URL's payload: its X-Amz-Content-Sha256 (kept in the query), else the
        // service's rule (S3: UNSIGNED-PAYLOAD), else the body; botocore presigns every service
        // with UNSIGNED-PAYLOAD, which is tried too.
        if hashes.count > 1 {
            return Err(Rejection::Malformed("X-Amz-Content-Sha256"));
        }
        let hash_text = hashes.first.map(decoded);
        let (payload, payload_verified, fallback) = match hash_text.as_deref() {
            Some(claimed) => {
                let (payload, verified) = claimed_payload(claimed, request.payload)?;
                (payload, verified, None)
            }
            None if settings.presigned_payload_unsigned => (Payload::Unsigned, false, None),
            None => (
                request.payload,
                request.payload != Payload::Unsigned,
                Some(Payload::Unsigned),
            ),
        };
        let secret = secret_for(claim.access_key_id)
            .ok_or_else(|| Rejection::UnknownAccessKey(claim.access_key_id.into()))?;
        let secret = secret.as_ref();
        // A session token in the URL is signed (the SDKs), or appended after signing where the
        // rules say so (IoT's presigned WebSocket URLs).
        if tokens.count > 1 {
            return Err(Rejection::Malformed("X-Amz-Security-Token"));
        }
        let token = tokens.first.map(decoded);
        let again = Again {
            // The request's URI with the query left: no second parse.
            uri: Uri {
                query: without.get(query_start..).unwrap_or_default(),
                without_fragment: without,
                ..*uri
            },
            has_host: read.host.count > 0 || uri.authority.is_some(),
            sha256_header_missing: false,
            token: token.as_deref(),
        };
        // The first payload signs what the caller gave; botocore's UNSIGNED-PAYLOAD is the
        // fallback for other services, reported as such.
        for (payload, payload_verified) in [
            Some((payload, payload_verified)),
            fallback.map(|f| (f, false)),
        ]
        .into_iter()
        .flatten()
        {
            let valid =
                self.sign_again(request, &again, &claim, payload, settings, location, |_| {
                    Some(secret)
                })?;
            if valid {
                // Borrowed from the request where nothing was decoded (copying it took about
                // 500 of a verification's instructions with malloc, callgrind, S3 presign).
                return Ok(Verified {
                    access_key_id: part_of(claim.access_key_id, &credential),
                    region: match &region_set {
                        Some(set) => set.clone(),
                        None => part_of(claim.region, &credential),
                    },
                    service: part_of(claim.service, &credential),
                    time: claim.time,
                    session_token: token.clone(),
                    payload_verified,
                });
            }
        }
        Err(Rejection::SignatureMismatch)
    }

    /// The [`claim`] of these parts, its `X-Amz-Date` the text of its time: a leap second
    /// parses as the second before it, and the text must be the one signed again.
    fn claim<'a>(
        &mut self,
        scope: Scope<'a>,
        signed_headers: &'a str,
        signature: &'a str,
        amz_date: &'a str,
    ) -> Result<Claim<'a>, Rejection> {
        let claim = claim(
            scope,
            signed_headers,
            signature,
            amz_date,
            self.last_amz_date(),
        )?;
        if self.amz_date(claim.time) != amz_date.as_bytes() {
            return Err(Rejection::Malformed("X-Amz-Date"));
        }
        Ok(claim)
    }

    /// Signs the request again as the claim says (its signed headers only, at its time, with the
    /// secret of its access key id) and checks the claimed signature: SigV4's is compared in
    /// constant time; SigV4a's (randomized by most signers) is verified with the public key of
    /// the credentials against the string to sign.
    #[allow(clippy::too_many_arguments)]
    fn sign_again<S: AsRef<str>>(
        &mut self,
        request: &Request<'_>,
        again: &Again<'_>,
        claim: &Claim<'_>,
        payload: Payload<'_>,
        settings: Settings<'_>,
        location: Location,
        secret_for: impl FnOnce(&str) -> Option<S>,
    ) -> Result<bool, Rejection> {
        let secret = secret_for(claim.access_key_id)
            .ok_or_else(|| Rejection::UnknownAccessKey(claim.access_key_id.into()))?;
        let names = claim.names.as_slice();
        // The first signed header the request lacks, in the claim's order (looked for only once
        // the request is refused: the signed headers signed again tell it otherwise).
        let missing = || {
            names.iter().copied().find(|name| {
                let present = *name == "host" && again.has_host
                    || request
                        .headers
                        .iter()
                        .any(|(n, _)| n.eq_ignore_ascii_case(name));
                !present
            })
        };
        let missing_header = |name: Option<&str>| match name {
            Some(name) => Rejection::SignedHeaderMissing(String::from(name)),
            // Signed again from the claim's names, the lists differ only by a missing header.
            None => Rejection::SignatureMismatch,
        };
        // Signed headers the signer would set from elsewhere must be in the request: the host
        // (else the URI's authority), and the payload hash of header signing.
        if !again.has_host || again.sha256_header_missing && claim.signs(Known::ContentSha256) {
            return Err(missing_header(missing()));
        }
        let token = again.token;
        let session_token = match location {
            Location::Headers if claim.signs(Known::SecurityToken) => SessionTokenMode::Signed,
            Location::Headers => SessionTokenMode::AfterSigning,
            Location::Query { .. } => settings.session_token,
        };
        let secret = secret.as_ref();
        let credentials = check_credentials(claim.access_key_id, secret, token);
        let params = Signing {
            access_key_id: claim.access_key_id,
            secret_access_key: secret,
            session_token: token,
            region: claim.region,
            service: claim.service,
            time: claim.time,
            settings: Settings {
                session_token,
                ..settings
            },
        };
        let request = Request {
            uri: again.uri.without_fragment,
            payload,
            ..*request
        };
        // A missing header is reported first, then bad credentials, then a bad header.
        let prepared = match self.prepare(&request, &again.uri, &params, location, Some(names)) {
            Ok(prepared) => prepared,
            Err(error) => {
                return Err(match missing() {
                    Some(name) => missing_header(Some(name)),
                    None => Rejection::Invalid(credentials.err().unwrap_or(error)),
                });
            }
        };
        if prepared.signed_headers != claim.signed_headers {
            return Err(missing_header(missing()));
        }
        credentials.map_err(Rejection::Invalid)?;
        Ok(prepared.verifies(claim.signature))
    }
}

/// [`Credentials::check`], its common case (every byte allowed) tested first without early exit,
/// so that it vectorizes: the byte loop took 580 more of a verification's instructions with a
/// session token of 95 bytes (callgrind, DynamoDB POST).
fn check_credentials(id: &str, secret: &str, token: Option<&str>) -> Result<(), Error> {
    let graphic = |text: &str, but: u8| {
        let ok = text
            .bytes()
            .fold(true, |ok, b| ok & b.is_ascii_graphic() & (b != but));
        ok && !text.is_empty()
    };
    // A space is not graphic: no token byte is refused for being one.
    if graphic(id, b'/') && !secret.is_empty() && token.is_none_or(|token| graphic(token, b' ')) {
        return Ok(());
    }
    Credentials::check(id, secret, token)
}

/// The parts of a header-signed request's claim: its `Authorization` fields (each once) and
/// its `X-Amz-Date`, the headers the signer sets once checked to be there once.
fn header_claim<'a>(
    read: &ReadHeaders<'a>,
    authorization: &'a str,
) -> Result<(Scope<'a>, &'a str, &'a str, &'a str), Rejection> {
    let (algorithm, fields) =
        split_at_byte(authorization, b' ').ok_or(Rejection::Malformed("Authorization"))?;
    let algorithm = algorithm_named(algorithm)?;
    let (mut credential, mut signed_headers, mut signature) = (None, None, None);
    for field in split_ascii(fields, b',') {
        let field = field.trim_ascii();
        let slot = if let Some(value) = field.strip_prefix("Credential=") {
            (&mut credential, value)
        } else if let Some(value) = field.strip_prefix("SignedHeaders=") {
            (&mut signed_headers, value)
        } else if let Some(value) = field.strip_prefix("Signature=") {
            (&mut signature, value)
        } else {
            return Err(Rejection::Malformed("Authorization"));
        };
        if slot.0.replace(slot.1).is_some() {
            return Err(Rejection::Malformed("Authorization"));
        }
    }
    let (Some(credential), Some(signed_headers), Some(signature)) =
        (credential, signed_headers, signature)
    else {
        return Err(Rejection::Malformed("Authorization"));
    };
    // The signer sets these once; a repeated one would be signed as another value.
    for (header, part) in [
        (&read.date, "X-Amz-Date"),
        (&read.token, "X-Amz-Security-Token"),
        (&read.content_sha256, "X-Amz-Content-Sha256"),
        (&read.region_set, "X-Amz-Region-Set"),
    ] {
        if header.count > 1 {
            return Err(Rejection::Malformed(part));
        }
    }
    let amz_date = read.date.first.ok_or(Rejection::Malformed("X-Amz-Date"))?;
    let scope = Scope {
        algorithm,
        credential,
        separator: "/",
        region_set: read.region_set.first,
    };
    Ok((scope, signed_headers, signature, amz_date))
}

/// What a header-signed request claims, read without its secret: who signed it, for which
/// scope, which headers, when. Only its form is checked (as the verifier checks it): a service
/// that hands the request on to the party that holds the secret (STS, for a proof of identity)
/// checks the claim first.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Claimed<'a> {
    /// SigV4 or SigV4a, as the `Authorization` header names it.
    pub algorithm: Algorithm,
    /// The credential's access key id.
    pub access_key_id: &'a str,
    /// The credential scope's date, `YYYYMMDD`.
    pub date: &'a str,
    /// SigV4's region, or SigV4a's region set (`X-Amz-Region-Set`).
    pub region: &'a str,
    /// The credential scope's service.
    pub service: &'a str,
    /// `name;name;...`: lowercase, sorted, each once.
    pub signed_headers: &'a str,
    /// `X-Amz-Date`.
    pub time: Timestamp,
    /// The claimed signature, lowercase hex (SigV4a: of a DER signature).
    pub signature: &'a str,
}

impl Claimed<'_> {
    /// Whether the header `name` (any case) is among the signed.
    pub fn signs(&self, name: &str) -> bool {
        split_ascii(self.signed_headers, b';').any(|signed| signed.eq_ignore_ascii_case(name))
    }
}

/// Reads the claim of a request signed in its `Authorization` header (see [`Claimed`]); a
/// presigned or unsigned request is refused as the verifier refuses it.
pub fn inspect<'r>(request: &Request<'r>) -> Result<Claimed<'r>, Rejection> {
    let read = ReadHeaders::of(request.headers);
    let authorization = match read.authorization.count {
        0 => return Err(Rejection::NotSigned),
        1 => read.authorization.first.unwrap_or_default(),
        _ => return Err(Rejection::Malformed("Authorization")),
    };
    let (scope, signed_headers, signature, amz_date) = header_claim(&read, authorization)?;
    let claim = claim(scope, signed_headers, signature, amz_date, None)?;
    if claim.time.amz_date() != amz_date.as_bytes() {
        return Err(Rejection::Malformed("X-Amz-Date"));
    }
    Ok(Claimed {
        algorithm: claim.algorithm,
        access_key_id: claim.access_key_id,
        date: claim.date,
        region: claim.region,
        service: claim.service,
        signed_headers: claim.signed_headers,
        time: claim.time,
        signature: claim.signature,
    })
}

/// The service's rules: the caller's, else those of the scope's service.
fn rules<'a>(params: &VerifyParams<'a>, claim: &'a Claim<'_>) -> Settings<'a> {
    let rules = params
        .settings
        .unwrap_or_else(|| Settings::for_service(claim.service));
    Settings {
        algorithm: claim.algorithm,
        excluded_headers: &[],
        forced_headers: &[],
        ..rules
    }
}

/// The algorithm an `Authorization` header or `X-Amz-Algorithm` names.
fn algorithm_named(name: &str) -> Result<Algorithm, Rejection> {
    match name {
        ALGORITHM => Ok(Algorithm::SigV4),
        ALGORITHM_V4A => Ok(Algorithm::SigV4a),
        _ => Err(Rejection::UnsupportedAlgorithm),
    }
}

/// What a request says its credential scope is: the algorithm, the `Credential` value, and
/// SigV4a's region set (`X-Amz-Region-Set`).
struct Scope<'a> {
    algorithm: Algorithm,
    credential: &'a str,
    /// What separates the credential's parts: `/`, or `%2F` in a presigned URL's as sent.
    separator: &'static str,
    region_set: Option<&'a str>,
}

/// The URI to sign again and what the verifier read of the request already.
struct Again<'a> {
    /// The URI without the presigning parameters (header signing: the request's).
    uri: Uri<'a>,
    /// Whether the request has a `Host` header or its URI an authority.
    has_host: bool,
    /// Whether the request lacks `x-amz-content-sha256` where header signing would add it.
    sha256_header_missing: bool,
    /// The session token the request carries (a header, or a parameter of a presigned URL).
    token: Option<&'a str>,
}

/// How many times a header or parameter is in the request, and its first value.
#[derive(Clone, Copy, Default)]
struct Named<'a> {
    count: usize,
    first: Option<&'a str>,
}

impl<'a> Named<'a> {
    fn add(&mut self, value: &'a str) {
        self.count += 1;
        self.first.get_or_insert(value);
    }
}

/// The headers the verifier reads (names in any case, values trimmed), found in one pass over
/// the request's headers.
#[derive(Default)]
struct ReadHeaders<'a> {
    authorization: Named<'a>,
    host: Named<'a>,
    date: Named<'a>,
    token: Named<'a>,
    content_sha256: Named<'a>,
    region_set: Named<'a>,
}

impl<'a> ReadHeaders<'a> {
    fn of(headers: &[(&str, &'a str)]) -> Self {
        let mut read = ReadHeaders::default();
        for (name, value) in headers {
            // By length first: one comparison a header.
            let (slot, known) = match name.len() {
                4 => (&mut read.host, "host"),
                10 => (&mut read.date, X_AMZ_DATE),
                13 => (&mut read.authorization, "authorization"),
                16 => (&mut read.region_set, X_AMZ_REGION_SET),
                20 if name.as_bytes()[6].eq_ignore_ascii_case(&b's') => {
                    (&mut read.token, X_AMZ_SECURITY_TOKEN)
                }
                20 => (&mut read.content_sha256, X_AMZ_CONTENT_SHA256),
                _ => continue,
            };
            if same_name(name, known) {
                slot.add(trim_ows(value));
            }
        }
        read
    }
}

/// The presigning parameters the signer appends, in `[algorithm, credential, date, expires,
/// signed headers, signature, region set]` order ([`presign_param`] gives each one's index).
const PRESIGN_PARAMS: [&str; 7] = [
    "X-Amz-Algorithm",
    "X-Amz-Credential",
    "X-Amz-Date",
    "X-Amz-Expires",
    "X-Amz-SignedHeaders",
    "X-Amz-Signature",
    "X-Amz-Region-Set",
];

/// Room for the signed header names of most requests, allocated once without counting them.
const NAMES_CAPACITY: usize = 16;

/// `Credential=AKID/DATE/REGION/SERVICE/aws4_request` (SigV4a: `AKID/DATE/SERVICE/aws4_request`
/// and the region set), the signed headers, the signature and `X-Amz-Date`, checked for form.
///
/// `X-Amz-Date` is parsed unless it is the text of `last` (the last time the signer formatted):
/// parsing it took 300 of a verification's 25,000 instructions (callgrind, S3 GET).
fn claim<'a>(
    scope: Scope<'a>,
    signed_headers: &'a str,
    signature: &'a str,
    amz_date: &'a str,
    last: Option<(Timestamp, [u8; 16])>,
) -> Result<Claim<'a>, Rejection> {
    let v4a = scope.algorithm == Algorithm::SigV4a;
    let Some(scope_parts) = scope
        .credential
        .strip_suffix("aws4_request")
        .and_then(|rest| rest.strip_suffix(scope.separator))
    else {
        return Err(Rejection::Malformed("Credential"));
    };
    // The parts are read from the end, and the access key id is the rest (it may hold a `/`, as
    // `rsplitn` would keep it): the offsets of the last three separators, found eight bytes a
    // step (reading the parts from the end a byte at a time took 70-90 more of a
    // verification's instructions, callgrind, S3 GET and DynamoDB POST).
    let (bytes, sep) = (scope_parts.as_bytes(), scope.separator.as_bytes());
    let (mut seps, mut count, mut from) = ([0; 3], 0, 0);
    while let Some(at) = find_byte(&bytes[from..], sep[0]).map(|at| from + at) {
        from = at + 1;
        // `/`, or the `2F` after a `%` (compared as a constant: comparing `sep` a byte at a time
        // took 140 more of a verification's instructions, callgrind, S3 presign; 110 S3 GET).
        if sep.len() == 1 || bytes.get(at + 1..at + 3) == Some(b"2F") {
            seps = [seps[1], seps[2], at];
            count += 1;
            from = at + sep.len();
        }
    }
    let region_set = match (v4a, scope.region_set) {
        (true, None) => return Err(Rejection::Malformed("X-Amz-Region-Set")),
        (_, region_set) => region_set,
    };
    if count < if v4a { 2 } else { 3 } {
        return Err(Rejection::Malformed("Credential"));
    }
    let part = |start: usize, end: usize| scope_parts.get(start..end).unwrap_or_default();
    let after = |at: usize| at + sep.len();
    let service = part(after(seps[2]), bytes.len());
    let (id, date, region) = match region_set {
        Some(region_set) if v4a => (part(0, seps[1]), part(after(seps[1]), seps[2]), region_set),
        _ => (
            part(0, seps[0]),
            part(after(seps[0]), seps[1]),
            part(after(seps[1]), seps[2]),
        ),
    };
    if id.is_empty() || date.len() != 8 || region.is_empty() || service.is_empty() {
        return Err(Rejection::Malformed("Credential"));
    }
    // Visible ASCII without uppercase, tested without early exit (so that it vectorizes);
    // then one pass over the names: none empty, and their order (reported after the
    // signature's).
    let mut well_formed = signed_headers
        .bytes()
        .fold(!signed_headers.is_empty(), |ok, b| {
            ok & b.is_ascii_graphic() & !b.is_ascii_uppercase()
        });
    let mut names = Vec::with_capacity(NAMES_CAPACITY);
    let mut known = 0;
    // Names in canonical order, each once: the signer signs them so, and any other list would
    // verify for a request that was not signed as presented.
    let mut sorted = true;
    for name in split_ascii(signed_headers, b';') {
        well_formed &= !name.is_empty();
        sorted &= names.last().is_none_or(|last| *last < name);
        known |= Known::bit(name);
        names.push(name);
    }
    if !well_formed {
        return Err(Rejection::Malformed("SignedHeaders"));
    }
    // SigV4: 64 hex digits; SigV4a: the hex of a DER signature (at most 72 bytes).
    let length_ok = match scope.algorithm {
        Algorithm::SigV4 => signature.len() == 64,
        Algorithm::SigV4a => {
            signature.len().is_multiple_of(2) && (16..=144).contains(&signature.len())
        }
    };
    let lowercase_hex = signature.bytes().fold(true, |ok, b| {
        ok & (b.wrapping_sub(b'0') < 10 || b.wrapping_sub(b'a') < 6)
    });
    if !length_ok || !lowercase_hex {
        return Err(Rejection::Malformed("Signature"));
    }
    if !sorted {
        return Err(Rejection::Malformed("SignedHeaders"));
    }
    let time = match last {
        Some((time, text)) if text == amz_date.as_bytes() => time,
        _ => Timestamp::parse_amz_date(amz_date).map_err(|_| Rejection::Malformed("X-Amz-Date"))?,
    };
    Ok(Claim {
        algorithm: scope.algorithm,
        access_key_id: id,
        date,
        region,
        service,
        names,
        signed_headers,
        known,
        signature,
        time,
        amz_date,
    })
}

/// The payload a claimed `x-amz-content-sha256` (header or parameter) names, checked against the
/// body the caller gave, and whether that body is covered by the signature.
fn claimed_payload<'a>(
    claimed: &'a str,
    body: Payload<'_>,
) -> Result<(Payload<'a>, bool), Rejection> {
    if claimed == UNSIGNED_PAYLOAD {
        return Ok((Payload::Unsigned, false));
    }
    if claimed.starts_with("STREAMING-") {
        return Err(Rejection::UnsupportedPayload);
    }
    let actual = match body {
        Payload::Bytes(_) | Payload::Sha256Hex(_) => Some(body.hash().map_err(Rejection::Invalid)?),
        Payload::Unsigned => None,
    };
    // Compared as sent first: most signers write lowercase hex.
    if let Some(actual) = &actual
        && actual.as_str() != claimed
        && !actual.as_str().eq_ignore_ascii_case(claimed)
    {
        return Err(Rejection::ContentSha256Mismatch);
    }
    // An empty body signs as the hash the signer has at hand: checking and lowercasing the claim
    // again took 74 more of a verification's instructions (callgrind, S3 GET).
    let payload = match body {
        Payload::Bytes([]) => Payload::Bytes(&[]),
        _ => Payload::Sha256Hex(claimed),
    };
    Ok((payload, actual.is_some()))
}

/// Whether a header name is `lower` (lowercase) in any case, compared as sent first: signers
/// and HTTP/2 send names lowercase, and a byte-at-a-time comparison in any case took 330 more
/// of a verification's instructions over the S3 GET's headers (callgrind).
fn same_name(name: &str, lower: &str) -> bool {
    name == lower || name.eq_ignore_ascii_case(lower)
}

/// Whether a `Host` header names the URI's host (`uri_host`, without a default port): the same
/// name, any case, with or without the scheme's default port.
fn same_host(header: &str, uri_host: &str, scheme: Option<&str>) -> bool {
    let default_port = match scheme {
        Some(s) if s.eq_ignore_ascii_case("https") => ":443",
        Some(s) if s.eq_ignore_ascii_case("http") => ":80",
        _ => "",
    };
    let header = match default_port {
        "" => header,
        port => header.strip_suffix(port).unwrap_or(header),
    };
    header.eq_ignore_ascii_case(uri_host)
}

/// Whether the query has an `X-Amz-Algorithm` parameter: a presigned URL.
fn is_presigned(query: &str) -> bool {
    // A byte loop from one `&` to the next (`split` by a predicate took 427 instructions a call
    // on the S3 GET's three parameters, callgrind).
    let mut rest = query.as_bytes();
    loop {
        if let Some(after) = rest.strip_prefix(b"X-Amz-Algorithm")
            && matches!(after.first(), None | Some(b'=' | b'&'))
        {
            return true;
        }
        match find_byte(rest, b'&') {
            Some(at) => rest = &rest[at + 1..],
            None => return false,
        }
    }
}

/// The query's `name[=value]` pairs, as sent.
fn query_pairs(query: &str) -> impl Iterator<Item = (&str, Option<&str>)> {
    split_ascii(query, b'&')
        .filter(|p| !p.is_empty())
        .map(|p| match split_at_byte(p, b'=') {
            Some((name, value)) => (name, Some(value)),
            None => (p, None),
        })
}

/// The index of a presigning parameter in [`PRESIGN_PARAMS`]: one comparison (a search of the
/// list took seven a parameter).
fn presign_param(name: &str) -> Option<usize> {
    Some(match name {
        "X-Amz-Algorithm" => 0,
        "X-Amz-Credential" => 1,
        "X-Amz-Date" => 2,
        "X-Amz-Expires" => 3,
        "X-Amz-SignedHeaders" => 4,
        "X-Amz-Signature" => 5,
        "X-Amz-Region-Set" => 6,
        _ => return None,
    })
}

/// A presigned URL's `X-Amz-Credential` and the separator of its parts: as sent where its only
/// escapes are the `%2F`s between its five parts (SigV4a: four), as signers write it; else
/// decoded, its parts between `/`s (decoding it took 930 of a verification's instructions,
/// callgrind, S3 presign; the six parameters' search for escapes took 690 as a byte loop,
/// 370 eight bytes a step with [`find_any`]).
fn credential_parts(value: &str, algorithm: Algorithm) -> (Cow<'_, str>, &'static str) {
    let parts = match algorithm {
        Algorithm::SigV4 => 5,
        Algorithm::SigV4a => 4,
    };
    let mut rest = value.as_bytes();
    let mut separators = 0;
    while let Some(at) = find_any(rest, [b'%', b'+', b'/']) {
        if !rest[at..].starts_with(b"%2F") {
            return (decoded(value), "/");
        }
        separators += 1;
        rest = &rest[at + 3..];
    }
    match separators + 1 {
        1 => (Cow::Borrowed(value), "/"),
        n if n == parts => (Cow::Borrowed(value), "%2F"),
        // An access key id with a `/`, or too few parts for either reading.
        _ => (decoded(value), "/"),
    }
}

/// `part`, a slice of `whole`'s text, borrowed from the request where `whole` is, else copied.
fn part_of<'r>(part: &str, whole: &Cow<'r, str>) -> Cow<'r, str> {
    if let Cow::Borrowed(text) = whole {
        let start = (part.as_ptr() as usize).wrapping_sub(text.as_ptr() as usize);
        if let Some(within) = start
            .checked_add(part.len())
            .and_then(|end| text.get(start..end))
        {
            return Cow::Borrowed(within);
        }
    }
    Cow::Owned(part.into())
}

/// A query value percent-decoded (`+` is a space), as text: borrowed when there is nothing to
/// decode, as in most presigning parameters.
fn decoded(value: &str) -> Cow<'_, str> {
    if find_any(value.as_bytes(), [b'%', b'+']).is_none() {
        return Cow::Borrowed(value);
    }
    // Decoding never lengthens: one allocation (five, growing, for a credential).
    let mut out = Vec::with_capacity(value.len());
    decode_into(&mut out, value.as_bytes(), true);
    Cow::Owned(String::from_utf8(out).unwrap_or_default())
}

/// `value` without the spaces and tabs around it, in a byte loop as the rest of the parsing.
fn trim_ows(value: &str) -> &str {
    let ows = |b: &u8| *b == b' ' || *b == b'\t';
    let bytes = value.as_bytes();
    let start = bytes.iter().position(|b| !ows(b)).unwrap_or(bytes.len());
    let end = bytes
        .iter()
        .rposition(|b| !ows(b))
        .map_or(start, |last| last + 1);
    value.get(start..end).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::SigningParams;
    use alloc::format;
    use alloc::string::ToString;

    type Headers = Vec<(String, String)>;

    const SECRET: &str = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
    const T: u64 = 1_440_938_160; // 2015-08-30T12:36:00Z

    fn credentials(token: Option<&str>) -> Credentials {
        Credentials::new("AKIDEXAMPLE", SECRET, token).unwrap()
    }

    /// A request signed at `T`, as (uri, headers) with the signer's headers set.
    fn signed(
        uri: &str,
        headers: &[(&str, &str)],
        body: &[u8],
        service: &str,
        token: Option<&str>,
        location: Location,
    ) -> (String, Vec<(String, String)>) {
        let credentials = credentials(token);
        let params = SigningParams {
            credentials: &credentials,
            region: "us-east-1",
            service,
            time: Timestamp::from_unix_seconds(T).unwrap(),
            settings: Settings::for_service(service),
        };
        let request = Request {
            method: "GET",
            uri,
            headers,
            payload: Payload::Bytes(body),
        };
        let out = Signer::new().sign(&request, &params, location).unwrap();
        let mut all: Vec<(String, String)> = headers
            .iter()
            .map(|(n, v)| (n.to_string(), v.to_string()))
            .collect();
        all.extend(out.headers().map(|(n, v)| (n.to_string(), v.to_string())));
        (out.url().map_or(uri.to_string(), String::from), all)
    }

    fn check(
        uri: &str,
        headers: &[(String, String)],
        body: &[u8],
        now: u64,
        expect: (Option<&str>, Option<&str>),
    ) -> Result<Verified<'static>, Rejection> {
        let borrowed: Vec<(&str, &str)> = headers
            .iter()
            .map(|(n, v)| (n.as_str(), v.as_str()))
            .collect();
        let request = Request {
            method: "GET",
            uri,
            headers: &borrowed,
            payload: Payload::Bytes(body),
        };
        let params = VerifyParams {
            region: expect.0,
            service: expect.1,
            ..VerifyParams::new(Timestamp::from_unix_seconds(now).unwrap())
        };
        Signer::new()
            .verify(&request, &params, |id| {
                (id == "AKIDEXAMPLE").then_some(SECRET)
            })
            .map(Verified::into_owned)
    }

    /// A request signed with SigV4a at `T` for `region_set`, as (uri, headers).
    fn signed_v4a(region_set: &str, token: Option<&str>, location: Location) -> (String, Headers) {
        let credentials = credentials(token);
        let params = SigningParams {
            credentials: &credentials,
            region: region_set,
            service: "s3",
            time: Timestamp::from_unix_seconds(T).unwrap(),
            settings: Settings {
                algorithm: Algorithm::SigV4a,
                ..Settings::for_service("s3")
            },
        };
        let uri = "https://mrap.accesspoint.s3-global.amazonaws.com/key?a=1";
        let request = Request {
            method: "GET",
            uri,
            headers: &[],
            payload: Payload::Bytes(b""),
        };
        let out = Signer::new().sign(&request, &params, location).unwrap();
        let headers = out
            .headers()
            .map(|(n, v)| (n.to_string(), v.to_string()))
            .collect();
        (out.url().map_or(uri.to_string(), String::from), headers)
    }

    #[test]
    fn sigv4a_header_and_presigned_requests_verify_with_the_derived_public_key() {
        let presign = Location::Query { expires_in: 300 };
        for location in [Location::Headers, presign] {
            for token in [None, Some("TOKEN")] {
                let (uri, headers) = signed_v4a("us-east-1,eu-west-1", token, location);
                let who = check(&uri, &headers, b"", T, (Some("eu-west-1"), Some("s3")))
                    .unwrap_or_else(|r| panic!("{location:?} {token:?}: {r}"));
                assert_eq!(who.region, "us-east-1,eu-west-1");
                assert_eq!(who.session_token.as_deref(), token);
                // A region outside the set, a changed signature, a removed region set.
                assert_eq!(
                    check(&uri, &headers, b"", T, (Some("ap-south-1"), None)),
                    Err(Rejection::WrongRegion("us-east-1,eu-west-1".into()))
                );
                let flip = |text: &str| {
                    let at = text.find("Signature=").unwrap() + 20;
                    let mut bytes = text.as_bytes().to_vec();
                    bytes[at] = if bytes[at] == b'0' { b'1' } else { b'0' };
                    String::from_utf8(bytes).unwrap()
                };
                let (bad_uri, bad_headers) = match location {
                    Location::Headers => {
                        let mut h = headers.clone();
                        let auth = h.iter_mut().find(|(n, _)| n == "authorization").unwrap();
                        auth.1 = flip(&auth.1);
                        (uri.clone(), h)
                    }
                    Location::Query { .. } => (flip(&uri), headers.clone()),
                };
                assert_eq!(
                    check(&bad_uri, &bad_headers, b"", T, (None, None)),
                    Err(Rejection::SignatureMismatch),
                    "{location:?}"
                );
                let (no_set_uri, no_set_headers) = match location {
                    Location::Headers => (
                        uri.clone(),
                        headers
                            .iter()
                            .filter(|(n, _)| n != "x-amz-region-set")
                            .cloned()
                            .collect(),
                    ),
                    Location::Query { .. } => (
                        uri.replace("X-Amz-Region-Set=us-east-1%2Ceu-west-1&", ""),
                        headers.clone(),
                    ),
                };
                assert!(no_set_uri != uri || no_set_headers != headers);
                assert_eq!(
                    check(&no_set_uri, &no_set_headers, b"", T, (None, None)),
                    Err(Rejection::Malformed("X-Amz-Region-Set")),
                    "{location:?}"
                );
            }
        }
        // Any region is covered by `*`, a region of its prefix by `eu-*`.
        let (uri, headers) = signed_v4a("*", None, Location::Headers);
        assert!(check(&uri, &headers, b"", T, (Some("ap-south-1"), None)).is_ok());
        let (uri, headers) = signed_v4a("us-east-1,eu-*", None, Location::Headers);
        assert!(check(&uri, &headers, b"", T, (Some("eu-west-3"), None)).is_ok());
        assert!(check(&uri, &headers, b"", T, (Some("us-east-1"), None)).is_ok());
        assert_eq!(
            check(&uri, &headers, b"", T, (Some("us-east-2"), None)),
            Err(Rejection::WrongRegion("us-east-1,eu-*".into()))
        );
    }

    #[test]
    fn a_scope_of_the_other_algorithm_is_malformed_and_the_callers_algorithm_is_not_used() {
        let (uri, headers) = signed_v4a("us-east-1", None, Location::Headers);
        let relabel = |from: &str, to: &str| -> Headers {
            headers
                .iter()
                .map(|(n, v)| (n.clone(), v.replace(from, to)))
                .collect()
        };
        // A SigV4 scope (with a region) under the SigV4a name, and the reverse.
        let v4_scope = relabel("/20150830/s3/", "/20150830/us-east-1/s3/");
        assert_eq!(
            check(&uri, &v4_scope, b"", T, (None, None)),
            Err(Rejection::Malformed("Credential"))
        );
        let v4_name = relabel("AWS4-ECDSA-P256-SHA256", "AWS4-HMAC-SHA256");
        assert_eq!(
            check(&uri, &v4_name, b"", T, (None, None)),
            Err(Rejection::Malformed("Credential"))
        );
        // A region set added to a SigV4 presigned URL would ride along unsigned.
        let presign = Location::Query { expires_in: 300 };
        let (url, headers) = signed(
            "https://example.amazonaws.com/?a=1",
            &[],
            b"",
            "service",
            None,
            presign,
        );
        assert!(check(&url, &headers, b"", T, (None, None)).is_ok());
        assert_eq!(
            check(
                &format!("{url}&X-Amz-Region-Set=us-east-1"),
                &headers,
                b"",
                T,
                (None, None)
            ),
            Err(Rejection::Malformed("X-Amz-Region-Set"))
        );
        // A SigV4 request verifies whatever algorithm the caller's settings name.
        let (uri, headers) = signed(
            "https://example.amazonaws.com/",
            &[],
            b"",
            "service",
            None,
            Location::Headers,
        );
        let borrowed: Vec<(&str, &str)> = headers
            .iter()
            .map(|(n, v)| (n.as_str(), v.as_str()))
            .collect();
        let request = Request {
            method: "GET",
            uri: &uri,
            headers: &borrowed,
            payload: Payload::Bytes(b""),
        };
        let params = VerifyParams {
            settings: Some(Settings {
                algorithm: Algorithm::SigV4a,
                ..Settings::default()
            }),
            ..VerifyParams::new(Timestamp::from_unix_seconds(T).unwrap())
        };
        assert!(
            Signer::new()
                .verify(&request, &params, |_| Some(SECRET))
                .is_ok()
        );
    }

    #[test]
    fn a_payload_name_given_as_the_body_hash_is_not_a_hash() {
        // Payload::Sha256Hex takes the streaming names for the signer (aws-chunked seeds); given
        // to the verifier as the body's hash, the request would verify with the body unchecked.
        let streaming = "STREAMING-UNSIGNED-PAYLOAD-TRAILER";
        let (uri, headers) = signed(
            "https://example.amazonaws.com/",
            &[],
            b"",
            "service",
            None,
            Location::Headers,
        );
        let borrowed: Vec<(&str, &str)> = headers
            .iter()
            .map(|(n, v)| (n.as_str(), v.as_str()))
            .collect();
        let request = Request {
            method: "GET",
            uri: &uri,
            headers: &borrowed,
            payload: Payload::Sha256Hex(streaming),
        };
        let params = VerifyParams::new(Timestamp::from_unix_seconds(T).unwrap());
        assert_eq!(
            Signer::new().verify(&request, &params, |_| Some(SECRET)),
            Err(Rejection::Invalid(Error::InvalidPayloadHash))
        );
    }

    #[test]
    fn presigning_parameters_are_found_at_their_index() {
        for (i, name) in PRESIGN_PARAMS.iter().enumerate() {
            assert_eq!(presign_param(name), Some(i), "{name}");
        }
        assert_eq!(presign_param("X-Amz-Security-Token"), None);
        assert_eq!(presign_param("x-amz-date"), None);
    }

    #[test]
    fn what_the_signer_signs_verifies() {
        let presign = Location::Query { expires_in: 300 };
        for service in ["service", "s3"] {
            for token in [None, Some("TOKEN/+=")] {
                for location in [Location::Headers, presign] {
                    let (uri, headers) = signed(
                        "https://example.amazonaws.com/a%20b/c?x=1&y=%2F",
                        &[("Content-Type", "text/plain"), ("User-Agent", "test")],
                        b"body",
                        service,
                        token,
                        location,
                    );
                    let verified = check(
                        &uri,
                        &headers,
                        b"body",
                        T + 5,
                        (Some("us-east-1"), Some(service)),
                    )
                    .unwrap_or_else(|e| panic!("{service} {token:?} {location:?}: {e}"));
                    assert_eq!(verified.access_key_id, "AKIDEXAMPLE");
                    assert_eq!(verified.service, service);
                    assert_eq!(verified.time.unix_seconds(), T);
                }
            }
        }
    }

    #[test]
    fn a_header_claim_reads_as_the_signer_wrote_it_and_no_other_is_read() {
        let (uri, headers) = signed(
            "https://sts.us-east-1.amazonaws.com/",
            &[("X-Audience", "intake")],
            b"Action=GetCallerIdentity&Version=2011-06-15",
            "sts",
            Some("TOKEN"),
            Location::Headers,
        );
        let inspect_with = |headers: &[(String, String)]| {
            let refs: Vec<(&str, &str)> = headers
                .iter()
                .map(|(n, v)| (n.as_str(), v.as_str()))
                .collect();
            let request = Request {
                method: "POST",
                uri: &uri,
                headers: &refs,
                payload: Payload::Unsigned,
            };
            inspect(&request).map(|c| {
                (
                    c.algorithm,
                    c.access_key_id.to_string(),
                    c.date.to_string(),
                    c.region.to_string(),
                    c.service.to_string(),
                    c.signed_headers.to_string(),
                    c.time.unix_seconds(),
                    c.signs("X-AUDIENCE"),
                    c.signs("x-audienc"),
                    c.signature.len(),
                )
            })
        };
        assert_eq!(
            inspect_with(&headers),
            Ok((
                Algorithm::SigV4,
                "AKIDEXAMPLE".to_string(),
                "20150830".to_string(),
                "us-east-1".to_string(),
                "sts".to_string(),
                "host;x-amz-date;x-amz-security-token;x-audience".to_string(),
                T,
                true,
                false,
                64,
            ))
        );
        let without = |name: &str| -> Vec<(String, String)> {
            headers
                .iter()
                .filter(|(n, _)| !n.eq_ignore_ascii_case(name))
                .cloned()
                .collect()
        };
        assert_eq!(
            inspect_with(&without("authorization")),
            Err(Rejection::NotSigned)
        );
        assert_eq!(
            inspect_with(&without("x-amz-date")),
            Err(Rejection::Malformed("X-Amz-Date"))
        );
        let mut twice = headers.clone();
        twice.push(("Authorization".into(), "AWS4-HMAC-SHA256 x".into()));
        assert_eq!(
            inspect_with(&twice),
            Err(Rejection::Malformed("Authorization"))
        );
    }

    #[test]
    fn each_reason_comes_from_its_mutation() {
        let uri = "https://example.amazonaws.com/k?x=1";
        let (_, headers) = signed(uri, &[], b"", "s3", None, Location::Headers);
        let with = |f: &dyn Fn(&mut Headers)| {
            let mut h = headers.clone();
            f(&mut h);
            h
        };
        let set = |name: &'static str, value: String| {
            move |h: &mut Headers| {
                for (n, v) in h.iter_mut() {
                    if n == name {
                        *v = value.clone();
                    }
                }
            }
        };
        let auth = headers
            .iter()
            .find(|(n, _)| n == "authorization")
            .unwrap()
            .1
            .clone();
        let at = |n: u64| check(uri, &headers, b"", n, (None, None));
        assert!(at(T).is_ok());
        assert_eq!(
            check(uri, &[], b"", T, (None, None)),
            Err(Rejection::NotSigned)
        );
        assert_eq!(at(T + 901), Err(Rejection::OutsideSkew));
        assert_eq!(at(T - 901), Err(Rejection::OutsideSkew));
        assert!(at(T + 900).is_ok());
        let cases: Vec<(Vec<(String, String)>, Rejection)> = vec![
            (
                with(&set("authorization", "AWS4-HMAC-SHA256".into())),
                Rejection::Malformed("Authorization"),
            ),
            (
                with(&set(
                    "authorization",
                    auth.replace("AWS4-HMAC-SHA256", "AWS4-HMAC-SHA512"),
                )),
                Rejection::UnsupportedAlgorithm,
            ),
            (
                // SigV4a's name on a SigV4 request: no region set to sign for.
                with(&set(
                    "authorization",
                    auth.replace("AWS4-HMAC-SHA256", "AWS4-ECDSA-P256-SHA256"),
                )),
                Rejection::Malformed("X-Amz-Region-Set"),
            ),
            (
                with(&set(
                    "authorization",
                    auth.replace("AKIDEXAMPLE", "AKIDOTHER"),
                )),
                Rejection::UnknownAccessKey("AKIDOTHER".into()),
            ),
            (
                with(&set(
                    "authorization",
                    auth.replace("/20150830/", "/20150831/"),
                )),
                Rejection::ScopeDateMismatch,
            ),
            (
                with(&set("authorization", auth.replace("host;", ""))),
                Rejection::HostNotSigned,
            ),
            (
                with(&set("authorization", auth.replace(";x-amz-date", ""))),
                Rejection::DateNotSigned,
            ),
            (
                with(&set(
                    "authorization",
                    auth.replace(";x-amz-date,", ";x-amz-date;x-custom,"),
                )),
                Rejection::SignedHeaderMissing("x-custom".into()),
            ),
            (
                with(&set(
                    "authorization",
                    auth.replace("/aws4_request", "/aws5_request"),
                )),
                Rejection::Malformed("Credential"),
            ),
            (
                with(&set("authorization", auth[..auth.len() - 1].into())),
                Rejection::Malformed("Signature"),
            ),
            (
                with(&set("x-amz-date", "2015-08-30".into())),
                Rejection::Malformed("X-Amz-Date"),
            ),
            (
                with(&set("x-amz-content-sha256", "0".repeat(64))),
                Rejection::ContentSha256Mismatch,
            ),
            (
                with(&|h| h.push(("x-amz-date".into(), "x".into()))),
                Rejection::Malformed("X-Amz-Date"),
            ),
        ];
        for (mutated, reason) in cases {
            assert_eq!(
                check(uri, &mutated, b"", T, (None, None)),
                Err(reason.clone()),
                "{reason}"
            );
        }
        let flipped = {
            let last = if auth.ends_with('0') { "1" } else { "0" };
            format!("{}{last}", &auth[..auth.len() - 1])
        };
        assert_eq!(
            check(
                uri,
                &with(&set("authorization", flipped)),
                b"",
                T,
                (None, None)
            ),
            Err(Rejection::SignatureMismatch)
        );
        assert_eq!(
            check(uri, &headers, b"", T, (Some("eu-west-1"), None)),
            Err(Rejection::WrongRegion("us-east-1".into()))
        );
        assert_eq!(
            check(uri, &headers, b"", T, (None, Some("sts"))),
            Err(Rejection::WrongService("s3".into()))
        );
        assert_eq!(
            check(uri, &headers, b"x", T, (None, None)),
            Err(Rejection::ContentSha256Mismatch)
        );
    }

    #[test]
    fn presigned_urls_hold_between_their_time_less_the_skew_and_their_expiry() {
        let (url, headers) = signed(
            "https://b.s3.amazonaws.com/k",
            &[],
            b"",
            "s3",
            Some("TOKEN"),
            Location::Query { expires_in: 60 },
        );
        let at = |now: u64, url: &str| check(url, &headers, b"", now, (None, None));
        assert!(at(T, &url).is_ok());
        assert!(at(T + 60, &url).is_ok());
        assert_eq!(at(T + 61, &url), Err(Rejection::Expired));
        assert!(at(T - 900, &url).is_ok());
        assert_eq!(at(T - 901, &url), Err(Rejection::NotYetValid));
        assert_eq!(
            at(T, &url.replace("X-Amz-Expires=60", "X-Amz-Expires=604801")),
            Err(Rejection::ExpiresOutOfRange)
        );
        assert_eq!(
            at(T, &url.replace("X-Amz-Expires=60", "X-Amz-Expires=61")),
            Err(Rejection::SignatureMismatch)
        );
        assert_eq!(
            at(
                T,
                &url.replace("X-Amz-Security-Token=TOKEN", "X-Amz-Security-Token=OTHER")
            ),
            Err(Rejection::SignatureMismatch)
        );
        assert_eq!(
            at(T, &url.replace("X-Amz-Algorithm=AWS4-HMAC-SHA256&", "")),
            Err(Rejection::NotSigned)
        );
        assert_eq!(
            at(T, &url.replace("&X-Amz-SignedHeaders=host", "")),
            Err(Rejection::Malformed("X-Amz-SignedHeaders"))
        );
        assert_eq!(
            at(T, &url.replace("/k?", "/j?")),
            Err(Rejection::SignatureMismatch)
        );
    }

    #[test]
    fn a_presigned_credential_reads_as_decoded_and_is_borrowed_as_sent() {
        let (url, headers) = signed(
            "https://b.s3.amazonaws.com/k",
            &[],
            b"",
            "s3",
            Some("TOKEN"),
            Location::Query { expires_in: 60 },
        );
        let sent = "AKIDEXAMPLE%2F20150830%2Fus-east-1%2Fs3%2Faws4_request";
        assert!(url.contains(sent), "{url}");
        let at = |credential: &str| {
            check(
                &url.replace(sent, credential),
                &headers,
                b"",
                T,
                (None, None),
            )
        };
        for other in [
            sent,
            "AKIDEXAMPLE/20150830/us-east-1/s3/aws4_request",
            "AKIDEXAMPLE%2f20150830%2fus-east-1%2fs3%2faws4_request",
            "AKIDEXAMPLE%2F20150830/us-east-1%2Fs3%2Faws4_request",
            "%41KIDEXAMPLE%2F20150830%2Fus-east-1%2Fs3%2Faws4_request",
        ] {
            let who = at(other).unwrap_or_else(|r| panic!("{other}: {r}"));
            assert_eq!(
                (&*who.access_key_id, &*who.region, &*who.service),
                ("AKIDEXAMPLE", "us-east-1", "s3"),
                "{other}"
            );
        }
        let malformed = Err(Rejection::Malformed("Credential"));
        for (other, rejection) in [
            ("AKIDEXAMPLE%2F20150830%2Fus-east-1%2Fs3", malformed.clone()),
            (
                "AKIDEXAMPLE%2F20150830%2Fs3%2Faws4_request",
                malformed.clone(),
            ),
            (
                "%2F20150830%2Fus-east-1%2Fs3%2Faws4_request",
                malformed.clone(),
            ),
            (
                "AKIDEXAMPLE%2F2015083%2Fus-east-1%2Fs3%2Faws4_request",
                malformed,
            ),
            // An access key id with a `/` is the rest, decoded.
            (
                "AKID%2FEXAMPLE%2F20150830%2Fus-east-1%2Fs3%2Faws4_request",
                Err(Rejection::UnknownAccessKey("AKID/EXAMPLE".into())),
            ),
            (
                "AKID+EXAMPLE%2F20150830%2Fus-east-1%2Fs3%2Faws4_request",
                Err(Rejection::UnknownAccessKey("AKID EXAMPLE".into())),
            ),
        ] {
            assert_eq!(at(other), rejection, "{other}");
        }
        // What verifies borrows from the request: nothing in it was decoded.
        let request = Request {
            method: "GET",
            uri: &url,
            headers: &[],
            payload: Payload::Bytes(b""),
        };
        let params = VerifyParams::new(Timestamp::from_unix_seconds(T).unwrap());
        let who = Signer::new()
            .verify(&request, &params, |_| Some(SECRET))
            .unwrap();
        for part in [&who.access_key_id, &who.region, &who.service] {
            assert!(matches!(part, Cow::Borrowed(_)), "{part}");
        }
        assert_eq!(who.session_token, Some(Cow::Borrowed("TOKEN")));
    }

    /// What a review found could verify without having been signed as presented.
    #[test]
    fn requests_not_signed_as_presented_are_refused() {
        let uri = "https://example.amazonaws.com/k";
        let (_, headers) = signed(
            uri,
            &[("x-foo", "1")],
            b"body",
            "s3",
            None,
            Location::Headers,
        );
        let auth = headers
            .iter()
            .find(|(n, _)| n == "authorization")
            .unwrap()
            .1
            .clone();
        let date = headers
            .iter()
            .find(|(n, _)| n == "x-amz-date")
            .unwrap()
            .1
            .clone();
        let verify_with = |uri: &str, headers: &[(String, String)], payload: Payload<'_>| {
            let borrowed: Vec<(&str, &str)> = headers
                .iter()
                .map(|(n, v)| (n.as_str(), v.as_str()))
                .collect();
            let request = Request {
                method: "GET",
                uri,
                headers: &borrowed,
                payload,
            };
            let params = VerifyParams::new(Timestamp::from_unix_seconds(T).unwrap());
            Signer::new()
                .verify(&request, &params, |id| {
                    (id == "AKIDEXAMPLE").then_some(SECRET)
                })
                .map(Verified::into_owned)
        };
        let replaced = |name: &str, value: &str| -> Vec<(String, String)> {
            headers
                .iter()
                .map(|(n, v)| {
                    (
                        n.clone(),
                        if n == name {
                            value.to_string()
                        } else {
                            v.clone()
                        },
                    )
                })
                .collect()
        };
        let ok = verify_with(uri, &headers, Payload::Bytes(b"body")).unwrap();
        assert!(ok.payload_verified && ok.session_token.is_none());
        // A body hash given by the caller is checked as the body is (it was ignored).
        let other = "0".repeat(64);
        assert_eq!(
            verify_with(uri, &headers, Payload::Sha256Hex(&other)),
            Err(Rejection::ContentSha256Mismatch)
        );
        let good = verify_with(uri, &headers, Payload::Unsigned).unwrap();
        assert!(!good.payload_verified);
        // SignedHeaders as presented: in order, each once.
        for list in [
            "x-foo;host;x-amz-content-sha256;x-amz-date",
            "host;host;x-amz-content-sha256;x-amz-date;x-foo",
        ] {
            let mutated = replaced(
                "authorization",
                &auth.replace("host;x-amz-content-sha256;x-amz-date;x-foo", list),
            );
            assert_eq!(
                verify_with(uri, &mutated, Payload::Bytes(b"body")),
                Err(Rejection::Malformed("SignedHeaders")),
                "{list}"
            );
        }
        // The X-Amz-Date text is the one signed (second 60 parsed as 59 before).
        let leap = format!("{}60Z", &date[..13]);
        assert_eq!(
            verify_with(uri, &replaced("x-amz-date", &leap), Payload::Bytes(b"body")),
            Err(Rejection::Malformed("X-Amz-Date"))
        );
        // Fields and headers once.
        let doubled = replaced(
            "authorization",
            &format!("{auth}, Signature={}", "0".repeat(64)),
        );
        assert_eq!(
            verify_with(uri, &doubled, Payload::Bytes(b"body")),
            Err(Rejection::Malformed("Authorization"))
        );
        let mut two = headers.clone();
        two.push(("Authorization".into(), "garbage".into()));
        assert_eq!(
            verify_with(uri, &two, Payload::Bytes(b"body")),
            Err(Rejection::Malformed("Authorization"))
        );
        assert_eq!(
            verify_with(
                &format!("{uri}?X-Amz-Algorithm=AWS4-HMAC-SHA256"),
                &headers,
                Payload::Bytes(b"body")
            ),
            Err(Rejection::Malformed("Authorization"))
        );
        // A Host header for another host than the URI routes to.
        let mut hosted = headers.clone();
        hosted.push(("Host".into(), "example.amazonaws.com:443".into()));
        assert_eq!(
            verify_with("https://evil.example/k", &hosted, Payload::Bytes(b"body")),
            Err(Rejection::HostMismatch)
        );
        // A token header the signature does not cover.
        let mut token = headers.clone();
        token.push(("x-amz-security-token".into(), "TOKEN".into()));
        assert_eq!(
            verify_with(uri, &token, Payload::Bytes(b"body")),
            Err(Rejection::TokenNotSigned)
        );
        // Streaming payloads are not checked here.
        let streaming = replaced("x-amz-content-sha256", "STREAMING-AWS4-HMAC-SHA256-PAYLOAD");
        assert_eq!(
            verify_with(uri, &streaming, Payload::Bytes(b"body")),
            Err(Rejection::UnsupportedPayload)
        );

        // Presigned: a token appended to a URL signed without one, repeated parameters, and an
        // X-Amz-Content-Sha256 that is not the body's.
        let (url, _) = signed(
            "https://b.s3.amazonaws.com/k",
            &[],
            b"",
            "s3",
            None,
            Location::Query { expires_in: 60 },
        );
        let at = |url: &str, body: &[u8]| verify_with(url, &[], Payload::Bytes(body));
        let ok = at(&url, b"").unwrap();
        assert!(
            !ok.payload_verified,
            "S3 presigned URLs sign UNSIGNED-PAYLOAD"
        );
        assert_eq!(
            at(&format!("{url}&X-Amz-Security-Token=ANY"), b""),
            Err(Rejection::SignatureMismatch)
        );
        let signature = url.rsplit_once("X-Amz-Signature=").unwrap().1;
        assert_eq!(
            at(
                &url.replace(
                    "X-Amz-Signature=",
                    &format!("X-Amz-Signature={signature}&X-Amz-Signature=")
                ),
                b""
            ),
            Err(Rejection::Malformed("X-Amz-Signature"))
        );
        assert_eq!(
            at(
                &format!("{url}&X-Amz-Security-Token=A&X-Amz-Security-Token=B"),
                b""
            ),
            Err(Rejection::Malformed("X-Amz-Security-Token"))
        );
        let hash = "230d8358dc8e8890b4c58deeb62912ee2f20357ae92a5cc861b98e68fe31acb5"; // SHA-256 of "body"
        let with_hash = format!("https://b.s3.amazonaws.com/k?X-Amz-Content-Sha256={hash}");
        let (url, _) = signed(
            &with_hash,
            &[],
            b"body",
            "s3",
            None,
            Location::Query { expires_in: 60 },
        );
        assert!(at(&url, b"body").unwrap().payload_verified);
        assert_eq!(at(&url, b"evil"), Err(Rejection::ContentSha256Mismatch));
    }

    /// Any one byte changed in a signed part of the request (method aside: the path, the query,
    /// a signed header's name or value, the body) is refused.
    #[test]
    fn any_single_byte_change_to_a_signed_part_is_rejected() {
        let uri = "https://example.amazonaws.com/path/to/k?a=1&b=two";
        let (_, headers) = signed(
            uri,
            &[("x-custom", "value")],
            b"the body",
            "service",
            None,
            Location::Headers,
        );
        let borrowed = |h: &[(String, String)]| -> Vec<(String, String)> { h.to_vec() };
        let base = borrowed(&headers);
        assert!(check(uri, &base, b"the body", T, (None, None)).is_ok());
        // The path and query.
        let start = "https://example.amazonaws.com".len();
        for i in start..uri.len() {
            let mut bytes = uri.as_bytes().to_vec();
            bytes[i] = if bytes[i] == b'x' { b'y' } else { b'x' };
            let mutated = String::from_utf8(bytes).unwrap();
            assert!(
                check(&mutated, &base, b"the body", T, (None, None)).is_err(),
                "{mutated}"
            );
        }
        // Signed header values (not the Authorization header itself).
        for (index, (name, value)) in base.iter().enumerate() {
            if name == "authorization" {
                continue;
            }
            for i in 0..value.len() {
                let mut bytes = value.as_bytes().to_vec();
                bytes[i] = if bytes[i] == b'7' { b'8' } else { b'7' };
                let mut mutated = base.clone();
                mutated[index].1 = String::from_utf8(bytes).unwrap();
                assert!(
                    check(uri, &mutated, b"the body", T, (None, None)).is_err(),
                    "{name}[{i}]"
                );
            }
        }
        // The body.
        for i in 0..8 {
            let mut body = b"the body".to_vec();
            body[i] ^= 1;
            assert!(
                check(uri, &base, &body, T, (None, None)).is_err(),
                "body[{i}]"
            );
        }
    }

    #[test]
    fn credentials_are_checked_as_credentials_check_them() {
        let texts = [
            "", "a", "AKID", "AK/ID", "a b", "x\u{7f}", "é", "TOKEN/+=", "\t",
        ];
        for id in texts {
            for secret in texts {
                for token in texts.map(Some).into_iter().chain([None]) {
                    assert_eq!(
                        check_credentials(id, secret, token),
                        Credentials::check(id, secret, token),
                        "{id:?} {secret:?} {token:?}"
                    );
                }
            }
        }
    }
}
