//! The CPU backend: each worker counts into a table of its own; one that
//! grows past its share of [`LOCAL_ENTRIES`] distinct keys, or past
//! [`MIN_SPILL`] while most of its tokens are new keys, is poured into
//! shared shards (by key bits) and started again. Memory then grows with
//! the vocabulary, not with threads × vocabulary, and a vocabulary that
//! fits the workers' shares never leaves their tables (merged pairwise at
//! the end).

use super::{Backend, Finished};
use crate::error::Error;
use crate::table::{CountTable, Prefetched};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

/// Shared shards: enough that two workers seldom wait for the same one.
const SHARDS: usize = 64;

/// The shard of a key: six bits of it (a table's slot mixes all of a key's
/// bits, so each shard's table stays well spread).
fn shard_of(hash: u64) -> usize {
    (hash >> 32) as usize & (SHARDS - 1)
}

/// Distinct keys the workers' tables hold together before they spill
/// (each its share, at least [`MIN_SPILL`]): at most about 150 MB of
/// slots up to 32 workers; beyond, each worker's [`MIN_SPILL`] floor (up
/// to 4 MiB of slots), as before there were shares. Spilling moves a key
/// to its shard with a cache miss, again at each spill, so a table that
/// holds a Zipfian vocabulary counts it faster: the Latin Library (887K distinct tokens) took 0.77 s on 2
/// threads and 0.92 s on one, against 0.86 s and 1.13 s when every table
/// spilled at 65,536 keys (medians of 9 and 7 interleaved runs).
pub const LOCAL_ENTRIES: usize = 1 << 21;

/// A table of at least this many keys spills when over a quarter of its
/// tokens were new keys ([`NEW_KEYS`]), and in any case at its share of
/// [`LOCAL_ENTRIES`].
pub const MIN_SPILL: usize = 1 << 16;

/// Tokens per distinct key (counted since the table's last spill) below
/// which a table stops growing and spills: in a text where most tokens are
/// new keys, each misses the caches of a large table, and growing it moves
/// them all again. Measured per chunk, the Latin Library's tables past
/// 65,536 keys got 3-18% new keys; 2.2M
/// distinct words drawn with Zipf exponent 0.4 got 50-97%, and counted in
/// 8.4 s instead of 2.9 s on one thread when its table grew.
const NEW_KEYS: u64 = 4;

/// How the CPU backend holds its tables.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CpuOptions {
    /// Distinct keys a worker's table may hold before it is poured into
    /// the shared shards; None: its share of [`LOCAL_ENTRIES`].
    pub spill_entries: Option<usize>,
}

/// Counts on the CPU, one table per worker thread, spilling into shards.
#[derive(Debug)]
pub struct CpuBackend {
    /// Distinct keys a worker's table holds before it spills.
    spill_entries: usize,
    /// With its share (no `spill_entries` given): it spills from
    /// [`MIN_SPILL`] keys on while more than a quarter of its tokens are new keys.
    early: bool,
    /// Spills so far: each starts at another shard, so that two workers
    /// spilling at once do not queue for the same locks in turn.
    spills: AtomicUsize,
    shards: Vec<Mutex<CountTable>>,
    spilled: AtomicBool,
}

impl CpuBackend {
    /// A backend for `workers` counting threads (each holds a local table).
    pub fn new(opts: CpuOptions, workers: usize) -> Self {
        let share = (LOCAL_ENTRIES / workers.max(1)).max(MIN_SPILL);
        let shards = (0..SHARDS).map(|_| Mutex::new(CountTable::new())).collect();
        CpuBackend {
            spill_entries: opts.spill_entries.unwrap_or(share).max(1),
            early: opts.spill_entries.is_none(),
            spills: AtomicUsize::new(0),
            shards,
            spilled: AtomicBool::new(false),
        }
    }

    /// Distinct keys in the shards.
    fn in_shards(&self) -> usize {
        self.shards.iter().map(|s| s.lock().unwrap_or_else(|e| e.into_inner()).len()).sum()
    }

    /// Whether a table of `len` keys that counted `tokens` since its last
    /// spill spills (true for more keys, or fewer tokens, too).
    fn spills_at(&self, len: usize, tokens: u64) -> bool {
        len >= self.spill_entries || (self.early && len >= MIN_SPILL && len as u64 * NEW_KEYS > tokens)
    }

    /// Pours `local` into the shards, shard by shard, and empties it.
    fn spill(&self, local: &mut CountTable) {
        if local.is_empty() {
            return;
        }
        self.spilled.store(true, Ordering::Relaxed);
        let mut parts: Vec<Vec<(u64, &[u8], u64)>> = vec![Vec::new(); SHARDS];
        for (hash, token, n) in local.iter_keyed() {
            parts[shard_of(hash)].push((hash, token, n));
        }
        let start = self.spills.fetch_add(1, Ordering::Relaxed) * 17;
        for i in 0..SHARDS {
            let s = (start + i) % SHARDS;
            if !parts[s].is_empty() {
                self.shards[s].lock().unwrap_or_else(|e| e.into_inner()).add_all(&parts[s]);
            }
        }
        drop(parts);
        local.clear();
    }
}

