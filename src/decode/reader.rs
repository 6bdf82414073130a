//! Streams one document: bytes in, decoded UTF-8 chunks out. Memory stays
//! bounded by the block size, the decision window and the longest token,
//! never by the document.

use super::chunk::{Chunk, Chunker};
use super::{EncodingChoice, WINDOW, decide};
use crate::html::{self, HtmlMode, Select};
use crate::keys::Keys;
use crate::source::{Document, binary_kind};
use crate::tokenize::Tokenizer;
use encoding_rs::{Decoder, DecoderResult, Encoding, UTF_8};
use std::io::{self, Read};

/// How documents are read.
#[derive(Debug, Clone)]
pub struct ReadOptions {
    pub encoding: EncodingChoice,
    /// Target size of a chunk (see [`read_block`] for the reads).
    pub chunk_bytes: usize,
    /// Longest token accepted; a longer one ends its document with an error
    /// (what came before it is counted). Keeps memory and 32-bit lengths bounded.
    pub max_token_bytes: usize,
    /// Decides where a chunk may be cut.
    pub tokenizer: Tokenizer,
    /// Count walked files that look binary instead of skipping them.
    pub binary: bool,
    /// Which documents are read as HTML (their visible text counted).
    pub html: HtmlMode,
    /// Keep only the text of HTML elements matching this selector.
    pub select: Option<Select>,
    /// Hand on each HTML page (of up to [`HTML_IN_WORKERS_BYTES`]) whole,
    /// decoded, for the worker that takes it to parse ([`Chunk::html`]),
    /// instead of parsing it here: parsing is most of an HTML page's time,
    /// and one reader would parse every page.
    pub html_in_workers: bool,
    /// The keys counted, when chunks must carry context for n-grams.
    pub keys: Option<Keys>,
}

/// An HTML page is parsed whole; a larger one is an error.
pub const MAX_HTML_BYTES: usize = 1 << 30;

/// The largest page handed to a worker to parse ([`ReadOptions::html_in_workers`]):
/// pages wait whole in the workers' queue, so a larger one is parsed here.
pub const HTML_IN_WORKERS_BYTES: usize = 4 << 20;

/// What a server said of a document's bytes (nothing, for files), or what
/// the whole file says of a piece of it.
#[derive(Debug, Clone, Copy, Default)]
pub struct Served<'a> {
    pub content_type: Option<&'a str>,
    /// The charset it declared: the encoding unless a byte order mark says otherwise.
    pub charset: Option<&'static Encoding>,
    /// The bytes are a piece of a file ([`crate::share`]).
    pub part: Option<Part>,
}

/// How a piece of a file is read so that the pieces count what the whole
/// file would: in the encoding the whole file gets, never as HTML (only
/// plain text files are cut), with positions in messages counted from the
/// file's start.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Part {
    pub encoding: &'static Encoding,
    /// Where the piece starts in the file.
    pub offset: u64,
}

/// Default [`ReadOptions::max_token_bytes`]: 1 GiB.
pub const MAX_TOKEN_BYTES: usize = 1 << 30;

impl Default for ReadOptions {
    fn default() -> Self {
        ReadOptions {
            encoding: EncodingChoice::Auto,
            // Half of 1 MiB: the workers start sooner and end closer
            // together (les x10 on 2 threads, 21 interleaved runs: median
            // 78 against 83 ms for words, 95 against 100 for whitespace),
            // and a 1 GB count is as fast.
            chunk_bytes: 1 << 19,
            max_token_bytes: MAX_TOKEN_BYTES,
            tokenizer: Tokenizer::default(),
            binary: false,
            html: HtmlMode::default(),
            select: None,
            html_in_workers: false,
            keys: None,
        }
    }
}

/// What reading one document found.
#[derive(Debug, Clone, Default)]
pub struct DocRead {
    /// Raw bytes read (all of them, or up to a read error).
    pub bytes: u64,
    /// The encoding it was decoded with; `None` if nothing was decoded.
    pub encoding: Option<&'static Encoding>,
    /// Skipped as binary, and why (walked files only).
    pub binary: Option<String>,
    /// A problem: it could not be opened (nothing counted), or reading stopped
    /// early or met malformed bytes (what was read is counted).
    pub problem: Option<String>,
    /// The document was opened and its text (or part of it) counted.
    pub counted: bool,
    /// Reading stopped before the end (a read error, a token too long).
    pub stopped: bool,
}

/// The bytes read at a time for chunks of `chunk_bytes` (at least 4 KiB).
/// An undeclared encoding is decided on a window that ends where a block
/// ends.
pub fn read_block(chunk_bytes: usize) -> usize {
    chunk_bytes.max(4096)
}

