//! Keys: the one stage between the tokenizer and the counters. It keeps the
//! tokens the [`Filter`] lets through (stopwords, lengths), forms the
//! n-grams [`Grams`] asks for (tokens joined by one space), and hands each
//! key with its 64-bit hash to a [`KeySink`]: the CPU's exact [`CountTable`]
//! or the GPU's [`TokenBatch`]. Both backends count exactly these keys.
//!
//! Stopwords are removed before n-grams are formed, as scikit-learn's
//! `CountVectorizer` does: the words on either side of a removed stopword
//! become adjacent. A chunk carries the text before it that holds the last
//! tokens an n-gram may need ([`Keys::context_start`]), so no n-gram is lost
//! or invented at a chunk edge.

mod batch;

pub use batch::{TokenBatch, TokenRecord};

use crate::decode::Chunk;
use crate::hash::KeyHash;
use crate::sentences::Splitter;
use crate::table::CountTable;
use crate::tokenize::{Token, Tokenizer};
use std::collections::{HashSet, VecDeque};
use std::sync::Arc;

/// Where keys go.
pub trait KeySink {
    /// One occurrence of the key with bytes `key` and hash `hash`.
    fn key(&mut self, hash: u64, key: &[u8]);

    /// One occurrence of `key`, whose hash `hash` gives: a sink that can
    /// count some keys by their bytes alone hashes them later, once each.
    #[inline(always)]
    fn token(&mut self, hash: KeyHash, key: &[u8]) {
        self.key(hash.hash(key), key);
    }

    /// [`KeySink::token`] of a token of 1 to 8 bytes given as a
    /// little-endian word (zero beyond its `len` bytes).
    #[inline(always)]
    fn short_token(&mut self, hash: KeyHash, word: u64, len: usize) {
        let bytes = word.to_le_bytes();
        self.token(hash, &bytes[..len]);
    }
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

/// The longest n-gram.
pub const MAX_N: usize = 5;

/// Which n-grams are counted: every size from `min` to `max`, never across
/// two documents, nor across lines with [`Within::Line`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Grams {
    pub min: usize,
    pub max: usize,
    pub within: Within,
}

impl Default for Grams {
    fn default() -> Self {
        Grams { min: 1, max: 1, within: Within::Document }
    }
}

impl Grams {
    /// Parses `N` or `N-M` (1 to [`MAX_N`]).
    pub fn parse(spec: &str) -> Result<(usize, usize), String> {
        let n = |s: &str| s.trim().parse::<usize>().ok().filter(|n| (1..=MAX_N).contains(n));
        let range = match spec.split_once('-') {
            Some((a, b)) => n(a).zip(n(b)).filter(|(a, b)| a <= b),
            None => n(spec).map(|n| (n, n)),
        };
        range.ok_or_else(|| format!("expected N or N-M with 1 <= N <= M <= {MAX_N}, such as 2 or 1-3"))
    }

    fn words_only(&self) -> bool {
        self.max == 1
    }
}

/// What an n-gram may not cross (documents are never crossed).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Within {
    #[default]
    Document,
    /// A line break (LF, CR, VT, FF, NEL, U+2028, U+2029) between two tokens
    /// ends the n-grams before it.
    Line,
    /// Sentences as the `sentences` command cuts them
    /// ([`crate::sentences::Splitter`] with default options: Unicode
    /// sentence boundaries, blank lines, abbreviations).
    Sentence,
}

/// A Unicode normalization form applied to tokens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Form {
    Nfc,
    Nfkc,
}

/// Stopwords as a set that every token is looked up in: foldhash, whose
/// lookups of short words cost a fraction of the standard library's SipHash
/// (no defence against chosen collisions is needed: the set is fixed
/// before the text is read).
pub type Stopwords = HashSet<Vec<u8>, foldhash::fast::FixedState>;

