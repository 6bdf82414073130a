//! Integration tests: one binary, a small harness in `util`.

mod cli;
mod exactness;
mod gpu;
mod properties;
mod util;
