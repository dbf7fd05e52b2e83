//! From the request Envoy holds to the header edits that sign it: the part of the filter that
//! needs no proxy, so it is tested natively.

use sigv4_core::{
    ChunkedError, ChunkedSigned, ChunkedUpload, Credentials, Location, Payload, Request, Signed,
    Signer, SigningParams, StreamingForm,
};

use crate::config::Config;
use crate::header_map::HeaderMap;

/// How one header edit reaches Envoy. A name the request has is replaced (Envoy drops its every
/// occurrence and sets the value); a new one is added. Calls that each touch one header cost
/// less than rewriting the whole map (make bench-envoy).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Edit<'a> {
    Replace(&'a str, &'a str),
    Add(&'a str, &'a str),
}

/// The calls that apply `edits` to `headers`.
pub fn plan<'a>(
    headers: &'a HeaderMap,
    edits: &'a [(&'a str, &'a str)],
) -> impl Iterator<Item = Edit<'a>> + 'a {
    edits.iter().map(|&(name, value)| {
        if headers.iter().any(|(n, _)| n == name) {
            Edit::Replace(name, value)
        } else {
            Edit::Add(name, value)
        }
    })
}

/// What the signature covers of the body.
#[derive(Debug, Clone, Copy)]
pub enum Body<'a> {
    /// The whole body (empty for requests without one).
    Bytes(&'a [u8]),
    /// `UNSIGNED-PAYLOAD`: the body streams, unsigned.
    Unsigned,
}

/// The chunk size of streamed uploads: 64 KiB, the size the AWS SDKs use.
pub const CHUNK_SIZE: usize = 64 * 1024;

/// The headers signed from what Envoy holds: `host` from `:authority` (or `host_rewrite`), then
/// the request's own but for pseudo-headers and the excluded ones (a presigned URL signs `host`
/// only, as the SDKs' presigners do: the URL stands alone).
fn signed_headers<'a>(config: &'a Config, request: &'a HeaderMap) -> Vec<(&'a str, &'a str)> {
    let authority = match &config.host_rewrite {
        Some(host) => host.as_str(),
        None => request.get(":authority"),
    };
    let mut headers: Vec<(&str, &str)> = Vec::with_capacity(request.len());
    headers.push(("host", authority));
    if config.presign_secs.is_none() {
        // `host` is `:authority` in Envoy; pseudo-headers are not sent as headers.
        let signed = |n: &str| !n.starts_with(':') && n != "host" && !config.excludes(n);
        headers.extend(request.iter().filter(|(n, _)| signed(n)));
    }
    headers
}

fn params<'a>(
    config: &'a Config,
    credentials: &'a Credentials,
    now: u64,
) -> Result<SigningParams<'a>, sigv4_core::Error> {
    Ok(SigningParams {
        credentials,
        region: &config.region,
        service: &config.service,
        time: sigv4_core::Timestamp::from_unix_seconds(now)?,
        // The service's rules unless `signing_rules` says otherwise: S3's sign keys as sent
        // (encoding them again breaks keys with `%`, envoy#35023). With SigV4a the region is the
        // region set: the scope leaves it out and `x-amz-region-set` (or `X-Amz-Region-Set`)
        // carries it, signed.
        settings: config.settings,
    })
}

/// Signs the request for an aws-chunked upload of its body of `decoded_length` bytes (its
/// `content-length`), in chunks of [`CHUNK_SIZE`], each signed (`STREAMING-AWS4-HMAC-SHA256-
/// PAYLOAD`): the seed signature and the upload's headers, and the encoder of the body.
pub fn sign_chunked(
    config: &Config,
    signer: &mut Signer,
    credentials: &Credentials,
    now: u64,
    request: &HeaderMap,
    decoded_length: u64,
) -> Result<ChunkedSigned, ChunkedError> {
    let headers = signed_headers(config, request);
    let request = Request {
        method: request.get(":method"),
        uri: request.get(":path"),
        headers: &headers,
        payload: Payload::Unsigned,
    };
    let upload = ChunkedUpload::new(StreamingForm::Signed, decoded_length, CHUNK_SIZE, None)?;
    signer.sign_chunked(&request, &params(config, credentials, now)?, &upload)
}

