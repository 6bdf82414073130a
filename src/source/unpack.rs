//! Looking inside documents: compressed streams are decompressed on the fly
//! and archives are read member by member, each member a document of its
//! own named `archive:member/path`, never extracted to disk. Kinds are
//! recognised by their first bytes, not by their names.
//!
//! Members are treated like the files of a directory walk: hidden ones and
//! ones that the walk's globs leave out are skipped, and binary ones are
//! skipped by the reader. (`.gitignore` files inside an archive are not
//! applied.) A zip needs to seek to its directory at the end, so a zip that
//! comes from a stream (stdin, a download, another archive or a compressed
//! file) is first spooled to an anonymous temporary file.

use super::{Document, Origin, WalkOptions};
use std::io::{self, Cursor, Read};
use std::path::Path;

/// Archives inside archives (and compressed layers) opened at most this deep.
pub const MAX_DEPTH: u32 = 8;

/// How documents are looked into.
#[derive(Debug, Clone, Default)]
pub struct UnpackOptions {
    /// Count compressed files and archives as the bytes they are.
    pub raw: bool,
    /// Which members are read (hidden members, globs), as in walks.
    pub walk: WalkOptions,
}

/// What a document's first bytes say it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Gzip,
    Bzip2,
    Xz,
    Zstd,
    Tar,
    Zip,
}

/// Bytes enough to recognise every kind (a tar's magic is at 257).
const SNIFF: usize = 512;

impl Kind {
    /// The kind of a stream starting with `head`, if it is one.
    pub fn sniff(head: &[u8]) -> Option<Kind> {
        let at = |i: usize, magic: &[u8]| head.get(i..i + magic.len()) == Some(magic);
        if at(0, b"\x1f\x8b\x08") {
            Some(Kind::Gzip)
        } else if at(0, b"BZh") && head.get(3).is_some_and(|b| (b'1'..=b'9').contains(b)) && at(4, b"1AY&SY")
            || at(0, b"BZh") && at(4, b"\x17\x72\x45\x38\x50\x90")
        {
            Some(Kind::Bzip2)
        } else if at(0, b"\xfd7zXZ\0") {
            Some(Kind::Xz)
        } else if at(0, b"\x28\xb5\x2f\xfd") {
            Some(Kind::Zstd)
        } else if at(0, b"PK\x03\x04") || at(0, b"PK\x05\x06") {
            Some(Kind::Zip)
        } else if at(257, b"ustar") || old_tar_header(head) {
            Some(Kind::Tar)
        } else {
            None
        }
    }

    fn name(self) -> &'static str {
        match self {
            Kind::Gzip => "gzip",
            Kind::Bzip2 => "bzip2",
            Kind::Xz => "xz",
            Kind::Zstd => "zstd",
            Kind::Tar => "tar",
            Kind::Zip => "zip",
        }
    }
}

/// A pre-POSIX tar header: no magic, but a checksum that adds up and a name.
fn old_tar_header(head: &[u8]) -> bool {
    let Some(h) = head.get(..512) else { return false };
    let field = &h[148..156];
    let digits: Vec<u8> = field.iter().copied().filter(|b| (b'0'..=b'7').contains(b)).collect();
    let Ok(stored) = u32::from_str_radix(std::str::from_utf8(&digits).unwrap_or(""), 8) else { return false };
    let sum: u32 = h.iter().enumerate().map(|(i, &b)| if (148..156).contains(&i) { 32 } else { b as u32 }).sum();
    h[0] != 0 && !digits.is_empty() && sum == stored && field.iter().all(|&b| b == 0 || b == b' ' || b.is_ascii_digit())
}

/// One document found inside another (or the document itself, when it is
/// neither compressed nor an archive), with its bytes.
pub struct Member<'r> {
    pub doc: Document,
    pub reader: &'r mut dyn Read,
}

/// What the visitor says after reading a member.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flow {
    Continue,
    /// The run is stopping.
    Stop,
}

/// A problem with a container (a corrupt header, a truncated archive),
/// named after the container or the member it was met at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub input: String,
    pub reason: String,
}

