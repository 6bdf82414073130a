//! Per-document counts, document frequencies, tf-idf and corpus statistics,
//! against answers computed by hand from the documented formulas.

use crate::util::{Dir, cpu_options, run};
use gpucount::keys::split_doc_key;
use gpucount::source::Operand;
use gpucount::tokenize::Mode;
use std::collections::BTreeMap;

const DOCS: [(&str, &str); 3] =
    [("a.txt", "the cat sat on the mat"), ("b.txt", "the dog sat"), ("c.txt", "a cat and a dog")];

/// (document, term) -> count, from a per-document table.
fn per_doc(docs: &[(&str, &str)], chunk: usize, threads: usize) -> BTreeMap<(u64, String), u64> {
    let operands: Vec<Operand> = docs.iter().map(|(n, t)| Operand::text(*n, *t)).collect();
    let opts = gpucount::Options { per_doc: true, ..cpu_options(Mode::Words, false, chunk, threads) };
    let o = run(&operands, &opts);
    assert_eq!(
        o.names.iter().map(|(_, n)| n.as_str()).collect::<Vec<_>>(),
        docs.iter().map(|d| d.0).collect::<Vec<_>>()
    );
    o.table.iter().map(|(k, n)| split_doc_key(k).map(|(d, t)| ((d, t.to_string()), n)).unwrap()).collect()
}

#[test]
fn per_document_tables_never_mix_documents() {
    let expected: BTreeMap<(u64, String), u64> = [
        (0, "the", 2),
        (0, "cat", 1),
        (0, "sat", 1),
        (0, "on", 1),
        (0, "mat", 1),
        (1, "the", 1),
        (1, "dog", 1),
        (1, "sat", 1),
        (2, "a", 2),
        (2, "cat", 1),
        (2, "and", 1),
        (2, "dog", 1),
    ]
    .into_iter()
    .map(|(d, t, n)| ((d, t.to_string()), n))
    .collect();
    for (chunk, threads) in [(1 << 20, 1), (1, 3), (4, 2)] {
        assert_eq!(per_doc(&DOCS, chunk, threads), expected, "chunk {chunk}");
    }
}

#[cfg(feature = "cli")]
mod cli {
    use super::DOCS;
    use crate::util::{Dir, gpucount};

    fn corpus() -> Dir {
        let d = Dir::new();
        for (name, text) in DOCS {
            d.write(name, text);
        }
        d
    }

    fn out(d: &Dir, args: &[&str]) -> String {
        let o = gpucount().current_dir(d.path()).args(args).arg(".").assert().success();
        String::from_utf8(o.get_output().stdout.clone()).unwrap()
    }

    #[test]
    fn tfidf_by_the_documented_formula() {
        let d = corpus();
        // idf = ln((1 + n) / (1 + df)) + 1 with n = 3 documents; then l2 per document.
        let idf = |df: f64| (4.0 / (1.0 + df)).ln() + 1.0;
        let doc_a = [("the", 2.0, 2.0), ("cat", 1.0, 2.0), ("mat", 1.0, 1.0), ("on", 1.0, 1.0), ("sat", 1.0, 2.0)];
        let norm = doc_a.iter().map(|(_, c, df)| (c * idf(*df)).powi(2)).sum::<f64>().sqrt();
        let got = out(&d, &["--per-doc", "--tfidf"]);
        let lines: Vec<&str> = got.lines().collect();
        assert_eq!(lines.len(), 12, "{got}");
        for (i, (word, count, df)) in doc_a.iter().enumerate() {
            let expected = format!("./a.txt\t{word}\t{count}\t{:.6}", count * idf(*df) / norm);
            assert_eq!(lines[i], expected);
        }
        assert_eq!(lines[5], format!("./b.txt\tdog\t1\t{:.6}", 1.0 / 3f64.sqrt()));
        let csv = out(&d, &["--per-doc", "--format", "csv", "--top", "1"]);
        assert_eq!(csv, "doc,word,count\n./a.txt,the,2\n./b.txt,dog,1\n./c.txt,a,2\n");
        let with_df = out(&d, &["--per-doc", "--doc-freq", "--format", "csv", "--top", "1"]);
        assert_eq!(with_df, "doc,word,count,df\n./a.txt,the,2,2\n./b.txt,dog,1,2\n./c.txt,a,2,1\n");
        let json: serde_json::Value = serde_json::from_str(&out(&d, &["--per-doc", "--format", "json"])).unwrap();
        assert_eq!(json["documents"][2]["doc"], "./c.txt");
        assert_eq!(json["documents"][2]["words"][0]["word"], "a");
    }

