//! Streaming an S3 aws-chunked upload over HTTP: the body read from a source a chunk at a time
//! and sent as the core's [`ChunkEncoder`] frames it, so a file of any size goes up in bounded
//! memory (one chunk of the body, the frame's header line, the HTTP client's buffers).
//!
//! The request is signed (the seed) by the caller with [`sigv4_core::Signer::sign_chunked`];
//! this sends its headers and the encoded body. Unlike the credential endpoints (never through
//! a proxy, see the credentials module), an upload goes through the environment's proxy when it
//! names one (`HTTPS_PROXY`, `HTTP_PROXY`, `ALL_PROXY`, with `NO_PROXY`), as STS does and as
//! the AWS SDKs send to S3.

use std::io::{self, Read};
use std::time::Duration;

use sigv4_core::ChunkEncoder;

/// Where an upload goes and what it sends beside the body. Its `Debug` shows the header names
/// only: the values hold the session token.
#[derive(Clone, Copy)]
pub struct UploadRequest<'a> {
    /// `PUT` (or `POST`).
    pub method: &'a str,
    /// The URL to send to, in the wire form that was signed.
    pub url: &'a str,
    /// Every header to send: the request's own, the upload's (`content-encoding`,
    /// `content-length`, `x-amz-decoded-content-length`, `x-amz-trailer`) and the signed ones
    /// (`authorization`, `x-amz-date`, `x-amz-content-sha256`, ...).
    pub headers: &'a [(String, String)],
}

impl std::fmt::Debug for UploadRequest<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UploadRequest")
            .field("method", &self.method)
            .field("url", &self.url)
            .field(
                "headers",
                &self
                    .headers
                    .iter()
                    .map(|(name, _)| name)
                    .collect::<Vec<_>>(),
            )
            .finish()
    }
}

/// The service's answer.
#[derive(Clone, Debug)]
pub struct UploadResponse {
    /// The status code.
    pub status: u16,
    /// The headers, as received.
    pub headers: Vec<(String, String)>,
    /// The body, at most [`MAX_RESPONSE_BODY`] bytes of it (S3 answers an upload with an empty
    /// body or a short error document).
    pub body: Vec<u8>,
}

/// The most of a response body kept.
pub const MAX_RESPONSE_BODY: u64 = 1024 * 1024;

/// A socket read or write that takes longer than this fails the upload (a stalled peer).
const STALL: Duration = Duration::from_secs(60);

/// Sends `request` with the body read from `source` and encoded by `encoder` as it is read. The
/// source must give exactly the length the upload declared (a file that changed size fails
/// the upload rather than sending what was not signed). Redirects are not followed: the body
/// cannot be sent twice.
pub fn stream_upload(
    request: &UploadRequest<'_>,
    encoder: ChunkEncoder,
    source: impl Read,
) -> Result<UploadResponse, String> {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .proxy(ureq::Proxy::try_from_env())
        .timeout_connect(Some(Duration::from_secs(30)))
        .timeout_per_read(Some(STALL))
        .timeout_per_write(Some(STALL))
        .http_status_as_error(false)
        .max_redirects(0)
        .build()
        .into();
    let (method, url) = (request.method, request.url);
    let mut builder = ureq::http::Request::builder().method(method).uri(url);
    for (name, value) in request.headers {
        builder = builder.header(name.as_str(), value.as_str());
    }
    let mut frames = Frames::new(encoder, source);
    let http_request = builder
        .body(ureq::SendBody::from_reader(&mut frames))
        .map_err(|e| format!("bad request to {url}: {e}"))?;
    let sent = agent.run(http_request);
    let mut response = match sent {
        Ok(response) => response,
        // The body's own error (the source, or the encoder refusing it) says more than the
        // client's report of it.
        Err(e) => {
            return Err(format!(
                "{method} {url}: {}",
                frames.error.take().unwrap_or_else(|| e.to_string())
            ));
        }
    };
    let headers = response
        .headers()
        .iter()
        .map(|(name, value)| {
            let value = String::from_utf8_lossy(value.as_bytes()).into_owned();
            (name.as_str().to_string(), value)
        })
        .collect();
    let status = response.status().as_u16();
    let mut body = Vec::new();
    response
        .body_mut()
        .as_reader()
        .take(MAX_RESPONSE_BODY)
        .read_to_end(&mut body)
        .map_err(|e| format!("{method} {url}: reading the answer: {e}"))?;
    Ok(UploadResponse {
        status,
        headers,
        body,
    })
}

