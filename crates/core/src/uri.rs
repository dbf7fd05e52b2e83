//! Splitting a request URI into the parts SigV4 signs: authority, path and query.

use crate::error::{Error, Field, check_bytes};

/// The parts of a request URI, borrowed from it.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Uri<'a> {
    /// `https` or `http` when the URI is absolute.
    pub(crate) scheme: Option<&'a str>,
    /// `host[:port]` without user information, when the URI is absolute.
    pub(crate) authority: Option<&'a str>,
    /// The path as sent (may be empty for `https://host`).
    pub(crate) path: &'a str,
    /// The query without its `?` (the fragment, never sent, is dropped).
    pub(crate) query: &'a str,
    /// Everything before the fragment: what goes on the wire and into a presigned URL.
    pub(crate) without_fragment: &'a str,
}

impl<'a> Uri<'a> {
    /// Accepts origin-form (`/path?query`) and absolute (`scheme://authority/path?query`) URIs.
    /// Spaces and non-ASCII characters in the path are accepted (and percent-encoded when
    /// signing); control characters are not.
    pub(crate) fn parse(uri: &'a str) -> Result<Self, Error> {
        if uri.is_empty() {
            return Err(Error::Empty(Field::Uri));
        }
        let bytes = uri.as_bytes();
        // Without early exit, so that it vectorizes; the slow path finds the offending byte.
        if !bytes.iter().fold(true, |ok, &b| ok & !b.is_ascii_control()) {
            check_bytes(uri, Field::Uri, |b| !b.is_ascii_control())?;
        }
        // `str::find` with a char uses memchr: faster than a byte loop on long URIs.
        let without_fragment = match uri.find('#') {
            Some(end) => &uri[..end],
            None => uri,
        };
        let (scheme, authority, rest) = if without_fragment.starts_with('/') {
            (None, None, without_fragment)
        } else {
            let (scheme, after) = match without_fragment.find(':') {
                Some(at) if without_fragment[at..].starts_with("://") => {
                    (&without_fragment[..at], &without_fragment[at + 3..])
                }
                _ => return Err(Error::InvalidUri("must start with '/' or 'scheme://'")),
            };
            let valid_scheme = scheme
                .bytes()
                .next()
                .is_some_and(|b| b.is_ascii_alphabetic())
                && scheme
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'-' | b'.'));
            if !valid_scheme {
                return Err(Error::InvalidUri("the scheme is not valid"));
            }
            // memchr-backed searches: URIs are scanned on every signature.
            let end = after.find('/').unwrap_or(after.len());
            let end = after[..end].find('?').unwrap_or(end);
            let authority = &after[..end];
            let authority = match authority.rfind('@') {
                Some(at) => &authority[at + 1..],
                None => authority,
            };
            if authority.is_empty() {
                return Err(Error::InvalidUri("the authority (host) is empty"));
            }
            if let Some(position) = authority.find(' ') {
                return Err(Error::InvalidByte {
                    field: Field::Host,
                    byte: b' ',
                    position,
                });
            }
            (Some(scheme), Some(authority), &after[end..])
        };
        let (path, query) = match rest.find('?') {
            Some(at) => (&rest[..at], &rest[at + 1..]),
            None => (rest, ""),
        };
        Ok(Uri {
            scheme,
            authority,
            path,
            query,
            without_fragment,
        })
    }

    /// The value of the `Host` header this URI implies: the authority, without a port that is
    /// the scheme's default (as HTTP clients send it).
    pub(crate) fn host(&self) -> Option<&'a str> {
        let authority = self.authority?;
        let default_port = match self.scheme {
            Some(s) if s.eq_ignore_ascii_case("https") => Some(":443"),
            Some(s) if s.eq_ignore_ascii_case("http") => Some(":80"),
            _ => None,
        };
        Some(match default_port {
            Some(port) => authority.strip_suffix(port).unwrap_or(authority),
            None => authority,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_absolute_and_origin_form() {
        let u = Uri::parse("https://user@example.com:443/a%20b?x=1&y#frag").unwrap();
        assert_eq!(u.scheme, Some("https"));
        assert_eq!(u.authority, Some("example.com:443"));
        assert_eq!(u.host(), Some("example.com"));
        assert_eq!((u.path, u.query), ("/a%20b", "x=1&y"));
        assert_eq!(
            u.without_fragment,
            "https://user@example.com:443/a%20b?x=1&y"
        );
        let u = Uri::parse("http://localhost:9000?a").unwrap();
        assert_eq!(
            (u.host(), u.path, u.query),
            (Some("localhost:9000"), "", "a")
        );
        let u = Uri::parse("/example space/ሴ").unwrap();
        assert_eq!(
            (u.authority, u.path, u.query),
            (None, "/example space/ሴ", "")
        );
    }

    #[test]
    fn rejects_what_cannot_be_sent() {
        assert_eq!(Uri::parse(""), Err(Error::Empty(Field::Uri)));
        assert!(matches!(
            Uri::parse("example.com/a"),
            Err(Error::InvalidUri(_))
        ));
        assert!(matches!(
            Uri::parse("https:///a"),
            Err(Error::InvalidUri(_))
        ));
        assert!(matches!(Uri::parse("1ttp://h/"), Err(Error::InvalidUri(_))));
        assert_eq!(
            Uri::parse("/a\nb"),
            Err(Error::InvalidByte {
                field: Field::Uri,
                byte: b'\n',
                position: 2
            })
        );
    }
}
