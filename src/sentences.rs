//! Sentences: a document's text cut into normalized sentences, one per line,
//! for machine-learning corpora (what a notebook does with `text.split('.')`,
//! lowercasing and keeping letters, but with real sentence boundaries).
//!
//! Boundaries are Unicode's (UAX #29) with three corrections:
//! - line breaks: a single line break is a space (hard-wrapped books would
//!   otherwise give one "sentence" per line, since UAX #29 always breaks
//!   after one), while a blank line ends a paragraph and so a sentence;
//! - abbreviations: a break after one of [`ABBREVIATIONS`] or an initial
//!   (`Mr. Brown`, `M. Tullius`) is undone, as UAX #29 breaks there;
//! - lowercase continuations: a break followed by a lowercase word is undone
//!   (`"Stop!" he said.`), as UAX #29 only keeps `.` sentences going so.
//!
//! Text arrives in chunks, so [`Splitter::split`] only emits sentences that
//! more text cannot change, and says where the unfinished tail begins.

use std::borrow::Cow;
use unicode_normalization::char::is_combining_mark;
use unicode_normalization::{IsNormalized, UnicodeNormalization, is_nfc_quick};
use unicode_segmentation::UnicodeSegmentation;

/// Which characters a normalized sentence keeps (whitespace always separates).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Keep {
    /// Letters (`char::is_alphabetic`) and combining marks (general category
    /// M: after NFC some letters stay decomposed, e.g. in scripts without
    /// precomposed forms). Others are removed, not replaced: "don't" -> "dont".
    #[default]
    Letters,
    /// Letters, marks and numbers (`char::is_numeric`).
    Alnum,
    /// Everything except control characters.
    All,
}

impl Keep {
    fn keeps(self, c: char) -> bool {
        match self {
            Keep::Letters => c.is_alphabetic() || is_combining_mark(c),
            Keep::Alnum => c.is_alphabetic() || c.is_numeric() || is_combining_mark(c),
            Keep::All => !c.is_control(),
        }
    }
}

/// How sentences are cut and normalized.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SentenceOptions {
    /// Split only on these characters (a naive script's `split('.')`: the
    /// character itself is dropped, line breaks are plain whitespace, there
    /// are no paragraphs nor abbreviations), instead of Unicode sentence
    /// boundaries (UAX #29).
    pub split_on: Option<Vec<char>>,
    /// Keep sentences as written instead of lowercasing them.
    pub keep_case: bool,
    pub keep: Keep,
}

/// The abbreviations whose dot does not end a sentence, without the dot
/// (case-sensitive). A single capital letter other than `I` (an initial, or
/// a Latin praenomen) counts too; `I.` is left out because it ends English
/// sentences ("so did I.") and Latin headings ("Liber I.").
#[rustfmt::skip]
pub const ABBREVIATIONS: &[&str] = &[
    // English titles and Latin phrases.
    "Mr", "Mrs", "Ms", "Dr", "Prof", "St", "Jr", "Sr", "vs", "etc", "e.g", "i.e",
    // French.
    "M", "Mme", "Mlle",
    // Latin praenomina (M and St above).
    "A", "App", "C", "Cn", "D", "K", "L", "M'", "Mam", "N", "Oct", "P", "Post", "Pro", "Q", "S",
    "Ser", "Sex", "Sp", "T", "Ti", "V", "Vol",
];

/// Cuts documents into normalized sentences.
#[derive(Debug, Clone, Default)]
pub struct Splitter {
    opts: SentenceOptions,
}

/// Where sentences go: normalized, empty ones dropped (or as they are, for
/// [`Splitter::segments`]).
struct Sink<'o> {
    /// The sentence being normalized, reused.
    line: String,
    raw: bool,
    out: &'o mut dyn FnMut(&str),
}

impl Sink<'_> {
    fn send(&mut self, splitter: &Splitter, sentence: &str) {
        if self.raw {
            return (self.out)(sentence);
        }
        self.line.clear();
        splitter.normalize(sentence, &mut self.line);
        if !self.line.is_empty() {
            (self.out)(&self.line);
        }
    }
}

/// Buffers reused across the paragraphs of one [`Splitter::split`] call.
#[derive(Default)]
struct Scratch {
    /// The paragraph with each whitespace run turned into one space.
    text: String,
    /// Where the paragraph's UAX #29 segments start in `text`.
    starts: Vec<usize>,
}

impl Splitter {
    pub fn new(opts: SentenceOptions) -> Splitter {
        Splitter { opts }
    }

