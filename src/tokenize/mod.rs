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
/// non-whitespace characters (where SIMD compares do not classify them).
#[cfg(not(target_arch = "x86_64"))]
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

#[cfg(not(target_arch = "x86_64"))]
const WORDS_ASCII: [bool; 128] = ascii_table(true);
#[cfg(not(target_arch = "x86_64"))]
const WHITESPACE_ASCII: [bool; 128] = ascii_table(false);

/// Whether a character belongs to a token in `words` mode.
#[inline]
pub fn is_word_char(c: char) -> bool {
    c.is_alphanumeric() || c.general_category_group() == GeneralCategoryGroup::Mark
}

/// A property of the characters of the Basic Multilingual Plane as a
/// bitmap, each block of 64 code points filled on first use: a bit test
/// instead of table searches per character, and no start-up cost for
/// scripts never seen.
struct BmpMap {
    bits: [AtomicU64; 1024],
    filled: [AtomicU64; 16],
    of: fn(char) -> bool,
}

impl BmpMap {
    const fn new(of: fn(char) -> bool) -> Self {
        BmpMap { bits: [const { AtomicU64::new(0) }; 1024], filled: [const { AtomicU64::new(0) }; 16], of }
    }

    /// Whether `cp` (below 0x10000) has the property.
    #[inline(always)]
    fn holds(&self, cp: u32) -> bool {
        let block = (cp >> 6) as usize;
        if self.filled[block >> 6].load(Ordering::Acquire) & 1 << (block & 63) == 0 {
            self.fill(block);
        }
        self.bits[block].load(Ordering::Relaxed) >> (cp & 63) & 1 == 1
    }

    #[cold]
    #[inline(never)]
    fn fill(&self, block: usize) {
        let mut bits = 0u64;
        for i in 0..64u32 {
            if char::from_u32((block as u32) << 6 | i).is_some_and(self.of) {
                bits |= 1 << i;
            }
        }
        // Racing threads store the same bits; the flag is published after them.
        self.bits[block].store(bits, Ordering::Relaxed);
        self.filled[block >> 6].fetch_or(1 << (block & 63), Ordering::Release);
    }
}

static WORD_MAP: BmpMap = BmpMap::new(is_word_char);

/// Characters that `char::to_lowercase` changes.
static CASED_MAP: BmpMap = BmpMap::new(|c| c.to_lowercase().ne(std::iter::once(c)));

/// [`is_word_char`] through [`WORD_MAP`] for the Basic Multilingual Plane.
#[inline(always)]
fn is_word_char_fast(c: char) -> bool {
    let cp = c as u32;
    if cp >= 0x10000 {
        return is_word_char(c);
    }
    WORD_MAP.holds(cp)
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

/// The lowercase of each character of two UTF-8 bytes (U+0080..U+07FF)
/// whose lowercase is one such character, as its two bytes (the first in
/// the high byte), indexed by the 11 bits the two bytes carry; 0 for the
/// others (İ, Ⱥ, and Σ, whose lowercase depends on its place).
fn lower2_table() -> &'static [u16; 0x800] {
    static TABLE: OnceLock<Box<[u16; 0x800]>> = OnceLock::new();
    TABLE.get_or_init(|| {
        let mut t = Box::new([0u16; 0x800]);
        for (cp, &l) in lower_table().iter().enumerate().skip(0x80) {
            if (0x80..0x800).contains(&l) && cp != 'Σ' as usize {
                t[cp] = (0xC0 | (l >> 6) as u16) << 8 | (0x80 | (l & 0x3F) as u16);
            }
        }
        t
    })
}

/// Appends `token` lowercased as `str::to_lowercase` would.
#[inline]
fn lower_into(token: &str, ascii: bool, out: &mut Vec<u8>) {
    if ascii && token.len() <= 16 {
        lower_short_ascii(token.as_bytes(), out);
    } else if ascii {
        let at = out.len();
        out.extend_from_slice(token.as_bytes());
        out[at..].make_ascii_lowercase();
    } else {
        // Byte by byte, with fixed-size copies: characters of two bytes
        // through their table, caseless ones (CJK, punctuation) as they are.
        let (b, two, at) = (token.as_bytes(), lower2_table(), out.len());
        out.reserve(b.len());
        let mut i = 0;
        while i < b.len() {
            let lead = b[i];
            if lead < 0x80 {
                // The ASCII letters beside a curly quote or an accent.
                out.push(lead.to_ascii_lowercase());
                i += 1;
                continue;
            }
            if lead < 0xE0 {
                let l = two[(lead as usize & 0x1F) << 6 | (b[i + 1] as usize & 0x3F)];
                if l != 0 {
                    out.extend_from_slice(&l.to_be_bytes());
                    i += 2;
                    continue;
                }
            }
            let (c, len) = decode_at(b, i);
            if c == 'Σ' {
                // Only capital sigma lowercases by context (final ς): let std decide.
                out.truncate(at);
                out.extend_from_slice(token.to_lowercase().as_bytes());
                return;
            }
            if len == 3 && !CASED_MAP.holds(c as u32) {
                out.extend_from_slice(&b[i..i + 3]);
            } else {
                push_lower(out, c, lower_table());
            }
            i += len;
        }
    }
}

