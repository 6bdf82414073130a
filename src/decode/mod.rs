//! Decoding: one encoding policy for every kind of document (file, pipe,
//! FIFO, text in memory, and later archive members and downloads), applied
//! while the bytes stream past, each byte read once.
//!
//! The policy, for `--encoding auto`: a byte order mark decides. Otherwise
//! ASCII is passed through (it decodes the same in UTF-8 and in every legacy
//! encoding chardetng can guess), and the decision waits for the first
//! non-ASCII byte; it is then made from a window of [`WINDOW`] bytes starting
//! there: UTF-8 when the window is valid UTF-8 or mostly so (malformed bytes
//! then count as U+FFFD and are reported), else chardetng's guess. So the same
//! bytes decode the same way whatever they arrive through, an old Latin-1 book
//! with a long ASCII header is still recognised, and memory stays bounded.

mod chunk;
mod reader;

pub use chunk::Chunk;
pub use reader::{DocRead, MAX_HTML_BYTES, MAX_TOKEN_BYTES, Part, ReadOptions, Served, read_block, read_document};

use encoding_rs::{Encoding, UTF_8};

/// Bytes, from the first non-ASCII byte on, that decide an undeclared encoding.
pub const WINDOW: usize = 256 << 10;

/// Bytes of the window that chardetng reads, at most. It runs 27 candidate
/// decoders over each byte, at about 8 MB/s here: fed the whole window, it
/// held a 1 MB windows-1252 novel (Germinal) at 110 ms against 33 ms now.
/// Its guess on 64 KiB was its guess on the whole window for 165 samples
/// in 39 languages and 25 legacy encodings (gettext catalogues, transcoded);
/// on 32 KiB, one Hungarian ISO-8859-2 sample became windows-1250.
pub const DETECT_BYTES: usize = 64 << 10;

/// How to pick a document's encoding.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum EncodingChoice {
    /// The policy in the module docs.
    #[default]
    Auto,
    /// Always this encoding (a byte order mark of the same encoding is removed).
    Fixed(&'static Encoding),
}

impl EncodingChoice {
    /// Parses `auto` or a WHATWG encoding label. Labels of the WHATWG
    /// "replacement" decoder (`iso-2022-kr`, `hz-gb-2312`, ...) are refused:
    /// it turns a whole input into one U+FFFD.
    pub fn parse(label: &str) -> Result<Self, String> {
        if label.eq_ignore_ascii_case("auto") {
            return Ok(EncodingChoice::Auto);
        }
        match Encoding::for_label(label.as_bytes()) {
            Some(e) if e == encoding_rs::REPLACEMENT => Err(format!(
                "encoding label '{label}' names the WHATWG replacement decoder, which reads any input as one U+FFFD; name a real encoding or use auto"
            )),
            Some(e) => Ok(EncodingChoice::Fixed(e)),
            None => Err(format!(
                "unknown encoding label '{label}' (use auto or a WHATWG label such as utf-8, windows-1252, utf-16le)"
            )),
        }
    }
}

/// The encoding `--encoding auto` gives a document held whole in memory: the
/// same decision the streaming reader makes.
pub fn detect(bytes: &[u8]) -> &'static Encoding {
    if let Some((enc, _)) = Encoding::for_bom(bytes) {
        return enc;
    }
    match bytes.iter().position(|&b| b >= 0x80) {
        None => UTF_8,
        Some(first) => {
            let end = bytes.len().min(first + WINDOW);
            decide(&bytes[first..end], end == bytes.len())
        }
    }
}

/// The encoding `--encoding auto` gives a document that `r` reads, decided
/// as the streaming reader decides it for chunks of `chunk_bytes` (the
/// window it decides on ends where a [`read_block`] ends), after reading
/// at most about `limit` bytes: None when only ASCII came before `limit`.
/// A process counting a piece of a file learns the whole file's encoding
/// from its start this way.
pub fn decide_streamed(
    r: &mut dyn std::io::Read,
    chunk_bytes: usize,
    limit: u64,
) -> std::io::Result<Option<&'static Encoding>> {
    let block = read_block(chunk_bytes);
    let (mut block, mut window, mut read) = (reader::Block::new(block), Vec::new(), 0u64);
    loop {
        let last = block.fill(r)?;
        let buf = block.bytes();
        if read == 0
            && let Some((enc, _)) = Encoding::for_bom(buf)
        {
            return Ok(Some(enc));
        }
        read += buf.len() as u64;
        if window.is_empty() {
            match buf.iter().position(|&b| b >= 0x80) {
                Some(first) => window.extend_from_slice(&buf[first..]),
                None if last => return Ok(Some(UTF_8)),
                None if read >= limit => return Ok(None),
                None => continue,
            }
        } else {
            window.extend_from_slice(buf);
        }
        if window.len() >= WINDOW || last {
            return Ok(Some(decide(&window, last)));
        }
    }
}

