//! The `sigv4` command line's library: signing-case inputs carried into the WebAssembly
//! component, where all signing runs.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod client;

use sigv4_case::{Case, SignatureLocation};
use sigv4_host::{
    Credentials, Error, Explained, Header, Location, Payload, Request, Scope, SessionTokenMode,
    Settings, SignerInstance, UriEncoding,
};

/// Signs a case through the component. The outer error is the runtime's (a trap), the inner one
/// the component's typed error about the input.
pub fn sign_case(
    signer: &mut SignerInstance,
    case: &Case,
    location: SignatureLocation,
) -> wasmtime::Result<Result<Explained, Error>> {
    let ctx = &case.context;
    let credentials = Credentials {
        access_key_id: ctx.credentials.access_key_id.clone(),
        secret_access_key: ctx.credentials.secret_access_key.clone(),
        session_token: ctx.credentials.token.clone(),
    };
    let request = Request {
        method: case.request.method.clone(),
        uri: case.request.uri(),
        headers: case
            .request
            .headers
            .iter()
            .map(|(name, value)| Header {
                name: name.clone(),
                value: value.clone(),
            })
            .collect(),
        payload: Payload::Bytes(case.request.body.clone()),
    };
    // The timestamp is parsed by the core, like every other input.
    let time = case.time().map(|t| t.unix_seconds()).unwrap_or(u64::MAX);
    let scope = Scope {
        region: ctx.region.clone(),
        service: ctx.service.clone(),
        time,
    };
    let wanted = case.settings();
    let settings = Settings {
        uri_encoding: match wanted.uri_encoding {
            sigv4_core::UriEncoding::Single => UriEncoding::Single,
            _ => UriEncoding::Double,
        },
        normalize_path: wanted.normalize_path,
        content_sha256_header: wanted.content_sha256_header,
        session_token: match wanted.session_token {
            sigv4_core::SessionTokenMode::AfterSigning => SessionTokenMode::AfterSigning,
            _ => SessionTokenMode::Signed,
        },
        excluded_headers: Vec::new(),
        forced_headers: Vec::new(),
    };
    let location = match case.location(location) {
        sigv4_core::Location::Query { expires_in } => Location::Query(expires_in),
        _ => Location::Headers,
    };
    signer.explain(&credentials, &request, &scope, &settings, location)
}
