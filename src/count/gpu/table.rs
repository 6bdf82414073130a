//! The GPU hash table: buffers, pipelines, one dispatch pair per batch, and
//! flushes of the table into an exact host [`CountTable`].

use super::context::GpuContext;
use super::lane::{Lane, Pending, map_later, take_mapped};
use super::options::{Fault, GpuOptions};
use crate::error::Error;
use crate::keys::{TokenBatch, TokenRecord};
use crate::table::CountTable;
use bytemuck::{Pod, Zeroable};
use std::collections::VecDeque;
use std::sync::Arc;
use std::time::{Duration, Instant};
use wgpu::util::DeviceExt;

const SHADER: &str = include_str!("../../../shaders/count.wgsl");
const ARGS_SHADER: &str = include_str!("../../../shaders/finalize_args.wgsl");
const REHASH_SHADER: &str = include_str!("../../../shaders/rehash.wgsl");
const WORKGROUP: u32 = 256;
const RESIDENT: u32 = u32::MAX;
/// Iterations a shader loop may run (see `GpuOptions::max_token_bytes`).
const MAX_LOOP: u32 = 65_535;

/// Most text per dispatch, in 4-byte words (4 MiB): enough tokens to fill a
/// GPU, while the arena room reserved for them stays small.
const MAX_WINDOW_WORDS: u64 = 1 << 20;
const SLOT_BYTES: u64 = std::mem::size_of::<Slot>() as u64;
/// Tokens that share one base word in a packed upload (count.wgsl's `token`).
const BLOCK: usize = 256;
/// How far past its block's base a token may start, in words (15 bits).
const MAX_BLOCK_OFFSET: u64 = (1 << 15) - 1;
/// Longest token a packed record can say, in bytes (17 bits).
const MAX_PACKED_LEN: u64 = (1 << 17) - 1;

/// Bytes of `n` packed records (at most `n * 769 / 64 + 4`): a base word per block, then 12 bytes a token
/// (a [`TokenRecord`] is 16: the offset and length share one word).
fn packed_bytes(n: u64) -> u64 {
    n.div_ceil(BLOCK as u64) * 4 + n * 12
}

/// Packs `records` as count.wgsl reads them into `out`. The caller keeps
/// each token within [`MAX_BLOCK_OFFSET`] words of its block's first token
/// and within [`MAX_PACKED_LEN`] bytes.
fn pack(records: &[TokenRecord], base_word: u32, out: &mut Vec<u32>) {
    out.clear();
    out.extend(records.chunks(BLOCK).map(|block| block[0].start_word - base_word));
    for block in records.chunks(BLOCK) {
        let block_base = block[0].start_word;
        for r in block {
            debug_assert!(((r.start_word - block_base) as u64) <= MAX_BLOCK_OFFSET && r.len as u64 <= MAX_PACKED_LEN);
            out.extend([r.hash_lo, r.hash_hi, (r.start_word - block_base) << 17 | r.len]);
        }
    }
}

#[repr(C)]
#[derive(Debug, Clone, Copy, Pod, Zeroable)]
struct Slot {
    owner: u32,
    count: u32,
    key_lo: u32,
    key_hi: u32,
    word_off: u32,
    word_len: u32,
    head: [u32; 2],
}

#[repr(C)]
#[derive(Debug, Clone, Copy, Pod, Zeroable)]
struct Params {
    n_tokens: u32,
    mask: u32,
    base_word: u32,
    max_probes: u32,
    arena_words: u32,
    _pad: [u32; 3],
}

/// rehash.wgsl's parameters.
#[repr(C)]
#[derive(Debug, Clone, Copy, Pod, Zeroable)]
struct RehashParams {
    old_slots: u32,
    mask: u32,
    max_probes: u32,
    row: u32,
}

#[repr(C)]
#[derive(Debug, Clone, Copy, Pod, Zeroable, Default)]
struct Counters {
    used: u32,
    arena_used: u32,
    spilled: u32,
    claimed: u32,
    overflow: u32,
    _pad: [u32; 3],
}

const COUNTERS_BYTES: u64 = std::mem::size_of::<Counters>() as u64;
/// Counters, then four timestamps (insert begin/end, finalize begin/end).
const STATUS_BYTES: u64 = COUNTERS_BYTES + 32;

/// Time spent per GPU stage.
#[derive(Debug, Default, Clone)]
pub struct GpuTimes {
    /// Packing token records into the layout the shader reads.
    pub pack: Duration,
    /// Copying records and text into the driver's staging memory.
    pub upload: Duration,
    /// Encoding and submitting the kernels (a software driver may run them here).
    pub submit: Duration,
    /// Host wait from submit to results (kernels plus transfer).
    pub wait: Duration,
    /// Kernel time from timestamp queries, when the adapter has them.
    pub insert_kernel: Option<Duration>,
    pub finalize_kernel: Option<Duration>,
    pub readback: Duration,
    /// Growing the table on the device (rehash.wgsl), waits included.
    pub rehash: Duration,
    pub host_fallback: Duration,
}

