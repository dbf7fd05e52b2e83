//! The signing core for JavaScript, through wasm-bindgen: the wasm of the npm package in `js/`.
//!
//! It only converts between JavaScript values and `sigv4-core` types; every signing rule lives in
//! the core. The boundary is shaped for speed and size:
//! - a request crosses as one string and the UTF-16 lengths of its parts (one copy, no
//!   per-header objects), see [`parts`];
//! - results cross as one string (header names and values separated by `\n`, or the URL);
//! - errors are values kept in the signer ([`Signer::error`]): a code, the field and the byte,
//!   from which the JavaScript side builds its message, so this crate formats nothing (what is
//!   left of `core::fmt` in the wasm comes from the panic paths of bounds and `str` checks).
//!
//! In the wasm build the crate is `no_std` with an abort-only panic handler (the core never
//! panics; the tests in `tests/` prove it on arbitrary input) and a small free-list allocator.
#![cfg_attr(target_arch = "wasm32", no_std)]
#![deny(missing_docs, unreachable_pub)]

extern crate alloc;

mod error_text;
mod parts;

use alloc::string::String;
use alloc::vec::Vec;

use sigv4_core::{Credentials, Error, Location, Payload, Request, SigningParams, Timestamp};
use wasm_bindgen::prelude::wasm_bindgen;

use parts::Parts;

// SAFETY: wasm32-unknown-unknown without atomics runs on one thread.
#[cfg(target_arch = "wasm32")]
#[global_allocator]
static ALLOCATOR: lol_alloc::AssumeSingleThreaded<lol_alloc::FreeListAllocator> =
    unsafe { lol_alloc::AssumeSingleThreaded::new(lol_alloc::FreeListAllocator::new()) };

/// Nothing in the core panics on input; were it to, trap without the formatting machinery a
/// panic message would pull in.
#[cfg(target_arch = "wasm32")]
#[panic_handler]
fn panic(_: &core::panic::PanicInfo<'_>) -> ! {
    core::arch::wasm32::unreachable()
}

/// `flags` bits of [`Signer::sign`], mirrored in `js/src/engine.js`.
mod flag {
    /// S3's path encoding: the path as sent (`UriEncoding::Single`).
    pub(crate) const SINGLE_ENCODE: u32 = 1;
    /// Do not normalize the path.
    pub(crate) const NO_NORMALIZE: u32 = 2;
    /// Add and sign `x-amz-content-sha256`.
    pub(crate) const CONTENT_SHA256: u32 = 4;
    /// Add the session token after signing.
    pub(crate) const TOKEN_AFTER: u32 = 8;
    /// The payload is the precomputed hash in the parts.
    pub(crate) const PAYLOAD_HASH: u32 = 16;
    /// `UNSIGNED-PAYLOAD`.
    pub(crate) const UNSIGNED: u32 = 32;
    /// A presigned URL instead of headers.
    pub(crate) const PRESIGN: u32 = 64;
    /// Keep the canonical request and the string to sign.
    pub(crate) const EXPLAIN: u32 = 128;
}

/// A core signer (its signing-key cache and buffers) with its credentials.
#[wasm_bindgen]
pub struct Signer {
    signer: sigv4_core::Signer,
    credentials: Option<Credentials>,
    error: Option<Error>,
    explained: Option<(String, String)>,
}

impl Default for Signer {
    fn default() -> Self {
        Signer::new()
    }
}

#[wasm_bindgen]
impl Signer {
    /// A signer without credentials.
    #[wasm_bindgen(constructor)]
    pub fn new() -> Signer {
        Signer {
            signer: sigv4_core::Signer::new(),
            credentials: None,
            error: None,
            explained: None,
        }
    }

    /// Checks and keeps credentials; false if they are invalid (see [`Signer::error`]).
    pub fn set_credentials(
        &mut self,
        access_key_id: &str,
        secret_access_key: &str,
        session_token: Option<String>,
    ) -> bool {
        match Credentials::new(access_key_id, secret_access_key, session_token.as_deref()) {
            Ok(credentials) => {
                self.credentials = Some(credentials);
                true
            }
            Err(e) => self.fail(e),
        }
    }