impl Backend for CpuBackend {
    type Local = Prefetched;
    const COUNTS_IN_SINK: bool = true;

    fn local(&self) -> Prefetched {
        Prefetched::default()
    }

    fn end_chunk(&self, local: &mut Prefetched) -> Result<(), Error> {
        local.end_chunk();
        // Keys at most and tokens exactly once flushed: when even these
        // cannot make the table spill, the short tokens' counts wait in
        // their cache-sized table (a flush per small document would hash
        // and move them all again).
        let (keys, tokens) = local.after_flush();
        if !self.spills_at(keys, tokens) {
            return Ok(());
        }
        let table = local.table();
        if self.spills_at(table.len(), table.total()) {
            self.spill(table);
        }
        Ok(())
    }

    /// Moves the short tokens' counts into the worker's table, so that the
    /// merge that follows does not do it for every worker in turn.
    fn end_worker(&self, local: &mut Prefetched) -> Result<(), Error> {
        let table = local.table();
        if self.spills_at(table.len(), table.total()) {
            self.spill(table);
        }
        Ok(())
    }

    fn merge(&self, a: Prefetched, b: Prefetched) -> Prefetched {
        let (mut a, mut b) = (a.into_table(), b.into_table());
        // Called once every worker has ended, though another merge may be
        // spilling beside this one: the shard count only picks the faster
        // way, and either keeps every key.
        if !self.spilled.load(Ordering::Relaxed) || a.len() + b.len() >= self.in_shards() {
            return Prefetched::new(CountTable::merged(a, b));
        }
        self.spill(&mut a);
        self.spill(&mut b);
        Prefetched::new(a)
    }

