//! The `gpucount` command: a thin shell over the library.

mod cli;

use clap::FromArgMatches;
use std::process::ExitCode;

fn main() -> ExitCode {
    // SAFETY: called first thing, before any other thread exists.
    unsafe { gpucount::count::gpu::quiet_driver_environment() };
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    tune_malloc();
    let parsed = cli::command().try_get_matches().and_then(|m| cli::Cli::from_arg_matches(&m));
    match parsed {
        Ok(args) => cli::main(args),
        Err(e) if !e.use_stderr() => {
            // --help, --version
            let _ = e.print();
            ExitCode::SUCCESS
        }
        Err(e) => {
            // One line, like every other error: clap's first line without its prefix.
            let text = e.render().to_string();
            let line = text.lines().next().unwrap_or_default();
            cli::say(line.strip_prefix("error: ").unwrap_or(line));
            ExitCode::from(2)
        }
    }
}

/// glibc's malloc serves blocks up to 4 MiB from its heap (past its
/// default it maps each block of 128 KiB or more on its own, as a worker's
/// short table and its growing count tables), and keeps 8 MiB of a heap's
/// top instead of 128 KiB. Measured, not derived: les x10 on 2 threads, 15
/// interleaved runs, median 101 against 119 ms (words) and 115 against 133
/// (whitespace); the Latin Library 931 against 1021 ms; 1 GB median 1.79
/// against 2.26 s (4 runs). The saving is user time (whitespace: median
/// 160 against 175 ms; system time 25 ms both, page faults 5.4K against
/// 6.1K), so where the tables lie counts, not the system calls; blocks
/// mapped on their own all start at the same offset in a page. Larger
/// blocks (big tables) are still mapped, so the peak memory of a large
/// vocabulary is unchanged (2.8M distinct words on 1, 8, 32 threads: 351,
/// 378, 549 MB against 351, 376, 547); 1 GB peaks at 24 MB against 19.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn tune_malloc() {
    // SAFETY: called before any other thread exists; mallopt only sets
    // allocator parameters.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 4 << 20);
        libc::mallopt(libc::M_TRIM_THRESHOLD, 8 << 20);
    }
}
