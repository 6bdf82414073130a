//! HTML to the text a reader sees: deciding which documents are HTML, the
//! encoding a page declares, and the visible text of a parsed page.
//!
//! Parsing is html5ever's (through scraper), so malformed markup, entities
//! and implied tags come out as a browser would show them; only the choice
//! of what is visible and where words break is ours.

use encoding_rs::Encoding;
use scraper::error::SelectorErrorKind;
use scraper::node::Element;
use scraper::{ElementRef, Html, Node, Selector};

/// When a document is read as HTML.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum HtmlMode {
    /// By name, content type or first bytes.
    #[default]
    Auto,
    Always,
    Never,
}

impl HtmlMode {
    /// Whether a document is HTML. `name` may be a path, an archive member
    /// (`archive.tar:dir/page.html`) or a URL; `content_type` an HTTP
    /// Content-Type value; `head` the document's first bytes.
    pub fn applies(self, name: &str, content_type: Option<&str>, head: &[u8]) -> bool {
        match self {
            HtmlMode::Always => true,
            HtmlMode::Never => false,
            HtmlMode::Auto => html_name(name) || content_type.is_some_and(html_content_type) || looks_like_html(head),
        }
    }
}

fn html_name(name: &str) -> bool {
    let has_ext = |s: &str| {
        let lower = s.to_ascii_lowercase();
        [".html", ".htm", ".xhtml"].iter().any(|ext| lower.ends_with(ext))
    };
    // Only a URL has a query and a fragment: a local file may be named `a#b.html`.
    if name.contains("://") { has_ext(name.split(['?', '#']).next().unwrap_or(name)) } else { has_ext(name) }
}

fn html_content_type(content_type: &str) -> bool {
    let mime = content_type.split(';').next().unwrap_or("").trim();
    mime.eq_ignore_ascii_case("text/html") || mime.eq_ignore_ascii_case("application/xhtml+xml")
}

/// Whether the first bytes of a document look like HTML: after an optional
/// BOM and whitespace, a doctype, one of the tags that open real pages, or a
/// comment followed by one of those. Text that merely starts with `<` is not.
pub fn looks_like_html(head: &[u8]) -> bool {
    let ascii = ascii_head(head);
    let start = ascii.iter().position(|&b| !is_space(b)).unwrap_or(ascii.len());
    let text = &ascii[start..];
    if starts_with_ci(text, b"<!--") {
        return (4..text.len()).any(|i| opens_page(&text[i..]));
    }
    opens_page(text)
}

/// The head as bytes with its ASCII characters where they are, so that a
/// UTF-16 page is sniffed like a UTF-8 one; non-ASCII characters become 0xFF.
fn ascii_head(head: &[u8]) -> Vec<u8> {
    let utf16 = |bytes: &[u8], big_endian: bool| -> Vec<u8> {
        bytes
            .chunks_exact(2)
            .map(|pair| {
                let unit = if big_endian {
                    u16::from_be_bytes([pair[0], pair[1]])
                } else {
                    u16::from_le_bytes([pair[0], pair[1]])
                };
                u8::try_from(unit).ok().filter(u8::is_ascii).unwrap_or(0xFF)
            })
            .collect()
    };
    match head {
        [0xEF, 0xBB, 0xBF, rest @ ..] => rest.to_vec(),
        [0xFF, 0xFE, rest @ ..] => utf16(rest, false),
        [0xFE, 0xFF, rest @ ..] => utf16(rest, true),
        _ => head.to_vec(),
    }
}

/// Whether `text` starts with a doctype or a tag that opens an HTML page.
fn opens_page(text: &[u8]) -> bool {
    const TAGS: [&[u8]; 7] = [b"<html", b"<head", b"<body", b"<meta", b"<title", b"<div", b"<p"];
    if starts_with_ci(text, b"<!doctype html") {
        return text.get(14).is_none_or(|&b| is_space(b) || b == b'>');
    }
    TAGS.iter().any(|tag| {
        // `<p` needs its delimiter most: `<pre>`, `<path>` and `<package>` are not paragraphs.
        starts_with_ci(text, tag) && text.get(tag.len()).is_none_or(|&b| is_space(b) || b == b'>' || b == b'/')
    })
}

