//! The command line as a user meets it.

use crate::util::{Dir, gpucount, tsv};
use predicates::prelude::*;

fn rows(v: &[(&str, u64)]) -> Vec<(String, u64)> {
    v.iter().map(|(w, n)| (w.to_string(), *n)).collect()
}

#[test]
fn tsv_orders_by_count_then_word_bytes() {
    let d = Dir::new();
    // Ties at 2: "b", "z", "é" (0xC3 0xA9 sorts after ASCII); ties at 1 likewise.
    let f = d.write("a.txt", "z b é a a a b z é Zeta zèta zeta");
    let out = gpucount().arg(&f).assert().success().get_output().stdout.clone();
    assert_eq!(tsv(&out), rows(&[("a", 3), ("b", 2), ("z", 2), ("zeta", 2), ("é", 2), ("zèta", 1)]));
}

#[test]
fn top_and_min_count() {
    let d = Dir::new();
    let f = d.write("a.txt", "a a a a b b b c c d");
    gpucount().arg(&f).args(["--top", "2"]).assert().success().stdout("a\t4\nb\t3\n");
    gpucount().arg(&f).args(["--min-count", "2"]).assert().success().stdout("a\t4\nb\t3\nc\t2\n");
    gpucount().arg(&f).args(["--min-count", "3", "--top", "1"]).assert().success().stdout("a\t4\n");
    // --top 0 is refused (leave --top out to print all).
    gpucount().arg(&f).args(["--top", "0"]).assert().code(2).stdout("");
}

#[test]
fn csv_has_header_and_rfc4180_quoting() {
    let d = Dir::new();
    let f = d.write("a.txt", "say\"hi\" a,b a,b plain");
    gpucount()
        .arg(&f)
        .args(["--tokenizer", "whitespace", "--format", "csv"])
        .assert()
        .success()
        .stdout("word,count\n\"a,b\",2\nplain,1\n\"say\"\"hi\"\"\",1\n");
}

