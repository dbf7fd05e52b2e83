//! The CLI as people use curl: `send` writes the body alone to stdout (the status and headers
//! with `-i`, on stderr with `-v`), `-o FILE`, exit 22 on a status >= 400; `sign` signs a request
//! given on the command line and prints JSON or a curl command that moto accepts; `--profile` on
//! every verb; the region looked up from IMDS only when nothing else gives it.

mod support;

use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::TcpListener;
use std::process::{Command, Output};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use support::*;

/// Runs `sigv4` with exactly this environment (and PATH, a HOME of its own).
fn run(env: &[(&str, &str)], args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_sigv4"))
        .args(args)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("HOME", std::env::temp_dir().join("sigv4-curl-home"))
        .envs(env.iter().copied())
        .output()
        .expect("run sigv4")
}

/// Runs a shell command line (a printed curl command) with more curl options appended.
fn shell(command: &str, more: &str) -> Output {
    Command::new("sh")
        .arg("-c")
        .arg(format!("{command} {more}"))
        .output()
        .expect("run sh")
}

#[test]
fn send_writes_only_the_body_to_stdout_and_fails_on_http_errors() {
    let (moto, keys) = moto();
    let url = |path: &str| format!("{}{path}", moto.url);
    let s3 = |args: &[&str]| sigv4(&keys.env(), &[&["send", "--service", "s3"], args].concat());
    assert!(s3(&["-X", "PUT", &url("/curl-bucket")]).status.success());
    let body = "line one\nline two, no newline at the end";
    let put = s3(&[
        "-X",
        "PUT",
        "-H",
        "content-type: application/octet-stream",
        "-d",
        body,
        &url("/curl-bucket/notes.txt"),
    ]);
    assert!(put.status.success(), "{}", text(&put));
    // Nothing on stdout but the body: `sigv4 send URL > file` keeps the file intact.
    let object = url("/curl-bucket/notes.txt");
    let get = s3(&[&object]);
    assert!(get.status.success(), "{}", text(&get));
    assert_eq!(String::from_utf8_lossy(&get.stdout), body);
    // -i: the status line and the headers first, as curl -i prints them.
    let included = s3(&["-i", &object]);
    let shown = String::from_utf8_lossy(&included.stdout);
    assert!(shown.starts_with("HTTP/1.1 200 OK\r\n"), "{shown}");
    let (head, rest) = shown.split_once("\r\n\r\n").unwrap();
    assert!(
        head.to_ascii_lowercase().contains("\r\ncontent-length: "),
        "{head}"
    );
    assert_eq!(rest, body);
    // -v: the same on stderr, the body alone on stdout.
    let verbose = s3(&["-v", &object]);
    assert_eq!(String::from_utf8_lossy(&verbose.stdout), body);
    assert!(String::from_utf8_lossy(&verbose.stderr).starts_with("HTTP/1.1 200 OK\r\n"));
    // -o FILE: the body in the file, nothing on stdout.
    let file = std::env::temp_dir().join(format!("sigv4-curl-o-{}", std::process::id()));
    let saved = s3(&["-o", file.to_str().unwrap(), &object]);
    assert!(
        saved.status.success() && saved.stdout.is_empty(),
        "{}",
        text(&saved)
    );
    assert_eq!(std::fs::read_to_string(&file).unwrap(), body);
    std::fs::remove_file(&file).unwrap();
    // A 404: exit 22 (curl --fail's), the status on stderr, the error body on stdout.
    let missing = s3(&[&url("/curl-bucket/missing")]);
    assert_eq!(missing.status.code(), Some(22), "{}", text(&missing));
    assert!(String::from_utf8_lossy(&missing.stderr).contains("404 Not Found"));
    assert!(String::from_utf8_lossy(&missing.stdout).contains("NoSuchKey"));
}

