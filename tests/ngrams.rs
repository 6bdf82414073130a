//! n-grams, stopwords and token lengths: hand-computed answers on tiny
//! inputs, and the reference (`naive::count_keys`) on random ones at every
//! chunk size, so chunk edges neither lose nor invent an n-gram.

use crate::util::{cpu_options, reference_rows, rows, run};
use gpucount::count::naive;
use gpucount::keys::{Filter, Form, Grams, Keys, Within};
use gpucount::source::Operand;
use gpucount::tokenize::{Mode, TokenPattern, Tokenizer};
use gpucount::{KeyHash, Options};
use proptest::prelude::*;
use std::sync::Arc;

fn options(grams: Grams, filter: Option<Filter>, chunk_bytes: usize, threads: usize) -> Options {
    Options { grams, filter: filter.map(Arc::new), ..cpu_options(Mode::Words, false, chunk_bytes, threads) }
}

fn count(docs: &[&str], opts: &Options) -> Vec<(String, u64)> {
    let operands: Vec<Operand> = docs.iter().enumerate().map(|(i, d)| Operand::text(format!("d{i}"), *d)).collect();
    let o = run(&operands, opts);
    assert!(o.errors.is_empty(), "{:?}", o.errors);
    rows(&o.table)
}

fn expect(list: &[(&str, u64)]) -> Vec<(String, u64)> {
    let mut v: Vec<(String, u64)> = list.iter().map(|(w, n)| (w.to_string(), *n)).collect();
    v.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.as_bytes().cmp(b.0.as_bytes())));
    v
}

fn stop(words: &[&str]) -> Filter {
    let words: Vec<String> = words.iter().map(|w| w.to_string()).collect();
    Filter::with_stopwords(&Tokenizer::default(), &words)
}

#[test]
fn bigrams_by_hand() {
    let text = "The cat sat. The cat ran\nthe end";
    let doc = Grams { min: 2, max: 2, within: Within::Document };
    let bigrams = [("the cat", 2), ("cat sat", 1), ("sat the", 1), ("cat ran", 1), ("ran the", 1), ("the end", 1)];
    assert_eq!(count(&[text], &options(doc, None, 1 << 20, 1)), expect(&bigrams));
    // Not across the line break.
    let line = Grams { within: Within::Line, ..doc };
    let by_line = [("the cat", 2), ("cat sat", 1), ("sat the", 1), ("cat ran", 1), ("the end", 1)];
    assert_eq!(count(&[text], &options(line, None, 1 << 20, 1)), expect(&by_line));
    // Never across documents.
    assert_eq!(count(&["a b", "c d"], &options(doc, None, 1 << 20, 2)), expect(&[("a b", 1), ("c d", 1)]));
}

#[test]
fn within_sentences_by_hand_at_every_chunk_size() {
    // Sentences: "Mr. Smith went home." / "He slept well!" / (blank line)
    // "The end came soon." / "Yes" (a single line break joins lines).
    let text = "Mr. Smith went home. He slept well!\n\nThe end came\nsoon. Yes";
    let grams = Grams { min: 2, max: 3, within: Within::Sentence };
    let want = [
        ("mr smith", 1),
        ("smith went", 1),
        ("went home", 1),
        ("mr smith went", 1),
        ("smith went home", 1),
        ("he slept", 1),
        ("slept well", 1),
        ("he slept well", 1),
        ("the end", 1),
        ("end came", 1),
        ("came soon", 1),
        ("the end came", 1),
        ("end came soon", 1),
    ];
    for chunk in [1, 2, 3, 7, 1 << 20] {
        assert_eq!(
            count(&[text, "Yes no"], &options(grams, None, chunk, 2)),
            expect(&[&want[..], &[("yes no", 1)]].concat()),
            "chunk {chunk}"
        );
    }
}

