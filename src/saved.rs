//! Saved count tables: a run's exact table in a file, so that counts made
//! by separate runs (other days, other machines) add up later without
//! recounting, and so that processes of a cluster can exchange partial
//! tables. One record encoding ([`encode_records`], [`decode_records`])
//! serves both: a file is a header and the records of a whole table; a
//! cluster message is the records of a shard.
//!
//! # Format, version 1
//!
//! Integers are little-endian; `varint` is unsigned LEB128 (7 bits a byte,
//! low bits first, high bit set on every byte but the last; at most 10 bytes).
//!
//! | offset    | bytes | what |
//! |-----------|-------|------|
//! | 0         | 8     | magic: `89 47 43 54 0D 0A 1A 0A` (`\x89GCT\r\n\x1a\n`: binary, and damage by text-mode copies shows) |
//! | 8         | 4     | format version, u32 ([`VERSION`]); a reader refuses versions it does not know |
//! | 12        | 8     | `H`, the header's length, u64 |
//! | 20        | 8     | XXH3-64 (no seed) of the header's bytes, u64 |
//! | 28        | `H`   | header: one UTF-8 JSON object, [`Header`] |
//! | 28 + `H`  | ...   | one zstd frame (with zstd's content checksum) holding the record stream |
//! | end - 16  | 8     | number of records, u64 |
//! | end - 8   | 8     | XXH3-64 (no seed) of the zstd frame's bytes as stored, u64 |
//!
//! The header has a checksum of its own so that a damaged header is
//! reported as damage before its options are compared with other tables'.
//! The frame's checksum catches damage to any stored byte (zstd's own
//! checks the decompressed records), so a damaged file is never read as
//! a good one, even where the damage would not change a count.
//!
//! Nothing follows. The record stream is records back to back, in no
//! particular order, each:
//!
//! | bytes   | what |
//! |---------|------|
//! | 8       | the key's hash, u64 (the header's `keys.hash` of the key bytes) |
//! | varint  | `L`, the key's length in bytes |
//! | `L`     | the key: a token or n-gram (UTF-8), or for per-document tables [`crate::keys::doc_key`]'s `document place (16 hex digits) TAB term` |
//! | varint  | its count, at least 1 |
//!
//! Tables are loaded through [`CountTable::add`], so hash collisions are
//! found again as records arrive and a merged table counts them exactly as
//! one run over all the inputs would have.

use crate::error::{InputError, escape_name};
use crate::hash::KeyHash;
use crate::keys::{DOC_PREFIX, Form, Within, doc_key, split_doc_key};
use crate::pipeline::{Options, Outcome, Stages};
use crate::table::CountTable;
use crate::tokenize::Mode;
use serde::{Deserialize, Serialize};
use std::io::{self, BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;
use xxhash_rust::xxh3::Xxh3Default;

/// The first 8 bytes of a saved table.
pub const MAGIC: [u8; 8] = *b"\x89GCT\r\n\x1a\n";

/// The format version this code writes and reads.
pub const VERSION: u32 = 1;

/// Bytes before the header: magic, version, header length, header checksum.
const PREAMBLE: usize = 28;

/// The trailer: record count and checksum.
const TRAILER: usize = 16;

/// zstd level: fast (tables are written by every run that asks), and still
/// about a third of the plain size on word tables.
const ZSTD_LEVEL: i32 = 1;

/// Decompressed bytes handed to the record decoder at a time.
const BLOCK: usize = 1 << 20;

/// What a saved table cannot be used for, and why: one line naming the file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}: {reason}", escape_name(file.as_bytes()))]
pub struct TableError {
    /// The file as named.
    pub file: String,
    pub reason: String,
}

impl TableError {
    fn new(path: &Path, reason: impl Into<String>) -> TableError {
        TableError { file: path.display().to_string(), reason: reason.into() }
    }
}

impl From<TableError> for crate::Error {
    fn from(e: TableError) -> crate::Error {
        crate::Error::Input(InputError { place: 0, input: e.file, input_bytes: None, reason: e.reason })
    }
}

/// The counting options that decide what a key is. Tables merge only when
/// these are equal: counts of different keys cannot be added.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyOptions {
    /// `words`, `whitespace` or `pattern`.
    pub tokenizer: String,
    /// The regular expression of `pattern`.
    pub token_pattern: Option<String>,
    pub keep_case: bool,
    pub inner_punctuation: bool,
    /// The smallest and largest n-gram.
    pub ngram: [usize; 2],
    /// `document`, `line` or `sentence`.
    pub within: String,
    /// Stopwords as tokens are compared with them (normalized), sorted.
    pub stopwords: Vec<String>,
    /// Shortest and longest token kept, in characters (0 and 1 mean the same, stored as 1).
    pub min_length: usize,
    pub max_length: Option<usize>,
    /// `nfc` or `nfkc`.
    pub normalize: Option<String>,
    pub strip_accents: bool,
    /// Keys are per document ([`crate::keys::doc_key`]).
    pub per_doc: bool,
    /// `xxh3-64`, or `weak-for-testing:BITS` (see [`KeyHash`]).
    pub hash: String,
}

