//! Output for machines: the JSON summary's fields, JSON Lines against JSON
//! for every kind of report, and `bench --format json` against the summary.

use crate::util::{Dir, gpucount};
use serde_json::{Value, json};

fn stdout_of(args: &[&str]) -> Vec<u8> {
    gpucount().args(args).assert().success().get_output().stdout.clone()
}

fn json_of(args: &[&str]) -> Value {
    serde_json::from_slice(&stdout_of(args)).unwrap()
}

/// Two documents with shared and own words, for every kind of report.
fn corpus(d: &Dir) -> Vec<String> {
    let a = d.write("a.txt", "the river and the bank\nthe heron and the river river");
    let b = d.write("b.txt", "a bank of the river\nthe mill and the bank");
    [a, b].iter().map(|p| p.to_str().unwrap().to_string()).collect()
}

#[test]
fn the_summary_names_backend_and_reason_apart() {
    let d = Dir::new();
    let files = corpus(&d);
    let out = stdout_of(&["--backend", "cpu", "-f", "json", &files[0]]);
    let v: Value = serde_json::from_slice(&out).unwrap();
    let s = &v["summary"];
    assert_eq!(s["backend"], "cpu");
    assert_eq!(s["reason"], "chosen with --backend cpu");
    assert!(s.get("adapter").is_none(), "no adapter on the CPU: {s}");
    // The fields that were there before stay, in their order (Value sorts keys: read the text).
    let keys = ["files", "bytes", "tokens", "distinct_words", "backend", "reason", "problems", "corpus"];
    assert_eq!(s.as_object().unwrap().len(), keys.len(), "{s}");
    let text = std::str::from_utf8(&out).unwrap();
    let at: Vec<usize> = keys.iter().map(|k| text.find(&format!("\n    \"{k}\": ")).expect(k)).collect();
    assert!(at.is_sorted(), "{text}");
    let auto = json_of(&["-f", "json", &files[0]]);
    assert_eq!(auto["summary"]["backend"], "cpu");
    assert!(auto["summary"]["reason"].as_str().unwrap().contains("below the 64 MiB"), "{}", auto["summary"]);
}

/// Parses JSON Lines: every line one object; the last one `{"summary": ...}`.
fn lines(out: &[u8]) -> (Vec<Value>, Value) {
    let text = std::str::from_utf8(out).unwrap();
    assert!(text.ends_with('\n'), "{text:?}");
    let mut values: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("line {l:?} is not JSON: {e}")))
        .collect();
    let last = values.pop().expect("a summary line");
    let summary = last.as_object().filter(|o| o.len() == 1).and_then(|o| o.get("summary")).cloned();
    let summary = summary.unwrap_or_else(|| panic!("last line is not {{\"summary\": ...}}: {last}"));
    for v in &values {
        assert!(v.is_object() && v.get("summary").is_none(), "{v}");
    }
    (values, summary)
}

#[test]
fn jsonl_rows_equal_the_json_rows_in_every_kind_of_report() {
    let d = Dir::new();
    let files = corpus(&d);
    let kinds: &[&[&str]] = &[
        &[],
        &["--share"],
        &["--top", "3"],
        &["--sort", "word", "--min-count", "2"],
        &["--ngram", "2"],
        &["--ngram", "1-3", "--stopwords", "en", "--share"],
        &["--doc-freq"],
        &["--doc-freq", "--sort", "df", "--min-df", "2"],
        &["--per-doc"],
        &["--per-doc", "--tfidf", "--doc-freq", "--top", "2"],
        &["--per-doc", "--ngram", "2"],
    ];
    for kind in kinds {
        let run = |format: &str| {
            let mut args = vec!["--backend", "cpu", "-f", format];
            args.extend_from_slice(kind);
            args.extend(files.iter().map(String::as_str));
            stdout_of(&args)
        };
        let json: Value = serde_json::from_slice(&run("json")).unwrap();
        let (rows, summary) = lines(&run("jsonl"));
        assert_eq!(summary, json["summary"], "{kind:?}");
        // Per-document JSON groups rows under their document; each line names it.
        let expected: Vec<Value> = match json.get("documents") {
            Some(docs) => docs
                .as_array()
                .unwrap()
                .iter()
                .flat_map(|g| {
                    g["words"].as_array().unwrap().iter().map(|r| {
                        let mut line = json!({"doc": g["doc"]});
                        line.as_object_mut().unwrap().extend(r.as_object().unwrap().clone());
                        line
                    })
                })
                .collect(),
            None => json["words"].as_array().unwrap().clone(),
        };
        assert!(!expected.is_empty(), "{kind:?}");
        assert_eq!(rows, expected, "{kind:?}");
    }
    // Per-document lines keep their keys in one order: doc first.
    let out = stdout_of(&["--per-doc", "--tfidf", "-f", "jsonl", &files[0]]);
    let first = std::str::from_utf8(&out).unwrap().lines().next().unwrap().to_string();
    assert!(first.starts_with("{\"doc\":") && first.contains("\"tfidf\":"), "{first}");
}

