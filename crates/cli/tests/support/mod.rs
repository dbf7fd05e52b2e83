//! What the end-to-end tests share: free ports, servers started on 127.0.0.1 and stopped when
//! dropped (moto with signature checking on, s3s-fs), and the `sigv4` binary.
#![allow(dead_code)] // each test file uses a part of it

use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

pub fn tools() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../.tools")
}

/// A port no one listens on, for a server this process starts. Taken below the kernel's
/// ephemeral range (32768-60999 here) and never twice in one process: a port the kernel handed
/// out with `bind(0)` could be handed to a parallel test too, or become the source port of any
/// outgoing connection (even the readiness probe's own, which then connects to itself), and the
/// server started on it failed to bind while the probe saw another listener: CI saw
/// "ConnectionRefused" from moto after its port had answered.
pub fn free_port() -> u16 {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let base = 20_000 + (std::process::id() * 7_919) % 10_000;
    loop {
        let next = NEXT.fetch_add(1, Ordering::Relaxed);
        assert!(next < 10_000, "no free port in 20000-29999");
        let port = (20_000 + (base - 20_000 + next) % 10_000) as u16;
        if TcpListener::bind(("127.0.0.1", port)).is_ok() {
            return port;
        }
    }
}

/// A server process, stopped when dropped.
pub struct Server {
    pub child: Child,
    pub url: String,
    /// Where its output goes (removed with it).
    pub log: PathBuf,
}

impl Server {
    /// The port it listens on.
    pub fn port(&self) -> u16 {
        self.url
            .rsplit(':')
            .next()
            .and_then(|p| p.parse().ok())
            .unwrap_or(0)
    }

    /// Whether it still runs, and what it printed: for a failure's message.
    pub fn state(&mut self) -> String {
        let status = match self.child.try_wait() {
            Ok(Some(status)) => format!("exited ({status})"),
            _ => "running".to_string(),
        };
        let log = std::fs::read(&self.log).unwrap_or_default();
        let tail = String::from_utf8_lossy(&log[log.len().saturating_sub(2000)..]);
        format!(
            "{} at {}: {status}; its output ends:\n{tail}",
            self.child.id(),
            self.url
        )
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_file(&self.log);
    }
}

pub fn start(program: &Path, args: &[&str], env: &[(&str, &str)], port: u16) -> Server {
    start_at(program, args, env, "127.0.0.1", port)
}

/// A server listening on `host` (a loopback address), once it answers HTTP: CI saw moto refuse
/// the first request after its port had accepted a TCP probe, so readiness is an HTTP answer
/// from this process (bounded: 30 s).
pub fn start_at(
    program: &Path,
    args: &[&str],
    env: &[(&str, &str)],
    host: &str,
    port: u16,
) -> Server {
    let mut command = Command::new(program);
    command.args(args).envs(env.iter().copied());
    started(command, program, host, port)
}

/// [`start`] with only `env` (and `PATH`): nothing of this machine's environment (proxies,
/// `AWS_*`) reaches the server.
pub fn start_clean(program: &Path, args: &[&str], env: &[(&str, &str)], port: u16) -> Server {
    let mut command = Command::new(program);
    command
        .args(args)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .envs(env.iter().copied());
    started(command, program, "127.0.0.1", port)
}