#[test]
fn token_patterns_by_hand() {
    let tokenizer = |p: &str| Tokenizer { mode: Mode::Pattern(TokenPattern::new(p).unwrap()), ..Tokenizer::default() };
    let text = "Don't STOP: a x-ray, l'homme; 42!";
    // scikit-learn's default: two or more word characters, between word boundaries.
    let sklearn = Options { tokenizer: tokenizer(r"(?u)\b\w\w+\b"), ..options(Grams::default(), None, 3, 2) };
    let want = [("don", 1), ("stop", 1), ("ray", 1), ("homme", 1), ("42", 1)];
    assert_eq!(count(&[text], &sklearn), expect(&want));
    // One group: its text is the token; lowercased before matching, so [a-z] sees "stop".
    let group = Options {
        tokenizer: tokenizer(r"([a-z']+)[:;,]?"),
        ..options(Grams { min: 1, max: 2, within: Within::Document }, None, 5, 2)
    };
    let want = [
        ("don't", 1),
        ("stop", 1),
        ("a", 1),
        ("x", 1),
        ("ray", 1),
        ("l'homme", 1),
        ("don't stop", 1),
        ("stop a", 1),
        ("a x", 1),
        ("x ray", 1),
        ("ray l'homme", 1),
    ];
    assert_eq!(count(&[text], &group), expect(&want));
    assert!(TokenPattern::new("(a)(b)").unwrap_err().contains("one capturing group"));
    assert!(TokenPattern::new("(").unwrap_err().contains("unclosed group"));
}

#[test]
fn every_size_in_one_pass_by_hand() {
    let grams = Grams { min: 1, max: 3, within: Within::Document };
    let got = count(&["x y x y"], &options(grams, None, 1 << 20, 1));
    let want = [("x", 2), ("y", 2), ("x y", 2), ("y x", 1), ("x y x", 1), ("y x y", 1)];
    assert_eq!(got, expect(&want));
    let only3 = Grams { min: 3, max: 3, within: Within::Document };
    assert_eq!(count(&["x y x y"], &options(only3, None, 1 << 20, 1)), expect(&[("x y x", 1), ("y x y", 1)]));
    // Fewer tokens than n: nothing.
    assert_eq!(count(&["x y"], &options(only3, None, 1 << 20, 1)), []);
}

#[test]
fn stopwords_and_lengths_by_hand() {
    let words = Grams::default();
    // Stopwords are normalized like tokens (lowercased).
    let f = stop(&["The", "and"]);
    assert_eq!(
        count(&["The cat and THE dog"], &options(words, Some(f.clone()), 1 << 20, 1)),
        expect(&[("cat", 1), ("dog", 1)])
    );
    // Removed before n-grams: the words on either side become adjacent.
    let bigrams = Grams { min: 2, max: 2, within: Within::Document };
    assert_eq!(count(&["the cat and the dog"], &options(bigrams, Some(f), 1 << 20, 1)), expect(&[("cat dog", 1)]));
    // Lengths in characters, not bytes: "été" is 3 characters, 5 bytes.
    let f = Filter { min_chars: 3, max_chars: Some(4), ..Filter::default() };
    assert_eq!(
        count(&["a to été word longer"], &options(words, Some(f), 1 << 20, 1)),
        expect(&[("word", 1), ("été", 1)])
    );
}

#[test]
fn unicode_normalization_and_accents_by_hand() {
    let text = "e\u{301}cole école ECOLE ﬁn";
    let words = Grams::default();
    let with = |form, strip_accents| Some(Filter { form, strip_accents, ..Filter::default() });
    assert_eq!(
        count(&[text], &options(words, None, 1 << 20, 1)),
        expect(&[("ecole", 1), ("école", 1), ("e\u{301}cole", 1), ("ﬁn", 1)])
    );
    assert_eq!(
        count(&[text], &options(words, with(Some(Form::Nfc), false), 1 << 20, 1)),
        expect(&[("école", 2), ("ecole", 1), ("ﬁn", 1)])
    );
    assert_eq!(
        count(&[text], &options(words, with(Some(Form::Nfkc), true), 3, 2)),
        expect(&[("ecole", 3), ("fin", 1)])
    );
    // Stopwords are normalized the same way: "été" and "était" go with their accents stripped.
    let mut f = stop(&["été", "était"]);
    f.strip_accents = true;
    f.normalize_stopwords();
    assert_eq!(count(&["Été etait ete reste"], &options(words, Some(f), 1 << 20, 1)), expect(&[("reste", 1)]));
    // A combining mark alone is a token that stripping accents empties:
    // no word, and no gap between the words around it.
    let marks = "a \u{301} b \u{301}";
    assert_eq!(count(&[marks], &options(words, with(None, true), 1 << 20, 1)), expect(&[("a", 1), ("b", 1)]));
    let bigrams = Grams { min: 2, max: 2, within: Within::Document };
    assert_eq!(count(&[marks], &options(bigrams, with(None, true), 1 << 20, 1)), expect(&[("a b", 1)]));
}

