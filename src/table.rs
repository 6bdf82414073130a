//! The exact count table: the result of every backend and the unit of merging.
//!
//! Entries are keyed by the 64-bit token key *and* the token bytes, so two
//! different tokens that share a key stay apart. Merging two tables (from two
//! threads, two GPU flushes or, later, two machines) is an ordinary operation.

use hashbrown::HashTable;

/// Tokens up to this long live inside their entry: most words do, and then a
/// lookup touches one cache line instead of two.
const INLINE: usize = 12;

/// `Entry::len` of a token of 4 GiB or more: its length is stored in the
/// arena, in 8 bytes before it.
const LONG: u32 = u32::MAX;

#[derive(Debug, Clone, Copy)]
struct Entry {
    hash: u64,
    count: u64,
    len: u32,
    /// The token's bytes when `len <= INLINE`, else its arena offset (first 8 bytes, LE).
    data: [u8; INLINE],
}

impl Entry {
    #[inline(always)]
    fn bytes<'a>(&'a self, arena: &'a [u8]) -> &'a [u8] {
        let len = self.len as usize;
        if len <= INLINE {
            return &self.data[..len];
        }
        let off = self.offset();
        if self.len != LONG { &arena[off..off + len] } else { long_bytes(arena, off) }
    }

    /// Whether the entry holds `token`: the lookup's comparison, with short
    /// tokens decided from the entry alone.
    #[inline(always)]
    fn holds(&self, arena: &[u8], token: &[u8]) -> bool {
        if token.len() <= INLINE {
            return self.len as usize == token.len() && same_bytes(&self.data[..token.len()], token);
        }
        self.holds_long(arena, token)
    }

    /// [`Entry::holds`] for a token kept in the arena: out of line, so that
    /// the lookup of short tokens stays small enough to be inlined.
    #[inline(never)]
    fn holds_long(&self, arena: &[u8], token: &[u8]) -> bool {
        if self.len != LONG {
            let off = self.offset();
            self.len as usize == token.len() && same_bytes(&arena[off..off + token.len()], token)
        } else {
            long_bytes(arena, self.offset()) == token
        }
    }

    #[inline(always)]
    fn offset(&self) -> usize {
        u64::from_le_bytes(self.data[..8].try_into().expect("8 bytes")) as usize
    }
}

/// A token of 4 GiB or more: its length is in the 8 arena bytes before it.
#[cold]
fn long_bytes(arena: &[u8], off: usize) -> &[u8] {
    let len = u64::from_le_bytes(arena[off..off + 8].try_into().expect("8 bytes")) as usize;
    &arena[off + 8..off + 8 + len]
}

/// Exact counts of distinct tokens.
#[derive(Debug, Default, Clone)]
pub struct CountTable {
    entries: HashTable<Entry>,
    /// Bytes of every distinct token, back to back.
    arena: Vec<u8>,
    total: u64,
    collisions: u64,
}

impl CountTable {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds `n` occurrences of `token`, whose key is `hash`.
    #[inline]
    pub fn add(&mut self, hash: u64, token: &[u8], n: u64) {
        self.total += n;
        let arena = &self.arena;
        let mut collided = false;
        let found = self.entries.find_mut(hash, |e| {
            if e.hash != hash {
                return false;
            }
            let same = e.holds(arena, token);
            collided |= !same;
            same
        });
        match found {
            Some(e) => e.count += n,
            None => self.insert(hash, token, n, collided),
        }
    }

    /// A token not in the table yet: rare next to lookups, so kept out of
    /// their way.
    #[cold]
    #[inline(never)]
    fn insert(&mut self, hash: u64, token: &[u8], n: u64, collided: bool) {
        if collided {
            self.collisions += 1;
        }
        let mut data = [0u8; INLINE];
        let len = u32::try_from(token.len()).ok().filter(|&l| l != LONG).unwrap_or(LONG);
        if token.len() <= INLINE {
            data[..token.len()].copy_from_slice(token);
        } else {
            data[..8].copy_from_slice(&(self.arena.len() as u64).to_le_bytes());
            if len == LONG {
                self.arena.extend_from_slice(&(token.len() as u64).to_le_bytes());
            }
            self.arena.extend_from_slice(token);
        }
        self.entries.insert_unique(hash, Entry { hash, count: n, len, data }, |e| e.hash);
    }

    /// Adds every token of a batch once.
    pub fn add_batch(&mut self, batch: &crate::keys::TokenBatch) {
        for (hash, token) in batch.iter() {
            self.add(hash, token, 1);
        }
    }

