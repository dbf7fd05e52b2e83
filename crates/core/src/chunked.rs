//! S3's aws-chunked uploads: a body sent in chunks, each signed, chained from the seed signature
//! of the request's headers, so neither side holds the whole body.
//!
//! The request is signed once with a streaming payload name as its payload hash
//! (`x-amz-content-sha256: STREAMING-AWS4-HMAC-SHA256-PAYLOAD`): that signature is the *seed*.
//! The body is then framed as
//!
//! ```text
//! hex(size) ";chunk-signature=" signature "\r\n" data "\r\n"     (each chunk)
//! "0;chunk-signature=" signature "\r\n"                          (the final, empty chunk)
//! [trailing headers, each "name:value\r\n"]  "\r\n"
//! ```
//!
//! where each chunk's signature is `HMAC(kSigning, StringToSign)` with
//!
//! ```text
//! StringToSign = "AWS4-HMAC-SHA256-PAYLOAD" \n amz-date \n scope \n previous-signature \n
//!                SHA256("") \n SHA256(chunk-data)
//! ```
//!
//! and the previous signature is the seed's for the first chunk. With a trailer
//! (`STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER`) the trailing checksum header is signed too,
//! chained from the final chunk's signature, and sent as `x-amz-trailer-signature`:
//!
//! ```text
//! StringToSign = "AWS4-HMAC-SHA256-TRAILER" \n amz-date \n scope \n previous-signature \n
//!                SHA256("x-amz-checksum-crc32c:BASE64\n")
//! ```
//!
//! `STREAMING-UNSIGNED-PAYLOAD-TRAILER` sends the same framing without chunk signatures
//! (`hex(size) "\r\n" data "\r\n"`, then `"0\r\n"` and the trailer); the seed signature covers
//! the headers only, and the trailing checksum lets S3 check the body. (AWS documentation: S3 API
//! reference, "Signature Calculations for the Authorization Header: Transferring Payload in
//! Multiple Chunks" and "... Including Trailing Headers".)
//!
//! Sans-IO like the rest of the core: [`Signer::sign_chunked`] signs the headers and returns a
//! [`ChunkEncoder`]; the host feeds it the body's bytes as they come and writes the frames it
//! returns. The encoder holds at most one chunk of the body.
//!
//! SigV4a streaming (`STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD[-TRAILER]`, with SigV4a
//! settings) frames the same way: each chunk's signature is the ECDSA P-256 signature (hex of its
//! DER encoding) of the same string to sign after `AWS4-ECDSA-P256-SHA256-PAYLOAD` (the trailer's
//! after `AWS4-ECDSA-P256-SHA256-TRAILER`), the scope without region (`date/service/aws4_request`)
//! and the previous signature unpadded; in the frames it is right-padded to 144 characters with
//! `*`, so the encoded length is known before the body is read (as the AWS CRT signs them).

use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;
use sha2::{Digest, Sha256};

use crate::checksum::{Checksum, ChecksumAlgorithm};
use crate::error::{Error, Field};
use crate::hex;
use crate::payload::Payload;
use crate::settings::{Algorithm, Location};
use crate::sign::{Request, Signed, Signer, SigningParams};
use crate::signing_key::SigningKey;
use crate::sigv4a::EcdsaKey;
use alloc::boxed::Box;

/// The smallest chunk S3 accepts, but for the last one: 8 KiB.
pub const MIN_CHUNK_SIZE: usize = 8 * 1024;

/// The largest chunk size taken: a host holds one chunk in memory (the SDKs send 64 KiB).
pub const MAX_CHUNK_SIZE: usize = 64 * 1024 * 1024;

/// SHA-256 of the empty string, the line every chunk's string to sign carries in place of the
/// hash of the (absent) chunk headers.
const EMPTY_SHA256: &[u8; 64] = b"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

const CHUNK_SIGNATURE: &[u8] = b";chunk-signature=";

/// A SigV4a chunk or trailer signature's length in the frames: the hex of an ECDSA P-256
/// signature's DER encoding (at most 72 bytes), right-padded with `*`.
const PADDED_V4A_SIGNATURE: usize = 144;
const TRAILER_SIGNATURE: &[u8] = b"x-amz-trailer-signature:";
const CRLF: &[u8] = b"\r\n";

/// How an aws-chunked body is signed: the value of `x-amz-content-sha256`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum StreamingForm {
    /// `STREAMING-AWS4-HMAC-SHA256-PAYLOAD`: every chunk signed, no trailer.
    Signed,
    /// `STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER`: every chunk signed, then a signed trailer
    /// carrying the body's checksum.
    SignedWithTrailer,
    /// `STREAMING-UNSIGNED-PAYLOAD-TRAILER`: chunks unsigned, then a trailer carrying the body's
    /// checksum (S3 over TLS).
    UnsignedWithTrailer,
    /// `STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD`: every chunk signed with SigV4a (ECDSA P-256),
    /// its signature padded to 144 characters with `*` in the frame.
    SigV4aSigned,
    /// `STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD-TRAILER`: SigV4a chunks, then a signed trailer.
    SigV4aSignedWithTrailer,
}

const FORMS: [(StreamingForm, &str); 5] = [
    (StreamingForm::Signed, "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"),
    (
        StreamingForm::SignedWithTrailer,
        "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER",
    ),
    (
        StreamingForm::UnsignedWithTrailer,
        "STREAMING-UNSIGNED-PAYLOAD-TRAILER",
    ),
    (
        StreamingForm::SigV4aSigned,
        "STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD",
    ),
    (
        StreamingForm::SigV4aSignedWithTrailer,
        "STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD-TRAILER",
    ),
];

impl StreamingForm {
    /// The payload name, the value of `x-amz-content-sha256`.
    pub fn as_str(self) -> &'static str {
        FORMS
            .iter()
            .find(|(form, _)| *form == self)
            .map_or("", |(_, name)| name)
    }

    /// The form a payload name stands for (exactly as S3 spells it).
    pub fn from_name(name: &str) -> Option<Self> {
        FORMS
            .iter()
            .find(|(_, known)| *known == name)
            .map(|(form, _)| *form)
    }

    /// Whether each chunk carries a signature.
    pub fn signs_chunks(self) -> bool {
        !matches!(self, StreamingForm::UnsignedWithTrailer)
    }

    /// Whether a trailer with the body's checksum follows the final chunk.
    pub fn has_trailer(self) -> bool {
        !matches!(self, StreamingForm::Signed | StreamingForm::SigV4aSigned)
    }

    /// The algorithm the chunks are signed with (None: unsigned, any seed).
    pub fn algorithm(self) -> Option<Algorithm> {
        match self {
            StreamingForm::Signed | StreamingForm::SignedWithTrailer => Some(Algorithm::SigV4),
            StreamingForm::SigV4aSigned | StreamingForm::SigV4aSignedWithTrailer => {
                Some(Algorithm::SigV4a)
            }
            StreamingForm::UnsignedWithTrailer => None,
        }
    }

    /// The length of a chunk signature in the frames: 64 hex digits for HMAC-SHA256, 144 for
    /// ECDSA (the DER encoding's hex, at most 144 digits, padded with `*`).
    fn signature_len(self) -> usize {
        match self.algorithm() {
            Some(Algorithm::SigV4) => 64,
            Some(Algorithm::SigV4a) => PADDED_V4A_SIGNATURE,
            None => 0,
        }
    }
}

/// The field of an aws-chunked upload an error is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ChunkedField {
    /// The chunk size.
    ChunkSize,
    /// The declared length of the body (`x-amz-decoded-content-length`).
    DecodedLength,
    /// The trailing checksum (`x-amz-trailer`).
    Checksum,
    /// The signing algorithm of the settings.
    Algorithm,
    /// A field of the request or of the signing parameters, when signing the seed failed.
    Request(Field),
}

impl fmt::Display for ChunkedField {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ChunkedField::ChunkSize => f.write_str("chunk_size"),
            ChunkedField::DecodedLength => f.write_str("decoded_content_length"),
            ChunkedField::Checksum => f.write_str("checksum"),
            ChunkedField::Algorithm => f.write_str("settings.algorithm"),
            ChunkedField::Request(field) => field.fmt(f),
        }
    }
}