    #[test]
    fn document_frequencies_and_their_bounds() {
        let d = corpus();
        assert_eq!(
            out(&d, &["--doc-freq"]),
            "the\t3\t2\na\t2\t1\ncat\t2\t2\ndog\t2\t2\nsat\t2\t2\nand\t1\t1\nmat\t1\t1\non\t1\t1\n"
        );
        assert_eq!(out(&d, &["--doc-freq", "--sort", "df", "--top", "2"]), "the\t3\t2\ncat\t2\t2\n");
        // An integer is documents, a fraction a share of them (2/3 of 3 documents = 2).
        assert_eq!(
            out(&d, &["--doc-freq", "--min-df", "2", "--sort", "word"]),
            out(&d, &["--doc-freq", "--min-df", "0.6", "--sort", "word"])
        );
        assert_eq!(
            out(&d, &["--doc-freq", "--max-df", "1", "--sort", "word"]),
            "a\t2\t1\nand\t1\t1\nmat\t1\t1\non\t1\t1\n"
        );
        assert_eq!(out(&d, &["--doc-freq", "--format", "csv", "--top", "1"]), "word,count,df\nthe,3,2\n");
        for bad in [
            &["--sort", "df"][..],
            &["--tfidf"],
            &["--min-df", "2"],
            &["--per-doc", "--share"],
            &["--doc-freq", "--min-df", "1.5"],
        ] {
            gpucount().current_dir(d.path()).args(bad).arg(".").assert().code(2);
        }
    }

    #[test]
    fn corpus_statistics_in_the_json_summary_and_stats() {
        let d = corpus();
        let json: serde_json::Value = serde_json::from_str(&out(&d, &["--format", "json"])).unwrap();
        let c = &json["summary"]["corpus"];
        assert_eq!(
            (c["tokens"].as_u64(), c["types"].as_u64(), c["hapax_legomena"].as_u64()),
            (Some(14), Some(8), Some(3))
        );
        assert_eq!(c["frequency_of_frequencies"], serde_json::json!([3, 4, 1, 0, 0, 0, 0, 0, 0, 0]));
        assert_eq!(c["type_token_ratio"].as_f64(), Some(8.0 / 14.0));
        assert!(c["zipf"]["exponent"].as_f64().unwrap() > 0.0);
        let o = gpucount().current_dir(d.path()).args(["--stats", "."]).assert().success();
        let err = String::from_utf8(o.get_output().stderr.clone()).unwrap();
        assert!(err.contains("hapax legomena 3 (37.5% of types)"), "{err}");
        assert!(err.contains("types seen 1..10 times: 3 4 1 0 0 0 0 0 0 0"), "{err}");
    }

    #[test]
    fn per_document_ngrams() {
        let d = corpus();
        let got = out(&d, &["--per-doc", "--ngram", "2", "--sort", "word"]);
        assert!(got.starts_with("./a.txt\tcat sat\t1\n./a.txt\ton the\t1\n"), "{got}");
        assert!(!got.contains("mat the") && !got.contains("sat a"), "no bigram across documents: {got}");
    }
}

#[test]
fn per_document_counts_on_the_gpu_equal_the_cpu() {
    #[cfg(all(feature = "gpu", feature = "cli"))]
    {
        if !crate::util::gpu_available() {
            return;
        }
        let d = Dir::new();
        let text = gpucount::sample::ZipfText { words: 5_000, vocabulary: 300, ..Default::default() }.to_text();
        for i in 0..5 {
            d.write(&format!("{i}.txt"), &text[i * 1000..]);
        }
        let opts = gpucount::Options { per_doc: true, ..cpu_options(Mode::Words, false, 256, 2) };
        let gpu = crate::util::on_gpu(&opts, Default::default());
        let rows = |o: gpucount::Outcome| crate::util::rows(&o.table);
        let inputs = [Operand::Path(d.path().to_path_buf())];
        assert_eq!(rows(run(&inputs, &gpu)), rows(run(&inputs, &opts)));
    }
}

#[cfg(feature = "cli")]
#[test]
fn plots_of_counts_and_of_bench() {
    use crate::util::gpucount;
    let d = Dir::new();
    let text = gpucount::sample::ZipfText { words: 20_000, vocabulary: 2_000, ..Default::default() }.to_text();
    let input = d.write("z.txt", text);
    let png = d.path().join("rank.png");
    gpucount().arg(&input).arg("--plot").arg(&png).args(["-o", "/dev/null"]).assert().success();
    let bytes = std::fs::read(&png).unwrap();
    assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n");
    let svg = d.path().join("rank.svg");
    gpucount().arg(&input).arg("--plot").arg(&svg).args(["-o", "/dev/null"]).assert().success();
    assert!(std::fs::read_to_string(&svg).unwrap().contains("Zipf fit: s = "));
    let bars = d.path().join("bench.svg");
    gpucount().args(["bench", "--runs", "1", "--no-gpu", "--plot"]).arg(&bars).arg(&input).assert().success();
    assert!(std::fs::read_to_string(&bars).unwrap().contains("cpu 1 thread"));
    // A name that is neither: a usage error before counting; a directory that
    // does not exist: one line after the counts, exit 1.
    let bad =
        gpucount().arg(&input).arg("--plot").arg(d.path().join("x.gif")).args(["-o", "/dev/null"]).assert().code(2);
    assert!(String::from_utf8(bad.get_output().stderr.clone()).unwrap().contains("name a .svg or .png file"));
    let missing = d.path().join("no/such/dir/x.png");
    let bad = gpucount().arg(&input).arg("--plot").arg(&missing).args(["-o", "/dev/null"]).assert().code(1);
    let err = String::from_utf8(bad.get_output().stderr.clone()).unwrap();
    assert!(err.starts_with("gpucount: cannot write") && err.lines().count() == 1, "{err}");
    gpucount().arg(&input).args(["--per-doc", "--plot", "x.png"]).assert().code(2);
}
