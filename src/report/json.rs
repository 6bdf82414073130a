//! JSON for machines: one object (`--format json`), or JSON Lines
//! (`--format jsonl`) for outputs too large to parse as one value.
//!
//! Both carry the same rows and the same summary. In JSON Lines each row is
//! a line of its own, exactly the object the JSON output holds for it (a
//! per-document row also names its `doc`), and the last line is
//! `{"summary": {...}}`, the only line with a `summary` key, so a reader
//! that streams rows can still check what was counted and what failed.

use super::CorpusStats;
use crate::pipeline::Outcome;
use serde::Serialize;
use serde::ser::SerializeMap;
use std::io::{self, Write};

/// The run summary: the same fields in JSON, JSON Lines and (where they
/// apply) `bench --format json`.
#[derive(Serialize)]
pub(super) struct Summary<'a> {
    files: usize,
    bytes: u64,
    tokens: u64,
    distinct_words: usize,
    /// `cpu` or `gpu`.
    backend: &'static str,
    /// Why that backend counted, in words.
    reason: &'a str,
    /// The GPU adapter, when the GPU counted.
    #[serde(skip_serializing_if = "Option::is_none")]
    adapter: Option<&'a str>,
    /// Per-input problems, with names exactly as given (and their bytes when not UTF-8).
    problems: Vec<Problem<'a>>,
    /// Of the corpus table (left out for per-document tables).
    #[serde(skip_serializing_if = "Option::is_none")]
    corpus: Option<CorpusStats>,
}

impl<'a> Summary<'a> {
    pub(super) fn of(outcome: &'a Outcome) -> Summary<'a> {
        Summary {
            files: outcome.documents,
            bytes: outcome.bytes,
            tokens: outcome.table.total(),
            distinct_words: outcome.table.len(),
            backend: outcome.plan.backend(),
            reason: outcome.plan.reason(),
            adapter: outcome.device.as_deref(),
            problems: outcome
                .errors
                .iter()
                .map(|e| Problem { input: &e.input, input_bytes: e.input_bytes.as_deref(), reason: &e.reason })
                .collect(),
            corpus: (!outcome.per_doc).then(|| CorpusStats::of(&outcome.table)),
        }
    }
}

#[derive(Serialize)]
struct Problem<'a> {
    input: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    input_bytes: Option<&'a [u8]>,
    reason: &'a str,
}

/// `{KEY: [rows], "summary": {...}}`, pretty-printed, then a newline.
pub(super) fn object<R: Serialize>(out: &mut dyn Write, key: &str, rows: &[R], outcome: &Outcome) -> io::Result<()> {
    struct Doc<'a, R> {
        key: &'a str,
        rows: &'a [R],
        summary: Summary<'a>,
    }
    impl<R: Serialize> Serialize for Doc<'_, R> {
        fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            let mut map = s.serialize_map(Some(2))?;
            map.serialize_entry(self.key, self.rows)?;
            map.serialize_entry("summary", &self.summary)?;
            map.end()
        }
    }
    let doc = Doc { key, rows, summary: Summary::of(outcome) };
    // io::Error::from keeps an I/O error's kind (a closed pipe stays BrokenPipe).
    serde_json::to_writer_pretty(&mut *out, &doc).map_err(io::Error::from)?;
    writeln!(out)
}

/// One compact line per row, then the `{"summary": {...}}` line.
pub(super) fn lines<R: Serialize>(
    out: &mut dyn Write,
    rows: impl IntoIterator<Item = R>,
    outcome: &Outcome,
) -> io::Result<()> {
    for row in rows {
        serde_json::to_writer(&mut *out, &row).map_err(io::Error::from)?;
        writeln!(out)?;
    }
    #[derive(Serialize)]
    struct Last<'a> {
        summary: Summary<'a>,
    }
    serde_json::to_writer(&mut *out, &Last { summary: Summary::of(outcome) }).map_err(io::Error::from)?;
    writeln!(out)
}
