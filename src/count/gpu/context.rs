//! Finding an adapter and opening a device on it.

use super::options::{AdapterChoice, AdapterReport, choose};
use crate::error::Error;
use std::sync::{Arc, Mutex};

/// The instance every adapter comes from. No display handle, no GL: compute
/// only, so the loader has no window system to probe.
fn instance() -> wgpu::Instance {
    let mut desc = wgpu::InstanceDescriptor::new_without_display_handle();
    desc.backends = backends();
    desc.flags = wgpu::InstanceFlags::empty().with_env();
    wgpu::Instance::new(desc)
}

fn rank(t: wgpu::DeviceType) -> u8 {
    match t {
        wgpu::DeviceType::DiscreteGpu => 0,
        wgpu::DeviceType::IntegratedGpu => 1,
        wgpu::DeviceType::VirtualGpu => 2,
        wgpu::DeviceType::Other => 3,
        wgpu::DeviceType::Cpu => 4,
    }
}

fn is_hardware(t: wgpu::DeviceType) -> bool {
    rank(t) <= 2
}

/// `WGPU_BACKEND` if set, else the native compute-capable backends.
fn backends() -> wgpu::Backends {
    wgpu::Backends::from_env().unwrap_or(wgpu::Backends::VULKAN | wgpu::Backends::METAL | wgpu::Backends::DX12)
}

/// Every adapter the machine offers, in a stable order, enumerated once:
/// what `devices` shows, what the backend policy reads and what is opened.
pub struct Adapters {
    list: Vec<wgpu::Adapter>,
    pub reports: Vec<AdapterReport>,
}

impl Adapters {
    pub fn probe() -> Adapters {
        let instance = instance();
        let mut list = pollster::block_on(instance.enumerate_adapters(backends()));
        list.sort_by_key(|a| {
            let i = a.get_info();
            (rank(i.device_type), i.name, i.backend as u8)
        });
        let reports = list.iter().enumerate().map(|(index, a)| report(index, a)).collect();
        Adapters { list, reports }
    }

    /// Opens a device on adapter `index` (of `reports`).
    pub fn open(&self, index: usize) -> Result<GpuContext, Error> {
        let adapter = self.list.get(index).ok_or_else(|| Error::NoAdapter(format!("no adapter {index}")))?;
        GpuContext::from_adapter(adapter)
    }
}

fn report(index: usize, a: &wgpu::Adapter) -> AdapterReport {
    let info = a.get_info();
    let limits = a.limits();
    AdapterReport {
        index,
        name: info.name,
        backend: format!("{:?}", info.backend),
        device_type: format!("{:?}", info.device_type),
        driver: info.driver,
        driver_info: info.driver_info,
        max_storage_buffer_binding_size: limits.max_storage_buffer_binding_size,
        max_buffer_size: limits.max_buffer_size,
        max_compute_workgroups_per_dimension: limits.max_compute_workgroups_per_dimension,
        timestamp_queries: a.features().contains(wgpu::Features::TIMESTAMP_QUERY),
        hardware: is_hardware(info.device_type),
    }
}

/// An open device, with a record of the first error wgpu reported on it.
pub struct GpuContext {
    pub device: wgpu::Device,
    pub queue: wgpu::Queue,
    pub info: wgpu::AdapterInfo,
    pub limits: wgpu::Limits,
    pub timestamps: bool,
    failure: Arc<Mutex<Option<String>>>,
}

impl GpuContext {
    /// Opens the adapter that `choice` picks.
    pub fn open(choice: &AdapterChoice, allow_software: bool) -> Result<GpuContext, Error> {
        let adapters = Adapters::probe();
        adapters.open(choose(&adapters.reports, choice, allow_software)?)
    }

    /// Opens a device on `adapter` with the adapter's own limits.
    pub fn from_adapter(adapter: &wgpu::Adapter) -> Result<GpuContext, Error> {
        let timestamps = adapter.features().contains(wgpu::Features::TIMESTAMP_QUERY);
        let limits = adapter.limits();
        let desc = wgpu::DeviceDescriptor {
            label: Some("gpucount"),
            required_features: if timestamps { wgpu::Features::TIMESTAMP_QUERY } else { wgpu::Features::empty() },
            required_limits: limits.clone(),
            ..Default::default()
        };
        let (device, queue) = pollster::block_on(adapter.request_device(&desc))
            .map_err(|e| Error::Gpu(format!("cannot open device: {e}")))?;
        let failure = Arc::new(Mutex::new(None));
        let sink = failure.clone();
        device.on_uncaptured_error(Arc::new(move |e: wgpu::Error| {
            if let Ok(mut f) = sink.lock() {
                f.get_or_insert_with(|| e.to_string());
            }
        }));
        let sink = failure.clone();
        device.set_device_lost_callback(move |reason, msg| {
            if let Ok(mut f) = sink.lock() {
                f.get_or_insert_with(|| format!("device lost ({reason:?}): {msg}"));
            }
        });
        Ok(GpuContext { device, queue, info: adapter.get_info(), limits, timestamps, failure })
    }

    /// The first error wgpu reported, as an [`Error`].
    pub fn check(&self) -> Result<(), Error> {
        match self.failure.lock().ok().and_then(|f| f.clone()) {
            Some(msg) => Err(Error::Gpu(msg)),
            None => Ok(()),
        }
    }

    /// Records a failure as if wgpu had reported it (used by fault-injection tests).
    pub(crate) fn inject_failure(&self, msg: &str) {
        if let Ok(mut f) = self.failure.lock() {
            f.get_or_insert_with(|| msg.to_string());
        }
    }

    /// "name (backend, type)".
    pub fn describe(&self) -> String {
        format!("{} ({:?}, {:?})", self.info.name, self.info.backend, self.info.device_type)
    }
}
