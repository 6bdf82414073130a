//! Tokenizers and token normalization: a UTF-8 chunk in, each normalized
//! token out once, in order, to the key stage ([`crate::keys`]). This is the
//! only tokenizer loop; every backend counts what it emits.

mod pattern;

pub use pattern::{SKLEARN_TOKEN_PATTERN, TokenPattern};

use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};
use unicode_properties::{GeneralCategoryGroup, UnicodeGeneralCategory};

/// What a token is.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Mode {
    /// Maximal runs of alphanumeric characters (`char::is_alphanumeric`) and
    /// Unicode marks (general category M). Everything else separates.
    #[default]
    Words,
    /// Maximal runs of characters that are not White_Space (`char::is_whitespace`).
    Whitespace,
    /// The matches of a regular expression within each run of
    /// non-whitespace characters, lowercased first unless case is kept
    /// ([`TokenPattern`]).
    Pattern(TokenPattern),
}

/// A tokenizer: what a token is and how it is normalized.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Tokenizer {
    pub mode: Mode,
    /// Keep tokens as written instead of lowercasing them (`str::to_lowercase`).
    pub keep_case: bool,
    /// Words mode: an apostrophe or hyphen ([`is_inner_punctuation`])
    /// between two word characters stays inside the word (`don't`,
    /// `l'homme`, `saint-jacques`).
    pub inner_punctuation: bool,
}

/// Apostrophes and hyphens that `inner_punctuation` keeps between word
/// characters: ' ’ - ‐ ‑.
pub fn is_inner_punctuation(c: char) -> bool {
    matches!(c, '\'' | '\u{2019}' | '-' | '\u{2010}' | '\u{2011}')
}

/// ASCII bytes that belong to a word (`words`) or to a run of
/// non-whitespace characters.
const fn ascii_table(words: bool) -> [bool; 128] {
    let mut t = [false; 128];
    let mut c = 0;
    while c < 128 {
        let b = c as u8;
        // char::is_whitespace: 9..=13 and space.
        t[c] = if words { b.is_ascii_alphanumeric() } else { !matches!(b, 9..=13 | b' ') };
        c += 1;
    }
    t
}

const WORDS_ASCII: [bool; 128] = ascii_table(true);
const WHITESPACE_ASCII: [bool; 128] = ascii_table(false);

/// Whether a character belongs to a token in `words` mode.
#[inline]
pub fn is_word_char(c: char) -> bool {
    c.is_alphanumeric() || c.general_category_group() == GeneralCategoryGroup::Mark
}

/// [`is_word_char`] for the Basic Multilingual Plane as a bitmap, each block
/// of 64 code points filled on first use: a bit test instead of two table
/// searches per character, and no start-up cost for scripts never seen.
struct WordMap {
    bits: [AtomicU64; 1024],
    filled: [AtomicU64; 16],
}

static WORD_MAP: WordMap =
    WordMap { bits: [const { AtomicU64::new(0) }; 1024], filled: [const { AtomicU64::new(0) }; 16] };

#[inline]
fn is_word_char_fast(c: char) -> bool {
    let cp = c as u32;
    if cp >= 0x10000 {
        return is_word_char(c);
    }
    let block = (cp >> 6) as usize;
    let flag = 1u64 << (block & 63);
    if WORD_MAP.filled[block >> 6].load(Ordering::Acquire) & flag == 0 {
        let mut bits = 0u64;
        for i in 0..64u32 {
            if char::from_u32((block as u32) << 6 | i).is_some_and(is_word_char) {
                bits |= 1 << i;
            }
        }
        // Racing threads store the same bits; the flag is published after them.
        WORD_MAP.bits[block].store(bits, Ordering::Relaxed);
        WORD_MAP.filled[block >> 6].fetch_or(flag, Ordering::Release);
    }
    WORD_MAP.bits[block].load(Ordering::Relaxed) >> (cp & 63) & 1 == 1
}