/// Why an aws-chunked upload cannot be signed or encoded. Like [`Error`], it names the field and
/// never carries a secret or the body.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ChunkedError {
    /// A chunk size below [`MIN_CHUNK_SIZE`] (S3 refuses chunks under 8 KiB but the last).
    ChunkSizeTooSmall {
        /// The chunk size given.
        chunk_size: usize,
    },
    /// A chunk size above [`MAX_CHUNK_SIZE`] (a host holds a chunk in memory).
    ChunkSizeTooLarge {
        /// The chunk size given.
        chunk_size: usize,
    },
    /// The body is longer or shorter than the declared decoded length.
    LengthMismatch {
        /// The declared length.
        declared: u64,
        /// The bytes given: all of them when the body ended short, else at least this many.
        given: u64,
    },
    /// A trailing header that names no checksum algorithm S3 knows (`x-amz-trailer`).
    UnknownChecksum,
    /// A trailer form without a checksum, or the form without a trailer with one.
    ChecksumMismatchesForm(StreamingForm),
    /// The encoded body's length does not fit in 64 bits.
    TooLong,
    /// Bytes fed after [`ChunkEncoder::finish`].
    Finished,
    /// The form's chunks are signed with another algorithm than the settings' (a SigV4 form
    /// with SigV4a settings, or the other way round).
    AlgorithmMismatchesForm(StreamingForm),
    /// Signing the seed (the request's headers) failed.
    Signing(Error),
}

impl ChunkedError {
    /// The field at fault.
    pub fn field(&self) -> ChunkedField {
        match self {
            ChunkedError::ChunkSizeTooSmall { .. } | ChunkedError::ChunkSizeTooLarge { .. } => {
                ChunkedField::ChunkSize
            }
            ChunkedError::LengthMismatch { .. }
            | ChunkedError::TooLong
            | ChunkedError::Finished => ChunkedField::DecodedLength,
            ChunkedError::UnknownChecksum | ChunkedError::ChecksumMismatchesForm(_) => {
                ChunkedField::Checksum
            }
            ChunkedError::Signing(error) => ChunkedField::Request(error.field()),
            ChunkedError::AlgorithmMismatchesForm(_) => ChunkedField::Algorithm,
        }
    }

    /// A stable, machine-readable code.
    pub fn code(&self) -> &'static str {
        match self {
            ChunkedError::ChunkSizeTooSmall { .. } => "chunk_size_too_small",
            ChunkedError::ChunkSizeTooLarge { .. } => "chunk_size_too_large",
            ChunkedError::LengthMismatch { .. } => "length_mismatch",
            ChunkedError::UnknownChecksum => "unknown_checksum",
            ChunkedError::ChecksumMismatchesForm(_) => "checksum_mismatches_form",
            ChunkedError::TooLong => "too_long",
            ChunkedError::Finished => "finished",
            ChunkedError::Signing(error) => error.code(),
            ChunkedError::AlgorithmMismatchesForm(_) => "algorithm_mismatches_form",
        }
    }
}

impl fmt::Display for ChunkedError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ChunkedError::ChunkSizeTooSmall { chunk_size } => write!(
                f,
                "chunk_size must be at least {MIN_CHUNK_SIZE} bytes (S3's minimum but for the last chunk), got {chunk_size}"
            ),
            ChunkedError::ChunkSizeTooLarge { chunk_size } => write!(
                f,
                "chunk_size must be at most {MAX_CHUNK_SIZE} bytes (a chunk is held in memory), got {chunk_size}"
            ),
            ChunkedError::LengthMismatch { declared, given } if given > declared => write!(
                f,
                "decoded_content_length: the body is longer than the {declared} bytes declared (at least {given})"
            ),
            ChunkedError::LengthMismatch { declared, given } => write!(
                f,
                "decoded_content_length: the body ended after {given} of the {declared} bytes declared"
            ),
            ChunkedError::UnknownChecksum => f.write_str(
                "checksum: x-amz-trailer names no checksum S3 knows (x-amz-checksum-crc32, -crc32c, -sha1, -sha256)",
            ),
            ChunkedError::ChecksumMismatchesForm(form) if form.has_trailer() => write!(
                f,
                "checksum: {} sends a trailing checksum: give one (x-amz-trailer)",
                form.as_str()
            ),
            ChunkedError::ChecksumMismatchesForm(form) => write!(
                f,
                "checksum: {} has no trailer: a checksum needs STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER",
                form.as_str()
            ),
            ChunkedError::TooLong => {
                f.write_str("decoded_content_length: the encoded body would exceed 2^64 bytes")
            }
            ChunkedError::Finished => {
                f.write_str("decoded_content_length: bytes given after the body was finished")
            }
            ChunkedError::Signing(error) => error.fmt(f),
            ChunkedError::AlgorithmMismatchesForm(form) => write!(
                f,
                "settings.algorithm: {} is signed with {}, the settings say otherwise",
                form.as_str(),
                if form.algorithm() == Some(Algorithm::SigV4a) {
                    "SigV4a (AWS4-ECDSA-P256-SHA256)"
                } else {
                    "SigV4 (AWS4-HMAC-SHA256)"
                }
            ),
        }
    }
}

impl core::error::Error for ChunkedError {}

impl From<Error> for ChunkedError {
    fn from(error: Error) -> Self {
        ChunkedError::Signing(error)
    }
}

/// What an aws-chunked upload sends: the form, the body's length, the chunk size and the
/// trailing checksum. It fixes the encoded length before the first byte is read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ChunkedUpload {
    form: StreamingForm,
    decoded_length: u64,
    chunk_size: usize,
    checksum: Option<ChecksumAlgorithm>,
    content_length: u64,
}

impl ChunkedUpload {
    /// An upload of `decoded_length` bytes in chunks of `chunk_size` (the last one shorter),
    /// with a trailing `checksum` for the trailer forms (and only for them).
    pub fn new(
        form: StreamingForm,
        decoded_length: u64,
        chunk_size: usize,
        checksum: Option<ChecksumAlgorithm>,
    ) -> Result<Self, ChunkedError> {
        if chunk_size < MIN_CHUNK_SIZE {
            return Err(ChunkedError::ChunkSizeTooSmall { chunk_size });
        }
        if chunk_size > MAX_CHUNK_SIZE {
            return Err(ChunkedError::ChunkSizeTooLarge { chunk_size });
        }
        if form.has_trailer() != checksum.is_some() {
            return Err(ChunkedError::ChecksumMismatchesForm(form));
        }
        let mut upload = ChunkedUpload {
            form,
            decoded_length,
            chunk_size,
            checksum,
            content_length: 0,
        };
        upload.content_length = upload.encoded_length().ok_or(ChunkedError::TooLong)?;
        Ok(upload)
    }

    /// The form: the value of `x-amz-content-sha256`.
    pub fn form(&self) -> StreamingForm {
        self.form
    }

    /// The body's length, `x-amz-decoded-content-length`.
    pub fn decoded_length(&self) -> u64 {
        self.decoded_length
    }

    /// The size of every chunk but the last.
    pub fn chunk_size(&self) -> usize {
        self.chunk_size
    }

    /// The trailing checksum.
    pub fn checksum(&self) -> Option<ChecksumAlgorithm> {
        self.checksum
    }

    /// The encoded body's length, `Content-Length`: the data, every chunk's framing, the final
    /// chunk and the trailer.
    pub fn content_length(&self) -> u64 {
        self.content_length
    }

    /// The number of frames: the data chunks and the final empty one.
    pub fn chunk_count(&self) -> u64 {
        let size = self.chunk_size as u64;
        self.decoded_length / size + u64::from(!self.decoded_length.is_multiple_of(size)) + 1
    }

    fn encoded_length(&self) -> Option<u64> {
        let size = self.chunk_size as u64;
        let (full, rest) = (self.decoded_length / size, self.decoded_length % size);
        let framing = |n: u64| self.frame_overhead(n) as u64;
        let mut total = full.checked_mul(framing(size))?;
        if rest > 0 {
            total = total.checked_add(framing(rest))?;
        }
        let end = self.frame_overhead(0) - CRLF.len() + self.trailer_len();
        total
            .checked_add(self.decoded_length)?
            .checked_add(end as u64)
    }

