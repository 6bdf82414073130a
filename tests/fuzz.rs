//! The fuzzer's interesting inputs (`tests/fuzz-corpus/`, kept from runs of
//! `fuzz/fuzz_targets/count.rs`) as regression tests, on both backends.

use crate::util::gpu_available;
use gpucount::count::gpu::{AdapterChoice, GpuBackend, GpuOptions};
use gpucount::count::{self, CpuBackend, Options};
use gpucount::input::Input;
use gpucount::tokenize::{Mode, Tokenizer};

fn corpus() -> Vec<(String, Vec<u8>)> {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fuzz-corpus");
    let mut files: Vec<_> = std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().path()).collect();
    files.sort();
    files
        .into_iter()
        .map(|p| (p.file_name().unwrap().to_string_lossy().into_owned(), std::fs::read(&p).unwrap()))
        .collect()
}

#[test]
fn fuzz_corpus_matches_the_reference() {
    let corpus = corpus();
    assert!(corpus.len() >= 10, "the corpus is kept in the repository");
    for (name, data) in corpus {
        if let Err(e) = gpucount::count::naive::check(&data) {
            panic!("{name}: {}", &e[..e.len().min(2000)]);
        }
    }
}

#[test]
fn fuzz_corpus_gpu_equals_cpu() {
    if !gpu_available() {
        return;
    }
    let tiny = GpuOptions { initial_slots: 16, max_slots: Some(16), max_batch_tokens: 7, ..GpuOptions::default() };
    for (name, data) in corpus() {
        for mode in [Mode::Words, Mode::Whitespace] {
            let opts = Options {
                tokenizer: Tokenizer { mode, ..Tokenizer::default() },
                chunk_bytes: 64,
                ..Options::default()
            };
            let input = [Input::Memory { name: name.clone(), bytes: data.clone().into() }];
            let cpu = count::run(&input, &opts, CpuBackend).unwrap();
            let gpu = GpuBackend::open(&AdapterChoice::Best, true, tiny.clone(), "test").unwrap();
            let gpu = count::run(&input, &opts, gpu).unwrap();
            assert_eq!(gpu.table.sorted_rows(None, 1), cpu.table.sorted_rows(None, 1), "{name} {mode:?}");
        }
    }
}
