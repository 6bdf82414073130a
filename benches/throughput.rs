//! Criterion benchmarks on generated text (fixed seed): tokenizer throughput
//! per mode on ASCII-heavy and non-ASCII text (tokens as bytes, and short
//! ASCII ones as words), CPU counting, GPU counting and
//! the whole pipeline. Each benchmark checks its answer inside the timed loop.

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use gpucount::count::{BackendChoice, BackendConfig};
use gpucount::sample::ZipfText;
use gpucount::source::Operand;
use gpucount::table::Prefetched;
use gpucount::tokenize::{Mode, SKLEARN_TOKEN_PATTERN, Token, TokenPattern, Tokenizer};
use gpucount::{CountTable, Keys, Options, TokenBatch};

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
    let keys = Keys { tokenizer: Tokenizer { mode, ..Tokenizer::default() }, ..Keys::default() };
    // Chunks of ASCII text are valid UTF-8 on their own.
    text.as_bytes().chunks(1 << 20).map(|c| keys.batch(std::str::from_utf8(c).unwrap())).collect()
}

fn tokenizers(c: &mut Criterion) {
    let (ascii, greek) = corpora();
    let mut g = c.benchmark_group("tokenize");
    g.sample_size(10);
    for (name, text) in [("ascii", &ascii), ("greek", &greek)] {
        let pattern = TokenPattern::new(SKLEARN_TOKEN_PATTERN).expect("the default pattern compiles");
        for mode in [Mode::Words, Mode::Whitespace, Mode::Pattern(pattern)] {
            let label = match &mode {
                Mode::Pattern(_) => "Pattern".to_string(),
                m => format!("{m:?}"),
            };
            let t = Tokenizer { mode, ..Tokenizer::default() };
            let expected = gpucount::count::naive::count(text, &t).values().sum::<u64>() as usize;
            g.throughput(Throughput::Bytes(text.len() as u64));
            g.bench_with_input(BenchmarkId::new(&label, name), text, |b, text| {
                let mut scratch = Vec::new();
                b.iter(|| {
                    let mut n = 0;
                    t.for_each_token(text, &mut scratch, |_| n += 1);
                    assert_eq!(n, expected);
                })
            });
            // As the CPU worker takes them: short ASCII tokens as words,
            // checked by the sum of their lengths.
            let bytes = gpucount::count::naive::count(text, &t).iter().map(|(w, n)| w.len() as u64 * n).sum::<u64>();
            g.bench_with_input(BenchmarkId::new(format!("{label}, as words"), name), text, |b, text| {
                let mut scratch = Vec::new();
                b.iter(|| {
                    let (mut n, mut len) = (0, 0);
                    t.for_each_token_word(text, &mut scratch, |token| {
                        n += 1;
                        len += match token {
                            Token::Word(_, l) => l as u64,
                            Token::Bytes(b) => b.len() as u64,
                        };
                    });
                    assert_eq!((n, len), (expected, bytes));
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
    cpu_tables(&mut g, "", &batches);
    gpu_table(&mut g, &batches, tokens);
    g.finish();
    // A vocabulary far beyond the caches: most lookups miss.
    let wide = ZipfText { words: 2_000_000, vocabulary: 1_000_000, exponent: 0.4, ..ZipfText::default() }.to_text();
    let wide: String = wide.chars().filter(char::is_ascii).collect();
    let batches = tokenized(&wide, Mode::Words);
    let mut g = c.benchmark_group("count");
    g.sample_size(10);
    g.throughput(Throughput::Elements(batches.iter().map(TokenBatch::len).sum::<usize>() as u64));
    cpu_tables(&mut g, ", 1M words", &batches);
}

/// The CPU table fed batch by batch, key by key, through the prefetching
/// queue, short tokens by their bytes, and two halves merged; each checks
/// its totals.
fn cpu_tables(
    g: &mut criterion::BenchmarkGroup<'_, criterion::measurement::WallTime>,
    label: &str,
    batches: &[TokenBatch],
) {
    use gpucount::keys::KeySink;
    let table = |part: &[TokenBatch]| {
        let mut t = CountTable::new();
        part.iter().for_each(|batch| t.add_batch(batch));
        t
    };
    let whole = table(batches);
    g.bench_function(format!("cpu table{label}"), |b| b.iter(|| assert_eq!(table(batches).total(), whole.total())));
    g.bench_function(format!("cpu table, key by key{label}"), |b| {
        b.iter(|| {
            let mut t = CountTable::default();
            batches.iter().flat_map(TokenBatch::iter).for_each(|(hash, token)| t.key(hash, token));
            assert_eq!(t.total(), whole.total());
        })
    });
    g.bench_function(format!("cpu table, prefetched{label}"), |b| {
        b.iter(|| {
            let mut t = Prefetched::default();
            batches.iter().flat_map(TokenBatch::iter).for_each(|(hash, token)| t.key(hash, token));
            assert_eq!(t.into_table().total(), whole.total());
        })
    });
    // As a CPU worker counts, hashing as it goes: every token hashed, or
    // short tokens counted by their bytes and hashed once per drain.
    let hash = gpucount::hash::KeyHash::Xxh3;
    for (name, short) in [("hashing each token", false), ("short tokens by bytes", true)] {
        g.bench_function(format!("cpu worker, {name}{label}"), |b| {
            b.iter(|| {
                let mut t = Prefetched::default();
                for (_, token) in batches.iter().flat_map(TokenBatch::iter) {
                    if short { t.token(hash, token) } else { t.key(hash.hash(token), token) }
                }
                let t = t.into_table();
                assert_eq!((t.len(), t.total()), (whole.len(), whole.total()));
            })
        });
    }
    // Two workers' tables (each half of the text) merged into one.
    let (first, second) = batches.split_at(batches.len() / 2);
    let (a, b) = (table(first), table(second));
    g.bench_function(format!("merge two tables{label}"), |bench| {
        bench.iter_batched(
            || (a.clone(), b.clone()),
            |(a, b)| {
                let merged = CountTable::merged(a, b);
                assert_eq!((merged.len(), merged.total()), (whole.len(), whole.total()));
            },
            criterion::BatchSize::LargeInput,
        )
    });
    // A whole table merged into an empty one (a cluster rank's shard, a
    // first merge): its entries come in its own slot order.
    g.bench_function(format!("merge into an empty table{label}"), |bench| {
        bench.iter(|| {
            let mut empty = CountTable::new();
            empty.merge(&whole);
            assert_eq!((empty.len(), empty.total()), (whole.len(), whole.total()));
        })
    });
}

#[cfg(feature = "gpu")]
fn gpu_table(
    g: &mut criterion::BenchmarkGroup<'_, criterion::measurement::WallTime>,
    batches: &[TokenBatch],
    tokens: usize,
) {
    use gpucount::count::gpu::{AdapterChoice, GpuContext, GpuOptions, GpuTable};
    match GpuContext::open(&AdapterChoice::Best, true) {
        Ok(ctx) => {
            let mut table = Some(GpuTable::new(ctx, GpuOptions::default()).expect("gpu table"));
            g.bench_function("gpu table", |b| {
                b.iter(|| {
                    let t = table.as_mut().unwrap();
                    for batch in batches {
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

#[cfg(not(feature = "gpu"))]
fn gpu_table(_: &mut criterion::BenchmarkGroup<'_, criterion::measurement::WallTime>, _: &[TokenBatch], _: usize) {}

fn pipeline(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("zipf.txt");
    let text = ZipfText { words: 4_000_000, vocabulary: 100_000, ..ZipfText::default() }.to_text(); // ~25 MB
    std::fs::write(&path, &text).unwrap();
    let expected = 4_000_000u64;
    let inputs = vec![Operand::Path(path)];
    let mut g = c.benchmark_group("pipeline");
    g.sample_size(10);
    g.throughput(Throughput::Bytes(text.len() as u64));
    for threads in [1, 0] {
        let backend = BackendConfig { choice: BackendChoice::Cpu, ..BackendConfig::default() };
        let opts = Options { threads, backend, ..Options::default() };
        g.bench_function(BenchmarkId::new("cpu", if threads == 1 { "1 thread" } else { "all threads" }), |b| {
            b.iter(|| assert_eq!(gpucount::pipeline::count(inputs.clone(), &opts).unwrap().table.total(), expected))
        });
    }
}

/// A vocabulary of about a million words: the CPU tables spilling into
/// shards against tables that never spill, and sorting and writing the rows.
fn large_vocabulary(c: &mut Criterion) {
    use gpucount::count::{CpuOptions, cpu::MIN_SPILL};
    use gpucount::report::{self, ReportOptions};
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("wide.txt");
    let text = ZipfText { words: 2_000_000, vocabulary: 1_000_000, exponent: 0.4, ..ZipfText::default() }.to_text();
    std::fs::write(&path, &text).unwrap();
    let inputs = vec![Operand::Path(path)];
    let options = |spill_entries| {
        let backend = BackendConfig {
            choice: BackendChoice::Cpu,
            cpu: CpuOptions { spill_entries: Some(spill_entries) },
            ..BackendConfig::default()
        };
        Options { threads: 2, backend, ..Options::default() }
    };
    let count = |opts: &Options| gpucount::pipeline::count(inputs.clone(), opts).unwrap();
    // The answer, from tables that never spill, rows sorted plainly.
    let reference = count(&options(usize::MAX));
    let mut rows: Vec<(&str, u64)> = reference.table.iter().collect();
    rows.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.as_bytes().cmp(b.0.as_bytes())));
    let expected: Vec<u8> = rows.iter().flat_map(|(w, n)| format!("{w}\t{n}\n").into_bytes()).collect();
    let mut g = c.benchmark_group("large vocabulary");
    g.sample_size(10);
    g.throughput(Throughput::Bytes(text.len() as u64));
    for (name, spill) in [("tables spill into shards", MIN_SPILL), ("tables never spill", usize::MAX)] {
        let opts = options(spill);
        g.bench_function(name, |b| {
            b.iter(|| {
                let o = count(&opts);
                assert_eq!((o.table.len(), o.table.total()), (reference.table.len(), reference.table.total()));
            })
        });
    }
    g.throughput(Throughput::Elements(rows.len() as u64));
    g.bench_function("sort and write rows", |b| {
        let mut outcome = count(&options(usize::MAX));
        let mut out = Vec::with_capacity(expected.len());
        b.iter(|| {
            out.clear();
            report::write(&mut out, &mut outcome, &ReportOptions::default()).unwrap();
            assert!(out == expected, "rows differ from a plain sort");
        })
    });
}

criterion_group! {
    name = benches;
    // Criterion's charts need system fonts, which a clean machine lacks (its
    // plotting panics without them); the medians are printed either way.
    config = Criterion::default().without_plots();
    targets = tokenizers, counting, pipeline, large_vocabulary
}
criterion_main!(benches);