    /// Adds all counts of `other` into `self`. Collisions are found again as
    /// `other`'s tokens are added, so none is counted twice.
    pub fn merge(&mut self, other: &CountTable) {
        for (hash, token, n) in other.iter_keyed() {
            self.add(hash, token, n);
        }
    }

    /// Merges two tables, walking the smaller one.
    pub fn merged(a: CountTable, b: CountTable) -> CountTable {
        let (mut big, small) = if a.len() >= b.len() { (a, b) } else { (b, a) };
        big.merge(&small);
        big
    }

    /// One table from tables that share no key (shards by key bits):
    /// entries move without a lookup; totals and collisions add up, since
    /// tokens that share a key always share a table.
    pub fn union_of_disjoint(tables: Vec<CountTable>) -> CountTable {
        let mut out = CountTable {
            entries: HashTable::with_capacity(tables.iter().map(CountTable::len).sum()),
            arena: Vec::with_capacity(tables.iter().map(|t| t.arena.len()).sum()),
            total: 0,
            collisions: 0,
        };
        for table in tables {
            out.total += table.total;
            out.collisions += table.collisions;
            let base = out.arena.len() as u64;
            out.arena.extend_from_slice(&table.arena);
            for mut e in table.entries {
                if e.len as usize > INLINE {
                    let offset = e.offset() as u64 + base;
                    e.data[..8].copy_from_slice(&offset.to_le_bytes());
                }
                out.entries.insert_unique(e.hash, e, |e| e.hash);
            }
        }
        out
    }

    /// Empties the table, keeping its memory for the next tokens.
    pub fn clear(&mut self) {
        self.entries.clear();
        self.arena.clear();
        self.total = 0;
        self.collisions = 0;
    }

    /// Number of distinct tokens.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Number of token occurrences.
    pub fn total(&self) -> u64 {
        self.total
    }

    /// How many distinct tokens share their key with a distinct token added
    /// before them (each was kept apart, so counts stay exact): the number of
    /// distinct tokens minus the number of distinct keys, whatever the order
    /// of adds and merges.
    pub fn collisions(&self) -> u64 {
        self.collisions
    }

    /// The count of `token` (looked up by `hash` and bytes).
    pub fn get(&self, hash: u64, token: &[u8]) -> u64 {
        self.entries.find(hash, |e| e.hash == hash && e.bytes(&self.arena) == token).map_or(0, |e| e.count)
    }

    /// Iterates over (key, token bytes, count) in no particular order.
    pub fn iter_keyed(&self) -> impl Iterator<Item = (u64, &[u8], u64)> {
        self.entries.iter().map(|e| (e.hash, e.bytes(&self.arena), e.count))
    }

    /// Iterates over (token, count). Tokens come from decoded text, so they are UTF-8.
    pub fn iter(&self) -> impl Iterator<Item = (&str, u64)> {
        self.iter_keyed().map(|(_, t, n)| (std::str::from_utf8(t).unwrap_or("\u{FFFD}"), n))
    }

    /// Rows with `count >= min_count`, unordered: resolving keys to words.
    pub fn rows(&self, min_count: u64) -> Vec<(&str, u64)> {
        self.iter().filter(|&(_, n)| n >= min_count).collect()
    }

    /// Rows in report order, see [`sort_rows`].
    pub fn sorted_rows(&self, top: Option<usize>, min_count: u64) -> Vec<(&str, u64)> {
        sort_rows(self.rows(min_count), top)
    }
}

/// Byte equality without a `memcmp` call: most tokens are a few bytes long.
#[inline(always)]
fn same_bytes(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let (mut x, mut y) = (a.chunks_exact(8), b.chunks_exact(8));
    let word = |c: &[u8]| u64::from_ne_bytes(c.try_into().expect("chunks of 8"));
    for (p, q) in (&mut x).zip(&mut y) {
        if word(p) != word(q) {
            return false;
        }
    }
    x.remainder().iter().zip(y.remainder()).all(|(p, q)| p == q)
}

/// Puts rows in report order (count descending, then token bytes ascending)
/// and keeps the first `top`. With `top`, only the kept rows are fully sorted.
pub fn sort_rows(mut rows: Vec<(&str, u64)>, top: Option<usize>) -> Vec<(&str, u64)> {
    let order = |a: &(&str, u64), b: &(&str, u64)| b.1.cmp(&a.1).then_with(|| a.0.as_bytes().cmp(b.0.as_bytes()));
    if let Some(k) = top {
        if k == 0 {
            rows.clear();
        } else if k < rows.len() {
            rows.select_nth_unstable_by(k - 1, order);
            rows.truncate(k);
        }
    }
    sort_keyed(rows, |&(_, n)| !n)
}

