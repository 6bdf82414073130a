//! Counts of short tokens (up to [`SHORT`] bytes) keyed by their bytes
//! alone, in front of a worker's [`CountTable`].
//!
//! Most tokens of a text are short, frequent words. Here each is one
//! 16-byte slot (its bytes as a word, its length, its count), found with a
//! multiply of those bytes: no key hash per token, and a table of half the
//! size, so a vocabulary that spills a core's L2 cache as [`CountTable`]
//! entries fits it here. The key hash is computed once per distinct token
//! per drain, when the counts move into the table, which keeps every count
//! and finds every collision as if each token had been added to it.

use super::{CountTable, LOOKAHEAD, MIX};
use crate::bytes::word_le;
use crate::hash::KeyHash;

/// The longest token kept here: its bytes fit one `u64`.
pub const SHORT: usize = 8;

/// A slot; empty while `len == 0` (tokens are never empty).
#[derive(Debug, Clone, Copy, bytemuck::Zeroable)]
#[repr(C, align(16))]
struct Slot {
    /// The token's bytes, little-endian, zero beyond `len`.
    word: u64,
    count: u32,
    len: u32,
}

/// Short-token counts waiting to be drained into a [`CountTable`].
#[derive(Debug, Clone)]
pub struct ShortCounts {
    /// A power of two of slots.
    slots: Vec<Slot>,
    shift: u32,
    /// The used slots, in the order they were taken: a drain visits and
    /// clears only these, so a small chunk costs no walk over every slot.
    used: Vec<u32>,
    /// Used slots that make the next token drain the table first.
    limit: usize,
    /// Tokens counted since the last drain, and how many make the next
    /// token drain first (`u32::MAX`: no slot's count can wrap).
    tokens: u64,
    max_tokens: u64,
    /// The key function of the tokens held (set as they arrive).
    hash: KeyHash,
    /// Set when a drain found mostly distinct tokens: until
    /// [`ShortCounts::end_chunk`], tokens go to the table.
    bypass: bool,
    /// Key hashes of a drain, reused.
    keys: Vec<u64>,
}

/// Slots of a worker's short table: 512 KiB, half a core's L2 cache on
/// the machines measured, so the long tokens' table keeps room beside it.
const SLOTS: usize = 1 << 15;

impl Default for ShortCounts {
    fn default() -> Self {
        ShortCounts::with_slots(SLOTS)
    }
}

impl ShortCounts {
    /// A table of `slots` slots (a power of two, at least 8) that drains
    /// at 7/8 full, as [`CountTable`] grows (les-miserables x10,
    /// whitespace, one thread, 21 interleaved runs: median 184 ms against
    /// 201 ms draining at 3/4; its 27.9K short words fit).
    pub fn with_slots(slots: usize) -> Self {
        assert!(slots.is_power_of_two() && slots >= 8);
        ShortCounts {
            slots: Vec::new(),
            shift: 64 - slots.trailing_zeros(),
            used: Vec::new(),
            limit: slots / 8 * 7,
            tokens: 0,
            max_tokens: u64::from(u32::MAX),
            hash: KeyHash::default(),
            bypass: false,
            keys: Vec::new(),
        }
    }

    /// Whether [`ShortCounts::add`] takes `token` now.
    #[inline(always)]
    pub fn takes(&self, token: &[u8]) -> bool {
        (1..=SHORT).contains(&token.len()) && self.takes_any()
    }

    /// Whether [`ShortCounts::add_word`] takes tokens now.
    #[inline(always)]
    pub fn takes_any(&self) -> bool {
        !self.bypass
    }

    /// Counts one `token` (one [`ShortCounts::takes`]) keyed by `hash`;
    /// when full, drains into `table` first.
    #[inline(always)]
    pub fn add(&mut self, hash: KeyHash, token: &[u8], table: &mut CountTable) {
        debug_assert!((1..=SHORT).contains(&token.len()), "a token ShortCounts::takes");
        self.add_word(hash, word_le(token), token.len() as u32, table);
    }