#[test]
fn sign_prints_json_and_a_curl_command_that_moto_accepts() {
    let (moto, keys) = moto();
    let url = |path: &str| format!("{}{path}", moto.url);
    // JSON by default, the shape of `sign --case DIR --json`.
    let form = "Action=GetCallerIdentity&Version=2011-06-15";
    let content_type = "content-type: application/x-www-form-urlencoded";
    let request = [
        "-X",
        "POST",
        "-H",
        content_type,
        "-d",
        form,
        "--service",
        "sts",
    ];
    let json = sigv4(
        &keys.env(),
        &[&["sign"][..], &request, &[&url("/")]].concat(),
    );
    assert!(json.status.success(), "{}", text(&json));
    let json: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    for field in [
        "canonical_request",
        "string_to_sign",
        "signature",
        "authorization",
    ] {
        assert!(json[field].is_string(), "{field}: {json}");
    }
    assert!(json["headers"].is_array());
    // --curl: a command that sends the signed request; moto checks the signature.
    let curl = sigv4(
        &keys.env(),
        &[&["sign", "--curl"][..], &request, &[&url("/")]].concat(),
    );
    assert!(curl.status.success(), "{}", text(&curl));
    let command = String::from_utf8(curl.stdout).unwrap();
    let answer = shell(command.trim(), "-sS");
    assert!(
        String::from_utf8_lossy(&answer.stdout)
            .contains("<Arn>arn:aws:iam::123456789012:user/e2e</Arn>"),
        "{command}\n{}",
        String::from_utf8_lossy(&answer.stdout)
    );
    // A body and a key that need quoting; then read back with send.
    assert!(
        sigv4(
            &keys.env(),
            &["send", "--service", "s3", "-X", "PUT", &url("/quoted")]
        )
        .status
        .success()
    );
    let body = "it's a \"quoted\" $HOME `body` & more\n";
    // A raw space: the printed command sends the wire form that was signed (curl refused the
    // raw URL before).
    let object = url("/quoted/a b&c.txt");
    let curl = sigv4(
        &keys.env(),
        &[
            "sign",
            "--curl",
            "--service",
            "s3",
            "-X",
            "PUT",
            "-H",
            "content-type: application/octet-stream",
            "-d",
            body,
            &object,
        ],
    );
    assert!(curl.status.success(), "{}", text(&curl));
    let command = String::from_utf8(curl.stdout).unwrap();
    let put = shell(command.trim(), "-sS -o /dev/null -w '%{http_code}'");
    assert_eq!(String::from_utf8_lossy(&put.stdout), "200", "{command}");
    let get = sigv4(&keys.env(), &["send", "--service", "s3", &object]);
    assert_eq!(String::from_utf8_lossy(&get.stdout), body, "{}", text(&get));
    // A wrong secret: the printed command is refused.
    let wrong = [
        ("AWS_ACCESS_KEY_ID", keys.id.as_str()),
        ("AWS_SECRET_ACCESS_KEY", "wrong"),
    ];
    let curl = sigv4(&wrong, &["sign", "--curl", "--service", "s3", &object]);
    let refused = shell(String::from_utf8(curl.stdout).unwrap().trim(), "-sS");
    assert!(String::from_utf8_lossy(&refused.stdout).contains("SignatureDoesNotMatch"));
    // --case still signs a case directory; request options go with a URL only.
    let mixed = sigv4(
        &keys.env(),
        &["sign", "--case", "/nonexistent", "-X", "PUT"],
    );
    assert!(!mixed.status.success());
}

