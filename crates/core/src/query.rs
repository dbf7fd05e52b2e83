//! The canonical query string: each parameter decoded, re-encoded with the unreserved set,
//! sorted by encoded name then value.

use alloc::string::String;
use alloc::vec::Vec;
use core::ops::Range;

use crate::uri_encode::{decode_into, encode};

/// Appends the canonical form of `query` (as sent, without `?`) plus the `extra` parameters
/// (raw, not yet encoded: the presigning parameters) to `out`.
///
/// `a&b=` gives `a=&b=`; repeated names keep every value, sorted; `+` is a space and escapes that
/// decode to invalid UTF-8 become U+FFFD, as the `application/x-www-form-urlencoded` parsers of
/// AWS services, botocore and the AWS SDKs read them.
pub(crate) fn write_canonical_query(out: &mut String, query: &str, extra: &[(&str, &str)]) {
    if query.is_empty() && extra.is_empty() {
        return;
    }
    let mut encoded = String::with_capacity(query.len() + extra.len() * 48);
    let mut pairs: Vec<(Range<usize>, Range<usize>)> = Vec::new();
    let mut scratch = Vec::new();
    let mut push = |encoded: &mut String, name: &[u8], value: &[u8], raw: bool| {
        let mut piece = |bytes: &[u8]| {
            let start = encoded.len();
            if raw {
                encode(encoded, bytes, false);
            } else {
                scratch.clear();
                decode_into(&mut scratch, bytes, true);
                // Decoded bytes that are not UTF-8 become U+FFFD, as the services' form decoders,
                // botocore and aws-sigv4 read them.
                encode(encoded, String::from_utf8_lossy(&scratch).as_bytes(), false);
            }
            start..encoded.len()
        };
        let name = piece(name);
        let value = piece(value);
        pairs.push((name, value));
    };
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
        push(&mut encoded, name.as_bytes(), value.as_bytes(), false);
    }
    for (name, value) in extra {
        push(&mut encoded, name.as_bytes(), value.as_bytes(), true);
    }
    pairs.sort_unstable_by(|a, b| {
        let key = |p: &(Range<usize>, Range<usize>)| (&encoded[p.0.clone()], &encoded[p.1.clone()]);
        key(a).cmp(&key(b))
    });
    for (i, (name, value)) in pairs.iter().enumerate() {
        if i > 0 {
            out.push('&');
        }
        out.push_str(&encoded[name.clone()]);
        out.push('=');
        out.push_str(&encoded[value.clone()]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn canon(query: &str, extra: &[(&str, &str)]) -> String {
        let mut out = String::new();
        write_canonical_query(&mut out, query, extra);
        out
    }

    #[test]
    fn sorts_decodes_and_reencodes() {
        assert_eq!(canon("", &[]), "");
        assert_eq!(
            canon("Param2=value2&Param1=value1", &[]),
            "Param1=value1&Param2=value2"
        );
        assert_eq!(
            canon("Param-3=Value3&Param=Value2&%E1%88%B4=Value1", &[]),
            "%E1%88%B4=Value1&Param=Value2&Param-3=Value3"
        );
        assert_eq!(canon("b=2&a&c=&&a=1&a=0", &[]), "a=&a=0&a=1&b=2&c=");
        assert_eq!(canon("k=a+b%2Bc%2fd%7e!*", &[]), "k=a%20b%2Bc%2Fd~%21%2A");
        assert_eq!(canon("%aa=%C3%A9%C3", &[]), "%EF%BF%BD=%C3%A9%EF%BF%BD");
        assert_eq!(
            canon(
                "x=1",
                &[("X-Amz-Credential", "AKID/20150830/us-east-1/s/aws4_request")]
            ),
            "X-Amz-Credential=AKID%2F20150830%2Fus-east-1%2Fs%2Faws4_request&x=1"
        );
    }
}
