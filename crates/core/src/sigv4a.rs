//! SigV4a (`AWS4-ECDSA-P256-SHA256`): the ECDSA P-256 key derived from the credentials, its
//! cache, the signatures it makes, and the region set it signs for.
//!
//! The canonical request and the string to sign are SigV4's (`sign.rs`), with the algorithm's
//! name, `X-Amz-Region-Set` among the signed headers or parameters, and a credential scope
//! without region. Only the key and the signature differ, and they are here.

use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;
use core::sync::atomic::{AtomicU64, Ordering};
use hmac::{Hmac, KeyInit, Mac};
use p256::ecdsa::signature::hazmat::{PrehashSigner, PrehashVerifier};
use p256::ecdsa::{DerSignature, SigningKey, VerifyingKey};
use p256::elliptic_curve::PrimeField;
use p256::{FieldBytes, NonZeroScalar, Scalar};
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use crate::credentials::Credentials;
use crate::error::{Error, Field, check_bytes};
use crate::hex;
use crate::signing_key::same_secret;
use crate::{ALGORITHM_V4A, Signature};

/// A SigV4a signing key: a P-256 private scalar (zeroized on drop by `SigningKey`) and its
/// public point. Never shown by `Debug`.
pub(crate) struct EcdsaKey {
    key: SigningKey,
}

impl EcdsaKey {
    /// Derives the key as SigV4a specifies, with the KDF in counter mode of NIST SP 800-108
    /// (HMAC-SHA256, one 256-bit block):
    /// `candidate = HMAC("AWS4A" + secret, 0x00000001 || "AWS4-ECDSA-P256-SHA256" || 0x00 ||
    /// AccessKeyId || counter || 0x00000100)`, for `counter` = 1, 2, ... until
    /// `candidate <= n - 2` (n the order of P-256); the private key is `candidate + 1`.
    pub(crate) fn derive(access_key_id: &str, secret_access_key: &str) -> Result<Self, Error> {
        let mut input_key = Zeroizing::new(Vec::with_capacity(5 + secret_access_key.len()));
        input_key.extend_from_slice(b"AWS4A");
        input_key.extend_from_slice(secret_access_key.as_bytes());
        // HMAC accepts keys of any length, so this never fails.
        let keyed = <Hmac<Sha256> as KeyInit>::new_from_slice(&input_key)
            .unwrap_or_else(|_| unreachable!());
        for counter in 1..=u8::MAX {
            let mut mac = keyed.clone();
            mac.update(&1u32.to_be_bytes());
            mac.update(ALGORITHM_V4A.as_bytes());
            mac.update(&[0]);
            mac.update(access_key_id.as_bytes());
            mac.update(&[counter]);
            mac.update(&256u32.to_be_bytes());
            let candidate = Zeroizing::new(FieldBytes::from(mac.finalize().into_bytes()));
            // `from_repr` takes exactly the candidates below n; `candidate + 1` is zero only
            // for n - 1. Both checks are constant time.
            let private = Scalar::from_repr(*candidate)
                .and_then(|candidate| NonZeroScalar::new(candidate + Scalar::ONE));
            if let Some(private) = Option::<NonZeroScalar>::from(private) {
                let private = Zeroizing::new(private);
                return Ok(EcdsaKey {
                    key: SigningKey::from(*private),
                });
            }
        }
        // Each candidate is out of range with a probability of about 2^-32.
        Err(Error::SigV4aKey)
    }

    /// The signature of the string to sign: ECDSA over its SHA-256, with the nonce of RFC 6979
    /// (deterministic, so signing needs no random numbers), as lowercase hex of its DER encoding.
    pub(crate) fn sign(&self, string_to_sign: &[u8]) -> Result<Signature, Error> {
        let digest = Sha256::digest(string_to_sign);
        let signature: DerSignature = self
            .key
            .sign_prehash(&digest)
            .map_err(|_| Error::SigV4aKey)?;
        Ok(Signature::from_bytes(signature.as_bytes()))
    }

    /// The signature of the string to sign made by `platform` (its DER encoding, checked to be
    /// a well-formed P-256 signature before it is sent: an [`Error::SigV4aKey`] if not), or by
    /// [`EcdsaKey::sign`] when the platform declines.
    pub(crate) fn sign_with(
        &self,
        id: u64,
        platform: &mut dyn EcdsaSigner,
        string_to_sign: &[u8],
    ) -> Result<Signature, Error> {
        let key = EcdsaKeyRef { key: self, id };
        match platform.sign(&key, string_to_sign) {
            None => self.sign(string_to_sign),
            Some(der) if p256::ecdsa::Signature::from_der(&der).is_ok() => {
                Ok(Signature::from_bytes(&der))
            }
            Some(_) => Err(Error::SigV4aKey),
        }
    }