#[test]
fn inner_punctuation_by_hand() {
    let text = "Don't say l'homme is saint-jacques' or rock--roll, 'tis a-b-c x\u{2019}y";
    let tokenizer = Tokenizer { inner_punctuation: true, ..Tokenizer::default() };
    let want = [
        ("a-b-c", 1),
        ("don't", 1),
        ("is", 1),
        ("l'homme", 1),
        ("or", 1),
        ("rock", 1),
        ("roll", 1),
        ("saint-jacques", 1),
        ("say", 1),
        ("tis", 1),
        ("x\u{2019}y", 1),
    ];
    for chunk in [1, 2, 3, 1 << 20] {
        let opts = Options { tokenizer: tokenizer.clone(), ..options(Grams::default(), None, chunk, 2) };
        assert_eq!(count(&[text], &opts), expect(&want), "chunk {chunk}");
    }
}

#[test]
fn a_chunk_edge_inside_a_long_run_of_stopwords() {
    // The context of a chunk reaches back over thousands of stopwords.
    let text = format!("alpha {} omega", "the ".repeat(5000));
    let grams = Grams { min: 2, max: 3, within: Within::Document };
    for chunk in [1, 100, 1 << 20] {
        let got = count(&[&text], &options(grams, Some(stop(&["the"])), chunk, 2));
        assert_eq!(got, expect(&[("alpha omega", 1)]), "chunk {chunk}");
    }
}

