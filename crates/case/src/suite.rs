//! Where the AWS signing test suite is: inside the `aws-sigv4` crate's published package, which
//! the workspace depends on (as a test oracle), found with `cargo metadata`, and its cases ready to
//! sign.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

/// The `v4` folder of the AWS signing test suite shipped in the `aws-sigv4` package.
pub fn aws_suite_v4_dir() -> Result<PathBuf, String> {
    aws_suite_dir("v4")
}

/// The `v4a` folder of the AWS signing test suite (SigV4a, ECDSA P-256).
pub fn aws_suite_v4a_dir() -> Result<PathBuf, String> {
    aws_suite_dir("v4a")
}

/// A folder of the AWS signing test suite in the `aws-sigv4` package.
fn aws_suite_dir(version: &str) -> Result<PathBuf, String> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let manifest = concat!(env!("CARGO_MANIFEST_DIR"), "/../../Cargo.toml");
    let output = Command::new(cargo)
        .args([
            "metadata",
            "--format-version",
            "1",
            "--manifest-path",
            manifest,
        ])
        .output()
        .map_err(|e| format!("cannot run cargo metadata: {e}"))?;
    if !output.status.success() {
        return Err(format!(
            "cargo metadata failed: {}",
            String::from_utf8_lossy(&output.stderr)
        ));
    }
    let metadata: serde_json::Value =
        serde_json::from_slice(&output.stdout).map_err(|e| format!("cargo metadata: {e}"))?;
    let manifest_path = metadata["packages"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|p| p["name"] == "aws-sigv4")
        .and_then(|p| p["manifest_path"].as_str())
        .ok_or("the aws-sigv4 package is not in the dependency graph")?;
    let dir = PathBuf::from(manifest_path)
        .parent()
        .map(|p| p.join("aws-signing-test-suite").join(version))
        .ok_or("aws-sigv4 has no package directory")?;
    if dir.is_dir() {
        Ok(dir)
    } else {
        Err(format!("{} is missing", dir.display()))
    }
}

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
/// - `get-space-normalized`, `get-space-unnormalized` and `get-utf8` expect the path encoded
///   once (`/example%20space/`, `/%E1%88%B4`) with the double-encoding service `service`. A
///   request line cannot carry a raw space or non-ASCII byte, so the wire path is
///   `/example%20space/`, and a double-encoding service computes `/example%2520space/` from
///   it (aws-sigv4 skips these cases for that reason: "relies on /ሴ canonicalized as
///   /%E1%88%B4 when it should be /%25E1%2588%25B4"). Their expected values are single
///   encoding, as S3 computes, so they are signed with `"double_uri_encode": false`, the
///   context field of our case format for S3-style encoding.
pub fn suite_cases() -> &'static [SuiteCase] {
    static CASES: OnceLock<Vec<SuiteCase>> = OnceLock::new();
    CASES.get_or_init(|| load_cases("v4", context_override))
}

/// Every case of the v4a suite (SigV4a), sorted by name. Their contexts are those of the
/// package with `"sigv4a": true` added, in a temporary folder beside a copy of `request.txt`
/// (the package's say nothing of the algorithm: their folder does); `get-space-normalized`,
/// `get-space-unnormalized` and `get-utf8` are signed with single encoding as in the v4 suite
/// (see [`suite_cases`]). Each case's SigV4a public key is in `public-key.json`
/// ([`v4a_public_key`]), its signatures are randomized: check them, never compare them.
pub fn suite_v4a_cases() -> &'static [SuiteCase] {
    static CASES: OnceLock<Vec<SuiteCase>> = OnceLock::new();
    CASES.get_or_init(|| {
        load_cases("v4a", |name, dir| {
            let mut context = match context_override(name, dir) {
                Some(context) => serde_json::from_str(&context).ok()?,
                None => read_json(&dir.join("context.json")).ok()?,
            };
            context["sigv4a"] = true.into();
            Some(context.to_string())
        })
    })
}

/// A v4a case's public key (`public-key.json`: the point's `X` and `Y` in hex), as the
/// uncompressed SEC1 point `0x04 || X || Y`.
pub fn v4a_public_key(dir: &Path) -> Result<Vec<u8>, String> {
    let key = read_json(&dir.join("public-key.json"))?;
    let mut point = vec![0x04];
    for coordinate in ["X", "Y"] {
        let hex = key[coordinate]
            .as_str()
            .filter(|h| h.len() == 64)
            .ok_or_else(|| format!("public-key.json: no 64-digit {coordinate}"))?;
        for pair in hex.as_bytes().chunks(2) {
            let byte = std::str::from_utf8(pair)
                .ok()
                .and_then(|p| u8::from_str_radix(p, 16).ok())
                .ok_or_else(|| format!("public-key.json: {coordinate} is not hex"))?;
            point.push(byte);
        }
    }
    Ok(point)
}

fn read_json(path: &Path) -> Result<serde_json::Value, String> {
    let text = fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))
}

fn load_cases(
    version: &str,
    context_override: impl Fn(&str, &Path) -> Option<String>,
) -> Vec<SuiteCase> {
    let root = aws_suite_dir(version).expect("the AWS signing test suite");
    let mut cases: Vec<SuiteCase> = fs::read_dir(&root)
        .expect("read the suite folder")
        .filter_map(Result::ok)
        .filter(|e| e.path().is_dir())
        .map(|e| {
            let dir = e.path();
            let name = e.file_name().to_string_lossy().into_owned();
            let case_dir = match context_override(&name, &dir) {
                None => dir.clone(),
                Some(context) => materialize(version, &name, &dir, &context),
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

fn context_override(name: &str, dir: &Path) -> Option<String> {
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
        "get-space-normalized" | "get-space-unnormalized" | "get-utf8" => {
            let text = fs::read_to_string(dir.join("context.json")).ok()?;
            let mut context: serde_json::Value = serde_json::from_str(&text).ok()?;
            context["double_uri_encode"] = false.into();
            Some(context.to_string())
        }
        _ => None,
    }
}

fn materialize(version: &str, name: &str, dir: &Path, context: &str) -> PathBuf {
    let out = std::env::temp_dir()
        .join(format!("sigv4-suite-{}", std::process::id()))
        .join(version)
        .join(name);
    fs::create_dir_all(&out).expect("create a temporary case folder");
    fs::copy(dir.join("request.txt"), out.join("request.txt")).expect("copy request.txt");
    fs::write(out.join("context.json"), context).expect("write context.json");
    out
}

/// Percent-decoded text: the suite writes its signed requests' paths and queries decoded
/// (`ሴ=bar`), where signers give them in their wire form (`%E1%88%B4=bar`).
pub fn decoded(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (bytes[i], hex) {
            (b'%', Some(byte)) => {
                out.push(byte);
                i += 3;
            }
            (byte, _) => {
                out.push(byte);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}
