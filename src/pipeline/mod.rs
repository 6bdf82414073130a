//! The run: documents from a source, one reader thread that reads, decodes
//! and chunks them in order, worker threads that turn chunks into keys for
//! the backend (the reader too, when they fall behind), and the backend's
//! table at the end. The pipeline owns the
//! backend choice (through [`select`]), the GPU-to-CPU fallback, stage timing
//! (from the first directory entry to the last byte written) and
//! cancellation.

mod counter;
mod sentences;

pub use counter::Counter;
pub use sentences::{SentencesOutcome, sentences};

use crate::count::select::{self, BackendConfig, Devices, InputSize, Plan};
use crate::count::{Backend, BackendChoice, CpuBackend};
use crate::decode::{Chunk, DocRead, EncodingChoice, ReadOptions, Served, read_document};
use crate::error::{Error, InputError};
use crate::hash::KeyHash;
use crate::html::{HtmlMode, Select};
use crate::keys::{Filter, Grams, Keys};
use crate::source::fetch::FetchOptions;
use crate::source::unpack::{Flow, Member, UnpackOptions, unpack};
use crate::source::{Document, Documents, Item, Operand, Origin, Skip, Sources, WalkOptions};
use crate::table::CountTable;
use crate::tokenize::Tokenizer;
use rayon::prelude::*;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Called with the number of raw bytes read so far, for progress display.
pub type Progress = dyn Fn(u64) + Send + Sync;

/// Everything a run needs to know.
#[derive(Clone)]
pub struct Options {
    pub tokenizer: Tokenizer,
    pub hash: KeyHash,
    /// Which n-grams are counted (default: words).
    pub grams: Grams,
    /// Which tokens are kept (stopwords, lengths); None keeps all.
    pub filter: Option<Arc<Filter>>,
    /// Count per document (keys made with [`crate::keys::doc_key`]); the
    /// outcome then names the documents.
    pub per_doc: bool,
    pub encoding: EncodingChoice,
    /// Threads that count, the reader among them; 0 means one per logical core.
    pub threads: usize,
    /// Target size of a text chunk handed to a worker.
    pub chunk_bytes: usize,
    /// Longest token accepted (see [`ReadOptions::max_token_bytes`]).
    pub max_token_bytes: usize,
    /// Count walked files that look binary instead of skipping them.
    pub binary: bool,
    pub walk: WalkOptions,
    /// Count compressed files and archives as raw bytes instead of looking inside.
    pub raw: bool,
    /// Which documents are read as HTML, and which of their elements.
    pub html: HtmlMode,
    pub select: Option<Select>,
    /// How URLs are downloaded.
    pub fetch: FetchOptions,
    pub backend: BackendConfig,
    pub progress: Option<Arc<Progress>>,
    /// Set it to stop a run early; the run then ends with [`Error::Cancelled`].
    pub cancel: Option<Arc<AtomicBool>>,
}

impl Default for Options {
    fn default() -> Self {
        let read = ReadOptions::default();
        Options {
            tokenizer: Tokenizer::default(),
            hash: KeyHash::default(),
            grams: Grams::default(),
            filter: None,
            per_doc: false,
            encoding: read.encoding,
            threads: 0,
            chunk_bytes: read.chunk_bytes,
            max_token_bytes: read.max_token_bytes,
            binary: read.binary,
            walk: WalkOptions::default(),
            raw: false,
            html: read.html,
            select: None,
            fetch: FetchOptions::default(),
            backend: BackendConfig::default(),
            progress: None,
            cancel: None,
        }
    }
}

impl Options {
    /// The number of threads that count in this run (the reader and the workers).
    pub fn threads(&self) -> usize {
        if self.threads > 0 { self.threads } else { std::thread::available_parallelism().map_or(1, |n| n.get()) }
    }

    fn read(&self) -> ReadOptions {
        ReadOptions {
            encoding: self.encoding,
            chunk_bytes: self.chunk_bytes.clamp(1, crate::decode::MAX_TOKEN_BYTES),
            // Keeps token lengths (and batch offsets) far below 4 GiB.
            max_token_bytes: self.max_token_bytes.min(crate::decode::MAX_TOKEN_BYTES),
            tokenizer: self.tokenizer.clone(),
            binary: self.binary,
            html: self.html,
            select: self.select.clone(),
            html_in_workers: false,
            keys: Some(self.keys()),
        }
    }

