//! The GPU backend against the CPU backend, on any adapter (lavapipe included).
//! Tiny tables, batches, probe limits, arenas and bindings force every
//! overflow path; a weak hash forces collisions.

use crate::properties::{options, tricky_text};
use crate::util::{Dir, gpu_available, gpucount, on_gpu, reference, reference_rows, rows, run};

use gpucount::count::gpu::{Fault, GpuOptions};
use gpucount::sample::ZipfText;
use gpucount::source::Operand as Input;
use gpucount::tokenize::Mode;
use gpucount::{KeyHash, Options, Outcome};
use predicates::prelude::*;
use proptest::prelude::*;
use std::path::PathBuf;

/// Rows with long words shortened, so a failed assertion stays readable.
fn short(rows: &[(String, u64)]) -> Vec<(String, u64)> {
    let cut = |w: &String| {
        if w.len() > 40 { format!("{}...({} bytes)", &w[..w.floor_char_boundary(20)], w.len()) } else { w.clone() }
    };
    rows.iter().map(|(w, n)| (cut(w), *n)).collect()
}

fn gpu(inputs: &[Input], opts: &Options, gpu: GpuOptions) -> Outcome {
    run(inputs, &on_gpu(opts, gpu))
}

fn cpu(inputs: &[Input], opts: &Options) -> Outcome {
    run(inputs, opts)
}

fn tiny() -> GpuOptions {
    GpuOptions {
        initial_slots: 16,
        max_slots: Some(16),
        initial_arena_bytes: 64,
        max_batch_tokens: 7,
        min_dispatch_tokens: 1,
        ..GpuOptions::default()
    }
}

/// Asserts GPU == CPU on `inputs` for every tokenizer and case option, with default and tiny tables.
fn assert_same_everywhere(inputs: &[Input]) {
    for mode in [Mode::Words, Mode::Whitespace] {
        for keep_case in [false, true] {
            let opts = options(mode.clone(), keep_case, 1 << 16, 2);
            let expected = rows(&cpu(inputs, &opts).table);
            for g in [GpuOptions::default(), tiny()] {
                let got = gpu(inputs, &opts, g.clone());
                assert_eq!(rows(&got.table), expected, "{mode:?} keep_case={keep_case} {g:?}");
                assert_eq!(got.table.total(), expected.iter().map(|r| r.1).sum::<u64>());
            }
        }
    }
}

fn file(d: &Dir, name: &str, bytes: impl AsRef<[u8]>) -> Vec<Input> {
    vec![Input::Path(d.write(name, bytes))]
}

#[test]
fn empty_and_one_word() {
    if !gpu_available() {
        return;
    }
    let d = Dir::new();
    assert_same_everywhere(&file(&d, "empty.txt", ""));
    assert_same_everywhere(&file(&d, "one.txt", "Word"));
}

#[test]
fn zipf_text() {
    if !gpu_available() {
        return;
    }
    let d = Dir::new();
    assert_same_everywhere(&file(
        &d,
        "zipf.txt",
        ZipfText { words: 30_000, vocabulary: 5_000, ..ZipfText::default() }.to_text(),
    ));
}

#[test]
fn many_small_files() {
    if !gpu_available() {
        return;
    }
    let d = Dir::new();
    let inputs: Vec<Input> = (0..300)
        .map(|i| {
            Input::Path(
                d.write(&format!("f/{i:03}.txt"), ZipfText { words: 20, seed: i, ..ZipfText::default() }.to_text()),
            )
        })
        .collect();
    assert_same_everywhere(&inputs);
}

