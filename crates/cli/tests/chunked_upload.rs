//! S3 aws-chunked uploads checked by a real verifier: s3s-fs (streaming signatures, trailers)
//! accepts what `sigv4 sign --case DIR --chunk-size N` signs and encodes, refuses it with a chunk
//! altered, and serves back the object byte for byte. One upload streams through the core's
//! encoder directly (the body read in pieces, never whole), as a host does; `sigv4 send
//! --upload-file` streams a 64 MiB file in bounded memory (its peak RSS measured), and a file with
//! a CRC32C trailer.

mod support;

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use base64::Engine;
use sigv4_core::{
    ChunkEncoder, ChunkedUpload, Credentials, Payload, Request, Settings, Signer, SigningParams,
    StreamingForm, Timestamp,
};
use support::{Keys, Server, s3s_fs, sigv4, text};

fn keys() -> Keys {
    Keys {
        id: "AKIDCHUNKED".into(),
        secret: "chunked/secret+key".into(),
        token: None,
    }
}

fn now() -> Timestamp {
    let secs = SystemTime::now().duration_since(UNIX_EPOCH).unwrap();
    Timestamp::from_unix_seconds(secs.as_secs()).unwrap()
}

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into()
}

/// A case directory: the PUT of `body` at `/bucket/{key}` on the server, with `headers`.
fn case(dir: &Path, server: &Server, keys: &Keys, key: &str, headers: &[&str], body: &[u8]) {
    std::fs::create_dir_all(dir).unwrap();
    let context = serde_json::json!({
        "credentials": {"access_key_id": keys.id, "secret_access_key": keys.secret},
        "region": "us-east-1",
        "service": "s3",
        "timestamp": String::from_utf8(now().rfc3339().to_vec()).unwrap(),
        "normalize": false,
        "double_uri_encode": false,
        "sign_body": true,
    });
    std::fs::write(dir.join("context.json"), context.to_string()).unwrap();
    let host = server.url.trim_start_matches("http://");
    let mut request = format!("PUT /bucket/{key} HTTP/1.1\nHost: {host}\n").into_bytes();
    for header in headers {
        request.extend_from_slice(format!("{header}\n").as_bytes());
    }
    request.push(b'\n');
    request.extend_from_slice(body);
    std::fs::write(dir.join("request.txt"), request).unwrap();
}

/// What `sigv4 sign --case DIR --chunk-size N --json` prints.
fn sign(dir: &Path, chunk_size: usize) -> serde_json::Value {
    let out = sigv4(
        &[],
        &[
            "sign",
            "--case",
            dir.to_str().unwrap(),
            "--chunk-size",
            &chunk_size.to_string(),
            "--json",
        ],
    );
    assert!(out.status.success(), "{}", text(&out));
    serde_json::from_slice(&out.stdout).unwrap()
}

/// PUTs the signed, encoded body with the headers of `signed`; the status and the answer.
fn put(server: &Server, key: &str, signed: &serde_json::Value, body: &[u8]) -> (u16, String) {
    let mut request = agent().put(&format!("{}/bucket/{key}", server.url));
    for pair in signed["headers"].as_array().unwrap() {
        request = request.header(pair[0].as_str().unwrap(), pair[1].as_str().unwrap());
    }
    let mut response = request.send(body).unwrap();
    let status = response.status().as_u16();
    (
        status,
        response.body_mut().read_to_string().unwrap_or_default(),
    )
}

/// GETs the object through a URL the CLI presigns.
fn get(server: &Server, keys: &Keys, key: &str) -> (u16, Vec<u8>) {
    let url = format!("{}/bucket/{key}", server.url);
    let out = sigv4(
        &keys.env(),
        &["presign", "--service", "s3", "--expires", "60", &url],
    );
    assert!(out.status.success(), "{}", text(&out));
    let presigned = String::from_utf8(out.stdout).unwrap();
    let mut response = agent().get(presigned.trim()).call().unwrap();
    let status = response.status().as_u16();
    let body = response
        .body_mut()
        .with_config()
        .limit(u64::MAX)
        .read_to_vec()
        .unwrap_or_default();
    (status, body)
}

fn decode(signed: &serde_json::Value) -> Vec<u8> {
    base64::engine::general_purpose::STANDARD
        .decode(signed["body_b64"].as_str().unwrap())
        .unwrap()
}

