//! AWS Signature Version 4, computed without I/O.
//!
//! This crate turns a request (method, URI, headers, payload), credentials, a region, a service and
//! an explicit [`Timestamp`] into the canonical request, the string to sign, the signature and the
//! headers or presigned URL that carry it. It never reads a clock, the environment, a file or a
//! socket: hosts (the WebAssembly component, the npm package, the Envoy filter, the wasmtime host)
//! supply all of that, so every runtime signs with this one implementation.
//!
//! ```
//! use sigv4_core::{Credentials, Location, Payload, Request, Settings, Signer, SigningParams,
//!                  Timestamp};
//!
//! let credentials = Credentials::new("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", None)?;
//! let request = Request {
//!     method: "GET",
//!     uri: "https://example.amazonaws.com/",
//!     headers: &[],
//!     payload: Payload::Bytes(b""),
//! };
//! let params = SigningParams {
//!     credentials: &credentials,
//!     region: "us-east-1",
//!     service: "service",
//!     time: Timestamp::parse_rfc3339("2015-08-30T12:36:00Z")?,
//!     settings: Settings::default(),
//! };
//! let mut signer = Signer::new(); // keep it: it caches the signing key
//! let signed = signer.sign(&request, &params, Location::Headers)?;
//! assert_eq!(
//!     signed.signature.as_str(),
//!     "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"
//! );
//! # Ok::<(), sigv4_core::Error>(())
//! ```
//!
//! Guarantees: no `unsafe`, no panics on any input (bad input is an [`Error`] naming the field),
//! secrets never in `Debug` output, signatures compared in constant time. Zeroized on drop: the
//! secret key and session token held by [`Credentials`], the signer's cached copy of the secret,
//! `"AWS4" + secret`, the derived keys and the keyed HMAC states. Not zeroized: the session
//! token's copies in a [`Signer`]'s reused buffers (the canonical request, the presigning
//! parameters and the canonical query, with the hashing prefix's copy of the canonical request:
//! kept after the call, overwritten only as far as a later one writes, freed unzeroed with the
//! signer), any buffer's old allocation when it grows, stack temporaries, and the values a call
//! returns ([`Signed`], [`Explained`]) or borrows (the request's headers).
#![cfg_attr(not(test), no_std)]
#![forbid(unsafe_code, unused_must_use)]
#![deny(missing_docs, unreachable_pub, unused_qualifications)]

extern crate alloc;

mod canonical_request;
mod checksum;
mod chunked;
mod credentials;
mod error;
mod headers;
mod hex;
mod infer;
mod path_normalize;
mod payload;
mod prefix_state;
mod query;
mod scan;
mod settings;
mod sign;
mod signing_key;
mod sigv4a;
mod timestamp;
mod uri;
mod uri_encode;
mod verify;

pub use checksum::ChecksumAlgorithm;
pub use chunked::{
    ChunkEncoder, ChunkSigner, ChunkedError, ChunkedField, ChunkedSigned, ChunkedUpload, Finish,
    Frame, MAX_CHUNK_SIZE, MIN_CHUNK_SIZE, StreamingForm,
};
pub use credentials::Credentials;
pub use error::{Error, Field};
pub use infer::{InferredScope, infer_scope};
pub use payload::Payload;
pub use settings::{Algorithm, Location, SessionTokenMode, Settings, UriEncoding, uses_s3_rules};
pub use sign::{Explained, Request, Signature, Signed, Signer, SigningParams};
pub use signing_key::check_scope;
pub use sigv4a::{
    EcdsaKeyRef, EcdsaSigner, check_region_set, sigv4a_public_key, sigv4a_signature_is_valid,
};
pub use timestamp::Timestamp;
pub use verify::{Claimed, Rejection, Verified, VerifyParams, inspect};

/// The algorithm name that starts every SigV4 string to sign and `Authorization` header.
pub const ALGORITHM: &str = "AWS4-HMAC-SHA256";
/// The algorithm name of SigV4a (ECDSA P-256), [`Algorithm::SigV4a`].
pub const ALGORITHM_V4A: &str = "AWS4-ECDSA-P256-SHA256";
/// The payload hash that tells the service the body is not signed (S3 and a few others accept it).
pub const UNSIGNED_PAYLOAD: &str = "UNSIGNED-PAYLOAD";
/// The longest presigned URL lifetime AWS accepts: seven days, in seconds.
pub const MAX_EXPIRES_IN: u64 = 604_800;

/// Test inputs built from pieces, for checking a function on every combination.
#[cfg(test)]
mod pieces {
    use alloc::string::String;
    use alloc::vec::Vec;

    /// Every string of one to `most` of `pieces`, in order of length.
    pub(crate) fn every_string_of(pieces: &[&str], most: usize) -> Vec<String> {
        let mut all = Vec::new();
        let mut last = vec![String::new()];
        for _ in 0..most {
            last = last
                .iter()
                .flat_map(|start| {
                    pieces
                        .iter()
                        .map(move |piece| alloc::format!("{start}{piece}"))
                })
                .collect();
            all.extend_from_slice(&last);
        }
        all
    }
}
