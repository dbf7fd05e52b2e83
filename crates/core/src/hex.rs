//! Lowercase hexadecimal, as SigV4 writes hashes and signatures.

const DIGITS: &[u8; 16] = b"0123456789abcdef";

/// The two hex digits of every byte value: one lookup per byte.
const PAIRS: [[u8; 2]; 256] = {
    let mut table = [[0u8; 2]; 256];
    let mut i = 0;
    while i < 256 {
        table[i] = [DIGITS[i >> 4], DIGITS[i & 0xf]];
        i += 1;
    }
    table
};

/// Lowercase hex of a 32-byte digest.
pub(crate) fn encode32(bytes: &[u8; 32]) -> [u8; 64] {
    let mut out = [0u8; 64];
    for (pair, &byte) in out.chunks_exact_mut(2).zip(bytes) {
        pair.copy_from_slice(&PAIRS[usize::from(byte)]);
    }
    out
}

/// Lowercase hex of `bytes` into the start of `out`, as far as it has room (two digits a byte).
pub(crate) fn encode_into(bytes: &[u8], out: &mut [u8]) {
    for (pair, &byte) in out.chunks_exact_mut(2).zip(bytes) {
        pair.copy_from_slice(&PAIRS[usize::from(byte)]);
    }
}

/// The value of one hexadecimal digit, either case.
pub(crate) fn digit_value(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// The 64 ASCII bytes are lowercase hex by construction, so this never fails.
pub(crate) fn as_str(hex: &[u8; 64]) -> &str {
    core::str::from_utf8(hex).unwrap_or_default()
}
