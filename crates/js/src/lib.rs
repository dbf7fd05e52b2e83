//! The signing core for JavaScript, through wasm-bindgen: the wasm of the npm package in `js/`.
//!
//! It only converts between JavaScript values and `sigv4-core` types; every signing rule lives in
//! the core. The boundary is shaped for speed and size:
//! - JavaScript writes a request straight into a buffer in the wasm's memory
//!   ([`Signer::buffer`]): the UTF-16 lengths of its parts, their UTF-8 text (one
//!   `TextEncoder.encodeInto`, no per-header objects, see [`parts`]) and the body;
//! - the result stays in the signer's memory ([`Signer::output`]) for JavaScript to decode: the
//!   URL, or the header values each behind the index of its name. wasm-bindgen's own passing of
//!   strings, arrays and `Option<String>` cost 1-2 us a signature more (allocations, copies, a
//!   character loop in JavaScript);
//! - errors are values kept in the signer ([`Signer::error`]): a code, the field and the byte,
//!   from which the JavaScript side builds its message, so this crate formats nothing (what is
//!   left of `core::fmt` in the wasm comes from the panic paths of bounds and `str` checks).
//!
//! In the wasm build the crate is `no_std` with an abort-only panic handler (the core never
//! panics; the tests in `tests/` prove it on arbitrary input) and a small free-list allocator.
#![cfg_attr(target_arch = "wasm32", no_std)]
#![deny(missing_docs, unreachable_pub)]

extern crate alloc;

mod chunked;
mod error_text;
mod parts;
mod verdict;

use alloc::string::String;
use alloc::vec::Vec;

use sigv4_core::{
    Credentials, Error, Location, Payload, Request, SigningParams, Timestamp, VerifyParams,
};
use wasm_bindgen::prelude::wasm_bindgen;

#[wasm_bindgen]
extern "C" {
    /// The caller's keys: `secretFor(accessKeyId)` gives the secret of an access key id, or
    /// undefined when it is unknown (`js/src/verify.js`).
    pub type Keys;
    #[wasm_bindgen(method, js_name = secretFor)]
    fn secret_for(this: &Keys, access_key_id: &str) -> Option<String>;
}

use parts::Parts;

#[wasm_bindgen(raw_module = "../src/native-ecdsa.js")]
extern "C" {
    /// The DER signature of SHA-256(`string_to_sign`) by the platform's ECDSA (node:crypto)
    /// with the key of this id, or undefined if that is not the key it imported, or it failed.
    #[wasm_bindgen(js_name = ecdsaSign)]
    fn ecdsa_sign(key_id: f64, string_to_sign: &[u8]) -> Option<Vec<u8>>;
    /// Imports the key of this id into the platform's ECDSA; false if it cannot.
    #[wasm_bindgen(js_name = ecdsaImport)]
    fn ecdsa_import(key_id: f64, private_scalar: &[u8], public_key: &[u8]) -> bool;
}

/// SigV4a's ECDSA through the platform's (`js/src/native-ecdsa.js`: node:crypto, ~6x the
/// wasm's p256 in Node), asked for by JavaScript with [`flag::NATIVE_ECDSA`] where the runtime
/// lends it. The key is imported when its id is not the one the platform holds; the scalar is
/// zeroized here once the platform has its copy.
struct PlatformEcdsa;

impl sigv4_core::EcdsaSigner for PlatformEcdsa {
    fn sign(
        &mut self,
        key: &sigv4_core::EcdsaKeyRef<'_>,
        string_to_sign: &[u8],
    ) -> Option<Vec<u8>> {
        // Ids count keys from 1: far below 2^53, exact as a JavaScript number.
        let id = key.id() as f64;
        if let Some(der) = ecdsa_sign(id, string_to_sign) {
            return Some(der);
        }
        let scalar = key.private_scalar();
        if !ecdsa_import(id, &scalar[..], &key.public_key()) {
            return None;
        }
        drop(scalar);
        ecdsa_sign(id, string_to_sign)
    }
}

// SAFETY: wasm32-unknown-unknown without atomics runs on one thread.
#[cfg(target_arch = "wasm32")]
#[global_allocator]
static ALLOCATOR: lol_alloc::AssumeSingleThreaded<lol_alloc::FreeListAllocator> =
    unsafe { lol_alloc::AssumeSingleThreaded::new(lol_alloc::FreeListAllocator::new()) };