    fn keys(&self) -> Keys {
        Keys {
            tokenizer: self.tokenizer.clone(),
            hash: self.hash,
            grams: self.grams,
            filter: self.filter.clone(),
            per_doc: self.per_doc,
        }
    }

    /// The documents of `operands`, walked and downloaded as these options say.
    fn sources(&self, operands: Vec<Operand>) -> Sources {
        Sources::new(operands, self.walk.clone()).fetching(self.fetch.clone())
    }

    fn cancelled(&self) -> bool {
        self.cancel.as_ref().is_some_and(|c| c.load(Ordering::Relaxed))
    }
}

/// Thread-seconds spent in each stage of a run.
#[derive(Debug, Clone, Default)]
pub struct Stages {
    /// Walking directories (the source, on the reader thread).
    pub walk: Duration,
    /// Reading and decoding (the reader thread, less the time it counts).
    pub read_decode: Duration,
    /// Tokenizing and hashing, summed over the counting threads (backends
    /// that count later), with the parsing of HTML pages, which they do.
    pub tokenize_hash: Duration,
    /// Counting, summed over the counting threads, plus the backend's final work.
    pub count: Duration,
    /// Tokenizing, hashing and counting done in one pass (the CPU backend),
    /// with the parsing of HTML pages.
    pub tokenize_hash_count: Duration,
    /// Backend-specific stages.
    pub backend: Vec<(String, Duration)>,
    /// Turning the table into rows, and sorting and writing them (set by [`crate::report::write`]).
    pub resolve: Duration,
    pub output: Duration,
}

impl Stages {
    /// The counting stages that ran, named, in pipeline order: walk,
    /// read+decode, the one-pass CPU stage or tokenize+hash and count, then
    /// the backend's own stages.
    pub fn named(&self) -> Vec<(String, Duration)> {
        let counting = [
            ("tokenize+hash+count", self.tokenize_hash_count),
            ("tokenize+hash", self.tokenize_hash),
            ("count", self.count),
        ];
        [("walk", self.walk), ("read+decode", self.read_decode)]
            .into_iter()
            .chain(counting.into_iter().filter(|(_, d)| !d.is_zero()))
            .map(|(n, d)| (n.to_string(), d))
            .chain(self.backend.iter().cloned())
            .collect()
    }
}

/// What one counting thread did, so load balance can be seen.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct WorkerStats {
    pub chunks: u64,
    /// Documents whose first chunk this worker took.
    pub documents: u64,
    /// Text bytes (UTF-8) tokenized.
    pub bytes: u64,
    pub busy: Duration,
}

/// Everything a run produced.
pub struct Outcome {
    pub table: CountTable,
    /// Documents counted (whole, or up to a read error).
    pub documents: usize,
    /// Raw bytes of those documents.
    pub bytes: u64,
    /// Documents not decoded as UTF-8, with their encoding.
    pub encodings: Vec<(String, &'static str)>,
    /// Per-document problems, in input order.
    pub errors: Vec<InputError>,
    /// Walked files skipped as binary, and FIFOs, sockets and devices skipped in walks.
    pub skipped_binary: usize,
    pub skipped_special: usize,
    /// Where it was counted and why ("cpu: ...", "gpu: ..."): `plan` in one line, for people.
    pub backend: String,
    /// The backend that counted and why, as separate values for machines.
    pub plan: Plan,
    /// The GPU adapter, when the GPU counted.
    pub device: Option<String>,
    /// Run-level warnings (the GPU failed and the CPU recounted).
    pub warnings: Vec<String>,
    /// Backend notes for `--stats`.
    pub notes: Vec<String>,
    pub stages: Stages,
    /// What each counting thread did, the reader's first.
    pub workers: Vec<WorkerStats>,
    pub threads: usize,
    /// When the run started (the wall clock of `--stats` runs from here).
    pub started: Instant,
    /// The table is per document ([`crate::keys::doc_key`] keys).
    pub per_doc: bool,
    /// The counted documents' places and names, in input order (per-document runs only).
    pub names: Vec<(u64, String)>,
    /// One past the last place given (to documents, problems and skipped entries).
    pub places: u64,
}

/// Counts `operands` (files, directories, stdin, text in memory).
pub fn count(operands: Vec<Operand>, opts: &Options) -> Result<Outcome, Error> {
    opts.walk.check()?;
    run(&|| Box::new(opts.sources(operands.clone())), opts)
}

/// Counts the documents `make_source` yields. It is called once, and again
/// for a CPU recount when the GPU fails under `auto`.
pub fn run<'s>(make_source: &dyn Fn() -> Documents<'s>, opts: &Options) -> Result<Outcome, Error> {
    let started = Instant::now();
    let devices = Devices::new();
    let mut source = make_source();
    let (size, peeked) = if opts.backend.choice == BackendChoice::Auto {
        peek(&mut source)
    } else {
        (InputSize::Unknown("not looked at".into()), Vec::new())
    };
    let plan = select::plan(&opts.backend, &size, &devices)?;
    let peek_time = started.elapsed();
    let items: Documents<'s> = Box::new(peeked.into_iter().chain(source));
    let result = match &plan {
        Plan::Cpu { .. } => execute(items, opts, CpuBackend::new(opts.backend.cpu, opts.threads()), &plan, started),
        Plan::Gpu { adapter, .. } => on_gpu(items, opts, &devices, *adapter, &plan, started),
    };
    let mut outcome = match result {
        Ok(o) => o,
        Err(failed) if opts.backend.choice == BackendChoice::Auto && matches!(plan, Plan::Gpu { .. }) => {
            let e = failed.error;
            if !failed.replayable {
                return Err(Error::Gpu(format!("{e}; part of the input cannot be read again, so no CPU recount")));
            }
            let cpu = Plan::Cpu { reason: format!("the GPU failed ({e})") };
            let mut o = execute(make_source(), opts, CpuBackend::new(opts.backend.cpu, opts.threads()), &cpu, started)
                .map_err(|f| f.error)?;
            o.warnings.push(format!("{e}; counting on the CPU instead"));
            o
        }
        Err(failed) => return Err(failed.error),
    };
    outcome.stages.walk += peek_time;
    Ok(outcome)
}