/// Single-character lowercase mappings of U+0000..U+07FF (Latin, Greek,
/// Cyrillic, Armenian, Hebrew, Arabic); 0 where the mapping is longer (U+0130).
fn lower_table() -> &'static [u32; 0x800] {
    static TABLE: OnceLock<Box<[u32; 0x800]>> = OnceLock::new();
    TABLE.get_or_init(|| {
        let mut t = Box::new([0u32; 0x800]);
        for cp in 0..0x800u32 {
            if let Some(c) = char::from_u32(cp) {
                let mut l = c.to_lowercase();
                if let (Some(one), None) = (l.next(), l.next()) {
                    t[cp as usize] = one as u32;
                }
            }
        }
        t
    })
}

/// Appends `token` lowercased as `str::to_lowercase` would.
#[inline]
fn lower_into(token: &str, ascii: bool, out: &mut Vec<u8>) {
    if ascii {
        let at = out.len();
        out.extend_from_slice(token.as_bytes());
        out[at..].make_ascii_lowercase();
    } else if token.contains('Σ') {
        // Only capital sigma lowercases by context (final ς); let std decide.
        out.extend_from_slice(token.to_lowercase().as_bytes());
    } else {
        let table = lower_table();
        for c in token.chars() {
            push_lower(out, c, table);
        }
    }
}

