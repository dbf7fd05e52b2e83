//! Shared helpers of the conformance tests: the AWS signing test suite's cases, ready to sign.
#![forbid(unsafe_code)]

use std::fs;
use std::path::PathBuf;

/// One case of the suite.
pub struct SuiteCase {
    /// The case's folder name.
    pub name: String,
    /// The suite's folder, holding the expected outputs.
    pub dir: PathBuf,
    /// A folder with `context.json` and `request.txt` to sign: `dir` itself, or a temporary folder
    /// where the context needed the overrides explained in [`suite_cases`].
    pub case_dir: PathBuf,
}

/// Every case of the v4 suite, read from the `aws-sigv4` package, sorted by name.
///
/// Three cases cannot be signed from the package's files alone, so their context is supplied in
/// a temporary folder beside a copy of the package's `request.txt`:
/// - `double-encode-path` and `double-url-encode` come from the old suite format and have no
///   `context.json`; their contexts are those of aws-sigv4's own tests of them (its test
///   credentials; and the region and service of the Lambda request's own credential scope).
/// - `get-space-normalized` sends `/example%20space/` and expects `/example%20space/` in the
///   canonical request: single encoding, as S3 computes (a double-encoding service computes
///   `/example%2520space/`; aws-sigv4 skips the case for that reason). It is signed with
///   `"double_uri_encode": false`, the context field of our case format for S3-style encoding.
pub fn suite_cases() -> Vec<SuiteCase> {
    let root = sigv4_cli::suite::aws_suite_v4_dir().expect("the AWS signing test suite");
    let mut cases: Vec<SuiteCase> = fs::read_dir(&root)
        .expect("read the suite folder")
        .filter_map(Result::ok)
        .filter(|e| e.path().is_dir())
        .map(|e| {
            let dir = e.path();
            let name = e.file_name().to_string_lossy().into_owned();
            let case_dir = match context_override(&name, &dir) {
                None => dir.clone(),
                Some(context) => materialize(&name, &dir, &context),
            };
            SuiteCase {
                name,
                dir,
                case_dir,
            }
        })
        .collect();
    cases.sort_by(|a, b| a.name.cmp(&b.name));
    cases
}

fn context_override(name: &str, dir: &std::path::Path) -> Option<String> {
    let legacy = |akid: &str, secret: &str, region: &str, service: &str| {
        serde_json::json!({
            "credentials": {"access_key_id": akid, "secret_access_key": secret},
            "region": region, "service": service, "timestamp": "2021-05-11T15:40:45Z",
            "normalize": true, "sign_body": false, "expiration_in_seconds": 3600
        })
        .to_string()
    };
    match name {
        "double-encode-path" => Some(legacy(
            "ANOTREAL",
            "notrealrnrELgWzOk3IfjzDKtFBhDby",
            "us-east-1",
            "service",
        )),
        "double-url-encode" => Some(legacy(
            "AKIDEXAMPLE",
            "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
            "us-east-2",
            "lambda",
        )),
        "get-space-normalized" => {
            let text = fs::read_to_string(dir.join("context.json")).ok()?;
            let mut context: serde_json::Value = serde_json::from_str(&text).ok()?;
            context["double_uri_encode"] = false.into();
            Some(context.to_string())
        }
        _ => None,
    }
}

fn materialize(name: &str, dir: &std::path::Path, context: &str) -> PathBuf {
    let out = std::env::temp_dir()
        .join(format!("sigv4-suite-{}", std::process::id()))
        .join(name);
    fs::create_dir_all(&out).expect("create a temporary case folder");
    fs::copy(dir.join("request.txt"), out.join("request.txt")).expect("copy request.txt");
    fs::write(out.join("context.json"), context).expect("write context.json");
    out
}
