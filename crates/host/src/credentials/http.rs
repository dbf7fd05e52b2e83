//! Plain-HTTP calls to the link-local credential endpoints (IMDS, the ECS/EKS container
//! endpoint), with connect and read timeouts.

use std::io::Read;
use std::time::Duration;

use ureq::Agent;

/// An answer: status and body (bounded: credential documents are small).
pub(crate) struct Answer {
    pub(crate) status: u16,
    pub(crate) body: String,
}

/// Credential endpoints answer within a second when they exist; when they do not, the chain
/// must not hang. Never through a proxy: ureq takes one from `HTTPS_PROXY`/`HTTP_PROXY`/
/// `ALL_PROXY` by default, and the container token and IMDS credentials would reach it in
/// clear (the endpoint checks allow plain HTTP only to loopback and link-local hosts).
pub(crate) fn agent(timeout: Duration) -> Agent {
    configured(timeout, None)
}

/// An agent for STS (HTTPS, anywhere), through the environment's proxy if it names one, as
/// the AWS SDKs do: TLS to STS goes through the proxy's tunnel.
pub(crate) fn sts_agent(timeout: Duration) -> Agent {
    configured(timeout, ureq::Proxy::try_from_env())
}

fn configured(timeout: Duration, proxy: Option<ureq::Proxy>) -> Agent {
    Agent::config_builder()
        .proxy(proxy)
        .timeout_connect(Some(timeout))
        .timeout_recv_response(Some(timeout))
        .timeout_recv_body(Some(timeout))
        .http_status_as_error(false)
        .max_redirects(0)
        .build()
        .into()
}

/// Sends `method` to `url` with `headers` and reads at most 64 KiB of the answer.
pub(crate) fn call(
    agent: &Agent,
    method: &str,
    url: &str,
    headers: &[(&str, &str)],
) -> Result<Answer, String> {
    call_with_body(agent, method, url, headers, &[])
}

/// Like [`call`], with a body.
pub(crate) fn call_with_body(
    agent: &Agent,
    method: &str,
    url: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> Result<Answer, String> {
    let mut builder = ureq::http::Request::builder().method(method).uri(url);
    for (name, value) in headers {
        builder = builder.header(*name, *value);
    }
    let request = builder
        .body(body.to_vec())
        .map_err(|e| format!("bad request to {url}: {e}"))?;
    let mut response = agent
        .run(request)
        .map_err(|e| format!("{method} {url}: {e}"))?;
    let status = response.status().as_u16();
    let mut text = String::new();
    response
        .body_mut()
        .as_reader()
        .take(64 * 1024)
        .read_to_string(&mut text)
        .map_err(|e| format!("{method} {url}: reading the answer: {e}"))?;
    Ok(Answer { status, body: text })
}
