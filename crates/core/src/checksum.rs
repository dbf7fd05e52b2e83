//! The checksums an aws-chunked upload sends in its trailer (`x-amz-checksum-crc32:BASE64`), as
//! S3 computes them over the decoded object: CRC32, CRC32C, SHA-1 or SHA-256, base64 encoded.

use alloc::vec::Vec;
use crc::{CRC_32_ISCSI, CRC_32_ISO_HDLC, Crc, Table};
use sha1::Sha1;
use sha2::{Digest, Sha256};

use crate::chunked::ChunkedError;

/// A checksum algorithm of S3's flexible checksums.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ChecksumAlgorithm {
    /// CRC32 (ISO-HDLC, the zlib one), `x-amz-checksum-crc32`.
    Crc32,
    /// CRC32C (Castagnoli), `x-amz-checksum-crc32c`.
    Crc32c,
    /// SHA-1, `x-amz-checksum-sha1`.
    Sha1,
    /// SHA-256, `x-amz-checksum-sha256`.
    Sha256,
}

const ALGORITHMS: [(ChecksumAlgorithm, &str); 4] = [
    (ChecksumAlgorithm::Crc32, "x-amz-checksum-crc32"),
    (ChecksumAlgorithm::Crc32c, "x-amz-checksum-crc32c"),
    (ChecksumAlgorithm::Sha1, "x-amz-checksum-sha1"),
    (ChecksumAlgorithm::Sha256, "x-amz-checksum-sha256"),
];

/// The CRCs computed slice-by-16 (sixteen 256-entry tables, 16 KiB each, built at compile time),
/// not with the crate's default single table: a 64 MiB upload in 64 KiB chunks with a CRC32C
/// trailer took 3.14x the time of plain SHA-256 of the same bytes with one table, 1.25x with
/// sixteen; with an unsigned CRC32 trailer 2.43x, then 0.58x (`cargo bench -p sigv4-core
/// --bench chunked`, paired ratios, one machine). A hardware CRC32C (SSE 4.2) would be faster
/// still, at the cost of `unsafe` and per-target code in the core. The WebAssembly builds keep
/// one table: sixteen for two CRCs are 32 KiB of data in every module (the npm wasm, the
/// component, the Envoy filter), where large bodies are hashed by the host anyway.
#[cfg(not(target_family = "wasm"))]
type CrcTable = Table<16>;
#[cfg(target_family = "wasm")]
type CrcTable = Table<1>;
type Crc32 = Crc<u32, CrcTable>;

static CRC32: Crc32 = Crc32::new(&CRC_32_ISO_HDLC);
static CRC32C: Crc32 = Crc32::new(&CRC_32_ISCSI);

impl ChecksumAlgorithm {
    /// The algorithm a trailing header name stands for (`x-amz-checksum-crc32c`, any case), as
    /// `x-amz-trailer` names it.
    pub fn from_header_name(name: &str) -> Result<Self, ChunkedError> {
        let name = name.trim();
        ALGORITHMS
            .iter()
            .find(|(_, header)| header.eq_ignore_ascii_case(name))
            .map(|(algorithm, _)| *algorithm)
            .ok_or(ChunkedError::UnknownChecksum)
    }

    /// The algorithm of a name as `x-amz-sdk-checksum-algorithm` gives it (`CRC32C`, any case).
    pub fn from_name(name: &str) -> Result<Self, ChunkedError> {
        let name = name.trim();
        ALGORITHMS
            .iter()
            .find(|(_, header)| header["x-amz-checksum-".len()..].eq_ignore_ascii_case(name))
            .map(|(algorithm, _)| *algorithm)
            .ok_or(ChunkedError::UnknownChecksum)
    }

    /// The trailing header that carries the checksum, `x-amz-checksum-<name>`.
    pub fn header_name(self) -> &'static str {
        ALGORITHMS
            .iter()
            .find(|(algorithm, _)| *algorithm == self)
            .map_or("", |(_, header)| header)
    }

    /// The length of the base64 value: 8 for the CRCs, 28 for SHA-1, 44 for SHA-256.
    pub fn encoded_len(self) -> usize {
        base64_len(self.digest_len())
    }

    fn digest_len(self) -> usize {
        match self {
            ChecksumAlgorithm::Crc32 | ChecksumAlgorithm::Crc32c => 4,
            ChecksumAlgorithm::Sha1 => 20,
            ChecksumAlgorithm::Sha256 => 32,
        }
    }
}

