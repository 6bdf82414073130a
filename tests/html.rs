//! HTML documents: only the visible text is counted, found by name, by
//! content type or by its start, decoded by the page's own charset.

use crate::archives::make;
use crate::http_server::{Route, Server};
use crate::util::{cpu_options, rows, run};
use gpucount::html::{HtmlMode, Select};
use gpucount::source::Operand;
use gpucount::tokenize::Mode;

const PAGE: &str = "<!DOCTYPE html><html><head><title>Title words</title><style>p { color: red }</style>\
<script>var hidden = 'script';</script></head><body><!-- a comment -->\
<h1>Caesar</h1><p class=\"nav\">menu</p><p>Gallia est omnis<br>divisa in partes &amp; tres</p>\
<div><p>quarum unam</p>incolunt<b>Belgae</b></div><noscript>enable javascript</noscript>\
<template>template text</template><p>caf&eacute; &#233;t&#xe9;</body></html>";

fn words(o: &gpucount::Outcome) -> Vec<(String, u64)> {
    let mut r = rows(&o.table);
    r.sort();
    r
}

fn expect(list: &[&str]) -> Vec<(String, u64)> {
    let mut v: Vec<(String, u64)> = list.iter().map(|w| (w.to_string(), 1)).collect();
    v.sort();
    v
}

const VISIBLE: &[&str] = &[
    "caesar",
    "menu",
    "gallia",
    "est",
    "omnis",
    "divisa",
    "in",
    "partes",
    "tres",
    "quarum",
    "unam",
    "incoluntbelgae",
    "café",
    "été",
];

#[test]
fn only_the_visible_text_of_a_page_is_counted() {
    let opts = cpu_options(Mode::Words, false, 16, 2);
    let page = |name: &str| Operand::Memory { name: name.into(), bytes: PAGE.as_bytes().into() };
    // Found by its name, and by its start under another name.
    for name in ["page.html", "PAGE.HTM", "notes.txt"] {
        assert_eq!(words(&run(&[page(name)], &opts)), expect(VISIBLE), "{name}");
    }
    // --html never: the markup is text.
    let never = gpucount::Options { html: HtmlMode::Never, ..opts.clone() };
    let raw = words(&run(&[page("page.html")], &never));
    assert!(raw.iter().any(|(w, _)| w == "script" || w == "doctype"), "{raw:?}");
    // --select keeps the matching elements' text only.
    let select = gpucount::Options { select: Some(Select::parse("p:not([class])").unwrap()), ..opts.clone() };
    let kept = ["gallia", "est", "omnis", "divisa", "in", "partes", "tres", "quarum", "unam", "café", "été"];
    assert_eq!(words(&run(&[page("page.html")], &select)), expect(&kept));
    // Plain text that starts with '<' is not HTML.
    let text = Operand::text("t.txt", "<3 love <p> tags");
    assert_eq!(words(&run(&[text], &opts)), expect(&["3", "love", "p", "tags"]));
}

#[test]
fn a_page_is_decoded_by_its_declared_charset() {
    let html = "<html><head><meta charset=\"windows-1252\"></head><body><p>na\u{ef}ve fa\u{e7}ade</p></body></html>";
    let bytes = encoding_rs::WINDOWS_1252.encode(html).0.into_owned();
    let opts = cpu_options(Mode::Words, false, 1 << 20, 1);
    let o = run(&[Operand::Memory { name: "old.html".into(), bytes: bytes.clone().into() }], &opts);
    assert_eq!(words(&o), expect(&["naïve", "façade"]));
    assert_eq!(o.encodings, [("old.html".to_string(), "windows-1252")]);
    assert!(o.errors.is_empty());
    // The server's charset comes before <meta>; text/html makes it HTML.
    let server = Server::start(vec![
        Route::ok("/page", bytes).header("Content-Type", "text/html; charset=windows-1252"),
        Route::ok("/site.tgz", make::gzip(&make::tar(&[("site/index.html".into(), PAGE.as_bytes().to_vec())]))),
    ]);
    let o = run(&[Operand::Url(server.url("/page"))], &opts);
    assert_eq!(words(&o), expect(&["naïve", "façade"]));
    // Pages inside an archive from a server.
    assert_eq!(words(&run(&[Operand::Url(server.url("/site.tgz"))], &opts)), expect(VISIBLE));
}

#[test]
fn malformed_html_is_read_as_a_browser_would() {
    // Unclosed and stray tags, misnested inline elements, text misplaced in
    // a table (moved before it, as browsers do).
    let page = "<!DOCTYPE html><p>one<p>two </div><b><i>three</b>four</i><table>stray<tr><td>five</td></table><p>six";
    let o = run(&[Operand::text("bad.html", page)], &cpu_options(Mode::Words, false, 1 << 20, 1));
    assert!(o.errors.is_empty());
    assert_eq!(words(&o), expect(&["one", "two", "threefour", "stray", "five", "six"]));
}
