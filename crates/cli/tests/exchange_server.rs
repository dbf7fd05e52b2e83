//! `sigv4 exchange-server` end to end, with moto (signature checking on) as STS: proofs from
//! `sigv4 proof` and in Datadog's Delegated shape log in; a replayed or tampered proof is
//! refused; enrollment tokens, bearer and SigV4 agent keys, `whoami`, revocation, admin routes.

mod support;

use std::path::Path;
use std::time::{Duration, Instant};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Value, json};
use support::{Keys, Server, free_port, moto, sigv4, start_clean, text};

const ADMIN_TOKEN: &str = "admin-token-for-tests";

/// An HTTP answer: its status and JSON body.
fn call(method: &str, url: &str, headers: &[(&str, &str)], body: Option<&str>) -> (u16, Value) {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(20)))
        .build()
        .into();
    let answer = match (method, body) {
        ("GET", _) => headers
            .iter()
            .fold(agent.get(url), |r, (n, v)| r.header(*n, *v))
            .call(),
        ("DELETE", _) => headers
            .iter()
            .fold(agent.delete(url), |r, (n, v)| r.header(*n, *v))
            .call(),
        (_, body) => headers
            .iter()
            .fold(agent.post(url), |r, (n, v)| r.header(*n, *v))
            .send(body.unwrap_or_default()),
    };
    let mut answer = answer.unwrap_or_else(|e| panic!("{method} {url}: {e}"));
    let status = answer.status().as_u16();
    let text = answer.body_mut().read_to_string().unwrap_or_default();
    let json = serde_json::from_str(&text).unwrap_or(Value::String(text));
    (status, json)
}

/// The admin token's hex SHA-256, as the server is configured with it.
fn admin_token_hash() -> String {
    sigv4_exchange_server::keys::hash(ADMIN_TOKEN)
}

/// The exchange server on a free port, with moto as its only STS endpoint.
fn exchange(moto: &Server, dir: &Path, extra: &[&str]) -> Server {
    let port = free_port();
    let master = dir.join("master.key");
    std::fs::write(
        &master,
        "0123456789abcdef0123456789abcdef0123456789abcdef\n",
    )
    .unwrap();
    let database = format!("sqlite://{}", dir.join("exchange.db").display());
    let (bind, sts, master, admin) = (
        format!("127.0.0.1:{port}"),
        moto.url.clone(),
        master.display().to_string(),
        admin_token_hash(),
    );
    let mut args = vec![
        "exchange-server",
        "--bind-address",
        &bind,
        "--database",
        &database,
        "--sts-endpoint",
        &sts,
        "--audience-header",
        "X-Intake-Id",
        "--audience",
        "intake.example",
        "--binding",
        "arn:aws:iam::123456789012:role/agents-*=acme",
        "--admin-token-sha256",
        &admin,
        "--master-key-file",
        &master,
    ];
    args.extend_from_slice(extra);
    start_clean(Path::new(env!("CARGO_BIN_EXE_sigv4")), &args, &[], port)
}

/// A fresh proof signed by `keys` for the audience `intake.example` at moto. Each in a second
/// of its own: two proofs of one second by one key are the same request, with one signature
/// (and the second is refused as a replay).
fn proof(keys: &Keys, moto: &Server) -> String {
    static LAST: std::sync::Mutex<u64> = std::sync::Mutex::new(0);
    let mut last = LAST.lock().unwrap();
    let second = || {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs()
    };
    while second() == *last {
        std::thread::sleep(Duration::from_millis(50));
    }
    *last = second();
    let endpoint = format!("{}/", moto.url);
    let out = sigv4(
        &keys.env(),
        &[
            "proof",
            "--audience",
            "intake.example",
            "--audience-header",
            "X-Intake-Id",
            "--endpoint-url",
            &endpoint,
        ],
    );
    assert!(out.status.success(), "{}", text(&out));
    String::from_utf8(out.stdout).unwrap()
}

/// The same proof in Datadog's shape: `Delegated b64(body)|b64(headers)|POST|b64(url)`.
fn delegated(vault: &str) -> String {
    let fields: Value = serde_json::from_str(vault).unwrap();
    let field = |name: &str| fields[name].as_str().unwrap().to_string();
    format!(
        "Delegated {}|{}|POST|{}",
        field("iam_request_body"),
        field("iam_request_headers"),
        field("iam_request_url")
    )
}