fn header<'a>(signed: &'a serde_json::Value, name: &str) -> Option<&'a str> {
    signed["headers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|pair| pair[0] == name)
        .and_then(|pair| pair[1].as_str())
}

fn root(name: &str) -> PathBuf {
    std::env::temp_dir().join(format!("sigv4-chunked-{name}-{}", std::process::id()))
}

#[test]
fn s3s_fs_accepts_chunked_uploads_of_every_size_and_refuses_an_altered_chunk() {
    let root = root("sizes");
    let keys = keys();
    let server = s3s_fs(&root.join("store"), &keys);
    let chunk = 8192;
    let object = |length: usize| -> Vec<u8> { (0..length).map(|i| (i * 31 % 253) as u8).collect() };
    // (key, body length, the request's own headers: a trailer asks for that checksum)
    let trailer_crc32c = ["x-amz-trailer: x-amz-checksum-crc32c"];
    let trailer_sha256 = ["x-amz-trailer: x-amz-checksum-sha256"];
    let uploads: [(&str, usize, &[&str]); 8] = [
        ("empty", 0, &[]),
        ("one-byte", 1, &[]),
        ("one-chunk", chunk, &[]),
        ("many-chunks", 5 * chunk + 123, &[]),
        ("trailer-empty", 0, &trailer_crc32c),
        ("trailer-crc32c", 3 * chunk + 1, &trailer_crc32c),
        ("trailer-sha256", chunk, &trailer_sha256),
        (
            "unsigned-trailer",
            2 * chunk + 5,
            &[
                "x-amz-trailer: x-amz-checksum-crc32",
                "x-amz-content-sha256: STREAMING-UNSIGNED-PAYLOAD-TRAILER",
            ],
        ),
    ];
    for (key, length, headers) in uploads {
        let body = object(length);
        let dir = root.join(key);
        case(&dir, &server, &keys, key, headers, &body);
        let signed = sign(&dir, chunk);
        let encoded = decode(&signed);
        assert_eq!(
            header(&signed, "content-length"),
            Some(encoded.len().to_string().as_str())
        );
        assert_eq!(
            header(&signed, "x-amz-decoded-content-length"),
            Some(length.to_string().as_str())
        );
        assert_eq!(header(&signed, "content-encoding"), Some("aws-chunked"));
        let chunks = length.div_ceil(chunk) + 1;
        let signatures = signed["chunk_signatures"].as_array().unwrap().len();
        if key.starts_with("unsigned") {
            assert_eq!(signatures, 0, "{key}");
        } else {
            assert_eq!(signatures, chunks, "{key}");
        }
        let (status, answer) = put(&server, key, &signed, &encoded);
        assert_eq!(status, 200, "{key}: {answer}");
        assert_eq!(get(&server, &keys, key), (200, body.clone()), "{key}");
    }

    // One byte of the second chunk's data changed: its signature no longer matches. s3s-fs
    // refuses the body as it streams in, answering 500 (its body stream fails; AWS answers
    // 403 SignatureDoesNotMatch), and stores nothing.
    let body = object(3 * chunk);
    let dir = root.join("altered");
    case(&dir, &server, &keys, "altered", &[], &body);
    let signed = sign(&dir, chunk);
    let mut encoded = decode(&signed);
    // Frame one (header line, 8192 bytes, CRLF), then frame two's header line.
    let header_line = "2000;chunk-signature=".len() + 64 + 2;
    encoded[2 * header_line + chunk + 2 + 10] ^= 1;
    let (status, answer) = put(&server, "altered", &signed, &encoded);
    assert!(
        [400, 403, 500].contains(&status),
        "an altered chunk was answered {status}: {answer}"
    );
    assert_eq!(get(&server, &keys, "altered").0, 404);
    // A trailer whose checksum does not match the body.
    let dir = root.join("bad-trailer");
    case(&dir, &server, &keys, "bad-trailer", &trailer_crc32c, &body);
    let signed = sign(&dir, chunk);
    let mut encoded = decode(&signed);
    let at = encoded
        .windows(22)
        .position(|w| w == b"x-amz-checksum-crc32c:")
        .unwrap();
    encoded[at + 22] = if encoded[at + 22] == b'A' { b'B' } else { b'A' };
    let (status, answer) = put(&server, "bad-trailer", &signed, &encoded);
    assert!([400, 403, 500].contains(&status), "{status}: {answer}");
    assert_eq!(get(&server, &keys, "bad-trailer").0, 404);
    drop(server);
    std::fs::remove_dir_all(&root).unwrap();
}

