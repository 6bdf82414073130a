//! clap definitions and their validation into the library's options. No
//! other module sees clap's parsing; [`super::help`] renders these
//! definitions as completion scripts and the man page.

use clap::{Args, Parser, Subcommand, ValueEnum, ValueHint};
use gpucount::count::gpu::{AdapterChoice, Fault, GpuOptions};
use gpucount::count::{BackendChoice, BackendConfig};
use gpucount::decode::{EncodingChoice, MAX_TOKEN_BYTES};
use gpucount::html::{HtmlMode, Select};
use gpucount::keys::{Filter, Form, Grams, Within};
use gpucount::report::{DfBound, DocOptions, Format, ReportOptions, SortBy};
use gpucount::sentences::{Keep, SentenceOptions};
use gpucount::source::fetch::FetchOptions;
use gpucount::source::{Operand, WalkOptions};
use gpucount::tokenize::TokenPattern;
use gpucount::{Error, KeyHash, Mode, Options, Tokenizer};
use std::path::PathBuf;

/// `--version`: the backends compiled in (the `gpu` cargo feature adds wgpu).
#[cfg(feature = "gpu")]
pub const VERSION: &str = concat!(env!("CARGO_PKG_VERSION"), " (backends: cpu, gpu/wgpu)");
#[cfg(not(feature = "gpu"))]
pub const VERSION: &str = concat!(env!("CARGO_PKG_VERSION"), " (backends: cpu)");

// Headings that group the options in --help and the man page.
const INPUT: &str = "Input";
const WORDS: &str = "What is counted";
const OUTPUT: &str = "Output";
const BACKEND: &str = "Backend";

#[derive(Debug, Parser)]
#[command(name = "gpucount", version = VERSION, about = "Exact word frequencies, counted on the CPU or the GPU")]
#[command(long_about = "Exact word frequencies, counted on the CPU or the GPU.\n\n\
    Counts every word (or n-gram) of files, directories, archives, URLs and standard input, \
    exactly, and prints them most frequent first. The CPU counts on all its cores; a GPU counts \
    in a compute shader (wgpu). Both print the same bytes.")]
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
        /// How to print the report.
        #[arg(short, long, value_enum, default_value_t = MachineFormat::Text)]
        format: MachineFormat,
    },
    /// Time the same count on 1 CPU thread, all CPU threads and the GPU; check the outputs agree.
    Bench(BenchArgs),
    /// Merge tables saved with --save-table and print them as one count over
    /// all their inputs would have been printed.
    Merge(MergeArgs),
    /// Count with several processes, on this machine or others (timely
    /// dataflow): each counts a share of the inputs, the tables are merged,
    /// and rank 0 prints what one process would have printed.
    Cluster(ClusterArgs),
    /// Print one normalized sentence per line (NFC, lowercase, letters and
    /// spaces by default) from any input: files, archives, URLs, HTML.
    // Its threads cut sentences, and none counts.
    #[command(mut_arg("threads", |a| a.help(SENTENCES_THREADS_HELP)))]
    Sentences(SentencesArgs),
    /// Write reproducible Zipf-distributed sample text to stdout.
    Generate {
        /// Word occurrences.
        #[arg(long, default_value_t = 100_000)]
        words: u64,
        /// Distinct words (at least 1).
        #[arg(long, default_value_t = 20_000, value_parser = at_least_one)]
        vocabulary: u64,
        /// Zipf exponent: a finite number, 0 or more.
        #[arg(long, default_value_t = 1.07, value_parser = parse_exponent)]
        exponent: f64,
        /// Random seed: the same seed (and other values) gives the same text.
        #[arg(long, default_value_t = 42)]
        seed: u64,
    },
    /// Print a completion script for SHELL on stdout (see the README for where each shell looks).
    Completions {
        /// The shell to write a script for.
        #[arg(value_enum)]
        shell: ShellArg,
    },
    /// Print the manual page (roff) on stdout: `gpucount man > gpucount.1`.
    Man,
}

/// The shells `completions` writes scripts for, and where each looks for them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ShellArg {
    /// Bash: save as ~/.local/share/bash-completion/completions/gpucount.
    Bash,
    /// Zsh: save as _gpucount in a directory of $fpath.
    Zsh,
    /// fish: save as ~/.config/fish/completions/gpucount.fish.
    Fish,
    /// PowerShell: add to $PROFILE.
    Powershell,
    /// Elvish: add to ~/.config/elvish/rc.elv.
    Elvish,
}

