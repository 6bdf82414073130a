//! The command line: parse, validate once ([`args`]), run the library, print.

mod args;
mod cluster;
mod help;
mod output;
mod progress;

pub use args::Cli;
pub use help::command;

use args::{BenchArgs, Command, Config, MachineFormat, MergeArgs, Output, SentencesArgs};
use gpucount::count::gpu::{AdapterChoice, choose};
use gpucount::count::select::{self, Devices};
use gpucount::error::Error;
use gpucount::pipeline::{self, Options};
use gpucount::source::Operand;
use gpucount::{bench, report, saved};
use serde::Serialize;
use std::io::{self, IsTerminal, Write};
use std::process::ExitCode;

/// Runs the parsed command line; returns the process exit status.
pub fn main(cli: Cli) -> ExitCode {
    match cli.command {
        Some(Command::Devices { format }) => report_status(devices(format)),
        Some(Command::Bench(args)) => bench(&args),
        Some(Command::Sentences(args)) => sentences(&args),
        Some(Command::Merge(args)) => merge(&args),
        Some(Command::Cluster(args)) => cluster::cluster(&args),
        Some(Command::Generate { words, vocabulary, exponent, seed }) => {
            let recipe = gpucount::sample::ZipfText { words, vocabulary, exponent, seed };
            let mut out = io::BufWriter::new(io::stdout().lock());
            report_status(recipe.write(&mut out).and_then(|()| out.flush()))
        }
        Some(Command::Completions { shell }) => report_status(print(&help::completions(shell))),
        Some(Command::Man) => report_status(help::man_page().and_then(|page| print(&page))),
        None => match cli.count.config() {
            Ok(config) => count_command(config),
            Err(e) => fail(&e, 2),
        },
    }
}

/// Writes `bytes` to stdout.
fn print(bytes: &[u8]) -> io::Result<()> {
    let mut out = io::stdout().lock();
    out.write_all(bytes).and_then(|()| out.flush())
}

fn report_status(r: io::Result<()>) -> ExitCode {
    match r {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(e) => fail(&Error::io("writing output", e), 1),
    }
}

/// Prints one diagnostic line on stderr. A diagnostic that cannot be written
/// (stderr closed or full) is dropped: it must never cost the results.
pub fn say(msg: impl std::fmt::Display) {
    let _ = writeln!(io::stderr().lock(), "gpucount: {msg}");
}

/// Prints `e` and gives the exit status: 2 for usage errors (bad values),
/// else `code`.
fn fail(e: &Error, code: u8) -> ExitCode {
    say(e);
    ExitCode::from(if matches!(e, Error::Config(_)) { 2 } else { code })
}

fn count_command(config: Config) -> ExitCode {
    let out = &config.out;
    output::arm_cleanup(out);
    let mut options = config.options.clone();
    let bar = progress::Bar::attach(&config.operands, &mut options);
    let result = pipeline::count(config.operands.clone(), &options);
    if let Some(bar) = bar {
        bar.finish();
    }
    let mut outcome = match result {
        Ok(o) => o,
        Err(e) => return fail(&e, 1),
    };
    for w in &outcome.warnings {
        say(w);
    }
    for e in &outcome.errors {
        say(e);
    }
    if let Err(code) = save_table(out, &outcome, saved::KeyOptions::of(&options)) {
        return code;
    }
    if let Err(code) = finish(out, &mut outcome) {
        return code;
    }
    if outcome.errors.is_empty() { ExitCode::SUCCESS } else { ExitCode::from(2) }
}

/// Writes `outcome`'s table to `--save-table FILE`, if asked, with the
/// options its keys were made with. Err: the status to exit with.
fn save_table(out: &Output, outcome: &pipeline::Outcome, keys: saved::KeyOptions) -> Result<(), ExitCode> {
    let Some(path) = &out.save_table else { return Ok(()) };
    output::save_table(path, &saved::Header::of(outcome, keys), outcome).map_err(|e| fail(&e, 1))
}

/// Prints `outcome` as `out` says: the report, the plot, the `--stats`
/// summary. Err: the status to exit with.
fn finish(out: &Output, outcome: &mut pipeline::Outcome) -> Result<(), ExitCode> {
    output::write(out, outcome).map_err(|e| fail(&e, 1))?;
    if let Some(path) = &out.plot
        && let Err(e) = plot_counts(path, outcome)
    {
        say(e);
        return Err(ExitCode::from(1));
    }
    if out.stats {
        // Like any diagnostic, --stats that cannot be written is dropped.
        let _ = report::write_stats(&mut io::stderr().lock(), outcome);
    }
    Ok(())
}

