//! The AWS signing test suite (v4 and v4a), read from the `aws-sigv4` crate's published package:
//! every case, header and query variants, byte for byte (v4a's randomized ECDSA signatures are
//! verified with the suite's public key instead).

use std::fs;
use std::path::{Path, PathBuf};

use sigv4_case::suite::{
    SuiteCase, aws_suite_v4_dir, decoded, suite_cases, suite_v4a_cases, v4a_public_key,
};
use sigv4_case::{Case, RawRequest, SignatureLocation};
use sigv4_core::{Credentials, sigv4a_public_key, sigv4a_signature_is_valid};

fn read(dir: &Path, name: &str) -> String {
    fs::read_to_string(dir.join(name))
        .unwrap_or_else(|e| panic!("{}: {e}", dir.join(name).display()))
}

fn header<'a>(request: &'a RawRequest, name: &str) -> Option<&'a str> {
    request
        .headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.trim())
}

/// Checks one variant of a case against the suite's expected files; returns what differs.
fn check_variant(dir: &Path, case: &Case, location: SignatureLocation) -> Vec<String> {
    let prefix = match location {
        SignatureLocation::Header => "header",
        SignatureLocation::Query => "query",
    };
    let mut failures = Vec::new();
    let out = match case.sign(location) {
        Ok(out) => out,
        Err(e) => return vec![format!("{prefix}: signing failed: {e}")],
    };
    let mut expect = |what: &str, expected: &str, actual: &str| {
        if expected != actual {
            failures.push(format!(
                "{prefix} {what}:\n  expected {expected:?}\n  actual   {actual:?}"
            ));
        }
    };
    expect(
        "canonical request",
        &read(dir, &format!("{prefix}-canonical-request.txt")),
        &out.canonical_request,
    );
    expect(
        "string to sign",
        &read(dir, &format!("{prefix}-string-to-sign.txt")),
        &out.string_to_sign,
    );
    expect(
        "signature",
        read(dir, &format!("{prefix}-signature.txt")).trim(),
        out.signed.signature.as_str(),
    );
    let signed =
        RawRequest::parse(read(dir, &format!("{prefix}-signed-request.txt")).as_bytes()).unwrap();
    match location {
        SignatureLocation::Header => {
            for (name, value) in out.signed.headers() {
                expect(name, header(&signed, name).unwrap_or("<missing>"), value);
            }
        }
        SignatureLocation::Query => {
            let url = out.signed.url().unwrap_or_default();
            let target = url
                .find("://")
                .and_then(|i| url[i + 3..].find('/').map(|j| &url[i + 3 + j..]));
            let (path, query) = target.unwrap_or(url).split_once('?').unwrap_or_default();
            let (expected_path, expected_query) = signed.target.split_once('?').unwrap_or_default();
            // The suite writes the signed request's path and query decoded (`/example space/`,
            // `ሴ=bar`); the URL is in the wire form, encoded.
            expect(
                "presigned url query",
                &decoded(expected_query),
                &decoded(query),
            );
            expect(
                "presigned url path",
                &decoded(expected_path),
                &decoded(path),
            );
        }
    }
    failures
}

