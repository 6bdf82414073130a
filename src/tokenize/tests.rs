use super::*;

/// The tokens of `text`, checked to be the same whether short ASCII tokens
/// come as words or as bytes.
fn toks(mode: Mode, keep_case: bool, text: &str) -> Vec<String> {
    let t = Tokenizer { mode, keep_case, ..Tokenizer::default() };
    let mut out = Vec::new();
    t.for_each_token(text, &mut Vec::new(), |b| out.push(String::from_utf8(b.to_vec()).unwrap()));
    assert_eq!(as_words(&t, text), out, "{text:?}");
    out
}

/// The tokens of [`Tokenizer::for_each_token_word`], each word checked to
/// hold 1 to 8 ASCII bytes and zeros beyond them.
fn as_words(t: &Tokenizer, text: &str) -> Vec<String> {
    let mut out = Vec::new();
    t.for_each_token_word(text, &mut Vec::new(), |token| {
        out.push(match token {
            Token::Word(word, len) => {
                let bytes = word.to_le_bytes();
                assert!((1..=8).contains(&len) && bytes[len..].iter().all(|&b| b == 0), "{word:#x} of {len}");
                assert!(bytes[..len].is_ascii());
                String::from_utf8(bytes[..len].to_vec()).unwrap()
            }
            Token::Bytes(b) => String::from_utf8(b.to_vec()).unwrap(),
        })
    });
    out
}

/// Words read with one 8-byte load, or byte by byte within 8 bytes of the
/// text's end, are the same tokens as bytes: every length, case, mode and
/// distance from the end.
#[test]
fn tokens_as_words_are_the_tokens_as_bytes_up_to_the_last_byte() {
    use rand::{Rng, SeedableRng};
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(11);
    let pieces = [
        "a", "Z", "q", "M", "7", " ", " ", "\n", ",", "'", "-", "\u{2019}", "\u{2010}", "_", "\0", "é", "É", "中",
        "\u{301}", "Σ",
    ];
    for _ in 0..300 {
        let text: String = (0..rng.random_range(0..40)).map(|_| pieces[rng.random_range(0..pieces.len())]).collect();
        for end in (0..=text.len()).filter(|&e| text.is_char_boundary(e)) {
            for mode in [Mode::Words, Mode::Whitespace] {
                for keep_case in [false, true] {
                    toks(mode.clone(), keep_case, &text[..end]);
                }
            }
            // Against the reference too (joined words are ASCII only when
            // their apostrophe or hyphen is).
            for (inner_punctuation, keep_case) in [(true, false), (true, true), (false, false)] {
                let t = Tokenizer { inner_punctuation, keep_case, ..Tokenizer::default() };
                let mut got = as_words(&t, &text[..end]);
                got.sort();
                let mut want: Vec<String> = crate::count::naive::count(&text[..end], &t)
                    .into_iter()
                    .flat_map(|(w, n)| std::iter::repeat_n(w, n as usize))
                    .collect();
                want.sort();
                assert_eq!(got, want, "{:?}", &text[..end]);
            }
        }
    }
}

fn words(text: &str) -> Vec<String> {
    toks(Mode::Words, false, text)
}

fn ws(text: &str) -> Vec<String> {
    toks(Mode::Whitespace, false, text)
}

#[test]
fn accents_are_letters_and_lowercase() {
    assert_eq!(words("Café naïve RÉSUMÉ Ångström"), ["café", "naïve", "résumé", "ångström"]);
}

#[test]
fn cjk_runs_are_single_tokens() {
    assert_eq!(words("中文字符 日本語。ひらがなカタカナ"), ["中文字符", "日本語", "ひらがなカタカナ"]);
    assert_eq!(ws("中文字符 日本語。ひらがな"), ["中文字符", "日本語。ひらがな"]);
}

#[test]
fn greek_final_sigma() {
    assert_eq!(words("ΟΔΟΣ ΣΟΦΙΑ ΟΔΥΣΣΕΥΣ"), ["οδος", "σοφια", "οδυσσευς"]);
    assert!(words("ΟΔΟΣ")[0].ends_with('ς'));
    // Sigma alone is not final (no cased letter before it).
    assert_eq!(words("Σ"), ["σ"]);
}

#[test]
fn turkish_dotted_capital_i_uses_full_lowercasing() {
    // No locale tailoring: İ becomes i + combining dot above, as str::to_lowercase does.
    assert_eq!(words("İstanbul ISPARTA ılık"), ["i\u{307}stanbul", "isparta", "ılık"]);
}