    fn finish(self, local: Prefetched) -> Result<Finished, Error> {
        let mut local = local.into_table();
        if !self.spilled.load(Ordering::Relaxed) {
            return Ok(Finished::table(local));
        }
        // Whichever holds fewer keys goes into the other: a worker's table
        // that kept most of a vocabulary takes the few spilled keys (the
        // Latin Library on 2 threads: 0.2 s less than spilling 1.2M keys).
        let keep = local.len() >= self.in_shards();
        if !keep {
            self.spill(&mut local);
        }
        let shards = self.shards.into_iter().map(|m| m.into_inner().unwrap_or_else(|e| e.into_inner()));
        if keep {
            shards.for_each(|shard| local.merge(&shard));
            return Ok(Finished::table(local));
        }
        Ok(Finished::table(CountTable::union_of_disjoint(shards.collect())))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hash::KeyHash;
    use crate::keys::KeySink;
    use std::collections::BTreeMap;

    /// Key `i` of a weak hash (8 keys share each hash: collisions across
    /// workers and shards) and its token.
    fn key(i: u64) -> (u64, Vec<u8>) {
        (i % (1 << 13), format!("w{i}").into_bytes())
    }

    /// Feeds each worker's keys, a chunk at a time, then merges and
    /// finishes as the pipeline does; checks every count, the total and
    /// the collisions (distinct tokens minus distinct hashes).
    fn count(backend: CpuBackend, workers: &[Vec<Vec<u64>>]) -> CountTable {
        count_fed(backend, workers, |local, i| {
            let (h, t) = key(i);
            local.key(h, &t);
            (h, t)
        })
    }

    /// [`count`] with `feed` sending key `i` to a worker's sink, and
    /// giving back its hash and token.
    fn count_fed(
        backend: CpuBackend,
        workers: &[Vec<Vec<u64>>],
        feed: impl Fn(&mut Prefetched, u64) -> (u64, Vec<u8>),
    ) -> CountTable {
        let mut want: BTreeMap<Vec<u8>, u64> = BTreeMap::new();
        let mut hashes = std::collections::BTreeSet::new();
        let mut locals = Vec::new();
        for chunks in workers {
            let mut local = backend.local();
            for chunk in chunks {
                for &i in chunk {
                    let (h, t) = feed(&mut local, i);
                    hashes.insert(h);
                    *want.entry(t).or_default() += 1;
                }
                backend.end_chunk(&mut local).unwrap();
            }
            backend.end_worker(&mut local).unwrap();
            locals.push(local);
        }
        let local = locals.into_iter().reduce(|a, b| backend.merge(a, b)).unwrap_or_default();
        let table = backend.finish(local).unwrap().table;
        let got: BTreeMap<Vec<u8>, u64> = table.iter().map(|(t, n)| (t.as_bytes().to_vec(), n)).collect();
        assert_eq!(got, want);
        assert_eq!(table.total(), want.values().sum::<u64>());
        assert_eq!(table.collisions(), (want.len() - hashes.len()) as u64);
        table
    }

    fn chunks(from: u64, to: u64, per_chunk: usize, repeat: u64) -> Vec<Vec<u64>> {
        let keys: Vec<u64> = (0..repeat).flat_map(|_| from..to).collect();
        keys.chunks(per_chunk).map(<[u64]>::to_vec).collect()
    }

    #[test]
    fn the_shards_or_a_worker_table_take_the_other_and_counts_stay_exact() {
        // Spilled keys outnumber what the workers keep: locals go into the shards.
        let many = CpuBackend::new(CpuOptions { spill_entries: Some(500) }, 3);
        count(many, &[chunks(0, 20_000, 700, 2), chunks(10_000, 30_000, 900, 1), vec![]]);
        // One worker, its last keys still in its table.
        let one = CpuBackend::new(CpuOptions { spill_entries: Some(500) }, 1);
        count(one, &[chunks(0, 5_000, 700, 1)]);
        // One early spill, then tables that keep most keys (some of them
        // spilled too): the shards go into them.
        // Keys 8192 on share the hashes of keys 0 on: spilled and kept
        // tokens collide when the shards go in.
        let few = CpuBackend::new(CpuOptions { spill_entries: Some(1_000) }, 2);
        let first = [chunks(0, 1_000, 1_000, 1), chunks(8_192, 9_191, 999, 1)].concat();
        let table = count(few, &[first, chunks(500, 1_499, 333, 3)]);
        assert_eq!(table.collisions(), 999);
    }

    #[test]
    fn short_tokens_counted_by_their_bytes_reach_the_shards_and_the_end_exactly() {
        // Tokens of 2 to 11 bytes (short ones wait in the short table),
        // under a weak hash (collisions), spilled often or at the share.
        let hash = KeyHash::WeakForTesting { bits: 9 };
        let feed = |local: &mut Prefetched, i: u64| {
            let t = format!("{}{i}", "x".repeat((i % 5) as usize)).into_bytes();
            local.token(hash, &t);
            (hash.hash(&t), t)
        };
        let worker = |w: u64| (0..6u64).map(|c| (0..3_000u64).map(|k| (k * k + c * 7 + w) % 4_000).collect()).collect();
        for spill in [Some(300), None] {
            let backend = CpuBackend::new(CpuOptions { spill_entries: spill }, 2);
            assert_eq!(count_fed(backend, &[worker(0), worker(1)], feed).total(), 36_000, "spill {spill:?}");
        }
    }

    #[test]
    fn short_tokens_waiting_in_their_table_still_make_it_spill() {
        // At a fixed size: 200 distinct short tokens, all still in the short table.
        let fixed = CpuBackend::new(CpuOptions { spill_entries: Some(100) }, 1);
        let mut local = fixed.local();
        (0..200).for_each(|i| local.token(KeyHash::Xxh3, format!("w{i}").as_bytes()));
        fixed.end_chunk(&mut local).unwrap();
        assert!(fixed.spilled.load(Ordering::Relaxed) && local.table().is_empty());
        // Early: every token a new short key (the short table drains as it fills).
        let early = CpuBackend::new(CpuOptions::default(), 1);
        let mut local = early.local();
        (0..MIN_SPILL).for_each(|i| local.token(KeyHash::Xxh3, format!("w{i}").as_bytes()));
        early.end_chunk(&mut local).unwrap();
        assert!(early.spilled.load(Ordering::Relaxed) && local.table().is_empty());
        // Below both limits nothing spills, and the counts wait.
        let below = CpuBackend::new(CpuOptions::default(), 1);
        let mut local = below.local();
        (0..1_000).for_each(|i| local.token(KeyHash::Xxh3, format!("w{}", i % 100).as_bytes()));
        below.end_chunk(&mut local).unwrap();
        assert_eq!(local.after_flush(), (100, 1_000));
        assert!(!below.spilled.load(Ordering::Relaxed));
        assert_eq!((local.table().len(), local.table().total()), (100, 1_000));
    }

    #[test]
    fn a_table_of_mostly_new_keys_spills_early_and_a_zipfian_one_grows() {
        // Every token a new key: it spills as soon as it holds MIN_SPILL keys.
        let new = CpuBackend::new(CpuOptions::default(), 1);
        let mut local = new.local();
        for i in 0..MIN_SPILL as u64 {
            let (h, t) = key(i);
            local.key(h, &t);
        }
        new.end_chunk(&mut local).unwrap();
        assert!(new.spilled.load(Ordering::Relaxed) && local.table().is_empty());
        // Each key seen five times: the table keeps growing below its share.
        let seen = CpuBackend::new(CpuOptions::default(), 1);
        let mut local = seen.local();
        for i in 0..5 * MIN_SPILL as u64 {
            let (h, t) = key(i % MIN_SPILL as u64);
            local.key(h, &t);
        }
        seen.end_chunk(&mut local).unwrap();
        assert!(!seen.spilled.load(Ordering::Relaxed));
        assert_eq!(local.table().len(), MIN_SPILL);
    }
}