    /// The bytes a chunk of `size` adds around its data: its header line and the CRLF after it.
    fn frame_overhead(&self, size: u64) -> usize {
        let signature = match self.form.signature_len() {
            0 => 0,
            len => CHUNK_SIGNATURE.len() + len,
        };
        hex_digits(size) + signature + 2 * CRLF.len()
    }

    /// The bytes after the final chunk's header line: the trailing headers and the empty line.
    fn trailer_len(&self) -> usize {
        let checksum = self.checksum.map_or(0, |algorithm| {
            algorithm.header_name().len() + 1 + algorithm.encoded_len() + CRLF.len()
        });
        let signature = match (self.checksum, self.form.signature_len()) {
            (Some(_), len) if len > 0 => TRAILER_SIGNATURE.len() + len + CRLF.len(),
            _ => 0,
        };
        checksum + signature + CRLF.len()
    }

    /// The headers the upload adds to the request (and signs), beside those of [`Signed`]:
    /// `content-encoding`, `content-length`, `x-amz-decoded-content-length` and, with a
    /// trailer, `x-amz-trailer`.
    pub fn headers(&self) -> Vec<(&'static str, String)> {
        let mut headers = Vec::with_capacity(4);
        headers.push(("content-encoding", String::from("aws-chunked")));
        headers.push(("content-length", decimal(self.content_length)));
        headers.push(("x-amz-decoded-content-length", decimal(self.decoded_length)));
        if let Some(algorithm) = self.checksum {
            headers.push(("x-amz-trailer", String::from(algorithm.header_name())));
        }
        headers
    }
}

/// The headers an aws-chunked upload replaces on the request, lowercase.
const REPLACED: [&str; 5] = [
    "content-length",
    "x-amz-decoded-content-length",
    "x-amz-trailer",
    "x-amz-content-sha256",
    "transfer-encoding",
];

/// A request signed for an aws-chunked upload: the headers to send and the encoder of its body.
pub struct ChunkedSigned {
    /// The seed signature, with the signed headers (`authorization`, `x-amz-date`,
    /// `x-amz-content-sha256`, ...) and where the request goes.
    pub signed: Signed,
    /// The upload's own headers, signed: see [`ChunkedUpload::headers`] (`content-encoding`
    /// keeps the request's other encodings after `aws-chunked`).
    pub headers: Vec<(&'static str, String)>,
    /// Encodes the body.
    pub encoder: ChunkEncoder,
}

impl fmt::Debug for ChunkedSigned {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ChunkedSigned")
            .field("signed", &self.signed)
            .field("headers", &self.headers)
            .finish_non_exhaustive()
    }
}

impl Signer {
    /// Signs `request` for an aws-chunked upload: its headers with the upload's own (see
    /// [`ChunkedUpload::headers`]; a `content-length`, `x-amz-decoded-content-length`,
    /// `x-amz-trailer`, `x-amz-content-sha256` or `transfer-encoding` of the request is replaced,
    /// its payload ignored) and the streaming payload name, always in headers. Returns the seed
    /// signature and the encoder that signs the chunks from it.
    pub fn sign_chunked(
        &mut self,
        request: &Request<'_>,
        params: &SigningParams<'_>,
        upload: &ChunkedUpload,
    ) -> Result<ChunkedSigned, ChunkedError> {
        let mut headers = upload.headers();
        let other_encodings = request
            .headers
            .iter()
            .filter(|(name, _)| name.eq_ignore_ascii_case("content-encoding"))
            .flat_map(|(_, value)| value.split(','))
            .map(str::trim)
            .filter(|coding| !coding.is_empty() && !coding.eq_ignore_ascii_case("aws-chunked"));
        for coding in other_encodings {
            headers[0].1.push(',');
            headers[0].1.push_str(coding);
        }
        let mut all: Vec<(&str, &str)> = request
            .headers
            .iter()
            .filter(|(name, _)| {
                !name.eq_ignore_ascii_case("content-encoding")
                    && !REPLACED.iter().any(|r| name.eq_ignore_ascii_case(r))
            })
            .copied()
            .collect();
        all.extend(headers.iter().map(|(name, value)| (*name, value.as_str())));
        let seed_request = Request {
            headers: &all,
            payload: Payload::Sha256Hex(upload.form.as_str()),
            ..*request
        };
        if upload
            .form
            .algorithm()
            .is_some_and(|algorithm| algorithm != params.settings.algorithm)
        {
            return Err(ChunkedError::AlgorithmMismatchesForm(upload.form));
        }
        let mut params = *params;
        params.settings.content_sha256_header = true;
        let signed = self.sign(&seed_request, &params, Location::Headers)?;
        let signer = ChunkSigner::new(&params, signed.signature.as_str())?;
        Ok(ChunkedSigned {
            encoder: ChunkEncoder::new(upload, signer),
            signed,
            headers,
        })
    }
}

/// Signs chunks and trailers, each chained from the signature before it (the seed's first).
/// [`ChunkEncoder`] drives it; hosts that frame the body themselves (variable chunk sizes) may
/// use it directly.
pub struct ChunkSigner {
    key: ChunkKey,
    /// `"\n" amz-date "\n" scope "\n"`: the string to sign after the algorithm line.
    scope: Vec<u8>,
    /// The last signature, lowercase hex (64 digits, or up to 144 for SigV4a; never padded).
    previous: [u8; PADDED_V4A_SIGNATURE],
    previous_len: usize,
    string_to_sign: Vec<u8>,
}

/// The chunk signing key: SigV4's derived HMAC key, or SigV4a's ECDSA P-256 key.
enum ChunkKey {
    Hmac(SigningKey),
    Ecdsa(Box<EcdsaKey>),
}

impl ChunkSigner {
    /// A chunk signer for a seed signature made with `params` (the same credentials, region or
    /// region set, service, time and algorithm), given as its hex digits (64, or up to 144 for
    /// SigV4a).
    pub fn new(params: &SigningParams<'_>, seed_signature: &str) -> Result<Self, ChunkedError> {
        let v4a = params.settings.algorithm == Algorithm::SigV4a;
        let secret = params.credentials.secret_access_key();
        let amz_date = params.time.amz_date();
        let date = params.time.date();
        let key = if v4a {
            crate::sigv4a::check_region_set(params.region)?;
            crate::signing_key::check_service(params.service)?;
            let akid = params.credentials.access_key_id();
            ChunkKey::Ecdsa(Box::new(EcdsaKey::derive(akid, secret)?))
        } else {
            crate::signing_key::check_scope(params.region, params.service)?;
            ChunkKey::Hmac(SigningKey::derive(
                secret,
                &date,
                params.region,
                params.service,
            ))
        };
        let seed = seed_signature.as_bytes();
        let valid = if v4a {
            !seed.is_empty() && seed.len() <= PADDED_V4A_SIGNATURE && seed.len().is_multiple_of(2)
        } else {
            seed.len() == 64
        };
        if !valid || !seed.iter().all(u8::is_ascii_hexdigit) {
            return Err(Error::InvalidPayloadHash.into());
        }
        let mut previous = [0u8; PADDED_V4A_SIGNATURE];
        previous[..seed.len()].copy_from_slice(seed);
        previous.make_ascii_lowercase();
        // Scope = Date/Region/Service/aws4_request (SigV4a: Date/Service/aws4_request)
        let mut scope = Vec::with_capacity(64);
        for part in [&b"\n"[..], &amz_date, b"\n", &date, b"/"] {
            scope.extend_from_slice(part);
        }
        if !v4a {
            scope.extend_from_slice(params.region.as_bytes());
            scope.push(b'/');
        }
        scope.extend_from_slice(params.service.as_bytes());
        scope.extend_from_slice(b"/aws4_request\n");
        Ok(ChunkSigner {
            key,
            scope,
            previous,
            previous_len: seed.len(),
            string_to_sign: Vec::new(),
        })
    }

    /// The last signature made (the seed's before the first chunk), unpadded.
    pub fn previous(&self) -> &str {
        core::str::from_utf8(&self.previous[..self.previous_len]).unwrap_or_default()
    }

