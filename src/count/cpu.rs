//! The CPU backend: each worker counts into a table of its own; one that
//! grows past [`CpuOptions::spill_entries`] distinct keys is poured into
//! shared shards (by key bits) and started again. Memory then grows with
//! the vocabulary, not with threads × vocabulary, and a small vocabulary
//! never leaves the workers' tables (merged pairwise at the end, as before).

use super::{Backend, Finished};
use crate::error::Error;
use crate::table::{CountTable, Prefetched};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

/// Shared shards: enough that two workers seldom wait for the same one.
const SHARDS: usize = 64;

/// The shard of a key: six bits of it (a table's slot mixes all of a key's
/// bits, so each shard's table stays well spread).
fn shard_of(hash: u64) -> usize {
    (hash >> 32) as usize & (SHARDS - 1)
}

/// How the CPU backend holds its tables.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CpuOptions {
    /// Distinct keys a worker's table may hold before it is poured into
    /// the shared shards (64 Ki: a few MiB per worker).
    pub spill_entries: usize,
}

impl Default for CpuOptions {
    fn default() -> Self {
        CpuOptions { spill_entries: 1 << 16 }
    }
}

/// Counts on the CPU, one table per worker thread, spilling into shards.
#[derive(Debug)]
pub struct CpuBackend {
    opts: CpuOptions,
    shards: Vec<Mutex<CountTable>>,
    spilled: AtomicBool,
}

impl Default for CpuBackend {
    fn default() -> Self {
        CpuBackend::new(CpuOptions::default())
    }
}

impl CpuBackend {
    pub fn new(opts: CpuOptions) -> Self {
        let shards = (0..SHARDS).map(|_| Mutex::new(CountTable::new())).collect();
        CpuBackend {
            opts: CpuOptions { spill_entries: opts.spill_entries.max(1) },
            shards,
            spilled: AtomicBool::new(false),
        }
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
        for (shard, part) in self.shards.iter().zip(&parts) {
            if part.is_empty() {
                continue;
            }
            shard.lock().unwrap_or_else(|e| e.into_inner()).add_all(part);
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
        let table = local.table();
        if table.len() >= self.opts.spill_entries {
            self.spill(table);
        }
        Ok(())
    }

    fn merge(&self, a: Prefetched, b: Prefetched) -> Prefetched {
        let (mut a, mut b) = (a.into_table(), b.into_table());
        // Called once every worker has ended: `spilled` no longer changes.
        if !self.spilled.load(Ordering::Relaxed) {
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
        self.spill(&mut local);
        let shards = self.shards.into_iter().map(|m| m.into_inner().unwrap_or_else(|e| e.into_inner()));
        Ok(Finished::table(CountTable::union_of_disjoint(shards.collect())))
    }
}
