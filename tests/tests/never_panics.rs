//! No public function of the core panics, whatever it is given: arbitrary text in every field
//! gives a signature or a typed error, and errors never carry the secret or the token.

use proptest::prelude::*;
use sigv4_core::{
    Algorithm, ChecksumAlgorithm, ChunkedUpload, Credentials, Location, Payload, Request,
    SessionTokenMode, Settings, Signer, SigningParams, StreamingForm, Timestamp, UriEncoding,
};

/// Any text, biased towards the bytes and shapes that parsers trip on.
fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        "[ -~]{0,40}",
        "(https?://)?[a-z.:@\\[\\]]{0,12}[/?#%&=+ ]{0,6}[a-z%0-9./?#&=+ \\t\\r\\n]{0,30}",
        prop::collection::vec(
            prop::sample::select(
                &[
                    "%", "%2", "%zz", "/", "..", ".", "?", "#", "&", "=", "+", "\r\n ", "\n",
                    "\u{0}", "é", " ", "@", ":"
                ][..]
            ),
            0..12
        )
        .prop_map(|v| v.concat()),
    ]
}

/// A valid value most of the time, so that arbitrary input reaches every step of signing.
fn or_valid(valid: &'static str) -> impl Strategy<Value = String> {
    prop_oneof![3 => Just(valid.to_string()), 1 => text()]
}