/// The proof's Authorization header.
fn authorization_of(vault: &str) -> String {
    let fields: Value = serde_json::from_str(vault).unwrap();
    let headers = STANDARD
        .decode(fields["iam_request_headers"].as_str().unwrap())
        .unwrap();
    let headers: serde_json::Map<String, Value> = serde_json::from_slice(&headers).unwrap();
    let (_, value) = headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case("authorization"))
        .expect("an Authorization header");
    value[0].as_str().unwrap().to_string()
}

/// The proof with one header's value changed (its JSON re-encoded).
fn tampered(vault: &str, header: &str, value: &str) -> String {
    let mut fields: Value = serde_json::from_str(vault).unwrap();
    let headers = STANDARD
        .decode(fields["iam_request_headers"].as_str().unwrap())
        .unwrap();
    let mut headers: serde_json::Map<String, Value> = serde_json::from_slice(&headers).unwrap();
    let name = headers
        .keys()
        .find(|n| n.eq_ignore_ascii_case(header))
        .cloned()
        .unwrap_or_else(|| panic!("no {header} in the proof"));
    headers.insert(name, json!([value]));
    fields["iam_request_headers"] =
        Value::String(STANDARD.encode(Value::Object(headers).to_string()));
    fields.to_string()
}

#[test]
fn proofs_log_in_once_and_keys_authenticate_until_revoked() {
    let (moto, user) = moto();
    let role = support::assume_role(&user, &moto, "agents-e2e");
    let dir = tempdir("login");
    let mut server = exchange(&moto, &dir, &["--key-ttl", "1h", "--grace", "2s"]);
    let base = server.url.clone();
    let login = |body: &str, headers: &[(&str, &str)]| {
        call("POST", &format!("{base}/v1/login/aws"), headers, Some(body))
    };

    // Vault's shape, from `sigv4 proof`.
    let vault = proof(&role, &moto);
    let (status, answer) = login(&vault, &[("content-type", "application/json")]);
    assert_eq!(status, 200, "{answer}\n{}", server.state());
    assert_eq!(answer["arn"], "arn:aws:iam::123456789012:role/agents-e2e");
    assert_eq!(answer["organization"], "acme");
    let key = answer["api_key"].as_str().unwrap().to_string();
    assert!(key.starts_with("sk_"), "{key}");
    let whoami = |authorization: &str| {
        call(
            "GET",
            &format!("{base}/v1/whoami"),
            &[("authorization", authorization)],
            None,
        )
    };
    let (status, me) = whoami(&format!("ApiKey {key}"));
    assert_eq!(status, 200, "{me}");
    assert_eq!(me["arn"], "arn:aws:iam::123456789012:role/agents-e2e");
    assert_eq!(me["organization"], "acme");
    assert!(me["expires_at"].as_str().unwrap().ends_with('Z'), "{me}");

    // The same proof again: refused, before STS sees it.
    let (status, answer) = login(&vault, &[]);
    assert_eq!(
        (status, answer["error"].as_str()),
        (401, Some("replayed")),
        "{answer}"
    );

    // Tampered (its signature's last digit changed): our checks pass, moto refuses it.
    let fresh = proof(&role, &moto);
    let signature = authorization_of(&fresh);
    let last = if signature.ends_with('0') { "1" } else { "0" };
    let bad = tampered(
        &fresh,
        "authorization",
        &format!("{}{last}", &signature[..signature.len() - 1]),
    );
    let (status, answer) = login(&bad, &[]);
    assert_eq!(
        (status, answer["error"].as_str()),
        (401, Some("sts_refused")),
        "{answer}"
    );

    // Datadog's shape, in the Authorization header; a second login rotates the key, and the
    // previous one holds for the grace period only.
    let fresh = proof(&role, &moto);
    let (status, answer) = login("", &[("authorization", &delegated(&fresh))]);
    assert_eq!(status, 200, "{answer}");
    let rotated = answer["api_key"].as_str().unwrap().to_string();
    assert_ne!(rotated, key);
    assert_eq!(whoami(&format!("ApiKey {rotated}")).0, 200);
    assert_eq!(whoami(&format!("ApiKey {key}")).0, 200, "within the grace");
    let deadline = Instant::now() + Duration::from_secs(10);
    while whoami(&format!("ApiKey {key}")).0 == 200 {
        assert!(
            Instant::now() < deadline,
            "the previous key outlived its grace"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    assert_eq!(whoami(&format!("ApiKey {rotated}")).0, 200);

    // An identity bound to no organization: the IAM user itself.
    let (status, answer) = login(&proof(&user, &moto), &[]);
    assert_eq!(
        (status, answer["error"].as_str()),
        (403, Some("no_binding")),
        "{answer}"
    );

    // Local checks name the rule and the field; nothing reaches STS.
    let (status, answer) = login("{}", &[]);
    assert_eq!(status, 400, "{answer}");
    assert_eq!(answer["field"], "iam_http_request_method", "{answer}");
    let other_audience = tampered(&proof(&role, &moto), "x-intake-id", "someone-else");
    let (status, answer) = login(&other_audience, &[]);
    assert_eq!(
        (status, answer["error"].as_str()),
        (400, Some("audience_mismatch")),
        "{answer}"
    );
    let (status, answer) = whoami("ApiKey sk_not-a-key");
    assert_eq!(
        (status, answer["error"].as_str()),
        (401, Some("invalid_key")),
        "{answer}"
    );
    let (status, answer) = whoami("Basic x");
    assert_eq!(
        (status, answer["error"].as_str()),
        (401, Some("missing_credentials")),
        "{answer}"
    );

    // No issued secret in the server's log.
    let log = std::fs::read_to_string(&server.log).unwrap();
    for secret in [&key, &rotated] {
        assert!(!log.contains(secret.as_str()), "a key in the log");
    }
    drop(server);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn enrolled_agents_use_their_own_keys_until_revoked() {
    let (moto, _user) = moto();
    let dir = tempdir("enroll");
    let mut server = exchange(&moto, &dir, &[]);
    let base = server.url.clone();
    // The admin verbs of the CLI, with the token from the environment.
    let admin_verb = |args: &[&str]| {
        let mut all = vec!["exchange-admin", "--server", base.as_str()];
        all.extend_from_slice(args);
        let out = sigv4(&[("SIGV4_EXCHANGE_ADMIN_TOKEN", ADMIN_TOKEN)], &all);
        (out.status.success(), text(&out))
    };
    let (ok, created) = admin_verb(&[
        "tokens",
        "create",
        "--name",
        "fleet",
        "--organization",
        "acme",
        "--max-uses",
        "4",
    ]);
    assert!(ok, "{created}\n{}", server.state());
    let token: Value = serde_json::from_str(&created).unwrap();
    let secret = token["token"].as_str().unwrap().to_string();
    assert!(secret.starts_with("et_"));
    let enroll_with = |token: &str, body: &str| {
        call(
            "POST",
            &format!("{base}/v1/enroll"),
            &[("authorization", &format!("ApiKey {token}"))],
            Some(body),
        )
    };
    let whoami = |authorization: &str| {
        call(
            "GET",
            &format!("{base}/v1/whoami"),
            &[("authorization", authorization)],
            None,
        )
    };

    // A bearer key.
    let (status, bearer) = enroll_with(
        &secret,
        r#"{"agent_id":"host-1","metadata":{"os":"linux"}}"#,
    );
    assert_eq!(status, 200, "{bearer}");
    assert_eq!(bearer["organization"], "acme");
    let key = bearer["api_key"].as_str().unwrap().to_string();
    let (status, me) = whoami(&format!("ApiKey {key}"));
    assert_eq!(
        (status, me["agent_id"].as_str()),
        (200, Some("host-1")),
        "{me}"
    );
    // The shared token is no key of the agent's.
    assert_eq!(whoami(&format!("ApiKey {secret}")).0, 401);
    // The same id again without its replace token: refused.
    let (status, answer) = enroll_with(&secret, r#"{"agent_id":"host-1"}"#);
    assert_eq!(
        (status, answer["error"].as_str()),
        (409, Some("already_enrolled")),
        "{answer}"
    );

    // A SigV4 key pair: the agent signs, the server verifies with the core.
    let (status, pair) = enroll_with(&secret, r#"{"agent_id":"host-2","key_type":"sigv4"}"#);
    assert_eq!(status, 200, "{pair}");
    let (id, key_secret) = (
        pair["access_key_id"].as_str().unwrap(),
        pair["secret_access_key"].as_str().unwrap(),
    );
    assert!(id.starts_with("AKEX"), "{id}");
    let signed = |secret: &str| {
        sigv4(
            &[("AWS_ACCESS_KEY_ID", id), ("AWS_SECRET_ACCESS_KEY", secret)],
            &[
                "send",
                "--service",
                "exchange",
                &format!("{base}/v1/whoami"),
            ],
        )
    };
    let out = signed(key_secret);
    assert!(out.status.success(), "{}", text(&out));
    let me: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(me["agent_id"], "host-2");
    assert_eq!(me["key_type"], "sigv4");
    let wrong = signed("wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY");
    assert!(!wrong.status.success());
    assert!(
        text(&wrong).contains("signature_mismatch"),
        "{}",
        text(&wrong)
    );

    // The token's uses run out; re-enrollment with the replace token issues a new key.
    let replace = bearer["replace_token"].as_str().unwrap();
    let (status, again) = enroll_with(
        &secret,
        &json!({"agent_id": "host-1", "replace_token": replace}).to_string(),
    );
    assert_eq!(status, 200, "{again}");
    let new_key = again["api_key"].as_str().unwrap().to_string();
    // The old key stops working on every replica within 2 s (lookups are cached for 1 s).
    let replaced = Instant::now();
    while whoami(&format!("ApiKey {key}")).0 == 200 {
        assert!(
            replaced.elapsed() < Duration::from_secs(2),
            "the old key after 2 s"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(whoami(&format!("ApiKey {new_key}")).0, 200);
    let (status, answer) = enroll_with(&secret, r#"{"agent_id":"host-3"}"#);
    assert_eq!(
        (status, answer["error"].as_str()),
        (401, Some("token_exhausted")),
        "{answer}"
    );

    // Revoking an agent takes effect within 2 s.
    let (ok, answer) = admin_verb(&["agents", "revoke", "host-1"]);
    assert!(ok, "{answer}");
    let revoked = Instant::now();
    while whoami(&format!("ApiKey {new_key}")).0 == 200 {
        assert!(
            revoked.elapsed() < Duration::from_secs(2),
            "still valid after 2 s"
        );
        std::thread::sleep(Duration::from_millis(50));
    }

    // Admin routes list what was done, and refuse without the admin token.
    let (ok, agents) = admin_verb(&["agents", "list"]);
    assert!(ok, "{agents}");
    let agents: Value = serde_json::from_str(&agents).unwrap();
    let ids: Vec<&str> = agents["agents"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["agent_id"].as_str().unwrap())
        .collect();
    assert_eq!(ids.len(), 2, "{agents}");
    assert!(ids.contains(&"host-1") && ids.contains(&"host-2"));
    let revoked_at = |id: &str| {
        agents["agents"]
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["agent_id"] == id)
            .map(|a| a["revoked_at"].is_string())
    };
    assert_eq!(
        (revoked_at("host-1"), revoked_at("host-2")),
        (Some(true), Some(false))
    );
    let (ok, answer) = admin_verb(&["agents", "revoke", "host-9"]);
    assert!(!ok && answer.contains("unknown_agent"), "{answer}");
    let (ok, bindings) = admin_verb(&["bindings", "list"]);
    assert!(
        ok && bindings.contains("arn:aws:iam::123456789012:role/agents-*"),
        "{bindings}"
    );
    let out = sigv4(
        &[("SIGV4_EXCHANGE_ADMIN_TOKEN", "wrong")],
        &["exchange-admin", "--server", &base, "agents", "list"],
    );
    assert!(
        !out.status.success() && text(&out).contains("invalid_admin_token"),
        "{}",
        text(&out)
    );
    let (ok, tokens) = admin_verb(&["tokens", "list"]);
    assert!(ok, "{tokens}");
    let tokens: Value = serde_json::from_str(&tokens).unwrap();
    assert_eq!(tokens["enrollment_tokens"][0]["uses"], 4, "{tokens}");
    assert!(
        tokens.to_string().find(&secret).is_none(),
        "the token is listed"
    );
    for authorization in ["", "Bearer wrong", "ApiKey admin-token-for-tests"] {
        let (status, _) = call(
            "GET",
            &format!("{base}/v1/admin/agents"),
            &[("authorization", authorization)],
            None,
        );
        assert_eq!(status, 401, "{authorization:?}");
    }
    // Bad bodies name their field.
    let (status, answer) = enroll_with(&secret, r#"{"agent":"x"}"#);
    assert_eq!(
        (status, answer["field"].as_str()),
        (400, Some("agent")),
        "{answer}"
    );
    let (status, answer) = enroll_with(&secret, r#"{"agent_id":"a b"}"#);
    assert_eq!(
        (status, answer["field"].as_str()),
        (400, Some("agent_id")),
        "{answer}"
    );

    let log = std::fs::read_to_string(&server.log).unwrap();
    for issued in [&secret, &key, &new_key, &key_secret.to_string()] {
        assert!(
            !log.contains(issued.as_str()),
            "an issued secret in the log"
        );
    }
    drop(server);
    std::fs::remove_dir_all(&dir).unwrap();
}

fn tempdir(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("sigv4-exchange-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}
