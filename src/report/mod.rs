//! Reports: ordering rows and writing them as TSV, CSV, JSON or a table, and
//! the `--stats` summary.

mod stats;

pub use stats::{peak_resident_bytes, write_stats};

use crate::pipeline::Outcome;
use crate::table::sort_rows;
use serde::Serialize;
use std::io::{self, Write};
use std::time::Instant;

/// What to print of a table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReportOptions {
    pub format: Format,
    /// Keep the N most frequent rows.
    pub top: Option<usize>,
    /// Keep rows counted at least this often.
    pub min_count: u64,
}

impl Default for ReportOptions {
    fn default() -> Self {
        ReportOptions { format: Format::Tsv, top: None, min_count: 1 }
    }
}

/// Writes `outcome`'s table to `out` in report order, and records the time
/// spent resolving keys to rows and sorting and writing them in its stages.
pub fn write(out: &mut dyn Write, outcome: &mut Outcome, opts: &ReportOptions) -> io::Result<()> {
    let t_resolve = Instant::now();
    let (written, resolve, t_output) = {
        let rows = outcome.table.rows(opts.min_count.max(1));
        let resolve = t_resolve.elapsed();
        let t_output = Instant::now();
        let rows = sort_rows(rows, opts.top);
        (write_rows(out, outcome, &rows, opts.format), resolve, t_output)
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
    /// Aligned columns for people: rank, count, share of all tokens, word.
    Table,
}

#[derive(Serialize)]
struct Row<'a> {
    word: &'a str,
    count: u64,
}

/// The run summary in JSON output.
#[derive(Serialize)]
struct Summary<'a> {
    files: usize,
    bytes: u64,
    tokens: u64,
    distinct_words: usize,
    backend: &'a str,
    /// Per-input problems, with names exactly as given (and their bytes when not UTF-8).
    problems: Vec<Problem<'a>>,
}

#[derive(Serialize)]
struct Problem<'a> {
    input: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    input_bytes: Option<&'a [u8]>,
    reason: &'a str,
}

/// Writes `rows` (already in report order) of `outcome` to `out`.
pub fn write_rows(out: &mut dyn Write, outcome: &Outcome, rows: &[(&str, u64)], format: Format) -> io::Result<()> {
    match format {
        Format::Tsv => {
            for (word, count) in rows {
                writeln!(out, "{word}\t{count}")?;
            }
        }
        Format::Csv => {
            let mut w = csv::Writer::from_writer(&mut *out);
            w.write_record(["word", "count"]).map_err(csv_io)?;
            for (word, count) in rows {
                w.write_record([word, count.to_string().as_str()]).map_err(csv_io)?;
            }
            w.flush()?;
        }
        Format::Json => {
            #[derive(Serialize)]
            struct Doc<'a> {
                words: Vec<Row<'a>>,
                summary: Summary<'a>,
            }
            let doc = Doc {
                words: rows.iter().map(|&(word, count)| Row { word, count }).collect(),
                summary: Summary {
                    files: outcome.documents,
                    bytes: outcome.bytes,
                    tokens: outcome.table.total(),
                    distinct_words: outcome.table.len(),
                    backend: &outcome.backend,
                    problems: outcome
                        .errors
                        .iter()
                        .map(|e| Problem { input: &e.input, input_bytes: e.input_bytes.as_deref(), reason: &e.reason })
                        .collect(),
                },
            };
            // io::Error::from keeps an I/O error's kind (a closed pipe stays BrokenPipe).
            serde_json::to_writer_pretty(&mut *out, &doc).map_err(io::Error::from)?;
            writeln!(out)?;
        }
        Format::Table => write_table(out, rows, outcome.table.total())?,
    }
    out.flush()
}

fn csv_io(e: csv::Error) -> io::Error {
    match e.into_kind() {
        csv::ErrorKind::Io(e) => e,
        other => io::Error::other(format!("{other:?}")),
    }
}

fn write_table(out: &mut dyn Write, rows: &[(&str, u64)], total: u64) -> io::Result<()> {
    let counts: Vec<String> = rows.iter().map(|r| group_thousands(r.1)).collect();
    let rank_w = rows.len().to_string().len().max(4);
    let count_w = counts.iter().map(String::len).max().unwrap_or(0).max(5);
    writeln!(out, "{:>rank_w$}  {:>count_w$}  {:>7}  word", "rank", "count", "share")?;
    for (i, ((word, count), shown)) in rows.iter().zip(&counts).enumerate() {
        let share = if total == 0 { 0.0 } else { *count as f64 * 100.0 / total as f64 };
        writeln!(out, "{:>rank_w$}  {shown:>count_w$}  {share:>6.2}%  {word}", i + 1)?;
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
    pub const ALL: [Format; 4] = [Format::Tsv, Format::Csv, Format::Json, Format::Table];

    pub fn name(self) -> &'static str {
        match self {
            Format::Tsv => "tsv",
            Format::Csv => "csv",
            Format::Json => "json",
            Format::Table => "table",
        }
    }
}
