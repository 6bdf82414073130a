//! Test harness: temp dirs, the binary, parsing its output, and the
//! deliberately simple reference counter every fast path is compared with.

#![allow(dead_code)]

use gpucount::count::gpu::GpuOptions;
use gpucount::count::naive;
use gpucount::count::{BackendChoice, BackendConfig};
use gpucount::source::Operand;
use gpucount::tokenize::{Mode, Tokenizer};
use gpucount::{Options, Outcome};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

pub struct Dir(tempfile::TempDir);

impl Dir {
    pub fn new() -> Dir {
        Dir(tempfile::tempdir().expect("temp dir"))
    }

    pub fn path(&self) -> &Path {
        self.0.path()
    }

    /// Writes `bytes` to `name` (parent directories included) and returns the path.
    pub fn write(&self, name: &str, bytes: impl AsRef<[u8]>) -> PathBuf {
        let p = self.0.path().join(name);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(&p, bytes).unwrap();
        p
    }
}

/// The `gpucount` binary.
#[cfg(feature = "cli")]
pub fn gpucount() -> assert_cmd::Command {
    assert_cmd::Command::new(env!("CARGO_BIN_EXE_gpucount"))
}

/// What `gpucount --backend cpu FILE` prints.
#[cfg(feature = "cli")]
pub fn cpu_output(file: &Path) -> Vec<u8> {
    gpucount().arg(file).args(["--backend", "cpu"]).assert().success().get_output().stdout.clone()
}

/// Parses TSV output into (word, count) rows, in order.
pub fn tsv(out: &[u8]) -> Vec<(String, u64)> {
    std::str::from_utf8(out)
        .expect("output is UTF-8")
        .lines()
        .map(|l| {
            let (w, n) = l.rsplit_once('\t').unwrap_or_else(|| panic!("not a TSV row: {l:?}"));
            (w.to_string(), n.parse().unwrap())
        })
        .collect()
}

/// The reference counter (`gpucount::count::naive`) with explicit options.
pub fn reference(text: &str, mode: Mode, keep_case: bool) -> BTreeMap<String, u64> {
    naive::count(text, &Tokenizer { mode, keep_case, ..Tokenizer::default() })
}

pub use gpucount::count::naive::rows as reference_rows;

/// Whether GPU tests can run. Under `CI=true` a missing adapter is a failure.
pub fn gpu_available() -> bool {
    static FOUND: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    let found = *FOUND.get_or_init(|| !gpucount::count::select::Devices::new().reports().is_empty());
    if !found {
        if std::env::var("CI").is_ok_and(|v| v == "true") {
            panic!("CI=true but wgpu finds no adapter: install mesa-vulkan-drivers");
        }
        eprintln!("SKIPPED: no GPU adapter (install mesa-vulkan-drivers for lavapipe)");
    }
    found
}

/// Options for a CPU count.
pub fn cpu_options(mode: Mode, keep_case: bool, chunk_bytes: usize, threads: usize) -> Options {
    Options {
        tokenizer: Tokenizer { mode, keep_case, ..Tokenizer::default() },
        chunk_bytes,
        threads,
        backend: BackendConfig { choice: BackendChoice::Cpu, ..BackendConfig::default() },
        ..Options::default()
    }
}

/// The same options on the GPU (any adapter, software included) with `gpu` table settings.
pub fn on_gpu(opts: &Options, gpu: GpuOptions) -> Options {
    Options { backend: BackendConfig { choice: BackendChoice::Gpu, gpu, ..BackendConfig::default() }, ..opts.clone() }
}

/// Counts `operands`; panics if the run fails.
pub fn run(operands: &[Operand], opts: &Options) -> Outcome {
    gpucount::pipeline::count(operands.to_vec(), opts).unwrap_or_else(|e| panic!("run failed: {e}"))
}

/// Rows in report order, owned.
pub fn rows(t: &gpucount::CountTable) -> Vec<(String, u64)> {
    t.sorted_rows(None, 1).into_iter().map(|(w, n)| (w.to_string(), n)).collect()
}
