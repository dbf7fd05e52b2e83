//! The official suite through the WebAssembly component in wasmtime gives byte-identical results
//! to the native core, and bad input the same typed error: one implementation, two runtimes.

use sigv4_case::suite::suite_cases;
use sigv4_case::{Case, SignatureLocation};
use sigv4_cli::{case_config, sign_case, sign_case_with};
use sigv4_host::{CallError, ErrorCode, Field, SignerComponent};

#[test]
fn every_suite_case_is_byte_identical_through_the_component() {
    let component = SignerComponent::new().unwrap();
    let mut compared = 0;
    for case in suite_cases() {
        let loaded = Case::load(&case.case_dir).unwrap();
        // One signer per case signs it four times: its caches must not change any result.
        let mut signer = component.signer(&case_config(&loaded)).unwrap();
        for location in [SignatureLocation::Header, SignatureLocation::Query] {
            let native = loaded.sign(location).unwrap();
            let wasm = sign_case_with(&mut signer, &loaded, location).unwrap();
            let again = sign_case_with(&mut signer, &loaded, location).unwrap();
            assert_eq!(again, wasm, "{} signed twice", case.name);
            let name = &case.name;
            assert_eq!(
                wasm.canonical_request, native.canonical_request,
                "{name} {location:?}"
            );
            assert_eq!(
                wasm.string_to_sign, native.string_to_sign,
                "{name} {location:?}"
            );
            assert_eq!(
                wasm.signed.signature,
                native.signed.signature.as_str(),
                "{name} {location:?}"
            );
            assert_eq!(
                wasm.signed.url.as_deref(),
                native.signed.url(),
                "{name} {location:?}"
            );
            let headers: Vec<(&str, &str)> = wasm
                .signed
                .headers
                .iter()
                .map(|h| (h.name.as_str(), h.value.as_str()))
                .collect();
            assert_eq!(
                headers,
                native.signed.headers().collect::<Vec<_>>(),
                "{name} {location:?}"
            );
            // Where to send it: none when the URI is sent as given (a raw space in a suite
            // path is not), else the native core's values.
            let target = (
                wasm.signed.scheme.as_deref(),
                wasm.signed.host.as_deref(),
                wasm.signed.path_and_query.as_deref(),
            );
            let expected = match native.signed.uri_as_sent() {
                true => (None, None, None),
                false => (
                    Some(native.signed.scheme().unwrap_or_default()),
                    Some(native.signed.host()),
                    Some(native.signed.path_and_query()),
                ),
            };
            assert_eq!(target, expected, "{name} {location:?}");
            compared += 1;
        }
    }
    println!("component vs native core: {compared} suite variants byte-identical");
    assert_eq!(compared, 80);
}

#[test]
fn bad_input_gives_the_same_typed_error_without_a_trap() {
    let component = SignerComponent::new().unwrap();
    let dir = std::env::temp_dir().join(format!("sigv4-component-errors-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let cases = [
        (
            "GET / HTTP/1.1\nHost:h\n",
            r#""region":"""#,
            SignatureLocation::Header,
            ErrorCode::Empty,
            Field::Region,
        ),
        (
            "GET / HTTP/1.1\nHost:h\nBad Name:v\n",
            r#""region":"us-east-1""#,
            SignatureLocation::Header,
            ErrorCode::InvalidByte,
            Field::HeaderName(1),
        ),
        (
            "GET nope HTTP/1.1\n",
            r#""region":"us-east-1""#,
            SignatureLocation::Header,
            ErrorCode::InvalidUri,
            Field::Uri,
        ),
        (
            "GET / HTTP/1.1\nHost:h\n",
            r#""region":"us-east-1","expiration_in_seconds":604801"#,
            SignatureLocation::Query,
            ErrorCode::ExpiresInOutOfRange,
            Field::ExpiresIn,
        ),
    ];
    for (request, context, location, code, field) in cases {
        std::fs::write(dir.join("request.txt"), request).unwrap();
        let context = format!(
            r#"{{"credentials":{{"access_key_id":"AKID","secret_access_key":"SECRETMARKER"}},{context},"service":"s3","timestamp":"2015-08-30T12:36:00Z"}}"#
        );
        std::fs::write(dir.join("context.json"), context).unwrap();
        let case = Case::load(&dir).unwrap();
        let native = case.sign(location).unwrap_err();
        let wasm = match sign_case(&component, &case, location) {
            Err(CallError::Invalid(error)) => error,
            other => panic!("expected a typed error, got {other:?}"),
        };
        assert_eq!((wasm.code, wasm.field), (code, field));
        assert_eq!(wasm.message, native.to_string());
        assert!(!wasm.message.contains("SECRETMARKER"));
    }
    // A signer still signs after a request it rejected (the last case: a lifetime too long).
    let case = Case::load(&dir).unwrap();
    let mut signer = component.signer(&case_config(&case)).unwrap();
    let expired = sign_case_with(&mut signer, &case, SignatureLocation::Query);
    assert!(matches!(expired, Err(CallError::Invalid(e)) if e.field == Field::ExpiresIn));
    assert!(sign_case_with(&mut signer, &case, SignatureLocation::Header).is_ok());
    std::fs::remove_dir_all(&dir).unwrap();
}
