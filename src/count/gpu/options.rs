//! GPU settings as plain data: which adapter, table sizes, injected faults,
//! and what is known of each adapter. Compiled with or without the `gpu`
//! feature, so configurations and reports look the same either way.

use crate::error::Error;
use serde::Serialize;

/// Which adapter to use.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum AdapterChoice {
    /// The best hardware adapter (discrete, then integrated, then virtual);
    /// with `allow_software`, a CPU adapter such as lavapipe when there is no other.
    #[default]
    Best,
    /// The n-th adapter of `gpucount devices`.
    Index(usize),
    /// The first adapter whose name contains this (case-insensitive).
    Name(String),
}

impl AdapterChoice {
    /// Parses `--adapter`: a number is an index, anything else a name.
    pub fn parse(s: &str) -> Self {
        s.parse().map_or_else(|_| AdapterChoice::Name(s.to_string()), AdapterChoice::Index)
    }
}

/// What `gpucount devices` shows of one adapter.
#[derive(Debug, Clone, Serialize)]
pub struct AdapterReport {
    pub index: usize,
    pub name: String,
    pub backend: String,
    pub device_type: String,
    pub driver: String,
    pub driver_info: String,
    pub max_storage_buffer_binding_size: u64,
    pub max_buffer_size: u64,
    pub max_compute_workgroups_per_dimension: u32,
    pub timestamp_queries: bool,
    /// A real GPU (discrete, integrated or virtual), not a CPU implementation.
    pub hardware: bool,
}

/// Sizes and limits of the GPU table. The defaults suit real runs; tests
/// shrink them to force flushes, spills and chunking.
#[derive(Debug, Clone)]
pub struct GpuOptions {
    /// Slots at start (rounded up to a power of two); the table doubles on
    /// flushes up to `max_slots` or the adapter's limits.
    pub initial_slots: u32,
    pub max_slots: Option<u32>,
    /// Arena bytes at start; doubles like the table.
    pub initial_arena_bytes: u64,
    /// Most tokens per dispatch.
    pub max_batch_tokens: u32,
    /// Keys a worker gathers, over chunks, before it dispatches them: a GPU
    /// needs many invocations per dispatch to fill, and each dispatch costs a
    /// submit and a status read back (tests lower it to dispatch every chunk).
    pub min_dispatch_tokens: u32,
    /// Batches submitted to the device before the host waits for the oldest
    /// one's status: with two or more, batch k+1 uploads while batch k runs.
    /// Each has its own token, text, spill and status buffers.
    pub in_flight: u32,
    /// Batches queued between the tokenizing workers and the device thread;
    /// a worker with a full batch waits here while the queue is full.
    pub queue_batches: u32,
    /// Probes before a token is handed back to the host.
    pub max_probes: u32,
    /// Flush when more than this share of slots is used before a batch.
    pub max_load: f64,
    /// Longest token counted on the device; longer ones are counted on the host.
    /// Kept under 65,535 words because llvmpipe silently ends any shader loop
    /// after 65,535 iterations (and comparing or copying a token loops per word).
    pub max_token_bytes: u32,
    /// Pretend the adapter's storage bindings are at most this large.
    pub max_binding_override: Option<u64>,
    /// Fault injection for tests.
    pub fault: Option<Fault>,
}

impl Default for GpuOptions {
    fn default() -> Self {
        GpuOptions {
            initial_slots: 1 << 16,
            max_slots: None,
            initial_arena_bytes: 8 << 20,
            max_batch_tokens: 1 << 20,
            min_dispatch_tokens: 1 << 18,
            in_flight: 2,
            queue_batches: 2,
            max_probes: 4096,
            max_load: 0.5,
            max_token_bytes: 64 << 10,
            max_binding_override: None,
            fault: None,
        }
    }
}

/// Faults the GPU backend can be told to provoke.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// Report the device as lost after this many dispatches.
    LoseDeviceAfter(u32),
    /// Ask wgpu for a buffer larger than the adapter allows, at start.
    OversizedAllocation,
    /// Leave every slot without room when the table grows on the device, so
    /// the host falls back to flushing it.
    NoRoomToGrow,
}

/// The index of the adapter `choice` picks, if any.
pub fn choose(reports: &[AdapterReport], choice: &AdapterChoice, allow_software: bool) -> Result<usize, Error> {
    match choice {
        AdapterChoice::Best => reports.iter().position(|r| r.hardware || allow_software).ok_or_else(|| {
            Error::NoAdapter(if reports.is_empty() { no_adapter_help() } else { "no hardware GPU adapter".into() })
        }),
        AdapterChoice::Index(i) => {
            if *i < reports.len() {
                Ok(*i)
            } else {
                Err(Error::Config(format!("no adapter {i} (there are {}; see `gpucount devices`)", reports.len())))
            }
        }
        AdapterChoice::Name(n) => {
            let n = n.to_lowercase();
            reports
                .iter()
                .position(|r| r.name.to_lowercase().contains(&n))
                .ok_or_else(|| Error::Config(format!("no adapter named like '{n}' (see `gpucount devices`)")))
        }
    }
}

pub fn no_adapter_help() -> String {
    "wgpu found no adapter; install a Vulkan driver (on Debian/Ubuntu, `apt-get install mesa-vulkan-drivers` gives the lavapipe software one)".into()
}
