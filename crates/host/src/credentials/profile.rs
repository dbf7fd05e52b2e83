//! The shared `config` and `credentials` files: INI sections, `[profile name]` in `config`,
//! `[name]` in `credentials` (whose keys win), comments and nested (indented) settings.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// The settings of one profile, from both files.
pub type ProfileSection = HashMap<String, String>;

/// Both files, parsed.
#[derive(Debug, Default, Clone)]
pub struct ProfileFiles {
    profiles: HashMap<String, ProfileSection>,
}

impl ProfileFiles {
    /// Reads the files the AWS CLI reads: `AWS_CONFIG_FILE` (default `~/.aws/config`) and
    /// `AWS_SHARED_CREDENTIALS_FILE` (default `~/.aws/credentials`). Missing files are empty.
    pub fn load(env: &HashMap<String, String>) -> Self {
        let home = env.get("HOME").map(PathBuf::from).unwrap_or_default();
        let path = |var: &str, default: &str| {
            env.get(var)
                .map(PathBuf::from)
                .unwrap_or_else(|| home.join(".aws").join(default))
        };
        let read = |p: &Path| std::fs::read_to_string(p).unwrap_or_default();
        Self::parse(
            &read(&path("AWS_CONFIG_FILE", "config")),
            &read(&path("AWS_SHARED_CREDENTIALS_FILE", "credentials")),
        )
    }

    /// Parses the text of both files.
    pub fn parse(config: &str, credentials: &str) -> Self {
        let mut files = ProfileFiles::default();
        files.merge(config, true);
        files.merge(credentials, false);
        files
    }

    /// Removes a setting (a profile that is its own `source_profile` uses its keys without its role).
    pub(crate) fn drop_key(&mut self, profile: &str, key: &str) {
        if let Some(section) = self.profiles.get_mut(profile) {
            section.remove(key);
        }
    }

    /// The named profile's settings, if either file has it.
    pub fn profile(&self, name: &str) -> Option<&ProfileSection> {
        self.profiles.get(name)
    }

    fn merge(&mut self, text: &str, is_config: bool) {
        let mut current: Option<String> = None;
        for line in text.lines() {
            let trimmed = line.trim();
            if trimmed.is_empty() || trimmed.starts_with(['#', ';']) {
                continue;
            }
            if let Some(header) = trimmed.strip_prefix('[').and_then(|h| h.split(']').next()) {
                let header = header.trim();
                current = if is_config {
                    // `[default]` or `[profile name]`; other sections (sso-session, services) are
                    // not profiles.
                    match header.strip_prefix("profile ") {
                        Some(name) => Some(name.trim().to_string()),
                        None if header == "default" => Some(header.to_string()),
                        None => None,
                    }
                } else {
                    Some(header.to_string())
                };
                continue;
            }
            // An indented line continues a nested setting (`s3 =` then `  max_concurrency = 5`).
            if line.starts_with([' ', '\t']) {
                continue;
            }
            let (Some(profile), Some((key, value))) = (&current, trimmed.split_once('=')) else {
                continue;
            };
            // Like botocore's parser: no inline comments, a `#` or `;` inside a value stays.
            let value = value.trim();
            self.profiles
                .entry(profile.clone())
                .or_default()
                .insert(key.trim().to_ascii_lowercase(), value.to_string());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_both_files_with_credentials_winning() {
        let config = "\
# comment
[default]
region = us-west-2
[profile dev]
region=eu-west-1
s3 =
  max_concurrent_requests = 5
credential_process = /bin/echo hi
[sso-session corp]
sso_region = us-east-1
";
        let credentials = "\
[default]
aws_access_key_id = AKIDDEFAULT
aws_secret_access_key = secret ; not a comment in a value
[dev]
aws_access_key_id=AKIDDEV
";
        let files = ProfileFiles::parse(config, credentials);
        let default = files.profile("default").unwrap();
        assert_eq!(default["region"], "us-west-2");
        assert_eq!(default["aws_access_key_id"], "AKIDDEFAULT");
        assert_eq!(
            default["aws_secret_access_key"],
            "secret ; not a comment in a value"
        );
        let dev = files.profile("dev").unwrap();
        assert_eq!(dev["region"], "eu-west-1");
        assert_eq!(dev["credential_process"], "/bin/echo hi");
        assert_eq!(dev["aws_access_key_id"], "AKIDDEV");
        assert!(!dev.contains_key("max_concurrent_requests"));
        assert!(files.profile("corp").is_none());
    }
}