#[cfg(feature = "gpu")]
fn on_gpu(
    items: Documents<'_>,
    opts: &Options,
    devices: &Devices,
    adapter: usize,
    plan: &Plan,
    started: Instant,
) -> Result<Outcome, Failed> {
    let t = Instant::now();
    let backend = devices
        .open(adapter)
        .and_then(|ctx| crate::count::gpu::GpuBackend::new(ctx, opts.backend.gpu.clone()))
        .map_err(|error| Failed { error, replayable: true })?;
    let open = t.elapsed();
    let device = backend.device().to_string();
    let mut o = execute(items, opts, backend, plan, started)?;
    o.stages.backend.insert(0, ("gpu open".into(), open));
    o.device = Some(device);
    Ok(o)
}

#[cfg(not(feature = "gpu"))]
fn on_gpu(_: Documents<'_>, _: &Options, _: &Devices, _: usize, _: &Plan, _: Instant) -> Result<Outcome, Failed> {
    Err(Failed { error: Error::NoAdapter(Devices::none_found_help()), replayable: true })
}

/// Documents looked at before the backend is chosen, at most.
const PEEK_DOCUMENTS: usize = 10_000;

/// Pulls documents until their sizes reach the point where a GPU pays, the
/// source ends, a size is unknown, or [`PEEK_DOCUMENTS`] were seen.
fn peek(source: &mut Documents<'_>) -> (InputSize, Vec<Item>) {
    let mut items = Vec::new();
    let mut bytes = 0u64;
    loop {
        if bytes >= select::AUTO_GPU_MIN_BYTES {
            return (InputSize::AtLeast(bytes), items);
        }
        if items.len() >= PEEK_DOCUMENTS {
            let why = format!("more than {PEEK_DOCUMENTS} documents in the first {} MiB", bytes >> 20);
            return (InputSize::Unknown(why), items);
        }
        let Some(item) = source.next() else { return (InputSize::Known(bytes), items) };
        if let Item::Document(d) = &item {
            match d.size_hint {
                Some(n) if d.replayable() => bytes += n,
                _ => {
                    let why = format!("the size of {} is not known before reading", d.name);
                    items.push(item);
                    return (InputSize::Unknown(why), items);
                }
            }
        }
        items.push(item);
    }
}

/// A backend failure, and whether every document read so far can be read again.
struct Failed {
    error: Error,
    replayable: bool,
}

/// One counting thread's state.
struct Worker<L> {
    local: L,
    stats: WorkerStats,
    tokenize: Duration,
    count: Duration,
    scratch: Vec<u8>,
}

