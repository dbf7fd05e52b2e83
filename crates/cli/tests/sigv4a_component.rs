//! SigV4a through the WIT contract: the AWS signing test suite's v4a folder (38 cases, header and
//! query) signed inside the WebAssembly component and by the `sigv4` binary, the canonical
//! request and string to sign byte for byte against the suite's files and the signature verified
//! with the suite's public key; bad region sets refused with the typed error naming the field.
//!
//! The suite's signatures are randomized (they are checked, never compared), but ours are
//! deterministic (RFC 6979): the component's must equal the native core's.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use sigv4_case::suite::{SuiteCase, decoded, suite_v4a_cases, v4a_public_key};
use sigv4_case::{Case, RawRequest, SignatureLocation};
use sigv4_cli::{case_config, sign_case, sign_case_with};
use sigv4_core::sigv4a_signature_is_valid;
use sigv4_host::{
    Algorithm, CallError, Credentials, ErrorCode, Field, Header, Payload, Request, SignerComponent,
    SignerConfig,
};

fn read(dir: &Path, name: &str) -> String {
    fs::read_to_string(dir.join(name)).unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
}

fn prefix(location: SignatureLocation) -> &'static str {
    match location {
        SignatureLocation::Header => "header",
        SignatureLocation::Query => "query",
    }
}

/// A signature as SigV4a's: lowercase hex, of a DER ECDSA signature (70 to 72 bytes for P-256,
/// fewer with leading zeros), never SigV4's 64 digits.
fn assert_ecdsa_hex(signature: &str, what: &str) {
    assert!(
        (16..=144).contains(&signature.len()) && signature.len() != 64,
        "{what}: {signature}"
    );
    assert!(
        signature
            .bytes()
            .all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')),
        "{what}: {signature}"
    );
    assert!(signature.starts_with("30"), "{what}: not DER: {signature}");
}

#[test]
fn every_v4a_suite_case_through_the_component() {
    let component = SignerComponent::new().unwrap();
    let cases = suite_v4a_cases();
    let mut checked = 0;
    for SuiteCase {
        name,
        dir,
        case_dir,
    } in cases
    {
        let case = Case::load(case_dir).unwrap();
        let config = case_config(&case);
        assert_eq!(config.algorithm, Some(Algorithm::Sigv4a), "{name}");
        let public_key = v4a_public_key(dir).unwrap();
        // One signer per case signs it four times: the cached ECDSA key changes nothing.
        let mut signer = component.signer(&config).unwrap();
        for location in [SignatureLocation::Header, SignatureLocation::Query] {
            let what = format!("{name} {}", prefix(location));
            let file = |suffix: &str| read(dir, &format!("{}-{suffix}", prefix(location)));
            let wasm = sign_case_with(&mut signer, &case, location).unwrap();
            let again = sign_case_with(&mut signer, &case, location).unwrap();
            assert_eq!(again, wasm, "{what}: signed twice");
            assert_eq!(
                wasm.canonical_request,
                file("canonical-request.txt"),
                "{what}"
            );
            assert_eq!(wasm.string_to_sign, file("string-to-sign.txt"), "{what}");
            let signature = &wasm.signed.signature;
            assert_ecdsa_hex(signature, &what);
            assert!(
                sigv4a_signature_is_valid(&public_key, &wasm.string_to_sign, signature),
                "{what}: our signature does not verify with the suite's public key"
            );
            assert!(
                !sigv4a_signature_is_valid(
                    &public_key,
                    &format!("{}x", wasm.string_to_sign),
                    signature
                ),
                "{what}: our signature verifies for another string"
            );
            // The native core signs the same, to the byte (deterministic ECDSA).
            let native = case.sign(location).unwrap();
            assert_eq!(signature, native.signed.signature.as_str(), "{what}");
            assert_eq!(wasm.signed.url.as_deref(), native.signed.url(), "{what}");
            let headers: Vec<(&str, &str)> = wasm
                .signed
                .headers
                .iter()
                .map(|h| (h.name.as_str(), h.value.as_str()))
                .collect();
            assert_eq!(
                headers,
                native.signed.headers().collect::<Vec<_>>(),
                "{what}"
            );
            // And what the suite's signed request carries, but for the randomized signature.
            let expected = RawRequest::parse(file("signed-request.txt").as_bytes()).unwrap();
            match location {
                SignatureLocation::Header => {
                    let region_set = headers
                        .iter()
                        .find(|(n, _)| *n == "x-amz-region-set")
                        .map(|(_, v)| *v);
                    assert_eq!(region_set, Some(case.context.region.as_str()), "{what}");
                    let authorization = headers
                        .iter()
                        .find(|(n, _)| *n == "authorization")
                        .map(|(_, v)| *v)
                        .unwrap();
                    let theirs = expected
                        .headers
                        .iter()
                        .find(|(n, _)| n.eq_ignore_ascii_case("authorization"))
                        .map(|(_, v)| v.trim())
                        .unwrap();
                    let unsigned = |a: &str| a.split("Signature=").next().unwrap().to_string();
                    assert_eq!(unsigned(authorization), unsigned(theirs), "{what}");
                    assert!(
                        authorization.ends_with(&format!("Signature={signature}")),
                        "{what}"
                    );
                }
                SignatureLocation::Query => {
                    let url = wasm.signed.url.as_deref().unwrap();
                    let query = url.split_once('?').unwrap().1;
                    let (ours, sig) = query.split_once("&X-Amz-Signature=").unwrap();
                    assert_eq!(sig, signature, "{what}");
                    let theirs = expected.target.split_once('?').unwrap().1;
                    let theirs = theirs.split("&X-Amz-Signature=").next().unwrap();
                    assert_eq!(decoded(ours), decoded(theirs), "{what}");
                    assert!(query.contains("X-Amz-Region-Set="), "{what}");
                }
            }
            checked += 1;
        }
    }
    println!(
        "v4a suite through the component: {} cases, {checked} variants",
        cases.len()
    );
    assert_eq!(cases.len(), 38);
    assert_eq!(checked, 76);
}

