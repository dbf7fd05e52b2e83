//! Where the AWS signing test suite is: inside the `aws-sigv4` crate's published package, which
//! the workspace depends on (as a test oracle), found with `cargo metadata`.

use std::path::PathBuf;
use std::process::Command;

/// The `v4` folder of the AWS signing test suite shipped in the `aws-sigv4` package.
pub fn aws_suite_v4_dir() -> Result<PathBuf, String> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let manifest = concat!(env!("CARGO_MANIFEST_DIR"), "/../Cargo.toml");
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
        .map(|p| p.join("aws-signing-test-suite").join("v4"))
        .ok_or("aws-sigv4 has no package directory")?;
    if dir.is_dir() {
        Ok(dir)
    } else {
        Err(format!("{} is missing", dir.display()))
    }
}
