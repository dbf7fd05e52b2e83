//! The shared `config` and `credentials` files, read from where the AWS CLI reads them; parsed
//! and resolved by `sigv4-credentials`.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use sigv4_credentials::profile::ProfileFiles;

/// Reads the files the AWS CLI reads: `AWS_CONFIG_FILE` (default `~/.aws/config`) and
/// `AWS_SHARED_CREDENTIALS_FILE` (default `~/.aws/credentials`). Missing files are empty.
pub fn load_profile_files(env: &HashMap<String, String>) -> ProfileFiles {
    let home = env.get("HOME").map(PathBuf::from).unwrap_or_default();
    let path = |var: &str, default: &str| {
        env.get(var)
            .map(PathBuf::from)
            .unwrap_or_else(|| home.join(".aws").join(default))
    };
    let read = |p: &Path| std::fs::read_to_string(p).unwrap_or_default();
    ProfileFiles::parse(
        &read(&path("AWS_CONFIG_FILE", "config")),
        &read(&path("AWS_SHARED_CREDENTIALS_FILE", "credentials")),
    )
}
