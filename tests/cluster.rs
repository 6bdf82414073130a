//! Counting across processes: shares of the inputs ([`gpucount::share`])
//! count together what one process counts, cut files included; `gpucount
//! cluster` prints byte for byte what one process prints, with 1, 2 and 3
//! processes, on this machine and across network namespaces; and faults
//! (a peer that never starts, one killed mid-run, a missing input, ranks
//! started differently) end in one clear line and a non-zero status.

use crate::util::{Dir, cpu_options, rows, run};
use gpucount::keys::{Grams, Within};
use gpucount::share::Manifest;
use gpucount::source::Operand;
use gpucount::source::fetch::FetchOptions;
use gpucount::{CountTable, Mode, Options};
use proptest::prelude::*;
use std::path::Path;

/// Words with accents (UTF-8, first met after the first megabyte's start),
/// lines of many lengths, CRLF and blank lines.
fn text(words: usize, seed: u64) -> String {
    let vocab = ["the", "Cat", "école", "naïve", "x", "über-long-token", "42", "don't", "ΣΊΣΥΦΟΣ", "日本語"];
    let mut s = String::new();
    let mut x = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
    for i in 0..words {
        x = x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        let r = (x >> 33) as usize;
        s.push_str(vocab[r % vocab.len()]);
        s.push_str(&format!("{}", r % 97));
        s.push_str(match (r >> 8) % 11 {
            0 => "\n",
            1 => "\r\n",
            2 => "\n\n",
            3 => ", ",
            _ if i % 500 == 499 => "\n",
            _ => " ",
        });
    }
    s
}

/// A corpus of skewed sizes: one large file, Zipf-distributed words,
/// small ones, an empty one, a windows-1252 one, one line without an end,
/// a gzip file, HTML.
fn corpus(d: &Dir) {
    d.write("big.txt", text(60_000, 1));
    let mut zipf = Vec::new();
    gpucount::sample::ZipfText { words: 30_000, vocabulary: 5_000, exponent: 1.07, seed: 7 }.write(&mut zipf).unwrap();
    d.write("zipf.txt", zipf);
    d.write("small/a.txt", text(50, 2));
    d.write("small/b.txt", text(3, 3));
    d.write("small/empty.txt", "");
    let latin1: Vec<u8> = text(4_000, 4).chars().map(|c| if c.is_ascii() { c as u8 } else { 0xE9 }).collect();
    d.write("latin1.txt", latin1);
    d.write("oneline.txt", "no line end at all ".repeat(2_000));
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    std::io::Write::write_all(&mut gz, text(5_000, 5).as_bytes()).unwrap();
    d.write("packed.txt.gz", gz.finish().unwrap());
    d.write("page.html", format!("<html><body><p>{}</p></body></html>", text(3_000, 6)));
    // HTML only to a reader that sees its page tag, 100 KB in: one block does.
    d.write("comment.txt", format!("<!-- c -->\n{}\n<p>hello</p>\n{}", text(10_000, 8), text(10_000, 9)));
    // Binary by the NUL bytes of its first 4 KiB (walked files are skipped).
    let mut nul = text(200, 10).into_bytes();
    nul.truncate(3_000);
    nul.extend([0u8; 500]);
    nul.extend(text(20_000, 11).into_bytes());
    d.write("nul.txt", nul);
}

/// The tables of every rank's share counted on its own, merged; and the
/// documents and bytes counted, and whether any file was cut.
fn by_shares(operands: &[Operand], opts: &Options, ranks: usize, min_piece: u64) -> (CountTable, usize, u64, bool) {
    let plan = Manifest::list(operands, opts).unwrap().plan(ranks, opts, min_piece);
    let (mut table, mut docs, mut bytes, mut cut) = (CountTable::new(), 0, 0, false);
    for rank in 0..ranks {
        let share = plan.share(rank);
        cut |= share.continues;
        let o = gpucount::pipeline::run(&|| share.documents(FetchOptions::default()), opts).unwrap();
        assert!(o.errors.is_empty(), "{:?}", o.errors);
        table = CountTable::merged(table, o.table);
        docs += o.documents;
        bytes += o.bytes;
    }
    (table, docs, bytes, cut)
}

