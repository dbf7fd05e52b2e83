//! The `verifier` resource: the core's verifier, with the keys the caller gives.

use std::cell::RefCell;

use crate::bindings::exports::sigv4::core::signing::{
    Credentials, GuestVerifier, Rejection, RejectionCode, Request, Verified, VerifyParams,
};
use crate::{Headers, Names, core_request, core_settings};

/// A core `Signer`, whose signing-key cache lives as long as the resource.
pub(crate) struct Verifier(RefCell<sigv4_core::Signer>);

impl GuestVerifier for Verifier {
    fn new() -> Self {
        Verifier(RefCell::new(sigv4_core::Signer::new()))
    }

    fn verify(
        &self,
        request: Request,
        params: VerifyParams,
        keys: Vec<Credentials>,
    ) -> Result<Verified, Rejection> {
        let now = sigv4_core::Timestamp::from_unix_seconds(params.now)
            .map_err(|e| rejection(sigv4_core::Rejection::Invalid(e), None))?;
        let headers = Headers::of(&request);
        let names = Names::of(params.settings.as_ref());
        let core_params = sigv4_core::VerifyParams {
            now,
            max_skew_secs: params.max_skew,
            region: params.region.as_deref(),
            service: params.service.as_deref(),
            // The verifier reads the algorithm from the request.
            settings: params
                .settings
                .as_ref()
                .map(|s| core_settings(s, sigv4_core::Algorithm::SigV4, &names)),
        };
        let mut asked = None;
        let verdict = self.0.borrow_mut().verify(
            &core_request(&request, headers.get()),
            &core_params,
            |id| {
                asked = Some(id.to_string());
                keys.iter()
                    .find(|key| key.access_key_id == id)
                    .map(|key| key.secret_access_key.as_str())
            },
        );
        match verdict {
            Ok(v) => Ok(Verified {
                access_key_id: v.access_key_id.into_owned(),
                region: v.region.into_owned(),
                service: v.service.into_owned(),
                time: v.time.unix_seconds(),
                session_token: v.session_token.map(|t| t.into_owned()),
                payload_verified: v.payload_verified,
            }),
            Err(r) => Err(rejection(r, asked)),
        }
    }
}

/// The core's rejection as the WIT's: its code, what it carries, and its words.
fn rejection(r: sigv4_core::Rejection, access_key_id: Option<String>) -> Rejection {
    use sigv4_core::Rejection as R;
    let message = r.to_string();
    let (code, detail) = match r {
        R::NotSigned => (RejectionCode::NotSigned, None),
        R::Malformed(part) => (RejectionCode::Malformed, Some(part.into())),
        R::UnsupportedAlgorithm => (RejectionCode::UnsupportedAlgorithm, None),
        R::UnknownAccessKey(id) => (RejectionCode::UnknownAccessKey, Some(id)),
        R::ScopeDateMismatch => (RejectionCode::ScopeDateMismatch, None),
        R::WrongRegion(region) => (RejectionCode::WrongRegion, Some(region)),
        R::WrongService(service) => (RejectionCode::WrongService, Some(service)),
        R::HostNotSigned => (RejectionCode::HostNotSigned, None),
        R::DateNotSigned => (RejectionCode::DateNotSigned, None),
        R::SignedHeaderMissing(name) => (RejectionCode::SignedHeaderMissing, Some(name)),
        R::ContentSha256Mismatch => (RejectionCode::ContentSha256Mismatch, None),
        R::OutsideSkew => (RejectionCode::OutsideSkew, None),
        R::NotYetValid => (RejectionCode::NotYetValid, None),
        R::Expired => (RejectionCode::Expired, None),
        R::ExpiresOutOfRange => (RejectionCode::ExpiresOutOfRange, None),
        R::Invalid(e) => (RejectionCode::Invalid, Some(e.to_string())),
        R::SignatureMismatch => (RejectionCode::SignatureMismatch, None),
        R::HostMismatch => (RejectionCode::HostMismatch, None),
        R::TokenNotSigned => (RejectionCode::TokenNotSigned, None),
        R::UnsupportedPayload => (RejectionCode::UnsupportedPayload, None),
        // The core's rejection is non-exhaustive: a reason added there is malformed input
        // here (its words say which) until it gets a code of its own.
        _ => (RejectionCode::Malformed, None),
    };
    Rejection {
        code,
        detail,
        message,
        access_key_id,
    }
}
