//! Round two of hostile use: results never lost to a failing stderr, pipes
//! that end quietly in every format, `-o` as users know it, values checked
//! once with one line, names printed safely.

use crate::util::{Dir, gpucount, tsv};
use predicates::prelude::*;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_gpucount");

/// Runs `script` in bash with `$G` set to the binary.
fn bash(script: &str) -> std::process::Output {
    Command::new("bash").arg("-c").arg(script).env("G", BIN).output().unwrap()
}

fn no_panic(out: &std::process::Output) {
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!err.contains("panicked"), "panic: {err}");
}

#[test]
fn a_full_stderr_never_costs_the_results() {
    let d = Dir::new();
    let small = d.write("small.txt", "kept words kept");
    let out = bash(&format!("\"$G\" '{}' '{}' 2>/dev/full", d.path().join("missing.txt").display(), small.display()));
    no_panic(&out);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(out.stdout, b"kept\t2\nwords\t1\n");
}

#[test]
fn a_closed_stderr_pipe_never_costs_the_output_file() {
    let d = Dir::new();
    for i in 0..3000 {
        d.write(&format!("bad/{i:04}.txt"), b"good \xff word");
    }
    let res = d.path().join("res.tsv");
    let out = bash(&format!(
        "\"$G\" --encoding utf-8 -o '{}' '{}' 2>&1 | head -3 >/dev/null; echo ${{PIPESTATUS[0]}}",
        res.display(),
        d.path().join("bad").display()
    ));
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "2", "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(std::fs::read_to_string(&res).unwrap(), "good\t3000\nword\t3000\n");
}

#[test]
fn a_closed_stdout_ends_every_format_quietly() {
    let d = Dir::new();
    let text: String = (0..200_000).map(|i| format!("w{i} ")).collect();
    let f = d.write("big.txt", text);
    for format in ["tsv", "csv", "json", "jsonl", "table"] {
        for target in ["", "-o /dev/stdout", "-o -"] {
            let out = bash(&format!(
                "\"$G\" --format {format} {target} '{}' | head -1 >/dev/null; echo ${{PIPESTATUS[0]}}",
                f.display()
            ));
            assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "0", "{format} {target}");
            assert_eq!(String::from_utf8_lossy(&out.stderr), "", "{format} {target}");
        }
    }
}

fn mode(p: &Path) -> u32 {
    std::fs::metadata(p).unwrap().permissions().mode() & 0o777
}

#[test]
fn output_files_get_the_usual_modes() {
    let d = Dir::new();
    let f = d.write("a.txt", "b a b");
    let new = d.path().join("new.tsv");
    let out = bash(&format!("umask 027; \"$G\" '{}' -o '{}'", f.display(), new.display()));
    assert!(out.status.success());
    assert_eq!(mode(&new), 0o640, "a new file gets 0666 less the umask");
    let old = d.write("old.tsv", "old");
    std::fs::set_permissions(&old, std::fs::Permissions::from_mode(0o604)).unwrap();
    gpucount().arg(&f).arg("-o").arg(&old).assert().success();
    assert_eq!(mode(&old), 0o604, "an existing file keeps its mode");
    assert_eq!(std::fs::read_to_string(&old).unwrap(), "b\t2\na\t1\n");
}

#[test]
fn output_through_a_link_replaces_its_target() {
    let d = Dir::new();
    let f = d.write("a.txt", "b a b");
    std::fs::create_dir(d.path().join("real")).unwrap();
    let target = d.write("real/counts.tsv", "old");
    let link = d.path().join("link.tsv");
    std::os::unix::fs::symlink("real/counts.tsv", &link).unwrap();
    gpucount().arg(&f).arg("-o").arg(&link).assert().success();
    assert!(std::fs::symlink_metadata(&link).unwrap().file_type().is_symlink(), "the link stays a link");
    assert_eq!(std::fs::read_to_string(&target).unwrap(), "b\t2\na\t1\n");
    // A dangling link: its target is created.
    let dangling = d.path().join("dangling.tsv");
    std::os::unix::fs::symlink("real/new.tsv", &dangling).unwrap();
    gpucount().arg(&f).arg("-o").arg(&dangling).assert().success();
    assert_eq!(std::fs::read_to_string(d.path().join("real/new.tsv")).unwrap(), "b\t2\na\t1\n");
}

#[test]
fn dash_is_stdout_and_errors_name_the_given_path() {
    let d = Dir::new();
    let f = d.write("a.txt", "b a b");
    gpucount().current_dir(d.path()).arg(&f).args(["-o", "-"]).assert().success().stdout("b\t2\na\t1\n");
    assert!(!d.path().join("-").exists(), "no file named -");
    let nowhere = d.path().join("no/such/dir/out.tsv");
    gpucount()
        .arg(&f)
        .arg("-o")
        .arg(&nowhere)
        .assert()
        .code(1)
        .stderr(format!("gpucount: {}: No such file or directory (os error 2)\n", nowhere.display()));
}

