//! Documents through the pipeline: chunks never mix documents, any separator
//! cuts, one encoding policy whatever the bytes arrive through, and a read
//! error partway keeps what was read.

use crate::util::{cpu_options, reference, reference_rows, rows, run};
use gpucount::decode::{self, Chunk, ReadOptions};
use gpucount::pipeline;
use gpucount::source::{Document, Item, Operand, Origin};
use gpucount::tokenize::Mode;
use std::io::{self, Read};
use std::sync::{Arc, Mutex};

/// Every chunk `read_document` makes of `text`.
fn chunks(text: &str, id: u64, chunk_bytes: usize) -> Vec<Chunk> {
    let doc = Document {
        id,
        name: format!("doc{id}"),
        origin: Origin::Memory(text.as_bytes().into()),
        size_hint: None,
        walked: false,
    };
    let opts = ReadOptions { chunk_bytes, ..ReadOptions::default() };
    let mut out = Vec::new();
    let mut reader = doc.open().unwrap().reader;
    let read = decode::read_document(&doc, &mut reader, &Default::default(), &opts, &mut |c| {
        out.push(c);
        true
    });
    assert_eq!(read.problem, None);
    out
}

#[test]
fn chunks_carry_their_document_and_sequence() {
    for (id, text) in ["alpha beta gamma delta", "x", "", "one two"].into_iter().enumerate() {
        let got = chunks(text, id as u64, 1);
        assert!(got.iter().all(|c| c.doc == id as u64), "{got:?}");
        assert_eq!(got.iter().map(|c| c.seq).collect::<Vec<_>>(), (0..got.len() as u32).collect::<Vec<_>>());
        assert_eq!(got.iter().map(|c| c.text.as_str()).collect::<String>(), text);
    }
    // Cut after a separator, never inside a word.
    let texts: Vec<String> = chunks("alpha beta gamma", 0, 1).into_iter().map(|c| c.text).collect();
    assert_eq!(texts, ["alpha ", "beta ", "gamma"]);
}

#[test]
fn many_tiny_documents_never_share_a_chunk() {
    // Documents with no separator at their edges: a chunk holding two of
    // them would count "xx" or "xy".
    let operands: Vec<Operand> =
        (0..2000).map(|i| Operand::text(format!("d{i}"), if i % 2 == 0 { "x" } else { "y" })).collect();
    for chunk in [1, 3, 1 << 20] {
        let o = run(&operands, &cpu_options(Mode::Words, false, chunk, 3));
        assert_eq!(rows(&o.table), [("x".to_string(), 1000), ("y".to_string(), 1000)], "chunk {chunk}");
        assert_eq!(o.documents, 2000);
        assert_eq!(o.workers.iter().map(|w| w.documents).sum::<u64>(), 2000, "each document starts once");
    }
}

#[test]
fn the_reader_is_one_of_the_counting_threads() {
    let text = "alpha beta gamma delta ".repeat(5_000);
    let all = chunks(&text, 0, 64).len() as u64;
    for threads in [1, 2, 4] {
        let o = run(&[Operand::text("t", text.clone())], &cpu_options(Mode::Words, false, 64, threads));
        let words = ["alpha", "beta", "delta", "gamma"];
        assert_eq!(rows(&o.table), words.map(|w| (w.to_string(), 5_000)), "{threads} threads");
        assert_eq!(o.workers.len(), threads, "the reader and {} workers", threads - 1);
        assert_eq!(o.workers.iter().map(|w| w.chunks).sum::<u64>(), all, "each chunk is counted once");
        if threads == 1 {
            assert_eq!(o.workers[0].chunks, all, "one thread reads and counts everything");
        }
    }
}

#[test]
fn text_with_only_non_ascii_separators_is_cut() {
    let text = "中文。".repeat(20_000);
    // Chunks stay near the chunk size: the ideographic full stop cuts.
    let got = chunks(&text, 0, 64);
    assert!(got.len() > 1000, "{} chunks", got.len());
    assert!(got.iter().all(|c| c.text.len() <= 64 + 9), "a chunk grew past its size");
    let spaced = "日本語\u{3000}".repeat(20_000);
    for (text, mode) in [(&text, Mode::Words), (&spaced, Mode::Whitespace)] {
        for chunk in [16, 1 << 20] {
            let mut opts = cpu_options(mode.clone(), false, chunk, 2);
            opts.max_token_bytes = 1024; // no token is long: a cut must be found
            let o = run(&[Operand::text("cjk", text.clone())], &opts);
            assert!(o.errors.is_empty(), "{:?}", o.errors);
            assert_eq!(rows(&o.table), reference_rows(&reference(text, mode.clone(), false)), "{mode:?} chunk {chunk}");
        }
    }
}

/// Yields `data`, then fails.
struct FailsAfter {
    data: io::Cursor<Vec<u8>>,
}

impl Read for FailsAfter {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self.data.read(buf)? {
            0 => Err(io::Error::other("injected I/O error")),
            n => Ok(n),
        }
    }
}