/// `gpucount merge`: saved tables added up and printed as one count over
/// all their inputs. Any unusable table fails the whole merge (status 2);
/// the problems the counting runs met are in the summary, not repeated.
fn merge(args: &MergeArgs) -> ExitCode {
    let out = match args.out.output() {
        Ok(o) => o,
        Err(e) => return fail(&e, 2),
    };
    output::arm_cleanup(&out);
    let saved::Merged { keys, mut outcome } = match saved::merge(&args.tables) {
        Ok(m) => m,
        Err(e) => return fail(&e.into(), 2),
    };
    if out.report.docs.is_some() && !keys.per_doc {
        let e = "--per-doc and --doc-freq need tables saved by runs with --per-doc or --doc-freq";
        return fail(&Error::Config(format!("{e}; {} holds corpus counts", args.tables[0].display())), 2);
    }
    if let Err(code) = save_table(&out, &outcome, keys.clone()) {
        return code;
    }
    if keys.per_doc && out.report.docs.is_none() {
        // Corpus counts from per-document tables: what a count without
        // --per-doc and --doc-freq prints.
        let hash = match keys.key_hash() {
            Ok(h) => h,
            Err(e) => return fail(&Error::Config(e), 2),
        };
        outcome.table = saved::corpus_table(&outcome.table, hash);
        outcome.per_doc = false;
        outcome.names.clear();
    }
    match finish(&out, &mut outcome) {
        Ok(()) => ExitCode::SUCCESS,
        Err(code) => code,
    }
}

/// The rank-frequency picture of a run's table.
fn plot_counts(path: &std::path::Path, outcome: &pipeline::Outcome) -> Result<(), String> {
    let rows = outcome.table.sorted_rows(None, 1);
    let fit = report::CorpusStats::of(&outcome.table).zipf.map(|z| gpucount::plot::Fit {
        exponent: z.exponent,
        intercept: z.intercept,
        r_squared: z.r_squared,
        ranks: z.ranks,
    });
    let title = format!(
        "Rank and frequency: {} tokens, {} distinct",
        report::group_thousands(outcome.table.total()),
        report::group_thousands(outcome.table.len() as u64)
    );
    gpucount::plot::rank_frequency(path, &gpucount::plot::RankFrequency { rows: &rows, fit, title, labels: 10 })
}

fn sentences(args: &SentencesArgs) -> ExitCode {
    let mut options = match args.text.options() {
        Ok(o) => o,
        Err(e) => return fail(&e, 2),
    };
    let operands = args.text.operands(&args.paths);
    let bar = progress::Bar::attach(&operands, &mut options);
    let mut out = io::BufWriter::with_capacity(1 << 16, io::stdout().lock());
    let result = pipeline::sentences(operands, &options, &args.options(), &mut out);
    if let Some(bar) = bar {
        bar.finish();
    }
    let outcome = match result {
        Ok(o) => o,
        Err(Error::Io { source, .. }) if source.kind() == io::ErrorKind::BrokenPipe => return ExitCode::SUCCESS,
        Err(e) => return fail(&e, 1),
    };
    for e in &outcome.errors {
        say(e);
    }
    if args.stats {
        let secs = outcome.wall.as_secs_f64();
        let _ = writeln!(
            io::stderr().lock(),
            "sentences: {} from {} documents ({} bytes) in {secs:.3} s ({:.1} MB/s, {} thread{}); length in characters: mean {:.1}, median {}",
            outcome.sentences,
            outcome.documents,
            outcome.bytes,
            outcome.bytes as f64 / 1e6 / secs.max(1e-9),
            outcome.threads,
            if outcome.threads == 1 { "" } else { "s" },
            outcome.mean_length(),
            outcome.median_length(),
        );
    }
    if outcome.errors.is_empty() { ExitCode::SUCCESS } else { ExitCode::from(2) }
}

