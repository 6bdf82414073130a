//! One run's inputs shared among cooperating processes (ranks) by size, so
//! that a skewed corpus still balances: every rank lists the same inputs
//! the same way ([`Manifest`]), lays them end to end by size, and counts
//! the documents whose middle falls in its own slice of that line. A large
//! plain text file is cut into byte ranges instead ([`Piece`]s), at line
//! ends, so no token is cut. Archive members and downloads stay whole
//! documents of the rank that owns their archive or URL.
//!
//! Each rank then counts its [`Share`] with the ordinary pipeline. Its
//! documents take places from 0 in its own run, so the run that merges
//! the ranks' tables places rank r's documents after those of the ranks
//! before it (see [`Share::continues`]), which is the order one process
//! reading all the inputs would have given them.

use crate::decode::{EncodingChoice, Part, decide_streamed};
use crate::error::Error;
use crate::keys::Within;
use crate::pipeline::Options;
use crate::source::fetch::{FetchOptions, Fetcher};
use crate::source::unpack::Kind;
use crate::source::{Document, Documents, Item, Operand, Origin, Sources, binary_kind};
use crate::tokenize::Mode;
use encoding_rs::Encoding;
use std::collections::VecDeque;
use std::fs::File;
use std::io::{self, Read};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use xxhash_rust::xxh3::Xxh3Default;

/// How much a URL weighs when inputs are shared: its size is not known
/// before it is downloaded.
pub const URL_WEIGHT: u64 = 1 << 20;

/// Files smaller than this are not cut by default: a piece's set-up costs
/// more than it shares.
pub const MIN_PIECE: u64 = 1 << 20;

/// Bytes of a file read, at most, to learn its encoding before cutting it;
/// a file still undecided by then (only ASCII) is not cut.
const DECIDE_LIMIT: u64 = 64 << 20;

/// The inputs of a run as every rank lists them: items in input order,
/// each with its weight (bytes).
#[derive(Debug, Clone)]
pub struct Manifest {
    entries: Vec<(Item, u64)>,
}

impl Manifest {
    /// Lists `operands` without reading documents: directories are walked,
    /// URL lists read, URLs left for their owner to download.
    pub fn list(operands: &[Operand], opts: &Options) -> Result<Manifest, Error> {
        if operands
            .iter()
            .any(|o| matches!(o, Operand::Stdin) || matches!(o, Operand::UrlList(p) if p.as_os_str() == "-"))
        {
            return Err(Error::Config(
                "processes sharing inputs cannot share standard input: name files (or give each process its own inputs)"
                    .into(),
            ));
        }
        opts.walk.check()?;
        let entries = Sources::new(operands.to_vec(), opts.walk.clone())
            .listing()
            .map(|item| {
                let weight = match &item {
                    Item::Document(d) => match &d.origin {
                        Origin::Url(_) => URL_WEIGHT,
                        _ => d.size_hint.unwrap_or(0),
                    },
                    Item::Problem(_) | Item::Skipped(_) => 0,
                };
                (item, weight)
            })
            .collect();
        Ok(Manifest { entries })
    }

    /// Sum of the weights.
    pub fn weight(&self) -> u64 {
        self.entries.iter().map(|e| e.1).sum()
    }

    /// A digest of what was listed (names, kinds and weights), equal on
    /// every rank that sees the same inputs.
    pub fn digest(&self) -> u64 {
        let mut h = Xxh3Default::new();
        for (item, weight) in &self.entries {
            let (kind, name) = match item {
                Item::Document(d) => (if d.walked { 1u8 } else { 2 }, d.name.as_str()),
                Item::Problem(e) => (3, e.input.as_str()),
                Item::Skipped(_) => (4, ""),
            };
            h.update(&[kind]);
            h.update(&(name.len() as u64).to_le_bytes());
            h.update(name.as_bytes());
            h.update(&weight.to_le_bytes());
        }
        h.digest()
    }

    /// What rank `rank` of `ranks` counts. Every rank computes its share
    /// from the same manifest, and the shares cover every entry once (a
    /// cut file once in pieces). Files of `min_piece` bytes or more are
    /// cut where they can be ([`MIN_PIECE`] is a good value).
    pub fn share(&self, rank: usize, ranks: usize, opts: &Options, min_piece: u64) -> Share {
        let ranks = ranks.max(1) as u128;
        let total = self.weight() as u128;
        // Rank r's slice of the line is [bound(r), bound(r + 1)).
        let bound = |r: u128| if total == 0 { 0 } else { (total * r).div_ceil(ranks) as u64 };
        let owner = |at: u64| (at as u128 * ranks).checked_div(total).map_or(0, |r| (r as u64).min(ranks as u64 - 1));
        let (lo, hi) = (bound(rank as u128), bound(rank as u128 + 1));
        let mut share = Share { items: Vec::new(), continues: false, weight: 0 };
        let mut at = 0u64;
        for (item, weight) in &self.entries {
            let (start, end) = (at, at + weight);
            at = end;
            let spans = owner(start) != owner(end.saturating_sub(1).max(start));
            if spans
                && *weight >= min_piece.max(1)
                && start < hi
                && end > lo
                && let Item::Document(doc) = item
                && let Origin::File(path) = &doc.origin
                && let Some(encoding) = cuttable(doc, path, opts)
            {
                let (from, to) = (start.max(lo), end.min(hi));
                let piece = Piece {
                    path: path.clone(),
                    start: from - start,
                    // The last piece reads to the end, whatever the file has become.
                    end: if to == end { u64::MAX } else { to - start },
                    encoding,
                };
                share.continues |= share.items.is_empty() && piece.start > 0;
                share.weight += to - from;
                let origin = Origin::Piece(Arc::new(piece));
                let doc = Document { origin, walked: false, size_hint: Some(to - from), ..doc.clone() };
                share.items.push(Item::Document(doc));
                continue;
            }
            // Whole: the rank where its middle falls (an empty one where it starts).
            if owner(start + weight / 2) == rank as u64 {
                share.weight += weight;
                share.items.push(item.clone());
            }
        }
        share
    }
}

