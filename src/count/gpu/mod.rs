//! The GPU backend: the CPU tokenizes and hashes, a WGSL hash table
//! (`shaders/count.wgsl`) counts, and the host resolves keys to words from
//! the table's arena.

mod context;
mod table;

pub use context::{AdapterChoice, AdapterReport, GpuContext, choose, describe_adapters, no_adapter_help};
pub use table::{Fault, GpuCounters, GpuOptions, GpuTable, GpuTimes};

use super::{Backend, Finished};
use crate::error::Error;
use crate::tokenize::TokenBatch;
use std::sync::Mutex;

/// Counts on a GPU. Workers tokenize in parallel; dispatches are serialized
/// through one table, so a worker that waits for the device leaves the
/// others tokenizing.
pub struct GpuBackend {
    table: Mutex<GpuTable>,
    device: String,
    description: String,
}

impl GpuBackend {
    /// Opens the adapter `choice` picks. `why` says why the GPU was chosen.
    pub fn open(
        choice: &AdapterChoice,
        allow_software: bool,
        opts: GpuOptions,
        why: &str,
    ) -> Result<GpuBackend, Error> {
        let ctx = GpuContext::open(choice, allow_software)?;
        Self::with_context(ctx, opts, why)
    }

    pub fn with_context(ctx: GpuContext, opts: GpuOptions, why: &str) -> Result<GpuBackend, Error> {
        let device = ctx.describe();
        let description = format!("gpu: {device}; {why}");
        Ok(GpuBackend { table: Mutex::new(GpuTable::new(ctx, opts)?), device, description })
    }

    /// The adapter: "name (backend, device type)".
    pub fn device(&self) -> &str {
        &self.device
    }
}

/// Silences Vulkan driver and loader chatter that a compute-only tool has no
/// use for, unless the user set these variables: lavapipe's "not a
/// conformant implementation" banner, and Mesa's device-select layer, which
/// connects to X11/Wayland to find the display's GPU (and complains about
/// `XDG_RUNTIME_DIR` on headless machines). gpucount orders adapters itself.
///
/// # Safety
/// Sets environment variables: call it before any other thread runs.
pub unsafe fn quiet_driver_environment() {
    for (key, value) in [("MESA_VK_IGNORE_CONFORMANCE_WARNING", "1"), ("NODEVICE_SELECT", "1")] {
        if std::env::var_os(key).is_none() {
            // SAFETY: the caller guarantees no other thread reads the environment now.
            unsafe { std::env::set_var(key, value) };
        }
    }
}

fn poisoned<T>(_: T) -> Error {
    Error::Gpu("a worker panicked while using the device".into())
}

impl Backend for GpuBackend {
    type Local = ();

    fn describe(&self) -> String {
        self.description.clone()
    }

    fn local(&self) {}

    fn add(&self, _: &mut (), batch: &mut TokenBatch) -> Result<(), Error> {
        self.table.lock().map_err(poisoned)?.add(batch)
    }

    fn merge(&self, _: (), _: ()) {}

    fn finish(self, _: ()) -> Result<Finished, Error> {
        let (table, times, stats) = self.table.into_inner().map_err(poisoned)?.finish()?;
        let mut stages = vec![("gpu upload".to_string(), times.upload), ("gpu wait".to_string(), times.wait)];
        if let Some(d) = times.insert_kernel {
            stages.push(("gpu insert kernel".into(), d));
        }
        if let Some(d) = times.finalize_kernel {
            stages.push(("gpu finalize kernel".into(), d));
        }
        stages.push(("gpu readback+resolve".into(), times.readback));
        stages.push(("host fallback".into(), times.host_fallback));
        let notes = vec![format!(
            "{} dispatches, {} flushes, table {} slots; {} tokens spilled and {} oversized tokens counted on the host",
            stats.dispatches, stats.flushes, stats.final_slots, stats.spilled_tokens, stats.oversized_tokens
        )];
        Ok(Finished { table, stages, notes })
    }
}
