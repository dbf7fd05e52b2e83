//! Canonical headers: lowercase names, trimmed values with inner runs of spaces collapsed,
//! repeated headers joined with commas in the order sent, sorted by name.

use alloc::borrow::Cow;
use alloc::string::String;
use alloc::vec::Vec;

use crate::error::{Error, Field};
use crate::settings::{DEFAULT_EXCLUDED_HEADERS, Settings};

/// One header that will be signed.
pub(crate) struct Entry<'a> {
    pub(crate) name: Cow<'a, str>,
    pub(crate) value: &'a str,
    /// The value is already canonical (one the signer made), so it is copied as is.
    canonical: bool,
}

impl<'a> Entry<'a> {
    /// A header the signer itself adds, whose value is already canonical.
    pub(crate) fn signer(name: &'static str, value: &'a str) -> Self {
        Entry {
            name: Cow::Borrowed(name),
            value,
            canonical: true,
        }
    }
}

/// The bytes of an RFC 9110 token (header names, methods).
const TOKEN: [bool; 256] = crate::uri_encode::byte_table!(|b| {
    b.is_ascii_alphanumeric()
        || matches!(
            b,
            b'!' | b'#'
                | b'$'
                | b'%'
                | b'&'
                | b'\''
                | b'*'
                | b'+'
                | b'-'
                | b'.'
                | b'^'
                | b'_'
                | b'`'
                | b'|'
                | b'~'
        )
});

fn is_token_byte(b: u8) -> bool {
    TOKEN[usize::from(b)]
}

/// Checks an HTTP method (a token).
pub(crate) fn check_method(method: &str) -> Result<(), Error> {
    crate::error::check_text(method, Field::Method, is_token_byte)
}

/// Checks a header value: visible characters, spaces, tabs and non-ASCII text; a line break only
/// as an obsolete line folding (CRLF or LF followed by a space or tab).
fn check_value(value: &str, index: usize) -> Result<(), Error> {
    let bytes = value.as_bytes();
    // The common case, without early exit so that it vectorizes: no control byte but tab.
    if bytes.iter().fold(true, |ok, &b| {
        ok & ((b >= 0x20 && b != 0x7f) | (b == b'\t'))
    }) {
        return Ok(());
    }
    for (position, &byte) in bytes.iter().enumerate() {
        let allowed = match byte {
            b'\t' => true,
            b'\r' => bytes.get(position + 1) == Some(&b'\n'),
            b'\n' => matches!(bytes.get(position + 1), Some(b' ' | b'\t')),
            b => !b.is_ascii_control(),
        };
        if !allowed {
            return Err(Error::InvalidByte {
                field: Field::HeaderValue(index),
                byte,
                position,
            });
        }
    }
    Ok(())
}

/// Validates the request headers and keeps those to sign: not excluded (unless forced), and
/// not one the signer sets itself (`replaced`, lowercase).
pub(crate) fn collect<'a>(
    headers: &'a [(&'a str, &'a str)],
    settings: &Settings<'_>,
    replaced: &[&str],
    out: &mut Vec<Entry<'a>>,
) -> Result<(), Error> {
    for (index, (name, value)) in headers.iter().enumerate() {
        crate::error::check_text(name, Field::HeaderName(index), is_token_byte)?;
        check_value(value, index)?;
        let name = if name.bytes().any(|b| b.is_ascii_uppercase()) {
            Cow::Owned(name.to_ascii_lowercase())
        } else {
            Cow::Borrowed(*name)
        };
        if replaced.contains(&&*name) || is_excluded(&name, settings) {
            continue;
        }
        out.push(Entry {
            name,
            value,
            canonical: false,
        });
    }
    Ok(())
}

fn is_excluded(name: &str, settings: &Settings<'_>) -> bool {
    let listed = |list: &[&str]| list.iter().any(|n| n.eq_ignore_ascii_case(name));
    // The host is always signed: without it a signature could be replayed against another host.
    name != "host"
        && (DEFAULT_EXCLUDED_HEADERS.contains(&name) || listed(settings.excluded_headers))
        && !listed(settings.forced_headers)
}

