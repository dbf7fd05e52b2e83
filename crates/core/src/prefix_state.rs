//! Resuming a hash after the whole 64-byte blocks a message shares with the messages before it.
//!
//! Agents sign the same request shape again and again: the canonical request's method, path,
//! query and the headers sorted before `x-amz-date` repeat, and so does the first block of the
//! string to sign within one second. Hashing from a saved state skips those blocks. The state is
//! the hash crate's own (`Clone` of a hasher that absorbed whole blocks); nothing is re-implemented.

use alloc::vec::Vec;
use sha2::digest::Update;

const BLOCK: usize = 64;

/// A hasher state after a prefix of whole blocks, and the last message (to find the next prefix).
pub(crate) struct PrefixState<H> {
    /// The bytes `state` has absorbed beyond the starting state: whole blocks. (Message bytes,
    /// not key material: the hasher states, keyed or not, zeroize themselves on drop.)
    prefix: Vec<u8>,
    state: Option<H>,
    /// The last message that missed, whose shared prefix with the next one becomes `prefix`.
    last: Vec<u8>,
}

impl<H> Default for PrefixState<H> {
    fn default() -> Self {
        PrefixState {
            prefix: Vec::new(),
            state: None,
            last: Vec::new(),
        }
    }
}

impl<H: Clone + Update> PrefixState<H> {
    /// `start` (a fresh or keyed hasher) updated with `message`, skipping the saved prefix when
    /// `message` starts with it. Always equal to `start.clone().chain(message)`.
    pub(crate) fn update(&mut self, start: &H, message: &[u8]) -> H {
        if let Some(state) = &self.state
            && message
                .get(..self.prefix.len())
                .is_some_and(|head| same_bytes(head, &self.prefix))
        {
            let mut hasher = state.clone();
            hasher.update(&message[self.prefix.len()..]);
            return hasher;
        }
        let shared = self
            .last
            .iter()
            .zip(message)
            .take_while(|(a, b)| a == b)
            .count();
        let blocks = shared / BLOCK * BLOCK;
        let mut hasher = start.clone();
        hasher.update(&message[..blocks]);
        self.prefix.clear();
        self.prefix.extend_from_slice(&message[..blocks]);
        self.state = (blocks > 0).then(|| hasher.clone());
        hasher.update(&message[blocks..]);
        self.last.clear();
        self.last.extend_from_slice(message);
        hasher
    }
}

/// `a == b`, eight bytes at a time: in WebAssembly `memcmp` compares one byte at a time, and
/// this comparison runs on every signature.
fn same_bytes(a: &[u8], b: &[u8]) -> bool {
    let (a_words, a_rest) = a.as_chunks::<8>();
    let (b_words, b_rest) = b.as_chunks::<8>();
    a.len() == b.len()
        && a_words
            .iter()
            .zip(b_words)
            .all(|(x, y)| u64::from_ne_bytes(*x) == u64::from_ne_bytes(*y))
        && a_rest == b_rest
}

#[cfg(test)]
mod tests {
    use super::*;
    use sha2::{Digest, Sha256};

    #[test]
    fn always_equals_hashing_from_the_start() {
        let mut cache = PrefixState::<Sha256>::default();
        let a = [b'a'; 300];
        let mut b = a;
        b[200] = b'b';
        let mut c = a;
        c[10] = b'c';
        for message in [
            &a[..],
            &b,
            &a,
            &b[..130],
            &c,
            &a,
            &b,
            &[],
            &a[..64],
            &a[..63],
        ] {
            let resumed = cache.update(&Sha256::new(), message).finalize();
            assert_eq!(resumed, Sha256::digest(message));
        }
        // After a, b the shared 192 bytes (three blocks) are saved.
        cache.update(&Sha256::new(), &a);
        cache.update(&Sha256::new(), &b);
        assert_eq!(cache.prefix.len(), 192);
        assert!(cache.state.is_some());
    }
}