    /// [`ShortCounts::add`] of the token whose bytes are `word` (little-endian,
    /// zero beyond its `len` bytes).
    #[inline(always)]
    pub fn add_word(&mut self, hash: KeyHash, word: u64, len: u32, table: &mut CountTable) {
        // A length of 0 would read as an empty slot, and bytes past it as another token.
        debug_assert!((1..=SHORT as u32).contains(&len) && (len == 8 || word >> (8 * len) == 0), "{word:#x} of {len}");
        if self.tokens >= self.max_tokens || hash != self.hash || self.slots.is_empty() {
            self.make_room(hash, table);
        }
        self.tokens += 1;
        let mask = self.slots.len() - 1;
        let mut i = (word.wrapping_add(len as u64).wrapping_mul(MIX) >> self.shift) as usize;
        loop {
            let s = &mut self.slots[i];
            if s.word == word && s.len == len {
                s.count += 1;
                return;
            }
            if s.len == 0 {
                return self.insert(i, word, len, table);
            }
            i = (i + 1) & mask;
        }
    }

    /// A token not held yet, into the empty slot `i`.
    #[cold]
    #[inline(never)]
    fn insert(&mut self, i: usize, word: u64, len: u32, table: &mut CountTable) {
        self.slots[i] = Slot { word, count: 1, len };
        self.used.push(i as u32);
        if self.used.len() >= self.limit {
            // Fewer than 4 tokens per distinct one gain less here than
            // their drain costs: they pass straight to the table until the
            // chunk ends (criterion, 1M distinct words of Zipf exponent
            // 0.4: 13% slower than hashing every token with a bypass below
            // 2 tokens per distinct one, as fast below 4).
            self.bypass = self.tokens < 4 * self.used.len() as u64;
            self.drain(table);
        }
    }

    /// First use, counts that could wrap past `u32::MAX` soon, or a key
    /// function other than the held tokens' (they drain under theirs).
    #[cold]
    fn make_room(&mut self, hash: KeyHash, table: &mut CountTable) {
        if self.slots.is_empty() {
            self.slots = bytemuck::zeroed_vec(1 << (64 - self.shift));
        }
        self.drain(table);
        self.hash = hash;
    }

    /// Ends a bypass: the next chunk's tokens may be more alike.
    pub fn end_chunk(&mut self) {
        self.bypass = false;
    }

    /// Distinct tokens held: a drain adds at most this many keys to a table.
    pub fn distinct(&self) -> usize {
        self.used.len()
    }

    /// Tokens counted here since the last drain.
    pub fn tokens(&self) -> u64 {
        self.tokens
    }

