//! Criterion benchmarks on generated text (fixed seed): tokenizer throughput
//! per mode on ASCII-heavy and non-ASCII text, CPU counting, GPU counting and
//! the whole pipeline. Each benchmark checks its answer inside the timed loop.

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use gpucount::count::gpu::{AdapterChoice, GpuContext, GpuOptions, GpuTable};
use gpucount::input::Input;
use gpucount::sample::ZipfText;
use gpucount::tokenize::{Mode, TokenBatch, Tokenizer};
use gpucount::{CountTable, Options, count};

/// About 8 MB of Zipf text, and the same words in Greek letters.
fn corpora() -> (String, String) {
    let text = ZipfText { words: 1_300_000, vocabulary: 50_000, ..ZipfText::default() }.to_text();
    let ascii: String = text.chars().filter(|c| c.is_ascii()).collect();
    let greek: String = ascii
        .chars()
        .map(|c| match c {
            'a'..='z' => char::from_u32('α' as u32 + (c as u32 - 'a' as u32) % 24).unwrap(),
            'A'..='Z' => char::from_u32('Α' as u32 + (c as u32 - 'A' as u32) % 17).unwrap(),
            c => c,
        })
        .collect();
    (ascii, greek)
}

fn tokenized(text: &str, mode: Mode) -> Vec<TokenBatch> {
    let t = Tokenizer { mode, ..Tokenizer::default() };
    text.as_bytes()
        .chunks(1 << 20)
        .map(|c| {
            // Chunks of ASCII text are valid UTF-8 on their own.
            let mut b = TokenBatch::new();
            t.tokenize(std::str::from_utf8(c).unwrap(), &mut b);
            b
        })
        .collect()
}

fn tokenizers(c: &mut Criterion) {
    let (ascii, greek) = corpora();
    let mut g = c.benchmark_group("tokenize");
    g.sample_size(10);
    for (name, text) in [("ascii", &ascii), ("greek", &greek)] {
        for mode in [Mode::Words, Mode::Whitespace] {
            let t = Tokenizer { mode, ..Tokenizer::default() };
            let expected = gpucount::count::naive::count(text, &t).values().sum::<u64>() as usize;
            g.throughput(Throughput::Bytes(text.len() as u64));
            g.bench_with_input(BenchmarkId::new(format!("{mode:?}"), name), text, |b, text| {
                let mut batch = TokenBatch::new();
                b.iter(|| {
                    batch.clear();
                    t.tokenize(text, &mut batch);
                    assert_eq!(batch.len(), expected);
                })
            });
        }
    }
}

fn counting(c: &mut Criterion) {
    let (ascii, _) = corpora();
    let batches = tokenized(&ascii, Mode::Words);
    let tokens: usize = batches.iter().map(TokenBatch::len).sum();
    let mut g = c.benchmark_group("count");
    g.sample_size(10);
    g.throughput(Throughput::Elements(tokens as u64));
    g.bench_function("cpu table", |b| {
        b.iter(|| {
            let mut t = CountTable::new();
            batches.iter().for_each(|batch| t.add_batch(batch));
            assert_eq!(t.total(), tokens as u64);
        })
    });
    match GpuContext::open(&AdapterChoice::Best, true) {
        Ok(ctx) => {
            let mut table = Some(GpuTable::new(ctx, GpuOptions::default()).expect("gpu table"));
            g.bench_function("gpu table", |b| {
                b.iter(|| {
                    let t = table.as_mut().unwrap();
                    for batch in &batches {
                        t.add(batch).unwrap();
                    }
                    t.flush().unwrap();
                })
            });
            let (counts, ..) = table.take().unwrap().finish().unwrap();
            assert_eq!(counts.total() % tokens as u64, 0, "every iteration counted every token");
        }
        Err(e) => eprintln!("skipping GPU counting benchmark: {e}"),
    }
}

fn pipeline(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("zipf.txt");
    let text = ZipfText { words: 4_000_000, vocabulary: 100_000, ..ZipfText::default() }.to_text(); // ~25 MB
    std::fs::write(&path, &text).unwrap();
    let expected = 4_000_000u64;
    let inputs = [Input::Path(path)];
    let mut g = c.benchmark_group("pipeline");
    g.sample_size(10);
    g.throughput(Throughput::Bytes(text.len() as u64));
    for threads in [1, 0] {
        let opts = Options { threads, ..Options::default() };
        g.bench_function(BenchmarkId::new("cpu", if threads == 1 { "1 thread" } else { "all threads" }), |b| {
            b.iter(|| assert_eq!(count::run(&inputs, &opts, count::CpuBackend).unwrap().table.total(), expected))
        });
    }
}

criterion_group!(benches, tokenizers, counting, pipeline);
criterion_main!(benches);
