//! Reports of per-document tables (keys made by [`crate::keys::doc_key`]):
//! counts per document with tf-idf weights, and corpus counts with document
//! frequencies.
//!
//! tf-idf is scikit-learn's default (`TfidfTransformer(smooth_idf=True,
//! norm="l2")`): `idf(t) = ln((1 + n) / (1 + df(t))) + 1` with `n` the
//! number of documents counted, `tfidf(t, d) = count(t, d) * idf(t)`, then
//! each document's weights divided by their Euclidean norm.

use super::{Format, ReportOptions, SortBy, csv_io, json};
use crate::keys::split_doc_key;
use crate::pipeline::Outcome;
use crate::table::CountTable;
use serde::Serialize;
use std::collections::HashMap;
use std::io::{self, Write};

/// A document-frequency bound: a number of documents, or a share of them.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum DfBound {
    Docs(u64),
    Share(f64),
}

impl DfBound {
    /// Parses an integer (documents) or a number with a point (a share, 0 to 1),
    /// as scikit-learn's `min_df`/`max_df`.
    pub fn parse(s: &str) -> Result<DfBound, String> {
        if let Ok(n) = s.parse::<u64>() {
            return Ok(DfBound::Docs(n));
        }
        match s.parse::<f64>() {
            Ok(x) if (0.0..=1.0).contains(&x) => Ok(DfBound::Share(x)),
            _ => {
                Err("expected a number of documents (such as 2) or a share of them from 0.0 to 1.0 (such as 0.5)"
                    .into())
            }
        }
    }

    fn docs(self, n: u64) -> f64 {
        match self {
            DfBound::Docs(d) => d as f64,
            DfBound::Share(x) => x * n as f64,
        }
    }
}

/// What to print of a per-document table.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct DocOptions {
    /// Print counts per document (else corpus counts with a df column).
    pub per_doc: bool,
    /// With `per_doc`: add the df column too.
    pub doc_freq: bool,
    /// Add tf-idf weights (per document only).
    pub tfidf: bool,
    /// Keep terms in at least / at most this many documents.
    pub min_df: Option<DfBound>,
    pub max_df: Option<DfBound>,
    /// Order corpus rows by document frequency (descending, ties by count then term).
    pub sort_df: bool,
}

/// One (document, term, count) of the table.
type Cell<'a> = (u64, &'a str, u64);

fn cells(table: &CountTable) -> Vec<Cell<'_>> {
    table.iter().filter_map(|(key, n)| split_doc_key(key).map(|(d, t)| (d, t, n))).collect()
}

/// Documents holding each term.
fn document_frequencies<'a>(cells: &[Cell<'a>]) -> HashMap<&'a str, u64> {
    let mut df = HashMap::new();
    for &(_, term, _) in cells {
        *df.entry(term).or_insert(0) += 1;
    }
    df
}

/// Writes the report of a per-document table.
pub fn write_docs(out: &mut dyn Write, outcome: &Outcome, report: &ReportOptions, opts: &DocOptions) -> io::Result<()> {
    let cells = cells(&outcome.table);
    let df = document_frequencies(&cells);
    let n = outcome.documents as u64;
    let kept = |term: &str| {
        let d = df[term] as f64;
        opts.min_df.is_none_or(|b| d >= b.docs(n)) && opts.max_df.is_none_or(|b| d <= b.docs(n))
    };
    if opts.per_doc {
        per_document(out, outcome, report, opts, cells, &df, &kept)
    } else {
        corpus(out, outcome, report, opts, &cells, &df, &kept)
    }
}

#[derive(Serialize)]
struct DocRow<'a> {
    word: &'a str,
    count: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    df: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    tfidf: Option<f64>,
}

#[derive(Serialize)]
struct DocGroup<'a> {
    doc: &'a str,
    words: Vec<DocRow<'a>>,
}

