//! Embedding `sigv4-host`: credentials from the AWS chain, one request signed and sent inside
//! the WebAssembly agent component, and the answer read.
//!
//! It asks STS who the credentials belong to (`GetCallerIdentity`) and prints the caller's ARN:
//!
//! ```sh
//! cargo run -p sigv4-host-example                            # https://sts.<region>.amazonaws.com/
//! cargo run -p sigv4-host-example -- http://127.0.0.1:5000/   # or set AWS_ENDPOINT_URL_STS
//! ```

use std::collections::HashMap;
use std::process::ExitCode;
use std::sync::Arc;

use sigv4_host::agent::{AgentComponent, AgentHost, ClientConfig, HostTimeouts, Timeouts};
use sigv4_host::credentials::{self, CredentialsCache};
use sigv4_host::{Header, Payload, Request};

fn main() -> ExitCode {
    match caller_arn() {
        Ok(arn) => {
            println!("{arn}");
            ExitCode::SUCCESS
        }
        Err(message) => {
            eprintln!("sigv4-host-example: {message}");
            ExitCode::FAILURE
        }
    }
}

fn caller_arn() -> Result<String, String> {
    // The chain reads a snapshot of the environment: keys, profiles, web identity, the container
    // endpoint, then IMDS. The cache asks it once and again only shortly before expiry; the
    // component calls back into it (the `host-credentials` import) each time it signs.
    let env: HashMap<String, String> = std::env::vars().collect();
    let chain = credentials::default_chain(&env);
    let credentials = Arc::new(CredentialsCache::new(Box::new(chain)));

    // AWS_REGION, AWS_DEFAULT_REGION, the profile, then IMDS (a second's timeout off EC2).
    let region = credentials::resolve_region(&env).unwrap_or_else(|| "us-east-1".into());
    let endpoint = std::env::args()
        .nth(1)
        .or_else(|| env.get("AWS_ENDPOINT_URL_STS").cloned())
        .unwrap_or_else(|| format!("https://sts.{region}.amazonaws.com/"));

    // One client per signing scope. `settings: None` lets the core apply the service's rules
    // (path normalization, double encoding, ...); zero timeouts take the host's defaults.
    let config = ClientConfig {
        region,
        service: "sts".into(),
        algorithm: None,
        settings: None,
        timeouts: Timeouts {
            connect_ms: 0,
            first_byte_ms: 0,
            between_bytes_ms: 0,
        },
    };
    let host = AgentHost {
        credentials,
        timeouts: HostTimeouts::default(),
        fixed_time: None,
    };
    // Compiled once per process; each client is a cheap instantiation.
    let agent = AgentComponent::shared().map_err(|e| format!("the agent component: {e:#}"))?;
    let mut client = agent.client(&config, host).map_err(|e| e.to_string())?;

    // The component signs what it sends: method, URL, these headers and the body's hash.
    let request = Request {
        method: "POST".into(),
        uri: endpoint.clone(),
        headers: vec![Header {
            name: "content-type".into(),
            value: "application/x-www-form-urlencoded".into(),
        }],
        payload: Payload::Bytes(b"Action=GetCallerIdentity&Version=2011-06-15".to_vec()),
    };
    let response = client
        .send(&request, None)
        .map_err(|e| format!("{endpoint}: {e}"))?;
    let body = String::from_utf8_lossy(&response.body);
    if response.status != 200 {
        return Err(format!("{endpoint}: HTTP {}: {body}", response.status));
    }
    credentials::xml_text(&body, "Arn")
        .map(String::from)
        .ok_or_else(|| format!("{endpoint}: no <Arn> in {body}"))
}