fn starts_with_ci(text: &[u8], prefix: &[u8]) -> bool {
    text.len() >= prefix.len() && text[..prefix.len()].eq_ignore_ascii_case(prefix)
}

/// ASCII whitespace as HTML defines it.
fn is_space(b: u8) -> bool {
    matches!(b, b'\t' | b'\n' | b'\x0C' | b'\r' | b' ')
}

/// The encoding a page declares in a `<meta>` within its first 1024 bytes,
/// found the way a browser prescans the bytes before parsing (WHATWG HTML,
/// "prescan a byte stream to determine its encoding"). None when nothing
/// usable is declared; the "replacement" encoding, which would turn the whole
/// page into one U+FFFD, counts as nothing usable.
pub fn meta_charset(head: &[u8]) -> Option<&'static Encoding> {
    let bytes = &head[..head.len().min(1024)];
    let encoding = Prescan { bytes, pos: 0 }.run()?;
    if encoding == encoding_rs::UTF_16BE || encoding == encoding_rs::UTF_16LE {
        // A page read as ASCII-compatible bytes cannot really be UTF-16.
        Some(encoding_rs::UTF_8)
    } else if encoding == encoding_rs::X_USER_DEFINED {
        Some(encoding_rs::WINDOWS_1252)
    } else if encoding == encoding_rs::REPLACEMENT {
        None
    } else {
        Some(encoding)
    }
}

/// The prescan's position in the bytes. Every step that would read past the
/// end returns None: the spec's "abort the prescan".
struct Prescan<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl Prescan<'_> {
    fn run(&mut self) -> Option<&'static Encoding> {
        while self.pos < self.bytes.len() {
            let rest = &self.bytes[self.pos..];
            if rest.starts_with(b"<!--") {
                // The `-->` may share its dashes with the opening: `<!-->` is a whole comment.
                let end = find(&rest[2..], b"-->")?;
                self.pos += 2 + end + 2;
            } else if starts_with_ci(rest, b"<meta") && rest.get(5).is_some_and(|&b| is_space(b) || b == b'/') {
                self.pos += 5;
                if let Some(encoding) = self.meta()? {
                    return Some(encoding);
                }
            } else if rest.len() >= 2
                && rest[0] == b'<'
                && (rest[1].is_ascii_alphabetic() || (rest[1] == b'/' && rest.get(2)?.is_ascii_alphabetic()))
            {
                let end = rest.iter().position(|&b| is_space(b) || b == b'>')?;
                self.pos += end;
                while self.attribute()?.is_some() {}
            } else if rest.starts_with(b"<!") || rest.starts_with(b"</") || rest.starts_with(b"<?") {
                self.pos += rest.iter().position(|&b| b == b'>')?;
            }
            self.pos += 1;
        }
        None
    }

    /// The attributes of one `<meta>`: Some(Some(encoding)) when it declares
    /// one, Some(None) when the prescan goes on after it.
    fn meta(&mut self) -> Option<Option<&'static Encoding>> {
        let mut seen: Vec<Vec<u8>> = Vec::new();
        let mut got_pragma = false;
        let mut need_pragma = None;
        // None: not declared yet; Some(None): a label that names no encoding.
        let mut charset: Option<Option<&'static Encoding>> = None;
        while let Some((name, value)) = self.attribute()? {
            if seen.contains(&name) {
                continue;
            }
            match name.as_slice() {
                b"http-equiv" => got_pragma |= value == b"content-type",
                b"content" if charset.is_none() => {
                    if let Some(encoding) = charset_in_content(&value).and_then(Encoding::for_label) {
                        charset = Some(Some(encoding));
                        need_pragma = Some(true);
                    }
                }
                b"charset" => {
                    charset = Some(Encoding::for_label(&value));
                    need_pragma = Some(false);
                }
                _ => {}
            }
            seen.push(name);
        }
        match need_pragma {
            None => Some(None),
            Some(true) if !got_pragma => Some(None),
            _ => Some(charset.flatten()),
        }
    }

    /// The spec's "get an attribute": Some(None) at the tag's `>`, names and
    /// values lowercased.
    fn attribute(&mut self) -> Option<Option<(Vec<u8>, Vec<u8>)>> {
        while is_space(self.byte()?) || self.byte()? == b'/' {
            self.pos += 1;
        }
        if self.byte()? == b'>' {
            return Some(None);
        }
        let mut name = Vec::new();
        loop {
            match self.byte()? {
                b'=' if !name.is_empty() => {
                    self.pos += 1;
                    return self.attribute_value(name);
                }
                b if is_space(b) => break,
                b'/' | b'>' => return Some(Some((name, Vec::new()))),
                b => name.push(b.to_ascii_lowercase()),
            }
            self.pos += 1;
        }
        while is_space(self.byte()?) {
            self.pos += 1;
        }
        if self.byte()? != b'=' {
            return Some(Some((name, Vec::new())));
        }
        self.pos += 1;
        self.attribute_value(name)
    }

    fn attribute_value(&mut self, name: Vec<u8>) -> Option<Option<(Vec<u8>, Vec<u8>)>> {
        let mut value = Vec::new();
        while is_space(self.byte()?) {
            self.pos += 1;
        }
        match self.byte()? {
            quote @ (b'"' | b'\'') => loop {
                self.pos += 1;
                match self.byte()? {
                    b if b == quote => {
                        self.pos += 1;
                        return Some(Some((name, value)));
                    }
                    b => value.push(b.to_ascii_lowercase()),
                }
            },
            b'>' => return Some(Some((name, value))),
            b => value.push(b.to_ascii_lowercase()),
        }
        loop {
            self.pos += 1;
            match self.byte()? {
                b if is_space(b) || b == b'>' => return Some(Some((name, value))),
                b => value.push(b.to_ascii_lowercase()),
            }
        }
    }

    fn byte(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }
}

