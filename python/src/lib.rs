//! The Python face of gpucount: a thin PyO3 layer over the library, as
//! HuggingFace `tokenizers` and polars are. Options arrive as one dict from
//! the Python package (`python/gpucount/__init__.py`, which documents them),
//! become the library's [`Options`] exactly as the command line's flags do,
//! and the run happens on a thread of its own with the GIL released while
//! this thread watches for signals: Ctrl-C sets the run's cancel flag and
//! raises `KeyboardInterrupt` at once.
//!
//! Rows come out in the command line's order and with its values: corpus
//! counts through the same table functions `report::write` uses, per-document
//! and document-frequency rows through the report writer itself (its JSON
//! form, read back), and the summary is `report::summary_json`.

use gpucount::count::gpu::AdapterChoice;
use gpucount::count::select::{self, Devices};
use gpucount::count::{BackendChoice, BackendConfig};
use gpucount::decode::EncodingChoice;
use gpucount::html::{HtmlMode, Select};
use gpucount::keys::{Filter, Form, Grams, Within};
use gpucount::report::{self, DfBound, DocOptions, Format, ReportOptions, SortBy};
use gpucount::source::fetch::FetchOptions;
use gpucount::source::{Operand, WalkOptions};
use gpucount::table::sort_rows;
use gpucount::tokenize::TokenPattern;
use gpucount::{Counter, Error, Mode, Options, Outcome, Tokenizer};
use pyo3::create_exception;
use pyo3::exceptions::{PyOSError, PyRuntimeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::PyList;
use serde::Deserialize;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

create_exception!(
    _gpucount,
    GpuError,
    PyRuntimeError,
    "The GPU could not be used (no adapter, or a failure while counting)."
);

/// How often the waiting thread looks for signals (Ctrl-C) while a run goes on.
const SIGNAL_POLL: Duration = Duration::from_millis(50);
/// How long a cancelled run is given to stop before the interrupt is raised anyway.
const CANCEL_GRACE: Duration = Duration::from_secs(2);

/// A document-frequency bound from Python: an int is a number of documents,
/// a float a share of them.
#[derive(FromPyObject)]
enum DfArg {
    Docs(u64),
    Share(f64),
}

/// Every option of a count, as the Python package passes them (all keys present).
#[derive(FromPyObject)]
#[pyo3(from_item_all)]
struct Spec {
    backend: String,
    adapter: Option<String>,
    tokenizer: String,
    keep_case: bool,
    inner_punctuation: bool,
    token_pattern: Option<String>,
    encoding: String,
    threads: usize,
    ngram: String,
    within: String,
    stopwords: Option<String>,
    min_length: Option<usize>,
    max_length: Option<usize>,
    normalize: Option<String>,
    strip_accents: bool,
    hidden: bool,
    no_ignore: bool,
    glob: Vec<String>,
    exclude: Vec<String>,
    binary: bool,
    raw: bool,
    html: String,
    select: Option<String>,
    urls_from: Vec<PathBuf>,
    jobs: usize,
    top: Option<usize>,
    min_count: u64,
    share: bool,
    sort: String,
    per_doc: bool,
    doc_freq: bool,
    tfidf: bool,
    min_df: Option<DfArg>,
    max_df: Option<DfArg>,
}

fn bad(msg: impl Into<String>) -> PyErr {
    PyValueError::new_err(msg.into())
}

/// `value` as one of `choices` (name, meaning), or a ValueError naming the option.
fn pick<T: Clone>(option: &str, value: &str, choices: &[(&str, T)]) -> PyResult<T> {
    choices.iter().find(|(name, _)| *name == value).map(|(_, t)| t.clone()).ok_or_else(|| {
        let names: Vec<String> = choices.iter().map(|(n, _)| format!("{n:?}")).collect();
        bad(format!("{option}={value:?}: expected one of {}", names.join(", ")))
    })
}

fn df_bound(option: &str, arg: &Option<DfArg>) -> PyResult<Option<DfBound>> {
    match *arg {
        None => Ok(None),
        Some(DfArg::Docs(n)) => Ok(Some(DfBound::Docs(n))),
        Some(DfArg::Share(x)) if (0.0..=1.0).contains(&x) => Ok(Some(DfBound::Share(x))),
        Some(DfArg::Share(x)) => Err(bad(format!(
            "{option}={x}: expected a number of documents (an int, such as 2) or a share of them from 0.0 to 1.0 (a float)"
        ))),
    }
}

/// The options and report the command line would build from the same flags
/// (`src/cli/args.rs`: `TextArgs::options`, `KeyArgs::apply`, `CountArgs::config`).
fn build(spec: &Spec) -> PyResult<(Options, ReportOptions)> {
    let mut mode = pick("tokenizer", &spec.tokenizer, &[("words", Mode::Words), ("whitespace", Mode::Whitespace)])?;
    if let Some(pattern) = &spec.token_pattern {
        if spec.tokenizer != "words" || spec.inner_punctuation {
            return Err(bad("token_pattern replaces tokenizer and inner_punctuation: give one or the other"));
        }
        mode = Mode::Pattern(TokenPattern::new(pattern).map_err(bad)?);
    }
    let tokenizer = Tokenizer { mode, keep_case: spec.keep_case, inner_punctuation: spec.inner_punctuation };
    let encoding = EncodingChoice::parse(&spec.encoding).map_err(bad)?;
    let html = pick(
        "html",
        &spec.html,
        &[("auto", HtmlMode::Auto), ("always", HtmlMode::Always), ("never", HtmlMode::Never)],
    )?;
    let select = spec.select.as_deref().map(Select::parse).transpose().map_err(|e| bad(format!("select: {e}")))?;
    if spec.jobs == 0 {
        return Err(bad("jobs=0: expected at least 1 download at once"));
    }
    let mut globs = spec.glob.clone();
    globs.extend(spec.exclude.iter().map(|g| format!("!{g}")));
    let walk = WalkOptions { hidden: spec.hidden, no_ignore: spec.no_ignore, globs };
    walk.check().map_err(|e| bad(e.to_string()))?;

    let (min, max) = Grams::parse(&spec.ngram).map_err(|e| bad(format!("ngram={:?}: {e}", spec.ngram)))?;
    let within = pick(
        "within",
        &spec.within,
        &[("document", Within::Document), ("line", Within::Line), ("sentence", Within::Sentence)],
    )?;
    let grams = Grams { min, max, within };
    let form = match spec.normalize.as_deref() {
        None => None,
        Some(f) => Some(pick("normalize", f, &[("nfc", Form::Nfc), ("nfkc", Form::Nfkc)])?),
    };
    if let (Some(lo), Some(hi)) = (spec.min_length, spec.max_length)
        && lo > hi
    {
        return Err(bad(format!("min_length={lo} is more than max_length={hi}")));
    }
    let filter = Filter::from_options(
        &tokenizer,
        spec.stopwords.as_deref(),
        spec.min_length,
        spec.max_length,
        form,
        spec.strip_accents,
    )
    .map_err(|e| bad(format!("stopwords: {e}")))?
    .map(Arc::new);

    let choice = pick(
        "backend",
        &spec.backend,
        &[("auto", BackendChoice::Auto), ("cpu", BackendChoice::Cpu), ("gpu", BackendChoice::Gpu)],
    )?;
    let backend = BackendConfig {
        choice,
        adapter: spec.adapter.as_deref().map_or(AdapterChoice::Best, AdapterChoice::parse),
        ..BackendConfig::default()
    };

    let sort = pick("sort", &spec.sort, &[("count", 0u8), ("word", 1), ("df", 2)])?;
    let docs = spec.per_doc || spec.doc_freq;
    let needs = |what: &str, ok: bool| if ok { Ok(()) } else { Err(bad(what)) };
    needs("sort=\"df\" needs doc_freq=True", sort != 2 || spec.doc_freq)?;
    needs("tfidf=True needs per_doc=True", !spec.tfidf || spec.per_doc)?;
    needs(
        "min_df and max_df need per_doc=True or doc_freq=True",
        docs || (spec.min_df.is_none() && spec.max_df.is_none()),
    )?;
    needs("share=True is for corpus counts: not with per_doc or doc_freq", !(docs && spec.share))?;
    if spec.top == Some(0) {
        return Err(bad("top=0: expected at least 1 (top=None keeps every row)"));
    }
    let report = ReportOptions {
        format: Format::Json,
        top: spec.top,
        min_count: spec.min_count.max(1),
        share: spec.share,
        sort: if sort == 1 { SortBy::Word } else { SortBy::Count },
        docs: docs.then_some(DocOptions {
            per_doc: spec.per_doc,
            doc_freq: spec.doc_freq,
            tfidf: spec.tfidf,
            min_df: df_bound("min_df", &spec.min_df)?,
            max_df: df_bound("max_df", &spec.max_df)?,
            sort_df: sort == 2,
        }),
    };
    let options = Options {
        tokenizer,
        grams,
        filter,
        per_doc: docs,
        encoding,
        threads: spec.threads,
        binary: spec.binary,
        walk,
        raw: spec.raw,
        html,
        select,
        fetch: FetchOptions { jobs: spec.jobs, ..FetchOptions::default() },
        backend,
        ..Options::default()
    };
    Ok((options, report))
}

/// One column of the rows.
enum Column {
    Str(Vec<String>),
    Int(Vec<u64>),
    Float(Vec<f64>),
}

impl Column {
    fn len(&self) -> usize {
        match self {
            Column::Str(v) => v.len(),
            Column::Int(v) => v.len(),
            Column::Float(v) => v.len(),
        }
    }
}

/// Rows as named columns, in report order.
struct Rows {
    names: Vec<&'static str>,
    columns: Vec<Column>,
}

/// Corpus rows in the order `report::write` prints them: count descending,
/// ties by word bytes, the first `top` kept, then by word if asked.
fn corpus_rows(outcome: &Outcome, report: &ReportOptions) -> Rows {
    let mut rows = sort_rows(outcome.table.rows(report.min_count), report.top);
    if report.sort == SortBy::Word {
        rows.sort_unstable_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
    }
    let words = rows.iter().map(|r| r.0.to_string()).collect();
    let counts: Vec<u64> = rows.iter().map(|r| r.1).collect();
    let mut names = vec!["word", "count"];
    let mut columns = vec![Column::Str(words)];
    if report.share {
        // As report::shares: each row's share of all counted keys, and the running sum.
        let total = outcome.table.total();
        let mut sum = 0u64;
        let (mut share, mut cumulative) = (Vec::new(), Vec::new());
        for &n in &counts {
            sum += n;
            let (s, c) = if total == 0 { (0.0, 0.0) } else { (n as f64 / total as f64, sum as f64 / total as f64) };
            share.push(s);
            cumulative.push(c);
        }
        columns.push(Column::Int(counts));
        columns.extend([Column::Float(share), Column::Float(cumulative)]);
        names.extend(["share", "cumulative"]);
    } else {
        columns.push(Column::Int(counts));
    }
    Rows { names, columns }
}

#[derive(Deserialize)]
struct DocsReport {
    documents: Option<Vec<DocGroup>>,
    words: Option<Vec<DocRow>>,
}

#[derive(Deserialize)]
struct DocGroup {
    doc: String,
    words: Vec<DocRow>,
}

#[derive(Deserialize)]
struct DocRow {
    word: String,
    count: u64,
    df: Option<u64>,
    tfidf: Option<f64>,
}

/// Per-document rows, or corpus rows with document frequencies, exactly as
/// the report writer makes them (its JSON form, read back).
fn docs_rows(outcome: &mut Outcome, report: &ReportOptions, docs: &DocOptions) -> Result<Rows, Error> {
    let mut json = Vec::new();
    report::write(&mut json, outcome, report).map_err(|e| Error::io("report", e))?;
    let parsed: DocsReport =
        serde_json::from_slice(&json).map_err(|e| Error::Config(format!("reading the report back: {e}")))?;
    let (mut doc, mut word, mut count, mut df, mut tfidf) = (vec![], vec![], vec![], vec![], vec![]);
    let mut push = |name: Option<&str>, r: DocRow| {
        if let Some(name) = name {
            doc.push(name.to_string());
        }
        word.push(r.word);
        count.push(r.count);
        df.extend(r.df);
        tfidf.extend(r.tfidf);
    };
    for g in parsed.documents.unwrap_or_default() {
        for r in g.words {
            push(Some(&g.doc), r);
        }
    }
    for r in parsed.words.unwrap_or_default() {
        push(None, r);
    }
    let mut names = Vec::new();
    let mut columns = Vec::new();
    if docs.per_doc {
        names.push("doc");
        columns.push(Column::Str(doc));
    }
    names.extend(["word", "count"]);
    columns.extend([Column::Str(word), Column::Int(count)]);
    if docs.doc_freq || !docs.per_doc {
        names.push("df");
        columns.push(Column::Int(df));
    }
    if docs.tfidf {
        names.push("tfidf");
        columns.push(Column::Float(tfidf));
    }
    Ok(Rows { names, columns })
}

/// What a run gives Python, made on the counting thread.
struct Made {
    rows: Rows,
    summary: String,
    problems: Vec<(String, Option<Vec<u8>>, String)>,
    backend: String,
    device: Option<String>,
    warnings: Vec<String>,
}

fn make(operands: Vec<Operand>, options: Options, report: &ReportOptions) -> Result<Made, Error> {
    let mut counter = Counter::new(options);
    for operand in operands {
        counter.push(operand);
    }
    let mut outcome = counter.count()?;
    let rows = match &report.docs {
        Some(docs) => docs_rows(&mut outcome, report, docs)?,
        None => corpus_rows(&outcome, report),
    };
    Ok(Made {
        rows,
        summary: report::summary_json(&outcome),
        problems: outcome.errors.iter().map(|e| (e.input.clone(), e.input_bytes.clone(), e.reason.clone())).collect(),
        backend: outcome.backend.clone(),
        device: outcome.device.clone(),
        warnings: outcome.warnings.clone(),
    })
}

/// The library's error as a Python exception: bad options are ValueError, a
/// GPU that cannot be used GpuError (a RuntimeError), I/O an OSError.
fn to_py(e: Error) -> PyErr {
    match e {
        Error::Config(msg) => PyValueError::new_err(msg),
        Error::NoAdapter(_) | Error::Gpu(_) => GpuError::new_err(e.to_string()),
        Error::Cancelled => PyRuntimeError::new_err("the count was cancelled"),
        Error::Input(i) => PyOSError::new_err(i.to_string()),
        Error::Io { .. } => PyOSError::new_err(e.to_string()),
    }
}

/// Runs `work` on its own thread with the GIL released; while it runs, this
/// thread checks for signals every [`SIGNAL_POLL`]. A signal handler's
/// exception (KeyboardInterrupt for Ctrl-C) sets `cancel`, gives the run
/// [`CANCEL_GRACE`] to stop, and is raised.
fn detached<T: Send + 'static>(
    py: Python<'_>,
    cancel: Arc<AtomicBool>,
    work: impl FnOnce() -> T + Send + 'static,
) -> PyResult<T> {
    let (tx, rx) = crossbeam_channel::bounded(1);
    std::thread::Builder::new()
        .name("gpucount-run".into())
        .spawn(move || {
            // The receiver may be gone after an interrupt; the result is then dropped.
            let _ = tx.send(work());
        })
        .map_err(|e| PyRuntimeError::new_err(format!("cannot start the counting thread: {e}")))?;
    loop {
        match py.detach(|| rx.recv_timeout(SIGNAL_POLL)) {
            Ok(result) => return Ok(result),
            Err(crossbeam_channel::RecvTimeoutError::Disconnected) => {
                return Err(PyRuntimeError::new_err("the counting thread panicked"));
            }
            Err(crossbeam_channel::RecvTimeoutError::Timeout) => {
                if let Err(interrupt) = py.check_signals() {
                    cancel.store(true, Ordering::Relaxed);
                    let _ = py.detach(|| rx.recv_timeout(CANCEL_GRACE));
                    return Err(interrupt);
                }
            }
        }
    }
}

