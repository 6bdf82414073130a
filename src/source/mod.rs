//! Sources: what the user named (paths, directories, stdin, text in memory)
//! turned lazily into [`Document`]s, in input order.
//!
//! Nothing is expanded up front: a directory is walked as the pipeline pulls
//! documents, so a walk of a million files starts counting at once and holds
//! one directory's entries at a time. Problems (a loop, an unreadable
//! directory) come out in their place, as [`Item::Problem`].

pub mod fetch;
mod sniff;
pub mod unpack;
mod walk;

pub use sniff::binary_kind;
pub use walk::WalkOptions;

use crate::error::InputError;
use std::collections::VecDeque;
use std::fmt;
use std::io::{self, Read};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

/// A document's place in input order (errors and skipped entries take places too).
pub type DocId = u64;

/// Something the user asked to count.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Operand {
    /// Standard input.
    Stdin,
    /// A file (always read, whatever it looks like) or a directory (walked).
    Path(PathBuf),
    /// Bytes already in memory, under a name for messages.
    Memory { name: String, bytes: Arc<[u8]> },
    /// An `http://` or `https://` URL, downloaded (see [`fetch`]).
    Url(String),
    /// A file of URLs, one per line (`-`: stdin); blank lines and lines
    /// starting with `#` are left out. Read as the downloads go.
    UrlList(PathBuf),
}

impl Operand {
    /// A command-line operand: `-` is stdin, an http(s) URL is downloaded,
    /// anything else is a path.
    pub fn from_arg(arg: impl Into<PathBuf>) -> Operand {
        let path = arg.into();
        match path.to_str() {
            Some("-") => Operand::Stdin,
            Some(s) if fetch::is_url(s) => Operand::Url(s.to_string()),
            _ => Operand::Path(path),
        }
    }

    /// Text in memory.
    pub fn text(name: impl Into<String>, text: impl Into<String>) -> Operand {
        Operand::Memory { name: name.into(), bytes: text.into().into_bytes().into() }
    }
}

/// Where a document's bytes come from.
#[derive(Clone)]
pub enum Origin {
    Stdin,
    /// A file, opened when it is read.
    File(PathBuf),
    Memory(Arc<[u8]>),
    /// A reader handed over by a source (an archive member, a download):
    /// read once; a second read is an error.
    Stream(Arc<Mutex<Option<Box<dyn Read + Send>>>>),
    /// A member of an archive: read as its archive is read, never on its own.
    Member,
    /// A download, submitted ahead of its turn so that downloads overlap.
    Download(Arc<Mutex<Option<fetch::Pending>>>),
    /// A URL listed but not downloaded ([`Sources::listing`]).
    Url(String),
    /// A byte range of a file, counted by one process of several.
    Piece(Arc<crate::share::Piece>),
}

impl fmt::Debug for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Origin::Stdin => f.write_str("Stdin"),
            Origin::File(p) => f.debug_tuple("File").field(p).finish(),
            Origin::Memory(b) => write!(f, "Memory({} bytes)", b.len()),
            Origin::Stream(_) => f.write_str("Stream"),
            Origin::Member => f.write_str("Member"),
            Origin::Download(_) => f.write_str("Download"),
            Origin::Url(u) => f.debug_tuple("Url").field(u).finish(),
            Origin::Piece(p) => f.debug_tuple("Piece").field(p).finish(),
        }
    }
}

/// One document: the unit that chunks, errors and (later) per-document
/// counts refer to.
#[derive(Debug, Clone)]
pub struct Document {
    /// Its place in input order.
    pub id: DocId,
    /// How messages name it: a path, `<stdin>`, a name given with the text.
    pub name: String,
    pub origin: Origin,
    /// Size in bytes when known before reading.
    pub size_hint: Option<u64>,
    /// Found by walking a directory (so it may be skipped as binary), rather
    /// than named by the user (always read).
    pub walked: bool,
}

impl Document {
    /// Whether the document can be read again (for a recount on another backend).
    pub fn replayable(&self) -> bool {
        match &self.origin {
            Origin::Stdin | Origin::Stream(_) | Origin::Member | Origin::Download(_) | Origin::Url(_) => false,
            Origin::Memory(_) | Origin::Piece(_) => true,
            // Walks yield regular files only; a named path may be a FIFO.
            Origin::File(_) if self.walked => true,
            Origin::File(p) => std::fs::metadata(p).map_or(true, |m| m.is_file()),
        }
    }