    /// Splits `text` — the start of a document's not-yet-split text, or all
    /// of it when `end` — into sentences, calling `out` with each normalized,
    /// non-empty sentence in order. Returns how many bytes of `text` were
    /// used; the rest is an unfinished sentence that the caller passes again,
    /// followed by the next chunk, on the next call. With `end`, all of
    /// `text` is used. Chunks may be cut anywhere: the sentences are the same
    /// as from one call on the whole text.
    pub fn split(&self, text: &str, end: bool, out: &mut dyn FnMut(&str)) -> usize {
        self.split_into(text, end, &mut Sink { line: String::new(), raw: false, out })
    }

    /// [`Splitter::split`] without normalizing: each sentence's text as
    /// written, but with every whitespace run turned into one space (so its
    /// words are the same). Counting n-grams within sentences uses these.
    pub fn segments(&self, text: &str, end: bool, out: &mut dyn FnMut(&str)) -> usize {
        self.split_into(text, end, &mut Sink { line: String::new(), raw: true, out })
    }

    /// What [`Splitter::split`] returns for `text` that does not end its
    /// document (where its unfinished sentence starts), found by splitting
    /// only its last paragraph.
    pub fn unfinished(&self, text: &str) -> usize {
        let mut sink = Sink { line: String::new(), raw: true, out: &mut |_| {} };
        if self.opts.split_on.is_some() {
            return self.split_into(text, false, &mut sink);
        }
        let from = last_paragraph_break(text).map_or(0, |(_, next)| next);
        from + self.paragraph(&text[from..], false, &mut Scratch::default(), &mut sink)
    }

    fn split_into(&self, text: &str, end: bool, sink: &mut Sink) -> usize {
        if let Some(chars) = &self.opts.split_on {
            let mut start = 0;
            for (i, c) in text.char_indices() {
                if chars.contains(&c) {
                    sink.send(self, &text[start..i]);
                    start = i + c.len_utf8();
                }
            }
            if !end {
                return start;
            }
            sink.send(self, &text[start..]);
            return text.len();
        }
        let mut scratch = Scratch::default();
        let mut pos = 0;
        while let Some((stop, next)) = paragraph_break(text, pos) {
            self.paragraph(&text[pos..stop], true, &mut scratch, sink);
            pos = next;
        }
        pos + self.paragraph(&text[pos..], end, &mut scratch, sink)
    }

    /// Splits one paragraph (`complete`: nothing follows it); returns the
    /// bytes used, as [`Splitter::split`].
    fn paragraph(&self, p: &str, complete: bool, scratch: &mut Scratch, sink: &mut Sink) -> usize {
        let Scratch { text, starts } = scratch;
        // Each whitespace run becomes one space: a paragraph's line breaks are
        // spaces, UAX #29 treats any run of spaces alike, and its look-ahead
        // (SB8) is quadratic in a run's length.
        text.clear();
        let mut in_run = false;
        for c in p.chars() {
            if !(in_run && c.is_whitespace()) {
                in_run = c.is_whitespace();
                text.push(if in_run { ' ' } else { c });
            }
        }
        starts.clear();
        starts.extend(text.split_sentence_bound_indices().map(|(i, _)| i));
        // UAX #29 decides a break after "x. " by looking ahead past digits and
        // punctuation for a lowercase letter (rule SB8); until a letter or a
        // terminator follows, the last break may vanish with more text.
        if !complete && starts.len() > 1 && !starts.last().is_some_and(|&b| settles(&text[b..])) {
            starts.pop();
        }
        let mut group = 0;
        for i in 1..starts.len() {
            let (b, next_end) = (starts[i], starts.get(i + 1).copied().unwrap_or(text.len()));
            if ends_with_abbreviation(&text[starts[i - 1]..b]) {
                continue;
            }
            if starts_lowercase(&text[b..next_end]) == Some(true) {
                continue;
            }
            sink.send(self, &text[group..b]);
            group = b;
        }
        if !complete {
            return original_offset(p, group);
        }
        sink.send(self, &text[group..]);
        p.len()
    }

