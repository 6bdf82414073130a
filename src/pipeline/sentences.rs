//! The sentences run: the same sources and reader as counting, then each
//! document split into normalized sentences ([`crate::sentences`]) on all
//! cores, documents in parallel, written in input order.
//!
//! The reader hands on chunks in order; an assembler groups each document's
//! chunks into one job (a document is split in order, its unfinished last
//! sentence carried from chunk to chunk); workers split jobs; the caller's
//! thread writes their output in job order. The assembler runs at most
//! [`AHEAD_PER_THREAD`] jobs per thread ahead of the writer, so finished jobs
//! waiting for a slow one stay bounded.

use super::{Options, read_all};
use crate::decode::{Chunk, ReadOptions};
use crate::error::{Error, InputError};
use crate::sentences::{SentenceOptions, Splitter};
use crate::source::Operand;
use crossbeam_channel::{bounded, unbounded};
use std::collections::{BTreeMap, HashMap};
use std::io::{self, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// Jobs allowed between the writer and the assembler, per worker thread.
const AHEAD_PER_THREAD: usize = 4;

/// What a sentences run found.
#[derive(Debug, Clone, Default)]
pub struct SentencesOutcome {
    /// Documents read (whole, or up to a read error).
    pub documents: usize,
    /// Raw bytes of those documents.
    pub bytes: u64,
    /// Documents not decoded as UTF-8, with their encoding.
    pub encodings: Vec<(String, &'static str)>,
    /// Per-document problems, in input order.
    pub errors: Vec<InputError>,
    pub skipped_binary: usize,
    pub skipped_special: usize,
    /// Sentences written.
    pub sentences: u64,
    /// How many sentences have each length, in characters.
    pub lengths: BTreeMap<usize, u64>,
    pub threads: usize,
    pub wall: Duration,
}

impl SentencesOutcome {
    /// Mean sentence length in characters (0 without sentences).
    pub fn mean_length(&self) -> f64 {
        let chars: u64 = self.lengths.iter().map(|(&len, &n)| len as u64 * n).sum();
        if self.sentences == 0 { 0.0 } else { chars as f64 / self.sentences as f64 }
    }

    /// Median sentence length in characters (the lower middle one; 0 without sentences).
    pub fn median_length(&self) -> usize {
        let middle = self.sentences.saturating_sub(1) / 2;
        let mut seen = 0;
        for (&len, &n) in &self.lengths {
            seen += n;
            if seen > middle {
                return len;
            }
        }
        0
    }
}

/// One document's chunks, in order, and its place among jobs.
struct Job {
    index: u64,
    texts: Vec<String>,
}

/// Writes one normalized sentence per line of every document of `operands`
/// to `out`, in input order. A write error (a closed pipe) stops the run
/// and is returned.
pub fn sentences(
    operands: Vec<Operand>,
    opts: &Options,
    split: &SentenceOptions,
    out: &mut dyn Write,
) -> Result<SentencesOutcome, Error> {
    opts.walk.check()?;
    let started = Instant::now();
    let threads = opts.threads();
    let splitter = Splitter::new(split.clone());
    // Sentences are cut from the text itself: no n-gram context.
    let read_opts = ReadOptions { keys: None, ..opts.read() };
    let stop = AtomicBool::new(false);
    let (chunk_tx, chunk_rx) = bounded::<Vec<Chunk>>(threads * 2);
    let (job_tx, job_rx) = bounded::<Job>(threads * 2);
    let (done_tx, done_rx) = unbounded::<(u64, String, Vec<u32>)>();
    let (slot_tx, slot_rx) = bounded::<()>(threads * AHEAD_PER_THREAD);
    for _ in 0..threads * AHEAD_PER_THREAD {
        let _ = slot_tx.send(());
    }
    let mut outcome = SentencesOutcome { threads, ..SentencesOutcome::default() };
    let mut written: io::Result<()> = Ok(());
    let read = std::thread::scope(|s| {
        let source = Box::new(opts.sources(operands));
        let reading = s.spawn(|| read_all(source, &read_opts, chunk_tx, None, &stop, opts));
        s.spawn(|| assemble(chunk_rx, job_tx, slot_rx));
        for _ in 0..threads {
            let (jobs, done) = (job_rx.clone(), done_tx.clone());
            let splitter = &splitter;
            s.spawn(move || {
                for job in jobs.iter() {
                    let _ = done.send(split_job(splitter, job));
                }
            });
        }
        drop((job_rx, done_tx));
        // Write in job order; a finished job waits here for those before it.
        let mut waiting: HashMap<u64, (String, Vec<u32>)> = HashMap::new();
        let mut next = 0u64;
        for (index, text, lengths) in done_rx.iter() {
            waiting.insert(index, (text, lengths));
            while let Some((text, lengths)) = waiting.remove(&next) {
                next += 1;
                let _ = slot_tx.send(());
                if written.is_ok() {
                    written = out.write_all(text.as_bytes());
                    if written.is_err() {
                        stop.store(true, Ordering::Relaxed);
                    }
                }
                outcome.sentences += lengths.len() as u64;
                for len in lengths {
                    *outcome.lengths.entry(len as usize).or_default() += 1;
                }
            }
        }
        reading.join()
    });
    let read = read.map_err(|_| Error::Config("reader thread panicked".into()))?;
    written.and_then(|()| out.flush()).map_err(|e| Error::io("writing sentences", e))?;
    if opts.cancelled() {
        return Err(Error::Cancelled);
    }
    outcome.documents = read.documents;
    outcome.bytes = read.bytes;
    outcome.encodings = read.encodings;
    outcome.errors = read.errors;
    outcome.skipped_binary = read.binary;
    outcome.skipped_special = read.special;
    outcome.wall = started.elapsed();
    Ok(outcome)
}

/// Groups consecutive chunks of one document into a job, taking a slot for
/// each job so that it runs no further ahead of the writer than the slots allow.
fn assemble(
    chunks: crossbeam_channel::Receiver<Vec<Chunk>>,
    jobs: crossbeam_channel::Sender<Job>,
    slots: crossbeam_channel::Receiver<()>,
) {
    let mut index = 0u64;
    let mut current: Option<(u64, Vec<String>)> = None;
    let mut send = |texts: Vec<String>| {
        if slots.recv().is_err() {
            return;
        }
        let _ = jobs.send(Job { index, texts });
        index += 1;
    };
    for chunk in chunks.iter().flatten() {
        match &mut current {
            Some((doc, texts)) if *doc == chunk.doc => texts.push(chunk.text),
            _ => {
                if let Some((_, texts)) = current.replace((chunk.doc, vec![chunk.text])) {
                    send(texts);
                }
            }
        }
    }
    if let Some((_, texts)) = current {
        send(texts);
    }
}

/// Splits one document: its lines of output and each sentence's length in characters.
fn split_job(splitter: &Splitter, job: Job) -> (u64, String, Vec<u32>) {
    let mut out = String::new();
    let mut lengths = Vec::new();
    let mut carry = String::new();
    let last = job.texts.len().saturating_sub(1);
    for (i, text) in job.texts.into_iter().enumerate() {
        let text = if carry.is_empty() { text } else { std::mem::take(&mut carry) + &text };
        let used = splitter.split(&text, i == last, &mut |sentence| {
            out.push_str(sentence);
            out.push('\n');
            lengths.push(sentence.chars().count() as u32);
        });
        carry.push_str(&text[used..]);
    }
    (job.index, out, lengths)
}
