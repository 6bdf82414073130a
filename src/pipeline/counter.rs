//! A counter that code pushes documents into: the library's front door, and
//! what the command line and the Python package (`python/`), and later the
//! cluster, drive.

use super::{Options, Outcome, count};
use crate::error::Error;
use crate::source::Operand;
use std::path::PathBuf;

/// Collects documents (paths, text, bytes, stdin) and counts them with one
/// set of [`Options`].
///
/// ```
/// use gpucount::{Counter, Options};
///
/// let mut counter = Counter::new(Options::default());
/// counter.push_text("first", "The cat saw the other cat.");
/// counter.push_text("second", "THE END");
/// let outcome = counter.count().unwrap();
/// assert_eq!(outcome.table.sorted_rows(None, 1)[..2], [("the", 3), ("cat", 2)]);
/// assert_eq!(outcome.documents, 2);
/// ```
#[derive(Clone, Default)]
pub struct Counter {
    options: Options,
    operands: Vec<Operand>,
}

impl Counter {
    pub fn new(options: Options) -> Counter {
        Counter { options, operands: Vec::new() }
    }

    /// The options counting will use (to change them between runs).
    pub fn options_mut(&mut self) -> &mut Options {
        &mut self.options
    }

    /// A file (read whatever it holds) or a directory (walked).
    pub fn push_path(&mut self, path: impl Into<PathBuf>) -> &mut Self {
        self.push(Operand::Path(path.into()))
    }

    /// A document held in memory as text.
    pub fn push_text(&mut self, name: impl Into<String>, text: impl Into<String>) -> &mut Self {
        self.push(Operand::text(name, text))
    }

    /// A document held in memory as bytes (decoded like a file).
    pub fn push_bytes(&mut self, name: impl Into<String>, bytes: impl Into<std::sync::Arc<[u8]>>) -> &mut Self {
        self.push(Operand::Memory { name: name.into(), bytes: bytes.into() })
    }

    /// Any operand, standard input included.
    pub fn push(&mut self, operand: Operand) -> &mut Self {
        self.operands.push(operand);
        self
    }

    /// Counts everything pushed so far. Per-document problems are in
    /// [`Outcome::errors`]; an `Err` means the run itself failed.
    pub fn count(&self) -> Result<Outcome, Error> {
        count(self.operands.clone(), &self.options)
    }
}
