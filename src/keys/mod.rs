//! Keys: the one stage between the tokenizer and the counters. It turns each
//! normalized token into a key (today the token itself, with its 64-bit hash;
//! n-grams and filters belong here) and hands it to a [`KeySink`]: the CPU's
//! exact [`CountTable`] or the GPU's [`TokenBatch`].

mod batch;

pub use batch::{TokenBatch, TokenRecord};

use crate::hash::KeyHash;
use crate::table::CountTable;
use crate::tokenize::Tokenizer;

/// Where keys go.
pub trait KeySink {
    /// One occurrence of the key with bytes `key` and hash `hash`.
    fn key(&mut self, hash: u64, key: &[u8]);
}

impl KeySink for CountTable {
    #[inline(always)]
    fn key(&mut self, hash: u64, key: &[u8]) {
        self.add(hash, key, 1);
    }
}

impl KeySink for TokenBatch {
    #[inline]
    fn key(&mut self, hash: u64, key: &[u8]) {
        self.push(hash, key);
    }
}

/// Text to keys: the tokenizer and the key function.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Keys {
    pub tokenizer: Tokenizer,
    pub hash: KeyHash,
}

impl Keys {
    /// Sends the key of every token of `text` to `sink`. `scratch` is reused
    /// between calls to hold lowercased tokens.
    // Not inlined: inside the worker loop the scanner loses registers (6% slower).
    #[inline(never)]
    pub fn feed<S: KeySink + ?Sized>(&self, text: &str, scratch: &mut Vec<u8>, sink: &mut S) {
        let hash = self.hash;
        self.tokenizer.for_each_token(text, scratch, |key| sink.key(hash.hash(key), key));
    }

    /// The keys of `text` as a batch (for tests and benchmarks).
    pub fn batch(&self, text: &str) -> TokenBatch {
        let mut batch = TokenBatch::new();
        self.feed(text, &mut Vec::new(), &mut batch);
        batch
    }
}