    /// Opens the document for reading (for a download: waits for its
    /// answer).
    pub fn open(&self) -> io::Result<Opened<'_>> {
        let reader: Box<dyn Read + '_> = match &self.origin {
            Origin::Stdin => Box::new(io::stdin().lock()),
            Origin::Memory(b) => Box::new(&b[..]),
            Origin::File(p) => {
                let f = std::fs::File::open(p)?;
                // A walk yields files only (a directory put in a file's
                // place since fails its first read).
                if !self.walked && f.metadata()?.is_dir() {
                    return Err(io::Error::new(io::ErrorKind::IsADirectory, "is a directory"));
                }
                Box::new(f)
            }
            Origin::Stream(s) => {
                let taken = s.lock().map_err(|_| io::Error::other("stream poisoned"))?.take();
                taken.ok_or_else(|| io::Error::other("a stream cannot be read twice"))?
            }
            Origin::Member => return Err(io::Error::other("an archive member is read with its archive")),
            Origin::Download(p) => {
                let taken = p.lock().map_err(|_| io::Error::other("download poisoned"))?.take();
                let pending = taken.ok_or_else(|| io::Error::other("a download cannot be read twice"))?;
                let d = pending.wait().map_err(|e| io::Error::other(e.0))?;
                let (content_type, charset) = (d.content_type, d.charset);
                return Ok(Opened { reader: Box::new(d.body), content_type, charset, part: None });
            }
            Origin::Url(_) => return Err(io::Error::other("a listed URL is not downloaded")),
            Origin::Piece(p) => {
                let (reader, part) = p.open()?;
                return Ok(Opened { reader: Box::new(reader), content_type: None, charset: None, part: Some(part) });
            }
        };
        Ok(Opened { reader, content_type: None, charset: None, part: None })
    }

    /// The error for this document.
    pub fn error(&self, reason: impl fmt::Display) -> InputError {
        let input_bytes = match &self.origin {
            Origin::File(p) => non_utf8_bytes(p),
            Origin::Piece(p) => non_utf8_bytes(&p.path),
            _ => None,
        };
        InputError { place: self.id, input: self.name.clone(), input_bytes, reason: reason.to_string() }
    }
}

/// An opened document: its bytes, and what its server said of them.
pub struct Opened<'a> {
    pub reader: Box<dyn Read + 'a>,
    /// The HTTP Content-Type, for a download.
    pub content_type: Option<String>,
    /// The charset of the HTTP Content-Type, for a download.
    pub charset: Option<&'static encoding_rs::Encoding>,
    /// For a piece of a file: how to read it as part of the whole.
    pub part: Option<crate::decode::Part>,
}

/// The bytes of a path that is not UTF-8 (None when it is).
fn non_utf8_bytes(p: &std::path::Path) -> Option<Vec<u8>> {
    use std::os::unix::ffi::OsStrExt;
    p.to_str().is_none().then(|| p.as_os_str().as_bytes().to_vec())
}

/// What kind of walked entry was left out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Skip {
    /// A FIFO, socket or device met in a walk.
    Special,
}

/// What a source yields, in input order.
#[derive(Debug, Clone)]
pub enum Item {
    Document(Document),
    /// Something that could not become a document (a loop, an unreadable directory).
    Problem(InputError),
    Skipped(Skip),
}

/// The documents of a run, pulled lazily by the pipeline.
pub type Documents<'a> = Box<dyn Iterator<Item = Item> + Send + 'a>;

/// Operands turned into documents: files as they are, directories walked
/// (see [`WalkOptions`]), stdin and text in memory as one document each.
pub struct Sources {
    operands: VecDeque<Operand>,
    walk: WalkOptions,
    current: Option<walk::Walk>,
    next_id: DocId,
    fetcher: Option<fetch::Fetcher>,
    fetch: fetch::FetchOptions,
    /// Downloads submitted ahead of their turn (and problems met among them).
    ahead: VecDeque<Item>,
    /// The URL list being read.
    url_list: Option<(PathBuf, Box<dyn io::BufRead + Send>)>,
    /// URLs are listed ([`Origin::Url`]), not downloaded.
    listing: bool,
}

impl Sources {
    /// The documents of `operands`. Check the walk options first
    /// ([`WalkOptions::check`]): a glob that does not parse is left out here.
    pub fn new(operands: Vec<Operand>, walk: WalkOptions) -> Sources {
        Sources {
            operands: operands.into(),
            walk,
            current: None,
            next_id: 0,
            fetcher: None,
            fetch: fetch::FetchOptions::default(),
            ahead: VecDeque::new(),
            url_list: None,
            listing: false,
        }
    }

    /// Lists the documents without downloading anything: URLs come as
    /// [`Origin::Url`] documents (to share a run's inputs among processes
    /// before any is read).
    pub fn listing(mut self) -> Sources {
        self.listing = true;
        self
    }

    /// Downloads URLs with these options.
    pub fn fetching(mut self, fetch: fetch::FetchOptions) -> Sources {
        self.fetch = fetch;
        self
    }