#[test]
fn a_signal_while_writing_leaves_no_temporary_file() {
    let d = Dir::new();
    let text: String = (0..3_000_000u32).map(|i| format!("w{i:x} ")).collect();
    let f = d.write("distinct.txt", text);
    let target = d.write("out/counts.json", "untouched");
    let out_dir = d.path().join("out");
    let temps = || -> Vec<String> {
        std::fs::read_dir(&out_dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n != "counts.json")
            .collect()
    };
    let mut child = Command::new(BIN).arg(&f).args(["--format", "json", "-o"]).arg(&target).spawn().unwrap();
    let started = std::time::Instant::now();
    while temps().is_empty() {
        assert!(child.try_wait().unwrap().is_none(), "the run ended before its temporary file was seen");
        assert!(started.elapsed().as_secs() < 60, "no temporary file appeared");
        std::thread::sleep(std::time::Duration::from_micros(200));
    }
    assert!(Command::new("kill").arg("-TERM").arg(child.id().to_string()).status().unwrap().success());
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(128 + 15));
    assert_eq!(temps(), Vec::<String>::new(), "the temporary file was left behind");
    assert_eq!(std::fs::read_to_string(&target).unwrap(), "untouched");
}

#[test]
fn bench_of_a_missing_input_fails() {
    gpucount()
        .args(["bench", "--no-gpu", "--runs", "1", "/nope"])
        .assert()
        .code(2)
        .stdout("")
        .stderr(predicate::str::contains("gpucount: /nope: No such file or directory"));
}

#[test]
fn bad_values_are_one_line_usage_errors() {
    let d = Dir::new();
    let f = d.write("a.txt", "a");
    let f = f.to_str().unwrap();
    let cases: &[&[&str]] = &[
        &["bench", "--runs", "0", f],
        &["generate", "--vocabulary", "0"],
        &["generate", "--exponent", "inf"],
        &["generate", "--exponent", "NaN"],
        &["--adapter", "0", "--backend", "cpu", f],
        &["--adapter", "99", f],
        &["--adapter", "no-such-gpu", "--backend", "gpu", f],
        &["--encoding", "iso-2022-kr", f],
        &["--encoding", "hz-gb-2312", f],
        &["--encoding", "replacement", f],
        &["--top", "0", f],
        &["--max-token-bytes", "0", f],
        &["--max-token-bytes", "2147483648", f],
    ];
    for args in cases {
        let out = gpucount().args(*args).timeout(std::time::Duration::from_secs(20)).output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert_eq!(err.lines().count(), 1, "{args:?}: {err}");
        assert!(err.starts_with("gpucount: "), "{args:?}: {err}");
        assert!(out.stdout.is_empty(), "{args:?}");
    }
}

#[test]
fn odd_names_print_on_one_line_and_whole_in_json() {
    use std::os::unix::ffi::OsStrExt;
    let d = Dir::new();
    let odd = "bad\nname\x1b[31m\t.txt";
    let f = d.write(odd, b"x \xff y");
    let raw = d.path().join(std::ffi::OsStr::from_bytes(b"raw\xff.txt"));
    std::fs::write(&raw, b"z \xfe").unwrap();
    let out = gpucount().arg(&f).arg(&raw).args(["--encoding", "utf-8", "--format", "json"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8(out.stderr).unwrap();
    assert_eq!(err.lines().count(), 2, "{err}");
    assert!(err.contains("bad\\nname\\x1b[31m\\t.txt: malformed UTF-8"), "{err}");
    assert!(err.contains("raw\\xFF.txt: malformed UTF-8"), "{err}");
    assert!(!err.contains('\x1b'), "no raw escape sequence reaches the terminal");
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let problems = v["summary"]["problems"].as_array().unwrap();
    assert_eq!(problems[0]["input"], f.to_str().unwrap());
    assert!(problems[0].get("input_bytes").is_none());
    let bytes: Vec<u8> =
        problems[1]["input_bytes"].as_array().unwrap().iter().map(|b| b.as_u64().unwrap() as u8).collect();
    assert_eq!(bytes, raw.as_os_str().as_bytes());
    // --stats names escaped too.
    let latin = d.write("latin\n1.txt", b"caf\xe9");
    let stats = gpucount().arg(&latin).arg("--stats").output().unwrap();
    let err = String::from_utf8(stats.stderr).unwrap();
    assert!(err.contains("latin\\n1.txt: windows-1252"), "{err}");
    assert_eq!(tsv(&stats.stdout), [("café".to_string(), 1)]);
}
