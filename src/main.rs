//! The `gpucount` command: a thin shell over the library.

mod cli;

use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    // SAFETY: called first thing, before any other thread exists.
    unsafe { gpucount::count::gpu::quiet_driver_environment() };
    cli::main(cli::Cli::parse())
}
