//! `gpucount bench`: the same count on one CPU thread, on all CPU threads and
//! on the GPU, interleaved run by run, with every output checked identical.
//!
//! Its JSON names things as the count's JSON summary does (`files`, `bytes`,
//! `tokens`, `distinct_words`, `backend`, `adapter`), so one script reads both.

use crate::count::calibration::Calibration;
use crate::count::gpu::{AdapterChoice, AdapterReport, GpuOptions};
use crate::count::{BackendChoice, BackendConfig};
use crate::error::Error;
use crate::pipeline::{Options, Outcome, Stages, count};
use crate::report::group_thousands;
use crate::source::Operand;
use serde::Serialize;
use std::io::{self, Write};
use std::time::{Duration, Instant};

/// The calibration this report measured for `adapter`: its GPU row against
/// the CPU row with the most threads. None if the GPU did not run.
pub fn calibration(report: &BenchReport, adapter: &AdapterReport) -> Option<Calibration> {
    let gpu = report.rows.iter().find(|r| r.backend == "gpu")?;
    let cpu = report.rows.iter().filter(|r| r.backend == "cpu").max_by_key(|r| r.threads)?;
    Some(Calibration {
        adapter: adapter.name.clone(),
        backend: adapter.backend.clone(),
        driver: adapter.driver.clone(),
        driver_info: adapter.driver_info.clone(),
        bytes: report.bytes,
        cpu_threads: cpu.threads,
        cpu_mb_per_s: cpu.mb_per_s,
        gpu_mb_per_s: gpu.mb_per_s,
    })
}

/// One configuration to time.
#[derive(Debug, Clone)]
pub enum Target {
    Cpu { threads: usize },
    Gpu { adapter: AdapterChoice, options: GpuOptions },
}

/// Median results of one configuration.
#[derive(Debug, Clone, Serialize)]
pub struct BenchRow {
    /// `cpu` or `gpu`.
    pub backend: &'static str,
    /// The GPU adapter (GPU rows only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub adapter: Option<String>,
    /// Worker threads: those that count on the CPU, those that tokenize for the GPU.
    pub threads: usize,
    pub median_s: f64,
    pub mb_per_s: f64,
    pub tokens_per_s: f64,
    /// Against the one-thread CPU run.
    pub speedup: f64,
    /// Median seconds per stage (thread-seconds; stages overlap), in
    /// pipeline order; an object in JSON.
    #[serde(serialize_with = "in_order")]
    pub stages: Vec<(String, f64)>,
    pub runs_s: Vec<f64>,
}

/// What `bench` found.
#[derive(Debug, Clone, Serialize)]
pub struct BenchReport {
    /// Documents counted.
    pub files: usize,
    pub bytes: u64,
    pub tokens: u64,
    pub distinct_words: usize,
    pub runs: usize,
    /// Every run of every configuration printed the same counts.
    pub identical: bool,
    pub rows: Vec<BenchRow>,
    /// Configurations that could not run (for example no GPU adapter).
    pub skipped: Vec<String>,
}

/// `[(name, value)]` as a JSON object whose keys keep their order.
fn in_order<S: serde::Serializer>(stages: &[(String, f64)], s: S) -> Result<S::Ok, S::Error> {
    use serde::ser::SerializeMap;
    let mut map = s.serialize_map(Some(stages.len()))?;
    for (name, secs) in stages {
        map.serialize_entry(name, secs)?;
    }
    map.end()
}

/// A digest of the report order rows, so runs compare cheaply.
fn digest(o: &Outcome) -> u64 {
    let mut h = xxhash_rust::xxh3::Xxh3::new();
    for (w, n) in o.table.sorted_rows(None, 1) {
        h.update(w.as_bytes());
        h.update(&n.to_le_bytes());
    }
    h.digest()
}

