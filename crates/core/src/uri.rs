//! Splitting a request URI into the parts SigV4 signs: authority, path and query.

use crate::error::{Error, Field, check_bytes};

/// The parts of a request URI, borrowed from it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
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
        // The scheme and the authority in one scan each, from where the previous part ended (a
        // search per delimiter over the whole URI cost more, on every signature).
        let (scheme, authority, rest) = if bytes[0] == b'/' {
            (None, None, 0)
        } else {
            let colon = bytes
                .iter()
                .position(|&b| !is_scheme_byte(b))
                .unwrap_or(bytes.len());
            let scheme = &uri[..colon];
            if !uri[colon..].starts_with("://")
                || !scheme.starts_with(|c: char| c.is_ascii_alphabetic())
            {
                return Err(scheme_error(uri));
            }
            // The authority ends at the path, the query or the fragment; user information ends
            // at its last '@'.
            let mut end = bytes.len();
            let mut host = colon + 3;
            let mut space = None;
            for (i, &b) in bytes.iter().enumerate().skip(host) {
                match b {
                    b'/' | b'?' | b'#' => {
                        end = i;
                        break;
                    }
                    b'@' => (host, space) = (i + 1, None),
                    b' ' if space.is_none() => space = Some(i),
                    _ => {}
                }
            }
            if host == end {
                return Err(Error::InvalidUri("the authority (host) is empty"));
            }
            if let Some(at) = space {
                return Err(Error::InvalidByte {
                    field: Field::Host,
                    byte: b' ',
                    position: at - host,
                });
            }
            (Some(scheme), Some(&uri[host..end]), end)
        };
        // The path and the query can be long (S3 keys): memchr-backed searches.
        let without_fragment = match uri[rest..].find('#') {
            Some(at) => &uri[..rest + at],
            None => uri,
        };
        let (path, query) = match without_fragment[rest..].find('?') {
            Some(at) => (
                &without_fragment[rest..rest + at],
                &without_fragment[rest + at + 1..],
            ),
            None => (&without_fragment[rest..], ""),
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
        let host = match default_port {
            Some(port) => authority.strip_suffix(port).unwrap_or(authority),
            None => authority,
        };
        // An empty port is the default one (RFC 3986 section 6.2.3): `h:` is sent as `h`.
        Some(host.strip_suffix(':').unwrap_or(host))
    }
}

/// The bytes of a URI scheme after its first letter (RFC 3986).
fn is_scheme_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'+' | b'-' | b'.')
}

/// Why a URI that is neither origin-form nor `scheme://...` was refused: a bad scheme before a
/// `://`, or no `://` at all.
fn scheme_error(uri: &str) -> Error {
    let without_fragment = uri.split('#').next().unwrap_or_default();
    match without_fragment.find(':') {
        Some(at) if without_fragment[at..].starts_with("://") => {
            Error::InvalidUri("the scheme is not valid")
        }
        _ => Error::InvalidUri("must start with '/' or 'scheme://'"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The previous parser, a search per delimiter: the one-scan parser must agree with it.
    fn parse_by_searches(uri: &str) -> Result<Uri<'_>, Error> {
        if uri.is_empty() {
            return Err(Error::Empty(Field::Uri));
        }
        check_bytes(uri, Field::Uri, |b| !b.is_ascii_control())?;
        let without_fragment = uri.split('#').next().unwrap_or_default();
        let (scheme, authority, rest) = if without_fragment.starts_with('/') {
            (None, None, without_fragment)
        } else {
            let (scheme, after) = match without_fragment.find(':') {
                Some(at) if without_fragment[at..].starts_with("://") => {
                    (&without_fragment[..at], &without_fragment[at + 3..])
                }
                _ => return Err(Error::InvalidUri("must start with '/' or 'scheme://'")),
            };
            let valid = scheme.starts_with(|c: char| c.is_ascii_alphabetic())
                && scheme.bytes().all(is_scheme_byte);
            if !valid {
                return Err(Error::InvalidUri("the scheme is not valid"));
            }
            let end = after.find(['/', '?']).unwrap_or(after.len());
            let authority = &after[..end];
            let authority = authority.rsplit('@').next().unwrap_or_default();
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
        let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
        Ok(Uri {
            scheme,
            authority,
            path,
            query,
            without_fragment,
        })
    }

    #[test]
    fn agrees_with_a_search_per_delimiter() {
        // Every string of up to four of these pieces.
        const PIECES: [&str; 15] = [
            "https://", "http", "://", "/", "?", "#", "@", " ", ":", "a", "1", "+", "h.com", "\n",
            "é",
        ];
        let uris = crate::pieces::every_string_of(&PIECES, 4);
        for uri in &uris {
            assert_eq!(Uri::parse(uri), parse_by_searches(uri), "{uri:?}");
        }
        assert_eq!(uris.len(), 15 + 15 * 15 + 15 * 15 * 15 + 15 * 15 * 15 * 15);
    }

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
        assert_eq!(Uri::parse("https://h:/x").unwrap().host(), Some("h"));
        assert_eq!(
            Uri::parse("http://[::1]:80/").unwrap().host(),
            Some("[::1]")
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