fn options(mode: Mode, grams: Grams) -> Options {
    Options { grams, ..cpu_options(mode, false, 1 << 12, 2) }
}

#[test]
fn shares_count_together_what_one_process_counts() {
    let d = Dir::new();
    corpus(&d);
    let operands = [Operand::Path(d.path().to_path_buf())];
    let line2 = Grams { min: 1, max: 2, within: Within::Line };
    let doc2 = Grams { min: 2, max: 2, within: Within::Document };
    for (mode, grams, cuts) in [
        (Mode::Words, Grams::default(), true),
        (Mode::Whitespace, Grams::default(), true),
        (Mode::Words, line2, true),
        // n-grams may span lines: files stay whole.
        (Mode::Words, doc2, false),
    ] {
        let opts = options(mode.clone(), grams);
        let whole = run(&operands, &opts);
        for ranks in 1..=5 {
            for min_piece in [1, 1000, 1 << 30] {
                let (table, docs, bytes, cut) = by_shares(&operands, &opts, ranks, min_piece);
                let what = format!("{mode:?} {grams:?}, {ranks} ranks, pieces from {min_piece} bytes");
                assert_eq!(rows(&table), rows(&whole.table), "{what}");
                assert_eq!(
                    (table.total(), table.collisions()),
                    (whole.table.total(), whole.table.collisions()),
                    "{what}"
                );
                assert_eq!((docs, bytes), (whole.documents, whole.bytes), "{what}");
                assert_eq!(cut, cuts && ranks > 1 && min_piece < 1 << 30, "{what}: cut or not");
            }
        }
    }
}

#[test]
fn a_share_is_balanced_by_size_not_by_files() {
    let d = Dir::new();
    d.write("a-big.txt", "word ".repeat(200_000));
    for i in 0..20 {
        d.write(&format!("b{i:02}.txt"), "word ".repeat(100));
    }
    let operands = [Operand::Path(d.path().to_path_buf())];
    let opts = options(Mode::Words, Grams::default());
    let manifest = Manifest::list(&operands, &opts).unwrap();
    let total = manifest.weight();
    // Whole files: the big one is one rank's; the other holds the 20 small ones.
    let whole: Vec<_> = (0..2).map(|r| manifest.clone().plan(2, &opts, u64::MAX).share(r)).collect();
    assert_eq!((whole[0].len(), whole[1].len()), (1, 20));
    // Cut: each rank holds about half the bytes.
    for ranks in [2, 3, 4] {
        for r in 0..ranks {
            let s = manifest.clone().plan(ranks, &opts, 1).share(r);
            let fair = total / ranks as u64;
            assert!(s.weight.abs_diff(fair) <= 1, "rank {r} of {ranks}: {} bytes of {total}", s.weight);
        }
    }
}

#[test]
fn stdin_cannot_be_shared() {
    let e = Manifest::list(&[Operand::Stdin], &Options::default()).unwrap_err();
    assert!(e.to_string().contains("standard input"), "{e}");
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    /// Any text, cut anywhere among up to 6 ranks, counts the same.
    #[test]
    fn any_text_cut_anywhere_counts_the_same(
        text in "([a-zé日\\- ]{0,12}(\n|\r\n| |\u{2028}))*",
        ranks in 1usize..6,
        chunk in 1usize..64,
    ) {
        let d = Dir::new();
        d.write("t.txt", &text);
        d.write("u.txt", text.to_uppercase());
        let operands = [Operand::Path(d.path().to_path_buf())];
        let opts = Options { chunk_bytes: chunk, ..options(Mode::Words, Grams { min: 1, max: 3, within: Within::Line }) };
        let whole = run(&operands, &opts);
        let (table, docs, bytes, _) = by_shares(&operands, &opts, ranks, 1);
        prop_assert_eq!(rows(&table), rows(&whole.table));
        prop_assert_eq!((docs, bytes), (whole.documents, whole.bytes));
    }
}

/// The command line: processes of their own, exchanging over TCP.
#[cfg(feature = "cli")]
mod processes {
    use super::*;
    use crate::util::gpucount;
    use std::process::{Child, Command, Output, Stdio};
    use std::time::{Duration, Instant};

