//! The container token and IMDS credentials never go through a proxy the environment names:
//! ureq takes one from `HTTP_PROXY`/`HTTPS_PROXY`/`ALL_PROXY` by default, and the token would
//! reach it in clear. (A binary of its own: it sets the process environment.)

use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::TcpListener;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use sigv4_host::credentials::{ContainerProvider, Provider};

/// A loopback listener that counts connections and answers each with `answer` (or nothing).
fn listener(answer: Option<String>) -> (u16, Arc<AtomicUsize>) {
    let socket = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = socket.local_addr().unwrap().port();
    let seen = Arc::new(AtomicUsize::new(0));
    let counter = seen.clone();
    std::thread::spawn(move || {
        for stream in socket.incoming().take(8) {
            let Ok(mut stream) = stream else { continue };
            counter.fetch_add(1, Ordering::SeqCst);
            let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
            let mut buf = [0u8; 4096];
            let _ = stream.read(&mut buf);
            if let Some(body) = &answer {
                let reply = format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = stream.write_all(reply.as_bytes());
            }
        }
    });
    (port, seen)
}

#[test]
fn the_container_endpoint_is_called_directly_whatever_proxy_the_environment_names() {
    let (proxy, through_proxy) = listener(None);
    let document = r#"{"AccessKeyId":"AKIDCONTAINER","SecretAccessKey":"S","Token":"T","Expiration":"2099-01-01T00:00:00Z"}"#;
    let (endpoint, direct) = listener(Some(document.into()));
    let proxy_url = format!("http://127.0.0.1:{proxy}");
    // SAFETY: this binary's only test, before any thread reads the environment.
    unsafe {
        for name in [
            "HTTP_PROXY",
            "HTTPS_PROXY",
            "ALL_PROXY",
            "http_proxy",
            "https_proxy",
            "all_proxy",
        ] {
            std::env::set_var(name, &proxy_url);
        }
        std::env::remove_var("NO_PROXY");
        std::env::remove_var("no_proxy");
    }
    let env: HashMap<String, String> = [
        (
            "AWS_CONTAINER_CREDENTIALS_FULL_URI".to_string(),
            format!("http://127.0.0.1:{endpoint}/creds"),
        ),
        (
            "AWS_CONTAINER_AUTHORIZATION_TOKEN".to_string(),
            "SECRET-TOKEN".to_string(),
        ),
    ]
    .into();
    let got = ContainerProvider::from_env(env).provide();
    assert_eq!(
        got.map(|c| c.access_key_id).ok().as_deref(),
        Some("AKIDCONTAINER")
    );
    assert_eq!(
        through_proxy.load(Ordering::SeqCst),
        0,
        "the token went to the proxy"
    );
    assert_eq!(direct.load(Ordering::SeqCst), 1);
}
