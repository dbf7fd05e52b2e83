//! The request headers as Envoy hands them over: one buffer in the proxy-wasm map encoding, read
//! in place. The SDK's `get_map` copies every name and value into its own `String` (two
//! allocations per header, on every request) and panics on a value that is not UTF-8; this map
//! keeps the buffer, validates it once, and turns a malformed one into an error.

use std::fmt;
use std::ops::Range;

/// Request headers, pseudo-headers (`:method`, `:path`, `:authority`) first, in Envoy's order.
#[derive(Clone, Default)]
pub struct HeaderMap {
    /// The names and values, each followed by a NUL, as Envoy wrote them.
    text: String,
    /// Where each name and value lies in `text`.
    spans: Vec<(Range<usize>, Range<usize>)>,
}

/// Why Envoy's header buffer could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MapError {
    /// The buffer does not hold what its own lengths say (too short, or a string not followed
    /// by its NUL).
    Malformed,
    /// A name or value is not UTF-8 (HTTP allows other bytes in values; AWS signs text only).
    NotUtf8,
}

impl fmt::Display for MapError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            MapError::Malformed => "the header map from Envoy is malformed",
            MapError::NotUtf8 => "a request header is not UTF-8",
        })
    }
}

fn u32_at(bytes: &[u8], at: usize) -> Result<usize, MapError> {
    let word = bytes.get(at..at + 4).ok_or(MapError::Malformed)?;
    Ok(u32::from_le_bytes([word[0], word[1], word[2], word[3]]) as usize)
}

impl HeaderMap {
    /// Reads the proxy-wasm encoding: the pair count (u32, little-endian), each pair's name and
    /// value lengths (u32 each), then each name and value followed by a NUL. The buffer is kept
    /// (its length prefix moved out), not copied.
    pub fn from_proxy_wasm(mut bytes: Vec<u8>) -> Result<HeaderMap, MapError> {
        if bytes.is_empty() {
            return Ok(HeaderMap::default());
        }
        let count = u32_at(&bytes, 0)?;
        let prefix = count
            .checked_mul(8)
            .and_then(|n| n.checked_add(4))
            .filter(|&n| n <= bytes.len())
            .ok_or(MapError::Malformed)?;
        let mut spans = Vec::with_capacity(count);
        let mut at = 0usize;
        // Each string is followed by its NUL: then every span starts and ends on a character
        // boundary, and slicing the text cannot panic.
        let text = &bytes[prefix..];
        let mut next = |len: usize| -> Result<Range<usize>, MapError> {
            let span = at..at
                .checked_add(len)
                .filter(|&end| text.get(end) == Some(&0))
                .ok_or(MapError::Malformed)?;
            at = span.end + 1;
            Ok(span)
        };
        for pair in 0..count {
            let name = next(u32_at(&bytes, 4 + pair * 8)?)?;
            let value = next(u32_at(&bytes, 8 + pair * 8)?)?;
            spans.push((name, value));
        }
        bytes.drain(..prefix);
        let text = String::from_utf8(bytes).map_err(|_| MapError::NotUtf8)?;
        Ok(HeaderMap { text, spans })
    }

    /// The pairs in order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.spans
            .iter()
            .map(|(name, value)| (&self.text[name.clone()], &self.text[value.clone()]))
    }

    /// The first value of `name` (lowercase, as Envoy keeps names), or "".
    pub fn get(&self, name: &str) -> &str {
        self.iter().find(|(n, _)| *n == name).map_or("", |(_, v)| v)
    }

    pub fn len(&self) -> usize {
        self.spans.len()
    }

    pub fn is_empty(&self) -> bool {
        self.spans.is_empty()
    }
}

/// Maps built from pairs, for the tests of this crate.
#[cfg(test)]
impl<'a> FromIterator<(&'a str, &'a str)> for HeaderMap {
    fn from_iter<I: IntoIterator<Item = (&'a str, &'a str)>>(pairs: I) -> Self {
        let mut map = HeaderMap::default();
        for (name, value) in pairs {
            let start = map.text.len();
            map.text.push_str(name);
            map.text.push('\0');
            map.text.push_str(value);
            map.text.push('\0');
            let name = start..start + name.len();
            let value = name.end + 1..name.end + 1 + value.len();
            map.spans.push((name, value));
        }
        map
    }
}

/// Values may be credentials (`authorization`, `x-amz-security-token`): names only.
impl fmt::Debug for HeaderMap {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter().map(|(n, _)| n)).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The encoding Envoy writes (proxy-wasm ABI), as the SDK serializes maps.
    fn encode(pairs: &[(&[u8], &[u8])]) -> Vec<u8> {
        let mut out = (pairs.len() as u32).to_le_bytes().to_vec();
        for (n, v) in pairs {
            out.extend((n.len() as u32).to_le_bytes());
            out.extend((v.len() as u32).to_le_bytes());
        }
        for (n, v) in pairs {
            out.extend(*n);
            out.push(0);
            out.extend(*v);
            out.push(0);
        }
        out
    }

    #[test]
    fn reads_envoys_encoding_in_order() {
        let bytes = encode(&[
            (b":authority", b"bucket.s3.amazonaws.com"),
            (b":path", b"/caf%C3%A9?x=1"),
            (b"x-empty", b""),
            (b"x-unicode", "caf\u{e9}".as_bytes()),
        ]);
        let map = HeaderMap::from_proxy_wasm(bytes).unwrap();
        let pairs: Vec<_> = map.iter().collect();
        assert_eq!(
            pairs,
            [
                (":authority", "bucket.s3.amazonaws.com"),
                (":path", "/caf%C3%A9?x=1"),
                ("x-empty", ""),
                ("x-unicode", "caf\u{e9}"),
            ]
        );
        assert_eq!(map.get(":path"), "/caf%C3%A9?x=1");
        assert_eq!(map.get("absent"), "");
        let built: HeaderMap = pairs.iter().copied().collect();
        assert_eq!(built.iter().collect::<Vec<_>>(), pairs);
        assert!(HeaderMap::from_proxy_wasm(Vec::new()).unwrap().is_empty());
    }

    #[test]
    fn malformed_buffers_are_errors() {
        let whole = encode(&[(b"a", b"bc"), (b"d", b"e")]);
        for cut in 1..whole.len() {
            assert_eq!(
                HeaderMap::from_proxy_wasm(whole[..cut].to_vec()).unwrap_err(),
                MapError::Malformed,
                "cut at {cut}"
            );
        }
        let mut huge = whole.clone();
        huge[..4].copy_from_slice(&u32::MAX.to_le_bytes());
        assert_eq!(
            HeaderMap::from_proxy_wasm(huge).unwrap_err(),
            MapError::Malformed
        );
        let mut misplaced = whole.clone();
        misplaced[8..12].copy_from_slice(&1u32.to_le_bytes()); // "bc" said to be 1 byte long
        assert_eq!(
            HeaderMap::from_proxy_wasm(misplaced).unwrap_err(),
            MapError::Malformed
        );
        let latin1 = encode(&[(b"x-name", b"caf\xe9")]);
        assert_eq!(
            HeaderMap::from_proxy_wasm(latin1).unwrap_err(),
            MapError::NotUtf8
        );
    }

    #[test]
    fn debug_shows_names_not_values() {
        let map: HeaderMap = [("authorization", "AWS4-HMAC-SHA256 secret")]
            .into_iter()
            .collect();
        assert_eq!(format!("{map:?}"), r#"["authorization"]"#);
    }
}