/// Writes the signed headers list, `name;name;...`, of entries sorted by name.
pub(crate) fn write_signed_headers(signed: &mut String, entries: &[Entry<'_>]) {
    signed.clear();
    let mut previous: Option<&str> = None;
    for entry in entries {
        if previous != Some(&*entry.name) {
            if previous.is_some() {
                signed.push(';');
            }
            signed.push_str(&entry.name);
        }
        previous = Some(&entry.name);
    }
}

/// Writes `name:value[,value...]\n` for each name of entries sorted (stably) by name.
pub(crate) fn write_canonical_headers(out: &mut Vec<u8>, entries: &[Entry<'_>]) {
    let mut previous: Option<&str> = None;
    for entry in entries {
        if previous == Some(&*entry.name) {
            out.push(b',');
        } else {
            if previous.is_some() {
                out.push(b'\n');
            }
            out.extend_from_slice(entry.name.as_bytes());
            out.push(b':');
        }
        if entry.canonical {
            out.extend_from_slice(entry.value.as_bytes());
        } else {
            write_normalized_value(out, entry.value);
        }
        previous = Some(&entry.name);
    }
    if previous.is_some() {
        out.push(b'\n');
    }
}

/// Trims spaces and tabs at both ends, turns each line folding into one space and collapses
/// runs of spaces (the SigV4 `Trimall`); tabs inside the value stay, as AWS services keep them.
fn write_normalized_value(out: &mut Vec<u8>, value: &str) {
    let bytes = value.as_bytes();
    // The common case: nothing to trim, fold or collapse (a CR is only valid before a LF).
    let edge = |b: Option<&u8>| matches!(b, Some(b' ' | b'\t'));
    let double_space = || bytes.contains(&b' ') && bytes.windows(2).any(|w| w == b"  ");
    if !edge(bytes.first()) && !edge(bytes.last()) && !bytes.contains(&b'\n') && !double_space() {
        out.extend_from_slice(bytes);
        return;
    }
    let value = value.trim_matches([' ', '\t', '\r', '\n']);
    let bytes = value.as_bytes();
    let mut start = 0;
    let mut after_space = false;
    let mut in_fold = false;
    for (i, &b) in bytes.iter().enumerate() {
        let fold = matches!(b, b'\r' | b'\n');
        let blank = b == b' ' || fold || (in_fold && b == b'\t');
        if blank && (after_space || b != b' ') {
            out.extend_from_slice(&bytes[start..i]);
            if !after_space {
                out.push(b' ');
            }
            start = i + 1;
        }
        in_fold = fold || (in_fold && blank);
        after_space = blank;
    }
    out.extend_from_slice(&bytes[start..]);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn normalized(v: &str) -> String {
        let mut out = Vec::new();
        write_normalized_value(&mut out, v);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn trims_and_collapses() {
        assert_eq!(normalized("  a   b  c "), "a b c");
        assert_eq!(normalized("\"a   b   c\""), "\"a b c\"");
        assert_eq!(
            normalized("value1\n  value2\n     value3"),
            "value1 value2 value3"
        );
        assert_eq!(normalized("v1\r\n\t v2"), "v1 v2");
        assert_eq!(normalized("a\tb \t c"), "a\tb \t c");
        assert_eq!(normalized("ሴ  x"), "ሴ x");
        assert_eq!(normalized(""), "");
    }

    #[test]
    fn rejects_control_bytes_outside_foldings() {
        assert!(check_value("a\n b", 0).is_ok());
        assert!(check_value("a\r\n\tb", 0).is_ok());
        assert_eq!(
            check_value("ab\n", 3),
            Err(Error::InvalidByte {
                field: Field::HeaderValue(3),
                byte: b'\n',
                position: 2
            })
        );
        assert!(check_value("a\rb", 0).is_err());
        assert!(check_value("a\0b", 0).is_err());
        assert!(check_value("a\x7fb", 0).is_err());
    }
}
