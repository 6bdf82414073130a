//! Streaming reader: bytes in, decoded UTF-8 chunks cut at token boundaries out.

use super::Input;
use super::decode::{EncodingChoice, Utf8Validator, detect, guess};
use crate::tokenize::Tokenizer;
use encoding_rs::{DecoderResult, Encoding};
use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};

/// How much of a non-UTF-8 file chardetng looks at.
const DETECT_LIMIT: usize = 64 << 20;

/// What reading one input found.
#[derive(Debug, Clone)]
pub struct DocInfo {
    /// Raw bytes read.
    pub bytes: u64,
    /// The encoding it was decoded with.
    pub encoding: &'static Encoding,
    /// A problem that did not stop counting (malformed bytes replaced by U+FFFD).
    pub warning: Option<String>,
}

/// Reads inputs into text chunks of about `chunk_bytes`.
#[derive(Debug, Clone)]
pub struct Reader {
    pub encoding: EncodingChoice,
    pub chunk_bytes: usize,
    /// Longest token accepted; a longer one ends the input with an error
    /// (what came before it is counted). Keeps memory and 32-bit lengths bounded.
    pub max_token_bytes: usize,
    /// Decides where a chunk may be cut.
    pub tokenizer: Tokenizer,
}

/// Default [`Reader::max_token_bytes`]: 1 GiB.
pub const MAX_TOKEN_BYTES: usize = 1 << 30;

impl Reader {
    /// Reads `input`, calling `sink` with each chunk and `progress` with raw
    /// bytes as they are read. On error, chunks already passed to `sink`
    /// stay counted; the error says how far reading got.
    pub fn read(&self, input: &Input, sink: &mut dyn FnMut(String), progress: &dyn Fn(u64)) -> Result<DocInfo, String> {
        match input {
            Input::Stdin => self.read_stream(&mut io::stdin().lock(), Whole::Unknown, sink, progress),
            Input::Memory { bytes, .. } => self.read_stream(&mut &bytes[..], Whole::Bytes(bytes), sink, progress),
            Input::Path(p) => {
                let mut f = File::open(p).map_err(|e| e.to_string())?;
                let meta = f.metadata().map_err(|e| e.to_string())?;
                if meta.is_dir() {
                    return Err("is a directory".into());
                }
                if meta.is_file() {
                    let mut seek = f.try_clone().map_err(|e| e.to_string())?;
                    self.read_stream(&mut f, Whole::File(&mut seek), sink, progress)
                } else {
                    // FIFOs, character devices: read once, no second pass.
                    self.read_stream(&mut f, Whole::Unknown, sink, progress)
                }
            }
        }
    }

    /// `whole` gives encoding detection a look at all of the input where it can.
    fn read_stream(
        &self,
        r: &mut dyn Read,
        whole: Whole<'_>,
        sink: &mut dyn FnMut(String),
        progress: &dyn Fn(u64),
    ) -> Result<DocInfo, String> {
        let block = self.chunk_bytes.max(4096);
        let mut buf = Vec::with_capacity(block);
        let mut eof = fill(r, &mut buf, block).map_err(|e| e.to_string())?;
        let encoding = match self.encoding {
            EncodingChoice::Fixed(e) => e,
            EncodingChoice::Auto => match whole {
                Whole::File(f) if !eof => detect_whole(f, &buf).map_err(|e| e.to_string())?,
                Whole::Bytes(b) => detect(b, true),
                _ => detect(&buf, eof),
            },
        };
        let mut decoder = match self.encoding {
            EncodingChoice::Auto => encoding.new_decoder(),
            EncodingChoice::Fixed(_) => encoding.new_decoder_with_bom_removal(),
        };
        let mut chunker = Chunker::new(self, sink);
        let mut offset = 0u64;
        let mut first_bad: Option<u64> = None;
        loop {
            progress(buf.len() as u64);
            let mut pos = 0;
            loop {
                let need =
                    decoder.max_utf8_buffer_length_without_replacement(buf.len() - pos).unwrap_or(buf.len() * 3 + 16);
                chunker.pending.reserve(need);
                let (res, read) = decoder.decode_to_string_without_replacement(&buf[pos..], &mut chunker.pending, eof);
                pos += read;
                match res {
                    DecoderResult::InputEmpty => break,
                    DecoderResult::OutputFull => continue,
                    DecoderResult::Malformed(bad, after) => {
                        let at = offset + pos as u64 - after as u64 - bad as u64;
                        first_bad.get_or_insert(at);
                        chunker.pending.push(char::REPLACEMENT_CHARACTER);
                    }
                }
            }
            offset += buf.len() as u64;
            chunker.flush_full();
            if chunker.pending.len() > self.max_token_bytes.max(self.chunk_bytes) {
                return Err(format!(
                    "more than {} bytes without an ASCII separator before byte {offset} (a token that long is not counted); the input was counted up to it",
                    self.max_token_bytes
                ));
            }
            if eof {
                break;
            }
            buf.clear();
            eof = fill(r, &mut buf, block).map_err(|e| format!("read error after {offset} bytes: {e}"))?;
        }
        chunker.finish();
        let warning = first_bad
            .map(|at| format!("malformed {} at byte {at}; such bytes were counted as U+FFFD", encoding.name()));
        Ok(DocInfo { bytes: offset, encoding, warning })
    }
}

