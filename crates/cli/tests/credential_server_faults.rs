//! `sigv4 credential-server` when its upstream misbehaves: STS down, slow, answering 500 or
//! malformed XML, credentials close to expiry; and under load. The STS here is the test's own
//! (a fault injector: what to answer is the test's choice), counting its calls. What must hold:
//! still-valid credentials keep being served while a refresh fails; expired ones never are (the
//! answer is then a 500 naming the upstream failure); one upstream call per refresh, whatever
//! the number of clients.

mod support;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use support::{Server, free_port, start_clean};

/// What the test's STS answers.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Answer {
    /// Credentials that expire this many seconds after the call.
    Credentials(u64),
    Status500,
    Malformed,
    /// Nothing for this long (longer than the server's STS timeout).
    Silence(Duration),
}

struct FakeSts {
    url: String,
    answer: Arc<Mutex<Answer>>,
    calls: Arc<AtomicU32>,
}

impl FakeSts {
    fn start(answer: Answer) -> FakeSts {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let answer = Arc::new(Mutex::new(answer));
        let calls = Arc::new(AtomicU32::new(0));
        let (shared, counter) = (answer.clone(), calls.clone());
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let (shared, counter) = (shared.clone(), counter.clone());
                std::thread::spawn(move || {
                    let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
                    let mut reader = BufReader::new(stream);
                    let mut length = 0;
                    loop {
                        let mut line = String::new();
                        if reader.read_line(&mut line).unwrap_or(0) == 0 {
                            return;
                        }
                        if line.trim().is_empty() {
                            break;
                        }
                        if let Some((name, value)) = line.split_once(':')
                            && name.eq_ignore_ascii_case("content-length")
                        {
                            length = value.trim().parse().unwrap_or(0);
                        }
                    }
                    let mut body = vec![0; length];
                    let _ = reader.read_exact(&mut body);
                    let n = counter.fetch_add(1, Ordering::SeqCst) + 1;
                    let answer = *shared.lock().unwrap();
                    let (status, xml) = match answer {
                        Answer::Credentials(lifetime) => (200, credentials_xml(n, lifetime)),
                        Answer::Status500 => (
                            500,
                            "<ErrorResponse><Error><Code>InternalFailure</Code><Message>STS broke</Message></Error></ErrorResponse>".into(),
                        ),
                        Answer::Malformed => (200, "<AssumeRoleResponse><AssumeRoleResult>".into()),
                        Answer::Silence(how_long) => {
                            std::thread::sleep(how_long);
                            return;
                        }
                    };
                    let mut stream = reader.into_inner();
                    let _ = write!(
                        stream,
                        "HTTP/1.1 {status} X\r\nContent-Type: text/xml\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{xml}",
                        xml.len()
                    );
                });
            }
        });
        FakeSts { url, answer, calls }
    }

    fn answer(&self, answer: Answer) {
        *self.answer.lock().unwrap() = answer;
    }

    fn calls(&self) -> u32 {
        self.calls.load(Ordering::SeqCst)
    }
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

fn rfc3339(unix: u64) -> String {
    let time = sigv4_core::Timestamp::from_unix_seconds(unix).unwrap();
    String::from_utf8(time.rfc3339().to_vec()).unwrap()
}

/// The `n`th credentials, expiring `lifetime` seconds from now.
fn credentials_xml(n: u32, lifetime: u64) -> String {
    format!(
        "<AssumeRoleResponse><AssumeRoleResult><Credentials><AccessKeyId>ASIAFAKE{n:08}</AccessKeyId><SecretAccessKey>secret-{n}</SecretAccessKey><SessionToken>token-{n}</SessionToken><Expiration>{}</Expiration></Credentials></AssumeRoleResult></AssumeRoleResponse>",
        rfc3339(now() + lifetime)
    )
}

/// Our server in container mode (one request a fetch: simplest to count), assuming a role at
/// the test's STS.
fn credential_server(sts: &FakeSts) -> Server {
    let port = free_port();
    let bind = format!("127.0.0.1:{port}");
    start_clean(
        &PathBuf::from(env!("CARGO_BIN_EXE_sigv4")),
        &[
            "credential-server",
            "--bind-address",
            &bind,
            "--mode",
            "container",
            "--authorization-token",
            "t",
            "--role-arn",
            "arn:aws:iam::123456789012:role/faulty",
        ],
        &[
            ("AWS_ACCESS_KEY_ID", "AKIDSOURCE"),
            ("AWS_SECRET_ACCESS_KEY", "source-secret"),
            ("AWS_ENDPOINT_URL_STS", &sts.url),
            ("AWS_REGION", "us-east-1"),
            ("AWS_EC2_METADATA_DISABLED", "true"),
            (
                "HOME",
                std::env::temp_dir()
                    .join("sigv4-e2e-home")
                    .to_str()
                    .unwrap(),
            ),
        ],
        port,
    )
}

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(30)))
        .build()
        .into()
}

