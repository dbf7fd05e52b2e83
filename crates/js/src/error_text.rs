//! Errors for JavaScript without `core::fmt`: the code, the field and the details as lines, which
//! `js/src/errors.js` turns into a `SigV4Error` and its message.

use alloc::string::String;
use sigv4_core::{ChunkedError, Error, Field};

/// `code\nfield\nindex\nbyte\nposition\ndetail`; `index`, `byte` and `position` are decimal or
/// empty, `detail` is the reason of an invalid URI or the rejected expiry.
pub(crate) fn encode(error: &Error) -> String {
    let mut out = String::with_capacity(64);
    let (field, index) = field(error.field());
    let mut line = |text: &str| {
        out.push_str(text);
        out.push('\n');
    };
    line(error.code());
    line(field);
    let mut digits = [0u8; 20];
    line(index.map_or("", |i| decimal(i as u64, &mut digits)));
    let (byte, position) = match error {
        Error::InvalidByte { byte, position, .. } => (Some(*byte as usize), Some(*position)),
        _ => (None, None),
    };
    line(byte.map_or("", |b| decimal(b as u64, &mut digits)));
    line(position.map_or("", |p| decimal(p as u64, &mut digits)));
    match error {
        Error::InvalidUri(reason) => out.push_str(reason),
        Error::ExpiresInOutOfRange(secs) => out.push_str(decimal(*secs, &mut digits)),
        _ => {}
    }
    out
}

/// An aws-chunked upload's error in the same lines: a failed seed signature as [`encode`], else
/// the code, the field (`chunk_size`, `decoded_content_length`, `checksum`, `algorithm`), empty
/// index, byte and position, and as detail the chunk size given or the declared and given
/// lengths (`declared given`).
pub(crate) fn encode_chunked(error: &ChunkedError) -> String {
    if let ChunkedError::Signing(error) = error {
        return encode(error);
    }
    let field = match error {
        ChunkedError::ChunkSizeTooSmall { .. } | ChunkedError::ChunkSizeTooLarge { .. } => {
            "chunk_size"
        }
        ChunkedError::UnknownChecksum | ChunkedError::ChecksumMismatchesForm(_) => "checksum",
        ChunkedError::AlgorithmMismatchesForm(_) => "algorithm",
        _ => "decoded_content_length",
    };
    let mut out = String::with_capacity(64);
    out.push_str(error.code());
    out.push('\n');
    out.push_str(field);
    out.push_str("\n\n\n\n");
    let mut digits = [0u8; 20];
    match error {
        ChunkedError::ChunkSizeTooSmall { chunk_size }
        | ChunkedError::ChunkSizeTooLarge { chunk_size } => {
            out.push_str(decimal(*chunk_size as u64, &mut digits));
        }
        ChunkedError::LengthMismatch { declared, given } => {
            out.push_str(decimal(*declared, &mut digits));
            out.push(' ');
            out.push_str(decimal(*given, &mut digits));
        }
        _ => {}
    }
    out
}

/// The field's name as the core's `Display` gives it, and a header's index.
fn field(field: Field) -> (&'static str, Option<usize>) {
    match field {
        Field::Method => ("method", None),
        Field::Uri => ("uri", None),
        Field::Host => ("host", None),
        Field::HeaderName(i) => ("header_name", Some(i)),
        Field::HeaderValue(i) => ("header_value", Some(i)),
        Field::Region => ("region", None),
        Field::Service => ("service", None),
        Field::AccessKeyId => ("access_key_id", None),
        Field::SecretAccessKey => ("secret_access_key", None),
        Field::SessionToken => ("session_token", None),
        Field::PayloadHash => ("payload_hash", None),
        Field::ExpiresIn => ("expires_in", None),
        Field::Timestamp => ("timestamp", None),
        _ => ("unknown", None),
    }
}

/// `n` in decimal, written into `buf`.
pub(crate) fn decimal(mut n: u64, buf: &mut [u8; 20]) -> &str {
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    core::str::from_utf8(&buf[i..]).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines() {
        let e = Error::InvalidByte {
            field: Field::HeaderName(3),
            byte: b' ',
            position: 12,
        };
        assert_eq!(encode(&e), "invalid_byte\nheader_name\n3\n32\n12\n");
        assert_eq!(
            encode(&Error::ExpiresInOutOfRange(604_801)),
            "expires_in_out_of_range\nexpires_in\n\n\n\n604801"
        );
        assert_eq!(
            encode(&Error::Empty(Field::Region)),
            "empty\nregion\n\n\n\n"
        );
        assert_eq!(
            encode_chunked(&ChunkedError::ChunkSizeTooSmall { chunk_size: 100 }),
            "chunk_size_too_small\nchunk_size\n\n\n\n100"
        );
        assert_eq!(
            encode_chunked(&ChunkedError::LengthMismatch {
                declared: 10,
                given: 12
            }),
            "length_mismatch\ndecoded_content_length\n\n\n\n10 12"
        );
        assert_eq!(
            encode_chunked(&ChunkedError::Signing(Error::Empty(Field::Region))),
            "empty\nregion\n\n\n\n"
        );
    }
}
