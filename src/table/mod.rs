//! The exact count table: the result of every backend and the unit of merging.
//!
//! Entries are keyed by the 64-bit token key *and* the token bytes, so two
//! different tokens that share a key stay apart. Merging two tables (from two
//! threads, two GPU flushes or, later, two machines) is an ordinary operation.
//!
//! The table is open addressing with linear probing over one array of
//! 32-byte entries, each holding its key, count and (for tokens up to 12
//! bytes) the token itself. A lookup then costs one cache line, whose
//! address the key alone gives: [`CountTable::prefetch`] can ask for it
//! well before the lookup, which is how [`Prefetched`] hides memory latency
//! when the vocabulary outgrows the caches. (hashbrown's tables read a
//! control group and then the entry, two dependent misses, and do not say
//! where a key will land.) A CPU worker's short tokens are counted in
//! front of it by their bytes ([`ShortCounts`]).

mod short;

pub use short::ShortCounts;

use bytemuck::Zeroable;

/// Tokens up to this long live inside their entry: most words do, and then a
/// lookup touches one cache line instead of two.
const INLINE: usize = 12;

/// `Entry::len` of a token of 4 GiB or more: its length is stored in the
/// arena, in 8 bytes before it.
const LONG: u32 = u32::MAX;

/// Slots in a table's first allocation.
const MIN_SLOTS: usize = 16;

/// A slot; empty while `count == 0` (every stored token occurred).
#[derive(Debug, Clone, Copy, bytemuck::Zeroable)]
#[repr(C, align(32))]
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
    /// A power of two of slots (none before the first token).
    slots: Vec<Entry>,
    /// `64 - log2(slots.len())`: a key's home slot is the top bits of its
    /// mixed key, so a table's slot order is (almost) the key order of any
    /// smaller table, and merging one into another fills it evenly.
    shift: u32,
    /// Distinct tokens, and how many make the table grow.
    len: usize,
    grow_at: usize,
    /// Bytes of every distinct token longer than [`INLINE`], back to back.
    arena: Vec<u8>,
    total: u64,
    collisions: u64,
}

/// Mixes a key's bits into its top bits (Fibonacci hashing), so even keys
/// that vary only in their low bits (the weak test hash) spread out.
const MIX: u64 = 0x9E37_79B9_7F4A_7C15;

impl CountTable {
    pub fn new() -> Self {
        Self::default()
    }

    /// A table that holds `distinct` tokens without growing.
    pub fn with_capacity(distinct: usize) -> Self {
        let mut t = Self::default();
        t.reserve(distinct);
        t
    }

    /// The home slot of `hash`; the table has slots.
    #[inline(always)]
    fn home(&self, hash: u64) -> usize {
        (hash.wrapping_mul(MIX) >> self.shift) as usize
    }

    /// Says that `hash` will be added soon: starts loading its slot's cache
    /// line, so the add finds it in cache.
    #[inline(always)]
    pub fn prefetch(&self, hash: u64) {
        if !self.slots.is_empty() {
            prefetch_line(&self.slots[self.home(hash)]);
        }
    }

    /// Adds `n` occurrences of `token`, whose key is `hash` (none when `n` is 0).
    #[inline(always)]
    pub fn add(&mut self, hash: u64, token: &[u8], n: u64) {
        if n == 0 {
            return;
        }
        // Room first, so a new token always has an empty slot where its probe ends.
        if self.len >= self.grow_at {
            self.grow(self.len + 1);
        }
        self.total += n;
        let mask = self.slots.len() - 1;
        let mut i = self.home(hash);
        let arena = &self.arena;
        let mut collided = false;
        loop {
            let e = &mut self.slots[i];
            if e.count == 0 {
                break;
            }
            if e.hash == hash {
                if e.holds(arena, token) {
                    e.count += n;
                    return;
                }
                collided = true;
            }
            i = (i + 1) & mask;
        }
        self.insert_at(i, hash, token, n, collided);
    }

