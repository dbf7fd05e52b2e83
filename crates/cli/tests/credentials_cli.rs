//! `sigv4 credentials`: which provider answered, the key id and the expiry, never the secret;
//! and, when nothing answers, every provider tried and why.

use std::process::{Command, Output};

fn sigv4_credentials(env: &[(&str, &str)]) -> Output {
    let home = std::env::temp_dir().join(format!("sigv4-cli-home-{}", std::process::id()));
    Command::new(env!("CARGO_BIN_EXE_sigv4"))
        .args(["credentials", "--json"])
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("HOME", &home)
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .envs(env.iter().copied())
        .output()
        .expect("run sigv4")
}

#[test]
fn environment_credentials_without_the_secret() {
    let out = sigv4_credentials(&[
        ("AWS_ACCESS_KEY_ID", "AKIDENV"),
        ("AWS_SECRET_ACCESS_KEY", "SECRETMARKER"),
        ("AWS_SESSION_TOKEN", "TOKENMARKER"),
        ("AWS_REGION", "eu-west-1"),
    ]);
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    let json: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(json["provider"], "environment");
    assert_eq!(json["access_key_id"], "AKIDENV");
    assert_eq!(json["session_token"], true);
    assert_eq!(json["region"], "eu-west-1");
    assert!(
        !text.contains("SECRETMARKER") && !text.contains("TOKENMARKER"),
        "{text}"
    );
}

#[test]
fn profile_with_credential_process() {
    let dir = std::env::temp_dir().join(format!("sigv4-cli-profile-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let config = dir.join("config");
    std::fs::write(
        &config,
        "[profile agent]\nregion = ap-northeast-1\ncredential_process = printf '{\"Version\":1,\"AccessKeyId\":\"AKIDPROC\",\"SecretAccessKey\":\"SECRETMARKER\",\"Expiration\":\"2031-02-03T04:05:06Z\"}'\n",
    )
    .unwrap();
    let out = sigv4_credentials(&[
        ("AWS_CONFIG_FILE", config.to_str().unwrap()),
        ("AWS_PROFILE", "agent"),
    ]);
    let text = String::from_utf8(out.stdout).unwrap();
    let json: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(json["provider"], "credential_process");
    assert_eq!(json["access_key_id"], "AKIDPROC");
    assert_eq!(json["expiration"], "2031-02-03T04:05:06Z");
    assert_eq!(json["region"], "ap-northeast-1");
    assert!(!text.contains("SECRETMARKER"));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn no_credentials_lists_every_provider_tried() {
    let out = sigv4_credentials(&[]);
    assert!(!out.status.success());
    let stderr = String::from_utf8(out.stderr).unwrap();
    for provider in ["environment:", "profile:", "container:", "imds:"] {
        assert!(stderr.contains(provider), "{stderr}");
    }
}
