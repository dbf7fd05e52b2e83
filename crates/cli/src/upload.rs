//! `sigv4 send --upload-file FILE`: a file of any size uploaded to S3 as an aws-chunked body,
//! signed chunk by chunk as it is read, in bounded memory.
//!
//! The seed is signed by the native core (`Signer::sign_chunked`) with the credential chain's
//! credentials, and the body streamed by the host library's `upload::stream_upload`: the WIT
//! contract has no chunked signing yet, and the agent component's wasi:http send takes the
//! whole body in hand.

use std::collections::HashMap;
use std::time::{SystemTime, UNIX_EPOCH};

use sigv4_cli::client::{Response, resolve_scope};
use sigv4_core::{
    ChecksumAlgorithm, ChunkedUpload, Credentials, Payload, Request, Settings, Signer,
    SigningParams, StreamingForm, Timestamp,
};
use sigv4_host::credentials;
use sigv4_host::upload::{UploadRequest, stream_upload};

/// What to upload and how.
pub struct FileUpload<'a> {
    /// `PUT` unless given.
    pub method: &'a str,
    pub url: &'a str,
    /// The request's own headers (signed).
    pub headers: &'a [(String, String)],
    pub service: Option<&'a str>,
    pub region: Option<&'a str>,
    pub file: &'a std::path::Path,
    pub chunk_size: usize,
    /// A trailing checksum of the file: `STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER`.
    pub checksum: Option<ChecksumAlgorithm>,
    /// Chunks unsigned (`STREAMING-UNSIGNED-PAYLOAD-TRAILER`, with a checksum).
    pub unsigned: bool,
}

/// Signs the upload's seed with the chain's credentials and streams the file.
pub fn upload_file(
    upload: &FileUpload<'_>,
    env: &HashMap<String, String>,
) -> Result<Response, String> {
    let file =
        std::fs::File::open(upload.file).map_err(|e| format!("{}: {e}", upload.file.display()))?;
    let length = file
        .metadata()
        .map_err(|e| format!("{}: {e}", upload.file.display()))?
        .len();
    let form = match (upload.unsigned, upload.checksum) {
        (false, None) => StreamingForm::Signed,
        (false, Some(_)) => StreamingForm::SignedWithTrailer,
        (true, Some(_)) => StreamingForm::UnsignedWithTrailer,
        (true, None) => {
            return Err("--unsigned-payload with --upload-file sends a trailing checksum: give --checksum (crc32c, ...)".into());
        }
    };
    let chunked = ChunkedUpload::new(form, length, upload.chunk_size, upload.checksum)
        .map_err(|e| e.to_string())?;

    let headers: Vec<(&str, &str)> = upload
        .headers
        .iter()
        .map(|(n, v)| (n.as_str(), v.as_str()))
        .collect();
    let (service, region) =
        resolve_scope(upload.url, &headers, upload.service, upload.region, || {
            credentials::resolve_region(env)
        })?;
    let found = credentials::default_chain(env)
        .resolve()
        .map_err(|e| e.to_string())?;
    let credentials = Credentials::new(
        &found.access_key_id,
        &found.secret_access_key,
        found.session_token.as_ref().map(|t| t.as_str()),
    )
    .map_err(|e| e.to_string())?;
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let params = SigningParams {
        credentials: &credentials,
        region: &region,
        service: &service,
        time: Timestamp::from_unix_seconds(now).map_err(|e| e.to_string())?,
        settings: Settings::for_service(&service),
    };
    let request = Request {
        method: upload.method,
        uri: upload.url,
        headers: &headers,
        payload: Payload::Unsigned,
    };
    let signed = Signer::new()
        .sign_chunked(&request, &params, &chunked)
        .map_err(|e| e.to_string())?;

    // The request's headers but those the upload replaces, then the upload's, then the signed.
    let replaced = |name: &str| {
        signed
            .headers
            .iter()
            .any(|(n, _)| n.eq_ignore_ascii_case(name))
            || signed
                .signed
                .headers()
                .any(|(n, _)| n.eq_ignore_ascii_case(name))
            || name.eq_ignore_ascii_case("transfer-encoding")
    };
    let mut send: Vec<(String, String)> = upload
        .headers
        .iter()
        .filter(|(name, _)| !replaced(name))
        .cloned()
        .collect();
    send.extend(
        signed
            .headers
            .iter()
            .map(|(n, v)| (n.to_string(), v.clone())),
    );
    send.extend(
        signed
            .signed
            .headers()
            .map(|(n, v)| (n.to_string(), v.to_string())),
    );
    // The target that was signed: the URL as given when it is in wire form already. (The
    // connection goes to the URL's authority, which a Host header does not change.)
    let url = if signed.signed.uri_as_sent() {
        upload.url.to_string()
    } else {
        wire_url(upload.url, signed.signed.path_and_query())?
    };
    let answer = stream_upload(
        &UploadRequest {
            method: upload.method,
            url: &url,
            headers: &send,
        },
        signed.encoder,
        file,
    )?;
    Ok(Response {
        status: answer.status,
        headers: answer.headers,
        body: answer.body,
    })
}

/// `url`'s scheme and authority (where the request goes, without user information) with the
/// signed path and query.
fn wire_url(url: &str, path_and_query: &str) -> Result<String, String> {
    let (scheme, rest) = url
        .split_once("://")
        .ok_or_else(|| format!("{url}: give an absolute URL (http:// or https://)"))?;
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let authority = authority
        .rsplit_once('@')
        .map_or(authority, |(_, host)| host);
    Ok(format!("{scheme}://{authority}{path_and_query}"))
}