fn corpus() -> impl Strategy<Value = Vec<String>> {
    let word = prop::sample::select(vec![
        "a",
        "the",
        "The",
        "cat",
        "été",
        "ÉTÉ",
        "x",
        "δρόμος",
        "and",
        "longword",
        "\n",
        "\r\n",
        " ",
        ".",
        "  ",
        "Mr.",
        "!",
        "?\"",
        "don't",
        // Decomposed, and a compatibility form: normalization changes them;
        // a combining mark alone, which stripping accents empties.
        "e\u{301}cole",
        "ﬁn",
        "\u{301}",
    ]);
    let doc = prop::collection::vec(word, 0..60).prop_map(|w| w.join(" "));
    prop::collection::vec(doc, 1..4)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn keys_match_the_reference_at_every_chunk_size(
        docs in corpus(),
        min in 1usize..4,
        extra in 0usize..3,
        within in prop::sample::select(vec![Within::Document, Within::Line, Within::Sentence]),
        stopwords in any::<bool>(),
        lengths in any::<bool>(),
        form in prop::sample::select(vec![None, Some(Form::Nfc), Some(Form::Nfkc)]),
        strip in any::<bool>(),
        tokens in 0usize..3,
        chunk in prop::sample::select(vec![1usize, 2, 5, 16, 1 << 20]),
        threads in 1usize..4,
    ) {
        let grams = Grams { min, max: (min + extra).min(5), within };
        let mut filter = stopwords.then(|| stop(&["the", "and", "a"]));
        if lengths {
            let f = filter.get_or_insert_with(Filter::default);
            f.min_chars = 2;
            f.max_chars = Some(6);
        }
        if form.is_some() || strip {
            let f = filter.get_or_insert_with(Filter::default);
            f.form = form;
            f.strip_accents = strip;
            f.normalize_stopwords();
        }
        let tokenizer = match tokens {
            0 => Tokenizer::default(),
            1 => Tokenizer { inner_punctuation: true, ..Tokenizer::default() },
            _ => Tokenizer { mode: Mode::Pattern(TokenPattern::new(r"(\w+)'?").unwrap()), ..Tokenizer::default() },
        };
        let keys = Keys { grams, filter: filter.clone().map(Arc::new), ..Keys::words(tokenizer.clone(), KeyHash::Xxh3) };
        let refs: Vec<&str> = docs.iter().map(String::as_str).collect();
        let expected = reference_rows(&naive::count_keys(&refs, &keys));
        let opts = Options { tokenizer, ..options(grams, filter, chunk, threads) };
        prop_assert_eq!(count(&refs, &opts), expected);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    /// Words with a filter take the words' own fast path (short tokens
    /// counted by their bytes): stopwords of up to 8 bytes and longer
    /// ones, lengths, normalization.
    #[test]
    fn filtered_words_match_the_reference_at_every_chunk_size(
        docs in corpus(),
        stopwords in prop::sample::subsequence(vec!["the", "a", "été", "longword", "δρόμος", "don't", "x"], 0..5),
        lengths in prop::option::of((1usize..4, 3usize..9)),
        form in prop::sample::select(vec![None, Some(Form::Nfc), Some(Form::Nfkc)]),
        strip in any::<bool>(),
        inner in any::<bool>(),
        chunk in prop::sample::select(vec![1usize, 2, 5, 16, 1 << 20]),
        threads in 1usize..4,
    ) {
        let tokenizer = Tokenizer { inner_punctuation: inner, ..Tokenizer::default() };
        let mut filter = stop(&stopwords);
        if let Some((min, max)) = lengths {
            (filter.min_chars, filter.max_chars) = (min, Some(max));
        }
        (filter.form, filter.strip_accents) = (form, strip);
        filter.normalize_stopwords();
        let grams = Grams::default();
        let keys = Keys { filter: Some(Arc::new(filter.clone())), ..Keys::words(tokenizer.clone(), KeyHash::Xxh3) };
        let refs: Vec<&str> = docs.iter().map(String::as_str).collect();
        let expected = reference_rows(&naive::count_keys(&refs, &keys));
        let opts = Options { tokenizer, ..options(grams, Some(filter), chunk, threads) };
        prop_assert_eq!(count(&refs, &opts), expected);
    }
}

#[cfg(feature = "cli")]
mod cli {
    use crate::util::{Dir, gpucount};

    fn out(args: &[&str], stdin: &str) -> String {
        let o = gpucount().args(args).write_stdin(stdin.to_string()).assert().success();
        String::from_utf8(o.get_output().stdout.clone()).unwrap()
    }

    #[test]
    fn shares_and_word_order_in_every_format() {
        let text = "to be or not to be";
        assert_eq!(
            out(&["--ngram", "2", "--share", "--format", "csv"], text),
            "word,count,share,cumulative\nto be,2,0.400000,0.400000\nbe or,1,0.200000,0.600000\n\
             not to,1,0.200000,0.800000\nor not,1,0.200000,1.000000\n"
        );
        assert_eq!(
            out(&["--share"], text),
            "be\t2\t0.333333\t0.333333\nto\t2\t0.333333\t0.666667\nnot\t1\t0.166667\t0.833333\nor\t1\t0.166667\t1.000000\n"
        );
        // --top keeps the most frequent, --sort word prints them by word.
        assert_eq!(out(&["--top", "3", "--sort", "word"], text), "be\t2\nnot\t1\nto\t2\n");
        let json: serde_json::Value = serde_json::from_str(&out(&["--share", "--format", "json"], text)).unwrap();
        assert_eq!(json["words"][1]["cumulative"].as_f64().unwrap(), 4.0 / 6.0);
        let table = out(&["--share", "--format", "table", "--top", "1"], text);
        assert_eq!(table, "rank  count    share  cumulative  word\n   1      2   33.33%      33.33%  be\n");
    }

    #[test]
    fn stopwords_from_built_in_lists_and_files() {
        let d = Dir::new();
        let list = d.write("mine.txt", "# my list\nCat\n\n");
        let list = list.to_str().unwrap();
        let text = "The cat and the dog. Le chat et le chien.";
        assert_eq!(out(&["--stopwords", &format!("en,fr,{list}")], text), "chat\t1\nchien\t1\ndog\t1\n");
        let fail = gpucount().args(["--stopwords", "xx"]).write_stdin("a").assert().code(2);
        let err = String::from_utf8(fail.get_output().stderr.clone()).unwrap();
        assert!(err.contains("\"xx\" is neither a built-in list (en, fr, la, de, es, it)"), "{err}");
        gpucount().args(["--ngram", "0"]).write_stdin("a").assert().code(2);
        gpucount().args(["--ngram", "3-2"]).write_stdin("a").assert().code(2);
        gpucount().args(["--min-length", "5", "--max-length", "2"]).write_stdin("a").assert().code(2);
    }

    #[test]
    fn token_patterns_and_sentences_from_the_command_line() {
        let text = "Mr. Brown's cat-flap broke. The cat left!";
        assert_eq!(
            out(&["--token-pattern", r"(?u)\b\w\w+\b", "--ngram", "2", "--within", "sentence"], text),
            "brown cat\t1\ncat flap\t1\ncat left\t1\nflap broke\t1\nmr brown\t1\nthe cat\t1\n"
        );
        for (pattern, reason) in [("(a)(b)", "at most one capturing group"), ("[a-", "unclosed character class")] {
            let fail = gpucount().args(["--token-pattern", pattern]).write_stdin("a").assert().code(2);
            let err = String::from_utf8(fail.get_output().stderr.clone()).unwrap();
            assert!(err.contains(reason) && err.lines().count() == 1, "{err}");
        }
        gpucount().args(["--token-pattern", "a", "--tokenizer", "whitespace"]).write_stdin("a").assert().code(2);
    }
}