    /// Moves every count into `table`, each distinct token's key hash
    /// computed once.
    pub fn drain(&mut self, table: &mut CountTable) {
        let (slots, hash) = (&mut self.slots, self.hash);
        if self.used.len() >= slots.len() / 4 {
            // Visited in slot order, so the slots stream in from memory
            // instead of each missing the cache: a worker's last drain is
            // of a table long since pushed out by the long tokens' table
            // (les x10 whitespace, 2 threads: drains 0.9% of the samples
            // against 3.4%, most of them waiting on a slot's load).
            self.used.clear();
            self.used.extend((0..slots.len() as u32).filter(|&i| slots[i as usize].len != 0));
        }
        let bytes = |s: &Slot| -> [u8; SHORT] { s.word.to_le_bytes() };
        self.keys.clear();
        self.keys.extend(self.used.iter().map(|&i| {
            let s = &slots[i as usize];
            hash.hash(&bytes(s)[..s.len as usize])
        }));
        for (k, &i) in self.used.iter().enumerate() {
            if let Some(&ahead) = self.keys.get(k + LOOKAHEAD) {
                table.prefetch(ahead);
            }
            let s = std::mem::replace(&mut slots[i as usize], Slot { word: 0, count: 0, len: 0 });
            table.add(self.keys[k], &bytes(&s)[..s.len as usize], u64::from(s.count));
        }
        self.used.clear();
        self.tokens = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::{BTreeMap, BTreeSet};

    /// Tokens of 1 to 12 bytes (some too long for this table), some
    /// ending in NULs (the same word as a shorter token), from a small
    /// alphabet so many repeat.
    fn tokens(n: usize, distinct: u64, seed: u64) -> Vec<Vec<u8>> {
        use rand::{Rng, SeedableRng};
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
        (0..n)
            .map(|_| {
                let i = rng.random_range(0..distinct);
                let len = 1 + (i % 12) as usize;
                let mut t: Vec<u8> = (0..len).map(|k| [b'a', b'b', 0, 0xc3][((i >> (2 * k)) & 3) as usize]).collect();
                t[0] = b'a' + (i % 26) as u8;
                t
            })
            .collect()
    }

    /// Counts `tokens` through a short table of `slots` slots in front of a
    /// table, draining at the end of every other chunk of `chunk` tokens, and
    /// checks every count, the total and the collisions against a map.
    fn check(tokens: &[Vec<u8>], slots: usize, chunk: usize, hash: KeyHash) {
        let (mut short, mut table) = (ShortCounts::with_slots(slots), CountTable::new());
        for (c, part) in tokens.chunks(chunk).enumerate() {
            for t in part {
                if short.takes(t) {
                    short.add(hash, t, &mut table);
                } else {
                    table.add(hash.hash(t), t, 1);
                }
            }
            short.end_chunk();
            // Drained at every other chunk's end: counts wait across chunks too.
            if c % 2 == 0 {
                short.drain(&mut table);
                assert!(short.used.is_empty());
            }
        }
        short.drain(&mut table);
        let mut want: BTreeMap<&[u8], u64> = BTreeMap::new();
        for t in tokens {
            *want.entry(t).or_default() += 1;
        }
        let got: BTreeMap<&[u8], u64> = table.iter_keyed().map(|(_, t, n)| (t, n)).collect();
        assert_eq!(got, want);
        assert_eq!(table.total(), tokens.len() as u64);
        let keys: BTreeSet<u64> = want.keys().map(|t| hash.hash(t)).collect();
        assert_eq!(table.collisions(), (want.len() - keys.len()) as u64);
    }

    #[test]
    fn counts_equal_a_plain_map_through_drains_bypass_and_collisions() {
        let many = tokens(50_000, 3_000, 1);
        // Never full: drained at every other chunk's end, and at the end.
        check(&many, 1 << 13, 7_000, KeyHash::Xxh3);
        // Full many times within a chunk (64 slots drain at 56).
        check(&many, 64, 50_000, KeyHash::Xxh3);
        // A weak hash: distinct tokens share keys, found as they are drained.
        check(&many, 256, 5_000, KeyHash::WeakForTesting { bits: 6 });
        // Mostly distinct tokens: the table goes to bypass within a chunk.
        let distinct: Vec<Vec<u8>> = (0..5_000u32).map(|i| i.to_le_bytes().to_vec()).collect();
        let (mut short, mut table) = (ShortCounts::with_slots(64), CountTable::new());
        for t in &distinct {
            if short.takes(t) {
                short.add(KeyHash::Xxh3, t, &mut table);
            }
        }
        assert!(short.bypass && !short.takes(b"a"), "a table of distinct tokens is bypassed");
        check(&distinct, 64, 1_000, KeyHash::Xxh3);
    }

    #[test]
    fn counts_drain_before_they_could_wrap() {
        // Here at 100 tokens, not 2^32; under the default key function and
        // another (whose first token drains what the first left).
        for hash in [KeyHash::Xxh3, KeyHash::WeakForTesting { bits: 6 }] {
            let (mut short, mut table) = (ShortCounts::with_slots(64), CountTable::new());
            short.max_tokens = 100;
            for n in 1..=1_050 {
                short.add(hash, b"the", &mut table);
                assert!(short.slots.iter().all(|s| u64::from(s.count) <= 100), "{hash:?}, after {n} adds");
                assert_eq!(short.tokens + table.total(), n);
            }
            short.drain(&mut table);
            assert_eq!(table.iter_keyed().map(|(_, t, n)| (t, n)).collect::<Vec<_>>(), [(&b"the"[..], 1_050)]);
        }
    }

    #[test]
    fn tokens_keep_the_key_function_they_came_with() {
        let (mut short, mut table) = (ShortCounts::with_slots(64), CountTable::new());
        let weak = KeyHash::WeakForTesting { bits: 6 };
        short.add(KeyHash::Xxh3, b"the", &mut table);
        short.add(weak, b"the", &mut table);
        short.add(weak, b"and", &mut table);
        short.drain(&mut table);
        let keyed: BTreeSet<(u64, &[u8], u64)> = table.iter_keyed().collect();
        let want = [
            (KeyHash::Xxh3.hash(b"the"), &b"the"[..], 1),
            (weak.hash(b"the"), b"the", 1),
            (weak.hash(b"and"), b"and", 1),
        ];
        assert_eq!(keyed, want.into_iter().collect());
    }
}
