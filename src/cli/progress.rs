//! A progress bar on stderr, only when stderr is a terminal and only once a
//! run has lasted a second (short runs never flash a bar).

use gpucount::pipeline::Progress;
use gpucount::source::Operand;
use std::io::IsTerminal;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

pub struct Bar(indicatif::ProgressBar);

impl Bar {
    /// A bar for counting `operands`: with a total when they are all regular
    /// files (a walk is not expanded to find one), else a spinner.
    pub fn start(operands: &[Operand]) -> Option<Bar> {
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
        let bar = match total {
            Some(t) => indicatif::ProgressBar::new(t),
            None => indicatif::ProgressBar::new_spinner(),
        };
        bar.set_draw_target(indicatif::ProgressDrawTarget::hidden());
        let style =
            indicatif::ProgressStyle::with_template("{spinner} {bytes}/{total_bytes} {bytes_per_sec} {wide_bar} {eta}");
        if let Ok(s) = style {
            bar.set_style(s);
        }
        Some(Bar(bar))
    }

    /// The library's progress callback, feeding this bar.
    pub fn callback(&self) -> Arc<Progress> {
        let bar = self.0.clone();
        let started = Instant::now();
        let shown = AtomicBool::new(false);
        Arc::new(move |n| {
            if !shown.load(Ordering::Relaxed) && started.elapsed().as_secs() >= 1 {
                shown.store(true, Ordering::Relaxed);
                bar.set_draw_target(indicatif::ProgressDrawTarget::stderr());
            }
            bar.inc(n)
        })
    }

    pub fn finish(self) {
        self.0.finish_and_clear();
    }
}
