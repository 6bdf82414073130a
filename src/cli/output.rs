//! Writing the counts (and saved tables): to stdout (also for `-o -`), in place to a special
//! file (`/dev/stdout`, a FIFO, `/dev/null`), or atomically to a regular
//! file: a temporary file beside the target, renamed over it at the end,
//! with the mode a new file would get (or the old file's mode), through a
//! symlink to its target, and removed if SIGINT or SIGTERM comes first.

use super::args::Output;
use gpucount::error::Error;
use gpucount::pipeline::Outcome;
use gpucount::{report, saved};
use std::io::{self, Write};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// The temporary file being written, for the signal handler to remove.
static PENDING: Mutex<Option<PathBuf>> = Mutex::new(None);

/// Installs a SIGINT/SIGTERM handler that removes the temporary output file
/// (if one is being written) and exits with 128 + the signal number.
fn clean_up_on_signals() {
    use signal_hook::consts::{SIGINT, SIGTERM};
    let Ok(mut signals) = signal_hook::iterator::Signals::new([SIGINT, SIGTERM]) else { return };
    std::thread::spawn(move || {
        if let Some(sig) = signals.forever().next() {
            if let Some(p) = PENDING.lock().unwrap_or_else(|e| e.into_inner()).take() {
                let _ = std::fs::remove_file(p);
            }
            std::process::exit(128 + sig);
        }
    });
}

/// Makes SIGINT and SIGTERM remove a half-written `-o` file or saved table.
pub fn arm_cleanup(out: &Output) {
    if out.output.is_some() || out.save_table.is_some() {
        clean_up_on_signals();
    }
}

/// Writes the report where `out` says. A closed stdout or pipe (`| head`)
/// is not an error: the reader has what it wanted.
pub fn write(out: &Output, outcome: &mut Outcome) -> Result<(), Error> {
    let quiet_pipe = |r: io::Result<()>| match r {
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => Ok(()),
        r => r,
    };
    let Some(path) = out.output.as_deref().filter(|p| p.as_os_str() != "-") else {
        let mut w = io::BufWriter::with_capacity(1 << 16, io::stdout().lock());
        return quiet_pipe(report::write(&mut w, outcome, &out.report)).map_err(|e| Error::io("stdout", e));
    };
    to_file(path, &mut |w| quiet_pipe(report::write(w, outcome, &out.report)))
}

/// Writes a saved table (`--save-table`) of `outcome` to `path`, as the
/// report is written to `-o FILE`.
pub fn save_table(path: &Path, header: &saved::Header, outcome: &Outcome) -> Result<(), Error> {
    to_file(path, &mut |w| saved::write(w, header, &outcome.table))
}

/// Writes to `path` with `content`: in place to a special file, else atomically.
fn to_file(path: &Path, content: &mut dyn FnMut(&mut dyn Write) -> io::Result<()>) -> Result<(), Error> {
    let name = path.display().to_string();
    if std::fs::metadata(path).is_ok_and(|m| !m.is_file()) {
        // /dev/stdout, a FIFO, a terminal, /dev/null: nothing to replace, so write in place.
        let file = std::fs::OpenOptions::new().write(true).open(path).map_err(|e| Error::io(&name, e))?;
        // `content` flushes: a reader gone from a FIFO is its to forgive (`| head`).
        let mut w = io::BufWriter::new(file);
        return content(&mut w).map_err(|e| Error::io(&name, e));
    }
    replace(&resolve_links(path), content).map_err(|e| Error::io(&name, e))
}

/// Writes a temporary file in `target`'s directory and renames it over `target`.
fn replace(target: &Path, content: &mut dyn FnMut(&mut dyn Write) -> io::Result<()>) -> io::Result<()> {
    let dir = target.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let mode = match std::fs::metadata(target) {
        Ok(m) => m.permissions().mode() & 0o7777,
        Err(_) => 0o666 & !umask(),
    };
    // The handler waits for this lock: a signal that comes as the file is
    // created (or renamed, below) still finds its name.
    let pending = || PENDING.lock().unwrap_or_else(|e| e.into_inner());
    let tmp = {
        let mut p = pending();
        let tmp = tempfile::Builder::new().prefix(".gpucount-").tempfile_in(dir).map_err(plain)?;
        *p = Some(tmp.path().to_path_buf());
        tmp
    };
    let written = (|| {
        tmp.as_file().set_permissions(std::fs::Permissions::from_mode(mode))?;
        let mut out = io::BufWriter::with_capacity(1 << 16, tmp.as_file());
        content(&mut out)?;
        out.flush()?;
        drop(out);
        tmp.as_file().sync_all()
    })();
    let mut p = pending();
    let result = written.and_then(|()| tmp.persist(target).map(drop).map_err(|e| plain(e.error)));
    *p = None;
    result
}

/// Follows symlinks from `path` to the file they name (which may not exist yet).
fn resolve_links(path: &Path) -> PathBuf {
    let mut p = path.to_path_buf();
    for _ in 0..40 {
        match std::fs::read_link(&p) {
            Ok(next) => p = p.parent().map_or(next.clone(), |d| d.join(&next)),
            Err(_) => return p,
        }
    }
    p
}

/// The process's file-mode creation mask (Linux reports it in /proc).
fn umask() -> u32 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| s.lines().find_map(|l| l.strip_prefix("Umask:").map(|v| v.trim().to_string())))
        .and_then(|v| u32::from_str_radix(&v, 8).ok())
        .unwrap_or(0o022)
}

/// The error without the hidden temporary file's name, which tempfile adds
/// ("... at path \"dir/.gpucount-XXXX\""): users named another path.
fn plain(e: io::Error) -> io::Error {
    let text = e.to_string();
    match text.find(" at path \"") {
        Some(i) => io::Error::new(e.kind(), &text[..i]),
        None => e,
    }
}
