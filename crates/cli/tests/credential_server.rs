//! `sigv4 credential-server` against clients nobody here wrote: moto (signature checking on) is
//! STS and S3; the server assumes a role there with the host's chain and serves it; unmodified
//! boto3 finds it as the EC2 instance metadata service (IMDSv2) and as the container endpoint,
//! and lists and reads S3 objects with it; our own `sigv4` too. The IMDS contract (token TTLs,
//! proxies refused, IMDSv1 refused, unknown tokens, the extended route's 404, `Server: EC2ws`)
//! and `/metrics` are checked on the wire.

mod support;

use std::path::PathBuf;
use std::process::{Command, Output};
use std::time::Duration;

use support::{Keys, Server, free_port, moto, sigv4, start, start_clean, text, tools};

const TOKEN_TTL: &str = "x-aws-ec2-metadata-token-ttl-seconds";
const TOKEN: &str = "x-aws-ec2-metadata-token";

/// moto with a role that may do anything, a bucket with one object; the user's keys and the role.
fn moto_with_bucket() -> (Server, Keys, String) {
    let (moto, keys) = moto();
    let role = support::allowed_role(&keys, &moto, "served");
    support::put_greeting(&moto, &keys.env());
    (moto, keys, role)
}

/// `sigv4 credential-server ARGS` with the user's keys as the chain's, STS at moto.
fn credential_server(keys: &Keys, moto: &Server, args: &[&str]) -> Server {
    let port = free_port();
    let bind = format!("127.0.0.1:{port}");
    let mut all = vec!["credential-server", "--bind-address", &bind];
    all.extend_from_slice(args);
    let home = std::env::temp_dir().join("sigv4-e2e-home");
    let mut env = keys.env();
    env.extend([
        ("AWS_ENDPOINT_URL_STS", moto.url.as_str()),
        ("AWS_REGION", "us-east-1"),
        ("AWS_EC2_METADATA_DISABLED", "true"),
        ("HOME", home.to_str().unwrap()),
    ]);
    start_clean(
        &PathBuf::from(env!("CARGO_BIN_EXE_sigv4")),
        &all,
        &env,
        port,
    )
}

/// boto3 (moto's virtual environment), with no credentials of its own: lists the bucket, reads
/// the object, and prints how it found its credentials.
fn boto3(env: &[(&str, &str)], moto: &Server) -> Output {
    let script = r#"
import boto3
session = boto3.session.Session()
s3 = session.client("s3")
keys = [o["Key"] for o in s3.list_objects_v2(Bucket="bucket")["Contents"]]
body = s3.get_object(Bucket="bucket", Key="greeting.txt")["Body"].read().decode()
credentials = session.get_credentials()
print(keys, body, credentials.method, credentials.access_key[:4])
"#;
    let home = std::env::temp_dir().join("sigv4-e2e-home");
    Command::new(tools().join("venv/bin/python"))
        .args(["-c", script])
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("HOME", &home)
        .env("AWS_CONFIG_FILE", home.join("none"))
        .env("AWS_SHARED_CREDENTIALS_FILE", home.join("none"))
        .env("AWS_ENDPOINT_URL", &moto.url)
        .env("AWS_REGION", "us-east-1")
        .envs(env.iter().copied())
        .output()
        .expect("run boto3")
}

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(20)))
        .build()
        .into()
}

/// A request's status, `Server` header and body.
fn call(request: ureq::RequestBuilder<ureq::typestate::WithoutBody>) -> (u16, String, String) {
    let mut answer = request.call().expect("the server answers");
    exchanged(&mut answer)
}

fn exchanged(answer: &mut ureq::http::Response<ureq::Body>) -> (u16, String, String) {
    let server = answer
        .headers()
        .get("server")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    let body = answer.body_mut().read_to_string().unwrap_or_default();
    (answer.status().as_u16(), server, body)
}