/// A v4a case folder whose context does not say `"sigv4a": true` (as the suite's own do not), for
/// `--algorithm sigv4a` to decide.
fn without_the_flag(case: &SuiteCase, root: &Path) -> PathBuf {
    let dir = root.join(&case.name);
    fs::create_dir_all(&dir).unwrap();
    let mut context: serde_json::Value =
        serde_json::from_str(&read(&case.case_dir, "context.json")).unwrap();
    context.as_object_mut().unwrap().remove("sigv4a");
    fs::write(dir.join("context.json"), context.to_string()).unwrap();
    fs::copy(case.case_dir.join("request.txt"), dir.join("request.txt")).unwrap();
    dir
}

fn sigv4(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_sigv4"))
        .args(args)
        .output()
        .expect("run sigv4")
}

fn sign_json(dir: &Path, location: &str, algorithm: Option<&str>) -> serde_json::Value {
    let dir = dir.to_str().unwrap();
    let mut args = vec!["sign", "--case", dir, "--location", location, "--json"];
    if let Some(algorithm) = algorithm {
        args.extend(["--algorithm", algorithm]);
    }
    let out = sigv4(&args);
    assert!(
        out.status.success(),
        "{dir}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("one JSON object")
}

#[test]
fn the_cli_signs_every_v4a_suite_case_with_algorithm_sigv4a() {
    let root = std::env::temp_dir().join(format!("sigv4-cli-v4a-{}", std::process::id()));
    let mut variants = 0;
    for case in suite_v4a_cases() {
        let dir = without_the_flag(case, &root);
        let public_key = v4a_public_key(&case.dir).unwrap();
        for location in ["header", "query"] {
            let what = format!("{} {location}", case.name);
            let json = sign_json(&dir, location, Some("sigv4a"));
            let field = |name: &str| {
                json[name]
                    .as_str()
                    .unwrap_or_else(|| panic!("{what}: no {name}"))
                    .to_string()
            };
            let file = |suffix: &str| read(&case.dir, &format!("{location}-{suffix}"));
            assert_eq!(
                field("canonical_request"),
                file("canonical-request.txt"),
                "{what}"
            );
            let sts = field("string_to_sign");
            assert_eq!(sts, file("string-to-sign.txt"), "{what}");
            let signature = field("signature");
            assert_ecdsa_hex(&signature, &what);
            assert!(
                sigv4a_signature_is_valid(&public_key, &sts, &signature),
                "{what}: the signature does not verify with the suite's public key"
            );
            if location == "header" {
                let authorization = field("authorization");
                assert!(
                    authorization.starts_with("AWS4-ECDSA-P256-SHA256 Credential="),
                    "{what}: {authorization}"
                );
                assert!(authorization.ends_with(&format!("Signature={signature}")));
                let headers = json["headers"].as_array().unwrap();
                assert!(
                    headers.iter().any(|h| h[0] == "x-amz-region-set"
                        && h[1] == case_region(&case.case_dir).as_str()),
                    "{what}: {headers:?}"
                );
                assert!(json.get("url").is_none());
            } else {
                let url = field("url");
                assert!(url.starts_with("https://"), "{url}");
                assert!(
                    url.contains("X-Amz-Algorithm=AWS4-ECDSA-P256-SHA256"),
                    "{url}"
                );
                assert!(url.contains("X-Amz-Region-Set="), "{url}");
                assert!(url.ends_with(&format!("X-Amz-Signature={signature}")));
                assert!(json.get("authorization").is_none());
            }
            variants += 1;
        }
    }
    fs::remove_dir_all(&root).unwrap();
    println!("sigv4 sign --algorithm sigv4a: {variants} v4a suite variants verified");
    assert_eq!(variants, 76);
}

fn case_region(dir: &Path) -> String {
    let context: serde_json::Value = serde_json::from_str(&read(dir, "context.json")).unwrap();
    context["region"].as_str().unwrap().to_string()
}

#[test]
fn a_context_saying_sigv4a_is_signed_with_sigv4a_without_the_flag() {
    let root = std::env::temp_dir().join(format!("sigv4-cli-v4a-ctx-{}", std::process::id()));
    for case in suite_v4a_cases()
        .iter()
        .filter(|c| c.name.starts_with("get-vanilla"))
    {
        let public_key = v4a_public_key(&case.dir).unwrap();
        for location in ["header", "query"] {
            // The materialized context says "sigv4a": true; no --algorithm.
            let json = sign_json(&case.case_dir, location, None);
            let sts = json["string_to_sign"].as_str().unwrap();
            assert_eq!(
                sts,
                read(&case.dir, &format!("{location}-string-to-sign.txt"))
            );
            let signature = json["signature"].as_str().unwrap();
            assert!(sigv4a_signature_is_valid(&public_key, sts, signature));
            // The same with the flag: one answer (deterministic signatures).
            assert_eq!(sign_json(&case.case_dir, location, Some("sigv4a")), json);
        }
        // Without the context's flag and without --algorithm: SigV4, its region the region set.
        let dir = without_the_flag(case, &root);
        let json = sign_json(&dir, "header", None);
        let sts = json["string_to_sign"].as_str().unwrap();
        assert!(sts.starts_with("AWS4-HMAC-SHA256\n"), "{sts}");
        assert_eq!(json["signature"].as_str().unwrap().len(), 64);
        assert_eq!(sign_json(&dir, "header", Some("sigv4")), json);
        // --algorithm sigv4 against a context that says sigv4a: refused, not guessed.
        let dir = case.case_dir.to_str().unwrap();
        let out = sigv4(&["sign", "--case", dir, "--algorithm", "sigv4", "--json"]);
        assert!(!out.status.success() && out.stdout.is_empty());
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains("\"sigv4a\": true"), "{stderr}");
    }
    fs::remove_dir_all(&root).unwrap();
}