/// Which tokens become keys, and how they are normalized first.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filter {
    /// Tokens left out, normalized as tokens are (see [`Filter::normalized`]).
    pub stopwords: Stopwords,
    /// Shortest and longest token kept, in characters.
    pub min_chars: usize,
    pub max_chars: Option<usize>,
    /// Compose tokens (`école` typed decomposed counts as `école`); NFKC
    /// also folds compatibility forms (`ﬁ` to `fi`, full-width letters).
    pub form: Option<Form>,
    /// Remove accents: decompose, drop nonspacing marks, recompose (as
    /// scikit-learn's `strip_accents="unicode"`).
    pub strip_accents: bool,
}

impl Filter {
    /// A filter with these stopwords, each lowercased as a whole unless the
    /// tokenizer keeps case (as tokens are; a stopword is never split, so
    /// `don't` cannot turn into the stopwords `don` and `t`).
    pub fn with_stopwords(tokenizer: &Tokenizer, words: &[String]) -> Filter {
        let normal = |w: &String| if tokenizer.keep_case { w.clone() } else { w.to_lowercase() };
        Filter { stopwords: words.iter().map(|w| normal(w).into_bytes()).collect(), ..Filter::default() }
    }

    /// The filter the command line and the Python package build from their
    /// options: stopword lists or files (`stopwords::load`'s `spec`),
    /// lengths in characters, a normalization form, accents stripped. None
    /// when it would keep every token as it is.
    pub fn from_options(
        tokenizer: &Tokenizer,
        stopwords: Option<&str>,
        min_chars: Option<usize>,
        max_chars: Option<usize>,
        form: Option<Form>,
        strip_accents: bool,
    ) -> Result<Option<Filter>, String> {
        if stopwords.is_none() && min_chars.is_none() && max_chars.is_none() && form.is_none() && !strip_accents {
            return Ok(None);
        }
        let words = stopwords.map(crate::stopwords::load).transpose()?.unwrap_or_default();
        let mut filter = Filter::with_stopwords(tokenizer, &words);
        filter.min_chars = min_chars.unwrap_or(0);
        filter.max_chars = max_chars;
        filter.form = form;
        filter.strip_accents = strip_accents;
        filter.normalize_stopwords();
        Ok(Some(filter))
    }

    /// Applies the normalization options to `words` in the stopword set
    /// (call after setting them).
    pub fn normalize_stopwords(&mut self) {
        let words = std::mem::take(&mut self.stopwords);
        let mut out = String::new();
        for w in words {
            let w = String::from_utf8_lossy(&w);
            self.stopwords.insert(self.normalized(&w, &mut out).as_bytes().to_vec());
        }
    }

    fn changes_text(&self) -> bool {
        self.form.is_some() || self.strip_accents
    }

    /// `token` under the normalization options (itself, or written to `out`).
    pub fn normalized<'a>(&self, token: &'a str, out: &'a mut String) -> &'a str {
        use unicode_normalization::UnicodeNormalization;
        use unicode_normalization::char::is_combining_mark;
        if !self.changes_text() || token.is_ascii() {
            return token;
        }
        out.clear();
        let compat = self.form == Some(Form::Nfkc);
        if self.strip_accents {
            let bare: String = if compat { token.nfkd().collect() } else { token.nfd().collect() };
            let bare = bare.chars().filter(|&c| !is_combining_mark(c));
            if compat { out.extend(bare.nfkc()) } else { out.extend(bare.nfc()) }
        } else if compat {
            out.extend(token.nfkc());
        } else {
            out.extend(token.nfc());
        }
        out
    }

    /// A token's bytes under the normalization options: itself unless
    /// they change it (only tokens past ASCII can change), else written to `out`.
    #[inline]
    fn normalized_token<'a>(&self, token: &'a [u8], out: &'a mut String) -> &'a [u8] {
        if !self.changes_text() || token.is_ascii() {
            return token;
        }
        // Tokens are UTF-8 (lowercased from a &str).
        self.normalized(std::str::from_utf8(token).unwrap_or_default(), out).as_bytes()
    }

