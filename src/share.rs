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

use crate::decode::{EncodingChoice, Part, decide_streamed, read_block};
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

    /// How `ranks` ranks share the inputs: which files are cut (files of
    /// `min_piece` bytes or more that cross a rank's bounds, where they
    /// can be; [`MIN_PIECE`] is a good value). Every rank makes the same
    /// plan from the same manifest, reading the start of each file to cut.
    pub fn plan(self, ranks: usize, opts: &Options, min_piece: u64) -> Plan {
        let mut plan = Plan { cuts: vec![None; self.entries.len()], entries: self.entries, ranks: ranks.max(1) };
        let mut at = 0u64;
        for (i, (item, weight)) in plan.entries.iter().enumerate() {
            let (start, end) = (at, at + weight);
            at = end;
            if plan.owner(start) != plan.owner(end.saturating_sub(1).max(start))
                && *weight >= min_piece.max(1)
                && let Item::Document(doc) = item
                && let Origin::File(path) = &doc.origin
            {
                plan.cuts[i] = cuttable(doc, path, opts);
            }
        }
        plan
    }
}

/// A manifest shared among ranks: the files to cut, and in what encoding.
#[derive(Debug, Clone)]
pub struct Plan {
    entries: Vec<(Item, u64)>,
    ranks: usize,
    cuts: Vec<Option<&'static Encoding>>,
}

impl Plan {
    fn total(&self) -> u128 {
        self.entries.iter().map(|e| e.1 as u128).sum()
    }

    /// Where rank `r`'s slice of the line of inputs starts.
    fn bound(&self, r: usize) -> u64 {
        (self.total() * r as u128).div_ceil(self.ranks as u128) as u64
    }

    /// The rank whose slice holds position `at`.
    fn owner(&self, at: u64) -> usize {
        (at as u128 * self.ranks as u128).checked_div(self.total()).map_or(0, |r| (r as usize).min(self.ranks - 1))
    }

    /// A digest of the plan (names, kinds, weights and cuts), equal on
    /// every rank that sees the same inputs the same way.
    pub fn digest(&self) -> u64 {
        let mut h = Xxh3Default::new();
        for ((item, weight), cut) in self.entries.iter().zip(&self.cuts) {
            let (kind, name) = match item {
                Item::Document(d) => (if d.walked { 1u8 } else { 2 }, d.name.as_str()),
                Item::Problem(e) => (3, e.input.as_str()),
                Item::Skipped(_) => (4, ""),
            };
            h.update(&[kind]);
            h.update(&(name.len() as u64).to_le_bytes());
            h.update(name.as_bytes());
            h.update(&weight.to_le_bytes());
            h.update(cut.map_or("", |e| e.name()).as_bytes());
            h.update(&[0]);
        }
        h.digest()
    }

    /// What rank `rank` counts. The shares cover every entry once (a cut
    /// file once, in pieces), in input order.
    pub fn share(&self, rank: usize) -> Share {
        let (lo, hi) = (self.bound(rank), self.bound(rank + 1));
        let mut share = Share { items: Vec::new(), continues: false, weight: 0 };
        let mut at = 0u64;
        for ((item, weight), cut) in self.entries.iter().zip(&self.cuts) {
            let (start, end) = (at, at + weight);
            at = end;
            if let (Some(encoding), Item::Document(doc)) = (cut, item)
                && let Origin::File(path) = &doc.origin
            {
                if start >= hi || end <= lo {
                    continue;
                }
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
            if self.owner(start + weight / 2) == rank {
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
    // What the reader's first block holds: its binary and HTML checks see that much.
    let mut head = Vec::new();
    (&mut file).take(read_block(opts.chunk_bytes) as u64).read_to_end(&mut head).ok()?;
    let plain = opts.raw || Kind::sniff(&head).is_none();
    let binary = doc.walked && !opts.binary && binary_kind(&head).is_some();
    if !plain || binary || opts.html.applies(&doc.name, None, &head) {
        return None;
    }
    let encoding = match opts.encoding {
        EncodingChoice::Fixed(enc) => Some(enc),
        EncodingChoice::Auto => {
            let mut whole = File::open(path).ok()?;
            decide_streamed(&mut whole, opts.chunk_bytes, DECIDE_LIMIT).ok().flatten()
        }
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