#[test]
fn long_words_on_the_gpu_and_past_its_limits() {
    if !gpu_available() {
        return;
    }
    let d = Dir::new();
    let opts = options(Mode::Words, false, 1 << 16, 2);
    // 60 KB: on the device (15,000-word compare and copy loops).
    let long = "é".repeat(30_000);
    let inputs = file(&d, "long.txt", format!("{long} a {long} b"));
    let got = gpu(&inputs, &opts, GpuOptions::default());
    assert_eq!(short(&rows(&got.table)), short(&[(long.clone(), 2), ("a".into(), 1), ("b".into(), 1)]));
    assert!(got.notes[0].contains(" 0 oversized tokens"), "{:?}", got.notes);
    // 1 MB: past the per-token limit, so the host counts it.
    let big = "é".repeat(500_000) + "x";
    let inputs = file(&d, "big.txt", format!("{big} a {big} b"));
    let expected = vec![(big.clone(), 2), ("a".into(), 1), ("b".into(), 1)];
    let got = gpu(&inputs, &opts, GpuOptions::default());
    assert_eq!(short(&rows(&got.table)), short(&expected));
    assert!(got.notes[0].contains("2 oversized tokens"), "{:?}", got.notes);
    // With 64 KiB bindings, the 60 KB words go to the host too.
    let small = GpuOptions { max_binding_override: Some(32 << 10), ..GpuOptions::default() };
    let inputs = file(&d, "long.txt", format!("{long} a {long} b"));
    let past = gpu(&inputs, &opts, small);
    assert_eq!(short(&rows(&past.table)), short(&[(long.clone(), 2), ("a".into(), 1), ("b".into(), 1)]));
    assert!(past.notes[0].contains("2 oversized tokens"), "{:?}", past.notes);
}

#[test]
fn a_million_distinct_words() {
    if !gpu_available() {
        return;
    }
    let d = Dir::new();
    let text: String = (0..1_000_000u32).map(|i| format!("w{i:x} ")).collect();
    let inputs = file(&d, "distinct.txt", text);
    let opts = options(Mode::Words, false, 1 << 20, 2);
    let got = gpu(&inputs, &opts, GpuOptions::default());
    assert_eq!(got.table.len(), 1_000_000);
    assert_eq!(got.table.total(), 1_000_000);
    assert_eq!(rows(&got.table), rows(&cpu(&inputs, &opts).table));
}

#[test]
fn collisions_on_the_gpu_never_merge_counts() {
    if !gpu_available() {
        return;
    }
    let d = Dir::new();
    let text = ZipfText { words: 20_000, vocabulary: 2_000, ..ZipfText::default() }.to_text();
    let inputs = file(&d, "z.txt", &text);
    let mut opts = options(Mode::Words, false, 1 << 14, 2);
    opts.hash = KeyHash::WeakForTesting { bits: 4 };
    let expected = reference_rows(&reference(&text, Mode::Words, false));
    // Long probe chains of equal keys on the device, then spills to the host.
    for max_probes in [4096, 8, 1] {
        let g = GpuOptions { max_probes, ..GpuOptions::default() };
        let got = gpu(&inputs, &opts, g);
        assert_eq!(rows(&got.table), expected, "max_probes={max_probes}");
        assert!(got.table.collisions() > 0);
    }
}

#[test]
fn tiny_tables_flush_and_spill_without_losing_counts() {
    if !gpu_available() {
        return;
    }
    let d = Dir::new();
    let text = ZipfText { words: 5_000, vocabulary: 1_000, ..ZipfText::default() }.to_text();
    let inputs = file(&d, "z.txt", &text);
    let opts = options(Mode::Words, false, 512, 2);
    let expected = reference_rows(&reference(&text, Mode::Words, false));
    // A full 4-slot table forces spills; batches larger than the table too.
    let spilling = GpuOptions { initial_slots: 4, max_slots: Some(4), max_load: 1.0, max_batch_tokens: 64, ..tiny() };
    let got = gpu(&inputs, &opts, spilling);
    assert_eq!(rows(&got.table), expected);
    assert!(!got.notes[0].contains(" 0 tokens spilled"), "spills expected: {:?}", got.notes);
    // An 8-byte arena forces a flush for nearly every batch.
    let flushing = GpuOptions { initial_arena_bytes: 8, ..tiny() };
    assert_eq!(rows(&gpu(&inputs, &opts, flushing).table), expected);
}

#[test]
fn a_table_grows_before_a_batch_of_new_keys_can_fill_it() {
    if !gpu_available() {
        return;
    }
    // Thousands of distinct words reach a 64-slot table in large batches: a
    // table sized only by what it holds fills within one dispatch, and the
    // rest of that batch spills to the host after probing every slot.
    let d = Dir::new();
    let text = ZipfText { words: 40_000, vocabulary: 8_000, ..ZipfText::default() }.to_text();
    let inputs = file(&d, "z.txt", &text);
    let opts = options(Mode::Words, false, 1 << 16, 2);
    let expected = reference_rows(&reference(&text, Mode::Words, false));
    let growing = GpuOptions { initial_slots: 64, ..GpuOptions::default() };
    let got = gpu(&inputs, &opts, growing.clone());
    assert_eq!(rows(&got.table), expected);
    let note = &got.notes[0];
    assert!(note.contains(" 0 tokens spilled"), "no spills expected: {note}");
    // It grew on the device (rehash.wgsl): the only flush is the last one.
    assert!(note.contains(" 1 flushes, ") && !note.contains(" 0 grown in place"), "{note}");
    // Where a moved slot finds no room, the table is flushed to the host
    // and regrown empty instead, and every count still holds.
    let got = gpu(&inputs, &opts, GpuOptions { fault: Some(Fault::NoRoomToGrow), ..growing });
    assert_eq!(rows(&got.table), expected);
    let note = &got.notes[0];
    assert!(note.contains(" 0 grown in place") && !note.contains(" 1 flushes, "), "{note}");
}