/// A document given to `count_text`: text, or bytes decoded like a file.
#[derive(FromPyObject)]
enum TextArg {
    Str(String),
    Bytes(Vec<u8>),
}

/// Counts `inputs` (paths, directories, URLs, `-` for stdin) and `texts`
/// ((name, str or bytes) documents in memory), in that order, with the
/// options in `spec`. Returns the rows and the run's report.
#[pyfunction]
#[pyo3(signature = (inputs, texts, spec))]
fn _count(py: Python<'_>, inputs: Vec<PathBuf>, texts: Vec<(String, TextArg)>, spec: Spec) -> PyResult<Counts> {
    let (mut options, report) = build(&spec)?;
    let mut operands: Vec<Operand> = inputs.into_iter().map(Operand::from_arg).collect();
    operands.extend(spec.urls_from.iter().cloned().map(Operand::UrlList));
    operands.extend(texts.into_iter().map(|(name, t)| match t {
        TextArg::Str(s) => Operand::text(name, s),
        TextArg::Bytes(b) => Operand::Memory { name, bytes: b.into() },
    }));
    let cancel = Arc::new(AtomicBool::new(false));
    options.cancel = Some(cancel.clone());
    let made = detached(py, cancel, move || make(operands, options, &report))?.map_err(to_py)?;
    Ok(Counts { made })
}