/// What the counting threads share: the backend, how keys are made, and
/// the first failure, which stops them all.
struct Crew<'b, B> {
    backend: &'b B,
    keys: Keys,
    select: Option<Select>,
    stop: AtomicBool,
    failure: Mutex<Option<Error>>,
}

impl<B: Backend> Crew<'_, B> {
    fn worker(&self) -> Worker<B::Local> {
        Worker {
            local: self.backend.local(),
            stats: WorkerStats::default(),
            tokenize: Duration::ZERO,
            count: Duration::ZERO,
            scratch: Vec::new(),
        }
    }

    fn fail(&self, e: Error) {
        if let Ok(mut f) = self.failure.lock() {
            f.get_or_insert(e);
        }
        self.stop.store(true, Ordering::Relaxed);
    }

    fn stopped(&self) -> bool {
        self.stop.load(Ordering::Relaxed)
    }

    /// Counts a batch of chunks into `w` (nothing once the run is stopped).
    fn take(&self, w: &mut Worker<B::Local>, batch: Vec<Chunk>) {
        for chunk in batch {
            if self.stopped() {
                return;
            }
            let t0 = Instant::now();
            let chunk = chunk.visible(self.select.as_ref());
            self.keys.feed(&chunk, &mut w.scratch, &mut w.local);
            let t1 = Instant::now();
            let result = self.backend.end_chunk(&mut w.local);
            let t2 = Instant::now();
            w.tokenize += t1 - t0;
            w.count += t2 - t1;
            w.stats.chunks += 1;
            w.stats.documents += (chunk.seq == 0) as u64;
            w.stats.bytes += chunk.text.len() as u64;
            w.stats.busy += t2 - t0;
            if let Err(e) = result {
                self.fail(e);
            }
        }
    }

    /// A worker's last work on its own thread, after its last chunk.
    fn end(&self, w: &mut Worker<B::Local>) {
        if !self.stopped() {
            let t0 = Instant::now();
            let result = self.backend.end_worker(&mut w.local);
            w.count += t0.elapsed();
            if let Err(e) = result {
                self.fail(e);
            }
        }
    }
}

/// Counts `items` with `backend`.
///
/// `--threads N` runs N threads that count: the reader and N - 1 workers.
/// The reader hands a batch of chunks to the workers while they keep up,
/// and counts it itself when their queue is full. So one thread reads and
/// counts everything in turn, and a thread more adds a core's worth of
/// counting: the reader's time is not hidden on a core the count did not ask for.
fn execute<B: Backend>(
    items: Documents<'_>,
    opts: &Options,
    backend: B,
    plan: &Plan,
    started: Instant,
) -> Result<Outcome, Failed> {
    let threads = opts.threads();
    let fail = |error| Failed { error, replayable: true };
    let pool = match threads - 1 {
        0 => None,
        n => Some(
            rayon::ThreadPoolBuilder::new()
                .num_threads(n)
                .thread_name(|i| format!("gpucount-worker-{i}"))
                .build()
                .map_err(|e| fail(Error::Config(format!("cannot start {threads} threads: {e}"))))?,
        ),
    };
    // With no workers the queue holds nothing, and the reader counts every batch.
    let (tx, rx) = crossbeam_channel::bounded::<Vec<Chunk>>((threads - 1) * 2);
    let read_opts = ReadOptions { html_in_workers: true, ..opts.read() };
    let crew = Crew {
        backend: &backend,
        keys: opts.keys(),
        select: read_opts.select.clone(),
        stop: AtomicBool::new(false),
        failure: Mutex::new(None),
    };

    let (read, mut workers) = std::thread::scope(|s| {
        let reading = std::thread::Builder::new().name("gpucount-reader".into()).spawn_scoped(s, || {
            let mut w = crew.worker();
            let report = read_all(items, &read_opts, tx, Some(&mut |batch| crew.take(&mut w, batch)), &crew.stop, opts);
            // Read to the end: take from the queue beside the workers, so
            // they do not count its last batches while this thread idles.
            for batch in rx.try_iter() {
                crew.take(&mut w, batch);
            }
            crew.end(&mut w);
            (report, w)
        });
        let workers = pool.as_ref().map_or_else(Vec::new, |pool| {
            pool.broadcast(|_| {
                let mut w = crew.worker();
                // Once stopped, the rest is drained, so the reader never blocks.
                for batch in rx.iter() {
                    crew.take(&mut w, batch);
                }
                crew.end(&mut w);
                w
            })
        });
        (reading.map(|r| r.join()), workers)
    });
    let mut read = match read {
        Ok(Ok((read, reader))) => {
            workers.insert(0, reader);
            read
        }
        Ok(Err(_)) => return Err(fail(Error::Config("reader thread panicked".into()))),
        Err(e) => return Err(fail(Error::Config(format!("cannot start the reader thread: {e}")))),
    };
    if let Some(e) = read.fatal.take() {
        return Err(fail(Error::Input(e)));
    }
    if let Some(error) = crew.failure.into_inner().ok().flatten() {
        return Err(Failed { error, replayable: read.replayable });
    }
    if opts.cancelled() {
        return Err(fail(Error::Cancelled));
    }
    let t_finish = Instant::now();
    let worker_stats: Vec<WorkerStats> = workers.iter().map(|w| w.stats).collect();
    let tokenize: Duration = workers.iter().map(|w| w.tokenize).sum();
    let count: Duration = workers.iter().map(|w| w.count).sum();
    let locals = workers.into_iter().map(|w| w.local);
    let merge = |a, b| backend.merge(a, b);
    let local = match &pool {
        Some(pool) => pool.install(|| locals.collect::<Vec<_>>().into_par_iter().reduce_with(merge)),
        None => locals.reduce(merge),
    };
    let local = local.unwrap_or_else(|| backend.local());
    let finished = backend.finish(local).map_err(|error| Failed { error, replayable: read.replayable })?;
    let mut stages = Stages { walk: read.walk, read_decode: read.busy, backend: finished.stages, ..Stages::default() };
    // Merging and the backend's last work belong to whichever counting stage ran.
    if B::COUNTS_IN_SINK {
        stages.tokenize_hash_count = tokenize + count + t_finish.elapsed();
    } else {
        stages.tokenize_hash = tokenize;
        stages.count = count + t_finish.elapsed();
    }
    Ok(Outcome {
        table: finished.table,
        documents: read.documents,
        bytes: read.bytes,
        encodings: read.encodings,
        errors: read.errors,
        skipped_binary: read.binary,
        skipped_special: read.special,
        backend: plan.to_string(),
        plan: plan.clone(),
        device: None,
        warnings: Vec::new(),
        notes: finished.notes,
        stages,
        workers: worker_stats,
        threads,
        started,
        per_doc: opts.per_doc,
        names: read.names,
        places: read.places,
    })
}