    /// The next URL of the operands at the front, if they are URLs: a URL
    /// operand, or the next line of a URL list (problems in their place).
    fn next_url(&mut self) -> Option<Result<String, InputError>> {
        loop {
            if let Some((path, lines)) = &mut self.url_list {
                let mut line = String::new();
                let (path, reason) = match lines.read_line(&mut line) {
                    Ok(0) => {
                        self.url_list = None;
                        continue;
                    }
                    Ok(_) => {
                        let url = line.trim();
                        if url.is_empty() || url.starts_with('#') {
                            continue;
                        }
                        if fetch::is_url(url) {
                            return Some(Ok(url.to_string()));
                        }
                        (path.clone(), format!("not an http:// or https:// URL: {url}"))
                    }
                    Err(e) => {
                        let path = path.clone();
                        self.url_list = None;
                        (path, e.to_string())
                    }
                };
                return Some(Err(self.problem_at(path, reason)));
            }
            match self.operands.front()? {
                Operand::Url(_) => {
                    let Some(Operand::Url(url)) = self.operands.pop_front() else { return None };
                    return Some(Ok(url));
                }
                Operand::UrlList(_) => {
                    let Some(Operand::UrlList(path)) = self.operands.pop_front() else { return None };
                    let lines: io::Result<Box<dyn io::BufRead + Send>> = if path.as_os_str() == "-" {
                        Ok(Box::new(io::BufReader::new(io::stdin())))
                    } else {
                        std::fs::File::open(&path).map(|f| Box::new(io::BufReader::new(f)) as _)
                    };
                    match lines {
                        Ok(l) => self.url_list = Some((path, l)),
                        Err(e) => return Some(Err(self.problem_at(path, e.to_string()))),
                    }
                }
                _ => return None,
            }
        }
    }

    fn problem_at(&mut self, path: PathBuf, reason: String) -> InputError {
        let place = self.place();
        InputError { place, input: path.display().to_string(), input_bytes: non_utf8_bytes(&path), reason }
    }

    /// Submits downloads until `jobs` are ahead of the reader, or the URLs
    /// at the front of the operands end.
    fn submit_ahead(&mut self) {
        while self.ahead.len() < self.fetch.jobs.max(1) {
            let Some(url) = self.next_url() else { return };
            let item = match url {
                Ok(url) if self.listing => self.document(url.clone(), Origin::Url(url), None, false),
                Ok(url) => {
                    let fetcher = self.fetcher.get_or_insert_with(|| fetch::Fetcher::new(self.fetch.clone()));
                    let pending = fetcher.submit(url.clone());
                    self.document(url, Origin::Download(Arc::new(Mutex::new(Some(pending)))), None, false)
                }
                Err(e) => Item::Problem(e),
            };
            self.ahead.push_back(item);
        }
    }

    fn place(&mut self) -> DocId {
        self.next_id += 1;
        self.next_id - 1
    }

    fn document(&mut self, name: String, origin: Origin, size_hint: Option<u64>, walked: bool) -> Item {
        Item::Document(Document { id: self.place(), name, origin, size_hint, walked })
    }
}

impl Iterator for Sources {
    type Item = Item;

    fn next(&mut self) -> Option<Item> {
        loop {
            if let Some(item) = self.ahead.pop_front() {
                // Keep `jobs` downloads going while this one is read.
                self.submit_ahead();
                return Some(item);
            }
            if let Some(walk) = &mut self.current {
                match walk.next() {
                    Some(walk::Entry::File(path, size)) => {
                        let name = path.display().to_string();
                        return Some(self.document(name, Origin::File(path), size, true));
                    }
                    Some(walk::Entry::Special) => {
                        self.place();
                        return Some(Item::Skipped(Skip::Special));
                    }
                    Some(walk::Entry::Problem(path, reason)) => {
                        let place = self.place();
                        let (input, input_bytes) = (path.display().to_string(), non_utf8_bytes(&path));
                        return Some(Item::Problem(InputError { place, input, input_bytes, reason }));
                    }
                    None => self.current = None,
                }
            }
            if matches!(self.operands.front()?, Operand::Url(_) | Operand::UrlList(_)) {
                self.submit_ahead();
                continue;
            }
            match self.operands.pop_front()? {
                Operand::Url(_) | Operand::UrlList(_) => unreachable!("handled above"),
                Operand::Stdin => return Some(self.document("<stdin>".into(), Origin::Stdin, None, false)),
                Operand::Memory { name, bytes } => {
                    let size = Some(bytes.len() as u64);
                    return Some(self.document(name, Origin::Memory(bytes), size, false));
                }
                Operand::Path(p) if p.is_dir() => self.current = Some(walk::Walk::new(&p, &self.walk)),
                Operand::Path(p) => {
                    let size = std::fs::metadata(&p).ok().filter(|m| m.is_file()).map(|m| m.len());
                    return Some(self.document(p.display().to_string(), Origin::File(p), size, false));
                }
            }
        }
    }
}
