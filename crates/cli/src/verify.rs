//! `sigv4 verify`: a signed request from a file, checked by the core's verifier against the
//! secrets of a credentials file, as a service that authenticates SigV4 callers checks it.

use std::collections::HashMap;

use sigv4_case::RawRequest;
use sigv4_core::{Payload, Rejection, Request, Signer, Timestamp, VerifyParams};

/// The verdict on a request.
#[derive(Debug, PartialEq, Eq)]
pub struct Verdict {
    /// Why it was refused; None when it verified.
    pub rejection: Option<Rejection>,
    /// The access key id that signed it, when it is known.
    pub access_key_id: Option<String>,
}

impl Verdict {
    /// `{"valid": bool, "reason": string (when invalid), "access_key_id": string (when known)}`.
    pub fn to_json(&self) -> serde_json::Value {
        let mut json = serde_json::json!({ "valid": self.rejection.is_none() });
        if let Some(rejection) = &self.rejection {
            json["reason"] = rejection.to_string().into();
        }
        if let Some(id) = &self.access_key_id {
            json["access_key_id"] = id.as_str().into();
        }
        json
    }
}

/// Verifies `request` (a raw HTTP/1.1 request: the request line, headers, a blank line, the
/// body) with the secrets of `credentials` (JSON `{"ACCESS_KEY_ID": "SECRET", ...}`) at
/// `now` (Unix seconds). An error is input that cannot be read; a refused request is a verdict.
pub fn verify(
    request: &[u8],
    credentials: &[u8],
    now: u64,
    max_skew_secs: u64,
) -> Result<Verdict, String> {
    let secrets: HashMap<String, String> = serde_json::from_slice(credentials).map_err(|e| {
        format!("the credentials file is not a JSON object of access key ids and secrets: {e}")
    })?;
    let raw = RawRequest::parse(request).map_err(|e| format!("the request file: {e}"))?;
    let uri = raw.uri();
    let headers: Vec<(&str, &str)> = raw
        .headers
        .iter()
        .map(|(n, v)| (n.as_str(), v.as_str()))
        .collect();
    let request = Request {
        method: &raw.method,
        uri: &uri,
        headers: &headers,
        payload: Payload::Bytes(&raw.body),
    };
    let now = Timestamp::from_unix_seconds(now).map_err(|e| format!("--now: {e}"))?;
    let params = VerifyParams {
        max_skew_secs,
        ..VerifyParams::new(now)
    };
    let mut asked = None;
    let verdict = Signer::new().verify(&request, &params, |id| {
        asked = Some(id.to_string());
        secrets.get(id)
    });
    Ok(match verdict {
        Ok(verified) => Verdict {
            rejection: None,
            access_key_id: Some(verified.access_key_id.into_owned()),
        },
        Err(rejection) => Verdict {
            rejection: Some(rejection),
            access_key_id: asked,
        },
    })
}
