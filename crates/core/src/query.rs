//! The canonical query string: each parameter decoded, re-encoded with the unreserved set,
//! sorted by encoded name then value.

use alloc::string::String;
use alloc::vec::Vec;
use core::ops::Range;

use crate::uri_encode::{decode_into, encode, is_encoded_canonically};

/// Buffers of [`write_canonical_query`], kept between signatures.
#[derive(Default)]
pub(crate) struct QueryScratch {
    encoded: Vec<u8>,
    pairs: Vec<(Range<usize>, Range<usize>)>,
    decoded: Vec<u8>,
}

/// Appends the canonical form of `query` (as sent, without `?`) plus the `extra` parameters
/// (already encoded: the presigning parameters) to `out`.
///
/// `a&b=` gives `a=&b=`; repeated names keep every value, sorted; `+` is a space and escapes that
/// decode to invalid UTF-8 become U+FFFD, as the `application/x-www-form-urlencoded` parsers of
/// AWS services, botocore and the AWS SDKs read them.
pub(crate) fn write_canonical_query(
    out: &mut Vec<u8>,
    reuse: &mut QueryScratch,
    query: &str,
    extra: &[(&str, &[u8])],
) {
    if query.is_empty() {
        // Only the presigning parameters, which the signer passes already sorted.
        if extra.is_sorted() {
            for (i, (name, value)) in extra.iter().enumerate() {
                if i > 0 {
                    out.push(b'&');
                }
                out.extend_from_slice(name.as_bytes());
                out.push(b'=');
                out.extend_from_slice(value);
            }
            return;
        }
    }
    let QueryScratch {
        encoded,
        pairs,
        decoded: scratch,
    } = reuse;
    encoded.clear();
    pairs.clear();
    let mut piece = |encoded: &mut Vec<u8>, bytes: &[u8], raw: bool| {
        let start = encoded.len();
        if raw {
            encoded.extend_from_slice(bytes);
        } else if !bytes.iter().any(|&b| b == b'%' || b == b'+') {
            encode(encoded, bytes, false);
        } else if is_encoded_canonically(bytes) {
            encoded.extend_from_slice(bytes);
        } else {
            scratch.clear();
            decode_into(scratch, bytes, true);
            match core::str::from_utf8(scratch) {
                Ok(text) => encode(encoded, text.as_bytes(), false),
                // Decoded bytes that are not UTF-8 become U+FFFD, as the services' form
                // decoders, botocore and aws-sigv4 read them.
                Err(_) => encode(encoded, String::from_utf8_lossy(scratch).as_bytes(), false),
            }
        }
        start..encoded.len()
    };
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
        let name = piece(encoded, name.as_bytes(), false);
        let value = piece(encoded, value.as_bytes(), false);
        pairs.push((name, value));
    }
    for (name, value) in extra {
        let name = piece(encoded, name.as_bytes(), true);
        let value = piece(encoded, value, true);
        pairs.push((name, value));
    }
    let key = |p: &(Range<usize>, Range<usize>)| (&encoded[p.0.clone()], &encoded[p.1.clone()]);
    pairs.sort_unstable_by(|a, b| key(a).cmp(&key(b)));
    for (i, (name, value)) in pairs.iter().enumerate() {
        if i > 0 {
            out.push(b'&');
        }
        out.extend_from_slice(&encoded[name.clone()]);
        out.push(b'=');
        out.extend_from_slice(&encoded[value.clone()]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn canon(query: &str, extra: &[(&str, &str)]) -> String {
        let mut out = Vec::new();
        let extra: Vec<(&str, &[u8])> = extra.iter().map(|(n, v)| (*n, v.as_bytes())).collect();
        write_canonical_query(&mut out, &mut QueryScratch::default(), query, &extra);
        String::from_utf8(out).unwrap()
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
                &[(
                    "X-Amz-Credential",
                    "AKID%2F20150830%2Fus-east-1%2Fs%2Faws4_request"
                )]
            ),
            "X-Amz-Credential=AKID%2F20150830%2Fus-east-1%2Fs%2Faws4_request&x=1"
        );
    }
}