    /// A token not in the table yet, into the empty slot `i`: rare next to
    /// lookups, so kept out of their way.
    #[cold]
    #[inline(never)]
    fn insert_at(&mut self, i: usize, hash: u64, token: &[u8], n: u64, collided: bool) {
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
        self.slots[i] = Entry { hash, count: n, len, data };
        self.len += 1;
    }

    /// Makes room for `distinct` tokens: at most 7/8 of the slots are used.
    /// Probes stay short where it matters, since frequent tokens come early
    /// and keep their home slots; a fuller table fits the caches better
    /// (the Latin Library, 1 thread: 1.07-1.44 s and 94 MB at 7/8 against
    /// 1.58-1.80 s and 163 MB at 3/4).
    pub fn reserve(&mut self, distinct: usize) {
        if distinct > self.grow_at || self.slots.is_empty() {
            self.grow(distinct);
        }
    }

    /// Moves every entry into a table of slots enough for `distinct` tokens.
    #[cold]
    #[inline(never)]
    fn grow(&mut self, distinct: usize) {
        let mut slots = MIN_SLOTS.max(self.slots.len());
        while distinct.max(1) > slots / 8 * 7 {
            slots *= 2;
        }
        let old = std::mem::replace(&mut self.slots, bytemuck::zeroed_vec(slots));
        self.shift = 64 - slots.trailing_zeros();
        self.grow_at = slots / 8 * 7;
        for e in old.into_iter().filter(|e| e.count != 0) {
            self.place(e);
        }
    }

    /// Puts an entry whose token is not in the table into its first free slot.
    #[inline]
    fn place(&mut self, e: Entry) {
        let mask = self.slots.len() - 1;
        let mut i = self.home(e.hash);
        while self.slots[i].count != 0 {
            i = (i + 1) & mask;
        }
        self.slots[i] = e;
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
        // `other` is walked in slot order, which is home-slot order here
        // too: a much smaller table would see them all seek its first slots.
        self.reserve(self.len().max(other.len()));
        let entries = &other.slots;
        for (i, e) in entries.iter().enumerate() {
            if let Some(ahead) = entries.get(i + LOOKAHEAD) {
                self.prefetch(ahead.hash);
            }
            if e.count != 0 {
                self.add(e.hash, e.bytes(&other.arena), e.count);
            }
        }
    }

