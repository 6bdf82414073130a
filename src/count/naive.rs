//! A deliberately simple reference counter: one character at a time,
//! `str::to_lowercase` per token, a `BTreeMap`. Tests, the fuzz target and
//! the benchmarks check the fast paths against it.

use crate::keys::{Filter, Form, Keys, Within};
use crate::sentences::Splitter;
use crate::tokenize::{Mode, Tokenizer, is_word_char};
use std::collections::BTreeMap;

/// Counts the tokens of `text` under `tokenizer`'s rules ([`tokens`]).
pub fn count(text: &str, tokenizer: &Tokenizer) -> BTreeMap<String, u64> {
    let mut counts = BTreeMap::new();
    for token in tokens(text, tokenizer) {
        *counts.entry(token).or_insert(0) += 1;
    }
    counts
}

/// Counts the keys (filtered tokens, n-grams) of each document of `docs`
/// under `keys`' rules: documents, and lines or sentences under `Within`,
/// split first (sentences by the splitter, on the whole document); tokens by [`count`]'s rules; windows of every size.
pub fn count_keys(docs: &[&str], keys: &Keys) -> BTreeMap<String, u64> {
    let mut counts = BTreeMap::new();
    let line_breaks = ['\n', '\r', '\x0b', '\x0c', '\u{85}', '\u{2028}', '\u{2029}'];
    for doc in docs {
        let mut sentences = Vec::new();
        let parts: Vec<&str> = match keys.grams.within {
            Within::Document => vec![doc],
            Within::Line => doc.split(line_breaks).collect(),
            Within::Sentence => {
                // The whole document in one call: no chunks, no context.
                Splitter::default().segments(doc, true, &mut |s| sentences.push(s.to_string()));
                sentences.iter().map(String::as_str).collect()
            }
        };
        for part in parts {
            let tokens: Vec<String> = tokens(part, &keys.tokenizer)
                .into_iter()
                .map(|t| normalize(t, keys.filter.as_deref()))
                .filter(|t| {
                    let Some(f) = &keys.filter else { return true };
                    let n = t.chars().count();
                    // A token that normalization empties is no token.
                    n > 0
                        && n >= f.min_chars
                        && f.max_chars.is_none_or(|m| n <= m)
                        && !f.stopwords.contains(t.as_bytes())
                })
                .collect();
            for n in keys.grams.min..=keys.grams.max {
                for w in tokens.windows(n) {
                    *counts.entry(w.join(" ")).or_insert(0) += 1;
                }
            }
        }
    }
    counts
}

/// A token under the filter's Unicode options: decompose, drop marks when
/// stripping accents, recompose.
fn normalize(token: String, filter: Option<&Filter>) -> String {
    use unicode_normalization::UnicodeNormalization;
    let Some(f) = filter.filter(|f| f.form.is_some() || f.strip_accents) else { return token };
    let compat = f.form == Some(Form::Nfkc);
    let decomposed: Vec<char> = if compat { token.nfkd().collect() } else { token.nfd().collect() };
    let kept =
        decomposed.into_iter().filter(|c| !(f.strip_accents && unicode_normalization::char::is_combining_mark(*c)));
    if compat { kept.nfkc().collect() } else { kept.nfc().collect() }
}

