//! S3's aws-chunked uploads for JavaScript: the seed signed by the core's
//! [`sigv4_core::Signer::sign_chunked`], then a [`Chunks`] that signs each chunk as JavaScript
//! reads the body (`js/src/chunked.js`). The chunk signing key stays in the wasm's memory.
//!
//! Two ways to sign chunks, both the core's:
//! - without a trailer, a [`sigv4_core::ChunkSigner`] signs each chunk given its data or its
//!   SHA-256, and JavaScript writes the frame around it: where node:crypto is there, its native
//!   SHA-256 of the chunk is several times faster than the wasm's, and the data never has to be
//!   copied into the wasm's memory (`js/bench/stream.mjs`);
//! - with a trailing checksum, the core's [`sigv4_core::ChunkEncoder`] takes the data (it
//!   computes the checksum) and returns each frame's header line and the trailer.

use alloc::boxed::Box;
use alloc::string::String;

use sigv4_core::{
    ChecksumAlgorithm, ChunkEncoder, ChunkSigner, ChunkedError, ChunkedUpload, Request,
    SigningParams, StreamingForm, Timestamp,
};
use wasm_bindgen::prelude::wasm_bindgen;

use crate::{Failure, Input, Signer, settings, with_parts, write_signed};

/// Signs the chunks of one aws-chunked upload, chained from its seed signature.
#[wasm_bindgen]
pub struct Chunks {
    kind: Kind,
    error: Option<ChunkedError>,
}

enum Kind {
    /// `STREAMING-AWS4-HMAC-SHA256-PAYLOAD`: JavaScript frames the chunks.
    Signer(Box<ChunkSigner>),
    /// `STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER`: the core frames them.
    Encoder(Box<ChunkEncoder>),
}

#[wasm_bindgen]
impl Signer {
    /// Signs the request in the buffer (laid out as for [`Signer::sign`], without a body) for an
    /// aws-chunked upload of `decoded_length` bytes in chunks of `chunk_size`, with the trailing
    /// `checksum` header named (`x-amz-checksum-crc32c`; empty for none). Returns the byte length
    /// of the result at [`Signer::output`] (as [`Signer::sign`]'s, then the upload's headers,
    /// `#name` lines: `content-encoding`, `content-length`, `x-amz-decoded-content-length`,
    /// `x-amz-trailer`), or -1 on error (see [`Signer::error`]). The chunk signer is then taken
    /// with [`Signer::chunks`].
    #[allow(clippy::too_many_arguments)]
    pub fn sign_chunked(
        &mut self,
        parts: usize,
        text: usize,
        time: f64,
        flags: u32,
        decoded_length: f64,
        chunk_size: usize,
        checksum: &str,
    ) -> i32 {
        let input = Input::of(&self.input, parts, text, 0);
        self.output.clear();
        self.chunks = None;
        let Some(credentials) = &self.credentials else {
            return self.failed(Failure::Core(sigv4_core::Error::Empty(
                sigv4_core::Field::AccessKeyId,
            )));
        };
        let signer = &mut self.signer;
        let out = &mut self.output;
        let result = with_parts(
            input,
            |[method, uri, region, service, _payload], headers, _body| {
                let params = SigningParams {
                    credentials,
                    region,
                    service,
                    // Checked to be a non-negative integer in JavaScript; `as` saturates the rest.
                    time: Timestamp::from_unix_seconds(time as u64)?,
                    settings: settings(flags, service),
                };
                Ok(start(
                    signer,
                    &Request {
                        method,
                        uri,
                        headers,
                        payload: sigv4_core::Payload::Unsigned,
                    },
                    &params,
                    decoded_length as u64,
                    chunk_size,
                    checksum,
                    out,
                ))
            },
        );
        match result {
            Ok(Ok(chunks)) => {
                self.chunks = Some(chunks);
                i32::try_from(self.output.len()).unwrap_or(-1)
            }
            Ok(Err(e)) => self.failed(Failure::Chunked(e)),
            Err(e) => self.failed(Failure::Core(e)),
        }
    }

    /// The chunk signer of the last successful [`Signer::sign_chunked`] (once).
    pub fn chunks(&mut self) -> Option<Chunks> {
        self.chunks.take()
    }
}

impl Signer {
    fn failed(&mut self, failure: Failure) -> i32 {
        self.output.clear();
        self.error = Some(failure);
        -1
    }
}

/// Signs the seed and makes the chunk signer; writes the headers to set into `out`.
fn start(
    signer: &mut sigv4_core::Signer,
    request: &Request<'_>,
    params: &SigningParams<'_>,
    decoded_length: u64,
    chunk_size: usize,
    checksum: &str,
    out: &mut String,
) -> Result<Chunks, ChunkedError> {
    let (form, checksum) = if checksum.is_empty() {
        (StreamingForm::Signed, None)
    } else {
        let algorithm = ChecksumAlgorithm::from_header_name(checksum)?;
        (StreamingForm::SignedWithTrailer, Some(algorithm))
    };
    let upload = ChunkedUpload::new(form, decoded_length, chunk_size, checksum)?;
    let signed = signer.sign_chunked(request, params, &upload)?;
    write_signed(&signed.signed, out);
    for (name, value) in &signed.headers {
        out.push_str("\n#");
        out.push_str(name);
        out.push('\n');
        out.push_str(value);
    }
    let kind = if form.has_trailer() {
        Kind::Encoder(Box::new(signed.encoder))
    } else {
        Kind::Signer(Box::new(ChunkSigner::new(
            params,
            signed.signed.signature.as_str(),
        )?))
    };
    Ok(Chunks { kind, error: None })
}