    /// Whether `signature` (hex of its DER encoding) is this key's signature of the string to
    /// sign: what a verifier checks, as SigV4a signatures are randomized by most signers.
    pub(crate) fn verifies(&self, string_to_sign: &[u8], signature: &str) -> bool {
        is_valid(self.key.verifying_key(), string_to_sign, signature)
    }

    /// The public key, as an uncompressed SEC1 point: `0x04 || X || Y`.
    pub(crate) fn public_key(&self) -> [u8; 65] {
        let point = self.key.verifying_key().to_sec1_point(false);
        let mut out = [0u8; 65];
        if let Some(bytes) = point.as_bytes().get(..65) {
            out.copy_from_slice(bytes);
        }
        out
    }
}

impl fmt::Debug for EcdsaKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("EcdsaKey(** redacted **)")
    }
}

/// A platform's own ECDSA P-256 (SHA-256), which a host may lend the signer
/// ([`crate::Signer::sign_with`]) where it is faster than the core's portable `p256`: the npm
/// package's wasm signs through Node's OpenSSL (`node:crypto`) about six times as fast as through
/// its own scalar multiplication. The core still canonicalizes the request and builds the
/// headers or URL; only the ECDSA of the string to sign is the platform's. (The chunk signatures
/// of a streaming upload, [`crate::ChunkSigner`], stay the core's.)
pub trait EcdsaSigner {
    /// The DER encoding of the ECDSA P-256 signature of SHA-256(`string_to_sign`) with `key`,
    /// or `None` to let the core sign it. A platform imports the key once and keeps it while
    /// [`EcdsaKeyRef::id`] stays the same. The core checks that what comes back is a
    /// well-formed signature (not that it verifies: the platform is trusted to sign with the key
    /// it was given); anything else is an [`Error::SigV4aKey`], never a signature sent.
    fn sign(&mut self, key: &EcdsaKeyRef<'_>, string_to_sign: &[u8]) -> Option<Vec<u8>>;
}

/// No platform ECDSA: [`crate::Signer::sign`] signs with the core's `p256`.
pub(crate) struct CoreEcdsa;

impl EcdsaSigner for CoreEcdsa {
    fn sign(&mut self, _: &EcdsaKeyRef<'_>, _: &[u8]) -> Option<Vec<u8>> {
        None
    }
}

/// A cached SigV4a key as an [`EcdsaSigner`] sees it: what a platform needs to import it, and
/// an id that tells it when to import again. Never shown by `Debug`.
pub struct EcdsaKeyRef<'k> {
    key: &'k EcdsaKey,
    id: u64,
}

impl EcdsaKeyRef<'_> {
    /// Which derived key this is: unique within this copy of the core (a process, or a wasm
    /// instance: no two keys of any two of its signers share one; a 64-bit atomic counter, so
    /// the core needs `target_has_atomic = "64"`, as every wasm and 64-bit target has), and new
    /// whenever a signer derives a key (other credentials, or after
    /// [`crate::Signer::forget_key`]). A platform that keeps one imported key keeps it while the
    /// id is the same.
    pub fn id(&self) -> u64 {
        self.id
    }

    /// The private scalar, big-endian, zeroized when dropped: import it and let it go.
    pub fn private_scalar(&self) -> Zeroizing<[u8; 32]> {
        let bytes = Zeroizing::new(self.key.key.to_bytes());
        let mut out = Zeroizing::new([0u8; 32]);
        out.copy_from_slice(&bytes);
        out
    }

    /// The public key, as an uncompressed SEC1 point: `0x04 || X || Y`.
    pub fn public_key(&self) -> [u8; 65] {
        self.key.public_key()
    }
}

impl fmt::Debug for EcdsaKeyRef<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EcdsaKeyRef")
            .field("id", &self.id)
            .finish_non_exhaustive()
    }
}

/// The id of the next key derived into a cache ([`EcdsaKeyRef::id`]): one counter for the
/// process, so that a platform's one imported key is never taken for another signer's.
static NEXT_KEY_ID: AtomicU64 = AtomicU64::new(1);

/// Remembers the last SigV4a key with the access key id and secret it was derived from (the key
/// does not depend on the date, region or service). Deriving costs a P-256 scalar multiplication,
/// more than a signature. A lookup with either changed derives a new key, so a rotated secret
/// never signs with a stale key; the secret is compared in constant time.
#[derive(Default)]
pub(crate) struct EcdsaKeyCache {
    entry: Option<CachedEcdsaKey>,
}

