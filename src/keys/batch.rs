use bytemuck::{Pod, Zeroable};

/// One token in a [`TokenBatch`]: its key and where its bytes are.
/// Laid out as the GPU reads it (`vec4<u32>` in `shaders/count.wgsl`).
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Pod, Zeroable)]
pub struct TokenRecord {
    pub hash_lo: u32,
    pub hash_hi: u32,
    /// Offset of the first byte in [`TokenBatch::bytes`], in 4-byte words.
    pub start_word: u32,
    /// Length in bytes (the padding after it is zero).
    pub len: u32,
}

impl TokenRecord {
    /// The 64-bit key.
    #[inline]
    pub fn hash(&self) -> u64 {
        (self.hash_hi as u64) << 32 | self.hash_lo as u64
    }
}

/// Keys of one or more text chunks in the layout the GPU reads: records
/// (key, offset, length) and the keys' bytes.
///
/// Invariants: every token starts on a 4-byte boundary of `bytes` and is
/// followed by zero padding up to the next one, so two tokens are equal
/// exactly when their keys, lengths and padded words are equal.
#[derive(Debug, Default, Clone)]
pub struct TokenBatch {
    records: Vec<TokenRecord>,
    bytes: Vec<u8>,
}

impl TokenBatch {
    pub fn new() -> Self {
        Self::default()
    }

    /// Number of tokens.
    pub fn len(&self) -> usize {
        self.records.len()
    }

    pub fn is_empty(&self) -> bool {
        self.records.is_empty()
    }

    pub fn clear(&mut self) {
        self.records.clear();
        self.bytes.clear();
    }

    pub fn records(&self) -> &[TokenRecord] {
        &self.records
    }

    /// The padded token bytes (a multiple of 4 long).
    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// The normalized bytes of token `r`.
    #[inline]
    pub fn token(&self, r: &TokenRecord) -> &[u8] {
        let start = r.start_word as usize * 4;
        &self.bytes[start..start + r.len as usize]
    }

    /// Iterates over (key, bytes) of every token.
    pub fn iter(&self) -> impl Iterator<Item = (u64, &[u8])> {
        self.records.iter().map(|r| (r.hash(), self.token(r)))
    }

    /// Adds one token with a precomputed key.
    #[inline]
    pub fn push(&mut self, hash: u64, token: &[u8]) {
        let start = self.bytes.len();
        self.bytes.extend_from_slice(token);
        self.seal_with(start, hash);
    }

    #[inline]
    fn seal_with(&mut self, start: usize, key: u64) {
        let len = self.bytes.len() - start;
        self.bytes.resize(self.bytes.len().next_multiple_of(4), 0);
        self.records.push(TokenRecord {
            hash_lo: key as u32,
            hash_hi: (key >> 32) as u32,
            start_word: (start / 4) as u32,
            len: len as u32,
        });
    }
}
