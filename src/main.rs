//! The `gpucount` command: a thin shell over the library.

mod cli;

use clap::FromArgMatches;
use std::process::ExitCode;

fn main() -> ExitCode {
    // SAFETY: called first thing, before any other thread exists.
    unsafe { gpucount::count::gpu::quiet_driver_environment() };
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