/// Calls `visit` with every document inside `doc` (whose bytes `reader`
/// gives), in archive order, or with `doc` itself when it is plain. Members
/// get `next_id()` as their ids. Returns the problems met in containers; a
/// member's own read errors are the visitor's to report.
pub fn unpack<'r>(
    doc: &Document,
    reader: Box<dyn Read + 'r>,
    opts: &UnpackOptions,
    next_id: &mut dyn FnMut() -> u64,
    visit: &mut dyn FnMut(Member<'_>) -> Flow,
) -> Vec<Problem> {
    let mut problems = Vec::new();
    let file = match &doc.origin {
        Origin::File(p) => Some(p.as_path()),
        _ => None,
    };
    let globs = if opts.walk.globs.is_empty() { None } else { opts.walk.overrides(Path::new("")).ok() };
    let mut layer = Layer { opts, globs, next_id, visit, problems: &mut problems };
    let _ = layer.open(doc.clone(), reader, file, 0);
    problems
}

struct Layer<'v, 'p> {
    opts: &'v UnpackOptions,
    globs: Option<ignore::overrides::Override>,
    next_id: &'v mut dyn FnMut() -> u64,
    visit: &'v mut dyn FnMut(Member<'_>) -> Flow,
    problems: &'p mut Vec<Problem>,
}

impl Layer<'_, '_> {
    fn problem(&mut self, input: &str, reason: impl std::fmt::Display) {
        self.problems.push(Problem { input: input.to_string(), reason: reason.to_string() });
    }

    /// Opens one stream: decompresses it, reads it as an archive, or hands
    /// it to the visitor. `file`: the stream is this file, unread (a zip can
    /// seek in it).
    fn open(&mut self, doc: Document, reader: Box<dyn Read + '_>, file: Option<&Path>, depth: u32) -> Flow {
        // A piece of a file was found plain when the file was cut.
        if self.opts.raw || matches!(doc.origin, Origin::Piece(_)) {
            return self.leaf(doc, reader);
        }
        let (head, mut reader) = peek(reader, SNIFF);
        let Some(kind) = Kind::sniff(&head) else { return self.leaf(doc, &mut reader) };
        if depth >= MAX_DEPTH {
            self.problem(&doc.name, format!("{} nested more than {MAX_DEPTH} deep: not opened", kind.name()));
            return Flow::Continue;
        }
        let inner: Box<dyn Read + '_> = match kind {
            Kind::Gzip => Box::new(Gzip(Some(flate2::bufread::GzDecoder::new(io::BufReader::new(reader))))),
            Kind::Bzip2 => Box::new(bzip2::read::MultiBzDecoder::new(reader)),
            Kind::Xz => Box::new(lzma_rust2::XzReader::new(reader, true)),
            Kind::Zstd => match zstd::stream::read::Decoder::new(reader) {
                Ok(d) => Box::new(d),
                Err(e) => {
                    self.problem(&doc.name, format!("zstd: {e}"));
                    return Flow::Continue;
                }
            },
            Kind::Tar => return self.tar(&doc, reader, depth),
            Kind::Zip => return self.zip(&doc, reader, file, depth),
        };
        self.open(doc, Box::new(Named { inner, name: kind.name() }), None, depth + 1)
    }

    fn leaf(&mut self, doc: Document, mut reader: impl Read) -> Flow {
        (self.visit)(Member { doc, reader: &mut reader })
    }

    /// A member document of `parent`, or None when walks would leave it out.
    fn member(&mut self, parent: &Document, path: &str, size: Option<u64>) -> Option<Document> {
        let path = path.trim_start_matches("./");
        if path.is_empty() || !wanted(path, self.opts.walk.hidden, self.globs.as_ref()) {
            return None;
        }
        Some(Document {
            id: (self.next_id)(),
            name: format!("{}:{path}", parent.name),
            origin: Origin::Member,
            size_hint: size,
            walked: true,
        })
    }

    fn tar(&mut self, doc: &Document, reader: impl Read, depth: u32) -> Flow {
        let mut archive = tar::Archive::new(reader);
        let entries = match archive.entries() {
            Ok(e) => e,
            Err(e) => {
                self.problem(&doc.name, format!("tar: {e}"));
                return Flow::Continue;
            }
        };
        for entry in entries {
            let mut entry = match entry {
                Ok(e) => e,
                Err(e) => {
                    self.problem(&doc.name, format!("tar: {e}; the members before it were counted"));
                    return Flow::Continue;
                }
            };
            // Directories, links and special entries carry no text of their own.
            let kind = entry.header().entry_type();
            if !(kind.is_file() || kind == tar::EntryType::Continuous || kind.is_gnu_sparse()) {
                continue;
            }
            let path = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
            let size = entry.size();
            let Some(member) = self.member(doc, &path, Some(size)) else { continue };
            let truncated = std::cell::Cell::new(false);
            let exact = Exact { inner: &mut entry, left: size, size, truncated: &truncated };
            let flow = self.open(member, Box::new(exact), None, depth + 1);
            // A truncated archive has nothing after the member that said so;
            // a member that failed otherwise (a corrupt gzip inside) is skipped.
            if flow == Flow::Stop || truncated.get() {
                return flow;
            }
        }
        Flow::Continue
    }

    fn zip(&mut self, doc: &Document, reader: impl Read, file: Option<&Path>, depth: u32) -> Flow {
        let seekable = match file.map(std::fs::File::open) {
            Some(Ok(f)) => Ok(f),
            _ => spool(reader),
        };
        let mut archive = match seekable.map_err(zip::result::ZipError::Io).and_then(zip::ZipArchive::new) {
            Ok(a) => a,
            Err(e) => {
                self.problem(&doc.name, format!("zip: {e}"));
                return Flow::Continue;
            }
        };
        for i in 0..archive.len() {
            let mut file = match archive.by_index(i) {
                Ok(f) => f,
                Err(e) => {
                    self.problem(&doc.name, format!("zip member {}: {e}", i + 1));
                    continue;
                }
            };
            if file.is_dir() || file.is_symlink() {
                continue;
            }
            let path = match file.name() {
                Ok(n) => n.into_owned(),
                Err(e) => {
                    self.problem(&doc.name, format!("zip member {}: {e}", i + 1));
                    continue;
                }
            };
            let size = file.size();
            let Some(member) = self.member(doc, &path, Some(size)) else { continue };
            // Members are independent: one that fails does not stop the others.
            if self.open(member, Box::new(&mut file), None, depth + 1) == Flow::Stop {
                return Flow::Stop;
            }
        }
        Flow::Continue
    }
}