impl KeyOptions {
    /// The key options of a run with `opts`.
    pub fn of(opts: &Options) -> KeyOptions {
        let t = &opts.tokenizer;
        let (tokenizer, token_pattern) = match &t.mode {
            Mode::Words => ("words", None),
            Mode::Whitespace => ("whitespace", None),
            Mode::Pattern(p) => ("pattern", Some(p.as_str().to_string())),
        };
        let f = opts.filter.as_deref().cloned().unwrap_or_default();
        let mut stopwords: Vec<String> = f.stopwords.iter().map(|w| String::from_utf8_lossy(w).into_owned()).collect();
        stopwords.sort_unstable();
        KeyOptions {
            tokenizer: tokenizer.into(),
            token_pattern,
            keep_case: t.keep_case,
            inner_punctuation: t.inner_punctuation,
            ngram: [opts.grams.min, opts.grams.max],
            within: match opts.grams.within {
                Within::Document => "document",
                Within::Line => "line",
                Within::Sentence => "sentence",
            }
            .into(),
            stopwords,
            min_length: f.min_chars.max(1),
            max_length: f.max_chars,
            normalize: f.form.map(|form| if form == Form::Nfc { "nfc" } else { "nfkc" }.into()),
            strip_accents: f.strip_accents,
            per_doc: opts.per_doc,
            hash: match opts.hash {
                KeyHash::Xxh3 => "xxh3-64".into(),
                KeyHash::WeakForTesting { bits } => format!("weak-for-testing:{bits}"),
            },
        }
    }

    /// The hash function that made the keys.
    pub fn key_hash(&self) -> Result<KeyHash, String> {
        if self.hash == "xxh3-64" {
            return Ok(KeyHash::Xxh3);
        }
        self.hash
            .strip_prefix("weak-for-testing:")
            .and_then(|b| b.parse().ok())
            .map(|bits| KeyHash::WeakForTesting { bits })
            .ok_or_else(|| format!("unknown hash function {:?}", self.hash))
    }

    /// The options as command-line flags would show them: (flag, value).
    fn shown(&self) -> Vec<(&'static str, String)> {
        let words = |w: &[String]| match w.len() {
            0 => "none".to_string(),
            n if n <= 3 => w.join(","),
            n => format!("{n} words"),
        };
        let tokenizer = match &self.token_pattern {
            Some(p) => format!("--token-pattern {p:?}"),
            None => self.tokenizer.clone(),
        };
        vec![
            ("--tokenizer", tokenizer),
            ("--keep-case", self.keep_case.to_string()),
            ("--inner-punctuation", self.inner_punctuation.to_string()),
            ("--ngram", format!("{}-{}", self.ngram[0], self.ngram[1])),
            ("--within", self.within.clone()),
            ("--stopwords", words(&self.stopwords)),
            ("--min-length", self.min_length.to_string()),
            ("--max-length", self.max_length.map_or("none".into(), |m| m.to_string())),
            ("--normalize", self.normalize.clone().unwrap_or_else(|| "none".into())),
            ("--strip-accents", self.strip_accents.to_string()),
            ("--per-doc/--doc-freq", self.per_doc.to_string()),
            ("hash", self.hash.clone()),
        ]
    }