    /// Signs the next chunk (the final one is empty) and returns its signature:
    /// `HMAC(kSigning, "AWS4-HMAC-SHA256-PAYLOAD" \n amz-date \n scope \n previous \n
    /// SHA256("") \n SHA256(data))`; for SigV4a, the ECDSA signature (hex of its DER encoding,
    /// unpadded) of the same lines after `"AWS4-ECDSA-P256-SHA256-PAYLOAD"`, the scope without
    /// region.
    pub fn sign_chunk(&mut self, data: &[u8]) -> &str {
        self.sign_chunk_digest(&Sha256::digest(data).into())
    }

    /// Signs the next chunk given the SHA-256 of its data (for a host that hashed it as it
    /// came), as [`sign_chunk`](ChunkSigner::sign_chunk) does.
    pub fn sign_chunk_digest(&mut self, sha256: &[u8; 32]) -> &str {
        let hash = hex::encode32(sha256);
        self.sign_next("PAYLOAD", &[EMPTY_SHA256, &hash])
    }

    /// Signs the trailing headers, given canonical (`name:value\n` each, sorted by name), and
    /// returns the `x-amz-trailer-signature`: `HMAC(kSigning, "AWS4-HMAC-SHA256-TRAILER" \n
    /// amz-date \n scope \n previous \n SHA256(trailers))` (SigV4a: the ECDSA signature after
    /// `"AWS4-ECDSA-P256-SHA256-TRAILER"`).
    pub fn sign_trailer(&mut self, canonical_trailers: &[u8]) -> &str {
        let hash = hex::encode32(&Sha256::digest(canonical_trailers).into());
        self.sign_next("TRAILER", &[&hash])
    }

    /// Signs `algorithm-kind \n scope-lines previous (\n hash)*` and keeps the signature as
    /// the next one's previous.
    ///
    /// An ECDSA signature cannot fail in practice (p256 refuses only an r or s of zero, with a
    /// probability of about 2^-256); if one did, the signature would be empty, the frame
    /// malformed, and the service would refuse the upload.
    fn sign_next(&mut self, kind: &str, hashes: &[&[u8; 64]]) -> &str {
        let text = &mut self.string_to_sign;
        text.clear();
        let algorithm = match self.key {
            ChunkKey::Hmac(_) => crate::ALGORITHM,
            ChunkKey::Ecdsa(_) => crate::ALGORITHM_V4A,
        };
        text.extend_from_slice(algorithm.as_bytes());
        text.push(b'-');
        text.extend_from_slice(kind.as_bytes());
        text.extend_from_slice(&self.scope);
        text.extend_from_slice(&self.previous[..self.previous_len]);
        for hash in hashes {
            text.push(b'\n');
            text.extend_from_slice(&hash[..]);
        }
        match &self.key {
            ChunkKey::Hmac(key) => {
                self.previous[..64].copy_from_slice(&hex::encode32(&key.sign(text)));
                self.previous_len = 64;
            }
            ChunkKey::Ecdsa(key) => {
                let signature = key.sign(text).ok();
                let digits = signature.as_ref().map_or("", |s| s.as_str()).as_bytes();
                self.previous[..digits.len()].copy_from_slice(digits);
                self.previous_len = digits.len();
            }
        }
        self.previous()
    }
}

impl fmt::Debug for ChunkSigner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ChunkSigner")
            .field("previous", &self.previous())
            .finish_non_exhaustive()
    }
}

/// One chunk to write: `header`, then `data`, then `"\r\n"` ([`Frame::parts`] gives all three).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Frame<'a> {
    /// `hex(size) [";chunk-signature=" signature] "\r\n"`.
    pub header: &'a [u8],
    /// The chunk's data.
    pub data: &'a [u8],
}

impl<'a> Frame<'a> {
    /// The frame's bytes in order, for a vectored write.
    pub fn parts(&self) -> [&'a [u8]; 3] {
        [self.header, self.data, CRLF]
    }

    /// The frame's length on the wire.
    pub fn len(&self) -> usize {
        self.header.len() + self.data.len() + CRLF.len()
    }

    /// Whether the frame is empty (never: every frame has a header).
    pub fn is_empty(&self) -> bool {
        false
    }
}

/// The end of the body: the last data chunk if one was pending, then the final empty chunk and
/// the trailer in `end`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Finish<'a> {
    /// The last, short chunk (None when the body is empty or a whole number of chunks).
    pub last: Option<Frame<'a>>,
    /// The final chunk's header line, the trailing headers and the empty line.
    pub end: &'a [u8],
}

/// Encodes a body as aws-chunked frames, signing each chunk. It holds at most one chunk of the
/// body: bytes are taken in until a chunk is full, and that chunk's frame (borrowing the
/// buffer) is returned to be written before more bytes are fed. A whole chunk at the front of
/// the input, with nothing pending, is not copied: it is hashed where it is and its frame
/// borrows it from the input.
///
/// ```
/// # use sigv4_core::*;
/// # let credentials = Credentials::new("AKIDEXAMPLE", "secret", None)?;
/// # let params = SigningParams { credentials: &credentials, region: "us-east-1", service: "s3",
/// #     time: Timestamp::from_unix_seconds(0)?, settings: Settings::for_service("s3") };
/// let body = vec![b'a'; 20_000];
/// let upload = ChunkedUpload::new(StreamingForm::Signed, body.len() as u64, 8192, None)?;
/// let request = Request { method: "PUT", uri: "https://bucket.s3.amazonaws.com/key",
///                         headers: &[], payload: Payload::Unsigned };
/// let mut signed = Signer::new().sign_chunked(&request, &params, &upload)?;
/// let mut wire = Vec::new();
/// let mut input = &body[..];
/// while !input.is_empty() {
///     if let Some(frame) = signed.encoder.push(&mut input)? {
///         frame.parts().iter().for_each(|part| wire.extend_from_slice(part));
///     }
/// }
/// let finish = signed.encoder.finish()?;
/// if let Some(frame) = finish.last {
///     frame.parts().iter().for_each(|part| wire.extend_from_slice(part));
/// }
/// wire.extend_from_slice(finish.end);
/// assert_eq!(wire.len() as u64, upload.content_length());
/// # Ok::<(), ChunkedError>(())
/// ```
pub struct ChunkEncoder {
    form: StreamingForm,
    chunk_size: usize,
    declared: u64,
    given: u64,
    signer: ChunkSigner,
    checksum: Option<(ChecksumAlgorithm, Checksum)>,
    /// The pending chunk's data, when it came in pieces.
    buffer: Vec<u8>,
    /// SHA-256 of the pending chunk's data so far (signed forms).
    chunk_hash: Sha256,
    /// Whether `buffer` was returned in a frame (it is cleared before taking more bytes).
    written: bool,
    /// The last data chunk's header line.
    header: Vec<u8>,
    /// The final chunk and the trailer.
    end: Vec<u8>,
    finished: bool,
}

impl fmt::Debug for ChunkEncoder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ChunkEncoder")
            .field("form", &self.form)
            .field("chunk_size", &self.chunk_size)
            .field("declared", &self.declared)
            .field("given", &self.given)
            .finish_non_exhaustive()
    }
}

impl ChunkEncoder {
    /// An encoder for `upload`, signing with `signer` (made from the seed signature).
    pub fn new(upload: &ChunkedUpload, signer: ChunkSigner) -> Self {
        ChunkEncoder {
            form: upload.form,
            chunk_size: upload.chunk_size,
            declared: upload.decoded_length,
            given: 0,
            signer,
            checksum: upload.checksum.map(|a| (a, Checksum::new(a))),
            buffer: Vec::new(),
            chunk_hash: Sha256::new(),
            written: false,
            header: Vec::with_capacity(96),
            end: Vec::new(),
            finished: false,
        }
    }

    /// The size of every chunk but the last: a host reading the body into its own buffer of
    /// this size and pushing it whole has nothing copied.
    pub fn chunk_size(&self) -> usize {
        self.chunk_size
    }

