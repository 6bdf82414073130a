//! Exact word frequencies, counted on the CPU (rayon) or with the GPU as a
//! co-processor (a WGSL hash table run through wgpu).
//!
//! Data flows one way, through one pipeline for every backend:
//! [`source`] turns operands into documents (lazily: directories are walked
//! as counting goes), [`decode`] reads each document once and cuts its text
//! into chunks that never hold two documents nor split a token, [`tokenize`]
//! emits each token once into the [`keys`] stage, whose keys go to a
//! [`count`] backend's sink (the CPU's exact [`CountTable`] or the GPU's
//! batches), and [`report`] orders and prints the table. [`pipeline`] runs
//! it all and chooses the backend.
//!
//! Counting two documents held in memory:
//!
//! ```
//! use gpucount::{Counter, Options};
//!
//! let mut counter = Counter::new(Options::default());
//! counter.push_text("a", "The cat saw the other cat.").push_text("b", "THE END");
//! let outcome = counter.count()?;
//! assert_eq!(outcome.table.sorted_rows(None, 1)[..3], [("the", 3), ("cat", 2), ("end", 1)]);
//! # Ok::<(), gpucount::Error>(())
//! ```
//!
//! Counting files and directories (walked like ripgrep walks them), with
//! per-file problems beside the counts:
//!
//! ```
//! use gpucount::{Counter, Options};
//!
//! let dir = std::env::temp_dir().join(format!("gpucount-doc-{}", std::process::id()));
//! std::fs::create_dir_all(dir.join("sub"))?;
//! std::fs::write(dir.join("one.txt"), "Alpha beta")?;
//! std::fs::write(dir.join("sub/two.txt"), "beta gamma")?;
//! let outcome = Counter::new(Options::default())
//!     .push_path(&dir)
//!     .push_path(dir.join("missing.txt"))
//!     .count()?;
//! assert_eq!(outcome.table.sorted_rows(None, 1), [("beta", 2), ("alpha", 1), ("gamma", 1)]);
//! assert_eq!(outcome.documents, 2);
//! assert!(outcome.errors[0].input.ends_with("missing.txt"));
//! # std::fs::remove_dir_all(&dir)?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! Merging partial tables from separate runs (two machines, or yesterday's
//! counts and today's): tables are keyed by hash *and* bytes, so a merge is
//! exact.
//!
//! ```
//! use gpucount::{Counter, CountTable, Options};
//!
//! let run = |text: &str| Counter::new(Options::default()).push_text("t", text).count().map(|o| o.table);
//! let merged = CountTable::merged(run("to be or")?, run("not to be")?);
//! assert_eq!(merged.sorted_rows(None, 1), [("be", 2), ("to", 2), ("not", 1), ("or", 1)]);
//! # Ok::<(), gpucount::Error>(())
//! ```
//!
//! Bigrams with stopwords removed first, and counts per document:
//!
//! ```
//! use gpucount::keys::{split_doc_key, Filter, Grams, Within};
//! use gpucount::{Counter, Options, Tokenizer};
//! use std::sync::Arc;
//!
//! let stop = Filter::with_stopwords(&Tokenizer::default(), &["the".to_string()]);
//! let grams = Grams { min: 2, max: 2, within: Within::Document };
//! let opts = Options { grams, filter: Some(Arc::new(stop)), ..Options::default() };
//! let outcome = Counter::new(opts).push_text("a", "The cat saw the dog").count()?;
//! assert_eq!(outcome.table.sorted_rows(None, 1), [("cat saw", 1), ("saw dog", 1)]);
//!
//! // Bigrams within sentences, tokens by scikit-learn's default pattern.
//! use gpucount::tokenize::{Mode, TokenPattern, SKLEARN_TOKEN_PATTERN};
//! let tokenizer = Tokenizer { mode: Mode::Pattern(TokenPattern::new(SKLEARN_TOKEN_PATTERN)?), ..Tokenizer::default() };
//! let grams = Grams { min: 2, max: 2, within: Within::Sentence };
//! let outcome = Counter::new(Options { tokenizer, grams, ..Options::default() })
//!     .push_text("a", "I saw Mr. Brown. He ran.")
//!     .count()?;
//! assert_eq!(outcome.table.sorted_rows(None, 1), [("he ran", 1), ("mr brown", 1), ("saw mr", 1)]);
//!
//! let outcome = Counter::new(Options { per_doc: true, ..Options::default() })
//!     .push_text("first", "to be")
//!     .push_text("second", "be")
//!     .count()?;
//! let mut cells: Vec<(u64, String, u64)> = outcome
//!     .table
//!     .iter()
//!     .filter_map(|(key, n)| split_doc_key(key).map(|(doc, term)| (doc, term.to_string(), n)))
//!     .collect();
//! cells.sort();
//! assert_eq!(cells, [(0, "be".into(), 1), (0, "to".into(), 1), (1, "be".into(), 1)]);
//! assert_eq!(outcome.names[1], (1, "second".to_string()));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! Cargo features: `gpu` (the wgpu backend) and `cli` (the `gpucount`
//! command), both on by default; a library user can turn either off.

pub mod bench;
mod bytes;
#[cfg(feature = "cluster")]
pub mod cluster;
pub mod count;
pub mod decode;
pub mod error;
pub mod hash;
pub mod html;
pub mod keys;
pub mod pipeline;
pub mod plot;
pub mod report;
pub mod sample;
pub mod saved;
pub mod sentences;
pub mod share;
pub mod source;
pub mod stopwords;
pub mod table;
pub mod tokenize;

pub use error::{Error, InputError};
pub use hash::KeyHash;
pub use keys::{Keys, TokenBatch};
pub use pipeline::{Counter, Options, Outcome};
pub use table::CountTable;
pub use tokenize::{Mode, Tokenizer};
