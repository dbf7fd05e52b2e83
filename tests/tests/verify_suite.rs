//! Verification against the AWS signing test suite: every signed request the suite ships (header
//! and query, v4 and v4a) verifies with the case's credentials at its time, and is refused with a wrong
//! secret or once the clock has moved past the skew allowed.

use std::fs;

use sigv4_case::suite::{SuiteCase, suite_cases, suite_v4a_cases};
use sigv4_case::{Case, RawRequest};
use sigv4_core::{Payload, Rejection, Request, Signer, Timestamp, VerifyParams};

/// `file` of the case, parsed, with the case loaded; None when the case has no such file.
fn signed_request(dir: &std::path::Path, file: &str) -> Option<RawRequest> {
    let text = fs::read(dir.join(file)).ok()?;
    Some(RawRequest::parse(&text).unwrap_or_else(|e| panic!("{}: {e}", dir.display())))
}

fn verify(
    case: &Case,
    signed: &RawRequest,
    now: Timestamp,
    secret: &str,
) -> Result<sigv4_core::Verified<'static>, Rejection> {
    let uri = signed.uri();
    let headers: Vec<(&str, &str)> = signed
        .headers
        .iter()
        .map(|(n, v)| (n.as_str(), v.as_str()))
        .collect();
    let request = Request {
        method: &signed.method,
        uri: &uri,
        headers: &headers,
        payload: Payload::Bytes(&signed.body),
    };
    let ctx = &case.context;
    let params = VerifyParams {
        region: Some(&ctx.region),
        service: Some(&ctx.service),
        settings: Some(case.settings()),
        ..VerifyParams::new(now)
    };
    let id = ctx.credentials.access_key_id.as_str();
    Signer::new()
        .verify(&request, &params, |asked| (asked == id).then_some(secret))
        .map(sigv4_core::Verified::into_owned)
}

#[test]
fn every_signed_request_of_the_suite_verifies() {
    let (verified, failures) = verify_every_signed_request(suite_cases());
    println!(
        "verification over the AWS signing test suite v4: {verified} signed requests verified, {} failures",
        failures.len()
    );
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert_eq!(verified, 78);
}

#[test]
fn every_signed_request_of_the_v4a_suite_verifies() {
    // SigV4a: the suite's randomized ECDSA signatures, checked with the public key the verifier
    // derives from the case's secret.
    let (verified, failures) = verify_every_signed_request(suite_v4a_cases());
    println!(
        "verification over the AWS signing test suite v4a: {verified} signed requests verified, {} failures",
        failures.len()
    );
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert_eq!(verified, 76);
}

/// Verifies the header- and query-signed requests of `cases`; checks that a wrong secret and a
/// later clock refuse each. The count of those that verified, and why others did not.
fn verify_every_signed_request(cases: &[SuiteCase]) -> (usize, Vec<String>) {
    let (mut verified, mut failures) = (0, Vec::new());
    for suite_case in cases {
        let mut case = Case::load(&suite_case.case_dir).unwrap();
        // The two cases of the old format were signed at these times (see aws_suite.rs).
        match suite_case.name.as_str() {
            "double-encode-path" => case.context.timestamp = "2015-08-30T12:36:00Z".into(),
            "double-url-encode" => case.context.timestamp = "2021-05-11T15:40:45Z".into(),
            _ => {}
        }
        let now = case.time().unwrap();
        let secret = case.context.credentials.secret_access_key.clone();
        for file in ["header-signed-request.txt", "query-signed-request.txt"] {
            let Some(signed) = signed_request(&suite_case.dir, file) else {
                continue;
            };
            match verify(&case, &signed, now, &secret) {
                Ok(who) => {
                    assert_eq!(who.access_key_id, case.context.credentials.access_key_id);
                    verified += 1;
                }
                Err(why) => failures.push(format!("{} {file}: {why}", suite_case.name)),
            }
            // A wrong secret, and a clock 16 minutes on (header signing) or past any expiry.
            assert_eq!(
                verify(&case, &signed, now, "wrong"),
                Err(Rejection::SignatureMismatch),
                "{} {file}",
                suite_case.name
            );
            let later = Timestamp::from_unix_seconds(now.unix_seconds() + 604_801).unwrap();
            assert!(verify(&case, &signed, later, &secret).is_err());
        }
    }
    (verified, failures)
}
