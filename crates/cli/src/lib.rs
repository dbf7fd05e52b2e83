//! The `sigv4` command line's library: signing-case inputs carried into the WebAssembly
//! component, where all signing runs.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod client;
pub mod exchange_admin;
pub mod verify;

use sigv4_case::{Case, RawRequest, SignatureLocation};
use sigv4_host::{
    Algorithm, CallError, Credentials, Explained, Header, Location, Payload, Request,
    SessionTokenMode, Settings, SignerComponent, SignerConfig, SignerInstance, UriEncoding,
};

/// Signs a case through the component, with a signer made for it.
pub fn sign_case(
    component: &SignerComponent,
    case: &Case,
    location: SignatureLocation,
) -> Result<Explained, CallError> {
    sign_case_with(&mut component.signer(&case_config(case))?, case, location)
}

/// Signs a case's request with a signer made from [`case_config`] (and perhaps used before).
pub fn sign_case_with(
    signer: &mut SignerInstance,
    case: &Case,
    location: SignatureLocation,
) -> Result<Explained, CallError> {
    let request = component_request(&case.request);
    // The timestamp is parsed by the core, like every other input.
    let time = case.time().map(|t| t.unix_seconds()).unwrap_or(u64::MAX);
    let location = match case.location(location) {
        sigv4_core::Location::Query { expires_in } => Location::Query(expires_in),
        _ => Location::Headers,
    };
    signer.explain(&request, time, location)
}

/// A raw request as the component's, its body the payload.
pub fn component_request(raw: &RawRequest) -> Request {
    Request {
        method: raw.method.clone(),
        uri: raw.uri(),
        headers: raw
            .headers
            .iter()
            .map(|(name, value)| Header {
                name: name.clone(),
                value: value.clone(),
            })
            .collect(),
        payload: Payload::Bytes(raw.body.clone()),
    }
}

/// The signer configuration a case's context describes: SigV4a when it says `"sigv4a": true`
/// (its region is then the region set), else SigV4.
pub fn case_config(case: &Case) -> SignerConfig {
    let ctx = &case.context;
    let wanted = case.settings();
    SignerConfig {
        credentials: Credentials {
            access_key_id: ctx.credentials.access_key_id.clone(),
            secret_access_key: ctx.credentials.secret_access_key.clone(),
            session_token: ctx.credentials.token.clone(),
        },
        region: ctx.region.clone(),
        service: ctx.service.clone(),
        algorithm: match wanted.algorithm {
            sigv4_core::Algorithm::SigV4a => Some(Algorithm::Sigv4a),
            // None is SigV4.
            _ => None,
        },
        settings: Some(Settings {
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
            presigned_payload_unsigned: wanted.presigned_payload_unsigned,
            excluded_headers: Vec::new(),
            forced_headers: Vec::new(),
        }),
    }
}