/// Reads the document `doc` from `reader`, calling `sink` with each chunk (a
/// `false` answer stops reading).
pub fn read_document(
    doc: &Document,
    reader: &mut dyn Read,
    served: &Served<'_>,
    opts: &ReadOptions,
    sink: &mut dyn FnMut(Chunk) -> bool,
) -> DocRead {
    let mut report = DocRead::default();
    let block = read_block(opts.chunk_bytes);
    let mut buf = Block::new(block);
    // An error in the first block still leaves the bytes before it to count.
    let (mut eof, mut failed) = match buf.fill(reader) {
        Ok(eof) => (eof, None),
        Err(e) if buf.bytes().is_empty() => {
            report.problem = Some(e.to_string());
            report.stopped = true;
            return report;
        }
        Err(e) => (true, Some(e)),
    };
    if doc.walked
        && !opts.binary
        && let Some(kind) = binary_kind(buf.bytes())
    {
        report.binary = Some(kind);
        return report;
    }
    report.counted = true;
    let mut chunker = Chunker::new(opts.tokenizer.clone(), opts.chunk_bytes.max(1), doc.id, opts.keys.clone(), sink);
    // The encoding fixed before the bytes are looked at: asked for, or a
    // byte order mark, or the server's charset.
    let declared = match (served.part, opts.encoding) {
        (Some(part), _) => Some(part.encoding),
        (None, EncodingChoice::Fixed(enc)) => Some(enc),
        (None, EncodingChoice::Auto) => Encoding::for_bom(buf.bytes()).map(|(enc, _)| enc).or(served.charset),
    };
    if served.part.is_none() && opts.html.applies(&doc.name, served.content_type, buf.bytes()) {
        let page = read_html(reader, buf.into_vec(), eof, failed, declared, &mut report);
        match page {
            Some(page) if opts.html_in_workers && page.len() <= HTML_IN_WORKERS_BYTES => chunker.emit_html(page),
            Some(page) => {
                chunker.pending.push_str(&html::visible_text(&page, opts.select.as_ref()));
                chunker.flush_full();
                chunker.finish();
            }
            None => chunker.finish(),
        }
        return report;
    }
    let base = served.part.map_or(0, |p| p.offset);
    let mut state = match declared {
        // Bytes after the start of a file that look like a BOM are a character.
        Some(enc) if base > 0 => State::decided(enc, enc.new_decoder_without_bom_handling()),
        Some(enc) => State::decided(enc, enc.new_decoder_with_bom_removal()),
        None => State::Undecided { window: Vec::new(), at: 0 },
    };
    let mut offset = base;
    loop {
        state.feed(buf.bytes(), offset, eof, &mut chunker);
        offset += buf.bytes().len() as u64;
        report.bytes = offset - base;
        chunker.flush_full();
        if chunker.stopped {
            return report;
        }
        if chunker.pending.len() > opts.max_token_bytes.max(opts.chunk_bytes) {
            report.problem = Some(format!(
                "more than {} bytes without a separator before byte {offset} (a token that long is not counted); the input was counted up to it",
                opts.max_token_bytes
            ));
            report.encoding = state.encoding();
            report.stopped = true;
            chunker.abandon();
            return report;
        }
        if eof {
            break;
        }
        match buf.fill(reader) {
            Ok(e) => eof = e,
            Err(e) => (eof, failed) = (true, Some(e)),
        }
    }
    if let Some(e) = failed {
        report.problem = Some(read_error(offset, &e));
        report.stopped = true;
    }
    report.encoding = state.encoding();
    if let State::Decided { first_bad: Some(at), encoding, .. } = &state {
        report
            .problem
            .get_or_insert(format!("malformed {} at byte {at}; such bytes were counted as U+FFFD", encoding.name()));
    }
    chunker.finish();
    report
}

fn read_error(at: u64, e: &io::Error) -> String {
    format!("read error at byte {at}: {e}; the bytes before it were counted")
}

/// Reads an HTML page whole (its first `buf` already read) and decodes it
/// (the `declared` encoding, then `<meta charset>`, then detection); None
/// when it is too large to parse.
fn read_html(
    reader: &mut dyn Read,
    mut buf: Vec<u8>,
    eof: bool,
    mut failed: Option<io::Error>,
    declared: Option<&'static Encoding>,
    report: &mut DocRead,
) -> Option<String> {
    if !eof && let Err(e) = reader.take(MAX_HTML_BYTES as u64 + 1 - buf.len() as u64).read_to_end(&mut buf) {
        failed = Some(e);
    }
    report.bytes = buf.len() as u64;
    if buf.len() > MAX_HTML_BYTES {
        report.problem =
            Some(format!("an HTML page over {MAX_HTML_BYTES} bytes is not parsed; nothing of it was counted"));
        return None;
    }
    let encoding = declared.or_else(|| html::meta_charset(&buf)).unwrap_or_else(|| super::detect(&buf));
    let (text, malformed) = encoding.decode_with_bom_removal(&buf);
    report.encoding = Some(encoding);
    report.problem = match failed {
        Some(e) => Some(read_error(buf.len() as u64, &e)),
        None if malformed => Some(format!("malformed {}; such bytes were counted as U+FFFD", encoding.name())),
        None => None,
    };
    Some(text.into_owned())
}

