//! The command line: clap definitions, their validation into a [`Config`],
//! and the commands. Nothing outside this module sees clap.

mod values;

pub use values::BackendChoice;

use crate::bench;
use crate::count::gpu::{self, AdapterChoice, Fault, GpuBackend, GpuOptions};
use crate::count::{self, CpuBackend, Options, Outcome};
use crate::error::{Error, InputError};
use crate::hash::KeyHash;
use crate::input::{self, EncodingChoice, Input};
use crate::report::{self, Format};
use crate::table::sort_rows;
use crate::tokenize::{Mode, Tokenizer};
use clap::{Args, Parser, Subcommand};
use serde::Serialize;
use std::io::{self, IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

/// Below this much input, `--backend auto` does not even look for a GPU.
pub const AUTO_GPU_MIN_BYTES: u64 = 64 << 20;

#[derive(Debug, Parser)]
#[command(name = "gpucount", version, about = "Exact word frequencies, counted on the CPU or the GPU")]
#[command(args_conflicts_with_subcommands = true, subcommand_negates_reqs = true)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    #[command(flatten)]
    pub count: CountArgs,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// List CPU cores and GPU adapters, and which backend `--backend auto` would use.
    Devices {
        #[arg(long, value_enum, default_value_t = DevicesFormat::Text)]
        format: DevicesFormat,
    },
    /// Time the same count on 1 CPU thread, all CPU threads and the GPU; check the outputs agree.
    Bench(BenchArgs),
    /// Write reproducible Zipf-distributed sample text to stdout.
    Generate {
        /// Word occurrences.
        #[arg(long, default_value_t = 100_000)]
        words: u64,
        /// Distinct words.
        #[arg(long, default_value_t = 20_000)]
        vocabulary: u64,
        #[arg(long, default_value_t = 1.07)]
        exponent: f64,
        #[arg(long, default_value_t = 42)]
        seed: u64,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum DevicesFormat {
    Text,
    Json,
}

#[derive(Debug, Args)]
pub struct CountArgs {
    /// Files, directories (walked recursively, in sorted order) or `-` for stdin. None: stdin.
    pub paths: Vec<PathBuf>,
    /// Where to count.
    #[arg(long, value_enum, default_value_t = BackendChoice::Auto)]
    pub backend: BackendChoice,
    #[command(flatten)]
    pub text: TextArgs,
    #[command(flatten)]
    pub gpu: GpuArgs,
    /// Print only the N most frequent words.
    #[arg(long, value_name = "N")]
    pub top: Option<usize>,
    /// Print only words seen at least N times.
    #[arg(long, value_name = "N", default_value_t = 1)]
    pub min_count: u64,
    #[arg(long, value_enum, default_value_t = Format::Tsv)]
    pub format: Format,
    /// Print a summary (inputs, sizes, backend, stage times) on stderr.
    #[arg(long)]
    pub stats: bool,
    /// Write the counts to FILE (atomically: a temporary file renamed at the end).
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Lets `auto` use a software adapter at any input size (to test the fallback).
    #[arg(long, hide = true)]
    pub auto_software: bool,
}

#[derive(Debug, Args)]
pub struct BenchArgs {
    /// Files or directories to count (stdin cannot be re-read).
    #[arg(required = true)]
    pub paths: Vec<PathBuf>,
    /// Timed runs of each configuration, after one warm-up run.
    #[arg(long, default_value_t = 5)]
    pub runs: usize,
    /// Leave the GPU out.
    #[arg(long)]
    pub no_gpu: bool,
    #[arg(long, value_enum, default_value_t = DevicesFormat::Text)]
    pub format: DevicesFormat,
    #[command(flatten)]
    pub text: TextArgs,
    #[command(flatten)]
    pub gpu: GpuArgs,
}

/// How text is read and tokenized (shared by counting and `bench`).
#[derive(Debug, Args)]
pub struct TextArgs {
    /// What a token is.
    #[arg(long, value_enum, default_value_t = Mode::Words)]
    pub tokenizer: Mode,
    /// Count tokens as written instead of lowercased.
    #[arg(long)]
    pub keep_case: bool,
    /// `auto` or a WHATWG encoding label (utf-8, windows-1252, utf-16le, ...).
    #[arg(long, default_value = "auto")]
    pub encoding: String,
    /// Worker threads (0: one per logical core).
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub threads: usize,
    // Test hooks: force collisions and tiny chunks.
    #[arg(long, hide = true)]
    pub weak_hash_bits: Option<u32>,
    #[arg(long, hide = true)]
    pub chunk_bytes: Option<usize>,
    #[arg(long, hide = true)]
    pub max_token_bytes: Option<usize>,
}

/// GPU choice and (hidden) test hooks for tiny tables and faults.
#[derive(Debug, Args)]
pub struct GpuArgs {
    /// GPU adapter by index or name (see `gpucount devices`).
    #[arg(long, value_name = "NAME_OR_INDEX")]
    pub adapter: Option<String>,
    #[arg(long, hide = true)]
    pub gpu_table_slots: Option<u32>,
    #[arg(long, hide = true)]
    pub gpu_batch_tokens: Option<u32>,
    #[arg(long, hide = true)]
    pub gpu_max_probes: Option<u32>,
    #[arg(long, hide = true)]
    pub gpu_arena_bytes: Option<u64>,
    #[arg(long, hide = true)]
    pub gpu_max_binding: Option<u64>,
    #[arg(long, hide = true, value_parser = parse_fault)]
    pub gpu_fault: Option<Fault>,
}

fn parse_fault(s: &str) -> Result<Fault, String> {
    match s.split_once(':') {
        Some(("lose-device-after", n)) => n.parse().map(Fault::LoseDeviceAfter).map_err(|e| e.to_string()),
        _ if s == "oversized-allocation" => Ok(Fault::OversizedAllocation),
        _ => Err("expected lose-device-after:N or oversized-allocation".into()),
    }
}

/// A validated count command.
pub struct Config {
    pub options: Options,
    pub backend: BackendChoice,
    pub adapter: AdapterChoice,
    pub gpu: GpuOptions,
    pub format: Format,
    pub top: Option<usize>,
    pub min_count: u64,
    pub stats: bool,
    pub output: Option<PathBuf>,
    pub auto_software: bool,
}

impl TextArgs {
    /// The run options these flags ask for.
    pub fn options(&self) -> Result<Options, Error> {
        let encoding = EncodingChoice::parse(&self.encoding).map_err(Error::Config)?;
        let hash = self.weak_hash_bits.map_or(KeyHash::Xxh3, |bits| KeyHash::WeakForTesting { bits });
        let mut options = Options {
            tokenizer: Tokenizer { mode: self.tokenizer, keep_case: self.keep_case, hash },
            encoding,
            threads: self.threads,
            ..Options::default()
        };
        if let Some(c) = self.chunk_bytes {
            options.chunk_bytes = c.max(1);
        }
        if let Some(m) = self.max_token_bytes {
            options.max_token_bytes = m;
        }
        Ok(options)
    }
}

impl GpuArgs {
    pub fn adapter(&self) -> AdapterChoice {
        self.adapter.as_deref().map_or(AdapterChoice::Best, AdapterChoice::parse)
    }

    pub fn options(&self) -> GpuOptions {
        let mut gpu =
            GpuOptions { fault: self.gpu_fault, max_binding_override: self.gpu_max_binding, ..GpuOptions::default() };
        if let Some(s) = self.gpu_table_slots {
            gpu.initial_slots = s;
            gpu.max_slots = Some(s);
        }
        if let Some(n) = self.gpu_batch_tokens {
            gpu.max_batch_tokens = n;
        }
        if let Some(p) = self.gpu_max_probes {
            gpu.max_probes = p;
        }
        if let Some(a) = self.gpu_arena_bytes {
            gpu.initial_arena_bytes = a;
        }
        gpu
    }
}

impl CountArgs {
    /// Checks the flags once and builds the config.
    pub fn config(&self) -> Result<Config, Error> {
        if self.gpu.adapter.is_some() && self.backend == BackendChoice::Cpu {
            return Err(Error::Config("--adapter needs --backend gpu or auto".into()));
        }
        Ok(Config {
            options: self.text.options()?,
            backend: self.backend,
            adapter: self.gpu.adapter(),
            gpu: self.gpu.options(),
            format: self.format,
            top: self.top,
            min_count: self.min_count.max(1),
            stats: self.stats,
            output: self.output.clone(),
            auto_software: self.auto_software,
        })
    }
}

/// Runs the parsed command line; returns the process exit status.
pub fn main(cli: Cli) -> ExitCode {
    match cli.command {
        Some(Command::Devices { format }) => report_status(devices(format)),
        Some(Command::Bench(args)) => bench(&args),
        Some(Command::Generate { words, vocabulary, exponent, seed }) => {
            let recipe = crate::sample::ZipfText { words, vocabulary, exponent, seed };
            let mut out = io::BufWriter::new(io::stdout().lock());
            report_status(recipe.write(&mut out).and_then(|()| out.flush()))
        }
        None => match cli.count.config() {
            Ok(config) => count_command(&cli.count.paths, &config),
            Err(e) => fail(&e, 2),
        },
    }
}

fn report_status(r: io::Result<()>) -> ExitCode {
    match r {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(e) => fail(&Error::io("writing output", e), 1),
    }
}

fn fail(e: &Error, code: u8) -> ExitCode {
    eprintln!("gpucount: {e}");
    ExitCode::from(code)
}

fn warn(e: &InputError) {
    eprintln!("gpucount: {e}");
}

/// The backend `--backend auto` picks for `bytes` of input (None: unknown size).
fn auto_choice(bytes: Option<u64>, adapter: &AdapterChoice, software: bool) -> (Option<usize>, String) {
    match bytes {
        _ if software => {}
        None => return (None, "input size unknown (stdin), so the CPU".into()),
        Some(b) if b < AUTO_GPU_MIN_BYTES => {
            return (
                None,
                format!("input of {} bytes is below the {} MiB where a GPU pays", b, AUTO_GPU_MIN_BYTES >> 20),
            );
        }
        Some(_) => {}
    }
    let reports = gpu::describe_adapters();
    match gpu::choose(&reports, adapter, software) {
        Ok(i) if reports[i].hardware || software => {
            (Some(i), format!("large input and a hardware GPU ({})", reports[i].name))
        }
        Err(_) if reports.is_empty() => (None, "no GPU adapter found".into()),
        _ => {
            let names: Vec<&str> = reports.iter().map(|r| r.name.as_str()).collect();
            (None, format!("no hardware GPU ({} is software, used only with --backend gpu)", names.join(", ")))
        }
    }
}

fn count_command(paths: &[PathBuf], config: &Config) -> ExitCode {
    let mut errors: Vec<InputError> = Vec::new();
    let mut inputs: Vec<Input> = Vec::new();
    for item in input::expand(paths) {
        match item {
            Ok(i) => inputs.push(i),
            Err(e) => errors.push(e),
        }
    }
    let total: Option<u64> = inputs.iter().map(Input::size_hint).sum();
    let mut options = config.options.clone();
    let bar = progress_bar(total);
    if let Some(bar) = &bar {
        let bar = bar.clone();
        let started = Instant::now();
        let shown = std::sync::atomic::AtomicBool::new(false);
        options.progress = Some(std::sync::Arc::new(move |n| {
            if !shown.load(std::sync::atomic::Ordering::Relaxed) && started.elapsed().as_secs() >= 1 {
                shown.store(true, std::sync::atomic::Ordering::Relaxed);
                bar.set_draw_target(indicatif::ProgressDrawTarget::stderr());
            }
            bar.inc(n)
        }));
    }

    let result = match config.backend {
        BackendChoice::Cpu => {
            count::run(&inputs, &options, CpuBackend).map(|o| with_reason(o, "cpu: chosen with --backend cpu"))
        }
        BackendChoice::Gpu => GpuBackend::open(&config.adapter, true, config.gpu.clone(), "chosen with --backend gpu")
            .and_then(|b| count::run(&inputs, &options, b)),
        BackendChoice::Auto => {
            let (adapter, why) = auto_choice(total, &config.adapter, config.auto_software);
            match adapter {
                None => count::run(&inputs, &options, CpuBackend).map(|o| with_reason(o, &format!("cpu: {why}"))),
                Some(i) => match GpuBackend::open(&AdapterChoice::Index(i), true, config.gpu.clone(), &why)
                    .and_then(|b| count::run(&inputs, &options, b))
                {
                    Ok(o) => Ok(o),
                    Err(e) => {
                        eprintln!("gpucount: {e}; counting on the CPU instead");
                        count::run(&inputs, &config.options, CpuBackend)
                            .map(|o| with_reason(o, &format!("cpu: the GPU failed ({e})")))
                    }
                },
            }
        }
    };
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    let mut outcome = match result {
        Ok(o) => o,
        Err(e) => return fail(&e, 1),
    };
    errors.append(&mut outcome.errors);
    outcome.errors = errors;
    for e in &outcome.errors {
        warn(e);
    }

    let t_resolve = Instant::now();
    let rows = outcome.table.rows(config.min_count);
    let resolve = t_resolve.elapsed();
    let t_output = Instant::now();
    let rows = sort_rows(rows, config.top);
    let written = write_output(config, &outcome, &rows);
    let output = t_output.elapsed();
    if let Err(e) = written {
        return fail(&e, 1);
    }
    if config.stats {
        let _ = report::write_stats(&mut io::stderr().lock(), &outcome, resolve, output);
    }
    if outcome.errors.is_empty() { ExitCode::SUCCESS } else { ExitCode::from(2) }
}

fn with_reason(mut o: Outcome, reason: &str) -> Outcome {
    o.backend = reason.to_string();
    o
}

/// Writes the report to stdout, or atomically to `-o FILE`. A closed stdout
/// (`| head`) is not an error.
fn write_output(config: &Config, outcome: &Outcome, rows: &[(&str, u64)]) -> Result<(), Error> {
    match &config.output {
        None => {
            let stdout = io::stdout();
            let mut out = io::BufWriter::with_capacity(1 << 16, stdout.lock());
            match report::write_report(&mut out, outcome, rows, config.format) {
                Err(e) if e.kind() == io::ErrorKind::BrokenPipe => Ok(()),
                r => r.map_err(|e| Error::io("writing to stdout", e)),
            }
        }
        Some(path) => {
            let name = path.display().to_string();
            let special = std::fs::metadata(path).is_ok_and(|m| !m.is_file());
            if special {
                // /dev/null, a FIFO, a terminal: nothing to replace, so write in place.
                let mut out = io::BufWriter::new(
                    std::fs::OpenOptions::new().write(true).open(path).map_err(|e| Error::io(&name, e))?,
                );
                return report::write_report(&mut out, outcome, rows, config.format).map_err(|e| Error::io(&name, e));
            }
            let dir = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(std::path::Path::new("."));
            let tmp = tempfile::NamedTempFile::new_in(dir).map_err(|e| Error::io(&name, e))?;
            let mut out = io::BufWriter::new(tmp);
            report::write_report(&mut out, outcome, rows, config.format).map_err(|e| Error::io(&name, e))?;
            let tmp = out.into_inner().map_err(|e| Error::io(&name, e.into_error()))?;
            tmp.as_file().sync_all().map_err(|e| Error::io(&name, e))?;
            tmp.persist(path).map_err(|e| Error::io(&name, e.error))?;
            Ok(())
        }
    }
}

fn progress_bar(total: Option<u64>) -> Option<indicatif::ProgressBar> {
    if !io::stderr().is_terminal() {
        return None;
    }
    let bar = match total {
        Some(t) => indicatif::ProgressBar::new(t),
        None => indicatif::ProgressBar::new_spinner(),
    };
    // Hidden until the run has lasted a second: short runs never flash a bar.
    bar.set_draw_target(indicatif::ProgressDrawTarget::hidden());
    let style =
        indicatif::ProgressStyle::with_template("{spinner} {bytes}/{total_bytes} {bytes_per_sec} {wide_bar} {eta}");
    if let Ok(s) = style {
        bar.set_style(s);
    }
    Some(bar)
}

fn bench(args: &BenchArgs) -> ExitCode {
    let options = match args.text.options() {
        Ok(o) => o,
        Err(e) => return fail(&e, 2),
    };
    let mut inputs = Vec::new();
    for item in input::expand(&args.paths) {
        match item {
            Ok(Input::Stdin) => return fail(&Error::Config("bench cannot re-read stdin: name files".into()), 2),
            Ok(i) => inputs.push(i),
            Err(e) => {
                warn(&e);
                return ExitCode::from(2);
            }
        }
    }
    let mut targets = vec![bench::Target::Cpu { threads: 1 }, bench::Target::Cpu { threads: options.threads() }];
    if !args.no_gpu {
        targets.push(bench::Target::Gpu { adapter: args.gpu.adapter(), options: args.gpu.options() });
    }
    let mut progress = |msg: &str| eprintln!("bench: {msg}");
    let report = match bench::run(&inputs, &options, &targets, args.runs, &mut progress) {
        Ok(r) => r,
        Err(e) => return fail(&e, 1),
    };
    let mut out = io::stdout().lock();
    let written = match args.format {
        DevicesFormat::Json => {
            serde_json::to_writer_pretty(&mut out, &report).map_err(io::Error::other).and_then(|()| writeln!(out))
        }
        DevicesFormat::Text => report.write_table(&mut out),
    };
    if !report.identical {
        eprintln!("gpucount: bench: the outputs of the configurations differ");
        return ExitCode::from(1);
    }
    report_status(written)
}

#[derive(Serialize)]
struct DevicesReport {
    logical_cores: usize,
    rayon_threads: usize,
    adapters: Vec<gpu::AdapterReport>,
    auto_large_input: String,
    auto_small_input: String,
}

fn devices(format: DevicesFormat) -> io::Result<()> {
    let adapters = gpu::describe_adapters();
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let auto = match gpu::choose(&adapters, &AdapterChoice::Best, false) {
        Ok(i) => format!("gpu: adapter {i} ({})", adapters[i].name),
        Err(_) => "cpu (no hardware GPU; a software adapter is used only with --backend gpu)".to_string(),
    };
    let report = DevicesReport {
        logical_cores: cores,
        rayon_threads: Options::default().threads(),
        adapters,
        auto_large_input: auto,
        auto_small_input: format!("cpu (inputs under {} MiB)", AUTO_GPU_MIN_BYTES >> 20),
    };
    let mut out = io::stdout().lock();
    match format {
        DevicesFormat::Json => {
            serde_json::to_writer_pretty(&mut out, &report).map_err(io::Error::other)?;
            writeln!(out)
        }
        DevicesFormat::Text => {
            writeln!(out, "cpu: {} logical cores; rayon uses {} threads", report.logical_cores, report.rayon_threads)?;
            if report.adapters.is_empty() {
                writeln!(out, "gpu: none found ({})", gpu::no_adapter_help())?;
            }
            for a in &report.adapters {
                writeln!(
                    out,
                    "gpu {}: {} ({}, {}, driver {} {})",
                    a.index, a.name, a.backend, a.device_type, a.driver, a.driver_info
                )?;
                writeln!(
                    out,
                    "    max storage binding {} MiB, max buffer {} MiB, max workgroups/dim {}, timestamps {}",
                    a.max_storage_buffer_binding_size >> 20,
                    a.max_buffer_size >> 20,
                    a.max_compute_workgroups_per_dimension,
                    if a.timestamp_queries { "yes" } else { "no" }
                )?;
            }
            writeln!(out, "auto: {} for large inputs; {}", report.auto_large_input, report.auto_small_input)?;
            out.flush()
        }
    }
}