    /// Takes bytes from the front of `input` (advancing it) until a chunk is full, and returns
    /// that chunk's frame; None when `input` ran out first (feed more, or [`finish`]).
    /// Bytes beyond the declared length are an error, and nothing is taken.
    ///
    /// With nothing pending and a whole chunk at the front of `input`, the frame's data is that
    /// part of `input` (hashed in place, not copied): a host that reads the body a chunk at a
    /// time into its own buffer, or holds all of it, never has it copied here.
    ///
    /// [`finish`]: ChunkEncoder::finish
    pub fn push<'s, 'i: 's>(
        &'s mut self,
        input: &mut &'i [u8],
    ) -> Result<Option<Frame<'s>>, ChunkedError> {
        if self.finished {
            return Err(ChunkedError::Finished);
        }
        let given = self.given.saturating_add(input.len() as u64);
        if given > self.declared {
            return Err(ChunkedError::LengthMismatch {
                declared: self.declared,
                given,
            });
        }
        if self.written {
            self.buffer.clear();
            self.written = false;
        }
        if self.buffer.is_empty() && input.len() >= self.chunk_size {
            let (chunk, rest) = input.split_at(self.chunk_size);
            *input = rest;
            self.take(chunk, false);
            self.sign_pending(chunk.len());
            return Ok(Some(Frame {
                header: &self.header,
                data: chunk,
            }));
        }
        if self.buffer.capacity() == 0 {
            // At most a chunk, and no more than the body has left (a short last chunk).
            let left = (self.declared - self.given).min(self.chunk_size as u64);
            self.buffer.reserve_exact(left as usize);
        }
        let room = self.chunk_size - self.buffer.len();
        let (taken, rest) = input.split_at(room.min(input.len()));
        *input = rest;
        self.take(taken, true);
        if self.buffer.len() < self.chunk_size {
            return Ok(None);
        }
        self.sign_pending(self.buffer.len());
        self.written = true;
        Ok(Some(Frame {
            header: &self.header,
            data: &self.buffer,
        }))
    }

    /// Takes `bytes` into the pending chunk (and into the buffer with `gather`): counted,
    /// checksummed and hashed as they come, so a gathered piece is hashed while it is in the
    /// cache rather than re-read when the chunk is full. (Hashing in 16 KiB steps, each
    /// checksummed then hashed while in the L1 cache, measured no better: 1.20x plain SHA-256
    /// against 1.36x for a CRC32C trailer in 1 MiB chunks, 1.53x against 1.32x for a SHA-256
    /// trailer in 64 KiB chunks, within the bench's noise.)
    fn take(&mut self, bytes: &[u8], gather: bool) {
        self.given += bytes.len() as u64;
        if gather {
            self.buffer.extend_from_slice(bytes);
        }
        if let Some((_, checksum)) = &mut self.checksum {
            checksum.update(bytes);
        }
        if self.form.signs_chunks() {
            self.chunk_hash.update(bytes);
        }
    }

    /// Ends the body: the pending short chunk, the final empty chunk and the trailer. An error if
    /// fewer bytes were given than declared.
    pub fn finish(&mut self) -> Result<Finish<'_>, ChunkedError> {
        if self.finished {
            return Err(ChunkedError::Finished);
        }
        if self.given != self.declared {
            return Err(ChunkedError::LengthMismatch {
                declared: self.declared,
                given: self.given,
            });
        }
        self.finished = true;
        if self.written {
            self.buffer.clear();
        }
        let pending = !self.buffer.is_empty();
        if pending {
            self.sign_pending(self.buffer.len());
        }
        // The final chunk's line, then the trailer part, as HTTP/1.1's last-chunk (RFC 9112).
        let end = &mut self.end;
        let width = self.form.signature_len();
        let signs = self.form.signs_chunks();
        let signature = signs.then(|| self.signer.sign_chunk(&[]));
        write_header(end, 0, signature, width);
        if let Some((algorithm, checksum)) = self.checksum.take() {
            let start = end.len();
            end.extend_from_slice(algorithm.header_name().as_bytes());
            end.push(b':');
            checksum.finish_into(end);
            // Signed canonical: `name:value\n`; sent: `name:value\r\n`.
            end.push(b'\n');
            if signs {
                let signature = self.signer.sign_trailer(&end[start..]);
                end.pop();
                end.extend_from_slice(CRLF);
                end.extend_from_slice(TRAILER_SIGNATURE);
                write_padded(end, signature, width);
            } else {
                end.pop();
            }
            end.extend_from_slice(CRLF);
        }
        end.extend_from_slice(CRLF);
        Ok(Finish {
            last: pending.then_some(Frame {
                header: &self.header,
                data: &self.buffer,
            }),
            end: &self.end,
        })
    }

    /// Signs the pending chunk of `size` bytes (its hash taken in [`take`]) and writes its
    /// header line.
    ///
    /// [`take`]: ChunkEncoder::take
    fn sign_pending(&mut self, size: usize) {
        let signature = self.form.signs_chunks().then(|| {
            let digest = self.chunk_hash.finalize_reset().into();
            self.signer.sign_chunk_digest(&digest)
        });
        self.header.clear();
        write_header(
            &mut self.header,
            size as u64,
            signature,
            self.form.signature_len(),
        );
    }
}

/// Appends a chunk's header line: `hex(size) [";chunk-signature=" signature] "\r\n"`, the
/// signature padded to `width`.
fn write_header(out: &mut Vec<u8>, size: u64, signature: Option<&str>, width: usize) {
    let n = hex_digits(size);
    for i in (0..n).rev() {
        out.push(b"0123456789abcdef"[((size >> (4 * i)) & 0xf) as usize]);
    }
    if let Some(signature) = signature {
        out.extend_from_slice(CHUNK_SIGNATURE);
        write_padded(out, signature, width);
    }
    out.extend_from_slice(CRLF);
}

/// Appends `signature` right-padded with `*` to `width` (SigV4a's fixed 144 characters; a
/// SigV4 signature is 64 digits, its width).
fn write_padded(out: &mut Vec<u8>, signature: &str, width: usize) {
    out.extend_from_slice(signature.as_bytes());
    out.resize(out.len() + width.saturating_sub(signature.len()), b'*');
}

/// The number of hex digits of `n` (1 for 0).
fn hex_digits(n: u64) -> usize {
    (64 - n.leading_zeros() as usize).div_ceil(4).max(1)
}

