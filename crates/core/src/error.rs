//! Typed errors: every one names the input field at fault and never carries a secret.

use core::fmt;

/// An input of the signer, as named in errors.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[non_exhaustive]
pub enum Field {
    /// The HTTP method.
    Method,
    /// The request URI.
    Uri,
    /// The host, from the `Host` header or the URI's authority.
    Host,
    /// The name of the request header at this index.
    HeaderName(usize),
    /// The value of the request header at this index.
    HeaderValue(usize),
    /// The region of the credential scope.
    Region,
    /// The service of the credential scope.
    Service,
    /// The access key id.
    AccessKeyId,
    /// The secret access key.
    SecretAccessKey,
    /// The session token.
    SessionToken,
    /// A precomputed payload hash.
    PayloadHash,
    /// The presigned URL lifetime (`X-Amz-Expires`).
    ExpiresIn,
    /// The signing time.
    Timestamp,
}

impl fmt::Display for Field {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Field::Method => f.write_str("method"),
            Field::Uri => f.write_str("uri"),
            Field::Host => f.write_str("host"),
            Field::HeaderName(i) => write!(f, "headers[{i}].name"),
            Field::HeaderValue(i) => write!(f, "headers[{i}].value"),
            Field::Region => f.write_str("region"),
            Field::Service => f.write_str("service"),
            Field::AccessKeyId => f.write_str("access_key_id"),
            Field::SecretAccessKey => f.write_str("secret_access_key"),
            Field::SessionToken => f.write_str("session_token"),
            Field::PayloadHash => f.write_str("payload_hash"),
            Field::ExpiresIn => f.write_str("expires_in"),
            Field::Timestamp => f.write_str("timestamp"),
        }
    }
}

/// Why an input cannot be signed.
///
/// Errors name the field and, where it helps, the offending byte and its position; they never
/// include the value itself, so a secret passed in the wrong place cannot leak through an error.
#[derive(Clone, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[non_exhaustive]
pub enum Error {
    /// A required field is empty.
    Empty(Field),
    /// A field holds a byte it must not (a control character in a header value, a space in a
    /// header name, a `/` in a region, ...).
    InvalidByte {
        /// The field at fault.
        field: Field,
        /// The byte that is not allowed there.
        byte: u8,
        /// Its offset in the field.
        position: usize,
    },
    /// The URI is neither origin-form (`/path?query`) nor absolute (`https://host/path?query`).
    InvalidUri(&'static str),
    /// The request has no `Host` header and its URI has no authority to derive one from.
    MissingHost,
    /// A precomputed payload hash is not 64 hexadecimal digits.
    InvalidPayloadHash,
    /// A presigned URL lifetime outside 1..=604800 seconds.
    ExpiresInOutOfRange(u64),
    /// A timestamp that is malformed or outside the years 1970..=9999.
    InvalidTimestamp,
    /// A second `Host` header, at this index of the request's headers.
    DuplicateHost(usize),
    /// The host is not an AWS endpoint whose service and region can be read from its name (an
    /// S3-compatible store, a proxy, an IP address): the caller must give them.
    UnknownEndpoint,
    /// No SigV4a key could be derived from the credentials, or the ECDSA signer refused it:
    /// every candidate of the key derivation was out of range (each is with a probability of
    /// about 2^-32; never seen with real credentials), or a platform's signer
    /// ([`crate::EcdsaSigner`]) answered with what is not a well-formed P-256 signature.
    SigV4aKey,
}

impl Error {
    /// The field at fault.
    pub fn field(&self) -> Field {
        match self {
            Error::Empty(field) | Error::InvalidByte { field, .. } => *field,
            Error::InvalidUri(_) => Field::Uri,
            Error::MissingHost => Field::Host,
            Error::InvalidPayloadHash => Field::PayloadHash,
            Error::ExpiresInOutOfRange(_) => Field::ExpiresIn,
            Error::InvalidTimestamp => Field::Timestamp,
            Error::DuplicateHost(index) => Field::HeaderName(*index),
            Error::UnknownEndpoint => Field::Host,
            Error::SigV4aKey => Field::SecretAccessKey,
        }
    }

    /// A stable, machine-readable code for hosts that map errors to their own types.
    pub fn code(&self) -> &'static str {
        match self {
            Error::Empty(_) => "empty",
            Error::InvalidByte { .. } => "invalid_byte",
            Error::InvalidUri(_) => "invalid_uri",
            Error::MissingHost => "missing_host",
            Error::InvalidPayloadHash => "invalid_payload_hash",
            Error::ExpiresInOutOfRange(_) => "expires_in_out_of_range",
            Error::InvalidTimestamp => "invalid_timestamp",
            Error::DuplicateHost(_) => "duplicate_host",
            Error::UnknownEndpoint => "unknown_endpoint",
            Error::SigV4aKey => "sigv4a_key",
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Empty(field) => write!(f, "{field} must not be empty"),
            Error::InvalidByte {
                field,
                byte,
                position,
            } => write!(
                f,
                "{field} contains a byte that is not allowed there (0x{byte:02x} at offset {position})"
            ),
            Error::InvalidUri(reason) => write!(f, "uri is not valid: {reason}"),
            Error::MissingHost => f.write_str(
                "host is missing: give a Host header or an absolute uri (https://host/path)",
            ),
            Error::InvalidPayloadHash => {
                f.write_str("payload_hash must be 64 hexadecimal digits (a SHA-256)")
            }
            Error::ExpiresInOutOfRange(secs) => write!(
                f,
                "expires_in must be between 1 and 604800 seconds (7 days), got {secs}"
            ),
            Error::InvalidTimestamp => f.write_str(
                "timestamp must be RFC 3339 UTC (YYYY-MM-DDTHH:MM:SSZ) within the years 1970..=9999",
            ),
            Error::DuplicateHost(index) => write!(
                f,
                "headers[{index}].name: a second Host header (a request has one host)"
            ),
            Error::UnknownEndpoint => f.write_str(
                "host is not an AWS endpoint whose service and region can be inferred: give the service and region",
            ),
            Error::SigV4aKey => f.write_str(
                "secret_access_key: no SigV4a key can be derived from these credentials",
            ),
        }
    }
}

impl core::error::Error for Error {}

/// Returns the first byte of `value` for which `allowed` is false, as an [`Error::InvalidByte`].
pub(crate) fn check_bytes(
    value: &str,
    field: Field,
    allowed: impl Fn(u8) -> bool,
) -> Result<(), Error> {
    match value.bytes().position(|b| !allowed(b)) {
        None => Ok(()),
        Some(position) => Err(Error::InvalidByte {
            field,
            byte: value.as_bytes()[position],
            position,
        }),
    }
}

/// Checks a field that must be non-empty and made only of `allowed` bytes.
pub(crate) fn check_text(
    value: &str,
    field: Field,
    allowed: impl Fn(u8) -> bool,
) -> Result<(), Error> {
    if value.is_empty() {
        return Err(Error::Empty(field));
    }
    check_bytes(value, field, allowed)
}
