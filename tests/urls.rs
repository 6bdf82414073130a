//! Downloads, from a server the tests start on 127.0.0.1: counted like the
//! same bytes from a file, failures named with the rest counted, and
//! fetched in parallel.

use crate::archives::make;
use crate::http_server::{Route, Server};
use crate::util::{cpu_options, reference, reference_rows, rows};
use gpucount::source::Operand;
use gpucount::source::fetch::FetchOptions;
use gpucount::tokenize::Mode;
use gpucount::{Options, Outcome};
use std::time::{Duration, Instant};

const BOOK: &str = "Call me Ishmael. Some years ago, never mind how long precisely, I thought I would sail about.\n";

fn options(jobs: usize) -> Options {
    let fetch = FetchOptions {
        jobs,
        read_timeout: Duration::from_millis(1500),
        backoff: Duration::from_millis(10),
        ..FetchOptions::default()
    };
    Options { fetch, ..cpu_options(Mode::Words, false, 64, 2) }
}

fn urls(server: &Server, paths: &[&str]) -> Vec<Operand> {
    paths.iter().map(|p| Operand::Url(server.url(p))).collect()
}

fn count(operands: Vec<Operand>, opts: &Options) -> Outcome {
    gpucount::pipeline::count(operands, opts).unwrap()
}

#[test]
fn downloads_count_like_the_same_bytes_from_a_file() {
    let book = BOOK.repeat(300);
    let latin1 = "caf\u{e9} na\u{ef}ve \u{e9}t\u{e9}\n";
    let server = Server::start(vec![
        Route::ok("/book.txt", book.clone()),
        Route::gzip("/book.gz-encoded", book.as_bytes()),
        Route::ok("/book.txt.xz", make::xz(book.as_bytes())).header("Content-Type", "application/x-xz"),
        Route::ok("/books.tgz", make::gzip(&make::tar(&[("b/book.txt".into(), book.clone().into_bytes())])))
            .header("Content-Type", "application/gzip"),
        Route::redirect("/r1", "/r2"),
        Route::redirect("/r2", "/r3"),
        Route::redirect("/r3", "/book.txt"),
        Route::ok("/chunked", book.clone()).chunked(),
        Route::ok("/latin1", encoding_rs::WINDOWS_1252.encode(latin1).0.into_owned())
            .header("Content-Type", "text/plain; charset=windows-1252"),
    ]);
    let opts = options(4);
    let expected = reference_rows(&reference(&book, Mode::Words, false));
    for path in ["/book.txt", "/book.gz-encoded", "/book.txt.xz", "/books.tgz", "/r1", "/chunked"] {
        let o = count(urls(&server, &[path]), &opts);
        assert!(o.errors.is_empty(), "{path}: {:?}", o.errors);
        assert_eq!(rows(&o.table), expected, "{path}");
    }
    // Four at once, in one run: the sum.
    let o = count(urls(&server, &["/book.txt", "/r1", "/books.tgz", "/chunked"]), &opts);
    let times4: Vec<(String, u64)> = expected.iter().map(|(w, n)| (w.clone(), n * 4)).collect();
    assert_eq!((rows(&o.table), o.documents), (times4, 4));
    // The server's charset decides (a few accented bytes are too few to detect).
    let o = count(urls(&server, &["/latin1"]), &opts);
    assert_eq!(rows(&o.table), reference_rows(&reference(latin1, Mode::Words, false)));
}