    /// The first option that differs: (flag, this value, the other's value).
    pub fn difference(&self, other: &KeyOptions) -> Option<(&'static str, String, String)> {
        if self == other {
            return None;
        }
        let (a, b) = (self.shown(), other.shown());
        let first = a.into_iter().zip(b).find(|(x, y)| x.1 != y.1);
        // Stopword sets of one size that differ show alike: say so.
        Some(
            first.map_or_else(
                || ("--stopwords", "one list".into(), "another".into()),
                |((flag, x), (_, y))| (flag, x, y),
            ),
        )
    }
}

/// A per-input problem of the counting run, kept for the merged summary.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Problem {
    pub place: u64,
    pub input: String,
    pub input_bytes: Option<Vec<u8>>,
    pub reason: String,
}

/// The JSON header: what was counted and how, and the run's totals (the
/// summary a report prints needs them without reading the records).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Header {
    pub keys: KeyOptions,
    pub documents: u64,
    /// Raw bytes of the documents.
    pub bytes: u64,
    /// Sum of all counts.
    pub tokens: u64,
    /// Records (distinct keys).
    pub distinct: u64,
    pub collisions: u64,
    /// One past the highest document place used: a merge places the next
    /// table's documents after it.
    pub places: u64,
    /// Counted documents' places and names (per-document tables).
    pub names: Vec<(u64, String)>,
    pub problems: Vec<Problem>,
    /// Documents not in UTF-8, with their encoding.
    pub encodings: Vec<(String, String)>,
    pub skipped_binary: u64,
    pub skipped_special: u64,
    /// `cpu` or `gpu`, why, and the GPU adapter.
    pub backend: String,
    pub reason: String,
    pub device: Option<String>,
    /// The program that wrote the file (for people).
    pub written_by: String,
}

impl Header {
    /// The header of `outcome`, counted with `keys`.
    pub fn of(outcome: &Outcome, keys: KeyOptions) -> Header {
        let places = outcome.names.iter().map(|n| n.0).chain(outcome.errors.iter().map(|e| e.place)).max();
        Header {
            keys,
            documents: outcome.documents as u64,
            bytes: outcome.bytes,
            tokens: outcome.table.total(),
            distinct: outcome.table.len() as u64,
            collisions: outcome.table.collisions(),
            places: places.map_or(0, |p| p + 1).max(outcome.places),
            names: outcome.names.clone(),
            problems: outcome
                .errors
                .iter()
                .map(|e| Problem {
                    place: e.place,
                    input: e.input.clone(),
                    input_bytes: e.input_bytes.clone(),
                    reason: e.reason.clone(),
                })
                .collect(),
            encodings: outcome.encodings.iter().map(|(n, e)| (n.clone(), e.to_string())).collect(),
            skipped_binary: outcome.skipped_binary as u64,
            skipped_special: outcome.skipped_special as u64,
            backend: outcome.plan.backend().into(),
            reason: outcome.plan.reason().into(),
            device: outcome.device.clone(),
            written_by: format!("gpucount {}", env!("CARGO_PKG_VERSION")),
        }
    }
}

/// Appends one record per `(hash, key, count)` to `out`: a shard of a
/// table, or a whole one.
pub fn encode_records<'a>(records: impl IntoIterator<Item = (u64, &'a [u8], u64)>, out: &mut Vec<u8>) {
    for (hash, key, count) in records {
        encode_record(hash, key, count, out);
    }
}

#[inline]
fn encode_record(hash: u64, key: &[u8], count: u64, out: &mut Vec<u8>) {
    out.extend_from_slice(&hash.to_le_bytes());
    varint(key.len() as u64, out);
    out.extend_from_slice(key);
    varint(count, out);
}

fn varint(mut n: u64, out: &mut Vec<u8>) {
    while n >= 0x80 {
        out.push(n as u8 | 0x80);
        n >>= 7;
    }
    out.push(n as u8);
}

/// Reads a varint at `at`: Ok(None) when `bytes` ends inside it.
fn read_varint(bytes: &[u8], at: &mut usize) -> Result<Option<u64>, String> {
    let mut n = 0u64;
    for i in 0..10 {
        let Some(&b) = bytes.get(*at + i) else { return Ok(None) };
        let bits = (b & 0x7f) as u64;
        if i == 9 && b > 1 {
            return Err("a number longer than 64 bits".into());
        }
        n |= bits << (7 * i);
        if b < 0x80 {
            *at += i + 1;
            return Ok(Some(n));
        }
    }
    Err("a number longer than 64 bits".into())
}