/// Counts what happened, for `--stats` and tests.
#[derive(Debug, Default, Clone)]
pub struct GpuCounters {
    pub dispatches: u64,
    pub flushes: u64,
    /// Times the table grew on the device, without a flush.
    pub rehashes: u64,
    /// Tokens the GPU table handed back (table full or probe limit) and the host counted.
    pub spilled_tokens: u64,
    /// Tokens too large for the adapter's buffers, counted by the host.
    pub oversized_tokens: u64,
    pub final_slots: u32,
}

/// The device-side table and everything needed to feed and drain it.
pub struct GpuTable {
    ctx: GpuContext,
    opts: GpuOptions,
    pipeline_insert: wgpu::ComputePipeline,
    pipeline_finalize: wgpu::ComputePipeline,
    pipeline_args: wgpu::ComputePipeline,
    pipeline_rehash: wgpu::ComputePipeline,
    rehash_layout: wgpu::BindGroupLayout,
    args_bind_group: wgpu::BindGroup,
    finalize_args: wgpu::Buffer,
    layout: wgpu::BindGroupLayout,
    counters: wgpu::Buffer,
    queries: Option<(wgpu::QuerySet, wgpu::Buffer)>,
    claimed: wgpu::Buffer,
    table: wgpu::Buffer,
    arena: wgpu::Buffer,
    /// One lane per batch that may be in flight; `next_lane` takes the next batch.
    lanes: Vec<Lane>,
    next_lane: usize,
    /// Submitted batches whose status is not read yet, oldest first.
    pending: VecDeque<Pending>,
    /// Batches retired whole, emptied for the workers to fill again.
    spent: Vec<TokenBatch>,
    /// The packed records of the batch being uploaded (reused).
    packed: Vec<u32>,
    /// Limits derived from the adapter.
    batch_tokens: u32,
    max_slots: u32,
    max_arena_words: u64,
    slots: u32,
    arena_words: u64,
    /// The device counters as of the last batch retired (batches still in
    /// flight may have raised them since).
    used: u32,
    arena_used: u32,
    /// Tokens submitted since the last flush (in flight included).
    tokens_since_flush: u64,
    /// New (or spilled) slots per token in the last retired batch: predicts how much the
    /// batches in flight fill the table (1.0, the worst case, until measured).
    new_slot_rate: f64,
    grow_table: bool,
    host: CountTable,
    pub times: GpuTimes,
    pub stats: GpuCounters,
}

fn storage(device: &wgpu::Device, label: &str, size: u64, extra: wgpu::BufferUsages) -> wgpu::Buffer {
    device.create_buffer(&wgpu::BufferDescriptor {
        label: Some(label),
        size: size.max(16).next_multiple_of(4),
        usage: wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::COPY_DST | wgpu::BufferUsages::COPY_SRC | extra,
        mapped_at_creation: false,
    })
}