#[test]
fn combining_marks_belong_to_words() {
    assert_eq!(words("e\u{301}cole"), ["e\u{301}cole"]);
    // A mark after a separator starts a token.
    assert_eq!(words("x \u{301}abc"), ["x", "\u{301}abc"]);
    // Devanagari vowel signs (Mc/Mn) keep the word whole.
    assert_eq!(words("हिन्दी भाषा"), ["हिन्दी", "भाषा"]);
}

#[test]
fn nbsp_separates_in_both_modes() {
    assert_eq!(words("a\u{a0}b\u{202f}c"), ["a", "b", "c"]);
    assert_eq!(ws("a\u{a0}b\u{202f}c"), ["a", "b", "c"]);
}

#[test]
fn underscore_separates_words_but_not_whitespace_tokens() {
    assert_eq!(words("snake_case_name"), ["snake", "case", "name"]);
    assert_eq!(ws("snake_case_name"), ["snake_case_name"]);
}

#[test]
fn nul_bytes_are_separators_in_words_mode_only() {
    assert_eq!(words("a\0b\0\0c"), ["a", "b", "c"]);
    assert_eq!(ws("a\0b c"), ["a\0b", "c"]);
}

#[test]
fn crlf_line_ends() {
    assert_eq!(words("One\r\ntwo\r\n"), ["one", "two"]);
    assert_eq!(ws("One\r\ntwo\r\n"), ["one", "two"]);
}

#[test]
fn apostrophes_split_words_but_not_whitespace_tokens() {
    assert_eq!(words("don't l'homme rock’n’roll"), ["don", "t", "l", "homme", "rock", "n", "roll"]);
    assert_eq!(ws("don't l'homme rock’n’roll"), ["don't", "l'homme", "rock’n’roll"]);
}

#[test]
fn digits_and_punctuation() {
    assert_eq!(words("2024-11-25, x86_64 v1.2"), ["2024", "11", "25", "x86", "64", "v1", "2"]);
    assert_eq!(ws("2024-11-25, x86_64"), ["2024-11-25,", "x86_64"]);
}

#[test]
fn vertical_tab_and_form_feed_are_whitespace() {
    assert_eq!(ws("a\x0bb\x0cc\u{85}d\u{3000}e"), ["a", "b", "c", "d", "e"]);
}

#[test]
fn keep_case_keeps_tokens_as_written() {
    assert_eq!(toks(Mode::Words, true, "The THE the"), ["The", "THE", "the"]);
}

#[test]
fn tokens_are_padded_and_keyed_by_their_bytes() {
    let batch = crate::keys::Keys::default().batch("abcde abcde x");
    assert_eq!(batch.bytes().len() % 4, 0);
    let r = batch.records();
    assert_eq!(r[0].hash(), r[1].hash());
    assert_eq!(r[0].hash(), crate::hash::KeyHash::Xxh3.hash(b"abcde"));
    assert_eq!((r[0].len, r[1].start_word - r[0].start_word), (5, 2));
    assert_eq!(&batch.bytes()[5..8], &[0, 0, 0]);
}

#[test]
fn safe_cut_never_splits_a_token() {
    let words = Tokenizer::default();
    let spaces = Tokenizer { mode: Mode::Whitespace, ..Tokenizer::default() };
    assert_eq!(words.safe_cut("ab,cd"), Some(3));
    assert_eq!(spaces.safe_cut("a b,cd"), Some(2));
    assert_eq!(words.safe_cut("abcd"), None);
    // Non-ASCII separators cut too: NBSP, the ideographic full stop and space.
    assert_eq!(spaces.safe_cut("ab\u{a0}cd"), Some(4));
    assert_eq!(words.safe_cut("中文。中文"), Some(9));
    assert_eq!(spaces.safe_cut("中文\u{3000}中文"), Some(9));
    assert_eq!(words.safe_cut("中文"), None);
}

#[test]
fn bitmap_and_lowercase_table_match_the_definitions() {
    for cp in 0..0x10000u32 {
        let Some(c) = char::from_u32(cp) else { continue };
        assert_eq!(is_word_char_fast(c), is_word_char(c), "U+{cp:04X}");
        let lower: String = c.to_lowercase().collect();
        assert_eq!(CASED_MAP.holds(cp), lower != c.to_string(), "U+{cp:04X}");
        let mut fast = Vec::new();
        push_lower(&mut fast, c, lower_table());
        assert_eq!(String::from_utf8(fast).unwrap(), lower, "U+{cp:04X}");
        // A character of two bytes, lowercased through its bytes.
        if (0x80..0x800).contains(&cp) {
            let two = lower2_table()[cp as usize];
            let one_of_two = lower.len() == 2 && lower.chars().count() == 1 && c != 'Σ';
            assert_eq!(two != 0, one_of_two, "U+{cp:04X}");
            if two != 0 {
                assert_eq!(&two.to_be_bytes()[..], lower.as_bytes(), "U+{cp:04X}");
            }
        }
    }
}