/// Puts rows in the order of their token bytes.
pub fn sort_rows_by_word(rows: Vec<(&str, u64)>) -> Vec<(&str, u64)> {
    sort_keyed(rows, |_| 0)
}

/// Sorts rows by `first` (ascending), then token bytes. Each row is sorted
/// with its token's first 8 bytes beside it, so most comparisons never
/// reach the token itself (scattered over the table's memory); a large
/// vocabulary sorts on every core.
fn sort_keyed(rows: Vec<(&str, u64)>, first: impl Fn(&(&str, u64)) -> u64) -> Vec<(&str, u64)> {
    // Big-endian and zero-padded: prefixes that differ order as the bytes do.
    let prefix = |w: &str| {
        let mut p = [0u8; 8];
        let n = w.len().min(8);
        p[..n].copy_from_slice(&w.as_bytes()[..n]);
        u64::from_be_bytes(p)
    };
    let mut keyed: Vec<(u64, u64, &str, u64)> = rows.iter().map(|r| (first(r), prefix(r.0), r.0, r.1)).collect();
    drop(rows);
    let order = |a: &(u64, u64, &str, u64), b: &(u64, u64, &str, u64)| {
        (a.0, a.1).cmp(&(b.0, b.1)).then_with(|| a.2.as_bytes().cmp(b.2.as_bytes()))
    };
    if keyed.len() >= PARALLEL_SORT_ROWS {
        use rayon::slice::ParallelSliceMut;
        keyed.par_sort_unstable_by(order);
    } else {
        keyed.sort_unstable_by(order);
    }
    keyed.into_iter().map(|(_, _, w, n)| (w, n)).collect()
}

/// Rows from which sorting runs on every core (fewer sort faster on one).
const PARALLEL_SORT_ROWS: usize = 1 << 16;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::{KeySink, TokenBatch};

    /// Words that share 8-byte prefixes, hold NULs or are prefixes of each
    /// other, with counts drawn from a few values (so ties are common).
    fn tricky_rows(n: usize, seed: u64) -> Vec<(String, u64)> {
        use rand::{Rng, SeedableRng};
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
        let pieces = ["a", "ab", "abcdefgh", "\0", "é", "z", "abcdefgh\0", "ñandú"];
        (0..n)
            .map(|_| {
                let word: String =
                    (0..rng.random_range(0..4)).map(|_| pieces[rng.random_range(0..pieces.len())]).collect();
                (word, rng.random_range(1..5u64))
            })
            .collect()
    }

    #[test]
    fn keyed_sorts_equal_a_plain_sort_on_one_core_and_on_all() {
        for (n, seed) in [(0, 1), (1, 2), (500, 3), (PARALLEL_SORT_ROWS + 5000, 4)] {
            let owned = tricky_rows(n, seed);
            let rows: Vec<(&str, u64)> = owned.iter().map(|(w, c)| (w.as_str(), *c)).collect();
            let mut by_count = rows.clone();
            by_count.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.as_bytes().cmp(b.0.as_bytes())));
            assert_eq!(sort_rows(rows.clone(), None), by_count, "{n} rows");
            for top in [0, 1, 7, n] {
                assert_eq!(sort_rows(rows.clone(), Some(top)), by_count[..top.min(n)], "{n} rows, top {top}");
            }
            let mut by_word = rows.clone();
            by_word.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()).then(a.1.cmp(&b.1)));
            let got = sort_rows_by_word(rows);
            assert!(got.windows(2).all(|w| w[0].0.as_bytes() <= w[1].0.as_bytes()), "{n} rows by word");
            // The same rows (a table has each word once; these may repeat one).
            let mut same = got.clone();
            same.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()).then(a.1.cmp(&b.1)));
            assert_eq!(same, by_word, "{n} rows by word");
        }
    }

    #[test]
    fn a_token_of_four_gibibytes_is_counted_exactly() {
        let mut token = vec![b'a'; (1usize << 32) + 1];
        token[0] = b'b';
        let mut table = CountTable::new();
        table.add(1, &token, 2);
        table.add(1, &token, 1);
        table.add(1, b"short", 1);
        assert_eq!(table.get(1, &token), 3);
        assert_eq!(table.iter_keyed().map(|(_, t, _)| t.len()).max(), Some(token.len()));
        assert_eq!((table.len(), table.total(), table.collisions()), (2, 4, 1));
        drop(table);
        // Too long for a GPU record: kept whole for the host.
        let mut batch = TokenBatch::new();
        batch.key(1, b"small");
        batch.key(1, &token);
        assert_eq!((batch.records().len(), batch.oversized().len(), batch.len()), (1, 1, 2));
        assert_eq!(batch.iter().map(|(_, t)| t.len()).collect::<Vec<_>>(), [5, token.len()]);
    }
}