impl GpuTable {
    pub fn new(ctx: GpuContext, opts: GpuOptions) -> Result<GpuTable, Error> {
        let device = &ctx.device;
        let limits = &ctx.limits;
        let mut max_binding = limits.max_storage_buffer_binding_size.min(limits.max_buffer_size);
        if let Some(cap) = opts.max_binding_override {
            max_binding = max_binding.min(cap);
        }
        let max_binding = max_binding & !3;
        let dispatch_tokens = limits.max_compute_workgroups_per_dimension as u64 * WORKGROUP as u64;
        let batch_tokens =
            (opts.max_batch_tokens as u64).min(max_binding.saturating_sub(4) * 64 / 769).min(dispatch_tokens).max(1)
                as u32;
        let max_slots = prev_pow2((max_binding / SLOT_BYTES).min(u32::MAX as u64 / 2))
            .min(opts.max_slots.map_or(u32::MAX, prev_pow2_u32));
        if max_slots < 2 {
            return Err(Error::Gpu(format!(
                "adapter storage bindings of {max_binding} bytes are too small for a table"
            )));
        }
        let slots = opts.initial_slots.max(2).next_power_of_two().min(max_slots);
        let max_arena_words = (max_binding / 4).min(u32::MAX as u64);
        let arena_words = (opts.initial_arena_bytes / 4).clamp(1, max_arena_words);
        // A dispatch's text window; a lane's buffer grows for a longer token.
        let text_words = MAX_WINDOW_WORDS.min(max_arena_words);

        let entry = |binding: u32, ty: wgpu::BufferBindingType| wgpu::BindGroupLayoutEntry {
            binding,
            visibility: wgpu::ShaderStages::COMPUTE,
            ty: wgpu::BindingType::Buffer { ty, has_dynamic_offset: false, min_binding_size: None },
            count: None,
        };
        let read = wgpu::BufferBindingType::Storage { read_only: true };
        let write = wgpu::BufferBindingType::Storage { read_only: false };
        let uniform = wgpu::BufferBindingType::Uniform;
        let (layout, [pipeline_insert, pipeline_finalize]) = compute_pipelines(
            device,
            "count.wgsl",
            SHADER,
            &[uniform, read, read, write, write, write, write, write]
                .iter()
                .zip(0..)
                .map(|(t, i)| entry(i, *t))
                .collect::<Vec<_>>(),
            ["insert", "finalize"],
        );
        let (_, [pipeline_args]) =
            compute_pipelines(device, "finalize_args.wgsl", ARGS_SHADER, &[entry(0, read), entry(1, write)], ["main"]);
        let (rehash_layout, [pipeline_rehash]) = compute_pipelines(
            device,
            "rehash.wgsl",
            REHASH_SHADER,
            &[entry(0, uniform), entry(1, write), entry(2, write), entry(3, write)],
            ["rehash"],
        );

        let counters = device.create_buffer_init(&wgpu::util::BufferInitDescriptor {
            label: Some("counters"),
            contents: bytemuck::bytes_of(&Counters::default()),
            usage: wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::COPY_DST | wgpu::BufferUsages::COPY_SRC,
        });
        let queries = ctx.timestamps.then(|| {
            let set = device.create_query_set(&wgpu::QuerySetDescriptor {
                label: Some("kernel times"),
                ty: wgpu::QueryType::Timestamp,
                count: 4,
            });
            let resolve = device.create_buffer(&wgpu::BufferDescriptor {
                label: Some("timestamps"),
                size: 32,
                usage: wgpu::BufferUsages::QUERY_RESOLVE | wgpu::BufferUsages::COPY_SRC,
                mapped_at_creation: false,
            });
            (set, resolve)
        });
        let claimed = storage(device, "claimed", batch_tokens as u64 * 4, wgpu::BufferUsages::empty());
        let table = storage(device, "table", slots as u64 * SLOT_BYTES, wgpu::BufferUsages::empty());
        let arena = storage(device, "arena", arena_words * 4, wgpu::BufferUsages::empty());
        if opts.fault == Some(Fault::OversizedAllocation) {
            let _ = storage(
                device,
                "oversized (injected fault)",
                ctx.limits.max_buffer_size.saturating_add(4).next_multiple_of(4),
                wgpu::BufferUsages::empty(),
            );
        }
        let shared = [&table, &arena, &counters, &claimed];
        let lanes = (0..opts.in_flight.max(1))
            .map(|_| {
                let params = device.create_buffer(&wgpu::BufferDescriptor {
                    label: Some("params"),
                    size: std::mem::size_of::<Params>() as u64,
                    usage: wgpu::BufferUsages::UNIFORM | wgpu::BufferUsages::COPY_DST,
                    mapped_at_creation: false,
                });
                let tokens = storage(device, "tokens", packed_bytes(batch_tokens as u64), wgpu::BufferUsages::empty());
                let text = storage(device, "text", text_words * 4, wgpu::BufferUsages::empty());
                let spill = storage(device, "spill", batch_tokens as u64 * 4, wgpu::BufferUsages::empty());
                let status = device.create_buffer(&wgpu::BufferDescriptor {
                    label: Some("status readback"),
                    size: STATUS_BYTES,
                    usage: wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
                    mapped_at_creation: false,
                });
                let bind_group = Self::bind(device, &layout, [&params, &tokens, &text], &spill, shared);
                Lane { params, tokens, text, text_words, spill, status, bind_group }
            })
            .collect();
        let finalize_args = storage(device, "finalize args", 12, wgpu::BufferUsages::INDIRECT);
        let args_layout = pipeline_args.get_bind_group_layout(0);
        let args_bind_group = bind_buffers(device, &args_layout, "finalize args", &[&counters, &finalize_args]);
        ctx.check()?;
        Ok(GpuTable {
            ctx,
            opts,
            pipeline_insert,
            pipeline_finalize,
            pipeline_args,
            pipeline_rehash,
            rehash_layout,
            args_bind_group,
            finalize_args,
            layout,
            counters,
            queries,
            claimed,
            table,
            arena,
            lanes,
            next_lane: 0,
            pending: VecDeque::new(),
            spent: Vec::new(),
            packed: Vec::new(),
            batch_tokens,
            max_slots,
            max_arena_words,
            slots,
            arena_words,
            used: 0,
            arena_used: 0,
            tokens_since_flush: 0,
            new_slot_rate: 1.0,
            grow_table: false,
            host: CountTable::new(),
            times: GpuTimes::default(),
            stats: GpuCounters::default(),
        })
    }

    /// A lane's bind group: its own params, tokens and text (bindings 0-2)
    /// and spill list (7), and the shared table, arena, counters and claimed list (3-6).
    fn bind(
        device: &wgpu::Device,
        layout: &wgpu::BindGroupLayout,
        own: [&wgpu::Buffer; 3],
        spill: &wgpu::Buffer,
        shared: [&wgpu::Buffer; 4],
    ) -> wgpu::BindGroup {
        let buffers: Vec<&wgpu::Buffer> = own.into_iter().chain(shared).chain([spill]).collect();
        bind_buffers(device, layout, "count", &buffers)
    }

    /// Rebuilds every lane's bind group after a buffer was replaced.
    fn rebind(&mut self) {
        let shared = [&self.table, &self.arena, &self.counters, &self.claimed];
        for lane in &mut self.lanes {
            lane.bind_group = Self::bind(
                &self.ctx.device,
                &self.layout,
                [&lane.params, &lane.tokens, &lane.text],
                &lane.spill,
                shared,
            );
        }
    }

