//! Writes every case of the AWS signing test suite (v4), as `sigv4_case::suite::suite_cases`
//! supplies them, into one JSON file for the tests of other runtimes (the npm package's in
//! `js/test`): each case's folder to sign, its context, its parsed request and the suite's
//! expected outputs. The suite itself stays in the `aws-sigv4` package; this is a view of it.
//!
//! Usage: `export-suite OUT.json`.

use std::fs;
use std::path::Path;

use serde_json::{Value, json};
use sigv4_case::suite::suite_cases;
use sigv4_case::{Case, RawRequest};

fn main() -> Result<(), String> {
    let out = std::env::args()
        .nth(1)
        .ok_or("usage: export-suite OUT.json")?;
    let mut cases = Vec::new();
    for case in suite_cases() {
        let loaded = Case::load(&case.case_dir)?;
        let ctx = &loaded.context;
        let request = &loaded.request;
        let mut expected = serde_json::Map::new();
        for location in ["header", "query"] {
            if let Some(outputs) = expected_outputs(&case.dir, location)? {
                expected.insert(location.into(), outputs);
            }
        }
        cases.push(json!({
            "name": case.name,
            "case_dir": case.case_dir,
            "context": {
                "access_key_id": ctx.credentials.access_key_id,
                "secret_access_key": ctx.credentials.secret_access_key,
                "token": ctx.credentials.token,
                "region": ctx.region,
                "service": ctx.service,
                "timestamp": ctx.timestamp,
                "expiration_in_seconds": ctx.expiration_in_seconds,
                "normalize": ctx.normalize,
                "sign_body": ctx.sign_body,
                "omit_session_token": ctx.omit_session_token,
                "double_uri_encode": ctx.double_uri_encode,
            },
            "request": {
                "method": request.method,
                "uri": request.uri(),
                "headers": request.headers,
                "body_hex": hex(&request.body),
            },
            "expected": expected,
        }));
    }
    let count = cases.len();
    let text = serde_json::to_string_pretty(&Value::Array(cases)).map_err(|e| e.to_string())?;
    fs::write(&out, text).map_err(|e| format!("{out}: {e}"))?;
    println!("{count} suite cases written to {out}");
    Ok(())
}

/// The suite's files for one location (`header` or `query`); none for the two legacy cases
/// that have no signature files.
fn expected_outputs(dir: &Path, location: &str) -> Result<Option<Value>, String> {
    let read = |suffix: &str| fs::read_to_string(dir.join(format!("{location}-{suffix}")));
    let Ok(signature) = read("signature.txt") else {
        return Ok(None);
    };
    let text = |suffix: &str| {
        read(suffix).map_err(|e| format!("{}: {location}-{suffix}: {e}", dir.display()))
    };
    let signed = RawRequest::parse(text("signed-request.txt")?.as_bytes())?;
    let authorization = signed
        .headers
        .iter()
        .find(|(n, _)| n == "Authorization")
        .map(|(_, v)| v.trim().to_string());
    let query = signed.target.split_once('?').map(|(_, q)| q.to_string());
    Ok(Some(json!({
        "canonical_request": text("canonical-request.txt")?,
        "string_to_sign": text("string-to-sign.txt")?,
        "signature": signature.trim(),
        "authorization": authorization,
        "query": query,
    })))
}

fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    bytes
        .iter()
        .flat_map(|b| [DIGITS[usize::from(b >> 4)], DIGITS[usize::from(b & 15)]])
        .map(char::from)
        .collect()
}
