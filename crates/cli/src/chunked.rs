//! `sigv4 sign --case DIR --chunk-size N`: a case's request signed for an S3 aws-chunked upload.
//!
//! This calls the native core, as `sigv4 verify` does, not the WebAssembly component: the WIT
//! contract has no chunked signing yet (the component would have to return the encoder's state
//! across the boundary). The core's encoder is the one every host will drive.

use base64::Engine;
use sigv4_case::Case;
use sigv4_core::{
    Algorithm, ChecksumAlgorithm, ChunkedUpload, Credentials, Payload, Request, Signer,
    SigningParams, StreamingForm,
};

/// The case's request (its body the object) signed for an aws-chunked upload in chunks of
/// `chunk_size`: a request with an `x-amz-trailer` header is signed with a trailer carrying
/// that checksum of the body (`STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER`, or
/// `STREAMING-UNSIGNED-PAYLOAD-TRAILER` when its `x-amz-content-sha256` says so), any other
/// with `STREAMING-AWS4-HMAC-SHA256-PAYLOAD`; a SigV4a case (`"sigv4a": true`) with the SigV4a
/// forms (`STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD[-TRAILER]`).
///
/// The JSON: `seed_signature`, `chunk_signatures` (one a chunk, the final empty one included;
/// SigV4a's without the frames' `*` padding),
/// `headers` (`[name, value]` pairs to set on the request: the upload's and the signed ones),
/// `authorization`, `content_length` and `body_b64` (the encoded body).
pub fn sign_case_chunked(case: &Case, chunk_size: usize) -> Result<serde_json::Value, String> {
    let header = |wanted: &str| {
        case.request
            .headers
            .iter()
            .find(|(name, _)| name.eq_ignore_ascii_case(wanted))
            .map(|(_, value)| value.trim())
    };
    let checksum = header("x-amz-trailer")
        .map(ChecksumAlgorithm::from_header_name)
        .transpose()
        .map_err(|e| e.to_string())?;
    let unsigned = header("x-amz-content-sha256")
        .is_some_and(|v| v == StreamingForm::UnsignedWithTrailer.as_str());
    let v4a = case.settings().algorithm == Algorithm::SigV4a;
    let form = match (checksum, unsigned, v4a) {
        (None, _, false) => StreamingForm::Signed,
        (None, _, true) => StreamingForm::SigV4aSigned,
        (Some(_), true, _) => StreamingForm::UnsignedWithTrailer,
        (Some(_), false, false) => StreamingForm::SignedWithTrailer,
        (Some(_), false, true) => StreamingForm::SigV4aSignedWithTrailer,
    };
    let body = &case.request.body;
    let upload = ChunkedUpload::new(form, body.len() as u64, chunk_size, checksum)
        .map_err(|e| e.to_string())?;

    let ctx = &case.context;
    let credentials = Credentials::new(
        &ctx.credentials.access_key_id,
        &ctx.credentials.secret_access_key,
        ctx.credentials.token.as_deref(),
    )
    .map_err(|e| e.to_string())?;
    let params = SigningParams {
        credentials: &credentials,
        region: &ctx.region,
        service: &ctx.service,
        time: case.time().map_err(|e| e.to_string())?,
        settings: case.settings(),
    };
    let uri = case.request.uri();
    let headers: Vec<(&str, &str)> = case
        .request
        .headers
        .iter()
        .map(|(n, v)| (n.as_str(), v.as_str()))
        .collect();
    let request = Request {
        method: &case.request.method,
        uri: &uri,
        headers: &headers,
        payload: Payload::Unsigned,
    };
    let mut signed = Signer::new()
        .sign_chunked(&request, &params, &upload)
        .map_err(|e| e.to_string())?;

    let mut encoded = Vec::with_capacity(usize::try_from(upload.content_length()).unwrap_or(0));
    let mut chunk_signatures = Vec::new();
    let mut input = &body[..];
    while !input.is_empty() {
        if let Some(frame) = signed.encoder.push(&mut input).map_err(|e| e.to_string())? {
            chunk_signatures.extend(chunk_signature(frame.header));
            frame
                .parts()
                .iter()
                .for_each(|p| encoded.extend_from_slice(p));
        }
    }
    let finish = signed.encoder.finish().map_err(|e| e.to_string())?;
    if let Some(frame) = finish.last {
        chunk_signatures.extend(chunk_signature(frame.header));
        frame
            .parts()
            .iter()
            .for_each(|p| encoded.extend_from_slice(p));
    }
    chunk_signatures.extend(chunk_signature(finish.end));
    encoded.extend_from_slice(finish.end);

    let headers: Vec<serde_json::Value> = signed
        .headers
        .iter()
        .map(|(name, value)| (*name, value.as_str()))
        .chain(signed.signed.headers())
        .map(|(name, value)| serde_json::json!([name, value]))
        .collect();
    Ok(serde_json::json!({
        "seed_signature": signed.signed.signature.as_str(),
        "chunk_signatures": chunk_signatures,
        "headers": headers,
        "authorization": signed.signed.authorization(),
        "content_length": upload.content_length(),
        "body_b64": base64::engine::general_purpose::STANDARD.encode(&encoded),
    }))
}

/// The signature in a chunk's header line (`hex;chunk-signature=SIG\r\n`), if it has one.
fn chunk_signature(header: &[u8]) -> Option<String> {
    let line = header.split(|&b| b == b'\r').next()?;
    let line = std::str::from_utf8(line).ok()?;
    line.split_once(";chunk-signature=")
        .map(|(_, signature)| signature.trim_end_matches('*').to_string())
}
