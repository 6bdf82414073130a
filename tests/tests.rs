//! Integration tests: one binary, a small harness in `util`.

mod cli;
mod exactness;
mod faults;
mod fuzz;
mod gpu;
mod properties;
mod scale;
mod util;