/// Records and counts seen by a decoder.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Decoded {
    pub records: u64,
    /// Sum of their counts.
    pub tokens: u64,
}

/// Adds the records of `bytes` (whole records, as [`encode_records`] wrote
/// them) to `table`. Malformed input is an error, never a panic; `table`
/// then holds the records before the bad one.
pub fn decode_records(bytes: &[u8], table: &mut CountTable) -> Result<Decoded, String> {
    let mut decoded = Decoded::default();
    let used = decode_some(bytes, &mut decoded, &mut |h, k, n| table.add(h, k, n))?;
    if used != bytes.len() {
        return Err(format!("the last record is cut short ({} bytes)", bytes.len() - used));
    }
    Ok(decoded)
}

/// Passes each whole record of `bytes` to `f`; returns the bytes used
/// (a cut record at the end is left for the caller's next block).
fn decode_some(bytes: &[u8], decoded: &mut Decoded, f: &mut dyn FnMut(u64, &[u8], u64)) -> Result<usize, String> {
    let mut at = 0;
    loop {
        let start = at;
        let Some(hash) = bytes.get(at..at + 8) else { return Ok(start) };
        let hash = u64::from_le_bytes(hash.try_into().map_err(|_| "8 bytes")?);
        at += 8;
        let Some(len) = read_varint(bytes, &mut at)? else { return Ok(start) };
        let Some(end) = usize::try_from(len).ok().and_then(|l| at.checked_add(l)) else {
            return Err(format!("a key of {len} bytes"));
        };
        let Some(key) = bytes.get(at..end) else { return Ok(start) };
        at = end;
        let Some(count) = read_varint(bytes, &mut at)? else { return Ok(start) };
        if count == 0 {
            return Err("a record with count 0".into());
        }
        decoded.records += 1;
        decoded.tokens = decoded.tokens.checked_add(count).ok_or("counts add up past 2^64")?;
        f(hash, key, count);
    }
}

/// Writes `table` with `header` in the saved-table format (streamed: the
/// records are compressed as they are encoded).
pub fn write(out: &mut dyn Write, header: &Header, table: &CountTable) -> io::Result<()> {
    let json = serde_json::to_vec(header).map_err(io::Error::other)?;
    out.write_all(&MAGIC)?;
    out.write_all(&VERSION.to_le_bytes())?;
    out.write_all(&(json.len() as u64).to_le_bytes())?;
    out.write_all(&xxhash_rust::xxh3::xxh3_64(&json).to_le_bytes())?;
    out.write_all(&json)?;
    let mut hashed = Hashed { inner: &mut *out, sum: Xxh3Default::new() };
    let mut z = zstd::stream::write::Encoder::new(&mut hashed, ZSTD_LEVEL)?;
    z.include_checksum(true)?;
    let mut buf = Vec::with_capacity(BLOCK + 4096);
    let mut records = 0u64;
    for (hash, key, count) in table.iter_keyed() {
        encode_record(hash, key, count, &mut buf);
        records += 1;
        if buf.len() >= BLOCK {
            z.write_all(&buf)?;
            buf.clear();
        }
    }
    z.write_all(&buf)?;
    z.finish()?;
    let sum = hashed.sum;
    out.write_all(&records.to_le_bytes())?;
    out.write_all(&sum.digest().to_le_bytes())?;
    out.flush()
}

/// A writer or buffered reader that hashes the bytes passing through (for
/// the reader: the bytes consumed, so that what zstd leaves is not hashed).
struct Hashed<T> {
    inner: T,
    sum: Xxh3Default,
}

impl<W: Write> Write for Hashed<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.sum.update(&buf[..n]);
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

impl<R: BufRead> Read for Hashed<R> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        let n = {
            let buf = self.fill_buf()?;
            let n = buf.len().min(out.len());
            out[..n].copy_from_slice(&buf[..n]);
            n
        };
        self.consume(n);
        Ok(n)
    }
}

impl<R: BufRead> BufRead for Hashed<R> {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        self.inner.fill_buf()
    }

    fn consume(&mut self, n: usize) {
        if let Ok(buf) = self.inner.fill_buf() {
            self.sum.update(&buf[..n.min(buf.len())]);
        }
        self.inner.consume(n);
    }
}