struct CachedEcdsaKey {
    access_key_id: String,
    secret: Zeroizing<String>,
    key: EcdsaKey,
    /// See [`EcdsaKeyRef::id`].
    id: u64,
}

impl EcdsaKeyCache {
    /// The key for these credentials and its id, derived only if the cached one was for others.
    pub(crate) fn get(
        &mut self,
        access_key_id: &str,
        secret_access_key: &str,
    ) -> Result<(&EcdsaKey, u64), Error> {
        let hit = self.entry.as_ref().is_some_and(|e| {
            e.access_key_id == access_key_id && same_secret(&e.secret, secret_access_key)
        });
        if !hit {
            self.entry = None;
            let key = EcdsaKey::derive(access_key_id, secret_access_key)?;
            self.entry = Some(CachedEcdsaKey {
                access_key_id: access_key_id.into(),
                secret: Zeroizing::new(secret_access_key.into()),
                key,
                id: NEXT_KEY_ID.fetch_add(1, Ordering::Relaxed),
            });
        }
        match &self.entry {
            Some(entry) => Ok((&entry.key, entry.id)),
            None => Err(Error::SigV4aKey),
        }
    }
}

impl fmt::Debug for EcdsaKeyCache {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EcdsaKeyCache")
            .field("cached", &self.entry.is_some())
            .finish()
    }
}

/// Checks a SigV4a region set as signing does: region names (or patterns such as `*`) separated
/// by commas, none empty, each visible ASCII without `/`. Errors name [`Field::Region`], the
/// field of [`crate::SigningParams`] that holds the set.
pub fn check_region_set(region_set: &str) -> Result<(), Error> {
    if region_set.is_empty() {
        return Err(Error::Empty(Field::Region));
    }
    check_bytes(region_set, Field::Region, |b| {
        b.is_ascii_graphic() && b != b'/'
    })?;
    // An empty name: a comma first, last, or after another.
    let bytes = region_set.as_bytes();
    let empty_name = bytes
        .iter()
        .enumerate()
        .position(|(i, &b)| b == b',' && (i == 0 || i + 1 == bytes.len() || bytes[i - 1] == b','));
    match empty_name {
        None => Ok(()),
        Some(position) => Err(Error::InvalidByte {
            field: Field::Region,
            byte: b',',
            position,
        }),
    }
}

/// The SigV4a public key of `credentials`, as an uncompressed SEC1 point (`0x04 || X || Y`):
/// what a service checks SigV4a signatures with. (It costs a scalar multiplication.)
pub fn sigv4a_public_key(credentials: &Credentials) -> Result<[u8; 65], Error> {
    EcdsaKey::derive(credentials.access_key_id(), credentials.secret_access_key())
        .map(|key| key.public_key())
}

/// Whether `signature` (hex of an ASN.1 DER ECDSA signature, as SigV4a sends it) is a valid
/// signature of `string_to_sign` under `public_key` (a SEC1 P-256 point). SigV4a signatures are
/// randomized by most signers, so they are checked this way, never compared.
pub fn sigv4a_signature_is_valid(public_key: &[u8], string_to_sign: &str, signature: &str) -> bool {
    VerifyingKey::from_sec1_bytes(public_key)
        .is_ok_and(|key| is_valid(&key, string_to_sign.as_bytes(), signature))
}

fn is_valid(key: &VerifyingKey, string_to_sign: &[u8], signature: &str) -> bool {
    let Some(der) = decode_hex(signature) else {
        return false;
    };
    let Ok(signature) = p256::ecdsa::Signature::from_der(&der) else {
        return false;
    };
    key.verify_prehash(&Sha256::digest(string_to_sign), &signature)
        .is_ok()
}