/// Whether a member at `path` (inside its archive) is read, by the rules of
/// a directory walk: no hidden component unless asked, and the globs.
fn wanted(path: &str, hidden: bool, globs: Option<&ignore::overrides::Override>) -> bool {
    let parts: Vec<&str> = path.split('/').filter(|p| !p.is_empty() && *p != ".").collect();
    if !hidden && parts.iter().any(|p| p.starts_with('.')) {
        return false;
    }
    let Some(globs) = globs else { return true };
    let mut prefix = std::path::PathBuf::new();
    for (i, part) in parts.iter().enumerate() {
        prefix.push(part);
        if globs.matched(&prefix, i + 1 < parts.len()).is_ignore() {
            return false;
        }
    }
    true
}

/// Reads up to `n` bytes, and returns them with a reader of the whole
/// stream. A read error comes after the bytes read before it (a gzip member
/// followed by garbage still gives the member).
fn peek<'r>(mut reader: Box<dyn Read + 'r>, n: usize) -> (Vec<u8>, impl Read + 'r) {
    let mut head = Vec::with_capacity(n);
    // `read_to_end` stops at `n` bytes or at the end of the stream, which
    // is then not asked again: a small file costs no more reads.
    let rest: Box<dyn Read + 'r> = match (&mut reader).take(n as u64).read_to_end(&mut head) {
        Ok(_) if head.len() < n => Box::new(io::empty()),
        Ok(_) => reader,
        Err(e) => Box::new(Failed(Some(e))),
    };
    (head.clone(), Cursor::new(head).chain(rest))
}

/// A stream that failed: its error, once.
struct Failed(Option<io::Error>);

impl Read for Failed {
    fn read(&mut self, _: &mut [u8]) -> io::Result<usize> {
        self.0.take().map_or(Ok(0), Err)
    }
}

/// Copies a stream into an anonymous temporary file, for a zip to seek in.
fn spool(mut reader: impl Read) -> io::Result<std::fs::File> {
    use std::io::Seek;
    let mut f = tempfile::tempfile()?;
    io::copy(&mut reader, &mut f)?;
    f.rewind()?;
    Ok(f)
}

/// A tar member's bytes: ending before its header's size is an error, not a
/// short member (the tar crate's reader would just stop).
struct Exact<'t, R> {
    inner: R,
    left: u64,
    size: u64,
    truncated: &'t std::cell::Cell<bool>,
}

impl<R: Read> Read for Exact<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.left == 0 || buf.is_empty() {
            return Ok(0);
        }
        let want = buf.len().min(self.left.try_into().unwrap_or(usize::MAX));
        let n = self.inner.read(&mut buf[..want])?;
        if n == 0 {
            self.truncated.set(true);
            let got = self.size - self.left;
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                format!("tar truncated: the member ends after {got} of its {} bytes", self.size),
            ));
        }
        self.left -= n as u64;
        Ok(n)
    }
}

