//! Saved tables (`--save-table`) and `gpucount merge`: a merge of tables
//! saved from disjoint inputs prints what one count over all the inputs
//! prints, byte for byte; a damaged or mismatched table fails the merge
//! with one line naming it.

use crate::util::Dir;
use gpucount::saved::{self, Decoded};
use gpucount::{CountTable, Options};
use std::path::{Path, PathBuf};

/// Texts with n-grams across lines, accents (composed and not), stopwords,
/// capitals, numbers and a repeated sentence.
const TEXTS: [&str; 3] = [
    "The cat saw the other cat.\nThe END of it: école, Ecole, e\u{301}cole.\n",
    "To be, or not to be: that is the question.\nThe cat is not the question!\n",
    "Der Hund sah die Katze. The cat and the dog; 42 cats, 7 dogs.\n\nThe end.",
];

/// The library side: works without the `cli` feature.
mod library {
    use super::*;
    use gpucount::Counter;
    use gpucount::count::{BackendChoice, BackendConfig};
    use gpucount::report::{self, Format, ReportOptions};
    use proptest::prelude::*;

    fn cpu(opts: Options) -> Options {
        Options { backend: BackendConfig { choice: BackendChoice::Cpu, ..BackendConfig::default() }, ..opts }
    }

    fn count(texts: &[(String, String)], opts: &Options) -> gpucount::Outcome {
        let mut c = Counter::new(opts.clone());
        for (name, text) in texts {
            c.push_text(name.clone(), text.clone());
        }
        c.count().unwrap()
    }

    fn printed(outcome: &mut gpucount::Outcome, format: Format) -> Vec<u8> {
        let mut out = Vec::new();
        report::write(&mut out, outcome, &ReportOptions { format, ..ReportOptions::default() }).unwrap();
        out
    }

    /// Saves each group's count to a file of `dir`.
    fn save_groups(dir: &Dir, groups: &[Vec<(String, String)>], opts: &Options) -> Vec<PathBuf> {
        groups
            .iter()
            .enumerate()
            .map(|(i, g)| {
                let mut bytes = Vec::new();
                saved::save(&mut bytes, &count(g, opts), opts).unwrap();
                dir.write(&format!("{i}.gct"), bytes)
            })
            .collect()
    }

    #[test]
    fn the_file_is_laid_out_as_documented() {
        let d = Dir::new();
        let opts = cpu(Options::default());
        let outcome = count(&[("a".into(), "to be or not to be".into())], &opts);
        let path = &save_groups(&d, &[vec![("a".into(), "to be or not to be".into())]], &opts)[0];
        let bytes = std::fs::read(path).unwrap();
        assert_eq!(bytes[..8], *b"\x89GCT\r\n\x1a\n");
        assert_eq!(u32::from_le_bytes(bytes[8..12].try_into().unwrap()), 1);
        let h = u64::from_le_bytes(bytes[12..20].try_into().unwrap()) as usize;
        let json = &bytes[28..28 + h];
        assert_eq!(u64::from_le_bytes(bytes[20..28].try_into().unwrap()), xxhash_rust::xxh3::xxh3_64(json));
        let header: serde_json::Value = serde_json::from_slice(json).unwrap();
        assert_eq!(header["keys"]["ngram"], serde_json::json!([1, 1]));
        assert_eq!(header["keys"]["hash"], "xxh3-64");
        assert_eq!(
            (header["tokens"].as_u64(), header["distinct"].as_u64(), header["documents"].as_u64()),
            (Some(6), Some(4), Some(1))
        );
        let n = bytes.len();
        let records = zstd::decode_all(&bytes[28 + h..n - 16]).unwrap();
        let mut table = CountTable::new();
        assert_eq!(saved::decode_records(&records, &mut table).unwrap(), Decoded { records: 4, tokens: 6 });
        assert_eq!(table.sorted_rows(None, 1), outcome.table.sorted_rows(None, 1));
        assert_eq!(u64::from_le_bytes(bytes[n - 16..n - 8].try_into().unwrap()), 4);
        let sum = xxhash_rust::xxh3::xxh3_64(&bytes[28 + h..n - 16]);
        assert_eq!(u64::from_le_bytes(bytes[n - 8..].try_into().unwrap()), sum);
        // Hand-computed: hash, length, key, count.
        let mut one = Vec::new();
        saved::encode_records([(0x0102030405060708, &b"be"[..], 2)], &mut one);
        assert_eq!(one, [8, 7, 6, 5, 4, 3, 2, 1, 2, b'b', b'e', 2]);
    }

