//! The signing key, derived from the secret once per day, region and service, and cached.

use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;
use subtle::ConstantTimeEq;

use crate::error::{Error, Field, check_text};
use crate::prefix_state::PrefixState;
use zeroize::Zeroizing;

type HmacSha256 = Hmac<Sha256>;

/// A SigV4 signing key, kept as a keyed HMAC state so each signature costs only the hashing of
/// the string to sign. Zeroized on drop; never shown by `Debug`.
#[derive(Clone)]
pub(crate) struct SigningKey {
    mac: HmacSha256,
}

fn hmac(key: &[u8], data: &[u8]) -> Zeroizing<[u8; 32]> {
    // HMAC accepts keys of any length, so this never fails.
    let mut mac = <HmacSha256 as KeyInit>::new_from_slice(key).unwrap_or_else(|_| unreachable!());
    mac.update(data);
    Zeroizing::new(mac.finalize().into_bytes().into())
}

impl SigningKey {
    /// Derives the key:
    /// `kDate = HMAC("AWS4" + kSecret, Date)`, `kRegion = HMAC(kDate, Region)`,
    /// `kService = HMAC(kRegion, Service)`, `kSigning = HMAC(kService, "aws4_request")`.
    pub(crate) fn derive(
        secret_access_key: &str,
        date: &[u8; 8],
        region: &str,
        service: &str,
    ) -> Self {
        let mut secret = Zeroizing::new(Vec::with_capacity(4 + secret_access_key.len()));
        secret.extend_from_slice(b"AWS4");
        secret.extend_from_slice(secret_access_key.as_bytes());
        let k_date = hmac(&secret, date);
        let k_region = hmac(&*k_date, region.as_bytes());
        let k_service = hmac(&*k_region, service.as_bytes());
        let k_signing = hmac(&*k_service, b"aws4_request");
        let mac =
            <HmacSha256 as KeyInit>::new_from_slice(&*k_signing).unwrap_or_else(|_| unreachable!());
        SigningKey { mac }
    }

    /// `HMAC(kSigning, string_to_sign)`.
    pub(crate) fn sign(&self, string_to_sign: &[u8]) -> [u8; 32] {
        let mut mac = self.mac.clone();
        mac.update(string_to_sign);
        mac.finalize().into_bytes().into()
    }
}

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SigningKey(** redacted **)")
    }
}

/// Remembers the last signing key with what it was derived from: the secret, the date, the
/// region and the service. A lookup with any of them changed derives a new key, so a rotated
/// secret never signs with a stale key. The secret is compared in constant time.
#[derive(Default)]
pub(crate) struct SigningKeyCache {
    entry: Option<CachedKey>,
}

pub(crate) struct CachedKey {
    secret: Zeroizing<String>,
    date: [u8; 8],
    region: String,
    service: String,
    key: SigningKey,
    /// The keyed HMAC after the string to sign's first block (it changes once a second).
    string_to_sign: PrefixState<HmacSha256>,
}

impl CachedKey {
    /// `HMAC(kSigning, string_to_sign)`.
    pub(crate) fn sign(&mut self, string_to_sign: &[u8]) -> [u8; 32] {
        let mac = self.string_to_sign.update(&self.key.mac, string_to_sign);
        mac.finalize().into_bytes().into()
    }
}

impl SigningKeyCache {
    /// The signing key for these inputs, derived only if the cached one was for other inputs.
    /// The region and service are checked when a key is derived (a cached key's were).
    pub(crate) fn get(
        &mut self,
        secret_access_key: &str,
        date: &[u8; 8],
        region: &str,
        service: &str,
    ) -> Result<&mut CachedKey, Error> {
        let hit = self.entry.as_ref().is_some_and(|e| {
            e.date == *date
                && e.region == region
                && e.service == service
                && same_secret(&e.secret, secret_access_key)
        });
        if !hit {
            self.entry = None;
            check_scope(region, service)?;
        }
        let entry = self.entry.get_or_insert_with(|| CachedKey {
            secret: Zeroizing::new(secret_access_key.into()),
            date: *date,
            region: region.into(),
            service: service.into(),
            key: SigningKey::derive(secret_access_key, date, region, service),
            string_to_sign: PrefixState::default(),
        });
        Ok(entry)
    }
}

/// Checks a credential scope's region and service as signing does: visible ASCII without `/`
/// (they are joined with `/` into the scope), not empty. Hosts that keep a configuration use it
/// to reject a bad one before the first request.
pub fn check_scope(region: &str, service: &str) -> Result<(), Error> {
    check_text(region, Field::Region, is_scope_byte)?;
    check_service(service)
}

/// Checks the service of a credential scope (SigV4a's scope has no region).
pub(crate) fn check_service(service: &str) -> Result<(), Error> {
    check_text(service, Field::Service, is_scope_byte)
}

fn is_scope_byte(b: u8) -> bool {
    b.is_ascii_graphic() && b != b'/'
}

/// Compares secrets in constant time: an OR of XORs (no early exit), tested once at the end.
pub(crate) fn same_secret(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    let diff = a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y));
    a.len() == b.len() && bool::from(diff.ct_eq(&0))
}

impl fmt::Debug for SigningKeyCache {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SigningKeyCache")
            .field("cached", &self.entry.is_some())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hex;

    #[test]
    fn derives_the_aws_documentation_example() {
        // The worked example of the AWS General Reference ("Examples of how to derive a signing
        // key"): the signature of "hello" under the derived key.
        let key = SigningKey::derive(
            "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
            b"20120215",
            "us-east-1",
            "iam",
        );
        let k_signing = hmac(
            &hmac(
                &hmac(
                    &hmac(b"AWS4wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", b"20120215")[..],
                    b"us-east-1",
                )[..],
                b"iam",
            )[..],
            b"aws4_request",
        );
        assert_eq!(
            hex::as_str(&hex::encode32(&k_signing)),
            "f4780e2d9f65fa895f9c67b32ce1baf0b0d8a43505a000a1a9e090d414db404d"
        );
        assert_eq!(key.sign(b"hello"), *hmac(&*k_signing, b"hello"));
    }

    #[test]
    fn cache_never_serves_a_key_for_other_inputs() {
        let mut cache = SigningKeyCache::default();
        let first = cache
            .get("secret-1", b"20150830", "us-east-1", "s3")
            .unwrap()
            .sign(b"x");
        assert_eq!(
            cache
                .get("secret-1", b"20150830", "us-east-1", "s3")
                .unwrap()
                .sign(b"x"),
            first
        );
        for (secret, date, region, service) in [
            ("secret-2", b"20150830", "us-east-1", "s3"),
            ("secret-1", b"20150831", "us-east-1", "s3"),
            ("secret-1", b"20150830", "us-west-2", "s3"),
            ("secret-1", b"20150830", "us-east-1", "iam"),
        ] {
            let fresh = SigningKey::derive(secret, date, region, service).sign(b"x");
            assert_ne!(fresh, first);
            assert_eq!(
                cache.get(secret, date, region, service).unwrap().sign(b"x"),
                fresh
            );
        }
    }
}