    #[inline]
    fn keeps(&self, token: &[u8]) -> bool {
        // Stripping accents empties a token of combining marks alone: no word.
        if token.is_empty() {
            return false;
        }
        if self.min_chars > 1 || self.max_chars.is_some() {
            // Tokens are UTF-8: count the bytes that start a character.
            let chars = token.iter().filter(|&&b| (b as i8) >= -0x40).count();
            if chars < self.min_chars || self.max_chars.is_some_and(|m| chars > m) {
                return false;
            }
        }
        !self.stopwords.contains(token)
    }
}

/// Text to keys: the tokenizer, the filter, the n-grams and the key function.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Keys {
    pub tokenizer: Tokenizer,
    pub hash: KeyHash,
    pub grams: Grams,
    pub filter: Option<Arc<Filter>>,
    /// Key each term by its document too ([`doc_key`]): per-document counts
    /// and document frequencies come from one table.
    pub per_doc: bool,
}

/// Bytes before the term in a per-document key: the document's place in 16
/// hex digits and a tab (no token holds a tab), so keys sort by document.
pub const DOC_PREFIX: usize = 17;

/// The per-document key of `term` in document `doc`.
pub fn doc_key(doc: u64, term: &[u8], out: &mut Vec<u8>) {
    out.clear();
    push_doc_prefix(doc, out);
    out.extend_from_slice(term);
}

/// Appends [`doc_key`]'s prefix: `doc` as 16 lowercase hex digits, and a
/// tab (as `{doc:016x}\t` writes it, without a formatter per token).
fn push_doc_prefix(doc: u64, out: &mut Vec<u8>) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    out.extend((0..16).rev().map(|i| HEX[(doc >> (4 * i)) as usize & 15]));
    out.push(b'\t');
}

/// A per-document key's document and term.
pub fn split_doc_key(key: &str) -> Option<(u64, &str)> {
    let (doc, term) = key.split_at_checked(DOC_PREFIX)?;
    Some((u64::from_str_radix(doc.strip_suffix('\t')?, 16).ok()?, term))
}

impl Keys {
    /// Words as the tokenizer makes them, no filter, no n-grams.
    pub fn words(tokenizer: Tokenizer, hash: KeyHash) -> Keys {
        Keys { tokenizer, hash, ..Keys::default() }
    }

    /// Whether a chunk needs the text before it ([`Keys::context_start`]).
    pub fn needs_context(&self) -> bool {
        !self.grams.words_only()
    }

    /// Sends every key of `chunk` to `sink`. Its `context` holds the tokens
    /// n-grams reaching into its text start with (empty at a document's
    /// start); their own keys are not sent. `scratch` is reused between
    /// calls to hold lowercased tokens.
    pub fn feed<S: KeySink + ?Sized>(&self, chunk: &Chunk, scratch: &mut Vec<u8>, sink: &mut S) {
        if self.grams.within == Within::Sentence && self.needs_context() {
            // The context is the unfinished sentence before the text
            // (next_context); sentences left unfinished here go on in the next chunk.
            let joined;
            let text = if chunk.context.is_empty() {
                &chunk.text
            } else {
                joined = format!("{}{}", chunk.context, chunk.text);
                &joined
            };
            Splitter::default()
                .segments(text, chunk.last, &mut |sentence| self.feed_text(sentence, "", chunk.doc, scratch, sink));
            return;
        }
        self.feed_text(&chunk.text, &chunk.context, chunk.doc, scratch, sink)
    }

    /// [`Keys::feed`] on text with its context (documents and lines).
    fn feed_text<S: KeySink + ?Sized>(&self, text: &str, context: &str, doc: u64, scratch: &mut Vec<u8>, sink: &mut S) {
        if self.per_doc {
            let (hash, mut key) = (self.hash, Vec::with_capacity(DOC_PREFIX + 32));
            push_doc_prefix(doc, &mut key);
            return self.feed_filtered(text, context, scratch, &mut |_, term| {
                key.truncate(DOC_PREFIX);
                key.extend_from_slice(term);
                sink.key(hash.hash(&key), &key)
            });
        }
        if !self.grams.words_only() {
            return self.feed_filtered(text, context, scratch, &mut |hash, key| sink.key(hash, key));
        }
        match &self.filter {
            None => self.feed_words(text, scratch, sink),
            Some(filter) => self.feed_kept_words(text, filter, scratch, sink),
        }
    }