    /// Signs the request in `text`, cut by the UTF-16 lengths `lens` into: method, uri, region,
    /// service, payload hash (empty unless `flag::PAYLOAD_HASH`), then header names and values.
    /// `time` is in Unix seconds. Returns `name\nvalue\n...` of the headers to set, or the
    /// presigned URL; `None` on error (see [`Signer::error`]).
    pub fn sign(
        &mut self,
        text: &str,
        lens: &[u32],
        time: f64,
        flags: u32,
        expires_in: f64,
        body: Option<Vec<u8>>,
    ) -> Option<String> {
        match self.try_sign(text, lens, time, flags, expires_in, body.as_deref()) {
            Ok(out) => Some(out),
            Err(e) => {
                self.fail(e);
                None
            }
        }
    }

    /// After an explaining [`Signer::sign`]: the canonical request, `\0`, the string to sign.
    pub fn explained(&mut self) -> Option<String> {
        self.explained
            .take()
            .map(|(mut canonical, string_to_sign)| {
                canonical.push('\0');
                canonical.push_str(&string_to_sign);
                canonical
            })
    }

    /// The last error, as `code\nfield\nindex\nbyte\nposition\ndetail` for `js/src/errors.js`.
    pub fn error(&self) -> Option<String> {
        self.error.as_ref().map(error_text::encode)
    }
}

impl Signer {
    fn fail(&mut self, e: Error) -> bool {
        self.error = Some(e);
        false
    }

    fn try_sign(
        &mut self,
        text: &str,
        lens: &[u32],
        time: f64,
        flags: u32,
        expires_in: f64,
        body: Option<&[u8]>,
    ) -> Result<String, Error> {
        let credentials = self
            .credentials
            .as_ref()
            .ok_or(Error::Empty(sigv4_core::Field::AccessKeyId))?;
        let mut few = [""; 5 + 2 * 16];
        let many: Vec<&str>;
        let parts = Parts::new(text, lens);
        let parts: &[&str] = if lens.len() <= few.len() {
            parts.fill(&mut few[..lens.len()]);
            &few[..lens.len()]
        } else {
            many = parts.collect();
            &many
        };
        let [method, uri, region, service, payload_hash, headers @ ..] = parts else {
            return Err(Error::Empty(sigv4_core::Field::Method));
        };
        let mut few_headers = [("", ""); 16];
        let many_headers: Vec<(&str, &str)>;
        let pairs = headers.chunks_exact(2).map(|pair| (pair[0], pair[1]));
        let headers: &[(&str, &str)] = if headers.len() <= 2 * few_headers.len() {
            let count = headers.len() / 2;
            for (slot, pair) in few_headers.iter_mut().zip(pairs) {
                *slot = pair;
            }
            &few_headers[..count]
        } else {
            many_headers = pairs.collect();
            &many_headers
        };
        let payload = if flags & flag::PAYLOAD_HASH != 0 {
            Payload::Sha256Hex(payload_hash)
        } else if flags & flag::UNSIGNED != 0 {
            Payload::Unsigned
        } else {
            Payload::Bytes(body.unwrap_or_default())
        };
        let mut settings = if flags & flag::SINGLE_ENCODE != 0 {
            sigv4_core::Settings::s3()
        } else {
            sigv4_core::Settings::default()
        };
        settings.normalize_path = flags & flag::NO_NORMALIZE == 0;
        settings.content_sha256_header = flags & flag::CONTENT_SHA256 != 0;
        if flags & flag::TOKEN_AFTER != 0 {
            settings.session_token = sigv4_core::SessionTokenMode::AfterSigning;
        }
        let request = Request {
            method,
            uri,
            headers,
            payload,
        };
        let params = SigningParams {
            credentials,
            region,
            service,
            // Checked to be a non-negative integer in JavaScript; `as` saturates the rest.
            time: Timestamp::from_unix_seconds(time as u64)?,
            settings,
        };
        let location = if flags & flag::PRESIGN != 0 {
            Location::Query {
                expires_in: expires_in as u64,
            }
        } else {
            Location::Headers
        };
        let signed = if flags & flag::EXPLAIN != 0 {
            let out = self.signer.explain(&request, &params, location)?;
            self.explained = Some((out.canonical_request, out.string_to_sign));
            out.signed
        } else {
            self.signer.sign(&request, &params, location)?
        };
        if let Some(url) = signed.url() {
            return Ok(url.into());
        }
        let mut out = String::with_capacity(256);
        for (name, value) in signed.headers() {
            if !out.is_empty() {
                out.push('\n');
            }
            out.push_str(name);
            out.push('\n');
            out.push_str(value);
        }
        Ok(out)
    }
}