#[test]
fn boto3_and_sigv4_read_s3_with_credentials_served_as_imdsv2() {
    let (moto, keys, role) = moto_with_bucket();
    let mut server = credential_server(&keys, &moto, &["--role-arn", &role]);
    let url = server.url.clone();
    let endpoint = format!("{url}/");

    let out = boto3(&[("AWS_EC2_METADATA_SERVICE_ENDPOINT", &endpoint)], &moto);
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        "['greeting.txt'] hello from moto iam-role ASIA",
        "{}\n{}",
        text(&out),
        server.state()
    );

    // Our own client through it: the chain's IMDS provider.
    let out = sigv4(
        &[
            ("AWS_EC2_METADATA_DISABLED", "false"),
            ("AWS_EC2_METADATA_SERVICE_ENDPOINT", &endpoint),
        ],
        &[
            "send",
            "--service",
            "s3",
            &format!("{}/bucket/greeting.txt", moto.url),
        ],
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "hello from moto",
        "{}",
        text(&out)
    );

    // The contract, on the wire.
    let agent = agent();
    let put = |ttl: Option<&str>| {
        let mut request = agent.put(format!("{url}/latest/api/token"));
        if let Some(ttl) = ttl {
            request = request.header(TOKEN_TTL, ttl);
        }
        let mut answer = request.send_empty().expect("answers");
        exchanged(&mut answer)
    };
    for ttl in [None, Some("0"), Some("21601"), Some("ten")] {
        assert_eq!(put(ttl).0, 400, "ttl {ttl:?}");
    }
    let mut forwarded = agent
        .put(format!("{url}/latest/api/token"))
        .header(TOKEN_TTL, "60")
        .header("x-forwarded-for", "203.0.113.7")
        .send_empty()
        .unwrap();
    assert_eq!(exchanged(&mut forwarded).0, 403);
    let (status, server_header, token) = put(Some("21600"));
    assert_eq!((status, server_header.as_str()), (200, "EC2ws"));
    let get = |path: &str, token: Option<&str>| {
        let mut request = agent.get(format!("{url}{path}"));
        if let Some(token) = token {
            request = request.header(TOKEN, token);
        }
        call(request)
    };
    let credentials = "/latest/meta-data/iam/security-credentials/";
    assert_eq!(get(credentials, None).0, 401, "IMDSv1 is refused");
    assert_eq!(get(credentials, Some("not-issued")).0, 401);
    let (_, _, short) = put(Some("1"));
    assert_eq!(get(credentials, Some(&short)).0, 200);
    std::thread::sleep(Duration::from_millis(1100));
    assert_eq!(get(credentials, Some(&short)).0, 401, "an expired token");
    assert_eq!(
        get(credentials, Some(&token)),
        (200, "EC2ws".into(), "served".into())
    );
    let (status, _, document) = get(&format!("{credentials}served"), Some(&token));
    assert_eq!(status, 200);
    let document: serde_json::Value = serde_json::from_str(&document).unwrap();
    assert_eq!(document["Code"], "Success");
    assert_eq!(document["Type"], "AWS-HMAC");
    for time in ["LastUpdated", "Expiration"] {
        let time = document[time].as_str().unwrap();
        assert_eq!(
            (time.len(), &time[10..11], &time[19..]),
            (20, "T", "Z"),
            "{time}"
        );
    }
    assert!(
        document["AccessKeyId"]
            .as_str()
            .unwrap()
            .starts_with("ASIA")
    );
    assert_eq!(get(&format!("{credentials}other"), Some(&token)).0, 404);
    assert_eq!(
        get(
            "/latest/meta-data/iam/security-credentials-extended/",
            Some(&token)
        )
        .0,
        404
    );
    assert_eq!(
        get("/latest/meta-data/placement/region", Some(&token)),
        (200, "EC2ws".into(), "us-east-1".into())
    );
    // With a trailing slash too, as botocore asks for the zone.
    assert_eq!(
        get(
            "/latest/meta-data/placement/availability-zone/",
            Some(&token)
        ),
        (200, "EC2ws".into(), "us-east-1a".into())
    );
    let (status, _, identity) = get("/latest/dynamic/instance-identity/document", Some(&token));
    let identity: serde_json::Value = serde_json::from_str(&identity).unwrap();
    assert_eq!((status, &identity["region"]), (200, &"us-east-1".into()));
    assert_eq!(identity["accountId"], role.split(':').nth(4).unwrap());

    let (status, _, metrics) = get("/metrics", None);
    assert_eq!(status, 200);
    for line in [
        "credential_server_requests_total{route=\"token\",status=\"400\"} 4",
        "credential_server_requests_total{route=\"token\",status=\"200\"} 4",
        "credential_server_requests_total{route=\"token\",status=\"403\"} 1",
        "credential_server_refreshes_total 1",
        "credential_server_refresh_failures_total 0",
    ] {
        assert!(metrics.contains(line), "{line} in\n{metrics}");
    }
    // One log line per request, none with a secret or a token.
    let log = std::fs::read_to_string(&server.log).unwrap();
    assert!(!log.contains(&token), "a token in the log");
    assert!(!log.contains(document["SecretAccessKey"].as_str().unwrap()));
    assert!(!log.contains(document["Token"].as_str().unwrap()));
    assert!(
        log.lines()
            .filter(|l| l.contains("\"path\":\"/latest/api/token\""))
            .count()
            >= 6
    );

    // SIGTERM: stops, having said so.
    let stopped = Command::new("kill")
        .args(["-TERM", &server.child.id().to_string()])
        .status()
        .unwrap();
    assert!(stopped.success());
    let status = server.child.wait().unwrap();
    assert!(status.success(), "{status}: {}", server.state());
    assert!(
        std::fs::read_to_string(&server.log)
            .unwrap()
            .contains("\"event\":\"stopped\"")
    );
}

