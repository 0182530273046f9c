//! The fingerprint of a file's bytes: the watermark of a CSV connector.
//!
//! A CSV file says nothing about what changed, so the connector can only tell "exactly the
//! same bytes as last time" from "something changed". A fast 64-bit hash plus the size is
//! enough for that; it is not meant to resist someone crafting a collision.
//!
//! The hash is our own (a multiply-rotate over 8-byte words with a murmur-style finaliser)
//! rather than `std`'s `DefaultHasher`, because a watermark is stored and compared across
//! releases, and `std` does not promise a stable algorithm.

use std::fmt;
use std::io::{self, Read};

/// The hash and size of a file's content.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Fingerprint {
    pub hash: u64,
    pub size: u64,
}

impl Fingerprint {
    /// Reads `reader` to the end and fingerprints what it read.
    pub fn of_reader(mut reader: impl Read) -> io::Result<Fingerprint> {
        let mut hasher = Fingerprinter::new();
        let mut buf = vec![0u8; 256 * 1024];
        loop {
            match reader.read(&mut buf) {
                Ok(0) => return Ok(hasher.finish()),
                Ok(n) => hasher.update(&buf[..n]),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
    }

    #[cfg(test)]
    pub fn of_bytes(bytes: &[u8]) -> Fingerprint {
        let mut hasher = Fingerprinter::new();
        hasher.update(bytes);
        hasher.finish()
    }
}

/// Shown as `csv1:<hash>:<size>`; the prefix lets a later format tell old watermarks apart.
impl fmt::Display for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "csv1:{:016x}:{}", self.hash, self.size)
    }
}

const SEED: u64 = 0x9E37_79B9_7F4A_7C15;
const MULTIPLIER: u64 = 0xFF51_AFD7_ED55_8CCD;

/// A streaming hasher whose result does not depend on how the input is split into chunks.
struct Fingerprinter {
    state: u64,
    pending: [u8; 8],
    pending_len: usize,
    size: u64,
}

impl Fingerprinter {
    fn new() -> Self {
        Fingerprinter {
            state: SEED,
            pending: [0; 8],
            pending_len: 0,
            size: 0,
        }
    }

    fn mix(&mut self, word: u64) {
        self.state = (self.state ^ word).wrapping_mul(MULTIPLIER).rotate_left(29);
    }

    fn update(&mut self, mut bytes: &[u8]) {
        self.size += bytes.len() as u64;
        if self.pending_len > 0 {
            let take = (8 - self.pending_len).min(bytes.len());
            self.pending[self.pending_len..self.pending_len + take].copy_from_slice(&bytes[..take]);
            self.pending_len += take;
            bytes = &bytes[take..];
            if self.pending_len < 8 {
                return;
            }
            self.mix(u64::from_le_bytes(self.pending));
            self.pending_len = 0;
        }
        let mut words = bytes.chunks_exact(8);
        for word in &mut words {
            let mut w = [0u8; 8];
            w.copy_from_slice(word);
            self.mix(u64::from_le_bytes(w));
        }
        let rest = words.remainder();
        self.pending[..rest.len()].copy_from_slice(rest);
        self.pending_len = rest.len();
    }

    fn finish(mut self) -> Fingerprint {
        if self.pending_len > 0 {
            let mut w = [0u8; 8];
            w[..self.pending_len].copy_from_slice(&self.pending[..self.pending_len]);
            // The length byte keeps "ab" and "ab\0" apart.
            self.mix(u64::from_le_bytes(w) ^ ((self.pending_len as u64) << 56));
        }
        let mut h = self.state ^ self.size;
        h ^= h >> 33;
        h = h.wrapping_mul(0xFF51_AFD7_ED55_8CCD);
        h ^= h >> 33;
        h = h.wrapping_mul(0xC4CE_B9FE_1A85_EC53);
        h ^= h >> 33;
        Fingerprint {
            hash: h,
            size: self.size,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunking_does_not_change_the_fingerprint() {
        let data: Vec<u8> = (0..1000u32).map(|i| (i * 7 % 251) as u8).collect();
        let whole = Fingerprint::of_bytes(&data);
        for chunk in [1, 3, 7, 8, 9, 64, 999] {
            let mut hasher = Fingerprinter::new();
            for part in data.chunks(chunk) {
                hasher.update(part);
            }
            assert_eq!(hasher.finish(), whole, "chunks of {chunk}");
        }
    }

    #[test]
    fn small_changes_change_the_fingerprint() {
        let a = Fingerprint::of_bytes(b"EmployeeID,Name\nE1,Ada\n");
        let b = Fingerprint::of_bytes(b"EmployeeID,Name\nE1,Ado\n");
        let c = Fingerprint::of_bytes(b"EmployeeID,Name\nE1,Ada\n\0");
        assert_ne!(a, b);
        assert_ne!(a.hash, c.hash);
        assert_ne!(Fingerprint::of_bytes(b"ab"), Fingerprint::of_bytes(b"ab\0"));
    }

    #[test]
    fn the_watermark_text_is_stable() {
        // A stored watermark must keep matching after an upgrade: pin the algorithm, or
        // every deployment re-imports its files in full once (harmless, but not silently).
        let text = Fingerprint::of_bytes(b"EmployeeID\nE1\n").to_string();
        assert_eq!(text, "csv1:25b4268b173343d4:14");
    }
}
