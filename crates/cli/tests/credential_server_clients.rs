//! `sigv4 credential-server` against more clients nobody here wrote, in both modes: the AWS CLI
//! (PyPI's awscli, `make awscli`) and the AWS SDK for JavaScript v3 (`@aws-sdk/client-s3` and
//! `client-sts` with their default credential chain, js/'s pinned devDependencies, `make
//! js-deps`). moto (signature checking on) is STS and S3; the server assumes a role there with
//! the host's chain and serves it; each client lists and reads S3 objects and asks STS who it is.
//!
//! Nothing else could give the clients credentials: their environment is cleared, HOME is an
//! empty directory, the config and credentials files point at nothing, and in container mode the
//! instance metadata service is disabled (no request to a link-local address). That the
//! credentials came from the server shows three ways: STS names the role the server assumed, with
//! its session name (the JavaScript client also shows a temporary key id, `ASIA`, and the CLI
//! names the source, `iam-role` or `container-role`); the server's log and /metrics count the
//! client's fetches; and the same client pointed at no server (IMDS) or sending a wrong token
//! (container) finds none.
//!
//! The JavaScript client is a script (credential_server_s3.mjs) driven from here, so that all
//! the clients share one fixture (moto, the role, the bucket, the server built by this cargo).

mod support;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use support::{Keys, Server, free_port, moto, start, tools};

const ROLE: &str = "served";
const SESSION: &str = "clients";
const CONTAINER_TOKEN: &str = "container-token-31c9";

/// moto with a role that may do anything, a bucket with one object; the user's keys and the role.
fn moto_with_bucket() -> (Server, Keys, String) {
    let (moto, keys) = moto();
    let role = support::allowed_role(&keys, &moto, ROLE);
    support::put_greeting(&moto, &keys.env());
    (moto, keys, role)
}

/// How clients are pointed at the server.
#[derive(Clone, Copy, PartialEq)]
enum Mode {
    Imds,
    Container,
}

/// `sigv4 credential-server` serving `role` (assumed with the user's keys, STS at moto).
fn credential_server(keys: &Keys, moto: &Server, role: &str, mode: Mode) -> Server {
    let port = free_port();
    let bind = format!("127.0.0.1:{port}");
    let mut args = vec![
        "credential-server",
        "--bind-address",
        &bind,
        "--role-arn",
        role,
        "--role-session-name",
        SESSION,
    ];
    if mode == Mode::Container {
        args.extend([
            "--mode",
            "container",
            "--authorization-token",
            CONTAINER_TOKEN,
        ]);
    }
    let home = std::env::temp_dir().join("sigv4-e2e-home");
    let mut env = keys.env();
    env.extend([
        ("AWS_ENDPOINT_URL_STS", moto.url.as_str()),
        ("AWS_REGION", "us-east-1"),
        ("AWS_EC2_METADATA_DISABLED", "true"),
        ("HOME", home.to_str().unwrap()),
    ]);
    start(
        &PathBuf::from(env!("CARGO_BIN_EXE_sigv4")),
        &args,
        &env,
        port,
    )
}

/// An empty directory for a client's HOME, removed when dropped.
struct Home(PathBuf);