#[test]
fn a_read_error_partway_counts_what_was_read_and_says_where() {
    let before = "word ".repeat(600_000); // 3 MB, several blocks
    let make = || -> gpucount::source::Documents<'static> {
        let stream: Box<dyn Read + Send> = Box::new(FailsAfter { data: io::Cursor::new(before.clone().into_bytes()) });
        let failing = Document {
            id: 0,
            name: "flaky".into(),
            origin: Origin::Stream(Arc::new(Mutex::new(Some(stream)))),
            size_hint: None,
            walked: false,
        };
        let fine = Document {
            id: 1,
            name: "fine".into(),
            origin: Origin::Memory(b"other".as_slice().into()),
            size_hint: None,
            walked: false,
        };
        Box::new([Item::Document(failing), Item::Document(fine)].into_iter())
    };
    let mut o = pipeline::run(&make, &cpu_options(Mode::Words, false, 1 << 16, 2)).unwrap();
    assert_eq!(rows(&o.table), [("word".to_string(), 600_000), ("other".to_string(), 1)]);
    assert_eq!(o.errors.len(), 1);
    assert_eq!(o.errors[0].input, "flaky");
    assert_eq!(o.errors[0].place, 0);
    assert_eq!(o.errors[0].reason, "read error at byte 3000000: injected I/O error; the bytes before it were counted");
    // The summary agrees with the counts.
    assert_eq!((o.documents, o.bytes), (2, 3_000_005));
    let mut json = Vec::new();
    let opts = gpucount::report::ReportOptions { format: gpucount::report::Format::Json, ..Default::default() };
    gpucount::report::write(&mut json, &mut o, &opts).unwrap();
    let v: serde_json::Value = serde_json::from_slice(&json).unwrap();
    assert_eq!(v["summary"]["files"], 2);
    assert_eq!(v["summary"]["bytes"], 3_000_005);
    assert_eq!(v["summary"]["tokens"], 600_001);
}

#[cfg(feature = "cli")]
mod through_every_kind_of_input {
    use crate::util::{Dir, gpucount};
    use std::process::{Command, Stdio};

    /// (exit code, stdout, stderr with the input's name replaced by NAME).
    fn as_file(bytes: &[u8], d: &Dir) -> (Option<i32>, Vec<u8>, String) {
        let f = d.write("input.txt", bytes);
        let out = gpucount().arg(&f).output().unwrap();
        (out.status.code(), out.stdout, String::from_utf8_lossy(&out.stderr).replace(&*f.to_string_lossy(), "NAME"))
    }

    fn as_stdin(bytes: &[u8]) -> (Option<i32>, Vec<u8>, String) {
        let out = gpucount().write_stdin(bytes.to_vec()).output().unwrap();
        (out.status.code(), out.stdout, String::from_utf8_lossy(&out.stderr).replace("<stdin>", "NAME"))
    }

    fn as_fifo(bytes: &[u8], d: &Dir) -> (Option<i32>, Vec<u8>, String) {
        let fifo = d.path().join("fifo");
        let _ = std::fs::remove_file(&fifo);
        assert!(Command::new("mkfifo").arg(&fifo).status().unwrap().success());
        let child = Command::new(env!("CARGO_BIN_EXE_gpucount"))
            .arg(&fifo)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        std::fs::write(&fifo, bytes).unwrap();
        let out = child.wait_with_output().unwrap();
        (out.status.code(), out.stdout, String::from_utf8_lossy(&out.stderr).replace(&*fifo.to_string_lossy(), "NAME"))
    }

    #[test]
    fn the_same_bytes_count_the_same_as_a_file_stdin_and_a_fifo() {
        let d = Dir::new();
        let utf8 = "Café déjà vu, café\n".repeat(1000).into_bytes();
        let mut late_latin1 = b"An old header line\n".repeat(120_000); // over 2 MiB of ASCII
        late_latin1.extend_from_slice(b"Caf\xe9 na\xefve \xe9l\xe8ve caf\xe9\n");
        let mut stray = "caf\u{e9} ".repeat(500_000).into_bytes(); // 3 MB of UTF-8
        stray.extend_from_slice(b"fin\xe9\n");
        let utf16: Vec<u8> =
            [0xFF, 0xFE].into_iter().chain("Ωμέγα ωμέγα".encode_utf16().flat_map(u16::to_le_bytes)).collect();
        let cases: [(&str, &[u8], i32, &str); 4] = [
            ("utf-8", &utf8, 0, "café\t2000\n"),
            ("windows-1252 after 2 MiB of ASCII", &late_latin1, 0, "caf\u{e9}\t2\n"),
            ("mostly UTF-8, one stray byte", &stray, 2, "caf\u{e9}\t500000\n"),
            ("utf-16 with a BOM", &utf16, 0, "ωμέγα\t2\n"),
        ];
        for (what, bytes, code, first_row) in cases {
            let file = as_file(bytes, &d);
            assert_eq!(file.0, Some(code), "{what}: {}", file.2);
            assert!(
                String::from_utf8_lossy(&file.1).contains(first_row),
                "{what}: {}",
                String::from_utf8_lossy(&file.1[..file.1.len().min(300)])
            );
            assert_eq!(as_stdin(bytes), file, "{what}: stdin differs from a file");
            assert_eq!(as_fifo(bytes, &d), file, "{what}: a FIFO differs from a file");
        }
        let stray_err = as_file(&stray, &d).2;
        assert_eq!(stray_err, "gpucount: NAME: malformed UTF-8 at byte 3000003; such bytes were counted as U+FFFD\n");
    }
}