/// Writes the table of a run counted with `opts`.
pub fn save(out: &mut dyn Write, outcome: &Outcome, opts: &Options) -> io::Result<()> {
    write(out, &Header::of(outcome, KeyOptions::of(opts)), &outcome.table)
}

/// Opens `path` and reads up to the records: the header, and the reader
/// positioned at the zstd frame.
fn open(path: &Path) -> Result<(BufReader<std::fs::File>, Header), TableError> {
    let err = |r: String| TableError::new(path, r);
    let file = std::fs::File::open(path).map_err(|e| err(format!("cannot open: {e}")))?;
    let size = file.metadata().map(|m| m.len()).unwrap_or(u64::MAX);
    let mut r = BufReader::with_capacity(1 << 16, file);
    let mut pre = [0u8; PREAMBLE];
    let got = read_full(&mut r, &mut pre).map_err(|e| err(format!("cannot read: {e}")))?;
    let head = &pre[..got.min(MAGIC.len())];
    if got == 0 {
        return Err(err("empty file: not a saved gpucount table".into()));
    }
    if !MAGIC.starts_with(head) {
        return Err(err("not a saved gpucount table (wrong magic bytes)".into()));
    }
    if got < PREAMBLE {
        return Err(err("truncated: the file ends inside its preamble".into()));
    }
    let word = |at: usize| u64::from_le_bytes(pre[at..at + 8].try_into().unwrap_or_default());
    let version = u32::from_le_bytes(pre[8..12].try_into().unwrap_or_default());
    if version != VERSION {
        return Err(err(format!(
            "saved table format version {version}; this gpucount reads version {VERSION} (a newer gpucount wrote it?)"
        )));
    }
    let len = word(12);
    if len > size.saturating_sub((PREAMBLE + TRAILER) as u64) {
        return Err(err(format!("truncated or corrupt: a header of {len} bytes does not fit in the file")));
    }
    let mut json = vec![0u8; len as usize];
    let got = read_full(&mut r, &mut json).map_err(|e| err(format!("cannot read: {e}")))?;
    if got < json.len() {
        return Err(err("truncated: the file ends inside its header".into()));
    }
    if xxhash_rust::xxh3::xxh3_64(&json) != word(20) {
        return Err(err("corrupt: header checksum mismatch".into()));
    }
    let header: Header = serde_json::from_slice(&json).map_err(|e| err(format!("corrupt header: {e}")))?;
    header.keys.key_hash().map_err(err)?;
    Ok((r, header))
}

