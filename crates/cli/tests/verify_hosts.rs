//! Verification gives the same verdict natively and through the WebAssembly component: over the
//! AWS suite's signed requests (v4 and v4a), mutations of each that produce the rejection reasons, and random
//! requests signed by botocore (the AWS SDK for Python), all of which verify.
//! (`js/test/verify.test.mjs` holds npm to the same verdicts as the native `sigv4 verify`.)

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;

use base64::Engine as _;
use sigv4_case::suite::{suite_cases, suite_v4a_cases};
use sigv4_case::{Case, RawRequest};
use sigv4_cli::component_request;
use sigv4_cli::verify::verify as verify_native;
use sigv4_host::{Credentials, SignerComponent, VerifyParams};

/// One verdict, as both hosts give it: valid, the reason's words, the access key id.
type Verdict = (bool, Option<String>, Option<String>);

struct Hosts {
    verifier: sigv4_host::VerifierInstance,
}

impl Hosts {
    fn new() -> Self {
        Hosts {
            verifier: SignerComponent::new().unwrap().verifier().unwrap(),
        }
    }

    /// The native verdict and the component's for a raw request and one key.
    fn verdicts(&mut self, raw: &[u8], id: &str, secret: &str, now: u64) -> (Verdict, Verdict) {
        let keys = serde_json::json!({ id: secret }).to_string();
        let native = verify_native(raw, keys.as_bytes(), now, 900).unwrap();
        let native = (
            native.rejection.is_none(),
            native.rejection.map(|r| r.to_string()),
            native.access_key_id,
        );
        let request = component_request(&RawRequest::parse(raw).unwrap());
        let params = VerifyParams {
            now,
            max_skew: 900,
            region: None,
            service: None,
            settings: None,
        };
        let key = Credentials {
            access_key_id: id.into(),
            secret_access_key: secret.into(),
            session_token: None,
        };
        let wasm = match self.verifier.verify(&request, &params, &[key]).unwrap() {
            Ok(verified) => (true, None, Some(verified.access_key_id)),
            Err(rejection) => (false, Some(rejection.message), rejection.access_key_id),
        };
        (native, wasm)
    }
}

/// The request with its first `from` replaced by `to` (None if `from` is not in it).
fn replaced(raw: &[u8], from: &str, to: &str) -> Option<Vec<u8>> {
    let text = String::from_utf8_lossy(raw);
    text.contains(from)
        .then(|| text.replacen(from, to, 1).into_bytes())
}

/// Mutations of a signed request that break it in the ways a verifier must name.
fn mutations(raw: &[u8]) -> Vec<Vec<u8>> {
    let text = String::from_utf8_lossy(raw).into_owned();
    let mut out = Vec::new();
    let signature = text
        .find("Signature=")
        .map(|i| i + "Signature=".len())
        .or_else(|| {
            text.find("X-Amz-Signature=")
                .map(|i| i + "X-Amz-Signature=".len())
        });
    if let Some(at) = signature {
        let mut flipped = text.clone().into_bytes();
        flipped[at] = if flipped[at] == b'0' { b'1' } else { b'0' };
        out.push(flipped);
    }
    for (from, to) in [
        ("AWS4-HMAC-SHA256 ", "AWS4-HMAC-SHA512 "),
        ("Credential=", "Credential=X"),
        ("X-Amz-Credential=", "X-Amz-Credential=X"),
        ("SignedHeaders=host;", "SignedHeaders="),
        ("x-amz-date;", ""),
        ("X-Amz-Date:2015", "X-Amz-Date:2016"),
        ("X-Amz-Date=2015", "X-Amz-Date=2016"),
        ("X-Amz-Expires=", "X-Amz-Expires=9"),
        ("Authorization:", "X-Authorization:"),
        ("/aws4_request", "/aws5_request"),
        ("us-east-1", "us-west-2"),
    ] {
        out.extend(replaced(raw, from, to));
    }
    // A body hash that is not the body's, in a header the signature covers (a presigned URL
    // signs no such header: one added to it changes nothing).
    if !text.contains("X-Amz-Signature=") {
        out.extend(replaced(raw, "\n\n", "\nX-Amz-Content-Sha256:00\n\n"));
    }
    out
}

