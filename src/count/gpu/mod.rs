//! The GPU backend: the CPU tokenizes and hashes, a WGSL hash table
//! (`shaders/count.wgsl`) counts, and the host resolves keys to words from
//! the table's arena. Settings ([`GpuOptions`], [`AdapterChoice`]) are plain
//! data and exist without the `gpu` feature; the device code needs it.

#[cfg(feature = "gpu")]
mod context;
#[cfg(feature = "gpu")]
mod device_thread;
#[cfg(feature = "gpu")]
mod lane;
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
    use super::device_thread::DeviceThread;
    use super::{GpuContext, GpuOptions, GpuTable};
    use crate::count::{Backend, Finished};
    use crate::error::Error;
    use crate::keys::TokenBatch;

    /// Counts on a GPU. Workers make key batches in parallel and queue them
    /// for one device thread, which owns the table; a worker waits only when
    /// the queue is full, and the device thread keeps batches in flight so
    /// uploads overlap the kernels.
    pub struct GpuBackend {
        device_thread: DeviceThread,
        device: String,
        min_dispatch: usize,
    }

    impl GpuBackend {
        /// A backend on an open device.
        pub fn new(ctx: GpuContext, opts: GpuOptions) -> Result<GpuBackend, Error> {
            let device = ctx.describe();
            let min_dispatch = opts.min_dispatch_tokens as usize;
            let queue = opts.queue_batches as usize;
            let table = GpuTable::new(ctx, opts)?;
            Ok(GpuBackend { device_thread: DeviceThread::start(table, queue)?, device, min_dispatch })
        }

        /// The adapter: "name (backend, device type)".
        pub fn device(&self) -> &str {
            &self.device
        }
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
            self.device_thread.send(batch)
        }

        /// Queues `b`'s last keys. A failure to queue means the device
        /// thread failed; `finish` reports its error.
        fn merge(&self, a: TokenBatch, mut b: TokenBatch) -> TokenBatch {
            let _ = self.device_thread.send(&mut b);
            a
        }

        fn finish(self, mut last: TokenBatch) -> Result<Finished, Error> {
            let sent = self.device_thread.send(&mut last);
            let blocked = self.device_thread.blocked();
            let drained = self.device_thread.finish();
            let d = drained?;
            sent?;
            let (times, stats) = (d.times, d.stats);
            let mut stages = vec![
                ("gpu queue full".to_string(), blocked),
                ("gpu thread idle".to_string(), d.starved),
                ("gpu thread busy".to_string(), d.busy),
                ("gpu pack".to_string(), times.pack),
                ("gpu upload".to_string(), times.upload),
                ("gpu submit".to_string(), times.submit),
                ("gpu wait".to_string(), times.wait),
            ];
            if let Some(d) = times.insert_kernel {
                stages.push(("gpu insert kernel".into(), d));
            }
            if let Some(d) = times.finalize_kernel {
                stages.push(("gpu finalize kernel".into(), d));
            }
            stages.push(("gpu grow in place".into(), times.rehash));
            stages.push(("gpu readback+resolve".into(), times.readback));
            stages.push(("host fallback".into(), times.host_fallback));
            let notes = vec![format!(
                "{} dispatches, {} flushes, {} grown in place, table {} slots; {} tokens spilled and {} oversized tokens counted on the host",
                stats.dispatches,
                stats.flushes,
                stats.rehashes,
                stats.final_slots,
                stats.spilled_tokens,
                stats.oversized_tokens
            )];
            Ok(Finished { table: d.table, stages, notes })
        }
    }
}