    /// Adds each (key, token, count) of `rows`, prefetching a few rows
    /// ahead. Room is made first: rows taken from a table in slot order
    /// come in home-slot order, and while this table is small they would
    /// all seek its first slots (as in [`CountTable::merge`]; a worker's
    /// 590K keys took 0.58 s to spill into new shards).
    pub fn add_all(&mut self, rows: &[(u64, &[u8], u64)]) {
        self.reserve(self.len() + rows.len());
        for (i, &(hash, token, n)) in rows.iter().enumerate() {
            if let Some(ahead) = rows.get(i + LOOKAHEAD) {
                self.prefetch(ahead.0);
            }
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
    /// entries move without a comparison; totals and collisions add up,
    /// since tokens that share a key always share a table.
    pub fn union_of_disjoint(tables: Vec<CountTable>) -> CountTable {
        let mut out = CountTable::with_capacity(tables.iter().map(CountTable::len).sum());
        out.arena.reserve(tables.iter().map(|t| t.arena.len()).sum());
        for table in tables {
            out.total += table.total;
            out.collisions += table.collisions;
            out.len += table.len;
            let base = out.arena.len() as u64;
            out.arena.extend_from_slice(&table.arena);
            for (i, &e) in table.slots.iter().enumerate() {
                if let Some(ahead) = table.slots.get(i + LOOKAHEAD) {
                    out.prefetch(ahead.hash);
                }
                if e.count == 0 {
                    continue;
                }
                let mut e = e;
                if e.len as usize > INLINE {
                    let offset = e.offset() as u64 + base;
                    e.data[..8].copy_from_slice(&offset.to_le_bytes());
                }
                out.place(e);
            }
        }
        out
    }

    /// Empties the table, keeping its memory for the next tokens.
    pub fn clear(&mut self) {
        self.slots.fill(Entry::zeroed());
        self.len = 0;
        self.arena.clear();
        self.total = 0;
        self.collisions = 0;
    }

    /// Number of distinct tokens.
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
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

    /// The count of `token` (looked up by `hash` and bytes). The probe
    /// repeats `add`'s on purpose: one shared probe returning the slot cost
    /// `add` 4% on one thread (les-miserables x10, words).
    pub fn get(&self, hash: u64, token: &[u8]) -> u64 {
        if self.slots.is_empty() {
            return 0;
        }
        let mask = self.slots.len() - 1;
        let mut i = self.home(hash);
        loop {
            let e = &self.slots[i];
            if e.count == 0 {
                return 0;
            }
            if e.hash == hash && e.bytes(&self.arena) == token {
                return e.count;
            }
            i = (i + 1) & mask;
        }
    }

    /// Iterates over (key, token bytes, count) in no particular order.
    pub fn iter_keyed(&self) -> impl Iterator<Item = (u64, &[u8], u64)> {
        self.slots.iter().filter(|e| e.count != 0).map(|e| (e.hash, e.bytes(&self.arena), e.count))
    }

    /// Iterates over (token, count). Tokens come from decoded text, so they are UTF-8.
    pub fn iter(&self) -> impl Iterator<Item = (&str, u64)> {
        self.iter_keyed().map(|(_, t, n)| (as_text(t), n))
    }

    /// Rows with `count >= min_count`, unordered: resolving keys to words.
    pub fn rows(&self, min_count: u64) -> Vec<(&str, u64)> {
        self.resolve(min_count, |w, n| (w, n))
    }

    /// Rows with `count >= min_count`, each beside its sort key (count
    /// descending when `by_count`, then token bytes), made as each key is
    /// resolved: the token's bytes are read while they are in cache, where
    /// keying the resolved rows read them from all over memory again (the
    /// Latin Library's 7M bigrams: resolve, sort and output 1.98 s, 1.46 s).
    pub fn keyed_rows(&self, min_count: u64, by_count: bool) -> KeyedRows<'_> {
        KeyedRows(self.resolve(min_count, |w, n| keyed(w, n, if by_count { !n } else { 0 })))
    }

    /// Rows in report order, see [`sort_rows`].
    pub fn sorted_rows(&self, top: Option<usize>, min_count: u64) -> Vec<(&str, u64)> {
        match top {
            None => self.keyed_rows(min_count, true).sorted(),
            top => sort_rows(self.rows(min_count), top),
        }
    }

    /// `row` of every key counted at least `min_count` times, in slot order;
    /// a large table is resolved on every core.
    fn resolve<'a, T: Send>(&'a self, min_count: u64, row: impl Fn(&'a str, u64) -> T + Sync) -> Vec<T> {
        let row = &row;
        let resolved = |slots: &'a [Entry]| {
            slots
                .iter()
                .filter(move |e| e.count != 0 && e.count >= min_count)
                .map(move |e| row(as_text(e.bytes(&self.arena)), e.count))
        };
        if self.slots.len() >= PARALLEL_SORT_ROWS {
            use rayon::prelude::*;
            self.slots.par_chunks(PARALLEL_SORT_ROWS / 4).flat_map_iter(resolved).collect()
        } else {
            resolved(&self.slots).collect()
        }
    }
}

/// A token's bytes as text (tokens come from decoded text, so they are UTF-8).
fn as_text(token: &[u8]) -> &str {
    std::str::from_utf8(token).unwrap_or("\u{FFFD}")
}

/// Resolved rows beside their sort keys, see [`CountTable::keyed_rows`].
pub struct KeyedRows<'a>(Vec<Keyed<'a>>);

impl<'a> KeyedRows<'a> {
    /// The rows in their order.
    pub fn sorted(self) -> Vec<(&'a str, u64)> {
        sort_keyed_rows(self.0)
    }
}

