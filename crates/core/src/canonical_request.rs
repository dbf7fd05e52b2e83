//! The canonical request:
//! `Method \n CanonicalURI \n CanonicalQuery \n CanonicalHeaders \n SignedHeaders \n PayloadHash`.

use alloc::vec::Vec;

use crate::headers::HeaderSet;
use crate::path_normalize::normalize;
use crate::query::{QueryScratch, write_canonical_query};
use crate::settings::{Settings, UriEncoding};
use crate::uri_encode::{encode, encode_path_as_sent};

/// The parts of a canonical request, already validated.
pub(crate) struct Parts<'a> {
    pub(crate) method: &'a str,
    /// The path in its wire form (see `uri_encode::encode_path_for_wire`), `/` if empty.
    pub(crate) path: &'a str,
    /// The query as sent, without `?`.
    pub(crate) query: &'a str,
    /// Presigning parameters, percent-encoded, added to the request's own query.
    pub(crate) extra_query: &'a [(&'a str, &'a [u8])],
    /// The headers to sign, sorted by name.
    pub(crate) headers: &'a HeaderSet,
    /// The request's headers, which `headers` refers to.
    pub(crate) request_headers: &'a [(&'a str, &'a str)],
    /// The values the signer adds, which `headers` refers to.
    pub(crate) added_values: &'a [&'a str],
    pub(crate) signed_headers: &'a str,
    pub(crate) payload_hash: &'a str,
}

/// Writes the canonical request's bytes into `out` (UTF-8: every input is text and every escape
/// ASCII).
pub(crate) fn build(
    out: &mut Vec<u8>,
    query_scratch: &mut QueryScratch,
    parts: &Parts<'_>,
    settings: &Settings<'_>,
) {
    out.clear();
    out.reserve(
        384 + parts.path.len() * 3 + parts.query.len() * 3 + parts.request_headers.len() * 64,
    );
    out.extend_from_slice(parts.method.as_bytes());
    out.push(b'\n');
    write_canonical_uri(out, parts.path, settings);
    out.push(b'\n');
    write_canonical_query(out, query_scratch, parts.query, parts.extra_query);
    out.push(b'\n');
    parts
        .headers
        .write_canonical(out, parts.request_headers, parts.added_values);
    out.push(b'\n');
    out.extend_from_slice(parts.signed_headers.as_bytes());
    out.push(b'\n');
    out.extend_from_slice(parts.payload_hash.as_bytes());
}

/// The path in its wire form, normalized if asked, then encoded once more (most services) or
/// as S3 reads it: as sent, with what RFC 3986 does not allow in a path encoded.
fn write_canonical_uri(out: &mut Vec<u8>, wire_path: &str, settings: &Settings<'_>) {
    let path = if settings.normalize_path {
        normalize(wire_path)
    } else {
        wire_path.into()
    };
    match settings.uri_encoding {
        UriEncoding::Double => encode(out, path.as_bytes(), true),
        UriEncoding::Single => encode_path_as_sent(out, path.as_bytes()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::String;

    fn uri(path: &str, settings: Settings<'_>) -> String {
        let mut wire = Vec::new();
        crate::uri_encode::encode_path_for_wire(&mut wire, path.as_bytes());
        let mut out = Vec::new();
        write_canonical_uri(&mut out, core::str::from_utf8(&wire).unwrap(), &settings);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn encodes_paths_per_service() {
        let s3 = Settings::s3();
        let other = Settings::default();
        // Lambda ARNs: the path as sent carries %3A, most services sign %253A.
        assert_eq!(
            uri("/functions/arn%3Aaws%3Alambda/invocations", other),
            "/functions/arn%253Aaws%253Alambda/invocations"
        );
        // S3 signs the key as sent (envoy#35023 double-encoded it and S3 refused).
        assert_eq!(uri("/bucket/a%20b%2Bc+d@e", s3), "/bucket/a%20b%2Bc+d@e");
        assert_eq!(uri("/bucket/a b/ሴ", s3), "/bucket/a%20b/%E1%88%B4");
        assert_eq!(uri("/bucket//a/../b", s3), "/bucket//a/../b");
        assert_eq!(uri("/a//b/../c", other), "/a/c");
        // A raw space or non-ASCII character is sent encoded, and a double-encoding service
        // encodes that escape again.
        assert_eq!(uri("/a b/ሴ", other), "/a%2520b/%25E1%2588%25B4");
    }
}
