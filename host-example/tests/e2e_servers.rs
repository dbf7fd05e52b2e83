//! End to end: the `sigv4` binary (signing inside the component) against real verifiers on
//! 127.0.0.1, started here on free ports and stopped at the end: moto with signature checking on,
//! and s3s-fs. `make test` installs both (pinned) into `.tools`.

use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

fn tools() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../.tools")
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A server process, stopped when dropped.
struct Server {
    child: Child,
    url: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start(program: &Path, args: &[&str], env: &[(&str, &str)], port: u16) -> Server {
    assert!(
        program.exists(),
        "{} is missing: run `make test`, which installs it",
        program.display()
    );
    let child = Command::new(program)
        .args(args)
        .envs(env.iter().copied())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("start {}: {e}", program.display()));
    let started = Instant::now();
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "{} did not listen",
            program.display()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    Server {
        child,
        url: format!("http://127.0.0.1:{port}"),
    }
}

/// Runs `sigv4` with only these credentials (nothing from this machine).
fn sigv4(credentials: &[(&str, &str)], args: &[&str]) -> Output {
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

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

fn xml<'a>(body: &'a str, name: &str) -> &'a str {
    let start = body
        .find(&format!("<{name}>"))
        .unwrap_or_else(|| panic!("no <{name}> in {body}"))
        + name.len()
        + 2;
    &body[start..start + body[start..].find('<').unwrap()]
}

/// Credentials as environment variables.
struct Keys {
    id: String,
    secret: String,
    token: Option<String>,
}