/// Reads the encoded body from the encoder as the body is read from `source`, a piece at a
/// time: the memory held is one chunk and the piece being read.
struct Encoded<R> {
    source: R,
    encoder: ChunkEncoder,
    /// Encoded bytes not yet read, and where the reader is in them.
    pending: Vec<u8>,
    at: usize,
    piece: Vec<u8>,
    done: bool,
    /// The most bytes held at once (the encoder's chunk and `pending`).
    pub peak: usize,
}

impl<R: Read> Read for Encoded<R> {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        while self.at == self.pending.len() && !self.done {
            self.pending.clear();
            self.at = 0;
            let n = self.source.read(&mut self.piece)?;
            let bad = |e: sigv4_core::ChunkedError| std::io::Error::other(e.to_string());
            if n == 0 {
                let finish = self.encoder.finish().map_err(bad)?;
                if let Some(frame) = finish.last {
                    frame.parts().iter().for_each(|p| self.pending.extend(*p));
                }
                self.pending.extend_from_slice(finish.end);
                self.done = true;
            } else {
                let mut input = &self.piece[..n];
                while !input.is_empty() {
                    if let Some(frame) = self.encoder.push(&mut input).map_err(bad)? {
                        frame.parts().iter().for_each(|p| self.pending.extend(*p));
                    }
                }
            }
            self.peak = self.peak.max(self.pending.len());
        }
        let n = out.len().min(self.pending.len() - self.at);
        out[..n].copy_from_slice(&self.pending[self.at..self.at + n]);
        self.at += n;
        Ok(n)
    }
}

#[test]
fn a_file_streams_through_the_encoder_to_s3s_fs() {
    let root = root("stream");
    let keys = keys();
    let server = s3s_fs(&root.join("store"), &keys);
    let length: usize = 3 * 1024 * 1024 + 7;
    let file = root.join("upload.bin");
    let body: Vec<u8> = (0..length).map(|i| (i * 13 % 241) as u8).collect();
    std::fs::write(&file, &body).unwrap();

    let credentials = Credentials::new(&keys.id, &keys.secret, None).unwrap();
    let params = SigningParams {
        credentials: &credentials,
        region: "us-east-1",
        service: "s3",
        time: now(),
        settings: Settings::for_service("s3"),
    };
    let chunk_size = 64 * 1024;
    let upload = ChunkedUpload::new(
        StreamingForm::SignedWithTrailer,
        length as u64,
        chunk_size,
        Some(sigv4_core::ChecksumAlgorithm::Crc32c),
    )
    .unwrap();
    let url = format!("{}/bucket/streamed", server.url);
    let request = Request {
        method: "PUT",
        uri: &url,
        headers: &[],
        payload: Payload::Unsigned,
    };
    let signed = Signer::new()
        .sign_chunked(&request, &params, &upload)
        .unwrap();
    let mut put = agent().put(&url);
    for (name, value) in &signed.headers {
        put = put.header(*name, value.as_str());
    }
    for (name, value) in signed.signed.headers() {
        put = put.header(name, value);
    }
    let mut reader = Encoded {
        source: std::fs::File::open(&file).unwrap(),
        encoder: signed.encoder,
        pending: Vec::new(),
        at: 0,
        piece: vec![0; 10_000],
        done: false,
        peak: 0,
    };
    let mut response = put.send(ureq::SendBody::from_reader(&mut reader)).unwrap();
    let answer = response.body_mut().read_to_string().unwrap_or_default();
    assert_eq!(response.status().as_u16(), 200, "{answer}");
    // Never more than a chunk's frame pending (and the encoder's one chunk).
    assert!(reader.peak <= 2 * chunk_size, "{}", reader.peak);
    assert_eq!(get(&server, &keys, "streamed"), (200, body));
    drop(server);
    std::fs::remove_dir_all(&root).unwrap();
}

/// The body of an uploaded file: `length` bytes of a pattern that does not repeat at any chunk
/// size here.
fn file_body(length: usize) -> Vec<u8> {
    (0..length)
        .map(|i| ((i * 7 + i / 65_521) % 251) as u8)
        .collect()
}