#[test]
fn boto3_reads_s3_with_credentials_served_as_the_container_endpoint() {
    let (moto, keys, role) = moto_with_bucket();
    let secret = "container-token-7d1f";
    let mut server = credential_server(
        &keys,
        &moto,
        &[
            "--role-arn",
            &role,
            "--mode",
            "container",
            "--authorization-token",
            secret,
        ],
    );
    let uri = format!("{}/v2/credentials", server.url);
    let out = boto3(
        &[
            ("AWS_CONTAINER_CREDENTIALS_FULL_URI", &uri),
            ("AWS_CONTAINER_AUTHORIZATION_TOKEN", secret),
        ],
        &moto,
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        "['greeting.txt'] hello from moto container-role ASIA",
        "{}\n{}",
        text(&out),
        server.state()
    );
    // Our own client through it: the chain's container provider.
    let out = sigv4(
        &[
            ("AWS_CONTAINER_CREDENTIALS_FULL_URI", &uri),
            ("AWS_CONTAINER_AUTHORIZATION_TOKEN", secret),
        ],
        &[
            "send",
            "--service",
            "s3",
            &format!("{}/bucket/greeting.txt", moto.url),
        ],
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "hello from moto",
        "{}",
        text(&out)
    );
    let agent = agent();
    assert_eq!(call(agent.get(&uri)).0, 401);
    assert_eq!(
        call(agent.get(&uri).header("authorization", "wrong")).0,
        401
    );
    let (status, _, document) = call(agent.get(&uri).header("authorization", secret));
    let document: serde_json::Value = serde_json::from_str(&document).unwrap();
    assert_eq!((status, &document["RoleArn"]), (200, &role.as_str().into()));
    assert_eq!(document["AccountId"], role.split(':').nth(4).unwrap());
    assert!(
        !std::fs::read_to_string(&server.log)
            .unwrap()
            .contains(secret)
    );
}