    /// Counts every token of `batch`: in pieces that fit the adapter's limits,
    /// with tokens too large for any buffer counted on the host. Returns once
    /// the pieces are submitted; their status is read back while later
    /// batches upload (see [`GpuTable::retire`]).
    pub fn add_owned(&mut self, batch: TokenBatch) -> Result<(), Error> {
        for (hash, token) in batch.oversized() {
            let t = Instant::now();
            self.host.add(*hash, token, 1);
            self.stats.oversized_tokens += 1;
            self.times.host_fallback += t.elapsed();
        }
        let batch = Arc::new(batch);
        let records = batch.records();
        let max_words = self
            .max_arena_words
            .min((self.opts.max_token_bytes as u64).div_ceil(4).min(MAX_LOOP as u64))
            .min(MAX_PACKED_LEN / 4);
        // A dispatch's text: many tokens' worth (the shader never loops over
        // it, only over one token), within the arena it may all have to join.
        let window_words = self.max_arena_words.min(MAX_WINDOW_WORDS);
        let mut i = 0;
        while i < records.len() {
            let first = records[i];
            let words = |r: &TokenRecord| (r.len as u64).div_ceil(4);
            if words(&first) > max_words {
                let t = Instant::now();
                self.host.add(first.hash(), batch.token(&first), 1);
                self.stats.oversized_tokens += 1;
                self.times.host_fallback += t.elapsed();
                i += 1;
                continue;
            }
            // Tokens are laid out back to back, so a run of records is a run of
            // words; a packed record says its start within 15 bits of its block's.
            let mut j = i + 1;
            let most = self.dispatch_tokens();
            while j < records.len()
                && j - i < most
                && words(&records[j]) <= max_words
                && (records[j].start_word as u64 + words(&records[j])) - first.start_word as u64 <= window_words
                && (records[j].start_word - records[i + (j - i) / BLOCK * BLOCK].start_word) as u64 <= MAX_BLOCK_OFFSET
            {
                j += 1;
            }
            self.dispatch(&batch, i..j)?;
            i = j;
        }
        self.recycle(batch);
        Ok(())
    }

    /// [`GpuTable::add_owned`] for a borrowed batch (a copy is kept while
    /// it is in flight): for callers that reuse their batches, such as benchmarks.
    pub fn add(&mut self, batch: &TokenBatch) -> Result<(), Error> {
        self.add_owned(batch.clone())
    }

    /// Keeps `batch` for reuse once no batch in flight refers to it.
    fn recycle(&mut self, batch: Arc<TokenBatch>) {
        if let Ok(mut b) = Arc::try_unwrap(batch) {
            b.clear();
            self.spent.push(b);
        }
    }

    /// Emptied batches whose allocations the workers can fill again.
    pub fn take_spent(&mut self) -> Vec<TokenBatch> {
        std::mem::take(&mut self.spent)
    }

    /// Uploads one dispatch into the next free lane and submits it, with its
    /// status copied out and mapped for reading without waiting for it.
    fn dispatch(&mut self, batch: &Arc<TokenBatch>, range: std::ops::Range<usize>) -> Result<(), Error> {
        let records = &batch.records()[range.clone()];
        let n = records.len() as u32;
        let base = records[0].start_word as u64;
        let last = records[records.len() - 1];
        let words = last.start_word as u64 + (last.len as u64).div_ceil(4) - base;
        self.make_room(n, words)?;
        // The lane's last batch must be retired (its status unmapped) before reuse.
        let lane_index = self.next_lane;
        while self.pending.iter().any(|p| p.lane == lane_index) {
            self.retire()?;
        }
        self.next_lane = (lane_index + 1) % self.lanes.len();

        let t = Instant::now();
        if words > self.lanes[lane_index].text_words {
            let lane = &mut self.lanes[lane_index];
            lane.text_words = words.next_power_of_two().min(self.max_arena_words);
            lane.text = storage(&self.ctx.device, "text", lane.text_words * 4, wgpu::BufferUsages::empty());
            self.rebind();
        }
        let lane = &self.lanes[lane_index];
        let q = &self.ctx.queue;
        // write_buffer stages the bytes now and copies them in queue order, so
        // it is safe while an earlier batch still reads this lane's buffers.
        pack(records, base as u32, &mut self.packed);
        self.times.pack += t.elapsed();
        let t = Instant::now();
        q.write_buffer(&lane.tokens, 0, bytemuck::cast_slice(&self.packed));
        let bytes = &batch.bytes()[base as usize * 4..(base + words) as usize * 4];
        q.write_buffer(&lane.text, 0, bytes);
        let params = Params {
            n_tokens: n,
            mask: self.slots - 1,
            base_word: base as u32,
            max_probes: self.opts.max_probes.clamp(1, (MAX_LOOP - 16) / 4),
            arena_words: self.arena_words as u32,
            _pad: [0; 3],
        };
        q.write_buffer(&lane.params, 0, bytemuck::bytes_of(&params));
        self.times.upload += t.elapsed();

        let t = Instant::now();
        let mut enc = self.ctx.device.create_command_encoder(&Default::default());
        // Reset the per-batch counters (spilled, claimed, overflow); keep used
        // and arena_used. In the encoder, so it runs after the previous batch.
        enc.clear_buffer(&self.counters, 8, Some(12));
        let groups = n.div_ceil(WORKGROUP);
        for k in 0..2u32 {
            let timestamp_writes = self.queries.as_ref().map(|(set, _)| wgpu::ComputePassTimestampWrites {
                query_set: set,
                beginning_of_pass_write_index: Some(2 * k),
                end_of_pass_write_index: Some(2 * k + 1),
            });
            let mut pass = enc.begin_compute_pass(&wgpu::ComputePassDescriptor { label: None, timestamp_writes });
            if k == 0 {
                pass.set_pipeline(&self.pipeline_insert);
                pass.set_bind_group(0, &lane.bind_group, &[]);
                pass.dispatch_workgroups(groups, 1, 1);
            } else {
                // One invocation per claimed slot, counted on the device.
                pass.set_pipeline(&self.pipeline_args);
                pass.set_bind_group(0, &self.args_bind_group, &[]);
                pass.dispatch_workgroups(1, 1, 1);
                pass.set_pipeline(&self.pipeline_finalize);
                pass.set_bind_group(0, &lane.bind_group, &[]);
                pass.dispatch_workgroups_indirect(&self.finalize_args, 0);
            }
        }
        enc.copy_buffer_to_buffer(&self.counters, 0, &lane.status, 0, COUNTERS_BYTES);
        if let Some((set, resolve)) = &self.queries {
            enc.resolve_query_set(set, 0..4, resolve, 0);
            enc.copy_buffer_to_buffer(resolve, 0, &lane.status, COUNTERS_BYTES, 32);
        }
        let submission = q.submit([enc.finish()]);
        let mapped = map_later(&lane.status, STATUS_BYTES);
        self.times.submit += t.elapsed();
        self.stats.dispatches += 1;
        self.tokens_since_flush += n as u64;
        if let Some(Fault::LoseDeviceAfter(k)) = self.opts.fault
            && self.stats.dispatches > k as u64
        {
            self.ctx.inject_failure("device lost (injected fault)");
        }
        self.pending.push_back(Pending {
            lane: lane_index,
            submission,
            batch: batch.clone(),
            first: range.start,
            tokens: n,
            words,
            mapped,
        });
        self.ctx.check()
    }

