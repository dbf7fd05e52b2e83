//! The `sigv4 sign --case DIR --location header|query --json` contract, run over every case of
//! the AWS signing test suite: the binary's JSON must carry the suite's expected canonical
//! request, string to sign, signature, and Authorization header or presigned URL.

use std::fs;
use std::path::Path;
use std::process::{Command, Output};

use sigv4_case::RawRequest;
use sigv4_case::suite::{decoded, suite_cases};

fn sigv4(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_sigv4"))
        .args(args)
        .output()
        .expect("run sigv4")
}

fn expected(dir: &Path, name: &str) -> Option<String> {
    fs::read_to_string(dir.join(name)).ok()
}

#[test]
fn json_contract_over_the_aws_suite() {
    let mut variants = 0;
    for case in suite_cases() {
        let case_dir = case.case_dir.to_str().unwrap();
        for location in ["header", "query"] {
            let Some(signature) = expected(&case.dir, &format!("{location}-signature.txt")) else {
                continue; // the two legacy cases have no signature files (see aws_suite.rs)
            };
            variants += 1;
            let out = sigv4(&["sign", "--case", case_dir, "--location", location, "--json"]);
            assert!(
                out.status.success(),
                "{}: {}",
                case.name,
                String::from_utf8_lossy(&out.stderr)
            );
            let json: serde_json::Value =
                serde_json::from_slice(&out.stdout).expect("one JSON object");
            let field = |name: &str| {
                json[name]
                    .as_str()
                    .unwrap_or_else(|| panic!("{}: no {name}", case.name))
                    .to_string()
            };
            let file = |suffix: &str| expected(&case.dir, &format!("{location}-{suffix}")).unwrap();
            assert_eq!(
                field("canonical_request"),
                file("canonical-request.txt"),
                "{}",
                case.name
            );
            assert_eq!(
                field("string_to_sign"),
                file("string-to-sign.txt"),
                "{}",
                case.name
            );
            assert_eq!(field("signature"), signature.trim(), "{}", case.name);
            let signed = RawRequest::parse(file("signed-request.txt").as_bytes()).unwrap();
            if location == "header" {
                let authorization = signed
                    .headers
                    .iter()
                    .find(|(n, _)| n == "Authorization")
                    .map(|(_, v)| v.trim());
                assert_eq!(
                    Some(field("authorization").as_str()),
                    authorization,
                    "{}",
                    case.name
                );
                assert!(json.get("url").is_none());
            } else {
                let url = field("url");
                let query = url.split_once('?').map(|(_, q)| q).unwrap_or_default();
                // The suite writes the query decoded; the URL is in the wire form.
                assert_eq!(
                    Some(decoded(query)),
                    signed.target.split_once('?').map(|(_, q)| decoded(q)),
                    "{}",
                    case.name
                );
                assert!(url.starts_with("https://"), "{url}");
                assert!(json.get("authorization").is_none());
            }
        }
    }
    println!("sigv4 CLI contract: {variants} suite variants matched");
    assert_eq!(variants, 76, "38 cases with header and query variants");
}

#[test]
fn explain_is_readable() {
    let case = suite_cases()
        .iter()
        .find(|c| c.name == "get-vanilla-with-session-token")
        .unwrap();
    let out = sigv4(&[
        "sign",
        "--case",
        case.case_dir.to_str().unwrap(),
        "--explain",
    ]);
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    for part in [
        "--- canonical request ---\nGET\n/\n",
        "--- string to sign ---\nAWS4-HMAC-SHA256\n",
        "--- signature ---\n07ec1639",
        "authorization: AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/",
    ] {
        assert!(text.contains(part), "missing {part:?} in:\n{text}");
    }
}

#[test]
fn errors_go_to_stderr_with_a_failing_exit_and_name_the_field() {
    let dir = std::env::temp_dir().join(format!("sigv4-cli-errors-{}", std::process::id()));
    fs::create_dir_all(&dir).unwrap();
    fs::write(
        dir.join("request.txt"),
        "GET / HTTP/1.1\nHost:example.amazonaws.com\n",
    )
    .unwrap();
    let context = |expires: u64, region: &str| {
        format!(
            r#"{{"credentials":{{"access_key_id":"AKID","secret_access_key":"SECRETMARKER"}},"expiration_in_seconds":{expires},"region":"{region}","service":"s3","timestamp":"2015-08-30T12:36:00Z"}}"#
        )
    };
    let run = |location: &str| {
        sigv4(&[
            "sign",
            "--case",
            dir.to_str().unwrap(),
            "--location",
            location,
            "--json",
        ])
    };
    for (ctx, location, message) in [
        (
            context(604_801, "us-east-1"),
            "query",
            "expires_in must be between 1 and 604800",
        ),
        (context(60, ""), "header", "region must not be empty"),
        (context(60, "us/east"), "header", "region contains a byte"),
    ] {
        fs::write(dir.join("context.json"), ctx).unwrap();
        let out = run(location);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success() && out.stdout.is_empty());
        assert!(stderr.contains(message), "{stderr}");
        assert!(!stderr.contains("SECRETMARKER"), "{stderr}");
    }
    fs::write(
        dir.join("request.txt"),
        "GET / HTTP/1.1\nHost:example.amazonaws.com\nBad Name:v\n",
    )
    .unwrap();
    fs::write(dir.join("context.json"), context(60, "us-east-1")).unwrap();
    let stderr = String::from_utf8(run("header").stderr).unwrap();
    assert!(stderr.contains("headers[1].name"), "{stderr}");
    let out = sigv4(&["sign", "--case", "/nonexistent/case", "--json"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("context.json"));
    fs::remove_dir_all(&dir).unwrap();
    // A host that names no AWS service (an S3-compatible store): the error asks for the scope.
    for args in [
        &["presign", "http://127.0.0.1:9/bucket/key"][..],
        &["sign", "http://minio.local:9000/bucket/key"][..],
    ] {
        let out = Command::new(env!("CARGO_BIN_EXE_sigv4"))
            .args(args)
            .env_clear()
            .env("HOME", std::env::temp_dir())
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .env("AWS_ACCESS_KEY_ID", "AKID")
            .env("AWS_SECRET_ACCESS_KEY", "SECRETMARKER")
            .output()
            .expect("run sigv4");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success() && out.stdout.is_empty(), "{args:?}");
        assert_eq!(
            stderr.trim_end(),
            "sigv4: host is not an AWS endpoint whose service and region can be inferred: give \
             the service and region with --service (s3, sts, ...) and --region",
            "{args:?}"
        );
    }
}
