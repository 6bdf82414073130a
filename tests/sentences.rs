//! `gpucount sentences`: one normalized sentence per line, documents split
//! in parallel and written in input order, from any input kind.

use crate::archives::make;
use crate::util::{Dir, cpu_options};
use gpucount::pipeline::sentences;
use gpucount::sentences::{Keep, SentenceOptions};
use gpucount::source::Operand;
use gpucount::tokenize::Mode;

fn lines(operands: Vec<Operand>, threads: usize, chunk_bytes: usize, split: &SentenceOptions) -> (String, u64) {
    let opts = cpu_options(Mode::Words, false, chunk_bytes, threads);
    let mut out = Vec::new();
    let o = sentences(operands, &opts, split, &mut out).unwrap();
    assert!(o.errors.is_empty(), "{:?}", o.errors);
    (String::from_utf8(out).unwrap(), o.sentences)
}

#[test]
fn sentences_by_hand() {
    let text = "Mr. Brown went home. He slept!\n\nM. Tullius Cicero consul fuit. C. Iulius Caesar dictator.\n\
                Ils l'ont dit : « L'École est là. » Was it 42?";
    let (out, n) = lines(vec![Operand::text("t", text)], 2, 1 << 20, &SentenceOptions::default());
    assert_eq!(
        out,
        "mr brown went home\nhe slept\nm tullius cicero consul fuit\nc iulius caesar dictator\n\
         ils lont dit lécole est là\nwas it\n"
    );
    assert_eq!(n, 6);
    let naive = SentenceOptions { split_on: Some(vec!['.']), keep: Keep::Alnum, ..SentenceOptions::default() };
    let (out, _) = lines(vec![Operand::text("t", "Mr. Brown is 42. Yes")], 1, 1 << 20, &naive);
    assert_eq!(out, "mr\nbrown is 42\nyes\n");
}

#[test]
fn documents_come_out_in_input_order_whatever_the_threads_and_chunks() {
    let dir = Dir::new();
    let mut files = Vec::new();
    for i in 0..60 {
        // Documents of very different sizes, so workers finish out of order.
        let body =
            format!("Document {i} begins here. ") + &"It goes on and on. Then it stops! ".repeat((i % 7) * 300 + 1);
        files.push((format!("d/{i:03}.txt"), body.into_bytes()));
    }
    for (p, b) in &files {
        dir.write(p, b);
    }
    let split = SentenceOptions { keep: Keep::Alnum, ..SentenceOptions::default() };
    let (one, n) = lines(vec![Operand::Path(dir.path().join("d"))], 1, 1 << 20, &split);
    let firsts: Vec<&str> = one.lines().filter(|l| l.starts_with("document")).collect();
    let expected: Vec<String> = (0..60).map(|i| format!("document {i} begins here")).collect();
    assert_eq!(firsts, expected);
    for (threads, chunk) in [(2, 1 << 20), (4, 100), (3, 7)] {
        assert_eq!(lines(vec![Operand::Path(dir.path().join("d"))], threads, chunk, &split), (one.clone(), n));
    }
    // The same from a tar.gz.
    let tgz = make::gzip(&make::tar(&files));
    assert_eq!(lines(vec![Operand::Memory { name: "d.tgz".into(), bytes: tgz.into() }], 2, 1000, &split).0, one);
}

#[test]
fn html_pages_give_sentences_of_their_paragraphs() {
    let page = "<html><head><title>Nope</title></head><body><p class=\"x\">Menu. Home.</p>\
                <p>Gallia est omnis divisa in partes tres. Quarum unam incolunt Belgae.</p><p>Alia pars</p></body></html>";
    let mut opts = cpu_options(Mode::Words, false, 1 << 20, 2);
    opts.select = Some(gpucount::html::Select::parse("p:not([class])").unwrap());
    let mut out = Vec::new();
    sentences(vec![Operand::text("page.html", page)], &opts, &SentenceOptions::default(), &mut out).unwrap();
    assert_eq!(
        String::from_utf8(out).unwrap(),
        "gallia est omnis divisa in partes tres\nquarum unam incolunt belgae\nalia pars\n"
    );
}

#[cfg(feature = "cli")]
mod cli {
    use crate::util::gpucount;

    #[test]
    fn stats_and_a_closed_pipe() {
        let out = gpucount()
            .args(["sentences", "--stats", "-"])
            .write_stdin("One two. Three four five. Six.")
            .output()
            .unwrap();
        assert!(out.status.success());
        assert_eq!(String::from_utf8(out.stdout).unwrap(), "one two\nthree four five\nsix\n");
        let err = String::from_utf8(out.stderr).unwrap();
        assert!(err.starts_with("sentences: 3 from 1 documents"), "{err}");
        assert!(err.contains("mean 8.3, median 7"), "{err}");
        // A reader that stops early: no message, success.
        let text = "A sentence here. ".repeat(200_000);
        let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_gpucount"))
            .args(["sentences", "-"])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let mut stdin = child.stdin.take().unwrap();
        let writer = std::thread::spawn(move || std::io::Write::write_all(&mut stdin, text.as_bytes()));
        let mut first = [0u8; 10];
        std::io::Read::read_exact(child.stdout.as_mut().unwrap(), &mut first).unwrap();
        drop(child.stdout.take());
        let out = child.wait_with_output().unwrap();
        let _ = writer.join();
        assert_eq!(&first, b"a sentence");
        assert!(out.status.success(), "{:?}", out.status);
        assert_eq!(String::from_utf8(out.stderr).unwrap(), "");
    }
}
