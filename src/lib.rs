//! Exact word frequencies, counted on the CPU (rayon) or with the GPU as a
//! co-processor (a WGSL hash table run through wgpu).
//!
//! The pipeline is the same for every backend:
//! [`input`] reads and decodes sources into UTF-8 chunks cut at token edges,
//! [`tokenize`] turns each chunk into a [`TokenBatch`] of hashed, normalized
//! tokens, a [`count::Backend`] reduces batches into an exact [`CountTable`],
//! and [`report`] orders and prints it.
//!
//! ```
//! use gpucount::{count, input::Input, Options};
//!
//! let dir = std::env::temp_dir().join("gpucount-doc-example");
//! std::fs::create_dir_all(&dir).unwrap();
//! let file = dir.join("a.txt");
//! std::fs::write(&file, "The cat saw the other cat. THE END").unwrap();
//!
//! let outcome = count::run(&[Input::Path(file)], &Options::default(), count::CpuBackend).unwrap();
//! let rows = outcome.table.sorted_rows(None, 1);
//! assert_eq!(rows[0], ("the", 3));
//! assert_eq!(rows[1], ("cat", 2));
//! ```

pub mod bench;
pub mod cli;
pub mod count;
pub mod error;
pub mod hash;
pub mod input;
pub mod report;
pub mod sample;
pub mod table;
pub mod tokenize;

pub use count::{Options, Outcome};
pub use error::{Error, InputError};
pub use hash::KeyHash;
pub use table::CountTable;
pub use tokenize::{Mode, TokenBatch, Tokenizer};
