//! Error values. Library code never panics on bad input or a failing GPU:
//! per-input problems are [`InputError`]s collected beside the counts, and
//! run-level failures are [`Error`]s with a kind.

use std::fmt;

/// A problem with one input. The run goes on with the other inputs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InputError {
    /// Its place in input order (see [`crate::source::DocId`]).
    pub place: u64,
    /// The input as the user named it (a path, or `<stdin>`).
    pub input: String,
    /// Why it was not (or not fully) counted.
    pub reason: String,
}

impl fmt::Display for InputError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.input, self.reason)
    }
}

/// A failure that stops a run.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// No GPU adapter could be used.
    #[error("no usable GPU adapter: {0}")]
    NoAdapter(String),
    /// The GPU failed while counting (validation error, lost device, failed allocation).
    #[error("GPU failure: {0}")]
    Gpu(String),
    /// An input that had to be read whole could not be.
    #[error("{0}")]
    Input(InputError),
    /// The run was stopped through [`crate::Options::cancel`].
    #[error("cancelled")]
    Cancelled,
    /// Invalid options (for example an unknown encoding label).
    #[error("{0}")]
    Config(String),
    /// An I/O failure outside any one input (for example the output file).
    #[error("{context}: {source}")]
    Io {
        context: String,
        #[source]
        source: std::io::Error,
    },
}

impl Error {
    pub fn io(context: impl Into<String>, source: std::io::Error) -> Self {
        Error::Io { context: context.into(), source }
    }
}