/// `n` in decimal, without `core::fmt` (which `write!` would link into the wasm builds).
fn decimal(n: u64) -> String {
    crate::sign::decimal(n, &mut [0u8; 20]).into()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Credentials, Settings, Timestamp};
    use alloc::vec;

    const SECRET: &str = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";

    fn credentials() -> Credentials {
        Credentials::new("AKIAIOSFODNN7EXAMPLE", SECRET, None).unwrap()
    }

    fn params(credentials: &Credentials) -> SigningParams<'_> {
        SigningParams {
            credentials,
            region: "us-east-1",
            service: "s3",
            time: Timestamp::parse_amz_date("20130524T000000Z").unwrap(),
            settings: Settings::for_service("s3"),
        }
    }

    /// The whole encoded body, the input fed in pieces of `piece` bytes.
    fn encode(encoder: &mut ChunkEncoder, body: &[u8], piece: usize) -> Vec<u8> {
        let mut wire = Vec::new();
        for mut input in body.chunks(piece.max(1)) {
            while !input.is_empty() {
                if let Some(frame) = encoder.push(&mut input).unwrap() {
                    frame.parts().iter().for_each(|p| wire.extend_from_slice(p));
                }
            }
        }
        let finish = encoder.finish().unwrap();
        if let Some(frame) = finish.last {
            frame.parts().iter().for_each(|p| wire.extend_from_slice(p));
        }
        wire.extend_from_slice(finish.end);
        wire
    }

    fn text(bytes: &[u8]) -> &str {
        core::str::from_utf8(bytes).unwrap()
    }

    #[test]
    fn the_aws_documentation_example() {
        // S3 API reference, "Signature Calculations for the Authorization Header: Transferring
        // Payload in Multiple Chunks", Example: PUT Object: 66560 bytes of 'a' in 64 KiB chunks.
        let credentials = credentials();
        let params = params(&credentials);
        let body = vec![b'a'; 66560];
        let upload = ChunkedUpload::new(StreamingForm::Signed, 66560, 65536, None).unwrap();
        assert_eq!(upload.content_length(), 66824);
        assert_eq!(upload.chunk_count(), 3);
        let request = Request {
            method: "PUT",
            uri: "/examplebucket/chunkObject.txt",
            headers: &[
                ("Host", "s3.amazonaws.com"),
                ("x-amz-storage-class", "REDUCED_REDUNDANCY"),
            ],
            payload: Payload::Unsigned,
        };
        let mut signer = Signer::new();
        let mut signed = signer.sign_chunked(&request, &params, &upload).unwrap();
        assert_eq!(
            signed.signed.signature.as_str(),
            "4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9"
        );
        assert_eq!(
            signed.signed.authorization(),
            Some(concat!(
                "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, ",
                "SignedHeaders=content-encoding;content-length;host;x-amz-content-sha256;x-amz-date;",
                "x-amz-decoded-content-length;x-amz-storage-class, ",
                "Signature=4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9"
            ))
        );
        assert!(
            signed
                .signed
                .headers()
                .any(|h| h == ("x-amz-content-sha256", "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"))
        );
        let headers: Vec<(&str, &str)> = signed
            .headers
            .iter()
            .map(|(n, v)| (*n, v.as_str()))
            .collect();
        assert_eq!(
            headers,
            [
                ("content-encoding", "aws-chunked"),
                ("content-length", "66824"),
                ("x-amz-decoded-content-length", "66560"),
            ]
        );
        let wire = encode(&mut signed.encoder, &body, 4096);
        let mut expected = Vec::new();
        expected.extend_from_slice(
            b"10000;chunk-signature=ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648\r\n",
        );
        expected.extend_from_slice(&body[..65536]);
        expected.extend_from_slice(
            b"\r\n400;chunk-signature=0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497\r\n",
        );
        expected.extend_from_slice(&body[65536..]);
        expected.extend_from_slice(
            b"\r\n0;chunk-signature=b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9\r\n\r\n",
        );
        assert_eq!(text(&wire), text(&expected));
        assert_eq!(wire.len() as u64, upload.content_length());
    }

    #[test]
    fn the_aws_documentation_trailer_example() {
        // S3 API reference, "Signature Calculations for the Authorization Header: Including
        // Trailing Headers", Example: PUT Object, with x-amz-checksum-crc32c. Its seed request
        // signs no Content-Length, so the seed is signed here as the example has it, and the
        // encoder starts from that seed.
        let credentials = credentials();
        let params = params(&credentials);
        let request = Request {
            method: "PUT",
            uri: "/examplebucket/chunkObject.txt",
            headers: &[
                ("Host", "s3.amazonaws.com"),
                ("x-amz-storage-class", "REDUCED_REDUNDANCY"),
                ("Content-Encoding", "aws-chunked"),
                ("x-amz-decoded-content-length", "66560"),
                ("x-amz-trailer", "x-amz-checksum-crc32c"),
            ],
            payload: Payload::Sha256Hex(StreamingForm::SignedWithTrailer.as_str()),
        };
        let seed = Signer::new()
            .sign(&request, &params, Location::Headers)
            .unwrap();
        assert_eq!(
            seed.signature.as_str(),
            "106e2a8a18243abcf37539882f36619c00e2dfc72633413f02d3b74544bfeb8e"
        );
        let upload = ChunkedUpload::new(
            StreamingForm::SignedWithTrailer,
            66560,
            65536,
            Some(ChecksumAlgorithm::Crc32c),
        )
        .unwrap();
        let signer = ChunkSigner::new(&params, seed.signature.as_str()).unwrap();
        let mut encoder = ChunkEncoder::new(&upload, signer);
        let body = vec![b'a'; 66560];
        let wire = encode(&mut encoder, &body, 65536);
        let mut expected = Vec::new();
        expected.extend_from_slice(
            b"10000;chunk-signature=b474d8862b1487a5145d686f57f013e54db672cee1c953b3010fb58501ef5aa2\r\n",
        );
        expected.extend_from_slice(&body[..65536]);
        expected.extend_from_slice(
            b"\r\n400;chunk-signature=1c1344b170168f8e65b41376b44b20fe354e373826ccbbe2c1d40a8cae51e5c7\r\n",
        );
        expected.extend_from_slice(&body[65536..]);
        expected.extend_from_slice(
            b"\r\n0;chunk-signature=2ca2aba2005185cf7159c6277faf83795951dd77a3a99e6e65d5c9f85863f992\r\n\
              x-amz-checksum-crc32c:sOO8/Q==\r\n\
              x-amz-trailer-signature:d81f82fc3505edab99d459891051a732e8730629a2e4a59689829ca17fe2e435\r\n\r\n",
        );
        assert_eq!(text(&wire), text(&expected));
        assert_eq!(wire.len() as u64, upload.content_length());
    }

    /// A decoder for the tests: the frames' sizes, signatures and data, and the trailer lines.
    struct Decoded {
        sizes: Vec<usize>,
        signatures: Vec<String>,
        data: Vec<u8>,
        trailer: Vec<String>,
    }

    fn decode(wire: &[u8]) -> Decoded {
        let mut out = Decoded {
            sizes: Vec::new(),
            signatures: Vec::new(),
            data: Vec::new(),
            trailer: Vec::new(),
        };
        let mut rest = wire;
        let line = |rest: &mut &[u8]| -> String {
            let end = rest.windows(2).position(|w| w == CRLF).expect("a CRLF");
            let line = text(&rest[..end]).into();
            *rest = &rest[end + 2..];
            line
        };
        loop {
            let header = line(&mut rest);
            let (size, signature) = match header.split_once(";chunk-signature=") {
                Some((size, signature)) => (size, Some(signature)),
                None => (header.as_str(), None),
            };
            let size = usize::from_str_radix(size, 16).unwrap();
            out.sizes.push(size);
            out.signatures.extend(signature.map(String::from));
            if size == 0 {
                break;
            }
            out.data.extend_from_slice(&rest[..size]);
            assert_eq!(&rest[size..size + 2], CRLF);
            rest = &rest[size + 2..];
        }
        loop {
            let trailer = line(&mut rest);
            if trailer.is_empty() {
                break;
            }
            out.trailer.push(trailer);
        }
        assert!(rest.is_empty(), "bytes after the trailer");
        out
    }

    const FORMS_AND_CHECKSUMS: [(StreamingForm, Option<ChecksumAlgorithm>); 5] = [
        (StreamingForm::Signed, None),
        (
            StreamingForm::SignedWithTrailer,
            Some(ChecksumAlgorithm::Crc32c),
        ),
        (
            StreamingForm::SignedWithTrailer,
            Some(ChecksumAlgorithm::Sha256),
        ),
        (
            StreamingForm::UnsignedWithTrailer,
            Some(ChecksumAlgorithm::Crc32),
        ),
        (
            StreamingForm::UnsignedWithTrailer,
            Some(ChecksumAlgorithm::Sha1),
        ),
    ];

    #[test]
    fn frames_and_lengths_of_every_size() {
        let credentials = credentials();
        let params = params(&credentials);
        let size = MIN_CHUNK_SIZE;
        for (form, checksum) in FORMS_AND_CHECKSUMS {
            for length in [0, 1, size - 1, size, size + 1, 3 * size, 3 * size + 17] {
                let body: Vec<u8> = (0..length).map(|i| (i * 7 % 251) as u8).collect();
                let upload = ChunkedUpload::new(form, length as u64, size, checksum).unwrap();
                let request = Request {
                    method: "PUT",
                    uri: "https://bucket.s3.amazonaws.com/key",
                    headers: &[("content-length", "999"), ("Content-Encoding", "gzip")],
                    payload: Payload::Bytes(b"ignored"),
                };
                let mut signed = Signer::new()
                    .sign_chunked(&request, &params, &upload)
                    .unwrap();
                assert_eq!(signed.headers[0].1, "aws-chunked,gzip");
                let seed = String::from(signed.signed.signature.as_str());
                for piece in [1, 1000, size, 100_000] {
                    if piece == 1 && length > size {
                        continue;
                    }
                    let mut again = Signer::new()
                        .sign_chunked(&request, &params, &upload)
                        .unwrap();
                    let wire = encode(&mut again.encoder, &body, piece);
                    assert_eq!(
                        wire.len() as u64,
                        upload.content_length(),
                        "{form:?} {length}"
                    );
                    let decoded = decode(&wire);
                    assert_eq!(decoded.data, body);
                    let mut sizes = vec![size; length / size];
                    if length % size != 0 {
                        sizes.push(length % size);
                    }
                    sizes.push(0);
                    assert_eq!(decoded.sizes, sizes);
                    assert_eq!(decoded.sizes.len() as u64, upload.chunk_count());
                    // The signatures chain from the seed over each chunk's data.
                    if form.signs_chunks() {
                        let mut check = ChunkSigner::new(&params, &seed).unwrap();
                        let chunks = body.chunks(size).chain([&[][..]]);
                        for (chunk, signature) in chunks.zip(&decoded.signatures) {
                            assert_eq!(check.sign_chunk(chunk), signature);
                        }
                        assert_eq!(decoded.signatures.len(), sizes.len());
                    } else {
                        assert!(decoded.signatures.is_empty());
                    }
                    let algorithm = checksum.map(|a| a.header_name());
                    let names: Vec<&str> = decoded
                        .trailer
                        .iter()
                        .map(|t| t.split_once(':').unwrap().0)
                        .collect();
                    match (algorithm, form.signs_chunks()) {
                        (None, _) => assert!(names.is_empty()),
                        (Some(name), true) => {
                            assert_eq!(names, [name, "x-amz-trailer-signature"])
                        }
                        (Some(name), false) => assert_eq!(names, [name]),
                    }
                }
                let _ = signed.encoder.push(&mut &body[..]).unwrap();
            }
        }
    }

    #[test]
    fn chunks_hashed_in_place_and_gathered_sign_alike() {
        // Chunks fed whole (hashed in place), in pieces (gathered), and in pieces that straddle
        // chunks: the same body on the wire, and the signatures of
        // the plain path (each chunk hashed at once by ChunkSigner::sign_chunk).
        let credentials = credentials();
        let params = params(&credentials);
        let size = 40_000;
        let length = 3 * size + 99;
        let body: Vec<u8> = (0..length).map(|i| (i * 13 % 241) as u8).collect();
        let seed = "0".repeat(64);
        for (form, checksum) in FORMS_AND_CHECKSUMS {
            let upload = ChunkedUpload::new(form, length as u64, size, checksum).unwrap();
            let new = || ChunkEncoder::new(&upload, ChunkSigner::new(&params, &seed).unwrap());
            let whole = encode(&mut new(), &body, length);
            for piece in [1000, 16_385, size, size - 1, 2 * size + 1] {
                assert_eq!(encode(&mut new(), &body, piece), whole, "{form:?} {piece}");
            }
            let decoded = decode(&whole);
            assert_eq!(decoded.data, body);
            if form.signs_chunks() {
                let mut check = ChunkSigner::new(&params, &seed).unwrap();
                let chunks = body.chunks(size).chain([&[][..]]);
                for (chunk, signature) in chunks.zip(&decoded.signatures) {
                    assert_eq!(check.sign_chunk(chunk), signature);
                }
            }
        }
        // A whole chunk given with nothing pending is not copied: the frame borrows the input.
        let upload = ChunkedUpload::new(StreamingForm::Signed, length as u64, size, None).unwrap();
        let mut encoder = ChunkEncoder::new(&upload, ChunkSigner::new(&params, &seed).unwrap());
        let mut input = &body[..];
        let frame = encoder.push(&mut input).unwrap().unwrap();
        assert_eq!(frame.data.as_ptr(), body.as_ptr());
        assert_eq!(frame.data.len(), size);
        assert_eq!(input.len(), length - size);
        // Then a piece: gathered (copied) until the chunk is full.
        let mut piece = &input[..size - 1];
        assert_eq!(encoder.push(&mut piece).unwrap(), None);
        let mut rest = &input[size - 1..];
        let frame = encoder.push(&mut rest).unwrap().unwrap();
        assert_ne!(frame.data.as_ptr(), input.as_ptr());
        assert_eq!(frame.data, &input[..size]);
    }

    #[test]
    fn sigv4a_chunk_and_trailer_signatures_verify() {
        use crate::{sigv4a_public_key, sigv4a_signature_is_valid};
        let credentials = credentials();
        let params = SigningParams {
            region: "us-east-1,us-west-2",
            settings: Settings {
                algorithm: Algorithm::SigV4a,
                ..Settings::for_service("s3")
            },
            ..params(&credentials)
        };
        let public_key = sigv4a_public_key(&credentials).unwrap();
        let size = MIN_CHUNK_SIZE;
        let length = 2 * size + 100;
        let body: Vec<u8> = (0..length).map(|i| (i * 3 % 251) as u8).collect();
        let scope = "20130524T000000Z\n20130524/s3/aws4_request";
        for (form, checksum) in [
            (StreamingForm::SigV4aSigned, None),
            (
                StreamingForm::SigV4aSignedWithTrailer,
                Some(ChecksumAlgorithm::Crc32c),
            ),
        ] {
            let upload = ChunkedUpload::new(form, length as u64, size, checksum).unwrap();
            let request = Request {
                method: "PUT",
                uri: "https://bucket.s3.amazonaws.com/key",
                headers: &[],
                payload: Payload::Unsigned,
            };
            let mut signed = Signer::new()
                .sign_chunked(&request, &params, &upload)
                .unwrap();
            assert!(
                signed
                    .signed
                    .authorization()
                    .unwrap()
                    .starts_with("AWS4-ECDSA-P256-SHA256 ")
            );
            assert!(
                signed
                    .signed
                    .headers()
                    .any(|h| h == ("x-amz-content-sha256", form.as_str()))
            );
            assert!(
                signed
                    .signed
                    .headers()
                    .any(|h| h == ("x-amz-region-set", "us-east-1,us-west-2"))
            );
            let wire = encode(&mut signed.encoder, &body, 5000);
            assert_eq!(wire.len() as u64, upload.content_length(), "{form:?}");
            let decoded = decode(&wire);
            assert_eq!(decoded.data, body);
            assert_eq!(decoded.signatures.len(), 4);
            // Each chunk's signature: padded to 144 with '*' in the frame, an ECDSA signature of
            // the chunk's string to sign (the previous signature unpadded) under the key of the
            // credentials.
            let mut previous = String::from(signed.signed.signature.as_str());
            let chunks = body.chunks(size).chain([&[][..]]);
            for (chunk, padded) in chunks.zip(&decoded.signatures) {
                assert_eq!(padded.len(), 144);
                let signature = padded.trim_end_matches('*');
                let string_to_sign = alloc::format!(
                    "AWS4-ECDSA-P256-SHA256-PAYLOAD\n{scope}\n{previous}\n{}\n{}",
                    text(EMPTY_SHA256),
                    text(&hex::encode32(&Sha256::digest(chunk).into()))
                );
                assert!(
                    sigv4a_signature_is_valid(&public_key, &string_to_sign, signature),
                    "{form:?}: {string_to_sign}"
                );
                assert!(!sigv4a_signature_is_valid(
                    &public_key,
                    &string_to_sign.replace("PAYLOAD", "TRAILER"),
                    signature
                ));
                previous = String::from(signature);
            }
            if let Some(algorithm) = checksum {
                let (line, padded) = (&decoded.trailer[0], &decoded.trailer[1]);
                assert!(line.starts_with(algorithm.header_name()));
                let padded = padded.strip_prefix("x-amz-trailer-signature:").unwrap();
                assert_eq!(padded.len(), 144);
                let signature = padded.trim_end_matches('*');
                let canonical = alloc::format!("{line}\n");
                let string_to_sign = alloc::format!(
                    "AWS4-ECDSA-P256-SHA256-TRAILER\n{scope}\n{previous}\n{}",
                    text(&hex::encode32(&Sha256::digest(canonical.as_bytes()).into()))
                );
                assert!(sigv4a_signature_is_valid(
                    &public_key,
                    &string_to_sign,
                    signature
                ));
            } else {
                assert!(decoded.trailer.is_empty());
            }
        }
    }

    #[test]
    fn the_unsigned_form_frames_as_the_sdks_do() {
        let credentials = credentials();
        let params = params(&credentials);
        let upload = ChunkedUpload::new(
            StreamingForm::UnsignedWithTrailer,
            5,
            MIN_CHUNK_SIZE,
            Some(ChecksumAlgorithm::Crc32),
        )
        .unwrap();
        let signer = ChunkSigner::new(&params, &"0".repeat(64)).unwrap();
        let wire = encode(&mut ChunkEncoder::new(&upload, signer), b"hello", 2);
        // CRC32("hello") = 0x3610a686.
        assert_eq!(
            text(&wire),
            "5\r\nhello\r\n0\r\nx-amz-checksum-crc32:NhCmhg==\r\n\r\n"
        );
        assert_eq!(wire.len() as u64, upload.content_length());
    }

    #[test]
    fn refuses_what_s3_would() {
        let credentials = credentials();
        let params = params(&credentials);
        assert_eq!(
            ChunkedUpload::new(StreamingForm::Signed, 10, MAX_CHUNK_SIZE + 1, None),
            Err(ChunkedError::ChunkSizeTooLarge {
                chunk_size: MAX_CHUNK_SIZE + 1
            })
        );
        assert_eq!(
            ChunkedUpload::new(StreamingForm::Signed, 10, MIN_CHUNK_SIZE - 1, None),
            Err(ChunkedError::ChunkSizeTooSmall {
                chunk_size: MIN_CHUNK_SIZE - 1
            })
        );
        assert_eq!(
            ChunkedUpload::new(StreamingForm::Signed, 10, 0, None)
                .unwrap_err()
                .field(),
            ChunkedField::ChunkSize
        );
        let crc = Some(ChecksumAlgorithm::Crc32);
        for (form, checksum) in [
            (StreamingForm::Signed, crc),
            (StreamingForm::SignedWithTrailer, None),
            (StreamingForm::UnsignedWithTrailer, None),
        ] {
            let error = ChunkedUpload::new(form, 10, MIN_CHUNK_SIZE, checksum).unwrap_err();
            assert_eq!(error, ChunkedError::ChecksumMismatchesForm(form));
            assert_eq!(error.field(), ChunkedField::Checksum);
        }
        assert_eq!(
            ChunkedUpload::new(StreamingForm::Signed, u64::MAX, MIN_CHUNK_SIZE, None),
            Err(ChunkedError::TooLong)
        );
        assert!(
            ChunkedUpload::new(StreamingForm::Signed, u64::MAX / 2, MAX_CHUNK_SIZE, None).is_ok()
        );

        let upload = ChunkedUpload::new(StreamingForm::Signed, 10, MIN_CHUNK_SIZE, None).unwrap();
        let new_encoder =
            || ChunkEncoder::new(&upload, ChunkSigner::new(&params, &"a".repeat(64)).unwrap());
        // Too many bytes: refused whole, nothing taken.
        let mut encoder = new_encoder();
        let mut input = &[0u8; 11][..];
        assert_eq!(
            encoder.push(&mut input),
            Err(ChunkedError::LengthMismatch {
                declared: 10,
                given: 11
            })
        );
        assert_eq!(input.len(), 11);
        // Too few.
        assert!(encoder.push(&mut &[0u8; 4][..]).unwrap().is_none());
        let error = encoder.finish().unwrap_err();
        assert_eq!(
            error,
            ChunkedError::LengthMismatch {
                declared: 10,
                given: 4
            }
        );
        assert_eq!(error.field(), ChunkedField::DecodedLength);
        // Nothing after the end.
        let mut encoder = new_encoder();
        encoder.push(&mut &[0u8; 10][..]).unwrap();
        encoder.finish().unwrap();
        assert_eq!(encoder.finish(), Err(ChunkedError::Finished));
        assert_eq!(encoder.push(&mut &[][..]), Err(ChunkedError::Finished));
        // SigV4a settings with a SigV4 form, and the other way round.
        let v4a = SigningParams {
            settings: Settings {
                algorithm: Algorithm::SigV4a,
                ..params.settings
            },
            ..params
        };
        let v4a_upload =
            ChunkedUpload::new(StreamingForm::SigV4aSigned, 10, MIN_CHUNK_SIZE, None).unwrap();
        assert_eq!(
            Signer::new()
                .sign_chunked(
                    &Request {
                        method: "PUT",
                        uri: "https://b.s3.amazonaws.com/k",
                        headers: &[],
                        payload: Payload::Unsigned
                    },
                    &params,
                    &v4a_upload
                )
                .unwrap_err(),
            ChunkedError::AlgorithmMismatchesForm(StreamingForm::SigV4aSigned)
        );
        assert_eq!(
            ChunkSigner::new(&v4a, &"a".repeat(145)).unwrap_err().code(),
            "invalid_payload_hash"
        );
        assert_eq!(
            Signer::new()
                .sign_chunked(
                    &Request {
                        method: "PUT",
                        uri: "https://b.s3.amazonaws.com/k",
                        headers: &[],
                        payload: Payload::Unsigned
                    },
                    &v4a,
                    &upload
                )
                .unwrap_err(),
            ChunkedError::AlgorithmMismatchesForm(StreamingForm::Signed)
        );
        // A seed that is no signature, a bad scope.
        assert!(ChunkSigner::new(&params, "xyz").is_err());
        let bad = SigningParams {
            region: "us/east",
            ..params
        };
        assert_eq!(
            ChunkSigner::new(&bad, &"a".repeat(64)).unwrap_err().field(),
            ChunkedField::Request(Field::Region)
        );
        assert_eq!(
            Signer::new()
                .sign_chunked(
                    &Request {
                        method: "PUT",
                        uri: "no host",
                        headers: &[],
                        payload: Payload::Unsigned
                    },
                    &params,
                    &upload
                )
                .unwrap_err()
                .code(),
            "invalid_uri"
        );
    }

    #[test]
    fn matches_aws_sigv4_chunk_and_trailer_signing() {
        use aws_credential_types::Credentials as AwsCredentials;
        use aws_sigv4::sign::v4::{SigningParams as AwsParams, sign_chunk, sign_trailer};
        use aws_smithy_runtime_api::client::identity::Identity;
        use aws_smithy_runtime_api::http::Headers;

        let credentials = credentials();
        let params = params(&credentials);
        let identity: Identity =
            AwsCredentials::new("AKIAIOSFODNN7EXAMPLE", SECRET, None, None, "test").into();
        let time =
            std::time::UNIX_EPOCH + core::time::Duration::from_secs(params.time.unix_seconds());
        let aws_params = AwsParams::builder()
            .identity(&identity)
            .region("us-east-1")
            .name("s3")
            .time(time)
            .settings(())
            .build()
            .unwrap();
        let seed = "106e2a8a18243abcf37539882f36619c00e2dfc72633413f02d3b74544bfeb8e";
        let mut ours = ChunkSigner::new(&params, seed).unwrap();
        let mut theirs = String::from(seed);
        for length in [0usize, 1, 100, 8192, 70_001] {
            let data: Vec<u8> = (0..length).map(|i| (i % 256) as u8).collect();
            // `bytes::Bytes`, inferred: the crate is not a dependency here.
            theirs = sign_chunk(&data.clone().into(), &theirs, &aws_params)
                .unwrap()
                .into_parts()
                .1;
            assert_eq!(ours.sign_chunk(&data), theirs);
        }
        let mut trailer = Headers::new();
        trailer.insert(
            "x-amz-checksum-sha256",
            "ungWv48Bz+pBQUDeXa4iI7ADYaOWF3qctBD/YfIAFa0=",
        );
        let theirs = sign_trailer(&trailer, &theirs, &aws_params)
            .unwrap()
            .into_parts()
            .1;
        assert_eq!(
            ours.sign_trailer(
                b"x-amz-checksum-sha256:ungWv48Bz+pBQUDeXa4iI7ADYaOWF3qctBD/YfIAFa0=\n"
            ),
            theirs
        );
    }
}
