//! The `--stats` summary (written to stderr by the CLI).

use super::group_thousands;
use crate::pipeline::Outcome;
use std::io::{self, Write};
use std::time::Duration;

/// Writes a human summary of a run; its wall time runs from the start of the
/// run to now (call it after the output is written).
pub fn write_stats(out: &mut dyn Write, o: &Outcome) -> io::Result<()> {
    let failed = o.errors.len();
    writeln!(out, "inputs:   {} read, {} with problems", o.documents, failed)?;
    if o.skipped_binary + o.skipped_special > 0 {
        writeln!(
            out,
            "skipped:  {} binary files (--binary counts them), {} FIFOs, sockets or devices met in walks",
            o.skipped_binary, o.skipped_special
        )?;
    }
    writeln!(
        out,
        "counted:  {} bytes, {} tokens, {} distinct",
        group_thousands(o.bytes),
        group_thousands(o.table.total()),
        group_thousands(o.table.len() as u64)
    )?;
    if !o.per_doc {
        corpus_lines(out, &super::CorpusStats::of(&o.table))?;
    }
    if o.table.collisions() > 0 {
        writeln!(out, "hashes:   {} key collisions found and kept apart", o.table.collisions())?;
    }
    for (name, enc) in &o.encodings {
        writeln!(out, "encoding: {}: {enc}", crate::error::escape_name(name.as_bytes()))?;
    }
    let plural = if o.threads == 1 { "" } else { "s" };
    writeln!(out, "backend:  {} ({} thread{plural})", o.backend, o.threads)?;
    for note in &o.notes {
        writeln!(out, "          {note}")?;
    }
    let s = &o.stages;
    writeln!(out, "stages (thread-seconds; stages overlap):")?;
    let mut line = |name: &str, d: Duration| writeln!(out, "  {name:<24} {:>9.3} s", d.as_secs_f64());
    let backend_stages = s.backend.len();
    let named = s.named();
    let general = named.len() - backend_stages;
    for (i, (name, d)) in named.into_iter().enumerate() {
        // Backend stages are parts of `count`: indent them under it.
        line(&if i < general { name } else { format!("  {name}") }, d)?;
    }
    line("resolve", s.resolve)?;
    line("sort+output", s.output)?;
    writeln!(out, "threads (chunks, documents started, text bytes, busy seconds counting):")?;
    for (i, w) in o.workers.iter().enumerate() {
        // The first counts what the workers leave when they fall behind its reading.
        let name = if i == 0 { "reader".to_string() } else { i.to_string() };
        writeln!(
            out,
            "  {name:<6} {:>9} {:>9} {:>15} {:>9.3} s",
            group_thousands(w.chunks),
            group_thousands(w.documents),
            group_thousands(w.bytes),
            w.busy.as_secs_f64()
        )?;
    }
    if let Some(peak) = peak_resident_bytes() {
        writeln!(out, "memory:   peak resident {} MB", peak >> 20)?;
    }
    let wall = o.started.elapsed();
    let mbps = o.bytes as f64 / 1e6 / wall.as_secs_f64().max(1e-9);
    writeln!(out, "wall:     {:.3} s, {mbps:.1} MB/s", wall.as_secs_f64())?;
    Ok(())
}

/// Type/token ratio, hapax legomena, frequency of frequencies, Zipf fit.
fn corpus_lines(out: &mut dyn Write, c: &super::CorpusStats) -> io::Result<()> {
    let fof: Vec<String> = c.frequency_of_frequencies.iter().map(|n| group_thousands(*n)).collect();
    writeln!(
        out,
        "corpus:   type/token ratio {:.4}, hapax legomena {} ({:.1}% of types)",
        c.type_token_ratio,
        group_thousands(c.hapax_legomena),
        if c.types == 0 { 0.0 } else { c.hapax_legomena as f64 * 100.0 / c.types as f64 }
    )?;
    writeln!(out, "          types seen 1..10 times: {}", fof.join(" "))?;
    if let Some(z) = c.zipf {
        writeln!(
            out,
            "          Zipf exponent {:.3} (least squares of log count on log rank, ranks 1-{}; R^2 {:.3})",
            z.exponent, z.ranks, z.r_squared
        )?;
    }
    Ok(())
}

/// The process's peak resident set (VmHWM), where the OS reports it (Linux).
pub fn peak_resident_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}