/// Output of `devices` and `bench`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum MachineFormat {
    /// Lines for people.
    Text,
    /// One pretty-printed object for machines.
    Json,
}

/// `--backend`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum BackendArg {
    /// The CPU, unless a hardware GPU calibrated with `bench --calibrate` was faster on an input this large (64 MiB at least).
    Auto,
    /// The CPU: all threads (see --threads) tokenize and count.
    Cpu,
    /// The GPU, software adapters (lavapipe) included; fails if there is none.
    Gpu,
}

/// `--format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FormatArg {
    /// `word<TAB>count` lines, no header.
    Tsv,
    /// RFC 4180, header `word,count`.
    Csv,
    /// One object: `words` and a `summary`.
    Json,
    /// JSON Lines: one object per row (as in json), then one `{"summary": ...}` line.
    Jsonl,
    /// Aligned columns: rank, count, share of all tokens, word.
    Table,
}

/// `--tokenizer`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum TokenizerArg {
    /// Runs of letters, digits and marks; everything else separates.
    Words,
    /// Runs of anything but whitespace (punctuation stays on words).
    Whitespace,
}

#[derive(Debug, Args)]
pub struct CountArgs {
    /// Files, directories (walked recursively, in sorted order), archives,
    /// http(s) URLs, or `-` for stdin. None: stdin.
    #[arg(value_name = "PATH|URL", value_hint = ValueHint::AnyPath)]
    pub paths: Vec<PathBuf>,
    #[command(flatten)]
    pub out: OutputArgs,
    #[command(flatten)]
    pub text: TextArgs,
    #[command(flatten)]
    pub keys: KeyArgs,
    #[command(flatten)]
    pub gpu: GpuArgs,
    /// Where to count.
    #[arg(long, value_enum, default_value_t = BackendArg::Auto, help_heading = BACKEND, display_order = 0)]
    pub backend: BackendArg,
    /// Lets `auto` use a software adapter at any input size (to test the fallback).
    #[arg(long, hide = true)]
    pub auto_software: bool,
}

