//! The signer component as embedded: a valid component that imports nothing and exports the
//! `signing` interface, whose signer resource signs and reports typed errors without trapping.

use sigv4_host::{
    CallError, Credentials, ErrorCode, Field, Payload, Request, SIGNER_COMPONENT, Settings,
    SignerComponent, SignerConfig,
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
        settings: Settings::standard(),
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
        settings: Settings::standard(),
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
