//! The IMDSv2 and container credential providers against real HTTP servers on 127.0.0.1 that
//! these tests run: token handshake, missing tokens, timeouts, server errors, malformed answers,
//! expiring credentials.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use sigv4_host::credentials::{
    ContainerProvider, CredentialsCache, ImdsProvider, Provider, ProviderError,
};

/// A request as the server saw it.
#[derive(Clone, Debug)]
struct Seen {
    method: String,
    path: String,
    headers: HashMap<String, String>,
}

type Handler = dyn Fn(&Seen) -> (u16, String) + Send + Sync;

/// A one-purpose HTTP/1.1 server on a free loopback port, answering with `handler`; `None` from
/// `stall` makes it accept and never answer. Returns its base URL and every request it saw.
fn serve(handler: Arc<Handler>, stall: bool) -> (String, Arc<Mutex<Vec<Seen>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = seen.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            if stall {
                std::thread::sleep(Duration::from_secs(5));
                continue;
            }
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut line = String::new();
            reader.read_line(&mut line).unwrap();
            let mut parts = line.split_whitespace();
            let (method, path) = (
                parts.next().unwrap_or_default().to_string(),
                parts.next().unwrap_or_default().to_string(),
            );
            let mut headers = HashMap::new();
            loop {
                let mut header = String::new();
                reader.read_line(&mut header).unwrap();
                let header = header.trim_end();
                if header.is_empty() {
                    break;
                }
                if let Some((name, value)) = header.split_once(':') {
                    headers.insert(name.trim().to_ascii_lowercase(), value.trim().to_string());
                }
            }
            let request = Seen {
                method,
                path,
                headers,
            };
            log.lock().unwrap().push(request.clone());
            let (status, body) = handler(&request);
            let _ = write!(
                stream,
                "HTTP/1.1 {status} X\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
    (url, seen)
}

fn rfc3339(t: SystemTime) -> String {
    let secs = t.duration_since(SystemTime::UNIX_EPOCH).unwrap().as_secs();
    let date = sigv4_core::Timestamp::from_unix_seconds(secs)
        .unwrap()
        .amz_date();
    let d = std::str::from_utf8(&date).unwrap();
    format!(
        "{}-{}-{}T{}:{}:{}Z",
        &d[0..4],
        &d[4..6],
        &d[6..8],
        &d[9..11],
        &d[11..13],
        &d[13..15]
    )
}

fn credentials_json(akid: &str, lifetime: Duration) -> String {
    format!(
        r#"{{"Code":"Success","Type":"AWS-HMAC","AccessKeyId":"{akid}","SecretAccessKey":"SECRET","Token":"TOKEN","Expiration":"{}"}}"#,
        rfc3339(SystemTime::now() + lifetime)
    )
}

/// An IMDSv2 server: the token PUT needs a TTL; every GET needs that token.
fn imds(
    credentials: impl Fn(usize) -> (u16, String) + Send + Sync + 'static,
) -> (String, Arc<Mutex<Vec<Seen>>>) {
    let calls = AtomicUsize::new(0);
    serve(
        Arc::new(move |r: &Seen| {
            if r.method == "PUT" && r.path == "/latest/api/token" {
                return match r.headers.get("x-aws-ec2-metadata-token-ttl-seconds") {
                    Some(_) => (200, "SESSIONTOKEN".into()),
                    None => (400, "missing TTL".into()),
                };
            }
            if r.headers
                .get("x-aws-ec2-metadata-token")
                .map(String::as_str)
                != Some("SESSIONTOKEN")
            {
                return (401, String::new());
            }
            match r.path.as_str() {
                "/latest/meta-data/iam/security-credentials/" => (200, "agent-role\n".into()),
                "/latest/meta-data/iam/security-credentials/agent-role" => {
                    credentials(calls.fetch_add(1, Ordering::SeqCst))
                }
                "/latest/meta-data/placement/region" => (200, "eu-west-3".into()),
                _ => (404, String::new()),
            }
        }),
        false,
    )
}

fn imds_provider(url: &str) -> ImdsProvider {
    let env = HashMap::from([(
        "AWS_EC2_METADATA_SERVICE_ENDPOINT".to_string(),
        url.to_string(),
    )]);
    ImdsProvider::from_env(&env).with_timeout(Duration::from_millis(500))
}

#[test]
fn imdsv2_token_handshake_and_credentials() {
    let (url, seen) = imds(|_| (200, credentials_json("AKIDIMDS", Duration::from_secs(3600))));
    let provider = imds_provider(&url);
    let credentials = provider.provide().unwrap();
    assert_eq!(
        (credentials.access_key_id.as_str(), credentials.provider),
        ("AKIDIMDS", "imds")
    );
    assert_eq!(
        credentials.session_token.as_deref().map(String::as_str),
        Some("TOKEN")
    );
    assert!(credentials.expiration.is_some());
    assert_eq!(provider.region().unwrap(), "eu-west-3");
    let seen = seen.lock().unwrap();
    assert_eq!(seen[0].method, "PUT");
    assert_eq!(
        seen[0].headers["x-aws-ec2-metadata-token-ttl-seconds"],
        "21600"
    );
    let gets: Vec<&Seen> = seen.iter().filter(|r| r.method == "GET").collect();
    assert_eq!(gets.len(), 3, "role, credentials, region");
    assert!(
        gets.iter()
            .all(|r| r.headers["x-aws-ec2-metadata-token"] == "SESSIONTOKEN")
    );
}

#[test]
fn imds_without_a_token_is_refused_and_v1_fallback_is_off() {
    // A server that refuses the token request: IMDSv2 is required, the provider must not fall
    // back to token-less IMDSv1 (which this server also refuses with 401).
    let (url, seen) = serve(
        Arc::new(|r: &Seen| {
            if r.method == "PUT" {
                (403, String::new())
            } else {
                (401, String::new())
            }
        }),
        false,
    );
    let error = imds_provider(&url).provide().unwrap_err();
    assert!(
        matches!(&error, ProviderError::Failed(why) if why.contains("403") && why.contains("fallback is off")),
        "{error}"
    );
    assert_eq!(seen.lock().unwrap().len(), 1, "no request without a token");
    let mut v1 = imds_provider(&url);
    v1.allow_v1_fallback = true;
    let error = v1.provide().unwrap_err();
    assert!(
        matches!(&error, ProviderError::Failed(why) if why.contains("401")),
        "{error}"
    );
}

#[test]
fn imds_timeouts_do_not_hang_the_chain() {
    let (url, _) = serve(Arc::new(|_: &Seen| (200, String::new())), true);
    let started = Instant::now();
    let error = imds_provider(&url).provide().unwrap_err();
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
    assert!(
        matches!(&error, ProviderError::NotConfigured(why) if why.contains("no instance metadata service")),
        "{error}"
    );
    let disabled = ImdsProvider::from_env(&HashMap::from([(
        "AWS_EC2_METADATA_DISABLED".to_string(),
        "true".to_string(),
    )]));
    assert!(matches!(
        disabled.provide(),
        Err(ProviderError::NotConfigured(_))
    ));
}

#[test]
fn imds_server_errors_and_malformed_documents_are_failures() {
    let (url, _) = imds(|_| (500, "oops".into()));
    let error = imds_provider(&url).provide().unwrap_err();
    assert!(
        matches!(&error, ProviderError::Failed(why) if why.contains("500")),
        "{error}"
    );
    let (url, _) = imds(|_| (200, "{not json".into()));
    let error = imds_provider(&url).provide().unwrap_err();
    assert!(
        matches!(&error, ProviderError::Failed(why) if why.contains("not JSON")),
        "{error}"
    );
    let (url, _) = imds(|_| (200, r#"{"Code":"AssumeRoleUnauthorizedAccess"}"#.into()));
    let error = imds_provider(&url).provide().unwrap_err();
    assert!(
        matches!(&error, ProviderError::Failed(why) if why.contains("AssumeRoleUnauthorizedAccess")),
        "{error}"
    );
}

#[test]
fn expiring_imds_credentials_are_refreshed_by_the_cache() {
    // Credentials valid for 4 minutes are inside the 5-minute refresh window: every get refreshes,
    // and each answer is the newest.
    let (url, _) = imds(|call| {
        (
            200,
            credentials_json(&format!("AKID{call}"), Duration::from_secs(240)),
        )
    });
    let cache = CredentialsCache::new(Box::new(imds_provider(&url)));
    assert_eq!(cache.get().unwrap().access_key_id, "AKID0");
    assert_eq!(cache.get().unwrap().access_key_id, "AKID1");
    // An hour-long credential is served from the cache.
    let (url, seen) = imds(|call| {
        (
            200,
            credentials_json(&format!("AKID{call}"), Duration::from_secs(3600)),
        )
    });
    let cache = CredentialsCache::new(Box::new(imds_provider(&url)));
    assert_eq!(cache.get().unwrap().access_key_id, "AKID0");
    assert_eq!(cache.get().unwrap().access_key_id, "AKID0");
    assert_eq!(
        seen.lock().unwrap().len(),
        3,
        "token, role, credentials: once"
    );
    // Already-expired credentials are never handed out.
    let (url, _) = imds(|_| (200, credentials_json("AKIDOLD", Duration::ZERO)));
    assert!(
        CredentialsCache::new(Box::new(imds_provider(&url)))
            .get()
            .is_err()
    );
}

#[test]
fn container_endpoint_with_authorization_token_from_env_and_file() {
    let (url, seen) = serve(
        Arc::new(
            |r: &Seen| match r.headers.get("authorization").map(String::as_str) {
                Some("Bearer-ish token") => {
                    (200, credentials_json("AKIDECS", Duration::from_secs(3600)))
                }
                _ => (401, String::new()),
            },
        ),
        false,
    );
    let full_uri = format!("{url}/v2/credentials/abc");
    let env = |pairs: &[(&str, &str)]| {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect::<HashMap<_, _>>()
    };
    let with_token = ContainerProvider::from_env(env(&[
        ("AWS_CONTAINER_CREDENTIALS_FULL_URI", &full_uri),
        ("AWS_CONTAINER_AUTHORIZATION_TOKEN", "Bearer-ish token"),
    ]));
    assert_eq!(with_token.provide().unwrap().access_key_id, "AKIDECS");
    assert_eq!(seen.lock().unwrap()[0].path, "/v2/credentials/abc");
    let token_file = std::env::temp_dir().join(format!("sigv4-ecs-token-{}", std::process::id()));
    std::fs::write(&token_file, "Bearer-ish token\n").unwrap();
    let from_file = ContainerProvider::from_env(env(&[
        ("AWS_CONTAINER_CREDENTIALS_FULL_URI", &full_uri),
        ("AWS_CONTAINER_AUTHORIZATION_TOKEN", "wrong"),
        (
            "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE",
            token_file.to_str().unwrap(),
        ),
    ]));
    assert_eq!(from_file.provide().unwrap().access_key_id, "AKIDECS");
    std::fs::remove_file(&token_file).unwrap();
    let without =
        ContainerProvider::from_env(env(&[("AWS_CONTAINER_CREDENTIALS_FULL_URI", &full_uri)]));
    assert!(matches!(without.provide(), Err(ProviderError::Failed(why)) if why.contains("401")));
    let remote = ContainerProvider::from_env(env(&[(
        "AWS_CONTAINER_CREDENTIALS_FULL_URI",
        "http://example.com/creds",
    )]));
    assert!(
        matches!(remote.provide(), Err(ProviderError::Failed(why)) if why.contains("neither loopback"))
    );
    assert!(matches!(
        ContainerProvider::from_env(env(&[])).provide(),
        Err(ProviderError::NotConfigured(_))
    ));
}