/// GET the credentials: status and JSON body.
fn fetch(agent: &ureq::Agent, server: &Server) -> (u16, serde_json::Value) {
    let mut answer = agent
        .get(format!("{}/creds", server.url))
        .header("authorization", "t")
        .call()
        .expect("the server answers");
    let status = answer.status().as_u16();
    let body = answer.body_mut().read_to_string().unwrap_or_default();
    (status, serde_json::from_str(&body).unwrap_or_default())
}

#[test]
fn each_upstream_failure_is_a_500_naming_it() {
    let agent = agent();
    let cases = [
        (
            Answer::Status500,
            "STS: answered 500: InternalFailure STS broke",
        ),
        (Answer::Malformed, "STS: the credentials lack AccessKeyId"),
        (
            Answer::Silence(Duration::from_secs(8)),
            ": timeout: receive response",
        ),
    ];
    for (answer, named) in cases {
        let sts = FakeSts::start(answer);
        let mut server = credential_server(&sts);
        let started = Instant::now();
        let (status, body) = fetch(&agent, &server);
        assert_eq!(status, 500, "{answer:?}: {body}\n{}", server.state());
        assert_eq!(body["Code"], "CredentialsUnavailable");
        let message = body["Message"].as_str().unwrap();
        assert!(
            message.starts_with("no valid credentials: the upstream failed: ")
                && !message.contains("failed: failed")
                && message.contains(named),
            "{answer:?}: {message}"
        );
        println!("{answer:?}: {message}");
        assert!(started.elapsed() < Duration::from_secs(12), "{answer:?}");
        assert!(!message.contains("source-secret"));
    }
    // Credentials expired when they arrive: a failure, retried with backoff, not in a loop.
    let sts = FakeSts::start(Answer::Credentials(0));
    let server = credential_server(&sts);
    let (status, body) = fetch(&agent, &server);
    assert_eq!(status, 500, "{body}");
    assert!(
        body["Message"]
            .as_str()
            .unwrap()
            .contains("the credentials fetched had expired already"),
        "{body}"
    );
    std::thread::sleep(Duration::from_secs(3));
    assert!(sts.calls() <= 3, "{} STS calls in 3 s", sts.calls());
    // Down: nothing listens where STS should be.
    let dead = FakeSts {
        url: format!("http://127.0.0.1:{}", free_port()),
        answer: Arc::new(Mutex::new(Answer::Status500)),
        calls: Arc::new(AtomicU32::new(0)),
    };
    let server = credential_server(&dead);
    let (status, body) = fetch(&agent, &server);
    assert_eq!(status, 500, "{body}");
    assert!(
        body["Message"].as_str().unwrap().contains(&dead.url),
        "{body}"
    );
}

