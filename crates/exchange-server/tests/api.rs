//! The HTTP API in process, on SQLite: 500 agents enrolling at once, every field of every route
//! given bad input (a 4xx naming it, never a 5xx), request size and rate limits.

use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use sigv4_exchange_server::{FileConfig, Server, keys};

const ADMIN_TOKEN: &str = "admin-token-for-tests";

/// A server on a free port of 127.0.0.1, stopped when dropped.
struct Running {
    base: String,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    dir: std::path::PathBuf,
    runtime: Option<tokio::runtime::Runtime>,
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_timeout(Duration::from_secs(5));
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn start(name: &str, rate_limit: &str) -> Running {
    let dir = std::env::temp_dir().join(format!("exchange-api-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let master = dir.join("master.key");
    std::fs::write(&master, "0123456789abcdef0123456789abcdef\n").unwrap();
    let config = FileConfig {
        bind_address: Some("127.0.0.1:0".into()),
        database: Some(format!("sqlite://{}", dir.join("exchange.db").display())),
        sts_endpoints: vec!["http://127.0.0.1:9".into()],
        audience_header: Some("X-Intake-Id".into()),
        audience: Some("intake".into()),
        bindings: vec!["arn:aws:iam::123456789012:role/agents-*=acme".into()],
        admin_token_sha256: Some(keys::hash(ADMIN_TOKEN)),
        master_key_file: Some(master.display().to_string()),
        rate_limit: Some(rate_limit.into()),
        sts_timeout: Some("1s".into()),
        access_log: Some(false),
        ..FileConfig::default()
    }
    .resolve()
    .unwrap();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let base = runtime.block_on(async {
        let server = Server::bind(config).await.unwrap();
        let base = format!("http://{}", server.local_addr().unwrap());
        tokio::spawn(server.serve(async {
            let _ = stopped.await;
        }));
        base
    });
    Running {
        base,
        stop: Some(stop),
        dir,
        runtime: Some(runtime),
    }
}

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(30)))
        .build()
        .into()
}

/// Status and body (JSON, else the text as a string).
fn call(
    agent: &ureq::Agent,
    method: &str,
    url: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> (u16, Value) {
    let answer = match method {
        "GET" => headers
            .iter()
            .fold(agent.get(url), |r, (n, v)| r.header(*n, *v))
            .call(),
        "DELETE" => headers
            .iter()
            .fold(agent.delete(url), |r, (n, v)| r.header(*n, *v))
            .call(),
        _ => headers
            .iter()
            .fold(agent.post(url), |r, (n, v)| r.header(*n, *v))
            .send(body),
    };
    let mut answer = answer.unwrap_or_else(|e| panic!("{method} {url}: {e}"));
    let status = answer.status().as_u16();
    let text = answer
        .body_mut()
        .with_config()
        .limit(1 << 20)
        .read_to_string()
        .unwrap_or_default();
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

fn create_token(base: &str, max_uses: Option<u32>) -> String {
    let mut body = json!({"name": "fleet", "organization": "acme"});
    if let Some(max_uses) = max_uses {
        body["max_uses"] = max_uses.into();
    }
    let (status, token) = call(
        &agent(),
        "POST",
        &format!("{base}/v1/admin/enrollment-tokens"),
        &[("authorization", &format!("Bearer {ADMIN_TOKEN}"))],
        body.to_string().as_bytes(),
    );
    assert_eq!(status, 201, "{token}");
    token["token"].as_str().unwrap().to_string()
}

#[test]
fn five_hundred_agents_enroll_at_once_and_all_keys_work() {
    const AGENTS: usize = 500;
    let server = start("load", "100000:100000");
    let token = Arc::new(create_token(&server.base, Some(AGENTS as u32)));
    let barrier = Arc::new(Barrier::new(AGENTS));
    let started = Instant::now();
    let enrolled: Vec<(String, String)> = (0..AGENTS)
        .map(|n| {
            let (base, token, barrier) = (server.base.clone(), token.clone(), barrier.clone());
            std::thread::spawn(move || {
                let agent = agent();
                barrier.wait();
                let body = json!({"agent_id": format!("agent-{n}"), "metadata": {"n": n}});
                let (status, answer) = call(
                    &agent,
                    "POST",
                    &format!("{base}/v1/enroll"),
                    &[("authorization", &format!("ApiKey {token}"))],
                    body.to_string().as_bytes(),
                );
                assert_eq!(status, 200, "agent-{n}: {answer}");
                (
                    format!("agent-{n}"),
                    answer["api_key"].as_str().unwrap().to_string(),
                )
            })
        })
        .collect::<Vec<_>>()
        .into_iter()
        .map(|thread| thread.join().expect("an enrollment thread"))
        .collect();
    let took = started.elapsed();
    let distinct: std::collections::HashSet<&str> =
        enrolled.iter().map(|(_, key)| key.as_str()).collect();
    assert_eq!(distinct.len(), AGENTS, "keys repeat");
    // Then every agent calls whoami in a loop, 50 clients at a time, for a bounded while.
    let enrolled = Arc::new(enrolled);
    let calls = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let deadline = Instant::now() + Duration::from_secs(3);
    let clients: Vec<_> = (0..50)
        .map(|c| {
            let (base, enrolled, calls) = (server.base.clone(), enrolled.clone(), calls.clone());
            std::thread::spawn(move || {
                let agent = agent();
                let mut i = c;
                while Instant::now() < deadline {
                    let (id, key) = &enrolled[i % AGENTS];
                    let (status, me) = call(
                        &agent,
                        "GET",
                        &format!("{base}/v1/whoami"),
                        &[("authorization", &format!("ApiKey {key}"))],
                        b"",
                    );
                    assert_eq!((status, me["agent_id"].as_str()), (200, Some(id.as_str())));
                    calls.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    i += 50;
                }
            })
        })
        .collect();
    for client in clients {
        client.join().expect("a whoami client");
    }
    let calls = calls.load(std::sync::atomic::Ordering::Relaxed);
    println!(
        "{AGENTS} agents enrolled at once in {:.2} s, distinct keys; then {calls} whoami calls by 50 clients in 3 s, all 200",
        took.as_secs_f64()
    );
    assert!(calls >= AGENTS, "every agent called whoami: {calls}");
}

/// A tiny deterministic generator for the fuzzed inputs (xorshift64*).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| self.next() as u8).collect()
    }
}

