//! The backend policy, defined once: what `--backend auto|cpu|gpu` picks for
//! an input, why, and what `gpucount devices` reports of it.

use super::calibration::{self, Calibrations};
use super::cpu::CpuOptions;
use super::gpu::{AdapterChoice, AdapterReport, GpuOptions, choose, no_adapter_help};
use crate::error::Error;
use std::fmt;
use std::path::PathBuf;

/// Below this much input, `auto` does not look for a GPU.
pub const AUTO_GPU_MIN_BYTES: u64 = 64 << 20;

/// Where to count.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum BackendChoice {
    /// A hardware GPU when its calibration says it wins on an input this
    /// large (see [`calibration`]), else the CPU.
    #[default]
    Auto,
    Cpu,
    /// The GPU, software adapters (lavapipe) included; fails if there is none.
    Gpu,
}

/// Backend choice and GPU settings.
#[derive(Debug, Clone)]
pub struct BackendConfig {
    pub choice: BackendChoice,
    pub adapter: AdapterChoice,
    pub gpu: GpuOptions,
    pub cpu: CpuOptions,
    /// Let `auto` use a software adapter at any input size (to test the fallback).
    pub auto_software: bool,
    /// The calibration file `auto` consults before it counts on a GPU
    /// ([`calibration::default_path`] by default; None: never the GPU).
    pub calibration: Option<PathBuf>,
}

impl Default for BackendConfig {
    fn default() -> Self {
        BackendConfig {
            choice: BackendChoice::default(),
            adapter: AdapterChoice::default(),
            gpu: GpuOptions::default(),
            cpu: CpuOptions::default(),
            auto_software: false,
            calibration: calibration::default_path(),
        }
    }
}

/// What is known of the input's size before counting.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InputSize {
    Known(u64),
    /// At least this much (the rest was not looked at).
    AtLeast(u64),
    /// Not known, and why.
    Unknown(String),
}

/// The policy's decision.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Plan {
    Cpu {
        reason: String,
    },
    /// Adapter `adapter` of [`Devices::reports`].
    Gpu {
        adapter: usize,
        reason: String,
    },
}

impl Plan {
    /// `"cpu"` or `"gpu"`: what machines read (the JSON summary, `bench`).
    pub fn backend(&self) -> &'static str {
        match self {
            Plan::Cpu { .. } => "cpu",
            Plan::Gpu { .. } => "gpu",
        }
    }

    /// Why this backend was chosen, in words.
    pub fn reason(&self) -> &str {
        match self {
            Plan::Cpu { reason } | Plan::Gpu { reason, .. } => reason,
        }
    }
}

impl fmt::Display for Plan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Plan::Cpu { reason } => write!(f, "cpu: {reason}"),
            Plan::Gpu { reason, .. } => write!(f, "gpu: {reason}"),
        }
    }
}

/// The machine's GPU adapters, enumerated at most once and only when a
/// decision needs them (small inputs never wait for a driver).
#[derive(Default)]
pub struct Devices {
    #[cfg(feature = "gpu")]
    adapters: std::sync::OnceLock<super::gpu::Adapters>,
}

impl Devices {
    pub fn new() -> Devices {
        Devices::default()
    }

    /// Whether the adapters have been listed already.
    pub fn probed(&self) -> bool {
        #[cfg(feature = "gpu")]
        return self.adapters.get().is_some();
        #[cfg(not(feature = "gpu"))]
        return false;
    }

    /// Every adapter, in the order `--adapter N` counts them.
    pub fn reports(&self) -> &[AdapterReport] {
        #[cfg(feature = "gpu")]
        return &self.adapters.get_or_init(super::gpu::Adapters::probe).reports;
        #[cfg(not(feature = "gpu"))]
        return &[];
    }

    /// Opens adapter `index`.
    #[cfg(feature = "gpu")]
    pub fn open(&self, index: usize) -> Result<super::gpu::GpuContext, Error> {
        self.adapters.get_or_init(super::gpu::Adapters::probe).open(index)
    }

    /// Why no adapter is listed, for `devices` and errors.
    pub fn none_found_help() -> String {
        if cfg!(feature = "gpu") {
            no_adapter_help()
        } else {
            "this build has no GPU support (the `gpu` feature is off)".into()
        }
    }
}

