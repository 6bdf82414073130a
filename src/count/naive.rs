//! A deliberately simple reference counter: one character at a time,
//! `str::to_lowercase` per token, a `BTreeMap`. Tests, the fuzz target and
//! the benchmarks check the fast paths against it.

use crate::tokenize::{Mode, Tokenizer, is_word_char};
use std::collections::BTreeMap;

/// Counts the tokens of `text` under `tokenizer`'s rules (its hash is ignored).
pub fn count(text: &str, tokenizer: &Tokenizer) -> BTreeMap<String, u64> {
    let in_token = |c: char| match tokenizer.mode {
        Mode::Words => is_word_char(c),
        Mode::Whitespace => !c.is_whitespace(),
    };
    let mut counts = BTreeMap::new();
    let mut token = String::new();
    for c in text.chars().chain(std::iter::once(' ')) {
        if in_token(c) {
            token.push(c);
        } else if !token.is_empty() {
            let key = if tokenizer.keep_case { token.clone() } else { token.to_lowercase() };
            *counts.entry(key).or_insert(0) += 1;
            token.clear();
        }
    }
    counts
}

/// Rows in report order: count descending, then word bytes ascending.
pub fn rows(counts: &BTreeMap<String, u64>) -> Vec<(String, u64)> {
    let mut rows: Vec<(String, u64)> = counts.iter().map(|(w, n)| (w.clone(), *n)).collect();
    rows.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.as_bytes().cmp(b.0.as_bytes())));
    rows
}

/// Decodes `bytes` the way `--encoding auto` does, in one go.
pub fn decode_auto(bytes: &[u8]) -> String {
    let enc = crate::input::detect(bytes, true);
    enc.decode(bytes).0.into_owned()
}
