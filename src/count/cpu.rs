//! The CPU backend: one exact table per worker, filled as keys arrive,
//! merged smaller into larger.

use super::{Backend, Finished};
use crate::error::Error;
use crate::table::CountTable;

/// Counts on the CPU, one table per worker thread.
#[derive(Debug, Clone, Copy, Default)]
pub struct CpuBackend;

impl Backend for CpuBackend {
    type Local = CountTable;
    const COUNTS_IN_SINK: bool = true;

    fn local(&self) -> CountTable {
        CountTable::new()
    }

    fn end_chunk(&self, _: &mut CountTable) -> Result<(), Error> {
        Ok(())
    }

    fn merge(&self, a: CountTable, b: CountTable) -> CountTable {
        CountTable::merged(a, b)
    }

    fn finish(self, local: CountTable) -> Result<Finished, Error> {
        Ok(Finished::table(local))
    }
}
