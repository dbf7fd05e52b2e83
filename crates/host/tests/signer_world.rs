//! The signer component as embedded: a valid component that imports nothing and exports the
//! `signing` interface, whose signer resource signs and reports typed errors without trapping.

use sigv4_host::{
    CallError, Credentials, ErrorCode, Field, Payload, Request, SIGNER_COMPONENT, SignerComponent,
    SignerConfig,
};
use wasmtime::component::Component;
use wasmtime::{Config, Engine};

#[test]
fn the_signer_world_imports_nothing() {
    let engine = Engine::new(&Config::new()).unwrap();
    let component = Component::new(&engine, SIGNER_COMPONENT).unwrap();
    let ty = component.component_type();
    let imports: Vec<String> = ty
        .imports(&engine)
        .map(|(name, _)| name.to_string())
        .collect();
    let exports: Vec<String> = ty
        .exports(&engine)
        .map(|(name, _)| name.to_string())
        .collect();
    assert!(imports.is_empty(), "imports: {imports:?}");
    assert_eq!(exports, ["sigv4:core/signing@0.1.0"]);
    println!(
        "signer component: {} bytes, imports: none, exports: {exports:?}",
        SIGNER_COMPONENT.len()
    );
}

#[test]
fn signs_the_aws_documentation_example_inside_the_component() {
    let config = SignerConfig {
        credentials: Credentials {
            access_key_id: "AKIDEXAMPLE".into(),
            secret_access_key: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY".into(),
            session_token: None,
        },
        region: "us-east-1".into(),
        service: "service".into(),
        algorithm: None,
        settings: None,
    };
    let mut signer = SignerComponent::new().unwrap().signer(&config).unwrap();
    let request = Request {
        method: "GET".into(),
        uri: "https://example.amazonaws.com/".into(),
        headers: Vec::new(),
        payload: Payload::Bytes(Vec::new()),
    };
    let time = 1_440_938_160;
    let signed = signer.sign(&request, time).unwrap();
    // get-vanilla of the AWS signing test suite.
    assert_eq!(
        signed.signature,
        "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"
    );
    let presigned = signer.presign(&request, time, 86_400).unwrap();
    assert!(presigned.headers.is_empty());
    let url = presigned.url.unwrap();
    assert!(url.starts_with("https://example.amazonaws.com/?X-Amz-Algorithm=AWS4-HMAC-SHA256&"));
    assert!(url.ends_with(&format!("&X-Amz-Signature={}", presigned.signature)));
    match signer.presign(&request, time, 604_801) {
        Err(CallError::Invalid(e)) => {
            assert_eq!(
                (e.code, e.field),
                (ErrorCode::ExpiresInOutOfRange, Field::ExpiresIn)
            )
        }
        other => panic!("expected a typed error, got {other:?}"),
    }
}

#[test]
fn a_bad_configuration_is_refused_when_the_signer_is_made() {
    let component = SignerComponent::new().unwrap();
    let good = SignerConfig {
        credentials: Credentials {
            access_key_id: "AKIDEXAMPLE".into(),
            secret_access_key: "SECRETMARKER".into(),
            session_token: Some("TOKENMARKER".into()),
        },
        region: "us-east-1".into(),
        service: "sts".into(),
        algorithm: None,
        settings: None,
    };
    let mut empty_secret = good.clone();
    empty_secret.credentials.secret_access_key.clear();
    let mut bad_token = good.clone();
    bad_token.credentials.session_token = Some("TOKEN MARKER".into());
    let bad_region = SignerConfig {
        region: "us/east-1".into(),
        ..good.clone()
    };
    let empty_service = SignerConfig {
        service: String::new(),
        ..good.clone()
    };
    for (config, code, field) in [
        (&empty_secret, ErrorCode::Empty, Field::SecretAccessKey),
        (&bad_token, ErrorCode::InvalidByte, Field::SessionToken),
        (&bad_region, ErrorCode::InvalidByte, Field::Region),
        (&empty_service, ErrorCode::Empty, Field::Service),
    ] {
        match component.signer(config) {
            Err(CallError::Invalid(e)) => {
                assert_eq!((e.code, e.field), (code, field));
                assert!(!e.message.contains("MARKER"), "{}", e.message);
            }
            Err(other) => panic!("expected a typed error, got {other}"),
            Ok(_) => panic!("{field:?} accepted"),
        }
    }
    // New credentials are checked the same way, and the old ones stay.
    let mut signer = component.signer(&good).unwrap();
    assert!(matches!(
        signer.set_credentials(&empty_secret.credentials),
        Err(CallError::Invalid(e)) if e.field == Field::SecretAccessKey
    ));
    let request = Request {
        method: "GET".into(),
        uri: "https://sts.amazonaws.com/".into(),
        headers: Vec::new(),
        payload: Payload::Unsigned,
    };
    let before = signer.sign(&request, 1_700_000_000).unwrap();
    let mut rotated = good.credentials.clone();
    rotated.secret_access_key = "ROTATED".into();
    signer.set_credentials(&rotated).unwrap();
    let after = signer.sign(&request, 1_700_000_000).unwrap();
    assert_ne!(before.signature, after.signature);
    signer.set_credentials(&good.credentials).unwrap();
    assert_eq!(signer.sign(&request, 1_700_000_000).unwrap(), before);
}