/// The label in a `content="text/html; charset=..."` value (already
/// lowercased), per the spec's "extracting a character encoding from a meta
/// element".
fn charset_in_content(content: &[u8]) -> Option<&[u8]> {
    let mut pos = 0;
    loop {
        pos += find(&content[pos..], b"charset")? + 7;
        while content.get(pos).is_some_and(|&b| is_space(b)) {
            pos += 1;
        }
        if content.get(pos) == Some(&b'=') {
            break;
        }
    }
    pos += 1;
    while content.get(pos).is_some_and(|&b| is_space(b)) {
        pos += 1;
    }
    let rest = &content[pos..];
    match rest.first()? {
        &quote @ (b'"' | b'\'') => {
            let end = rest[1..].iter().position(|&b| b == quote)?;
            Some(&rest[1..1 + end])
        }
        _ => {
            let end = rest.iter().position(|&b| is_space(b) || b == b';').unwrap_or(rest.len());
            Some(&rest[..end])
        }
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// A CSS selector choosing which elements' text is kept (`--select`).
#[derive(Debug, Clone)]
pub struct Select(Selector);

impl Select {
    /// Parses a CSS selector list; the error is one line, fit for a command-line message.
    pub fn parse(css: &str) -> Result<Select, String> {
        Selector::parse(css).map(Select).map_err(|e| {
            let why = match e {
                // Its Display is a multi-line debug dump; the variant's name says it in words.
                SelectorErrorKind::UnexpectedSelectorParseError(kind) => {
                    format!("{kind:?}").chars().fold(String::new(), |mut words, c| {
                        if c.is_ascii_uppercase() && !words.is_empty() {
                            words.push(' ');
                        }
                        words.push(c.to_ascii_lowercase());
                        words
                    })
                }
                other => other.to_string(),
            };
            format!("invalid CSS selector '{}': {why}", css.escape_debug())
        })
    }
}

/// How an element shows in the text.
#[derive(PartialEq)]
enum Role {
    /// Not rendered, and nor is anything inside it.
    Hidden,
    /// Text before and after it is on other lines.
    Block,
    /// A line break.
    Break,
    Inline,
}

fn role(element: &Element) -> Role {
    // Those the browsers' default style sheet does not display, plus what
    // only shows without scripts or frames, and raw-text fallbacks.
    const HIDDEN: &[&str] = &[
        "area", "base", "basefont", "datalist", "head", "iframe", "link", "meta", "noembed", "noframes", "noscript",
        "param", "rp", "script", "style", "template", "title",
    ];
    #[rustfmt::skip]
    const BLOCKS: &[&str] = &[
        "address", "article", "aside", "blockquote", "body", "caption", "center", "dd", "details", "dialog", "dir",
        "div", "dl", "dt", "fieldset", "figcaption", "figure", "footer", "form", "frameset", "h1", "h2", "h3", "h4",
        "h5", "h6", "header", "hgroup", "hr", "html", "legend", "li", "listing", "main", "menu", "nav", "ol",
        "optgroup", "option", "p", "plaintext", "pre", "search", "section", "summary", "table", "tbody", "td", "tfoot",
        "th", "thead", "tr", "ul", "xmp",
    ];
    let name = element.name();
    if HIDDEN.contains(&name) || element.attr("hidden").is_some() {
        Role::Hidden
    } else if name == "br" {
        Role::Break
    } else if BLOCKS.contains(&name) {
        Role::Block
    } else {
        Role::Inline
    }
}

/// Ends the current line unless the text is empty or the line already ended.
fn new_line(out: &mut String) {
    if !out.is_empty() && !out.ends_with('\n') {
        out.push('\n');
    }
}

/// The text a reader of the page sees, ready for a word tokenizer: without
/// scripts, styles, templates, noscript, the head, comments and `hidden`
/// elements; blocks and `<br>` end lines, inline elements do not, so
/// `<p>foo</p><p>bar</p>` is two words and `foo<b>bar</b>` one. Whitespace
/// inside text is kept as is.
///
/// With `select`, only the text of the elements it matches, each on its own
/// lines; a match inside another is not repeated. A match is rendered even
/// where it would be hidden (`title`, or inside `head`), since it was asked
/// for; the elements inside it follow the usual rules.
pub fn visible_text(html: &str, select: Option<&Select>) -> String {
    let document = Html::parse_document(html);
    let root = document.tree.root();
    let mut out = String::with_capacity(html.len() / 2);
    // The match being rendered; without a selector the whole page is one.
    let mut matched = select.is_none().then(|| root.id());
    let mut node = root;
    loop {
        let descend = match node.value() {
            Node::Document => true,
            Node::Text(text) => {
                if matched.is_some() {
                    out.push_str(text);
                }
                false
            }
            Node::Element(element) => {
                if let (None, Some(Select(selector))) = (matched, select)
                    && ElementRef::wrap(node).is_some_and(|e| selector.matches(&e))
                {
                    matched = Some(node.id());
                    new_line(&mut out);
                }
                match role(element) {
                    // Template contents are inert: never rendered nor matched.
                    Role::Hidden => matched == Some(node.id()) || (matched.is_none() && element.name() != "template"),
                    Role::Block | Role::Break if matched.is_some() => {
                        new_line(&mut out);
                        true
                    }
                    _ => true,
                }
            }
            // Comments, doctypes, processing instructions; fragments only
            // hold template contents, which are not reached.
            _ => false,
        };
        if descend && let Some(child) = node.first_child() {
            node = child;
            continue;
        }
        // Leave `node` and every ancestor it is the last child of.
        loop {
            if let Node::Element(element) = node.value()
                && matched.is_some()
                && role(element) == Role::Block
            {
                new_line(&mut out);
            }
            if matched == Some(node.id()) && select.is_some() {
                new_line(&mut out);
                matched = None;
            }
            if node.id() == root.id() {
                if out.ends_with('\n') {
                    out.pop();
                }
                return out;
            }
            if let Some(next) = node.next_sibling() {
                node = next;
                break;
            }
            match node.parent() {
                Some(parent) => node = parent,
                None => return out,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(html: &str) -> Vec<String> {
        visible_text(html, None).split_whitespace().map(str::to_owned).collect()
    }

    fn selected(css: &str, html: &str) -> Vec<String> {
        let select = Select::parse(css).expect("valid selector");
        visible_text(html, Some(&select)).split_whitespace().map(str::to_owned).collect()
    }

    #[test]
    fn hidden_content_is_dropped() {
        let page = "<!DOCTYPE html><html><head><title>Title words</title><meta charset=utf-8>\
            <style>p { color: red }</style><script>var x = 'script';</script></head>\
            <body><!-- a comment --><p>one</p><script>alert('no')</script>\
            <template><p>template</p></template><noscript><p>noscript</p></noscript>\
            <style>.x{}</style><div hidden>secret</div><p>two</p></body></html>";
        assert_eq!(words(page), ["one", "two"]);
    }

    #[test]
    fn title_without_head_is_dropped() {
        // html5ever moves the title into the head it creates.
        assert_eq!(words("<title>Gone</title><p>kept</p>"), ["kept"]);
        // A title in the body stays there, and browsers still do not show it.
        assert_eq!(words("<p>kept</p><title>Gone</title>"), ["kept"]);
    }

    #[test]
    fn entities_are_decoded() {
        assert_eq!(
            visible_text("<p>a &amp; b &eacute; &#233; &#x263A; x&nbsp;y &copy 2024 &lt;p&gt;</p>", None),
            "a & b é é ☺ x\u{A0}y © 2024 <p>"
        );
    }

    #[test]
    fn blocks_and_breaks_separate_inline_elements_do_not() {
        assert_eq!(words("<div><p>a</p>b<br>c</div>"), ["a", "b", "c"]);
        assert_eq!(words("<p>foo</p><p>bar</p>"), ["foo", "bar"]);
        assert_eq!(words("foo<b>bar</b><i>baz</i><a href=x>qux</a>"), ["foobarbazqux"]);
        assert_eq!(
            words("<ul><li>one</li><li>two</li></ul><table><tr><td>x</td><td>y</td></tr></table>"),
            ["one", "two", "x", "y"]
        );
        assert_eq!(visible_text("<h1>Head</h1><p>Para<span>graph</span></p>", None), "Head\nParagraph");
    }

    #[test]
    fn text_whitespace_is_kept() {
        assert_eq!(visible_text("<pre>a  b\n\tc</pre>", None), "a  b\n\tc");
    }

    #[test]
    fn malformed_html_reads_as_a_browser_shows_it() {
        // Unclosed tags, a stray end tag, a paragraph opened inside another (which closes it).
        assert_eq!(words("<p>one<p>two</p></p><div>three<span>four"), ["one", "two", "threefour"]);
        assert_eq!(words("<b>bold<i>both</b>italic</i>"), ["boldbothitalic"]);
        assert_eq!(words("text</p>more"), ["text", "more"]);
        assert_eq!(words("<table><tr><td>cell</td></tr>stray</table>"), ["stray", "cell"]);
        assert_eq!(words(""), Vec::<String>::new());
    }

    #[test]
    fn textarea_and_entities_in_rcdata() {
        assert_eq!(words("<textarea>a &amp; <b>b</b></textarea>"), ["a", "&", "<b>b</b>"]);
    }

    #[test]
    fn select_keeps_matching_elements() {
        let page = r#"<p class="x">no</p><p>yes</p><div><p>also</p></div>"#;
        assert_eq!(selected("p:not([class])", page), ["yes", "also"]);
        assert_eq!(selected("div", "<div>a<div>b</div>c</div><p>d</p><div>e</div>"), ["a", "b", "c", "e"]);
        assert_eq!(selected("article", "<article>x<script>s</script>y</article>"), ["xy"]);
        assert_eq!(selected("title", "<title>The title</title><p>body</p>"), ["The", "title"]);
        assert_eq!(selected("p", "<template><p>inert</p></template><p>live</p>"), ["live"]);
        assert_eq!(selected("span", "<span>a</span><span>b</span>"), ["a", "b"]);
    }

    #[test]
    fn invalid_selector_is_one_line() {
        for css in ["p[", "", "p::before", "::", "a >", "p:nosuch"] {
            let err = Select::parse(css).expect_err(css);
            assert!(err.starts_with("invalid CSS selector '"), "{err}");
            assert!(!err.contains('\n'), "{err}");
        }
        assert_eq!(Select::parse("a >").expect_err("dangling"), "invalid CSS selector 'a >': dangling combinator");
    }

    #[test]
    fn meta_charset_declarations() {
        let enc = |html: &str| meta_charset(html.as_bytes()).map(Encoding::name);
        assert_eq!(enc("<meta charset=windows-1252>"), Some("windows-1252"));
        assert_eq!(enc("<!doctype html><head><META CHARSET=\"utf-8\"></head>"), Some("UTF-8"));
        assert_eq!(enc("<meta charset='latin1'/>"), Some("windows-1252"));
        assert_eq!(
            enc(r#"<meta http-equiv="Content-Type" content="text/html; charset=ISO-8859-2">"#),
            Some("ISO-8859-2")
        );
        assert_eq!(enc("<meta content='text/html; charset=koi8-r' http-equiv=content-type>"), Some("KOI8-R"));
        // content without the http-equiv pragma is not a declaration.
        assert_eq!(enc("<meta content='text/html; charset=koi8-r'>"), None);
        assert_eq!(enc("<!-- <meta charset=koi8-r> --><meta charset=gbk>"), Some("GBK"));
        assert_eq!(enc("<!--><meta charset=gbk>"), Some("GBK"));
        assert_eq!(enc("<p title='<meta charset=koi8-r>'>x</p><meta charset=big5>"), Some("Big5"));
        assert_eq!(enc("<meta charset=utf-16>"), Some("UTF-8"));
        assert_eq!(enc("<meta charset=utf-16be>"), Some("UTF-8"));
        assert_eq!(enc("<meta charset=x-user-defined>"), Some("windows-1252"));
        assert_eq!(enc("<meta charset=nonsense><meta charset=utf-8>"), Some("UTF-8"));
        assert_eq!(enc("<meta charset=iso-2022-kr>"), None);
        assert_eq!(enc("<p>no declaration</p>"), None);
        assert_eq!(enc("<meta charset=utf-8"), None);
        let late = format!("<p>{}</p><meta charset=koi8-r>", "x".repeat(1024));
        assert_eq!(enc(&late), None);
        let just_in = format!("{}<meta charset=koi8-r>", " ".repeat(1024 - 22));
        assert_eq!(enc(&just_in), Some("KOI8-R"));
    }

    #[test]
    fn sniffing_html() {
        for yes in [
            "<!DOCTYPE html>\n<html>",
            "\u{FEFF}  <html lang=en>",
            "<HTML>",
            "<head><title>t</title>",
            "<body>",
            "<meta charset=utf-8>",
            "<title>x</title>",
            "<p>para",
            "<P class=a>",
            "<div>",
            "<!-- generated -->\n<!doctype html>",
            "<!-- c --><div id=x>",
        ] {
            assert!(looks_like_html(yes.as_bytes()), "{yes:?}");
        }
        for no in [
            "",
            "plain text <p>",
            "<pre>",
            "<path d=''>",
            "<?xml version='1.0'?><feed>",
            "<!-- just a comment -->",
            "<b>bold</b>",
            "<doc>",
            "<!doctype htmlx>",
        ] {
            assert!(!looks_like_html(no.as_bytes()), "{no:?}");
        }
        let utf16: Vec<u8> = [0xFF, 0xFE].into_iter().chain("<html>".bytes().flat_map(|b| [b, 0])).collect();
        assert!(looks_like_html(&utf16));
    }

    #[test]
    fn mode_applies() {
        let auto = HtmlMode::Auto;
        assert!(auto.applies("page.html", None, b""));
        assert!(auto.applies("dir/PAGE.HTM", None, b""));
        assert!(auto.applies("book.xhtml", None, b""));
        assert!(auto.applies("archive.tar:dir/page.html", None, b""));
        assert!(auto.applies("https://example.com/a/page.html?x=1#top", None, b""));
        assert!(auto.applies("https://example.com/", Some("text/html; charset=utf-8"), b""));
        assert!(auto.applies("feed", Some("Application/XHTML+XML"), b""));
        assert!(auto.applies("notes.txt", None, b"<!doctype html><p>"));
        assert!(!auto.applies("notes.txt", None, b"plain"));
        assert!(!auto.applies("https://example.com/html?x=page.html", Some("text/plain"), b"x"));
        assert!(!auto.applies("page.html.txt", None, b""));
        assert!(!auto.applies("x", Some("text/htmlx"), b""));
        assert!(HtmlMode::Always.applies("notes.txt", Some("text/plain"), b"plain"));
        assert!(!HtmlMode::Never.applies("page.html", Some("text/html"), b"<html>"));
        assert_eq!(HtmlMode::default(), HtmlMode::Auto);
    }

    #[test]
    fn large_and_deep_pages() {
        let page = "<div><p>word <b>bold</b> &amp; more</p><script>x()</script></div>".repeat(20_000);
        let text = visible_text(&page, None);
        assert_eq!(text.split_whitespace().count(), 80_000);
        // The walk is a loop, not recursion; html5ever itself slows down quadratically with depth.
        let deep = "<div>".repeat(2_000) + "deep";
        assert_eq!(words(&deep), ["deep"]);
    }
}