    #[test]
    fn read_gives_back_the_table_and_header() {
        let d = Dir::new();
        let opts = cpu(Options { hash: gpucount::KeyHash::WeakForTesting { bits: 3 }, ..Options::default() });
        let texts = vec![("a".to_string(), TEXTS.join(" "))];
        let path = &save_groups(&d, std::slice::from_ref(&texts), &opts)[0];
        let (header, table) = saved::read(path).unwrap();
        let outcome = count(&texts, &opts);
        assert!(outcome.table.collisions() > 0);
        assert_eq!(table.sorted_rows(None, 1), outcome.table.sorted_rows(None, 1));
        assert_eq!((table.total(), table.collisions()), (outcome.table.total(), outcome.table.collisions()));
        assert_eq!(header.keys, saved::KeyOptions::of(&opts));
        assert_eq!(header.keys.key_hash(), Ok(gpucount::KeyHash::WeakForTesting { bits: 3 }));
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

        /// Random documents in random groups: the merge of the groups'
        /// tables prints what one count of all the documents prints, with
        /// collisions (3-bit keys) counted exactly.
        #[test]
        fn merged_groups_print_as_one_count(
            docs in prop::collection::vec("[a-c]{1,3}( [a-c]{1,3}){0,12}", 1..8),
            cuts in prop::collection::vec(any::<bool>(), 8),
            per_doc in any::<bool>(),
            bigrams in any::<bool>(),
        ) {
            let d = Dir::new();
            let grams = gpucount::keys::Grams { min: 1, max: if bigrams { 2 } else { 1 }, ..Default::default() };
            let opts = cpu(Options { hash: gpucount::KeyHash::WeakForTesting { bits: 3 }, per_doc, grams, ..Options::default() });
            let named: Vec<(String, String)> = docs.iter().enumerate().map(|(i, t)| (format!("d{i}"), t.clone())).collect();
            let mut groups: Vec<Vec<(String, String)>> = vec![Vec::new()];
            for (i, doc) in named.iter().enumerate() {
                if i > 0 && cuts[i] {
                    groups.push(Vec::new());
                }
                groups.last_mut().unwrap().push(doc.clone());
            }
            let paths = save_groups(&d, &groups, &opts);
            let mut merged = saved::merge(&paths).unwrap().outcome;
            let mut whole = count(&named, &opts);
            prop_assert_eq!(merged.table.collisions(), whole.table.collisions());
            prop_assert_eq!(merged.table.total(), whole.table.total());
            prop_assert_eq!(&merged.names, &whole.names);
            for format in [Format::Tsv, Format::Json] {
                let (m, w) = (printed(&mut merged, format), printed(&mut whole, format));
                prop_assert_eq!(String::from_utf8_lossy(&m), String::from_utf8_lossy(&w));
            }
        }
    }
}

/// The command line.
#[cfg(feature = "cli")]
mod cli {
    use super::*;
    use crate::util::gpucount;

    struct Run {
        code: i32,
        stdout: Vec<u8>,
        stderr: String,
    }

