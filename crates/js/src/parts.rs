//! A request's strings, written by JavaScript as one UTF-8 text and the UTF-16 lengths of its
//! parts (`String.prototype.length`, as little-endian `u32`s), cut back into `&str`s.

use alloc::vec::Vec;

/// Cuts `text` into parts of the given UTF-16 lengths.
pub(crate) struct Parts<'a> {
    text: &'a str,
    /// Little-endian `u32`s.
    lens: &'a [u8],
    /// All ASCII: UTF-16 units and UTF-8 bytes coincide, so lengths are byte counts.
    ascii: bool,
}

impl<'a> Parts<'a> {
    pub(crate) fn new(text: &'a str, lens: &'a [u8]) -> Self {
        // Every non-ASCII character takes more UTF-8 bytes than UTF-16 units, so equal totals
        // mean ASCII.
        let units: usize = units(lens).sum();
        Parts {
            text,
            lens,
            ascii: units == text.len(),
        }
    }

    /// Writes the parts into `out` (as long as `lens`); parts past the text's end are empty.
    pub(crate) fn fill(self, out: &mut [&'a str]) {
        for (slot, part) in out.iter_mut().zip(self.iter()) {
            *slot = part;
        }
    }

    pub(crate) fn collect(self) -> Vec<&'a str> {
        self.iter().collect()
    }

    fn iter(self) -> impl Iterator<Item = &'a str> {
        let Parts { text, lens, ascii } = self;
        let mut rest = text;
        units(lens).map(move |units| {
            let bytes = if ascii { units } else { utf8_len(rest, units) };
            let (part, tail) = rest.split_at(bytes.min(rest.len()));
            rest = tail;
            part
        })
    }
}

/// The lengths in `lens`.
fn units(lens: &[u8]) -> impl Iterator<Item = usize> + '_ {
    lens.chunks_exact(4)
        .map(|n| u32::from_le_bytes([n[0], n[1], n[2], n[3]]) as usize)
}

/// The byte length of the prefix of `text` that is `units` UTF-16 units long.
fn utf8_len(text: &str, units: usize) -> usize {
    let mut seen = 0;
    for (i, c) in text.char_indices() {
        if seen >= units {
            return i;
        }
        seen += c.len_utf16();
    }
    text.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cut(text: &str, lens: &[u32]) -> Vec<String> {
        let lens: Vec<u8> = lens.iter().flat_map(|n| n.to_le_bytes()).collect();
        Parts::new(text, &lens)
            .collect()
            .into_iter()
            .map(String::from)
            .collect()
    }

    #[test]
    fn cuts_ascii_and_utf16_lengths() {
        assert_eq!(cut("GET/a", &[3, 2]), ["GET", "/a"]);
        // "é" is 1 UTF-16 unit and 2 bytes; "😀" is 2 units and 4 bytes.
        assert_eq!(cut("xé😀yz", &[2, 2, 2]), ["xé", "😀", "yz"]);
        assert_eq!(cut("ab", &[1, 0, 1]), ["a", "", "b"]);
        // Lengths past the end give empty parts rather than a panic.
        assert_eq!(cut("ab", &[5, 3]), ["ab", ""]);
    }
}