#[test]
fn cli_output_is_byte_identical_in_every_format() {
    if !gpu_available() {
        return;
    }
    // The shipped sample, and a generated text with a large vocabulary.
    let data: PathBuf = concat!(env!("CARGO_MANIFEST_DIR"), "/data/sample").into();
    let d = Dir::new();
    let zipf = d.write("zipf.txt", ZipfText { words: 100_000, ..Default::default() }.to_text());
    let run = |backend: &str, format: &str| {
        gpucount()
            .arg(&data)
            .arg(&zipf)
            .args(["--backend", backend, "--format", format])
            .assert()
            .success()
            .get_output()
            .stdout
            .clone()
    };
    for format in ["tsv", "csv", "table"] {
        assert_eq!(run("gpu", format), run("cpu", format), "{format}");
    }
    // JSON and JSON Lines differ only in the backend their summary names.
    let without_backend = |backend: &str, mut summary: serde_json::Value| {
        let summary = summary.as_object_mut().unwrap();
        assert_eq!(summary["backend"], backend);
        assert_eq!(summary.contains_key("adapter"), backend == "gpu");
        for key in ["backend", "reason", "adapter"] {
            summary.remove(key);
        }
        serde_json::Value::Object(summary.clone())
    };
    let json = |backend: &str| {
        let mut v: serde_json::Value = serde_json::from_slice(&run(backend, "json")).unwrap();
        v["summary"] = without_backend(backend, v["summary"].take());
        v
    };
    assert_eq!(json("gpu"), json("cpu"));
    let jsonl = |backend: &str| {
        let out = run(backend, "jsonl");
        let mut lines: Vec<serde_json::Value> =
            std::str::from_utf8(&out).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
        let last = lines.last_mut().unwrap();
        last["summary"] = without_backend(backend, last["summary"].take());
        lines
    };
    assert_eq!(jsonl("gpu"), jsonl("cpu"));
}

#[test]
fn gpu_runs_quietly_and_says_what_ran() {
    if !gpu_available() {
        return;
    }
    // Whatever the test environment sets, the binary must quiet the driver itself.
    let quiet = |mut c: assert_cmd::Command| {
        c.env_remove("NODEVICE_SELECT").env_remove("MESA_VK_IGNORE_CONFORMANCE_WARNING");
        c
    };
    quiet(gpucount())
        .args(["--backend", "gpu"])
        .write_stdin("a b a")
        .assert()
        .success()
        .stdout("a\t2\nb\t1\n")
        .stderr("");
    gpucount()
        .args(["--backend", "gpu", "--stats"])
        .write_stdin("a b a")
        .assert()
        .success()
        .stderr(predicate::str::contains("backend:  gpu:").and(predicate::str::contains("chosen with --backend gpu")));
    quiet(gpucount())
        .args(["devices"])
        .assert()
        .success()
        .stdout(predicate::str::contains("max storage binding"))
        .stderr("");
}

#[test]
fn gpu_faults_fail_clearly_and_auto_never_prints_wrong_counts() {
    if !gpu_available() {
        return;
    }
    let d = Dir::new();
    let f = d.write("z.txt", ZipfText { words: 20_000, ..ZipfText::default() }.to_text());
    for fault in ["lose-device-after:1", "oversized-allocation"] {
        gpucount()
            .arg(&f)
            .args(["--backend", "gpu", "--chunk-bytes", "4096", "--gpu-dispatch-tokens", "1", "--gpu-fault", fault])
            .assert()
            .code(1)
            .stdout("")
            .stderr(predicate::str::starts_with("gpucount: GPU failure:"));
    }
}