/// The critical section of p256's base-point table (built on first use): nothing to exclude on
/// the one thread of wasm32-unknown-unknown without atomics.
#[cfg(target_arch = "wasm32")]
struct SingleThread;
#[cfg(target_arch = "wasm32")]
critical_section::set_impl!(SingleThread);
// SAFETY: wasm32-unknown-unknown without atomics runs on one thread: no other can enter.
#[cfg(target_arch = "wasm32")]
unsafe impl critical_section::Impl for SingleThread {
    unsafe fn acquire() -> critical_section::RawRestoreState {}
    unsafe fn release(_: critical_section::RawRestoreState) {}
}

/// Nothing in the core panics on input; were it to, trap without the formatting machinery a
/// panic message would pull in.
#[cfg(target_arch = "wasm32")]
#[panic_handler]
fn panic(_: &core::panic::PanicInfo<'_>) -> ! {
    core::arch::wasm32::unreachable()
}

/// `flags` bits of [`Signer::sign`], mirrored in `js/src/engine.js`. The settings start from the
/// service's rules (`Settings::for_service`); the caller's overrides set or clear each one.
mod flag {
    /// S3's path encoding: the path as sent (`UriEncoding::Single`).
    pub(crate) const SINGLE_ENCODE: u32 = 1;
    /// Do not normalize the path.
    pub(crate) const NO_NORMALIZE: u32 = 2;
    /// Add and sign `x-amz-content-sha256`.
    pub(crate) const CONTENT_SHA256: u32 = 4;
    /// Encode the path once more (`UriEncoding::Double`).
    pub(crate) const DOUBLE_ENCODE: u32 = 512;
    /// Normalize the path.
    pub(crate) const NORMALIZE: u32 = 1024;
    /// Do not add `x-amz-content-sha256`.
    pub(crate) const NO_CONTENT_SHA256: u32 = 2048;
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
    /// The body is the payload part of the text (a short string body, encoded with the rest).
    pub(crate) const PAYLOAD_TEXT: u32 = 256;
    /// SigV4a (`AWS4-ECDSA-P256-SHA256`): the region part holds the region set
    /// (`us-east-1,us-west-2`, `*`).
    pub(crate) const SIGV4A: u32 = 4096;
    /// Sign SigV4a's ECDSA through the platform's ([`super::PlatformEcdsa`]).
    pub(crate) const NATIVE_ECDSA: u32 = 8192;
}

/// A core signer (its signing-key cache and buffers) with its credentials, and the request and
/// result areas JavaScript reads and writes in the wasm's memory.
#[wasm_bindgen]
pub struct Signer {
    signer: sigv4_core::Signer,
    credentials: Option<Credentials>,
    error: Option<Failure>,
    explained: Option<(String, String)>,
    /// The request of the next [`Signer::sign`], written by JavaScript (see [`Signer::buffer`]).
    input: Vec<u8>,
    /// The result of the last [`Signer::sign`].
    output: String,
    /// The chunk signer of the last [`Signer::sign_chunked`], until JavaScript takes it.
    chunks: Option<chunked::Chunks>,
}

/// The last error: the core's, or an aws-chunked upload's.
enum Failure {
    Core(Error),
    Chunked(sigv4_core::ChunkedError),
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
            input: Vec::new(),
            output: String::new(),
            chunks: None,
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

    /// Room for a request of `parts` parts and `bytes` bytes; returns where JavaScript writes it
    /// (4-byte aligned): the parts' UTF-16 lengths as little-endian `u32`s, then the UTF-8 text
    /// of the parts, then the body. Writing straight into the wasm's memory spares the copies
    /// and allocations of passing strings and arrays. Null if the memory cannot hold that much
    /// (rather than the trap of a failed allocation).
    pub fn buffer(&mut self, parts: usize, bytes: usize) -> *mut u8 {
        let Some(needed) = layout(parts, bytes, 0).and_then(|[.., end]| end.checked_add(ALIGN - 1))
        else {
            return core::ptr::null_mut();
        };
        if let Some(more) = needed.checked_sub(self.input.len()).filter(|&n| n > 0) {
            if self.input.try_reserve_exact(more).is_err() {
                return core::ptr::null_mut();
            }
            self.input.resize(needed, 0);
        }
        let pad = pad(&self.input);
        self.input[pad..].as_mut_ptr()
    }

