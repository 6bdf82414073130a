//! Progress on stderr, only when stderr is a terminal and only once a run has
//! lasted a second (short runs never flash a bar): one bar over all inputs,
//! and one per download while it runs.

use gpucount::pipeline::Progress;
use gpucount::source::Operand;
use gpucount::source::fetch::{Event, Watch};
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::collections::HashMap;
use std::io::IsTerminal;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

pub struct Bar {
    bars: MultiProgress,
    total: ProgressBar,
    started: Instant,
    shown: Arc<AtomicBool>,
}

impl Bar {
    /// A bar for counting `operands`: with a total when they are all regular
    /// files (a walk is not expanded to find one), else a spinner.
    fn start(operands: &[Operand]) -> Option<Bar> {
        if !std::io::stderr().is_terminal() {
            return None;
        }
        let total: Option<u64> = operands
            .iter()
            .map(|o| match o {
                Operand::Path(p) => std::fs::metadata(p).ok().filter(|m| m.is_file()).map(|m| m.len()),
                Operand::Memory { bytes, .. } => Some(bytes.len() as u64),
                Operand::Stdin | Operand::Url(_) | Operand::UrlList(_) => None,
            })
            .sum();
        let bars = MultiProgress::with_draw_target(ProgressDrawTarget::hidden());
        let bar = match total {
            Some(t) => ProgressBar::new(t),
            None => ProgressBar::new_spinner(),
        };
        bar.set_style(style("{spinner} {bytes}/{total_bytes} {bytes_per_sec} {wide_bar} {eta}"));
        let total = bars.add(bar);
        Some(Bar { bars, total, started: Instant::now(), shown: Arc::new(AtomicBool::new(false)) })
    }

    /// Starts the bars for `operands` (on a terminal) and points `options`'
    /// progress and download callbacks at them.
    pub fn attach(operands: &[Operand], options: &mut gpucount::Options) -> Option<Arc<Bar>> {
        let bar = Arc::new(Bar::start(operands)?);
        options.progress = Some(bar.callback());
        options.fetch.watch = Some(bar.downloads());
        Some(bar)
    }

    /// Shows the bars once the run has lasted a second.
    fn show_when_due(&self) {
        if !self.shown.load(Ordering::Relaxed) && self.started.elapsed().as_secs() >= 1 {
            self.shown.store(true, Ordering::Relaxed);
            self.bars.set_draw_target(ProgressDrawTarget::stderr());
        }
    }

    /// The library's progress callback, feeding the overall bar.
    pub fn callback(self: &Arc<Self>) -> Arc<Progress> {
        let me = Arc::clone(self);
        Arc::new(move |n| {
            me.show_when_due();
            me.total.inc(n)
        })
    }

    /// A bar per download, from its head to its end.
    pub fn downloads(self: &Arc<Self>) -> Watch {
        let me = Arc::clone(self);
        let active: Mutex<HashMap<u64, ProgressBar>> = Mutex::new(HashMap::new());
        Watch(Arc::new(move |event| {
            me.show_when_due();
            let Ok(mut active) = active.lock() else { return };
            match event {
                Event::Started { id, url, length } => {
                    let bar = match length {
                        Some(n) => ProgressBar::new(n),
                        None => ProgressBar::new_spinner(),
                    };
                    bar.set_style(style("  {spinner} {bytes}/{total_bytes} {bytes_per_sec} {msg}"));
                    bar.set_message(url.to_string());
                    active.insert(id, me.bars.add(bar));
                }
                Event::Read { id, bytes } => {
                    if let Some(bar) = active.get(&id) {
                        bar.inc(bytes);
                    }
                }
                Event::Ended { id } => {
                    if let Some(bar) = active.remove(&id) {
                        bar.finish_and_clear();
                        me.bars.remove(&bar);
                    }
                }
            }
        }))
    }

    pub fn finish(&self) {
        self.total.finish_and_clear();
        let _ = self.bars.clear();
    }
}

fn style(template: &str) -> ProgressStyle {
    ProgressStyle::with_template(template).unwrap_or_else(|_| ProgressStyle::default_bar())
}