/// Decides where to count an input of `size`.
pub fn plan(config: &BackendConfig, size: &InputSize, devices: &Devices) -> Result<Plan, Error> {
    let named = config.adapter != AdapterChoice::Best;
    match config.choice {
        BackendChoice::Cpu if named => {
            Err(Error::Config("--adapter needs --backend gpu or auto (this run was told --backend cpu)".into()))
        }
        BackendChoice::Cpu => Ok(Plan::Cpu { reason: "chosen with --backend cpu".into() }),
        BackendChoice::Gpu => {
            let reports = devices.reports();
            if reports.is_empty() {
                return Err(Error::NoAdapter(Devices::none_found_help()));
            }
            let adapter = choose(reports, &config.adapter, true)?;
            Ok(Plan::Gpu { adapter, reason: format!("{}; chosen with --backend gpu", reports[adapter].name) })
        }
        BackendChoice::Auto => {
            // A named adapter must exist whatever the input turns out to be.
            let named_index = if named { Some(choose(devices.reports(), &config.adapter, true)?) } else { None };
            let bytes = match size {
                _ if config.auto_software => None,
                InputSize::Unknown(why) => return Ok(Plan::Cpu { reason: format!("{why}, so the CPU") }),
                InputSize::Known(b) if *b < AUTO_GPU_MIN_BYTES => {
                    return Ok(Plan::Cpu {
                        reason: format!(
                            "input of {b} bytes is below the {} MiB where a GPU pays",
                            AUTO_GPU_MIN_BYTES >> 20
                        ),
                    });
                }
                InputSize::Known(b) | InputSize::AtLeast(b) => Some(*b),
            };
            // Waking the GPU driver to list adapters took about 0.1 s on an
            // H200 machine, a quarter of counting 1 GB there on the CPU: ask
            // it only when a calibration could choose a GPU for this input.
            if !config.auto_software
                && !named
                && !devices.probed()
                && let Some(plan) = cpu_without_probing(config, bytes.unwrap_or(0))
            {
                return Ok(plan);
            }
            let reports = devices.reports();
            let pick = named_index.map_or_else(|| choose(reports, &AdapterChoice::Best, config.auto_software), Ok);
            match pick {
                Ok(i) if config.auto_software => {
                    Ok(Plan::Gpu { adapter: i, reason: format!("{} (a GPU, with --auto-software)", reports[i].name) })
                }
                Ok(i) if reports[i].hardware => Ok(calibrated(config, i, &reports[i], bytes.unwrap_or(0))),
                _ if reports.is_empty() => Ok(Plan::Cpu { reason: "no GPU adapter found".into() }),
                _ => {
                    let names: Vec<&str> = reports.iter().map(|r| r.name.as_str()).collect();
                    Ok(Plan::Cpu {
                        reason: format!(
                            "no hardware GPU ({} is software, used only with --backend gpu)",
                            names.join(", ")
                        ),
                    })
                }
            }
        }
    }
}

/// How to calibrate, for the reasons that lack one.
const CALIBRATE: &str =
    "`gpucount bench --calibrate FILE` on a large input measures a GPU, and auto then uses it where it wins";

/// The CPU, without listing adapters, when no calibration could choose a
/// GPU for an input of `bytes`: there is none, or none says its GPU wins on
/// an input this large. None when one might (the adapters decide).
fn cpu_without_probing(config: &BackendConfig, bytes: u64) -> Option<Plan> {
    let how = CALIBRATE;
    let Some(path) = &config.calibration else {
        return Some(Plan::Cpu { reason: format!("no GPU is calibrated (no calibration file): {how}") });
    };
    let all = Calibrations::load(path).ok()?;
    if all.adapters.is_empty() {
        return Some(Plan::Cpu { reason: format!("no GPU is calibrated ({} has none): {how}", path.display()) });
    }
    if all.adapters.iter().any(|c| c.gpu_wins(bytes)) {
        return None;
    }
    let measured: Vec<String> =
        all.adapters.iter().map(|c| format!("{} {}: {}", c.adapter, c.driver_info, c.describe())).collect();
    Some(Plan::Cpu {
        reason: format!(
            "no calibrated GPU is faster than the CPU on an input of {bytes} bytes ({}); {how}",
            measured.join("; ")
        ),
    })
}

/// `auto` with a hardware adapter and an input of `bytes`: the GPU only
/// where its calibration says it wins.
fn calibrated(config: &BackendConfig, index: usize, adapter: &AdapterReport, bytes: u64) -> Plan {
    let how = CALIBRATE;
    let Some(path) = &config.calibration else {
        return Plan::Cpu { reason: format!("{} is not calibrated (no calibration file): {how}", adapter.name) };
    };
    let found = Calibrations::load(path).map(|all| all.find(adapter).cloned());
    match found {
        Err(e) => Plan::Cpu { reason: format!("the calibration file cannot be read ({e}), so the CPU; {how}") },
        Ok(None) => Plan::Cpu { reason: format!("{} is not calibrated with this driver: {how}", adapter.name) },
        Ok(Some(c)) if c.gpu_wins(bytes) => {
            Plan::Gpu { adapter: index, reason: format!("{}, {}", adapter.name, c.describe()) }
        }
        Ok(Some(c)) if c.gpu_mb_per_s > c.cpu_mb_per_s => Plan::Cpu {
            reason: format!(
                "{} wins only from {} bytes ({}); this input has {bytes}",
                adapter.name,
                c.bytes,
                c.describe()
            ),
        },
        Ok(Some(c)) => Plan::Cpu { reason: format!("the CPU is faster than {} ({})", adapter.name, c.describe()) },
    }
}