/// The encoded body as a reader: a chunk of the source read into `chunk`, pushed whole to the
/// encoder (which hashes it in place: nothing is copied), then its frame served from the header
/// line, `chunk` itself and the CRLF; after the source ends, the last short chunk, the final
/// chunk and the trailer.
struct Frames<R> {
    source: R,
    encoder: ChunkEncoder,
    /// The chunk being sent, as read from the source.
    chunk: Vec<u8>,
    /// The frame's header line.
    head: Vec<u8>,
    /// The bytes of `chunk` in the frame.
    data: usize,
    /// After the data: the CRLF, and at the end of the body the final chunk and the trailer.
    tail: Vec<u8>,
    /// How far the frame has been read.
    at: usize,
    done: bool,
    /// Why the body failed, for the error message.
    error: Option<String>,
}

impl<R: Read> Frames<R> {
    fn new(encoder: ChunkEncoder, source: R) -> Self {
        Frames {
            source,
            chunk: vec![0; encoder.chunk_size()],
            encoder,
            head: Vec::with_capacity(96),
            data: 0,
            tail: Vec::new(),
            at: 0,
            done: false,
            error: None,
        }
    }

    /// Reads the next chunk and frames it; at the end of the source, the end of the body.
    fn next_frame(&mut self) -> Result<(), String> {
        let filled = fill(&mut self.source, &mut self.chunk)
            .map_err(|e| format!("reading the body: {e}"))?;
        self.head.clear();
        self.tail.clear();
        self.at = 0;
        self.data = filled;
        let mut input = &self.chunk[..filled];
        if filled == self.chunk.len() {
            let frame = self.encoder.push(&mut input).map_err(|e| e.to_string())?;
            let frame = frame.ok_or("the encoder kept a whole chunk")?;
            // Pushed whole with nothing pending: the frame's data is `chunk` itself.
            debug_assert_eq!(frame.data.as_ptr(), self.chunk.as_ptr());
            self.head.extend_from_slice(frame.header);
            self.tail.extend_from_slice(b"\r\n");
            return Ok(());
        }
        // The source ended: a last, short chunk (if any), the final chunk and the trailer.
        if !input.is_empty() {
            // A short chunk is kept by the encoder (a copy of `chunk[..filled]`) until finished.
            if self
                .encoder
                .push(&mut input)
                .map_err(|e| e.to_string())?
                .is_some()
            {
                return Err("the encoder framed a short chunk early".into());
            }
        }
        let finish = self.encoder.finish().map_err(|e| e.to_string())?;
        if let Some(last) = finish.last {
            debug_assert_eq!(last.data, &self.chunk[..filled]);
            self.head.extend_from_slice(last.header);
            self.tail.extend_from_slice(b"\r\n");
        }
        self.tail.extend_from_slice(finish.end);
        self.done = true;
        Ok(())
    }
}

impl<R: Read> Read for Frames<R> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        // A failed frame fails every later read: its bytes are never served unframed.
        if let Some(message) = &self.error {
            return Err(io::Error::other(message.clone()));
        }
        loop {
            let parts = [&self.head[..], &self.chunk[..self.data], &self.tail[..]];
            let mut at = self.at;
            for part in parts {
                if at < part.len() {
                    let n = out.len().min(part.len() - at);
                    out[..n].copy_from_slice(&part[at..at + n]);
                    self.at += n;
                    return Ok(n);
                }
                at -= part.len();
            }
            if self.done || out.is_empty() {
                return Ok(0);
            }
            if let Err(message) = self.next_frame() {
                self.data = 0;
                self.error = Some(message.clone());
                return Err(io::Error::other(message));
            }
        }
    }
}

