//! Canonical headers: lowercase names, trimmed values with inner runs of spaces collapsed,
//! repeated headers joined with commas in the order sent, sorted by name.

use alloc::string::String;
use alloc::vec::Vec;
use core::ops::Range;

use crate::error::{Error, Field};
use crate::settings::{DEFAULT_EXCLUDED_HEADERS, Settings};

/// Where a signed header's value is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Value {
    /// The value of the request header at this index.
    Request(usize),
    /// A value the signer adds (already canonical), at this index of the `added` values.
    Added(usize),
}

#[derive(Clone, Debug)]
struct Entry {
    /// The lowercase name, in `HeaderSet::names`.
    name: Range<usize>,
    value: Value,
}

/// The headers to sign: lowercase names in one buffer, values by reference. Kept between
/// signatures so that collecting them allocates nothing.
#[derive(Debug, Default)]
pub(crate) struct HeaderSet {
    names: String,
    entries: Vec<Entry>,
    /// The index of the request's `Host` header, if it has one.
    host: Option<usize>,
}

impl HeaderSet {
    /// Validates the request headers and keeps those to sign: not one the signer sets itself
    /// (`replaced`, lowercase), and not excluded (unless forced), or, given `only` (lowercase),
    /// exactly those it names.
    pub(crate) fn collect(
        &mut self,
        headers: &[(&str, &str)],
        settings: &Settings<'_>,
        replaced: &[&str],
        only: Option<&[&str]>,
    ) -> Result<(), Error> {
        self.names.clear();
        self.entries.clear();
        self.host = None;
        // Room for every name plus the four the signer may add.
        self.names
            .reserve(headers.iter().map(|(n, _)| n.len()).sum::<usize>() + 64);
        self.entries.reserve(headers.len() + 4);
        let check = |index: usize, name: &str, value: &str| {
            crate::error::check_text(name, Field::HeaderName(index), is_token_byte)?;
            check_value(value, index)
        };
        // Names compared as sent first: signers and HTTP/2 send them lowercase. Comparing them a
        // byte at a time in any case, and a verifier's signed names before the signer's own,
        // took 550 more of a verification's instructions (callgrind, S3 GET; 800 DynamoDB POST).
        let same = |lower: &str, name: &str| lower == name || lower.eq_ignore_ascii_case(name);
        for (index, (name, value)) in headers.iter().enumerate() {
            let is_host = name.eq_ignore_ascii_case("host");
            // Compared before lowercasing: most names a verifier reads are the signer's own
            // (never `host`).
            let is_replaced = || replaced.iter().any(|r| same(r, name));
            match only {
                // A verifier's request may carry any unsigned header: only the signed are its
                // to check (and lowercase), bar a second `Host`.
                Some(_) if is_replaced() => continue,
                Some(names) if !is_host && !names.iter().any(|n| same(n, name)) => continue,
                Some(_) => {}
                None => check(index, name, value)?,
            }
            if is_host {
                // Signed as `a,b`, two hosts would make one signature valid for either.
                if self.host.is_some() {
                    return Err(Error::DuplicateHost(index));
                }
                self.host = Some(index);
            }
            if only.is_none() && is_replaced() {
                continue;
            }
            let start = self.names.len();
            self.names.push_str(name);
            self.names[start..].make_ascii_lowercase();
            let lower = &self.names[start..];
            let unsigned = match only {
                // Every other name kept above is among them.
                Some(names) => is_host && !names.contains(&"host"),
                None => is_excluded(lower, settings),
            };
            if unsigned {
                self.names.truncate(start);
                continue;
            }
            if only.is_some() {
                check(index, name, value)?;
            }
            self.entries.push(Entry {
                name: start..self.names.len(),
                value: Value::Request(index),
            });
        }
        Ok(())
    }

    /// The index of the request's `Host` header, if it has one.
    pub(crate) fn host(&self) -> Option<usize> {
        self.host
    }