/// Appends the lowercase of `c` (as `char::to_lowercase`).
#[inline]
fn push_lower(out: &mut Vec<u8>, c: char, table: &[u32; 0x800]) {
    let mut buf = [0u8; 4];
    let cp = c as u32;
    if cp < 0x800 && table[cp as usize] != 0 {
        let l = char::from_u32(table[cp as usize]).unwrap_or(c);
        out.extend_from_slice(l.encode_utf8(&mut buf).as_bytes());
    } else {
        for l in c.to_lowercase() {
            out.extend_from_slice(l.encode_utf8(&mut buf).as_bytes());
        }
    }
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
    /// Calls `f` with every raw (not normalized) piece of `text` and whether
    /// it is all ASCII: the tokens, or for a pattern the runs of
    /// non-whitespace characters its matches are sought in.
    #[inline(always)]
    fn for_each_raw(&self, text: &str, mut f: impl FnMut(&str, bool)) {
        match self.mode {
            Mode::Words if self.inner_punctuation => joined(text, &mut f),
            Mode::Words => scan(text, &WORDS_ASCII, is_word_char_fast, &mut f),
            Mode::Whitespace | Mode::Pattern(_) => scan(text, &WHITESPACE_ASCII, |c| !c.is_whitespace(), &mut f),
        }
    }

    /// Whether `c` belongs to a token (for a pattern: to a run its matches
    /// are sought in).
    #[inline]
    pub fn in_token(&self, c: char) -> bool {
        match self.mode {
            Mode::Words => is_word_char_fast(c),
            Mode::Whitespace | Mode::Pattern(_) => !c.is_whitespace(),
        }
    }

    /// Calls `f` with the normalized bytes of every token of `text`, in one
    /// pass: tokens that need no change come straight from `text`, the others
    /// are lowercased into `scratch`.
    #[inline(always)]
    pub fn for_each_token(&self, text: &str, scratch: &mut Vec<u8>, mut f: impl FnMut(&[u8])) {
        if let Mode::Pattern(pattern) = &self.mode {
            return self.for_each_match(pattern, text, scratch, &mut |_, token| f(token));
        }
        // One call site for `f`: with two, the inlined hash and table
        // lookup are duplicated or not inlined at all (5% slower).
        self.for_each_raw(text, |token, ascii| f(self.normalized(token, ascii, scratch)));
    }

    /// Calls `f(start, end, token)` with the normalized bytes of every token
    /// of `text` and where it lies in `text`. A pattern's tokens all lie at
    /// the start of their run (`start == end`): a chunk's context then starts
    /// at a run, where matching starts the same way again.
    pub fn for_each_spanned(&self, text: &str, scratch: &mut Vec<u8>, f: &mut dyn FnMut(usize, usize, &[u8])) {
        if let Mode::Pattern(pattern) = &self.mode {
            return self.for_each_match(pattern, text, scratch, &mut |start, token| f(start, start, token));
        }
        let base = text.as_ptr() as usize;
        self.for_each_raw(text, |raw, ascii| {
            let start = raw.as_ptr() as usize - base;
            f(start, start + raw.len(), self.normalized(raw, ascii, scratch))
        });
    }

    /// A pattern's tokens: each run lowercased (unless case is kept), then
    /// matched; `f` gets the run's start and each token.
    #[inline(never)]
    fn for_each_match(
        &self,
        pattern: &TokenPattern,
        text: &str,
        scratch: &mut Vec<u8>,
        f: &mut dyn FnMut(usize, &[u8]),
    ) {
        let base = text.as_ptr() as usize;
        self.for_each_raw(text, |run, ascii| {
            let start = run.as_ptr() as usize - base;
            let run = if self.lowers(run, ascii) {
                scratch.clear();
                lower_into(run, ascii, scratch);
                // Lowercasing writes whole characters: always UTF-8.
                std::str::from_utf8(scratch).unwrap_or_default()
            } else {
                run
            };
            pattern.for_each_match(run, &mut |token| f(start, token.as_bytes()));
        });
    }

    /// A raw token's normalized bytes: itself when nothing changes, else
    /// lowercased into `scratch`.
    #[inline(always)]
    pub fn normalized<'a>(&self, token: &'a str, ascii: bool, scratch: &'a mut Vec<u8>) -> &'a [u8] {
        if !self.lowers(token, ascii) {
            token.as_bytes()
        } else {
            scratch.clear();
            lower_into(token, ascii, scratch);
            &scratch[..]
        }
    }

    /// Whether normalizing `token` changes it.
    #[inline(always)]
    fn lowers(&self, token: &str, ascii: bool) -> bool {
        !(self.keep_case || (ascii && !token.bytes().any(|b| b.is_ascii_uppercase())))
    }

    /// A cut point in `text` that no token crosses: just after its last
    /// separator character (ASCII or not), if it has one.
    pub fn safe_cut(&self, text: &str) -> Option<usize> {
        text.char_indices().rev().find(|&(_, c)| self.cuts_after(c)).map(|(i, c)| i + c.len_utf8())
    }

    /// The first cut point in `text`: just after its first separator.
    pub fn first_cut(&self, text: &str) -> Option<usize> {
        text.char_indices().find(|&(_, c)| self.cuts_after(c)).map(|(i, c)| i + c.len_utf8())
    }

    /// Whether a token never continues past `c` (inner punctuation may join
    /// the words on either side, so it never cuts).
    fn cuts_after(&self, c: char) -> bool {
        let joins = self.inner_punctuation && self.mode == Mode::Words && is_inner_punctuation(c);
        !(self.in_token(c) || joins)
    }
}

/// Words mode with inner punctuation: word runs joined when exactly one
/// apostrophe or hyphen separates them.
fn joined(text: &str, f: &mut impl FnMut(&str, bool)) {
    let base = text.as_ptr() as usize;
    let mut pending: Option<(usize, usize, bool)> = None;
    scan(text, &WORDS_ASCII, is_word_char_fast, &mut |token: &str, ascii: bool| {
        let start = token.as_ptr() as usize - base;
        let end = start + token.len();
        if let Some((s, e, a)) = pending {
            let gap = &text[e..start];
            let mut chars = gap.chars();
            if let (Some(c), None) = (chars.next(), chars.next())
                && is_inner_punctuation(c)
            {
                pending = Some((s, end, a && ascii && c.is_ascii()));
                return;
            }
            f(&text[s..e], a);
        }
        pending = Some((start, end, ascii));
    });
    if let Some((s, e, a)) = pending {
        f(&text[s..e], a);
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
