//! Decoded text handed on in chunks that end where no token crosses.

use crate::keys::{Keys, Within};
use crate::sentences::Splitter;
use crate::source::DocId;
use crate::tokenize::Tokenizer;

/// A piece of one document's text. A chunk never holds text of two
/// documents, and never ends inside a token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Chunk {
    pub doc: DocId,
    /// 0 for a document's first chunk, then 1, 2, ...
    pub seq: u32,
    pub text: String,
    /// The text just before this chunk that n-grams reaching into it start
    /// with (empty for words, and at a document's start); within sentences,
    /// the unfinished sentence before it.
    pub context: String,
    /// Ends its document. With n-grams within sentences a document always
    /// ends so (with an empty chunk if need be: it ends the context's
    /// sentence); otherwise a document's text may end without it.
    pub last: bool,
    /// `text` is a whole HTML page, decoded, whose visible text
    /// ([`Chunk::visible`]) is counted: the worker that takes it parses it
    /// ([`ReadOptions::html_in_workers`](super::ReadOptions::html_in_workers)).
    pub html: bool,
}

impl Chunk {
    /// The chunk of text counted: an HTML page's visible text (of the
    /// elements `select` matches, if given), else the chunk itself.
    pub fn visible(self, select: Option<&crate::html::Select>) -> Chunk {
        if !self.html {
            return self;
        }
        Chunk { text: crate::html::visible_text(&self.text, select), html: false, ..self }
    }
}

/// Collects one document's decoded text and hands it on in chunks of about
/// `chunk_bytes`, cut just after a separator (ASCII or not).
pub(super) struct Chunker<'a> {
    tokenizer: Tokenizer,
    chunk_bytes: usize,
    doc: DocId,
    seq: u32,
    pub(super) pending: String,
    /// `pending[..scanned]` holds no separator (so a huge token is scanned once).
    scanned: usize,
    sink: &'a mut dyn FnMut(Chunk) -> bool,
    /// The sink asked to stop.
    pub(super) stopped: bool,
    /// Set when chunks carry context for n-grams.
    keys: Option<Keys>,
    /// The context of the next chunk.
    context: String,
}

impl<'a> Chunker<'a> {
    pub(super) fn new(
        tokenizer: Tokenizer,
        chunk_bytes: usize,
        doc: DocId,
        keys: Option<Keys>,
        sink: &'a mut dyn FnMut(Chunk) -> bool,
    ) -> Self {
        let keys = keys.filter(Keys::needs_context);
        let context = String::new();
        Chunker {
            tokenizer,
            chunk_bytes,
            doc,
            seq: 0,
            pending: String::new(),
            scanned: 0,
            sink,
            stopped: false,
            keys,
            context,
        }
    }

    /// Hands on chunks of about `chunk_bytes` while enough text is pending
    /// and it can be cut.
    pub(super) fn flush_full(&mut self) {
        let mut start = 0;
        while self.pending.len() - start >= self.chunk_bytes && !self.stopped {
            let Some(cut) = self.cut(start) else {
                self.scanned = self.pending.len();
                break;
            };
            if self.pending.len() - cut >= self.chunk_bytes {
                let text = self.pending[start..cut].to_string();
                self.emit(text, false);
                start = cut;
            } else {
                // The last cut: hand on the buffer itself and keep the short rest.
                let rest = self.pending[cut..].to_string();
                self.pending.truncate(cut);
                let mut text = std::mem::replace(&mut self.pending, rest);
                text.drain(..start);
                self.emit(text, false);
                self.scanned = 0;
                return;
            }
        }
        self.pending.drain(..start);
        self.scanned = self.scanned.saturating_sub(start);
    }

    /// Where the chunk starting at `start` ends: after the last separator
    /// within `chunk_bytes`, else after the first one beyond.
    fn cut(&self, start: usize) -> Option<usize> {
        let mut end = (start + self.chunk_bytes).min(self.pending.len());
        while !self.pending.is_char_boundary(end) {
            end -= 1;
        }
        let from = self.scanned.max(start);
        if from < end
            && let Some(c) = self.tokenizer.safe_cut(&self.pending[from..end])
        {
            return Some(from + c);
        }
        let from = from.max(end);
        self.tokenizer.first_cut(&self.pending[from..]).map(|c| from + c)
    }

    fn emit(&mut self, text: String, last: bool) {
        let context = std::mem::take(&mut self.context);
        if let Some(keys) = self.keys.as_ref().filter(|_| !last) {
            self.context = next_context(keys, &context, &text);
        }
        if !(self.sink)(Chunk { doc: self.doc, seq: self.seq, text, context, last, html: false }) {
            self.stopped = true;
        }
        self.seq += 1;
    }

    /// Hands on a whole HTML page (decoded) as the document's only chunk,
    /// for a worker to parse. The document ends here, so a sink's answer
    /// to stop is left to the reader's own check between documents.
    pub(super) fn emit_html(self, page: String) {
        debug_assert!(self.seq == 0 && self.pending.is_empty(), "a page is its document's only chunk");
        (self.sink)(Chunk { doc: self.doc, seq: 0, text: page, context: String::new(), last: true, html: true });
    }

    /// Hands on what is left.
    pub(super) fn finish(mut self) {
        // Within sentences, the context's unfinished sentence is counted by
        // the last chunk, even an empty one.
        let within_sentences = self.keys.as_ref().is_some_and(|k| k.grams.within == Within::Sentence);
        if (!self.pending.is_empty() || (within_sentences && !self.context.is_empty())) && !self.stopped {
            let text = std::mem::take(&mut self.pending);
            self.emit(text, true);
        }
    }

    /// Ends the document without the text still pending (a token too long).
    pub(super) fn abandon(mut self) {
        self.pending.clear();
        self.finish();
    }
}

/// The context of the chunk after `text`, whose own context was `before`:
/// the shortest end of `before + text` that holds what n-grams need
/// ([`Keys::context_start`]). Looks at the end of `text` first, in growing
/// windows that start after a separator (so no token is cut).
fn next_context(keys: &Keys, before: &str, text: &str) -> String {
    if keys.grams.within == Within::Sentence {
        let joined = format!("{before}{text}");
        return joined[Splitter::default().unfinished(&joined)..].to_string();
    }
    let mut window = 4096;
    while window < text.len() {
        let mut from = text.len() - window;
        while !text.is_char_boundary(from) {
            from -= 1;
        }
        if let Some(cut) = keys.tokenizer.first_cut(&text[from..])
            && let Some(at) = keys.context_start(&text[from + cut..])
        {
            return text[from + cut + at..].to_string();
        }
        window *= 8;
    }
    if let Some(at) = keys.context_start(text) {
        return text[at..].to_string();
    }
    // `text` holds too few tokens: reach back into the context before it.
    let joined = format!("{before}{text}");
    match keys.context_start(&joined) {
        Some(at) => joined[at..].to_string(),
        None => joined,
    }
}