/// The normalized tokens of `text`, in order.
fn tokens(text: &str, tokenizer: &Tokenizer) -> Vec<String> {
    let lower = |t: String| if tokenizer.keep_case { t } else { t.to_lowercase() };
    if let Mode::Pattern(pattern) = &tokenizer.mode {
        // Each whitespace-separated run lowercased, then every match (or its
        // one group) that is not empty.
        let mut tokens = Vec::new();
        for run in text.split(char::is_whitespace).filter(|r| !r.is_empty()) {
            let run = lower(run.to_string());
            for caps in pattern.regex().captures_iter(&run) {
                let m = if pattern.uses_group() { caps.get(1) } else { caps.get(0) };
                tokens.extend(m.map(|m| m.as_str().to_string()).filter(|t| !t.is_empty()));
            }
        }
        return tokens;
    }
    let in_token = |c: char| match tokenizer.mode {
        Mode::Words => is_word_char(c),
        _ => !c.is_whitespace(),
    };
    let chars: Vec<char> = text.chars().collect();
    let inner = tokenizer.inner_punctuation && tokenizer.mode == Mode::Words;
    let mut tokens = Vec::new();
    let mut token = String::new();
    for (i, &c) in chars.iter().enumerate() {
        let joins = || {
            inner
                && crate::tokenize::is_inner_punctuation(c)
                && i > 0
                && in_token(chars[i - 1])
                && chars.get(i + 1).is_some_and(|&n| in_token(n))
        };
        if in_token(c) || joins() {
            token.push(c);
        } else if !token.is_empty() {
            tokens.push(std::mem::take(&mut token));
        }
    }
    if !token.is_empty() {
        tokens.push(token);
    }
    tokens.into_iter().map(lower).collect()
}

/// Rows in report order: count descending, then word bytes ascending.
pub fn rows(counts: &BTreeMap<String, u64>) -> Vec<(String, u64)> {
    let mut rows: Vec<(String, u64)> = counts.iter().map(|(w, n)| (w.clone(), *n)).collect();
    rows.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.as_bytes().cmp(b.0.as_bytes())));
    rows
}

/// Decodes `bytes` the way `--encoding auto` does, in one go.
pub fn decode_auto(bytes: &[u8]) -> String {
    crate::decode::detect(bytes).decode(bytes).0.into_owned()
}

/// The fuzzing check: the first byte of `data` picks the options (tokenizer,
/// case, encoding, chunk size), the rest is the input. Counts it with the CPU
/// backend and returns an error unless that equals the reference counter on
/// the same bytes decoded in one go.
pub fn check(data: &[u8]) -> Result<(), String> {
    use crate::count::{BackendChoice, BackendConfig};
    use crate::decode::EncodingChoice;
    use crate::pipeline::{self, Options};
    use crate::source::Operand;
    let (&pick, bytes) = data.split_first().unwrap_or((&0, &[]));
    let mode = if pick & 1 == 0 { Mode::Words } else { Mode::Whitespace };
    let keep_case = pick & 2 != 0;
    let labels: [Option<&str>; 4] = [None, Some("utf-8"), Some("windows-1252"), Some("utf-16le")];
    let label = labels[(pick >> 2 & 3) as usize];
    let chunk_bytes = [1 << 20, 1, 7, 64][(pick >> 4 & 3) as usize];
    let tokenizer = Tokenizer { mode, keep_case, ..Tokenizer::default() };
    let (encoding, text) = match label {
        None => (EncodingChoice::Auto, decode_auto(bytes)),
        Some(l) => {
            let enc = encoding_rs::Encoding::for_label(l.as_bytes()).ok_or("label")?;
            (EncodingChoice::Fixed(enc), enc.decode_with_bom_removal(bytes).0.into_owned())
        }
    };
    let backend = BackendConfig { choice: BackendChoice::Cpu, ..BackendConfig::default() };
    let opts =
        Options { tokenizer: tokenizer.clone(), encoding, chunk_bytes, threads: 2, backend, ..Options::default() };
    let input = Operand::Memory { name: "fuzz".into(), bytes: bytes.into() };
    let outcome = pipeline::count(vec![input], &opts).map_err(|e| e.to_string())?;
    let got: Vec<(String, u64)> =
        outcome.table.sorted_rows(None, 1).into_iter().map(|(w, n)| (w.to_string(), n)).collect();
    let expected = rows(&self::count(&text, &tokenizer));
    if got == expected { Ok(()) } else { Err(format!("options {pick:#04x}: got {got:?}, expected {expected:?}")) }
}