    /// Signs the request in the buffer: `parts` lengths cutting the first `text` bytes into
    /// method, uri, region, service, payload (the hash with `flag::PAYLOAD_HASH`, the body with
    /// `flag::PAYLOAD_TEXT`, else empty), then header names and values; then `body` bytes of
    /// body. `time` is in Unix seconds. Returns the byte length of the result at
    /// [`Signer::output`] (the presigned URL; or the path and query signed, in their wire form,
    /// then the headers to set, a line each: the index of the name in [`HEADER_NAMES`] and the
    /// value, or `#`, the name, a line break and the value), or -1 on error (see
    /// [`Signer::error`]).
    pub fn sign(
        &mut self,
        parts: usize,
        text: usize,
        body: usize,
        time: f64,
        flags: u32,
        expires_in: f64,
    ) -> i32 {
        let input = Input::of(&self.input, parts, text, body);
        self.output.clear();
        let result = match &self.credentials {
            Some(credentials) => sign(
                &mut self.signer,
                credentials,
                input,
                Options {
                    time,
                    flags,
                    expires_in,
                },
                &mut self.output,
                &mut self.explained,
            ),
            None => Err(Error::Empty(sigv4_core::Field::AccessKeyId)),
        };
        match result {
            // A result is a few hundred bytes, far below `i32::MAX`.
            Ok(()) => i32::try_from(self.output.len()).unwrap_or(-1),
            Err(e) => {
                self.fail(e);
                -1
            }
        }
    }

    /// Verifies the request in the buffer, laid out as for [`Signer::sign`] but with the region
    /// and service the credential scope must name (empty: any), at `now` (Unix seconds) within
    /// `max_skew` seconds; `keys.secretFor(accessKeyId)` answers which secret signs for the
    /// access key id the request claims (undefined: unknown). The payload flags say what the
    /// body is; `flag::UNSIGNED` means no body was received. Returns the byte length of the
    /// verdict at [`Signer::output`] (see `verdict::write`), or -1 when the request cannot be
    /// read (see [`Signer::error`]). Scalars, like [`Signer::sign`]'s: a struct would cost an
    /// allocation and a copy across the boundary.
    #[allow(clippy::too_many_arguments)]
    pub fn verify(
        &mut self,
        parts: usize,
        text: usize,
        body: usize,
        now: f64,
        max_skew: f64,
        flags: u32,
        keys: &Keys,
    ) -> i32 {
        let input = Input::of(&self.input, parts, text, body);
        self.output.clear();
        let signer = &mut self.signer;
        let out = &mut self.output;
        let result = with_parts(
            input,
            |[method, uri, region, service, payload_part], headers, body| {
                let request = Request {
                    method,
                    uri,
                    headers,
                    payload: payload(flags, payload_part, body),
                };
                let params = VerifyParams {
                    max_skew_secs: max_skew as u64,
                    region: (!region.is_empty()).then_some(region),
                    service: (!service.is_empty()).then_some(service),
                    ..VerifyParams::new(Timestamp::from_unix_seconds(now as u64)?)
                };
                let mut asked = None;
                let verdict = signer.verify(&request, &params, |id| {
                    asked = Some(String::from(id));
                    keys.secret_for(id)
                });
                verdict::write(&verdict, asked.as_deref(), out);
                Ok(())
            },
        );
        match result {
            Ok(()) => i32::try_from(self.output.len()).unwrap_or(-1),
            Err(e) => {
                self.fail(e);
                -1
            }
        }
    }

    /// Where the result of the last [`Signer::sign`] is.
    pub fn output(&self) -> *const u8 {
        self.output.as_ptr()
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
        self.error.as_ref().map(|failure| match failure {
            Failure::Core(e) => error_text::encode(e),
            Failure::Chunked(e) => error_text::encode_chunked(e),
        })
    }
}

/// Whether a service (signing name) is signed with S3's rules, which take `UNSIGNED-PAYLOAD` for
/// a body not known when signing (a stream).
#[wasm_bindgen]
pub fn uses_s3_rules(service: &str) -> bool {
    sigv4_core::uses_s3_rules(service)
}

/// The service and region an AWS endpoint's URL names (`sigv4_core::infer_scope`), as
/// `service\nregion` (the region empty when the hostname does not say), or empty when the host
/// names no AWS endpoint. `amz_target` is the request's `x-amz-target` (empty if none).
#[wasm_bindgen]
pub fn infer_scope(url: &str, amz_target: &str) -> String {
    let target = [("x-amz-target", amz_target)];
    let headers = if amz_target.is_empty() {
        &[][..]
    } else {
        &target[..]
    };
    match sigv4_core::infer_scope(url, headers) {
        Ok(scope) => {
            let mut out = String::from(scope.service);
            out.push('\n');
            out.push_str(scope.region.as_deref().unwrap_or_default());
            out
        }
        Err(_) => String::new(),
    }
}