/// Spawns `command` (of `program`), its output to a log, and waits until it answers HTTP.
fn started(mut command: Command, program: &Path, host: &str, port: u16) -> Server {
    assert!(
        program.exists(),
        "{} is missing: run `make test`, which installs it",
        program.display()
    );
    let log = std::env::temp_dir().join(format!(
        "sigv4-test-server-{}-{port}.log",
        std::process::id()
    ));
    let out = std::fs::File::create(&log).expect("server log");
    let child = command
        .stdout(out.try_clone().expect("server log"))
        .stderr(out)
        .spawn()
        .unwrap_or_else(|e| panic!("start {}: {e}", program.display()));
    let mut server = Server {
        child,
        url: format!("http://{host}:{port}"),
        log,
    };
    let started = Instant::now();
    while !answers_http(host, port) {
        if let Ok(Some(_)) = server.child.try_wait() {
            panic!("{} did not start: {}", program.display(), server.state());
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "{} did not answer HTTP: {}",
            program.display(),
            server.state()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    // What answered must be this server, not another that holds the port.
    if let Ok(Some(_)) = server.child.try_wait() {
        panic!(
            "{}: port {port} taken? {}",
            program.display(),
            server.state()
        );
    }
    server
}

/// Whether `host:port` answers a GET with an HTTP status line (any status), within 5 s. The
/// path is moto's dashboard: a request to `/` would be an S3 action, which moto counts among the
/// `INITIAL_NO_AUTH_ACTION_COUNT` actions it takes unsigned.
fn answers_http(host: &str, port: u16) -> bool {
    use std::io::{Read, Write};
    let Ok(mut stream) = TcpStream::connect((host, port)) else {
        return false;
    };
    let timeout = Some(Duration::from_secs(5));
    let _ = stream.set_read_timeout(timeout);
    let _ = stream.set_write_timeout(timeout);
    let request =
        format!("GET /moto-api/ HTTP/1.1\r\nHost: {host}:{port}\r\nConnection: close\r\n\r\n");
    if stream.write_all(request.as_bytes()).is_err() {
        return false;
    }
    let mut start = [0u8; 8];
    stream.read_exact(&mut start).is_ok() && start.starts_with(b"HTTP/1.")
}

/// Runs `sigv4` with only these credentials (nothing from this machine).
pub fn sigv4(credentials: &[(&str, &str)], args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_sigv4"))
        .args(args)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("HOME", std::env::temp_dir().join("sigv4-e2e-home"))
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_REGION", "us-east-1")
        .envs(credentials.iter().copied())
        .output()
        .expect("run sigv4")
}

pub fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

pub fn xml<'a>(body: &'a str, name: &str) -> &'a str {
    let start = body
        .find(&format!("<{name}>"))
        .unwrap_or_else(|| panic!("no <{name}> in {body}"))
        + name.len()
        + 2;
    &body[start..start + body[start..].find('<').unwrap()]
}

/// Credentials as environment variables.
pub struct Keys {
    pub id: String,
    pub secret: String,
    pub token: Option<String>,
}

impl Keys {
    pub fn env(&self) -> Vec<(&str, &str)> {
        let mut env = vec![
            ("AWS_ACCESS_KEY_ID", self.id.as_str()),
            ("AWS_SECRET_ACCESS_KEY", self.secret.as_str()),
        ];
        if let Some(token) = &self.token {
            env.push(("AWS_SESSION_TOKEN", token.as_str()));
        }
        env
    }
}

/// POSTs a form (a query-protocol action) to `url` for `service`, signed with `keys`.
pub fn post_form(keys: &[(&str, &str)], service: &str, url: &str, form: &str) -> Output {
    let content_type = "content-type: application/x-www-form-urlencoded";
    sigv4(
        keys,
        &[
            "send",
            "-X",
            "POST",
            "-H",
            content_type,
            "-d",
            form,
            "--service",
            service,
            url,
        ],
    )
}

/// Creates an IAM role any principal may assume; returns its ARN.
pub fn create_role(keys: &Keys, moto: &Server, name: &str) -> String {
    let trust = "%7B%22Version%22%3A%222012-10-17%22%2C%22Statement%22%3A%5B%7B%22Effect%22%3A%22Allow%22%2C%22Principal%22%3A%7B%22AWS%22%3A%22%2A%22%7D%2C%22Action%22%3A%22sts%3AAssumeRole%22%7D%5D%7D";
    let form = format!(
        "Action=CreateRole&RoleName={name}&AssumeRolePolicyDocument={trust}&Version=2010-05-08"
    );
    let role = post_form(&keys.env(), "iam", &format!("{}/", moto.url), &form);
    assert!(role.status.success(), "{}", text(&role));
    xml(&text(&role), "Arn").to_string()
}

/// moto, a user with an allow-all policy and its access key (the three set-up calls moto takes
/// without checking signatures).
pub fn moto() -> (Server, Keys) {
    moto_at("127.0.0.1", free_port())
}