    fn run<S: AsRef<std::ffi::OsStr>>(args: &[S], dir: &Path) -> Run {
        let out = gpucount().current_dir(dir).args(args).output().unwrap();
        Run {
            code: out.status.code().unwrap_or(-1),
            stdout: out.stdout,
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }

    fn ok<S: AsRef<std::ffi::OsStr>>(args: &[S], dir: &Path) -> Vec<u8> {
        let r = run(args, dir);
        let shown: Vec<_> = args.iter().map(|a| a.as_ref().to_string_lossy().into_owned()).collect();
        assert_eq!(r.code, 0, "{shown:?}: {}", r.stderr);
        r.stdout
    }

    /// One line on stderr that names `file` and says `why`; nothing on stdout; status 2.
    fn refused(r: &Run, file: &str, why: &str) {
        assert_eq!(r.code, 2, "{}", r.stderr);
        assert!(r.stdout.is_empty(), "{}", String::from_utf8_lossy(&r.stdout));
        assert_eq!(r.stderr.lines().count(), 1, "{}", r.stderr);
        assert!(r.stderr.starts_with(&format!("gpucount: {file}: ")), "{}", r.stderr);
        assert!(r.stderr.contains(why), "wanted {why:?}: {}", r.stderr);
    }

    fn inputs() -> Dir {
        let d = Dir::new();
        for (i, t) in TEXTS.iter().enumerate() {
            d.write(&format!("{i}.txt"), t);
        }
        d
    }

    /// Saves each input's count with `keys` (counting flags) and checks that
    /// `merge` with each output flag set prints what one count prints.
    fn merge_equals_count(keys: &[&str], per_doc: bool, outputs: &[&[&str]]) {
        let d = inputs();
        let count = |extra: &[&str]| -> Vec<String> {
            [&["--backend", "cpu"], keys, extra].concat().into_iter().map(String::from).collect()
        };
        for i in 0..3 {
            let (file, table) = (format!("{i}.txt"), format!("{i}.gct"));
            let plain = ok(&count(&[&file]), d.path());
            // Saving does not change what is printed.
            let docs: &[&str] = if per_doc { &["--doc-freq"] } else { &[] };
            let plain = if per_doc { ok(&count(&[&file, "--doc-freq"]), d.path()) } else { plain };
            assert_eq!(ok(&count(&[&[&file, "--save-table", &table][..], docs].concat()), d.path()), plain, "{keys:?}");
        }
        for out in outputs {
            let one = ok(&count(&[&["0.txt", "1.txt", "2.txt"], *out].concat()), d.path());
            let merged = ok(&[&["merge", "0.gct", "1.gct", "2.gct"], *out].concat(), d.path());
            assert_eq!(String::from_utf8_lossy(&merged), String::from_utf8_lossy(&one), "{keys:?} {out:?}");
        }
    }

    const FORMATS: [&str; 5] = ["tsv", "csv", "json", "jsonl", "table"];

    #[test]
    fn hand_computed_merge() {
        let d = Dir::new();
        d.write("a.txt", "to be or not to be");
        d.write("b.txt", "To do");
        ok(&["--save-table", "a.gct", "a.txt"], d.path());
        ok(&["--save-table", "b.gct", "b.txt"], d.path());
        assert_eq!(ok(&["merge", "a.gct", "b.gct"], d.path()), b"to\t3\nbe\t2\ndo\t1\nnot\t1\nor\t1\n");
        assert_eq!(ok(&["merge", "b.gct", "a.gct", "-n", "2", "--sort", "word"], d.path()), b"be\t2\nto\t3\n");
        // Merging a table with itself doubles it.
        assert_eq!(ok(&["merge", "b.gct", "b.gct"], d.path()), b"do\t2\nto\t2\n");
        let stats = run(&["merge", "a.gct", "b.gct", "--stats"], d.path());
        assert!(
            stats.stderr.contains("inputs:   2 read") && stats.stderr.contains("8 tokens, 5 distinct"),
            "{}",
            stats.stderr
        );
    }

    #[test]
    fn words_in_every_format() {
        let outputs: Vec<Vec<&str>> = FORMATS.iter().map(|f| vec!["-f", f]).collect();
        let mut outputs: Vec<&[&str]> = outputs.iter().map(Vec::as_slice).collect();
        outputs.extend([
            &["-f", "table", "--share"][..],
            &["-f", "csv", "--share", "-n", "3"],
            &["--min-count", "2"],
            &["--sort", "word", "-n", "4"],
        ]);
        merge_equals_count(&[], false, &outputs);
    }

    #[test]
    fn ngrams_stopwords_and_filters() {
        let outputs: &[&[&str]] = &[&[], &["-f", "json"], &["-f", "jsonl", "-n", "5"]];
        merge_equals_count(&["--ngram", "1-3", "--within", "line", "--stopwords", "en"], false, outputs);
        merge_equals_count(
            &["--min-length", "3", "--max-length", "5", "--normalize", "nfc", "--strip-accents"],
            false,
            outputs,
        );
        merge_equals_count(&["--keep-case", "--tokenizer", "whitespace"], false, outputs);
        merge_equals_count(
            &["--token-pattern", r"(?u)\b\w\w+\b", "--ngram", "2", "--within", "sentence"],
            false,
            outputs,
        );
    }

    #[test]
    fn per_document_tables_and_document_frequencies() {
        let mut outputs: Vec<Vec<&str>> = Vec::new();
        for f in FORMATS {
            outputs.push(vec!["--per-doc", "-f", f]);
            outputs.push(vec!["--doc-freq", "-f", f]);
            outputs.push(vec!["--per-doc", "--doc-freq", "--tfidf", "-f", f]);
        }
        outputs.push(vec!["--doc-freq", "--sort", "df", "--min-df", "2", "-n", "3"]);
        outputs.push(vec!["--per-doc", "--max-df", "0.5", "--sort", "word"]);
        // Corpus counts from per-document tables.
        outputs.push(vec![]);
        outputs.push(vec!["-f", "json"]);
        let outputs: Vec<&[&str]> = outputs.iter().map(Vec::as_slice).collect();
        merge_equals_count(&[], true, &outputs);
        merge_equals_count(&["--ngram", "2", "--stopwords", "en"], true, &outputs[..4]);
    }

    #[test]
    fn a_merge_saved_again_adds_up_like_a_longer_count() {
        let d = inputs();
        for i in 0..3 {
            ok(&["--backend", "cpu", "--per-doc", "--save-table", &format!("{i}.gct"), &format!("{i}.txt")], d.path());
        }
        // Last month (0 and 1), then today (2).
        ok(&["merge", "0.gct", "1.gct", "--save-table", "month.gct", "-o", "/dev/null"], d.path());
        for out in [&["--per-doc", "--tfidf"][..], &["--doc-freq", "-f", "json"], &[]] {
            let one = ok(&[&["--backend", "cpu", "0.txt", "1.txt", "2.txt"][..], out].concat(), d.path());
            let merged = ok(&[&["merge", "month.gct", "2.gct"][..], out].concat(), d.path());
            assert_eq!(String::from_utf8_lossy(&merged), String::from_utf8_lossy(&one), "{out:?}");
        }
    }

    #[test]
    fn collisions_survive_saving_loading_and_merging() {
        let d = inputs();
        for flags in [&["--weak-hash-bits", "3"][..], &["--weak-hash-bits", "2", "--per-doc"]] {
            for i in 0..3 {
                ok(&[flags, &["--save-table", &format!("{i}.gct"), &format!("{i}.txt")]].concat(), d.path());
            }
            let one = run(&[flags, &["--backend", "cpu", "0.txt", "1.txt", "2.txt", "--stats"]].concat(), d.path());
            let merged = run(&[&["merge", "0.gct", "1.gct", "2.gct", "--stats"][..], &flags[2..]].concat(), d.path());
            assert_eq!(String::from_utf8_lossy(&merged.stdout), String::from_utf8_lossy(&one.stdout));
            let collisions = |s: &str| s.lines().find(|l| l.starts_with("hashes:")).map(String::from);
            assert!(collisions(&one.stderr).is_some(), "{}", one.stderr);
            assert_eq!(collisions(&merged.stderr), collisions(&one.stderr));
            // Not a set of tables counted with another hash.
            ok(&["--save-table", "xxh3.gct", "0.txt", "--per-doc"], d.path());
            ok(&["--save-table", "xxh3w.gct", "0.txt"], d.path());
            let other = if flags.len() > 2 { "xxh3.gct" } else { "xxh3w.gct" };
            refused(&run(&["merge", "0.gct", other], d.path()), other, "counted with hash xxh3-64");
        }
    }

    #[test]
    fn tables_counted_with_other_options_are_refused() {
        let d = inputs();
        ok(&["--save-table", "base.gct", "0.txt"], d.path());
        let cases: &[(&[&str], &str)] = &[
            (&["--ngram", "2"], "--ngram 2-2, but base.gct with --ngram 1-1"),
            (&["--stopwords", "en"], "--stopwords"),
            (&["--keep-case"], "--keep-case true"),
            (&["--doc-freq"], "--per-doc/--doc-freq true"),
            (&["--weak-hash-bits", "9"], "weak-for-testing:9"),
            (&["--tokenizer", "whitespace"], "--tokenizer whitespace"),
            (&["--strip-accents"], "--strip-accents true"),
        ];
        for (flags, why) in cases {
            ok(&[*flags, &["--save-table", "other.gct", "1.txt"]].concat(), d.path());
            let r = run(&["merge", "base.gct", "other.gct"], d.path());
            refused(&r, "other.gct", why);
            assert!(r.stderr.contains("cannot be merged"), "{}", r.stderr);
        }
        // The same options written another way are the same options.
        ok(&["--save-table", "other.gct", "1.txt", "--min-length", "1", "--ngram", "1-1"], d.path());
        ok(&["merge", "base.gct", "other.gct"], d.path());
        // Reports a table cannot give.
        let r = run(&["merge", "base.gct", "--per-doc"], d.path());
        assert_eq!(r.code, 2);
        assert!(r.stderr.contains("need tables saved by runs with --per-doc"), "{}", r.stderr);
        let r = run(&["merge"], d.path());
        assert_eq!(r.code, 2, "{}", r.stderr);
        let r = run(&["0.txt", "--save-table", "-"], d.path());
        assert_eq!((r.code, r.stdout.is_empty()), (2, true), "{}", r.stderr);
    }

    /// A good table and a damaged copy, merged: the whole merge fails.
    fn damaged(d: &Dir, bytes: &[u8], why: &[&str]) {
        d.write("bad.gct", bytes);
        let r = run(&["merge", "good.gct", "bad.gct"], d.path());
        refused(&r, "bad.gct", "");
        assert!(why.iter().any(|w| r.stderr.contains(w)), "wanted one of {why:?}: {}", r.stderr);
    }

    #[test]
    fn a_corrupt_or_truncated_table_fails_the_merge() {
        let d = inputs();
        ok(&["--per-doc", "--save-table", "good.gct", "0.txt", "1.txt"], d.path());
        let good = std::fs::read(d.path().join("good.gct")).unwrap();
        let reasons = ["corrupt", "truncated", "magic", "version", "checksum", "unknown hash"];
        for at in 0..good.len() {
            let mut bytes = good.clone();
            bytes[at] ^= 0x20;
            damaged(&d, &bytes, &reasons);
        }
        for len in 0..good.len() {
            damaged(&d, &good[..len], &["truncated", "empty file", "corrupt"]);
        }
        let mut longer = good.clone();
        longer.push(0);
        damaged(&d, &longer, &["bytes after the checksum"]);
        damaged(&d, b"word\t3\nother\t1\n", &["wrong magic bytes"]);
        let mut future = good.clone();
        future[8] = 2;
        damaged(&d, &future, &["format version 2; this gpucount reads version 1"]);
        refused(&run(&["merge", "good.gct", "missing.gct"], d.path()), "missing.gct", "cannot open");
        // The good table alone still merges.
        ok(&["merge", "good.gct"], d.path());
    }

    #[test]
    fn a_closed_stdout_ends_a_merge_quietly() {
        let d = Dir::new();
        let text: String = (0..200_000).map(|i| format!("w{i} ")).collect();
        d.write("big.txt", text);
        ok(&["--save-table", "big.gct", "-o", "/dev/null", "big.txt"], d.path());
        for target in ["", "-o /dev/stdout"] {
            let out = std::process::Command::new("bash")
                .current_dir(d.path())
                .arg("-c")
                .arg(format!("\"$G\" merge big.gct {target} | head -1 >/dev/null; echo ${{PIPESTATUS[0]}}"))
                .env("G", env!("CARGO_BIN_EXE_gpucount"))
                .output()
                .unwrap();
            assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "0", "{target}");
            assert_eq!(String::from_utf8_lossy(&out.stderr), "", "{target}");
        }
    }

    #[test]
    fn the_table_is_replaced_atomically_and_kept_when_counting_fails() {
        let d = inputs();
        ok(&["--save-table", "t.gct", "0.txt"], d.path());
        let before = std::fs::read(d.path().join("t.gct")).unwrap();
        // A missing input: the rest is counted, saved and printed; status 2.
        let r = run(&["--save-table", "t.gct", "1.txt", "missing.txt"], d.path());
        assert_eq!(r.code, 2);
        assert_ne!(std::fs::read(d.path().join("t.gct")).unwrap(), before);
        // The problem is in the merged summary, as in the count's.
        let merged = ok(&["merge", "t.gct", "-f", "json"], d.path());
        assert!(String::from_utf8_lossy(&merged).contains("missing.txt"));
        // A directory that cannot hold the table: status 1, nothing left behind.
        let r = run(&["--save-table", "nowhere/t.gct", "0.txt"], d.path());
        assert_eq!(r.code, 1, "{}", r.stderr);
        let names: Vec<_> = std::fs::read_dir(d.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
        assert!(!names.iter().any(|n| n.to_string_lossy().starts_with(".gpucount-")), "{names:?}");
    }
}
