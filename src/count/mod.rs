//! Counting: the pipeline that feeds token batches to a [`Backend`], and the
//! backends behind that one interface.
//!
//! One reader thread reads and decodes inputs in order and hands text chunks
//! to a rayon pool; each worker tokenizes a chunk into a [`TokenBatch`] and
//! gives it to the backend. The CPU backend counts into a table per worker and
//! merges the tables; the GPU backend ships batches to the device.

pub mod cpu;
pub mod gpu;
pub mod naive;

pub use cpu::CpuBackend;

use crate::error::{Error, InputError};
use crate::input::{EncodingChoice, Input, Reader};
use crate::table::CountTable;
use crate::tokenize::{TokenBatch, Tokenizer};
use rayon::prelude::*;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// A counting backend: turns token batches into an exact [`CountTable`].
///
/// `add` is called from many worker threads, each with its own `Local`;
/// locals are merged pairwise and the last one is passed to `finish`.
pub trait Backend: Sync {
    /// Per-worker state.
    type Local: Send;
    /// What ran, for `--stats` (backend, device, why it was chosen).
    fn describe(&self) -> String;
    fn local(&self) -> Self::Local;
    /// Counts the tokens of `batch`. The batch may be taken; it is cleared after.
    fn add(&self, local: &mut Self::Local, batch: &mut TokenBatch) -> Result<(), Error>;
    /// Tokenizes and counts `text` in one pass, where the backend can do that
    /// better than through a batch (the CPU table); `None` means "use `add`".
    fn add_text(&self, _local: &mut Self::Local, _tokenizer: &Tokenizer, _text: &str) -> Option<Result<(), Error>> {
        None
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

/// Called with the number of raw bytes read so far, for progress display.
pub type Progress = dyn Fn(u64) + Send + Sync;

/// Run options shared by all backends.
#[derive(Clone)]
pub struct Options {
    pub tokenizer: Tokenizer,
    pub encoding: EncodingChoice,
    /// Worker threads; 0 means one per logical core.
    pub threads: usize,
    /// Target size of a text chunk handed to a worker.
    pub chunk_bytes: usize,
    /// Longest token accepted (see [`Reader::max_token_bytes`]).
    pub max_token_bytes: usize,
    pub progress: Option<std::sync::Arc<Progress>>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            tokenizer: Tokenizer::default(),
            encoding: EncodingChoice::Auto,
            threads: 0,
            chunk_bytes: 1 << 20,
            max_token_bytes: crate::input::MAX_TOKEN_BYTES,
            progress: None,
        }
    }
}

impl Options {
    /// The number of worker threads this run uses.
    pub fn threads(&self) -> usize {
        if self.threads > 0 { self.threads } else { std::thread::available_parallelism().map_or(1, |n| n.get()) }
    }
}

/// Thread-seconds spent in each stage of a run.
#[derive(Debug, Clone, Default)]
pub struct Stages {
    /// Reading and decoding (the reader thread).
    pub read_decode: Duration,
    /// Tokenizing and hashing, summed over workers.
    pub tokenize_hash: Duration,
    /// Counting, summed over workers, plus the backend's final work.
    pub count: Duration,
    /// Tokenizing, hashing and counting done in one pass (the CPU backend).
    pub tokenize_hash_count: Duration,
    /// Backend-specific stages.
    pub backend: Vec<(String, Duration)>,
    pub wall: Duration,
}

impl Stages {
    /// The stages that ran, named, in pipeline order: read+decode, then the
    /// CPU backend's one pass (tokenize+hash+count) or the batch path's
    /// tokenize+hash and count, then the backend's own stages.
    pub fn named(&self) -> Vec<(String, Duration)> {
        let counting = [
            ("tokenize+hash+count", self.tokenize_hash_count),
            ("tokenize+hash", self.tokenize_hash),
            ("count", self.count),
        ];
        std::iter::once(("read+decode", self.read_decode))
            .chain(counting.into_iter().filter(|(_, d)| !d.is_zero()))
            .map(|(n, d)| (n.to_string(), d))
            .chain(self.backend.iter().cloned())
            .collect()
    }
}

