//! Measured speeds of a GPU against the CPU, saved per adapter and driver by
//! `gpucount bench --calibrate`, so that `auto` counts on a GPU only where a
//! measurement on this machine says it wins.
//!
//! The file is JSON (`{"version": 1, "adapters": [...]}`), at
//! `$GPUCOUNT_CALIBRATION`, else `$XDG_CONFIG_HOME/gpucount/calibration.json`,
//! else `~/.config/gpucount/calibration.json`. A new driver (or a renamed
//! adapter) needs a new calibration: entries match on name, API, driver and
//! driver version.

use super::gpu::AdapterReport;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// The file format's version.
const VERSION: u32 = 1;

/// One adapter's measurement.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Calibration {
    pub adapter: String,
    pub backend: String,
    pub driver: String,
    pub driver_info: String,
    /// Size of the input measured.
    pub bytes: u64,
    /// Threads that counted in the CPU run.
    pub cpu_threads: usize,
    pub cpu_mb_per_s: f64,
    pub gpu_mb_per_s: f64,
}

impl Calibration {
    /// Whether this measurement is of `adapter` with its current driver.
    pub fn matches(&self, adapter: &AdapterReport) -> bool {
        self.identity() == (&adapter.name, &adapter.backend, &adapter.driver, &adapter.driver_info)
    }

    /// What tells adapters and drivers apart: name, API, driver, driver version.
    fn identity(&self) -> (&String, &String, &String, &String) {
        (&self.adapter, &self.backend, &self.driver, &self.driver_info)
    }

    /// Whether the GPU counts an input of `bytes` faster: it was faster on
    /// the input measured, and this one is at least as large (a GPU's fixed
    /// costs weigh more on less).
    pub fn gpu_wins(&self, bytes: u64) -> bool {
        self.gpu_mb_per_s > self.cpu_mb_per_s && bytes >= self.bytes
    }

    /// The measurement in words, for reasons and `bench`.
    pub fn describe(&self) -> String {
        format!(
            "calibrated on {} bytes: GPU {:.1} MB/s, CPU {:.1} MB/s on {} threads",
            crate::report::group_thousands(self.bytes),
            self.gpu_mb_per_s,
            self.cpu_mb_per_s,
            self.cpu_threads
        )
    }
}

/// Every adapter's calibration.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Calibrations {
    pub version: u32,
    pub adapters: Vec<Calibration>,
}

impl Calibrations {
    /// Reads `path`; a missing file is no calibration.
    pub fn load(path: &Path) -> Result<Calibrations, String> {
        let text = match std::fs::read_to_string(path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Calibrations::default()),
            Err(e) => return Err(format!("{}: {e}", path.display())),
        };
        let c: Calibrations = serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?;
        if c.version != VERSION {
            return Err(format!(
                "{}: calibration format {} (this gpucount reads {VERSION})",
                path.display(),
                c.version
            ));
        }
        Ok(c)
    }

    /// The calibration of `adapter` with its current driver.
    pub fn find(&self, adapter: &AdapterReport) -> Option<&Calibration> {
        self.adapters.iter().find(|c| c.matches(adapter))
    }

    /// Adds `c` to the file at `path`, replacing the adapter's earlier one
    /// (the file is written to a temporary file and renamed over it).
    pub fn save(path: &Path, c: Calibration) -> Result<(), String> {
        let mut all = Calibrations::load(path).unwrap_or_default();
        all.version = VERSION;
        all.adapters.retain(|old| old.identity() != c.identity());
        all.adapters.push(c);
        let dir = path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
        let fail = |e: std::io::Error| format!("{}: {e}", path.display());
        std::fs::create_dir_all(dir).map_err(fail)?;
        let tmp = tempfile::NamedTempFile::new_in(dir).map_err(fail)?;
        serde_json::to_writer_pretty(tmp.as_file(), &all).map_err(|e| format!("{}: {e}", path.display()))?;
        tmp.persist(path).map_err(|e| fail(e.error))?;
        Ok(())
    }
}

/// Where calibrations are kept on this machine (see the module docs); None
/// without a home directory.
pub fn default_path() -> Option<PathBuf> {
    let var = |name| std::env::var_os(name).filter(|v| !v.is_empty()).map(PathBuf::from);
    var("GPUCOUNT_CALIBRATION")
        .or_else(|| var("XDG_CONFIG_HOME").map(|d| d.join("gpucount/calibration.json")))
        .or_else(|| var("HOME").map(|d| d.join(".config/gpucount/calibration.json")))
}