/// `text` in `label`'s encoding (`auto` writes UTF-8).
fn encode(text: &str, label: &str) -> Vec<u8> {
    match label {
        "utf-16le" => text.encode_utf16().flat_map(u16::to_le_bytes).collect(),
        "auto" | "utf-8" => text.as_bytes().to_vec(),
        _ => encoding_rs::Encoding::for_label(label.as_bytes()).unwrap().encode(text).0.into_owned(),
    }
}

fn encodings() -> impl Strategy<Value = &'static str> {
    prop::sample::select(vec!["auto", "utf-8", "windows-1252", "utf-16le"])
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    #[test]
    fn gpu_equals_cpu_on_random_text(text in tricky_text(), mode in prop_oneof![Just(Mode::Words), Just(Mode::Whitespace)], keep_case: bool, label in encodings()) {
        if !gpu_available() {
            return Ok(());
        }
        let d = Dir::new();
        let inputs = file(&d, "t.txt", encode(&text, label));
        let mut opts = options(mode, keep_case, 16, 2);
        opts.encoding = gpucount::decode::EncodingChoice::parse(label).unwrap();
        prop_assert_eq!(rows(&gpu(&inputs, &opts, tiny()).table), rows(&cpu(&inputs, &opts).table));
    }

    #[test]
    fn gpu_equals_cpu_on_random_bytes(bytes in prop::collection::vec(any::<u8>(), 0..400), mode in prop_oneof![Just(Mode::Words), Just(Mode::Whitespace)]) {
        if !gpu_available() {
            return Ok(());
        }
        let d = Dir::new();
        let inputs = file(&d, "b.bin", &bytes);
        let opts = options(mode, false, 32, 2);
        let expected = reference_rows(&gpucount::count::naive::count(&gpucount::count::naive::decode_auto(&bytes), &opts.tokenizer));
        prop_assert_eq!(rows(&gpu(&inputs, &opts, tiny()).table), expected.clone());
        prop_assert_eq!(rows(&cpu(&inputs, &opts).table), expected);
    }
}

/// n-grams, stopwords and lengths alone and combined: the GPU counts the
/// same keys as the CPU, with default and tiny tables, at tiny chunk sizes.
#[test]
fn gpu_counts_the_same_ngrams_and_filtered_tokens() {
    use gpucount::keys::{Filter, Form, Grams, Within};
    use std::sync::Arc;
    if !gpu_available() {
        return;
    }
    let text = ZipfText { words: 20_000, vocabulary: 500, seed: 7, ..ZipfText::default() }.to_text();
    let d = Dir::new();
    let inputs = vec![
        Input::Path(d.write("a.txt", &text)),
        Input::text("b", "the cat and the dog\nthe end e\u{301}cole école ÉCOLE ﬁn ﬁn. Mr. Dog ran! He sat."),
    ];
    let words = ["the", "and", "w1", "w2"].map(String::from);
    let stop = Filter::with_stopwords(&gpucount::Tokenizer::default(), &words);
    let lengths = Filter { min_chars: 3, max_chars: Some(5), ..Filter::default() };
    let both = Filter { min_chars: 3, ..stop.clone() };
    let grams = |min, max, within| Grams { min, max, within };
    let words = Mode::Words;
    let pattern = Mode::Pattern(gpucount::tokenize::TokenPattern::new(r"(?u)\b\w\w+\b").unwrap());
    let cases = [
        (grams(2, 2, Within::Document), None, words.clone()),
        (grams(1, 3, Within::Document), None, words.clone()),
        (grams(1, 3, Within::Line), None, words.clone()),
        (grams(1, 3, Within::Sentence), None, words.clone()),
        (grams(1, 1, Within::Document), Some(stop.clone()), words.clone()),
        (grams(1, 1, Within::Document), Some(lengths), words.clone()),
        (grams(2, 3, Within::Line), Some(both), words.clone()),
        (
            grams(1, 2, Within::Document),
            Some(Filter { form: Some(Form::Nfkc), strip_accents: true, ..stop.clone() }),
            words,
        ),
        (grams(1, 2, Within::Sentence), Some(stop.clone()), pattern),
    ];
    for (g, filter, mode) in cases {
        let opts = Options { grams: g, filter: filter.clone().map(Arc::new), ..options(mode, false, 64, 2) };
        let expected = rows(&cpu(&inputs, &opts).table);
        assert!(!expected.is_empty());
        for gpu_opts in [GpuOptions::default(), tiny()] {
            let got = rows(&gpu(&inputs, &opts, gpu_opts).table);
            assert_eq!(short(&got), short(&expected), "{g:?} {filter:?}");
        }
    }
}