    fn single(d: &Path, flags: &[&str]) -> Output {
        gpucount().args(["--backend", "cpu"]).args(flags).arg(d).output().unwrap()
    }

    fn local(n: usize, d: &Path, flags: &[&str]) -> Output {
        let mut cmd = gpucount();
        cmd.args([
            "cluster",
            "--local",
            &n.to_string(),
            "--min-piece",
            "1000",
            "--backend",
            "cpu",
            "--connect-timeout",
            "20",
        ]);
        cmd.timeout(Duration::from_secs(120)).args(flags).arg(d).output().unwrap()
    }

    /// The lines of stderr, less the `--stats`-free noise there should be none of.
    fn lines(b: &[u8]) -> Vec<String> {
        String::from_utf8_lossy(b).lines().map(str::to_string).collect()
    }

    #[test]
    fn local_processes_print_what_one_process_prints() {
        let d = Dir::new();
        corpus(&d);
        // All distinct words, and a walked binary file.
        let distinct: String = (0..5_000).map(|i| format!("w{i}\n")).collect();
        d.write("distinct.txt", distinct);
        d.write("bin.dat", b"\x00\x01\x02binary\x00".repeat(100));
        let flag_sets: [&[&str]; 7] = [
            &[],
            &["--tokenizer", "whitespace", "--format", "json"],
            &["--ngram", "1-2", "--within", "line", "--share"],
            &["--ngram", "2"],
            &["--per-doc", "--format", "csv"],
            &["--doc-freq", "--tfidf", "--per-doc", "--format", "jsonl"],
            &["--weak-hash-bits", "6", "--format", "json"],
        ];
        for flags in flag_sets {
            let one = single(d.path(), flags);
            assert!(one.status.success(), "{flags:?}: {}", String::from_utf8_lossy(&one.stderr));
            for n in [1, 2, 3] {
                let many = local(n, d.path(), flags);
                assert_eq!(lines(&many.stderr), lines(&one.stderr), "{n} processes, {flags:?}: stderr");
                assert!(many.stdout == one.stdout, "{n} processes, {flags:?}: the outputs differ");
                assert_eq!(many.status.code(), Some(0), "{n} processes, {flags:?}");
            }
        }
    }

    /// Each rank counts with the backend it has: here the GPU (any adapter).
    #[cfg(feature = "gpu")]
    #[test]
    fn ranks_counting_on_the_gpu_print_what_the_cpu_prints() {
        if !crate::util::gpu_available() {
            return;
        }
        let d = Dir::new();
        corpus(&d);
        let one = single(d.path(), &["--format", "tsv"]);
        let mut cmd = gpucount();
        cmd.args(["cluster", "--local", "2", "--min-piece", "1000", "--backend", "gpu"]).arg(d.path());
        let many = cmd.timeout(Duration::from_secs(120)).output().unwrap();
        assert!(many.status.success(), "{}", String::from_utf8_lossy(&many.stderr));
        assert!(many.stdout == one.stdout, "the outputs differ");
    }

    /// A rank whose GPU fails recounts on its CPU, and rank 0 says so for it.
    #[cfg(feature = "gpu")]
    #[test]
    fn a_ranks_gpu_failure_is_reported_by_rank_0_and_the_count_stays_exact() {
        if !crate::util::gpu_available() {
            return;
        }
        let d = Dir::new();
        corpus(&d);
        // The chunk size decides what a reader's first block sees (HTML, binary).
        let one = single(d.path(), &["--chunk-bytes", "4096"]);
        let mut cmd = gpucount();
        cmd.args(["cluster", "--local", "2", "--min-piece", "1000", "--auto-software", "--chunk-bytes", "4096"]);
        cmd.args(["--gpu-dispatch-tokens", "1", "--gpu-fault", "lose-device-after:1"]).arg(d.path());
        let many = cmd.timeout(Duration::from_secs(120)).output().unwrap();
        assert!(many.status.success(), "{}", String::from_utf8_lossy(&many.stderr));
        assert!(many.stdout == one.stdout, "the outputs differ");
        let err = lines(&many.stderr);
        for r in 0..2 {
            let said = err.iter().filter(|l| l.starts_with(&format!("gpucount: rank {r}: ")));
            assert_eq!(said.filter(|l| l.contains("counting on the CPU instead")).count(), 1, "rank {r}: {err:?}");
        }
    }