#[test]
fn tokens_are_the_same_at_every_alignment() {
    let text = "Ab9 x\u{e9}t\u{e9}  \u{3b4}\u{3c1}\u{3cc}\u{3bc}o\u{3c2}\tword_WORD\r\nlonglonglongword \u{4f60}\u{597d}! 12345678901234567 a\u{301}b";
    // Every character, ASCII or not, meets the end of a 64-byte block at some pad.
    let text = text.repeat(3);
    for pad in 0..70 {
        let padded = format!("{}{text}", " ".repeat(pad));
        for mode in [Mode::Words, Mode::Whitespace] {
            let reference: Vec<String> = {
                let mut counts = Vec::new();
                let t = Tokenizer { mode: mode.clone(), ..Tokenizer::default() };
                for (w, n) in crate::count::naive::count(&padded, &t) {
                    counts.extend(std::iter::repeat_n(w, n as usize));
                }
                counts.sort();
                counts
            };
            let mut got = toks(mode.clone(), false, &padded);
            got.sort();
            assert_eq!(got, reference, "{mode:?} after {pad} spaces");
        }
    }
}

/// The capitals mask of the block scan: tokens with an ASCII capital
/// anywhere (first byte, last byte, across a 64-byte block edge) are
/// lowercased, and the others are passed on untouched.
#[test]
fn capitals_are_seen_wherever_they_sit_in_a_block() {
    for shift in 0..70 {
        let pad = "x".repeat(shift);
        // The last two tokens hold a capital (ASCII, then not) that at
        // some shift lies in a block the token neither starts nor ends in.
        let (a, c) = ("a".repeat(70), "c".repeat(70));
        let text =
            format!("{pad} aB Ab ab{} ABC abc\u{e9}D Ωa{}Z z {a}Q{a} {c}\u{c9}{c}", "q".repeat(60), "r".repeat(61));
        for mode in [Mode::Words, Mode::Whitespace] {
            let want: Vec<String> = match mode {
                Mode::Words => {
                    crate::count::naive::count(&text, &Tokenizer { mode: mode.clone(), ..Tokenizer::default() })
                        .into_keys()
                        .collect()
                }
                _ => text.split_whitespace().map(str::to_lowercase).collect(),
            };
            let mut got = toks(mode.clone(), false, &text);
            got.sort();
            got.dedup();
            let mut want = want;
            want.sort();
            want.dedup();
            assert_eq!(got, want, "shift {shift}, {mode:?}");
        }
    }
}

#[test]
fn short_ascii_tokens_lowercase_as_std_does() {
    use rand::{Rng, SeedableRng};
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
    // Every ASCII byte, and the neighbours of the capitals' range, at every length.
    let bytes: Vec<u8> = (0..128u8).chain([b'@', b'A', b'Z', b'[', b'`', b'a', b'z', b'{']).collect();
    for n in 0..=20 {
        for _ in 0..500 {
            let token: Vec<u8> = (0..n).map(|_| bytes[rng.random_range(0..bytes.len())]).collect();
            let token = std::str::from_utf8(&token).unwrap();
            let mut out = b"kept".to_vec();
            lower_into(token, true, &mut out);
            assert_eq!(out, [&b"kept"[..], token.to_ascii_lowercase().as_bytes()].concat(), "{token:?}");
        }
    }
}

#[test]
fn tokens_past_ascii_lowercase_as_std_does() {
    use rand::{Rng, SeedableRng};
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(11);
    // ASCII capitals and others beside characters of every UTF-8 length,
    // with and without case, the contextual sigma, the one capital whose
    // lowercase is two characters (İ), and lowercases longer (Ⱥ) or shorter
    // (the Kelvin sign) than their capitals.
    let pieces = [
        "A", "z", "Q", "'", "0", "é", "É", "ß", "’", "“", "Σ", "σ", "İ", "Ω", "Ж", "中", "𝐀", "😀", "ǅ", "Ⱥ",
        "\u{212A}", "Ⅻ", "ש", "\u{301}",
    ];
    for n in 1..=12 {
        for _ in 0..400 {
            let mut token: String = (0..n).map(|_| pieces[rng.random_range(0..pieces.len())]).collect();
            if token.is_ascii() {
                token.push('é');
            }
            let mut out = b"kept".to_vec();
            lower_into(&token, false, &mut out);
            assert_eq!(out, [&b"kept"[..], token.to_lowercase().as_bytes()].concat(), "{token:?}");
        }
    }
}