    /// Adds a header whose value the signer supplies (at `added` index `value`).
    pub(crate) fn add(&mut self, name: &'static str, value: usize) {
        let start = self.names.len();
        self.names.push_str(name);
        self.entries.push(Entry {
            name: start..self.names.len(),
            value: Value::Added(value),
        });
    }

    /// Sorts by name; repeated names keep the order they were sent in (names are appended in
    /// that order, so their offsets break ties, and an unstable sort is enough).
    pub(crate) fn sort(&mut self) {
        let HeaderSet { names, entries, .. } = self;
        entries.sort_unstable_by(|a, b| {
            let by_name = names[a.name.clone()].cmp(&names[b.name.clone()]);
            by_name.then(a.name.start.cmp(&b.name.start))
        });
    }

    /// Writes the signed headers list, `name;name;...`.
    pub(crate) fn write_signed_headers(&self, signed: &mut String) {
        signed.clear();
        signed.reserve(self.names.len() + self.entries.len());
        let mut previous: Option<&str> = None;
        for entry in &self.entries {
            let name = &self.names[entry.name.clone()];
            if previous != Some(name) {
                if previous.is_some() {
                    signed.push(';');
                }
                signed.push_str(name);
            }
            previous = Some(name);
        }
    }

    /// Writes `name:value[,value...]\n` for each name.
    pub(crate) fn write_canonical(
        &self,
        out: &mut Vec<u8>,
        request: &[(&str, &str)],
        added: &[&str],
    ) {
        let mut previous: Option<&str> = None;
        for entry in &self.entries {
            let name = &self.names[entry.name.clone()];
            if previous == Some(name) {
                out.push(b',');
            } else {
                if previous.is_some() {
                    out.push(b'\n');
                }
                out.extend_from_slice(name.as_bytes());
                out.push(b':');
            }
            match entry.value {
                Value::Request(i) => {
                    write_normalized_value(out, request.get(i).map_or("", |h| h.1))
                }
                Value::Added(i) => out.extend_from_slice(added.get(i).map_or("", |v| v).as_bytes()),
            }
            previous = Some(name);
        }
        if previous.is_some() {
            out.push(b'\n');
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

fn is_excluded(name: &str, settings: &Settings<'_>) -> bool {
    let listed = |list: &[&str]| list.iter().any(|n| n.eq_ignore_ascii_case(name));
    // The host is always signed: without it a signature could be replayed against another host.
    name != "host"
        && (DEFAULT_EXCLUDED_HEADERS.contains(&name) || listed(settings.excluded_headers))
        && !listed(settings.forced_headers)
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
    fn sorts_by_name_and_keeps_repeated_names_in_the_order_sent() {
        let headers = [
            ("ABCDEFGHb", "1"),
            ("abcdefg", "2"),
            ("b", "3"),
            ("abcdefgh", "4"),
            ("abcdefgha", "5"),
            ("abc", "6"),
            ("Abcdefgha", "7"),
            ("abcdefgh-", "8"),
        ];
        let mut set = HeaderSet::default();
        set.collect(&headers, &Settings::default(), &[], None)
            .unwrap();
        set.sort();
        let mut signed = String::new();
        set.write_signed_headers(&mut signed);
        assert_eq!(
            signed,
            "abc;abcdefg;abcdefgh;abcdefgh-;abcdefgha;abcdefghb;b"
        );
        let mut canonical = Vec::new();
        set.write_canonical(&mut canonical, &headers, &[]);
        assert_eq!(
            String::from_utf8(canonical).unwrap(),
            "abc:6\nabcdefg:2\nabcdefgh:4\nabcdefgh-:8\nabcdefgha:5,7\nabcdefghb:1\nb:3\n"
        );
    }

    #[test]
    fn two_host_headers_are_an_error_naming_the_second() {
        let mut set = HeaderSet::default();
        let headers = [("Host", "a.example"), ("x", "1"), ("host", "b.example")];
        assert_eq!(
            set.collect(&headers, &Settings::default(), &[], None),
            Err(Error::DuplicateHost(2))
        );
        set.collect(&headers[..2], &Settings::default(), &[], None)
            .unwrap();
        assert_eq!(set.host(), Some(0));
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