    /// One sentence normalized: NFC, lowercased unless `keep_case` (full
    /// Unicode lowercasing, `str::to_lowercase`, so a final Σ becomes ς),
    /// characters filtered by `keep`, whitespace runs collapsed to one ASCII
    /// space, trimmed. Appends to `out`. ASCII sentences allocate nothing,
    /// others at most two strings.
    pub fn normalize(&self, sentence: &str, out: &mut String) {
        if sentence.is_ascii() {
            let lower = !self.opts.keep_case;
            let chars = sentence.chars().map(|c| if lower { c.to_ascii_lowercase() } else { c });
            return self.filter(chars, out);
        }
        let composed = match is_nfc_quick(sentence.chars()) {
            IsNormalized::Yes => Cow::Borrowed(sentence),
            _ => Cow::Owned(sentence.nfc().collect()),
        };
        if self.opts.keep_case {
            self.filter(composed.chars(), out);
        } else {
            self.filter(composed.to_lowercase().chars(), out);
        }
    }

    fn filter(&self, chars: impl Iterator<Item = char>, out: &mut String) {
        let start = out.len();
        let mut space = false;
        for c in chars {
            if c.is_whitespace() {
                space = true;
            } else if self.opts.keep.keeps(c) {
                if space && out.len() > start {
                    out.push(' ');
                }
                space = false;
                out.push(c);
            }
        }
    }
}

/// The first paragraph break at or after `from`: the start and end of a
/// maximal whitespace run holding two line breaks ([`line_breaks`]). A run
/// ending the text with one line break is no break: more text may follow.
fn paragraph_break(text: &str, from: usize) -> Option<(usize, usize)> {
    let mut pos = from;
    loop {
        let start = pos + text[pos..].find(char::is_whitespace)?;
        let end = text[start..].find(|c: char| !c.is_whitespace()).map_or(text.len(), |i| start + i);
        if line_breaks(&text[start..end]) >= 2 {
            return Some((start, end));
        }
        if end == text.len() {
            return None;
        }
        pos = end;
    }
}

/// The last paragraph break of `text`, the same as the last that
/// [`paragraph_break`] finds, but looked for from the end.
fn last_paragraph_break(text: &str) -> Option<(usize, usize)> {
    let mut before = text.len();
    loop {
        let last = text[..before].rfind(char::is_whitespace)?;
        let end = last + text[last..].chars().next().map_or(1, char::len_utf8);
        let start = text[..end]
            .rfind(|c: char| !c.is_whitespace())
            .map_or(0, |i| i + text[i..].chars().next().map_or(1, char::len_utf8));
        if line_breaks(&text[start..end]) >= 2 {
            return Some((start, end));
        }
        before = start;
    }
}

/// Line breaks in a whitespace run: CRLF is one, U+2029 (paragraph
/// separator) two.
fn line_breaks(run: &str) -> usize {
    let (mut breaks, mut after_cr) = (0, false);
    for c in run.chars() {
        breaks += match c {
            '\n' if after_cr => 0,
            '\r' | '\n' | '\u{85}' | '\u{2028}' => 1,
            '\u{2029}' => 2,
            _ => 0,
        };
        after_cr = c == '\r';
    }
    breaks
}

/// Where in `p` the text starts that [`Splitter::paragraph`] moved to
/// `at` by collapsing whitespace (`at` is 0 or at a character other than
/// whitespace).
fn original_offset(p: &str, at: usize) -> usize {
    if at == 0 {
        return 0;
    }
    let (mut moved, mut in_run) = (0, false);
    for (i, c) in p.char_indices() {
        if c.is_whitespace() {
            moved += usize::from(!in_run);
            in_run = true;
        } else {
            if moved >= at {
                return i;
            }
            moved += c.len_utf8();
            in_run = false;
        }
    }
    p.len()
}

/// Whether the segment holds a character that ends UAX #29's look-ahead
/// (SB8) for good: a cased letter (Upper or Lower) or an ASCII terminator.
/// Other scripts' letters end it too, but being sure of these is enough:
/// the break is then only decided on a later call. None of these is skipped
/// by [`starts_lowercase`], so a settled segment also settles that.
fn settles(segment: &str) -> bool {
    segment
        .chars()
        .any(|c| matches!(c, '.' | '!' | '?') || ((c.is_lowercase() || c.is_uppercase()) && !is_combining_mark(c)))
}

/// Whether the segment goes on with a lowercase word, looking past
/// whitespace, quotes, opening brackets and dashes; `None` when it holds
/// nothing else. A segment that a break follows answers before its end, as
/// it holds a terminator, so the answer does not depend on where it ends.
fn starts_lowercase(segment: &str) -> Option<bool> {
    segment.chars().find(|&c| !(c.is_whitespace() || "\"'([{«»“”‘’„‚‹›-‐‑‒–—".contains(c))).map(char::is_lowercase)
}