/// Reads until `buf` is full or the input ends; returns the bytes read.
fn read_full(r: &mut impl Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut got = 0;
    while got < buf.len() {
        match r.read(&mut buf[got..]) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(got)
}

/// The header of the saved table at `path` (its records are not read).
pub fn read_header(path: &Path) -> Result<Header, TableError> {
    open(path).map(|(_, h)| h)
}

/// Streams the records of the table at `path` into `f`, then checks the
/// trailer and the header's totals. Returns the header.
pub fn read_records(path: &Path, f: &mut dyn FnMut(u64, &[u8], u64)) -> Result<Header, TableError> {
    let (r, header) = open(path)?;
    records(path, r, header, f)
}

/// The records after `header` in `r` (the file at `path`, opened by
/// [`open`]) into `f`, then the trailer and the header's totals checked.
fn records(
    path: &Path,
    r: BufReader<std::fs::File>,
    header: Header,
    f: &mut dyn FnMut(u64, &[u8], u64),
) -> Result<Header, TableError> {
    let err = |r: String| TableError::new(path, r);
    let r = Hashed { inner: r, sum: Xxh3Default::new() };
    let mut z =
        zstd::stream::read::Decoder::with_buffer(r).map_err(|e| err(format!("cannot read: {e}")))?.single_frame();
    let mut buf = vec![0u8; BLOCK];
    let (mut held, mut decoded) = (0usize, Decoded::default());
    loop {
        if held == buf.len() {
            // A record longer than the buffer: make room for all of it.
            buf.resize(buf.len() * 2, 0);
        }
        let n = match z.read(&mut buf[held..]) {
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(err(format!("truncated or corrupt records ({e})"))),
        };
        if n == 0 {
            break;
        }
        held += n;
        let used = decode_some(&buf[..held], &mut decoded, f).map_err(|e| err(format!("corrupt records: {e}")))?;
        buf.copy_within(used..held, 0);
        held -= used;
    }
    if held > 0 {
        return Err(err(format!("truncated or corrupt: the records end inside one ({held} bytes left)")));
    }
    let Hashed { inner: mut rest, sum } = z.finish();
    let mut trailer = [0u8; TRAILER];
    let got = read_full(&mut rest, &mut trailer).map_err(|e| err(format!("cannot read: {e}")))?;
    if got < TRAILER {
        return Err(err("truncated: the file ends before its checksum".into()));
    }
    if !rest.fill_buf().map_err(|e| err(format!("cannot read: {e}")))?.is_empty() {
        return Err(err("corrupt: bytes after the checksum".into()));
    }
    let word = |i: usize| u64::from_le_bytes(trailer[i..i + 8].try_into().unwrap_or_default());
    if word(8) != sum.digest() {
        return Err(err("corrupt: checksum mismatch".into()));
    }
    if word(0) != decoded.records || decoded.records != header.distinct || decoded.tokens != header.tokens {
        return Err(err(format!(
            "corrupt: {} records of {} tokens, but the file says {} records of {} tokens",
            decoded.records, decoded.tokens, header.distinct, header.tokens
        )));
    }
    Ok(header)
}

/// The saved table at `path`, whole, with its header.
pub fn read(path: &Path) -> Result<(Header, CountTable), TableError> {
    let (r, header) = open(path)?;
    let mut table = CountTable::with_capacity(preallocated(header.distinct));
    let header = records(path, r, header, &mut |h, k, n| table.add(h, k, n))?;
    same_collisions(path, &table, &header)?;
    Ok((header, table))
}

/// A table loaded whole from one file finds the collisions its header counted.
fn same_collisions(path: &Path, table: &CountTable, header: &Header) -> Result<(), TableError> {
    if table.collisions() == header.collisions {
        return Ok(());
    }
    let why = format!("corrupt: {} collisions found, the file says {}", table.collisions(), header.collisions);
    Err(TableError::new(path, why))
}

/// Distinct keys a table is made ready for before loading, from headers:
/// no rehashing while loading, and a damaged or hostile header asks for
/// at most 4M slots (beyond that the table grows as it loads).
fn preallocated(distinct: u64) -> usize {
    distinct.min(1 << 22) as usize
}

/// Saved tables merged: the outcome a count over all their inputs would
/// have had, and the options their keys were made with.
pub struct Merged {
    pub keys: KeyOptions,
    pub outcome: Outcome,
}

/// Merges the saved tables at `paths` (at least one). Every header is read
/// and checked before any records are, so a mismatch costs no loading. A
/// table that cannot be read fails the whole merge: a partial merge passed
/// off as whole would be worse than none.
///
/// Per-document tables hold disjoint document sets by definition: each
/// table's documents are placed after the previous table's (names kept),
/// as one run over the operands of all the runs in order would place them.
pub fn merge(paths: &[PathBuf]) -> Result<Merged, TableError> {
    let started = Instant::now();
    let Some(first_path) = paths.first() else {
        return Err(TableError { file: String::new(), reason: "no saved tables to merge".into() });
    };
    let headers = paths.iter().map(|p| read_header(p)).collect::<Result<Vec<_>, _>>()?;
    let keys = headers[0].keys.clone();
    for (path, h) in paths.iter().zip(&headers).skip(1) {
        if let Some((flag, theirs, ours)) = h.keys.difference(&keys) {
            return Err(TableError::new(
                path,
                format!(
                    "counted with {flag} {theirs}, but {} with {flag} {ours}: tables counted with different options cannot be merged",
                    escape_name(first_path.display().to_string().as_bytes())
                ),
            ));
        }
    }
    let hash = keys.key_hash().map_err(|e| TableError::new(first_path, e))?;
    // The largest table's size at least; as much as all of them when they share no key.
    let mut table = CountTable::with_capacity(preallocated(headers.iter().map(|h| h.distinct).sum()));
    let mut read = Vec::with_capacity(paths.len());
    let mut offset = 0u64;
    let mut rekeyed = Vec::new();
    for path in paths {
        let mut bad_key = false;
        let header = if keys.per_doc && offset > 0 {
            read_records(path, &mut |_, key, n| match rekey(key, offset, hash, &mut rekeyed) {
                Some(h) => table.add(h, &rekeyed, n),
                None => bad_key = true,
            })?
        } else {
            read_records(path, &mut |h, k, n| table.add(h, k, n))?
        };
        if bad_key {
            return Err(TableError::new(path, "corrupt: a per-document key without its document"));
        }
        let places = header.places;
        read.push((header, offset));
        offset += places;
    }
    if paths.len() == 1 {
        same_collisions(first_path, &table, &headers[0])?;
    }
    let names: Vec<String> = paths.iter().map(|p| escape_name(p.display().to_string().as_bytes())).collect();
    let what = format!("merge of {} saved table{}", paths.len(), plural(paths.len()));
    let mixed = "merged from saved tables counted by different backends";
    let mut outcome =
        combined(read, table, &what, mixed, started).ok_or_else(|| TableError::new(first_path, "nothing to merge"))?;
    outcome.notes = vec![format!("tables: {}", names.join(", "))];
    Ok(Merged { keys, outcome })
}

/// Per-document `key` with its document placed `offset` later: the new key
/// in `out`, and its hash. None: the key has no document place.
pub fn rekey(key: &[u8], offset: u64, hash: KeyHash, out: &mut Vec<u8>) -> Option<u64> {
    let place = place_after(key, offset)?;
    doc_key(place, &key[DOC_PREFIX..], out);
    Some(hash.hash(out))
}

/// The outcome of one count over the inputs of several runs, from their
/// headers in input order (each with the place offset its documents were
/// moved by) and their merged `table`. `what` says what was merged; runs
/// counted by different backends are put down as `mixed`. None when there
/// are no parts.
pub fn combined(
    parts: Vec<(Header, u64)>,
    table: CountTable,
    what: &str,
    mixed: &str,
    started: Instant,
) -> Option<Outcome> {
    let first = parts.first()?.0.clone();
    let places = parts.iter().map(|(h, offset)| offset + h.places).max().unwrap_or(0);
    let mut merged = Header { names: Vec::new(), problems: Vec::new(), encodings: Vec::new(), ..first };
    (merged.documents, merged.bytes, merged.skipped_binary, merged.skipped_special) = (0, 0, 0, 0);
    for (header, offset) in parts {
        merged.documents += header.documents;
        merged.bytes += header.bytes;
        merged.skipped_binary += header.skipped_binary;
        merged.skipped_special += header.skipped_special;
        merged.names.extend(header.names.into_iter().map(|(p, n)| (p + offset, n)));
        merged.problems.extend(header.problems.into_iter().map(|p| Problem { place: p.place + offset, ..p }));
        merged.encodings.extend(header.encodings);
        let same_run = (&header.backend, &header.reason, &header.device);
        if same_run != (&merged.backend, &merged.reason, &merged.device) {
            if header.backend != merged.backend {
                merged.backend = "cpu".into();
            }
            merged.reason = mixed.into();
            merged.device = None;
        }
    }
    let plan = match merged.backend.as_str() {
        "gpu" => crate::count::select::Plan::Gpu { adapter: 0, reason: merged.reason.clone() },
        _ => crate::count::select::Plan::Cpu { reason: merged.reason.clone() },
    };
    Some(Outcome {
        table,
        documents: merged.documents as usize,
        bytes: merged.bytes,
        encodings: merged.encodings.iter().map(|(n, e)| (n.clone(), static_encoding(e))).collect(),
        errors: merged
            .problems
            .into_iter()
            .map(|p| InputError { place: p.place, input: p.input, input_bytes: p.input_bytes, reason: p.reason })
            .collect(),
        skipped_binary: merged.skipped_binary as usize,
        skipped_special: merged.skipped_special as usize,
        backend: format!("{what} (counted on {plan})"),
        plan,
        device: merged.device,
        warnings: Vec::new(),
        notes: Vec::new(),
        stages: Stages { read_decode: started.elapsed(), ..Stages::default() },
        workers: Vec::new(),
        threads: 1,
        started,
        per_doc: merged.keys.per_doc,
        names: merged.names,
        places,
    })
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

/// The document place of per-document `key`, plus `offset`.
fn place_after(key: &[u8], offset: u64) -> Option<u64> {
    let head = std::str::from_utf8(key.get(..DOC_PREFIX)?).ok()?;
    split_doc_key(head).and_then(|(place, _)| place.checked_add(offset))
}

/// An encoding's name as the pipeline holds it (encoding_rs's static names).
fn static_encoding(name: &str) -> &'static str {
    encoding_rs::Encoding::for_label(name.as_bytes()).map_or("unknown", |e| e.name())
}

/// A per-document table as corpus counts: each term's counts summed over
/// documents, keyed by `hash` of the term, as a count without `per_doc`
/// would have keyed it (collisions found again among terms).
pub fn corpus_table(table: &CountTable, hash: KeyHash) -> CountTable {
    let mut out = CountTable::new();
    for (_, key, n) in table.iter_keyed() {
        let term = key.get(DOC_PREFIX..).unwrap_or(key);
        out.add(hash.hash(term), term, n);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_round_trip_and_malformed_input_is_an_error() {
        let mut bytes = Vec::new();
        let long = vec![b'x'; 300];
        encode_records([(1, &b"a"[..], 1), (1, &b"b"[..], 1 << 40), (7, &long[..], 130)], &mut bytes);
        // 8 + 1 + 1 + 1, 8 + 1 + 1 + 6, 8 + 2 + 300 + 2
        assert_eq!(bytes.len(), 11 + 16 + 312);
        let mut t = CountTable::new();
        let d = decode_records(&bytes, &mut t).unwrap();
        assert_eq!(d, Decoded { records: 3, tokens: (1 << 40) + 131 });
        assert_eq!((t.get(1, b"a"), t.get(1, b"b"), t.get(7, &long), t.collisions()), (1, 1 << 40, 130, 1));
        for cut in [1, 8, 9, 10, bytes.len() - 1] {
            let mut t = CountTable::new();
            assert!(decode_records(&bytes[..cut], &mut t).is_err(), "cut at {cut}");
        }
        let mut zero = Vec::new();
        encode_records([(1, &b"a"[..], 0)], &mut zero);
        assert_eq!(decode_records(&zero, &mut CountTable::new()).unwrap_err(), "a record with count 0");
        let mut over = Vec::new();
        encode_records([(1, &b"a"[..], u64::MAX), (2, &b"b"[..], 1)], &mut over);
        assert_eq!(decode_records(&over, &mut CountTable::new()).unwrap_err(), "counts add up past 2^64");
        let mut huge = 5u64.to_le_bytes().to_vec();
        huge.extend([0xff; 11]);
        assert!(decode_records(&huge, &mut CountTable::new()).unwrap_err().contains("64 bits"));
    }

    #[test]
    fn varints_by_hand() {
        for (n, want) in [(0u64, &[0u8][..]), (127, &[0x7f]), (128, &[0x80, 1]), (300, &[0xac, 0x02])] {
            let mut out = Vec::new();
            varint(n, &mut out);
            assert_eq!(out, want);
            let mut at = 0;
            assert_eq!(read_varint(&out, &mut at), Ok(Some(n)));
        }
        let mut out = Vec::new();
        varint(u64::MAX, &mut out);
        assert_eq!(out.len(), 10);
        assert_eq!(read_varint(&out, &mut 0), Ok(Some(u64::MAX)));
    }

    #[test]
    fn a_shard_decodes_into_a_table_that_merges_exactly() {
        let hash = KeyHash::WeakForTesting { bits: 2 };
        let mut whole = CountTable::new();
        for w in ["ab", "ba", "c", "ab", "dd", "ee", "c"] {
            whole.add(hash.hash(w.as_bytes()), w.as_bytes(), 1);
        }
        let (mut even, mut odd) = (Vec::new(), Vec::new());
        for (i, r) in whole.iter_keyed().enumerate() {
            encode_records([r], if i % 2 == 0 { &mut even } else { &mut odd });
        }
        let mut back = CountTable::new();
        decode_records(&odd, &mut back).unwrap();
        decode_records(&even, &mut back).unwrap();
        let sorted =
            |t: &CountTable| t.sorted_rows(None, 1).into_iter().map(|(w, n)| (w.to_string(), n)).collect::<Vec<_>>();
        assert_eq!(sorted(&back), sorted(&whole));
        assert_eq!((back.total(), back.collisions()), (whole.total(), whole.collisions()));
        assert!(whole.collisions() > 0);
    }
}