    /// Reads the oldest batch in flight's status: waits for it if it is not
    /// done, fails on a device error, and counts its spills on the host.
    fn retire(&mut self) -> Result<(), Error> {
        let Some(p) = self.pending.pop_front() else { return Ok(()) };
        let t = Instant::now();
        let mapped = p.wait_mapped(&self.ctx.device);
        self.times.wait += t.elapsed();
        self.ctx.check()?;
        mapped?;
        let status = take_mapped(&self.lanes[p.lane].status, STATUS_BYTES)?;
        let c: Counters = bytemuck::pod_read_unaligned(&status[..COUNTERS_BYTES as usize]);
        if c.overflow > 0 {
            return Err(Error::Gpu(format!(
                "arena overflow of {} slots (internal error: the host reserves room first)",
                c.overflow
            )));
        }
        if self.queries.is_some() {
            let ts: [u64; 4] = bytemuck::pod_read_unaligned(&status[COUNTERS_BYTES as usize..]);
            let period = self.ctx.queue.get_timestamp_period() as f64;
            let ns = |a: u64, b: u64| Duration::from_nanos((b.saturating_sub(a) as f64 * period) as u64);
            *self.times.insert_kernel.get_or_insert_default() += ns(ts[0], ts[1]);
            *self.times.finalize_kernel.get_or_insert_default() += ns(ts[2], ts[3]);
        }
        // Spilled tokens wanted slots too: a spilling table predicts full.
        let wanted = c.used.saturating_sub(self.used) as u64 + c.spilled as u64;
        self.new_slot_rate = wanted as f64 / p.tokens.max(1) as f64;
        self.used = c.used;
        self.arena_used = c.arena_used;
        if c.spilled > u32::min(p.tokens, self.batch_tokens) {
            return Err(Error::Gpu(format!("{} spills reported for {} tokens", c.spilled, p.tokens)));
        }
        if c.spilled > 0 {
            self.take_spills(p.lane, &p.batch, p.first, c.spilled)?;
        }
        self.recycle(p.batch);
        Ok(())
    }

    /// Retires every batch in flight, so the counters mirrored on the host are exact.
    fn retire_all(&mut self) -> Result<(), Error> {
        while !self.pending.is_empty() {
            self.retire()?;
        }
        Ok(())
    }

    /// Counts on the host the tokens the table could not take (listed in the
    /// spill buffer of the lane that ran them, which no later batch has used).
    fn take_spills(&mut self, lane: usize, batch: &TokenBatch, first: usize, spilled: u32) -> Result<(), Error> {
        let t = Instant::now();
        let size = spilled as u64 * 4;
        let staging = self.staging("spill readback", size);
        let mut enc = self.ctx.device.create_command_encoder(&Default::default());
        enc.copy_buffer_to_buffer(&self.lanes[lane].spill, 0, &staging, 0, size);
        self.ctx.queue.submit([enc.finish()]);
        let data = self.read(&staging, size)?;
        let records = batch.records();
        for &i in bytemuck::cast_slice::<u8, u32>(&data) {
            let r =
                records.get(first + i as usize).ok_or_else(|| Error::Gpu(format!("spill index {i} out of range")))?;
            self.host.add(r.hash(), batch.token(r), 1);
        }
        self.stats.spilled_tokens += spilled as u64;
        self.grow_table = true;
        self.times.host_fallback += t.elapsed();
        Ok(())
    }

