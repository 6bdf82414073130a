//! Decoded text handed on in chunks that end where no token crosses.

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
}

impl<'a> Chunker<'a> {
    pub(super) fn new(
        tokenizer: Tokenizer,
        chunk_bytes: usize,
        doc: DocId,
        sink: &'a mut dyn FnMut(Chunk) -> bool,
    ) -> Self {
        Chunker { tokenizer, chunk_bytes, doc, seq: 0, pending: String::new(), scanned: 0, sink, stopped: false }
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
                self.emit(text);
                start = cut;
            } else {
                // The last cut: hand on the buffer itself and keep the short rest.
                let rest = self.pending[cut..].to_string();
                self.pending.truncate(cut);
                let mut text = std::mem::replace(&mut self.pending, rest);
                text.drain(..start);
                self.emit(text);
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

    fn emit(&mut self, text: String) {
        if !(self.sink)(Chunk { doc: self.doc, seq: self.seq, text }) {
            self.stopped = true;
        }
        self.seq += 1;
    }

    /// Hands on what is left.
    pub(super) fn finish(mut self) {
        if !self.pending.is_empty() && !self.stopped {
            let text = std::mem::take(&mut self.pending);
            self.emit(text);
        }
    }
}