/// What the reader thread found.
struct ReadReport {
    documents: usize,
    bytes: u64,
    encodings: Vec<(String, &'static str)>,
    errors: Vec<InputError>,
    binary: usize,
    special: usize,
    /// Every document read can be read again.
    replayable: bool,
    /// Counted documents' places and names, kept for per-document runs.
    names: Vec<(u64, String)>,
    /// Places given (one past the last).
    places: u64,
    /// A piece of a cut file whose reading stopped: the run cannot be exact.
    fatal: Option<InputError>,
    keep_names: bool,
    walk: Duration,
    busy: Duration,
}

impl ReadReport {
    /// Accounts for one document read.
    fn add(&mut self, doc: &Document, r: DocRead) {
        if r.binary.is_some() {
            self.binary += 1;
            return;
        }
        if r.counted {
            if r.stopped && matches!(doc.origin, Origin::Piece(_)) {
                // The other pieces read on where one reader would have stopped.
                let why = "the file was cut among processes, which cannot all stop where one reader would: count it in one process";
                self.fatal
                    .get_or_insert(doc.error(format!("{}; {why}", r.problem.as_deref().unwrap_or("reading stopped"))));
            }
            // A piece begun by another process is part of its document.
            let continued = matches!(&doc.origin, Origin::Piece(p) if p.continues());
            if continued {
                self.bytes += r.bytes;
                if let Some(p) = r.problem {
                    self.errors.push(doc.error(p));
                }
                return;
            }
            self.documents += 1;
            self.bytes += r.bytes;
            if self.keep_names {
                self.names.push((doc.id, doc.name.clone()));
            }
            if let Some(enc) = r.encoding.filter(|&e| e != encoding_rs::UTF_8) {
                self.encodings.push((doc.name.clone(), enc.name()));
            }
        }
        if let Some(p) = r.problem {
            self.errors.push(doc.error(p));
        }
    }
}

/// Raw bytes read, reported as they go by (the progress of a compressed
/// file is its compressed bytes, as its size is).
struct Counted<'p, R> {
    inner: R,
    progress: &'p dyn Fn(u64),
}