#[test]
fn bench_calibrates_the_adapter_it_ran_and_auto_reads_it() {
    if !gpu_available() {
        return;
    }
    let d = Dir::new();
    let f = d.write("z.txt", ZipfText { words: 5_000, ..ZipfText::default() }.to_text());
    let file = d.path().join("config/calibration.json");
    let out = gpucount()
        .env("GPUCOUNT_CALIBRATION", &file)
        .args(["bench", "--runs", "1", "--calibrate"])
        .arg(&f)
        .assert()
        .success()
        .stderr(predicate::str::contains("bench: calibration saved to"));
    let said = String::from_utf8_lossy(&out.get_output().stderr).to_string();
    let saved: serde_json::Value = serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap();
    let entry = &saved["adapters"][0];
    assert_eq!(saved["version"], 1);
    assert_eq!(entry["bytes"].as_u64(), Some(std::fs::metadata(&f).unwrap().len()));
    assert!(entry["gpu_mb_per_s"].as_f64().unwrap() > 0.0 && entry["cpu_mb_per_s"].as_f64().unwrap() > 0.0);
    assert!(said.contains(entry["adapter"].as_str().unwrap()), "{said}");
    // A second calibration of the same adapter replaces the first.
    gpucount()
        .env("GPUCOUNT_CALIBRATION", &file)
        .args(["bench", "--runs", "1", "--calibrate"])
        .arg(&f)
        .assert()
        .success();
    let saved: serde_json::Value = serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap();
    assert_eq!(saved["adapters"].as_array().unwrap().len(), 1);
    // Nothing to calibrate without the GPU.
    gpucount().args(["bench", "--calibrate", "--no-gpu"]).arg(&f).assert().code(2);
}

/// Text in which word `i` of `words` occurs exactly `i + 1` times, interleaved
/// so every small batch holds many words, and its hand-computed rows.
fn known_counts(words: u64) -> (String, Vec<(String, u64)>) {
    let mut text = String::new();
    for round in 0..words {
        for i in round..words {
            text.push_str(&format!("word{i} "));
        }
        text.push('\n');
    }
    let mut expected: Vec<(String, u64)> = (0..words).map(|i| (format!("word{i}"), i + 1)).collect();
    expected.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    (text, expected)
}

/// Many tiny batches queued and in flight at once, on a table that spills
/// and an arena that forces flushes, with and without colliding keys: the
/// counts equal the hand-computed ones and the CPU's at every depth. A batch
/// whose status were read from the wrong lane, a spill list overwritten by a
/// later batch, or an arena check that ignored batches in flight would lose,
/// double or misplace counts here.
#[test]
fn many_small_batches_in_flight_spill_and_flush_exactly() {
    if !gpu_available() {
        return;
    }
    let (text, expected) = known_counts(120);
    assert_eq!(expected.iter().map(|r| r.1).sum::<u64>(), 120 * 121 / 2);
    let d = Dir::new();
    let inputs = file(&d, "known.txt", &text);
    for hash in [KeyHash::default(), KeyHash::WeakForTesting { bits: 3 }] {
        let opts = Options { hash, ..options(Mode::Words, false, 64, 3) };
        assert_eq!(rows(&cpu(&inputs, &opts).table), expected, "cpu {hash:?}");
        for (in_flight, queue_batches) in [(1, 1), (2, 1), (3, 2), (5, 4)] {
            let base = GpuOptions { in_flight, queue_batches, max_batch_tokens: 5, min_dispatch_tokens: 3, ..tiny() };
            // 8 slots for 120 words: probe chains end, tokens spill to the host.
            let spilling =
                GpuOptions { initial_slots: 8, max_slots: Some(8), max_load: 1.0, max_probes: 4, ..base.clone() };
            // 16 bytes of arena: a flush nearly every batch, with others in flight.
            let flushing = GpuOptions { initial_arena_bytes: 16, ..base };
            for (name, g) in [("spilling", spilling), ("flushing", flushing)] {
                let got = gpu(&inputs, &opts, g);
                let label = format!("{name} in_flight={in_flight} queue={queue_batches} {hash:?}");
                assert_eq!(rows(&got.table), expected, "{label}");
                let note = &got.notes[0];
                let dispatches: u64 = note.split(' ').next().unwrap().parse().unwrap();
                assert!(dispatches >= 120 * 121 / 2 / 5, "{label}: {note}");
                if name == "spilling" {
                    assert!(!note.contains(" 0 tokens spilled"), "{label}: spills expected: {note}");
                } else {
                    assert!(!note.contains(" 1 flushes") && !note.contains(" 0 flushes"), "{label}: {note}");
                }
            }
        }
    }
}

