//! `sigv4 verify` over the AWS signing test suite's signed requests: exit 0 and the signer's
//! access key id for every request signed with the service's rules, 3 with the reason for a
//! wrong secret, an unknown key or a clock past the skew, 1 for input it cannot read.

mod support;

use std::path::Path;

use sigv4_case::Case;
use sigv4_case::suite::suite_cases;
use support::{sigv4, text};

fn verify(request: &Path, credentials: &Path, now: u64) -> (Option<i32>, serde_json::Value) {
    let out = sigv4(
        &[],
        &[
            "verify",
            "--request",
            request.to_str().unwrap(),
            "--credentials",
            credentials.to_str().unwrap(),
            "--now",
            &now.to_string(),
            "--json",
        ],
    );
    let json = serde_json::from_slice(&out.stdout).unwrap_or(serde_json::Value::Null);
    (out.status.code(), json)
}

#[test]
fn the_suites_signed_requests_verify_and_tampered_ones_are_refused() {
    let dir = std::env::temp_dir().join(format!("sigv4-verify-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (mut verified, mut refused) = (0, 0);
    for suite_case in suite_cases() {
        let case = Case::load(&suite_case.case_dir).unwrap();
        let ctx = &case.context;
        // The cases of the old format carry no timestamp of their signed requests' own.
        if suite_case.case_dir != suite_case.dir && ctx.double_uri_encode {
            continue;
        }
        let keys = dir.join("keys.json");
        let secrets = serde_json::json!({ &ctx.credentials.access_key_id: &ctx.credentials.secret_access_key });
        std::fs::write(&keys, secrets.to_string()).unwrap();
        let wrong = dir.join("wrong.json");
        std::fs::write(
            &wrong,
            serde_json::json!({ &ctx.credentials.access_key_id: "wrong" }).to_string(),
        )
        .unwrap();
        let now = case.time().unwrap().unix_seconds();
        // What the service's rules sign (double encoding, normalized paths): the suite's other
        // cases ask for other rules, and are refused by a verifier that applies the service's.
        let service_rules = ctx.normalize && ctx.double_uri_encode && !ctx.omit_session_token;
        for file in ["header-signed-request.txt", "query-signed-request.txt"] {
            let request = suite_case.dir.join(file);
            if !request.exists() {
                continue;
            }
            let (code, json) = verify(&request, &keys, now);
            if service_rules {
                assert_eq!(code, Some(0), "{} {file}: {json}", suite_case.name);
                assert_eq!(json["valid"], true);
                assert_eq!(
                    json["access_key_id"],
                    ctx.credentials.access_key_id.as_str()
                );
                verified += 1;
            } else {
                assert_eq!(code, Some(3), "{} {file}: {json}", suite_case.name);
                refused += 1;
            }
            let (code, json) = verify(&request, &wrong, now);
            assert_eq!(
                (code, json["valid"].clone()),
                (Some(3), false.into()),
                "{}",
                suite_case.name
            );
            if service_rules {
                assert_eq!(json["reason"], "the signature does not match");
            }
        }
    }
    // 38 cases of the current format, 76 signed requests: 20 signed without normalization,
    // with single encoding or with the session token outside the signature.
    assert_eq!((verified, refused), (56, 20));
    println!(
        "sigv4 verify: {verified} suite requests verified, {refused} signed with other rules refused"
    );

    // An unknown key, a clock past the skew, input that cannot be read.
    let case = suite_cases()
        .iter()
        .find(|c| c.name == "get-vanilla")
        .unwrap();
    let request = case.dir.join("header-signed-request.txt");
    let other = dir.join("other.json");
    std::fs::write(&other, r#"{"AKIDOTHER": "secret"}"#).unwrap();
    let now = Case::load(&case.case_dir)
        .unwrap()
        .time()
        .unwrap()
        .unix_seconds();
    let (code, json) = verify(&request, &other, now);
    assert_eq!(
        (code, json["reason"].as_str()),
        (Some(3), Some("unknown access key id AKIDEXAMPLE"))
    );
    let keys = dir.join("keys.json");
    let (code, json) = verify(&request, &keys, now + 901);
    assert_eq!(
        (code, json["reason"].as_str()),
        (
            Some(3),
            Some("the request's time is outside the clock skew allowed")
        )
    );
    let out = sigv4(
        &[],
        &[
            "verify",
            "--request",
            "/nonexistent",
            "--credentials",
            keys.to_str().unwrap(),
            "--now",
            "0",
        ],
    );
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    std::fs::write(dir.join("bad.json"), "[1]").unwrap();
    let (code, _) = verify(&request, &dir.join("bad.json"), now);
    assert_eq!(code, Some(1));
    std::fs::remove_dir_all(&dir).unwrap();
}
