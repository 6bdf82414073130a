//! Reports: ordering rows and writing them as TSV, CSV, JSON, JSON Lines or
//! a table, and the `--stats` summary.

mod corpus;
mod docs;
mod json;
mod stats;

pub use corpus::{CorpusStats, ZIPF_RANKS, ZipfFit};
pub use docs::{DfBound, DocOptions};
pub use stats::{peak_resident_bytes, write_stats};

use crate::pipeline::Outcome;
use crate::table::{sort_rows, sort_rows_by_word};
use serde::Serialize;
use std::io::{self, Write};
use std::time::Instant;

/// What to print of a table.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ReportOptions {
    pub format: Format,
    /// Keep the N most frequent rows.
    pub top: Option<usize>,
    /// Keep rows counted at least this often.
    pub min_count: u64,
    /// Add each row's share of all tokens and the cumulative share (coverage).
    pub share: bool,
    /// The order rows are printed in (`top` keeps the most frequent first).
    pub sort: SortBy,
    /// How a per-document table is printed (set for per-document runs).
    pub docs: Option<DocOptions>,
}

impl Default for ReportOptions {
    fn default() -> Self {
        ReportOptions { format: Format::Tsv, top: None, min_count: 1, share: false, sort: SortBy::Count, docs: None }
    }
}

/// The order of printed rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SortBy {
    /// Count descending, then word bytes ascending.
    #[default]
    Count,
    /// Word bytes ascending (as `sort | uniq -c` users expect).
    Word,
}

/// Writes `outcome`'s table to `out` in report order, and records the time
/// spent resolving keys to rows and sorting and writing them in its stages.
pub fn write(out: &mut dyn Write, outcome: &mut Outcome, opts: &ReportOptions) -> io::Result<()> {
    let t_resolve = Instant::now();
    if let Some(docs) = &opts.docs {
        let written = docs::write_docs(out, outcome, opts, docs);
        outcome.stages.output = t_resolve.elapsed();
        return written;
    }
    let (written, resolve, t_output) = {
        let min_count = opts.min_count.max(1);
        let (rows, resolve, t_output) = match opts.top {
            None => {
                let keyed = outcome.table.keyed_rows(min_count, opts.sort == SortBy::Count);
                let (resolve, t_output) = (t_resolve.elapsed(), Instant::now());
                (keyed.sorted(), resolve, t_output)
            }
            top => {
                let rows = outcome.table.rows(min_count);
                let (resolve, t_output) = (t_resolve.elapsed(), Instant::now());
                let rows = match opts.sort {
                    SortBy::Count => sort_rows(rows, top),
                    // The most frequent first, then printed by word.
                    SortBy::Word => sort_rows_by_word(sort_rows(rows, top)),
                };
                (rows, resolve, t_output)
            }
        };
        (write_rows(out, outcome, &rows, opts), resolve, t_output)
    };
    outcome.stages.resolve = resolve;
    outcome.stages.output = t_output.elapsed();
    written
}

/// Output format of the counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Format {
    /// `word<TAB>count` lines, no header.
    #[default]
    Tsv,
    /// RFC 4180, header `word,count`.
    Csv,
    /// One object: `words` (word, count) and a `summary`.
    Json,
    /// JSON Lines: one object per row (as in `Json`), then a `{"summary": ...}` line.
    Jsonl,
    /// Aligned columns for people: rank, count, share of all tokens, word.
    Table,
}

#[derive(Serialize)]
struct Row<'a> {
    word: &'a str,
    count: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    share: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    cumulative: Option<f64>,
}

/// Each row's share of all tokens and the running total of shares, in print order.
fn shares(rows: &[(&str, u64)], total: u64) -> Vec<(f64, f64)> {
    let mut sum = 0u64;
    rows.iter()
        .map(|&(_, n)| {
            sum += n;
            if total == 0 { (0.0, 0.0) } else { (n as f64 / total as f64, sum as f64 / total as f64) }
        })
        .collect()
}

/// The run summary that `--format json` prints under `summary`, as JSON text
/// (for bindings, which show the same fields as the command line).
pub fn summary_json(outcome: &Outcome) -> String {
    serde_json::to_string(&json::Summary::of(outcome)).unwrap_or_else(|_| "{}".into())
}