    /// Every token a key, the hot path. A function of its own, not inlined:
    /// inside a larger one (the worker loop, or beside the n-gram path) the
    /// scanner loses registers and the table's lookup its inlining (6-8% slower).
    #[inline(never)]
    fn feed_words<S: KeySink + ?Sized>(&self, text: &str, scratch: &mut Vec<u8>, sink: &mut S) {
        let hash = self.hash;
        self.tokenizer.for_each_token_word(text, scratch, |token| match token {
            Token::Word(word, len) => sink.short_token(hash, word, len),
            Token::Bytes(key) => bytes_token(sink, hash, key),
        });
    }

    /// [`Keys::feed_words`] with a filter: as fast, less the tokens left
    /// out (only tokens past ASCII are normalized).
    #[inline(never)]
    fn feed_kept_words<S: KeySink + ?Sized>(&self, text: &str, filter: &Filter, scratch: &mut Vec<u8>, sink: &mut S) {
        let hash = self.hash;
        let mut composed = String::new();
        self.tokenizer.for_each_token(text, scratch, |key| {
            let key = filter.normalized_token(key, &mut composed);
            if filter.keeps(key) {
                sink.token(hash, key)
            }
        });
    }

    /// [`Keys::feed`] with n-grams, or per document.
    #[inline(never)]
    fn feed_filtered(&self, text: &str, context: &str, scratch: &mut Vec<u8>, sink: &mut dyn FnMut(u64, &[u8])) {
        let mut grams = Window::new(self.grams);
        let end = self.kept_tokens(context, scratch, &mut |_, token, broken| grams.push(token, broken, None));
        grams.break_pending = self.grams.within == Within::Line && has_line_break(&context[end..]);
        let hash = self.hash;
        self.kept_tokens(text, scratch, &mut |_, token, broken| {
            grams.push(token, broken, Some(&mut |key: &[u8]| sink(hash.hash(key), key)))
        });
    }

    /// Calls `f(start, token, line_break_before)` for every kept token of
    /// `text`, with its byte offset; `line_break_before` says whether a line
    /// break lies between it and the token before it in `text`. Returns where
    /// the last token (kept or not) ended.
    fn kept_tokens(&self, text: &str, scratch: &mut Vec<u8>, f: &mut dyn FnMut(usize, &[u8], bool)) -> usize {
        let line = self.grams.within == Within::Line;
        let mut last_end = 0;
        let mut composed = String::new();
        self.tokenizer.for_each_spanned(text, scratch, &mut |start, end, token| {
            let broken = line && has_line_break(&text[last_end..start]);
            last_end = end;
            let token = match &self.filter {
                Some(fl) => fl.normalized_token(token, &mut composed),
                None => token,
            };
            if self.filter.as_ref().is_none_or(|fl| fl.keeps(token)) {
                f(start, token, broken);
            } else if broken {
                // A dropped token still sits after the break.
                f(start, &[], true);
            }
        });
        last_end
    }

    /// Where in `text` the context for the text after it starts: at the
    /// first of the last `max - 1` kept tokens (so n-grams that end after
    /// `text` can be formed); None when `text` holds fewer of them.
    pub fn context_start(&self, text: &str) -> Option<usize> {
        let need = self.grams.max - 1;
        if need == 0 {
            return Some(text.len());
        }
        let mut starts = VecDeque::with_capacity(need + 1);
        let mut scratch = Vec::new();
        let mut last_break = None;
        let end = self.kept_tokens(text, &mut scratch, &mut |start, token, broken| {
            if broken {
                // No n-gram reaches back over a line break.
                starts.clear();
                last_break = Some(start);
            }
            if !token.is_empty() {
                starts.push_back(start);
                if starts.len() > need {
                    starts.pop_front();
                }
            }
        });
        if self.grams.within == Within::Line && has_line_break(&text[end..]) {
            return Some(end);
        }
        if starts.len() == need {
            return Some(starts[0]);
        }
        // Fewer tokens after the last line break: they are all the context,
        // and the break goes with them (it sits in the gap before `start`,
        // so start the context at the gap).
        last_break.map(|start| text[..start].rfind(LINE_BREAKS).unwrap_or(start))
    }