#[test]
fn json_has_words_and_summary() {
    let d = Dir::new();
    let f = d.write("a.txt", "Hello hello world");
    let out = gpucount()
        .arg(&f)
        .args(["--format", "json", "--backend", "cpu"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(v["words"][0]["word"], "hello");
    assert_eq!(v["words"][0]["count"], 2);
    assert_eq!(v["words"][1]["word"], "world");
    assert_eq!(v["summary"]["files"], 1);
    assert_eq!(v["summary"]["bytes"], 17);
    assert_eq!(v["summary"]["tokens"], 3);
    assert_eq!(v["summary"]["distinct_words"], 2);
    assert_eq!(v["summary"]["backend"], "cpu");
    assert_eq!(v["summary"]["reason"], "chosen with --backend cpu");
}

#[test]
fn table_has_rank_count_share_word() {
    let d = Dir::new();
    let f = d.write("a.txt", "a a a b");
    gpucount()
        .arg(&f)
        .args(["--format", "table"])
        .assert()
        .success()
        .stdout("rank  count    share  word\n   1      3   75.00%  a\n   2      1   25.00%  b\n");
}

#[test]
fn stdin_with_no_operand_and_with_dash() {
    gpucount().write_stdin("x y x").assert().success().stdout("x\t2\ny\t1\n");
    let d = Dir::new();
    let f = d.write("f.txt", "y");
    gpucount().arg("-").arg(&f).write_stdin("x y x").assert().success().stdout("x\t2\ny\t2\n");
}

#[test]
fn directories_are_walked_recursively() {
    let d = Dir::new();
    d.write("top.txt", "one");
    d.write("sub/two.txt", "one two");
    d.write("sub/deeper/three.txt", "one two three");
    let out = gpucount().arg(d.path()).args(["--format", "json"]).assert().success().get_output().stdout.clone();
    let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(v["summary"]["files"], 3);
    gpucount().arg(d.path()).assert().success().stdout("one\t3\ntwo\t2\nthree\t1\n");
}

#[test]
fn windows_1252_is_detected_and_reported() {
    let d = Dir::new();
    // "Café déjà vu, café" in windows-1252, CRLF, no BOM.
    let f = d.write("old.txt", b"Caf\xe9 d\xe9j\xe0 vu,\r\ncaf\xe9 \x93quoted\x94\r\n");
    gpucount()
        .arg(&f)
        .arg("--stats")
        .assert()
        .success()
        .stdout("café\t2\ndéjà\t1\nquoted\t1\nvu\t1\n")
        .stderr(predicate::str::contains("windows-1252"));
}

#[test]
fn explicit_encoding_and_bom() {
    let d = Dir::new();
    let utf16: Vec<u8> =
        [0xFF, 0xFE].into_iter().chain("Ωμέγα ωμέγα".encode_utf16().flat_map(u16::to_le_bytes)).collect();
    let f = d.write("u16.txt", &utf16);
    gpucount().arg(&f).assert().success().stdout("ωμέγα\t2\n");
    let g = d.write("latin.txt", b"na\xefve");
    gpucount().arg(&g).args(["--encoding", "iso-8859-1"]).assert().success().stdout("naïve\t1\n");
    gpucount()
        .arg(&g)
        .args(["--encoding", "klingon"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("unknown encoding label 'klingon'"));
}

#[test]
fn missing_file_is_reported_and_others_counted() {
    let d = Dir::new();
    let good = d.write("good.txt", "alpha beta");
    let missing = d.path().join("missing.txt");
    gpucount()
        .arg(&missing)
        .arg(&good)
        .assert()
        .code(2)
        .stdout("alpha\t1\nbeta\t1\n")
        .stderr(format!("gpucount: {}: No such file or directory (os error 2)\n", missing.display()));
}

#[test]
fn unreadable_file_is_reported_and_others_counted() {
    let d = Dir::new();
    let good = d.write("good.txt", "alpha beta");
    // Root reads files whatever their mode; /proc/self/mem opens but fails on read for anyone.
    let unreadable = std::path::PathBuf::from("/proc/self/mem");
    gpucount()
        .arg(&unreadable)
        .arg(&good)
        .assert()
        .code(2)
        .stdout("alpha\t1\nbeta\t1\n")
        .stderr(predicate::str::starts_with("gpucount: /proc/self/mem: ").and(predicate::str::contains("error")));
}

#[test]
fn permission_denied_file_is_reported_when_not_root() {
    use std::os::unix::fs::PermissionsExt;
    let d = Dir::new();
    let good = d.write("good.txt", "alpha");
    let locked = d.write("locked.txt", "secret");
    std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o000)).unwrap();
    if std::fs::read(&locked).is_ok() {
        eprintln!("running as root: mode 000 does not stop reads; /proc/self/mem covers this case");
        return;
    }
    gpucount()
        .arg(&locked)
        .arg(&good)
        .assert()
        .code(2)
        .stdout("alpha\t1\n")
        .stderr(predicate::str::contains("locked.txt: Permission denied"));
}

#[test]
fn broken_pipe_exits_quietly() {
    let d = Dir::new();
    let text: String = (0..200_000).map(|i| format!("w{i} ")).collect();
    let f = d.write("big.txt", text);
    let out = std::process::Command::new("sh")
        .arg("-c")
        .arg(format!("'{}' '{}' | head -1", env!("CARGO_BIN_EXE_gpucount"), f.display()))
        .output()
        .unwrap();
    assert!(out.status.success());
    assert_eq!(out.stdout.iter().filter(|&&b| b == b'\n').count(), 1);
    assert_eq!(String::from_utf8_lossy(&out.stderr), "", "no panic or error on a closed pipe");
}

#[test]
fn output_file_is_written_whole() {
    let d = Dir::new();
    let f = d.write("a.txt", "b a b");
    let out = d.path().join("counts.tsv");
    gpucount().arg(&f).arg("-o").arg(&out).assert().success().stdout("");
    assert_eq!(std::fs::read_to_string(&out).unwrap(), "b\t2\na\t1\n");
}

#[test]
fn usage_errors_exit_2() {
    gpucount().arg("--no-such-flag").assert().code(2).stderr(predicate::str::contains("unexpected argument"));
    gpucount().args(["--format", "xml"]).assert().code(2);
}

#[test]
fn keep_case_and_whitespace_tokenizer() {
    gpucount().args(["--keep-case"]).write_stdin("The the THE").assert().success().stdout("THE\t1\nThe\t1\nthe\t1\n");
    gpucount()
        .args(["--tokenizer", "whitespace"])
        .write_stdin("it's it's, x_y")
        .assert()
        .success()
        .stdout("it's\t1\nit's,\t1\nx_y\t1\n");
}

#[test]
fn stats_go_to_stderr() {
    gpucount()
        .args(["--stats", "--backend", "cpu"])
        .write_stdin("a b")
        .assert()
        .success()
        .stdout("a\t1\nb\t1\n")
        .stderr(predicate::str::contains("tokenize+hash").and(predicate::str::contains("backend:  cpu")));
}

#[test]
fn shipped_sample_counts() {
    let data = concat!(env!("CARGO_MANIFEST_DIR"), "/data/sample");
    let out =
        gpucount().arg(data).args(["--format", "json", "--top", "3"]).assert().success().get_output().stdout.clone();
    let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
    // Four text files and the two pages of latin-pages.tar.gz.
    assert_eq!(v["summary"]["files"], 6);
    // The English essay leads, as English leads any count of English.
    let words: Vec<&str> = v["words"].as_array().unwrap().iter().map(|r| r["word"].as_str().unwrap()).collect();
    assert_eq!(words, ["the", "of", "and"]);
    // The French story on its own: French's most frequent words.
    let french = concat!(env!("CARGO_MANIFEST_DIR"), "/data/sample/french-story.txt");
    gpucount().arg(french).args(["-n", "3"]).assert().success().stdout("de\t65\nle\t62\nles\t55\n");
}

#[test]
fn output_to_a_fifo_writes_in_place() {
    let d = Dir::new();
    let f = d.write("a.txt", "b a b");
    let fifo = d.path().join("fifo");
    assert!(std::process::Command::new("mkfifo").arg(&fifo).status().unwrap().success());
    let reader = {
        let fifo = fifo.clone();
        std::thread::spawn(move || std::fs::read_to_string(fifo).unwrap())
    };
    gpucount().arg(&f).arg("-o").arg(&fifo).assert().success();
    assert_eq!(reader.join().unwrap(), "b\t2\na\t1\n");
    use std::os::unix::fs::FileTypeExt;
    assert!(std::fs::metadata(&fifo).unwrap().file_type().is_fifo(), "a special file must never be replaced");
}

#[test]
fn bench_times_each_configuration_and_checks_outputs() {
    let d = Dir::new();
    let f = d.write("z.txt", gpucount::sample::ZipfText { words: 20_000, ..Default::default() }.to_text());
    let out = gpucount()
        .args(["bench", "--runs", "2", "--no-gpu", "--format", "json", "--threads", "2"])
        .arg(&f)
        .assert()
        .success()
        // Progress is for a terminal (see machine::bench_progress_only_on_a_terminal).
        .stderr("")
        .get_output()
        .stdout
        .clone();
    let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(v["identical"], true);
    assert_eq!(v["tokens"], 20_000);
    let rows = v["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0]["threads"], 1);
    assert_eq!(rows[0]["speedup"], 1.0);
    assert_eq!(rows[1]["threads"], 2);
    assert_eq!(rows[1]["runs_s"].as_array().unwrap().len(), 2);
    gpucount().args(["bench", "-"]).assert().code(2).stderr(predicate::str::contains("cannot re-read stdin"));
}