/// Starts loading the cache line of `p` (a hint: it never faults).
#[inline(always)]
pub(crate) fn prefetch_line<T: ?Sized>(p: &T) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: a prefetch reads nothing and cannot fault; `p` is a live reference anyway.
    unsafe {
        core::arch::x86_64::_mm_prefetch::<{ core::arch::x86_64::_MM_HINT_T0 }>((p as *const T).cast::<i8>())
    };
    #[cfg(target_arch = "aarch64")]
    // SAFETY: as above; `prfm` only hints the memory system.
    unsafe {
        core::arch::asm!("prfm pldl1keep, [{0}]", in(reg) (p as *const T).cast::<u8>(), options(nostack, readonly, preserves_flags))
    };
    #[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
    let _ = p;
}

/// How far ahead bulk adds (merges, spills, unions) prefetch.
const LOOKAHEAD: usize = 8;

/// Keys between their prefetch and their add: enough to keep a core's
/// memory requests busy while it tokenizes the next words.
const DEPTH: usize = 16;

/// Tables of up to this many slots (512 KiB) are fed directly: their
/// frequent words stay in a core's L2 cache beside the short tokens' table
/// (512 KiB), where the queue costs more than the misses it hides. While
/// the short table takes the tokens of up to [`SHORT`](short::SHORT)
/// bytes, only longer ones reach a worker's table (and n-grams and
/// per-document keys), and they miss a larger one: les-miserables
/// x10 `--tokenizer whitespace` (22K distinct long tokens, a 1 MiB table),
/// 21 interleaved runs on 2 cores: median 110 ms queued against 117 ms
/// direct (with 2 MiB here, as before short tokens came as words).
const CACHED_SLOTS: usize = (512 << 10) / std::mem::size_of::<Entry>();

/// Tokens this long or shorter wait in the queue (longer ones are added at once).
const QUEUED: usize = 23;

#[derive(Clone, Copy)]
#[repr(C)]
struct Queued {
    hash: u64,
    bytes: [u8; QUEUED],
    len: u8,
}

/// A CPU worker's [`CountTable`], fed two ways. Tokens given with their key
/// function ([`KeySink::token`](crate::keys::KeySink::token), or as words
/// by [`KeySink::short_token`](crate::keys::KeySink::short_token)) that are
/// short wait in a [`ShortCounts`], counted by their bytes. Other keys go
/// through a short queue once the table outgrows a core's cache: each
/// key's slot is prefetched when the key arrives and counted [`DEPTH`] keys
/// later, so many cache misses are in flight at once instead of one after
/// another. Counts are the table's once [`Prefetched::flush`] has run.
pub struct Prefetched {
    table: CountTable,
    short: ShortCounts,
    queue: [Queued; DEPTH],
    next: usize,
    queued: usize,
}

impl Default for Prefetched {
    fn default() -> Self {
        Prefetched::new(CountTable::new())
    }
}

impl Prefetched {
    pub fn new(table: CountTable) -> Self {
        let queue = [Queued { hash: 0, bytes: [0; QUEUED], len: 0 }; DEPTH];
        Prefetched { table, short: ShortCounts::default(), queue, next: 0, queued: 0 }
    }

    /// Adds what is still queued, and the short tokens' counts.
    pub fn flush(&mut self) {
        self.short.drain(&mut self.table);
        for q in &self.queue[..self.queued] {
            self.table.add(q.hash, &q.bytes[..q.len as usize], 1);
        }
        (self.next, self.queued) = (0, 0);
    }

    /// Ends a chunk (a table of mostly distinct short tokens may be tried again).
    pub fn end_chunk(&mut self) {
        self.short.end_chunk();
    }

    /// The table's distinct keys after a flush, at most, and its total.
    pub fn after_flush(&self) -> (usize, u64) {
        let (short, queued) = (self.short.distinct(), self.queued);
        (self.table.len() + short + queued, self.table.total() + self.short.tokens() + queued as u64)
    }

    /// The table, with everything queued added.
    pub fn table(&mut self) -> &mut CountTable {
        self.flush();
        &mut self.table
    }

