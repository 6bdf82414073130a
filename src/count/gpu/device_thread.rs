//! The device thread: the one thread that drives the GPU table. Workers hand
//! it full key batches through a bounded channel and go back to tokenizing;
//! it uploads and submits them, several in flight (see `lane.rs`), and reads
//! their status back as they finish. Emptied batches return to the workers
//! so their allocations are reused.
//!
//! Failure: the thread records the first error and returns, which drops the
//! channel's receiver, so a worker blocked on a full channel wakes with an
//! error instead of waiting forever; every later send fails at once too.

use super::table::{GpuCounters, GpuTable, GpuTimes};
use crate::error::Error;
use crate::keys::TokenBatch;
use crate::table::CountTable;
use crossbeam_channel::{Receiver, Sender};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// What the device thread hands back when every batch is counted.
pub(super) struct Drained {
    pub table: CountTable,
    pub times: GpuTimes,
    pub stats: GpuCounters,
    /// Time the device thread waited for a batch (the workers were slower).
    pub starved: Duration,
    /// Time it spent on batches: uploads, submits, waits, spills and flushes.
    pub busy: Duration,
}

/// State the workers and the device thread share.
#[derive(Default)]
struct Shared {
    /// The device thread's first error.
    failure: Mutex<Option<Error>>,
    /// Set when the run is abandoned: the thread drops what is queued.
    abandon: AtomicBool,
    /// Nanoseconds workers spent blocked on a full channel, summed.
    blocked_ns: AtomicU64,
}

impl Shared {
    fn fail(&self, e: Error) {
        if let Ok(mut f) = self.failure.lock() {
            f.get_or_insert(e);
        }
    }

    /// The device thread's error as a worker reports it (the original
    /// stays for `finish`; every copy reads the same).
    fn reported(&self) -> Error {
        match self.failure.lock().ok().as_deref() {
            Some(Some(Error::Gpu(msg))) => Error::Gpu(msg.clone()),
            Some(Some(other)) => Error::Gpu(other.to_string()),
            _ => Error::Gpu("the device thread stopped unexpectedly".into()),
        }
    }
}

/// The device thread and the channels to it.
pub(super) struct DeviceThread {
    feed: Option<Sender<TokenBatch>>,
    spare: Receiver<TokenBatch>,
    handle: Option<JoinHandle<Option<Drained>>>,
    shared: Arc<Shared>,
}

impl DeviceThread {
    /// Starts the thread with `table`; at most `queue` batches wait in the channel.
    pub fn start(table: GpuTable, queue: usize) -> Result<DeviceThread, Error> {
        let (feed, batches) = crossbeam_channel::bounded(queue.max(1));
        // Unbounded, so no emptied batch is ever dropped: a dropped one makes
        // a worker allocate and fault in megabytes again (and the device
        // thread free them). Batches in circulation bound its length anyway.
        let (spare_tx, spare) = crossbeam_channel::unbounded();
        let shared = Arc::new(Shared::default());
        let for_thread = shared.clone();
        let handle = std::thread::Builder::new()
            .name("gpucount-device".into())
            .spawn(move || run(table, batches, spare_tx, &for_thread))
            .map_err(|e| Error::Gpu(format!("cannot start the device thread: {e}")))?;
        Ok(DeviceThread { feed: Some(feed), spare, handle: Some(handle), shared })
    }

    /// Queues `batch` for the device, waiting while the channel is full,
    /// and leaves an empty batch (a reused one when there is one) in its place.
    pub fn send(&self, batch: &mut TokenBatch) -> Result<(), Error> {
        if batch.is_empty() {
            return Ok(());
        }
        let full = std::mem::replace(batch, self.spare.try_recv().unwrap_or_default());
        let Some(feed) = &self.feed else { return Err(self.shared.reported()) };
        let result = match feed.try_send(full) {
            Ok(()) => Ok(()),
            Err(crossbeam_channel::TrySendError::Full(full)) => {
                let t = Instant::now();
                let sent = feed.send(full).map_err(|_| ());
                self.shared.blocked_ns.fetch_add(t.elapsed().as_nanos() as u64, Ordering::Relaxed);
                sent
            }
            Err(crossbeam_channel::TrySendError::Disconnected(_)) => Err(()),
        };
        result.map_err(|()| self.shared.reported())
    }

    /// Time workers spent blocked on a full channel, summed over workers.
    pub fn blocked(&self) -> Duration {
        Duration::from_nanos(self.shared.blocked_ns.load(Ordering::Relaxed))
    }

    /// Closes the channel and waits for the thread to count what is queued and drain the table.
    pub fn finish(mut self) -> Result<Drained, Error> {
        self.feed = None;
        let joined = self.handle.take().map(JoinHandle::join);
        match joined {
            Some(Ok(Some(drained))) => Ok(drained),
            Some(Ok(None)) => Err(self.take_failure()),
            Some(Err(_)) | None => Err(Error::Gpu("the device thread panicked".into())),
        }
    }

    fn take_failure(&self) -> Error {
        match self.shared.failure.lock().ok().and_then(|mut f| f.take()) {
            Some(e) => e,
            None => self.shared.reported(),
        }
    }
}

impl Drop for DeviceThread {
    /// A run that ends early (a worker failed, or it was cancelled) stops
    /// the thread without counting what is still queued.
    fn drop(&mut self) {
        self.shared.abandon.store(true, Ordering::Relaxed);
        self.feed = None;
        if let Some(h) = self.handle.take() {
            let _ = h.join();
        }
    }
}

/// The device thread's loop: count batches until the channel closes, then drain.
fn run(
    mut table: GpuTable,
    batches: Receiver<TokenBatch>,
    spare: Sender<TokenBatch>,
    shared: &Shared,
) -> Option<Drained> {
    let (mut starved, mut busy) = (Duration::ZERO, Duration::ZERO);
    loop {
        let t = Instant::now();
        let Ok(batch) = batches.recv() else { break };
        starved += t.elapsed();
        if shared.abandon.load(Ordering::Relaxed) {
            return None;
        }
        let t = Instant::now();
        if let Err(e) = table.add_owned(batch) {
            shared.fail(e);
            return None;
        }
        for b in table.take_spent() {
            let _ = spare.send(b);
        }
        busy += t.elapsed();
    }
    if shared.abandon.load(Ordering::Relaxed) {
        return None;
    }
    let t = Instant::now();
    let finished = table.finish();
    busy += t.elapsed();
    match finished {
        Ok((table, times, stats)) => Some(Drained { table, times, stats, starved, busy }),
        Err(e) => {
            shared.fail(e);
            None
        }
    }
}