#[test]
fn profile_option_sets_the_profile_of_credentials_and_region() {
    let dir = std::env::temp_dir().join(format!("sigv4-curl-profile-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (config, credentials) = (dir.join("config"), dir.join("credentials"));
    std::fs::write(&config, "[profile work]\nregion = eu-north-1\n").unwrap();
    std::fs::write(
        &credentials,
        "[default]\naws_access_key_id = AKIDDEFAULT\naws_secret_access_key = s\n\
         [work]\naws_access_key_id = AKIDWORK\naws_secret_access_key = SECRETMARKER\n",
    )
    .unwrap();
    let env = [
        ("AWS_CONFIG_FILE", config.to_str().unwrap()),
        ("AWS_SHARED_CREDENTIALS_FILE", credentials.to_str().unwrap()),
        ("AWS_EC2_METADATA_DISABLED", "true"),
    ];
    for args in [
        &["--profile", "work", "credentials", "--json"][..],
        &["credentials", "--json", "--profile", "work"],
    ] {
        let out = run(&env, args);
        assert!(out.status.success(), "{}", text(&out));
        let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(json["access_key_id"], "AKIDWORK");
        assert_eq!(json["region"], "eu-north-1");
    }
    // The profile's keys and region sign; without --profile, the default profile's keys.
    let url = "http://127.0.0.1:9/bucket/key";
    let presigned = run(
        &env,
        &["presign", "--profile", "work", "--service", "s3", url],
    );
    let presigned = String::from_utf8_lossy(&presigned.stdout);
    assert!(
        presigned.contains("X-Amz-Credential=AKIDWORK%2F")
            && presigned.contains("%2Feu-north-1%2Fs3%2F"),
        "{presigned}"
    );
    let signed = run(&env, &["sign", "--profile", "work", "--service", "s3", url]);
    let json: serde_json::Value = serde_json::from_slice(&signed.stdout).unwrap();
    assert!(
        json["authorization"]
            .as_str()
            .unwrap()
            .contains("Credential=AKIDWORK/")
    );
    let default = run(
        &env,
        &["sign", "--service", "s3", "--region", "us-east-1", url],
    );
    let json: serde_json::Value = serde_json::from_slice(&default.stdout).unwrap();
    assert!(
        json["authorization"]
            .as_str()
            .unwrap()
            .contains("Credential=AKIDDEFAULT/")
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Environment variables.
type Env<'a> = &'a [(&'a str, &'a str)];

/// A loopback "IMDS" that answers 404 to everything and counts the connections it gets.
fn counting_imds() -> (String, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let count = Arc::new(AtomicUsize::new(0));
    let counted = count.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            counted.fetch_add(1, Ordering::SeqCst);
            let mut buf = [0u8; 4096];
            let _ = stream.read(&mut buf);
            let _ = stream.write_all(
                b"HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\nconnection: close\r\n\r\n",
            );
        }
    });
    (url, count)
}

#[test]
fn the_region_comes_from_imds_only_when_nothing_else_gives_it() {
    let (imds, count) = counting_imds();
    let env: HashMap<&str, &str> = [
        ("AWS_ACCESS_KEY_ID", "AKIDREGION"),
        ("AWS_SECRET_ACCESS_KEY", "secret"),
        ("AWS_EC2_METADATA_SERVICE_ENDPOINT", imds.as_str()),
        ("AWS_CONFIG_FILE", "/nonexistent/config"),
    ]
    .into_iter()
    .collect();
    let with = |extra: &[(&'static str, &'static str)]| -> Vec<(&str, &str)> {
        env.iter()
            .map(|(k, v)| (*k, *v))
            .chain(extra.iter().copied())
            .collect()
    };
    let url = "http://127.0.0.1:9/bucket/key";
    let cases: [(Env, Vec<&str>); 4] = [
        (
            &[],
            vec!["presign", "--service", "s3", "--region", "eu-west-1", url],
        ),
        (
            &[("AWS_REGION", "eu-west-1")],
            vec!["presign", "--service", "s3", url],
        ),
        (
            &[],
            vec!["sign", "--service", "s3", "--region", "eu-west-1", url],
        ),
        (
            &[],
            vec![
                "proof",
                "--region",
                "eu-west-1",
                "--endpoint-url",
                "http://127.0.0.1:9/",
            ],
        ),
    ];
    for (extra, args) in cases {
        let out = run(&with(extra), &args);
        assert!(out.status.success(), "{args:?}: {}", text(&out));
        // (The proof's request is base64 in its JSON.)
        let signed_for = args[0] == "proof" || text(&out).contains("eu-west-1");
        assert!(signed_for, "{args:?}: {}", text(&out));
        assert_eq!(count.load(Ordering::SeqCst), 0, "{args:?} asked IMDS");
    }
    // With no region anywhere, IMDS is asked (and answers none here).
    let out = run(&with(&[]), &["presign", "--service", "s3", url]);
    assert!(
        !out.status.success() && text(&out).contains("no region"),
        "{}",
        text(&out)
    );
    assert!(count.load(Ordering::SeqCst) > 0);
}
