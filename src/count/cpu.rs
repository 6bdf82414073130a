//! The CPU backend: one exact table per rayon worker, filled in one pass over
//! each chunk (tokenize, hash, count), merged smaller into larger.

use super::{Backend, Finished};
use crate::error::Error;
use crate::table::CountTable;
use crate::tokenize::{TokenBatch, Tokenizer};

/// Counts on the CPU with rayon.
#[derive(Debug, Clone, Copy, Default)]
pub struct CpuBackend;

impl Backend for CpuBackend {
    type Local = CountTable;

    fn describe(&self) -> String {
        "cpu (rayon)".into()
    }

    fn local(&self) -> CountTable {
        CountTable::new()
    }

    fn add(&self, local: &mut CountTable, batch: &mut TokenBatch) -> Result<(), Error> {
        local.add_batch(batch);
        Ok(())
    }

    fn add_text(&self, local: &mut CountTable, tokenizer: &Tokenizer, text: &str) -> Option<Result<(), Error>> {
        let mut scratch = Vec::new();
        tokenizer.for_each_token(text, &mut scratch, |hash, token| local.add(hash, token, 1));
        Some(Ok(()))
    }

    fn merge(&self, a: CountTable, b: CountTable) -> CountTable {
        CountTable::merged(a, b)
    }

    fn finish(self, local: CountTable) -> Result<Finished, Error> {
        Ok(Finished::table(local))
    }
}