#[test]
fn failed_downloads_are_named_and_the_rest_is_counted() {
    let book = BOOK.repeat(200);
    let server = Server::start(vec![
        Route::ok("/good", "fine words"),
        Route::ok("/cut", book.clone()).cut_after(1000),
        Route::ok("/reset", book.clone()).reset_after(1000),
        Route::ok("/slow", "late").delay(Duration::from_secs(4)),
        Route::ok("/flaky", "recovered").fail(2, 503, &[]),
        Route::redirect("/loop", "/loop"),
    ]);
    let opts = options(8);
    let paths = ["/missing", "/good", "/cut", "/reset", "/slow", "/flaky", "/loop"];
    let o = count(urls(&server, &paths), &opts);
    let words: Vec<String> = rows(&o.table).into_iter().map(|(w, _)| w).collect();
    assert!(["fine", "words", "recovered"].iter().all(|w| words.contains(&w.to_string())), "{words:?}");
    assert_eq!(server.hits("/flaky"), 3);
    let why = |path: &str| {
        let url = server.url(path);
        o.errors
            .iter()
            .find(|e| e.input == url)
            .map(|e| e.reason.clone())
            .unwrap_or_else(|| panic!("no error for {url}"))
    };
    assert!(why("/missing").contains("HTTP 404"), "{}", why("/missing"));
    assert!(why("/cut").contains("cut short"), "{}", why("/cut"));
    assert!(why("/reset").contains("cut short"), "{}", why("/reset"));
    assert!(why("/slow").contains("timed out"), "{}", why("/slow"));
    assert!(why("/loop").contains("redirect"), "{}", why("/loop"));
    assert_eq!(o.errors.len(), 5, "{:?}", o.errors);
}

#[test]
fn downloads_run_in_parallel() {
    let n = 6;
    let delay = Duration::from_millis(600);
    let routes = (0..n).map(|i| Route::ok(&format!("/slow{i}"), format!("word{i} common")).delay(delay)).collect();
    let server = Server::start(routes);
    let paths: Vec<String> = (0..n).map(|i| format!("/slow{i}")).collect();
    let paths: Vec<&str> = paths.iter().map(String::as_str).collect();
    let time = |jobs: usize| {
        let t = Instant::now();
        let o = count(urls(&server, &paths), &options(jobs));
        assert_eq!(o.table.get(gpucount::KeyHash::Xxh3.hash(b"common"), b"common"), n as u64);
        t.elapsed()
    };
    let (parallel, serial) = (time(n), time(1));
    eprintln!("{n} downloads delayed {delay:?}: {parallel:?} with --jobs {n}, {serial:?} with --jobs 1");
    assert!(serial >= delay * n as u32, "{serial:?}");
    assert!(parallel < delay * 3, "{parallel:?}");
}

#[cfg(feature = "cli")]
#[test]
fn url_lists_and_urls_on_the_command_line() {
    use crate::util::{Dir, gpucount, tsv};
    let server = Server::start(vec![Route::ok("/a", "one two"), Route::ok("/b", "two")]);
    let dir = Dir::new();
    let list =
        dir.write("urls.txt", format!("# books\n{}\n\n{}\nnot a url\n", server.url("/a"), server.url("/missing")));
    let out = gpucount().arg(server.url("/b")).arg("--urls-from").arg(&list).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(tsv(&out.stdout), [("two".into(), 2), ("one".into(), 1)]);
    let err = String::from_utf8(out.stderr).unwrap();
    let lines: Vec<&str> = err.lines().collect();
    assert_eq!(lines.len(), 2, "{err}");
    assert_eq!(lines[0], format!("gpucount: {}: HTTP 404 Not Found", server.url("/missing")));
    assert_eq!(lines[1], format!("gpucount: {}: not an http:// or https:// URL: not a url", list.display()));
    // The list from stdin.
    let out = gpucount().args(["--urls-from", "-"]).write_stdin(server.url("/a")).assert().success();
    assert_eq!(tsv(&out.get_output().stdout), [("one".into(), 1), ("two".into(), 1)]);
}

#[test]
fn a_url_that_does_not_answer_is_one_problem() {
    // Nothing listens on a port just freed.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let o = count(vec![Operand::Url(format!("http://127.0.0.1:{port}/x"))], &options(1));
    assert_eq!(o.errors.len(), 1);
    assert!(o.errors[0].reason.contains("refused"), "{}", o.errors[0].reason);
    assert_eq!(o.documents, 0);
}
