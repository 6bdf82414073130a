//! Tokenizers and token normalization.
//!
//! A tokenizer turns a UTF-8 chunk into a [`TokenBatch`]: each token's
//! normalized bytes, padded to a 4-byte boundary, and its 64-bit key. The
//! padded layout is what the GPU reads directly, and the CPU counter reads the
//! same batch, so both backends see exactly the same tokens.

mod batch;

pub use batch::{TokenBatch, TokenRecord};

use crate::hash::KeyHash;
use unicode_properties::{GeneralCategoryGroup, UnicodeGeneralCategory};

/// What a token is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Mode {
    /// Maximal runs of alphanumeric characters (`char::is_alphanumeric`) and
    /// Unicode marks (general category M). Everything else separates.
    #[default]
    Words,
    /// Maximal runs of characters that are not White_Space (`char::is_whitespace`).
    Whitespace,
}

/// A tokenizer: mode, case handling and key function.
#[derive(Debug, Clone, Copy, Default)]
pub struct Tokenizer {
    pub mode: Mode,
    /// Keep tokens as written instead of lowercasing them (`str::to_lowercase`).
    pub keep_case: bool,
    pub hash: KeyHash,
}

/// ASCII bytes that belong to a token, per mode.
const fn ascii_table(mode: Mode) -> [bool; 128] {
    let mut t = [false; 128];
    let mut c = 0;
    while c < 128 {
        let b = c as u8;
        t[c] = match mode {
            Mode::Words => b.is_ascii_alphanumeric(),
            // char::is_whitespace: 9..=13 and space.
            Mode::Whitespace => !matches!(b, 9..=13 | b' '),
        };
        c += 1;
    }
    t
}

const WORDS_ASCII: [bool; 128] = ascii_table(Mode::Words);
const WHITESPACE_ASCII: [bool; 128] = ascii_table(Mode::Whitespace);

/// Whether a non-ASCII character belongs to a token in `words` mode.
#[inline]
pub fn is_word_char(c: char) -> bool {
    c.is_alphanumeric() || c.general_category_group() == GeneralCategoryGroup::Mark
}

/// Decodes the character starting at `i` in valid UTF-8, with its length.
#[inline]
fn decode_at(b: &[u8], i: usize) -> (char, usize) {
    let b0 = b[i] as u32;
    let (cp, len) = if b0 < 0xE0 {
        (((b0 & 0x1F) << 6) | (b[i + 1] as u32 & 0x3F), 2)
    } else if b0 < 0xF0 {
        (((b0 & 0x0F) << 12) | ((b[i + 1] as u32 & 0x3F) << 6) | (b[i + 2] as u32 & 0x3F), 3)
    } else {
        let cp = ((b0 & 0x07) << 18)
            | ((b[i + 1] as u32 & 0x3F) << 12)
            | ((b[i + 2] as u32 & 0x3F) << 6)
            | (b[i + 3] as u32 & 0x3F);
        (cp, 4)
    };
    (char::from_u32(cp).unwrap_or(char::REPLACEMENT_CHARACTER), len)
}

impl Tokenizer {
    /// Calls `f` with every raw (not normalized) token of `text` and whether it is all ASCII.
    #[inline]
    pub fn for_each_raw(&self, text: &str, mut f: impl FnMut(&str, bool)) {
        match self.mode {
            Mode::Words => scan(text, &WORDS_ASCII, is_word_char, &mut f),
            Mode::Whitespace => scan(text, &WHITESPACE_ASCII, |c| !c.is_whitespace(), &mut f),
        }
    }

    /// Appends the normalized, hashed tokens of `text` to `batch`.
    pub fn tokenize(&self, text: &str, batch: &mut TokenBatch) {
        self.for_each_raw(text, |token, ascii| self.push(token, ascii, batch));
    }

    /// Appends one raw token, normalized, to `batch`.
    #[inline]
    fn push(&self, token: &str, ascii: bool, batch: &mut TokenBatch) {
        let start = batch.begin();
        let out = batch.bytes_mut();
        if self.keep_case {
            out.extend_from_slice(token.as_bytes());
        } else if ascii {
            out.extend(token.bytes().map(|b| b.to_ascii_lowercase()));
        } else if token.contains('Σ') {
            // Only capital sigma lowercases by context (final ς); let std decide.
            out.extend_from_slice(token.to_lowercase().as_bytes());
        } else {
            let mut buf = [0u8; 4];
            for c in token.chars().flat_map(char::to_lowercase) {
                out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
            }
        }
        batch.seal(start, self.hash);
    }

    /// The normalized form of one token (what `tokenize` stores for it).
    pub fn normalize(&self, token: &str) -> String {
        if self.keep_case { token.to_string() } else { token.to_lowercase() }
    }

    /// A cut point in `bytes` that no token crosses: the position just after
    /// the last ASCII separator byte, if any. ASCII bytes never occur inside a
    /// multi-byte UTF-8 sequence, so the cut is also a character boundary.
    pub fn safe_cut(&self, bytes: &[u8]) -> Option<usize> {
        let table = match self.mode {
            Mode::Words => &WORDS_ASCII,
            Mode::Whitespace => &WHITESPACE_ASCII,
        };
        bytes.iter().rposition(|&b| b < 128 && !table[b as usize]).map(|p| p + 1)
    }
}

/// Finds maximal token runs: ASCII bytes by table, other characters by `non_ascii`.
#[inline(always)]
fn scan(text: &str, ascii: &[bool; 128], non_ascii: impl Fn(char) -> bool, f: &mut impl FnMut(&str, bool)) {
    let b = text.as_bytes();
    let n = b.len();
    let mut i = 0;
    loop {
        // Skip separators.
        loop {
            if i >= n {
                return;
            }
            let c = b[i];
            if c < 128 {
                if ascii[c as usize] {
                    break;
                }
                i += 1;
            } else {
                let (ch, len) = decode_at(b, i);
                if non_ascii(ch) {
                    break;
                }
                i += len;
            }
        }
        let start = i;
        let mut all_ascii = true;
        while i < n {
            let c = b[i];
            if c < 128 {
                if !ascii[c as usize] {
                    break;
                }
                i += 1;
            } else {
                let (ch, len) = decode_at(b, i);
                if !non_ascii(ch) {
                    break;
                }
                all_ascii = false;
                i += len;
            }
        }
        f(&text[start..i], all_ascii);
    }
}

#[cfg(test)]
mod tests;
