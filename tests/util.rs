//! Test harness: temp dirs, the binary, parsing its output, and the
//! deliberately simple reference counter every fast path is compared with.

#![allow(dead_code)]

use gpucount::count::naive;
use gpucount::tokenize::{Mode, Tokenizer};
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
pub fn gpucount() -> assert_cmd::Command {
    assert_cmd::Command::new(env!("CARGO_BIN_EXE_gpucount"))
}

/// What `gpucount --backend cpu FILE` prints.
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
    let out = gpucount().args(["devices", "--format", "json"]).output().expect("run gpucount devices");
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("devices json");
    let found = json["adapters"].as_array().is_some_and(|a| !a.is_empty());
    if !found {
        if std::env::var("CI").is_ok_and(|v| v == "true") {
            panic!("CI=true but wgpu finds no adapter: install mesa-vulkan-drivers");
        }
        eprintln!("SKIPPED: no GPU adapter (install mesa-vulkan-drivers for lavapipe)");
    }
    found
}