#[test]
fn native_and_component_give_the_same_verdicts() {
    let mut hosts = Hosts::new();
    let (mut compared, mut valid, mut originals) = (0, 0, 0);
    let mut reasons = BTreeSet::new();
    for case in suite_cases().iter().chain(suite_v4a_cases()) {
        let loaded = Case::load(&case.case_dir).unwrap();
        let credentials = &loaded.context.credentials;
        let (id, secret) = (&credentials.access_key_id, &credentials.secret_access_key);
        // The two cases of the old format were signed at other times (see verify_suite.rs):
        // their requests are refused alike.
        let now = loaded.time().unwrap().unix_seconds();
        for file in ["header-signed-request.txt", "query-signed-request.txt"] {
            let Ok(raw) = std::fs::read(case.dir.join(file)) else {
                continue;
            };
            let mut requests = vec![raw.clone()];
            requests.extend(mutations(&raw));
            for (i, request) in requests.iter().enumerate() {
                for at in [now, now + 1_000, now + 700_000] {
                    let (native, wasm) = hosts.verdicts(request, id, secret, at);
                    let shown = format!("{} {file} #{i} at {at}", case.name);
                    assert_eq!(native, wasm, "{shown}");
                    // No mutation verifies; the requests as signed are counted below.
                    if i == 0 && at == now {
                        originals += usize::from(native.0);
                    }
                    if i > 0 {
                        assert!(!native.0, "{shown}: a mutation verified");
                    }
                    compared += 1;
                    valid += usize::from(native.0);
                    reasons.extend(native.1);
                }
            }
        }
    }
    println!(
        "native and component: {compared} verdicts identical ({valid} valid, {originals} of the suite's requests as signed), {} distinct reasons",
        reasons.len()
    );
    assert!(compared > 3_800, "{compared}");
    // Verified under the scope's service rules (what `sigv4 verify` applies): the suite's
    // requests signed with those rules, at their time. The others are signed with settings of
    // their own (no normalization, single encoding, the token added after signing, two of the
    // old format at other times): tests/tests/verify_suite.rs verifies all 78 + 76 with them.
    // 57 of v4's, 56 of v4a's.
    assert_eq!(
        originals, 113,
        "suite requests that verify under the service's rules"
    );
    assert!(reasons.len() >= 12, "{reasons:#?}");
}

#[test]
fn requests_signed_by_botocore_verify_natively_and_in_the_component() {
    let python = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../.tools/venv/bin/python");
    assert!(
        python.exists(),
        "{} is missing: run `make test`",
        python.display()
    );
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/botocore_sign.py");
    let out = Command::new(&python)
        .arg(&script)
        .args(["1000", "18"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let signed: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout).unwrap();
    let mut hosts = Hosts::new();
    let (mut presigned, mut tampered) = (0, 0);
    for request in &signed {
        let raw = base64::engine::general_purpose::STANDARD
            .decode(request["raw_b64"].as_str().unwrap())
            .unwrap();
        let id = request["access_key_id"].as_str().unwrap();
        let secret = request["secret"].as_str().unwrap();
        let now = request["time"].as_u64().unwrap();
        let (native, wasm) = hosts.verdicts(&raw, id, secret, now);
        let shown = String::from_utf8_lossy(&raw);
        assert_eq!(native, (true, None, Some(id.to_string())), "{shown}");
        assert_eq!(wasm, native, "{shown}");
        presigned += usize::from(request["presigned"].as_bool().unwrap());
        // The signature, one hex digit changed, is refused by both.
        let flipped = mutations(&raw).remove(0);
        let (native, wasm) = hosts.verdicts(&flipped, id, secret, now);
        assert_eq!(
            native.1.as_deref(),
            Some("the signature does not match"),
            "{shown}"
        );
        assert_eq!(wasm, native);
        tampered += 1;
    }
    println!(
        "botocore: {} requests ({presigned} presigned) verify natively and in the component; {tampered} tampered refused by both",
        signed.len()
    );
    assert_eq!(signed.len(), 1000);
}
