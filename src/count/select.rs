//! The backend policy, defined once: what `--backend auto|cpu|gpu` picks for
//! an input, why, and what `gpucount devices` reports of it.

use super::cpu::CpuOptions;
use super::gpu::{AdapterChoice, AdapterReport, GpuOptions, choose, no_adapter_help};
use crate::error::Error;
use std::fmt;

/// Below this much input, `auto` does not look for a GPU.
pub const AUTO_GPU_MIN_BYTES: u64 = 64 << 20;

/// Where to count.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum BackendChoice {
    /// A hardware GPU when there is one and the input is large enough, else the CPU.
    #[default]
    Auto,
    Cpu,
    /// The GPU, software adapters (lavapipe) included; fails if there is none.
    Gpu,
}

/// Backend choice and GPU settings.
#[derive(Debug, Clone, Default)]
pub struct BackendConfig {
    pub choice: BackendChoice,
    pub adapter: AdapterChoice,
    pub gpu: GpuOptions,
    pub cpu: CpuOptions,
    /// Let `auto` use a software adapter at any input size (to test the fallback).
    pub auto_software: bool,
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
            let reports = devices.reports();
            let pick = named_index.map_or_else(|| choose(reports, &AdapterChoice::Best, config.auto_software), Ok);
            match pick {
                Ok(i) if reports[i].hardware || config.auto_software => {
                    let what = if bytes.is_some() { "large input and a GPU" } else { "a GPU" };
                    Ok(Plan::Gpu { adapter: i, reason: format!("{} ({what})", reports[i].name) })
                }
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

/// What `auto` does for a large and for a small input on this machine, from
/// [`plan`] itself.
pub fn auto_summary(devices: &Devices) -> (String, String) {
    let config = BackendConfig::default();
    let describe = |size| plan(&config, &size, devices).map_or_else(|e| e.to_string(), |p| p.to_string());
    (describe(InputSize::AtLeast(AUTO_GPU_MIN_BYTES)), describe(InputSize::Known(0)))
}
