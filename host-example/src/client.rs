//! Signing arbitrary requests inside the component with credentials from the provider chain,
//! and sending them.

use std::collections::HashMap;
use std::io::Read;
use std::time::{SystemTime, UNIX_EPOCH};

use sigv4_host::credentials::{self, CredentialsCache};
use sigv4_host::{
    Explained, Header, Location, Payload, Request, Settings, SignerComponent, SignerConfig,
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

/// Service and region from an AWS hostname, as aws4fetch infers them:
/// `s3.us-west-2.amazonaws.com`, `bucket.s3.eu-west-1.amazonaws.com`, `sts.amazonaws.com`,
/// `dynamodb.ap-south-1.amazonaws.com`, `lambda.us-east-1.amazonaws.com.cn`.
pub fn infer_service_region(url: &str) -> (Option<String>, Option<String>) {
    let host = url
        .split("://")
        .nth(1)
        .unwrap_or(url)
        .split(['/', '?', ':'])
        .next()
        .unwrap_or_default();
    let Some(stem) = host
        .strip_suffix(".amazonaws.com")
        .or_else(|| host.strip_suffix(".amazonaws.com.cn"))
    else {
        return (None, None);
    };
    let labels: Vec<&str> = stem.split('.').collect();
    // The S3 service label may follow a bucket name (virtual-hosted style).
    if let Some(i) = labels
        .iter()
        .position(|l| *l == "s3" || l.starts_with("s3-"))
    {
        let region = labels
            .get(i + 1)
            .map(|r| r.to_string())
            .or_else(|| labels[i].strip_prefix("s3-").map(String::from));
        return (Some("s3".into()), region.or(Some("us-east-1".into())));
    }
    match labels.as_slice() {
        [service] => (Some(service.to_string()), Some("us-east-1".into())),
        [service, region, ..] => (Some(service.to_string()), Some(region.to_string())),
        [] => (None, None),
    }
}

/// Signs through the component with credentials from the chain (cached, refreshed ahead).
pub struct Client {
    component: &'static SignerComponent,
    credentials: CredentialsCache,
    /// The region from the environment, profile or IMDS, when the URL does not say.
    default_region: Option<String>,
}

impl Client {
    /// Loads the component and the default credential chain from the process environment.
    pub fn from_env() -> Result<Self, String> {
        let env: HashMap<String, String> = std::env::vars().collect();
        let component = SignerComponent::shared()
            .map_err(|e| format!("loading the signer component: {e:#}"))?;
        Ok(Client {
            component,
            credentials: CredentialsCache::new(Box::new(credentials::default_chain(&env))),
            default_region: credentials::resolve_region(&env),
        })
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
        let (inferred_service, inferred_region) = infer_service_region(&request.url);
        let service = service
            .map(String::from)
            .or(inferred_service)
            .ok_or("the service cannot be inferred from the URL: give --service (s3, sts, ...)")?;
        let region = region
            .map(String::from)
            .or(inferred_region)
            .or_else(|| self.default_region.clone())
            .ok_or("no region: give --region or set AWS_REGION")?;
        let credentials = self.credentials.get().map_err(|e| e.to_string())?;
        let time = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        let settings = if service == "s3" {
            Settings::s3()
        } else {
            Settings::standard()
        };
        let wit_request = Request {
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
        };
        let config = SignerConfig {
            credentials: credentials.to_wit(),
            region,
            service,
            settings,
        };
        self.component
            .signer(&config)
            .and_then(|mut signer| signer.explain(&wit_request, time, location))
            .map_err(|e| e.to_string())
    }
}

/// An HTTP answer.
pub struct Response {
    /// The status code.
    pub status: u16,
    /// The body.
    pub body: Vec<u8>,
}

/// Sends `request` with the signature's headers added (or to the presigned URL).
pub fn send(request: &HttpRequest, signed: &Explained) -> Result<Response, String> {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let url = signed.signed.url.as_deref().unwrap_or(&request.url);
    let mut builder = ureq::http::Request::builder()
        .method(request.method.as_str())
        .uri(url);
    let replaced: Vec<&str> = signed
        .signed
        .headers
        .iter()
        .map(|h| h.name.as_str())
        .collect();
    for (name, value) in &request.headers {
        if !replaced.iter().any(|r| r.eq_ignore_ascii_case(name)) {
            builder = builder.header(name.as_str(), value.as_str());
        }
    }
    for header in &signed.signed.headers {
        builder = builder.header(header.name.as_str(), header.value.as_str());
    }
    let http_request = builder
        .body(request.body.clone())
        .map_err(|e| format!("bad request: {e}"))?;
    let mut response = agent
        .run(http_request)
        .map_err(|e| format!("{} {url}: {e}", request.method))?;
    let status = response.status().as_u16();
    let mut body = Vec::new();
    response
        .body_mut()
        .as_reader()
        .take(64 * 1024 * 1024)
        .read_to_end(&mut body)
        .map_err(|e| format!("reading the answer: {e}"))?;
    Ok(Response { status, body })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn infers_service_and_region_from_aws_hostnames() {
        let infer = |url: &str| {
            let (s, r) = infer_service_region(url);
            (s.unwrap_or_default(), r.unwrap_or_default())
        };
        assert_eq!(
            infer("https://sts.amazonaws.com/"),
            ("sts".into(), "us-east-1".into())
        );
        assert_eq!(
            infer("https://sts.eu-west-1.amazonaws.com/"),
            ("sts".into(), "eu-west-1".into())
        );
        assert_eq!(
            infer("https://bucket.s3.us-west-2.amazonaws.com/k"),
            ("s3".into(), "us-west-2".into())
        );
        assert_eq!(
            infer("https://s3.amazonaws.com/bucket"),
            ("s3".into(), "us-east-1".into())
        );
        assert_eq!(
            infer("https://dynamodb.ap-south-1.amazonaws.com"),
            ("dynamodb".into(), "ap-south-1".into())
        );
        assert_eq!(
            infer("http://127.0.0.1:5000/bucket"),
            (String::new(), String::new())
        );
    }
}
