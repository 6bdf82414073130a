//! Inputs: naming them, walking directories, reading and decoding them into
//! UTF-8 text chunks that end on token boundaries.
//!
//! Every source is read through [`Reader::read`], which streams: memory stays
//! bounded by the chunk size (plus the longest token), never by the input.

mod decode;
mod reader;

pub use decode::{EncodingChoice, detect};
pub use reader::{DocInfo, MAX_TOKEN_BYTES, Reader};

use crate::error::InputError;
use std::fmt;
use std::path::{Path, PathBuf};

/// One source of text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Input {
    Stdin,
    Path(PathBuf),
    /// Bytes already in memory, under a name for messages.
    Memory {
        name: String,
        bytes: std::sync::Arc<[u8]>,
    },
}

impl fmt::Display for Input {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Input::Stdin => f.write_str("<stdin>"),
            Input::Path(p) => write!(f, "{}", p.display()),
            Input::Memory { name, .. } => f.write_str(name),
        }
    }
}

impl Input {
    /// The error for this input.
    pub fn error(&self, reason: impl fmt::Display) -> InputError {
        InputError { input: self.to_string(), reason: reason.to_string() }
    }

    /// Size in bytes when known up front (regular files).
    pub fn size_hint(&self) -> Option<u64> {
        match self {
            Input::Stdin => None,
            Input::Path(p) => std::fs::metadata(p).ok().filter(|m| m.is_file()).map(|m| m.len()),
            Input::Memory { bytes, .. } => Some(bytes.len() as u64),
        }
    }
}

/// Expands command-line operands into inputs: `-` is stdin, directories are
/// walked recursively in sorted order (following links, with loop detection),
/// anything else is a path. No operand means stdin. Problems found while
/// walking (a loop, an unreadable directory) come back as errors in order.
pub fn expand(operands: &[PathBuf]) -> Vec<Result<Input, InputError>> {
    if operands.is_empty() {
        return vec![Ok(Input::Stdin)];
    }
    let mut out = Vec::new();
    for op in operands {
        if op.as_os_str() == "-" {
            out.push(Ok(Input::Stdin));
        } else if op.is_dir() {
            walk(op, &mut out);
        } else {
            out.push(Ok(Input::Path(op.clone())));
        }
    }
    out
}

fn walk(root: &Path, out: &mut Vec<Result<Input, InputError>>) {
    for entry in walkdir::WalkDir::new(root).follow_links(true).sort_by_file_name() {
        match entry {
            Ok(e) if e.file_type().is_dir() => {}
            Ok(e) => out.push(Ok(Input::Path(e.into_path()))),
            Err(e) => {
                let path = e.path().unwrap_or(root).display().to_string();
                let reason = match (e.loop_ancestor(), e.io_error()) {
                    (Some(a), _) => format!("filesystem loop back to {}", a.display()),
                    (None, Some(io)) => io.to_string(),
                    (None, None) => e.to_string(),
                };
                out.push(Err(InputError { input: path, reason }));
            }
        }
    }
}