impl<R: std::io::Read> std::io::Read for Counted<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        (self.progress)(n as u64);
        Ok(n)
    }
}

/// Chunks on their way to the workers, sent a batch at a time. A directory
/// of small files makes a chunk of each, and a message per chunk, with a
/// worker woken for each, cost more than the counting: the workers spun on
/// the channel beside the reader they waited for (20,000 files of 500
/// bytes, 2 threads: median 294 ms, 275 in batches; 40,010 futex calls, 169).
struct Batches<'h> {
    tx: crossbeam_channel::Sender<Vec<Chunk>>,
    batch: Vec<Chunk>,
    /// Text bytes in `batch`.
    bytes: usize,
    /// A batch goes once its text reaches this (a chunk's target size); a
    /// chunk that would take it past goes in the next one.
    target: usize,
    /// Counts a batch on the reader's thread when the queue is full; without
    /// it, the reader waits for room (the order of batches then holds).
    count_here: Option<&'h mut dyn FnMut(Vec<Chunk>)>,
    /// Time spent blocked on a full queue, or counting.
    away: Duration,
}

/// Chunks in a batch, at most: tiny documents cost memory beyond their text.
const BATCH_CHUNKS: usize = 256;

impl<'h> Batches<'h> {
    fn new(
        tx: crossbeam_channel::Sender<Vec<Chunk>>,
        target: usize,
        count_here: Option<&'h mut dyn FnMut(Vec<Chunk>)>,
    ) -> Self {
        Batches { tx, batch: Vec::new(), bytes: 0, target, count_here, away: Duration::ZERO }
    }

    /// Adds `chunk`, sending what is due; false once the workers are gone.
    /// A chunk that its document goes on after was cut full, and goes at once.
    fn push(&mut self, chunk: Chunk) -> bool {
        if !self.batch.is_empty() && self.bytes + chunk.text.len() > self.target && !self.send() {
            return false;
        }
        let full = !chunk.last;
        self.bytes += chunk.text.len();
        self.batch.push(chunk);
        (!full && self.bytes < self.target && self.batch.len() < BATCH_CHUNKS) || self.send()
    }

    fn send(&mut self) -> bool {
        use crossbeam_channel::TrySendError;
        let batch = std::mem::take(&mut self.batch);
        self.bytes = 0;
        let t = Instant::now();
        // The receivers live until the reader's thread is joined.
        let sent = match (self.tx.try_send(batch), &mut self.count_here) {
            (Ok(()), _) => true,
            (Err(TrySendError::Full(batch)), Some(count)) => {
                count(batch);
                true
            }
            (Err(TrySendError::Full(batch)), None) => self.tx.send(batch).is_ok(),
            (Err(TrySendError::Disconnected(_)), _) => false,
        };
        self.away += t.elapsed();
        sent
    }
}