/// Reads from `source` until `buffer` is full or the source ends; the bytes read.
fn fill(source: &mut impl Read, buffer: &mut [u8]) -> io::Result<usize> {
    let mut filled = 0;
    while filled < buffer.len() {
        match source.read(&mut buffer[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(filled)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_shows_no_header_value() {
        let headers = [
            (
                "x-amz-security-token".to_string(),
                "TOKENMARKER".to_string(),
            ),
            (
                "authorization".to_string(),
                "AWS4-HMAC-SHA256 SIGMARKER".to_string(),
            ),
        ];
        let request = UploadRequest {
            method: "PUT",
            url: "https://bucket.s3.amazonaws.com/key",
            headers: &headers,
        };
        let shown = format!("{request:?}");
        assert!(shown.contains("x-amz-security-token"), "{shown}");
        assert!(
            !shown.contains("TOKENMARKER") && !shown.contains("SIGMARKER"),
            "{shown}"
        );
    }
    use sigv4_core::{
        ChecksumAlgorithm, ChunkSigner, ChunkedUpload, Credentials, Settings, SigningParams,
        StreamingForm, Timestamp,
    };

    fn encoder(length: usize, form: StreamingForm) -> ChunkEncoder {
        let credentials = Credentials::new("AKIDEXAMPLE", "secret", None).unwrap();
        let params = SigningParams {
            credentials: &credentials,
            region: "us-east-1",
            service: "s3",
            time: Timestamp::from_unix_seconds(1_700_000_000).unwrap(),
            settings: Settings::for_service("s3"),
        };
        let checksum = form.has_trailer().then_some(ChecksumAlgorithm::Crc32c);
        let upload = ChunkedUpload::new(form, length as u64, 8192, checksum).unwrap();
        ChunkEncoder::new(&upload, ChunkSigner::new(&params, &"0".repeat(64)).unwrap())
    }

    /// The whole encoded body, through the encoder directly.
    fn expected(body: &[u8], form: StreamingForm) -> Vec<u8> {
        let mut encoder = encoder(body.len(), form);
        let mut wire = Vec::new();
        let mut input = body;
        while !input.is_empty() {
            if let Some(frame) = encoder.push(&mut input).unwrap() {
                frame.parts().iter().for_each(|p| wire.extend_from_slice(p));
            }
        }
        let finish = encoder.finish().unwrap();
        if let Some(frame) = finish.last {
            frame.parts().iter().for_each(|p| wire.extend_from_slice(p));
        }
        wire.extend_from_slice(finish.end);
        wire
    }

    /// A source that gives at most `step` bytes a read.
    struct Trickle<'a>(&'a [u8], usize);

    impl Read for Trickle<'_> {
        fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
            let n = out.len().min(self.1).min(self.0.len());
            out[..n].copy_from_slice(&self.0[..n]);
            self.0 = &self.0[n..];
            Ok(n)
        }
    }

    #[test]
    fn frames_read_as_the_encoder_writes_them() {
        for form in [StreamingForm::Signed, StreamingForm::SignedWithTrailer] {
            for length in [0, 1, 8191, 8192, 8193, 3 * 8192, 3 * 8192 + 5] {
                let body: Vec<u8> = (0..length).map(|i| (i * 7 % 251) as u8).collect();
                for (step, out) in [(1000, 1), (100_000, 777), (3, 100_000)] {
                    let mut frames = Frames::new(encoder(length, form), Trickle(&body, step));
                    let mut wire = Vec::new();
                    let mut buffer = vec![0; out];
                    loop {
                        let n = frames.read(&mut buffer).unwrap();
                        if n == 0 {
                            break;
                        }
                        wire.extend_from_slice(&buffer[..n]);
                    }
                    assert_eq!(wire, expected(&body, form), "{form:?} {length} {step}");
                }
            }
        }
    }

    #[test]
    fn a_source_of_another_length_fails_the_body() {
        let body = vec![7u8; 20_000];
        for (declared, given) in [(20_001, &body[..]), (19_999, &body[..])] {
            let mut frames = Frames::new(encoder(declared, StreamingForm::Signed), given);
            let error = io::copy(&mut frames, &mut io::sink()).unwrap_err();
            assert!(
                error.to_string().contains("decoded_content_length"),
                "{error}"
            );
            assert!(frames.error.is_some());
            // And every later read, serving nothing more.
            let mut more = [0u8; 64];
            assert!(frames.read(&mut more).is_err());
        }
    }
}
