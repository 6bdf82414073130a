//! Error values. Library code never panics on bad input or a failing GPU:
//! per-input problems are [`InputError`]s collected beside the counts, and
//! run-level failures are [`Error`]s with a kind.

use std::fmt;

/// A problem with one input. The run goes on with the other inputs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InputError {
    /// Its place in input order (see [`crate::source::DocId`]).
    pub place: u64,
    /// The input as the user named it (a path, or `<stdin>`); exact when the
    /// name is UTF-8, else with U+FFFD for the bytes in `input_bytes`.
    pub input: String,
    /// The name's bytes, when they are not UTF-8 (a Unix path can be any bytes).
    pub input_bytes: Option<Vec<u8>>,
    /// Why it was not (or not fully) counted.
    pub reason: String,
}

/// Shows an input error on one line: the name escaped (see [`escape_name`]).
impl fmt::Display for InputError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = match &self.input_bytes {
            Some(b) => escape_name(b),
            None => escape_name(self.input.as_bytes()),
        };
        write!(f, "{name}: {}", escape_name(self.reason.as_bytes()))
    }
}

/// A name made safe for one line of a terminal: control characters
/// (newline, tab, ESC, ...) become `\n`, `\t`, `\x1b`, a backslash `\\`,
/// and bytes that are not UTF-8 `\xFF`. Printable text is left alone.
pub fn escape_name(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len());
    for chunk in bytes.utf8_chunks() {
        for c in chunk.valid().chars() {
            match c {
                '\\' => out.push_str("\\\\"),
                '\n' => out.push_str("\\n"),
                '\t' => out.push_str("\\t"),
                '\r' => out.push_str("\\r"),
                c if c.is_control() => {
                    use fmt::Write;
                    let _ = if (c as u32) < 0x100 {
                        write!(out, "\\x{:02x}", c as u32)
                    } else {
                        write!(out, "\\u{{{:x}}}", c as u32)
                    };
                }
                c => out.push(c),
            }
        }
        for b in chunk.invalid() {
            use fmt::Write;
            let _ = write!(out, "\\x{b:02X}");
        }
    }
    out
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