#[test]
fn bad_input_on_every_route_is_a_4xx_naming_the_field() {
    let server = start("fuzz", "100000:100000");
    let base = &server.base;
    let agent = agent();
    let token = create_token(base, None);
    let admin = format!("Bearer {ADMIN_TOKEN}");
    let enroll = |body: &[u8]| {
        call(
            &agent,
            "POST",
            &format!("{base}/v1/enroll"),
            &[("authorization", &format!("ApiKey {token}"))],
            body,
        )
    };
    // Each field of the enrollment, wrong, by the field named in the answer.
    let cases: Vec<(Value, &str)> = vec![
        (json!({}), "agent_id"),
        (json!({"agent_id": 7}), "agent_id"),
        (json!({"agent_id": ""}), "agent_id"),
        (json!({"agent_id": "x".repeat(129)}), "agent_id"),
        (json!({"agent_id": "a\nb"}), "agent_id"),
        (json!({"agent_id": "a/b"}), "agent_id"),
        (json!({"agent_id": "ok", "metadata": "text"}), "metadata"),
        (
            json!({"agent_id": "ok", "metadata": {"big": "x".repeat(9000)}}),
            "metadata",
        ),
        (json!({"agent_id": "ok", "key_type": "rsa"}), "key_type"),
        (json!({"agent_id": "ok", "key_type": 1}), "key_type"),
        (
            json!({"agent_id": "ok", "replace_token": 1}),
            "replace_token",
        ),
        (json!({"agent_id": "ok", "extra": 1}), "extra"),
    ];
    for (body, field) in &cases {
        let (status, answer) = enroll(body.to_string().as_bytes());
        assert_eq!(status, 400, "{body}: {answer}");
        assert_eq!(answer["field"].as_str(), Some(*field), "{body}: {answer}");
    }
    // The admin's token fields.
    let create = |body: &Value| {
        call(
            &agent,
            "POST",
            &format!("{base}/v1/admin/enrollment-tokens"),
            &[("authorization", &admin)],
            body.to_string().as_bytes(),
        )
    };
    for (body, field) in [
        (json!({"organization": "o"}), "name"),
        (json!({"name": "n"}), "organization"),
        (json!({"name": "", "organization": "o"}), "name"),
        (
            json!({"name": "n", "organization": "\u{7}"}),
            "organization",
        ),
        (
            json!({"name": "n", "organization": "o", "max_uses": 0}),
            "max_uses",
        ),
        (
            json!({"name": "n", "organization": "o", "expires_in": 0}),
            "expires_in",
        ),
        (
            json!({"name": "n", "organization": "o", "max_uses": -1}),
            "max_uses",
        ),
    ] {
        let (status, answer) = create(&body);
        assert_eq!(status, 400, "{body}: {answer}");
        assert_eq!(answer["field"].as_str(), Some(field), "{body}: {answer}");
    }
    // The login's proof fields: each missing, or not base64.
    let login = |body: &[u8], headers: &[(&str, &str)]| {
        call(
            &agent,
            "POST",
            &format!("{base}/v1/login/aws"),
            headers,
            body,
        )
    };
    let vault = json!({
        "iam_http_request_method": "POST",
        "iam_request_url": "aHR0cDovLzEyNy4wLjAuMTo5Lw==",
        "iam_request_body": "QWN0aW9uPUdldENhbGxlcklkZW50aXR5JlZlcnNpb249MjAxMS0wNi0xNQ==",
        "iam_request_headers": "e30=",
    });
    for field in [
        "iam_http_request_method",
        "iam_request_url",
        "iam_request_body",
        "iam_request_headers",
    ] {
        let mut missing = vault.clone();
        missing.as_object_mut().unwrap().remove(field);
        let (status, answer) = login(missing.to_string().as_bytes(), &[]);
        assert_eq!(
            (status, answer["field"].as_str()),
            (400, Some(field)),
            "{answer}"
        );
        if field != "iam_http_request_method" {
            let mut bad = vault.clone();
            bad[field] = Value::String("not base64!".into());
            let (status, answer) = login(bad.to_string().as_bytes(), &[]);
            assert_eq!(
                (status, answer["field"].as_str()),
                (400, Some(field)),
                "{answer}"
            );
        }
    }
    let (status, answer) = login(b"", &[("authorization", "Delegated x|y")]);
    assert_eq!(status, 400, "{answer}");
    assert!(answer["field"].is_string(), "{answer}");
    // Random bytes at every route, with and without credentials: never a 5xx, always JSON.
    let mut rng = Rng(0x5eed_1234_5678_9abc);
    let routes = [
        ("POST", "/v1/login/aws"),
        ("POST", "/v1/enroll"),
        ("GET", "/v1/whoami"),
        ("POST", "/v1/admin/enrollment-tokens"),
        ("DELETE", "/v1/admin/agents/x"),
    ];
    let authorizations = [
        String::new(),
        format!("ApiKey {token}"),
        admin.clone(),
        "Delegated ".to_string(),
        "AWS4-HMAC-SHA256 Credential=AKEXAMPLE/20260101/us-east-1/exchange/aws4_request, SignedHeaders=host, Signature=00".to_string(),
    ];
    let mut answered = 0;
    for round in 0..300 {
        let (method, path) = routes[round % routes.len()];
        let authorization = &authorizations[(round / routes.len()) % authorizations.len()];
        let length = (rng.next() % 600) as usize;
        let mut body = rng.bytes(length);
        if round % 3 == 0 {
            // Near-JSON: a valid enrollment with random bytes spliced in.
            let mut text = br#"{"agent_id":"fuzz","metadata":{"k":"v"}}"#.to_vec();
            let at = (rng.next() as usize) % text.len();
            text.splice(at..at, rng.bytes(3));
            body = text;
        }
        let headers: Vec<(&str, &str)> = if authorization.is_empty() {
            vec![]
        } else {
            vec![("authorization", authorization.as_str())]
        };
        let (status, answer) = call(&agent, method, &format!("{base}{path}"), &headers, &body);
        assert!(
            (400..500).contains(&status) || status == 200 && path == "/v1/enroll",
            "{method} {path} {authorization:?} {body:?}: {status} {answer}"
        );
        assert!(answer.is_object(), "{status}: {answer}");
        answered += 1;
    }
    // A body over the limit.
    let (status, _) = call(
        &agent,
        "POST",
        &format!("{base}/v1/enroll"),
        &[("authorization", &format!("ApiKey {token}"))],
        &vec![b' '; 65 * 1024],
    );
    assert_eq!(status, 413);
    println!("{answered} fuzzed requests: every answer 4xx JSON (or an enrollment)");
}

#[test]
fn login_and_enroll_are_rate_limited_per_client() {
    let server = start("rate", "1:3");
    let agent = agent();
    let statuses: Vec<u16> = (0..4)
        .map(|_| {
            call(
                &agent,
                "POST",
                &format!("{}/v1/login/aws", server.base),
                &[],
                b"{}",
            )
            .0
        })
        .collect();
    assert_eq!(statuses, [400, 400, 400, 429]);
    let (status, answer) = call(
        &agent,
        "POST",
        &format!("{}/v1/enroll", server.base),
        &[],
        b"{}",
    );
    assert_eq!(
        (status, answer["error"].as_str()),
        (429, Some("rate_limited"))
    );
    // Other routes are not limited.
    let (status, _) = call(&agent, "GET", &format!("{}/healthz", server.base), &[], b"");
    assert_eq!(status, 200);
}