/// A normalized token: 1 to 8 ASCII bytes as a little-endian word (zero
/// beyond its length) and that length, or its bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Token<'a> {
    Word(u64, usize),
    Bytes(&'a [u8]),
}

/// `w` with its capitals `A` to `Z` lowercased; every byte of `w` must be
/// below 0x80 (another would carry into the next). Per byte, bit 7 is set
/// by adding 0x80 - b'A' when the byte is b'A' or more, and by adding
/// 0x80 - b'Z' - 1 when it is past b'Z'; no carry crosses a byte. A
/// capital gains 0x20.
#[inline(always)]
fn lower_ascii_word(w: u64) -> u64 {
    const ONES: u64 = 0x0101_0101_0101_0101;
    let upper = (w + ONES * (0x80 - b'A' as u64)) & !(w + ONES * (0x80 - b'Z' as u64 - 1)) & (ONES * 0x80);
    w | upper >> 2
}

/// Appends an ASCII token of at most 16 bytes lowercased: read as two
/// little-endian words with fixed-size loads, lowercased 8 bytes at a
/// time, stored as 16 bytes and cut back, so no call to `memcpy`, no loop
/// per byte, and no load that straddles two stores (most tokens are short).
#[inline(always)]
fn lower_short_ascii(token: &[u8], out: &mut Vec<u8>) {
    let n = token.len();
    let (lo, hi) = if n >= 8 {
        // The last 8 bytes, shifted so that bytes 8.. of the token come first.
        let word = |at: usize| u64::from_le_bytes(token[at..at + 8].try_into().expect("8 bytes"));
        (word(0), word(n - 8).checked_shr(8 * (16 - n) as u32).unwrap_or(0))
    } else {
        (crate::bytes::word_le(token), 0)
    };
    let at = out.len();
    out.extend_from_slice(&lower_ascii_word(lo).to_le_bytes());
    out.extend_from_slice(&lower_ascii_word(hi).to_le_bytes());
    out.truncate(at + n);
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
#[inline(always)]
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
    fn for_each_raw(&self, text: &str, mut f: impl FnMut(&str, Shape)) {
        match self.mode {
            Mode::Words if self.inner_punctuation => joined(text, &mut f),
            Mode::Words => scan::<true>(text, is_word_char_fast, &mut f),
            Mode::Whitespace | Mode::Pattern(_) => scan::<false>(text, |c| !c.is_whitespace(), &mut f),
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
        self.for_each_raw(text, |token, shape| f(self.normalized(token, shape, scratch)));
    }

    /// [`Tokenizer::for_each_token`], with each normalized token of 1 to 8
    /// ASCII bytes given as a word ([`Token::Word`]): read with one 8-byte
    /// load from `text` (byte by byte within 8 bytes of its end), masked to
    /// its length and lowercased in the register, so no branch on its
    /// length and no copy.
    #[inline(always)]
    pub fn for_each_token_word(&self, text: &str, scratch: &mut Vec<u8>, mut f: impl FnMut(Token<'_>)) {
        if let Mode::Pattern(pattern) = &self.mode {
            return self.for_each_match(pattern, text, scratch, &mut |_, token| f(Token::Bytes(token)));
        }
        let (base, bytes) = (text.as_ptr() as usize, text.as_bytes());
        let keep_case = self.keep_case;
        self.for_each_raw(text, |token, shape| {
            let n = token.len();
            // One call of `f`, so that it is inlined.
            f(if shape.ascii && n <= 8 {
                let at = token.as_ptr() as usize - base;
                let word = match bytes.get(at..at + 8) {
                    Some(w) => u64::from_le_bytes(w.try_into().expect("8 bytes")) & (u64::MAX >> (64 - 8 * n)),
                    None => crate::bytes::word_le(token.as_bytes()),
                };
                Token::Word(if keep_case { word } else { lower_ascii_word(word) }, n)
            } else {
                Token::Bytes(self.normalized(token, shape, scratch))
            })
        });
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
        self.for_each_raw(text, |raw, shape| {
            let start = raw.as_ptr() as usize - base;
            f(start, start + raw.len(), self.normalized(raw, shape, scratch))
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
        self.for_each_raw(text, |run, shape| {
            let start = run.as_ptr() as usize - base;
            let run = if self.lowers(shape) {
                scratch.clear();
                lower_into(run, shape.ascii, scratch);
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
    pub fn normalized<'a>(&self, token: &'a str, shape: Shape, scratch: &'a mut Vec<u8>) -> &'a [u8] {
        if !self.lowers(shape) {
            token.as_bytes()
        } else {
            scratch.clear();
            lower_into(token, shape.ascii, scratch);
            &scratch[..]
        }
    }

    /// Whether normalizing `token` changes it.
    #[inline(always)]
    fn lowers(&self, shape: Shape) -> bool {
        !(self.keep_case || (shape.ascii && !shape.upper))
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
fn joined(text: &str, f: &mut impl FnMut(&str, Shape)) {
    let base = text.as_ptr() as usize;
    let mut pending: Option<(usize, usize, Shape)> = None;
    scan::<true>(text, is_word_char_fast, &mut |token: &str, shape: Shape| {
        let start = token.as_ptr() as usize - base;
        let end = start + token.len();
        if let Some((s, e, a)) = pending {
            let gap = &text[e..start];
            let mut chars = gap.chars();
            if let (Some(c), None) = (chars.next(), chars.next())
                && is_inner_punctuation(c)
            {
                // Inner punctuation is never a capital.
                let ascii = a.ascii && shape.ascii && c.is_ascii();
                pending = Some((s, end, Shape { ascii, upper: a.upper || shape.upper }));
                return;
            }
            f(&text[s..e], a);
        }
        pending = Some((start, end, shape));
    });
    if let Some((s, e, a)) = pending {
        f(&text[s..e], a);
    }
}

/// Finds maximal token runs (`WORDS`: word characters, else
/// non-whitespace), in blocks of 64 bytes: a block's separators become a
/// bit mask (SIMD compares for its ASCII bytes, [`non_ascii`] once per
/// other character), its token starts and ends become two more, and tokens
/// are read off them in pairs with bit scans, so no branch depends on each
/// byte and none on whether a token is open. `f` gets each token and its
/// [`Shape`].
#[inline(always)]
fn scan<const WORDS: bool>(text: &str, non_ascii: impl Fn(char) -> bool, f: &mut impl FnMut(&str, Shape)) {
    let b = text.as_bytes();
    let n = b.len();
    // The start of a token still open at the end of the block before (NONE
    // if none), and whether blocks before gave it a non-ASCII byte or an
    // ASCII capital.
    const NONE: usize = usize::MAX;
    let mut open = NONE;
    let (mut wide, mut caps) = (false, false);
    // Continuation bytes of a character begun in the block before, and
    // whether that character separates.
    let mut carry = (0u32, false);
    // 1 when the byte before this block belongs to a token.
    let mut before = 0u64;
    let mut i = 0;
    // A token still open at the end closes in one more block of padding.
    while i < n || open != NONE {
        let block: [u8; 64] = match b.get(i..i + 64) {
            Some(full) => full.try_into().expect("64 bytes"),
            None => {
                // The last block, padded with spaces (separators in every mode).
                let mut last = [b' '; 64];
                last[..n - i].copy_from_slice(&b[i..]);
                last
            }
        };
        let (mut sep, high, upper) = classify::<WORDS>(&block);
        if high != 0 {
            sep = with_non_ascii(b, i, sep, high, &mut carry, &non_ascii);
        }
        let inside = !sep;
        let follows = inside << 1 | before;
        // Bit k: a token starts at byte k; a token ended just before byte k.
        let (mut starts, mut ends) = (inside & !follows, !inside & follows);
        before = inside >> 63;
        if open != NONE && ends == 0 {
            (wide, caps) = (wide || high != 0, caps || upper != 0);
            i += 64;
            continue;
        }
        // The k-th end closes the k-th token: the open one, then those
        // that start here. One call of `f`, so that it is inlined.
        while ends != 0 {
            let e = ends.trailing_zeros();
            let (start, from, wide_before, caps_before) = if open != NONE {
                (open, 0, wide, caps)
            } else {
                let s = starts.trailing_zeros();
                starts &= starts - 1;
                (i + s as usize, s, false, false)
            };
            open = NONE;
            let within = (!0u64 << from) & ((1u64 << e) - 1);
            let shape = Shape { ascii: !wide_before && high & within == 0, upper: caps_before || upper & within != 0 };
            f(token_at(text, start, i + e as usize), shape);
            ends &= ends - 1;
        }
        if starts != 0 {
            let s = starts.trailing_zeros();
            (open, wide, caps) = (i + s as usize, high >> s != 0, upper >> s != 0);
        }
        i += 64;
    }
}

/// `text[start..end]` for a token [`scan`] found, without checking the
/// ends: slicing checked was 13% of the scan's time (les x10, pinned).
#[inline(always)]
fn token_at(text: &str, start: usize, end: usize) -> &str {
    debug_assert!(start <= end && text.is_char_boundary(start) && text.is_char_boundary(end));
    // SAFETY: `start <= end <= text.len()` (the padding past the end
    // separates), and both are character boundaries: a token's ends are
    // where the separator class changes, and all bytes of a character get
    // one class (ASCII bytes are characters, and `with_non_ascii` gives each
    // other character's bytes, carried ones too, its class).
    unsafe { text.get_unchecked(start..end) }
}

/// What the scan saw of a token's bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shape {
    /// All ASCII.
    pub ascii: bool,
    /// Holds an ASCII capital (`A` to `Z`).
    pub upper: bool,
}

/// The separator mask of `block`'s ASCII bytes (bit k: byte k), the mask
/// of its other bytes (whose separator bits mean nothing yet), and the mask
/// of its ASCII capitals.
#[inline(always)]
fn classify<const WORDS: bool>(block: &[u8; 64]) -> (u64, u64, u64) {
    #[cfg(target_arch = "x86_64")]
    {
        use core::arch::x86_64::*;
        let (mut sep, mut high, mut upper) = (0u64, 0u64, 0u64);
        for k in 0..4 {
            // SAFETY: SSE2 is part of x86_64; the load reads 16 of the block's 64 bytes.
            let (s, h, u) = unsafe {
                let v = _mm_loadu_si128(block.as_ptr().add(16 * k).cast());
                let within = |lo: u8, hi: u8, x: __m128i| {
                    _mm_and_si128(
                        _mm_cmpgt_epi8(x, _mm_set1_epi8(lo as i8 - 1)),
                        _mm_cmplt_epi8(x, _mm_set1_epi8(hi as i8 + 1)),
                    )
                };
                // Signed compares: right for ASCII bytes, the only ones that matter here.
                let s = if WORDS {
                    let letter = within(b'a', b'z', _mm_or_si128(v, _mm_set1_epi8(0x20)));
                    !_mm_movemask_epi8(_mm_or_si128(letter, within(b'0', b'9', v)))
                } else {
                    _mm_movemask_epi8(_mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8(b' ' as i8)), within(9, 13, v)))
                };
                (s as u32 & 0xFFFF, _mm_movemask_epi8(v) as u32, _mm_movemask_epi8(within(b'A', b'Z', v)) as u32)
            };
            sep |= (s as u64) << (16 * k);
            high |= (h as u64) << (16 * k);
            upper |= (u as u64) << (16 * k);
        }
        (sep, high, upper)
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        let table = if WORDS { &WORDS_ASCII } else { &WHITESPACE_ASCII };
        let (mut sep, mut high, mut upper) = (0u64, 0u64, 0u64);
        for (k, &c) in block.iter().enumerate() {
            high |= ((c >= 128) as u64) << k;
            sep |= ((c < 128 && !table[c as usize]) as u64) << k;
            upper |= (c.is_ascii_uppercase() as u64) << k;
        }
        (sep, high, upper)
    }
}

/// Sets the separator bits of the non-ASCII bytes (`high`) of the block at
/// `i` in `b`: each character is decoded once and all its bytes get its
/// class. A character that runs on into the next block leaves its class in
/// `carry` for its last bytes there.
#[inline(never)]
fn with_non_ascii(
    b: &[u8],
    i: usize,
    mut sep: u64,
    mut high: u64,
    carry: &mut (u32, bool),
    non_ascii: &impl Fn(char) -> bool,
) -> u64 {
    let class = |sep: u64, bits: u64, separates: bool| if separates { sep | bits } else { sep & !bits };
    if carry.0 > 0 {
        let bits = (1u64 << carry.0) - 1;
        sep = class(sep, bits, carry.1);
        high &= !bits;
        carry.0 = 0;
    }
    while high != 0 {
        let p = high.trailing_zeros();
        let (ch, len) = decode_at(b, i + p as usize);
        let end = p + len as u32;
        let bits = if end >= 64 { !0u64 << p } else { ((1u64 << len) - 1) << p };
        let separates = !non_ascii(ch);
        sep = class(sep, bits, separates);
        high &= !bits;
        if end > 64 {
            *carry = (end - 64, separates);
        }
    }
    sep
}

#[cfg(test)]
mod tests;
