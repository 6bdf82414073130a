//! Stopword lists for `--stopwords`: built-in lists embedded in the binary, plus word files.
//!
//! The built-in lists live in `data/stopwords/<code>.txt` (one lowercase NFC word a line,
//! sorted, `#` comment lines at the top naming the source); `data/stopwords/README.md`
//! names their sources and licences and the words removed from them. They are embedded
//! so that the tool works offline and the lists cannot drift from the version tested here.

use std::collections::HashSet;
use std::path::Path;

/// Built-in list codes, in the order the README lists them.
pub const LANGUAGES: &[&str] = &["en", "fr", "la", "de", "es", "it"];

/// The embedded files, one per entry of [`LANGUAGES`] and in the same order.
const LISTS: &[(&str, &str)] = &[
    ("en", include_str!("../data/stopwords/en.txt")),
    ("fr", include_str!("../data/stopwords/fr.txt")),
    ("la", include_str!("../data/stopwords/la.txt")),
    ("de", include_str!("../data/stopwords/de.txt")),
    ("es", include_str!("../data/stopwords/es.txt")),
    ("it", include_str!("../data/stopwords/it.txt")),
];

/// The words of a list file: one a line, surrounding whitespace trimmed; blank lines and
/// lines starting with `#` are left out. A leading byte-order mark is ignored, since
/// editors on Windows often write one.
fn words(text: &str) -> impl Iterator<Item = &str> {
    text.strip_prefix('\u{feff}')
        .unwrap_or(text)
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty() && !line.starts_with('#'))
}

/// The built-in list for `code` (case-insensitive), its words as written in the file
/// (comments and blank lines left out). `None` for a code not in [`LANGUAGES`].
pub fn builtin(code: &str) -> Option<impl Iterator<Item = &'static str>> {
    let code = code.trim();
    LISTS.iter().find(|(c, _)| c.eq_ignore_ascii_case(code)).map(|&(_, text)| words(text))
}