/// Runs `sigv4` with `args` as `support::sigv4` does, polling its peak resident set (VmHWM in
/// /proc/PID/status) until it exits; killed after `limit`. The output and the peak in bytes.
fn sigv4_peak_rss(keys: &Keys, args: &[&str], limit: Duration) -> (std::process::Output, u64) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_sigv4"))
        .args(args)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("HOME", std::env::temp_dir().join("sigv4-e2e-home"))
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .envs(keys.env())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run sigv4");
    let status = format!("/proc/{}/status", child.id());
    let started = Instant::now();
    let mut peak = 0u64;
    loop {
        // VmHWM only grows; read while the process lives (a zombie has no memory lines).
        if let Ok(text) = std::fs::read_to_string(&status) {
            let kib = text
                .lines()
                .find_map(|line| line.strip_prefix("VmHWM:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok());
            peak = peak.max(kib.unwrap_or(0) * 1024);
        }
        if child.try_wait().unwrap().is_some() {
            break;
        }
        if started.elapsed() > limit {
            let _ = child.kill();
            break;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    (child.wait_with_output().unwrap(), peak)
}

#[test]
fn sigv4_send_uploads_a_64_mib_file_in_bounded_memory() {
    let root = root("send-file");
    let keys = keys();
    let server = s3s_fs(&root.join("store"), &keys);
    std::fs::create_dir_all(&root).unwrap();
    let length = 64 * 1024 * 1024;
    let body = file_body(length);
    let file = root.join("big.bin");
    std::fs::File::create(&file)
        .and_then(|mut f| f.write_all(&body))
        .unwrap();
    let send = |file: &Path, key: &str| {
        let url = format!("{}/bucket/{key}", server.url);
        let args = [
            "send",
            "--service",
            "s3",
            "--region",
            "us-east-1",
            "--upload-file",
            file.to_str().unwrap(),
            &url,
        ];
        let (out, peak) = sigv4_peak_rss(&keys, &args, Duration::from_secs(300));
        assert!(out.status.success(), "{}", text(&out));
        assert!(peak > 0, "no VmHWM read");
        peak
    };
    // The file is 64 MiB; the process holds a 64 KiB chunk and the HTTP client's buffers. (No
    // 1-byte upload is measured beside it: that process can end between two samples.)
    let peak = send(&file, "big");
    eprintln!("sigv4 send --upload-file, 64 KiB chunks: peak RSS {peak} bytes for 64 MiB");
    assert!(peak < 48 * 1024 * 1024, "peak RSS {peak} bytes");
    let (status, stored) = get(&server, &keys, "big");
    assert_eq!(status, 200);
    assert!(stored == body, "the object read back differs");
    drop(server);
    std::fs::remove_dir_all(&root).unwrap();
}

#[test]
fn sigv4_send_uploads_a_file_with_a_checksum_trailer() {
    let root = root("send-trailer");
    let keys = keys();
    let server = s3s_fs(&root.join("store"), &keys);
    std::fs::create_dir_all(&root).unwrap();
    // (key, length, chunk size, checksum, unsigned chunks)
    let uploads = [
        ("crc32c", 3 * 1024 * 1024 + 3, "1048576", "crc32c", false),
        ("sha256-exact", 4 * 8192, "8192", "sha256", false),
        ("empty", 0, "8192", "crc32c", false),
        ("unsigned-crc32", 100_000, "65536", "crc32", true),
    ];
    for (key, length, chunk_size, checksum, unsigned) in uploads {
        let body = file_body(length);
        let file = root.join(key);
        std::fs::write(&file, &body).unwrap();
        let url = format!("{}/bucket/{key}", server.url);
        let mut args = vec![
            "send",
            "-X",
            "PUT",
            "--service",
            "s3",
            "--region",
            "us-east-1",
            "-T",
            file.to_str().unwrap(),
            "--chunk-size",
            chunk_size,
            "--checksum",
            checksum,
            "-i",
        ];
        if unsigned {
            args.push("--unsigned-payload");
        }
        args.push(&url);
        let out = sigv4(&keys.env(), &args);
        assert!(out.status.success(), "{key}: {}", text(&out));
        assert!(
            text(&out).starts_with("HTTP/1.1 200"),
            "{key}: {}",
            text(&out)
        );
        assert_eq!(get(&server, &keys, key), (200, body), "{key}");
    }
    // A chunk size under S3's minimum, and --unsigned-payload without a checksum: refused
    // before anything is sent.
    let file = root.join("crc32c");
    for extra in [&["--chunk-size", "100"][..], &["--unsigned-payload"]] {
        let url = format!("{}/bucket/refused", server.url);
        let mut args = vec!["send", "--service", "s3", "-T", file.to_str().unwrap()];
        args.extend_from_slice(extra);
        args.push(&url);
        let out = sigv4(&keys.env(), &args);
        assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    }
    assert_eq!(get(&server, &keys, "refused").0, 404);
    drop(server);
    std::fs::remove_dir_all(&root).unwrap();
}

#[test]
fn a_sigv4a_case_signs_chunks_whose_signatures_verify() {
    // No server here checks SigV4a streaming: each signature is verified with the key derived
    // from the case's credentials, over the chunk's string to sign (the previous signature
    // unpadded, the scope without region).
    let root = root("sigv4a");
    let keys = keys();
    let dir = root.join("case");
    std::fs::create_dir_all(&dir).unwrap();
    let time = now();
    let context = serde_json::json!({
        "credentials": {"access_key_id": keys.id, "secret_access_key": keys.secret},
        "region": "us-east-1,us-west-2",
        "service": "s3",
        "timestamp": String::from_utf8(time.rfc3339().to_vec()).unwrap(),
        "normalize": false,
        "double_uri_encode": false,
        "sign_body": true,
        "sigv4a": true,
    });
    std::fs::write(dir.join("context.json"), context.to_string()).unwrap();
    let body = file_body(20_000);
    let mut request = b"PUT /bucket/v4a HTTP/1.1\nHost: bucket.s3.amazonaws.com\n\n".to_vec();
    request.extend_from_slice(&body);
    std::fs::write(dir.join("request.txt"), request).unwrap();
    let signed = sign(&dir, 8192);
    assert_eq!(
        header(&signed, "x-amz-content-sha256"),
        Some("STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD")
    );
    assert_eq!(
        header(&signed, "x-amz-region-set"),
        Some("us-east-1,us-west-2")
    );
    let encoded = decode(&signed);
    assert_eq!(
        header(&signed, "content-length"),
        Some(encoded.len().to_string().as_str())
    );
    let credentials = Credentials::new(&keys.id, &keys.secret, None).unwrap();
    let public_key = sigv4_core::sigv4a_public_key(&credentials).unwrap();
    let amz_date = String::from_utf8(time.amz_date().to_vec()).unwrap();
    let scope = format!("{}/s3/aws4_request", &amz_date[..8]);
    let empty = sha256_hex(b"");
    let mut previous = signed["seed_signature"].as_str().unwrap().to_string();
    let signatures = signed["chunk_signatures"].as_array().unwrap();
    assert_eq!(signatures.len(), 4);
    let chunks = body.chunks(8192).chain([&[][..]]);
    for (chunk, signature) in chunks.zip(signatures) {
        let signature = signature.as_str().unwrap();
        let string_to_sign = format!(
            "AWS4-ECDSA-P256-SHA256-PAYLOAD\n{amz_date}\n{scope}\n{previous}\n{empty}\n{}",
            sha256_hex(chunk)
        );
        assert!(
            sigv4_core::sigv4a_signature_is_valid(&public_key, &string_to_sign, signature),
            "{string_to_sign}"
        );
        // In the body, padded to 144 characters with '*'.
        let padded = format!("{signature:*<144}");
        assert!(encoded.windows(144).any(|w| w == padded.as_bytes()));
        previous = signature.to_string();
    }
    std::fs::remove_dir_all(&root).unwrap();
}

/// Lowercase hex of SHA-256 of `data`, from the core (this crate has no SHA-256 of its own): the
/// last line of a canonical request is the hash of its payload.
fn sha256_hex(data: &[u8]) -> String {
    let credentials = Credentials::new("AKIDEXAMPLE", "secret", None).unwrap();
    let params = SigningParams {
        credentials: &credentials,
        region: "us-east-1",
        service: "s3",
        time: now(),
        settings: Settings::for_service("s3"),
    };
    let request = Request {
        method: "PUT",
        uri: "https://h/",
        headers: &[],
        payload: Payload::Bytes(data),
    };
    let explained = Signer::new()
        .explain(&request, &params, sigv4_core::Location::Headers)
        .unwrap();
    explained
        .canonical_request
        .rsplit('\n')
        .next()
        .unwrap()
        .to_string()
}
