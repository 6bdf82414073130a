//! Hostile inputs and failing outputs: each gives a correct count or a
//! one-line error naming the input, the other inputs still counted, and never
//! a panic.

use crate::util::{Dir, cpu_output, gpu_available, gpucount, tsv};
use predicates::prelude::*;
use std::process::Stdio;

/// Asserts a run ended by itself (not by a signal) without a panic message.
fn no_crash(out: &std::process::Output) {
    assert!(out.status.code().is_some(), "killed by a signal: {:?}", out.status);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!err.contains("panicked"), "panic: {err}");
}

#[test]
fn directory_symlink_loop_is_reported_and_the_rest_counted() {
    let d = Dir::new();
    d.write("tree/a.txt", "alpha");
    d.write("tree/sub/b.txt", "beta");
    std::os::unix::fs::symlink("..", d.path().join("tree/sub/loop")).unwrap();
    let out = gpucount().arg(d.path().join("tree")).assert().code(2).get_output().clone();
    assert_eq!(tsv(&out.stdout), vec![("alpha".into(), 1), ("beta".into(), 1)]);
    let err = String::from_utf8(out.stderr).unwrap();
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.starts_with("gpucount: ") && err.contains("loop") && err.contains("filesystem loop"), "{err}");
}

#[test]
fn fifo_is_read_as_a_stream() {
    let d = Dir::new();
    let fifo = d.path().join("pipe");
    assert!(std::process::Command::new("mkfifo").arg(&fifo).status().unwrap().success());
    let writer = {
        let fifo = fifo.clone();
        std::thread::spawn(move || std::fs::write(fifo, "from a pipe, a pipe").unwrap())
    };
    gpucount().arg(&fifo).assert().success().stdout("a\t2\npipe\t2\nfrom\t1\n");
    writer.join().unwrap();
}

#[test]
fn file_truncated_or_growing_while_read_never_crashes() {
    let d = Dir::new();
    let text = "word ".repeat(4_000_000); // 20 MB
    for action in ["truncate", "grow"] {
        let f = d.write("moving.txt", &text);
        let child = std::process::Command::new(env!("CARGO_BIN_EXE_gpucount"))
            .arg(&f)
            .args(["--chunk-bytes", "65536"])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        std::thread::sleep(std::time::Duration::from_millis(5));
        let file = std::fs::OpenOptions::new().append(true).open(&f).unwrap();
        match action {
            "truncate" => file.set_len(1000).unwrap(),
            _ => {
                use std::io::Write;
                (&file).write_all("more ".repeat(100_000).as_bytes()).unwrap();
            }
        }
        let out = child.wait_with_output().unwrap();
        no_crash(&out);
        assert!(out.status.code() != Some(1), "{action}: {}", String::from_utf8_lossy(&out.stderr));
        let rows = tsv(&out.stdout);
        // Whatever was read is counted, and nothing else (a cut may leave a word's prefix).
        assert!(
            rows.iter().all(|(w, _)| "word".starts_with(w.as_str()) || "more".starts_with(w.as_str())),
            "{action}: {rows:?}"
        );
    }
}

#[test]
fn all_nul_file() {
    let d = Dir::new();
    let f = d.write("zeros.bin", vec![0u8; 1 << 20]);
    gpucount().arg(&f).assert().success().stdout("");
    let out = gpucount().arg(&f).args(["--tokenizer", "whitespace"]).assert().success().get_output().stdout.clone();
    assert_eq!(out.len(), (1 << 20) + 3, "one token of 1 MiB NULs, a tab, a count and a newline");
}

#[test]
fn binary_executable_counts_the_same_on_both_backends() {
    let exe = env!("CARGO_BIN_EXE_gpucount");
    let cpu = gpucount().arg(exe).args(["--backend", "cpu"]).output().unwrap();
    no_crash(&cpu);
    assert!(cpu.status.success() && !cpu.stdout.is_empty());
    if gpu_available() {
        let gpu = gpucount().arg(exe).args(["--backend", "gpu"]).output().unwrap();
        no_crash(&gpu);
        assert_eq!(gpu.stdout, cpu.stdout);
    }
}

#[test]
fn hundred_megabyte_token_with_no_separator() {
    let d = Dir::new();
    let f = d.write("one.txt", "A".repeat(100 << 20));
    let mut backends = vec!["cpu"];
    if gpu_available() {
        backends.push("gpu");
    }
    for backend in backends {
        let out = gpucount().arg(&f).args(["--backend", backend]).output().unwrap();
        no_crash(&out);
        assert!(out.status.success(), "{backend}: {}", String::from_utf8_lossy(&out.stderr));
        assert_eq!(
            out.stdout.len(),
            (100 << 20) + 3,
            "{backend}: {:?}",
            String::from_utf8_lossy(&out.stdout[..out.stdout.len().min(200)])
        );
        assert!(out.stdout.starts_with(b"aaaa") && out.stdout.ends_with(b"a\t1\n"), "{backend}");
    }
}

#[test]
fn invalid_utf8_under_explicit_utf8_is_reported_and_counted_as_replacement() {
    let d = Dir::new();
    let f = d.write("bad.txt", b"good \xff\xfe word");
    let ok = d.write("ok.txt", "good");
    gpucount()
        .arg(&f)
        .arg(&ok)
        .args(["--encoding", "utf-8"])
        .assert()
        .code(2)
        .stdout("good\t2\nword\t1\n")
        .stderr(format!("gpucount: {}: malformed UTF-8 at byte 5; such bytes were counted as U+FFFD\n", f.display()));
}