/// Credentials that live 6 s: refreshed with a third left; then STS breaks. The old ones are
/// served until they expire, never after: from then on the answer is the upstream failure.
#[test]
fn valid_credentials_are_served_while_refreshes_fail_and_expired_ones_never() {
    let sts = FakeSts::start(Answer::Credentials(6));
    let mut server = credential_server(&sts);
    let agent = agent();
    let (status, first) = fetch(&agent, &server);
    assert_eq!(status, 200, "{first}\n{}", server.state());
    // Wait for the refresh (due with 2 s left, less up to 0.5 s of jitter).
    let deadline = Instant::now() + Duration::from_secs(10);
    while sts.calls() < 2 {
        assert!(Instant::now() < deadline, "no refresh: {}", server.state());
        std::thread::sleep(Duration::from_millis(50));
    }
    let (_, second) = fetch(&agent, &server);
    assert_ne!(
        second["AccessKeyId"], first["AccessKeyId"],
        "refreshed ahead"
    );
    sts.answer(Answer::Status500);
    let expires = rfc3339_seconds(second["Expiration"].as_str().unwrap());
    let (mut served, mut refused) = (0, 0);
    let deadline = Instant::now() + Duration::from_secs(12);
    while Instant::now() < deadline {
        let asked = now();
        let (status, body) = fetch(&agent, &server);
        match status {
            200 => {
                assert_eq!(refused, 0, "served again after refusing: {body}");
                assert!(
                    asked < expires,
                    "expired credentials served at {asked}: {body}"
                );
                served += 1;
            }
            500 => {
                assert!(now() + 1 >= expires, "refused while still valid: {body}");
                assert!(
                    body["Message"]
                        .as_str()
                        .unwrap()
                        .contains("answered 500: InternalFailure"),
                    "{body}"
                );
                refused += 1;
            }
            other => panic!("{other}: {body}"),
        }
        if refused >= 5 {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(
        served > 0 && refused >= 5,
        "served {served}, refused {refused}: {}",
        server.state()
    );
    // The failures were retried with backoff, not in a loop.
    assert!(sts.calls() < 15, "{} calls", sts.calls());
}

fn rfc3339_seconds(text: &str) -> u64 {
    sigv4_core::Timestamp::parse_rfc3339(text)
        .unwrap()
        .unix_seconds()
}

/// 200 clients asking all the time for a minute, credentials living 15 s (a refresh every 10
/// s or so): every answer is 200, and STS is called once per refresh, whatever the number of
/// clients.
#[test]
fn two_hundred_clients_for_a_minute_make_one_upstream_call_per_refresh() {
    let sts = FakeSts::start(Answer::Credentials(15));
    let mut server = credential_server(&sts);
    let (status, _) = fetch(&agent(), &server);
    assert_eq!(status, 200, "{}", server.state());
    let until = Instant::now() + Duration::from_secs(60);
    let answered = Arc::new(AtomicU64::new(0));
    let keys = Arc::new(Mutex::new(std::collections::BTreeSet::new()));
    let failures = Arc::new(Mutex::new(Vec::new()));
    let url = format!("{}/creds", server.url);
    let clients: Vec<_> = (0..200)
        .map(|_| {
            let (answered, keys, failures, url) = (
                answered.clone(),
                keys.clone(),
                failures.clone(),
                url.clone(),
            );
            std::thread::spawn(move || {
                let agent = agent();
                let mut seen = std::collections::BTreeSet::new();
                while Instant::now() < until {
                    match agent.get(&url).header("authorization", "t").call() {
                        Ok(mut answer) if answer.status() == 200 => {
                            let body = answer.body_mut().read_to_string().unwrap_or_default();
                            let body: serde_json::Value =
                                serde_json::from_str(&body).unwrap_or_default();
                            seen.insert(body["AccessKeyId"].as_str().unwrap_or("?").to_string());
                            answered.fetch_add(1, Ordering::Relaxed);
                        }
                        Ok(answer) => failures.lock().unwrap().push(answer.status().to_string()),
                        Err(e) => failures.lock().unwrap().push(e.to_string()),
                    }
                    std::thread::sleep(Duration::from_millis(20));
                }
                keys.lock().unwrap().extend(seen);
            })
        })
        .collect();
    for client in clients {
        client.join().unwrap();
    }
    let failures = failures.lock().unwrap();
    assert!(
        failures.is_empty(),
        "{} failed: {:?}",
        failures.len(),
        &failures[..failures.len().min(20)]
    );
    let calls = sts.calls();
    let metrics = agent()
        .get(format!("{}/metrics", server.url))
        .call()
        .unwrap()
        .body_mut()
        .read_to_string()
        .unwrap();
    let refreshes = metrics
        .lines()
        .find_map(|l| l.strip_prefix("credential_server_refreshes_total "))
        .and_then(|n| n.parse::<u32>().ok())
        .unwrap_or_else(|| panic!("{metrics}"));
    let keys = keys.lock().unwrap();
    println!(
        "credential server under load: {} answers to 200 clients in 60 s, {calls} STS calls, {refreshes} refreshes, {} credentials seen",
        answered.load(Ordering::Relaxed),
        keys.len()
    );
    assert_eq!(calls, refreshes, "one STS call per refresh");
    assert!(
        (5..=9).contains(&calls),
        "{calls} refreshes in a minute of 15 s credentials"
    );
    assert_eq!(
        keys.len() as u32,
        calls,
        "every refresh's credentials were served: {keys:?}"
    );
    assert!(
        server.child.try_wait().unwrap().is_none(),
        "{}",
        server.state()
    );
}
