//! Sending a signed request through `wasi:http/outgoing-handler` and reading the answer whole.

use crate::bindings::exports::sigv4::core::client::{ClientError, Response, Timeouts};
use crate::bindings::exports::sigv4::core::signing::{Header, Request};
use crate::bindings::wasi::http::outgoing_handler;
use crate::bindings::wasi::http::types::{
    ErrorCode, Fields, IncomingBody, Method, OutgoingBody, OutgoingRequest, RequestOptions, Scheme,
};
use crate::bindings::wasi::io::streams::StreamError;

/// The most `blocking-write-and-flush` takes at once.
const WRITE_CHUNK: usize = 4096;
const READ_CHUNK: u64 = 64 * 1024;

/// Sends `request` as `signed`: its headers added, to the host, path and query that were
/// signed (their wire form); returns the answer.
pub(crate) fn send(
    request: &Request,
    signed: &sigv4_core::Signed,
    body: &[u8],
    timeouts: &Timeouts,
) -> Result<Response, ClientError> {
    let scheme = match signed.scheme().map(str::to_ascii_lowercase).as_deref() {
        Some("https") => Scheme::Https,
        Some("http") => Scheme::Http,
        _ => {
            return Err(ClientError::Http(format!(
                "not an absolute http(s) URL: {}",
                request.uri
            )));
        }
    };
    // wasi:http sends the authority as `Host` and refuses the header: the signed host is the
    // authority, so a Host header other than the URL's would reach another server.
    if request
        .headers
        .iter()
        .any(|h| h.name.eq_ignore_ascii_case("host"))
    {
        return Err(ClientError::Http(
            "a Host header cannot be sent through wasi:http, which sends the URL's authority: put the host in the URL".into(),
        ));
    }
    let mut fields: Vec<(String, Vec<u8>)> = request
        .headers
        .iter()
        .map(|h| (h.name.clone(), h.value.clone().into_bytes()))
        .chain(
            signed
                .headers()
                .map(|(name, value)| (name.into(), value.as_bytes().to_vec())),
        )
        .collect();
    // A length, not chunked encoding (S3 refuses chunked uploads); unsigned, as the SDKs send it.
    let has_length = fields
        .iter()
        .any(|(name, _)| name.eq_ignore_ascii_case("content-length"));
    if !has_length && (!body.is_empty() || !matches!(request.method.as_str(), "GET" | "HEAD")) {
        fields.push(("content-length".into(), body.len().to_string().into_bytes()));
    }
    let fields = Fields::from_list(&fields)
        .map_err(|e| ClientError::Http(format!("a header the host refuses: {e:?}")))?;
    let outgoing = OutgoingRequest::new(fields);
    let unset = |_| ClientError::Http("the host refused the request line".into());
    outgoing
        .set_method(&method(&request.method))
        .map_err(unset)?;
    outgoing.set_scheme(Some(&scheme)).map_err(unset)?;
    outgoing.set_authority(Some(signed.host())).map_err(unset)?;
    outgoing
        .set_path_with_query(Some(signed.path_and_query()))
        .map_err(unset)?;
    let outgoing_body = outgoing
        .body()
        .map_err(|_| ClientError::Http("no request body stream".into()))?;

    let options = RequestOptions::new();
    let ms = |ms: u32| (ms > 0).then_some(u64::from(ms) * 1_000_000);
    // A host may not support an option; its own limits apply then.
    let _ = options.set_connect_timeout(ms(timeouts.connect_ms));
    let _ = options.set_first_byte_timeout(ms(timeouts.first_byte_ms));
    let _ = options.set_between_bytes_timeout(ms(timeouts.between_bytes_ms));
    let pending = outgoing_handler::handle(outgoing, Some(options)).map_err(http_error)?;

    {
        let stream = outgoing_body
            .write()
            .map_err(|_| ClientError::Http("no request body stream".into()))?;
        for chunk in body.chunks(WRITE_CHUNK) {
            stream
                .blocking_write_and_flush(chunk)
                .map_err(stream_error)?;
        }
    }
    OutgoingBody::finish(outgoing_body, None).map_err(http_error)?;

    pending.subscribe().block();
    let incoming = match pending.get() {
        Some(Ok(Ok(response))) => response,
        Some(Ok(Err(code))) => return Err(http_error(code)),
        Some(Err(())) | None => return Err(ClientError::Http("no response".into())),
    };
    let status = incoming.status();
    let headers = incoming
        .headers()
        .entries()
        .into_iter()
        .map(|(name, value)| Header {
            name,
            value: String::from_utf8_lossy(&value).into_owned(),
        })
        .collect();
    let incoming_body = incoming
        .consume()
        .map_err(|_| ClientError::Http("no response body".into()))?;
    let mut body = Vec::new();
    {
        let stream = incoming_body
            .stream()
            .map_err(|_| ClientError::Http("no response body stream".into()))?;
        loop {
            match stream.blocking_read(READ_CHUNK) {
                Ok(chunk) => body.extend_from_slice(&chunk),
                Err(StreamError::Closed) => break,
                Err(e) => return Err(stream_error(e)),
            }
        }
    }
    drop(IncomingBody::finish(incoming_body));
    Ok(Response {
        status,
        headers,
        body,
    })
}

fn method(name: &str) -> Method {
    match name {
        "GET" => Method::Get,
        "HEAD" => Method::Head,
        "POST" => Method::Post,
        "PUT" => Method::Put,
        "DELETE" => Method::Delete,
        "CONNECT" => Method::Connect,
        "OPTIONS" => Method::Options,
        "TRACE" => Method::Trace,
        "PATCH" => Method::Patch,
        other => Method::Other(other.into()),
    }
}

fn http_error(code: ErrorCode) -> ClientError {
    let text = format!("{code:?}");
    match code {
        ErrorCode::ConnectionTimeout
        | ErrorCode::ConnectionReadTimeout
        | ErrorCode::ConnectionWriteTimeout
        | ErrorCode::HttpResponseTimeout
        | ErrorCode::DnsTimeout => ClientError::Timeout(text),
        _ => ClientError::Http(text),
    }
}

fn stream_error(e: StreamError) -> ClientError {
    match e {
        StreamError::LastOperationFailed(e) => {
            match crate::bindings::wasi::http::types::http_error_code(&e) {
                Some(code) => http_error(code),
                None => ClientError::Http(e.to_debug_string()),
            }
        }
        StreamError::Closed => ClientError::Http("the stream closed early".into()),
    }
}
