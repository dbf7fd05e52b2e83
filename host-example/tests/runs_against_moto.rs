//! The example against moto with signature checking on (127.0.0.1 only): it prints the ARN of
//! the user whose keys are in its environment, and fails with a message, not a panic, when
//! moto refuses the signature.

use std::collections::HashMap;
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use sigv4_host::agent::{AgentComponent, AgentHost, ClientConfig, HostTimeouts, Timeouts};
use sigv4_host::credentials::{CredentialsCache, EnvironmentProvider, xml_text};
use sigv4_host::{Header, Payload, Request};

/// moto, killed when dropped (also when an assertion fails).
struct Moto {
    child: Child,
    url: String,
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// moto on a free loopback port, checking signatures after the first three calls.
fn start_moto() -> Moto {
    let program = Path::new(env!("CARGO_MANIFEST_DIR")).join("../.tools/venv/bin/moto_server");
    assert!(
        program.exists(),
        "{} is missing: run `make servers`",
        program.display()
    );
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let child = Command::new(&program)
        .args(["-H", "127.0.0.1", "-p", &port.to_string()])
        .env("INITIAL_NO_AUTH_ACTION_COUNT", "3")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start moto");
    let moto = Moto {
        child,
        url: format!("http://127.0.0.1:{port}/"),
    };
    let started = Instant::now();
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "moto did not listen"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    moto
}

/// POSTs an IAM form to moto through the agent with these keys; returns the answer's body.
fn iam(moto: &Moto, id: &str, secret: &str, form: &str) -> String {
    let env = HashMap::from([
        ("AWS_ACCESS_KEY_ID".to_string(), id.to_string()),
        ("AWS_SECRET_ACCESS_KEY".to_string(), secret.to_string()),
    ]);
    let config = ClientConfig {
        region: "us-east-1".into(),
        service: "iam".into(),
        algorithm: None,
        settings: None,
        timeouts: Timeouts {
            connect_ms: 0,
            first_byte_ms: 0,
            between_bytes_ms: 0,
        },
    };
    let host = AgentHost {
        credentials: Arc::new(CredentialsCache::new(Box::new(EnvironmentProvider::new(
            env,
        )))),
        timeouts: HostTimeouts::default(),
        fixed_time: None,
    };
    let request = Request {
        method: "POST".into(),
        uri: moto.url.clone(),
        headers: vec![Header {
            name: "content-type".into(),
            value: "application/x-www-form-urlencoded".into(),
        }],
        payload: Payload::Bytes(form.as_bytes().to_vec()),
    };
    let response = AgentComponent::shared()
        .unwrap()
        .client(&config, host)
        .unwrap()
        .send(&request, None)
        .unwrap();
    let body = String::from_utf8_lossy(&response.body).into_owned();
    assert_eq!(response.status, 200, "{form}: {body}");
    body
}

/// A user `example` with an allow-all policy; its access key id and secret.
fn create_user(moto: &Moto) -> (String, String) {
    let allow_all = "%7B%22Version%22%3A%222012-10-17%22%2C%22Statement%22%3A%5B%7B%22Effect%22%3A%22Allow%22%2C%22Action%22%3A%22%2A%22%2C%22Resource%22%3A%22%2A%22%7D%5D%7D";
    let (id, secret) = ("bootstrap", "bootstrap");
    iam(
        moto,
        id,
        secret,
        "Action=CreateUser&UserName=example&Version=2010-05-08",
    );
    let key = iam(
        moto,
        id,
        secret,
        "Action=CreateAccessKey&UserName=example&Version=2010-05-08",
    );
    iam(
        moto,
        id,
        secret,
        &format!(
            "Action=PutUserPolicy&UserName=example&PolicyName=all&PolicyDocument={allow_all}&Version=2010-05-08"
        ),
    );
    let text = |name| xml_text(&key, name).unwrap_or_else(|| panic!("no {name} in {key}"));
    (text("AccessKeyId").into(), text("SecretAccessKey").into())
}

/// Runs the example with only these variables (nothing from this machine's AWS configuration).
fn example(args: &[&str], vars: &[(&str, &str)]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_sigv4-host-example"))
        .args(args)
        .env_clear()
        .env("HOME", std::env::temp_dir().join("sigv4-host-example-home"))
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_REGION", "us-east-1")
        .envs(vars.iter().copied())
        .output()
        .expect("run the example")
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

#[test]
fn prints_the_caller_arn_and_fails_cleanly_on_a_bad_signature() {
    let moto = start_moto();
    let (id, secret) = create_user(&moto);
    let keys = [
        ("AWS_ACCESS_KEY_ID", id.as_str()),
        ("AWS_SECRET_ACCESS_KEY", secret.as_str()),
    ];
    let arn = "arn:aws:iam::123456789012:user/example\n";

    // The endpoint as the first argument.
    let out = example(&[&moto.url], &keys);
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(String::from_utf8_lossy(&out.stdout), arn);

    // The endpoint from AWS_ENDPOINT_URL_STS, as the SDKs take it (no trailing slash).
    let endpoint = moto.url.trim_end_matches('/');
    let out = example(&[], &[keys[0], keys[1], ("AWS_ENDPOINT_URL_STS", endpoint)]);
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(String::from_utf8_lossy(&out.stdout), arn);

    // A wrong secret: moto refuses the signature; the example says so and exits non-zero.
    let wrong = [keys[0], ("AWS_SECRET_ACCESS_KEY", "not-the-secret")];
    let out = example(&[&moto.url], &wrong);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(out.stdout.is_empty(), "{}", text(&out));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.starts_with("sigv4-host-example: ") && stderr.contains("HTTP 403"),
        "{stderr}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
}