/// Where the encoding decision stands.
enum State {
    /// Only ASCII so far (passed through), then the start of the window
    /// (from the first non-ASCII byte, at document offset `at`).
    Undecided {
        window: Vec<u8>,
        at: u64,
    },
    Decided {
        encoding: &'static Encoding,
        decoder: Decoder,
        first_bad: Option<u64>,
    },
}

impl State {
    fn decided(encoding: &'static Encoding, decoder: Decoder) -> State {
        State::Decided { encoding, decoder, first_bad: None }
    }

    fn encoding(&self) -> Option<&'static Encoding> {
        match self {
            // Only ASCII (or nothing) was seen: that is UTF-8.
            State::Undecided { .. } => Some(UTF_8),
            State::Decided { encoding, .. } => Some(encoding),
        }
    }

    /// Feeds `bytes` (at document offset `offset`; `last`: nothing follows).
    fn feed(&mut self, bytes: &[u8], offset: u64, last: bool, out: &mut Chunker<'_>) {
        if let State::Undecided { window, at } = self {
            let mut rest = bytes;
            if window.is_empty() {
                let ascii = Encoding::ascii_valid_up_to(bytes);
                // ASCII is valid UTF-8 and decodes the same in every candidate encoding.
                out.pending.push_str(std::str::from_utf8(&bytes[..ascii]).unwrap_or_default());
                rest = &bytes[ascii..];
                *at = offset + ascii as u64;
            }
            window.extend_from_slice(rest);
            if window.len() < WINDOW && !last {
                return;
            }
            if window.is_empty() {
                return;
            }
            let encoding = decide(window, last);
            let (window, at) = (std::mem::take(window), *at);
            *self = State::decided(encoding, encoding.new_decoder_without_bom_handling());
            return self.feed(&window, at, last, out);
        }
        let State::Decided { decoder, first_bad, .. } = self else { unreachable!("decided above") };
        let mut pos = 0;
        loop {
            let need =
                decoder.max_utf8_buffer_length_without_replacement(bytes.len() - pos).unwrap_or(bytes.len() * 3 + 16);
            out.pending.reserve(need);
            let (res, read) = decoder.decode_to_string_without_replacement(&bytes[pos..], &mut out.pending, last);
            pos += read;
            match res {
                DecoderResult::InputEmpty => break,
                DecoderResult::OutputFull => continue,
                DecoderResult::Malformed(bad, after) => {
                    let at = offset + pos as u64 - after as u64 - bad as u64;
                    first_bad.get_or_insert(at);
                    out.pending.push(char::REPLACEMENT_CHARACTER);
                }
            }
        }
    }
}

/// A block of input bytes, refilled in place: its buffer is zeroed once per
/// thread, where `read_to_end` through a reader that cannot read into
/// uninitialized memory (every wrapper here) zeroes each block again.
pub(super) struct Block {
    buf: Vec<u8>,
    filled: usize,
}

thread_local! {
    /// The buffer of this thread's last block, for its next one: a
    /// directory of small files would otherwise zero a whole block per
    /// file (the Latin Library: 2,144 of 512 KiB for 45 KB each).
    static SPARE: std::cell::Cell<Vec<u8>> = const { std::cell::Cell::new(Vec::new()) };
}

impl Block {
    pub(super) fn new(size: usize) -> Self {
        let mut buf = SPARE.take();
        // Shrinking keeps the bytes zeroed or read before; growing zeroes the rest.
        buf.resize(size, 0);
        Block { buf, filled: 0 }
    }

    /// The bytes read by the last [`Block::fill`].
    pub(super) fn bytes(&self) -> &[u8] {
        &self.buf[..self.filled]
    }

    /// Reads anew until the block is full or the input ends; true at end of
    /// input. After an error it holds the bytes read before it.
    pub(super) fn fill(&mut self, r: &mut dyn Read) -> io::Result<bool> {
        self.filled = 0;
        while self.filled < self.buf.len() {
            match r.read(&mut self.buf[self.filled..]) {
                Ok(0) => return Ok(true),
                Ok(n) => self.filled += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        Ok(false)
    }

    pub(super) fn into_vec(mut self) -> Vec<u8> {
        let mut buf = std::mem::take(&mut self.buf);
        buf.truncate(self.filled);
        buf
    }
}

impl Drop for Block {
    fn drop(&mut self) {
        SPARE.set(std::mem::take(&mut self.buf));
    }
}