/// Every member of a gzip file, each one's bytes handed on as soon as it
/// ends (flate2's `MultiGzDecoder` drops the last member's bytes when
/// garbage follows it).
struct Gzip<R: io::BufRead>(Option<flate2::bufread::GzDecoder<R>>);

impl<R: io::BufRead> Read for Gzip<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        loop {
            let Some(member) = &mut self.0 else { return Ok(0) };
            let n = member.read(buf)?;
            if n > 0 || buf.is_empty() {
                return Ok(n);
            }
            let Some(member) = self.0.take() else { return Ok(0) };
            let mut rest = member.into_inner();
            match rest.fill_buf()? {
                [] => {}
                [0x1f, 0x8b, ..] | [0x1f] => self.0 = Some(flate2::bufread::GzDecoder::new(rest)),
                _ => return Err(io::Error::new(io::ErrorKind::InvalidData, "trailing bytes after the last member")),
            }
        }
    }
}

/// A decompressing reader whose errors say which format failed.
struct Named<R> {
    inner: R,
    name: &'static str,
}

impl<R: Read> Read for Named<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.inner.read(buf).map_err(|e| io::Error::new(e.kind(), format!("{}: {e}", self.name)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `len` bytes given in reads of at most 100, counting the reads asked.
    struct Counting<'c> {
        left: usize,
        reads: &'c std::cell::Cell<usize>,
    }

    impl Read for Counting<'_> {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            self.reads.set(self.reads.get() + 1);
            let n = self.left.min(buf.len()).min(100);
            buf[..n].fill(b'a');
            self.left -= n;
            Ok(n)
        }
    }

    #[test]
    fn a_peek_that_meets_the_end_asks_no_more() {
        for len in [0, 99, 511, 512, 513, 5_000] {
            let count = std::cell::Cell::new(0);
            let (head, mut rest) = peek(Box::new(Counting { left: len, reads: &count }), SNIFF);
            let asked = count.get();
            let mut all = Vec::new();
            rest.read_to_end(&mut all).unwrap();
            assert_eq!((head.len(), all.len()), (len.min(SNIFF), len));
            if len < SNIFF {
                // Its last read gave 0: one per 100 bytes, that one, and none after.
                assert_eq!((asked, count.get()), (len.div_ceil(100) + 1, asked), "{len} bytes");
            }
        }
    }

    #[test]
    fn kinds_are_recognised_by_their_first_bytes() {
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        std::io::Write::write_all(&mut gz, b"text").unwrap();
        assert_eq!(Kind::sniff(&gz.finish().unwrap()), Some(Kind::Gzip));
        assert_eq!(Kind::sniff(&zstd::encode_all(&b"text"[..], 1).unwrap()), Some(Kind::Zstd));
        assert_eq!(Kind::sniff(b"\xfd7zXZ\0\0\x04"), Some(Kind::Xz));
        assert_eq!(Kind::sniff(b"BZh91AY&SY...."), Some(Kind::Bzip2));
        assert_eq!(Kind::sniff(b"PK\x03\x04...."), Some(Kind::Zip));
        let mut header = tar::Header::new_old();
        header.set_path("a.txt").unwrap();
        header.set_size(0);
        header.set_cksum();
        assert_eq!(Kind::sniff(header.as_bytes()), Some(Kind::Tar));
        let mut header = tar::Header::new_ustar();
        header.set_path("a.txt").unwrap();
        header.set_cksum();
        assert_eq!(Kind::sniff(header.as_bytes()), Some(Kind::Tar));
        // Text that starts like a magic number is still text.
        assert_eq!(Kind::sniff(b"BZh is not bzip2"), None);
        assert_eq!(Kind::sniff(b"PK is a name"), None);
        assert_eq!(Kind::sniff(&[b'a'; 512]), None);
        assert_eq!(Kind::sniff(&[0; 512]), None);
    }

    #[test]
    fn members_follow_the_walk_rules() {
        assert!(wanted("dir/a.txt", false, None));
        assert!(wanted("./a.txt", false, None));
        assert!(!wanted("./.gitignore", false, None));
        assert!(!wanted(".git/config", false, None));
        assert!(wanted(".git/config", true, None));
        let walk = WalkOptions { globs: vec!["*.txt".into(), "!skip/".into()], ..WalkOptions::default() };
        let globs = walk.overrides(Path::new("")).unwrap();
        assert!(wanted("dir/a.txt", false, Some(&globs)));
        assert!(!wanted("dir/a.md", false, Some(&globs)));
        assert!(!wanted("skip/a.txt", false, Some(&globs)));
    }
}
