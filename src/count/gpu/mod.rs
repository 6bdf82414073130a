//! The GPU backend: the CPU tokenizes and hashes, a WGSL hash table
//! (`shaders/count.wgsl`) counts, and the host resolves keys to words from
//! the table's arena. Settings ([`GpuOptions`], [`AdapterChoice`]) are plain
//! data and exist without the `gpu` feature; the device code needs it.

#[cfg(feature = "gpu")]
mod context;
mod options;
#[cfg(feature = "gpu")]
mod table;

#[cfg(feature = "gpu")]
pub use context::{Adapters, GpuContext};
pub use options::{AdapterChoice, AdapterReport, Fault, GpuOptions, choose, no_adapter_help};
#[cfg(feature = "gpu")]
pub use table::{GpuCounters, GpuTable, GpuTimes};

#[cfg(feature = "gpu")]
pub use backend::GpuBackend;

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

#[cfg(feature = "gpu")]
mod backend {
    use super::{GpuContext, GpuOptions, GpuTable};
    use crate::count::{Backend, Finished};
    use crate::error::Error;
    use crate::keys::TokenBatch;
    use std::sync::Mutex;

    /// Counts on a GPU. Workers make key batches in parallel; dispatches are
    /// serialized through one table, so a worker that waits for the device
    /// leaves the others tokenizing.
    pub struct GpuBackend {
        table: Mutex<GpuTable>,
        device: String,
        min_dispatch: usize,
        /// An error met while merging workers' last keys (merge returns none).
        failed: Mutex<Option<Error>>,
    }

    impl GpuBackend {
        /// A backend on an open device.
        pub fn new(ctx: GpuContext, opts: GpuOptions) -> Result<GpuBackend, Error> {
            let device = ctx.describe();
            let min_dispatch = opts.min_dispatch_tokens as usize;
            Ok(GpuBackend {
                table: Mutex::new(GpuTable::new(ctx, opts)?),
                device,
                min_dispatch,
                failed: Mutex::new(None),
            })
        }

        /// Dispatches `batch` and empties it.
        fn dispatch(&self, batch: &mut TokenBatch) -> Result<(), Error> {
            if batch.is_empty() {
                return Ok(());
            }
            let result = self.table.lock().map_err(poisoned)?.add(batch);
            batch.clear();
            result
        }

        /// The adapter: "name (backend, device type)".
        pub fn device(&self) -> &str {
            &self.device
        }
    }

    fn poisoned<T>(_: T) -> Error {
        Error::Gpu("a worker panicked while using the device".into())
    }

    impl Backend for GpuBackend {
        type Local = TokenBatch;
        const COUNTS_IN_SINK: bool = false;

        fn local(&self) -> TokenBatch {
            TokenBatch::new()
        }

        fn end_chunk(&self, batch: &mut TokenBatch) -> Result<(), Error> {
            if batch.len() < self.min_dispatch {
                return Ok(());
            }
            self.dispatch(batch)
        }

        fn merge(&self, a: TokenBatch, mut b: TokenBatch) -> TokenBatch {
            if let Err(e) = self.dispatch(&mut b)
                && let Ok(mut failed) = self.failed.lock()
            {
                failed.get_or_insert(e);
            }
            a
        }

        fn finish(self, mut last: TokenBatch) -> Result<Finished, Error> {
            self.dispatch(&mut last)?;
            if let Some(e) = self.failed.into_inner().map_err(poisoned)? {
                return Err(e);
            }
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
}