/// Reads every document in order into `tx`, until the source ends or the
/// run is stopped (a backend failure, or cancellation).
fn read_all(
    mut items: Documents<'_>,
    read: &ReadOptions,
    tx: crossbeam_channel::Sender<Vec<Chunk>>,
    count_here: Option<&mut dyn FnMut(Vec<Chunk>)>,
    stop: &AtomicBool,
    opts: &Options,
) -> ReadReport {
    let started = Instant::now();
    let mut report = ReadReport {
        documents: 0,
        bytes: 0,
        encodings: Vec::new(),
        errors: Vec::new(),
        binary: 0,
        special: 0,
        replayable: true,
        names: Vec::new(),
        keep_names: opts.per_doc,
        places: 0,
        fatal: None,
        walk: Duration::ZERO,
        busy: Duration::ZERO,
    };
    let stopped = || stop.load(Ordering::Relaxed) || opts.cancelled();
    let on_bytes = |n: u64| {
        if let Some(p) = &opts.progress {
            p(n)
        }
    };
    // Places are given here, in reading order, so archive members get theirs.
    let mut next_place = 0u64;
    let mut place = || {
        next_place += 1;
        next_place - 1
    };
    let mut batches = Batches::new(tx, read.chunk_bytes, count_here);
    let mut sink = |chunk: Chunk| !stopped() && batches.push(chunk);
    let unpack_opts = UnpackOptions { raw: opts.raw, walk: opts.walk.clone() };
    loop {
        let t = Instant::now();
        let item = items.next();
        report.walk += t.elapsed();
        let Some(item) = item else { break };
        if stopped() {
            break;
        }
        match item {
            Item::Problem(mut e) => {
                e.place = place();
                report.errors.push(e)
            }
            Item::Skipped(Skip::Special) => {
                place();
                report.special += 1
            }
            Item::Document(mut doc) => {
                report.replayable &= doc.replayable();
                doc.id = place();
                let opened = match doc.open() {
                    Ok(o) => o,
                    Err(e) if matches!(doc.origin, Origin::Piece(_)) => {
                        report
                            .fatal
                            .get_or_insert(doc.error(format!("{e}; the other pieces of this cut file were read")));
                        continue;
                    }
                    Err(e) => {
                        report.errors.push(doc.error(e));
                        continue;
                    }
                };
                let served =
                    Served { content_type: opened.content_type.as_deref(), charset: opened.charset, part: opened.part };
                let counted = Counted { inner: opened.reader, progress: &on_bytes };
                let problems = unpack(&doc, Box::new(counted), &unpack_opts, &mut place, &mut |m: Member<'_>| {
                    // What the server said is of the document, not of members inside it.
                    let served = if m.doc.id == doc.id { served } else { Served::default() };
                    let r = read_document(&m.doc, m.reader, &served, read, &mut sink);
                    report.add(&m.doc, r);
                    if stopped() { Flow::Stop } else { Flow::Continue }
                });
                for p in problems {
                    let error = if p.input == doc.name {
                        doc.error(p.reason)
                    } else {
                        InputError { place: doc.id, input: p.input, input_bytes: None, reason: p.reason }
                    };
                    report.errors.push(error);
                }
            }
        }
    }
    if !batches.batch.is_empty() {
        batches.send();
    }
    report.busy = started.elapsed().saturating_sub(batches.away).saturating_sub(report.walk);
    report.places = next_place;
    report
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batches_keep_every_chunk_in_order_within_their_bounds() {
        let (tx, rx) = crossbeam_channel::unbounded();
        let mut batches = Batches::new(tx, 100, None);
        // Tiny chunks, chunks that cross the target, one past it alone, empty ones.
        let sizes: Vec<usize> = (0..2_000).map(|i| [1, 0, 7, 60, 250, 3][i % 6] * (i % 5 != 4) as usize).collect();
        for (seq, &n) in sizes.iter().enumerate() {
            // Every seventh chunk is cut full from a document that goes on.
            let last = seq % 7 != 3;
            let chunk =
                Chunk { doc: 0, seq: seq as u32, text: "x".repeat(n), context: String::new(), last, html: false };
            assert!(batches.push(chunk));
        }
        assert!(!batches.batch.is_empty(), "a short batch waits for the end");
        batches.send();
        drop(batches);
        let sent: Vec<Vec<Chunk>> = rx.iter().collect();
        for b in &sent {
            let bytes: usize = b.iter().map(|c| c.text.len()).sum();
            assert!(!b.is_empty() && b.len() <= BATCH_CHUNKS);
            // Past the target only by a single chunk; a full chunk ends its batch.
            assert!(bytes <= 100 || b.len() == 1, "{} chunks of {bytes} bytes", b.len());
            assert!(b[..b.len() - 1].iter().all(|c| c.last), "a full chunk waited");
        }
        assert!(sent.iter().any(|b| b.len() > 1), "small chunks share batches");
        let seqs: Vec<u32> = sent.iter().flatten().map(|c| c.seq).collect();
        assert_eq!(seqs, (0..sizes.len() as u32).collect::<Vec<_>>());
        // Empty chunks (nothing toward the target) go at the cap.
        let (tx, rx) = crossbeam_channel::unbounded();
        let mut batches = Batches::new(tx, 100, None);
        for seq in 0..600 {
            let empty = Chunk { doc: 0, seq, text: String::new(), context: String::new(), last: true, html: false };
            assert!(batches.push(empty));
        }
        drop(batches);
        assert_eq!(rx.iter().map(|b| b.len()).collect::<Vec<_>>(), [BATCH_CHUNKS, BATCH_CHUNKS]);
    }

    /// The CPU backend, noting the thread that counted each chunk; workers
    /// can be slowed, so their queue fills.
    struct Noting {
        cpu: CpuBackend,
        slow_workers: bool,
        counted_by: Arc<Mutex<Vec<String>>>,
    }

    impl Backend for Noting {
        type Local = <CpuBackend as Backend>::Local;
        const COUNTS_IN_SINK: bool = true;
        fn local(&self) -> Self::Local {
            self.cpu.local()
        }
        fn end_chunk(&self, local: &mut Self::Local) -> Result<(), Error> {
            let name = std::thread::current().name().unwrap_or("").to_string();
            if self.slow_workers && name != "gpucount-reader" {
                std::thread::sleep(Duration::from_millis(2));
            }
            self.counted_by.lock().unwrap().push(name);
            self.cpu.end_chunk(local)
        }
        fn end_worker(&self, local: &mut Self::Local) -> Result<(), Error> {
            self.cpu.end_worker(local)
        }
        fn merge(&self, a: Self::Local, b: Self::Local) -> Self::Local {
            self.cpu.merge(a, b)
        }
        fn finish(self, local: Self::Local) -> Result<crate::count::Finished, Error> {
            self.cpu.finish(local)
        }
    }

    #[test]
    fn the_reader_counts_alone_on_one_thread_and_beside_slow_workers() {
        let text = "alpha beta gamma delta ".repeat(2_000);
        for (threads, slow_workers) in [(1, false), (2, true), (3, true)] {
            let opts = Options { threads, chunk_bytes: 64, ..Options::default() };
            let counted_by = Arc::new(Mutex::new(Vec::new()));
            let backend = Noting {
                cpu: CpuBackend::new(opts.backend.cpu, threads),
                slow_workers,
                counted_by: counted_by.clone(),
            };
            let items = Box::new(opts.sources(vec![Operand::text("t", text.clone())]));
            let plan = Plan::Cpu { reason: "test".into() };
            let o = execute(items, &opts, backend, &plan, Instant::now()).unwrap_or_else(|f| panic!("{}", f.error));
            let rows: Vec<(&str, u64)> = o.table.sorted_rows(None, 1);
            assert_eq!(rows, [("alpha", 2_000), ("beta", 2_000), ("delta", 2_000), ("gamma", 2_000)]);
            let names = counted_by.lock().unwrap().clone();
            let by_reader = names.iter().filter(|n| *n == "gpucount-reader").count();
            assert_eq!(names.len() as u64, o.workers.iter().map(|w| w.chunks).sum::<u64>(), "each chunk once");
            assert_eq!(o.workers[0].chunks, by_reader as u64, "the first row is the reader's");
            if threads == 1 {
                assert_eq!(by_reader, names.len(), "one thread reads and counts: {names:?}");
            } else {
                // Workers asleep on every chunk leave their queue full.
                assert!(by_reader > 0, "{threads} threads: the reader never counted");
            }
        }
    }

    #[test]
    fn a_full_queue_makes_the_reader_count_the_batch_itself() {
        // Room for `queue` batches and no worker taking them (0: one thread).
        for queue in [0, 1, 3] {
            let (tx, rx) = crossbeam_channel::bounded(queue);
            let mut here: Vec<Vec<Chunk>> = Vec::new();
            let mut count_here = |batch| here.push(batch);
            let mut batches = Batches::new(tx, 10, Some(&mut count_here));
            for seq in 0..20 {
                let chunk =
                    Chunk { doc: 0, seq, text: "x".repeat(10), context: String::new(), last: true, html: false };
                assert!(batches.push(chunk), "nothing waits for a worker");
            }
            drop(batches);
            let queued: Vec<u32> = rx.try_iter().flatten().map(|c| c.seq).collect();
            assert_eq!(queued, (0..queue as u32).collect::<Vec<_>>(), "the queue fills first");
            let counted: Vec<u32> = here.iter().flatten().map(|c| c.seq).collect();
            assert_eq!(counted, (queue as u32..20).collect::<Vec<_>>(), "then every batch is counted here");
        }
        // Without a counter here, a full queue waits for a worker, as the
        // sentences pipeline needs to keep its batches in order.
        let (tx, rx) = crossbeam_channel::bounded::<Vec<Chunk>>(1);
        let taker = std::thread::spawn(move || rx.iter().flatten().map(|c| c.seq).collect::<Vec<u32>>());
        let mut batches = Batches::new(tx, 10, None);
        for seq in 0..20 {
            let chunk = Chunk { doc: 0, seq, text: "x".repeat(10), context: String::new(), last: true, html: false };
            assert!(batches.push(chunk));
        }
        drop(batches);
        assert_eq!(taker.join().unwrap(), (0..20).collect::<Vec<_>>());
    }
}