    /// The keys of `text`, a whole document, as a batch (for tests and benchmarks).
    pub fn batch(&self, text: &str) -> TokenBatch {
        let mut batch = TokenBatch::new();
        let chunk = Chunk { doc: 0, seq: 0, text: text.to_string(), context: String::new(), last: true, html: false };
        self.feed(&chunk, &mut Vec::new(), &mut batch);
        batch
    }
}

/// What ends a line for [`Within::Line`].
const LINE_BREAKS: [char; 7] = ['\n', '\r', '\x0b', '\x0c', '\u{85}', '\u{2028}', '\u{2029}'];

fn has_line_break(gap: &str) -> bool {
    gap.contains(LINE_BREAKS)
}

/// Where a [`Window`] sends the keys it forms.
type Emit<'a> = &'a mut dyn FnMut(&[u8]);

/// The last `max - 1` kept tokens, and the n-grams ending at each new one.
struct Window {
    grams: Grams,
    /// Most recent last; at most `max - 1`.
    recent: VecDeque<Vec<u8>>,
    spare: Vec<Vec<u8>>,
    joined: Vec<u8>,
    break_pending: bool,
}

impl Window {
    fn new(grams: Grams) -> Window {
        Window {
            grams,
            recent: VecDeque::with_capacity(grams.max),
            spare: Vec::new(),
            joined: Vec::new(),
            break_pending: false,
        }
    }

    /// Adds a token (empty: only a line break to note), emitting the n-grams
    /// that end with it when `emit` is given.
    fn push(&mut self, token: &[u8], broken: bool, emit: Option<Emit<'_>>) {
        if broken || self.break_pending {
            self.break_pending = false;
            self.spare.extend(self.recent.drain(..));
        }
        if token.is_empty() {
            return;
        }
        if let Some(emit) = emit {
            for n in self.grams.min..=self.grams.max {
                if n == 1 {
                    emit(token);
                } else if n - 1 <= self.recent.len() {
                    self.joined.clear();
                    for t in self.recent.range(self.recent.len() + 1 - n..) {
                        self.joined.extend_from_slice(t);
                        self.joined.push(b' ');
                    }
                    self.joined.extend_from_slice(token);
                    emit(&self.joined);
                }
            }
        }
        if self.grams.max > 1 {
            let mut slot = self.spare.pop().unwrap_or_default();
            slot.clear();
            slot.extend_from_slice(token);
            self.recent.push_back(slot);
            if self.recent.len() > self.grams.max - 1
                && let Some(old) = self.recent.pop_front()
            {
                self.spare.push(old);
            }
        }
    }
}

/// A token of [`Keys::feed_words`] given as bytes (long, or not ASCII), out
/// of line: the word path alone is then small enough to be inlined into the
/// tokenizer's loop (les x10 whitespace, one thread, 21 pinned runs: min
/// 114 against 125 ms inline).
#[inline(never)]
fn bytes_token<S: KeySink + ?Sized>(sink: &mut S, hash: KeyHash, key: &[u8]) {
    sink.token(hash, key)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn document_keys_are_the_place_in_16_hex_digits_and_a_tab() {
        let mut key = b"left over".to_vec();
        for doc in [0, 1, 0xa, 0x1234_5678_9abc_def0, u64::MAX] {
            doc_key(doc, "été".as_bytes(), &mut key);
            assert_eq!(key, format!("{doc:016x}\tété").into_bytes());
            assert_eq!(key.len(), DOC_PREFIX + "été".len());
            assert_eq!(split_doc_key(std::str::from_utf8(&key).unwrap()), Some((doc, "été")));
        }
    }
}