/// Parses a `--stopwords` value: a comma-separated list where each item is a built-in code
/// (see [`LANGUAGES`]) or the path of a UTF-8 file with one word a line (`#` comment lines
/// and blank lines ignored).
///
/// A built-in code wins over a file of the same name (write `./en` for the file). Empty
/// items are skipped, so a trailing comma is harmless, but at least one item is required.
/// The result is the union of the lists in first-seen order, without duplicates; the words
/// are not yet normalized: the caller lowercases/normalizes them like tokens. The error is
/// one line and names the offending item.
pub fn load(spec: &str) -> Result<Vec<String>, String> {
    let mut seen = HashSet::new();
    let mut out = Vec::new();
    let mut add = |w: &str| {
        if seen.insert(w.to_owned()) {
            out.push(w.to_owned());
        }
    };
    let mut items = 0usize;
    for item in spec.split(',').map(str::trim).filter(|i| !i.is_empty()) {
        items += 1;
        if let Some(list) = builtin(item) {
            list.for_each(&mut add);
            continue;
        }
        let path = Path::new(item);
        if !path.is_file() {
            return Err(format!(
                "--stopwords: {item:?} is neither a built-in list ({}) nor an existing file",
                LANGUAGES.join(", ")
            ));
        }
        let bytes = std::fs::read(path).map_err(|e| format!("--stopwords: cannot read {item:?}: {e}"))?;
        let text = String::from_utf8(bytes).map_err(|_| format!("--stopwords: {item:?} is not UTF-8 text"))?;
        words(&text).for_each(&mut add);
    }
    if items == 0 {
        return Err(format!(
            "--stopwords: no list given; use built-in codes ({}) or file paths, comma-separated",
            LANGUAGES.join(", ")
        ));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;
    use unicode_normalization::UnicodeNormalization;

    fn list(code: &str) -> Vec<&'static str> {
        builtin(code).expect("built-in list").collect()
    }

    /// One-letter entries allowed per list: real one-letter words, and in French and
    /// Italian the elided articles/pronouns that word mode splits off `l'homme`, `c'è`.
    fn one_letter_words(code: &str) -> &'static [&'static str] {
        match code {
            "en" => &["a", "i"],
            "fr" => &["c", "d", "j", "l", "m", "n", "s", "t", "y", "à"],
            "la" => &["a", "e"],
            "es" => &["a", "e", "o", "y"],
            "it" => &["a", "c", "e", "i", "l", "o", "è"],
            _ => &[],
        }
    }

    #[test]
    fn languages_and_embedded_lists_agree() {
        let codes: Vec<&str> = LISTS.iter().map(|(c, _)| *c).collect();
        assert_eq!(codes, LANGUAGES);
    }

    #[test]
    fn builtin_lists_are_clean() {
        for &code in LANGUAGES {
            let words = list(code);
            assert!(!words.is_empty(), "{code}: empty");
            for pair in words.windows(2) {
                assert!(pair[0] < pair[1], "{code}: not sorted or duplicated at {pair:?}");
            }
            for &w in &words {
                assert_eq!(w.to_lowercase(), w, "{code}: not lowercase: {w}");
                assert_eq!(w.nfc().collect::<String>(), w, "{code}: not NFC: {w}");
                assert!(!w.chars().any(|c| c.is_ascii_digit()), "{code}: digit in {w}");
                assert!(!w.chars().any(char::is_whitespace), "{code}: space in {w:?}");
                if w.chars().count() == 1 {
                    assert!(one_letter_words(code).contains(&w), "{code}: one letter {w}");
                }
            }
        }
    }

    #[test]
    fn builtin_lists_hold_expected_words_and_not_removed_junk() {
        let expect: &[(&str, &[&str], &[&str])] = &[
            ("en", &["the", "and", "a", "i", "don't", "it's"], &["don", "ll", "ve", "s", "t", "won", "mightn"]),
            ("fr", &["le", "et", "à", "y", "l", "été"], &["étée", "étantes", "ayants"]),
            ("la", &["et", "in", "est", "sunt", "a"], &["res", "rem", "re", "rebus"]),
            ("de", &["und", "daß", "dass", "unsere"], &["anderr", "unse"]),
            ("es", &["el", "y", "vosotros"], &["sentido", "sintiendo", "vosostros"]),
            ("it", &["il", "è", "della"], &[]),
        ];
        for &(code, present, absent) in expect {
            let words = list(code);
            for w in present {
                assert!(words.contains(w), "{code}: missing {w}");
            }
            for w in absent {
                assert!(!words.contains(w), "{code}: junk {w}");
            }
        }
    }

    #[test]
    fn builtin_is_case_insensitive_and_unknown_is_none() {
        assert_eq!(list("EN"), list("en"));
        assert!(builtin("xx").is_none());
        assert!(builtin("").is_none());
    }

    #[test]
    fn load_codes_is_the_union() {
        let got = load("en,fr").unwrap();
        let mut want: Vec<&str> = list("en");
        want.extend(list("fr").into_iter().filter(|w| !list("en").contains(w)));
        assert_eq!(got, want);
        // Overlap ("a" is English, Latin and Spanish) appears once; spaces and a trailing comma are fine.
        let got = load(" en , la ,es,").unwrap();
        let set: HashSet<&String> = got.iter().collect();
        assert_eq!(set.len(), got.len());
        assert!(got.iter().any(|w| w == "est") && got.iter().any(|w| w == "el"));
    }

    #[test]
    fn load_file_with_comments_and_mix_with_code() {
        let mut f = tempfile::NamedTempFile::new().unwrap();
        write!(f, "\u{feff}# my list\n\nFoo\r\n  bar  \n# baz\nqux\nthe\n").unwrap();
        let path = f.path().to_str().unwrap().to_owned();
        assert_eq!(load(&path).unwrap(), ["Foo", "bar", "qux", "the"]);
        let mixed = load(&format!("en,{path}")).unwrap();
        assert_eq!(mixed.len(), list("en").len() + 3);
        assert!(mixed.iter().any(|w| w == "Foo") && mixed.iter().any(|w| w == "and"));
        assert_eq!(mixed.iter().filter(|w| *w == "the").count(), 1);
    }

    #[test]
    fn load_errors_are_one_line_and_name_the_item() {
        let err = load("en,klingon").unwrap_err();
        assert!(err.contains("\"klingon\""), "{err}");
        assert!(err.contains("en, fr, la, de, es, it"), "{err}");
        assert!(!err.contains('\n'));

        let err = load(" , ").unwrap_err();
        assert!(err.contains("en, fr, la, de, es, it") && !err.contains('\n'), "{err}");

        let dir = tempfile::tempdir().unwrap();
        let dir_path = dir.path().to_str().unwrap();
        assert!(load(dir_path).unwrap_err().contains("neither"));

        let mut f = tempfile::NamedTempFile::new().unwrap();
        f.write_all(b"caf\xe9\n").unwrap();
        let err = load(f.path().to_str().unwrap()).unwrap_err();
        assert!(err.contains("not UTF-8") && !err.contains('\n'), "{err}");
    }
}
