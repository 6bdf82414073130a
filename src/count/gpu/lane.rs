//! A lane: the device buffers one batch in flight owns (its tokens, text,
//! parameters, spill list and status readback), so the host can upload batch
//! k+1 into one lane while batch k still runs in another. The table, arena,
//! counters and claimed list are shared: queue order serializes the batches'
//! kernels on them.

use crate::error::Error;
use crate::keys::TokenBatch;
use std::sync::Arc;
use std::sync::mpsc::{Receiver, TryRecvError};

/// One lane's buffers. `status` is mapped for reading after each submit and
/// must be unmapped again before the lane takes another batch (a buffer with
/// a pending map cannot be used by a submission).
pub(super) struct Lane {
    pub params: wgpu::Buffer,
    pub tokens: wgpu::Buffer,
    pub text: wgpu::Buffer,
    /// Size of `text` in 4-byte words (it grows for a batch with more text).
    pub text_words: u64,
    pub spill: wgpu::Buffer,
    pub status: wgpu::Buffer,
    pub bind_group: wgpu::BindGroup,
}

/// A batch submitted on a lane whose status has not been read yet.
pub(super) struct Pending {
    pub lane: usize,
    pub submission: wgpu::SubmissionIndex,
    /// The batch, kept for the tokens the table may hand back (spills).
    pub batch: Arc<TokenBatch>,
    /// Index of the dispatch's first record in `batch`.
    pub first: usize,
    pub tokens: u32,
    /// Text words uploaded: an upper bound on the arena words the batch adds.
    pub words: u64,
    /// Where the status map's result arrives.
    pub mapped: Receiver<Result<(), wgpu::BufferAsyncError>>,
}

impl Pending {
    /// Waits (if needed) for the status map to complete, polling `device`.
    pub fn wait_mapped(&self, device: &wgpu::Device) -> Result<(), Error> {
        let result = match self.mapped.try_recv() {
            Ok(r) => r,
            Err(TryRecvError::Empty) => {
                device
                    .poll(wgpu::PollType::Wait { submission_index: Some(self.submission.clone()), timeout: None })
                    .map_err(|e| Error::Gpu(format!("waiting for the device: {e}")))?;
                match self.mapped.try_recv() {
                    Ok(r) => r,
                    // The map resolves after the submission; one more full wait settles it.
                    Err(_) => {
                        device
                            .poll(wgpu::PollType::wait_indefinitely())
                            .map_err(|e| Error::Gpu(format!("waiting for the device: {e}")))?;
                        self.mapped.try_recv().map_err(|_| Error::Gpu("status map callback never ran".into()))?
                    }
                }
            }
            Err(TryRecvError::Disconnected) => return Err(Error::Gpu("status map callback was dropped".into())),
        };
        result.map_err(|e| Error::Gpu(format!("cannot map a status buffer: {e}")))
    }
}

/// Requests `buffer`'s first `size` bytes for reading, without waiting.
pub(super) fn map_later(buffer: &wgpu::Buffer, size: u64) -> Receiver<Result<(), wgpu::BufferAsyncError>> {
    let (tx, rx) = std::sync::mpsc::channel();
    buffer.slice(..size).map_async(wgpu::MapMode::Read, move |r| {
        let _ = tx.send(r);
    });
    rx
}

/// Copies out the first `size` bytes of a mapped buffer and unmaps it.
pub(super) fn take_mapped(buffer: &wgpu::Buffer, size: u64) -> Result<Vec<u8>, Error> {
    let data = {
        let view = buffer
            .slice(..size)
            .get_mapped_range()
            .map_err(|e| Error::Gpu(format!("cannot read a mapped buffer: {e}")))?;
        view[..size as usize].to_vec()
    };
    buffer.unmap();
    Ok(data)
}