    /// Flushes (and grows) so that a batch of `n` tokens and `words` words fits.
    ///
    /// Batches in flight have not reported yet, so the arena check counts
    /// every word they uploaded as if it joined the arena (an upper bound:
    /// the arena can never overflow), and the load check predicts their new
    /// slots, and this batch's, from the last retired batch's rate (a
    /// heuristic, as the load limit is: a full table spills, exactly). Only
    /// when either says "full" does the host wait for them, and then it
    /// decides on the exact slots used, as an unpipelined table would, and
    /// grows the table until this batch's predicted new slots fit: a batch
    /// of mostly new keys (n-grams) would otherwise fill it in one dispatch,
    /// and every later token of it would probe `max_probes` slots and spill.
    fn make_room(&mut self, n: u32, words: u64) -> Result<(), Error> {
        let in_flight_words: u64 = self.pending.iter().map(|p| p.words).sum();
        let in_flight_tokens: u64 = self.pending.iter().map(|p| p.tokens as u64).sum();
        let may_need_room = self.table_full(in_flight_tokens, n)
            || self.arena_used as u64 + in_flight_words + words > self.arena_words
            || self.tokens_since_flush + n as u64 > u32::MAX as u64;
        if !may_need_room {
            return Ok(());
        }
        self.retire_all()?;
        let table_full = self.table_full(0, n);
        let arena_full = self.arena_used as u64 + words > self.arena_words;
        let counts_may_wrap = self.tokens_since_flush + n as u64 > u32::MAX as u64;
        if table_full || arena_full || counts_may_wrap {
            let grown = (table_full && self.slots < self.max_slots).then(|| {
                let mut slots = self.slots * 2;
                while slots < self.max_slots && self.load_after(self.used, n as u64, slots) > self.opts.max_load {
                    slots *= 2;
                }
                slots
            });
            // Only a table that is merely full can grow on the device; a
            // full arena or counts near wrapping need the flush.
            let moved = match grown {
                Some(slots) if !arena_full && !counts_may_wrap => self.rehash(slots)?,
                _ => false,
            };
            if !moved {
                self.flush()?;
                if let Some(slots) = grown {
                    self.slots = slots;
                    self.table =
                        storage(&self.ctx.device, "table", slots as u64 * SLOT_BYTES, wgpu::BufferUsages::empty());
                    self.rebind();
                }
            }
            self.grow_table = false;
        }
        if self.arena_used as u64 + words > self.arena_words {
            self.arena_words = (words.next_power_of_two().max(self.arena_words * 2)).min(self.max_arena_words);
            self.arena = storage(&self.ctx.device, "arena", self.arena_words * 4, wgpu::BufferUsages::empty());
            self.rebind();
        }
        Ok(())
    }

    /// Moves every slot into a new table of `slots` slots on the device
    /// (rehash.wgsl). The caller has retired every batch in flight. False
    /// when some slot found no room: the old table then stays, unchanged.
    fn rehash(&mut self, slots: u32) -> Result<bool, Error> {
        debug_assert!(self.pending.is_empty());
        let t = Instant::now();
        let device = &self.ctx.device;
        let grown = storage(device, "table", slots as u64 * SLOT_BYTES, wgpu::BufferUsages::empty());
        let groups = self.slots.div_ceil(WORKGROUP);
        let per_row = groups.min(self.ctx.limits.max_compute_workgroups_per_dimension.max(1));
        let params = RehashParams {
            old_slots: self.slots,
            mask: slots - 1,
            max_probes: match self.opts.fault {
                Some(Fault::NoRoomToGrow) => 0,
                _ => self.opts.max_probes.clamp(1, (MAX_LOOP - 16) / 4),
            },
            row: per_row * WORKGROUP,
        };
        let params = device.create_buffer_init(&wgpu::util::BufferInitDescriptor {
            label: Some("rehash params"),
            contents: bytemuck::bytes_of(&params),
            usage: wgpu::BufferUsages::UNIFORM,
        });
        let failed = storage(device, "rehash failures", 4, wgpu::BufferUsages::empty());
        let bind_group = bind_buffers(device, &self.rehash_layout, "rehash", &[&params, &self.table, &grown, &failed]);
        let status = self.staging("rehash status", 4);
        let mut enc = device.create_command_encoder(&Default::default());
        {
            let mut pass = enc.begin_compute_pass(&Default::default());
            pass.set_pipeline(&self.pipeline_rehash);
            pass.set_bind_group(0, &bind_group, &[]);
            pass.dispatch_workgroups(per_row, groups.div_ceil(per_row), 1);
        }
        enc.copy_buffer_to_buffer(&failed, 0, &status, 0, 4);
        self.ctx.queue.submit([enc.finish()]);
        let failures = u32::from_le_bytes(self.read(&status, 4)?[..4].try_into().expect("4 bytes"));
        self.times.rehash += t.elapsed();
        if failures > 0 {
            return Ok(false);
        }
        self.table = grown;
        self.slots = slots;
        self.rebind();
        self.stats.rehashes += 1;
        Ok(true)
    }

