//! The agent component in wasmtime against HTTP servers on 127.0.0.1 that these tests run: it
//! signs with the host's credentials at the host's wall-clock time (the same signature as the
//! native core), sends through wasi:http, reads the answer, and reports timeouts, refused
//! connections and missing credentials as typed errors.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use sigv4_host::agent::{
    AGENT_COMPONENT, AgentComponent, AgentError, AgentHost, ClientConfig, ClientError,
    HostTimeouts, Timeouts,
};
use sigv4_host::credentials::{
    AwsCredentials, CredentialsCache, Provider, ProviderChain, StaticProvider,
};
use sigv4_host::{Header, Payload, Request};
use wasmtime::component::Component;
use wasmtime::{Config, Engine};
use zeroize::Zeroizing;

const TIME: u64 = 1_700_000_000;
const SECRET: &str = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";

/// What the server received: the head's lines and the body.
type Received = Arc<Mutex<Vec<(Vec<String>, Vec<u8>)>>>;

/// An HTTP/1.1 server on a free loopback port. It answers `200 hello` after reading each
/// request, or with `stall` reads the request and never answers.
fn serve(stall: bool) -> (String, Received) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let received: Received = Arc::default();
    let log = received.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut head = Vec::new();
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 || line.trim_end().is_empty() {
                    break;
                }
                head.push(line.trim_end().to_string());
            }
            let length = head
                .iter()
                .find_map(|l| {
                    l.to_ascii_lowercase()
                        .strip_prefix("content-length:")
                        .map(|v| v.trim().parse().unwrap())
                })
                .unwrap_or(0);
            let mut body = vec![0; length];
            reader.read_exact(&mut body).unwrap();
            log.lock().unwrap().push((head, body));
            if stall {
                std::thread::sleep(Duration::from_secs(10));
                continue;
            }
            let _ = stream.write_all(
                b"HTTP/1.1 200 OK\r\ncontent-length: 5\r\nx-answer: yes\r\nconnection: close\r\n\r\nhello",
            );
        }
    });
    (base, received)
}

fn credentials(provider: Box<dyn Provider>) -> Arc<CredentialsCache> {
    Arc::new(CredentialsCache::new(provider))
}

fn static_credentials() -> Arc<CredentialsCache> {
    credentials(Box::new(StaticProvider(AwsCredentials {
        access_key_id: "AKIDEXAMPLE".into(),
        secret_access_key: Zeroizing::new(SECRET.into()),
        session_token: Some(Zeroizing::new("TOKEN".into())),
        expiration: None,
        provider: "static",
    })))
}

fn config(timeouts: Timeouts) -> ClientConfig {
    ClientConfig {
        region: "us-east-1".into(),
        service: "execute-api".into(),
        algorithm: None,
        settings: None,
        timeouts,
    }
}

fn no_timeouts() -> Timeouts {
    Timeouts {
        connect_ms: 0,
        first_byte_ms: 0,
        between_bytes_ms: 0,
    }
}

fn host(credentials: Arc<CredentialsCache>, timeouts: HostTimeouts) -> AgentHost {
    AgentHost {
        credentials,
        timeouts,
        fixed_time: Some(TIME),
    }
}