/// Writes `rows` (already in report order) of `outcome` to `out`.
pub fn write_rows(
    out: &mut dyn Write,
    outcome: &Outcome,
    rows: &[(&str, u64)],
    opts: &ReportOptions,
) -> io::Result<()> {
    // Plain TSV, the default and largest output, prints no shares.
    let plain_tsv = opts.format == Format::Tsv && !opts.share;
    let shares = if plain_tsv { Vec::new() } else { shares(rows, outcome.table.total()) };
    match opts.format {
        Format::Tsv if plain_tsv => write_tsv(out, rows)?,
        Format::Tsv => {
            for ((word, count), (share, cumulative)) in rows.iter().zip(&shares) {
                writeln!(out, "{word}\t{count}\t{share:.6}\t{cumulative:.6}")?;
            }
        }
        Format::Csv => {
            let mut w = csv::Writer::from_writer(&mut *out);
            let header: &[&str] =
                if opts.share { &["word", "count", "share", "cumulative"] } else { &["word", "count"] };
            w.write_record(header).map_err(csv_io)?;
            for ((word, count), (share, cumulative)) in rows.iter().zip(&shares) {
                let mut record = vec![word.to_string(), count.to_string()];
                if opts.share {
                    record.extend([format!("{share:.6}"), format!("{cumulative:.6}")]);
                }
                w.write_record(&record).map_err(csv_io)?;
            }
            w.flush()?;
        }
        Format::Json | Format::Jsonl => {
            let json_rows = rows.iter().zip(&shares).map(|(&(word, count), &(share, cumulative))| Row {
                word,
                count,
                share: opts.share.then_some(share),
                cumulative: opts.share.then_some(cumulative),
            });
            if opts.format == Format::Json {
                json::object(out, "words", &json_rows.collect::<Vec<_>>(), outcome)?;
            } else {
                json::lines(out, json_rows, outcome)?;
            }
        }
        Format::Table => write_table(out, rows, &shares, opts.share)?,
    }
    out.flush()
}

/// How many rows ahead [`write_tsv`] asks for a word.
const ROWS_AHEAD: usize = 16;

/// `word<TAB>count` lines, the most common output: built in a buffer of
/// their own (no formatting machinery, one write per 64 KiB), since a large
/// vocabulary prints millions of them.
fn write_tsv(out: &mut dyn Write, rows: &[(&str, u64)]) -> io::Result<()> {
    let mut buf = Vec::with_capacity(1 << 16);
    let mut digits = itoa::Buffer::new();
    for (i, &(word, count)) in rows.iter().enumerate() {
        // Rows in count order lie all over the table: ask for a later
        // row's word while this one is written.
        if let Some((ahead, _)) = rows.get(i + ROWS_AHEAD) {
            crate::table::prefetch_line(*ahead);
        }
        buf.extend_from_slice(word.as_bytes());
        buf.push(b'\t');
        buf.extend_from_slice(digits.format(count).as_bytes());
        buf.push(b'\n');
        if buf.len() >= (1 << 16) - 256 {
            out.write_all(&buf)?;
            buf.clear();
        }
    }
    out.write_all(&buf)
}

fn csv_io(e: csv::Error) -> io::Error {
    match e.into_kind() {
        csv::ErrorKind::Io(e) => e,
        other => io::Error::other(format!("{other:?}")),
    }
}

fn write_table(out: &mut dyn Write, rows: &[(&str, u64)], shares: &[(f64, f64)], cumulative: bool) -> io::Result<()> {
    let counts: Vec<String> = rows.iter().map(|r| group_thousands(r.1)).collect();
    let rank_w = rows.len().to_string().len().max(4);
    let count_w = counts.iter().map(String::len).max().unwrap_or(0).max(5);
    let extra = if cumulative { format!("  {:>10}", "cumulative") } else { String::new() };
    writeln!(out, "{:>rank_w$}  {:>count_w$}  {:>7}{extra}  word", "rank", "count", "share")?;
    for (i, (((word, _), shown), (share, sum))) in rows.iter().zip(&counts).zip(shares).enumerate() {
        let extra = if cumulative { format!("  {:>9.2}%", sum * 100.0) } else { String::new() };
        writeln!(out, "{:>rank_w$}  {shown:>count_w$}  {:>6.2}%{extra}  {word}", i + 1, share * 100.0)?;
    }
    Ok(())
}

/// 1234567 -> "1,234,567".
pub fn group_thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

impl Format {
    pub const ALL: [Format; 5] = [Format::Tsv, Format::Csv, Format::Json, Format::Jsonl, Format::Table];

    pub fn name(self) -> &'static str {
        match self {
            Format::Tsv => "tsv",
            Format::Csv => "csv",
            Format::Json => "json",
            Format::Jsonl => "jsonl",
            Format::Table => "table",
        }
    }
}
