//! Writing the counts: to stdout, or atomically to `-o FILE`.

use super::args::Config;
use gpucount::error::Error;
use gpucount::pipeline::Outcome;
use gpucount::report;
use std::io;

/// Writes the report to stdout, or atomically to `-o FILE`. A closed stdout
/// (`| head`) is not an error.
pub fn write(config: &Config, outcome: &mut Outcome) -> Result<(), Error> {
    match &config.output {
        None => {
            let stdout = io::stdout();
            let mut out = io::BufWriter::with_capacity(1 << 16, stdout.lock());
            match report::write(&mut out, outcome, &config.report) {
                Err(e) if e.kind() == io::ErrorKind::BrokenPipe => Ok(()),
                r => r.map_err(|e| Error::io("writing to stdout", e)),
            }
        }
        Some(path) => {
            let name = path.display().to_string();
            let special = std::fs::metadata(path).is_ok_and(|m| !m.is_file());
            if special {
                // /dev/null, a FIFO, a terminal: nothing to replace, so write in place.
                let mut out = io::BufWriter::new(
                    std::fs::OpenOptions::new().write(true).open(path).map_err(|e| Error::io(&name, e))?,
                );
                return report::write(&mut out, outcome, &config.report).map_err(|e| Error::io(&name, e));
            }
            let dir = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(std::path::Path::new("."));
            let tmp = tempfile::NamedTempFile::new_in(dir).map_err(|e| Error::io(&name, e))?;
            let mut out = io::BufWriter::new(tmp);
            report::write(&mut out, outcome, &config.report).map_err(|e| Error::io(&name, e))?;
            let tmp = out.into_inner().map_err(|e| Error::io(&name, e.into_error()))?;
            tmp.as_file().sync_all().map_err(|e| Error::io(&name, e))?;
            tmp.persist(path).map_err(|e| Error::io(&name, e.error))?;
            Ok(())
        }
    }
}