/// Whether the segment ends with an abbreviation's dot (see [`ABBREVIATIONS`]).
fn ends_with_abbreviation(segment: &str) -> bool {
    let Some(before) = segment.trim_end().strip_suffix('.') else {
        return false;
    };
    let token = before.rsplit(|c: char| !(c.is_alphabetic() || matches!(c, '.' | '\'' | '’'))).next();
    let word = token.unwrap_or_default().trim_start_matches(['.', '\'', '’']);
    let mut chars = word.chars();
    let initial = matches!((chars.next(), chars.next()), (Some(c), None) if c.is_uppercase() && c != 'I');
    initial || word == "M’" || ABBREVIATIONS.contains(&word)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn splitter(split_on: Option<&str>, keep_case: bool, keep: Keep) -> Splitter {
        Splitter::new(SentenceOptions { split_on: split_on.map(|s| s.chars().collect()), keep_case, keep })
    }

    fn whole(s: &Splitter, text: &str) -> Vec<String> {
        let mut got = Vec::new();
        assert_eq!(s.split(text, true, &mut |x| got.push(x.to_owned())), text.len());
        got
    }

    fn sentences(text: &str) -> Vec<String> {
        whole(&Splitter::default(), text)
    }

    /// Feeds `text` cut at `cuts` (ascending char boundaries) the way the
    /// command does: the unused tail goes again with the next chunk.
    fn chunked(s: &Splitter, text: &str, cuts: &[usize]) -> Vec<String> {
        let (mut got, mut pending, mut prev) = (Vec::new(), String::new(), 0);
        for &cut in cuts.iter().chain([&text.len()]) {
            pending.push_str(&text[prev..cut]);
            prev = cut;
            let end = cut == text.len();
            let used = s.split(&pending, end, &mut |x| got.push(x.to_owned()));
            assert!(used <= pending.len() && pending.is_char_boundary(used));
            assert!(!end || used == pending.len());
            pending.drain(..used);
        }
        got
    }

    fn raw(text: &str) -> Vec<&str> {
        text.split_sentence_bounds().collect()
    }

    #[test]
    fn uax29_alone_breaks_after_abbreviations_quotes_and_every_line() {
        assert_eq!(raw("Mr. Brown went home. He slept."), ["Mr. ", "Brown went home. ", "He slept."]);
        assert_eq!(raw("M. Tullius fuit. C. Iulius."), ["M. ", "Tullius fuit. ", "C. ", "Iulius."]);
        assert_eq!(raw("\"Stop!\" he said."), ["\"Stop!\" ", "he said."]);
        assert_eq!(raw("one\ntwo"), ["one\n", "two"]);
        // Only after '.' does a lowercase word keep the sentence going, even past digits.
        assert_eq!(raw("e.g. the end. 12 more"), ["e.g. the end. 12 more"]);
        assert_eq!(raw("end. 12 More"), ["end. ", "12 More"]);
    }

    #[test]
    fn english_titles_do_not_end_sentences() {
        assert_eq!(
            sentences(
                "Mr. Brown met Dr. Smith and Mrs. Jones. They talked, e.g. About St. Paul. So did I. Then we left."
            ),
            ["mr brown met dr smith and mrs jones", "they talked eg about st paul", "so did i", "then we left"]
        );
    }

    #[test]
    fn latin_praenomina_and_initials_do_not_end_sentences() {
        assert_eq!(
            sentences(
                "M. Tullius Cicero consul fuit. C. Iulius Caesar dictator. Cn. Pompeius Magnus. M'. Curius Dentatus."
            ),
            ["m tullius cicero consul fuit", "c iulius caesar dictator", "cn pompeius magnus", "m curius dentatus"]
        );
        assert_eq!(
            sentences("Ti. Gracchus et G. Marius. Liber I. Gallia est omnis divisa."),
            ["ti gracchus et g marius", "liber i", "gallia est omnis divisa"]
        );
    }

    #[test]
    fn french_titles_do_not_end_sentences() {
        assert_eq!(
            sentences("M. Dupont est arrivé. Mme Martin aussi. Mlle. Durand non."),
            ["m dupont est arrivé", "mme martin aussi", "mlle durand non"]
        );
    }

    #[test]
    fn quotes_questions_and_exclamations() {
        let text = "\"Stop!\" he said. \"Why?\" She left! (Then what?) «Rien.» — dit-il.";
        assert_eq!(sentences(text), ["stop he said", "why", "she left", "then what", "rien ditil"]);
        assert_eq!(
            whole(&splitter(None, false, Keep::All), text),
            ["\"stop!\" he said.", "\"why?\"", "she left!", "(then what?)", "«rien.» — dit-il."]
        );
    }

    #[test]
    fn hard_wrapped_lines_join_and_blank_lines_end_paragraphs() {
        let text = "CHAPTER II\n\nIt was a dark and stormy\nnight. The rain fell in\n  torrents, except at\noccasional intervals\n \n\t\nThe End";
        let expected = [
            "chapter ii",
            "it was a dark and stormy night",
            "the rain fell in torrents except at occasional intervals",
            "the end",
        ];
        assert_eq!(sentences(text), expected);
        assert_eq!(sentences(&text.replace('\n', "\r\n")), expected);
        assert_eq!(sentences(&text.replace("\n\n", "\u{2029}")), expected);
        assert_eq!(sentences("One\u{2028}line. Two\u{85}lines.\r\rNext"), ["one line", "two lines", "next"]);
    }

    #[test]
    fn split_on_is_naive() {
        let s = splitter(Some("."), false, Keep::Letters);
        assert_eq!(whole(&s, "Mr. Brown. 3.14 pi\nline\n\nmore"), ["mr", "brown", "pi line more"]);
        let s = splitter(Some(".;"), true, Keep::All);
        assert_eq!(whole(&s, "a;b. \"C\"!"), ["a", "b", "\"C\"!"]);
    }

    #[test]
    fn keep_modes() {
        let text = "I don't have 3 cats, 2½ dogs.";
        assert_eq!(sentences(text), ["i dont have cats dogs"]);
        assert_eq!(whole(&splitter(None, false, Keep::Alnum), text), ["i dont have 3 cats 2½ dogs"]);
        assert_eq!(whole(&splitter(None, false, Keep::All), text), ["i don't have 3 cats, 2½ dogs."]);
        // Marks stay with letters: no precomposed q with dot, nor Devanagari syllables.
        assert_eq!(sentences("Q\u{307}ed. नमस्ते दुनिया।"), ["q\u{307}ed", "नमस्ते दुनिया"]);
    }

    #[test]
    fn nfc_case_and_final_sigma() {
        assert_eq!(sentences("E\u{301}cole ici."), ["école ici"]);
        assert_eq!(sentences("École ici."), ["école ici"]);
        assert_eq!(whole(&splitter(None, true, Keep::Letters), "Mr. Brown went HOME."), ["Mr Brown went HOME"]);
        assert_eq!(sentences("ΟΔΟΣ."), ["οδο\u{3c2}"]);
        assert_eq!(sentences("ΣΟΦΟΣ ΣΟΦΟΣ."), ["σοφο\u{3c2} σοφο\u{3c2}"]);
    }

    #[test]
    fn normalize_appends_collapses_and_trims() {
        let (s, mut out) = (Splitter::default(), String::from("x|"));
        s.normalize(" \t Le  CHAT -- noir\u{a0}!\n", &mut out);
        assert_eq!(out, "x|le chat noir");
    }

    #[test]
    fn empty_sentences_are_dropped() {
        assert_eq!(sentences("... 123. !? Real words. 4."), ["real words"]);
        assert_eq!(sentences(""), Vec::<String>::new());
        assert_eq!(sentences(" \n\n \n"), Vec::<String>::new());
    }

    #[test]
    fn long_whitespace_runs_stay_linear() {
        // UAX #29 alone looks ahead from every space after a dot.
        assert_eq!(sentences(&format!("x. {}Y.", " ".repeat(1_000_000))), ["x", "y"]);
    }

    const TEXTS: &[&str] = &[
        "Mr. Brown met Dr. Smith. They talked, e.g. About St. Paul. So did I. Then we left.",
        "M. Tullius Cicero consul fuit. C. Iulius Caesar dictator. M'. Curius.\n\nLIBER II\n\nGallia est omnis\ndivisa in partes tres.",
        "\"Stop!\" he said. \"Why?\" She left! (Then what?) «Rien.» — dit-il. end. 12 more. end. 12 Big. x. 3. y",
        "It was a dark\r\nnight.\r\n\r\nThe rain. \r\n \r\nNo.\r\rYes.\u{2029}Para\u{2028}line.\u{85}Done",
        "E\u{301}cole. ΟΔΟΣ. Q\u{307}ed. नमस्ते दुनिया। 你好。世界！ end.  \u{301}x. A. \u{2029}",
        "a.b. c. D.E. f! g? h... i. 1. 2. 3. J. K",
        "\n\n\n   ",
        "One.   Two  words.\t\tThree.  \n  Four.\r\n  Five  six.   \n\n  Seven.",
    ];

    fn splitters() -> Vec<Splitter> {
        vec![
            Splitter::default(),
            splitter(None, true, Keep::All),
            splitter(Some("."), false, Keep::Letters),
            splitter(Some(".!\n"), true, Keep::Alnum),
        ]
    }

    #[test]
    fn chunks_give_the_same_sentences_as_the_whole_text() {
        for s in splitters() {
            for text in TEXTS {
                let expected = whole(&s, text);
                let bounds: Vec<usize> = (1..text.len()).filter(|&i| text.is_char_boundary(i)).collect();
                for &cut in &bounds {
                    assert_eq!(chunked(&s, text, &[cut]), expected, "{text:?} cut at {cut}");
                }
                for step in 1..8 {
                    let cuts: Vec<usize> = bounds.iter().copied().step_by(step).collect();
                    assert_eq!(chunked(&s, text, &cuts), expected, "{text:?} cut every {step}");
                }
                // Where the command cuts: next to whitespace.
                let spaces: Vec<usize> =
                    text.char_indices().filter(|(_, c)| c.is_whitespace()).map(|(i, _)| i).collect();
                assert_eq!(chunked(&s, text, &spaces), expected, "{text:?} cut before spaces");
                let after: Vec<usize> = text
                    .char_indices()
                    .filter(|(_, c)| c.is_whitespace())
                    .map(|(i, c)| i + c.len_utf8())
                    .filter(|&i| i < text.len())
                    .collect();
                assert_eq!(chunked(&s, text, &after), expected, "{text:?} cut after spaces");
            }
        }
    }

    proptest! {
        #[test]
        fn random_chunks_give_the_same_sentences(
            pieces in prop::collection::vec(prop::sample::select(vec![
                "Mr", "M", "I", "Cn", "e.g", "word", "Word", "WORD", "x", "12", "ΟΔΟΣ", "e\u{301}", "你好",
                ".", "!", "?", "'", "\"", "(", ")", "«", "—", "。",
                " ", " ", " ", "\n", "\r\n", "\r", "\u{2029}", "\u{85}", "\t",
            ]), 0..60),
            cut_seeds in prop::collection::vec(any::<prop::sample::Index>(), 0..8),
            which in 0..4usize,
        ) {
            let text: String = pieces.concat();
            let s = &splitters()[which];
            let bounds: Vec<usize> = (1..text.len()).filter(|&i| text.is_char_boundary(i)).collect();
            let mut cuts: Vec<usize> = if bounds.is_empty() { Vec::new() } else { cut_seeds.iter().map(|i| bounds[i.index(bounds.len())]).collect() };
            cuts.sort_unstable();
            cuts.dedup();
            prop_assert_eq!(chunked(s, &text, &cuts), whole(s, &text));
        }

        #[test]
        fn unfinished_is_where_split_stops(
            pieces in prop::collection::vec(prop::sample::select(vec![
                "Mr", "I", "word", "Word", "12", "ΟΔΟΣ", ".", "!", "?", "\"", ")",
                " ", " ", "\n", "\n", "\r\n", "\r", "\u{2029}", "\u{85}", "\t",
            ]), 0..60),
            which in 0..4usize,
        ) {
            let text: String = pieces.concat();
            let s = &splitters()[which];
            prop_assert_eq!(s.unfinished(&text), s.split(&text, false, &mut |_| {}));
            let mut forward = None;
            while let Some(b) = paragraph_break(&text, forward.map_or(0, |(_, next)| next)) {
                forward = Some(b);
                if b.1 == text.len() { break; }
            }
            prop_assert_eq!(last_paragraph_break(&text), forward);
        }
    }

    #[test]
    fn segments_are_the_sentences_before_normalizing() {
        let text = "Mr. Brown  left.\nHe came\r\nback!\n\n\"Stop!\" he said. Yes";
        let mut got = Vec::new();
        let used = Splitter::default().segments(text, false, &mut |x| got.push(x.to_owned()));
        assert_eq!(got, ["Mr. Brown left. ", "He came back!", "\"Stop!\" he said. "]);
        assert_eq!(&text[used..], "Yes");
        assert_eq!(Splitter::default().unfinished(text), used);
    }
}