fn decode_hex(text: &str) -> Option<Vec<u8>> {
    let bytes = text.as_bytes();
    if !bytes.len().is_multiple_of(2) {
        return None;
    }
    bytes
        .chunks_exact(2)
        .map(|pair| Some(hex::digit_value(pair[0])? << 4 | hex::digit_value(pair[1])?))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const AKID: &str = "AKIDEXAMPLE";
    const SECRET: &str = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";

    #[test]
    fn derives_the_public_key_of_the_aws_signing_test_suite() {
        // public-key.json of every case of the suite's v4a folder, for these credentials.
        let key = EcdsaKey::derive(AKID, SECRET).unwrap();
        let mut hex = [0u8; 130];
        hex::encode_into(&key.public_key(), &mut hex);
        assert_eq!(
            core::str::from_utf8(&hex).unwrap(),
            "04b6618f6a65740a99e650b33b6b4b5bd0d43b176d721a3edfea7e7d2d56d936b1\
             865ed22a7eadc9c5cb9d2cbaca1b3699139fedc5043dc6661864218330c8e518"
        );
    }

    #[test]
    fn signatures_are_deterministic_der_and_verify() {
        let key = EcdsaKey::derive(AKID, SECRET).unwrap();
        let sts = "AWS4-ECDSA-P256-SHA256\n20150830T123600Z\n20150830/service/aws4_request\n\
                   cf59db423e841c8b7e3444158185aa261b724a5c27cbe762676f3eed19f4dc02";
        let signature = key.sign(sts.as_bytes()).unwrap();
        assert_eq!(key.sign(sts.as_bytes()).unwrap(), signature);
        let text = signature.as_str();
        // SEQUENCE { INTEGER r, INTEGER s }: at most 72 bytes for P-256 (70 to 72 but when r
        // or s starts with a zero byte).
        assert!(
            text.starts_with("30") && (140..=144).contains(&text.len()),
            "{text}"
        );
        let public = key.public_key();
        assert!(sigv4a_signature_is_valid(&public, sts, text));
        assert!(sigv4a_signature_is_valid(
            &public,
            sts,
            &text.to_ascii_uppercase()
        ));
        assert!(!sigv4a_signature_is_valid(
            &public,
            &sts.replace("service", "other"),
            text
        ));
        assert!(!sigv4a_signature_is_valid(&public[..64], sts, text));
        assert!(!sigv4a_signature_is_valid(&public, sts, &text[..140]));
        assert!(!sigv4a_signature_is_valid(&public, sts, "zz"));
        let other = EcdsaKey::derive("AKIDOTHER", SECRET).unwrap();
        assert!(!sigv4a_signature_is_valid(&other.public_key(), sts, text));
    }

    #[test]
    fn cache_never_serves_a_key_for_other_credentials() {
        let mut cache = EcdsaKeyCache::default();
        let (first, first_id) = cache
            .get(AKID, SECRET)
            .map(|(k, id)| (k.public_key(), id))
            .unwrap();
        let (again, again_id) = cache
            .get(AKID, SECRET)
            .map(|(k, id)| (k.public_key(), id))
            .unwrap();
        assert_eq!((again, again_id), (first, first_id));
        // Another cache's key (another signer's) never has the same id.
        let other_id = EcdsaKeyCache::default().get(AKID, SECRET).unwrap().1;
        assert_ne!(other_id, first_id);
        let mut ids = alloc::vec![first_id, other_id];
        for (akid, secret) in [("AKIDOTHER", SECRET), (AKID, "other"), (AKID, &SECRET[1..])] {
            let fresh = EcdsaKey::derive(akid, secret).unwrap().public_key();
            assert_ne!(fresh, first);
            let (key, id) = cache.get(akid, secret).unwrap();
            assert_eq!(key.public_key(), fresh);
            assert!(!ids.contains(&id), "{id} {ids:?}");
            ids.push(id);
        }
    }

    #[test]
    fn region_sets_are_checked_by_field() {
        for good in ["us-east-1", "us-east-1,us-west-2", "*", "us-*,eu-west-1"] {
            assert_eq!(check_region_set(good), Ok(()), "{good}");
        }
        assert_eq!(check_region_set(""), Err(Error::Empty(Field::Region)));
        for (bad, byte, position) in [
            (",", b',', 0),
            (",us-east-1", b',', 0),
            ("us-east-1,", b',', 9),
            ("a,,b", b',', 2),
            ("us-east-1, us-west-2", b' ', 10),
            ("us/east", b'/', 2),
            ("us\u{e9}", 0xc3, 2),
        ] {
            assert_eq!(
                check_region_set(bad),
                Err(Error::InvalidByte {
                    field: Field::Region,
                    byte,
                    position
                }),
                "{bad}"
            );
        }
    }

    #[test]
    fn debug_never_shows_the_key_or_the_secret() {
        let mut cache = EcdsaKeyCache::default();
        let (key, id) = cache.get(AKID, "SECRETMARKER").unwrap();
        let mut private = [0u8; 64];
        hex::encode_into(&key.key.to_bytes(), &mut private);
        let private = core::str::from_utf8(&private).unwrap();
        let mut shown = alloc::format!("{key:?} {key:#?}");
        let key_ref = EcdsaKeyRef { key, id };
        assert_eq!(&key_ref.private_scalar()[..], &key.key.to_bytes()[..]);
        shown += &alloc::format!("{key_ref:?} {key_ref:#?}");
        shown += &alloc::format!("{cache:?} {cache:#?}");
        assert!(
            !shown.contains("SECRETMARKER") && !shown.contains(private),
            "{shown}"
        );
    }
}
