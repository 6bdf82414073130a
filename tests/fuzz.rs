//! The fuzzer's interesting inputs (`tests/fuzz-corpus/`, kept from runs of
//! `fuzz/fuzz_targets/count.rs`) as regression tests, on both backends.

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

#[cfg(feature = "gpu")]
#[test]
fn fuzz_corpus_gpu_equals_cpu() {
    use crate::util::{cpu_options, gpu_available, on_gpu, run};
    use gpucount::count::gpu::GpuOptions;
    use gpucount::source::Operand;
    use gpucount::tokenize::Mode;
    if !gpu_available() {
        return;
    }
    let tiny = GpuOptions { initial_slots: 16, max_slots: Some(16), max_batch_tokens: 7, ..GpuOptions::default() };
    for (name, data) in corpus() {
        for mode in [Mode::Words, Mode::Whitespace] {
            let opts = cpu_options(mode.clone(), false, 64, 0);
            let input = [Operand::Memory { name: name.clone(), bytes: data.clone().into() }];
            let cpu = run(&input, &opts);
            let gpu = run(&input, &on_gpu(&opts, tiny.clone()));
            assert_eq!(gpu.table.sorted_rows(None, 1), cpu.table.sorted_rows(None, 1), "{name} {mode:?}");
        }
    }
}
