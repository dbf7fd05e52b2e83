//! The secrets this service issues, their hashes, and the SigV4 secrets it derives.
//!
//! Every issued secret is 256 bits from the operating system's generator (`getrandom`), with a
//! readable prefix naming what it is, so a leaked one is recognisable in a log or a scanner:
//!
//! | what                      | shape                                              |
//! |---------------------------|----------------------------------------------------|
//! | API key (bearer)          | `sk_` + 43 base64url characters (no padding)        |
//! | enrollment token          | `et_` + 43 base64url characters                     |
//! | replace token             | `rt_` + 43 base64url characters                     |
//! | SigV4 access key id       | `AKEX` + 16 characters of base32 (`A-Z2-7`), public |
//! | SigV4 secret access key   | 40 characters of base64, derived, never stored      |
//!
//! The database holds only [`hash`]es of the first three and the access key id (which, as in AWS,
//! is not a secret); a SigV4 secret is re-derived from the server's master key when a request
//! arrives ([`sigv4_secret`]), so reading the database is never enough to authenticate.

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD_NO_PAD, URL_SAFE_NO_PAD};
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};
pub use sigv4_serve::Secret;
use zeroize::Zeroizing;

/// The operating system's generator failed (no entropy source): nothing can be issued.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RandomUnavailable;

impl fmt::Display for RandomUnavailable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the operating system's random generator failed")
    }
}

impl std::error::Error for RandomUnavailable {}

/// A new API key (`sk_...`), for a bearer agent or a proof login.
pub fn api_key() -> Result<Secret, RandomUnavailable> {
    prefixed("sk_")
}

/// A new enrollment token (`et_...`), shared by the agents an admin enrolls with it.
pub fn enrollment_token() -> Result<Secret, RandomUnavailable> {
    prefixed("et_")
}

/// A new replace token (`rt_...`): the one thing that lets an enrolled agent id enroll again.
pub fn replace_token() -> Result<Secret, RandomUnavailable> {
    prefixed("rt_")
}

/// A new SigV4 access key id: `AKEX` and 16 base32 characters (80 random bits), the shape of an
/// AWS access key id, so every SigV4 client accepts it (and never a `/`, which the core refuses).
pub fn access_key_id() -> Result<String, RandomUnavailable> {
    const BASE32: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let mut bytes = [0u8; 16];
    fill(&mut bytes)?;
    let mut id = String::with_capacity(20);
    id.push_str("AKEX");
    // 5 bits of each byte: 256 is a multiple of 32, so every character is uniform.
    id.extend(
        bytes
            .iter()
            .map(|b| char::from(BASE32[usize::from(b & 31)])),
    );
    Ok(id)
}

/// A new public identifier (32 hex characters, 128 random bits), e.g. of an enrollment token.
pub fn public_id() -> Result<String, RandomUnavailable> {
    let mut bytes = [0u8; 16];
    fill(&mut bytes)?;
    Ok(hex(&bytes))
}

/// The lowercase hex SHA-256 of a secret: what the database keeps instead of it.
///
/// No salt and no slow hash: those protect guessable passwords, and every secret hashed here is
/// 256 random bits (or a one-time proof signature), so a plain SHA-256 cannot be reversed.
pub fn hash(secret: &str) -> String {
    hex(&Sha256::digest(secret.as_bytes()))
}

/// The SigV4 secret access key of an agent's access key id:
/// `base64(HMAC-SHA256(master_key, "sigv4-agent-secret/" || access_key_id))`, its first 40
/// characters (the length of an AWS secret access key).
///
/// The master key comes from the server's configuration and is never stored, so the database
/// (which holds the access key id) is not enough to sign as the agent.
pub fn sigv4_secret(master_key: &[u8], access_key_id: &str) -> Secret {
    // HMAC accepts a key of any length: this never fails.
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(master_key)
        .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
    mac.update(b"sigv4-agent-secret/");
    mac.update(access_key_id.as_bytes());
    let mut tag = Zeroizing::new([0u8; 32]);
    tag.copy_from_slice(&mac.finalize().into_bytes());
    let mut text = Zeroizing::new(STANDARD_NO_PAD.encode(tag.as_slice()));
    text.truncate(40);
    Secret::from(text)
}

