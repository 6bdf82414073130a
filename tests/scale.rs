//! Scale: ten million distinct words counted exactly on both backends, with
//! peak memory that follows the vocabulary, and a large input with a small
//! vocabulary that runs in little memory.

use crate::util::{Dir, gpu_available};
use std::collections::BinaryHeap;
use std::path::Path;
use std::process::Command;

/// Runs `gpucount ARGS --stats`, returns (exit code, peak resident set in
/// bytes as the run itself reports it). A parent's view (wait4's ru_maxrss)
/// would include the test process, whose memory a spawned child inherits.
fn run_measured(args: &[&std::ffi::OsStr]) -> (i32, u64) {
    let out = Command::new(env!("CARGO_BIN_EXE_gpucount")).args(args).arg("--stats").output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    let mb: u64 = err
        .lines()
        .find_map(|l| l.strip_prefix("memory:   peak resident "))
        .and_then(|l| l.trim_end_matches(" MB").parse().ok())
        .unwrap_or_else(|| panic!("no peak memory in --stats: {err}"));
    (out.status.code().expect("exited"), mb << 20)
}

fn json(path: &Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

#[test]
fn ten_million_distinct_words_on_both_backends() {
    const N: u32 = 10_000_000;
    let d = Dir::new();
    let mut text = String::with_capacity(90 << 20);
    let mut smallest = BinaryHeap::new(); // the 10 byte-wise smallest words: the top 10 when all counts are 1
    for i in 0..N {
        let w = format!("w{i:x}");
        text.push_str(&w);
        text.push(' ');
        smallest.push(w);
        if smallest.len() > 10 {
            smallest.pop();
        }
    }
    let expected: Vec<serde_json::Value> =
        smallest.into_sorted_vec().into_iter().map(|w| serde_json::json!({"word": w, "count": 1})).collect();
    let f = d.write("distinct.txt", text);
    let mut backends = vec!["cpu"];
    if gpu_available() {
        backends.push("gpu");
    }
    for backend in backends {
        let out = d.path().join(format!("{backend}.json"));
        let (code, peak) = run_measured(&[
            f.as_os_str(),
            "--backend".as_ref(),
            backend.as_ref(),
            "--top".as_ref(),
            "10".as_ref(),
            "--format".as_ref(),
            "json".as_ref(),
            "-o".as_ref(),
            out.as_os_str(),
        ]);
        assert_eq!(code, 0, "{backend}");
        let v = json(&out);
        assert_eq!(v["summary"]["distinct_words"], N, "{backend}");
        assert_eq!(v["summary"]["tokens"], N, "{backend}");
        assert_eq!(v["words"].as_array().unwrap(), &expected, "{backend}");
        // The vocabulary itself is about 70 MB of words; allow 150 bytes per distinct word.
        assert!(peak < 150 * N as u64, "{backend}: peak RSS {} MB", peak >> 20);
        eprintln!("{backend}: 10M distinct words, peak RSS {} MB", peak >> 20);
    }
}

#[test]
fn memory_follows_the_vocabulary_not_the_input() {
    let d = Dir::new();
    // 200 MB of text with a 20,000-word vocabulary.
    let block = gpucount::sample::ZipfText { words: 200_000, vocabulary: 20_000, ..Default::default() }.to_text();
    let f = d.path().join("big.txt");
    {
        use std::io::Write;
        let mut w = std::io::BufWriter::new(std::fs::File::create(&f).unwrap());
        while w.get_ref().metadata().unwrap().len() < 200 << 20 {
            for _ in 0..20 {
                w.write_all(block.as_bytes()).unwrap();
            }
            w.flush().unwrap();
        }
    }
    let out = d.path().join("out.tsv");
    let (code, peak) =
        run_measured(&[f.as_os_str(), "--backend".as_ref(), "cpu".as_ref(), "-o".as_ref(), out.as_os_str()]);
    assert_eq!(code, 0);
    assert!(peak < 64 << 20, "peak RSS {} MB for a 200 MB input", peak >> 20);
}
