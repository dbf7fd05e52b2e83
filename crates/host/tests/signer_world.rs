//! The signer component as embedded: a valid component that imports nothing and exports the
//! `signing` interface, whose signer resource signs and reports typed errors without trapping.

use sigv4_host::{
    Credentials, ErrorCode, Field, Location, Payload, Request, SIGNER_COMPONENT, Scope, Settings,
    SignerComponent,
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
    let mut signer = SignerComponent::new().unwrap().instantiate().unwrap();
    let credentials = Credentials {
        access_key_id: "AKIDEXAMPLE".into(),
        secret_access_key: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY".into(),
        session_token: None,
    };
    let request = Request {
        method: "GET".into(),
        uri: "https://example.amazonaws.com/".into(),
        headers: Vec::new(),
        payload: Payload::Bytes(Vec::new()),
    };
    let scope = Scope {
        region: "us-east-1".into(),
        service: "service".into(),
        time: 1_440_938_160,
    };
    let signed = signer
        .sign(
            &credentials,
            &request,
            &scope,
            &Settings::standard(),
            Location::Headers,
        )
        .unwrap()
        .unwrap();
    // get-vanilla of the AWS signing test suite.
    assert_eq!(
        signed.signature,
        "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"
    );
    let presigned = signer
        .sign(
            &credentials,
            &request,
            &scope,
            &Settings::standard(),
            Location::Query(604_801),
        )
        .unwrap()
        .unwrap_err();
    assert_eq!(
        (presigned.code, presigned.field),
        (ErrorCode::ExpiresInOutOfRange, Field::ExpiresIn)
    );
}
