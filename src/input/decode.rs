//! Choosing the encoding of an input.

use encoding_rs::{Encoding, UTF_8};

/// How to pick an input's encoding.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum EncodingChoice {
    /// A BOM decides; else valid UTF-8 is UTF-8; else chardetng guesses
    /// (windows-1252 when nothing stands out).
    #[default]
    Auto,
    /// Always this encoding (a BOM of the same encoding is removed).
    Fixed(&'static Encoding),
}

impl EncodingChoice {
    /// Parses `auto` or a WHATWG encoding label.
    pub fn parse(label: &str) -> Result<Self, String> {
        if label.eq_ignore_ascii_case("auto") {
            return Ok(EncodingChoice::Auto);
        }
        Encoding::for_label(label.as_bytes()).map(EncodingChoice::Fixed).ok_or_else(|| {
            format!(
                "unknown encoding label '{label}' (use auto or a WHATWG label such as utf-8, windows-1252, utf-16le)"
            )
        })
    }
}

/// What `bytes` (an input's first bytes; `complete` when that is all of it) are encoded in.
pub fn detect(bytes: &[u8], complete: bool) -> &'static Encoding {
    if let Some((enc, _)) = Encoding::for_bom(bytes) {
        return enc;
    }
    match std::str::from_utf8(bytes) {
        Ok(_) => UTF_8,
        // A prefix may end inside a character.
        Err(e) if !complete && e.error_len().is_none() => UTF_8,
        Err(_) => guess(bytes, complete),
    }
}

/// chardetng's guess for text that is not valid UTF-8.
pub(crate) fn guess(bytes: &[u8], complete: bool) -> &'static Encoding {
    let mut det = chardetng::EncodingDetector::new(chardetng::Iso2022JpDetection::Deny);
    det.feed(bytes, complete);
    det.guess(None, chardetng::Utf8Detection::Deny)
}

/// Checks that a stream is valid UTF-8, block by block.
#[derive(Default)]
pub(crate) struct Utf8Validator {
    carry: Vec<u8>,
    invalid: bool,
}

impl Utf8Validator {
    pub(crate) fn feed(&mut self, block: &[u8]) {
        if self.invalid {
            return;
        }
        let mut joined;
        let data = if self.carry.is_empty() {
            block
        } else {
            joined = std::mem::take(&mut self.carry);
            joined.extend_from_slice(block);
            &joined[..]
        };
        match std::str::from_utf8(data) {
            Ok(_) => self.carry.clear(),
            Err(e) if e.error_len().is_none() => self.carry = data[e.valid_up_to()..].to_vec(),
            Err(_) => self.invalid = true,
        }
    }

    /// Whether everything fed was UTF-8.
    pub(crate) fn finish(&self) -> bool {
        !self.invalid && self.carry.is_empty()
    }

    pub(crate) fn failed(&self) -> bool {
        self.invalid
    }
}