    #[test]
    fn a_cut_files_problem_is_reported_as_one_reader_reports_it() {
        let d = Dir::new();
        let mut bad = text(100_000, 12).into_bytes();
        bad[700_000] = 0xff;
        let bad = d.write("bad.txt", bad);
        // The same file twice: each occurrence has its own problem line.
        let one = gpucount().args(["--backend", "cpu"]).arg(&bad).arg(&bad).output().unwrap();
        assert_eq!(lines(&one.stderr).len(), 2, "{:?}", lines(&one.stderr));
        for n in [2, 3] {
            let mut cmd = gpucount();
            cmd.args(["cluster", "--local", &n.to_string(), "--min-piece", "1000", "--backend", "cpu"])
                .arg(&bad)
                .arg(&bad);
            let many = cmd.timeout(Duration::from_secs(120)).output().unwrap();
            assert_eq!(lines(&many.stderr), lines(&one.stderr), "{n} processes");
            assert!(many.stdout == one.stdout, "{n} processes");
            assert_eq!(many.status.code(), one.status.code());
        }
    }

    #[test]
    fn a_cut_file_that_stops_one_reader_fails_the_run_instead_of_counting_on() {
        let d = Dir::new();
        // ASCII, so that the reader holds the long run back as it comes (no encoding window).
        let words = "word ".repeat(50_000);
        let long = d.write("long.txt", format!("{words}\n{}\n{words}", "x".repeat(20_000)));
        let flags = ["--max-token-bytes", "5000", "--chunk-bytes", "4096"];
        let one = gpucount().args(["--backend", "cpu"]).args(flags).arg(&long).output().unwrap();
        assert_eq!(one.status.code(), Some(2), "one reader stops at the long token");
        let mut cmd = gpucount();
        cmd.args(["cluster", "--local", "2", "--min-piece", "1000", "--backend", "cpu"]).args(flags).arg(&long);
        let many = cmd.timeout(Duration::from_secs(120)).output().unwrap();
        assert_eq!(many.status.code(), Some(1));
        assert!(many.stdout.is_empty(), "no count that one reader would not have made");
        let err = lines(&many.stderr);
        assert!(err.iter().any(|l| l.contains("cut among processes")), "{err:?}");
        no_panic(&many);
    }

    #[test]
    fn ranks_with_nothing_to_count_still_take_part() {
        let d = Dir::new();
        d.write("tiny.txt", "one two two");
        let out = local(3, d.path(), &[]);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        assert_eq!(String::from_utf8_lossy(&out.stdout), "two\t2\none\t1\n");
    }

    #[test]
    fn a_missing_input_is_reported_once_and_the_rest_is_exact() {
        let d = Dir::new();
        corpus(&d);
        let missing = d.path().join("nope.txt");
        let one = gpucount().args(["--backend", "cpu"]).arg(d.path()).arg(&missing).output().unwrap();
        assert_eq!(one.status.code(), Some(2));
        for n in [2, 3] {
            let mut cmd = gpucount();
            cmd.args(["cluster", "--local", &n.to_string(), "--backend", "cpu"]).arg(d.path()).arg(&missing);
            let many = cmd.timeout(Duration::from_secs(120)).output().unwrap();
            assert_eq!(many.status.code(), Some(2), "{n} processes");
            assert!(many.stdout == one.stdout, "{n} processes");
            let err = lines(&many.stderr);
            assert_eq!(err.len(), 1, "{err:?}");
            assert!(err[0].contains("nope.txt"), "{err:?}");
        }
    }

    /// Ports free now (bound and let go; the test binds again at once).
    fn free_ports(n: usize) -> Vec<u16> {
        let ls: Vec<_> = (0..n).map(|_| std::net::TcpListener::bind("127.0.0.1:0").unwrap()).collect();
        ls.iter().map(|l| l.local_addr().unwrap().port()).collect()
    }