/// The rows and report of one count (wrapped by `gpucount.Counts`).
#[pyclass(frozen, module = "gpucount._gpucount")]
struct Counts {
    made: Made,
}

#[pymethods]
impl Counts {
    fn __len__(&self) -> usize {
        self.made.rows.columns.first().map_or(0, Column::len)
    }

    /// The column names, in row order.
    #[getter]
    fn columns(&self) -> Vec<&'static str> {
        self.made.rows.names.clone()
    }

    /// One column as a list.
    fn column<'py>(&self, py: Python<'py>, name: &str) -> PyResult<Bound<'py, PyList>> {
        let i =
            self.made.rows.names.iter().position(|n| *n == name).ok_or_else(|| bad(format!("no column {name:?}")))?;
        match &self.made.rows.columns[i] {
            Column::Str(v) => PyList::new(py, v),
            Column::Int(v) => PyList::new(py, v),
            Column::Float(v) => PyList::new(py, v),
        }
    }

    /// The run summary, as the command line's `--format json` prints it (JSON text).
    #[getter]
    fn summary_json(&self) -> &str {
        &self.made.summary
    }

    /// Per-input problems in input order: (input, input bytes when not UTF-8, reason).
    #[getter]
    fn problems(&self) -> Vec<(String, Option<&[u8]>, String)> {
        self.made.problems.iter().map(|(i, b, r)| (i.clone(), b.as_deref(), r.clone())).collect()
    }

    /// Where it was counted and why ("cpu: ...", "gpu: ...").
    #[getter]
    fn backend(&self) -> &str {
        &self.made.backend
    }

    /// The GPU adapter, when the GPU counted.
    #[getter]
    fn device(&self) -> Option<&str> {
        self.made.device.as_deref()
    }

    /// Run-level warnings (the GPU failed and the CPU recounted).
    #[getter]
    fn warnings(&self) -> Vec<String> {
        self.made.warnings.clone()
    }
}

/// CPU cores, GPU adapters and what `backend="auto"` picks, as the command
/// line's `gpucount devices --format json` (JSON text).
#[pyfunction]
fn _devices(py: Python<'_>) -> PyResult<String> {
    let report = py.detach(|| {
        let devices = Devices::new();
        let (large, small) = select::auto_summary(&devices);
        serde_json::json!({
            "logical_cores": std::thread::available_parallelism().map_or(1, |n| n.get()),
            "rayon_threads": Options::default().threads(),
            "adapters": devices.reports(),
            "auto_large_input": large,
            "auto_small_input": small,
        })
    });
    Ok(report.to_string())
}

/// Exact word and n-gram counts (the Rust extension of the gpucount package).
#[pymodule]
mod _gpucount {
    #[pymodule_export]
    use super::{_count, _devices, Counts, GpuError};

    #[pymodule_init]
    fn init(m: &pyo3::Bound<'_, pyo3::types::PyModule>) -> pyo3::PyResult<()> {
        use pyo3::types::PyModuleMethods;
        m.add("__version__", env!("CARGO_PKG_VERSION"))
    }
}