fn per_document(
    out: &mut dyn Write,
    outcome: &Outcome,
    report: &ReportOptions,
    opts: &DocOptions,
    mut cells: Vec<Cell<'_>>,
    df: &HashMap<&str, u64>,
    kept: &dyn Fn(&str) -> bool,
) -> io::Result<()> {
    let n = outcome.documents as f64;
    let idf = |term: &str| ((1.0 + n) / (1.0 + df[term] as f64)).ln() + 1.0;
    // Norms over every term of a document, before any row is left out,
    // each summed in term order: floating-point sums depend on the order,
    // and a table's own (a merge's, a thread count's) must not show.
    let mut norms: HashMap<u64, f64> = HashMap::new();
    if opts.tfidf {
        cells.sort_unstable_by(|a, b| a.0.cmp(&b.0).then_with(|| a.1.as_bytes().cmp(b.1.as_bytes())));
        for &(d, t, c) in &cells {
            *norms.entry(d).or_insert(0.0) += (c as f64 * idf(t)).powi(2);
        }
    }
    cells.retain(|&(_, t, c)| c >= report.min_count && kept(t));
    cells.sort_unstable_by(|a, b| {
        let by = match report.sort {
            SortBy::Count => b.2.cmp(&a.2).then_with(|| a.1.as_bytes().cmp(b.1.as_bytes())),
            SortBy::Word => a.1.as_bytes().cmp(b.1.as_bytes()),
        };
        a.0.cmp(&b.0).then(by)
    });
    let names: HashMap<u64, &str> = outcome.names.iter().map(|(d, name)| (*d, name.as_str())).collect();
    let mut groups: Vec<DocGroup<'_>> = Vec::new();
    let mut current = None;
    for (d, term, count) in cells {
        if current != Some(d) {
            current = Some(d);
            groups.push(DocGroup { doc: names.get(&d).copied().unwrap_or("?"), words: Vec::new() });
        }
        let Some(group) = groups.last_mut() else { continue };
        if report.top.is_some_and(|top| group.words.len() >= top) {
            continue;
        }
        let tfidf = opts.tfidf.then(|| count as f64 * idf(term) / norms[&d].sqrt());
        let df = opts.doc_freq.then(|| df[term]);
        group.words.push(DocRow { word: term, count, df, tfidf });
    }
    match report.format {
        Format::Tsv | Format::Table => {
            for g in &groups {
                for r in &g.words {
                    write!(out, "{}\t{}\t{}", g.doc, r.word, r.count)?;
                    if let Some(df) = r.df {
                        write!(out, "\t{df}")?;
                    }
                    match r.tfidf {
                        Some(w) => writeln!(out, "\t{w:.6}")?,
                        None => writeln!(out)?,
                    }
                }
            }
        }
        Format::Csv => {
            let mut w = csv::Writer::from_writer(&mut *out);
            let mut header = vec!["doc", "word", "count"];
            header.extend(opts.doc_freq.then_some("df"));
            header.extend(opts.tfidf.then_some("tfidf"));
            w.write_record(&header).map_err(csv_io)?;
            for g in &groups {
                for r in &g.words {
                    let mut record = vec![g.doc.to_string(), r.word.to_string(), r.count.to_string()];
                    record.extend(r.df.map(|d| d.to_string()));
                    record.extend(r.tfidf.map(|x| format!("{x:.6}")));
                    w.write_record(&record).map_err(csv_io)?;
                }
            }
            w.flush()?;
        }
        Format::Json => json::object(out, "documents", &groups, outcome)?,
        Format::Jsonl => {
            /// A per-document row on a line of its own names its document.
            #[derive(Serialize)]
            struct Line<'a> {
                doc: &'a str,
                #[serde(flatten)]
                row: &'a DocRow<'a>,
            }
            let lines = groups.iter().flat_map(|g| g.words.iter().map(|row| Line { doc: g.doc, row }));
            json::lines(out, lines, outcome)?;
        }
    }
    out.flush()
}

#[derive(Serialize)]
struct DfRow<'a> {
    word: &'a str,
    count: u64,
    df: u64,
}

fn corpus(
    out: &mut dyn Write,
    outcome: &Outcome,
    report: &ReportOptions,
    opts: &DocOptions,
    cells: &[Cell<'_>],
    df: &HashMap<&str, u64>,
    kept: &dyn Fn(&str) -> bool,
) -> io::Result<()> {
    let mut counts: HashMap<&str, u64> = HashMap::new();
    for &(_, t, c) in cells {
        *counts.entry(t).or_insert(0) += c;
    }
    let mut rows: Vec<DfRow<'_>> = counts
        .into_iter()
        .filter(|&(t, c)| c >= report.min_count && kept(t))
        .map(|(word, count)| DfRow { word, count, df: df[word] })
        .collect();
    let by_count =
        |a: &DfRow<'_>, b: &DfRow<'_>| b.count.cmp(&a.count).then_with(|| a.word.as_bytes().cmp(b.word.as_bytes()));
    if opts.sort_df {
        rows.sort_unstable_by(|a, b| b.df.cmp(&a.df).then_with(|| by_count(a, b)));
    } else {
        rows.sort_unstable_by(by_count);
    }
    if let Some(top) = report.top {
        rows.truncate(top);
    }
    if report.sort == SortBy::Word {
        rows.sort_unstable_by(|a, b| a.word.as_bytes().cmp(b.word.as_bytes()));
    }
    match report.format {
        Format::Tsv => {
            for r in &rows {
                writeln!(out, "{}\t{}\t{}", r.word, r.count, r.df)?;
            }
        }
        Format::Table => {
            writeln!(out, "{:>9}  {:>6}  word", "count", "df")?;
            for r in &rows {
                writeln!(
                    out,
                    "{:>9}  {:>6}  {}",
                    super::group_thousands(r.count),
                    super::group_thousands(r.df),
                    r.word
                )?;
            }
        }
        Format::Csv => {
            let mut w = csv::Writer::from_writer(&mut *out);
            w.write_record(["word", "count", "df"]).map_err(csv_io)?;
            for r in &rows {
                w.write_record([r.word, &r.count.to_string(), &r.df.to_string()]).map_err(csv_io)?;
            }
            w.flush()?;
        }
        Format::Json => json::object(out, "words", &rows, outcome)?,
        Format::Jsonl => json::lines(out, &rows, outcome)?,
    }
    out.flush()
}