/// The encoding to cut `doc` in, when it can be cut at line ends so that
/// its pieces count exactly what it would whole: a plain file (not
/// compressed, an archive, HTML or skipped binary) in an ASCII-compatible
/// encoding known from its start, under options whose keys never span a
/// line end (words or whitespace tokens; single words, or n-grams within
/// lines; not per document).
fn cuttable(doc: &Document, path: &Path, opts: &Options) -> Option<&'static Encoding> {
    let keys_fit = matches!(opts.tokenizer.mode, Mode::Words | Mode::Whitespace)
        && !opts.per_doc
        && match opts.grams.within {
            Within::Line => true,
            Within::Document => opts.grams.max <= 1,
            Within::Sentence => false,
        };
    if !keys_fit {
        return None;
    }
    let mut file = File::open(path).ok()?;
    let mut head = vec![0u8; 64 << 10];
    let n = file.read_at(&mut head, 0).ok()?;
    head.truncate(n);
    let plain = opts.raw || Kind::sniff(&head).is_none();
    let binary = doc.walked && !opts.binary && binary_kind(&head).is_some();
    if !plain || binary || opts.html.applies(&doc.name, None, &head) {
        return None;
    }
    let encoding = match opts.encoding {
        EncodingChoice::Fixed(enc) => Some(enc),
        EncodingChoice::Auto => decide_streamed(&mut file, opts.chunk_bytes, DECIDE_LIMIT).ok().flatten(),
    }?;
    // Only there is every 0x0A byte a line end.
    encoding.is_ascii_compatible().then_some(encoding)
}

/// A byte range of a file, counted by one rank. Its bounds are nominal:
/// the piece really starts after the first line end at or after `start`
/// (at 0 for the first piece) and ends where the next piece starts, so
/// pieces cut at the same nominal bounds tile the file exactly.
#[derive(Debug)]
pub struct Piece {
    pub path: PathBuf,
    pub start: u64,
    /// `u64::MAX`: to the end of the file.
    pub end: u64,
    /// The whole file's encoding.
    pub encoding: &'static Encoding,
}

impl Piece {
    /// Opens the piece: its bytes, and how to decode them.
    pub(crate) fn open(&self) -> io::Result<(PieceReader, Part)> {
        let file = File::open(&self.path)?;
        let start = line_start(&file, self.start)?;
        let end = if self.end == u64::MAX { u64::MAX } else { line_start(&file, self.end)? };
        let part = Part { encoding: self.encoding, offset: start };
        Ok((PieceReader { file, at: start, end: end.max(start) }, part))
    }

    /// It is not the file's first piece: its document was begun by the rank before.
    pub fn continues(&self) -> bool {
        self.start > 0
    }
}

/// The start of the first line that starts at or after `at` (the file's
/// end when none does).
fn line_start(file: &File, at: u64) -> io::Result<u64> {
    if at == 0 {
        return Ok(0);
    }
    let mut buf = vec![0u8; 64 << 10];
    let mut pos = at - 1;
    loop {
        let n = match file.read_at(&mut buf, pos) {
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if n == 0 {
            return Ok(pos);
        }
        if let Some(i) = buf[..n].iter().position(|&b| b == b'\n') {
            return Ok(pos + i as u64 + 1);
        }
        pos += n as u64;
    }
}

/// The bytes of a piece.
pub(crate) struct PieceReader {
    file: File,
    at: u64,
    end: u64,
}

impl Read for PieceReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let want = (self.end - self.at).min(buf.len() as u64) as usize;
        if want == 0 {
            return Ok(0);
        }
        let n = self.file.read_at(&mut buf[..want], self.at)?;
        self.at += n as u64;
        Ok(n)
    }
}

/// What one rank counts.
#[derive(Debug, Clone)]
pub struct Share {
    items: Vec<Item>,
    /// The first item is a piece of a file begun by the rank before: its
    /// place is the last place of that rank.
    pub continues: bool,
    /// Bytes (weights) in the share.
    pub weight: u64,
}

impl Share {
    /// Documents in the share.
    pub fn len(&self) -> usize {
        self.items.len()
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// The share's items for [`crate::pipeline::run`]: URLs downloaded as
    /// the count goes, `fetch.jobs` of them ahead of the reader.
    pub fn documents(&self, fetch: FetchOptions) -> Documents<'static> {
        Box::new(Downloading { items: self.items.clone().into(), fetcher: None, fetch, ahead: 0 })
    }
}

/// Items, with the URLs among the next `jobs` submitted for download.
struct Downloading {
    items: VecDeque<Item>,
    fetcher: Option<Fetcher>,
    fetch: FetchOptions,
    /// Items at the front already looked at for submitting.
    ahead: usize,
}

impl Iterator for Downloading {
    type Item = Item;

    fn next(&mut self) -> Option<Item> {
        let jobs = self.fetch.jobs.max(1);
        while self.ahead < jobs.min(self.items.len()) {
            if let Item::Document(d) = &mut self.items[self.ahead]
                && let Origin::Url(url) = &d.origin
            {
                let fetcher = self.fetcher.get_or_insert_with(|| Fetcher::new(self.fetch.clone()));
                let pending = fetcher.submit(url.clone());
                d.origin = Origin::Download(Arc::new(Mutex::new(Some(pending))));
            }
            self.ahead += 1;
        }
        self.ahead = self.ahead.saturating_sub(1);
        self.items.pop_front()
    }
}