    /// Most tokens in the next dispatch. The first dispatch of a run holds
    /// no more than the table takes even if every token is new: it measures
    /// the rate of new keys that sizes the table for the rest.
    fn dispatch_tokens(&self) -> usize {
        if self.stats.dispatches > 0 {
            return self.batch_tokens as usize;
        }
        let room = (self.slots as f64 * self.opts.max_load) as usize;
        room.max(1).min(self.batch_tokens as usize)
    }

    /// The share of `slots` used once `tokens` more bring new keys at the last measured rate.
    fn load_after(&self, used: u32, tokens: u64, slots: u32) -> f64 {
        (used as f64 + tokens as f64 * self.new_slot_rate) / slots as f64
    }

    /// Whether the table should be flushed (and grown) before a batch of `n`
    /// tokens, with `in_flight` more not yet reported. A table at its largest
    /// is flushed only once it is over the load limit: flushing it sooner
    /// would not give a batch too large for it more room.
    fn table_full(&self, in_flight: u64, n: u32) -> bool {
        if self.slots < self.max_slots {
            self.grow_table || self.load_after(self.used, in_flight + n as u64, self.slots) > self.opts.max_load
        } else {
            self.load_after(self.used, in_flight, self.slots) > self.opts.max_load
        }
    }

    /// Moves every slot into the host table and empties the device table
    /// (after every batch in flight has reported).
    pub fn flush(&mut self) -> Result<(), Error> {
        self.retire_all()?;
        if self.used == 0 {
            return Ok(());
        }
        let t = Instant::now();
        let table_bytes = self.slots as u64 * SLOT_BYTES;
        let arena_bytes = self.arena_used as u64 * 4;
        let table_stage = self.staging("table readback", table_bytes);
        let arena_stage = self.staging("arena readback", arena_bytes);
        let mut enc = self.ctx.device.create_command_encoder(&Default::default());
        enc.copy_buffer_to_buffer(&self.table, 0, &table_stage, 0, table_bytes);
        if arena_bytes > 0 {
            enc.copy_buffer_to_buffer(&self.arena, 0, &arena_stage, 0, arena_bytes);
        }
        enc.clear_buffer(&self.table, 0, None);
        enc.clear_buffer(&self.counters, 0, None);
        self.ctx.queue.submit([enc.finish()]);
        let slots = self.read(&table_stage, table_bytes)?;
        let arena = if arena_bytes > 0 { self.read(&arena_stage, arena_bytes)? } else { Vec::new() };
        for s in bytemuck::cast_slice::<u8, Slot>(&slots) {
            match s.owner {
                0 => {}
                RESIDENT => {
                    let start = s.word_off as usize * 4;
                    let word = arena
                        .get(start..start + s.word_len as usize)
                        .ok_or_else(|| Error::Gpu("slot points outside the arena".into()))?;
                    self.host.add((s.key_hi as u64) << 32 | s.key_lo as u64, word, s.count as u64);
                }
                _ => return Err(Error::Gpu("unfinalized slot at flush (internal error)".into())),
            }
        }
        self.used = 0;
        self.arena_used = 0;
        self.tokens_since_flush = 0;
        self.stats.flushes += 1;
        self.times.readback += t.elapsed();
        Ok(())
    }

    /// Drains the device and returns the exact counts.
    pub fn finish(mut self) -> Result<(CountTable, GpuTimes, GpuCounters), Error> {
        self.flush()?;
        self.ctx.check()?;
        self.stats.final_slots = self.slots;
        Ok((self.host, self.times, self.stats))
    }

    fn staging(&self, label: &str, size: u64) -> wgpu::Buffer {
        self.ctx.device.create_buffer(&wgpu::BufferDescriptor {
            label: Some(label),
            size: size.max(4).next_multiple_of(4),
            usage: wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: false,
        })
    }

    /// Waits for the queue, then copies out the first `size` bytes of a mappable buffer.
    fn read(&self, buffer: &wgpu::Buffer, size: u64) -> Result<Vec<u8>, Error> {
        let slice = buffer.slice(..size.max(4).next_multiple_of(4));
        let (tx, rx) = std::sync::mpsc::channel();
        slice.map_async(wgpu::MapMode::Read, move |r| {
            let _ = tx.send(r);
        });
        self.ctx
            .device
            .poll(wgpu::PollType::wait_indefinitely())
            .map_err(|e| Error::Gpu(format!("waiting for the device: {e}")))?;
        self.ctx.check()?;
        rx.recv()
            .map_err(|_| Error::Gpu("map callback never ran".into()))?
            .map_err(|e| Error::Gpu(format!("cannot map a readback buffer: {e}")))?;
        let data = {
            let view = slice.get_mapped_range().map_err(|e| Error::Gpu(format!("cannot read a mapped buffer: {e}")))?;
            view[..size as usize].to_vec()
        };
        buffer.unmap();
        Ok(data)
    }
}

