//! A verdict for JavaScript without `core::fmt`: lines that `js/src/verify.js` reads, and from
//! which it builds the reason's words (those of the core's `Display`).

use alloc::string::String;
use sigv4_core::{Rejection, Verified};

use crate::error_text;

/// `1\nid\nregion\nservice\ntime\npayload_verified\nhas_token\ntoken` for a request that
/// verified; `0\ncode\nid\ndetail` for one refused, `id` the access key id it claims when the
/// verifier read it (else empty) and `detail` what the code carries (a header's name, a region,
/// the lines of an error), if anything.
pub(crate) fn write(verdict: &Result<Verified, Rejection>, asked: Option<&str>, out: &mut String) {
    let mut line = |text: &str| {
        out.push_str(text);
        out.push('\n');
    };
    match verdict {
        Ok(v) => {
            line("1");
            line(&v.access_key_id);
            line(&v.region);
            line(&v.service);
            let mut digits = [0u8; 20];
            line(error_text::decimal(v.time.unix_seconds(), &mut digits));
            line(if v.payload_verified { "1" } else { "0" });
            line(if v.session_token.is_some() { "1" } else { "0" });
            out.push_str(v.session_token.as_deref().unwrap_or_default());
        }
        Err(r) => {
            line("0");
            line(r.code());
            // An id with a line break (never a valid one) would cut the lines wrongly.
            line(asked.filter(|id| !id.contains('\n')).unwrap_or_default());
            match r {
                Rejection::Malformed(part) => out.push_str(part),
                Rejection::UnknownAccessKey(detail)
                | Rejection::WrongRegion(detail)
                | Rejection::WrongService(detail)
                | Rejection::SignedHeaderMissing(detail) => out.push_str(detail),
                Rejection::Invalid(e) => out.push_str(&error_text::encode(e)),
                _ => {}
            }
        }
    }
}
