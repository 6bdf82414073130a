//! Directory walks as ripgrep walks: hidden files and ignore files
//! honoured, binaries and special files skipped (and counted in `--stats`),
//! globs choosing files; a path named on the command line is always read.

use crate::util::{Dir, gpucount, tsv};
use predicates::prelude::*;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// A tree with one of everything a walk must decide about.
fn tree() -> Dir {
    let d = Dir::new();
    d.write("visible.txt", "visible words");
    d.write("sub/deeper.txt", "deeper words");
    d.write(".hidden.txt", "hidden");
    d.write(".git/objects/ab/cdef", "gitobject");
    d.write(".gitignore", "ignored.txt\n");
    d.write("ignored.txt", "ignoredword");
    let mut png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec();
    png.extend_from_slice(b" pngword ");
    d.write("image.png", png);
    d.write("records.dat", b"nulword\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0".repeat(20));
    assert!(Command::new("mkfifo").arg(d.path().join("pipe")).status().unwrap().success());
    std::os::unix::fs::symlink("/dev/zero", d.path().join("zeros")).unwrap();
    d
}

/// Runs gpucount with a deadline (a FIFO or /dev/zero read by mistake never ends).
fn run(args: &[&std::ffi::OsStr]) -> std::process::Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_gpucount"))
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let start = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if start.elapsed() > Duration::from_secs(30) {
            child.kill().unwrap();
            panic!("gpucount {args:?} hung: a FIFO or device was read from a walk");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    child.wait_with_output().unwrap()
}

fn words(out: &std::process::Output) -> Vec<String> {
    let mut w: Vec<String> = tsv(&out.stdout).into_iter().map(|(w, _)| w).collect();
    w.sort();
    w
}

#[test]
fn defaults_skip_hidden_ignored_binary_and_special_files() {
    let d = tree();
    let out = run(&[d.path().as_os_str(), "--stats".as_ref()]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(words(&out), ["deeper", "visible", "words"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("inputs:   2 read, 0 with problems"), "{err}");
    assert!(err.contains("skipped:  2 binary files (--binary counts them), 2 FIFOs, sockets or devices"), "{err}");
}

#[test]
fn flags_bring_each_kind_back() {
    let d = tree();
    let p = d.path().as_os_str();
    let hidden = run(&[p, "--hidden".as_ref()]);
    assert!(words(&hidden).contains(&"hidden".to_string()), "{:?}", words(&hidden));
    assert!(!words(&hidden).contains(&"ignoredword".to_string()));
    let no_ignore = run(&[p, "--no-ignore".as_ref()]);
    assert_eq!(words(&no_ignore), ["deeper", "ignoredword", "visible", "words"]);
    let binary = run(&[p, "--binary".as_ref()]);
    let got = words(&binary);
    assert!(got.contains(&"pngword".to_string()) && got.contains(&"nulword".to_string()), "{got:?}");
    assert_eq!(binary.status.code(), Some(0));
}

#[test]
fn globs_choose_walked_files() {
    let d = tree();
    d.write("notes.md", "markdown");
    let p = d.path().as_os_str();
    assert_eq!(words(&run(&[p, "--glob".as_ref(), "*.md".as_ref()])), ["markdown"]);
    assert_eq!(words(&run(&[p, "--exclude".as_ref(), "sub/".as_ref()])), ["markdown", "visible", "words"]);
    assert_eq!(
        words(&run(&[p, "-g".as_ref(), "*.txt".as_ref(), "-g".as_ref(), "!visible*".as_ref()])),
        ["deeper", "words"]
    );
    gpucount()
        .arg(p)
        .args(["--glob", "a{b"])
        .assert()
        .code(2)
        .stderr(predicate::str::starts_with("gpucount: invalid glob 'a{b'"));
}

#[test]
fn a_named_path_is_always_read() {
    let d = tree();
    for (name, word) in [("image.png", "pngword"), (".hidden.txt", "hidden"), ("ignored.txt", "ignoredword")] {
        let out = run(&[d.path().join(name).as_os_str()]);
        assert_eq!(out.status.code(), Some(0), "{name}");
        assert!(words(&out).contains(&word.to_string()), "{name}: {:?}", words(&out));
    }
}