    fn hosts_file(d: &Dir, ports: &[u16]) -> std::path::PathBuf {
        let text: String = ports.iter().map(|p| format!("127.0.0.1:{p}\n")).collect();
        d.write("hosts.txt", format!("# ranks in order\n{text}"))
    }

    fn rank(hosts: &Path, rank: usize, extra: &[&str], input: &Path) -> Child {
        Command::new(env!("CARGO_BIN_EXE_gpucount"))
            .args(["cluster", "--backend", "cpu", "--hosts"])
            .arg(hosts)
            .args(["--rank", &rank.to_string()])
            .args(extra)
            .arg(input)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    }

    /// Waits for `child` at most `limit`; its output, or None if it was still running (then killed).
    fn wait(mut child: Child, limit: Duration) -> Option<Output> {
        let end = Instant::now() + limit;
        while Instant::now() < end {
            if child.try_wait().unwrap().is_some() {
                return Some(child.wait_with_output().unwrap());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = child.kill();
        None
    }

    fn no_panic(out: &Output) {
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!err.contains("panicked") && !err.contains("RUST_BACKTRACE"), "{err}");
    }

    #[test]
    fn a_hosts_file_with_ranks_given_prints_once() {
        let d = Dir::new();
        corpus(&d);
        let input = d.path().to_path_buf();
        let one = single(&input, &[]);
        let elsewhere = Dir::new();
        let hosts = hosts_file(&elsewhere, &free_ports(2));
        let hosts = hosts.as_path();
        let r1 = rank(hosts, 1, &[], &input);
        let r0 = rank(hosts, 0, &[], &input);
        let (o0, o1) = (wait(r0, Duration::from_secs(60)).unwrap(), wait(r1, Duration::from_secs(60)).unwrap());
        assert!(o0.status.success() && o1.status.success(), "{}", String::from_utf8_lossy(&o0.stderr));
        assert!(o0.stdout == one.stdout, "rank 0 prints the count");
        assert!(o1.stdout.is_empty() && o1.stderr.is_empty(), "rank 1 prints nothing");
    }

    #[test]
    fn the_launchers_rank_is_taken_from_the_environment() {
        let d = Dir::new();
        d.write("a.txt", "alpha beta beta");
        let hosts = hosts_file(&d, &free_ports(2));
        let start = |var: &str, size: &str, r: usize| {
            Command::new(env!("CARGO_BIN_EXE_gpucount"))
                .args(["cluster", "--backend", "cpu", "--hosts"])
                .arg(&hosts)
                .arg(d.path().join("a.txt"))
                .env(var, r.to_string())
                .env(size, "2")
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        };
        for (var, size) in [("OMPI_COMM_WORLD_RANK", "OMPI_COMM_WORLD_SIZE"), ("SLURM_PROCID", "SLURM_NTASKS")] {
            let r1 = start(var, size, 1);
            let r0 = start(var, size, 0);
            let o0 = wait(r0, Duration::from_secs(60)).unwrap();
            assert!(wait(r1, Duration::from_secs(60)).unwrap().status.success());
            assert_eq!(String::from_utf8_lossy(&o0.stdout), "beta\t2\nalpha\t1\n", "{var}");
        }
        // A size that disagrees with the hosts file is refused.
        let out = gpucount()
            .args(["cluster", "--hosts"])
            .arg(&hosts)
            .arg(d.path())
            .env("PMI_RANK", "0")
            .env("PMI_SIZE", "3")
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2));
        assert!(String::from_utf8_lossy(&out.stderr).contains("PMI_SIZE says 3 processes"), "{out:?}");
    }

    #[test]
    fn a_peer_that_never_starts_times_out_with_its_name() {
        let d = Dir::new();
        d.write("a.txt", "alpha");
        let ports = free_ports(2);
        let hosts = hosts_file(&d, &ports);
        for (me, other) in [(0, 1), (1, 0)] {
            let started = Instant::now();
            let out = wait(rank(&hosts, me, &["--connect-timeout", "1"], d.path()), Duration::from_secs(30)).unwrap();
            assert!(started.elapsed() < Duration::from_secs(10));
            assert_eq!(out.status.code(), Some(1));
            assert!(out.stdout.is_empty());
            let err = lines(&out.stderr);
            assert_eq!(err.len(), 1, "{err:?}");
            let peer = format!("rank {other} (127.0.0.1:{})", ports[other]);
            assert!(err[0].starts_with(&format!("gpucount: rank {me}: ")) && err[0].contains(&peer), "{err:?}");
            assert!(err[0].contains("within 1s"), "{err:?}");
            no_panic(&out);
        }
    }

    #[test]
    fn a_peer_killed_mid_run_fails_every_survivor_cleanly() {
        let d = Dir::new();
        corpus(&d);
        let ports = free_ports(3);
        let hosts = hosts_file(&d, &ports);
        // Rank 2 stalls after connecting and counting; the others wait for
        // it in the exchange. It is killed once it says it stalls (a fixed
        // wait killed it before it connected on a loaded machine, and the
        // others then waited for it to connect).
        let mut r2 = rank(&hosts, 2, &["--stall-ms", "60000"], d.path());
        let r0 = rank(&hosts, 0, &[], d.path());
        let r1 = rank(&hosts, 1, &[], d.path());
        let stalled = std::io::BufRead::lines(std::io::BufReader::new(r2.stderr.take().unwrap()))
            .map_while(Result::ok)
            .any(|line| line.contains("stalling"));
        assert!(stalled, "rank 2 ended without stalling");
        r2.kill().unwrap();
        r2.wait().unwrap();
        for (r, child) in [(0, r0), (1, r1)] {
            let out = wait(child, Duration::from_secs(30)).expect("a survivor must not hang");
            assert_eq!(out.status.code(), Some(1), "rank {r}");
            assert!(out.stdout.is_empty(), "rank {r}: no partial result");
            let err = lines(&out.stderr);
            assert_eq!(err.len(), 1, "rank {r}: {err:?}");
            // The other survivor may fail first, and is named too then.
            assert!(err[0].contains(&format!("rank {r}: lost the connection")), "{err:?}");
            assert!(err[0].contains(&format!("rank 2 (127.0.0.1:{})", ports[2])), "{err:?}");
            no_panic(&out);
        }
    }

    #[test]
    fn ranks_started_with_different_options_refuse_each_other() {
        let d = Dir::new();
        d.write("a.txt", "alpha");
        let hosts = hosts_file(&d, &free_ports(2));
        let r0 = rank(&hosts, 0, &["--keep-case", "--connect-timeout", "20"], d.path());
        let r1 = rank(&hosts, 1, &["--connect-timeout", "20"], d.path());
        for (r, child) in [(0, r0), (1, r1)] {
            let out = wait(child, Duration::from_secs(30)).unwrap();
            assert_eq!(out.status.code(), Some(1), "rank {r}");
            let err = String::from_utf8_lossy(&out.stderr);
            assert!(err.contains("was started with other options"), "rank {r}: {err}");
        }
    }

    #[test]
    fn own_inputs_place_each_ranks_documents_after_the_last() {
        let d = Dir::new();
        let a = d.write("a.txt", "one two");
        let b = d.write("b.txt", "two three");
        let missing = d.path().join("gone.txt");
        let one = gpucount().args(["--backend", "cpu", "--per-doc"]).arg(&a).arg(&missing).arg(&b).output().unwrap();
        let hosts = hosts_file(&d, &free_ports(2));
        let mine = |r: usize, inputs: &[&Path]| {
            let mut c = Command::new(env!("CARGO_BIN_EXE_gpucount"));
            c.args(["cluster", "--own-inputs", "--per-doc", "--backend", "cpu", "--hosts"]).arg(&hosts);
            c.args(["--rank", &r.to_string()]).args(inputs).stdout(Stdio::piped()).stderr(Stdio::piped());
            c.spawn().unwrap()
        };
        let r1 = mine(1, &[&b]);
        let r0 = mine(0, &[&a, &missing]);
        let o0 = wait(r0, Duration::from_secs(60)).unwrap();
        let o1 = wait(r1, Duration::from_secs(60)).unwrap();
        assert_eq!((o0.status.code(), o1.status.code()), (Some(2), Some(2)));
        assert!(o0.stdout == one.stdout, "{}", String::from_utf8_lossy(&o0.stdout));
        assert_eq!(lines(&o0.stderr), lines(&one.stderr));
    }

    /// Network namespaces the test made, deleted when it ends (also on panic).
    struct Netns(Vec<String>);

    impl Drop for Netns {
        fn drop(&mut self) {
            for n in self.0.iter().rev() {
                let _ = Command::new("ip").args(["netns", "del", n]).status();
            }
        }
    }

    fn ip(args: &[&str]) -> bool {
        Command::new("ip").args(args).stderr(Stdio::null()).status().is_ok_and(|s| s.success())
    }

    /// Whether this test may make network namespaces (root, with `ip`).
    /// Under CI=true it must.
    fn netns_possible() -> bool {
        // SAFETY: geteuid has no preconditions.
        let root = unsafe { libc_geteuid() } == 0;
        let ok = root && ip(&["netns", "list"]);
        if !ok {
            assert!(
                std::env::var("CI").map_or(true, |v| v != "true"),
                "CI=true, but network namespaces cannot be made here (root and iproute2 needed)"
            );
            eprintln!("SKIPPED: the network-namespace test needs root and iproute2's `ip`");
        }
        ok
    }

    unsafe extern "C" {
        #[link_name = "geteuid"]
        fn libc_geteuid() -> u32;
    }

    #[test]
    fn ranks_in_separate_network_namespaces_print_what_one_process_prints() {
        if !netns_possible() {
            return;
        }
        let tag = format!("gc{}", std::process::id() % 100_000);
        let hub = format!("{tag}h");
        let mut made = Netns(vec![hub.clone()]);
        assert!(ip(&["netns", "add", &hub]), "ip netns add {hub}");
        assert!(ip(&["-n", &hub, "link", "add", "br0", "type", "bridge"]));
        assert!(ip(&["-n", &hub, "link", "set", "br0", "up"]));
        let net = 10 + std::process::id() % 200;
        let mut hosts = String::new();
        for i in 0..2 {
            let ns = format!("{tag}r{i}");
            assert!(ip(&["netns", "add", &ns]), "ip netns add {ns}");
            made.0.push(ns.clone());
            let (veth, addr) = (format!("v{i}"), format!("10.213.{net}.{}/24", i + 1));
            assert!(ip(&["-n", &hub, "link", "add", &veth, "type", "veth", "peer", "name", "eth0", "netns", &ns]));
            assert!(ip(&["-n", &hub, "link", "set", &veth, "master", "br0", "up"]));
            assert!(ip(&["-n", &ns, "addr", "add", &addr, "dev", "eth0"]));
            assert!(ip(&["-n", &ns, "link", "set", "eth0", "up"]));
            assert!(ip(&["-n", &ns, "link", "set", "lo", "up"]));
            hosts.push_str(&format!("10.213.{net}.{}:7000\n", i + 1));
        }
        let d = Dir::new();
        corpus(&d);
        let hosts = d.write("hosts.txt", hosts);
        let one = single(d.path(), &[]);
        let start = |i: usize| {
            Command::new("ip")
                .args(["netns", "exec", &made.0[i + 1], env!("CARGO_BIN_EXE_gpucount")])
                .args(["cluster", "--backend", "cpu", "--min-piece", "1000", "--connect-timeout", "30", "--hosts"])
                .arg(&hosts)
                .args(["--rank", &i.to_string()])
                .arg(d.path())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        };
        let r1 = start(1);
        let r0 = start(0);
        let o0 = wait(r0, Duration::from_secs(60)).expect("rank 0 ends");
        let o1 = wait(r1, Duration::from_secs(60)).expect("rank 1 ends");
        assert!(
            o0.status.success() && o1.status.success(),
            "{}{}",
            String::from_utf8_lossy(&o0.stderr),
            String::from_utf8_lossy(&o1.stderr)
        );
        assert!(o0.stdout == one.stdout, "the outputs differ");
        drop(made);
    }
}