#[test]
fn jsonl_of_nothing_is_the_summary_alone_and_problems_are_in_it() {
    let d = Dir::new();
    let missing = d.path().join("missing.txt");
    let out = gpucount().arg(&missing).args(["-f", "jsonl"]).assert().code(2).get_output().stdout.clone();
    let (rows, summary) = lines(&out);
    assert!(rows.is_empty());
    assert_eq!(summary["files"], 0);
    assert_eq!(summary["problems"][0]["input"], missing.to_str().unwrap());
}

#[test]
fn bench_json_uses_the_summarys_names() {
    let d = Dir::new();
    let files = corpus(&d);
    let count = json_of(&["-f", "json", &files[0], &files[1]]);
    let bench = json_of(&["bench", "--runs", "1", "--no-gpu", "-j", "2", "-f", "json", &files[0], &files[1]]);
    for field in ["files", "bytes", "tokens", "distinct_words"] {
        assert_eq!(bench[field], count["summary"][field], "{field}");
    }
    for gone in ["inputs", "distinct"] {
        assert!(bench.get(gone).is_none(), "{gone} is still there");
    }
    let rows = bench["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 2);
    for (row, threads) in rows.iter().zip([1, 2]) {
        assert_eq!(row["backend"], "cpu");
        assert_eq!(row["threads"], threads);
        assert!(row.get("adapter").is_none() && row.get("on").is_none(), "{row}");
        // Stages: an object of seconds.
        let stages = row["stages"].as_object().expect("stages as an object");
        let mut names: Vec<&str> = stages.keys().map(String::as_str).collect();
        names.sort();
        assert_eq!(names, ["read+decode", "tokenize+hash+count", "walk"], "{row}");
        assert!(stages.values().all(|s| s.as_f64().is_some_and(|s| s >= 0.0)), "{row}");
    }
    // In pipeline order (Value sorts keys: read the text).
    let text = String::from_utf8(stdout_of(&["bench", "--runs", "1", "--no-gpu", "-f", "json", &files[0]])).unwrap();
    let at: Vec<usize> =
        ["\"walk\"", "\"read+decode\"", "\"tokenize+hash+count\""].iter().map(|k| text.find(k).unwrap()).collect();
    assert!(at.is_sorted(), "{text}");
}

#[test]
fn bench_progress_only_on_a_terminal() {
    let d = Dir::new();
    let files = corpus(&d);
    gpucount().args(["bench", "--runs", "2", "--no-gpu", &files[0]]).assert().success().stderr("");
    // Under a pseudo-terminal (util-linux `script`) the runs are reported as they go.
    let command = format!("'{}' bench --runs 2 --no-gpu '{}' >/dev/null", env!("CARGO_BIN_EXE_gpucount"), files[0]);
    match std::process::Command::new("script").args(["-qec", &command, "/dev/null"]).output() {
        Ok(out) => {
            let seen = String::from_utf8_lossy(&out.stdout);
            assert!(out.status.success(), "{seen}");
            assert!(seen.contains("bench: warm-up: cpu 1 thread") && seen.contains("bench: run 2/2"), "{seen}");
        }
        Err(e) => eprintln!("SKIPPED the terminal half: no `script` ({e})"),
    }
}