/// A checksum being computed over the bytes fed so far.
#[derive(Clone)]
pub(crate) enum Checksum {
    Crc32(crc::Digest<'static, u32, CrcTable>),
    Crc32c(crc::Digest<'static, u32, CrcTable>),
    Sha1(Sha1),
    Sha256(Sha256),
}

impl Checksum {
    pub(crate) fn new(algorithm: ChecksumAlgorithm) -> Self {
        match algorithm {
            ChecksumAlgorithm::Crc32 => Checksum::Crc32(CRC32.digest()),
            ChecksumAlgorithm::Crc32c => Checksum::Crc32c(CRC32C.digest()),
            ChecksumAlgorithm::Sha1 => Checksum::Sha1(Sha1::new()),
            ChecksumAlgorithm::Sha256 => Checksum::Sha256(Sha256::new()),
        }
    }

    pub(crate) fn update(&mut self, bytes: &[u8]) {
        match self {
            Checksum::Crc32(digest) | Checksum::Crc32c(digest) => digest.update(bytes),
            Checksum::Sha1(hasher) => hasher.update(bytes),
            Checksum::Sha256(hasher) => hasher.update(bytes),
        }
    }

    /// Appends the base64 of the checksum (big-endian for the CRCs, as S3 sends them) to `out`.
    pub(crate) fn finish_into(self, out: &mut Vec<u8>) {
        match self {
            Checksum::Crc32(digest) | Checksum::Crc32c(digest) => {
                base64_into(&digest.finalize().to_be_bytes(), out)
            }
            Checksum::Sha1(hasher) => base64_into(&hasher.finalize(), out),
            Checksum::Sha256(hasher) => base64_into(&hasher.finalize(), out),
        }
    }
}

impl core::fmt::Debug for Checksum {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(match self {
            Checksum::Crc32(_) => "Checksum(crc32)",
            Checksum::Crc32c(_) => "Checksum(crc32c)",
            Checksum::Sha1(_) => "Checksum(sha1)",
            Checksum::Sha256(_) => "Checksum(sha256)",
        })
    }
}

/// The length of the padded base64 of `n` bytes.
const fn base64_len(n: usize) -> usize {
    n.div_ceil(3) * 4
}

/// Appends the standard base64 (RFC 4648 section 4, with `=` padding) of `bytes` to `out`.
/// Written here for a few dozen bytes a request rather than adding a dependency to the core.
pub(crate) fn base64_into(bytes: &[u8], out: &mut Vec<u8>) {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let digit = |sextet: u32| ALPHABET[(sextet & 63) as usize];
    for group in bytes.chunks(3) {
        let b = |i: usize| group.get(i).map_or(0, |&b| u32::from(b));
        let word = b(0) << 16 | b(1) << 8 | b(2);
        out.push(digit(word >> 18));
        out.push(digit(word >> 12));
        out.push(if group.len() > 1 {
            digit(word >> 6)
        } else {
            b'='
        });
        out.push(if group.len() > 2 { digit(word) } else { b'=' });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn base64(bytes: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        base64_into(bytes, &mut out);
        out
    }

    #[test]
    fn base64_matches_rfc_4648_vectors() {
        // RFC 4648, section 10.
        for (input, expected) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(base64(input.as_bytes()), expected.as_bytes());
            assert_eq!(base64_len(input.len()), expected.len());
        }
        assert_eq!(base64(&[0xff, 0xfe, 0xfd]), b"//79");
    }

    fn checksum(algorithm: ChecksumAlgorithm, pieces: &[&[u8]]) -> Vec<u8> {
        let mut checksum = Checksum::new(algorithm);
        for piece in pieces {
            checksum.update(piece);
        }
        let mut out = Vec::new();
        checksum.finish_into(&mut out);
        assert_eq!(out.len(), algorithm.encoded_len());
        out
    }

    #[test]
    fn checksums_of_known_inputs() {
        // The check values of the CRC catalogue (the CRCs of "123456789"), and the SHA test
        // vectors of "abc" (FIPS 180), here base64 encoded.
        let crc32 = 0xcbf4_3926u32.to_be_bytes();
        let crc32c = 0xe306_9283u32.to_be_bytes();
        assert_eq!(
            checksum(ChecksumAlgorithm::Crc32, &[b"1234", b"56789"]),
            base64(&crc32)
        );
        assert_eq!(
            checksum(ChecksumAlgorithm::Crc32c, &[b"123456789"]),
            base64(&crc32c)
        );
        assert_eq!(
            checksum(ChecksumAlgorithm::Sha1, &[b"a", b"bc"]),
            b"qZk+NkcGgWq6PiVxeFDCbJzQ2J0="
        );
        assert_eq!(
            checksum(ChecksumAlgorithm::Sha256, &[b"abc"]),
            b"ungWv48Bz+pBQUDeXa4iI7ADYaOWF3qctBD/YfIAFa0="
        );
        // The AWS trailer example: CRC32C of 66560 bytes of 'a'.
        let a = alloc::vec![b'a'; 66560];
        assert_eq!(
            checksum(ChecksumAlgorithm::Crc32c, &[&a[..65536], &a[65536..]]),
            b"sOO8/Q=="
        );
    }

    #[test]
    fn slice_by_16_matches_the_single_table_crc() {
        // The plain implementation beside the fast one: the crate's default (one table, a byte
        // at a time), over lengths around the 16-byte stride and split at odd places.
        let data: Vec<u8> = (0..5000u32).map(|i| (i * 131 % 251) as u8).collect();
        for (algorithm, catalog) in [
            (ChecksumAlgorithm::Crc32, &CRC_32_ISO_HDLC),
            (ChecksumAlgorithm::Crc32c, &CRC_32_ISCSI),
        ] {
            let plain = Crc::<u32>::new(catalog);
            for length in [0, 1, 15, 16, 17, 31, 33, 1000, 4999, 5000] {
                let bytes = &data[..length];
                let split = length / 3;
                assert_eq!(
                    checksum(algorithm, &[&bytes[..split], &bytes[split..]]),
                    base64(&plain.checksum(bytes).to_be_bytes()),
                    "{algorithm:?} of {length} bytes"
                );
            }
        }
    }

    #[test]
    fn names() {
        for (algorithm, header) in ALGORITHMS {
            assert_eq!(algorithm.header_name(), header);
            assert_eq!(
                ChecksumAlgorithm::from_header_name(&header.to_ascii_uppercase()),
                Ok(algorithm)
            );
        }
        assert_eq!(
            ChecksumAlgorithm::from_name("CRC32C"),
            Ok(ChecksumAlgorithm::Crc32c)
        );
        for unknown in ["x-amz-checksum-md5", "x-amz-checksum-", "", "crc32"] {
            assert_eq!(
                ChecksumAlgorithm::from_header_name(unknown),
                Err(ChunkedError::UnknownChecksum)
            );
        }
        assert_eq!(
            ChecksumAlgorithm::from_name(""),
            Err(ChunkedError::UnknownChecksum)
        );
    }
}