/// The header edits of an aws-chunked upload: the seed signature's (as [`edits`]) and the
/// upload's (`content-encoding`, `content-length` of the encoded body,
/// `x-amz-decoded-content-length`).
pub fn chunked_edits<'a>(
    chunked: &'a ChunkedSigned,
    config: &'a Config,
    request_path: &str,
) -> Vec<(&'a str, &'a str)> {
    let mut edits = edits(&chunked.signed, config, request_path);
    edits.extend(chunked.headers.iter().map(|(n, v)| (*n, v.as_str())));
    edits
}

/// Signs the request as configured: in headers, or presigned with `query_string`.
pub fn sign(
    config: &Config,
    signer: &mut Signer,
    credentials: &Credentials,
    now: u64,
    request: &HeaderMap,
    body: Body<'_>,
) -> Result<Signed, sigv4_core::Error> {
    let headers = signed_headers(config, request);
    let request = Request {
        method: request.get(":method"),
        uri: request.get(":path"),
        headers: &headers,
        payload: match body {
            Body::Bytes(bytes) => Payload::Bytes(bytes),
            Body::Unsigned => Payload::Unsigned,
        },
    };
    let location = match config.presign_secs {
        Some(expires_in) => Location::Query { expires_in },
        None => Location::Headers,
    };
    signer.sign(&request, &params(config, credentials, now)?, location)
}

/// The header edits that carry `signed`: the headers to set (replacing any of the same name), or
/// the new `:path` of a presigned request; and `:authority` with `host_rewrite`.
pub fn edits<'a>(
    signed: &'a Signed,
    config: &'a Config,
    request_path: &str,
) -> Vec<(&'a str, &'a str)> {
    let mut edits = Vec::with_capacity(5);
    match signed.url() {
        Some(url) => edits.push((":path", url)),
        None => edits.extend(signed.headers()),
    }
    // The path signed is the wire form of `:path`: the same text unless `:path` holds bytes the
    // wire cannot carry, which are then sent encoded, as signed.
    if signed.url().is_none() && request_path != signed.path_and_query() {
        edits.push((":path", signed.path_and_query()));
    }
    if let Some(host) = &config.host_rewrite {
        edits.push((":authority", host.as_str()));
    }
    edits
}

#[cfg(test)]
mod tests {
    use super::*;
    use sigv4_core::Settings;

    fn config(extra: &str) -> Config {
        config_for("s3", extra)
    }