/// [`moto`] listening on `host` and `port`.
pub fn moto_at(host: &str, port: u16) -> (Server, Keys) {
    let moto = tools().join("venv/bin/moto_server");
    let server = start_at(
        &moto,
        &["-H", host, "-p", &port.to_string()],
        &[("INITIAL_NO_AUTH_ACTION_COUNT", "3")],
        host,
        port,
    );
    let bootstrap = [
        ("AWS_ACCESS_KEY_ID", "bootstrap"),
        ("AWS_SECRET_ACCESS_KEY", "bootstrap"),
    ];
    let mut server = server;
    let mut iam = |form: &str| {
        let out = post_form(&bootstrap, "iam", &format!("{}/", server.url), form);
        assert!(
            out.status.success(),
            "{}\nmoto {}",
            text(&out),
            server.state()
        );
        text(&out)
    };
    iam("Action=CreateUser&UserName=e2e&Version=2010-05-08");
    let key = iam("Action=CreateAccessKey&UserName=e2e&Version=2010-05-08");
    iam(&format!(
        "Action=PutUserPolicy&UserName=e2e&PolicyName=all&PolicyDocument={ALLOW_ALL}&Version=2010-05-08"
    ));
    let keys = Keys {
        id: xml(&key, "AccessKeyId").into(),
        secret: xml(&key, "SecretAccessKey").into(),
        token: None,
    };
    (server, keys)
}

/// An IAM policy that allows every action on every resource, form-encoded.
const ALLOW_ALL: &str = "%7B%22Version%22%3A%222012-10-17%22%2C%22Statement%22%3A%5B%7B%22Effect%22%3A%22Allow%22%2C%22Action%22%3A%22%2A%22%2C%22Resource%22%3A%22%2A%22%7D%5D%7D";

/// A new IAM role any principal may assume and that may do anything; returns its ARN.
pub fn allowed_role(keys: &Keys, moto: &Server, role: &str) -> String {
    let arn = create_role(keys, moto, role);
    let form = format!(
        "Action=PutRolePolicy&RoleName={role}&PolicyName=all&PolicyDocument={ALLOW_ALL}&Version=2010-05-08"
    );
    let allowed = post_form(&keys.env(), "iam", &format!("{}/", moto.url), &form);
    assert!(allowed.status.success(), "{}", text(&allowed));
    arn
}

/// A bucket `bucket` with one object, `greeting.txt` ("hello from moto"), put with `keys`.
pub fn put_greeting(moto: &Server, keys: &[(&str, &str)]) {
    let bucket = format!("{}/bucket", moto.url);
    let object = format!("{bucket}/greeting.txt");
    for args in [
        ["send", "-X", "PUT", "--service", "s3", &bucket].as_slice(),
        &[
            "send",
            "-X",
            "PUT",
            "-d",
            "hello from moto",
            "--service",
            "s3",
            &object,
        ],
    ] {
        let out = sigv4(keys, args);
        assert!(out.status.success(), "{}", text(&out));
    }
}

/// Temporary credentials (with a session token) from STS AssumeRole on moto, for a new role
/// that may do anything.
pub fn assume_role(keys: &Keys, moto: &Server, role: &str) -> Keys {
    // moto checks form bodies re-encoded from their fields (botocore's urlencode): the ARN is
    // sent encoded that way.
    let arn = allowed_role(keys, moto, role)
        .replace(':', "%3A")
        .replace('/', "%2F");
    let form = format!("Action=AssumeRole&RoleArn={arn}&RoleSessionName=e2e&Version=2011-06-15");
    let assumed = post_form(&keys.env(), "sts", &format!("{}/", moto.url), &form);
    assert!(assumed.status.success(), "{}", text(&assumed));
    let body = text(&assumed);
    Keys {
        id: xml(&body, "AccessKeyId").into(),
        secret: xml(&body, "SecretAccessKey").into(),
        token: Some(xml(&body, "SessionToken").into()),
    }
}

/// s3s-fs serving `root` (a `bucket` directory is created in it) for these keys.
pub fn s3s_fs(root: &Path, keys: &Keys) -> Server {
    std::fs::create_dir_all(root.join("bucket")).unwrap();
    let port = free_port();
    start(
        &tools().join("bin/s3s-fs"),
        &[
            "--host",
            "127.0.0.1",
            "--port",
            &port.to_string(),
            "--access-key",
            &keys.id,
            "--secret-key",
            &keys.secret,
            root.to_str().unwrap(),
        ],
        &[],
        port,
    )
}
