//! Backends: what turns keys into an exact [`CountTable`], behind one trait,
//! and the policy that picks one ([`select`]).

pub mod calibration;
pub mod cpu;
pub mod gpu;
pub mod naive;
pub mod select;

pub use cpu::{CpuBackend, CpuOptions};
pub use select::{BackendChoice, BackendConfig};

use crate::error::Error;
use crate::keys::KeySink;
use crate::table::CountTable;
use std::time::Duration;

/// A counting backend. Each worker thread has its own `Local`, a
/// [`KeySink`] that the key stage fills chunk by chunk; locals are merged
/// pairwise and the last one is passed to `finish`.
pub trait Backend: Sync {
    /// Per-worker state.
    type Local: Send + KeySink;
    /// Whether keys are counted as they reach the sink (the CPU table), so
    /// tokenizing and counting are one stage, or by `end_chunk` (the GPU).
    const COUNTS_IN_SINK: bool;
    fn local(&self) -> Self::Local;
    /// Called after each chunk's keys went into `local`.
    fn end_chunk(&self, local: &mut Self::Local) -> Result<(), Error>;
    /// Called once by each worker after its last chunk, on its own thread:
    /// work that would otherwise wait for the merge, done in parallel.
    fn end_worker(&self, _local: &mut Self::Local) -> Result<(), Error> {
        Ok(())
    }
    fn merge(&self, a: Self::Local, b: Self::Local) -> Self::Local;
    fn finish(self, local: Self::Local) -> Result<Finished, Error>;
}

/// What a backend hands back.
pub struct Finished {
    pub table: CountTable,
    /// Backend-specific stage times (for the GPU: upload, kernels, readback).
    pub stages: Vec<(String, Duration)>,
    /// Notes for `--stats` (for example how often the GPU table was flushed).
    pub notes: Vec<String>,
}

impl Finished {
    pub fn table(table: CountTable) -> Self {
        Finished { table, stages: Vec::new(), notes: Vec::new() }
    }
}
