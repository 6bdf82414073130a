//! The 64-bit key of a token. Both backends key their tables by this hash and
//! then by the token's bytes, so a collision costs time, never exactness.

/// Which function turns token bytes into a 64-bit key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum KeyHash {
    /// XXH3-64: fast, stable across platforms and versions, so partial tables
    /// made on different machines can be merged by key.
    #[default]
    Xxh3,
    /// Deliberately weak: only the low `bits` bits of the byte sum and the
    /// length vary, so distinct words collide all the time. For tests that
    /// prove collisions never merge counts.
    WeakForTesting { bits: u32 },
}

impl KeyHash {
    /// The key of `bytes`.
    #[inline(always)]
    pub fn hash(self, bytes: &[u8]) -> u64 {
        match self {
            KeyHash::Xxh3 => xxhash_rust::xxh3::xxh3_64(bytes),
            KeyHash::WeakForTesting { bits } => {
                let sum = bytes.iter().fold(bytes.len() as u64, |a, &b| a.wrapping_add(b as u64));
                sum & ((1u64 << bits.min(63)) - 1)
            }
        }
    }
}