/// Everything a run produced.
pub struct Outcome {
    pub table: CountTable,
    /// Inputs read (fully or partly).
    pub inputs_read: usize,
    pub bytes: u64,
    /// Inputs not decoded as UTF-8, with their encoding.
    pub encodings: Vec<(String, &'static str)>,
    pub errors: Vec<InputError>,
    pub backend: String,
    pub notes: Vec<String>,
    pub stages: Stages,
    pub threads: usize,
}

struct Worker<L> {
    local: L,
    batch: TokenBatch,
    tokenize: Duration,
    count: Duration,
    one_pass: Duration,
}

/// Counts `inputs` with `backend`.
pub fn run<B: Backend>(inputs: &[Input], opts: &Options, backend: B) -> Result<Outcome, Error> {
    let started = Instant::now();
    let threads = opts.threads();
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .thread_name(|i| format!("gpucount-worker-{i}"))
        .build()
        .map_err(|e| Error::Config(format!("cannot start {threads} threads: {e}")))?;
    let reader = Reader {
        encoding: opts.encoding,
        chunk_bytes: opts.chunk_bytes.max(1),
        max_token_bytes: opts.max_token_bytes,
        tokenizer: opts.tokenizer,
    };
    let (tx, rx) = crossbeam_channel::bounded::<String>(threads * 2);
    let failure: Mutex<Option<Error>> = Mutex::new(None);
    let tokenizer = opts.tokenizer;
    let backend_ref = &backend;
    let new_worker = || Worker {
        local: backend_ref.local(),
        batch: TokenBatch::new(),
        tokenize: Duration::ZERO,
        count: Duration::ZERO,
        one_pass: Duration::ZERO,
    };

    let (read, worker) = std::thread::scope(|s| {
        let progress = opts.progress.clone();
        let reading = s.spawn(move || read_all(&reader, inputs, &tx, progress.as_deref()));
        let worker = pool.install(|| {
            rx.into_iter()
                .par_bridge()
                .fold(new_worker, |mut w, chunk| {
                    if failure.lock().map_or(true, |f| f.is_some()) {
                        return w; // keep draining so the reader never blocks
                    }
                    let t0 = Instant::now();
                    let result = match backend_ref.add_text(&mut w.local, &tokenizer, &chunk) {
                        Some(r) => {
                            w.one_pass += t0.elapsed();
                            r
                        }
                        None => {
                            tokenizer.tokenize(&chunk, &mut w.batch);
                            let t1 = Instant::now();
                            let r = backend_ref.add(&mut w.local, &mut w.batch);
                            w.batch.clear();
                            w.tokenize += t1 - t0;
                            w.count += t1.elapsed();
                            r
                        }
                    };
                    if let Err(e) = result {
                        if let Ok(mut f) = failure.lock() {
                            f.get_or_insert(e);
                        }
                    }
                    w
                })
                .reduce(new_worker, |a, b| Worker {
                    local: backend_ref.merge(a.local, b.local),
                    batch: TokenBatch::new(),
                    tokenize: a.tokenize + b.tokenize,
                    count: a.count + b.count,
                    one_pass: a.one_pass + b.one_pass,
                })
        });
        (reading.join(), worker)
    });
    let read = read.map_err(|_| Error::Config("reader thread panicked".into()))?;
    if let Some(e) = failure.into_inner().ok().flatten() {
        return Err(e);
    }
    let t_finish = Instant::now();
    let description = backend.describe();
    let finished = backend.finish(worker.local)?;
    let mut stages = Stages {
        read_decode: read.busy,
        tokenize_hash: worker.tokenize,
        count: worker.count,
        tokenize_hash_count: worker.one_pass,
        backend: finished.stages,
        wall: started.elapsed(),
    };
    // The backend's last work belongs to whichever counting stage ran.
    if worker.one_pass.is_zero() {
        stages.count += t_finish.elapsed();
    } else {
        stages.tokenize_hash_count += t_finish.elapsed();
    }
    Ok(Outcome {
        table: finished.table,
        inputs_read: read.inputs,
        bytes: read.bytes,
        encodings: read.encodings,
        errors: read.errors,
        backend: description,
        notes: finished.notes,
        stages,
        threads,
    })
}

#[derive(Default)]
struct ReadReport {
    inputs: usize,
    bytes: u64,
    encodings: Vec<(String, &'static str)>,
    errors: Vec<InputError>,
    busy: Duration,
}

/// Reads every input in order into `tx`; per-input problems are collected.
fn read_all(
    reader: &Reader,
    inputs: &[Input],
    tx: &crossbeam_channel::Sender<String>,
    progress: Option<&Progress>,
) -> ReadReport {
    let started = Instant::now();
    let mut waiting = Duration::ZERO;
    let mut report = ReadReport::default();
    let on_bytes = |n: u64| {
        if let Some(p) = progress {
            p(n)
        }
    };
    for input in inputs {
        let mut sink = |chunk: String| {
            let t = Instant::now();
            // The receiver lives until this thread is joined.
            let _ = tx.send(chunk);
            waiting += t.elapsed();
        };
        match reader.read(input, &mut sink, &on_bytes) {
            Ok(info) => {
                report.inputs += 1;
                report.bytes += info.bytes;
                if info.encoding != encoding_rs::UTF_8 {
                    report.encodings.push((input.to_string(), info.encoding.name()));
                }
                if let Some(w) = info.warning {
                    report.errors.push(input.error(w));
                }
            }
            Err(reason) => report.errors.push(input.error(reason)),
        }
    }
    report.busy = started.elapsed().saturating_sub(waiting);
    report
}