    fn config_for(service: &str, extra: &str) -> Config {
        Config::parse(
            format!(
                r#"{{"service_name": "{service}", "region": "us-east-1", {extra}
                "credential_provider": {{"inline_credential": {{"access_key_id": "AKIDEXAMPLE",
                "secret_access_key": "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"}}}}}}"#
            )
            .as_bytes(),
            &Default::default(),
        )
        .unwrap()
    }

    fn envoy_headers(path: &str) -> HeaderMap {
        [
            (":authority", "bucket.s3.amazonaws.com"),
            (":path", path),
            (":method", "GET"),
            (":scheme", "http"),
            ("x-forwarded-proto", "http"),
            ("x-request-id", "5d7e7d1c"),
            ("x-envoy-expected-rq-timeout-ms", "15000"),
            ("x-custom", "v"),
        ]
        .into_iter()
        .collect()
    }

    fn credentials() -> Credentials {
        Credentials::new(
            "AKIDEXAMPLE",
            "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
            None,
        )
        .unwrap()
    }

    /// The same request signed by the core directly, as an SDK would send it.
    fn expected(path: &str, headers: &[(&str, &str)], location: Location) -> sigv4_core::Signed {
        expected_with(
            "s3",
            Settings::s3(),
            &credentials(),
            path,
            headers,
            location,
        )
    }

    /// The same request signed by the core directly for `service` with `settings`.
    fn expected_with(
        service: &str,
        settings: Settings<'_>,
        credentials: &Credentials,
        path: &str,
        headers: &[(&str, &str)],
        location: Location,
    ) -> sigv4_core::Signed {
        let request = Request {
            method: "GET",
            uri: path,
            headers,
            payload: match location {
                Location::Headers => Payload::Bytes(b""),
                Location::Query { .. } => Payload::Unsigned,
            },
        };
        let params = SigningParams {
            credentials,
            region: "us-east-1",
            service,
            time: sigv4_core::Timestamp::from_unix_seconds(1_440_938_160).unwrap(),
            settings,
        };
        Signer::new().sign(&request, &params, location).unwrap()
    }

    fn temporary_credentials() -> Credentials {
        Credentials::new(
            "ASIAEXAMPLE",
            "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
            Some("SESSION/TOKEN+v4=="),
        )
        .unwrap()
    }

    #[test]
    fn signing_rules_sign_headers_as_configured() {
        let config = config_for(
            "execute-api",
            r#""signing_rules": {"normalize_path": false, "content_sha256_header": true, "session_token": "after_signing"},"#,
        );
        let path = "/stage/a/../b//c";
        let request = envoy_headers(path);
        let signed = sign(
            &config,
            &mut Signer::new(),
            &temporary_credentials(),
            1_440_938_160,
            &request,
            Body::Bytes(b""),
        )
        .unwrap();
        let edits = edits(&signed, &config, path);
        let headers = [
            ("host", "bucket.s3.amazonaws.com"),
            ("x-request-id", "5d7e7d1c"),
            ("x-custom", "v"),
        ];
        let rules = Settings {
            normalize_path: false,
            content_sha256_header: true,
            session_token: sigv4_core::SessionTokenMode::AfterSigning,
            ..Settings::default()
        };
        let want = expected_with(
            "execute-api",
            rules,
            &temporary_credentials(),
            path,
            &headers,
            Location::Headers,
        );
        assert_eq!(edits, want.headers().collect::<Vec<_>>());
        let header = |name: &str| edits.iter().find(|(n, _)| *n == name).map(|(_, v)| *v);
        // The token is sent, outside the signature; the body's hash is sent and signed.
        assert_eq!(header("x-amz-security-token"), Some("SESSION/TOKEN+v4=="));
        let authorization = header("authorization").unwrap();
        assert!(
            authorization.contains(
                "SignedHeaders=host;x-amz-content-sha256;x-amz-date;x-custom;x-request-id, "
            ),
            "{authorization}"
        );
        // The service's own rules sign another request (`/stage/b/c`, the token signed).
        let standard = expected_with(
            "execute-api",
            Settings::default(),
            &temporary_credentials(),
            path,
            &headers,
            Location::Headers,
        );
        let standard = standard.headers().find(|(n, _)| *n == "authorization");
        assert_ne!(standard.unwrap().1, authorization);
    }

    #[test]
    fn signing_rules_presign_as_configured() {
        // IoT's presigned WebSocket URLs: the token added after signing.
        let config = config_for(
            "iotdevicegateway",
            r#""query_string": {"expiration_time": "60s"}, "signing_rules": {"session_token": "after_signing"},"#,
        );
        let signed = sign(
            &config,
            &mut Signer::new(),
            &temporary_credentials(),
            1_440_938_160,
            &envoy_headers("/mqtt"),
            Body::Unsigned,
        )
        .unwrap();
        let edits = edits(&signed, &config, "/mqtt");
        let rules = Settings {
            session_token: sigv4_core::SessionTokenMode::AfterSigning,
            ..Settings::default()
        };
        let want = expected_with(
            "iotdevicegateway",
            rules,
            &temporary_credentials(),
            "/mqtt",
            &[("host", "bucket.s3.amazonaws.com")],
            Location::Query { expires_in: 60 },
        );
        assert_eq!(edits, [(":path", want.url().unwrap())]);
        assert!(
            want.url()
                .unwrap()
                .contains("&X-Amz-Security-Token=SESSION%2FTOKEN%2Bv4%3D%3D&")
        );
        // The token is outside the signature: it is the signature of the same keys without a
        // token, and not the one of the token signed.
        let presign = |settings: Settings<'_>, credentials: &Credentials| {
            let headers = [("host", "bucket.s3.amazonaws.com")];
            let location = Location::Query { expires_in: 60 };
            let service = "iotdevicegateway";
            expected_with(service, settings, credentials, "/mqtt", &headers, location).signature
        };
        let secret = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
        let without_token = Credentials::new("ASIAEXAMPLE", secret, None).unwrap();
        assert_eq!(
            signed.signature,
            presign(Settings::default(), &without_token)
        );
        assert_ne!(
            signed.signature,
            presign(Settings::default(), &temporary_credentials())
        );
    }

    #[test]
    fn signing_rules_sign_streamed_uploads_as_configured() {
        let config =
            config(r#""stream_large_bodies": true, "signing_rules": {"uri_encoding": "double"},"#);
        let path = "/bucket/a%2Bb";
        let request: HeaderMap = envoy_headers(path)
            .iter()
            .chain([("content-length", "3000000")])
            .collect();
        let chunked = sign_chunked(
            &config,
            &mut Signer::new(),
            &credentials(),
            1_440_938_160,
            &request,
            3_000_000,
        )
        .unwrap();
        let seed = |settings: Settings<'_>| {
            let headers: Vec<(&str, &str)> = [("host", "bucket.s3.amazonaws.com")]
                .into_iter()
                .chain(
                    request
                        .iter()
                        .filter(|(n, _)| !n.starts_with(':') && !config.excludes(n)),
                )
                .collect();
            let request = Request {
                method: "GET",
                uri: path,
                headers: &headers,
                payload: Payload::Unsigned,
            };
            let params = SigningParams {
                credentials: &credentials(),
                region: "us-east-1",
                service: "s3",
                time: sigv4_core::Timestamp::from_unix_seconds(1_440_938_160).unwrap(),
                settings,
            };
            let upload =
                ChunkedUpload::new(StreamingForm::Signed, 3_000_000, CHUNK_SIZE, None).unwrap();
            Signer::new()
                .sign_chunked(&request, &params, &upload)
                .unwrap()
                .signed
                .signature
        };
        let double = Settings {
            uri_encoding: sigv4_core::UriEncoding::Double,
            ..Settings::s3()
        };
        assert_eq!(chunked.signed.signature, seed(double));
        assert_ne!(chunked.signed.signature, seed(Settings::s3()));
    }

    #[test]
    fn signs_what_goes_upstream_and_leaves_out_what_envoy_changes() {
        let config = config(r#""match_excluded_headers": [{"exact": "x-custom"}],"#);
        let path = "/my%20key%2Bwith%25odd%40chars/%E2%82%AC";
        let mut signer = Signer::new();
        let request = envoy_headers(path);
        let signed = sign(
            &config,
            &mut signer,
            &credentials(),
            1_440_938_160,
            &request,
            Body::Bytes(b""),
        )
        .unwrap();
        let edits = edits(&signed, &config, request.get(":path"));
        let want = expected(
            path,
            &[
                ("host", "bucket.s3.amazonaws.com"),
                ("x-request-id", "5d7e7d1c"),
            ],
            Location::Headers,
        );
        let want: Vec<(&str, &str)> = want.headers().collect();
        assert_eq!(edits, want);
        assert!(edits.iter().any(|(n, _)| *n == "authorization"));
        assert!(edits.iter().any(|(n, _)| *n == "x-amz-content-sha256"));
        // The signature's headers are new to this request; `host` is `:authority` in Envoy.
        assert!(plan(&request, &edits).all(|e| matches!(e, Edit::Add(..))));
    }

    #[test]
    fn names_the_request_has_are_replaced_and_new_ones_added() {
        let request: HeaderMap = [
            (":path", "/a"),
            ("x-amz-date", "old"),
            ("b", "1"),
            ("x-amz-date", "older"),
        ]
        .into_iter()
        .collect();
        let edits = [
            (":path", "/b"),
            ("x-amz-date", "new"),
            ("authorization", "sig"),
        ];
        assert_eq!(
            plan(&request, &edits).collect::<Vec<_>>(),
            [
                Edit::Replace(":path", "/b"),
                Edit::Replace("x-amz-date", "new"),
                Edit::Add("authorization", "sig")
            ]
        );
    }

    #[test]
    fn presigns_into_the_path_with_host_rewrite() {
        let config = config(
            r#""host_rewrite": "other.s3.amazonaws.com", "query_string": {"expiration_time": "60s"},"#,
        );
        let signed = sign(
            &config,
            &mut Signer::new(),
            &credentials(),
            1_440_938_160,
            &envoy_headers("/k?list-type=2"),
            Body::Unsigned,
        )
        .unwrap();
        let edits = edits(&signed, &config, "/k?list-type=2");
        let want = expected(
            "/k?list-type=2",
            &[("host", "other.s3.amazonaws.com")],
            Location::Query { expires_in: 60 },
        );
        assert_eq!(
            edits,
            [
                (":path", want.url().unwrap()),
                (":authority", "other.s3.amazonaws.com")
            ]
        );
        assert!(edits[0].1.contains("X-Amz-Expires=60"));
    }

    #[test]
    fn sigv4a_signs_for_the_region_set_with_a_scope_without_region() {
        let mut config = config(r#""signing_algorithm": "AWS_SIGV4A","#);
        config.region = "us-east-1,us-west-2".into();
        let request = envoy_headers("/key");
        let mut signer = Signer::new();
        let signed = sign(
            &config,
            &mut signer,
            &credentials(),
            1_440_938_160,
            &request,
            Body::Bytes(b""),
        )
        .unwrap();
        let edits = edits(&signed, &config, request.get(":path"));
        let header = |name: &str| edits.iter().find(|(n, _)| *n == name).map(|(_, v)| *v);
        assert_eq!(header("x-amz-region-set"), Some("us-east-1,us-west-2"));
        let authorization = header("authorization").unwrap();
        assert!(
            authorization.starts_with(
                "AWS4-ECDSA-P256-SHA256 Credential=AKIDEXAMPLE/20150830/s3/aws4_request, \
                 SignedHeaders=host;x-amz-content-sha256;x-amz-date;x-amz-region-set;x-custom;x-request-id, \
                 Signature="
            ),
            "{authorization}"
        );
        // The signature verifies under the key of the credentials, over the string to sign of
        // the same request.
        let headers = [
            ("host", "bucket.s3.amazonaws.com"),
            ("x-request-id", "5d7e7d1c"),
            ("x-custom", "v"),
        ];
        let params = SigningParams {
            credentials: &credentials(),
            region: "us-east-1,us-west-2",
            service: "s3",
            time: sigv4_core::Timestamp::from_unix_seconds(1_440_938_160).unwrap(),
            settings: Settings {
                algorithm: sigv4_core::Algorithm::SigV4a,
                ..Settings::s3()
            },
        };
        let request = Request {
            method: "GET",
            uri: "/key",
            headers: &headers,
            payload: Payload::Bytes(b""),
        };
        let explained = Signer::new()
            .explain(&request, &params, Location::Headers)
            .unwrap();
        assert!(
            explained
                .string_to_sign
                .contains("\n20150830/s3/aws4_request\n")
        );
        let key = sigv4_core::sigv4a_public_key(&credentials()).unwrap();
        let signature = authorization.rsplit("Signature=").next().unwrap();
        assert!(sigv4_core::sigv4a_signature_is_valid(
            &key,
            &explained.string_to_sign,
            signature
        ));
    }

    #[test]
    fn a_streamed_upload_replaces_the_length_and_signs_the_streaming_payload() {
        let config = config(r#""stream_large_bodies": true,"#);
        let request: HeaderMap = envoy_headers("/bucket/key")
            .iter()
            .chain([("content-length", "3000000")])
            .collect();
        let chunked = sign_chunked(
            &config,
            &mut Signer::new(),
            &credentials(),
            1_440_938_160,
            &request,
            3_000_000,
        )
        .unwrap();
        let edits = chunked_edits(&chunked, &config, "/bucket/key");
        let header = |name: &str| edits.iter().find(|(n, _)| *n == name).map(|(_, v)| *v);
        let upload =
            ChunkedUpload::new(StreamingForm::Signed, 3_000_000, CHUNK_SIZE, None).unwrap();
        assert_eq!(
            header("content-length"),
            Some(upload.content_length().to_string().as_str())
        );
        assert_eq!(header("x-amz-decoded-content-length"), Some("3000000"));
        assert_eq!(header("content-encoding"), Some("aws-chunked"));
        assert_eq!(
            header("x-amz-content-sha256"),
            Some("STREAMING-AWS4-HMAC-SHA256-PAYLOAD")
        );
        let authorization = header("authorization").unwrap();
        assert!(
            authorization.contains("content-encoding;content-length;host;"),
            "{authorization}"
        );
        // content-length is the request's: replaced, not added twice.
        assert!(
            plan(&request, &edits)
                .any(|e| e == Edit::Replace("content-length", header("content-length").unwrap()))
        );
    }

    #[test]
    fn bad_requests_are_errors_not_panics() {
        let config = config("");
        let headers: HeaderMap = envoy_headers("/k")
            .iter()
            .chain([("x-bad", "a\nb")])
            .collect();
        let error = sign(
            &config,
            &mut Signer::new(),
            &credentials(),
            1_440_938_160,
            &headers,
            Body::Bytes(b""),
        )
        .unwrap_err();
        assert!(error.to_string().contains("header"), "{error}");
    }
}