fn v4a_config(region: &str) -> SignerConfig {
    SignerConfig {
        credentials: Credentials {
            access_key_id: "AKIDEXAMPLE".into(),
            secret_access_key: "SECRETMARKER".into(),
            session_token: None,
        },
        region: region.into(),
        service: "s3".into(),
        algorithm: Some(Algorithm::Sigv4a),
        settings: None,
    }
}

fn get() -> Request {
    Request {
        method: "GET".into(),
        uri: "https://mfzwi23gnjvgw.mrap.accesspoint.s3-global.amazonaws.com/key".into(),
        headers: vec![Header {
            name: "x-amz-region-set".into(),
            value: "replaced".into(),
        }],
        payload: Payload::Unsigned,
    }
}

#[test]
fn bad_region_sets_are_typed_errors_naming_the_region_never_traps() {
    let component = SignerComponent::new().unwrap();
    for (region, code) in [
        ("", ErrorCode::Empty),
        ("us-east-1/x", ErrorCode::InvalidByte),
        ("us-east-1,us/west-2", ErrorCode::InvalidByte),
        // Accepted as a SigV4 region (visible ASCII), not as a region set: no empty name.
        ("us-east-1,,us-west-2", ErrorCode::InvalidByte),
        (",us-east-1", ErrorCode::InvalidByte),
        ("us-east-1,", ErrorCode::InvalidByte),
        ("us east-1", ErrorCode::InvalidByte),
    ] {
        let error = match component.signer(&v4a_config(region)) {
            Err(CallError::Invalid(error)) => error,
            Err(other) => panic!("{region:?}: expected a typed error, got {other}"),
            Ok(_) => panic!("{region:?}: accepted"),
        };
        assert_eq!(
            (error.code, error.field),
            (code, Field::Region),
            "{region:?}"
        );
        assert!(error.message.starts_with("region "), "{}", error.message);
        assert!(!error.message.contains("SECRETMARKER"));
    }
    // SigV4 takes "us-east-1,,us-west-2" as a region (the difference is the region set's check).
    let v4 = SignerConfig {
        algorithm: None,
        ..v4a_config("us-east-1,,us-west-2")
    };
    assert!(component.signer(&v4).is_ok());

    // A good region set signs, in the component's configured form (S3's rules for s3: the
    // settings none), with the request's x-amz-region-set replaced.
    for region in ["*", "us-east-1", "us-east-1,us-west-2", "eu-*,ap-south-1"] {
        let mut signer = component.signer(&v4a_config(region)).unwrap();
        let signed = signer.sign(&get(), 1_700_000_000).unwrap();
        let header = |name: &str| {
            signed
                .headers
                .iter()
                .find(|h| h.name == name)
                .map(|h| h.value.as_str())
        };
        assert_eq!(header("x-amz-region-set"), Some(region));
        assert_eq!(header("x-amz-content-sha256"), Some("UNSIGNED-PAYLOAD"));
        let authorization = header("authorization").unwrap();
        assert!(
            authorization.starts_with(
                "AWS4-ECDSA-P256-SHA256 Credential=AKIDEXAMPLE/20231114/s3/aws4_request, "
            ),
            "{authorization}"
        );
        assert_ecdsa_hex(&signed.signature, region);
        let url = signer
            .presign(&get(), 1_700_000_000, 60)
            .unwrap()
            .url
            .unwrap();
        assert!(
            url.contains("X-Amz-Algorithm=AWS4-ECDSA-P256-SHA256"),
            "{url}"
        );
        // A bad request after: the typed error, and the signer still signs.
        let bad = signer.presign(&get(), 1_700_000_000, 604_801);
        assert!(matches!(bad, Err(CallError::Invalid(e)) if e.field == Field::ExpiresIn));
        assert!(signer.sign(&get(), 1_700_000_000).is_ok());
    }
}