/// `prefix` + base64url of 32 random bytes.
fn prefixed(prefix: &str) -> Result<Secret, RandomUnavailable> {
    let mut bytes = Zeroizing::new([0u8; 32]);
    fill(bytes.as_mut())?;
    let mut text = Zeroizing::new(String::with_capacity(prefix.len() + 43));
    text.push_str(prefix);
    URL_SAFE_NO_PAD.encode_string(bytes.as_slice(), &mut text);
    Ok(Secret::from(text))
}

fn fill(bytes: &mut [u8]) -> Result<(), RandomUnavailable> {
    getrandom::getrandom(bytes).map_err(|_| RandomUnavailable)
}

fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut text = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        text.push(char::from(DIGITS[usize::from(b >> 4)]));
        text.push(char::from(DIGITS[usize::from(b & 15)]));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    fn is_base64url(text: &str) -> bool {
        text.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    }

    #[test]
    fn prefixed_secrets_have_their_shape() {
        for (secret, prefix) in [
            (api_key().unwrap(), "sk_"),
            (enrollment_token().unwrap(), "et_"),
            (replace_token().unwrap(), "rt_"),
        ] {
            let text = secret.expose();
            assert_eq!(text.len(), 46, "{prefix}");
            let body = text.strip_prefix(prefix).unwrap();
            assert!(is_base64url(body), "{prefix}");
        }
    }

    #[test]
    fn access_key_ids_have_the_aws_shape() {
        let id = access_key_id().unwrap();
        assert_eq!(id.len(), 20);
        assert!(id.starts_with("AKEX"));
        assert!(
            id.bytes()
                .all(|b| b.is_ascii_uppercase() || (b'2'..=b'7').contains(&b))
        );
    }

    #[test]
    fn public_ids_are_hex() {
        let id = public_id().unwrap();
        assert_eq!(id.len(), 32);
        assert!(
            id.bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        );
    }

    #[test]
    fn issued_values_do_not_repeat() {
        let n = 2000;
        let keys: HashSet<String> = (0..n)
            .map(|_| api_key().unwrap().expose().to_owned())
            .collect();
        let ids: HashSet<String> = (0..n).map(|_| access_key_id().unwrap()).collect();
        let public: HashSet<String> = (0..n).map(|_| public_id().unwrap()).collect();
        assert_eq!((keys.len(), ids.len(), public.len()), (n, n, n));
    }

    #[test]
    fn hash_is_hex_sha256() {
        // FIPS 180-2's "abc" vector.
        assert_eq!(
            hash("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(
            hash(""),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }

    #[test]
    fn sigv4_secret_is_the_documented_hmac() {
        let secret = sigv4_secret(b"master", "AKEXAAAAAAAAAAAAAAAA");
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(b"master").unwrap();
        mac.update(b"sigv4-agent-secret/AKEXAAAAAAAAAAAAAAAA");
        let full = STANDARD_NO_PAD.encode(mac.finalize().into_bytes());
        assert_eq!(secret.expose(), &full[..40]);
        assert_eq!(secret.expose().len(), 40);
        // Another id or another master key: another secret.
        assert_ne!(sigv4_secret(b"master", "AKEXAAAAAAAAAAAAAAAB"), secret);
        assert_ne!(sigv4_secret(b"other", "AKEXAAAAAAAAAAAAAAAA"), secret);
        assert_eq!(sigv4_secret(b"master", "AKEXAAAAAAAAAAAAAAAA"), secret);
    }

    #[test]
    fn sigv4_secret_known_value() {
        // Pinned (computed with Python's hmac): a changed derivation would lock every SigV4
        // agent out, so it must fail here first.
        assert_eq!(
            sigv4_secret(b"master", "AKEXAAAAAAAAAAAAAAAA").expose(),
            "8OK7e23zAmTqqDxEG2R7dNnvdooSa7QNZR6rxICQ"
        );
    }

    #[test]
    fn debug_redacts() {
        let key = api_key().unwrap();
        assert_eq!(format!("{key:?}"), "** redacted **");
        assert_eq!(format!("{:?}", Some(&key)), "Some(** redacted **)");
    }
}
