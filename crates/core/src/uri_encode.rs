//! Percent-encoding as SigV4 defines it: every byte outside the RFC 3986 unreserved set
//! (`A-Z a-z 0-9 - . _ ~`) becomes `%XY` with uppercase hex.

use alloc::vec::Vec;

use crate::hex::digit_value;

const UPPER: &[u8; 16] = b"0123456789ABCDEF";

/// A 256-entry table built at compile time from a byte predicate (one load per byte on the hot
/// path, instead of a chain of comparisons).
macro_rules! byte_table {
    (|$b:ident| $allowed:expr) => {{
        let mut table = [false; 256];
        let mut i = 0;
        while i < 256 {
            let $b = i as u8;
            table[i] = $allowed;
            i += 1;
        }
        table
    }};
}
pub(crate) use byte_table;

const UNRESERVED: [bool; 256] =
    byte_table!(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'));

const UNRESERVED_OR_SLASH: [bool; 256] = byte_table!(|b| UNRESERVED[b as usize] || b == b'/');

/// Path characters RFC 3986 allows as sent: unreserved, sub-delims, `:`, `@` and `/`.
const VALID_IN_PATH: [bool; 256] = byte_table!(|b| {
    UNRESERVED_OR_SLASH[b as usize]
        || matches!(
            b,
            b'!' | b'$'
                | b'&'
                | b'\''
                | b'('
                | b')'
                | b'*'
                | b'+'
                | b','
                | b';'
                | b'='
                | b':'
                | b'@'
        )
});

/// Bytes a request line carries as they are in a path: all visible ASCII but those WHATWG URLs
/// (fetch, browsers) percent-encode (`"`, `<`, `>`, `` ` ``, `{`, `}`), which HTTP stacks (the
/// `http` crate under hyper and wasi:http) accept too. So a URL string sent by fetch goes out in
/// the form that was signed.
const SENT_IN_PATH: [bool; 256] = byte_table!(|b| {
    b > b' ' && b < 0x7f && !matches!(b, b'"' | b'<' | b'>' | b'`' | b'{' | b'}' | b'#' | b'?')
});

/// The same for a query: WHATWG URLs also leave `` ` ``, `{` and `}` in it, and `?`.
const SENT_IN_QUERY: [bool; 256] =
    byte_table!(|b| b > b' ' && b < 0x7f && !matches!(b, b'"' | b'<' | b'>' | b'#'));

fn push_escaped(out: &mut Vec<u8>, b: u8) {
    out.extend_from_slice(&[
        b'%',
        UPPER[usize::from(b >> 4)],
        UPPER[usize::from(b & 0xf)],
    ]);
}

/// Encodes every byte outside the unreserved set (and outside `/` when `keep_slash`).
pub(crate) fn encode(out: &mut Vec<u8>, bytes: &[u8], keep_slash: bool) {
    let keep = if keep_slash {
        &UNRESERVED_OR_SLASH
    } else {
        &UNRESERVED
    };
    out.reserve(bytes.len());
    let mut start = 0;
    for (i, &b) in bytes.iter().enumerate() {
        if keep[usize::from(b)] {
            continue;
        }
        out.extend_from_slice(&bytes[start..i]);
        push_escaped(out, b);
        start = i + 1;
    }
    out.extend_from_slice(&bytes[start..]);
}

/// Encodes a path that S3 and other single-encoding services see as sent: valid `%XY`
/// triplets, `/` and the characters RFC 3986 allows in a path segment stay; anything else
/// (`|`, `[`, `%` without two hex digits, ...) is encoded, as those services encode it.
pub(crate) fn encode_path_as_sent(out: &mut Vec<u8>, path: &[u8]) {
    out.reserve(path.len());
    let mut start = 0;
    for (i, &b) in path.iter().enumerate() {
        if VALID_IN_PATH[usize::from(b)] || (b == b'%' && is_escape(&path[i..])) {
            continue;
        }
        out.extend_from_slice(&path[start..i]);
        push_escaped(out, b);
        start = i + 1;
    }
    out.extend_from_slice(&path[start..]);
}

/// Appends the wire form of a path: the bytes a request line cannot carry (a space, non-ASCII)
/// and those fetch would encode anyway, percent-encoded. Hosts send this form and the canonical
/// URI is computed from it, so a service reading the request line computes what was signed.
pub(crate) fn encode_path_for_wire(out: &mut Vec<u8>, path: &[u8]) {
    encode_unsent(out, path, &SENT_IN_PATH);
}

/// Appends the wire form of a query, as [`encode_path_for_wire`] does for a path.
pub(crate) fn encode_query_for_wire(out: &mut Vec<u8>, query: &[u8]) {
    encode_unsent(out, query, &SENT_IN_QUERY);
}

fn encode_unsent(out: &mut Vec<u8>, bytes: &[u8], sent: &[bool; 256]) {
    out.reserve(bytes.len());
    let mut start = 0;
    for (i, &b) in bytes.iter().enumerate() {
        if sent[usize::from(b)] {
            continue;
        }
        out.extend_from_slice(&bytes[start..i]);
        push_escaped(out, b);
        start = i + 1;
    }
    out.extend_from_slice(&bytes[start..]);
}

/// Whether `bytes` starts with `%` and two hex digits.
fn is_escape(bytes: &[u8]) -> bool {
    matches!(bytes, [b'%', h, l, ..] if digit_value(*h).is_some() && digit_value(*l).is_some())
}

/// Whether decoding `bytes` (a query name or value) and encoding it again gives `bytes` back:
/// unreserved bytes, and `%XY` escapes in uppercase hex of ASCII bytes that are not unreserved.
/// Query parameters are mostly sent that way (`prefix=photos%2F2024%2F`), and copying them
/// spares the decoding, the UTF-8 check and the encoding.
pub(crate) fn is_encoded_canonically(bytes: &[u8]) -> bool {
    let upper_hex = |b: u8| match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    };
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        if UNRESERVED[usize::from(b)] {
            i += 1;
            continue;
        }
        let escaped = match bytes.get(i..i + 3) {
            Some(&[b'%', h, l]) => upper_hex(h).zip(upper_hex(l)).map(|(h, l)| h << 4 | l),
            _ => None,
        };
        match escaped {
            Some(e) if e.is_ascii() && !UNRESERVED[usize::from(e)] => i += 3,
            _ => return false,
        }
    }
    true
}