fn post(url: &str) -> Request {
    Request {
        method: "POST".into(),
        uri: url.into(),
        headers: vec![Header {
            name: "content-type".into(),
            value: "application/json".into(),
        }],
        payload: Payload::Bytes(br#"{"hello":"world"}"#.to_vec()),
    }
}

/// The same request signed by the native core, at the same time, with the same credentials.
fn native_authorization(url: &str) -> String {
    let credentials = sigv4_core::Credentials::new("AKIDEXAMPLE", SECRET, Some("TOKEN")).unwrap();
    let body = br#"{"hello":"world"}"#;
    let request = sigv4_core::Request {
        method: "POST",
        uri: url,
        headers: &[("content-type", "application/json")],
        payload: sigv4_core::Payload::Bytes(body),
    };
    let params = sigv4_core::SigningParams {
        credentials: &credentials,
        region: "us-east-1",
        service: "execute-api",
        time: sigv4_core::Timestamp::from_unix_seconds(TIME).unwrap(),
        settings: sigv4_core::Settings::default(),
    };
    let signed = sigv4_core::Signer::new()
        .sign(&request, &params, sigv4_core::Location::Headers)
        .unwrap();
    signed.authorization().unwrap().to_string()
}

#[test]
fn the_agent_imports_only_what_the_host_supplies() {
    let engine = Engine::new(&Config::new()).unwrap();
    let component = Component::new(&engine, AGENT_COMPONENT).unwrap();
    let ty = component.component_type();
    let mut imports: Vec<String> = ty.imports(&engine).map(|(n, _)| n.to_string()).collect();
    imports.sort();
    let exports: Vec<String> = ty.exports(&engine).map(|(n, _)| n.to_string()).collect();
    assert_eq!(
        imports,
        [
            "sigv4:core/host-credentials@0.1.0",
            "wasi:clocks/monotonic-clock@0.2.12",
            "wasi:clocks/wall-clock@0.2.12",
            "wasi:http/outgoing-handler@0.2.12",
            "wasi:http/types@0.2.12",
            "wasi:io/error@0.2.12",
            "wasi:io/poll@0.2.12",
            "wasi:io/streams@0.2.12",
        ]
    );
    assert_eq!(
        exports,
        ["sigv4:core/signing@0.1.0", "sigv4:core/client@0.1.0"]
    );
    println!(
        "agent component: {} bytes, imports: {imports:?}",
        AGENT_COMPONENT.len()
    );
}

#[test]
fn sends_a_request_signed_like_the_native_core_and_reads_the_answer() {
    let (base, received) = serve(false);
    let url = format!("{base}/prod/items?b=2&a=1");
    let agent = AgentComponent::new().unwrap();
    let mut client = agent
        .client(
            &config(no_timeouts()),
            host(static_credentials(), HostTimeouts::default()),
        )
        .unwrap();
    let response = client.send(&post(&url), None).unwrap();
    assert_eq!(response.status, 200);
    assert_eq!(response.body, b"hello");
    assert!(
        response
            .headers
            .iter()
            .any(|h| h.name == "x-answer" && h.value == "yes")
    );
    let (head, body) = received.lock().unwrap().remove(0);
    assert_eq!(head[0], "POST /prod/items?b=2&a=1 HTTP/1.1");
    assert_eq!(body, br#"{"hello":"world"}"#);
    let header = |name: &str| {
        head.iter()
            .find_map(|l| {
                l.split_once(':')
                    .filter(|(n, _)| n.eq_ignore_ascii_case(name))
            })
            .map(|(_, v)| v.trim().to_string())
            .unwrap_or_else(|| panic!("no {name} header in {head:?}"))
    };
    assert_eq!(header("host"), base.trim_start_matches("http://"));
    assert_eq!(header("x-amz-date"), "20231114T221320Z");
    assert_eq!(header("x-amz-security-token"), "TOKEN");
    assert_eq!(header("authorization"), native_authorization(&url));

    // sign and presign use the same clock and credentials.
    let signed = client.sign(&post(&url)).unwrap();
    assert!(
        signed
            .headers
            .iter()
            .any(|h| h.name == "authorization" && h.value == native_authorization(&url))
    );
    let url = client.presign(&post(&url), 60).unwrap().url.unwrap();
    assert!(url.contains("X-Amz-Date=20231114T221320Z"), "{url}");
    assert!(url.contains("X-Amz-Expires=60"), "{url}");
}

#[test]
fn a_server_that_never_answers_is_a_timeout() {
    let (base, _) = serve(true);
    let agent = AgentComponent::new().unwrap();
    // The client's own limit.
    let mut client = agent
        .client(
            &config(Timeouts {
                first_byte_ms: 300,
                ..no_timeouts()
            }),
            host(static_credentials(), HostTimeouts::default()),
        )
        .unwrap();
    let started = Instant::now();
    let error = client.send(&post(&format!("{base}/")), None).unwrap_err();
    assert!(
        matches!(error, AgentError::Client(ClientError::Timeout(_))),
        "{error}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    // The host's limit, where the client's configuration says 0.
    let mut client = agent
        .client(
            &config(no_timeouts()),
            host(
                static_credentials(),
                HostTimeouts {
                    first_byte: Duration::from_millis(300),
                    ..HostTimeouts::default()
                },
            ),
        )
        .unwrap();
    let started = Instant::now();
    let error = client.send(&post(&format!("{base}/")), None).unwrap_err();
    assert!(
        matches!(error, AgentError::Client(ClientError::Timeout(_))),
        "{error}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
}

#[test]
fn refused_connections_missing_credentials_and_bad_input_are_typed_errors() {
    let agent = AgentComponent::new().unwrap();
    // A port nobody listens on.
    let closed = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/", closed.local_addr().unwrap());
    drop(closed);
    let mut client = agent
        .client(
            &config(no_timeouts()),
            host(static_credentials(), HostTimeouts::default()),
        )
        .unwrap();
    let error = client.send(&post(&url), None).unwrap_err();
    assert!(
        matches!(error, AgentError::Client(ClientError::Http(_))),
        "{error}"
    );

    // No provider answers: the chain's reasons reach the caller, no request is sent.
    let (base, received) = serve(false);
    let empty = credentials(Box::new(ProviderChain::new(Vec::new())));
    let mut client = agent
        .client(&config(no_timeouts()), host(empty, HostTimeouts::default()))
        .unwrap();
    let error = client.send(&post(&format!("{base}/")), None).unwrap_err();
    assert!(
        matches!(error, AgentError::Client(ClientError::Credentials(_))),
        "{error}"
    );
    assert!(received.lock().unwrap().is_empty());

    // Origin-form URIs cannot be sent; a bad region is refused when the client is made.
    let mut client = agent
        .client(
            &config(no_timeouts()),
            host(static_credentials(), HostTimeouts::default()),
        )
        .unwrap();
    let mut origin = post("/path");
    origin.headers.push(Header {
        name: "host".into(),
        value: "example.com".into(),
    });
    assert!(client.send(&origin, None).is_err());
    let bad = ClientConfig {
        region: "us east".into(),
        ..config(no_timeouts())
    };
    match agent.client(&bad, host(static_credentials(), HostTimeouts::default())) {
        Err(AgentError::Client(ClientError::Invalid(e))) => {
            assert_eq!(e.field, sigv4_host::Field::Region)
        }
        Err(other) => panic!("expected a typed error, got {other}"),
        Ok(_) => panic!("a bad region was accepted"),
    }
}

#[test]
fn signs_and_sends_sigv4a_for_a_region_set_like_the_native_core() {
    let (base, received) = serve(false);
    let url = format!("{base}/prod/items");
    let agent = AgentComponent::new().unwrap();
    let v4a = ClientConfig {
        region: "us-east-1,us-west-2".into(),
        algorithm: Some(sigv4_host::Algorithm::Sigv4a),
        ..config(no_timeouts())
    };
    let mut client = agent
        .client(&v4a, host(static_credentials(), HostTimeouts::default()))
        .unwrap();
    // The native core's SigV4a signature: deterministic (RFC 6979), so the same to the byte.
    let credentials = sigv4_core::Credentials::new("AKIDEXAMPLE", SECRET, Some("TOKEN")).unwrap();
    let request = sigv4_core::Request {
        method: "POST",
        uri: &url,
        headers: &[("content-type", "application/json")],
        payload: sigv4_core::Payload::Bytes(br#"{"hello":"world"}"#),
    };
    let params = sigv4_core::SigningParams {
        credentials: &credentials,
        region: "us-east-1,us-west-2",
        service: "execute-api",
        time: sigv4_core::Timestamp::from_unix_seconds(TIME).unwrap(),
        settings: sigv4_core::Settings {
            algorithm: sigv4_core::Algorithm::SigV4a,
            ..sigv4_core::Settings::default()
        },
    };
    let native = sigv4_core::Signer::new()
        .sign(&request, &params, sigv4_core::Location::Headers)
        .unwrap();
    let authorization = native.authorization().unwrap();
    assert!(authorization.starts_with("AWS4-ECDSA-P256-SHA256 "));
    let signed = client.sign(&post(&url)).unwrap();
    assert_eq!(signed.signature, native.signature.as_str());
    assert!(signed.signature.len() > 64, "{}", signed.signature);
    let response = client.send(&post(&url), None).unwrap();
    assert_eq!(response.status, 200);
    let (head, _) = received.lock().unwrap().remove(0);
    assert!(
        head.contains(&format!("authorization: {authorization}")),
        "{head:?}"
    );
    assert!(
        head.contains(&"x-amz-region-set: us-east-1,us-west-2".to_string()),
        "{head:?}"
    );

    // A region set with an empty name (a SigV4 region would pass): refused at create.
    let bad = ClientConfig {
        region: "us-east-1,,us-west-2".into(),
        ..v4a
    };
    match agent.client(&bad, host(static_credentials(), HostTimeouts::default())) {
        Err(AgentError::Client(ClientError::Invalid(e))) => {
            assert_eq!(e.field, sigv4_host::Field::Region)
        }
        Err(other) => panic!("expected a typed error, got {other}"),
        Ok(_) => panic!("a bad region set was accepted"),
    }
}