#[test]
fn the_cli_names_the_region_for_a_bad_region_set() {
    let component = SignerComponent::new().unwrap();
    let dir = std::env::temp_dir().join(format!("sigv4-cli-v4a-errors-{}", std::process::id()));
    fs::create_dir_all(&dir).unwrap();
    fs::write(
        dir.join("request.txt"),
        "GET / HTTP/1.1\nHost:example.amazonaws.com\n",
    )
    .unwrap();
    for (region, message) in [
        ("", "region must not be empty"),
        ("us/east-1", "region contains a byte"),
        ("us-east-1,,us-west-2", "region contains a byte"),
    ] {
        let context = format!(
            r#"{{"credentials":{{"access_key_id":"AKID","secret_access_key":"SECRETMARKER"}},"region":"{region}","service":"s3","timestamp":"2015-08-30T12:36:00Z"}}"#
        );
        fs::write(dir.join("context.json"), context).unwrap();
        let case_dir = dir.to_str().unwrap();
        let out = sigv4(&[
            "sign",
            "--case",
            case_dir,
            "--algorithm",
            "sigv4a",
            "--json",
        ]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success() && out.stdout.is_empty(), "{region:?}");
        assert!(stderr.contains(message), "{region:?}: {stderr}");
        assert!(!stderr.contains("SECRETMARKER"), "{stderr}");
        // The library's path too: a typed error through the component.
        let mut case = Case::load(&dir).unwrap();
        case.context.sigv4a = true;
        match sign_case(&component, &case, SignatureLocation::Header) {
            Err(CallError::Invalid(e)) => assert_eq!(e.field, Field::Region),
            other => panic!("{region:?}: expected a typed error, got {other:?}"),
        }
    }
    fs::remove_dir_all(&dir).unwrap();
}