    pub fn into_table(mut self) -> CountTable {
        self.flush();
        self.table
    }

    /// A short token given as a word while the short table is bypassed: as
    /// the same token given as bytes. Out of line, so that the word path
    /// stays small enough to be inlined into the tokenizer's loop.
    #[inline(never)]
    fn bypassed(&mut self, hash: crate::hash::KeyHash, word: u64, len: usize) {
        use crate::keys::KeySink;
        self.token(hash, &word.to_le_bytes()[..len]);
    }
}

impl crate::keys::KeySink for Prefetched {
    #[inline(always)]
    fn token(&mut self, hash: crate::hash::KeyHash, key: &[u8]) {
        if self.short.takes(key) {
            self.short.add(hash, key, &mut self.table);
        } else {
            self.key(hash.hash(key), key);
        }
    }

    #[inline(always)]
    fn short_token(&mut self, hash: crate::hash::KeyHash, word: u64, len: usize) {
        if self.short.takes_any() {
            self.short.add_word(hash, word, len as u32, &mut self.table);
        } else {
            self.bypassed(hash, word, len);
        }
    }

    #[inline(always)]
    fn key(&mut self, hash: u64, key: &[u8]) {
        // A table that fits a core's cache gains nothing from the queue. (A
        // table never shrinks, so the queue is empty while this holds.)
        if key.len() > QUEUED || self.table.slots.len() <= CACHED_SLOTS {
            return self.table.add(hash, key, 1);
        }
        self.table.prefetch(hash);
        let slot = &mut self.queue[self.next];
        if self.queued == DEPTH {
            self.table.add(slot.hash, &slot.bytes[..slot.len as usize], 1);
        } else {
            self.queued += 1;
        }
        slot.hash = hash;
        copy_short(key, &mut slot.bytes);
        slot.len = key.len() as u8;
        self.next = (self.next + 1) % DEPTH;
    }
}

/// Copies `src` (at most [`QUEUED`] bytes) to the start of `dst` in two
/// overlapping fixed-size moves instead of a `memcpy` call: most tokens
/// are a few bytes long.
#[inline(always)]
fn copy_short(src: &[u8], dst: &mut [u8; QUEUED]) {
    let n = src.len();
    if n >= 16 {
        dst[..16].copy_from_slice(&src[..16]);
        dst[n - 16..n].copy_from_slice(&src[n - 16..]);
    } else if n >= 8 {
        dst[..8].copy_from_slice(&src[..8]);
        dst[n - 8..n].copy_from_slice(&src[n - 8..]);
    } else if n >= 4 {
        dst[..4].copy_from_slice(&src[..4]);
        dst[n - 4..n].copy_from_slice(&src[n - 4..]);
    } else {
        for (d, s) in dst.iter_mut().zip(src) {
            *d = *s;
        }
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

/// A row beside its sort key: `first`, then its token's first 16 bytes
/// (big-endian and zero-padded: prefixes that differ order as the bytes
/// do), so few comparisons reach the token itself (scattered over the
/// table's memory: with 8 bytes, the comparisons of long words that share
/// them took a fifth of the time).
type Keyed<'a> = (u64, u128, &'a str, u64);

fn keyed(w: &str, n: u64, first: u64) -> Keyed<'_> {
    let mut p = [0u8; 16];
    let len = w.len().min(16);
    p[..len].copy_from_slice(&w.as_bytes()[..len]);
    (first, u128::from_be_bytes(p), w, n)
}

/// Sorts rows by `first` (ascending), then token bytes.
fn sort_keyed(rows: Vec<(&str, u64)>, first: impl Fn(&(&str, u64)) -> u64) -> Vec<(&str, u64)> {
    let keyed = rows.iter().map(|r| keyed(r.0, r.1, first(r))).collect();
    drop(rows);
    sort_keyed_rows(keyed)
}