/// A device lost mid-pipeline (batches queued and in flight, workers blocked
/// on a full queue) ends the run with the device's error, once, and never
/// hangs: the workers' sends fail when the device thread stops. Under `auto`
/// the CPU recount is exact.
#[test]
fn a_device_lost_mid_pipeline_fails_once_and_never_hangs() {
    if !gpu_available() {
        return;
    }
    use gpucount::count::gpu::Fault;
    use std::time::Duration;
    let (text, expected) = known_counts(150);
    let d = Dir::new();
    let inputs = file(&d, "known.txt", &text);
    for (after, in_flight, queue_batches) in [(0, 2, 1), (3, 2, 1), (10, 4, 1), (25, 1, 3)] {
        let g = GpuOptions {
            in_flight,
            queue_batches,
            min_dispatch_tokens: 1,
            max_batch_tokens: 4,
            fault: Some(Fault::LoseDeviceAfter(after)),
            ..GpuOptions::default()
        };
        let opts = on_gpu(&options(Mode::Words, false, 32, 3), g);
        let (tx, rx) = std::sync::mpsc::channel();
        let run_inputs = inputs.clone();
        std::thread::spawn(move || {
            let _ = tx.send(gpucount::pipeline::count(run_inputs, &opts).map(|o| rows(&o.table)));
        });
        let result = rx.recv_timeout(Duration::from_secs(120)).expect("the run hung after the device was lost");
        match result {
            Err(e) => assert_eq!(e.to_string(), "GPU failure: device lost (injected fault)", "after {after}"),
            Ok(rows) => panic!("after {after}: a lost device still gave {} rows", rows.len()),
        }
    }
    // The same through the command line: one line on stderr, nothing on
    // stdout; under auto, the CPU's exact counts and a warning.
    let f = d.write("known2.txt", &text);
    let args = ["--chunk-bytes", "64", "--gpu-dispatch-tokens", "1", "--gpu-fault", "lose-device-after:7", "-j", "3"];
    let out = gpucount()
        .arg(&f)
        .args(["--backend", "gpu"])
        .args(args)
        .timeout(Duration::from_secs(120))
        .assert()
        .code(1)
        .stdout("")
        .get_output()
        .clone();
    let err = String::from_utf8(out.stderr).unwrap();
    assert_eq!(err, "gpucount: GPU failure: device lost (injected fault)\n");
    let out = gpucount()
        .arg(&f)
        .args(["--auto-software"])
        .args(args)
        .timeout(Duration::from_secs(120))
        .assert()
        .success()
        .get_output()
        .clone();
    let mut want: Vec<(String, u64)> = expected;
    want.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    assert_eq!(crate::util::tsv(&out.stdout), want);
    assert!(String::from_utf8_lossy(&out.stderr).contains("counting on the CPU instead"));
}

/// Runs of long tokens: seven 5,000-word tokens pass a packed record's
/// 15-bit offset from its 256-token block's base, so dispatches must end
/// early there. A packing that wrapped the offset would misread tokens.
#[test]
fn runs_of_long_tokens_split_packed_dispatches_exactly() {
    if !gpu_available() {
        return;
    }
    let long = |k: usize| ((b'a' + k as u8) as char).to_string().repeat(20_000);
    let text: String = (0..40).map(|i| format!("{} s{} ", long(i % 5), i % 3)).collect();
    let expected = reference_rows(&reference(&text, Mode::Words, false));
    assert_eq!(expected.len(), 8);
    let d = Dir::new();
    let inputs = file(&d, "long.txt", &text);
    let opts = options(Mode::Words, false, 1 << 20, 2);
    assert_eq!(short(&rows(&cpu(&inputs, &opts).table)), short(&expected));
    for g in
        [GpuOptions::default(), GpuOptions { in_flight: 3, initial_arena_bytes: 64 << 10, ..GpuOptions::default() }]
    {
        let got = gpu(&inputs, &opts, g);
        assert_eq!(short(&rows(&got.table)), short(&expected));
        assert!(got.notes[0].contains(" 0 oversized tokens"), "{:?}", got.notes);
    }
}