/// What encoding detection may look at beyond the first block.
enum Whole<'a> {
    /// A stream: only the first block.
    Unknown,
    /// A second handle on a regular file, for a validation pass.
    File(&'a mut File),
    /// All the bytes.
    Bytes(&'a [u8]),
}

/// Reads until `buf` holds `want` bytes or the input ends; true at end of input.
fn fill(r: &mut dyn Read, buf: &mut Vec<u8>, want: usize) -> io::Result<bool> {
    while buf.len() < want {
        let n = r.take((want - buf.len()) as u64).read_to_end(buf);
        match n {
            Ok(0) => return Ok(true),
            Ok(_) => {}
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(false)
}

/// Decides the encoding of a file larger than one block: a BOM, else a full
/// UTF-8 validation pass, else chardetng on the first `DETECT_LIMIT` bytes.
/// Leaves the file position where it was.
fn detect_whole(f: &mut File, first: &[u8]) -> io::Result<&'static Encoding> {
    if let Some((enc, _)) = Encoding::for_bom(first) {
        return Ok(enc);
    }
    let resume = f.stream_position()?;
    let mut v = Utf8Validator::default();
    v.feed(first);
    let mut buf = Vec::with_capacity(first.len());
    let mut eof = false;
    while !eof && !v.failed() {
        buf.clear();
        eof = fill(f, &mut buf, first.len())?;
        v.feed(&buf);
    }
    let enc = if v.finish() {
        encoding_rs::UTF_8
    } else {
        f.seek(SeekFrom::Start(0))?;
        let mut sample = Vec::new();
        let complete = fill(f, &mut sample, DETECT_LIMIT)?;
        guess(&sample, complete)
    };
    f.seek(SeekFrom::Start(resume))?;
    Ok(enc)
}

/// Collects decoded text and hands it on in chunks that end at a safe cut.
struct Chunker<'a> {
    tokenizer: Tokenizer,
    chunk_bytes: usize,
    pending: String,
    /// `pending[..scanned]` holds no safe cut (so a huge token is scanned once).
    scanned: usize,
    sink: &'a mut dyn FnMut(String),
}

impl<'a> Chunker<'a> {
    fn new(reader: &Reader, sink: &'a mut dyn FnMut(String)) -> Self {
        Chunker {
            tokenizer: reader.tokenizer,
            chunk_bytes: reader.chunk_bytes,
            pending: String::new(),
            scanned: 0,
            sink,
        }
    }

    fn flush_full(&mut self) {
        if self.pending.len() < self.chunk_bytes {
            return;
        }
        match self.tokenizer.safe_cut(&self.pending.as_bytes()[self.scanned..]) {
            Some(cut) => {
                let cut = self.scanned + cut;
                let rest = self.pending[cut..].to_string();
                self.pending.truncate(cut);
                (self.sink)(std::mem::replace(&mut self.pending, rest));
                self.scanned = 0;
            }
            None => self.scanned = self.pending.len(),
        }
    }

    fn finish(mut self) {
        if !self.pending.is_empty() {
            (self.sink)(std::mem::take(&mut self.pending));
        }
    }
}