fn uri() -> impl Strategy<Value = String> {
    prop_oneof![
        1 => text(),
        4 => text().prop_map(|t| format!("https://example.amazonaws.com/{t}")),
        1 => (text(), text()).prop_map(|(p, q)| format!("/{p}?{q}")),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 6000, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn signing_arbitrary_input_returns_a_value(
        method in or_valid("GET"),
        uri in uri(),
        headers in prop::collection::vec((or_valid("x-custom"), or_valid("value")), 0..3),
        body in prop::collection::vec(any::<u8>(), 0..80),
        payload_hash in prop::option::weighted(0.2, text()),
        unsigned in any::<bool>(),
        // The region is a SigV4a region set when `v4a`.
        (region, service) in (or_valid("us-east-1"), or_valid("s3")),
        (akid, token) in (or_valid("AKIDEXAMPLE"), prop::option::of(or_valid("TOKEN"))),
        (secs, expires_in) in (any::<u64>(), prop::option::of(any::<u64>())),
        (single, normalize, sha256_header, after, v4a) in (any::<bool>(), any::<bool>(), any::<bool>(), any::<bool>(), any::<bool>()),
        excluded in prop::collection::vec(text(), 0..2),
    ) {
        let secret = "SECRETMARKER/secret";
        let Ok(credentials) = Credentials::new(&akid, secret, token.as_deref()) else {
            return Ok(());
        };
        let Ok(time) = Timestamp::from_unix_seconds(secs % 400_000_000_000) else {
            return Ok(());
        };
        let headers: Vec<(&str, &str)> = headers.iter().map(|(n, v)| (n.as_str(), v.as_str())).collect();
        let excluded: Vec<&str> = excluded.iter().map(String::as_str).collect();
        let request = Request {
            method: &method,
            uri: &uri,
            headers: &headers,
            payload: match (&payload_hash, unsigned) {
                (_, true) => Payload::Unsigned,
                (Some(hash), false) => Payload::Sha256Hex(hash),
                (None, false) => Payload::Bytes(&body),
            },
        };
        let params = SigningParams {
            credentials: &credentials,
            region: &region,
            service: &service,
            time,
            settings: Settings {
                algorithm: if v4a { Algorithm::SigV4a } else { Algorithm::SigV4 },
                uri_encoding: if single { UriEncoding::Single } else { UriEncoding::Double },
                normalize_path: normalize,
                content_sha256_header: sha256_header,
                session_token: if after { SessionTokenMode::AfterSigning } else { SessionTokenMode::Signed },
                presigned_payload_unsigned: single,
                excluded_headers: &excluded,
                forced_headers: &excluded,
            },
        };
        let location = match expires_in {
            Some(expires_in) => Location::Query { expires_in: expires_in % 1_000_000 },
            None => Location::Headers,
        };
        let mut signer = Signer::new();
        // Twice: the second call runs on the signer's warm caches.
        for _ in 0..2 {
            match signer.explain(&request, &params, location) {
                // 64 hex digits of an HMAC, or at most 72 bytes of DER (SigV4a: a SEQUENCE of
                // two INTEGERs, shorter when r or s starts with zero bytes).
                Ok(out) if v4a => {
                    let hex = out.signed.signature.as_str();
                    prop_assert!(hex.starts_with("30") && hex.len() <= 144 && hex.len() % 2 == 0, "{}", hex);
                }
                Ok(out) => prop_assert_eq!(out.signed.signature.as_str().len(), 64),
                Err(error) => {
                    let shown = format!("{error} {error:?}");
                    prop_assert!(!shown.contains("SECRETMARKER"), "{}", shown);
                    if let Some(token) = token.as_deref().filter(|t| t.len() > 3) {
                        prop_assert!(!shown.contains(token), "{}", shown);
                    }
                }
            }
        }
    }

    #[test]
    fn chunked_uploads_of_any_shape_return_values(
        form in prop::sample::select(&[
            StreamingForm::Signed,
            StreamingForm::SignedWithTrailer,
            StreamingForm::UnsignedWithTrailer,
            StreamingForm::SigV4aSigned,
            StreamingForm::SigV4aSignedWithTrailer,
        ][..]),
        checksum in prop::option::of(prop::sample::select(&[
            ChecksumAlgorithm::Crc32,
            ChecksumAlgorithm::Crc32c,
            ChecksumAlgorithm::Sha1,
            ChecksumAlgorithm::Sha256,
        ][..])),
        (v4a, chunk_size) in (any::<bool>(), prop_oneof![0usize..20_000, Just(8192usize), Just(usize::MAX)]),
        (declared, body_len) in (0u64..40_000, 0usize..40_000),
        pieces in prop::collection::vec(0usize..12_000, 1..8),
        region in or_valid("us-east-1"),
    ) {
        let Ok(upload) = ChunkedUpload::new(form, declared, chunk_size, checksum) else {
            return Ok(());
        };
        prop_assert_eq!(upload.headers().len() >= 3, true);
        let credentials = Credentials::new("AKIDEXAMPLE", "SECRETMARKER/secret", None).unwrap();
        let params = SigningParams {
            credentials: &credentials,
            region: &region,
            service: "s3",
            time: Timestamp::from_unix_seconds(1_440_938_160).unwrap(),
            settings: Settings {
                algorithm: if v4a { Algorithm::SigV4a } else { Algorithm::SigV4 },
                ..Settings::for_service("s3")
            },
        };
        let request = Request {
            method: "PUT",
            uri: "https://bucket.s3.amazonaws.com/key",
            headers: &[],
            payload: Payload::Unsigned,
        };
        let mut signer = Signer::new();
        let signed = match signer.sign_chunked(&request, &params, &upload) {
            Ok(signed) => signed,
            Err(error) => {
                let shown = format!("{error} {error:?}");
                prop_assert!(!shown.contains("SECRETMARKER"), "{}", shown);
                return Ok(());
            }
        };
        // The body in pieces of any size, then the end: frames as long as the content-length
        // declared, or a typed error for a body longer or shorter than declared.
        let body = vec![b'a'; body_len];
        let mut encoder = signed.encoder;
        let mut written = 0u64;
        let mut rest = &body[..];
        'feed: for piece in pieces.iter().cycle().take(64) {
            let mut input = &rest[..(*piece).min(rest.len())];
            let taken_from = input.len();
            loop {
                match encoder.push(&mut input) {
                    Ok(Some(frame)) => written += frame.len() as u64,
                    Ok(None) => break,
                    Err(_) => break 'feed,
                }
            }
            rest = &rest[taken_from - input.len()..];
            if rest.is_empty() {
                break;
            }
        }
        // The encoder took bytes up to the declared length and refused the piece beyond it.
        let fed = (body_len - rest.len()) as u64;
        prop_assert!(fed <= declared);
        match encoder.finish() {
            Ok(end) => {
                written += end.last.map_or(0, |f| f.len() as u64) + end.end.len() as u64;
                prop_assert_eq!(fed, declared);
                prop_assert_eq!(written, upload.content_length());
            }
            Err(error) => prop_assert!(fed != declared, "{}", error),
        }
    }

    #[test]
    fn parsing_arbitrary_timestamps_returns_a_value(text in text()) {
        if let Ok(time) = Timestamp::parse_rfc3339(&text) {
            prop_assert_eq!(time.amz_date().len(), 16);
        }
    }
}