impl Home {
    fn new(name: &str) -> Home {
        let dir = std::env::temp_dir().join(format!("sigv4-clients-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Home(dir)
    }
}

impl Drop for Home {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// What a client printed and whether it succeeded.
struct Ran {
    success: bool,
    stdout: String,
    stderr: String,
}

impl Ran {
    fn text(&self) -> String {
        format!("{}{}", self.stdout, self.stderr)
    }
}

/// Runs `program` with only the environment a client needs to find moto and the server: no
/// credentials, HOME empty, no config or credentials file. Killed after 60 s.
fn client(program: &Path, args: &[&str], home: &Home, moto: &Server, env: &[(&str, &str)]) -> Ran {
    let out = home.0.join("stdout");
    let err = home.0.join("stderr");
    let mut child = Command::new(program)
        .args(args)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("HOME", &home.0)
        .env("AWS_CONFIG_FILE", home.0.join("none"))
        .env("AWS_SHARED_CREDENTIALS_FILE", home.0.join("none"))
        .env("AWS_ENDPOINT_URL", &moto.url)
        .env("AWS_REGION", "us-east-1")
        .env("AWS_DEFAULT_REGION", "us-east-1")
        .envs(env.iter().copied())
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(&out).unwrap())
        .stderr(std::fs::File::create(&err).unwrap())
        .spawn()
        .unwrap_or_else(|e| panic!("run {}: {e}", program.display()));
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if started.elapsed() > Duration::from_secs(60) {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "{} {args:?} took over 60 s: {}",
                program.display(),
                std::fs::read_to_string(&err).unwrap_or_default()
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    Ran {
        success: status.success(),
        stdout: std::fs::read_to_string(&out).unwrap_or_default(),
        stderr: std::fs::read_to_string(&err).unwrap_or_default(),
    }
}

/// How a client finds the server in `mode`: the endpoint variables, and in container mode the
/// instance metadata service disabled.
fn pointed_at(mode: Mode, server_url: &str, token: &str) -> Vec<(&'static str, String)> {
    match mode {
        Mode::Imds => vec![(
            "AWS_EC2_METADATA_SERVICE_ENDPOINT",
            format!("{server_url}/"),
        )],
        Mode::Container => vec![
            (
                "AWS_CONTAINER_CREDENTIALS_FULL_URI",
                format!("{server_url}/v2/credentials"),
            ),
            ("AWS_CONTAINER_AUTHORIZATION_TOKEN", token.to_string()),
            ("AWS_EC2_METADATA_DISABLED", "true".to_string()),
        ],
    }
}

fn borrowed<'a>(env: &'a [(&'static str, String)]) -> Vec<(&'static str, &'a str)> {
    env.iter().map(|(k, v)| (*k, v.as_str())).collect()
}

/// The readiness probe of `support::start` (refused: it sends no token).
const PROBE: &str = "/moto-api/";

/// The server's request log: (method, path, status, user agent) of each request, in order,
/// without the readiness probe's.
fn requests(server: &Server) -> Vec<(String, String, u16, String)> {
    let mut all = logged(server);
    all.retain(|(_, path, _, _)| path != PROBE);
    all
}

/// The server's request log, every request.
fn logged(server: &Server) -> Vec<(String, String, u16, String)> {
    std::fs::read_to_string(&server.log)
        .unwrap()
        .lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .filter(|entry| entry.get("path").is_some())
        .map(|entry| {
            (
                entry["method"].as_str().unwrap_or_default().to_string(),
                entry["path"].as_str().unwrap_or_default().to_string(),
                entry["status"].as_u64().unwrap_or_default() as u16,
                entry["user_agent"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

/// The requests of the log as `METHOD PATH STATUS` lines, without the user agent: for messages.
fn shown(requests: &[(String, String, u16, String)]) -> String {
    requests
        .iter()
        .map(|(method, path, status, agent)| format!("{method} {path} {status} ({agent})\n"))
        .collect()
}

/// `credential_server_requests_total{route="ROUTE",status="STATUS"}` from /metrics.
fn counted(server: &Server, route: &str, status: u16) -> u64 {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .timeout_global(Some(Duration::from_secs(20)))
        .build()
        .into();
    let mut answer = agent
        .get(format!("{}/metrics", server.url))
        .call()
        .expect("/metrics answers");
    let metrics = answer.body_mut().read_to_string().unwrap();
    let name =
        format!("credential_server_requests_total{{route=\"{route}\",status=\"{status}\"}} ");
    metrics
        .lines()
        .find_map(|line| line.strip_prefix(&name))
        .map_or(0, |n| n.parse().unwrap())
}

fn aws_cli() -> PathBuf {
    let aws = tools().join("awscli/bin/aws");
    assert!(
        aws.exists(),
        "{} is missing: run `make awscli` (make test does)",
        aws.display()
    );
    aws
}

/// The AWS CLI in `mode`: lists the bucket, reads the object, asks STS who it is and says where
/// its credentials came from; then the same with no server to find, which finds none.
fn aws_cli_reads_s3(mode: Mode) {
    let aws = aws_cli();
    let (moto, keys, role) = moto_with_bucket();
    let mut server = credential_server(&keys, &moto, &role, mode);
    let home = Home::new(if mode == Mode::Imds {
        "aws-imds"
    } else {
        "aws-container"
    });
    let env = pointed_at(mode, &server.url, CONTAINER_TOKEN);
    let env = borrowed(&env);
    let account = role.split(':').nth(4).unwrap();
    let assumed = format!("arn:aws:sts::{account}:assumed-role/{ROLE}/{SESSION}");
    let cases: [(&[&str], String); 3] = [
        (
            &[
                "s3api",
                "list-objects-v2",
                "--bucket",
                "bucket",
                "--query",
                "Contents[].Key",
                "--output",
                "text",
            ],
            "greeting.txt\n".into(),
        ),
        (
            &["s3", "cp", "s3://bucket/greeting.txt", "-"],
            "hello from moto".into(),
        ),
        (
            &[
                "sts",
                "get-caller-identity",
                "--query",
                "Arn",
                "--output",
                "text",
            ],
            format!("{assumed}\n"),
        ),
    ];
    for (args, expected) in &cases {
        let ran = client(&aws, args, &home, &moto, &env);
        assert!(
            ran.success,
            "aws {args:?}: {}\n{}",
            ran.text(),
            server.state()
        );
        assert_eq!(ran.stdout, *expected, "aws {args:?}: {}", ran.stderr);
    }
    // `aws configure list`: the credentials' source, as the CLI names it.
    let ran = client(&aws, &["configure", "list"], &home, &moto, &env);
    let source = if mode == Mode::Imds {
        "iam-role"
    } else {
        "container-role"
    };
    let access_key = ran
        .stdout
        .lines()
        .find(|l| l.trim_start().starts_with("access_key"))
        .unwrap_or_default()
        .split_whitespace()
        .collect::<Vec<_>>();
    // Name, the key's last four characters, the type, no location.
    assert_eq!(
        (access_key.len(), access_key.get(2).copied()),
        (3, Some(source)),
        "{}",
        ran.text()
    );

    // Every invocation fetched the credentials from the server: one fetch per process.
    let log = requests(&server);
    let fetched = log
        .iter()
        .filter(|(method, path, status, _)| {
            method == "GET"
                && *status == 200
                && match mode {
                    Mode::Imds => {
                        path == &format!("/latest/meta-data/iam/security-credentials/{ROLE}")
                    }
                    Mode::Container => path == "/v2/credentials",
                }
        })
        .count();
    assert_eq!(fetched, cases.len() + 1, "{}", shown(&log));
    assert_eq!(counted(&server, "credentials", 200), fetched as u64);
    if mode == Mode::Imds {
        // IMDSv2: a token first (the TTL the CLI asks for is one we grant), then the role's name.
        assert_eq!(
            counted(&server, "token", 200),
            fetched as u64,
            "{}",
            shown(&log)
        );
        assert_eq!(counted(&server, "role_list", 200), fetched as u64);
        assert!(
            log.iter()
                .all(|(_, _, status, agent)| *status == 200 && agent.starts_with("aws-cli/")),
            "{}",
            shown(&log)
        );
    }
    // Nothing refused but the readiness probe (once, unless a probe timed out).
    let probes = logged(&server)
        .iter()
        .filter(|(_, path, _, _)| path == PROBE)
        .count();
    assert_eq!(
        counted(&server, "other", 401),
        probes as u64,
        "{}",
        shown(&log)
    );

    // The control: no server to find (IMDS: a port nothing listens on), or a wrong token
    // (container): the CLI finds no credentials.
    let dead = format!("http://127.0.0.1:{}", free_port());
    let (url, token) = match mode {
        Mode::Imds => (dead.as_str(), CONTAINER_TOKEN),
        Mode::Container => (server.url.as_str(), "wrong-token"),
    };
    let env = pointed_at(mode, url, token);
    let ran = client(&aws, cases[0].0, &home, &moto, &borrowed(&env));
    assert!(!ran.success, "{}", ran.text());
    assert_eq!(ran.stdout, "");
    let why = match mode {
        Mode::Imds => "Unable to locate credentials",
        Mode::Container => "container-role",
    };
    assert!(ran.stderr.contains(why), "{}", ran.stderr);
}

#[test]
fn the_aws_cli_reads_s3_with_credentials_served_as_imdsv2() {
    aws_cli_reads_s3(Mode::Imds);
}

#[test]
fn the_aws_cli_reads_s3_with_credentials_served_as_the_container_endpoint() {
    aws_cli_reads_s3(Mode::Container);
}

fn js_root() -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../js");
    let sdk = root.join("node_modules/@aws-sdk/client-s3/package.json");
    assert!(
        sdk.exists(),
        "{} is missing: run `make js-deps` (make test does)",
        sdk.display()
    );
    root
}

/// The AWS SDK for JavaScript v3 in `mode` (credential_server_s3.mjs); then the same with no
/// server to find, which finds no credentials.
fn js_sdk_reads_s3(mode: Mode) {
    let _ = js_root();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/credential_server_s3.mjs");
    let script = script.to_str().unwrap();
    let node = PathBuf::from("node");
    let (moto, keys, role) = moto_with_bucket();
    let mut server = credential_server(&keys, &moto, &role, mode);
    let home = Home::new(if mode == Mode::Imds {
        "js-imds"
    } else {
        "js-container"
    });
    let env = pointed_at(mode, &server.url, CONTAINER_TOKEN);
    let ran = client(&node, &[script], &home, &moto, &borrowed(&env));
    assert!(ran.success, "{}\n{}", ran.text(), server.state());
    let account = role.split(':').nth(4).unwrap();
    // The SDK records the container endpoint as CREDENTIALS_HTTP; IMDS it records as none.
    let feature = if mode == Mode::Imds {
        "-"
    } else {
        "CREDENTIALS_HTTP"
    };
    assert_eq!(
        ran.stdout,
        format!(
            "[\"greeting.txt\"] hello from moto arn:aws:sts::{account}:assumed-role/{ROLE}/{SESSION} ASIA {feature}\n"
        ),
        "{}",
        ran.stderr
    );

    // Two clients (S3, STS), each with its own default chain: two fetches, each IMDSv2's
    // token (the TTL the SDK asks for is one we grant), the role's name, the role.
    let log = requests(&server);
    assert_eq!(counted(&server, "credentials", 200), 2, "{}", shown(&log));
    if mode == Mode::Imds {
        assert_eq!(counted(&server, "token", 200), 2, "{}", shown(&log));
        assert_eq!(counted(&server, "role_list", 200), 2, "{}", shown(&log));
    }
    assert!(
        log.iter().all(|(_, _, status, _)| *status == 200),
        "{}",
        shown(&log)
    );

    let dead = format!("http://127.0.0.1:{}", free_port());
    let (url, token) = match mode {
        Mode::Imds => (dead.as_str(), CONTAINER_TOKEN),
        Mode::Container => (server.url.as_str(), "wrong-token"),
    };
    let env = pointed_at(mode, url, token);
    let ran = client(&node, &[script], &home, &moto, &borrowed(&env));
    assert!(!ran.success, "{}", ran.text());
    assert_eq!(ran.stdout, "");
    assert!(
        ran.stderr
            .contains("Could not load credentials from any providers"),
        "{}",
        ran.stderr
    );
}

#[test]
fn the_js_sdk_reads_s3_with_credentials_served_as_imdsv2() {
    js_sdk_reads_s3(Mode::Imds);
}

#[test]
fn the_js_sdk_reads_s3_with_credentials_served_as_the_container_endpoint() {
    js_sdk_reads_s3(Mode::Container);
}