#[test]
fn every_v4_case_header_and_query() {
    let cases = suite_cases();
    let (mut checked, mut failures) = (0, Vec::new());
    for SuiteCase {
        name,
        dir,
        case_dir,
    } in cases
    {
        let case = match Case::load(case_dir) {
            Ok(case) => case,
            Err(e) => {
                failures.push(format!("{name}: {e}"));
                continue;
            }
        };
        if dir.join("query-canonical-request.txt").exists() {
            for location in [SignatureLocation::Header, SignatureLocation::Query] {
                checked += 1;
                failures.extend(
                    check_variant(dir, &case, location)
                        .into_iter()
                        .map(|f| format!("{name}: {f}")),
                );
            }
        } else {
            // The two cases carried over from the old suite format have only a header canonical
            // request, computed by aws-sigv4's own test at 2021-05-11T15:40:45Z (see
            // `sigv4_case::suite::suite_cases`); their signed requests are checked in
            // `legacy_signed_requests`.
            checked += 1;
            let out = case.sign(SignatureLocation::Header).unwrap();
            let expected = read(dir, "header-canonical-request.txt");
            if out.canonical_request != expected {
                failures.push(format!(
                    "{name}: canonical request\n  expected {expected:?}\n  actual   {:?}",
                    out.canonical_request
                ));
            }
            if let Ok(sts) = fs::read_to_string(dir.join("header-string-to-sign.txt"))
                && out.string_to_sign != sts.trim_end()
            {
                failures.push(format!(
                    "{name}: string to sign\n  expected {sts:?}\n  actual   {:?}",
                    out.string_to_sign
                ));
            }
        }
    }
    println!(
        "aws signing test suite v4: {} cases, {checked} variants checked, {} failures",
        cases.len(),
        failures.len()
    );
    assert_eq!(cases.len(), 40, "the v4 suite has 40 cases");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn legacy_signed_requests() {
    // double-encode-path's signed request was made by aws-sigv4's `test_sign_url_escape` with its
    // test credentials at 2015-08-30T12:36:00Z; double-url-encode's carries its own scope.
    for (name, timestamp) in [
        ("double-encode-path", "2015-08-30T12:36:00Z"),
        ("double-url-encode", "2021-05-11T15:40:45Z"),
    ] {
        let case = suite_cases().iter().find(|c| c.name == name).unwrap();
        let mut loaded = Case::load(&case.case_dir).unwrap();
        loaded.context.timestamp = timestamp.into();
        let out = loaded.sign(SignatureLocation::Header).unwrap();
        let signed =
            RawRequest::parse(read(&case.dir, "header-signed-request.txt").as_bytes()).unwrap();
        assert_eq!(
            header(&signed, "authorization"),
            out.signed.authorization(),
            "{name}"
        );
    }
}

#[test]
fn get_space_normalized_double_encodes_by_default() {
    // The suite expects single encoding for this case (see `sigv4_case::suite::suite_cases`); a service
    // that double-encodes sees `%20` on the wire and signs `%2520`, and so do we by default.
    let case = suite_cases()
        .iter()
        .find(|c| c.name == "get-space-normalized")
        .unwrap();
    let out = Case::load(&case.dir)
        .unwrap()
        .sign(SignatureLocation::Header)
        .unwrap();
    assert!(
        out.canonical_request
            .starts_with("GET\n/example%2520space/\n"),
        "{}",
        out.canonical_request
    );
}

#[test]
fn suite_is_read_from_the_aws_sigv4_package() {
    let dir: PathBuf = aws_suite_v4_dir().unwrap();
    assert!(
        dir.to_string_lossy().contains("aws-sigv4-"),
        "{}",
        dir.display()
    );
}

/// Checks one variant of a v4a case: the canonical request and string to sign byte for byte, our
/// signature verified with the suite's public key (and the suite's own, to show the check can
/// pass), the headers or URL parameters against the suite's signed request but for the signature.
fn check_v4a_variant(
    dir: &Path,
    case: &Case,
    public_key: &[u8],
    location: SignatureLocation,
) -> Vec<String> {
    let prefix = match location {
        SignatureLocation::Header => "header",
        SignatureLocation::Query => "query",
    };
    let mut failures = Vec::new();
    let out = match case.sign(location) {
        Ok(out) => out,
        Err(e) => return vec![format!("{prefix}: signing failed: {e}")],
    };
    let mut expect = |what: &str, expected: &str, actual: &str| {
        if expected != actual {
            failures.push(format!(
                "{prefix} {what}:\n  expected {expected:?}\n  actual   {actual:?}"
            ));
        }
    };
    let expected_sts = read(dir, &format!("{prefix}-string-to-sign.txt"));
    expect(
        "canonical request",
        &read(dir, &format!("{prefix}-canonical-request.txt")),
        &out.canonical_request,
    );
    expect("string to sign", &expected_sts, &out.string_to_sign);
    let ours = out.signed.signature.as_str();
    let theirs = read(dir, &format!("{prefix}-signature.txt"));
    let valid = |sts: &str, signature: &str| {
        sigv4a_signature_is_valid(public_key, sts, signature).to_string()
    };
    expect(
        "our signature, verified",
        "true",
        &valid(&out.string_to_sign, ours),
    );
    expect(
        "the suite's signature, verified",
        "true",
        &valid(&expected_sts, theirs.trim()),
    );
    expect(
        "our signature over another string, verified",
        "false",
        &valid(&format!("{}x", out.string_to_sign), ours),
    );
    let signed =
        RawRequest::parse(read(dir, &format!("{prefix}-signed-request.txt")).as_bytes()).unwrap();
    // Everything but the signature, which differs from one signing to the next.
    let unsigned = |text: &str, marker: &str| {
        let end = text.find(marker).unwrap_or(text.len());
        text[..end].to_string()
    };
    match location {
        SignatureLocation::Header => {
            for (name, value) in out.signed.headers() {
                let expected = header(&signed, name).unwrap_or("<missing>");
                expect(
                    name,
                    &unsigned(expected, "Signature="),
                    &unsigned(value, "Signature="),
                );
            }
            let authorization = out.signed.authorization().unwrap_or_default();
            expect(
                "authorization's signature",
                &format!("Signature={ours}"),
                &authorization[unsigned(authorization, "Signature=").len()..],
            );
        }
        SignatureLocation::Query => {
            let url = out.signed.url().unwrap_or_default();
            let target = url
                .find("://")
                .and_then(|i| url[i + 3..].find('/').map(|j| &url[i + 3 + j..]));
            let (path, query) = target.unwrap_or(url).split_once('?').unwrap_or_default();
            let (expected_path, expected_query) = signed.target.split_once('?').unwrap_or_default();
            expect(
                "presigned url query",
                &decoded(&unsigned(expected_query, "X-Amz-Signature=")),
                &decoded(&unsigned(query, "X-Amz-Signature=")),
            );
            expect(
                "presigned url signature",
                &format!("X-Amz-Signature={ours}"),
                &query[unsigned(query, "X-Amz-Signature=").len()..],
            );
            expect(
                "presigned url path",
                &decoded(expected_path),
                &decoded(path),
            );
        }
    }
    failures
}

#[test]
fn every_v4a_case_header_and_query() {
    let cases = suite_v4a_cases();
    let (mut checked, mut failures) = (0, Vec::new());
    for SuiteCase {
        name,
        dir,
        case_dir,
    } in cases
    {
        let case = match Case::load(case_dir) {
            Ok(case) => case,
            Err(e) => {
                failures.push(format!("{name}: {e}"));
                continue;
            }
        };
        let public_key = v4a_public_key(dir).unwrap();
        // The key derived from the case's credentials is the suite's: the KDF is right.
        let credentials = &case.context.credentials;
        let credentials = Credentials::new(
            &credentials.access_key_id,
            &credentials.secret_access_key,
            None,
        )
        .unwrap();
        if sigv4a_public_key(&credentials).unwrap()[..] != public_key[..] {
            failures.push(format!("{name}: the derived public key is not the suite's"));
        }
        for location in [SignatureLocation::Header, SignatureLocation::Query] {
            checked += 1;
            failures.extend(
                check_v4a_variant(dir, &case, &public_key, location)
                    .into_iter()
                    .map(|f| format!("{name}: {f}")),
            );
        }
    }
    println!(
        "aws signing test suite v4a: {} cases, {checked} variants checked, {} failures",
        cases.len(),
        failures.len()
    );
    assert_eq!(cases.len(), 38, "the v4a suite has 38 cases");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