/// One run of `target`: its outcome and wall time.
fn once(operands: &[Operand], opts: &Options, target: &Target) -> Result<(Outcome, Duration), Error> {
    let mut opts = opts.clone();
    match target {
        Target::Cpu { threads } => {
            opts.threads = *threads;
            opts.backend = BackendConfig { choice: BackendChoice::Cpu, ..BackendConfig::default() };
        }
        Target::Gpu { adapter, options } => {
            opts.backend = BackendConfig {
                choice: BackendChoice::Gpu,
                adapter: adapter.clone(),
                gpu: options.clone(),
                ..BackendConfig::default()
            };
        }
    }
    let t = Instant::now();
    let o = count(operands.to_vec(), &opts)?;
    Ok((o, t.elapsed()))
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n == 0 {
        0.0
    } else if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

/// Runs every target once to warm up, then `runs` rounds, one run of each
/// target per round. `progress` hears about each run. An input that cannot
/// be read fully is an error: a benchmark of part of its input is no benchmark.
pub fn run(
    inputs: &[Operand],
    opts: &Options,
    targets: &[Target],
    runs: usize,
    progress: &mut dyn FnMut(&str),
) -> Result<BenchReport, Error> {
    let runs = runs.max(1);
    let mut skipped = Vec::new();
    // Each target that ran, with its adapter and worker threads.
    let mut live: Vec<(&Target, Option<String>, usize)> = Vec::new();
    let mut reference: Option<(u64, Outcome)> = None;
    let mut identical = true;
    for target in targets {
        progress(&format!("warm-up: {}", label(target, opts)));
        match once(inputs, opts, target) {
            Ok((o, _)) => {
                if let Some(e) = o.errors.first() {
                    return Err(Error::Input(e.clone()));
                }
                let d = digest(&o);
                live.push((target, o.device.clone(), o.threads));
                match &reference {
                    None => reference = Some((d, o)),
                    Some((r, _)) => identical &= *r == d,
                }
            }
            Err(e @ (Error::NoAdapter(_) | Error::Gpu(_))) if matches!(target, Target::Gpu { .. }) => {
                skipped.push(format!("gpu: {e}"));
            }
            Err(e) => return Err(e),
        }
    }
    let Some((ref_digest, ref_outcome)) = reference else {
        return Err(Error::Config("nothing could run".into()));
    };
    // (wall, stages) per run.
    let mut samples: Vec<Vec<(f64, Stages)>> = vec![Vec::new(); live.len()];
    for round in 0..runs {
        for (i, (target, ..)) in live.iter().enumerate() {
            progress(&format!("run {}/{runs}: {}", round + 1, label(target, opts)));
            let (o, wall) = once(inputs, opts, target)?;
            identical &= digest(&o) == ref_digest;
            samples[i].push((wall.as_secs_f64(), o.stages));
        }
    }
    let bytes = ref_outcome.bytes;
    let tokens = ref_outcome.table.total();
    let mut rows: Vec<BenchRow> = live
        .iter()
        .zip(&samples)
        .map(|((target, adapter, threads), s)| {
            let runs_s: Vec<f64> = s.iter().map(|x| x.0).collect();
            let med = median(&mut runs_s.clone());
            // Median of each named stage.
            let per_run: Vec<Vec<(String, f64)>> = s
                .iter()
                .map(|(_, stages)| stages.named().into_iter().map(|(n, d)| (n, d.as_secs_f64())).collect())
                .collect();
            let stages = per_run[0]
                .iter()
                .map(|(name, _)| {
                    let mut xs: Vec<f64> =
                        per_run.iter().map(|run| run.iter().find(|(n, _)| n == name).map_or(0.0, |x| x.1)).collect();
                    (name.clone(), median(&mut xs))
                })
                .collect();
            BenchRow {
                backend: match target {
                    Target::Cpu { .. } => "cpu",
                    Target::Gpu { .. } => "gpu",
                },
                adapter: adapter.clone(),
                threads: *threads,
                median_s: med,
                mb_per_s: bytes as f64 / 1e6 / med,
                tokens_per_s: tokens as f64 / med,
                speedup: 0.0,
                stages,
                runs_s,
            }
        })
        .collect();
    let base = rows.iter().find(|r| r.backend == "cpu" && r.threads == 1).map(|r| r.median_s);
    for r in &mut rows {
        r.speedup = base.map_or(0.0, |b| b / r.median_s);
    }
    Ok(BenchReport {
        files: ref_outcome.documents,
        bytes,
        tokens,
        distinct_words: ref_outcome.table.len(),
        runs,
        identical,
        rows,
        skipped,
    })
}

/// A target as progress lines name it.
fn label(target: &Target, opts: &Options) -> String {
    match target {
        Target::Cpu { threads } => {
            format!("cpu {}", threads_label(if *threads == 0 { opts.threads() } else { *threads }))
        }
        Target::Gpu { .. } => "gpu".into(),
    }
}

fn threads_label(n: usize) -> String {
    if n == 1 { "1 thread".into() } else { format!("{n} threads") }
}

impl BenchRow {
    /// What it ran on, for people: the adapter, or the CPU threads.
    pub fn on(&self) -> String {
        self.adapter.clone().unwrap_or_else(|| threads_label(self.threads))
    }
}

impl BenchReport {
    /// Writes the report as an aligned table.
    pub fn write_table(&self, out: &mut dyn Write) -> io::Result<()> {
        writeln!(
            out,
            "input: {} file(s), {} bytes, {} tokens, {} distinct; median of {} runs after a warm-up; outputs {}",
            self.files,
            group_thousands(self.bytes),
            group_thousands(self.tokens),
            group_thousands(self.distinct_words as u64),
            self.runs,
            if self.identical { "identical" } else { "DIFFER" }
        )?;
        writeln!(
            out,
            "{:<4} {:<50} {:>9} {:>8} {:>9} {:>8}  stages (median thread-seconds)",
            "", "on", "median", "MB/s", "Mtok/s", "speedup"
        )?;
        for r in &self.rows {
            let stages: Vec<String> = r.stages.iter().map(|(n, s)| format!("{n} {s:.3}")).collect();
            let on: String = r.on().chars().take(50).collect();
            writeln!(
                out,
                "{:<4} {:<50} {:>7.3} s {:>8.1} {:>9.2} {:>7.2}x  {}",
                r.backend,
                on,
                r.median_s,
                r.mb_per_s,
                r.tokens_per_s / 1e6,
                r.speedup,
                stages.join(", ")
            )?;
        }
        for s in &self.skipped {
            writeln!(out, "skipped {s}")?;
        }
        Ok(())
    }
}