/// Decides the encoding from `window`, which starts at a document's first
/// non-ASCII byte (`complete`: the document ends with it). UTF-8 when at
/// least four in five non-ASCII sequences are valid UTF-8; else chardetng's
/// guess from the first [`DETECT_BYTES`] of it.
pub(crate) fn decide(window: &[u8], complete: bool) -> &'static Encoding {
    let (valid, malformed) = utf8_sequences(window, complete);
    if malformed == 0 || (valid > 0 && valid >= 4 * malformed) {
        return UTF_8;
    }
    let read = &window[..window.len().min(DETECT_BYTES)];
    let mut det = chardetng::EncodingDetector::new(chardetng::Iso2022JpDetection::Deny);
    det.feed(read, complete && read.len() == window.len());
    det.guess(None, chardetng::Utf8Detection::Deny)
}

/// Counts valid non-ASCII UTF-8 sequences and malformed ones in `bytes`. An
/// incomplete sequence at the end is not malformed unless `complete`.
fn utf8_sequences(mut bytes: &[u8], complete: bool) -> (usize, usize) {
    let (mut valid, mut malformed) = (0, 0);
    loop {
        let (good, error) = match std::str::from_utf8(bytes) {
            Ok(_) => (bytes.len(), None),
            Err(e) => (e.valid_up_to(), Some(e)),
        };
        // In valid UTF-8, each non-ASCII character has exactly one lead byte (0xC0 and up).
        valid += bytes[..good].iter().filter(|&&b| b >= 0xC0).count();
        match error.map(|e| e.error_len()) {
            None => return (valid, malformed),
            Some(Some(n)) => {
                malformed += 1;
                bytes = &bytes[good + n..];
            }
            Some(None) => return (valid, malformed + complete as usize),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The encoding the streaming reader decides for `bytes` with chunks of `chunk_bytes`.
    fn read_decides(bytes: &[u8], chunk_bytes: usize) -> Option<&'static Encoding> {
        let doc = crate::source::Document {
            id: 0,
            name: "t".into(),
            origin: crate::source::Origin::Memory(bytes.into()),
            size_hint: None,
            walked: false,
        };
        let opts = ReadOptions { chunk_bytes, ..ReadOptions::default() };
        read_document(&doc, &mut &bytes[..], &Served::default(), &opts, &mut |_| true).encoding
    }

    #[test]
    fn a_piece_learns_the_encoding_the_whole_file_is_read_in() {
        // Decisions that turn on where the window ends: mostly UTF-8, with
        // windows-1252 bytes at many distances after the first non-ASCII byte.
        let mut cases: Vec<Vec<u8>> =
            vec![b"ascii only\n".repeat(50_000), "\u{feff}bom".into(), b"\xff\xfeu\x00".to_vec()];
        for ascii in [0, 4095, 70_000] {
            for stray in [1_000, 262_000, 270_000, 600_000] {
                let mut b = b"a ".repeat(ascii / 2);
                b.extend("é".repeat(stray / 2).as_bytes());
                b.extend(b"\xe9\xe8\xe0 ".repeat(20_000));
                cases.push(b);
            }
        }
        for bytes in &cases {
            for chunk in [1, 4096, 10_000, 1 << 20] {
                let streamed = decide_streamed(&mut &bytes[..], chunk, u64::MAX).unwrap();
                assert_eq!(streamed, read_decides(bytes, chunk), "{} bytes, chunks of {chunk}", bytes.len());
            }
        }
        // Undecided within the limit: only ASCII so far.
        assert_eq!(decide_streamed(&mut &cases[0][..], 4096, 8192).unwrap(), None);
    }

    #[test]
    fn the_first_non_ascii_byte_decides() {
        assert_eq!(detect(b"plain ascii"), UTF_8);
        assert_eq!(detect("caf\u{e9} d\u{e9}j\u{e0}".as_bytes()), UTF_8);
        assert_eq!(detect(b"Caf\xe9 d\xe9j\xe0 vu"), encoding_rs::WINDOWS_1252);
        // A long ASCII header, then Latin-1 accents: still windows-1252.
        let mut old = b"Project header\n".repeat(200_000);
        old.extend_from_slice(b"na\xefve caf\xe9 \xe9l\xe8ve");
        assert_eq!(detect(&old), encoding_rs::WINDOWS_1252);
        // Mostly UTF-8 with one stray byte: UTF-8 (the stray byte is reported when read).
        let mut mostly = "caf\u{e9} ".repeat(1000).into_bytes();
        mostly.push(0xe9);
        assert_eq!(detect(&mostly), UTF_8);
        // A byte order mark wins.
        assert_eq!(detect(b"\xff\xfea\0"), encoding_rs::UTF_16LE);
    }

    #[test]
    fn a_page_handed_to_a_worker_is_the_text_the_reader_would_have_cut() {
        let page = "<html><head><title>T</title><script>no</script></head><body><p>Gallia est omnis</p>\
            <div>divisa<br>in partes <b>tres</b></div><p class=x>caf&eacute;</p></body></html>"
            .repeat(40);
        let doc = crate::source::Document {
            id: 7,
            name: "p.html".into(),
            origin: crate::source::Origin::Memory(page.as_bytes().into()),
            size_hint: None,
            walked: false,
        };
        for select in [None, Some(crate::html::Select::parse("p:not(.x)").unwrap())] {
            let chunks = |html_in_workers| {
                let opts =
                    ReadOptions { chunk_bytes: 64, html_in_workers, select: select.clone(), ..ReadOptions::default() };
                let mut chunks = Vec::new();
                let r = read_document(&doc, &mut page.as_bytes(), &Served::default(), &opts, &mut |c| {
                    chunks.push(c);
                    true
                });
                assert!(r.counted && r.problem.is_none());
                chunks
            };
            let here: String = chunks(false).into_iter().map(|c| c.text).collect();
            let handed = chunks(true);
            assert_eq!(handed.len(), 1, "one chunk per page");
            assert!(handed[0].html && handed[0].last && handed[0].seq == 0 && handed[0].doc == 7);
            let seen = handed.into_iter().next().unwrap().visible(select.as_ref());
            assert!(!seen.html && seen.text.contains("Gallia") && !seen.text.contains("no"));
            assert_eq!(seen.text, here);
        }
        // A page too large to wait in the queue is parsed by the reader.
        let big = format!("<p>{}</p>", "verba ".repeat(reader::HTML_IN_WORKERS_BYTES / 6 + 1));
        let opts = ReadOptions { html_in_workers: true, ..ReadOptions::default() };
        let mut chunks = Vec::new();
        read_document(&doc, &mut big.as_bytes(), &Served::default(), &opts, &mut |c| {
            chunks.push(c);
            true
        });
        assert!(chunks.len() > 1 && chunks.iter().all(|c| !c.html && !c.text.contains('<')));
    }

    #[test]
    fn chardetng_reads_only_the_start_of_the_window() {
        // French in windows-1252 past DETECT_BYTES, then Russian in
        // windows-1251 to the end of the window.
        let (french, _, _) =
            encoding_rs::WINDOWS_1252.encode("Le garçon était déjà à l'école où il mangeait une crêpe. ");
        let (russian, _, _) =
            encoding_rs::WINDOWS_1251.encode("Съешь же ещё этих мягких французских булок, да выпей чаю. ");
        let mut window = french.repeat(DETECT_BYTES / french.len() + 1);
        while window.len() < WINDOW {
            window.extend_from_slice(&russian);
        }
        window.truncate(WINDOW);
        // All of it would read as Russian: the guess comes from the start.
        let mut det = chardetng::EncodingDetector::new(chardetng::Iso2022JpDetection::Deny);
        det.feed(&window, false);
        assert_eq!(det.guess(None, chardetng::Utf8Detection::Deny), encoding_rs::WINDOWS_1251);
        assert_eq!(decide(&window, false), encoding_rs::WINDOWS_1252);
        // Russian within the first DETECT_BYTES is read.
        let mut early = french.repeat(2);
        early.extend(russian.repeat(DETECT_BYTES / russian.len()));
        assert_eq!(decide(&early, true), encoding_rs::WINDOWS_1251);
    }

    #[test]
    fn sequences_are_counted() {
        assert_eq!(utf8_sequences("é a ü".as_bytes(), true), (2, 0));
        assert_eq!(utf8_sequences(b"\xe9 a \xc3", false), (0, 1));
        assert_eq!(utf8_sequences(b"\xe9 a \xc3", true), (0, 2));
    }

    #[test]
    fn replacement_labels_are_refused() {
        for label in ["replacement", "iso-2022-kr", "hz-gb-2312"] {
            assert!(EncodingChoice::parse(label).unwrap_err().contains("replacement"), "{label}");
        }
        assert_eq!(EncodingChoice::parse("latin1"), Ok(EncodingChoice::Fixed(encoding_rs::WINDOWS_1252)));
    }
}