#[test]
fn a_bad_configuration_stops_it_at_start_naming_the_field() {
    let dir = std::env::temp_dir().join(format!("sigv4-cs-config-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("config.yaml");
    std::fs::write(
        &file,
        "server:\n  bind_address: 127.0.0.1:1\n  rate_limit: fast\n",
    )
    .unwrap();
    let cases: [(&[&str], &str); 4] = [
        (&["--bind-address", "localhost"], "server.bind_address"),
        (&["--config", file.to_str().unwrap()], "server.rate_limit"),
        (
            &["--bind-address", "127.0.0.1:1", "--mode", "container"],
            "authorization_token",
        ),
        (
            &["--bind-address", "127.0.0.1:1", "--role-arn", "reader"],
            "credentials.role_arn",
        ),
    ];
    for (args, field) in cases {
        let mut all = vec!["credential-server"];
        all.extend_from_slice(args);
        let out = sigv4(&[], &all);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {}", text(&out));
        assert!(
            text(&out).contains(&format!("credential-server configuration: {field}: ")),
            "{args:?}: {}",
            text(&out)
        );
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

/// moto without signature checking (it cannot take the unsigned `AssumeRoleWithWebIdentity`
/// once it checks: it looks for an `Authorization` header on every call), with the bucket, and
/// the role to federate into.
fn moto_for_web_identity() -> (Server, String) {
    let port = free_port();
    let moto = start(
        &tools().join("venv/bin/moto_server"),
        &["-H", "127.0.0.1", "-p", &port.to_string()],
        &[],
        port,
    );
    let keys = [
        ("AWS_ACCESS_KEY_ID", "setup"),
        ("AWS_SECRET_ACCESS_KEY", "setup"),
    ];
    support::put_greeting(&moto, &keys);
    (moto, "arn:aws:iam::123456789012:role/federated".to_string())
}

/// The test's OAuth2 token endpoint (authlib), for this client.
fn token_endpoint(client_id: &str, client_secret: &str) -> Server {
    let port = free_port();
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/oauth2_token_endpoint.py");
    start(
        &tools().join("venv/bin/python"),
        &[
            script.to_str().unwrap(),
            &port.to_string(),
            client_id,
            client_secret,
        ],
        &[("PYTHONUNBUFFERED", "1")],
        port,
    )
}

/// The JSON lines the token endpoint printed.
fn requests_seen(endpoint: &Server) -> Vec<serde_json::Value> {
    std::fs::read_to_string(&endpoint.log)
        .unwrap_or_default()
        .lines()
        .filter_map(|line| serde_json::from_str(line).ok())
        .collect()
}

#[test]
fn entra_id_client_credentials_federated_into_sts_for_boto3() {
    let (moto, role) = moto_for_web_identity();
    let secret = "entra-client-secret-5c2a";
    let mut endpoint = token_endpoint("agent-app", secret);
    let dir = std::env::temp_dir().join(format!("sigv4-cs-oidc-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let config = dir.join("config.yaml");
    // Beats' shape: azure_ad next to role_arn.
    std::fs::write(
        &config,
        format!(
            "credentials:\n  role_arn: {role}\n  azure_ad:\n    tenant_id: tenant-1\n    client_id: agent-app\n    client_secret: {secret}\n    scope: api://agent-app/.default\n    authority_host: {}\n",
            endpoint.url
        ),
    )
    .unwrap();
    // No AWS keys: the chain is not what assumes the role.
    let no_keys = Keys {
        id: String::new(),
        secret: String::new(),
        token: None,
    };
    let mut server = credential_server(&no_keys, &moto, &["--config", config.to_str().unwrap()]);
    let endpoint_url = format!("{}/", server.url);
    let out = boto3(
        &[("AWS_EC2_METADATA_SERVICE_ENDPOINT", &endpoint_url)],
        &moto,
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        "['greeting.txt'] hello from moto iam-role ASIA",
        "{}\n{}\n{}",
        text(&out),
        server.state(),
        endpoint.state()
    );
    let seen = requests_seen(&endpoint);
    assert_eq!(seen.len(), 1, "one token for one refresh: {seen:?}");
    assert_eq!(seen[0]["tenant"], "tenant-1");
    assert_eq!(
        seen[0]["form"],
        serde_json::json!({
            "grant_type": "client_credentials",
            "client_id": "agent-app",
            "client_secret": secret,
            "scope": "api://agent-app/.default",
        })
    );
    assert!(
        !std::fs::read_to_string(&server.log)
            .unwrap()
            .contains(secret)
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_refused_client_secret_is_the_answer_never_the_secret() {
    let (moto, role) = moto_for_web_identity();
    let endpoint = token_endpoint("agent-app", "the-right-secret");
    let wrong = "the-wrong-secret-91f";
    let no_keys = Keys {
        id: String::new(),
        secret: String::new(),
        token: None,
    };
    let mut server = credential_server(
        &no_keys,
        &moto,
        &[
            "--role-arn",
            &role,
            "--azure-tenant-id",
            "tenant-1",
            "--azure-client-id",
            "agent-app",
            "--azure-client-secret",
            wrong,
            "--azure-authority-host",
            &endpoint.url,
        ],
    );
    let agent = agent();
    let mut put = agent
        .put(format!("{}/latest/api/token", server.url))
        .header(TOKEN_TTL, "60")
        .send_empty()
        .unwrap();
    let (_, _, token) = exchanged(&mut put);
    let (status, _, body) = call(
        agent
            .get(format!(
                "{}/latest/meta-data/iam/security-credentials/federated",
                server.url
            ))
            .header(TOKEN, &token),
    );
    assert_eq!(status, 500, "{body}\n{}", server.state());
    let body: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(body["Code"], "CredentialsUnavailable");
    let message = body["Message"].as_str().unwrap();
    assert!(
        message.contains("/tenant-1/oauth2/v2.0/token: answered 400: invalid_client"),
        "{message}"
    );
    assert!(!message.contains(wrong));
    assert!(
        !std::fs::read_to_string(&server.log)
            .unwrap()
            .contains(wrong)
    );
}

#[test]
fn azure_managed_identity_tokens_from_a_get_with_its_header() {
    let (moto, role) = moto_for_web_identity();
    let mut endpoint = token_endpoint("unused", "unused");
    let no_keys = Keys {
        id: String::new(),
        secret: String::new(),
        token: None,
    };
    let url = format!(
        "{}/metadata/identity/oauth2/token?api-version=2018-02-01&resource=api://AzureADTokenExchange",
        endpoint.url
    );
    let mut server = credential_server(
        &no_keys,
        &moto,
        &[
            "--role-arn",
            &role,
            "--mode",
            "container",
            "--authorization-token",
            "t",
            "--web-identity-token-url",
            &url,
            "--web-identity-token-header",
            "Metadata: true",
        ],
    );
    let (status, _, body) = call(
        agent()
            .get(format!("{}/creds", server.url))
            .header("authorization", "t"),
    );
    assert_eq!(
        status,
        200,
        "{body}\n{}\n{}",
        server.state(),
        endpoint.state()
    );
    let seen = requests_seen(&endpoint);
    assert_eq!(
        seen,
        [serde_json::json!({"managed_identity": {
            "api-version": "2018-02-01",
            "resource": "api://AzureADTokenExchange"
        }})]
    );
}

/// A profile's web identity token from a command (this host's profile key), through the chain
/// of `sigv4` itself: the role is assumed at STS with what the command printed.
#[test]
fn a_profile_assumes_its_role_with_the_token_a_command_prints() {
    let (moto, role) = moto_for_web_identity();
    let dir = std::env::temp_dir().join(format!("sigv4-cs-profile-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let config = dir.join("config");
    let count = dir.join("count");
    std::fs::write(
        &config,
        format!(
            "[profile federated]\nrole_arn = {role}\nrole_session_name = from-command\nweb_identity_token_command = echo x >> {}; echo eyJhbGciOiJub25lIn0.eyJzdWIiOiJhZ2VudCJ9.c2ln\n",
            count.display()
        ),
    )
    .unwrap();
    let out = sigv4(
        &[
            ("AWS_CONFIG_FILE", config.to_str().unwrap()),
            ("AWS_PROFILE", "federated"),
            ("AWS_ENDPOINT_URL_STS", &moto.url),
        ],
        &["whoami", "--endpoint-url", &format!("{}/", moto.url)],
    );
    assert!(
        text(&out).contains("assumed-role/federated/from-command"),
        "{}",
        text(&out)
    );
    assert_eq!(std::fs::read_to_string(&count).unwrap(), "x\n");
    std::fs::remove_dir_all(&dir).unwrap();
}

/// IMDSv1 when allowed, the chain's own (static) keys served with an expiry an hour out, and
/// the rate limit's 429 once its burst is spent (health and metrics are not limited).
#[test]
fn imdsv1_when_allowed_and_the_rate_limit() {
    let port = free_port();
    let bind = format!("127.0.0.1:{port}");
    let home = std::env::temp_dir().join("sigv4-e2e-home");
    let server = start_clean(
        &PathBuf::from(env!("CARGO_BIN_EXE_sigv4")),
        &[
            "credential-server",
            "--bind-address",
            &bind,
            "--imds-v1-allowed",
            "--rate-limit",
            "0.5:4",
            "--iam-role",
            "static-keys",
        ],
        &[
            ("AWS_ACCESS_KEY_ID", "AKIDSTATIC"),
            ("AWS_SECRET_ACCESS_KEY", "static-secret"),
            ("AWS_EC2_METADATA_DISABLED", "true"),
            ("HOME", home.to_str().unwrap()),
        ],
        port,
    );
    let agent = agent();
    // The readiness probe took one of the burst's four.
    let (status, _, document) = call(agent.get(format!(
        "{}/latest/meta-data/iam/security-credentials/static-keys",
        server.url
    )));
    assert_eq!(status, 200, "{document}");
    let document: serde_json::Value = serde_json::from_str(&document).unwrap();
    assert_eq!(document["AccessKeyId"], "AKIDSTATIC");
    assert_eq!(document["Token"], "");
    let statuses: Vec<u16> = (0..4)
        .map(|_| call(agent.get(format!("{}/latest/meta-data/placement/region", server.url))).0)
        .collect();
    assert_eq!(statuses, [200, 200, 429, 429]);
    assert_eq!(call(agent.get(format!("{}/healthz", server.url))).0, 200);
    let (_, _, metrics) = call(agent.get(format!("{}/metrics", server.url)));
    assert!(
        metrics.contains("credential_server_requests_total{route=\"other\",status=\"429\"} 2"),
        "{metrics}"
    );
    assert!(
        metrics.contains("credential_server_credentials_expiry_seconds 3"),
        "{metrics}"
    );
}
