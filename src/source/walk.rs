//! Directory walks with ripgrep's `ignore` crate: sorted, following links
//! (loops reported), hidden files and ignore files honoured unless told
//! otherwise, glob patterns choosing files.

use crate::error::Error;
use std::path::{Path, PathBuf};

/// Which files a directory walk yields. The defaults are ripgrep's, except
/// that `.gitignore` files count outside git repositories too, and that globs
/// only narrow what the other rules let through.
#[derive(Debug, Clone, Default)]
pub struct WalkOptions {
    /// Include hidden files and directories (names starting with `.`).
    pub hidden: bool,
    /// Ignore `.gitignore`, `.ignore`, `.git/info/exclude` and git's global excludes.
    pub no_ignore: bool,
    /// Gitignore-style globs matched against paths below the walked
    /// directory; `!glob` excludes. With any including glob, only files that
    /// match one are counted.
    pub globs: Vec<String>,
}

impl WalkOptions {
    /// Checks that every glob parses.
    pub fn check(&self) -> Result<(), Error> {
        self.overrides(Path::new(".")).map(|_| ())
    }

    pub(super) fn overrides(&self, root: &Path) -> Result<ignore::overrides::Override, Error> {
        let mut b = ignore::overrides::OverrideBuilder::new(root);
        for g in &self.globs {
            b.add(g).map_err(|e| Error::Config(format!("invalid glob '{g}': {}", reason(&e))))?;
        }
        b.build().map_err(|e| Error::Config(format!("invalid globs: {}", reason(&e))))
    }
}

/// One thing a walk found.
pub(super) enum Entry {
    File(PathBuf, Option<u64>),
    /// A FIFO, socket or device: never read from a walk (a FIFO may never end,
    /// a device may never end either).
    Special,
    /// A path and why it could not be walked.
    Problem(PathBuf, String),
}

pub(super) struct Walk(ignore::Walk);

impl Walk {
    pub(super) fn new(root: &Path, opts: &WalkOptions) -> Walk {
        let mut b = ignore::WalkBuilder::new(root);
        let honour = !opts.no_ignore;
        b.hidden(!opts.hidden)
            .ignore(honour)
            .git_ignore(honour)
            .git_exclude(honour)
            .git_global(honour)
            .parents(honour)
            .require_git(false)
            .follow_links(true)
            .sort_by_file_name(|a, b| a.cmp(b));
        // Globs filter what the ignore rules let through (as ignore's own
        // overrides would not: they let a matching hidden or ignored file in).
        // Checked in `WalkOptions::check`; relative to this root now.
        if let Ok(globs) = opts.overrides(root).map(std::sync::Arc::new)
            && !globs.is_empty()
        {
            b.filter_entry(move |e| !globs.matched(e.path(), e.file_type().is_some_and(|t| t.is_dir())).is_ignore());
        }
        Walk(b.build())
    }
}

impl Iterator for Walk {
    type Item = Entry;

    fn next(&mut self) -> Option<Entry> {
        loop {
            return Some(match self.0.next()? {
                Ok(e) => match e.file_type() {
                    Some(t) if t.is_dir() => continue,
                    Some(t) if t.is_file() => {
                        let size = e.metadata().ok().map(|m| m.len());
                        Entry::File(e.into_path(), size)
                    }
                    _ => Entry::Special,
                },
                Err(e) => Entry::Problem(path_of(&e).map_or_else(PathBuf::new, Path::to_path_buf), reason(&e)),
            });
        }
    }
}

fn path_of(e: &ignore::Error) -> Option<&Path> {
    match e {
        ignore::Error::WithPath { path, .. } => Some(path),
        ignore::Error::Loop { child, .. } => Some(child),
        ignore::Error::WithDepth { err, .. } | ignore::Error::WithLineNumber { err, .. } => path_of(err),
        ignore::Error::Partial(errs) => errs.iter().find_map(path_of),
        _ => None,
    }
}

/// The reason without the path (messages put the path first themselves).
fn reason(e: &ignore::Error) -> String {
    match e {
        ignore::Error::WithPath { err, .. } | ignore::Error::WithDepth { err, .. } => reason(err),
        ignore::Error::Loop { ancestor, .. } => format!("filesystem loop back to {}", ancestor.display()),
        ignore::Error::Io(io) => io.to_string(),
        other => other.to_string(),
    }
}