/// The SigV4a public key of an access key id and secret (uncompressed SEC1, 65 bytes: what a
/// service checks their SigV4a signatures with), or empty if the credentials are invalid.
#[wasm_bindgen]
pub fn sigv4a_public_key(access_key_id: &str, secret_access_key: &str) -> Vec<u8> {
    Credentials::new(access_key_id, secret_access_key, None)
        .and_then(|credentials| sigv4_core::sigv4a_public_key(&credentials))
        .map_or_else(|_| Vec::new(), |key| key.to_vec())
}

/// The names of the headers the core sets, sent as their index (mirrored in `js/src/engine.js`,
/// where constant names make the result object faster to build than names read back).
const HEADER_NAMES: [&str; 5] = [
    "x-amz-date",
    "x-amz-security-token",
    "x-amz-content-sha256",
    "authorization",
    "x-amz-region-set",
];

/// The alignment of the request buffer, for JavaScript's `Uint32Array` of the lengths.
const ALIGN: usize = 4;

impl Signer {
    fn fail(&mut self, e: Error) -> bool {
        self.error = Some(Failure::Core(e));
        false
    }
}

/// The offset of the aligned request area in the buffer.
fn pad(buffer: &[u8]) -> usize {
    buffer.as_ptr().align_offset(ALIGN).min(ALIGN - 1)
}

/// Where the lengths, the text and the body of a request end in the buffer (see
/// [`Signer::buffer`]); `None` if that overflows.
fn layout(parts: usize, text: usize, body: usize) -> Option<[usize; 3]> {
    let lens_end = parts.checked_mul(4)?;
    let text_end = lens_end.checked_add(text)?;
    Some([lens_end, text_end, text_end.checked_add(body)?])
}

/// The request JavaScript wrote into the buffer, as [`Signer::sign`] describes it.
struct Input<'a> {
    area: &'a [u8],
    parts: usize,
    text: usize,
    body: usize,
}

impl<'a> Input<'a> {
    /// The request in `buffer` (the signer's `input`), from its aligned start: a free function of
    /// the field, so the signer's other fields stay free to borrow mutably beside it.
    fn of(buffer: &'a [u8], parts: usize, text: usize, body: usize) -> Self {
        Input {
            area: buffer.get(pad(buffer)..).unwrap_or_default(),
            parts,
            text,
            body,
        }
    }
}

/// The numbers and flags of a [`Signer::sign`] call.
struct Options {
    time: f64,
    flags: u32,
    expires_in: f64,
}

fn sign(
    signer: &mut sigv4_core::Signer,
    credentials: &Credentials,
    input: Input<'_>,
    Options {
        time,
        flags,
        expires_in,
    }: Options,
    out: &mut String,
    explained: &mut Option<(String, String)>,
) -> Result<(), Error> {
    with_parts(
        input,
        |[method, uri, region, service, payload_part], headers, body| {
            let request = Request {
                method,
                uri,
                headers,
                payload: payload(flags, payload_part, body),
            };
            let params = SigningParams {
                credentials,
                region,
                service,
                // Checked to be a non-negative integer in JavaScript; `as` saturates the rest.
                time: Timestamp::from_unix_seconds(time as u64)?,
                settings: settings(flags, service),
            };
            let location = if flags & flag::PRESIGN != 0 {
                Location::Query {
                    expires_in: expires_in as u64,
                }
            } else {
                Location::Headers
            };
            let signed = if flags & flag::EXPLAIN != 0 {
                let steps = signer.explain(&request, &params, location)?;
                *explained = Some((steps.canonical_request, steps.string_to_sign));
                steps.signed
            } else if flags & flag::NATIVE_ECDSA != 0 {
                signer.sign_with(&request, &params, location, &mut PlatformEcdsa)?
            } else {
                signer.sign(&request, &params, location)?
            };
            write_signed(&signed, out);
            Ok(())
        },
    )
}

