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
    /// Tokens whose length or offset does not fit the 32-bit record fields
    /// (4 GiB or more), kept whole for the host to count.
    oversized: Vec<(u64, Vec<u8>)>,
}

impl TokenBatch {
    pub fn new() -> Self {
        Self::default()
    }

    /// Number of tokens.
    pub fn len(&self) -> usize {
        self.records.len() + self.oversized.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn clear(&mut self) {
        self.records.clear();
        self.bytes.clear();
        self.oversized.clear();
    }

    /// Tokens too large for a record (see [`TokenBatch::push`]), with their keys.
    pub fn oversized(&self) -> &[(u64, Vec<u8>)] {
        &self.oversized
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

    /// Iterates over (key, bytes) of every token, oversized ones last.
    pub fn iter(&self) -> impl Iterator<Item = (u64, &[u8])> {
        self.records.iter().map(|r| (r.hash(), self.token(r))).chain(self.oversized.iter().map(|(h, t)| (*h, &t[..])))
    }

    /// Adds one token with a precomputed key. A token whose length or word
    /// offset would not fit in 32 bits goes to [`TokenBatch::oversized`] instead.
    #[inline]
    pub fn push(&mut self, hash: u64, token: &[u8]) {
        let start = self.bytes.len();
        let (Ok(len), Ok(start_word)) = (u32::try_from(token.len()), u32::try_from(start / 4)) else {
            self.oversized.push((hash, token.to_vec()));
            return;
        };
        self.bytes.extend_from_slice(token);
        self.bytes.resize(self.bytes.len().next_multiple_of(4), 0);
        self.records.push(TokenRecord { hash_lo: hash as u32, hash_hi: (hash >> 32) as u32, start_word, len });
    }
}