/// Decodes `%XY` triplets (a `%` without two hex digits stays literal, as in the WHATWG URL and
/// `form_urlencoded` parsers) and, for query strings, `+` as a space, appending to `out`.
pub(crate) fn decode_into(out: &mut Vec<u8>, bytes: &[u8], plus_as_space: bool) {
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' if is_escape(&bytes[i..]) => {
                let hi = digit_value(bytes[i + 1]).unwrap_or(0);
                let lo = digit_value(bytes[i + 2]).unwrap_or(0);
                out.push(hi << 4 | lo);
                i += 3;
            }
            b'+' if plus_as_space => {
                out.push(b' ');
                i += 1;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::String;

    fn enc(s: &str, keep_slash: bool) -> String {
        let mut out = Vec::new();
        encode(&mut out, s.as_bytes(), keep_slash);
        String::from_utf8(out).unwrap()
    }

    fn as_sent(s: &str) -> String {
        let mut out = Vec::new();
        encode_path_as_sent(&mut out, s.as_bytes());
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn encodes_all_but_unreserved() {
        assert_eq!(enc("a-._~Z9", false), "a-._~Z9");
        assert_eq!(enc("a b/c+%3A", false), "a%20b%2Fc%2B%253A");
        assert_eq!(enc("a b/c+%3A", true), "a%20b/c%2B%253A");
        assert_eq!(enc("ሴ", true), "%E1%88%B4");
    }

    #[test]
    fn single_encoding_keeps_what_is_valid_on_the_wire() {
        assert_eq!(
            as_sent("/a%3Ab/c:d@e!$&'()*+,;="),
            "/a%3Ab/c:d@e!$&'()*+,;="
        );
        assert_eq!(
            as_sent("/a b/ሴ/100%/%zz\"{}"),
            "/a%20b/%E1%88%B4/100%25/%25zz%22%7B%7D"
        );
    }

    #[test]
    fn canonically_encoded_pieces_are_what_decoding_and_encoding_give() {
        // Every string of up to three of these pieces: when the check says canonical, decoding
        // and encoding must give the same bytes. It may refuse some that are (non-ASCII
        // escapes, left to the full path), not the six canonical pieces and their strings.
        const PIECES: [&str; 16] = [
            "a",
            "~",
            "%2F",
            "%2f",
            "%41",
            "%7E",
            "%00",
            "%7F",
            "%80",
            "%E1%88%B4",
            "%",
            "%2",
            "+",
            " ",
            "/",
            "%20",
        ];
        let mut canonical = 0;
        for piece in crate::pieces::every_string_of(&PIECES, 3) {
            let mut decoded = Vec::new();
            decode_into(&mut decoded, piece.as_bytes(), true);
            let mut again = Vec::new();
            if let Ok(text) = core::str::from_utf8(&decoded) {
                encode(&mut again, text.as_bytes(), false);
            }
            if is_encoded_canonically(piece.as_bytes()) {
                assert_eq!(String::from_utf8(again).unwrap(), piece);
                canonical += 1;
            }
        }
        assert_eq!(canonical, 6 + 6 * 6 + 6 * 6 * 6);
    }

    #[test]
    fn decodes_leniently() {
        let mut out = Vec::new();
        decode_into(&mut out, b"a%20b+c%zz%4", true);
        assert_eq!(out, b"a b c%zz%4");
        out.clear();
        decode_into(&mut out, b"a+b%2b", false);
        assert_eq!(out, b"a+b+");
    }
}