/// Sorts keyed rows, a large vocabulary on every core, and drops the keys.
fn sort_keyed_rows(mut keyed: Vec<Keyed<'_>>) -> Vec<(&str, u64)> {
    let order = |a: &Keyed, b: &Keyed| (a.0, a.1).cmp(&(b.0, b.1)).then_with(|| a.2.as_bytes().cmp(b.2.as_bytes()));
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
    fn rows_resolved_from_a_table_sort_as_a_plain_sort_on_one_core_and_on_all() {
        let hash = crate::KeyHash::default();
        for (n, seed) in [(0, 5), (300, 6), (PARALLEL_SORT_ROWS + 5000, 7)] {
            // Distinct words sharing long prefixes, NULs and accents, some
            // added twice; every storage class (inline and arena).
            let owned: Vec<(String, u64)> =
                tricky_rows(n, seed).into_iter().enumerate().map(|(i, (w, c))| (format!("{w}{}", i / 2), c)).collect();
            let mut table = CountTable::new();
            let mut expected: std::collections::HashMap<&str, u64> = Default::default();
            for (w, c) in &owned {
                table.add(hash.hash(w.as_bytes()), w.as_bytes(), *c);
                *expected.entry(w.as_str()).or_default() += c;
            }
            assert_eq!(table.slots.len() >= PARALLEL_SORT_ROWS, n > PARALLEL_SORT_ROWS, "both paths are taken");
            for min_count in [1, 3] {
                let mut by_count: Vec<(&str, u64)> =
                    expected.iter().map(|(w, c)| (*w, *c)).filter(|r| r.1 >= min_count).collect();
                by_count.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.as_bytes().cmp(b.0.as_bytes())));
                assert_eq!(table.sorted_rows(None, min_count), by_count, "{n} rows, min {min_count}");
                assert_eq!(table.keyed_rows(min_count, true).sorted(), by_count);
                assert_eq!(table.sorted_rows(Some(10), min_count), by_count[..10.min(by_count.len())]);
                let mut by_word = by_count.clone();
                by_word.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
                assert_eq!(table.keyed_rows(min_count, false).sorted(), by_word, "{n} rows by word");
                let mut unordered = table.rows(min_count);
                unordered.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
                assert_eq!(unordered, by_word);
            }
        }
    }

    /// Tokens of every storage class: inline, queued, arena; many share a
    /// key under a weak hash of `bits` bits.
    fn random_adds(n: usize, seed: u64, bits: u32) -> Vec<(u64, Vec<u8>, u64)> {
        use rand::{Rng, SeedableRng};
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
        let hash = crate::KeyHash::WeakForTesting { bits };
        (0..n)
            .map(|_| {
                let len = [1, 3, 5, 12, 13, 23, 24, 40][rng.random_range(0..8)];
                let token: Vec<u8> = (0..len).map(|_| b"abc\0"[rng.random_range(0..4)]).collect();
                (hash.hash(&token), token, rng.random_range(0..3u64))
            })
            .collect()
    }

    /// Counts, distinct tokens and distinct keys of `adds`, the plain way.
    fn reference(adds: &[(u64, Vec<u8>, u64)]) -> (std::collections::BTreeMap<Vec<u8>, u64>, u64) {
        let mut counts = std::collections::BTreeMap::new();
        let mut keys = std::collections::BTreeSet::new();
        for (h, t, n) in adds.iter().filter(|a| a.2 > 0) {
            *counts.entry(t.clone()).or_insert(0) += n;
            keys.insert(*h);
        }
        let collisions = (counts.len() - keys.len()) as u64;
        (counts, collisions)
    }

    fn contents(t: &CountTable) -> std::collections::BTreeMap<Vec<u8>, u64> {
        let map: std::collections::BTreeMap<Vec<u8>, u64> = t.iter_keyed().map(|(_, k, n)| (k.to_vec(), n)).collect();
        assert_eq!(map.len(), t.len(), "each token once");
        map
    }

    #[test]
    fn tables_equal_a_plain_map_through_growth_merges_queues_and_shards() {
        // The last two outgrow CACHED_SLOTS, so keys go through the queue.
        let cases =
            [(0, 1, 64), (1, 2, 64), (3000, 3, 64), (3000, 4, 6), (20_000, 5, 12), (250_000, 6, 64), (250_000, 7, 16)];
        for (n, seed, bits) in cases {
            let adds = random_adds(n, seed, bits);
            let (want, collisions) = reference(&adds);
            let total: u64 = want.values().sum();
            let check = |t: &CountTable, how: &str| {
                assert_eq!(contents(t), want, "{how}, {n} adds, {bits} bits");
                assert_eq!((t.total(), t.collisions()), (total, collisions), "{how}, {n} adds, {bits} bits");
                for (token, count) in &want {
                    let h = crate::KeyHash::WeakForTesting { bits }.hash(token);
                    assert_eq!(t.get(h, token), *count, "{how}: get");
                }
            };
            let mut direct = CountTable::new();
            for (h, t, c) in &adds {
                direct.add(*h, t, *c);
            }
            check(&direct, "direct");
            // One occurrence at a time through the prefetching queue.
            let mut queued = Prefetched::default();
            for (h, t, c) in &adds {
                for _ in 0..*c {
                    queued.key(*h, t);
                }
            }
            let queued = queued.into_table();
            assert_eq!(n < 250_000, queued.slots.len() <= CACHED_SLOTS, "which cases use the queue");
            check(&queued, "queued");
            // Halves merged both ways, into tables of every size.
            let (a, b) = adds.split_at(n / 3);
            let half = |part: &[(u64, Vec<u8>, u64)]| {
                let mut t = CountTable::with_capacity(part.len() / 7);
                part.iter().for_each(|(h, k, c)| t.add(*h, k, *c));
                t
            };
            check(&CountTable::merged(half(a), half(b)), "merged");
            check(&CountTable::merged(half(b), half(a)), "merged the other way");
            // Shards by key bits, as the CPU backend spills.
            let mut shards: Vec<CountTable> = (0..4).map(|_| CountTable::new()).collect();
            adds.iter().for_each(|(h, k, c)| shards[(*h % 4) as usize].add(*h, k, *c));
            check(&CountTable::union_of_disjoint(shards), "union of shards");
            // Cleared and refilled: nothing of the first fill remains.
            let mut reused = direct.clone();
            reused.clear();
            assert_eq!((reused.len(), reused.total(), reused.iter_keyed().count()), (0, 0, 0));
            adds.iter().for_each(|(h, k, c)| reused.add(*h, k, *c));
            check(&reused, "cleared and refilled");
        }
    }

    /// Short tokens given as words ([`KeySink::short_token`]) count as the
    /// same tokens given as bytes, while the short table takes them and
    /// while it is bypassed (mostly distinct tokens), under a weak hash.
    #[test]
    fn short_tokens_given_as_words_count_as_their_bytes() {
        use crate::keys::KeySink;
        let hash = crate::KeyHash::WeakForTesting { bits: 10 };
        let tokens: Vec<Vec<u8>> =
            (0..60_000u32).map(|i| format!("{:x}", if i < 30_000 { i } else { i % 50 }).into_bytes()).collect();
        let (mut words, mut bytes) = (Prefetched::default(), Prefetched::default());
        let mut bypassed = false;
        for (i, t) in tokens.iter().enumerate() {
            words.short_token(hash, crate::bytes::word_le(t), t.len());
            bytes.token(hash, t);
            bypassed |= !words.short.takes_any();
            if i == 45_000 {
                words.end_chunk();
                bytes.end_chunk();
            }
        }
        assert!(bypassed, "30,000 distinct tokens bypass the short table");
        let mut want = std::collections::BTreeMap::<Vec<u8>, u64>::new();
        tokens.iter().for_each(|t| *want.entry(t.clone()).or_default() += 1);
        let (words, bytes) = (words.into_table(), bytes.into_table());
        assert_eq!(contents(&words), want);
        assert_eq!(contents(&bytes), want);
        assert_eq!((words.total(), words.collisions()), (bytes.total(), bytes.collisions()));
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
