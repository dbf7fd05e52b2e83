//! The canonical request:
//! `Method \n CanonicalURI \n CanonicalQuery \n CanonicalHeaders \n SignedHeaders \n PayloadHash`.

use alloc::string::String;

use crate::headers::{Entry, write_canonical_headers};
use crate::path_normalize::normalize;
use crate::query::write_canonical_query;
use crate::settings::{Settings, UriEncoding};
use crate::uri::Uri;
use crate::uri_encode::{encode, encode_path_as_sent};

/// The parts of a canonical request, already validated.
pub(crate) struct Parts<'a> {
    pub(crate) method: &'a str,
    pub(crate) uri: &'a Uri<'a>,
    /// Presigning parameters, raw, added to the request's own query.
    pub(crate) extra_query: &'a [(&'a str, &'a str)],
    /// Sorted by name.
    pub(crate) headers: &'a [Entry<'a>],
    pub(crate) signed_headers: &'a str,
    pub(crate) payload_hash: &'a str,
}

pub(crate) fn build(parts: &Parts<'_>, settings: &Settings<'_>) -> String {
    let mut out = String::with_capacity(
        256 + parts.uri.path.len() * 3 + parts.uri.query.len() * 3 + parts.headers.len() * 64,
    );
    out.push_str(parts.method);
    out.push('\n');
    write_canonical_uri(&mut out, parts.uri.path, settings);
    out.push('\n');
    write_canonical_query(&mut out, parts.uri.query, parts.extra_query);
    out.push('\n');
    write_canonical_headers(&mut out, parts.headers);
    out.push('\n');
    out.push_str(parts.signed_headers);
    out.push('\n');
    out.push_str(parts.payload_hash);
    out
}

/// The path as sent, normalized if asked, then encoded once more (most services) or only where
/// it is not valid on the wire (S3). An empty path is `/`.
fn write_canonical_uri(out: &mut String, path: &str, settings: &Settings<'_>) {
    let path = if path.is_empty() { "/" } else { path };
    let path = if settings.normalize_path {
        normalize(path)
    } else {
        path.into()
    };
    match settings.uri_encoding {
        UriEncoding::Double => encode(out, path.as_bytes(), true),
        UriEncoding::Single => encode_path_as_sent(out, path.as_bytes()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn uri(path: &str, settings: Settings<'_>) -> String {
        let mut out = String::new();
        write_canonical_uri(&mut out, path, &settings);
        out
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
        assert_eq!(uri("", other), "/");
    }
}
