//! How to sign: the choices that differ between services and between callers.

/// How the request path becomes the canonical URI.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "snake_case"))]
pub enum UriEncoding {
    /// The path as sent is percent-encoded once more (`%3A` becomes `%253A`): what every AWS
    /// service but S3 computes.
    #[default]
    Double,
    /// The path is used as sent; only bytes that are not valid on the wire are encoded (`%XY`
    /// stays). S3 computes this, and S3 keys signed with `Double` are rejected.
    Single,
}

/// What to do with the session token of temporary credentials.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "snake_case"))]
pub enum SessionTokenMode {
    /// `X-Amz-Security-Token` is part of the signed request (what the AWS SDKs do).
    #[default]
    Signed,
    /// The token is added after signing, outside the signature (some services, such as IoT
    /// presigned WebSocket URLs, require this).
    AfterSigning,
}

/// The signature algorithm.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "snake_case"))]
pub enum Algorithm {
    /// SigV4, `AWS4-HMAC-SHA256`: an HMAC under a key derived per day, region and service; the
    /// credential scope names the region.
    #[default]
    SigV4,
    /// SigV4a, `AWS4-ECDSA-P256-SHA256`: an ECDSA P-256 signature under a key derived from the
    /// access key id and secret alone, valid in a set of regions (multi-region endpoints such as
    /// S3 Multi-Region Access Points). The region of [`crate::SigningParams`] holds the region
    /// set (`us-east-1,us-west-2`, `*`), signed as `X-Amz-Region-Set`; the credential scope has
    /// no region (`date/service/aws4_request`).
    SigV4a,
}

impl Algorithm {
    /// The name that starts the string to sign and the `Authorization` header, and is the
    /// value of `X-Amz-Algorithm`.
    pub fn name(self) -> &'static str {
        match self {
            Algorithm::SigV4 => crate::ALGORITHM,
            Algorithm::SigV4a => crate::ALGORITHM_V4A,
        }
    }
}

/// Where the signature goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "snake_case"))]
pub enum Location {
    /// An `Authorization` header (with `X-Amz-Date` and friends).
    Headers,
    /// A presigned URL valid for `expires_in` seconds (1..=604800).
    Query {
        /// The URL lifetime, `X-Amz-Expires`.
        expires_in: u64,
    },
}

/// Signing options. [`Settings::for_service`] gives the rules a service's signing name calls for
/// (S3's for the S3 family, the standard ones for every other service); hosts start from it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Settings<'a> {
    /// SigV4 or SigV4a.
    pub algorithm: Algorithm,
    /// How the path is encoded into the canonical URI.
    pub uri_encoding: UriEncoding,
    /// Remove dot segments and repeated slashes from the path before encoding it.
    pub normalize_path: bool,
    /// Add (and sign) `x-amz-content-sha256` with the payload hash, as S3 requires.
    pub content_sha256_header: bool,
    /// Sign the session token or add it after signing.
    pub session_token: SessionTokenMode,
    /// A presigned URL signs `UNSIGNED-PAYLOAD`, whatever the payload given: whoever uses the
    /// URL sends a body unknown when signing, and S3 computes `UNSIGNED-PAYLOAD` for every
    /// presigned request (what every AWS SDK's S3 presigner signs).
    pub presigned_payload_unsigned: bool,
    /// Header names (any case) not to sign, beyond the defaults (`authorization`,
    /// `user-agent`, `x-amzn-trace-id`, `expect`, `transfer-encoding`): headers a proxy may
    /// change on the way.
    pub excluded_headers: &'a [&'a str],
    /// Header names (any case) to sign even though the defaults exclude them.
    pub forced_headers: &'a [&'a str],
}

impl Default for Settings<'_> {
    fn default() -> Self {
        Settings {
            algorithm: Algorithm::SigV4,
            uri_encoding: UriEncoding::Double,
            normalize_path: true,
            content_sha256_header: false,
            session_token: SessionTokenMode::Signed,
            presigned_payload_unsigned: false,
            excluded_headers: &[],
            forced_headers: &[],
        }
    }
}

impl Settings<'_> {
    /// S3's rules: the path as sent, no normalization (keys may contain `//` and `..`), the
    /// `x-amz-content-sha256` header, and `UNSIGNED-PAYLOAD` in presigned URLs.
    pub fn s3() -> Self {
        Settings {
            uri_encoding: UriEncoding::Single,
            normalize_path: false,
            content_sha256_header: true,
            presigned_payload_unsigned: true,
            ..Settings::default()
        }
    }

    /// The rules for a service, by its signing name: S3's for the services that address objects
    /// by key as S3 does (`s3`, `s3express`, `s3-outposts`, `s3-object-lambda`: the AWS SDKs
    /// sign them all with S3's rules), the standard ones for every other.
    pub fn for_service(service: &str) -> Self {
        if uses_s3_rules(service) {
            Settings::s3()
        } else {
            Settings::default()
        }
    }
}

/// Whether a service (signing name, any case) is signed with S3's rules.
pub fn uses_s3_rules(service: &str) -> bool {
    ["s3", "s3express", "s3-outposts", "s3-object-lambda"]
        .iter()
        .any(|s3| service.eq_ignore_ascii_case(s3))
}

/// Headers never signed unless forced: they are added or rewritten by clients and proxies after
/// signing (the `aws-sigv4` crate and botocore skip the same ones).
pub(crate) const DEFAULT_EXCLUDED_HEADERS: [&str; 5] = [
    "authorization",
    "user-agent",
    "x-amzn-trace-id",
    "expect",
    "transfer-encoding",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_s3_family_gets_s3_rules_and_every_other_service_the_standard_ones() {
        for service in ["s3", "S3", "s3express", "s3-outposts", "s3-object-lambda"] {
            assert_eq!(Settings::for_service(service), Settings::s3(), "{service}");
        }
        for service in [
            "sts",
            "s3-control-x",
            "execute-api",
            "lambda",
            "dynamodb",
            "s",
        ] {
            assert_eq!(
                Settings::for_service(service),
                Settings::default(),
                "{service}"
            );
        }
        let s3 = Settings::s3();
        assert!(s3.presigned_payload_unsigned && s3.content_sha256_header && !s3.normalize_path);
        assert_eq!(s3.uri_encoding, UriEncoding::Single);
    }
}
