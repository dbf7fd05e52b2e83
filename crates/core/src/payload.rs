//! The payload hash: the last line of the canonical request.

use sha2::{Digest, Sha256};

use crate::error::Error;
use crate::hex;

/// What the signature says about the body.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Payload<'a> {
    /// The body itself, hashed here.
    Bytes(&'a [u8]),
    /// The hex SHA-256 of the body, computed by the caller (hosts hash large bodies with their
    /// platform's native SHA-256, or while streaming). Also one of S3's streaming payload names
    /// (`STREAMING-AWS4-HMAC-SHA256-PAYLOAD`, ...: [`crate::StreamingForm::as_str`]), signed as
    /// given, for the seed signature of an aws-chunked upload ([`crate::Signer::sign_chunked`]).
    Sha256Hex(&'a str),
    /// `UNSIGNED-PAYLOAD`: the body is not covered by the signature (S3 over TLS, presigned URLs).
    Unsigned,
}

/// SHA-256 of the empty string, the hash of most GET requests.
const EMPTY_SHA256: &[u8; 64] = b"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

impl Payload<'_> {
    /// The payload hash as it appears in the canonical request and `x-amz-content-sha256`.
    pub(crate) fn hash(&self) -> Result<PayloadHash, Error> {
        Ok(match self {
            Payload::Bytes([]) => PayloadHash::Sha256(*EMPTY_SHA256),
            Payload::Bytes(body) => {
                PayloadHash::Sha256(hex::encode32(&Sha256::digest(body).into()))
            }
            // No form's name has 64 characters: a hash is not looked up among them.
            Payload::Sha256Hex(text)
                if text.len() != 64
                    && let Some(form) = crate::StreamingForm::from_name(text) =>
            {
                PayloadHash::Named(form.as_str())
            }
            Payload::Sha256Hex(text) => {
                let bytes = text.as_bytes();
                // Without early exit, so that it vectorizes.
                let hex = bytes.iter().fold(true, |ok, b| ok & b.is_ascii_hexdigit());
                if bytes.len() != 64 || !hex {
                    return Err(Error::InvalidPayloadHash);
                }
                let mut lower = [0u8; 64];
                lower.copy_from_slice(bytes);
                lower.make_ascii_lowercase();
                PayloadHash::Sha256(lower)
            }
            Payload::Unsigned => PayloadHash::Unsigned,
        })
    }
}

/// A computed payload hash.
pub(crate) enum PayloadHash {
    Sha256([u8; 64]),
    Unsigned,
    /// A streaming payload name.
    Named(&'static str),
}

impl PayloadHash {
    pub(crate) fn as_str(&self) -> &str {
        match self {
            PayloadHash::Sha256(hex) => hex::as_str(hex),
            PayloadHash::Unsigned => crate::UNSIGNED_PAYLOAD,
            PayloadHash::Named(name) => name,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes() {
        assert_eq!(
            Payload::Bytes(b"").hash().unwrap().as_str(),
            hex::as_str(EMPTY_SHA256)
        );
        assert_eq!(
            Payload::Bytes(b"Param1=value1").hash().unwrap().as_str(),
            "9095672bbd1f56dfc5b65f3e153adc8731a4a654192329106275f4c7b24d0b6e"
        );
        let upper = "9095672BBD1F56DFC5B65F3E153ADC8731A4A654192329106275F4C7B24D0B6E";
        assert_eq!(
            Payload::Sha256Hex(upper).hash().unwrap().as_str(),
            "9095672bbd1f56dfc5b65f3e153adc8731a4a654192329106275f4c7b24d0b6e"
        );
        assert_eq!(
            Payload::Unsigned.hash().unwrap().as_str(),
            "UNSIGNED-PAYLOAD"
        );
        assert!(Payload::Sha256Hex("abc").hash().is_err());
        assert!(Payload::Sha256Hex(&"g".repeat(64)).hash().is_err());
    }
}