/// A bind group of whole buffers, bound in order from binding 0.
fn bind_buffers(
    device: &wgpu::Device,
    layout: &wgpu::BindGroupLayout,
    label: &str,
    buffers: &[&wgpu::Buffer],
) -> wgpu::BindGroup {
    let entries: Vec<_> = (0..)
        .zip(buffers)
        .map(|(binding, b)| wgpu::BindGroupEntry { binding, resource: b.as_entire_binding() })
        .collect();
    device.create_bind_group(&wgpu::BindGroupDescriptor { label: Some(label), layout, entries: &entries })
}

/// Compiles `source` and makes one compute pipeline per entry point, all
/// sharing one explicitly written bind group layout (group 0).
fn compute_pipelines<const N: usize>(
    device: &wgpu::Device,
    label: &str,
    source: &str,
    bindings: &[wgpu::BindGroupLayoutEntry],
    entry_points: [&str; N],
) -> (wgpu::BindGroupLayout, [wgpu::ComputePipeline; N]) {
    let module = device.create_shader_module(wgpu::ShaderModuleDescriptor {
        label: Some(label),
        source: wgpu::ShaderSource::Wgsl(source.into()),
    });
    let layout =
        device.create_bind_group_layout(&wgpu::BindGroupLayoutDescriptor { label: Some(label), entries: bindings });
    let pipeline_layout = device.create_pipeline_layout(&wgpu::PipelineLayoutDescriptor {
        label: Some(label),
        bind_group_layouts: &[Some(&layout)],
        immediate_size: 0,
    });
    let pipelines = entry_points.map(|entry| {
        device.create_compute_pipeline(&wgpu::ComputePipelineDescriptor {
            label: Some(entry),
            layout: Some(&pipeline_layout),
            module: &module,
            entry_point: Some(entry),
            compilation_options: Default::default(),
            cache: None,
        })
    });
    (layout, pipelines)
}

fn prev_pow2(x: u64) -> u32 {
    if x == 0 { 0 } else { (1u64 << (63 - x.leading_zeros())).min(1 << 31) as u32 }
}

fn prev_pow2_u32(x: u32) -> u32 {
    prev_pow2(x as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Parses and validates a shader with naga (no GPU needed) and returns the
    /// size of each named struct.
    fn struct_sizes(source: &str) -> std::collections::HashMap<String, u32> {
        let module = naga::front::wgsl::parse_str(source).unwrap_or_else(|e| panic!("{}", e.emit_to_string(source)));
        naga::valid::Validator::new(naga::valid::ValidationFlags::all(), naga::valid::Capabilities::all())
            .validate(&module)
            .expect("shader validates");
        let ctx = module.to_ctx();
        module.types.iter().filter_map(|(_, t)| Some((t.name.clone()?, t.inner.size(ctx)))).collect()
    }

    /// The host's packing read back the way count.wgsl's `token` reads it,
    /// across block boundaries, with the largest offset and length allowed.
    #[test]
    fn packed_records_read_back_as_the_shader_reads_them() {
        let mut records = Vec::new();
        let mut word = 1000u32;
        for i in 0..600u32 {
            let len = match i % 7 {
                // The last token of a block may be as long as a record allows.
                _ if i == 255 => MAX_PACKED_LEN as u32,
                0 => 1,
                1 => 4,
                _ => 5 + i % 100,
            };
            records.push(TokenRecord { hash_lo: i * 3, hash_hi: !i, start_word: word, len });
            word += len.div_ceil(4);
        }
        let base = records[0].start_word;
        let mut packed = Vec::new();
        pack(&records, base, &mut packed);
        assert_eq!(packed.len() as u64 * 4, packed_bytes(records.len() as u64));
        let n = records.len() as u32;
        let token = |i: u32| {
            let r = (n.div_ceil(256) + 3 * i) as usize;
            let p = packed[r + 2];
            TokenRecord {
                hash_lo: packed[r],
                hash_hi: packed[r + 1],
                start_word: base + packed[(i / 256) as usize] + (p >> 17),
                len: p & 0x1ffff,
            }
        };
        for (i, r) in records.iter().enumerate() {
            assert_eq!(token(i as u32), *r, "record {i}");
        }
    }

    #[test]
    fn shader_structs_match_the_host_layout() {
        let count = struct_sizes(SHADER);
        assert_eq!(count["Slot"] as u64, SLOT_BYTES);
        assert_eq!(count["Params"] as usize, std::mem::size_of::<Params>());
        // The host counter block is padded to 32 bytes; the shader uses its first five words.
        assert_eq!(count["Counters"], 20);
        const { assert!(COUNTERS_BYTES >= 20) };
        let args = struct_sizes(ARGS_SHADER);
        assert_eq!(args["Counters"], count["Counters"], "finalize_args.wgsl reads count.wgsl's counters");
        let rehash = struct_sizes(REHASH_SHADER);
        assert_eq!(rehash["Slot"], count["Slot"], "rehash.wgsl moves count.wgsl's slots");
        assert_eq!(rehash["Params"] as usize, std::mem::size_of::<RehashParams>());
    }
}