/// Runs `f` on the request JavaScript wrote into the buffer: its first five parts, its headers
/// and its body.
fn with_parts<T>(
    input: Input<'_>,
    f: impl FnOnce([&str; 5], &[(&str, &str)], &[u8]) -> Result<T, Error>,
) -> Result<T, Error> {
    // Written by JavaScript's `TextEncoder`, so in range and UTF-8 unless the caller is broken;
    // then the request is refused, never read out of bounds.
    let parts_of = |[lens_end, text_end, body_end]: [usize; 3]| {
        Some((
            input.area.get(..lens_end)?,
            input.area.get(lens_end..text_end)?,
            input.area.get(text_end..body_end)?,
        ))
    };
    let Some((lens, text, body)) = layout(input.parts, input.text, input.body).and_then(parts_of)
    else {
        return Err(Error::Empty(sigv4_core::Field::Method));
    };
    let text = core::str::from_utf8(text).map_err(|e| Error::InvalidByte {
        field: sigv4_core::Field::Uri,
        byte: text[e.valid_up_to()],
        position: e.valid_up_to(),
    })?;
    let mut few = [""; 5 + 2 * 16];
    let many: Vec<&str>;
    let parts = Parts::new(text, lens);
    let count = input.parts;
    let parts: &[&str] = if count <= few.len() {
        parts.fill(&mut few[..count]);
        &few[..count]
    } else {
        many = parts.collect();
        &many
    };
    let [method, uri, region, service, payload_part, headers @ ..] = parts else {
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
    f([method, uri, region, service, payload_part], headers, body)
}

/// The payload the flags say the request has.
fn payload<'a>(flags: u32, payload_part: &'a str, body: &'a [u8]) -> Payload<'a> {
    if flags & flag::PAYLOAD_HASH != 0 {
        Payload::Sha256Hex(payload_part)
    } else if flags & flag::PAYLOAD_TEXT != 0 {
        Payload::Bytes(payload_part.as_bytes())
    } else if flags & flag::UNSIGNED != 0 {
        Payload::Unsigned
    } else {
        Payload::Bytes(body)
    }
}

/// The service's rules, with the overrides the flags set or clear.
fn settings(flags: u32, service: &str) -> sigv4_core::Settings<'static> {
    let mut settings = sigv4_core::Settings::for_service(service);
    let on = |bit: u32| flags & bit != 0;
    if on(flag::SINGLE_ENCODE) {
        settings.uri_encoding = sigv4_core::UriEncoding::Single;
    } else if on(flag::DOUBLE_ENCODE) {
        settings.uri_encoding = sigv4_core::UriEncoding::Double;
    }
    if on(flag::NO_NORMALIZE) || on(flag::NORMALIZE) {
        settings.normalize_path = on(flag::NORMALIZE);
    }
    if on(flag::CONTENT_SHA256) || on(flag::NO_CONTENT_SHA256) {
        settings.content_sha256_header = on(flag::CONTENT_SHA256);
    }
    if on(flag::TOKEN_AFTER) {
        settings.session_token = sigv4_core::SessionTokenMode::AfterSigning;
    }
    if on(flag::SIGV4A) {
        settings.algorithm = sigv4_core::Algorithm::SigV4a;
    }
    settings
}

/// The presigned URL; or the path and query signed, in their wire form (what the request must
/// be sent to), then the headers to set (see [`Signer::sign`]).
fn write_signed(signed: &sigv4_core::Signed, out: &mut String) {
    if let Some(url) = signed.url() {
        out.push_str(url);
        return;
    }
    out.push_str(signed.path_and_query());
    for (name, value) in signed.headers() {
        out.push('\n');
        match HEADER_NAMES.iter().position(|known| *known == name) {
            // At most 5 names: one digit.
            Some(code) => out.push(char::from(b'0' + code as u8)),
            None => {
                out.push('#');
                out.push_str(name);
                out.push('\n');
            }
        }
        out.push_str(value);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_request_too_large_for_memory_gets_no_buffer_rather_than_a_trap() {
        let mut signer = Signer::new();
        assert!(signer.buffer(usize::MAX / 2, 10).is_null());
        assert!(signer.buffer(1, usize::MAX - 2).is_null());
        assert!(signer.buffer(0, isize::MAX as usize).is_null());
        let at = signer.buffer(9, 300);
        assert!(!at.is_null());
        assert_eq!(at as usize % ALIGN, 0);
        // Smaller requests reuse the room.
        assert_eq!(signer.buffer(5, 100), at);
    }

    #[test]
    fn a_malformed_buffer_is_an_error_not_a_panic() {
        let mut signer = Signer::new();
        assert!(signer.set_credentials("AKIDEXAMPLE", "secret", None));
        signer.buffer(5, 10);
        // More parts or bytes than the buffer holds, or than memory can.
        assert_eq!(signer.sign(1000, 10, 0, 0.0, 0, 0.0), -1);
        assert_eq!(signer.sign(5, 10, 1 << 20, 0.0, 0, 0.0), -1);
        assert_eq!(signer.sign(usize::MAX / 2, 10, 0, 0.0, 0, 0.0), -1);
        assert_eq!(signer.sign(5, usize::MAX, 1, 0.0, 0, 0.0), -1);
        assert!(signer.error().is_some());
    }
}