#[wasm_bindgen]
impl Chunks {
    /// Signs the next chunk of the form without a trailer (the final chunk is empty) given its
    /// data, and returns its signature (64 hex digits); empty with a trailer (use
    /// [`Chunks::push`]).
    pub fn sign(&mut self, data: &[u8]) -> String {
        match &mut self.kind {
            Kind::Signer(signer) => String::from(signer.sign_chunk(data)),
            Kind::Encoder(_) => String::new(),
        }
    }

    /// As [`Chunks::sign`], given the SHA-256 of the chunk's data (32 bytes; empty otherwise).
    pub fn sign_digest(&mut self, sha256: &[u8]) -> String {
        match (&mut self.kind, <&[u8; 32]>::try_from(sha256)) {
            (Kind::Signer(signer), Ok(digest)) => String::from(signer.sign_chunk_digest(digest)),
            _ => String::new(),
        }
    }

    /// The form with a trailer: takes the next piece of the body, at most a chunk and never
    /// crossing a chunk's end, and returns the header line of the frame it completes (empty
    /// when the chunk is not complete yet: the last, short one is framed by
    /// [`Chunks::finish`]); undefined on error (see [`Chunks::error`]).
    pub fn push(&mut self, data: &[u8]) -> Option<String> {
        let Kind::Encoder(encoder) = &mut self.kind else {
            return None;
        };
        let mut input = data;
        match encoder.push(&mut input) {
            Ok(frame) => Some(frame.map_or_else(String::new, |frame| ascii(frame.header))),
            Err(e) => {
                self.error = Some(e);
                None
            }
        }
    }

    /// The form with a trailer: ends the body, and returns the header line of the last, short
    /// chunk (if one is pending), then the final chunk and the trailer; undefined on error (too
    /// few bytes: see [`Chunks::error`]).
    pub fn finish(&mut self) -> Option<String> {
        let Kind::Encoder(encoder) = &mut self.kind else {
            return None;
        };
        match encoder.finish() {
            Ok(finish) => {
                let mut out = finish.last.map_or_else(String::new, |f| ascii(f.header));
                out.push_str(&ascii(finish.end));
                Some(out)
            }
            Err(e) => {
                self.error = Some(e);
                None
            }
        }
    }

    /// The last error, as [`Signer::error`] gives it.
    pub fn error(&self) -> Option<String> {
        self.error.as_ref().map(crate::error_text::encode_chunked)
    }
}

/// Frame text (ASCII, written by the core).
fn ascii(bytes: &[u8]) -> String {
    String::from(core::str::from_utf8(bytes).unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;

    /// The S3 documentation's chunked PUT Object example, through this crate's functions.
    #[test]
    fn the_aws_documentation_example() {
        let mut signer = Signer::new();
        assert!(signer.set_credentials(
            "AKIAIOSFODNN7EXAMPLE",
            "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
            None
        ));
        let parts = [
            "PUT",
            "https://s3.amazonaws.com/examplebucket/chunkObject.txt",
            "us-east-1",
            "s3",
            "",
            "x-amz-storage-class",
            "REDUCED_REDUNDANCY",
        ];
        let text: String = parts.concat();
        let at = signer.buffer(parts.len(), text.len());
        let lens: alloc::vec::Vec<u8> = parts
            .iter()
            .flat_map(|p| (p.len() as u32).to_le_bytes())
            .collect();
        // SAFETY: `buffer` gave room for the lengths and the text.
        unsafe {
            core::ptr::copy_nonoverlapping(lens.as_ptr(), at, lens.len());
            core::ptr::copy_nonoverlapping(text.as_ptr(), at.add(lens.len()), text.len());
        }
        let time = 1_369_353_600.0; // 2013-05-24T00:00:00Z
        let n = signer.sign_chunked(parts.len(), text.len(), time, 0, 66560.0, 65536, "");
        assert!(n > 0, "{:?}", signer.error());
        assert!(signer.output.contains(
            "Signature=4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9"
        ));
        assert!(signer.output.ends_with(
            "\n#content-encoding\naws-chunked\n#content-length\n66824\n#x-amz-decoded-content-length\n66560"
        ));
        let mut chunks = signer.chunks().unwrap();
        let body = vec![b'a'; 65536];
        assert_eq!(
            chunks.sign(&body),
            "ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648"
        );
        // SHA-256 of 1024 bytes of 'a' (Python's hashlib), as node:crypto gives it to JavaScript.
        let digest: [u8; 32] = [
            46, 220, 152, 104, 71, 226, 9, 180, 1, 110, 20, 26, 109, 200, 113, 109, 50, 7, 53, 15,
            65, 105, 105, 56, 45, 67, 21, 57, 191, 41, 46, 74,
        ];
        assert_eq!(
            chunks.sign_digest(&digest),
            "0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497"
        );
        assert_eq!(chunks.sign_digest(&digest[..31]), "");
        assert_eq!(
            chunks.sign(&[]),
            "b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9"
        );
        assert!(signer.chunks().is_none());
        // A chunk size below S3's minimum is an error naming it.
        assert_eq!(
            signer.sign_chunked(parts.len(), text.len(), time, 0, 10.0, 100, ""),
            -1
        );
        assert_eq!(
            signer.error().unwrap(),
            "chunk_size_too_small\nchunk_size\n\n\n\n100"
        );
    }
}