#[test]
fn empty_file_and_empty_stdin() {
    let d = Dir::new();
    let f = d.write("empty.txt", "");
    gpucount().arg(&f).assert().success().stdout("");
    gpucount().write_stdin("").assert().success().stdout("");
    gpucount().arg(&f).args(["--format", "csv"]).assert().success().stdout("word,count\n");
}

#[test]
fn hundred_thousand_small_files_with_few_descriptors() {
    let d = Dir::new();
    for i in 0..100_000u32 {
        let dir = d.path().join(format!("{:03}", i % 1000));
        if i < 1000 {
            std::fs::create_dir(&dir).unwrap();
        }
        std::fs::write(dir.join(format!("{i}.txt")), if i % 2 == 0 { "even" } else { "odd one" }).unwrap();
    }
    // 64 descriptors: files must be closed as they are read.
    let out = std::process::Command::new("sh")
        .arg("-c")
        .arg(format!("ulimit -n 64 && '{}' '{}' --format json", env!("CARGO_BIN_EXE_gpucount"), d.path().display()))
        .output()
        .unwrap();
    no_crash(&out);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["summary"]["files"], 100_000);
    assert_eq!(
        v["words"],
        serde_json::json!([{"word": "even", "count": 50000}, {"word": "odd", "count": 50000}, {"word": "one", "count": 50000}])
    );
}

#[test]
fn write_errors_are_reported() {
    let d = Dir::new();
    let f = d.write("a.txt", "a b c");
    gpucount()
        .arg(&f)
        .args(["-o", "/dev/full"])
        .assert()
        .code(1)
        .stderr("gpucount: /dev/full: No space left on device (os error 28)\n");
    let out = std::process::Command::new("sh")
        .arg("-c")
        .arg(format!("'{}' '{}' > /dev/full", env!("CARGO_BIN_EXE_gpucount"), f.display()))
        .output()
        .unwrap();
    no_crash(&out);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("No space left on device"));
    let nowhere = d.path().join("no/such/dir/out.tsv");
    gpucount().arg(&f).arg("-o").arg(&nowhere).assert().code(1).stderr(predicate::str::contains("out.tsv"));
}

#[test]
fn killed_run_leaves_no_partial_output() {
    let d = Dir::new();
    let f = d.write("big.txt", "word ".repeat(10_000_000));
    let out = d.path().join("out.tsv");
    let mut child =
        std::process::Command::new(env!("CARGO_BIN_EXE_gpucount")).arg(&f).arg("-o").arg(&out).spawn().unwrap();
    std::thread::sleep(std::time::Duration::from_millis(30));
    child.kill().unwrap();
    child.wait().unwrap();
    // Either the run finished (whole file) or nothing carries the final name.
    match std::fs::read_to_string(&out) {
        Ok(s) => assert_eq!(s, "word\t10000000\n"),
        Err(e) => assert_eq!(e.kind(), std::io::ErrorKind::NotFound),
    }
}

#[test]
fn no_adapter_gpu_fails_clearly_and_auto_uses_the_cpu() {
    let d = Dir::new();
    let f = d.write("a.txt", "x y x");
    let no_driver = |mut c: assert_cmd::Command| {
        c.env("VK_ICD_FILENAMES", "/nonexistent/icd.json").env("VK_DRIVER_FILES", "/nonexistent/icd.json");
        c
    };
    no_driver(gpucount()).arg(&f).args(["--backend", "gpu"]).assert().code(1).stdout("").stderr(
        predicate::str::contains("mesa-vulkan-drivers").and(predicate::function(|s: &str| s.lines().count() == 1)),
    );
    no_driver(gpucount()).arg(&f).args(["--auto-software"]).assert().success().stdout("x\t2\ny\t1\n");
    no_driver(gpucount()).args(["devices"]).assert().success().stdout(predicate::str::contains("gpu: none found"));
}

#[test]
fn auto_falls_back_to_the_cpu_when_the_gpu_fails() {
    if !gpu_available() {
        return;
    }
    let d = Dir::new();
    let f = d.write("z.txt", gpucount::sample::ZipfText { words: 20_000, ..Default::default() }.to_text());
    let expected = cpu_output(&f);
    for fault in ["lose-device-after:1", "oversized-allocation"] {
        gpucount()
            .arg(&f)
            .args(["--auto-software", "--chunk-bytes", "4096", "--gpu-dispatch-tokens", "1", "--gpu-fault", fault])
            .assert()
            .success()
            .stdout(expected.clone())
            .stderr(
                predicate::str::contains("GPU failure").and(predicate::str::contains("counting on the CPU instead")),
            );
    }
}

#[test]
fn smaller_adapter_limits_still_count_exactly() {
    if !gpu_available() {
        return;
    }
    let d = Dir::new();
    let f = d.write("z.txt", gpucount::sample::ZipfText { words: 50_000, ..Default::default() }.to_text());
    let expected = cpu_output(&f);
    for binding in ["4096", "65536"] {
        gpucount()
            .arg(&f)
            .args(["--backend", "gpu", "--gpu-max-binding", binding])
            .assert()
            .success()
            .stdout(expected.clone());
    }
}

#[test]
fn a_token_past_the_limit_ends_its_input_with_an_error() {
    let d = Dir::new();
    let f = d.write("giant.txt", format!("before {} after", "x".repeat(50_000)));
    let ok = d.write("ok.txt", "other");
    let out = gpucount()
        .arg(&f)
        .arg(&ok)
        .args(["--max-token-bytes", "10000", "--chunk-bytes", "1000"])
        .assert()
        .code(2)
        .stdout("before\t1\nother\t1\n")
        .get_output()
        .clone();
    let err = String::from_utf8(out.stderr).unwrap();
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.starts_with(&format!("gpucount: {}: more than 10000 bytes without a separator", f.display())), "{err}");
}
