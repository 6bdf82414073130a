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

/// One (document, term, count) of the table, with its term's first 8
/// bytes (big-endian, zero-padded: prefixes that differ order as the
/// bytes do), so that sorting seldom reaches the term, scattered over the
/// table's memory.
#[derive(Debug, Clone, Copy)]
struct Cell<'a> {
    doc: u64,
    prefix: u64,
    term: &'a str,
    count: u64,
    /// The documents holding the term (set after [`terms`]).
    df: u64,
}

impl<'a> Cell<'a> {
    fn new(doc: u64, term: &'a str, count: u64) -> Self {
        let mut p = [0u8; 8];
        let n = term.len().min(8);
        p[..n].copy_from_slice(&term.as_bytes()[..n]);
        Cell { doc, prefix: u64::from_be_bytes(p), term, count, df: 0 }
    }
}

fn cells(table: &CountTable) -> Vec<Cell<'_>> {
    table.iter().filter_map(|(key, count)| split_doc_key(key).map(|(doc, term)| Cell::new(doc, term, count))).collect()
}

/// Sorts cells by document, then by `first` (ascending), then by term
/// bytes; millions of them on every core.
fn sort_cells(cells: &mut [Cell<'_>], first: impl Fn(&Cell<'_>) -> u64 + Sync) {
    use rayon::slice::ParallelSliceMut;
    cells.par_sort_unstable_by(|a, b| {
        (a.doc, first(a), a.prefix)
            .cmp(&(b.doc, first(b), b.prefix))
            .then_with(|| a.term.as_bytes().cmp(b.term.as_bytes()))
    });
}

/// A term over the corpus: the documents holding it and its count in all.
#[derive(Debug, Clone, Copy, Default)]
struct Term {
    df: u64,
    count: u64,
}

/// Every term of a per-document table, from one pass over its cells (a
/// cell per document and term, millions for a large corpus: foldhash, not
/// SipHash, and one map, not one per figure).
type Terms<'a> = HashMap<&'a str, Term, foldhash::fast::RandomState>;

fn terms<'a>(cells: &[Cell<'a>]) -> Terms<'a> {
    let mut terms = Terms::default();
    for c in cells {
        let t = terms.entry(c.term).or_default();
        t.df += 1;
        t.count += c.count;
    }
    terms
}

/// Writes the report of a per-document table.
pub fn write_docs(out: &mut dyn Write, outcome: &Outcome, report: &ReportOptions, opts: &DocOptions) -> io::Result<()> {
    let mut cells = cells(&outcome.table);
    let terms = terms(&cells);
    let n = outcome.documents as u64;
    let kept = |df: u64| {
        let d = df as f64;
        opts.min_df.is_none_or(|b| d >= b.docs(n)) && opts.max_df.is_none_or(|b| d <= b.docs(n))
    };
    if opts.per_doc {
        for c in &mut cells {
            c.df = terms[c.term].df;
        }
        drop(terms);
        per_document(out, outcome, report, opts, cells, &kept)
    } else {
        drop(cells);
        corpus(out, outcome, report, opts, &terms, &kept)
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
    kept: &dyn Fn(u64) -> bool,
) -> io::Result<()> {
    let n = outcome.documents as f64;
    let idf = |df: u64| ((1.0 + n) / (1.0 + df as f64)).ln() + 1.0;
    // Norms over every term of a document, before any row is left out,
    // each summed in term order: floating-point sums depend on the order,
    // and a table's own (a merge's, a thread count's) must not show.
    let mut norms: HashMap<u64, f64> = HashMap::new();
    if opts.tfidf {
        sort_cells(&mut cells, |_| 0);
        for doc in cells.chunk_by(|a, b| a.doc == b.doc) {
            let sum = doc.iter().fold(0.0, |sum, c| sum + (c.count as f64 * idf(c.df)).powi(2));
            norms.insert(doc[0].doc, sum);
        }
    }
    cells.retain(|c| c.count >= report.min_count && kept(c.df));
    match report.sort {
        SortBy::Count => sort_cells(&mut cells, |c| !c.count),
        SortBy::Word => sort_cells(&mut cells, |_| 0),
    }
    let names: HashMap<u64, &str> = outcome.names.iter().map(|(d, name)| (*d, name.as_str())).collect();
    let mut groups: Vec<DocGroup<'_>> = Vec::new();
    for doc in cells.chunk_by(|a, b| a.doc == b.doc) {
        let d = doc[0].doc;
        let norm = norms.get(&d).map_or(0.0, |s| s.sqrt());
        let words = doc.iter().take(report.top.unwrap_or(usize::MAX)).map(|c| DocRow {
            word: c.term,
            count: c.count,
            df: opts.doc_freq.then_some(c.df),
            tfidf: opts.tfidf.then(|| c.count as f64 * idf(c.df) / norm),
        });
        groups.push(DocGroup { doc: names.get(&d).copied().unwrap_or("?"), words: words.collect() });
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
    terms: &Terms<'_>,
    kept: &dyn Fn(u64) -> bool,
) -> io::Result<()> {
    let mut rows: Vec<DfRow<'_>> = terms
        .iter()
        .filter(|&(_, s)| s.count >= report.min_count && kept(s.df))
        .map(|(&word, s)| DfRow { word, count: s.count, df: s.df })
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

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};

    #[test]
    fn cells_sort_as_document_then_key_then_term_bytes() {
        // Terms that share 8-byte prefixes, are prefixes of each other, or
        // hold NULs and bytes past ASCII; few documents and counts, so ties
        // reach every part of the order.
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
        let parts = ["", "a", "\0", "é", "abcdefgh", "abcdefg", "z"];
        let terms: Vec<String> =
            (0..3_000).map(|_| (0..rng.random_range(1..4)).map(|_| parts[rng.random_range(0..7)]).collect()).collect();
        let mut cells: Vec<Cell<'_>> =
            terms.iter().map(|t| Cell::new(rng.random_range(0..4), t, rng.random_range(1..4))).collect();
        let mut want: Vec<(u64, u64, &str)> = cells.iter().map(|c| (c.doc, !c.count, c.term)).collect();
        want.sort_by(|a, b| (a.0, a.1).cmp(&(b.0, b.1)).then_with(|| a.2.as_bytes().cmp(b.2.as_bytes())));
        sort_cells(&mut cells, |c| !c.count);
        assert_eq!(cells.iter().map(|c| (c.doc, !c.count, c.term)).collect::<Vec<_>>(), want);
    }
}