fn bench(args: &BenchArgs) -> ExitCode {
    let options = match args.text.options().and_then(|mut o| args.keys.apply(&mut o).map(|()| o)) {
        Ok(o) => o,
        Err(e) => return fail(&e, 2),
    };
    let operands = args.text.operands(&args.paths);
    if operands.iter().any(|o| matches!(o, Operand::Stdin | Operand::Url(_) | Operand::UrlList(_))) {
        return fail(&Error::Config("bench cannot re-read stdin or URLs: name files".into()), 2);
    }
    let mut targets = vec![bench::Target::Cpu { threads: 1 }, bench::Target::Cpu { threads: options.threads() }];
    if !args.no_gpu {
        targets.push(bench::Target::Gpu { adapter: args.gpu.adapter(), options: args.gpu.options() });
    }
    // Progress is for someone watching: a log or a script gets the report alone.
    let watched = io::stderr().is_terminal();
    let mut progress = |msg: &str| {
        if watched {
            let _ = writeln!(io::stderr().lock(), "bench: {msg}");
        }
    };
    let report = match bench::run(&operands, &options, &targets, args.runs as usize, &mut progress) {
        Ok(r) => r,
        Err(e @ Error::Input(_)) => return fail(&e, 2),
        Err(e) => return fail(&e, 1),
    };
    let mut out = io::stdout().lock();
    let written = match args.format {
        MachineFormat::Json => {
            serde_json::to_writer_pretty(&mut out, &report).map_err(io::Error::from).and_then(|()| writeln!(out))
        }
        MachineFormat::Text => report.write_table(&mut out),
    };
    if !report.identical {
        say("bench: the outputs of the configurations differ");
        return ExitCode::from(1);
    }
    if args.calibrate
        && let Err(e) = calibrate(&report, &options, &args.gpu.adapter())
    {
        say(e);
        return ExitCode::from(1);
    }
    if let Some(path) = &args.plot {
        let bars: Vec<(String, f64)> =
            report.rows.iter().map(|r| (format!("{} {}", r.backend, r.on()), r.mb_per_s)).collect();
        let runs = if report.runs == 1 { "1 run".to_string() } else { format!("median of {} runs", report.runs) };
        let title = format!("gpucount bench: {} bytes, {runs}", report::group_thousands(report.bytes));
        let plot = gpucount::plot::Bars { title, unit: "MB/s".into(), bars: &bars };
        if let Err(e) = gpucount::plot::bars(path, &plot) {
            say(e);
            return ExitCode::from(1);
        }
    }
    report_status(written)
}

/// Saves what `bench` measured as the GPU adapter's calibration, and says so.
fn calibrate(report: &bench::BenchReport, options: &Options, choice: &AdapterChoice) -> Result<(), String> {
    if !report.rows.iter().any(|r| r.backend == "gpu") {
        return Err("bench --calibrate: the GPU did not run, so nothing was calibrated".into());
    }
    // The adapter the GPU runs chose, by the same rule.
    let devices = Devices::new();
    let index = choose(devices.reports(), choice, true).map_err(|e| format!("bench --calibrate: {e}"))?;
    let adapter = &devices.reports()[index];
    let name = &adapter.name;
    let c = bench::calibration(report, adapter).ok_or("bench --calibrate: no CPU run to compare with")?;
    let path = options
        .backend
        .calibration
        .clone()
        .ok_or("bench --calibrate: no home directory: set GPUCOUNT_CALIBRATION to a file")?;
    let verdict = if c.gpu_wins(c.bytes) {
        format!("auto will count on it for inputs of {} bytes or more", c.bytes)
    } else {
        "auto will keep to the CPU".to_string()
    };
    let what = format!("{name}: {}; {verdict}", c.describe());
    gpucount::count::calibration::Calibrations::save(&path, c)?;
    say(format!("bench: calibration saved to {}: {what}", path.display()));
    Ok(())
}

#[derive(Serialize)]
struct DevicesReport<'a> {
    logical_cores: usize,
    rayon_threads: usize,
    adapters: &'a [gpucount::count::gpu::AdapterReport],
    auto_large_input: String,
    auto_small_input: String,
}

fn devices(format: MachineFormat) -> io::Result<()> {
    let devices = Devices::new();
    let (large, small) = select::auto_summary(&devices);
    let report = DevicesReport {
        logical_cores: std::thread::available_parallelism().map_or(1, |n| n.get()),
        rayon_threads: Options::default().threads(),
        adapters: devices.reports(),
        auto_large_input: large,
        auto_small_input: small,
    };
    let mut out = io::stdout().lock();
    match format {
        MachineFormat::Json => {
            serde_json::to_writer_pretty(&mut out, &report).map_err(io::Error::from)?;
            writeln!(out)
        }
        MachineFormat::Text => {
            // `rayon_threads` keeps its JSON name: the threads that count, the reader among them.
            writeln!(out, "cpu: {} logical cores; counts on {} threads", report.logical_cores, report.rayon_threads)?;
            if report.adapters.is_empty() {
                writeln!(out, "gpu: none found ({})", Devices::none_found_help())?;
            }
            for a in report.adapters {
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
            writeln!(
                out,
                "auto, large input ({} MiB or more): {}",
                select::AUTO_GPU_MIN_BYTES >> 20,
                report.auto_large_input
            )?;
            writeln!(out, "auto, small input: {}", report.auto_small_input)?;
            out.flush()
        }
    }
}