impl Keys {
    fn env(&self) -> Vec<(&str, &str)> {
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
fn post_form(keys: &[(&str, &str)], service: &str, url: &str, form: &str) -> Output {
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
fn create_role(keys: &Keys, moto: &Server, name: &str) -> String {
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
fn moto() -> (Server, Keys) {
    let port = free_port();
    let moto = tools().join("venv/bin/moto_server");
    let server = start(
        &moto,
        &["-H", "127.0.0.1", "-p", &port.to_string()],
        &[("INITIAL_NO_AUTH_ACTION_COUNT", "3")],
        port,
    );
    let bootstrap = [
        ("AWS_ACCESS_KEY_ID", "bootstrap"),
        ("AWS_SECRET_ACCESS_KEY", "bootstrap"),
    ];
    let iam = |form: &str| {
        let out = post_form(&bootstrap, "iam", &format!("{}/", server.url), form);
        assert!(out.status.success(), "{}", text(&out));
        text(&out)
    };
    iam("Action=CreateUser&UserName=e2e&Version=2010-05-08");
    let key = iam("Action=CreateAccessKey&UserName=e2e&Version=2010-05-08");
    let policy = "%7B%22Version%22%3A%222012-10-17%22%2C%22Statement%22%3A%5B%7B%22Effect%22%3A%22Allow%22%2C%22Action%22%3A%22%2A%22%2C%22Resource%22%3A%22%2A%22%7D%5D%7D";
    iam(&format!(
        "Action=PutUserPolicy&UserName=e2e&PolicyName=all&PolicyDocument={policy}&Version=2010-05-08"
    ));
    let keys = Keys {
        id: xml(&key, "AccessKeyId").into(),
        secret: xml(&key, "SecretAccessKey").into(),
        token: None,
    };
    (server, keys)
}

#[test]
fn moto_accepts_header_signed_session_token_and_unsigned_payload_requests() {
    let (moto, keys) = moto();
    let url = |path: &str| format!("{}{path}", moto.url);
    let whoami = sigv4(&keys.env(), &["whoami", "--endpoint-url", &url("/")]);
    assert!(
        text(&whoami).contains("Arn: arn:aws:iam::123456789012:user/e2e"),
        "{}",
        text(&whoami)
    );

    let s3 = |keys: &Keys, args: &[&str]| {
        sigv4(&keys.env(), &[&["send", "--service", "s3"], args].concat())
    };
    assert!(
        s3(&keys, &["-X", "PUT", &url("/e2e-bucket")])
            .status
            .success()
    );
    // Keys with a space, an at sign, a plus and slashes, as sent on the wire. moto rebuilds the
    // URL it verifies from werkzeug's decoded path (an IRI: non-ASCII raw, `+`, `@`, `%` and other
    // sub-delimiters raw), so escapes of those (`%2B`, `%40`, `%25`, `%E2%98%83`: what botocore
    // sends) cannot be checked against moto: the s3s-fs test covers them.
    for key in ["a%20b.txt", "at@home", "plus+sign", "dir/sub/file"] {
        let object = url(&format!("/e2e-bucket/{key}"));
        let put = s3(
            &keys,
            &[
                "-X",
                "PUT",
                "-H",
                "content-type: application/octet-stream",
                "-d",
                key,
                &object,
            ],
        );
        assert!(put.status.success(), "PUT {key}: {}", text(&put));
        let get = s3(&keys, &[&object]);
        assert!(
            get.status.success() && text(&get).contains(key),
            "GET {key}: {}",
            text(&get)
        );
    }
    let unsigned = s3(
        &keys,
        &[
            "-X",
            "PUT",
            "--unsigned-payload",
            "-H",
            "content-type: application/octet-stream",
            "-d",
            "unsigned",
            &url("/e2e-bucket/unsigned"),
        ],
    );
    assert!(unsigned.status.success(), "{}", text(&unsigned));

    // Temporary credentials with a session token, from AssumeRole. moto checks form bodies
    // re-encoded from their fields (botocore's urlencode): the ARN is sent encoded that way.
    let arn = create_role(&keys, &moto, "e2e-role")
        .replace(':', "%3A")
        .replace('/', "%2F");
    let form = format!("Action=AssumeRole&RoleArn={arn}&RoleSessionName=e2e&Version=2011-06-15");
    let assumed = post_form(&keys.env(), "sts", &url("/"), &form);
    assert!(assumed.status.success(), "{}", text(&assumed));
    let body = text(&assumed);
    let temporary = Keys {
        id: xml(&body, "AccessKeyId").into(),
        secret: xml(&body, "SecretAccessKey").into(),
        token: Some(xml(&body, "SessionToken").into()),
    };
    let whoami = sigv4(&temporary.env(), &["whoami", "--endpoint-url", &url("/")]);
    assert!(
        text(&whoami).contains("assumed-role/e2e-role/e2e"),
        "{}",
        text(&whoami)
    );

    // Tampered: a wrong secret, and a token that is not the one issued.
    let wrong_secret = Keys {
        secret: format!("x{}", keys.secret),
        ..Keys {
            id: keys.id.clone(),
            secret: String::new(),
            token: None,
        }
    };
    let refused = s3(&wrong_secret, &[&url("/e2e-bucket/a%20b.txt")]);
    assert!(
        !refused.status.success() && text(&refused).contains("SignatureDoesNotMatch"),
        "{}",
        text(&refused)
    );
    let wrong_token = Keys {
        token: Some("not-the-token".into()),
        ..temporary
    };
    let refused = sigv4(&wrong_token.env(), &["whoami", "--endpoint-url", &url("/")]);
    assert!(!refused.status.success(), "{}", text(&refused));
}

#[test]
fn s3s_fs_accepts_header_signed_presigned_and_unsigned_payload_requests() {
    let root = std::env::temp_dir().join(format!("sigv4-e2e-s3s-{}", std::process::id()));
    std::fs::create_dir_all(root.join("bucket")).unwrap();
    let port = free_port();
    let keys = Keys {
        id: "AKIDS3SFS".into(),
        secret: "s3s-fs/secret+key".into(),
        token: None,
    };
    let server = start(
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
    );
    // Non-ASCII and escaped reserved characters, which moto cannot check (see the moto test).
    let object = format!("{}/bucket/caf%C3%A9%20%2B%20tea%40home%25.txt", server.url);
    let send = |keys: &Keys, args: &[&str]| {
        sigv4(&keys.env(), &[&["send", "--service", "s3"], args].concat())
    };
    let put = send(
        &keys,
        &[
            "-X",
            "PUT",
            "-H",
            "content-type: application/octet-stream",
            "-d",
            "signed body",
            &object,
        ],
    );
    assert!(put.status.success(), "{}", text(&put));
    assert!(text(&send(&keys, &[&object])).contains("signed body"));
    let unsigned = send(
        &keys,
        &[
            "-X",
            "PUT",
            "--unsigned-payload",
            "-d",
            "unsigned body",
            &format!("{}/bucket/unsigned", server.url),
        ],
    );
    assert!(unsigned.status.success(), "{}", text(&unsigned));

    let presigned = sigv4(
        &keys.env(),
        &[
            "presign",
            "--service",
            "s3",
            "--unsigned-payload",
            "--expires",
            "60",
            &object,
        ],
    );
    let presigned = String::from_utf8(presigned.stdout)
        .unwrap()
        .trim()
        .to_string();
    let fetch = |url: &str| {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .build()
            .into();
        let mut response = agent.get(url).call().unwrap();
        (
            response.status().as_u16(),
            response.body_mut().read_to_string().unwrap_or_default(),
        )
    };
    assert_eq!(fetch(&presigned), (200, "signed body".to_string()));
    let tampered = format!(
        "{}{}",
        &presigned[..presigned.len() - 1],
        if presigned.ends_with('0') { '1' } else { '0' }
    );
    assert_ne!(fetch(&tampered).0, 200);
    let wrong = Keys {
        id: keys.id.clone(),
        secret: "wrong".into(),
        token: None,
    };
    assert!(!send(&wrong, &[&object]).status.success());
    drop(server);
    std::fs::remove_dir_all(&root).unwrap();
}

/// A profile that assumes a role with another profile's keys: AssumeRole is signed inside the
/// component and verified by moto; the temporary credentials then sign `whoami`.
#[test]
fn profile_assume_role_through_sts_on_moto() {
    let (moto, keys) = moto();
    let arn = create_role(&keys, &moto, "agent-role");
    let dir = std::env::temp_dir().join(format!("sigv4-e2e-profiles-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("credentials"),
        format!(
            "[base]\naws_access_key_id = {}\naws_secret_access_key = {}\n",
            keys.id, keys.secret
        ),
    )
    .unwrap();
    std::fs::write(dir.join("config"), format!("[profile agent]\nrole_arn = {arn}\nsource_profile = base\nrole_session_name = e2e-agent\nregion = us-east-1\n")).unwrap();
    let env = [
        (
            "AWS_CONFIG_FILE",
            dir.join("config").to_str().unwrap().to_string(),
        ),
        (
            "AWS_SHARED_CREDENTIALS_FILE",
            dir.join("credentials").to_str().unwrap().to_string(),
        ),
        ("AWS_PROFILE", "agent".to_string()),
        ("AWS_ENDPOINT_URL_STS", moto.url.clone()),
    ];
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let credentials = sigv4(&env, &["credentials", "--json"]);
    assert!(credentials.status.success(), "{}", text(&credentials));
    let json: serde_json::Value = serde_json::from_slice(&credentials.stdout).unwrap();
    assert_eq!(json["provider"], "assume_role");
    assert_eq!(json["session_token"], true);
    assert!(json["expiration"].is_string());
    let whoami = sigv4(
        &env,
        &["whoami", "--endpoint-url", &format!("{}/", moto.url)],
    );
    assert!(
        text(&whoami).contains("assumed-role/agent-role/e2e-agent"),
        "{}",
        text(&whoami)
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

/// AssumeRoleWithWebIdentity from AWS_WEB_IDENTITY_TOKEN_FILE and AWS_ROLE_ARN. The call is
/// unsigned (the token authenticates it), and moto cannot take unsigned calls once it checks
/// signatures, so this moto runs without checking.
#[test]
fn web_identity_through_sts_on_moto() {
    let port = free_port();
    let moto = start(
        &tools().join("venv/bin/moto_server"),
        &["-H", "127.0.0.1", "-p", &port.to_string()],
        &[],
        port,
    );
    let token_file = std::env::temp_dir().join(format!("sigv4-e2e-oidc-{}", std::process::id()));
    std::fs::write(
        &token_file,
        "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhZ2VudCJ9.c2lnbmF0dXJl\n",
    )
    .unwrap();
    let env = [
        ("AWS_WEB_IDENTITY_TOKEN_FILE", token_file.to_str().unwrap()),
        ("AWS_ROLE_ARN", "arn:aws:iam::123456789012:role/federated"),
        ("AWS_ROLE_SESSION_NAME", "entra-agent"),
        ("AWS_ENDPOINT_URL_STS", moto.url.as_str()),
    ];
    let credentials = sigv4(&env, &["credentials", "--json"]);
    assert!(credentials.status.success(), "{}", text(&credentials));
    let json: serde_json::Value = serde_json::from_slice(&credentials.stdout).unwrap();
    assert_eq!(json["provider"], "web_identity");
    assert_eq!(json["session_token"], true);
    let whoami = sigv4(
        &env,
        &["whoami", "--endpoint-url", &format!("{}/", moto.url)],
    );
    assert!(
        text(&whoami).contains("assumed-role/federated/entra-agent"),
        "{}",
        text(&whoami)
    );
    std::fs::write(&token_file, "").unwrap();
    let missing = sigv4(
        &[
            ("AWS_WEB_IDENTITY_TOKEN_FILE", "/nonexistent/token"),
            ("AWS_ROLE_ARN", "arn:aws:iam::123456789012:role/x"),
        ],
        &["credentials"],
    );
    assert!(
        !missing.status.success() && text(&missing).contains("web identity token file"),
        "{}",
        text(&missing)
    );
    std::fs::remove_file(&token_file).unwrap();
}
