//! Signing arbitrary requests inside the components with credentials from the provider chain,
//! and sending them through the agent component's wasi:http.

use std::collections::HashMap;
use std::sync::{Arc, OnceLock};
use std::time::{SystemTime, UNIX_EPOCH};

use sigv4_host::agent::{
    AgentComponent, AgentError, AgentHost, ClientConfig, HostTimeouts, Timeouts,
};
use sigv4_host::credentials::{self, CredentialsCache};
use sigv4_host::{
    CallError, Explained, Header, Location, Payload, Request, Settings, SignerComponent,
    SignerConfig,
};

/// A request as the command line describes it.
#[derive(Clone, Debug)]
pub struct HttpRequest {
    /// `GET`, `PUT`, ...
    pub method: String,
    /// The absolute URL.
    pub url: String,
    /// Headers to send (and sign).
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: Vec<u8>,
}

/// Signs inside the components with credentials from the chain (cached, refreshed ahead):
/// the signer component for `sign`, the agent component (which also sends, through wasi:http)
/// for `send`.
pub struct Client {
    credentials: Arc<CredentialsCache>,
    /// The environment the chain was made from, for the region.
    env: HashMap<String, String>,
    /// The region from the environment, profile or IMDS, looked up only when neither the caller
    /// nor the URL gives one (IMDS costs a second's timeout off EC2), then kept.
    default_region: OnceLock<Option<String>>,
}

/// An HTTP answer.
pub struct Response {
    /// The status code.
    pub status: u16,
    /// The headers, as received.
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: Vec<u8>,
}

impl Client {
    /// The default credential chain and region of the process environment.
    pub fn from_env() -> Self {
        Client::from_vars(std::env::vars().collect())
    }

    /// The default credential chain and region of these environment variables (the process's,
    /// with `AWS_PROFILE` set by `--profile`).
    pub fn from_vars(env: HashMap<String, String>) -> Self {
        Client {
            credentials: Arc::new(CredentialsCache::new(Box::new(credentials::default_chain(
                &env,
            )))),
            env,
            default_region: OnceLock::new(),
        }
    }

    /// Signs `request` for `service` in `region` (inferred from the URL when not given).
    pub fn sign(
        &self,
        request: &HttpRequest,
        service: Option<&str>,
        region: Option<&str>,
        location: Location,
        unsigned_payload: bool,
    ) -> Result<Explained, String> {
        let (region, service, settings) = self.scope(request, service, region)?;
        let credentials = self.credentials.get().map_err(|e| e.to_string())?;
        let time = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        let config = SignerConfig {
            credentials: credentials.to_wit(),
            region,
            service,
            algorithm: None,
            settings,
        };
        SignerComponent::shared()
            .map_err(CallError::from)
            .and_then(|component| component.signer(&config))
            .and_then(|mut signer| {
                signer.explain(&wit_request(request, unsigned_payload), time, location)
            })
            .map_err(|e| e.to_string())
    }

    /// Signs `request` and sends it, both inside the agent component (network: wasi:http).
    pub fn send(
        &self,
        request: &HttpRequest,
        service: Option<&str>,
        region: Option<&str>,
        unsigned_payload: bool,
    ) -> Result<Response, String> {
        let (region, service, settings) = self.scope(request, service, region)?;
        let config = ClientConfig {
            region,
            service,
            algorithm: None,
            settings,
            timeouts: Timeouts {
                connect_ms: 0,
                first_byte_ms: 0,
                between_bytes_ms: 0,
            },
        };
        let host = AgentHost {
            credentials: self.credentials.clone(),
            timeouts: HostTimeouts::default(),
            fixed_time: None,
        };
        let wit = wit_request(request, unsigned_payload);
        let body = unsigned_payload.then_some(request.body.as_slice());
        let response = AgentComponent::shared()
            .map_err(AgentError::from)
            .and_then(|agent| agent.client(&config, host))
            .and_then(|mut client| client.send(&wit, body))
            .map_err(|e| format!("{} {}: {e}", request.method, request.url))?;
        Ok(Response {
            status: response.status,
            headers: response
                .headers
                .into_iter()
                .map(|h| (h.name, h.value))
                .collect(),
            body: response.body,
        })
    }

    /// The region, service and signing settings for `request`.
    fn scope(
        &self,
        request: &HttpRequest,
        service: Option<&str>,
        region: Option<&str>,
    ) -> Result<(String, String, Option<Settings>), String> {
        let headers: Vec<(&str, &str)> = request
            .headers
            .iter()
            .map(|(n, v)| (n.as_str(), v.as_str()))
            .collect();
        let (service, region) = resolve_scope(&request.url, &headers, service, region, || {
            let env = &self.env;
            let region = self
                .default_region
                .get_or_init(|| credentials::resolve_region(env));
            region.clone()
        })?;
        // None: the service's rules, which the core decides.
        let settings = None;
        Ok((region, service, settings))
    }
}

/// The service and region of a request to `url`: those given, else what the core reads from an
/// AWS hostname (or the Host header), else, for the region, `default_region()`.
pub fn resolve_scope(
    url: &str,
    headers: &[(&str, &str)],
    service: Option<&str>,
    region: Option<&str>,
    default_region: impl FnOnce() -> Option<String>,
) -> Result<(String, String), String> {
    let inferred = match (service, region) {
        (Some(_), Some(_)) => None,
        _ => Some(sigv4_core::infer_scope(url, headers)),
    };
    let (inferred_service, inferred_region) = match inferred {
        Some(Ok(scope)) => (
            Some(scope.service.into_owned()),
            scope.region.map(|r| r.into_owned()),
        ),
        Some(Err(e)) if service.is_none() => {
            return Err(format!("{e} with --service (s3, sts, ...) and --region"));
        }
        _ => (None, None),
    };
    let service = service
        .map(String::from)
        .or(inferred_service)
        .ok_or("give --service (s3, sts, ...)")?;
    let region = region
        .map(String::from)
        .or(inferred_region)
        .or_else(default_region)
        .ok_or("no region: give --region or set AWS_REGION")?;
    Ok((service, region))
}

/// The component's request record.
fn wit_request(request: &HttpRequest, unsigned_payload: bool) -> Request {
    Request {
        method: request.method.clone(),
        uri: request.url.clone(),
        headers: request
            .headers
            .iter()
            .map(|(n, v)| Header {
                name: n.clone(),
                value: v.clone(),
            })
            .collect(),
        payload: if unsigned_payload {
            Payload::Unsigned
        } else {
            Payload::Bytes(request.body.clone())
        },
    }
}
