//! Integration tests: one binary, a small harness in `util`. Tests of the
//! command line need the `cli` feature; tests of the GPU need `gpu`.

mod archives;
#[cfg(feature = "cli")]
mod cli;
mod cluster;
mod docs;
mod documents;
mod exactness;
#[cfg(feature = "cli")]
mod faults;
mod fuzz;
#[cfg(all(feature = "gpu", feature = "cli"))]
mod gpu;
#[cfg(feature = "cli")]
mod help;
mod html;
mod http_server;
#[cfg(feature = "cli")]
mod machine;
mod ngrams;
mod properties;
#[cfg(feature = "cli")]
mod reliability;
mod saved;
#[cfg(feature = "cli")]
mod scale;
mod sentences;
mod urls;
mod util;
#[cfg(feature = "cli")]
mod walk;