/// One instance signs requests of every size, from a few bytes to past the component heap's
/// largest size class (1 KiB), with 0 to 40 headers: the component's allocations are reused
/// across classes and calls, and each result must equal the native core's.
#[test]
fn many_requests_of_every_size_match_the_native_core() {
    let (akid, secret, token) = (
        "AKIDEXAMPLE",
        "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
        "t0k3n",
    );
    let config = SignerConfig {
        credentials: Credentials {
            access_key_id: akid.into(),
            secret_access_key: secret.into(),
            session_token: Some(token.into()),
        },
        region: "eu-west-3".into(),
        service: "s3".into(),
        algorithm: None,
        settings: None,
    };
    let mut signer = SignerComponent::new().unwrap().signer(&config).unwrap();
    let credentials = sigv4_core::Credentials::new(akid, secret, Some(token)).unwrap();
    let mut native = sigv4_core::Signer::new();
    let time = 1_700_000_000;
    for i in 0..300usize {
        let size = (i * 37) % 3000;
        let headers: Vec<(String, String)> = (0..i % 41)
            .map(|h| (format!("x-h{h}"), "v".repeat((i + h * 13) % 1500)))
            .collect();
        let uri = format!(
            "https://bucket.s3.amazonaws.com/{}?n={i}",
            "k".repeat(size / 2)
        );
        let body = vec![b'b'; size];
        let request = Request {
            method: "PUT".into(),
            uri: uri.clone(),
            headers: headers
                .iter()
                .map(|(name, value)| sigv4_host::Header {
                    name: name.clone(),
                    value: value.clone(),
                })
                .collect(),
            payload: Payload::Bytes(body.clone()),
        };
        let signed = signer.sign(&request, time).unwrap();

        let borrowed: Vec<(&str, &str)> = headers
            .iter()
            .map(|(n, v)| (n.as_str(), v.as_str()))
            .collect();
        let expected = native
            .sign(
                &sigv4_core::Request {
                    method: "PUT",
                    uri: &uri,
                    headers: &borrowed,
                    payload: sigv4_core::Payload::Bytes(&body),
                },
                &sigv4_core::SigningParams {
                    credentials: &credentials,
                    region: "eu-west-3",
                    service: "s3",
                    time: sigv4_core::Timestamp::from_unix_seconds(time).unwrap(),
                    // No settings in the component's config: the service's rules.
                    settings: sigv4_core::Settings::for_service("s3"),
                },
                sigv4_core::Location::Headers,
            )
            .unwrap();
        assert_eq!(signed.signature, expected.signature.as_str(), "request {i}");
        let got: Vec<(&str, &str)> = signed
            .headers
            .iter()
            .map(|h| (h.name.as_str(), h.value.as_str()))
            .collect();
        assert_eq!(got, expected.headers().collect::<Vec<_>>(), "request {i}");
    }
}
