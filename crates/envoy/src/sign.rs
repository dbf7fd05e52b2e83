//! From the request Envoy holds to the header edits that sign it: the part of the filter that
//! needs no proxy, so it is tested natively.

use sigv4_core::{Credentials, Location, Payload, Request, Settings, Signer, SigningParams};

use crate::config::Config;

/// The request as Envoy holds it: the pseudo-headers and the headers to sign.
#[derive(Debug, Default)]
pub struct Parts {
    /// `:method`.
    pub method: String,
    /// `:path`: the wire path and query, already percent-encoded.
    pub path: String,
    /// `:authority` (after `host_rewrite`), signed as `host`.
    pub authority: String,
    /// The other headers, without excluded ones, in the order Envoy holds them.
    pub headers: Vec<(String, String)>,
}

impl Parts {
    /// Picks the pseudo-headers and the headers to sign out of Envoy's header map.
    pub fn new(all: Vec<(String, String)>, config: &Config) -> Parts {
        let mut parts = Parts::default();
        for (name, value) in all {
            match name.as_str() {
                ":method" => parts.method = value,
                ":path" => parts.path = value,
                ":authority" => parts.authority = value,
                // `host` is `:authority` in Envoy; other pseudo-headers are not sent as headers.
                n if n.starts_with(':') || n == "host" || config.excludes(n) => {}
                _ => parts.headers.push((name, value)),
            }
        }
        if let Some(host) = &config.host_rewrite {
            parts.authority.clone_from(host);
        }
        parts
    }
}

/// What the signature covers of the body.
#[derive(Debug, Clone, Copy)]
pub enum Body<'a> {
    /// The whole body (empty for requests without one).
    Bytes(&'a [u8]),
    /// `UNSIGNED-PAYLOAD`: the body streams, unsigned.
    Unsigned,
}

/// Signs `parts`: the headers to set (replacing any of the same name), or with `query_string`
/// configured, the new `:path` with the presigning parameters.
pub fn sign(
    config: &Config,
    signer: &mut Signer,
    credentials: &Credentials,
    now: u64,
    parts: &Parts,
    body: Body<'_>,
) -> Result<Vec<(&'static str, String)>, sigv4_core::Error> {
    let mut headers: Vec<(&str, &str)> = Vec::with_capacity(parts.headers.len() + 1);
    headers.push(("host", &parts.authority));
    // A presigned URL signs `host` only, as the SDKs' presigners do: the URL stands alone.
    if config.presign_secs.is_none() {
        headers.extend(parts.headers.iter().map(|(n, v)| (n.as_str(), v.as_str())));
    }
    let request = Request {
        method: &parts.method,
        uri: &parts.path,
        headers: &headers,
        payload: match body {
            Body::Bytes(bytes) => Payload::Bytes(bytes),
            Body::Unsigned => Payload::Unsigned,
        },
    };
    let params = SigningParams {
        credentials,
        region: &config.region,
        service: &config.service,
        time: sigv4_core::Timestamp::from_unix_seconds(now)?,
        // S3 signs keys as sent (encoding them again breaks keys with `%`, envoy#35023).
        settings: if is_s3(&config.service) {
            Settings::s3()
        } else {
            Settings::default()
        },
    };
    let location = match config.presign_secs {
        Some(expires_in) => Location::Query { expires_in },
        None => Location::Headers,
    };
    let signed = signer.sign(&request, &params, location)?;
    Ok(match signed.url() {
        Some(url) => vec![(":path", url.to_string())],
        None => signed
            .headers()
            .map(|(name, value)| (name, value.to_string()))
            .collect(),
    })
}

/// The services that sign with S3's rules.
fn is_s3(service: &str) -> bool {
    matches!(
        service,
        "s3" | "s3-object-lambda" | "s3-outposts" | "s3express"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(extra: &str) -> Config {
        Config::parse(
            format!(
                r#"{{"service_name": "s3", "region": "us-east-1", {extra}
                "credential_provider": {{"inline_credential": {{"access_key_id": "AKIDEXAMPLE",
                "secret_access_key": "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"}}}}}}"#
            )
            .as_bytes(),
        )
        .unwrap()
    }

    fn envoy_headers(path: &str) -> Vec<(String, String)> {
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
        .iter()
        .map(|(n, v)| (n.to_string(), v.to_string()))
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
            credentials: &credentials(),
            region: "us-east-1",
            service: "s3",
            time: sigv4_core::Timestamp::from_unix_seconds(1_440_938_160).unwrap(),
            settings: Settings::s3(),
        };
        Signer::new().sign(&request, &params, location).unwrap()
    }

    #[test]
    fn signs_what_goes_upstream_and_leaves_out_what_envoy_changes() {
        let config = config(r#""match_excluded_headers": [{"exact": "x-custom"}],"#);
        let path = "/my%20key%2Bwith%25odd%40chars/%E2%82%AC";
        let parts = Parts::new(envoy_headers(path), &config);
        assert_eq!(parts.authority, "bucket.s3.amazonaws.com");
        let names: Vec<&str> = parts.headers.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, ["x-request-id"]);
        let mut signer = Signer::new();
        let edits = sign(
            &config,
            &mut signer,
            &credentials(),
            1_440_938_160,
            &parts,
            Body::Bytes(b""),
        )
        .unwrap();
        let want = expected(
            path,
            &[
                ("host", "bucket.s3.amazonaws.com"),
                ("x-request-id", "5d7e7d1c"),
            ],
            Location::Headers,
        );
        let want: Vec<(&str, String)> = want.headers().map(|(n, v)| (n, v.into())).collect();
        assert_eq!(edits, want);
        assert!(edits.iter().any(|(n, _)| *n == "authorization"));
        // S3 keys are signed as sent: `%2B` stays `%2B` (the native filter's envoy#35023).
        assert!(edits.iter().any(|(n, _)| *n == "x-amz-content-sha256"));
    }

    #[test]
    fn presigns_into_the_path_with_host_rewrite() {
        let config = config(
            r#""host_rewrite": "other.s3.amazonaws.com", "query_string": {"expiration_time": "60s"},"#,
        );
        let parts = Parts::new(envoy_headers("/k?list-type=2"), &config);
        assert_eq!(parts.authority, "other.s3.amazonaws.com");
        let edits = sign(
            &config,
            &mut Signer::new(),
            &credentials(),
            1_440_938_160,
            &parts,
            Body::Unsigned,
        )
        .unwrap();
        let want = expected(
            "/k?list-type=2",
            &[("host", "other.s3.amazonaws.com")],
            Location::Query { expires_in: 60 },
        );
        assert_eq!(edits, [(":path", want.url().unwrap().to_string())]);
        assert!(edits[0].1.contains("X-Amz-Expires=60"));
    }

    #[test]
    fn bad_requests_are_errors_not_panics() {
        let config = config("");
        let mut headers = envoy_headers("/k");
        headers.push(("x-bad".into(), "a\nb".into()));
        let parts = Parts::new(headers, &config);
        let error = sign(
            &config,
            &mut Signer::new(),
            &credentials(),
            1_440_938_160,
            &parts,
            Body::Bytes(b""),
        )
        .unwrap_err();
        assert!(error.to_string().contains("header"), "{error}");
    }
}