/// What is printed and where: shared by counting and `merge`.
#[derive(Debug, Args)]
pub struct OutputArgs {
    /// Print only the N most frequent words (N at least 1; leave the option out to print all).
    #[arg(short = 'n', long, value_name = "N", value_parser = at_least_one, help_heading = OUTPUT)]
    pub top: Option<u64>,
    /// Print only words seen at least N times.
    #[arg(long, value_name = "N", default_value_t = 1, help_heading = OUTPUT)]
    pub min_count: u64,
    /// How to print the rows.
    #[arg(short, long, value_enum, default_value_t = FormatArg::Tsv, help_heading = OUTPUT)]
    pub format: FormatArg,
    /// Add each row's share of all tokens and the cumulative share (coverage), in every format.
    #[arg(long, help_heading = OUTPUT)]
    pub share: bool,
    /// Print rows by count (descending, ties by word), by document frequency
    /// (with --doc-freq) or by word; --top keeps the most frequent either way.
    #[arg(long, value_enum, default_value_t = SortArg::Count, help_heading = OUTPUT)]
    pub sort: SortArg,
    /// Print counts per document: `doc<TAB>word<TAB>count`, documents in input order.
    #[arg(long, help_heading = OUTPUT)]
    pub per_doc: bool,
    /// With --per-doc: add tf-idf weights (scikit-learn's default: smooth idf, l2 norm per document).
    #[arg(long, requires = "per_doc", help_heading = OUTPUT)]
    pub tfidf: bool,
    /// Add a column with the number of documents holding each term.
    #[arg(long, help_heading = OUTPUT)]
    pub doc_freq: bool,
    /// Keep terms found in at least N documents (an integer), or in at least this share of them (0.0 to 1.0).
    #[arg(long, value_name = "N|SHARE", value_parser = DfBound::parse, help_heading = OUTPUT)]
    pub min_df: Option<DfBound>,
    /// Keep terms found in at most N documents, or in at most this share of them.
    #[arg(long, value_name = "N|SHARE", value_parser = DfBound::parse, help_heading = OUTPUT)]
    pub max_df: Option<DfBound>,
    /// Print a summary (inputs, sizes, backend, stage times, workers) on stderr.
    #[arg(long, help_heading = OUTPUT)]
    pub stats: bool,
    /// Draw the rank-frequency curve (log-log, with the fitted Zipf line and
    /// the top words labelled) to FILE (.svg or .png).
    #[arg(long, value_name = "FILE", value_parser = plot_file, value_hint = ValueHint::FilePath, help_heading = OUTPUT)]
    pub plot: Option<PathBuf>,
    /// Write the counts to FILE (atomically: a temporary file renamed at the end).
    #[arg(short, long, value_name = "FILE", value_hint = ValueHint::FilePath, help_heading = OUTPUT)]
    pub output: Option<PathBuf>,
    /// Also write the exact table to FILE (binary, with the counting options
    /// and totals; atomically), for `gpucount merge`. The counts are printed as usual.
    #[arg(long, value_name = "FILE", value_hint = ValueHint::FilePath, help_heading = OUTPUT)]
    pub save_table: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct MergeArgs {
    /// Saved tables (written by --save-table), counted with the same options.
    #[arg(required = true, value_name = "TABLE", value_hint = ValueHint::FilePath)]
    pub tables: Vec<PathBuf>,
    #[command(flatten)]
    pub out: OutputArgs,
}

const CLUSTER: &str = "Cluster";

#[derive(Debug, Args)]
pub struct ClusterArgs {
    /// A file of `host:port` lines, one per process in rank order (blank
    /// lines and `#` comments left out). Each process listens at its own line.
    #[arg(long, value_name = "FILE", value_hint = ValueHint::FilePath, conflicts_with = "local", help_heading = CLUSTER)]
    pub hosts: Option<PathBuf>,
    /// This process's rank, from 0 (rank 0 prints). Default: the launcher's
    /// (OMPI_COMM_WORLD_RANK from mpirun, SLURM_PROCID from srun, or PMI_RANK).
    #[arg(long, value_name = "I", requires = "hosts", help_heading = CLUSTER)]
    pub rank: Option<usize>,
    /// Start N processes on this machine, on ports the system picks.
    #[arg(long, value_name = "N", value_parser = at_least_one, help_heading = CLUSTER)]
    pub local: Option<u64>,
    /// Seconds to wait for every process to connect.
    #[arg(long, value_name = "SECS", default_value_t = 60.0, value_parser = parse_seconds, help_heading = CLUSTER)]
    pub connect_timeout: f64,
    /// Each process counts the paths it is given (machines without a shared
    /// file system); otherwise all are given the same paths and each counts
    /// a share of them, balanced by size.
    #[arg(long, help_heading = CLUSTER)]
    pub own_inputs: bool,
    /// Test hook: wait this long after counting, before the exchange.
    #[arg(long, hide = true, default_value_t = 0)]
    pub stall_ms: u64,
    /// Test hook: cut files of this many bytes or more among processes.
    #[arg(long, hide = true, default_value_t = gpucount::share::MIN_PIECE)]
    pub min_piece: u64,
    #[command(flatten)]
    pub count: CountArgs,
}

fn parse_seconds(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(x) if x.is_finite() && x > 0.0 && x <= 1e6 => Ok(x),
        _ => Err("expected a number of seconds above 0".into()),
    }
}

#[derive(Debug, Args)]
pub struct BenchArgs {
    /// Files or directories to count (stdin cannot be re-read).
    #[arg(required = true, value_name = "PATH", value_hint = ValueHint::AnyPath)]
    pub paths: Vec<PathBuf>,
    /// Timed runs of each configuration (at least 1), after one warm-up run.
    #[arg(long, default_value_t = 5, value_parser = at_least_one)]
    pub runs: u64,
    /// Leave the GPU out.
    #[arg(long, conflicts_with = "calibrate")]
    pub no_gpu: bool,
    /// Save the GPU's and all CPU threads' speeds on this input as the GPU
    /// adapter's calibration: `--backend auto` then counts on that GPU only
    /// for inputs this large or larger, and only if it was faster (file:
    /// $GPUCOUNT_CALIBRATION, else ~/.config/gpucount/calibration.json).
    #[arg(long)]
    pub calibrate: bool,
    /// How to print the report.
    #[arg(short, long, value_enum, default_value_t = MachineFormat::Text)]
    pub format: MachineFormat,
    /// Draw the configurations' throughput as bars to FILE (.svg or .png).
    #[arg(long, value_name = "FILE", value_parser = plot_file, value_hint = ValueHint::FilePath)]
    pub plot: Option<PathBuf>,
    #[command(flatten)]
    pub text: TextArgs,
    #[command(flatten)]
    pub keys: KeyArgs,
    #[command(flatten)]
    pub gpu: GpuArgs,
}