/// What `auto` does for a large and for a small input on this machine, from
/// [`plan`] itself, with the adapters listed (so its reasons name them).
pub fn auto_summary(devices: &Devices) -> (String, String) {
    devices.reports();
    let config = BackendConfig::default();
    let describe = |size| plan(&config, &size, devices).map_or_else(|e| e.to_string(), |p| p.to_string());
    (describe(InputSize::AtLeast(AUTO_GPU_MIN_BYTES)), describe(InputSize::Known(0)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::count::calibration::Calibration;

    fn gpu() -> AdapterReport {
        AdapterReport {
            index: 3,
            name: "Some GPU".into(),
            backend: "Vulkan".into(),
            device_type: "DiscreteGpu".into(),
            driver: "drv".into(),
            driver_info: "1.2".into(),
            max_storage_buffer_binding_size: 1 << 30,
            max_buffer_size: 1 << 30,
            max_compute_workgroups_per_dimension: 65535,
            timestamp_queries: true,
            hardware: true,
        }
    }

    fn measured(adapter: &AdapterReport, bytes: u64, cpu: f64, gpu: f64) -> Calibration {
        Calibration {
            adapter: adapter.name.clone(),
            backend: adapter.backend.clone(),
            driver: adapter.driver.clone(),
            driver_info: adapter.driver_info.clone(),
            bytes,
            cpu_threads: 16,
            cpu_mb_per_s: cpu,
            gpu_mb_per_s: gpu,
        }
    }

    #[test]
    fn auto_lists_adapters_only_when_a_calibration_could_choose_a_gpu() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("calibration.json");
        let config = BackendConfig { calibration: Some(path.clone()), ..BackendConfig::default() };
        let auto = |bytes| {
            let devices = Devices::new();
            let plan = plan(&config, &InputSize::Known(bytes), &devices).unwrap();
            (plan, devices.probed())
        };
        let cpu_unprobed = |(plan, probed): (Plan, bool), why: &str| {
            assert!(!probed, "{plan}");
            assert!(matches!(&plan, Plan::Cpu { reason } if reason.contains(why)), "{plan}");
        };
        cpu_unprobed(auto(1 << 30), "no GPU is calibrated");
        let none = BackendConfig { calibration: None, ..config.clone() };
        let devices = Devices::new();
        let plan_none = plan(&none, &InputSize::AtLeast(1 << 30), &devices).unwrap();
        cpu_unprobed((plan_none, devices.probed()), "no calibration file");
        // Measured slower, or faster only on larger inputs: no adapter can change that.
        Calibrations::save(&path, measured(&gpu(), 100_000_000, 500.0, 400.0)).unwrap();
        cpu_unprobed(auto(1 << 30), "no calibrated GPU is faster than the CPU on an input of 1073741824 bytes");
        Calibrations::save(&path, measured(&gpu(), 1 << 32, 500.0, 4000.0)).unwrap();
        cpu_unprobed(auto(1 << 30), "Some GPU 1.2: calibrated on 4,294,967,296 bytes");
        // Faster on an input this large, or a damaged file (reported with
        // the adapters' names): the adapters present decide.
        assert!(cpu_without_probing(&config, 1 << 33).is_none());
        std::fs::write(&path, "{ not json").unwrap();
        assert!(cpu_without_probing(&config, 1 << 30).is_none());
    }

    #[test]
    fn auto_counts_on_a_gpu_only_where_its_calibration_says_it_wins() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub/calibration.json");
        let config = BackendConfig { calibration: Some(path.clone()), ..BackendConfig::default() };
        let adapter = gpu();
        let plan = |bytes| calibrated(&config, 7, &adapter, bytes);
        // No file yet, no file at all.
        assert!(matches!(plan(1 << 30), Plan::Cpu { reason } if reason.contains("not calibrated with this driver")));
        let none = BackendConfig { calibration: None, ..BackendConfig::default() };
        assert!(
            matches!(calibrated(&none, 7, &adapter, 1 << 30), Plan::Cpu { reason } if reason.contains("bench --calibrate"))
        );
        // Faster from 100 MB on.
        Calibrations::save(&path, measured(&adapter, 100_000_000, 500.0, 2000.0)).unwrap();
        assert!(matches!(plan(100_000_000), Plan::Gpu { adapter: 7, .. }));
        assert!(matches!(plan(99_999_999), Plan::Cpu { reason } if reason.contains("wins only from 100000000 bytes")));
        // A new measurement replaces the old one: now slower.
        Calibrations::save(&path, measured(&adapter, 100_000_000, 500.0, 400.0)).unwrap();
        assert_eq!(Calibrations::load(&path).unwrap().adapters.len(), 1);
        assert!(matches!(plan(1 << 40), Plan::Cpu { reason } if reason.contains("the CPU is faster")));
        // Another driver is not calibrated.
        Calibrations::save(&path, measured(&adapter, 1, 1.0, 9.0)).unwrap();
        let updated = AdapterReport { driver_info: "1.3".into(), ..gpu() };
        assert!(
            matches!(calibrated(&config, 7, &updated, 1 << 40), Plan::Cpu { reason } if reason.contains("not calibrated"))
        );
        assert!(matches!(plan(1 << 40), Plan::Gpu { .. }));
        // A damaged file: the CPU, and the reason says why.
        std::fs::write(&path, "{ not json").unwrap();
        assert!(matches!(plan(1 << 40), Plan::Cpu { reason } if reason.contains("cannot be read")));
    }
}