const SENTENCES_THREADS_HELP: &str = "Threads that cut sentences, beside one that reads, one that groups the text into jobs and one that writes them in order (0: one per logical core)";

#[derive(Debug, Args)]
pub struct SentencesArgs {
    /// Files, directories, archives, URLs (`-` or none: stdin).
    #[arg(value_name = "PATH|URL", value_hint = ValueHint::AnyPath)]
    pub paths: Vec<PathBuf>,
    /// End sentences only at these characters (as a naive split('.') would),
    /// instead of at Unicode sentence boundaries (UAX #29).
    #[arg(long, value_name = "CHARS")]
    pub split_on: Option<String>,
    /// Which characters a sentence keeps (others are removed).
    #[arg(long, value_enum, default_value_t = KeepArg::Letters)]
    pub keep: KeepArg,
    /// Print the number of sentences and their mean and median length on stderr.
    #[arg(long)]
    pub stats: bool,
    #[command(flatten)]
    pub text: TextArgs,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum KeepArg {
    /// Letters (and combining marks) and spaces.
    Letters,
    /// Letters, digits and spaces.
    Alnum,
    /// Everything but control characters.
    All,
}

impl SentencesArgs {
    pub fn options(&self) -> SentenceOptions {
        SentenceOptions {
            split_on: self.split_on.as_ref().map(|s| s.chars().collect()),
            keep_case: self.text.keep_case,
            keep: match self.keep {
                KeepArg::Letters => Keep::Letters,
                KeepArg::Alnum => Keep::Alnum,
                KeepArg::All => Keep::All,
            },
        }
    }
}

/// What is counted: n-grams and which tokens (shared by counting and `bench`).
#[derive(Debug, Args)]
#[command(next_help_heading = WORDS)]
pub struct KeyArgs {
    /// Count n-grams of N tokens, or of every size from N to M (`1-3`), 1 to 5;
    /// tokens joined by one space, never across documents.
    #[arg(long, value_name = "N|N-M", default_value = "1", value_parser = Grams::parse)]
    pub ngram: (usize, usize),
    /// What n-grams may not cross besides documents.
    #[arg(long, value_enum, default_value_t = WithinArg::Document)]
    pub within: WithinArg,
    /// Remove stopwords before n-grams are formed: built-in lists by code
    /// (en, fr, la, de, es, it) and/or files (one word per line), comma-separated.
    #[arg(long, value_name = "LISTS")]
    pub stopwords: Option<String>,
    /// Leave out tokens shorter than N characters.
    #[arg(long, value_name = "N")]
    pub min_length: Option<usize>,
    /// Leave out tokens longer than N characters.
    #[arg(long, value_name = "N")]
    pub max_length: Option<usize>,
    /// Unicode-normalize tokens: nfc composes (`e` + U+0301 counts as `é`),
    /// nfkc also folds compatibility characters (`ﬁ`, full-width letters).
    #[arg(long, value_enum, value_name = "FORM")]
    pub normalize: Option<FormArg>,
    /// Remove accents from tokens (`école` counts as `ecole`).
    #[arg(long)]
    pub strip_accents: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FormArg {
    /// Canonical composition: a letter and its combining accent count as the accented letter.
    Nfc,
    /// nfc, and compatibility characters folded (ligatures, full-width and superscript forms).
    Nfkc,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SortArg {
    /// Count, most frequent first; ties by word bytes.
    Count,
    /// Document frequency, highest first (needs --doc-freq); ties by count, then word.
    Df,
    /// Word bytes, ascending (as `sort | uniq -c` users expect).
    Word,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum WithinArg {
    /// n-grams may cross lines and sentences, never documents.
    Document,
    /// n-grams never cross a line break (LF, CR, VT, FF, NEL, U+2028, U+2029).
    Line,
    /// n-grams never cross a sentence boundary (as `gpucount sentences` cuts them).
    Sentence,
}

impl KeyArgs {
    /// Sets the n-grams and the token filter in `options`.
    pub fn apply(&self, options: &mut Options) -> Result<(), Error> {
        let (min, max) = self.ngram;
        let within = match self.within {
            WithinArg::Document => Within::Document,
            WithinArg::Line => Within::Line,
            WithinArg::Sentence => Within::Sentence,
        };
        options.grams = Grams { min, max, within };
        if let (Some(lo), Some(hi)) = (self.min_length, self.max_length)
            && lo > hi
        {
            return Err(Error::Config(format!("--min-length {lo} is more than --max-length {hi}")));
        }
        let form = self.normalize.map(|f| match f {
            FormArg::Nfc => Form::Nfc,
            FormArg::Nfkc => Form::Nfkc,
        });
        let filter = Filter::from_options(
            &options.tokenizer,
            self.stopwords.as_deref(),
            self.min_length,
            self.max_length,
            form,
            self.strip_accents,
        )
        .map_err(Error::Config)?;
        options.filter = filter.map(std::sync::Arc::new);
        Ok(())
    }
}

/// Which files are read and how text is tokenized (shared by counting and `bench`).
#[derive(Debug, Args)]
pub struct TextArgs {
    /// `auto`: a byte order mark decides, else UTF-8 unless the first non-ASCII
    /// bytes look like another encoding (detected); or a WHATWG label that
    /// forces one (utf-8, windows-1252, utf-16le, iso-8859-1, ...).
    #[arg(long, value_name = "auto|LABEL", default_value = "auto", help_heading = INPUT)]
    pub encoding: String,
    /// Walk hidden files and directories too.
    #[arg(long, help_heading = INPUT)]
    pub hidden: bool,
    /// Do not honour .gitignore, .ignore and git's exclude files in walks.
    #[arg(long, help_heading = INPUT)]
    pub no_ignore: bool,
    /// Count only walked files matching GLOB (gitignore syntax; `!GLOB` excludes). Repeatable.
    #[arg(short = 'g', long = "glob", value_name = "GLOB", help_heading = INPUT)]
    pub globs: Vec<String>,
    /// Leave out walked files matching GLOB. Repeatable.
    #[arg(long, value_name = "GLOB", help_heading = INPUT)]
    pub exclude: Vec<String>,
    /// Count walked files that look binary (skipped by default; named files are always read).
    #[arg(long, help_heading = INPUT)]
    pub binary: bool,
    /// Count compressed files and archives as the bytes they are, instead of
    /// decompressing them and reading archive members.
    #[arg(long, help_heading = INPUT)]
    pub raw: bool,
    /// Count only the visible text of HTML documents (auto: .html/.htm/.xhtml
    /// names, text/html downloads, and documents that start like HTML).
    #[arg(long, value_enum, default_value_t = HtmlArg::Auto, value_name = "WHEN", help_heading = INPUT)]
    pub html: HtmlArg,
    /// Keep only the text of HTML elements matching this CSS selector
    /// (e.g. 'p:not([class])').
    #[arg(long, value_name = "CSS", help_heading = INPUT)]
    pub select: Option<String>,
    /// Download the URLs listed in FILE, one per line (`-`: stdin).
    #[arg(long, value_name = "FILE", value_hint = ValueHint::FilePath, help_heading = INPUT)]
    pub urls_from: Vec<PathBuf>,
    /// Downloads at once.
    #[arg(long, value_name = "N", default_value_t = 8, value_parser = at_least_one, help_heading = INPUT)]
    pub jobs: u64,
    /// What a token is.
    #[arg(long, value_enum, default_value_t = TokenizerArg::Words, help_heading = WORDS)]
    pub tokenizer: TokenizerArg,
    /// Count tokens as written instead of lowercased.
    #[arg(long, help_heading = WORDS)]
    pub keep_case: bool,
    /// Keep apostrophes and hyphens between two letters or digits inside
    /// words (don't, l'homme, saint-jacques); words tokenizer only.
    #[arg(long, help_heading = WORDS)]
    pub inner_punctuation: bool,
    /// Tokens are the matches of REGEX (Rust regex syntax, Unicode; one
    /// capturing group makes its text the token), sought in each run of
    /// non-whitespace after lowercasing, as scikit-learn's token_pattern
    /// (its default: '(?u)\b\w\w+\b'). Replaces --tokenizer.
    #[arg(long, value_name = "REGEX", conflicts_with_all = ["tokenizer", "inner_punctuation"], help_heading = WORDS)]
    pub token_pattern: Option<String>,
    /// Threads that count, the one that reads among them (0: one per logical core).
    #[arg(short = 'j', long, value_name = "N", default_value_t = 0, help_heading = BACKEND)]
    pub threads: usize,
    // Test hooks: force collisions and tiny chunks.
    #[arg(long, hide = true)]
    pub weak_hash_bits: Option<u32>,
    #[arg(long, hide = true, value_parser = byte_limit)]
    pub chunk_bytes: Option<u64>,
    #[arg(long, hide = true, value_parser = byte_limit)]
    pub max_token_bytes: Option<u64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum HtmlArg {
    /// HTML when the name (.html, .htm, .xhtml), the download's type or the first bytes say so.
    Auto,
    /// Read every document as HTML.
    Always,
    /// Count HTML as plain text, tags included.
    Never,
}

/// GPU choice and (hidden) test hooks for tiny tables and faults.
#[derive(Debug, Args)]
pub struct GpuArgs {
    /// GPU adapter by index or name (see `gpucount devices`).
    #[arg(long, value_name = "NAME_OR_INDEX", help_heading = BACKEND)]
    pub adapter: Option<String>,
    #[arg(long, hide = true)]
    pub gpu_table_slots: Option<u32>,
    #[arg(long, hide = true)]
    pub gpu_batch_tokens: Option<u32>,
    #[arg(long, hide = true)]
    pub gpu_dispatch_tokens: Option<u32>,
    #[arg(long, hide = true)]
    pub gpu_max_probes: Option<u32>,
    #[arg(long, hide = true)]
    pub gpu_arena_bytes: Option<u64>,
    #[arg(long, hide = true)]
    pub gpu_max_binding: Option<u64>,
    #[arg(long, hide = true, value_parser = parse_fault)]
    pub gpu_fault: Option<Fault>,
}

fn at_least_one(s: &str) -> Result<u64, String> {
    s.parse::<u64>().ok().filter(|&n| n >= 1).ok_or_else(|| "expected a whole number, at least 1".into())
}

fn plot_file(s: &str) -> Result<PathBuf, String> {
    let ext = std::path::Path::new(s).extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase);
    match ext.as_deref() {
        Some("svg" | "png") => Ok(PathBuf::from(s)),
        _ => Err("name a .svg or .png file".into()),
    }
}

fn byte_limit(s: &str) -> Result<u64, String> {
    s.parse::<u64>()
        .ok()
        .filter(|&n| (1..=MAX_TOKEN_BYTES as u64).contains(&n))
        .ok_or_else(|| format!("expected a number of bytes from 1 to {MAX_TOKEN_BYTES}"))
}

fn parse_exponent(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(x) if x.is_finite() && x >= 0.0 => Ok(x),
        _ => Err("expected a finite number, 0 or more (such as 1.07)".into()),
    }
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
    pub operands: Vec<Operand>,
    pub options: Options,
    pub out: Output,
}

/// Validated output flags (of a count or a merge).
pub struct Output {
    pub report: ReportOptions,
    pub stats: bool,
    pub output: Option<PathBuf>,
    pub plot: Option<PathBuf>,
    pub save_table: Option<PathBuf>,
}

impl From<FormatArg> for Format {
    fn from(f: FormatArg) -> Format {
        match f {
            FormatArg::Tsv => Format::Tsv,
            FormatArg::Csv => Format::Csv,
            FormatArg::Json => Format::Json,
            FormatArg::Jsonl => Format::Jsonl,
            FormatArg::Table => Format::Table,
        }
    }
}

impl TextArgs {
    /// The run options these flags ask for (backend left at `auto`).
    pub fn options(&self) -> Result<Options, Error> {
        let encoding = EncodingChoice::parse(&self.encoding).map_err(Error::Config)?;
        let mode = match (&self.token_pattern, self.tokenizer) {
            (Some(pattern), _) => Mode::Pattern(TokenPattern::new(pattern).map_err(Error::Config)?),
            (None, TokenizerArg::Words) => Mode::Words,
            (None, TokenizerArg::Whitespace) => Mode::Whitespace,
        };
        let mut globs = self.globs.clone();
        globs.extend(self.exclude.iter().map(|g| format!("!{g}")));
        let mut options = Options {
            tokenizer: Tokenizer { mode, keep_case: self.keep_case, inner_punctuation: self.inner_punctuation },
            hash: self.weak_hash_bits.map_or(KeyHash::Xxh3, |bits| KeyHash::WeakForTesting { bits }),
            encoding,
            threads: self.threads,
            binary: self.binary,
            raw: self.raw,
            html: match self.html {
                HtmlArg::Auto => HtmlMode::Auto,
                HtmlArg::Always => HtmlMode::Always,
                HtmlArg::Never => HtmlMode::Never,
            },
            select: self.select.as_deref().map(Select::parse).transpose().map_err(Error::Config)?,
            fetch: FetchOptions { jobs: self.jobs as usize, ..FetchOptions::default() },
            walk: WalkOptions { hidden: self.hidden, no_ignore: self.no_ignore, globs },
            ..Options::default()
        };
        if let Some(c) = self.chunk_bytes {
            options.chunk_bytes = c as usize;
        }
        if let Some(m) = self.max_token_bytes {
            options.max_token_bytes = m as usize;
        }
        options.walk.check()?;
        Ok(options)
    }

    /// The inputs: `paths` (URLs among them), then the URL lists; stdin
    /// when there are none.
    pub fn operands(&self, paths: &[PathBuf]) -> Vec<Operand> {
        let mut operands: Vec<Operand> = paths.iter().cloned().map(Operand::from_arg).collect();
        operands.extend(self.urls_from.iter().cloned().map(Operand::UrlList));
        if operands.is_empty() {
            operands.push(Operand::Stdin);
        }
        operands
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
        if let Some(n) = self.gpu_dispatch_tokens {
            gpu.min_dispatch_tokens = n;
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

impl OutputArgs {
    /// Checks the output flags once: how to print, and whether the table
    /// must be per document (--per-doc, --doc-freq).
    pub fn output(&self) -> Result<Output, Error> {
        let docs = self.per_doc || self.doc_freq;
        let needs = |what: &str, ok: bool| if ok { Ok(()) } else { Err(Error::Config(what.into())) };
        needs("--sort df needs --doc-freq", self.sort != SortArg::Df || self.doc_freq)?;
        needs(
            "--min-df and --max-df need --per-doc or --doc-freq",
            docs || (self.min_df.is_none() && self.max_df.is_none()),
        )?;
        needs("--share is for corpus counts: not with --per-doc or --doc-freq", !(docs && self.share))?;
        needs("--plot draws corpus counts: not with --per-doc or --doc-freq", !(docs && self.plot.is_some()))?;
        needs(
            "--save-table needs a file (standard output carries the counts)",
            self.save_table.as_deref().is_none_or(|p| p.as_os_str() != "-"),
        )?;
        Ok(Output {
            report: ReportOptions {
                format: self.format.into(),
                top: self.top.map(|n| n as usize),
                min_count: self.min_count.max(1),
                share: self.share,
                sort: if self.sort == SortArg::Word { SortBy::Word } else { SortBy::Count },
                docs: docs.then_some(DocOptions {
                    per_doc: self.per_doc,
                    doc_freq: self.doc_freq,
                    tfidf: self.tfidf,
                    min_df: self.min_df,
                    max_df: self.max_df,
                    sort_df: self.sort == SortArg::Df,
                }),
            },
            stats: self.stats,
            output: self.output.clone(),
            plot: self.plot.clone(),
            save_table: self.save_table.clone(),
        })
    }
}

impl CountArgs {
    /// Checks the flags once and builds the config.
    pub fn config(&self) -> Result<Config, Error> {
        let mut options = self.text.options()?;
        self.keys.apply(&mut options)?;
        let out = self.out.output()?;
        options.per_doc = out.report.docs.is_some();
        options.backend = BackendConfig {
            choice: match self.backend {
                BackendArg::Auto => BackendChoice::Auto,
                BackendArg::Cpu => BackendChoice::Cpu,
                BackendArg::Gpu => BackendChoice::Gpu,
            },
            adapter: self.gpu.adapter(),
            gpu: self.gpu.options(),
            auto_software: self.auto_software,
            ..BackendConfig::default()
        };
        Ok(Config { operands: self.text.operands(&self.paths), options, out })
    }
}
